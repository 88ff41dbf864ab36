"""Music composition: an event LSTM on melodies, trained, scored against n-gram baselines, sampled.

Task interface (as :mod:`rnnkit.apps.textgen.task`): ``NAME``, :class:`MusicConfig`, ``PRESETS``,
``default_config()``, ``train(cfg, run_dir, resume)``, ``evaluate(run_dir)``,
``generate(run_dir, prompt, decoding)``, ``summary_lines(result)``; plus :func:`load_run` and
:func:`compose` for the Python API and the ``rnnkit music`` command.

One run (``train``):

1. melodies: the Bach chorales (music21 corpus, cached) or the user's MIDI files, transposed to
   C major / A minor unless ``data.transpose=false``; split by tune with ``data.seed``;
2. the codec (pitch range and durations) from the training split; the LSTM trained with
   :class:`rnnkit.train.Trainer` on whole pieces (mean NLL per event), best validation epoch kept;
3. unigram and bigram baselines counted on the same training split, smoothed on validation;
4. held-out NLL per event of all three;
5. each held-out piece primed with its first ``sample.prime_events`` events and continued by the
   LSTM and by the bigram; pitch-class and interval histograms against the real continuations;
6. ``sample.pieces`` showcase continuations written as MIDI, a piano roll, the histograms and
   ``report.md``/``report.json``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch

from rnnkit import config as C
from rnnkit.decoding import DecodingConfig
from rnnkit.apps.music.baselines import EventNgram
from rnnkit.apps.music.data import (
    Melody,
    MelodyCorpus,
    MelodyDataset,
    collate_melodies,
    load_chorales,
    load_midi_corpus,
    split_melodies,
)
from rnnkit.apps.music.events import (
    BOS,
    DUR_UNK,
    END,
    PAD,
    UNK,
    Event,
    EventCodec,
    format_notes,
    normalize,
    parse_notes,
    transpose,
    transpose_shift,
)
from rnnkit.apps.music.metrics import (
    interval_histogram,
    lstm_nll,
    pitch_class_histogram,
    total_variation,
)
from rnnkit.apps.music.midi_io import write_midi
from rnnkit.apps.music.model import MelodyLSTM, MelodyModelConfig, event_nll
from rnnkit.apps.music.report import plot_histograms, plot_piano_roll, write_report
from rnnkit.train.run_folder import load_model_weights, read_run_info, write_run_info
from rnnkit.train import TrainConfig, Trainer, atomic_write_json

__all__ = [
    "NAME",
    "PRESETS",
    "MusicConfig",
    "MusicDataConfig",
    "MusicSampleConfig",
    "compose",
    "default_config",
    "evaluate",
    "generate",
    "load_melodies",
    "load_run",
    "melody_loss",
    "summary_lines",
    "train",
]

NAME = "music"


@dataclass
class MusicDataConfig:
    """corpus: the built-in corpus, used when ``path`` is empty; path: a MIDI file or folder.

    limit: use only the first N chorales (0 = all 350); transpose: to C major / A minor;
    grid, track, on_error: how MIDI files are read (see :mod:`rnnkit.apps.music.data`);
    cache_dir: where parsed chorales are kept (default ``$RNNKIT_CACHE_DIR/music``).
    """

    corpus: Literal["chorales"] = "chorales"
    path: str | None = None
    limit: int = 0
    transpose: bool = True
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 0
    grid: int = 6
    track: int | None = None
    on_error: Literal["skip", "raise"] = "skip"
    cache_dir: str | None = None


@dataclass
class MusicSampleConfig:
    """How the run samples.

    prime_events: events of a held-out piece that prime each continuation; decoding: the rule for
    both heads (and the bigram); repeats: continuations per held-out piece for the histograms
    (more repeats, less sampling noise in the distances); pieces / events: the showcase MIDI files
    and their length; bpm: their tempo.
    """

    prime_events: int = 4
    repeats: int = 4
    decoding: DecodingConfig = field(default_factory=lambda: DecodingConfig(strategy="sample", temperature=1.0, seed=0))
    pieces: int = 3
    events: int = 48
    bpm: float = 90.0


def _default_train() -> TrainConfig:
    return TrainConfig(epochs=25, lr=3e-3, weight_decay=0.01, grad_clip=1.0, schedule="cosine", min_lr_ratio=0.05,
                       batch_size=16, monitor="val_loss", log_every=10)


@dataclass
class MusicConfig:
    data: MusicDataConfig = field(default_factory=MusicDataConfig)
    model: MelodyModelConfig = field(default_factory=MelodyModelConfig)
    train: TrainConfig = field(default_factory=_default_train)
    sample: MusicSampleConfig = field(default_factory=MusicSampleConfig)


PRESETS: dict[str, list[str]] = {
    # The defaults: the small CPU setting (docs/music.md has its figures and time).
    "demo": [],
    # Seconds: for tests and smoke runs (24 chorales, a small LSTM, 2 epochs).
    "tiny": ["data.limit=24", "model.hidden_size=32", "model.pitch_embed=8", "model.duration_embed=4",
             "train.epochs=2", "train.batch_size=8", "train.plot_every=0", "sample.pieces=1", "sample.events=16"],
    # A longer run (a GPU, or a quiet CPU for a while).
    "large": ["model.hidden_size=512", "model.num_layers=2", "model.dropout=0.4", "train.epochs=60", "train.lr=2e-3"],
}


def default_config() -> MusicConfig:
    return MusicConfig()


# ---------------------------------------------------------------------------------- data
def load_melodies(cfg: MusicDataConfig, progress: bool = True, echo=print) -> MelodyCorpus:
    """The configured corpus, transposed if asked (melodies of unknown key stay as they are)."""
    if cfg.path:
        corpus = load_midi_corpus(cfg.path, grid=cfg.grid, track=cfg.track, on_error=cfg.on_error, warn=echo)
    else:
        corpus = load_chorales(limit=cfg.limit or None, cache_dir=cfg.cache_dir, progress=progress)
    if cfg.transpose:
        corpus.melodies = [m.transposed() for m in corpus.melodies]
    return corpus


def melody_loss(model, batch):
    """Trainer objective: mean NLL per predicted event (nats), with its pitch and duration parts."""
    x_p, x_d, y_p, y_d = batch
    pitch_logits, dur_logits = model(x_p, x_d, y_p)
    s_p, s_d, n = event_nll(pitch_logits, dur_logits, y_p, y_d)
    n = n.clamp_min(1)
    return (s_p + s_d) / n, {"pitch_nll": s_p.detach() / n, "dur_nll": s_d.detach() / n}


def _events_in_batch(batch) -> int:
    return int((batch[2] != PAD).sum())


# ---------------------------------------------------------------------------------- generation
def compose(model: MelodyLSTM, codec: EventCodec, primers: Sequence[Sequence[Event]], max_events: int,
            decoding: DecodingConfig, generator: torch.Generator | None = None) -> list[list[Event]]:
    """Continue each primer (a list of events, all of the same length) with up to ``max_events``
    events; returns the continuations (the primers not included)."""
    if not primers or len({len(p) for p in primers}) != 1:
        raise ValueError("compose needs one or more primers, all with the same number of events")
    ids = [codec.encode(p) for p in primers]
    bad = [pitch for prime in primers for pitch, _ in prime if codec.pitch_id(pitch) == UNK]
    bad_d = [t for prime in primers for _, t in prime if codec.dur_id(t) == DUR_UNK]
    if bad or bad_d:
        raise ValueError(f"the primer leaves the model's vocabulary ({codec}): pitches {sorted(set(bad))}, "
                         f"durations in ticks {sorted(set(bad_d))}")
    bos = torch.full((len(primers), 1), BOS, dtype=torch.long)
    prime_p = torch.cat([bos, torch.stack([p for p, _ in ids])], 1)
    prime_d = torch.cat([bos, torch.stack([d for _, d in ids])], 1)
    new_p, new_d = model.generate(prime_p, prime_d, max_events, decoding, generator)
    out = []
    for row_p, row_d in zip(new_p.tolist(), new_d.tolist()):
        events = []
        for p, d in zip(row_p, row_d):
            if p in (PAD, END):
                break
            events.append((codec.pitch_of(p), codec.ticks_of(d)))
        out.append(events)
    return out


def _continue_test(model, codec, bigram, test: list[Melody], cfg: MusicSampleConfig):
    """Primed continuations of every held-out piece long enough: (real, lstm, bigram) lists.

    Each piece is continued ``cfg.repeats`` times by each model, for at most as many events as
    its real continuation has.
    """
    k = cfg.prime_events
    if k < 1 or cfg.repeats < 1:
        raise ValueError(f"sample.prime_events and sample.repeats must be >= 1, got {k} and {cfg.repeats}")
    pieces = [m.events for m in test if len(m.events) > k]
    if not pieces:
        raise ValueError(f"no held-out piece has more than sample.prime_events={k} events")
    real = [e[k:] for e in pieces]
    primed = [(e[:k], len(r)) for e, r in zip(pieces, real) for _ in range(cfg.repeats)]
    gen = cfg.decoding.make_generator(model.pitch_head.weight.device)  # draws where the logits are
    lstm = compose(model, codec, [p for p, _ in primed], max(n for _, n in primed), cfg.decoding, gen)
    lstm = [g[:n] for g, (_, n) in zip(lstm, primed)]
    gen = cfg.decoding.make_generator()
    bi = [bigram.sample(p, n, cfg.decoding, gen) for p, n in primed]
    return real, lstm, bi


def _histogram_scores(real, sources: dict[str, list]) -> tuple[dict, dict]:
    ref = {"pitch_class": pitch_class_histogram(real), "interval": interval_histogram(real)}
    hists, scores = {"held-out (real)": ref}, {}
    for name, melodies in sources.items():
        h = {"pitch_class": pitch_class_histogram(melodies), "interval": interval_histogram(melodies)}
        hists[name] = h
        scores[name] = {"pitch_class_tv": total_variation(h["pitch_class"], ref["pitch_class"]),
                        "interval_tv": total_variation(h["interval"], ref["interval"]),
                        "events": sum(len(m) for m in melodies)}
    return hists, scores


def _showcase(run_dir: Path, model, codec, test: list[Melody], cfg: MusicSampleConfig) -> list[dict]:
    k = cfg.prime_events
    pieces = [m for m in test if len(m.events) >= k][: cfg.pieces]
    if not pieces:
        return []
    conts = compose(model, codec, [m.events[:k] for m in pieces], cfg.events, cfg.decoding)
    samples, rows = [], []
    for i, (mel, cont) in enumerate(zip(pieces, conts), 1):
        name = f"generated_{i}.mid"
        write_midi(mel.events[:k] + cont, run_dir / name, bpm=cfg.bpm)
        title = f"{name}: primed with the first {k} events of {mel.name}"
        rows.append((title, mel.events[:k], cont))
        samples.append({"midi": name, "title": f"primer from {mel.name}", "prime": format_notes(mel.events[:k]),
                        "events": len(cont), "notes": format_notes(cont)})
    plot_piano_roll(rows, run_dir / "pianoroll.png")
    return samples


# ---------------------------------------------------------------------------------- run
def train(cfg: MusicConfig, run_dir: Path, resume: bool = False, echo=print) -> dict:
    """Train, score against the baselines, sample, and write the report in ``run_dir``."""
    run_dir = Path(run_dir)
    corpus = load_melodies(cfg.data, progress=cfg.train.progress, echo=echo)
    train_m, val_m, test_m = split_melodies(corpus.melodies, cfg.data.val_fraction, cfg.data.test_fraction, cfg.data.seed)
    if not train_m or not val_m or not test_m:
        raise ValueError(f"{len(corpus.melodies)} melodies are too few for train/validation/test splits "
                         f"({len(train_m)}/{len(val_m)}/{len(test_m)}); add files or change the fractions")
    codec = EventCodec.fit(m.events for m in train_m)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run_info(run_dir, NAME, C.to_dict(cfg))
    atomic_write_json(run_dir / "codec.json", codec.to_dict())
    echo(f"melodies: {len(corpus.melodies)} ({corpus.source}); train/val/test {len(train_m)}/{len(val_m)}/{len(test_m)} "
         f"pieces, {sum(len(m.events) for m in train_m):,} training events; {codec}")
    if corpus.skipped:
        echo(f"skipped {len(corpus.skipped)} unreadable file(s); listed in report.md")

    model = MelodyLSTM.for_codec(codec, cfg.model)
    trainer = Trainer(model, melody_loss, cfg.train, run_dir=run_dir, config_dict=C.to_dict(cfg),
                      collate_fn=collate_melodies, batch_size_fn=_events_in_batch, tokens_fn=_events_in_batch)
    trainer.fit(MelodyDataset((m.events for m in train_m), codec), MelodyDataset((m.events for m in val_m), codec),
                resume=resume)
    model = trainer.model.eval()

    test_events = [m.events for m in test_m]
    unigram = EventNgram(codec, 1).fit((m.events for m in train_m), (m.events for m in val_m))
    bigram = EventNgram(codec, 2).fit((m.events for m in train_m), (m.events for m in val_m))
    nll = {"lstm": lstm_nll(model, codec, test_events), "bigram": bigram.split_nll(test_events),
           "unigram": unigram.split_nll(test_events)}

    real, lstm_gen, bigram_gen = _continue_test(model, codec, bigram, test_m, cfg.sample)
    hists, scores = _histogram_scores(real, {"LSTM samples": lstm_gen, "bigram samples": bigram_gen,
                                             "training melodies": [m.events for m in train_m]})
    plot_histograms(hists, run_dir / "histograms.png")
    samples = _showcase(run_dir, model, codec, test_m, cfg.sample)

    dropped: dict[str, int] = {}
    for m in corpus.melodies:
        for key, v in m.dropped.items():
            dropped[key] = dropped.get(key, 0) + int(v)
    dec = cfg.sample.decoding
    result = {
        "data": {"source": corpus.source, "pieces": len(corpus.melodies), "transpose": cfg.data.transpose,
                 "seed": cfg.data.seed, "train": len(train_m), "val": len(val_m), "test": len(test_m),
                 "codec": repr(codec), "unknown": codec.count_unknown(test_events), "dropped": dropped,
                 "skipped": corpus.skipped, "test_pieces": [m.name for m in test_m]},
        "nll": nll,
        "baselines": {"unigram": unigram.summary(), "bigram": bigram.summary()},
        "histograms": scores,
        "generation": {"prime_events": cfg.sample.prime_events, "repeats": cfg.sample.repeats,
                       "decoding": f"{dec.strategy}, temperature {dec.temperature}, top-k {dec.top_k}, "
                                   f"top-p {dec.top_p}, seed {dec.seed}"},
        "samples": samples,
        "model_label": f"{cfg.model.cell.upper()} H={cfg.model.hidden_size} x{cfg.model.num_layers} (rnnkit)",
        "parameters": sum(p.numel() for p in model.parameters()),
        "epochs": trainer.epoch,
        "command": " ".join(["rnnkit", *sys.argv[1:]]) if Path(sys.argv[0]).name in ("rnnkit", "__main__.py") else " ".join(sys.argv),
    }
    write_report(run_dir, result)
    return result


def load_run(run_dir: str | Path) -> tuple[MusicConfig, EventCodec, MelodyLSTM]:
    """The config, codec and trained model (best weights, eval mode) of a saved run."""
    info = read_run_info(run_dir)
    if info["task"] != NAME:
        raise ValueError(f"{run_dir} is a {info['task']!r} run, not {NAME!r}")
    cfg = C.from_dict(MusicConfig, info["config"])
    codec = EventCodec.from_dict(json.loads((Path(run_dir) / "codec.json").read_text("utf-8")))
    model = MelodyLSTM.for_codec(codec, cfg.model)
    load_model_weights(model, run_dir)
    return cfg, codec, model.eval()


def evaluate(run_dir: str | Path, echo=print) -> dict:
    """Held-out NLL per event of a saved run and of the baselines (recounted, deterministic)."""
    cfg, codec, model = load_run(run_dir)
    corpus = load_melodies(cfg.data, progress=False, echo=echo)
    train_m, val_m, test_m = split_melodies(corpus.melodies, cfg.data.val_fraction, cfg.data.test_fraction, cfg.data.seed)
    test_events = [m.events for m in test_m]
    out = {"lstm_nll": lstm_nll(model, codec, test_events)["nll"]}
    for order, name in ((2, "bigram_nll"), (1, "unigram_nll")):
        out[name] = EventNgram(codec, order).fit((m.events for m in train_m), (m.events for m in val_m)).nll(test_events)
    return out


def transposed_primer(primer: Sequence[Event], key: tuple[int, str] | None) -> tuple[list[Event], int]:
    """The primer moved to C major / A minor for a model trained transposed, and the shift used."""
    if key is None:
        return list(primer), 0
    shift = transpose_shift(*key)
    return transpose(primer, shift), shift


def generate(run_dir: str | Path, prompt: str, decoding: DecodingConfig) -> str:
    """``rnnkit generate RUN --prompt "C5/1 D5/1"``: the continuation as note text."""
    _, codec, model = load_run(run_dir)
    primer = normalize(parse_notes(prompt))
    cont = compose(model, codec, [primer], decoding.max_new_tokens, decoding)[0]
    return format_notes(primer + cont)


def summary_lines(result: dict) -> list[str]:
    nll = result["nll"]
    h = result["histograms"]
    met = "met" if nll["lstm"]["nll"] < nll["bigram"]["nll"] else "NOT met"
    lstm, bi, ref = h["LSTM samples"], h["bigram samples"], h["training melodies"]
    return [
        (f"held-out NLL per event (nats): LSTM {nll['lstm']['nll']:.3f}, bigram {nll['bigram']['nll']:.3f}, "
         f"unigram {nll['unigram']['nll']:.3f}  (goal: LSTM < bigram: {met})"),
        (f"pitch-class TV to held-out: LSTM {lstm['pitch_class_tv']:.3f}, bigram {bi['pitch_class_tv']:.3f}, "
         f"training melodies {ref['pitch_class_tv']:.3f}"),
        (f"interval TV to held-out:    LSTM {lstm['interval_tv']:.3f}, bigram {bi['interval_tv']:.3f}, "
         f"training melodies {ref['interval_tv']:.3f}"),
        *(f"sample: {s['midi']}" for s in result["samples"]),
    ]
