"""Affine scaling of a series, fit on its training history and undone on every output.

    z = (y - c) / s          y = z * s + c          (float64; s > 0)

``standard``: c = mean, s = standard deviation. ``robust``: c = median, s = IQR / 1.349 (the IQR of a
normal distribution is 1.349 sigma, so s matches the standard scale on Gaussian data while one
outlier cannot move it). ``diff``: c = mean, s = mean |y_t - y_{t-1}|, the typical one-step change
(the MASE scale): for trending series, where the level's spread says little about the steps the
model must forecast (use it with ``model.local_level``). ``none``: c = 0, s = 1. A constant history
(s = 0) falls back to s = 1.

NaN is never skipped (np.mean, not np.nanmean): the backtest hides the future as NaN, so a scale
fit on data it should not see comes out NaN and the forecast with it, and the leak is caught.
Because s > 0 the map is increasing, so quantiles and interval ends map through it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["METHODS", "Scale", "fit_scale"]

METHODS = ("standard", "robust", "diff", "none")
_IQR_TO_SIGMA = 1.3489795003921634  # 2 * Phi^-1(0.75)


@dataclass(frozen=True)
class Scale:
    """An affine map: ``transform(y) = (y - center) / scale``, ``inverse(z) = z * scale + center``."""

    center: float = 0.0
    scale: float = 1.0

    def transform(self, y):
        return (np.asarray(y, dtype=np.float64) - self.center) / self.scale

    def inverse(self, z):
        return np.asarray(z, dtype=np.float64) * self.scale + self.center

    def to_list(self) -> list[float]:
        return [float(self.center), float(self.scale)]

    @classmethod
    def from_list(cls, v) -> Scale:
        return cls(float(v[0]), float(v[1]))


def fit_scale(values, method: str = "standard") -> Scale:
    """The scale of ``values`` (1-D, or 2-D pooled over rows) by ``method``; see the module docstring."""
    if method not in METHODS:
        raise ValueError(f"scaling must be one of {METHODS}, got {method!r}")
    y = np.asarray(values, dtype=np.float64).ravel()
    if y.size == 0:
        raise ValueError("cannot fit a scale on an empty history")
    if method == "none":
        return Scale(0.0, 1.0)
    if method == "standard":
        center, scale = float(np.mean(y)), float(np.std(y))
    elif method == "diff":
        center = float(np.mean(y))
        scale = float(np.mean(np.abs(np.diff(y)))) if y.size > 1 else 0.0
    else:
        q25, center, q75 = (float(v) for v in np.percentile(y, [25, 50, 75]))
        scale = (q75 - q25) / _IQR_TO_SIGMA
        if scale == 0.0:  # more than half the values equal: fall back to the standard deviation
            scale = float(np.std(y))
    if scale == 0.0:
        scale = 1.0
    return Scale(center, scale)
