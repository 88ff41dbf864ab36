"""Run folders shared by every task: which task made a run, its resolved config, its weights.

A run folder holds ``run.json`` (task name, rnnkit version, the task's resolved config), what the
trainer writes (config.json, command.txt, metrics.csv, curves.png, checkpoints/), and the task's
own files (vocabulary, report). ``evaluate``/``generate`` reopen a run from this folder alone.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch

import rnnkit
from rnnkit.train import atomic_write_json, load_weights

RUN_FILE = "run.json"


def default_run_dir(task: str, root: str | Path = "runs") -> Path:
    """``runs/<task>-<YYYYmmdd-HHMMSS>``, made unique if two runs start in the same second."""
    base = Path(root) / f"{task}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def write_run_info(run_dir: Path, task: str, config: dict[str, Any]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / RUN_FILE, {"task": task, "rnnkit": rnnkit.__version__, "config": config})


def read_run_info(run_dir: str | Path) -> dict[str, Any]:
    """The run's ``run.json``; a clear error when the folder is not an rnnkit run."""
    path = Path(run_dir) / RUN_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{run_dir} is not an rnnkit run folder: {RUN_FILE} is missing "
            f"(make one with `rnnkit train TASK --run-dir {run_dir}`)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def best_weights_path(run_dir: str | Path) -> Path:
    """The best checkpoint's weights, else the latest one's."""
    root = Path(run_dir) / "checkpoints"
    for name in ("best", "latest"):
        path = root / name / "model.safetensors"
        if path.is_file():
            return path
    raise FileNotFoundError(f"no checkpoint in {root} (expected best/ or latest/model.safetensors)")


def load_model_weights(model: torch.nn.Module, run_dir: str | Path) -> Path:
    path = best_weights_path(run_dir)
    model.load_state_dict(load_weights(path))
    return path
