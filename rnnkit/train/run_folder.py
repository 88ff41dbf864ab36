"""Run folders: which application made a run, its resolved config, its history, its weights.

A run folder holds ``run.json``, what the trainer writes (``config.json``, ``command.txt``,
``metrics.csv``, ``curves.png``, ``checkpoints/{best,latest}``) and the application's own files
(vocabulary, report). ``evaluate`` and ``predict`` reopen a run from this folder alone.

``run.json``::

    {"format": 2, "task": "textgen", "rnnkit": "0.1.0", "preset": "tiny" | null,
     "config": {...the application's resolved config...},
     "history": [{"time": "...", "command": "rnnkit train ...", "action": "train" | "resume",
                  "changed": {"train.epochs": [10, 30]}}, ...]}

Only the process that holds the folder's lock (:mod:`.run_lock`) writes here: :func:`write_run_info`
takes the lock for its own write when the caller does not hold it, so a second process fails with
``RunFolderBusy`` before it overwrites anything.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch

from . import distributed as D
from .atomic import atomic_write_json, resolve_dir
from .checkpoint import WEIGHTS_FILE, CheckpointError, load_weights
from .run_lock import LOCK_FILE, run_folder_lock

__all__ = [
    "RUN_FILE",
    "RUN_FORMAT",
    "best_weights_path",
    "default_run_dir",
    "discard_if_untrained",
    "holds_a_run",
    "load_model_weights",
    "read_run_info",
    "record_run_event",
    "untrained",
    "write_run_info",
]

RUN_FILE = "run.json"
RUN_FORMAT = 2  # 1: no "format", "preset" or "history" keys (read the same way)


def untrained(run_dir: str | Path) -> bool:
    """True when the folder holds nothing a run wrote but its ``run.json`` and lock (empty folders
    aside): no checkpoint, log or report to keep."""
    run_dir = Path(run_dir)
    return run_dir.is_dir() and all(p.is_dir() or p.name in (RUN_FILE, LOCK_FILE) for p in run_dir.rglob("*"))


def discard_if_untrained(run_dir: str | Path) -> bool:
    """Remove a run folder whose training stopped before writing anything (a refused input, a bad
    setting found while loading the data), so that no run.json is left claiming a run that never
    trained. Call it with the folder's lock held; returns whether the folder was removed."""
    if not (D.is_main() and untrained(run_dir)):
        return False
    shutil.rmtree(run_dir, ignore_errors=True)
    return True


def default_run_dir(task: str, root: str | Path = "runs") -> Path:
    """``runs/<task>-<YYYYmmdd-HHMMSS>``, made unique if two runs start in the same second."""
    base = Path(root) / f"{task}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def read_run_info(run_dir: str | Path) -> dict[str, Any]:
    """The run's ``run.json``; a clear error when the folder is not an rnnkit run."""
    path = Path(run_dir) / RUN_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{run_dir} is not an rnnkit run folder: {RUN_FILE} is missing "
            f"(make one with `rnnkit train APP --run-dir {run_dir}`)"
        )
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} is damaged (not JSON: {err})") from None
    if not isinstance(info, dict) or "task" not in info or "config" not in info:
        raise CheckpointError(f"{path} is not an rnnkit run file (no 'task' and 'config' keys)")
    if int(info.get("format", 1)) > RUN_FORMAT:
        raise CheckpointError(f"{path} was written by a newer rnnkit ({info.get('rnnkit')}, run format "
                              f"{info['format']}); upgrade rnnkit to read it")
    return info


def write_run_info(run_dir: str | Path, task: str, config: dict[str, Any], **extra: Any) -> None:
    """Write ``run.json`` with ``config``, keeping what is already recorded (history, preset, world size)."""
    import rnnkit

    if not D.is_main():  # under torchrun rank 0 alone writes the run folder
        return
    run_dir = Path(run_dir)
    with run_folder_lock(run_dir):  # nests when the caller holds it; refuses a busy folder
        old = _read_if_any(run_dir)
        info = {**old, "format": RUN_FORMAT, "task": task, "rnnkit": rnnkit.__version__}
        info.setdefault("preset", None)
        info.setdefault("history", [])
        info.update(extra)
        info["config"] = config
        atomic_write_json(run_dir / RUN_FILE, info)


def record_run_event(run_dir: str | Path, task: str, config: dict[str, Any], *, action: str,
                     changed: dict[str, list[Any]] | None = None, preset: str | None = None,
                     world_size: int = 1) -> None:
    """Append one entry (what ran, when, which keys changed) to ``run.json``'s history."""
    old = _read_if_any(Path(run_dir))
    history = list(old.get("history", [])) if action == "resume" else []
    history.append({
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": shlex.join(["rnnkit", *sys.argv[1:]]) if sys.argv else "",
        "action": action,
        "changed": changed or {},
        "world_size": world_size,
    })
    preset = preset if action == "train" else old.get("preset")
    write_run_info(run_dir, task, config, history=history, preset=preset, world_size=world_size)


def _read_if_any(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def holds_a_run(run_dir: str | Path) -> bool:
    """True when ``run_dir`` holds trained weights (a checkpoint, here or in a sub-run)."""
    root = Path(run_dir)
    return root.is_dir() and next(root.glob(f"**/checkpoints/*/{WEIGHTS_FILE}"), None) is not None


def best_weights_path(run_dir: str | Path) -> Path:
    """The best checkpoint's weights, else the latest one's."""
    root = Path(run_dir) / "checkpoints"
    for name in ("best", "latest"):
        path = resolve_dir(root / name) / WEIGHTS_FILE
        if path.is_file():
            return path
    raise FileNotFoundError(f"no checkpoint in {root} (expected best/ or latest/{WEIGHTS_FILE})")


def load_model_weights(model: torch.nn.Module, run_dir: str | Path) -> Path:
    """Load the best (else latest) checkpoint into ``model``; a damaged file is named, with the
    other checkpoint when that one still loads."""
    path = best_weights_path(run_dir)
    try:
        weights = load_weights(path)
        model.load_state_dict(weights)
    except (CheckpointError, RuntimeError) as err:
        hint = ""
        other = resolve_dir(Path(run_dir) / "checkpoints" / "latest") / WEIGHTS_FILE
        if path.parent.name.startswith("best") and other.is_file():
            try:
                model.load_state_dict(load_weights(other))
                hint = f"; {other} still loads: remove the folder {path.parent} to use it"
            except (CheckpointError, RuntimeError):
                pass
        msg = str(err) if isinstance(err, CheckpointError) else f"{path} does not fit the run's model ({err})"
        raise CheckpointError(msg.splitlines()[0] + hint) from None
    return path
