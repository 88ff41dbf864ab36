"""Small pieces both vision tasks use: seeded splits of the user's items, batching, devices."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

__all__ = ["split_indices", "batches", "model_device", "count_parameters"]


def split_indices(n: int, val_fraction: float, test_fraction: float, seed: int, what: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded random (train, val, test) partition of ``range(n)``; each part gets >= 1 item."""
    if n < 3:
        raise ValueError(f"need at least 3 {what} to split into train, validation and test, got {n}")
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction and test_fraction must be in (0, 1) with a sum below 1, "
                         f"got {val_fraction} and {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = min(n - 2, max(1, int(round(n * test_fraction))))
    n_val = min(n - 1 - n_test, max(1, int(round(n * val_fraction))))
    test, val, train = np.split(order, [n_test, n_test + n_val])
    return np.sort(train), np.sort(val), np.sort(test)


def batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
