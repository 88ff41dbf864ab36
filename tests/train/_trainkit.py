"""Tiny models, data and objectives shared by the trainer tests (kept fast on one CPU thread)."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from rnnkit.train import TrainConfig


def quiet_config(**kw) -> TrainConfig:
    """A config that writes as little as possible: no bar, no TensorBoard, no plots."""
    base = {"progress": False, "tensorboard": False, "plots": False, "log_every": 0, "device": "cpu"}
    base.update(kw)
    return TrainConfig(**base)


def regression_data(n: int = 40, d: int = 4, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    w = torch.randn(d, 1, generator=g)
    return TensorDataset(x, x @ w + 0.1 * torch.randn(n, 1, generator=g))


def mlp(seed: int = 0, dropout: float = 0.0, d: int = 4) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Dropout(dropout), nn.Linear(16, 1))


def mse_loss(model: nn.Module, batch):
    x, y = batch
    pred = model(x)
    return nn.functional.mse_loss(pred, y), {"mae": (pred - y).abs().mean()}


def shuffled_loader(ds: TensorDataset, batch_size: int = 8, seed: int = 123) -> DataLoader:
    return DataLoader(ds, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))


def weights_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
