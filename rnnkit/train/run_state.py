"""A training run's state in a checkpoint: what is saved, how it is put back, the run files.

Kept apart from the loop so that the loop reads as training and this file as the exact-resume
contract: everything that makes epoch k+1 of a resumed run equal epoch k+1 of an uninterrupted
one is listed in :func:`capture`.
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
from .callbacks import MetricMonitor
from .checkpoint import (
    STATE_FILE,
    WEIGHTS_FILE,
    CheckpointError,
    load_checkpoint,
    load_state,
    load_weights,
    nonfinite_tensors,
)
from .rng import get_rng_state, set_rng_state

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = ["capture", "find_resume_source", "resolved_config", "restore", "write_run_files"]

FORMAT = 1


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
    """The trainer_state.pt dict. Collective under DDP (RNG states are gathered from all ranks)."""
    return {
        "format": FORMAT,
        "epoch": trainer.epoch,
        "step": trainer.step,
        "optimizer": trainer.optimizer.state_dict(),
        "scheduler": trainer.scheduler.state_dict() if trainer.scheduler is not None else None,
        "rng": D.gather_objects(get_rng_state()),  # one entry per rank
        "loader_rng": [g.get_state() for g in trainer._train_generators],
        "best": trainer.best.state_dict(),
        "callbacks": [{"name": type(cb).__name__, "state": cb.state_dict()} for cb in trainer.callbacks],
        "history": trainer.history,
        "start_loss": trainer.start_loss,
        "config": trainer.config.to_dict(),
    }


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
    """Put a checkpoint back into ``trainer`` (its scheduler and loader generators must exist)."""
    try:
        ckpt = load_checkpoint(path, trainer.model, map_location=trainer.device)
    except CheckpointError as err:
        raise CheckpointError(f"cannot resume: {err}{_other_checkpoint_hint(path)}") from None
    bad = nonfinite_tensors(ckpt.weights)
    if bad:  # written by an older rnnkit that did not check
        raise CheckpointError(f"cannot resume from {path}: its weights hold NaN or infinity ({bad[0]})"
                              f"{_other_checkpoint_hint(path)}")
    st = ckpt.state
    if st.get("format") != FORMAT:
        raise ValueError(f"{path}: trainer state format {st.get('format')!r}, expected {FORMAT}")
    trainer.optimizer.load_state_dict(st["optimizer"])
    if st.get("scheduler") is not None:
        trainer.scheduler.load_state_dict(st["scheduler"])
    trainer.epoch, trainer.step = int(st["epoch"]), int(st["step"])
    trainer.history = [dict(r) for r in st["history"]]
    trainer.start_loss = st.get("start_loss")
    trainer.best.load_state_dict(st["best"])
    _restore_callbacks(trainer, st.get("callbacks", []))
    _restore_rng(trainer, st)
    _restore_best_weights(trainer, path)
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


def _restore_callbacks(trainer: Trainer, saved: list[dict[str, Any]]) -> None:
    # Matched by class name in order, so adding or dropping a stateless callback (a logger, a
    # crash simulator) between runs does not lose the others' state.
    unused = list(saved)
    for cb in trainer.callbacks:
        match = next((c for c in unused if c["name"] == type(cb).__name__), None)
        if match is not None:
            unused.remove(match)
            cb.load_state_dict(match["state"])
    lost = [c["name"] for c in unused if c["state"]]
    if lost:
        warnings.warn(f"resume: no callback to take the saved state of {lost}", UserWarning, stacklevel=3)


def _restore_rng(trainer: Trainer, st: dict[str, Any]) -> None:
    rngs = st["rng"]
    if len(rngs) != D.world_size():
        warnings.warn(f"resume: checkpoint has RNG states of {len(rngs)} ranks, running {D.world_size()}",
                      UserWarning, stacklevel=3)
    set_rng_state(rngs[D.rank() % len(rngs)])
    generators = trainer._train_generators
    if len(st["loader_rng"]) == len(generators):
        for g, s in zip(generators, st["loader_rng"]):
            g.set_state(s.cpu())
    else:
        warnings.warn("resume: the training loader's generators differ from the checkpoint's; "
                      "the data order will not match the interrupted run", UserWarning, stacklevel=3)


def _restore_best_weights(trainer: Trainer, path: Path) -> None:
    trainer._best_weights = None
    best_dir = resolve_dir(path.parent / "best")
    if trainer.best.best is not None and (best_dir / STATE_FILE).exists():
        try:
            best_state = load_state(best_dir / STATE_FILE)
            if int(best_state.get("epoch", -1)) == trainer.best.best_epoch:
                trainer._best_weights = load_weights(best_dir / WEIGHTS_FILE)
        except CheckpointError as err:  # a damaged best is rebuilt by the next improvement
            warnings.warn(f"resume: {err}; the best checkpoint will be rewritten", UserWarning, stacklevel=3)
    if trainer.best.best is not None and trainer._best_weights is None:
        # The best weights on disk do not belong to this state (e.g. a crash between writing
        # latest and best): forget the old best so the next epoch establishes a new one.
        warnings.warn("resume: best checkpoint missing or out of step with latest; best is reset",
                      UserWarning, stacklevel=3)
        cfg = trainer.config
        trainer.best = MetricMonitor(cfg.monitor, cfg.mode, cfg.min_delta)
