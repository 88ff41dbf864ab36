"""`TrainConfig`: every knob of the task-free training loop, with defaults.

The config is a plain dataclass so that it round-trips through JSON (it is written to the run
folder and into every checkpoint) and so that a task's own config can embed it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

SCHEDULES = ("constant", "cosine", "linear", "step")
OPTIMIZERS = ("adamw", "adam", "sgd")
AMP_MODES = ("off", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda")
MODES = ("min", "max")


@dataclass
class TrainConfig:
    """Settings of :class:`rnnkit.train.Trainer`.

    Optimisation
        epochs, lr: the number of epochs and the base learning rate.
        optimizer: "adamw" (default) | "adam" | "sgd", torch's own classes.
        weight_decay: for every optimizer it applies only to parameters with two or more
        dimensions (weight matrices, embedding tables, conv kernels); biases, norm gains and any
        other 0-D/1-D parameter are never decayed, because shrinking a bias or a LayerNorm gain
        towards zero is a change of the function, not a regulariser of capacity. AdamW decays
        decoupled from the gradient (``p -= lr * weight_decay * p``); Adam and SGD add
        ``weight_decay * p`` to the gradient (L2), as torch defines them.
        betas, eps: Adam and AdamW only.
        momentum, nesterov: SGD only (``nesterov=True`` needs ``momentum > 0``).
        grad_clip: max global L2 norm of the gradients (0 = off), applied to the accumulated
        (and, with fp16, unscaled) gradient just before each optimizer step.
    Gradient accumulation
        grad_accum_steps: k >= 1. The optimizer steps once every k batches, on the mean of their
        gradients (each batch's loss is divided by k); under torch.distributed the first k - 1
        batches of a group run under ``no_sync()``, so gradients are all-reduced once per step.
        Groups restart at every epoch and the last, shorter group of an epoch still steps, on the
        mean over its own batches. k batches of size B therefore train like one batch of k x B
        (exactly so for a loss that is a mean over the batch; batches of unequal size count
        equally, as the ranks of DDP do). ``Trainer.step`` still counts
        batches; the lr schedule and ``train_grad_norm`` count optimizer steps.
        With truncated BPTT (tbptt_steps > 0) accumulation is over whole batches, never over
        chunks: k = 1 keeps one optimizer step per chunk; with k > 1 every chunk still runs its
        own backward (memory stays bounded by tbptt_steps), its loss weighted by
        ``chunk_len / (T * k)``, and the optimizer steps once after the last chunk of the k-th
        batch, on the time-weighted mean gradient of the k batches.
    Learning-rate schedule (positions count optimizer steps: one per batch, or per group of
    grad_accum_steps batches; with TBPTT all chunks of a batch share its lr)
        schedule: "constant" | "cosine" | "linear" | "step".
        warmup_steps: linear warm-up, factor (s+1)/warmup_steps for s < warmup_steps.
        min_lr_ratio: floor of "cosine" and "linear" as a fraction of lr.
        step_size, step_gamma: "step" multiplies the lr by step_gamma every step_size positions.
        total_steps: length of the decay (0 = epochs x ceil(len(train loader) / grad_accum_steps)).
    Early stopping and best weights
        monitor, mode, min_delta: the epoch metric (e.g. "val_loss", "val_acc", "train_loss") that
        decides which epoch is best and the direction that is better.
        patience: epochs without improvement before stopping (0 = no early stopping).
        restore_best: at the end of fit, load the weights of the best epoch (when monitor exists).
    Divergence (a run that went wrong stops with a message instead of training on)
        divergence_factor: stop when the loss stays above ``start + factor * max(|start|, 1)``,
        ``start`` being the run's first loss, for ``divergence_steps`` updates in a row (0 = off).
        A NaN/inf loss or gradient always stops, before the update; with amp="fp16" on CUDA an
        inf/NaN gradient is first the GradScaler's business (it skips the step and lowers the
        scale), and only ``divergence_steps`` skipped steps in a row stop training.
    Truncated BPTT
        tbptt_steps: chunk length along dim 1 (time) of every batch tensor (0 = off).
    Execution
        amp: "off" | "bf16" | "fp16": autocast on CUDA only (on CPU a warning and float32).
        "fp16" adds a ``torch.amp.GradScaler``: the loss is scaled before backward, the
        gradients are unscaled before clipping, steps with inf/NaN gradients are skipped (the lr
        schedule still advances, so its position is a function of the batches seen), and the
        scaler's state is saved in checkpoints and restored on resume.
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
    optimizer: str = "adamw"
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    momentum: float = 0.0
    nesterov: bool = False
    grad_clip: float = 0.0
    grad_accum_steps: int = 1

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

    divergence_factor: float = 10.0
    divergence_steps: int = 20

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
        """Reject settings that cannot train, naming the key as the CLI spells it (``train.lr``)."""

        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise ValueError(f"train.{msg}")

        def finite(name: str, low: float, low_ok: bool, high: float = math.inf) -> None:
            v = getattr(self, name)
            ok = math.isfinite(v) and (v >= low if low_ok else v > low) and v <= high
            bound = f"{'>=' if low_ok else '>'} {low:g}" + (f" and <= {high:g}" if math.isfinite(high) else "")
            need(ok, f"{name} must be a finite number {bound}, got {v}")

        need(self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}")
        finite("lr", 0.0, False)
        need(self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        finite("weight_decay", 0.0, True)
        finite("eps", 0.0, False)
        need(len(self.betas) == 2 and all(math.isfinite(b) and 0.0 <= b < 1.0 for b in self.betas),
             f"betas must be two numbers in [0, 1), got {self.betas}")
        need(isinstance(self.momentum, (int, float)) and not isinstance(self.momentum, bool)
             and math.isfinite(self.momentum) and 0.0 <= self.momentum < 1.0,
             f"momentum must be a finite number in [0, 1), got {self.momentum!r}")
        need(isinstance(self.nesterov, bool), f"nesterov must be true or false, got {self.nesterov!r}")
        need(not (self.optimizer == "sgd" and self.nesterov and self.momentum == 0),
             "nesterov needs train.momentum > 0 (Nesterov momentum without momentum is plain SGD)")
        finite("grad_clip", 0.0, True)
        need(isinstance(self.grad_accum_steps, int) and not isinstance(self.grad_accum_steps, bool)
             and self.grad_accum_steps >= 1,
             f"grad_accum_steps must be an integer >= 1 (1 = off), got {self.grad_accum_steps!r}")
        need(self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        need(self.warmup_steps >= 0, f"warmup_steps must be >= 0, got {self.warmup_steps}")
        finite("min_lr_ratio", 0.0, True, 1.0)
        need(self.step_size >= 1, f"step_size must be >= 1, got {self.step_size}")
        finite("step_gamma", 0.0, False)
        need(self.total_steps >= 0, f"total_steps must be >= 0, got {self.total_steps}")
        need(self.mode in MODES, f"mode must be 'min' or 'max', got {self.mode!r}")
        finite("min_delta", 0.0, True)
        need(self.patience >= 0, f"patience must be >= 0 (0 = off), got {self.patience}")
        finite("divergence_factor", 0.0, True)
        need(self.divergence_steps >= 1, f"divergence_steps must be >= 1, got {self.divergence_steps}")
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
