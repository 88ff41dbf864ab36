"""`TrainConfig`: every knob of the task-free training loop, with defaults.

The config is a plain dataclass so that it round-trips through JSON (it is written to the run
folder and into every checkpoint) and so that a task's own config can embed it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

SCHEDULES = ("constant", "cosine", "linear", "step")
AMP_MODES = ("off", "bf16")
DEVICES = ("auto", "cpu", "cuda")
MODES = ("min", "max")


@dataclass
class TrainConfig:
    """Settings of :class:`rnnkit.train.Trainer`.

    Optimisation
        epochs, lr, weight_decay, betas, eps: AdamW. Weight decay applies only to parameters with
        two or more dimensions (weight matrices, embedding tables, conv kernels); biases, norm
        gains and any other 0-D/1-D parameter are never decayed, because shrinking a bias or a
        LayerNorm gain towards zero is a change of the function, not a regulariser of capacity.
        grad_clip: max global L2 norm of the gradients (0 = off).
    Learning-rate schedule (positions count batches; with TBPTT all chunks of a batch share its lr)
        schedule: "constant" | "cosine" | "linear" | "step".
        warmup_steps: linear warm-up, factor (s+1)/warmup_steps for s < warmup_steps.
        min_lr_ratio: floor of "cosine" and "linear" as a fraction of lr.
        step_size, step_gamma: "step" multiplies the lr by step_gamma every step_size batches.
        total_steps: length of the decay (0 = epochs x len(train loader)).
    Early stopping and best weights
        monitor, mode, min_delta: the epoch metric (e.g. "val_loss", "val_acc", "train_loss") that
        decides which epoch is best and the direction that is better.
        patience: epochs without improvement before stopping (0 = no early stopping).
        restore_best: at the end of fit, load the weights of the best epoch (when monitor exists).
    Truncated BPTT
        tbptt_steps: chunk length along dim 1 (time) of every batch tensor (0 = off).
    Execution
        amp: "off" | "bf16" (autocast on CUDA only; on CPU a warning and float32).
        seed: seeds python, numpy and torch at the start of a fresh fit (rank r uses seed + r).
        device: "auto" (CUDA when available) | "cpu" | "cuda".
        batch_size: used only when fit/evaluate get a Dataset instead of an iterable of batches.
        ddp_find_unused_parameters: passed to DistributedDataParallel.
    Output (only when the trainer has a run_dir, and only on rank 0)
        log_every: a "train_step" row in metrics.csv every this many batches (0 = off).
        checkpoint_every: save checkpoints/latest every this many epochs (0 = only at the end).
        plots: draw curves.png (matplotlib) at the end of fit and every plot_every epochs.
        plot_every: redraw curves.png every this many epochs (0 = only at the end of fit).
        progress: show a tqdm bar with the loss and items/s (or tokens/s).
        tensorboard: also write TensorBoard events when tensorboard is installed.
    """

    epochs: int = 10
    lr: float = 1e-3
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    grad_clip: float = 0.0

    schedule: str = "constant"
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0
    step_size: int = 1000
    step_gamma: float = 0.1
    total_steps: int = 0

    monitor: str = "val_loss"
    mode: str = "min"
    min_delta: float = 0.0
    patience: int = 0
    restore_best: bool = True

    tbptt_steps: int = 0

    amp: str = "off"
    seed: int = 0
    device: str = "auto"
    batch_size: int = 32
    ddp_find_unused_parameters: bool = False

    log_every: int = 50
    checkpoint_every: int = 1
    plots: bool = True
    plot_every: int = 1
    progress: bool = True
    tensorboard: bool = True

    def __post_init__(self) -> None:
        # JSON turns tuples into lists; normalise so a reloaded config compares equal.
        self.betas = tuple(float(b) for b in self.betas)  # type: ignore[assignment]
        self._check()

    def _check(self) -> None:
        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise ValueError(f"TrainConfig: {msg}")

        need(self.epochs >= 0, f"epochs must be >= 0, got {self.epochs}")
        need(self.lr > 0, f"lr must be > 0, got {self.lr}")
        need(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}")
        need(len(self.betas) == 2, f"betas must have two values, got {self.betas}")
        need(self.grad_clip >= 0, f"grad_clip must be >= 0 (0 = off), got {self.grad_clip}")
        need(self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        need(self.warmup_steps >= 0, f"warmup_steps must be >= 0, got {self.warmup_steps}")
        need(0.0 <= self.min_lr_ratio <= 1.0, f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}")
        need(self.step_size >= 1, f"step_size must be >= 1, got {self.step_size}")
        need(self.total_steps >= 0, f"total_steps must be >= 0, got {self.total_steps}")
        need(self.mode in MODES, f"mode must be 'min' or 'max', got {self.mode!r}")
        need(self.patience >= 0, f"patience must be >= 0 (0 = off), got {self.patience}")
        need(self.tbptt_steps >= 0, f"tbptt_steps must be >= 0 (0 = off), got {self.tbptt_steps}")
        need(self.amp in AMP_MODES, f"amp must be one of {AMP_MODES}, got {self.amp!r}")
        need(self.device in DEVICES, f"device must be one of {DEVICES}, got {self.device!r}")
        need(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")
        for name in ("log_every", "checkpoint_every", "plot_every"):
            need(getattr(self, name) >= 0, f"{name} must be >= 0, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error so typos do not pass silently."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"TrainConfig: unknown field(s) {unknown}")
        return cls(**d)
