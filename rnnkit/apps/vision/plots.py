"""Report figures: a confusion matrix, a strip of clip frames with predictions, captioned images.

Drawn with matplotlib's object API on an Agg canvas (no pyplot state, no display) and written
atomically, like the trainer's curves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from rnnkit.train import atomic_path

__all__ = ["plot_confusion", "plot_clip_strip", "plot_captioned_images"]


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def _show(ax, image: torch.Tensor) -> None:
    """``image (C, H, W)`` uint8 -> grey or colour display without axes."""
    img = image.permute(1, 2, 0).numpy()
    if img.shape[2] == 1:
        ax.imshow(img[:, :, 0], cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(img[:, :, :3])
    ax.set_xticks([])
    ax.set_yticks([])


def plot_confusion(cm: np.ndarray, names: Sequence[str], path: Path, title: str) -> Path:
    """Counts with rows = true class, columns = predicted class."""
    n = len(names)
    size = max(4.0, 0.6 * n + 2)
    fig = _figure(size, size)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(n), labels=list(names), rotation=45, ha="right")
    ax.set_yticks(range(n), labels=list(names))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    top = cm.max() if cm.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > top / 2 else "black")
    fig.tight_layout()
    return _save(fig, path)


def plot_clip_strip(frames: torch.Tensor, lengths: torch.Tensor, titles: Sequence[str],
                    correct: Sequence[bool], path: Path, max_frames: int = 10) -> Path:
    """One row per clip: up to ``max_frames`` evenly spaced frames, titled with its prediction
    (green when right, red when wrong). ``frames (N, T, C, H, W)`` uint8."""
    N = frames.shape[0]
    cols = min(max_frames, int(lengths.max()))
    fig = _figure(1.1 * cols, 1.35 * N)
    for r in range(N):
        T = int(lengths[r])
        picks = np.linspace(0, T - 1, min(cols, T)).round().astype(int)
        for c, t in enumerate(picks):
            ax = fig.add_subplot(N, cols, r * cols + c + 1)
            _show(ax, frames[r, t])
            if c == 0:
                ax.set_title(titles[r], loc="left", fontsize=8, color="green" if correct[r] else "red")
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.95, hspace=0.6, wspace=0.05)
    return _save(fig, path)


def plot_captioned_images(images: torch.Tensor, titles: Sequence[str], correct: Sequence[bool],
                          path: Path, columns: int = 2) -> Path:
    """A grid of images ``(N, C, H, W)`` uint8, each titled with its caption(s)."""
    N = images.shape[0]
    rows = (N + columns - 1) // columns
    aspect = images.shape[3] / images.shape[2]
    fig = _figure(columns * min(6.0, 1.2 * aspect + 1.5), rows * 1.5)
    for i in range(N):
        ax = fig.add_subplot(rows, columns, i + 1)
        _show(ax, images[i])
        ax.set_title(titles[i], fontsize=7, color="green" if correct[i] else "red")
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.9, hspace=0.9, wspace=0.1)
    return _save(fig, path)
