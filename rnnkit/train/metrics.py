"""Weighted metric averages, across batches and across torch.distributed ranks."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch

from . import distributed as D

__all__ = ["WeightedMeans", "metric_floats"]


def metric_floats(loss: torch.Tensor, metrics: dict[str, Any] | None, extra: dict[str, float] | None = None) -> dict[str, float]:
    """``{"loss": ..., **metrics, **extra}`` as Python floats (a caller's own "loss" key is ignored)."""
    out = {"loss": float(loss.detach())}
    for k, v in (metrics or {}).items():
        if k != "loss":
            out[k] = float(v.detach()) if isinstance(v, torch.Tensor) else float(v)
    out.update(extra or {})
    return out


class WeightedMeans:
    """Running weighted sums of metrics (weight = batch size, or items x steps for TBPTT chunks)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = defaultdict(float)
        self.weight = 0.0

    def add(self, metrics: dict[str, float], weight: float) -> None:
        for k, v in metrics.items():
            self.sums[k] += v * weight
        self.weight += weight

    def local(self) -> dict[str, float]:
        """This process's averages."""
        return {k: v / self.weight for k, v in self.sums.items()} if self.weight else {}

    def reduce(self, device: torch.device) -> dict[str, float]:
        """Averages over all ranks (sums and weights all-reduced; collective under DDP)."""
        keys = sorted(self.sums)
        if D.is_distributed():
            all_keys = D.gather_objects(keys)
            if any(k != keys for k in all_keys):
                raise RuntimeError(f"ranks report different metric names: {all_keys}")
        totals = D.all_reduce_sum([self.sums[k] for k in keys] + [self.weight], device)
        weight = totals[-1]
        if not weight:
            return {}
        # "loss" first, so CSV columns and plots start with it.
        return dict(sorted(((k, t / weight) for k, t in zip(keys, totals)), key=lambda kv: kv[0] != "loss"))
