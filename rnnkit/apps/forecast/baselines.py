"""Baselines on the same origins and horizon as the RNN: naive, seasonal naive, ETS, ARIMA, Theta.

Backends (``baselines.backend``): ``statsforecast`` (Nixtla's statsforecast: ``Naive``,
``SeasonalNaive``, ``AutoETS``, ``AutoARIMA``, ``AutoTheta`` with their own intervals), used by
``auto`` whenever it is installed; ``statsmodels`` is the fallback (the searches below).

Refitting (``baselines.refit``): ``every_origin`` (default) estimates each model again at every
backtest origin on the series up to that origin, as a forecaster in production would, and as
statsforecast's own ``cross_validation`` does; ``once`` estimates it on the history before the
first origin and at later origins only runs it over the newer observations with the same
parameters (statsforecast's ``forward``, statsmodels' ``results.apply``).

The statsmodels fallback:

* naive: ``y_{o+h} = y_{o-1}``, sd ``sigma_1 sqrt(h + 1)``, sigma_1 = RMS of the history's one-step changes;
* seasonal naive: the value of the last observed season at the same phase, ``y_{o+h-m(k+1)}`` for
  h = 0..H-1, k = floor(h/m); sd ``sigma_m sqrt(k + 1)``, sigma_m = RMS of the history's m-step
  changes;
* ETS: statsmodels' state-space exponential smoothing (additive errors); trend none / additive /
  damped additive, season none / additive m (when 1 < m <= max_season); the lowest AIC wins;
* ARIMA: statsmodels SARIMAX. d by repeated KPSS tests (5%), seasonal D = 1 when the STL seasonal
  strength exceeds 0.64 (the rule of Hyndman's ``nsdiffs``); then the stepwise AIC search of
  Hyndman and Khandakar (auto.arima) over p <= max_p, q <= max_q and seasonal P, Q <= 1. When
  d + D <= 1 the search also decides by AIC whether to add a constant: with d + D = 0 the mean,
  with d + D = 1 a *drift*, which SARIMAX's ``trend='c'`` puts in the differenced series (a
  constant step, a straight-line forecast), never ``trend='t'`` (a time trend in the differenced
  series, whose forecast bends quadratically);
* Theta: statsmodels' ``ThetaModel`` (deseasonalised when m > 1 and the series is seasonal).

Intervals are the models' own central ``level`` intervals.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import itertools
import sys
import warnings
from collections.abc import Sequence
from statistics import NormalDist
from typing import ClassVar

import numpy as np

from .data import Series, SeriesSet

__all__ = ["ARIMA", "ARIMA_SEARCHES", "BOUNDED", "ETS", "REFIT", "Naive", "SFModel", "SeasonalNaive", "Theta",
           "arima_approximates", "has_statsforecast", "make_baselines"]

REFIT = ("every_origin", "once")


def has_statsforecast() -> bool:
    return importlib.util.find_spec("statsforecast") is not None


def _one_blas_thread():
    """Small Kalman-filter products run several times faster on one BLAS thread than on a busy
    machine's many (spinning threads wait for each other); threadpoolctl comes with scikit-learn."""
    controller = _thread_pools()
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1)


@functools.lru_cache(maxsize=1)
def _thread_pools():
    """One threadpoolctl controller for the process (None without threadpoolctl): making one scans
    the loaded libraries (about 10 ms), and the guide limits the threads around each of its
    forecasts, thousands in a run (17 of the 28 s the interval floor took on El Nino's saved run).
    It is made at the first call, when numpy and torch, whose pools it limits, are loaded."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _z(level: float) -> float:
    return NormalDist().inv_cdf((1 + level) / 2)


def _observed(s: Series, origin: int) -> np.ndarray:
    return s.target[:origin]


def _bar(total: int, desc: str, progress: bool, delay: float = 0.0):
    """A tqdm bar on stderr (or a no-op): baselines refit at every origin take a while. ``delay``:
    seconds before it first shows, so a pass that ends sooner leaves nothing on the terminal."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not progress or total == 0, leave=False, file=sys.stderr,
                mininterval=0.5, unit="fit", delay=delay)


# the statistical models whose fits ``baselines.max_points`` bounds (the naive ones cost nothing)
BOUNDED = ("ets", "arima", "theta")
# seasons longer than this make AutoARIMA's fits costly (``baselines.arima_max_points``): its
# approximate search (R's rule for seasons over 12) still takes about 40 s a fit on 5,000 hours
LONG_SEASON = 12


def fit_bound(name: str, season_length: int, max_points: int, arima_max_points: int) -> int:
    """The most values a fit of baseline ``name`` reads before an origin (0 = all):
    ``max_points`` for ETS, ARIMA and Theta, and for AutoARIMA with a season longer than
    ``LONG_SEASON`` the smaller ``arima_max_points`` (0 leaves it at ``max_points``)."""
    if name not in BOUNDED:
        return 0
    if name == "arima" and season_length > LONG_SEASON and arima_max_points:
        return min(max_points, arima_max_points) if max_points else arima_max_points
    return max_points


class _PerSeries:
    """One model per series. ``refit="once"``: fit on the history (``fit``), then each origin runs
    the fitted model over the series up to it; ``"every_origin"``: fit again at every origin on the
    series up to it. ``forecast`` loops over (series, origin) with a progress bar.

    ``max_points`` > 0 (ETS, ARIMA, Theta): a model sees only the last ``max_points`` values
    before an origin (with ``once``, the values from where its fit began), which bounds the cost
    of a fit on a long series: statsforecast's AutoTheta takes time quadratic in the length (0.25 s
    for 1,000 points, 12 s for 8,000, 196 s for 27,716 on one core)."""

    name = "baseline"
    max_points = 0
    arima_max_points = 0
    max_season = 24  # baselines.max_season

    def __init__(self, season_length: int, refit: str = "every_origin", progress: bool = False):
        if refit not in REFIT:
            raise ValueError(f"baselines.refit must be one of {REFIT}, got {refit!r}")
        self.m = int(season_length)
        self.refit = refit
        self.progress = progress
        self.fitted: dict[str, object] = {}
        self.last: dict[str, object] = {}  # series -> the fit used at its latest origin (for describe)
        self.tick = None  # called after each origin's forecast (a second process counts its progress)
        self.on_fit = None  # called (series, origin, fit, start) after each fit at an origin on y[start:origin]
        # (the guide reuses AutoETS's)
        self.starts: dict[str, int] = {}  # series -> where the fit kept for ``once`` began

    def first_seen(self, n: int) -> int:
        """Where the values a fit on ``n`` values reads begin (0 unless :func:`fit_bound` cuts them)."""
        bound = fit_bound(self.name, self.m, self.max_points, self.arima_max_points)
        return max(0, n - bound) if bound else 0

    def fit(self, history: SeriesSet) -> _PerSeries:
        if self.refit == "once":
            for s in history.series:
                self.starts[s.name] = self.first_seen(s.length)
                self.fitted[s.name] = self._fit(s.target[self.starts[s.name]:])
        return self

    def forecast(self, series: Sequence[Series], origins: Sequence[int], horizon: int, level: float):
        out = []
        with _bar(len(series), f"baseline {self.name}", self.progress) as bar:
            for s, o in zip(series, origins):
                y = _observed(s, o)
                if self.refit == "every_origin":
                    start = self.first_seen(len(y))
                    y = y[start:]
                    fitted = self._fit(y)
                    if self.on_fit is not None:  # the guide may take it as its search on the same values
                        self.on_fit(s, o, fitted, start)
                else:
                    if s.name not in self.fitted:  # a series not in the history: fit on what it has
                        self.starts[s.name] = self.first_seen(len(y))
                        self.fitted[s.name] = self._fit(y[self.starts[s.name]:])
                    fitted = self.fitted[s.name]
                    y = y[self.starts[s.name]:]
                self.last[s.name] = fitted
                out.append(self._forecast(fitted, y, horizon, level))
                bar.update(1)
                if self.tick is not None:
                    self.tick()
        return out

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


# ------------------------------------------------------------------------------ statsforecast
ARIMA_SEARCHES = ("auto", "exact", "approximate")


def arima_approximates(search: str, n: int, m: int) -> bool:
    """Whether AutoARIMA's order search is approximate (``baselines.arima_search``). ``auto`` is R's
    auto.arima rule: approximate for a series longer than 150 points or a season longer than 12.
    The approximate search ranks the candidate orders by the conditional-sum-of-squares likelihood
    and fits only the chosen one by exact maximum likelihood; on El Nino (633 months) it chose the
    same model as the exact search in a tenth of the time (1.7 s against 16.9 s)."""
    if search == "auto":
        return n > 150 or m > 12
    return search == "approximate"


class SFModel(_PerSeries):
    """A statsforecast model (``kind``: naive, seasonal_naive, ets, arima, theta) on numpy arrays:
    ``Model(...).forecast(y=..., h=H, level=[..])`` when refit at every origin (what statsforecast's
    ``cross_validation`` computes), ``fitted.forward(y=..., h=H, level=[..])`` when fit once."""

    KINDS: ClassVar[dict[str, str]] = {"naive": "Naive", "seasonal_naive": "SeasonalNaive", "ets": "AutoETS",
                                       "arima": "AutoARIMA", "theta": "AutoTheta"}

    def __init__(self, kind: str, season_length: int, refit: str = "every_origin", progress: bool = False,
                 arima_search: str = "auto"):
        super().__init__(season_length, refit, progress)
        if kind not in self.KINDS:
            raise ValueError(f"unknown statsforecast baseline {kind!r}")
        if arima_search not in ARIMA_SEARCHES:
            raise ValueError(f"baselines.arima_search must be one of {ARIMA_SEARCHES}, got {arima_search!r}")
        self.kind = self.name = kind
        self.arima_search = arima_search

    def _new(self, n: int):
        import statsforecast.models as sfm

        cls = getattr(sfm, self.KINDS[self.kind])
        if self.kind == "naive":
            return cls()
        # seasonal models need two full seasons; with less the series is modelled without a season
        m = self.m if n >= 2 * self.m else 1
        if self.kind == "arima":
            return cls(season_length=m, approximation=arima_approximates(self.arima_search, n, m),
                       **self._seasonal_terms(m))
        return cls(season_length=m)

    def _seasonal_terms(self, m: int) -> dict[str, int]:
        """AutoARIMA's bounds on the seasonal AR and MA orders: statsforecast's own (2 and 2) up
        to a season of ``max_season``; none above it (half-hours' 48, weeks' 52), where seasonal
        differencing alone models the season. A seasonal term at lag m makes the state at least m
        long, and every evaluation of the exact likelihood (its initial state covariance first) far
        costlier: with a season of 48 one fit on 245 half-hours took 36 s (ten origins, several
        minutes), against 0.4 s without them."""
        return {"max_P": 0, "max_Q": 0} if m > self.max_season else {}

    def _fit(self, y):
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")
            return self._new(len(y)).fit(y=np.asarray(y, np.float64))

    @staticmethod
    def _pick(out: dict, H: int):
        lo = next(v for k, v in out.items() if k.startswith("lo-"))
        hi = next(v for k, v in out.items() if k.startswith("hi-"))
        return tuple(np.asarray(a, np.float64).reshape(H) for a in (out["mean"], lo, hi))

    def _forecast(self, fitted, y, H, level):
        lv = [round(100 * level, 6)]
        lv = [int(lv[0])] if float(lv[0]).is_integer() else lv
        y = np.asarray(y, np.float64)
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")
            if self.refit == "every_origin":  # ``fitted`` was fit on this very y
                return self._pick(fitted.predict(h=H, level=lv), H)
            return self._pick(fitted.forward(y=y, h=H, level=lv), H)

    def label(self, fitted) -> str:
        model = getattr(fitted, "model_", None)
        if self.kind == "ets" and isinstance(model, dict):
            return str(model.get("method", "ETS")).strip()
        if self.kind == "arima" and isinstance(model, dict):
            from statsforecast.arima import arima_string

            search = "approximate" if getattr(fitted, "approximation", False) else "exact"
            plain = (f"; no seasonal AR/MA terms at a season over baselines.max_season={self.max_season}"
                     if self._seasonal_terms(self.m) else "")
            return (f"{arima_string(model).strip()}, {search} order search (baselines.arima_search={self.arima_search})"
                    f"{plain}")
        if self.kind == "theta" and isinstance(model, dict):
            return f"Theta ({model.get('modeltype', '?')})"
        return {"naive": "naive", "seasonal_naive": f"seasonal naive, m = {self.m}"}.get(self.kind, self.kind)

    def describe(self) -> dict[str, str]:
        when = "at the last origin" if self.refit == "every_origin" else "fit once"
        return {name: f"{self.label(f)} ({when})" for name, f in {**self.fitted, **self.last}.items()}


# ------------------------------------------------------------------------------ statsmodels
class _StateSpace(_PerSeries):
    def __init__(self, season_length: int, max_season: int = 24, refit: str = "every_origin",
                 progress: bool = False):
        super().__init__(season_length, refit, progress)
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
            fc = (res if self.refit == "every_origin" else res.apply(y)).get_forecast(H)
            ci = np.asarray(fc.conf_int(alpha=1 - level))
        return np.asarray(fc.predicted_mean), ci[:, 0], ci[:, 1]

    def describe(self) -> dict[str, str]:
        return {name: self._label(spec) for name, (spec, _) in {**self.fitted, **self.last}.items()}


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

    def __init__(self, season_length: int, max_season: int = 24, max_p: int = 2, max_q: int = 2, max_d: int = 1,
                 refit: str = "every_origin", progress: bool = False):
        super().__init__(season_length, max_season, refit, progress)
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
        """Stepwise search (Hyndman and Khandakar 2008) inside p <= max_p, q <= max_q, P, Q <= 1, and
        with d + D <= 1 a constant (mean or drift) or none, by AIC as auto.arima does."""
        D = self._seasonal_d(y)
        d = self._d(y[self.m:] - y[:-self.m] if D else y)
        consts = (1, 0) if d + D <= 1 else (0,)  # with d + D = 2 a constant would be a quadratic trend
        m = self.m if self.seasonal else 0
        top = (self.max_p, self.max_q, 1 if m else 0, 1 if m else 0, max(consts))

        def spec(k):
            p, q, P, Q, c = k
            return (p, d, q), (P, D, Q, m), "c" if c else "n"

        def inside(k):
            return all(0 <= v <= t for v, t in zip(k, top)) and k[4] in consts

        fits: dict = {}
        starts = [(2, 2, 1, 1, 1), (0, 0, 0, 0, 1), (1, 0, 1, 0, 1), (0, 1, 0, 1, 1), (0, 0, 0, 0, 0)]
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
            p, q, P, Q, c = best
            for k in [(p + 1, q, P, Q, c), (p - 1, q, P, Q, c), (p, q + 1, P, Q, c), (p, q - 1, P, Q, c),
                      (p + 1, q + 1, P, Q, c), (p - 1, q - 1, P, Q, c), (p, q, P + 1, Q, c), (p, q, P - 1, Q, c),
                      (p, q, P, Q + 1, c), (p, q, P, Q - 1, c), (p, q, P, Q, 1 - c)]:
                if inside(k) and k not in fits:
                    fits[k] = self._fit_one(y, spec(k))
        return spec(best), fits[best]

    def _model(self, y, spec):
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        order, seasonal_order, trend = spec
        # trend "c" with differencing: a constant in the differenced series (drift for d + D = 1)
        return SARIMAX(y, order=order, seasonal_order=seasonal_order, trend=trend)

    @staticmethod
    def _label(spec):
        (p, d, q), (P, D, Q, m), trend = spec
        s = f"({P},{D},{Q})[{m}]" if m else ""
        const = (" with drift" if d + D == 1 else " with constant") if trend == "c" else ""
        return f"ARIMA({p},{d},{q}){s}" + const


class Theta(_PerSeries):
    """statsmodels' ThetaModel (the fallback of statsforecast's AutoTheta)."""

    name = "theta"

    def _fit(self, y):
        from statsmodels.tsa.forecasting.theta import ThetaModel

        m = self.m if self.m > 1 and len(y) >= 2 * self.m else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ThetaModel(np.asarray(y, np.float64), period=m, deseasonalize=m is not None).fit()

    def _forecast(self, res, y, H, level):
        if self.refit == "once":  # ThetaModel has no filter to run over new data: the SES part refits cheaply
            res = self._fit(y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            point = np.asarray(res.forecast(H))
            pi = np.asarray(res.prediction_intervals(H, alpha=1 - level))
        return point, pi[:, 0], pi[:, 1]


NAMES = ("naive", "seasonal_naive", "ets", "arima", "theta")


def make_baselines(names: Sequence[str], season_length: int, cfg, echo=print, progress: bool = False
                   ) -> list[_PerSeries]:
    """Baseline forecasters by name; ``cfg`` is a :class:`BaselineConfig` (backend, refit, search bounds).

    ``backend=auto`` takes statsforecast when it is installed, else statsmodels (ETS, ARIMA and
    Theta need statsmodels; without it they are left out with a message saying how to add them).
    """
    backend = getattr(cfg, "backend", "auto")
    refit = getattr(cfg, "refit", "every_origin")
    if backend == "auto":
        backend = "statsforecast" if has_statsforecast() else "statsmodels"
    elif backend == "statsforecast" and not has_statsforecast():
        raise ImportError("baselines.backend=statsforecast: statsforecast is not installed "
                          "(pip install 'rnnkit[forecast]')")
    made = []
    has_statsmodels = importlib.util.find_spec("statsmodels") is not None
    max_points = getattr(cfg, "max_points", 0)
    arima_max_points = getattr(cfg, "arima_max_points", 0)
    for n in names:
        if n not in NAMES:
            raise ValueError(f"unknown baseline {n!r}; choose from {NAMES}")
        if backend == "statsforecast":
            made.append(SFModel(n, season_length, refit, progress, getattr(cfg, "arima_search", "auto")))
            made[-1].max_points, made[-1].arima_max_points = max_points, arima_max_points
            made[-1].max_season = getattr(cfg, "max_season", made[-1].max_season)
            continue
        if n in ("ets", "arima", "theta") and not has_statsmodels:
            echo(f"baseline {n}: left out, statsmodels is not installed (pip install 'rnnkit[forecast]')")
            continue
        if n == "naive":
            made.append(Naive(season_length, refit, progress))
        elif n == "seasonal_naive":
            made.append(SeasonalNaive(season_length, refit, progress))
        elif n == "ets":
            made.append(ETS(season_length, cfg.max_season, refit, progress))
        elif n == "arima":
            made.append(ARIMA(season_length, cfg.max_season, cfg.max_p, cfg.max_q, cfg.max_d, refit, progress))
        else:
            made.append(Theta(season_length, refit, progress))
        made[-1].max_points, made[-1].arima_max_points = max_points, arima_max_points
    return made
