"""The sweep's table (markdown) and figure (metric against T, one line per cell)."""

from __future__ import annotations

from pathlib import Path

from rnnkit import config as C
from rnnkit.train import atomic_write_json, atomic_write_text
from rnnkit.train.atomic import atomic_path

METRIC_NAMES = {"mse": "test MSE (lower is better)", "ce": "test CE on recall steps, nats (lower is better)",
                "acc": "test accuracy (higher is better)"}


#: a result counts as clearly better than the trivial baseline past this relative margin
MARGIN = 0.10


def clearly_beats(row: dict) -> bool:
    """Better than the baseline by more than ``MARGIN`` of it (noise on 512 test items is ~1-2%)."""
    b = row["baseline"]
    return row["value"] > b * (1 + MARGIN) if row["higher_is_better"] else row["value"] < b * (1 - MARGIN)


def table_lines(rows: list[dict], cells: list[str]) -> list[str]:
    """One line per (task, T): the baseline, then each cell's metric and training wall time.

    A value better than the trivial baseline by more than 10% of it is in bold.
    """
    lines = ["| task | T | metric | trivial baseline | " + " | ".join(cells) + " |",
             "|---|---|---|---|" + "---|" * len(cells)]
    keys = list(dict.fromkeys((r["task"], r["T"]) for r in rows))
    by = {(r["task"], r["T"], r["cell"]): r for r in rows}
    for task, T in keys:
        first = next(r for r in rows if (r["task"], r["T"]) == (task, T))
        out = []
        for cell in cells:
            r = by.get((task, T, cell))
            if r is None:
                out.append("")
                continue
            v = f"{r['value']:.3f}"
            out.append(f"{'**' + v + '**' if clearly_beats(r) else v} ({r['seconds']:.0f} s)")
        lines.append(f"| {task} | {T} | {first['metric']} | {first['baseline']:.3f} | " + " | ".join(out) + " |")
    return lines


def summary(rows: list[dict]) -> list[str]:
    notes = [f"- {m}: {METRIC_NAMES[m]}" for m in dict.fromkeys(r["metric"] for r in rows)]
    notes += [f"- baseline of {t}: {n}" for t, n in dict.fromkeys((r["task"], r["baseline_note"]) for r in rows)]
    notes.append(f"- bold: better than the trivial baseline by more than {MARGIN:.0%} of it; "
                 "(s): wall time of training on this machine")
    return notes


def plot(rows: list[dict], cells: list[str], path: Path) -> Path:
    """One panel per task: the metric against T (log axis) per cell, the baseline dashed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    fig = Figure(figsize=(4.0 * len(tasks), 3.4))
    FigureCanvasAgg(fig)
    for i, task in enumerate(tasks):
        ax = fig.add_subplot(1, len(tasks), i + 1)
        sub = [r for r in rows if r["task"] == task]
        for cell in cells:
            pts = sorted((r["T"], r["value"]) for r in sub if r["cell"] == cell)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "-o", ms=4, label=cell)
        base = sorted({(r["T"], r["baseline"]) for r in sub})
        if len(base) == 1:  # one T (the digit tasks): a horizontal line, a one-point line would not show
            ax.axhline(base[0][1], color="k", ls="--", lw=1, label="trivial baseline")
        else:
            ax.plot([b[0] for b in base], [b[1] for b in base], "k--", lw=1, label="trivial baseline")
        ax.set_xscale("log")
        ax.set_title(task, fontsize=10)
        ax.set_xlabel("sequence length T", fontsize=8)
        ax.set_ylabel(METRIC_NAMES[sub[0]["metric"]], fontsize=7)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def write_report(cfg, rows: list[dict], run_dir: Path) -> dict:
    """``report.md``, ``report.json`` and ``longrange.png`` in ``run_dir``; returns the result."""
    cells = list(cfg.model.cells)
    lines = table_lines(rows, cells) + [""] + summary(rows)
    result = {"rows": rows, "cells": cells, "config": C.to_dict(cfg), "table": lines}
    atomic_write_text(run_dir / "report.md", "\n".join(lines) + "\n")
    atomic_write_json(run_dir / "report.json", result)
    plot(rows, cells, run_dir / "longrange.png")
    return result
