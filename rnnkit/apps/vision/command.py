"""Printing the results of the video and caption apps' commands."""

from __future__ import annotations

__all__ = ["print_metrics"]


def print_metrics(metrics: dict) -> None:
    for k, v in metrics.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
