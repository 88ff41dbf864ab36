"""Training curves as a PNG: one panel per metric, train and val epochs overlaid.

Uses the object-oriented matplotlib API with the Agg canvas directly, so it never touches
pyplot's global figure state or switches the caller's backend, and works without a display.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .atomic import atomic_path

__all__ = ["plot_curves"]

_SKIP = {"epoch", "step", "split", "items_per_s", "tokens_per_s"}


def plot_curves(rows: list[dict[str, Any]], path: str | Path) -> Path | None:
    """Draw epoch-level ``train``/``val`` rows (from :class:`MetricsLog`) to ``path``; None if empty."""
    rows = [r for r in rows if r.get("split") in ("train", "val")]
    names: list[str] = []
    for r in rows:
        names += [k for k in r if k not in _SKIP and k not in names]
    if not names:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cols = min(3, len(names))
    nrows = (len(names) + cols - 1) // cols
    # Fixed margins rather than constrained layout: the layout solver costs more than the drawing.
    height = 3.2 * nrows  # inches
    fig = Figure(figsize=(4.5 * cols, height))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.5 / height, top=1 - 0.3 / height, wspace=0.3, hspace=0.5)
    FigureCanvasAgg(fig)
    for i, name in enumerate(names):
        ax = fig.add_subplot(nrows, cols, i + 1)
        for split, style in (("train", "-o"), ("val", "-s")):
            pts = [(r["epoch"], r[name]) for r in rows if r["split"] == split and name in r]
            if pts:
                ax.plot(*zip(*pts), style, markersize=3, label=split)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path
