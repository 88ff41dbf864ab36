"""Text generation: a character-level language model (many-to-many), trained with truncated BPTT.

Data: CPython's documentation text (``pydoc_data.topics``, in every Python) by default, or the
user's text file / folder of ``.txt`` files. The text is split contiguously into train, validation
and test; the vocabulary is the training split's characters (others map to an unknown token).

Model: embedding -> LSTM/GRU/RNN stack -> per-step softmax over characters (``ManyToMany``).
Training cuts the training text into B parallel streams; each batch is ``B x (seq_len * chunks)``
and the trainer runs it as ``chunks`` truncated-BPTT segments of ``seq_len`` steps, carrying the
hidden state across them and detaching it in between.

Metric: bits per character on the held-out test split, ``mean(-log2 p(c_t | c_<t))`` over all but
its first character, with the state carried through the whole split. Baselines computed in the
same run: lzma on the test split alone, and lzma's conditional figure (size of train+test minus
size of train, compressed), which sees the training text as context.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import torch
import torch.nn.functional as F

from rnnkit import config as C
from rnnkit.data.compression import lzma_bpc, lzma_conditional_bpc
from rnnkit.data.text import load_builtin_corpus, load_text, make_lm_batches, split_corpus
from rnnkit.data.vocab import CharVocab
from rnnkit.decoding import DecodingConfig
from rnnkit.models import ManyToMany
from rnnkit.train.run_folder import load_model_weights, read_run_info, write_run_info
from rnnkit.train import Trainer, TrainConfig, atomic_write_json, atomic_write_text
from rnnkit.train import distributed as D

NAME = "textgen"
DISTRIBUTED = True  # under torchrun each rank trains on its share of the B streams of every batch
LN2 = math.log(2.0)


@dataclass
class TextGenDataConfig:
    """corpus: built-in corpus name, used when ``path`` is empty; path: a text file or a folder."""

    corpus: str = "pydoc"
    path: Optional[str] = None
    val_fraction: float = 0.05
    test_fraction: float = 0.05
    batch_size: int = 32
    seq_len: int = 128
    chunks_per_batch: int = 8
    min_freq: int = 1


@dataclass
class TextGenModelConfig:
    cell: Literal["lstm", "gru", "rnn", "rnn_relu"] = "lstm"
    embed_size: int = 64
    hidden_size: int = 384
    num_layers: int = 1
    dropout: float = 0.0
    tie_weights: bool = False

    def __post_init__(self) -> None:
        # checked here, not only by the layer, so `model.dropout=1.5` is refused before the run
        # folder is written, naming the key (with one layer the layer would ignore it)
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) \
                or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"model.dropout must be in [0, 1), got {self.dropout!r}")


def _default_train() -> TrainConfig:
    return TrainConfig(epochs=10, lr=3e-3, weight_decay=0.0, grad_clip=1.0, schedule="cosine",
                       min_lr_ratio=0.1, monitor="val_loss", log_every=20)


@dataclass
class TextGenConfig:
    data: TextGenDataConfig = field(default_factory=TextGenDataConfig)
    model: TextGenModelConfig = field(default_factory=TextGenModelConfig)
    train: TrainConfig = field(default_factory=_default_train)
    sample: DecodingConfig = field(
        default_factory=lambda: DecodingConfig(strategy="sample", temperature=0.7, max_new_tokens=300, seed=0))
    prompt: str = "The "


# Named settings; `--preset NAME` applies these overrides before the user's own.
PRESETS: dict[str, list[str]] = {
    # The defaults: 2 min 15 s on 2 quiet CPU cores, measured (the README's first command).
    "demo": [],
    # Seconds: for tests and smoke runs.
    "tiny": ["model.hidden_size=32", "model.embed_size=16", "train.epochs=1", "data.seq_len=16",
             "data.chunks_per_batch=2", "data.batch_size=8", "sample.max_new_tokens=40"],
    # A longer CPU run (about 10-20 minutes on 2 cores): two LSTM layers with dropout between
    # them (dropout acts between layers only, as in torch), twice the epochs.
    "medium": ["model.num_layers=2", "model.dropout=0.25", "train.epochs=20"],
    # The longer run (a GPU, or an hour of CPU): aims below lzma's conditional figure.
    "large": ["model.hidden_size=768", "model.num_layers=2", "model.embed_size=128", "model.dropout=0.2",
              "train.epochs=40", "train.lr=2e-3", "data.batch_size=64"],
}


def default_config() -> TextGenConfig:
    return TextGenConfig()


# ---------------------------------------------------------------------------------- data
def load_corpus(cfg: TextGenDataConfig) -> str:
    return load_text(cfg.path) if cfg.path else load_builtin_corpus(cfg.corpus)


def build_model(cfg: TextGenModelConfig, vocab_size: int) -> ManyToMany:
    return ManyToMany(cfg.hidden_size, vocab_size=vocab_size, embed_size=cfg.embed_size, cell=cfg.cell,
                      num_layers=cfg.num_layers, dropout=cfg.dropout, tie_weights=cfg.tie_weights)


def lm_loss(model, chunk, state):
    """TBPTT objective: chunk ``(x, y)`` ids ``(B, T)``; mean cross-entropy in nats per char."""
    x, y = chunk
    logits, state = model(x, state=state, return_state=True)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    return loss, {"bpc": loss.detach() / LN2}, state


@torch.no_grad()
def stream_bpc(model: ManyToMany, ids: torch.Tensor, chunk: int = 2048) -> float:
    """Bits per character over one id stream, predicting ids[1:] from the past, state carried."""
    model.eval()
    device = next(model.parameters()).device
    ids = ids.to(device)
    total, count, state = 0.0, 0, None
    for start in range(0, ids.numel() - 1, chunk):
        x = ids[start:start + chunk].unsqueeze(0)
        y = ids[start + 1:start + chunk + 1].unsqueeze(0)
        x = x[:, :y.shape[1]]
        logits, state = model(x, state=state, return_state=True)
        total += float(F.cross_entropy(logits[0].float(), y[0], reduction="sum"))
        count += y.numel()
    return total / count / LN2


# ---------------------------------------------------------------------------------- run
def train(cfg: TextGenConfig, run_dir: Path, resume: bool = False, echo=print) -> dict:
    """Train on the configured corpus, evaluate on its test split, write a report in ``run_dir``."""
    text = load_corpus(cfg.data)
    train_text, val_text, test_text = split_corpus(text, cfg.data.val_fraction, cfg.data.test_fraction)
    if not val_text or not test_text:
        raise ValueError(f"the corpus ({len(text)} characters) is too short for validation and test splits")
    vocab = CharVocab.from_text(train_text, min_freq=cfg.data.min_freq)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run_info(run_dir, NAME, C.to_dict(cfg))
    if D.is_main():
        atomic_write_json(run_dir / "vocab.json", vocab.to_dict())
    echo(f"corpus: {len(text):,} characters ({cfg.data.path or 'built-in ' + cfg.data.corpus}); "
         f"train/val/test {len(train_text):,}/{len(val_text):,}/{len(test_text):,}; vocabulary {len(vocab)}")

    window = cfg.data.seq_len * cfg.data.chunks_per_batch
    train_batches = make_lm_batches(vocab.encode(train_text), cfg.data.batch_size, window)
    if D.world_size() > 1:  # data parallel: rank r takes streams r, r+W, ...; together the same global batch
        if cfg.data.batch_size % D.world_size():
            raise ValueError(f"data.batch_size={cfg.data.batch_size} must be a multiple of the {D.world_size()} "
                             "processes, so every process gets the same number of streams")
        train_batches = [tuple(t[D.rank()::D.world_size()] for t in b) for b in train_batches]
    val_streams = max(1, min(cfg.data.batch_size, len(val_text) // (2 * cfg.data.seq_len)))
    val_batches = make_lm_batches(vocab.encode(val_text), val_streams, window)

    torch.manual_seed(cfg.train.seed)  # initial weights follow the seed too, not only training
    model = build_model(cfg.model, len(vocab))
    tcfg = dataclasses.replace(cfg.train, tbptt_steps=cfg.data.seq_len)
    trainer = Trainer(model, lm_loss, tcfg, run_dir=run_dir, config_dict=C.to_dict(cfg),
                      tokens_fn=lambda batch: batch[0].numel())
    with warnings.catch_warnings():  # the streams are sharded above, which the trainer cannot see
        warnings.filterwarnings("ignore", message="torch.distributed is initialised but the training loader")
        trainer.fit(train_batches, val_batches, resume=resume)

    test_ids = vocab.encode(test_text)
    result = {
        "test_bpc": stream_bpc(trainer.model, test_ids),
        "lzma_bpc": lzma_bpc(test_text),
        "lzma_conditional_bpc": lzma_conditional_bpc(train_text, test_text),
        "epochs": trainer.epoch,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    result["ratio_to_lzma"] = result["test_bpc"] / result["lzma_bpc"]
    result["sample"] = sample_text(trainer.model, vocab, cfg.prompt, cfg.sample)
    result["world_size"] = D.world_size()
    if D.is_main():
        write_report(run_dir, result)
    return result


def sample_text(model: ManyToMany, vocab: CharVocab, prompt: str, decoding: DecodingConfig) -> str:
    """``prompt`` followed by ``decoding.max_new_tokens`` generated characters."""
    if not prompt:
        raise ValueError("the prompt must hold at least one character")
    model.eval()
    device = next(model.parameters()).device
    ids = vocab.encode(prompt).unsqueeze(0).to(device)
    new = model.generate(ids, decoding.max_new_tokens, decoding=decoding)
    return prompt + vocab.decode(new[0].cpu())


def write_report(run_dir: Path, result: dict) -> None:
    atomic_write_json(run_dir / "report.json", result)
    lines = [
        "# Text generation report", "",
        "| model | held-out bits per character |", "|---|---|",
        f"| rnnkit char LM ({result['parameters']:,} parameters, {result['epochs']} epochs) | {result['test_bpc']:.3f} |",
        f"| lzma, test split alone | {result['lzma_bpc']:.3f} |",
        f"| lzma, test given train (conditional) | {result['lzma_conditional_bpc']:.3f} |", "",
        f"Ratio to lzma alone: {result['ratio_to_lzma']:.3f}", "", "## Sample", "", "```",
        result["sample"], "```", "",
    ]
    atomic_write_text(run_dir / "report.md", "\n".join(lines))


def load_run(run_dir: str | Path) -> tuple[TextGenConfig, CharVocab, ManyToMany]:
    info = read_run_info(run_dir)
    if info["task"] != NAME:
        raise ValueError(f"{run_dir} is a {info['task']!r} run, not {NAME!r}")
    cfg = C.from_dict(TextGenConfig, info["config"])
    vocab = CharVocab.from_dict(json.loads((Path(run_dir) / "vocab.json").read_text("utf-8")))
    model = build_model(cfg.model, len(vocab))
    load_model_weights(model, run_dir)
    return cfg, vocab, model.eval()


def evaluate(run_dir: str | Path, echo=print) -> dict:
    """Held-out bits per character of a saved run, with the lzma baselines."""
    cfg, vocab, model = load_run(run_dir)
    _, _, test_text = split_corpus(load_corpus(cfg.data), cfg.data.val_fraction, cfg.data.test_fraction)
    return {"test_bpc": stream_bpc(model, vocab.encode(test_text)), "lzma_bpc": lzma_bpc(test_text)}


def generate(run_dir: str | Path, prompt: str, decoding: DecodingConfig) -> str:
    _, vocab, model = load_run(run_dir)
    return sample_text(model, vocab, prompt, decoding)


def summary_lines(result: dict) -> list[str]:
    return [
        f"held-out bits per character: {result['test_bpc']:.3f}",
        f"lzma alone: {result['lzma_bpc']:.3f}   (ratio {result['ratio_to_lzma']:.3f}; goal <= 0.85)",
        f"lzma conditional on train: {result['lzma_conditional_bpc']:.3f}",
        "sample:", result["sample"],
    ]
