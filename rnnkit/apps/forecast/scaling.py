"""Affine scaling of a series, fit on its training history and undone on every output.

    z = (y - c) / s          y = z * s + c          (float64; s > 0)

``standard``: c = mean, s = standard deviation. ``robust``: c = median, s = IQR / 1.349 (the IQR of a
normal distribution is 1.349 sigma, so s matches the standard scale on Gaussian data while one
outlier cannot move it). ``diff``: c = mean, s = mean |y_t - y_{t-1}|, the typical one-step change
(the MASE scale): for trending series, where the level's spread says little about the steps the
model must forecast (use it with ``model.local_level``). ``none``: c = 0, s = 1. A constant history
(s = 0) falls back to s = 1.

Optionally seasonal: with a profile ``p`` of period m (``season_length``), p_k = mean of the
history's values at phase k minus the overall mean, the map becomes

    z_t = (y_t - c - p_{t mod m}) / s          y_t = z_t s + c + p_{t mod m}

with t counted from the series' first point (``start`` names the position of an array's first
element); c and s are then fit on the deseasonalized history. The model sees the anomaly only.

``log`` (``model.log_target``): the map is applied to log y instead of y, and the inverse ends
with exp, ``y = exp(z s + c)``: growth becomes a level shift, so a series that grows
exponentially has steps of a stable size in z (positive series only). Still increasing. The
history it is fit on must be positive; a later value at or below 0 (a count that fell to 0
after the training span) is read as ``floor`` = half the history's smallest value, so the model
sees a value below anything it trained on instead of log 0 = -inf.

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
    """``transform(y, start) = (y - center - season) / scale``, ``inverse(z, start) = z * scale + center + season``.

    Axis 0 of ``y``/``z`` is time, its first element at position ``start`` of the series; the
    seasonal term is ``season[(start + i) mod m]`` (none when ``season`` is empty).
    """

    center: float = 0.0
    scale: float = 1.0
    season: tuple[float, ...] = ()
    log: bool = False
    floor: float = 0.0  # with log: the smallest value read (see the module docstring)

    def _offset(self, a: np.ndarray, start: int):
        if not self.season or a.ndim == 0:
            return self.center
        m = len(self.season)
        phase = np.asarray(self.season)[(start + np.arange(a.shape[0])) % m]
        return self.center + phase.reshape((-1,) + (1,) * (a.ndim - 1))

    def transform(self, y, start: int = 0):
        y = np.asarray(y, dtype=np.float64)
        if self.log:
            with np.errstate(invalid="ignore", divide="ignore"):  # NaN (hidden) stays NaN
                y = np.log(np.maximum(y, self.floor) if self.floor > 0 else y)
        return (y - self._offset(y, start)) / self.scale

    def inverse(self, z, start: int = 0):
        z = np.asarray(z, dtype=np.float64)
        y = z * self.scale + self._offset(z, start)
        return np.exp(y) if self.log else y

    def to_list(self) -> list:
        return [float(self.center), float(self.scale), [float(v) for v in self.season], bool(self.log),
                float(self.floor)]

    @classmethod
    def from_list(cls, v) -> Scale:
        return cls(float(v[0]), float(v[1]), tuple(float(x) for x in (v[2] if len(v) > 2 else ())),
                   bool(v[3]) if len(v) > 3 else False, float(v[4]) if len(v) > 4 else 0.0)


def fit_scale(values, method: str = "standard", season_length: int = 0, log: bool = False) -> Scale:
    """The scale of ``values`` (1-D, or 2-D pooled over rows) by ``method``; see the module docstring.

    ``season_length`` m > 1 (1-D values only) first removes the seasonal profile of period m.
    ``log``: fit on log(values) (every value must be > 0) and map through the log.
    """
    if method not in METHODS:
        raise ValueError(f"scaling must be one of {METHODS}, got {method!r}")
    y = np.asarray(values, dtype=np.float64).ravel()
    if y.size == 0:
        raise ValueError("cannot fit a scale on an empty history")
    if log:
        bad = np.flatnonzero(y <= 0)  # NaN compares False: a hidden value stays NaN (leak check)
        if len(bad):
            raise ValueError(f"model.log_target needs positive target values, got {float(y[bad[0]])!r} at position "
                             f"{int(bad[0])}")
        flat = fit_scale(np.log(y), method, season_length)
        return Scale(flat.center, flat.scale, flat.season, True, 0.5 * float(np.min(y)))
    if season_length > 1:
        if y.size < 2 * season_length:
            raise ValueError(f"a seasonal profile of period {season_length} needs at least two seasons of "
                             f"history, got {y.size} points")
        profile = tuple(float(np.mean(y[k::season_length]) - np.mean(y)) for k in range(season_length))
        flat = fit_scale(y - np.asarray(profile)[np.arange(y.size) % season_length], method)
        return Scale(flat.center, flat.scale, profile)
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
