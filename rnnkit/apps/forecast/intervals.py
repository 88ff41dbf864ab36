"""Prediction intervals of a quantile forecaster, and their calibration (split conformal).

A forecaster that mixes in :class:`Intervals` provides ``cfg`` (its :class:`.config.ForecastConfig`),
``layout`` (``horizon``; ``lookback``: the points an origin needs before it), ``encoder``
(``future_scales``: the user's known-future covariates), ``calibration`` (one factor, or one per
horizon step) and ``quantiles(series, origins, levels) -> (N, H, len(levels))`` on the data's
scale. With a calibration factor ``k`` the interval ends move away from the median by ``k`` times
their distance: ``lo' = med - k (med - lo)``, ``hi' = med + k (hi - med)``. By default
(``backtest.interval_floor``) the factors are a floor per horizon step, ``k_h >= 1``, from the
training windows' coverage (:meth:`Intervals.training_floor`): an interval narrower than the errors
the network makes on its own training windows is widened until it covers them; no interval is
narrowed.

A series with no value below 0 before the origin (counts, sales, prices, rainfall) gets no
forecast below 0: the point and both interval ends are cut at 0, the data's own bound. A Gaussian
output knows no bound (on synthetic monthly counts with 23-63% of the months 0 every lower end was
below 0; cut, the intervals were 11-28% narrower with the same coverage). It reads only ``y[:o]``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np

from .backtest import val_size_for
from .data import Series, SeriesSet

__all__ = ["FLOOR_WINDOWS", "Intervals", "floor_words", "interval_levels", "never_negative"]

FLOOR_WINDOWS = 2000  # training windows read by :meth:`Intervals.training_floor` at most (seeded sample)


def interval_levels(level: float) -> list[float]:
    """The quantile levels of a central ``level`` interval and its median: ``[lo, 0.5, hi]``."""
    return [round((1 - level) / 2, 6), 0.5, round((1 + level) / 2, 6)]



def floor_words(factors, level: float, prefix: str = "") -> str:
    """The terminal's and the report's line on :meth:`Intervals.training_floor`'s factors."""
    k = np.atleast_1d(np.asarray(factors, dtype=np.float64))
    if not (k > 1.0).any():
        return (f"{prefix}intervals: the network's own; they cover at least {level:.0%} of its training windows "
                "at every step (backtest.interval_floor)")
    return (f"{prefix}intervals: widened at {int((k > 1.0).sum())} of {len(k)} horizon steps, by up to "
            f"{k.max():.2f}x, to cover {level:.0%} of the network's training windows (backtest.interval_floor=false "
            "keeps the network's own)")


def never_negative(s: Series, origin: int) -> bool:
    """Whether series ``s`` has values before ``origin`` and none of them is below 0."""
    seen = s.target[:origin]
    seen = seen[np.isfinite(seen)]
    return bool(len(seen)) and float(seen.min()) >= 0.0


class EarlierForecasts:
    """Forecasts from earlier origins, each made once: neighbouring origins share them. A forecast
    is keyed by the values it reads (series, origin r, y[:r]); its targets are read later from each
    view itself, so a hidden (NaN) value read by mistake still shows."""

    def __init__(self):
        self.index: dict[tuple, int] = {}
        self.views: list[Series] = []
        self.starts: list[int] = []

    def add(self, s: Series, r: int) -> int:
        """The row of the forecast of series ``s`` from origin ``r`` (made by one batch later)."""
        key = (s.name, r, hashlib.sha1(np.ascontiguousarray(s.target[:r]).tobytes()).digest())
        if key not in self.index:
            self.index[key] = len(self.views)
            self.views.append(s)
            self.starts.append(r)
        return self.index[key]


class Intervals:
    """Point forecast and interval from the median and the interval's quantiles, calibrated."""

    def interval_factors(self) -> np.ndarray:
        """The (fixed) calibration factor of each horizon step, ``(H,)``."""
        return np.broadcast_to(np.asarray(self.calibration, dtype=np.float64), (self.layout.horizon,)).copy()

    def quantiles_and_own(self, series: Sequence[Series], origins: Sequence[int],
                          levels: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """``quantiles``, and ``(N,)`` which forecasts carry an interval that is not the network's
        (none here; :class:`.blend.GuideBlend` marks the naive fallback's)."""
        return self.quantiles(series, origins, levels), np.zeros(len(origins), dtype=bool)

    def factors_at(self, series: Sequence[Series], origins: Sequence[int], level: float) -> np.ndarray:
        """``(N, H)``: the interval factors of each forecast. Fixed (:meth:`interval_factors`), or
        with ``backtest.calibrate_window`` W > 0 rolling: at origin o, the factor(s) that would have
        given nominal coverage to the series' own forecasts from the last W origins whose horizon
        was observed before o (o' = o - H - W + 1 .. o - H, every step), so the interval follows
        the recent size of the errors (split conformal on a rolling window, as EnbPI and
        adaptive conformal methods do for series whose volatility drifts). Reads only y[:o]."""
        W = self.cfg.backtest.calibrate_window
        if not (self.cfg.backtest.calibrate and W > 0):
            return np.tile(self.interval_factors(), (len(origins), 1))
        H, lay = self.layout.horizon, self.layout
        earlier, plans = EarlierForecasts(), []
        for s, o in zip(series, origins):
            recent = list(range(max(lay.lookback, o - H - W + 1), o - H + 1))
            if not recent:
                raise ValueError(f"series {s.name!r}: rolling interval calibration (backtest.calibrate_window={W}) at "
                                 f"position {o} needs an earlier origin whose {H} steps are observed, i.e. at least "
                                 f"{lay.lookback + H} points before it")
            plans.append((s, recent, [earlier.add(s, r) for r in recent]))
        q = self.quantiles(earlier.views, earlier.starts, interval_levels(level))
        out = []
        for s, recent, rows in plans:
            y = np.stack([s.target[r:r + H] for r in recent])
            out.append(np.broadcast_to(_conformal_factors(q[rows], y, level, self.cfg.backtest.calibrate_per_step),
                                       (H,)))
        return np.stack(out)

    def forecast(self, series: Sequence[Series], origins: Sequence[int], horizon: int, level: float):
        if horizon != self.layout.horizon:
            raise ValueError(f"the model forecasts {self.layout.horizon} steps, not {horizon}")
        q, own = self.quantiles_and_own(series, origins, interval_levels(level))
        lo, med, hi = q[..., 0], q[..., 1], q[..., 2]
        k = self.factors_at(series, origins, level)
        k[own] = 1.0  # another model's own interval (the naive fallback's): the network's factors are not its
        out = []
        for i, (s, o) in enumerate(zip(series, origins)):
            point, ends = med[i], (med[i] - k[i] * (med[i] - lo[i]), med[i] + k[i] * (hi[i] - med[i]))
            if never_negative(s, o):
                point, ends = np.maximum(point, 0.0), tuple(np.maximum(e, 0.0) for e in ends)
            out.append((point, *ends))
        return out

    def training_floor(self, history: SeriesSet, level: float, most: int = FLOOR_WINDOWS) -> list[float]:
        """Per horizon step h, the factor ``k_h = max(1, c_h)`` where ``c_h`` is the split-conformal
        factor that gives nominal coverage on the training windows (every origin of the history,
        with the steps of its horizon that the history observes, as the network trains on them; a
        seeded sample of ``most`` of them on a larger history; a step no window observes takes
        the factor of all steps pooled).

        Why a floor and not a calibration: the network was fit on these windows, so its errors
        there are the smallest it makes; an interval that misses them more often than nominal
        (``c_h > 1``) is too narrow everywhere, and widening it to ``c_h`` is the least it needs.
        Where the network covers them (``c_h <= 1``, the usual case) it is left as it is: a factor
        below 1 from in-sample errors would narrow it below what later errors need. The case it
        mends: on a random walk early stopping keeps an epoch from the first few (no later epoch
        forecasts the no-change path better on the validation span), whose spread has not learned
        to grow with the lead time; on seeded random walks the 80% interval covered 30-59% of the
        backtest's points, and its width was a third to a half of the naive forecast's."""
        lay, H = self.layout, self.layout.horizon
        # partial windows count, with the steps the history observes (the network trains on them
        # too): a short series has few or no whole ones; known-future covariates end with the history
        ends = {s.name: s.length - H + 1 if self.encoder.future_scales else s.length for s in history.series}
        pairs = [(s, o) for s in history.series for o in range(lay.lookback, ends[s.name])]
        if not pairs:
            return [1.0] * H
        if len(pairs) > most:
            pick = np.random.default_rng(0).choice(len(pairs), most, replace=False)
            pairs = [pairs[i] for i in np.sort(pick)]
        q = self.quantiles([s for s, _ in pairs], [o for _, o in pairs], interval_levels(level))
        y = np.full((len(pairs), H), np.nan)
        for i, (s, o) in enumerate(pairs):
            seen = s.target[o:o + H]
            y[i, :len(seen)] = seen
        k = _conformal_factors(q, y, level, per_step=True)
        return [float(v) if np.isfinite(v) and v > 1.0 else 1.0 for v in k]

    def calibrate(self, history: SeriesSet, level: float, per_step: bool = False):
        """The factor k that gives nominal coverage on the validation windows (split conformal);
        ``per_step``: a list of H factors, each from the residuals of its own horizon step.

        Every validation origin counts, with the steps of its horizon that the history observes
        (a validation span shorter than the horizon still gives residuals); a forecast whose
        horizon is not observed at all is skipped. None of these values is after the history."""
        lay = self.layout
        H = lay.horizon
        views, origins = [], []
        for s in history.series:
            if s.name in history.train_only:
                continue
            n = s.length
            start = max(n - val_size_for(n, H, self.cfg.backtest.val_size), lay.lookback)
            last = n - H + 1 if self.encoder.future_scales else n  # user covariates end with the history
            for o in range(min(start, last - 1), last):
                if o >= lay.lookback:
                    views.append(s)
                    origins.append(o)
        if not origins:
            raise ValueError("interval calibration (backtest.calibrate) found no validation window: raise "
                             "backtest.val_size or turn it off with backtest.calibrate=false")
        q = self.quantiles(views, origins, interval_levels(level))
        y = np.full((len(origins), H), np.nan)
        for i, (s, o) in enumerate(zip(views, origins)):
            seen = s.target[o:o + H]
            y[i, :len(seen)] = seen
        k = _conformal_factors(q, y, level, per_step)
        return [float(v) for v in k] if per_step else float(k)


def _conformal_factors(q: np.ndarray, y: np.ndarray, level: float, per_step: bool):
    """The split-conformal k for the interval ``med -/+ k (distance to lo/hi)`` from the points
    ``y`` (N, H; NaN = not observed, left out), given quantiles ``q`` (N, H, [lo, med, hi]): one k,
    or one per step (a step with no observed point takes the pooled k). See :func:`_conformal_quantile`."""
    lo, med, hi = q[..., 0], q[..., 1], q[..., 2]
    with np.errstate(invalid="ignore"):
        r = np.where(y >= med, (y - med) / np.maximum(hi - med, 1e-12), (med - y) / np.maximum(med - lo, 1e-12))
    r[np.isnan(y)] = np.nan
    pooled = _conformal_quantile(r, level)
    if per_step:
        return np.asarray([_conformal_quantile(r[:, h], level) if np.isfinite(r[:, h]).any() else pooled
                           for h in range(y.shape[1])])
    return pooled


def _conformal_quantile(r: np.ndarray, level: float) -> float:
    """Split conformal's quantile of the n observed ratios ``r``: the ceil((n + 1) level)-th
    smallest (the largest where that exceeds n), so that a new point lies inside with probability
    at least ``level`` where the points are exchangeable (Lei et al., "Distribution-free
    predictive inference for regression", 2018). The plain empirical quantile, used before
    session 18, is smaller by up to one of the n points, which matters where n is a short
    series' few validation points (six for 20 years)."""
    v = np.sort(r[np.isfinite(r)])
    if not len(v):
        return float("nan")
    k = min(math.ceil((len(v) + 1) * level - 1e-9), len(v))
    return float(v[k - 1])
