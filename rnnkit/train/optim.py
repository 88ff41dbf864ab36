"""The optimizers (AdamW, Adam, SGD; decay only on weight matrices) and the learning-rate schedules."""

from __future__ import annotations

import math

import torch

from .config import OPTIMIZERS, TrainConfig

__all__ = ["LRFactor", "build_optimizer", "build_scheduler", "param_groups"]


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Two optimizer groups: parameters with >= 2 dims decay, the rest (biases, norm gains) do not.

    Shape is the rule rather than module type or name, so custom cells and norms are handled
    without a registry: a 1-D parameter is a bias, a gain or a per-feature scale, and pulling it
    towards zero changes the function rather than limiting the capacity of a weight matrix.
    Parameters that do not require grad are left out; a tied parameter appears once.
    """
    decay, no_decay = [], []
    for p in model.parameters():  # .parameters() already de-duplicates tied parameters
        if p.requires_grad:
            (decay if p.dim() >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


def build_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """``config.optimizer`` ("adamw" | "adam" | "sgd", torch's classes) over :func:`param_groups`.

    The weight-decay rule is the same for all three (no decay on 0-D/1-D parameters); what
    "decay" means is the optimizer's own: decoupled for AdamW, an L2 term in the gradient for
    Adam and SGD.
    """
    groups = param_groups(model, config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas, eps=config.eps)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr, betas=config.betas, eps=config.eps)
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov)
    raise ValueError(f"train.optimizer must be one of {OPTIMIZERS}, got {config.optimizer!r}")


class LRFactor:
    """Multiplier of the base lr at schedule position ``s`` (0-based count of optimizer steps done:
    batches, or groups of ``grad_accum_steps`` batches).

    A class, not a closure, so that ``LambdaLR.state_dict()`` stores its fields in checkpoints.

    - warm-up: ``(s + 1) / warmup_steps`` while ``s < warmup_steps``;
    - then, with ``p = (s - warmup) / (total - warmup)`` clamped to [0, 1] and ``m = min_lr_ratio``:
      constant ``1``; linear ``m + (1 - m)(1 - p)``; cosine ``m + (1 - m)(1 + cos(pi p)) / 2``;
      step ``gamma ** ((s - warmup) // step_size)``.
    """

    def __init__(self, kind: str, total_steps: int, warmup_steps: int = 0, min_lr_ratio: float = 0.0,
                 step_size: int = 1000, step_gamma: float = 0.1) -> None:
        self.kind = kind
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.min_lr_ratio = min_lr_ratio
        self.step_size = step_size
        self.step_gamma = step_gamma

    def __call__(self, s: int) -> float:
        if s < self.warmup_steps:
            return (s + 1) / self.warmup_steps
        after = s - self.warmup_steps
        if self.kind == "constant":
            return 1.0
        if self.kind == "step":
            return self.step_gamma ** (after // self.step_size)
        p = min(1.0, after / max(1, self.total_steps - self.warmup_steps))
        m = self.min_lr_ratio
        if self.kind == "linear":
            return m + (1.0 - m) * (1.0 - p)
        if self.kind == "cosine":
            return m + (1.0 - m) * 0.5 * (1.0 + math.cos(math.pi * p))
        raise ValueError(f"unknown schedule {self.kind!r}")


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` stepped once per optimizer step (per batch when ``grad_accum_steps`` is 1)."""
    factor = LRFactor(config.schedule, total_steps, config.warmup_steps, config.min_lr_ratio,
                      config.step_size, config.step_gamma)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
