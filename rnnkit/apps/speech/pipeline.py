"""Speech recognition end to end: data -> log-mel -> conv + (bi)RNN -> CTC; train, evaluate, transcribe.

Python API::

    from rnnkit.apps.speech import pipeline as sp
    cfg = sp.default_config()                    # or apply_overrides(cfg, sp.PRESETS["tiny"])
    result = sp.train(cfg, Path("runs/speech"))  # writes report.md, report.json, logmel.png, checkpoints
    sp.evaluate("runs/speech")                   # test WER/CER of the saved run
    sp.transcribe("runs/speech", ["a.wav"])      # [("a.wav", "three oh seven")]

Data: the built-in espeak-ng corpus (``synth.*``, see :mod:`rnnkit.apps.speech.synth`) unless
``data.path`` names a folder or TSV of the user's own (format in :mod:`rnnkit.apps.speech.data`);
``data.test_path`` optionally names a separate test set. Objective: CTC,
``-log P(labels | x)`` from ``torch.nn.functional.ctc_loss`` (mean over the batch of the loss
divided by the label length). The best epoch is chosen by validation CER (greedy decoding, the
batch-size-weighted mean of per-batch CER), and the report gives the test set's WER and CER
with greedy and prefix-beam decoding, by accent (or speaker), examples, a figure, the real
pocketsphinx recordings when that package is installed, and every skipped utterance.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F

from rnnkit import config as C
from rnnkit.apps.speech.ctc_decode import decode_batch
from rnnkit.apps.speech.data import (
    DEFAULT_ALPHABET,
    Alphabet,
    Example,
    SpeechBatches,
    Utterance,
    filter_feasible,
    load_examples,
    read_manifest,
    split_by_speaker,
)
from rnnkit.apps.speech.features import (
    LogMelConfig,
    SpecAugmentConfig,
    load_audio,
    utterance_features,
)
from rnnkit.apps.speech.model import CTCSpeechModel, SpeechModelConfig
from rnnkit.apps.speech.real import pocketsphinx_utterances
from rnnkit.apps.speech.report import error_rates, plot_log_mel, rates_by, write_report
from rnnkit.apps.speech.synth import SynthConfig, synthesize_corpus
from rnnkit.train.run_folder import load_model_weights, read_run_info, write_run_info
from rnnkit.train import (
    Callback,
    TrainConfig,
    Trainer,
    atomic_write_json,
    seed_everything,
)

__all__ = [
    "NAME",
    "PRESETS",
    "SpeechConfig",
    "SpeechDataConfig",
    "SpeechDecodeConfig",
    "build_model",
    "default_config",
    "evaluate",
    "load_run",
    "summary_lines",
    "train",
    "transcribe",
]

NAME = "speech"


@dataclass
class SpeechDataConfig:
    """path: the user's folder/TSV (None = the built-in corpus of ``synth``); test_path: a separate
    test set (then the main data gives only train and validation)."""

    path: str | None = None
    test_path: str | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    split_seed: int = 0
    alphabet: str = DEFAULT_ALPHABET
    on_bad: Literal["error", "skip"] = "error"
    batch_size: int = 32
    sortagrad: bool = True  # epoch 1 in length order, shortest first


@dataclass
class SpeechDecodeConfig:
    beam_width: int = 8
    prune: float = 1e-3  # prefix search skips symbols below this posterior at a frame


def _default_train() -> TrainConfig:
    return TrainConfig(epochs=10, lr=3e-3, weight_decay=0.01, grad_clip=5.0, schedule="cosine", warmup_steps=50,
                       min_lr_ratio=0.05, monitor="val_cer", mode="min", log_every=50)


@dataclass
class SpeechConfig:
    synth: SynthConfig = field(default_factory=SynthConfig)
    data: SpeechDataConfig = field(default_factory=SpeechDataConfig)
    features: LogMelConfig = field(default_factory=LogMelConfig)
    augment: SpecAugmentConfig = field(default_factory=lambda: SpecAugmentConfig(enabled=True))
    model: SpeechModelConfig = field(default_factory=SpeechModelConfig)
    train: TrainConfig = field(default_factory=_default_train)
    decode: SpeechDecodeConfig = field(default_factory=SpeechDecodeConfig)
    real_speech: bool = True  # transcribe pocketsphinx-testdata's recordings in the report, when installed


PRESETS: dict[str, list[str]] = {
    # The defaults: the digit corpus; 8 min (3 min of CPU) on the shared 2-core machine.
    "demo": [],
    # Seconds: tests and smoke runs.
    "tiny": ["synth.utterances=48", "features.n_mels=32", "model.channels=8", "model.hidden_size=32",
             "model.num_layers=1", "train.epochs=2", "train.warmup_steps=0", "data.batch_size=8",
             "data.val_fraction=0.2", "data.test_fraction=0.2", "decode.beam_width=4",
             "train.tensorboard=false", "train.plots=false"],
    # A longer run, not measured here: more voices heard, a bigger model.
    "large": ["synth.utterances=8000", "model.hidden_size=256", "model.num_layers=3", "train.epochs=30"],
    # The 40-word command vocabulary instead of digit strings: more letters to learn, so more
    # data and epochs (10 epochs on 3,000 utterances left it at 72% WER).
    "words": ["synth.corpus=words", "synth.utterances=6000", "train.epochs=25"],
}


def default_config() -> SpeechConfig:
    return SpeechConfig()


def build_model(cfg: SpeechConfig, alphabet: Alphabet) -> CTCSpeechModel:
    return CTCSpeechModel(cfg.features.n_mels, len(alphabet), cfg.model, cfg.augment)


# ---------------------------------------------------------------------------------- data
@dataclass
class Splits:
    train: list[Utterance]
    val: list[Utterance]
    test: list[Utterance]
    by_speaker: bool
    source: str
    group: str  # what the per-group table is keyed by: "accent", "speaker" or ""


def prepare_splits(cfg: SpeechConfig, echo=print) -> Splits:
    """The train / validation / test utterances of the configured data (synthesised if needed)."""
    d = cfg.data
    if d.path:
        utts, source = read_manifest(d.path), f"user data {d.path}"
    else:
        folder = synthesize_corpus(cfg.synth, echo=echo)
        utts = read_manifest(folder)
        source = (f"built-in espeak-ng corpus '{cfg.synth.corpus}' ({cfg.synth.utterances} utterances, "
                  f"seed {cfg.synth.seed}, {folder})")
    if d.test_path:
        train, _, val, by_speaker = split_by_speaker(utts, 0.0, d.val_fraction, d.split_seed)
        test = read_manifest(d.test_path)
        source += f"; test set {d.test_path}"
    else:
        train, val, test, by_speaker = split_by_speaker(utts, d.val_fraction, d.test_fraction, d.split_seed)
    group = "accent" if not d.path else ("speaker" if all(u.speaker for u in test) else "")
    return Splits(train, val, test, by_speaker, source, group)


def _group_key(u: Utterance, group: str) -> str:
    return u.speaker.split("+")[0] if group == "accent" else u.speaker


# ---------------------------------------------------------------------------------- objective
def make_objective(alphabet: Alphabet):
    """``loss_fn(model, batch) -> (loss, metrics)`` for the trainer: CTC loss; in evaluation also
    the batch's greedy CER."""
    from rnnkit.apps.speech.report import error_rates as _rates

    def ctc_objective(model, batch):
        x, lengths, labels, label_lengths, _ = batch
        log_probs, out_lengths = model(x, lengths)
        # ctc_loss wants (T, B, V); float32 for its log-space recursions even under autocast.
        loss = F.ctc_loss(log_probs.transpose(0, 1).float(), labels, out_lengths, label_lengths,
                          blank=Alphabet.BLANK, reduction="mean", zero_infinity=True)
        metrics = {}
        if not model.training:
            hyps = [alphabet.decode(ids) for ids in decode_batch(log_probs, out_lengths, "greedy")]
            refs = [alphabet.decode(labels[b, :n].tolist()) for b, n in enumerate(label_lengths.tolist())]
            metrics["cer"] = _rates(refs, hyps)["cer"]
        return loss, metrics
    return ctc_objective


class _EpochOrder(Callback):
    """Gives the training batches the epoch number, so their order depends on (seed, epoch) only."""

    def __init__(self, batches: SpeechBatches) -> None:
        self.batches = batches

    def on_epoch_start(self, trainer, epoch: int) -> None:
        self.batches.set_epoch(epoch)


# ---------------------------------------------------------------------------------- inference
@torch.no_grad()
def posteriors(model: CTCSpeechModel, examples: Sequence[Example], batch_size: int = 32) -> list[torch.Tensor]:
    """Each example's CTC log-posteriors ``(T', V)`` on CPU, in the examples' order."""
    model.eval()
    device = next(model.parameters()).device
    out: list[torch.Tensor | None] = [None] * len(examples)
    for x, lengths, _, _, index in SpeechBatches(examples, batch_size, shuffle=False):
        lp, n = model(x.to(device), lengths.to(device))
        for b, i in enumerate(index.tolist()):
            out[i] = lp[b, :int(n[b])].float().cpu()
    return out  # type: ignore[return-value]


def decode_all(log_probs: Sequence[torch.Tensor], alphabet: Alphabet, method: str, dcfg: SpeechDecodeConfig) -> list[str]:
    texts = []
    for lp in log_probs:
        ids = decode_batch(lp[None], torch.tensor([lp.shape[0]]), method, dcfg.beam_width, dcfg.prune)[0]
        texts.append(" ".join(alphabet.decode(ids).split()))  # spaces as jiwer and users expect them
    return texts


def score_examples(model: CTCSpeechModel, examples: Sequence[Example], alphabet: Alphabet,
                   dcfg: SpeechDecodeConfig, group: str = "") -> tuple[dict, dict]:
    """(``{decoding: error rates}``, details: hypotheses, per-group rates, posteriors)."""
    lps = posteriors(model, examples)
    refs = [e.text for e in examples]
    greedy = decode_all(lps, alphabet, "greedy", dcfg)
    beam = decode_all(lps, alphabet, "beam", dcfg)
    table = {"greedy": error_rates(refs, greedy), f"prefix beam (width {dcfg.beam_width})": error_rates(refs, beam)}
    details = {"greedy": greedy, "beam": beam, "log_probs": lps}
    if group:
        details["by_group"] = rates_by([_group_key(e.utterance, group) for e in examples], refs, greedy)
    return table, details


def real_speech_section(model: CTCSpeechModel, cfg: SpeechConfig, alphabet: Alphabet, echo=print) -> dict | None:
    """WER/CER on pocketsphinx-testdata's real recordings, or None when it is not installed."""
    utts = pocketsphinx_utterances()
    if not utts:
        echo("real speech: pocketsphinx-testdata is not installed (apt-get install -y pocketsphinx-testdata); skipped")
        return None
    examples, skipped = load_examples(utts, cfg.features, alphabet, on_bad="skip")
    if not examples:
        return None
    lps = posteriors(model, examples)
    hyps = decode_all(lps, alphabet, "greedy", cfg.decode)
    rates = error_rates([e.text for e in examples], hyps)
    clips = [{"file": e.utterance.path.name, "reference": e.text, "hypothesis": h} for e, h in zip(examples, hyps)]
    return {**rates, "clips": clips, "skipped": skipped}


# ---------------------------------------------------------------------------------- run
def train(cfg: SpeechConfig, run_dir: Path, resume: bool = False, echo=print) -> dict:
    """Train on the configured data, evaluate on its held-out test split, write the report in ``run_dir``."""
    run_dir = Path(run_dir)
    if cfg.data.val_fraction <= 0:
        raise C.ConfigError("data.val_fraction must be > 0: the best epoch is chosen on held-out voices")
    alphabet = Alphabet(cfg.data.alphabet)
    splits = prepare_splits(cfg, echo)
    on_bad = cfg.data.on_bad
    bars = cfg.train.progress  # train.progress=false silences every bar of the run, these included
    train_ex, skip_train = load_examples(splits.train, cfg.features, alphabet, on_bad, progress=bars,
                                         desc="train features")
    val_ex, skip_val = load_examples(splits.val, cfg.features, alphabet, on_bad, progress=bars, desc="val features")
    test_ex, skip_test = load_examples(splits.test, cfg.features, alphabet, on_bad, progress=bars,
                                       desc="test features")
    seed_everything(cfg.train.seed)  # the initial weights too: torch's own start seed differs per process
    model = build_model(cfg, alphabet)
    train_ex, short_train = filter_feasible(train_ex, model.output_lengths)
    val_ex, short_val = filter_feasible(val_ex, model.output_lengths)
    if not train_ex or not val_ex or not test_ex:
        raise ValueError(f"no usable utterances left in a split (train {len(train_ex)}, validation {len(val_ex)}, "
                         f"test {len(test_ex)}); see the skipped utterances above")
    skipped = {"train": skip_train + short_train, "validation": skip_val + short_val, "test": skip_test}
    n_skipped = sum(len(v) for v in skipped.values())
    echo(f"data: {splits.source}; train/val/test {len(train_ex)}/{len(val_ex)}/{len(test_ex)} utterances"
         + (f"; {n_skipped} skipped (listed in the report)" if n_skipped else ""))

    run_dir.mkdir(parents=True, exist_ok=True)
    write_run_info(run_dir, NAME, C.to_dict(cfg))
    atomic_write_json(run_dir / "alphabet.json", alphabet.to_dict())
    batches = SpeechBatches(train_ex, cfg.data.batch_size, shuffle=True, seed=cfg.train.seed, sortagrad=cfg.data.sortagrad)
    val_batches = SpeechBatches(val_ex, max(cfg.data.batch_size, 32), shuffle=False)
    trainer = Trainer(model, make_objective(alphabet), cfg.train, run_dir=run_dir, config_dict=C.to_dict(cfg),
                      callbacks=[_EpochOrder(batches)])
    trainer.fit(batches, val_batches, resume=resume)

    model = trainer.model.eval()
    table, details = score_examples(model, test_ex, alphabet, cfg.decode, splits.group)
    result = {
        "task": NAME, "data": {
            "source": splits.source, "train": len(train_ex), "val": len(val_ex), "test": len(test_ex),
            "by_speaker": splits.by_speaker, **_speaker_counts(train_ex, val_ex, test_ex)},
        "model": _model_name(cfg), "parameters": sum(p.numel() for p in model.parameters()),
        "epochs": trainer.epoch, "best_val_cer": trainer.best.best, "history": trainer.history, "test": table,
        "group_name": splits.group, "by_group": details.get("by_group", {}),
        "examples": [{"speaker": e.utterance.speaker, "reference": e.text, "hypothesis": h}
                     for e, h in list(zip(test_ex, details["greedy"]))[:10]],
        "skipped": skipped,
    }
    if cfg.real_speech:
        result["real_speech"] = real_speech_section(model, cfg, alphabet, echo)
    figure_example(run_dir / "logmel.png", test_ex, details, alphabet)
    write_report(run_dir, result)
    return result


def _speaker_counts(*parts: Sequence[Example]) -> dict:
    names = ("train_speakers", "val_speakers", "test_speakers")
    return {n: len({e.utterance.speaker for e in p}) for n, p in zip(names, parts)}


def _model_name(cfg: SpeechConfig) -> str:
    m = cfg.model
    return (f"{m.conv_layers} conv ({m.channels} ch, time stride {m.time_stride}) + "
            f"{'bi' if m.bidirectional else ''}{m.cell.upper()} {m.num_layers}x{m.hidden_size} + CTC")


def figure_example(path: Path, examples: Sequence[Example], details: dict, alphabet: Alphabet) -> Path:
    """``logmel.png``: the first test utterance (in manifest order) with its transcripts."""
    e = examples[0]
    return plot_log_mel(path, e.features.numpy(), details["log_probs"][0].numpy(), ["<blank>", *alphabet.chars],
                        e.text, details["greedy"][0], title=f"{e.utterance.path.name}, speaker {e.utterance.speaker or '?'}")


# ---------------------------------------------------------------------------------- saved runs
def load_run(run_dir: str | Path) -> tuple[SpeechConfig, Alphabet, CTCSpeechModel]:
    info = read_run_info(run_dir)
    if info["task"] != NAME:
        raise ValueError(f"{run_dir} is a {info['task']!r} run, not {NAME!r}")
    cfg = C.from_dict(SpeechConfig, info["config"])
    alphabet = Alphabet.from_dict(json.loads((Path(run_dir) / "alphabet.json").read_text("utf-8")))
    model = build_model(cfg, alphabet)
    load_model_weights(model, run_dir)
    return cfg, alphabet, model.eval()


def evaluate(run_dir: str | Path, beam_width: int | None = None, echo=print) -> dict:
    """Test-set WER and CER of a saved run (greedy and prefix beam), as flat ``name: value``."""
    cfg, alphabet, model = load_run(run_dir)
    if beam_width is not None:
        cfg.decode = dataclasses.replace(cfg.decode, beam_width=beam_width)
    splits = prepare_splits(cfg, echo)
    test_ex, skipped = load_examples(splits.test, cfg.features, alphabet, cfg.data.on_bad)
    table, _ = score_examples(model, test_ex, alphabet, cfg.decode)
    out: dict = {"test_utterances": len(test_ex), "test_skipped": len(skipped)}
    for name, r in table.items():
        key = "greedy" if name == "greedy" else f"beam{cfg.decode.beam_width}"
        out[f"{key}_wer"], out[f"{key}_cer"] = r["wer"], r["cer"]
    return out


def transcribe(run_dir: str | Path, files: Sequence[str | Path], method: str = "greedy",
               beam_width: int | None = None) -> list[tuple[str, str]]:
    """``[(file, transcript)]`` for audio files (``.raw`` = 16-bit mono PCM at the model's rate)."""
    cfg, alphabet, model = load_run(run_dir)
    if not files:
        raise ValueError("no audio files to transcribe")
    dcfg = dataclasses.replace(cfg.decode, beam_width=beam_width or cfg.decode.beam_width)
    feats = [utterance_features(load_audio(f, cfg.features.sample_rate, raw=Path(f).suffix.lower() == ".raw"),
                                cfg.features) for f in files]
    examples = [Example(x, torch.zeros(0, dtype=torch.long), "", Utterance(Path(f), "")) for x, f in zip(feats, files)]
    texts = decode_all(posteriors(model, examples), alphabet, method, dcfg)
    return list(zip(map(str, files), texts))


def summary_lines(result: dict) -> list[str]:
    lines = [f"{k}: WER {100 * r['wer']:.2f}%  CER {100 * r['cer']:.2f}%  ({r['utterances']} held-out utterances)"
             for k, r in result["test"].items()]
    real = result.get("real_speech")
    if real:
        lines.append(f"real recordings (pocketsphinx-testdata, {real['utterances']} clips): WER {100 * real['wer']:.1f}%")
    return lines
