"""A training run's state in a checkpoint: what is saved, how it is put back, the run files.

The state itself is :meth:`Trainer.state_dict` (everything that makes epoch k+1 of a resumed run
equal epoch k+1 of an uninterrupted one); this module only maps it onto checkpoint files: the
weights in ``model.safetensors``, the state in ``trainer_state.pt``, the best epoch's weights in
``checkpoints/best``, and the run folder's ``config.json`` / ``command.txt`` / ``metrics.csv``.
"""

from __future__ import annotations

import shlex
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from . import distributed as D
from .atomic import atomic_write_json, atomic_write_text, resolve_dir
from .checkpoint import (
    STATE_FILE,
    WEIGHTS_FILE,
    CheckpointError,
    load_checkpoint,
    load_state,
    load_weights,
    nonfinite_tensors,
)

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = ["capture", "find_resume_source", "resolved_config", "restore", "write_run_files"]


def resolved_config(trainer: Trainer) -> dict[str, Any]:
    """config.json: the trainer's TrainConfig, the caller's config and the versions that ran."""
    import rnnkit

    return {
        "train": trainer.config.to_dict(),
        "caller": trainer.config_dict,
        "world_size": D.world_size(),
        "versions": {"rnnkit": rnnkit.__version__, "torch": torch.__version__},
    }


def write_run_files(trainer: Trainer, resumed: bool) -> None:
    """config.json and command.txt in the run folder (rank 0); a resume appends its command."""
    if trainer.run_dir is None or not D.is_main():
        return
    trainer.run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(trainer.run_dir / "config.json", resolved_config(trainer))
    command = shlex.join(sys.argv) + "\n"
    path = trainer.run_dir / "command.txt"
    if resumed and path.exists():
        command = path.read_text() + f"# resumed at epoch {trainer.epoch}:\n" + command
    atomic_write_text(path, command)


def capture(trainer: Trainer) -> dict[str, Any]:
    """The trainer_state.pt dict: :meth:`Trainer.state_dict` without the best weights, which
    ``checkpoints/best/model.safetensors`` holds. Collective under DDP (RNG states are gathered)."""
    state = trainer.state_dict()
    state.pop("best_weights", None)
    return state


def find_resume_source(run_dir: Path | None, resume: bool, resume_from: str | Path | None) -> Path | None:
    """The checkpoint directory to resume from, or None for a fresh start."""
    if resume_from is not None:
        path = resolve_dir(resume_from)
        if not (path / STATE_FILE).exists():
            raise FileNotFoundError(f"resume_from={resume_from}: not a checkpoint directory (no {STATE_FILE})")
        return path
    if not resume:
        return None
    if run_dir is None:
        raise ValueError("resume=True needs a run_dir to find checkpoints/latest")
    for name in ("latest", "best"):  # best when latest was removed as damaged
        path = resolve_dir(run_dir / "checkpoints" / name)
        if (path / STATE_FILE).exists():
            return path
    return None


def restore(trainer: Trainer, path: Path) -> None:
    """Put a checkpoint back into ``trainer``: the weights into its model, the rest through
    :meth:`Trainer.load_state_dict` (with the best weights read from ``checkpoints/best``)."""
    try:
        ckpt = load_checkpoint(path, trainer.model, map_location=trainer.device)
    except CheckpointError as err:
        raise CheckpointError(f"cannot resume: {err}{_other_checkpoint_hint(path)}") from None
    bad = nonfinite_tensors(ckpt.weights)
    if bad:  # written by an older rnnkit that did not check
        raise CheckpointError(f"cannot resume from {path}: its weights hold NaN or infinity ({bad[0]})"
                              f"{_other_checkpoint_hint(path)}")
    state = dict(ckpt.state)
    state["best_weights"] = _best_weights(path, state)
    if state["best_weights"] is None and (state.get("best") or {}).get("best") is not None:
        # The best weights on disk do not belong to this state (e.g. a crash between writing
        # latest and best): forget the old best so the next epoch establishes a new one.
        warnings.warn("resume: best checkpoint missing or out of step with latest; best is reset",
                      UserWarning, stacklevel=3)
        state["best"] = None
    try:
        trainer.load_state_dict(state)
    except ValueError as err:  # a state format or an optimizer that does not fit this trainer
        raise ValueError(f"{path}: {err}") from None
    trainer.log.restore(trainer.step)


def _other_checkpoint_hint(path: Path) -> str:
    """' ; checkpoints/best still loads: ...' when the sibling checkpoint is readable."""
    name = "best" if path.name.startswith("latest") else "latest"
    other = resolve_dir(path.parent / name)
    if not (other / WEIGHTS_FILE).exists():
        return ""
    try:
        load_weights(other / WEIGHTS_FILE)
    except CheckpointError:
        return ""
    return (f"; {other} still loads: remove {path} to resume from it (rnnkit evaluate uses best, "
            "then latest)")


def _best_weights(path: Path, state: dict[str, Any]) -> dict[str, torch.Tensor] | None:
    """The weights in ``checkpoints/best`` when they are those of the state's best epoch."""
    best = state.get("best") or {}
    best_dir = resolve_dir(path.parent / "best")
    if best.get("best") is None or not (best_dir / STATE_FILE).exists():
        return None
    try:
        best_state = load_state(best_dir / STATE_FILE)
        if int(best_state.get("epoch", -1)) == best["best_epoch"]:
            return load_weights(best_dir / WEIGHTS_FILE)
    except CheckpointError as err:  # a damaged best is rebuilt by the next improvement
        warnings.warn(f"resume: {err}; the best checkpoint will be rewritten", UserWarning, stacklevel=4)
    return None
