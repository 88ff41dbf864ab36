"""Shared helpers for the benchmark scripts: machine header, interleaved timing, markdown tables.

Timings are taken side by side: every repeat runs each contender once, in an order that rotates
from repeat to repeat, and the median per contender is reported. Drift of the machine (other jobs,
frequency scaling) then hits all contenders alike and cancels in their ratio.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Callable, Sequence

import torch


def cpu_name() -> str:
    """The CPU model as the kernel reports it (``/proc/cpuinfo``), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def machine_header(threads: int) -> list[str]:
    """Lines describing what the numbers were measured on; print them above any table."""
    return [
        f"torch {torch.__version__} | CPU: {cpu_name()} ({os.cpu_count()} logical cores)",
        f"torch threads: {torch.get_num_threads()} (requested {threads}) | "
        f"interop threads: {torch.get_num_interop_threads()} | load average at start: {load_average()}",
    ]


def time_interleaved(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    warmup: int = 1,
    sync: Callable[[], None] | None = None,
    setup: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Median wall time in milliseconds of one call of each function, measured interleaved.

    ``warmup`` untimed calls of each first; then ``repeats`` rounds, each calling every function
    once in an order rotated by one per round. ``setup(name)`` runs untimed before each call
    (e.g. to clear gradients); ``sync`` runs before the clock starts and before it stops (a GPU
    synchronisation; nothing on CPU).
    """
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            if setup is not None:
                setup(name)
            fns[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            if setup is not None:
                setup(name)
            if sync is not None:
                sync()
            t0 = time.perf_counter()
            fns[name]()
            if sync is not None:
                sync()
            samples[name].append((time.perf_counter() - t0) * 1e3)
    return {name: statistics.median(v) for name, v in samples.items()}


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in cells[1:]:
        lines.append("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths)) + " |")
    return "\n".join(lines)
