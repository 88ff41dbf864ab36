"""One application per module. Each has NAME, a config dataclass, PRESETS, default_config(),
train(cfg, run_dir, resume), evaluate(run_dir) and, for generators, generate(run_dir, ...)."""

from __future__ import annotations

import importlib

TASKS = {"textgen": "rnnkit.tasks.textgen"}


def get_task(name: str):
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; available: {', '.join(sorted(TASKS))}")
    return importlib.import_module(TASKS[name])
