"""The overfitting study: a character LM on a small slice of real text, with and without each regulariser.

Data (from :mod:`rnnkit.apps.textgen.task`, same corpus and splits): the first ``train_chars``
characters of textgen's training split, and the first ``val_chars``/``test_chars`` of its
validation and test splits. A slice this small makes a recurrent LM of a few hundred units
overfit within a few epochs: training loss keeps falling while validation loss turns up.

Variants (same data, seed, initialisation where the parameters agree, optimiser and schedule):

=============== ==================================================================================
plain           embedding -> LSTM/GRU -> softmax, no regularisation (torch's fused op)
variational     :class:`~rnnkit.cells.VariationalDropout`, masks per sequence on x_t and h_{t-1}
zoneout         :class:`~rnnkit.cells.Zoneout` (LSTM: separate rates for h and c)
weightdrop      :class:`~rnnkit.cells.WeightDrop` on W_hh (DropConnect, one mask per forward)
embeddrop       :class:`~rnnkit.models.EmbeddingDropout`, whole characters dropped per forward
layernorm       :class:`~rnnkit.cells.LayerNormLSTMCell` / ``LayerNormGRUCell`` (a cell variant)
weightdecay     AdamW decoupled weight decay on the matrices only (1-D parameters never decay)
awd             weightdrop + variational (inputs only) + embeddrop + weightdecay (AWD-LSTM's mix)
=============== ==================================================================================

Every variant trains with early stopping on the validation loss (``train.patience``) and ends
with the weights of its best epoch restored (``train.restore_best``). The report shows, per
variant, the best epoch's validation loss from the epoch log next to the validation loss of the
restored model measured again after training: equal numbers show the restore happened. Test
bits per character (held out from both training and early stopping, measured the same way as the
validation loss) are the fair comparison.

Output in the run folder: ``report.md`` (the table), ``report.json``, ``overfit.png`` (training
vs validation loss per variant) and ``variants/<name>/`` (each variant's trainer run folder).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch

from rnnkit import config as C
from rnnkit.cells import (
    GRUCell,
    LayerNormGRUCell,
    LayerNormLSTMCell,
    LSTMCell,
    VariationalDropout,
    WeightDrop,
    Zoneout,
)
from rnnkit.data.text import make_lm_batches, split_corpus
from rnnkit.data.vocab import CharVocab
from rnnkit.models import EmbeddingDropout, ManyToMany
from rnnkit.train.run_folder import load_model_weights, read_run_info, write_run_info
from rnnkit.apps.textgen.task import lm_loss, load_corpus
from rnnkit.train import TrainConfig, Trainer, atomic_write_json, atomic_write_text
from rnnkit.train.atomic import atomic_path

NAME = "overfit"
LN2 = math.log(2.0)

#: variant -> the regularisers it switches on.
VARIANTS: dict[str, tuple[str, ...]] = {
    "plain": (),
    "variational": ("variational",),
    "zoneout": ("zoneout",),
    "weightdrop": ("weightdrop",),
    "embeddrop": ("embeddrop",),
    "layernorm": ("layernorm",),
    "weightdecay": ("weightdecay",),
    "awd": ("weightdrop", "variational_in", "embeddrop", "weightdecay"),
}


@dataclass
class OverfitDataConfig:
    """The slice of the corpus (``corpus``/``path`` as in textgen) and the TBPTT batching."""

    corpus: str = "pydoc"
    path: str | None = None
    train_chars: int = 20_000
    val_chars: int = 10_000
    test_chars: int = 10_000
    batch_size: int = 32
    seq_len: int = 32
    chunks_per_batch: int = 4


@dataclass
class OverfitModelConfig:
    cell: Literal["lstm", "gru"] = "lstm"
    embed_size: int = 32
    hidden_size: int = 256
    num_layers: int = 1


@dataclass
class RegularizerConfig:
    """Strengths used by the variants that switch a regulariser on.

    p_in, p_h: variational dropout on the inputs and on h_{t-1}. zoneout_h, zoneout_c: zoneout
    rates of h and (LSTM) c, the paper's character-level setting. weight_drop: DropConnect rate
    on W_hh. embed_drop: rate of dropping a character's embedding row. weight_decay: AdamW's.
    """

    p_in: float = 0.25
    p_h: float = 0.25
    zoneout_h: float = 0.05
    zoneout_c: float = 0.5
    weight_drop: float = 0.5
    embed_drop: float = 0.1
    weight_decay: float = 0.5


def _default_train() -> TrainConfig:
    return TrainConfig(epochs=30, lr=4e-3, weight_decay=0.0, grad_clip=1.0, schedule="constant",
                       monitor="val_loss", patience=3, restore_best=True, log_every=0, plot_every=0,
                       tensorboard=False, checkpoint_every=0)


@dataclass
class OverfitConfig:
    data: OverfitDataConfig = field(default_factory=OverfitDataConfig)
    model: OverfitModelConfig = field(default_factory=OverfitModelConfig)
    reg: RegularizerConfig = field(default_factory=RegularizerConfig)
    train: TrainConfig = field(default_factory=_default_train)
    variants: list[str] = field(default_factory=lambda: list(VARIANTS))


PRESETS: dict[str, list[str]] = {
    # A few minutes on 2 CPU cores: the study recorded in docs/regularization.md.
    "default": [],
    # Seconds: for tests and smoke runs.
    "tiny": ["data.train_chars=3000", "data.val_chars=1200", "data.test_chars=1200", "data.batch_size=8",
             "data.seq_len=16", "data.chunks_per_batch=2", "model.hidden_size=24", "model.embed_size=8",
             "train.epochs=3", "train.patience=1", "train.progress=false", "train.plots=false"],
}


def default_config() -> OverfitConfig:
    return OverfitConfig()


def check_config(cfg: OverfitConfig) -> None:
    unknown = [v for v in cfg.variants if v not in VARIANTS]
    if unknown or not cfg.variants:
        raise C.ConfigError(f"variants must be a non-empty list from {', '.join(VARIANTS)}; got {cfg.variants}")
    for name in ("p_in", "p_h", "zoneout_h", "zoneout_c", "weight_drop", "embed_drop"):
        value = getattr(cfg.reg, name)
        if not 0.0 <= value < 1.0:
            raise C.ConfigError(f"reg.{name} must be a probability in [0, 1), got {value}")
    if cfg.reg.weight_decay < 0:
        raise C.ConfigError(f"reg.weight_decay must be >= 0, got {cfg.reg.weight_decay}")
    if cfg.train.patience < 1:
        raise C.ConfigError("the study needs early stopping: train.patience must be >= 1")
    for name in ("train_chars", "val_chars", "test_chars"):
        if getattr(cfg.data, name) < 2 * cfg.data.seq_len:
            raise C.ConfigError(f"data.{name} must be at least 2 * data.seq_len = {2 * cfg.data.seq_len}")


# ---------------------------------------------------------------------------------- data
def load_slices(cfg: OverfitDataConfig) -> tuple[str, str, str]:
    """First ``train_chars``/``val_chars``/``test_chars`` of textgen's train/validation/test splits."""
    text = load_corpus(cfg)  # same corpus selection as textgen (built-in or a user's path)
    train, val, test = split_corpus(text, 0.05, 0.05)
    parts = (train[:cfg.train_chars], val[:cfg.val_chars], test[:cfg.test_chars])
    for name, want, got in zip(("train", "validation", "test"), (cfg.train_chars, cfg.val_chars, cfg.test_chars), parts):
        if len(got) < want:
            raise ValueError(f"the corpus's {name} split has {len(got):,} characters, fewer than the "
                             f"{want:,} asked for; lower data.{'val' if name == 'validation' else name}_chars")
    return parts


def held_out_batches(vocab: CharVocab, text: str, cfg: OverfitDataConfig) -> list:
    """Validation and test batches alike: up to B streams, windows of seq_len * chunks_per_batch.

    The trainer evaluates them as it trains (state carried through a window, reset between
    windows), so validation and test figures are measured the same way.
    """
    streams = max(1, min(cfg.batch_size, len(text) // (2 * cfg.seq_len)))
    return make_lm_batches(vocab.encode(text), streams, cfg.seq_len * cfg.chunks_per_batch)


# ---------------------------------------------------------------------------------- model
def build_model(variant: str, cfg: OverfitConfig, vocab_size: int) -> ManyToMany:
    """The char LM of ``variant``; cell-level regularisers wrap the cell, in a fixed order."""
    uses = VARIANTS[variant]
    m, r = cfg.model, cfg.reg
    if not {"layernorm", "variational", "variational_in", "zoneout", "weightdrop"} & set(uses):
        cell = m.cell  # plain cells: torch's fused op, same maths and init as the cell classes
    else:
        kind = {"lstm": (LSTMCell, LayerNormLSTMCell), "gru": (GRUCell, LayerNormGRUCell)}[m.cell]

        def cell(d: int):
            c = kind["layernorm" in uses](d, m.hidden_size)
            if "variational" in uses:
                c = VariationalDropout(c, r.p_in, r.p_h)
            if "variational_in" in uses:
                c = VariationalDropout(c, r.p_in, 0.0)
            if "zoneout" in uses:
                c = Zoneout(c, (r.zoneout_h, r.zoneout_c) if m.cell == "lstm" else r.zoneout_h)
            if "weightdrop" in uses:
                c = WeightDrop(c, r.weight_drop)
            return c
    model = ManyToMany(m.hidden_size, vocab_size=vocab_size, embed_size=m.embed_size, cell=cell,
                       num_layers=m.num_layers)
    if "embeddrop" in uses:
        model.inputs.embed = EmbeddingDropout.from_embedding(model.inputs.embed, r.embed_drop)
    return model


def describe(variant: str, cfg: OverfitConfig) -> str:
    r, parts = cfg.reg, []
    for use in VARIANTS[variant]:
        parts.append({
            "variational": f"variational p_in={r.p_in}, p_h={r.p_h}",
            "variational_in": f"variational p_in={r.p_in}",
            "zoneout": f"zoneout h={r.zoneout_h}" + (f", c={r.zoneout_c}" if cfg.model.cell == "lstm" else ""),
            "weightdrop": f"weight-drop {r.weight_drop}",
            "embeddrop": f"embedding dropout {r.embed_drop}",
            "layernorm": "LayerNorm cell",
            "weightdecay": f"weight decay {r.weight_decay}",
        }[use])
    return "; ".join(parts) or "none"


# ---------------------------------------------------------------------------------- run
def train(cfg: OverfitConfig, run_dir: Path, resume: bool = False, echo=print) -> dict:
    """Train every variant in ``cfg.variants``; write the table, the figure and report.json."""
    check_config(cfg)
    train_text, val_text, test_text = load_slices(cfg.data)
    vocab = CharVocab.from_text(train_text)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run_info(run_dir, NAME, C.to_dict(cfg))
    atomic_write_json(run_dir / "vocab.json", vocab.to_dict())
    echo(f"slices of {cfg.data.path or 'built-in ' + cfg.data.corpus}: train/val/test "
         f"{len(train_text):,}/{len(val_text):,}/{len(test_text):,} characters; vocabulary {len(vocab)}")

    window = cfg.data.seq_len * cfg.data.chunks_per_batch
    train_batches = make_lm_batches(vocab.encode(train_text), cfg.data.batch_size, window)
    val_batches, test_batches = (held_out_batches(vocab, t, cfg.data) for t in (val_text, test_text))

    rows = []
    for variant in cfg.variants:
        rows.append(_train_variant(variant, cfg, vocab, train_batches, val_batches, test_batches,
                                   run_dir / "variants" / variant, resume, echo))
    result = _summarise(cfg, rows, len(vocab))
    atomic_write_json(run_dir / "report.json", result)
    atomic_write_text(run_dir / "report.md", "\n".join(report_lines(result)) + "\n")
    if cfg.train.plots:
        plot_study(rows, run_dir / "overfit.png")
    return result


def _train_variant(variant, cfg, vocab, train_batches, val_batches, test_batches, vdir: Path, resume, echo) -> dict:
    done = vdir / "result.json"
    if resume and done.is_file():
        echo(f"[{variant}] already finished: {done}")
        return json.loads(done.read_text("utf-8"))
    torch.manual_seed(cfg.train.seed)  # same initial weights wherever the variants' parameters agree
    model = build_model(variant, cfg, len(vocab))
    wd = cfg.reg.weight_decay if "weightdecay" in VARIANTS[variant] else cfg.train.weight_decay
    tcfg = dataclasses.replace(cfg.train, tbptt_steps=cfg.data.seq_len, weight_decay=wd)
    trainer = Trainer(model, lm_loss, tcfg, run_dir=vdir, config_dict={"variant": variant, **C.to_dict(cfg)},
                      tokens_fn=lambda batch: batch[0].numel())
    start = time.perf_counter()
    history = trainer.fit(train_batches, val_batches, resume=resume)
    seconds = time.perf_counter() - start
    best = min(history, key=lambda r: r["val_loss"])  # what the trainer restored (monitor val_loss, min)
    restored = trainer.evaluate(val_batches)["loss"]  # measured again on the restored weights
    row = {
        "variant": variant,
        "regularisers": describe(variant, cfg),
        "parameters": sum(p.numel() for p in model.parameters()),
        "epochs_run": len(history),
        "best_epoch": int(best["epoch"]),
        "best_train_loss": best["train_loss"],
        "best_val_loss": best["val_loss"],
        "restored_val_loss": restored,
        "test_bpc": trainer.evaluate(test_batches)["loss"] / LN2,
        "seconds": seconds,
        "stop_reason": trainer.stop_reason or f"epoch limit {cfg.train.epochs}",
        "history": [{k: r[k] for k in ("epoch", "train_loss", "val_loss")} for r in history],
    }
    atomic_write_json(done, row)
    echo(f"[{variant}] best epoch {row['best_epoch']}/{row['epochs_run']}: val loss {row['best_val_loss']:.4f} "
         f"(restored {restored:.4f}), test {row['test_bpc']:.3f} bpc, {seconds:.0f} s")
    return row


def _summarise(cfg: OverfitConfig, rows: list[dict], vocab_size: int) -> dict:
    by_name = {r["variant"]: r for r in rows}
    plain = by_name.get("plain")
    for r in rows:
        r["restored_equals_best"] = abs(r["restored_val_loss"] - r["best_val_loss"]) <= 1e-6 * max(1.0, r["best_val_loss"])
        if plain is not None:
            r["val_vs_plain"] = r["best_val_loss"] - plain["best_val_loss"]
            r["test_bpc_vs_plain"] = r["test_bpc"] - plain["test_bpc"]
    best = min(rows, key=lambda r: r["best_val_loss"])
    return {
        "rows": rows,
        "vocab_size": vocab_size,
        "best_variant": best["variant"],
        "all_restored": all(r["restored_equals_best"] for r in rows),
        "regularised_beats_plain": (None if plain is None else
                                    [r["variant"] for r in rows if r["variant"] != "plain"
                                     and r["best_val_loss"] < plain["best_val_loss"]]),
    }


# ---------------------------------------------------------------------------------- report
def report_lines(result: dict) -> list[str]:
    """The study as a markdown table (losses in nats per character; test in bits per character)."""
    header = ("| variant | regularisers | epochs run | best epoch | train loss @best | val loss @best (log) "
              "| val loss, restored model | test bpc | test vs plain |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        vs = r.get("test_bpc_vs_plain")
        lines.append(
            f"| {r['variant']} | {r['regularisers']} | {r['epochs_run']} | {r['best_epoch']} | "
            f"{r['best_train_loss']:.4f} | {r['best_val_loss']:.4f} | {r['restored_val_loss']:.4f} | "
            f"{r['test_bpc']:.3f} | {'' if vs is None or r['variant'] == 'plain' else f'{vs:+.3f}'} |")
    restored = "yes" if result["all_restored"] else "NO"
    lines += ["", (f"Lowest validation loss: {result['best_variant']}. Restored model's validation loss equals "
                   f"the best epoch's for every variant: {restored}.")]
    if result["regularised_beats_plain"] is not None:
        beat = result["regularised_beats_plain"]
        lines.append(f"Variants with a lower validation loss than plain: {', '.join(beat) if beat else 'none'}.")
    return lines


def plot_study(rows: list[dict], path: Path) -> Path:
    """One panel per variant: training and validation loss per epoch, the restored epoch marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cols = min(4, len(rows))
    nrows = (len(rows) + cols - 1) // cols
    fig = Figure(figsize=(3.6 * cols, 2.9 * nrows))
    FigureCanvasAgg(fig)
    losses = [v for r in rows for h in r["history"] for v in (h["train_loss"], h["val_loss"])]
    lo, hi = min(losses), max(losses)
    best_val = min(r["best_val_loss"] for r in rows)
    for i, r in enumerate(rows):
        ax = fig.add_subplot(nrows, cols, i + 1)
        epochs = [h["epoch"] for h in r["history"]]
        ax.plot(epochs, [h["train_loss"] for h in r["history"]], "-o", ms=3, label="train")
        ax.plot(epochs, [h["val_loss"] for h in r["history"]], "-s", ms=3, label="validation")
        ax.axvline(r["best_epoch"], color="grey", ls=":", lw=1, label=f"restored (epoch {r['best_epoch']})")
        ax.axhline(best_val, color="green", ls="--", lw=0.8, alpha=0.6)
        ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        ax.set_title(f"{r['variant']}: val {r['best_val_loss']:.3f}", fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.set_ylabel("loss (nats/char)", fontsize=8)
            ax.legend(fontsize=7)
    fig.suptitle("training vs validation loss (dashed green: lowest validation loss of any variant)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def summary_lines(result: dict) -> list[str]:
    return report_lines(result)


# ---------------------------------------------------------------------------------- reopen
def load_variant(run_dir: str | Path, variant: str) -> tuple[OverfitConfig, CharVocab, ManyToMany]:
    info = read_run_info(run_dir)
    if info["task"] != NAME:
        raise ValueError(f"{run_dir} is a {info['task']!r} run, not {NAME!r}")
    cfg = C.from_dict(OverfitConfig, info["config"])
    if variant not in cfg.variants:
        raise ValueError(f"{run_dir} has no variant {variant!r}; it has {', '.join(cfg.variants)}")
    vocab = CharVocab.from_dict(json.loads((Path(run_dir) / "vocab.json").read_text("utf-8")))
    model = build_model(variant, cfg, len(vocab))
    load_model_weights(model, Path(run_dir) / "variants" / variant)
    return cfg, vocab, model.eval()


def evaluate(run_dir: str | Path, echo=print) -> dict:
    """Test bits per character of every variant's best checkpoint, measured again."""
    info = read_run_info(run_dir)
    cfg = C.from_dict(OverfitConfig, info["config"])
    _, _, test_text = load_slices(cfg.data)
    out = {}
    for variant in cfg.variants:
        _, vocab, model = load_variant(run_dir, variant)
        tcfg = dataclasses.replace(cfg.train, tbptt_steps=cfg.data.seq_len, progress=False, patience=0)
        loss = Trainer(model, lm_loss, tcfg).evaluate(held_out_batches(vocab, test_text, cfg.data))["loss"]
        out[f"{variant}_test_bpc"] = loss / LN2
    return out
