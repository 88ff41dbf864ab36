"""Translation end to end: data -> subword vocabularies -> seq2seq training -> BLEU/chrF vs baselines.

    result = train(default_config(), Path("runs/translate-demo"))     # `rnnkit translate train`
    evaluate("runs/translate-demo")                                    # `rnnkit translate evaluate RUN`
    translate_texts("runs/translate-demo", ["And God said, Let there be light."])

Data: a TSV of pairs (``data.path``) or the built-in English -> Spanish Bible (see
:mod:`rnnkit.apps.translate.data`). A seeded random split into train/validation/test is drawn over
all pairs first; then pairs longer than ``data.max_words`` words on either side are dropped from
every split, so each setting's test split holds only sentences of the length it trains on.

Vocabulary: sentencepiece trained on the training split only, one shared model for both sides or
one per side. Model: :class:`rnnkit.models.seq2seq.Seq2Seq` trained by the task-free trainer with
label-smoothed cross-entropy (padding ignored) and optional scheduled sampling. Evaluation in
the same run, on the test split: greedy and beam search, and two baselines learnt from the same
training pairs (copy-the-source; an IBM-model-1 word dictionary).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch

from rnnkit import config as C
from rnnkit.data.subword import SubwordTokenizer
from rnnkit.models.seq2seq import SearchConfig, Seq2Seq, Seq2SeqConfig, seq2seq_loss
from rnnkit.train.run_folder import load_model_weights, read_run_info, write_run_info
from rnnkit.train import (
    Callback,
    TrainConfig,
    Trainer,
    atomic_write_json,
    atomic_write_text,
)
from rnnkit.apps.translate.baselines import WordDictionary, copy_baseline
from rnnkit.apps.translate.batches import PairBatches
from rnnkit.apps.translate.data import PairCorpus, load_bible, read_tsv, split_indices
from rnnkit.apps.translate.report import plot_attention, score, summary_lines, write_report

NAME = "translate"
OLD_NAMES = ("translation",)  # what rnnkit 0.1 wrote in run.json
__all__ = [
    "NAME",
    "PRESETS",
    "TranslationConfig",
    "default_config",
    "evaluate",
    "load_run",
    "summary_lines",
    "train",
    "translate_texts",
]


@dataclass
class TranslationDataConfig:
    """corpus: built-in corpus, used when ``path`` is empty; path: a TSV of ``source<TAB>target``.

    max_words: keep pairs with at most this many words on each side (0 = all).
    max_train_pairs / max_test_pairs: caps after filtering, taken in order (0 = no cap).
    """

    corpus: Literal["bible"] = "bible"
    path: str | None = None
    max_words: int = 20
    max_train_pairs: int = 0
    max_test_pairs: int = 0
    val_fraction: float = 0.05
    test_fraction: float = 0.05
    split_seed: int = 0
    batch_size: int = 32


@dataclass
class TranslationVocabConfig:
    """Subword vocabularies (sentencepiece) trained on the training split."""

    shared: bool = True
    size: int = 2000
    model_type: Literal["unigram", "bpe"] = "unigram"

    def __post_init__(self):
        floor = 4 + 256 + 1  # the specials, the byte-fallback pieces, one learnt piece (rnnkit.data.subword)
        if self.size < floor:
            raise C.ConfigError(f"vocab.size must be >= {floor} (4 special and 256 byte pieces come first), "
                                f"got {self.size}")


@dataclass
class TranslationModelConfig:
    """The fields of :class:`rnnkit.models.seq2seq.Seq2SeqConfig` that do not come from the data.

    share_embeddings: one embedding table for both languages; None = when the vocabulary is shared.
    """

    embed_size: int = 128
    hidden_size: int = 256
    encoder_hidden_size: int | None = 128
    cell: Literal["lstm", "gru", "rnn", "rnn_relu"] = "gru"
    encoder_layers: int = 1
    decoder_layers: int = 1
    bidirectional: bool = True
    attention: Literal["bahdanau", "dot", "general"] = "general"
    attn_size: int | None = None
    input_feeding: bool = False
    bridge: bool = True
    dropout: float = 0.1
    share_embeddings: bool | None = None
    tie_output: bool = False


@dataclass
class ScheduledSamplingConfig:
    """Probability of feeding the model's own prediction: 0 until ``start_epoch``, then rising
    linearly over ``ramp_epochs`` epochs to ``max_prob`` (0 = plain teacher forcing)."""

    max_prob: float = 0.0
    start_epoch: int = 2
    ramp_epochs: int = 3

    def prob(self, epoch: int) -> float:
        if self.max_prob <= 0 or epoch < self.start_epoch:
            return 0.0
        return self.max_prob * min(1.0, (epoch - self.start_epoch + 1) / max(1, self.ramp_epochs))


def _default_train() -> TrainConfig:
    return TrainConfig(epochs=6, lr=2e-3, weight_decay=0.0, grad_clip=1.0, schedule="cosine",
                       min_lr_ratio=0.05, monitor="val_loss", log_every=50)


@dataclass
class TranslationConfig:
    data: TranslationDataConfig = field(default_factory=TranslationDataConfig)
    vocab: TranslationVocabConfig = field(default_factory=TranslationVocabConfig)
    model: TranslationModelConfig = field(default_factory=TranslationModelConfig)
    train: TrainConfig = field(default_factory=_default_train)
    sampling: ScheduledSamplingConfig = field(default_factory=ScheduledSamplingConfig)
    search: SearchConfig = field(default_factory=lambda: SearchConfig(beam_size=5, length_penalty=1.0))
    label_smoothing: float = 0.1
    heatmaps: int = 3


# Named settings; `--preset NAME` applies these overrides before the user's own.
PRESETS: dict[str, list[str]] = {
    # The default: Bible verses of at most 20 words, 6 epochs of a GRU encoder-decoder (docs/translation.md).
    "small": [],
    # Seconds: tests and smoke runs.
    "tiny": ["data.max_words=12", "data.max_train_pairs=300", "data.max_test_pairs=20", "data.batch_size=16",
             "vocab.size=400", "model.embed_size=16", "model.hidden_size=24",
             "model.encoder_hidden_size=16", "train.epochs=1",
             "train.tensorboard=false", "train.plots=false", "train.progress=false", "search.max_len=12",
             "heatmaps=2"],
    # Verses up to 40 words (24,996 training pairs), a larger model: a GPU, or many hours of CPU. Not run yet.
    "large": ["data.max_words=40", "data.batch_size=64", "vocab.size=8000", "model.embed_size=256",
              "model.hidden_size=512", "model.encoder_hidden_size=512", "model.encoder_layers=2",
              "model.decoder_layers=2", "model.input_feeding=true", "model.dropout=0.3", "train.epochs=20",
              "train.lr=1e-3", "sampling.max_prob=0.2"],
}


def default_config() -> TranslationConfig:
    return TranslationConfig()


# ---------------------------------------------------------------------------------- data
def load_pairs(cfg: TranslationDataConfig) -> PairCorpus:
    return read_tsv(cfg.path) if cfg.path else load_bible()


def _short(corpus: PairCorpus, index, max_words: int) -> list[int]:
    if max_words <= 0:
        return [int(i) for i in index]
    return [int(i) for i in index
            if len(corpus.sources[i].split()) <= max_words and len(corpus.targets[i].split()) <= max_words]


def make_splits(corpus: PairCorpus, cfg: TranslationDataConfig) -> tuple[PairCorpus, PairCorpus, PairCorpus]:
    """Seeded split over all pairs, then the length filter and caps (see the module docstring)."""
    train_i, val_i, test_i = (_short(corpus, ix, cfg.max_words) for ix in
                              split_indices(len(corpus), cfg.val_fraction, cfg.test_fraction, cfg.split_seed))
    if cfg.max_train_pairs:
        train_i = train_i[:cfg.max_train_pairs]
        val_i = val_i[:max(1, cfg.max_train_pairs // 10)]
    if cfg.max_test_pairs:
        test_i = test_i[:cfg.max_test_pairs]
    if not (train_i and val_i and test_i):
        raise ValueError(f"after keeping pairs of at most {cfg.max_words} words, a split is empty "
                         f"(train/val/test {len(train_i)}/{len(val_i)}/{len(test_i)}); raise data.max_words")
    return corpus.subset(train_i), corpus.subset(val_i), corpus.subset(test_i)


def train_tokenizers(train_set: PairCorpus, cfg: TranslationVocabConfig) -> tuple[SubwordTokenizer, SubwordTokenizer]:
    kw = {"vocab_size": cfg.size, "model_type": cfg.model_type}
    if cfg.shared:
        tok = SubwordTokenizer.train(train_set.sources + train_set.targets, **kw)
        return tok, tok
    return SubwordTokenizer.train(train_set.sources, **kw), SubwordTokenizer.train(train_set.targets, **kw)


def build_model(cfg: TranslationConfig, src_tok, tgt_tok) -> Seq2Seq:
    m = dataclasses.asdict(cfg.model)
    if m["share_embeddings"] and not cfg.vocab.shared:
        raise C.ConfigError("model.share_embeddings=true needs vocab.shared=true")
    if m["share_embeddings"] is None:
        m["share_embeddings"] = cfg.vocab.shared
    return Seq2SeqConfig(src_vocab_size=len(src_tok), tgt_vocab_size=len(tgt_tok), pad_id=tgt_tok.pad_id,
                         bos_id=tgt_tok.bos_id, eos_id=tgt_tok.eos_id, **m).build()


# ---------------------------------------------------------------------------------- training
class ScheduledSampling(Callback):
    """Sets ``model.sampling_prob`` at the start of every epoch from a :class:`ScheduledSamplingConfig`."""

    def __init__(self, model: Seq2Seq, cfg: ScheduledSamplingConfig):
        self.model, self.cfg = model, cfg

    def on_epoch_start(self, trainer, epoch: int) -> None:
        self.model.sampling_prob = self.cfg.prob(epoch)


def _encode(corpus: PairCorpus, src_tok, tgt_tok):
    return [src_tok.encode(s) for s in corpus.sources], [tgt_tok.encode(t) for t in corpus.targets]


def train(cfg: TranslationConfig, run_dir: Path, resume: bool = False, echo=print) -> dict:
    """Train, evaluate on the test split with both searches and both baselines, write the report."""
    run_dir = Path(run_dir)
    corpus = load_pairs(cfg.data)
    train_set, val_set, test_set = make_splits(corpus, cfg.data)
    echo(f"corpus: {len(corpus):,} pairs ({corpus.origin}); skipped while reading: {corpus.skipped or 'none'}; "
         f"<= {cfg.data.max_words or 'any'} words: train/val/test {len(train_set):,}/{len(val_set):,}/{len(test_set):,}")
    src_tok, tgt_tok = train_tokenizers(train_set, cfg.vocab)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run_info(run_dir, NAME, C.to_dict(cfg))
    src_tok.save(run_dir / "subword_src.model")
    tgt_tok.save(run_dir / "subword_tgt.model")
    vocab_desc = (f"shared sentencepiece {cfg.vocab.model_type}, {len(src_tok)} pieces" if cfg.vocab.shared else
                  f"separate sentencepiece {cfg.vocab.model_type}, {len(src_tok)} source / {len(tgt_tok)} target pieces")
    echo(f"vocabulary: {vocab_desc}")

    torch.manual_seed(cfg.train.seed)  # the initial weights
    model = build_model(cfg, src_tok, tgt_tok)
    ids = (tgt_tok.pad_id, tgt_tok.bos_id, tgt_tok.eos_id)
    train_batches = PairBatches(*_encode(train_set, src_tok, tgt_tok), cfg.data.batch_size, *ids, seed=cfg.train.seed)
    val_batches = PairBatches(*_encode(val_set, src_tok, tgt_tok), cfg.data.batch_size, *ids, shuffle=False)
    loss_fn = functools.partial(seq2seq_loss, label_smoothing=cfg.label_smoothing, pad_id=tgt_tok.pad_id)
    trainer = Trainer(model, loss_fn, cfg.train, run_dir=run_dir, config_dict=C.to_dict(cfg),
                      callbacks=[ScheduledSampling(model, cfg.sampling)],
                      tokens_fn=lambda b: int((b[3] != tgt_tok.pad_id).sum()))
    start, cpu_start = time.perf_counter(), time.process_time()
    history = trainer.fit(train_batches, val_batches, resume=resume)
    # Wall time depends on what else the machine runs; the process's CPU time much less so.
    train_seconds, train_cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start

    echo("learning the dictionary baseline and decoding the test split ...")
    dictionary = WordDictionary.learn(train_set.sources, train_set.targets)
    atomic_write_json(run_dir / "dictionary.json", dictionary.table)
    result = _evaluate(trainer.model.eval(), src_tok, tgt_tok, test_set, dictionary, cfg, run_dir)
    result.update({
        "data": {"origin": corpus.origin, "pairs": len(corpus), "skipped": corpus.skipped,
                 "max_words": cfg.data.max_words, "train": len(train_set), "val": len(val_set), "test": len(test_set)},
        "vocab": vocab_desc,
        "parameters": sum(p.numel() for p in model.parameters()),
        "epochs": trainer.epoch, "train_seconds": train_seconds, "train_cpu_seconds": train_cpu_seconds,
        "threads": torch.get_num_threads(),
        "best_val_loss": min((h["val_loss"] for h in history if "val_loss" in h), default=float("nan")),
    })
    write_report(run_dir, result, result.pop("examples"))
    return result


# ---------------------------------------------------------------------------------- decoding
@torch.no_grad()
def decode(model: Seq2Seq, src_tok, tgt_tok, sentences: Sequence[str], search: SearchConfig,
           batch_size: int = 32) -> list[dict]:
    """Translate ``sentences``; for each: ``text``, target ``ids``, ``attention`` (n, S), source
    ``src_ids``, ``score`` and ``finished`` (ended with EOS rather than at the length limit).

    Sentences are decoded in batches of similar length (then put back in order); the result does
    not depend on the batching, since search is per row.
    """
    model.eval()
    device = next(model.parameters()).device
    encoded = [src_tok.encode(s) or [src_tok.unk_id] for s in sentences]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    out: list[dict] = [{} for _ in sentences]
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        src, lengths = _pad([encoded[i] for i in idx], src_tok.pad_id)
        hyps = model.translate(src.to(device), lengths.to(device), search)
        for i, h in zip(idx, hyps):
            best = h[0]
            attn = None if best.attention is None else best.attention[:, :len(encoded[i])].cpu()
            out[i] = {"text": tgt_tok.decode(best.tokens), "ids": best.tokens, "attention": attn,
                      "src_ids": encoded[i], "score": best.score, "finished": best.finished}
    return out


def _pad(seqs, pad_id):
    lengths = torch.tensor([len(s) for s in seqs])
    x = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        x[i, :len(s)] = torch.tensor(s)
    return x, lengths


def _evaluate(model, src_tok, tgt_tok, test_set: PairCorpus, dictionary: WordDictionary,
              cfg: TranslationConfig, run_dir: Path | None) -> dict:
    greedy = decode(model, src_tok, tgt_tok, test_set.sources, cfg.search.replace(strategy="greedy"))
    beam = decode(model, src_tok, tgt_tok, test_set.sources, cfg.search.replace(strategy="beam"))
    dict_hyps = dictionary.translate(test_set.sources)
    refs = test_set.targets
    scores = {"beam": score([b["text"] for b in beam], refs), "greedy": score([g["text"] for g in greedy], refs),
              "dictionary": score(dict_hyps, refs), "copy": score(copy_baseline(test_set.sources), refs)}
    examples = [{"source": test_set.sources[i], "reference": refs[i], "beam": beam[i]["text"],
                 "greedy": greedy[i]["text"], "dictionary": dict_hyps[i]} for i in range(min(5, len(refs)))]
    if run_dir is not None:
        rows = ["ref\tsource\treference\tbeam\tgreedy\tdictionary"] + [
            "\t".join([test_set.refs[i], test_set.sources[i], refs[i], beam[i]["text"], greedy[i]["text"], dict_hyps[i]])
            for i in range(len(refs))]
        atomic_write_text(run_dir / "test_predictions.tsv", "\n".join(rows) + "\n")
        items = []
        for i in range(min(cfg.heatmaps, len(refs))):
            if beam[i]["attention"] is not None:
                items.append({"source": [src_tok.id_to_piece(t) for t in beam[i]["src_ids"]],
                              "target": [tgt_tok.id_to_piece(t) for t in beam[i]["ids"]]
                              + ["</s>"] * beam[i]["finished"],
                              "weights": beam[i]["attention"].numpy()})
        plot_attention(run_dir / "attention.png", items)
    return {"scores": scores, "search": dataclasses.asdict(cfg.search), "examples": examples}


# ---------------------------------------------------------------------------------- saved runs
def load_run(run_dir: str | Path) -> tuple[TranslationConfig, SubwordTokenizer, SubwordTokenizer, Seq2Seq]:
    info = read_run_info(run_dir)
    if info["task"] != NAME and info["task"] not in OLD_NAMES:
        raise ValueError(f"{run_dir} is a {info['task']!r} run, not a translation run")
    cfg = C.from_dict(TranslationConfig, info["config"])
    src_tok = SubwordTokenizer.load(Path(run_dir) / "subword_src.model")
    tgt_tok = SubwordTokenizer.load(Path(run_dir) / "subword_tgt.model")
    model = build_model(cfg, src_tok, tgt_tok)
    load_model_weights(model, run_dir)
    return cfg, src_tok, tgt_tok, model.eval()


def evaluate(run_dir: str | Path, echo=print) -> dict:
    """Re-score a saved run on its test split (greedy, beam and both baselines)."""
    cfg, src_tok, tgt_tok, model = load_run(run_dir)
    _, _, test_set = make_splits(load_pairs(cfg.data), cfg.data)
    table_path = Path(run_dir) / "dictionary.json"
    dictionary = WordDictionary(json.loads(table_path.read_text("utf-8"))) if table_path.is_file() else None
    if dictionary is None:
        train_set, _, _ = make_splits(load_pairs(cfg.data), cfg.data)
        dictionary = WordDictionary.learn(train_set.sources, train_set.targets)
    result = _evaluate(model, src_tok, tgt_tok, test_set, dictionary, cfg, None)
    result.pop("examples")
    return result


def translate_texts(run_dir: str | Path, texts: Sequence[str], search: SearchConfig | None = None,
                    **changes) -> list[str]:
    """Translate ``texts`` with a saved run: its own search settings, or ``search``, updated with
    ``changes`` (e.g. ``strategy="greedy"``, ``beam_size=10``)."""
    cfg, src_tok, tgt_tok, model = load_run(run_dir)
    search = (search or cfg.search).replace(**changes)
    return [d["text"] for d in decode(model, src_tok, tgt_tok, texts, search)]
