"""One application per module (``rnnkit/tasks/<name>.py`` or a package of that name).

A task module has ``NAME``, a config dataclass, ``PRESETS`` (name -> list of overrides),
``default_config()``, ``train(cfg, run_dir, resume=False) -> result dict``,
``summary_lines(result)``, ``evaluate(run_dir) -> metrics`` and, for generators,
``generate(run_dir, prompt, decoding)``. ``rnnkit train NAME`` finds it by name.
"""

from __future__ import annotations

import importlib
import pkgutil


def task_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in ("runs",) and not m.name.startswith("_"))


def get_task(name: str):
    if name not in task_names():
        raise ValueError(f"unknown task {name!r}; available: {', '.join(task_names())}")
    module = importlib.import_module(f"{__name__}.{name}")
    if not hasattr(module, "train"):
        raise ValueError(f"{name!r} is not a trainable task; available: {', '.join(task_names())}")
    return module
