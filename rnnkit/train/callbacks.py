"""Callbacks: hooks into the training loop, and early stopping built on them.

A callback subclasses :class:`Callback` and overrides the hooks it needs; each hook receives the
trainer, whose public attributes (``model``, ``optimizer``, ``epoch``, ``step``, ``history``,
``stop_training``) it may read, and ``stop_training`` it may set. A callback that keeps state
across epochs returns it from ``state_dict`` (tensors and plain values) so that it is checkpointed
and restored on resume. Hooks run on every rank under torch.distributed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = ["Callback", "EarlyStopping", "MetricMonitor"]


class Callback:
    """No-op base class; epochs are numbered from 1, ``step`` counts batches since the start."""

    def on_fit_start(self, trainer: Trainer) -> None: ...
    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None: ...
    def on_train_batch_start(self, trainer: Trainer, batch: Any) -> None: ...
    def on_before_optimizer_step(self, trainer: Trainer) -> None:
        """After the backward pass(es), unscaling (fp16) and gradient clipping, before
        ``optimizer.step()``: once per optimizer step, i.e. every ``grad_accum_steps`` batches
        (with TBPTT and ``grad_accum_steps=1``, once per chunk)."""
    def on_train_batch_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        """``metrics``: the batch's loss and metrics, plus ``grad_norm`` (with clipping) when the
        batch ended with an optimizer step that was taken."""
    def on_epoch_end(self, trainer: Trainer, epoch: int, record: dict[str, float]) -> None:
        """After validation, before checkpoints are written (so state changed here is saved)."""
    def on_fit_end(self, trainer: Trainer) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class MetricMonitor:
    """Tracks the best value of one epoch metric and the epochs since it last improved."""

    def __init__(self, monitor: str, mode: str = "min", min_delta: float = 0.0) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, min_delta
        self.best: float | None = None
        self.best_epoch = 0
        self.bad_epochs = 0

    def is_better(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, record: dict[str, float], epoch: int) -> bool | None:
        """Feed one epoch record; True if it is the new best, None if the metric is absent."""
        if self.monitor not in record:
            return None
        value = float(record[self.monitor])
        if self.is_better(value):
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.bad_epochs = state["best"], state["best_epoch"], state["bad_epochs"]


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    Restoring the best weights is the trainer's job (``TrainConfig.restore_best``), because the
    trainer also keeps the best checkpoint; this callback only decides when to stop.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "min", patience: int = 5, min_delta: float = 0.0) -> None:
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        self.patience = patience
        self.tracker = MetricMonitor(monitor, mode, min_delta)

    def on_epoch_end(self, trainer: Trainer, epoch: int, record: dict[str, float]) -> None:
        if self.tracker.update(record, epoch) is None:
            raise KeyError(
                f"early stopping monitors {self.tracker.monitor!r} but the epoch record has only "
                f"{sorted(record)}; pass validation data or set TrainConfig.monitor"
            )
        if self.tracker.bad_epochs >= self.patience:
            trainer.stop_training = True
            trainer.stop_reason = (
                f"early stopping: {self.tracker.monitor} has not improved for {self.patience} epochs "
                f"(best {self.tracker.best:.6g} at epoch {self.tracker.best_epoch})"
            )

    def state_dict(self) -> dict[str, Any]:
        return self.tracker.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tracker.load_state_dict(state)
