"""Baselines on the same origins and horizon as the RNN: naive, seasonal naive, ETS, ARIMA.

Every baseline learns from each series' history before the first origin only, as the RNN does,
and then forecasts each origin from the observed values up to it. Intervals are central
``level`` intervals under Gaussian errors:

* naive: ``y_{o+h} = y_{o-1}``, sd ``sigma_1 sqrt(h + 1)``, sigma_1 = RMS of the history's one-step changes;
* seasonal naive: the value of the last observed season at the same phase, ``y_{o+h-m(k+1)}`` for
  h = 0..H-1, k = floor(h/m); sd ``sigma_m sqrt(k + 1)``, sigma_m = RMS of the history's m-step
  changes;
* ETS: statsmodels' state-space exponential smoothing (additive errors); trend none / additive /
  damped additive, season none / additive m (when 1 < m <= max_season); the lowest AIC wins;
* ARIMA: statsmodels SARIMAX. d by repeated KPSS tests (5%), seasonal D = 1 when the STL seasonal
  strength exceeds 0.64 (the rule of Hyndman's ``nsdiffs``); a constant when d + D = 0 and a drift
  when d + D = 1; then the stepwise AIC search of Hyndman and Khandakar (auto.arima) over
  p <= max_p, q <= max_q and seasonal P, Q <= 1.

ETS and ARIMA keep the parameters estimated on the history and at each origin run the Kalman
filter over the series up to the origin (``results.apply``), then forecast with their own
intervals (``get_forecast().conf_int``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import warnings
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

from .data import Series, SeriesSet

__all__ = ["ARIMA", "ETS", "Naive", "SeasonalNaive", "make_baselines"]


def _one_blas_thread():
    """Small Kalman-filter products run several times faster on one BLAS thread than on a busy
    machine's many (spinning threads wait for each other); threadpoolctl comes with scikit-learn."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _z(level: float) -> float:
    return NormalDist().inv_cdf((1 + level) / 2)


def _observed(s: Series, origin: int) -> np.ndarray:
    return s.target[:origin]


class _PerSeries:
    """Fits one model per series on its history; ``forecast`` loops over (series, origin)."""

    name = "baseline"

    def __init__(self, season_length: int):
        self.m = int(season_length)
        self.fitted: dict[str, object] = {}

    def fit(self, history: SeriesSet) -> _PerSeries:
        for s in history.series:
            self.fitted[s.name] = self._fit(s.target)
        return self

    def forecast(self, series: Sequence[Series], origins: Sequence[int], horizon: int, level: float):
        return [self._forecast(self.fitted[s.name], _observed(s, o), horizon, level) for s, o in zip(series, origins)]

    def describe(self) -> dict[str, str]:
        return {}


class Naive(_PerSeries):
    name = "naive"

    def _fit(self, y):
        return float(np.sqrt(np.mean(np.diff(y) ** 2)))

    def _forecast(self, sigma, y, H, level):
        point = np.full(H, y[-1])
        sd = sigma * np.sqrt(np.arange(1, H + 1))
        return point, point - _z(level) * sd, point + _z(level) * sd


class SeasonalNaive(_PerSeries):
    name = "seasonal_naive"

    def _fit(self, y):
        return float(np.sqrt(np.mean((y[self.m:] - y[:-self.m]) ** 2)))

    def _forecast(self, sigma, y, H, level):
        m = self.m
        h = np.arange(H)
        point = y[len(y) - m + (h % m)]
        sd = sigma * np.sqrt(h // m + 1)
        return point, point - _z(level) * sd, point + _z(level) * sd


class _StateSpace(_PerSeries):
    def __init__(self, season_length: int, max_season: int = 24):
        super().__init__(season_length)
        self.seasonal = 1 < self.m <= max_season

    def _fit_one(self, y, spec):
        """The fitted candidate, or None when statsmodels cannot fit it."""
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")  # convergence chatter of a candidate is not news
            try:
                res = self._model(y, spec).fit(disp=False, cov_type="none")  # no standard errors needed
            except (np.linalg.LinAlgError, ValueError):
                return None
        return res if np.isfinite(res.aic) else None

    def _fit(self, y):
        fits = {spec: self._fit_one(y, spec) for spec in self._candidates(y)}
        return self._best(fits)

    def _best(self, fits: dict):
        ok = {k: r for k, r in fits.items() if r is not None}
        if not ok:
            raise RuntimeError(f"{self.name}: no candidate model could be fit (tried {list(fits)})")
        spec = min(ok, key=lambda k: ok[k].aic)
        return spec, ok[spec]

    def _forecast(self, fitted, y, H, level):
        _, res = fitted
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")
            fc = res.apply(y).get_forecast(H)
            ci = np.asarray(fc.conf_int(alpha=1 - level))
        return np.asarray(fc.predicted_mean), ci[:, 0], ci[:, 1]

    def describe(self) -> dict[str, str]:
        return {name: self._label(spec) for name, (spec, _) in self.fitted.items()}


class ETS(_StateSpace):
    name = "ets"

    def _candidates(self, y):
        seasons = [None, self.m] if self.seasonal and len(y) >= 3 * self.m else [None]
        yield from itertools.product(["none", "add", "damped"], seasons)

    def _model(self, y, spec):
        from statsmodels.tsa.statespace.exponential_smoothing import (
            ExponentialSmoothing,
        )

        trend, season = spec
        return ExponentialSmoothing(y, trend=trend != "none", damped_trend=trend == "damped", seasonal=season)

    @staticmethod
    def _label(spec):
        trend, season = spec
        return f"ETS(A,{ {'none': 'N', 'add': 'A', 'damped': 'Ad'}[trend] },{'A' if season else 'N'})"


class ARIMA(_StateSpace):
    name = "arima"

    def __init__(self, season_length: int, max_season: int = 24, max_p: int = 2, max_q: int = 2, max_d: int = 1):
        super().__init__(season_length, max_season)
        self.max_p, self.max_q, self.max_d = max_p, max_q, max_d

    def _seasonal_d(self, y) -> int:
        if not self.seasonal or len(y) < 3 * self.m:
            return 0
        from statsmodels.tsa.seasonal import STL

        fit = STL(y, period=self.m).fit()
        strength = max(0.0, 1 - np.var(fit.resid) / np.var(fit.seasonal + fit.resid))
        return int(strength > 0.64)

    def _d(self, y) -> int:
        from statsmodels.tsa.stattools import kpss

        d = 0
        while d < self.max_d:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "p-value outside the table" is a bound, which is enough
                if kpss(np.diff(y, d) if d else y, regression="c", nlags="auto")[1] >= 0.05:
                    break
            d += 1
        return d

    def _fit(self, y):
        """Stepwise search (Hyndman and Khandakar 2008) inside p <= max_p, q <= max_q, P, Q <= 1."""
        D = self._seasonal_d(y)
        d = self._d(y[self.m:] - y[:-self.m] if D else y)
        trend = {0: "c", 1: "t"}.get(d + D)
        m = self.m if self.seasonal else 0
        top = (self.max_p, self.max_q, 1 if m else 0, 1 if m else 0)

        def spec(k):
            p, q, P, Q = k
            return (p, d, q), (P, D, Q, m), trend

        def inside(k):
            return all(0 <= v <= t for v, t in zip(k, top))

        fits: dict = {}
        starts = [(2, 2, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)]
        for k in starts:
            k = tuple(min(v, t) for v, t in zip(k, top))
            if k not in fits:
                fits[k] = self._fit_one(y, spec(k))
        best = None
        while True:
            ok = {k: r for k, r in fits.items() if r is not None}
            if not ok:
                raise RuntimeError(f"arima: no candidate model could be fit (tried {[spec(k) for k in fits]})")
            current = min(ok, key=lambda k: ok[k].aic)
            if current == best:
                break
            best = current
            p, q, P, Q = best
            for k in [(p + 1, q, P, Q), (p - 1, q, P, Q), (p, q + 1, P, Q), (p, q - 1, P, Q),
                      (p + 1, q + 1, P, Q), (p - 1, q - 1, P, Q), (p, q, P + 1, Q), (p, q, P - 1, Q),
                      (p, q, P, Q + 1), (p, q, P, Q - 1)]:
                if inside(k) and k not in fits:
                    fits[k] = self._fit_one(y, spec(k))
        return spec(best), fits[best]

    def _model(self, y, spec):
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        order, seasonal_order, trend = spec
        return SARIMAX(y, order=order, seasonal_order=seasonal_order, trend=trend)

    @staticmethod
    def _label(spec):
        (p, d, q), (P, D, Q, m), trend = spec
        s = f"({P},{D},{Q})[{m}]" if m else ""
        return f"ARIMA({p},{d},{q}){s}" + {"c": " with constant", "t": " with drift"}.get(trend, "")


def make_baselines(names: Sequence[str], season_length: int, cfg, echo=print) -> list[_PerSeries]:
    """Baseline forecasters by name; ``cfg`` is a :class:`BaselineConfig`.

    ETS and ARIMA need statsmodels (the ``forecast`` extra); without it they are left out with a
    message saying how to add them.
    """
    made = []
    has_statsmodels = importlib.util.find_spec("statsmodels") is not None
    for n in names:
        if n in ("ets", "arima") and not has_statsmodels:
            echo(f"baseline {n}: left out, statsmodels is not installed (pip install 'rnnkit[forecast]')")
            continue
        if n == "naive":
            made.append(Naive(season_length))
        elif n == "seasonal_naive":
            made.append(SeasonalNaive(season_length))
        elif n == "ets":
            made.append(ETS(season_length, cfg.max_season))
        elif n == "arima":
            made.append(ARIMA(season_length, cfg.max_season, cfg.max_p, cfg.max_q, cfg.max_d))
        else:
            raise ValueError(f"unknown baseline {n!r}")
    return made
