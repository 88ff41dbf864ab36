"""A statistical forecast as an input of the RNN: the hybrid ``model.guide=ets|arima``.

Hybrids of a statistical model and a neural network (Zhang 2003's ARIMA + ANN; ES-RNN, Smyl 2020,
the M4 winner) let the network start from what the statistical model already captures (level,
trend, seasonality) and learn where it goes wrong. Here the guide is one of the baselines' models
(ETS or ARIMA, the same search as :mod:`.baselines`), fit per series on the RNN's training data,
and its forecast is one more input channel of every window row.

Row k of a window at origin o predicts the target at ``t = o - L + 1 + k`` (see :mod:`.windows`);
its guide value is the guide's prediction of that same target from the observed values before
``t`` and no later than the origin:

    k <= L - 2 (t < o):  the one-step-ahead prediction E[y_t | y_0..y_{t-1}]  (the filter's fitted value)
    k >= L - 1 (t >= o): the (t - o + 1)-step forecast E[y_t | y_0..y_{o-1}]

so the channel reads only ``y[:o]``, as every input does (planted-leak tests check it). The first
``burn_in`` one-step values of a differenced ARIMA (d + D m + p + P m points) come from a diffuse
start and mean nothing; there the channel holds the last observed value y_{t-1} instead.

The model is searched and its parameters estimated once per series on the span the RNN's training
windows' targets come from, the training history less its validation span (``backtest.val_size``);
at the training and validation windows' origins the filter runs over ``y[:o]`` with those
parameters, so the guide is in-sample on the training windows (a few parameters on hundreds of
points) and out-of-sample on the validation windows, as it will be later: early stopping, the
choice of treatment and interval calibration see its honest errors. At an origin at or after the
end of the training history (the backtest's, ``predict``'s) the guide is searched and fit again on
``y[:o]`` (its last ``baselines.max_points`` values on a long series, as the AutoETS baseline reads:
:func:`search_start`), as the baselines are refit at every origin: a guide frozen on old data goes stale when
a series turns (visnights' NSWMetro: ETS(A,A,A) fit on its first 40 quarters with smoothing
constants at their floor kept forecasting the old downward trend, MAE 2-3x the seasonal naive
forecast's at the later origins). Refitting at the validation origins as well scored no better on
five development series (auscafe 1.218 against 1.125, the other four within 0.01). A series unseen in training (a new file at
``predict``) gets its own fit on its observed history.

Backends (``baselines.backend``, as the baselines): the ETS guide is statsforecast's AutoETS
whenever statsforecast is installed and ``auto`` or ``statsforecast`` is asked, with its default
search (``model="ZZZ"``: additive or multiplicative errors and season, trend none/additive/damped,
chosen by AICc; multiplicative components only for positive series), the same model as the AutoETS
baseline (for seasons up to ``baselines.max_season``), so the guide's forecast at a backtest origin
is that baseline's (a test checks it). Its filter with fixed parameters and initial states is
statsforecast's ``forward``. The search takes well under a second on a 250-point monthly series
against 2-4 s for the statsmodels one, and the guide is searched again at every backtest origin.
Session 9 restricted it to additive errors (``AZZ``, the family of the statsmodels search): with
the network's forecast alone both scored alike on the development panel (mean MASE 1.165 with
AZZ, 1.174 with ZZZ), but once the guide's forecast is blended in (``model.guide_blend=auto``,
:mod:`.blend`) its own accuracy counts: on the development panel's global models ZZZ gave
aus_arrivals 1.340 against 1.504 with AZZ, aus_accommodation 1.153 against 1.253 and visnights
1.006 against 0.992, and on its nine single series 1.066 against 1.071. ``statsmodels`` (and the
ARIMA guide always) use the statsmodels searches of :mod:`.baselines` and the state-space filter. A saved run
records its backend, so it reproduces with the models it was trained with.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence

import numpy as np

from .baselines import ARIMA, ETS, _bar, _one_blas_thread, has_statsforecast
from .config import BaselineConfig
from .data import Series, SeriesSet

__all__ = ["GUIDES", "Guide", "prefix_digests"]

GUIDES = ("ets", "arima")
# seconds before the guide's bar over the windows shows: a pass whose fits the second process
# already made (or that the cache holds) ends in moments, and its bar would only print an empty
# "0/357" line into a log; a pass that refits shows one
BAR_DELAY = 1.0


BACKENDS = ("statsforecast", "statsmodels")


class _StatsmodelsFits:
    """The statsmodels searches of :mod:`.baselines` (ETS or ARIMA) and the state-space filter
    with fixed parameters. ``spec``: the model's structure; ``params``: its estimated parameters."""

    backend = "statsmodels"

    def __init__(self, name: str, season_length: int, cfg: BaselineConfig):
        self.name = name  # one of GUIDES (Guide checks)
        self.model = (ETS(season_length, cfg.max_season) if name == "ets"
                      else ARIMA(season_length, cfg.max_season, cfg.max_p, cfg.max_q, cfg.max_d))

    def search(self, y: np.ndarray) -> tuple:
        spec, res = self.model._fit(y)
        return spec, np.asarray(res.params, dtype=np.float64)

    def run(self, y: np.ndarray, spec, params: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """``(len(y),)`` one-step predictions E[y_t | y_<t] and the ``(horizon,)`` forecast from all of y."""
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")
            res = self.model._model(y, spec).filter(params)
            return (np.asarray(res.fittedvalues, dtype=np.float64),
                    np.asarray(res.get_forecast(horizon).predicted_mean, dtype=np.float64))

    def label(self, spec) -> str:
        return self.model._label(spec)

    def burn_in(self, spec) -> int:
        """Leading one-step predictions that come from the filter's diffuse start (ARIMA only)."""
        if self.name != "arima":
            return 1
        (p, d, _), (P, D, _, m), _ = spec
        return d + D * m + p + P * m + 1

    @staticmethod
    def spec_to_json(spec):
        return [list(v) if isinstance(v, tuple) else v for v in spec]

    def spec_from_json(self, spec):
        if self.name == "ets":
            return spec[0], spec[1]
        return tuple(spec[0]), tuple(spec[1]), spec[2]


# statsforecast's AutoETS fits no model to this many values or fewer (its smallest, ETS(A,N,N),
# has 2 parameters and needs more than 2 + 4 values): it raises NotImplementedError("tiny datasets")
TINY = 6


def tiny_ses(y: np.ndarray) -> tuple:
    """The guide's model for a history too short for AutoETS (:data:`TINY` values or fewer: a
    panel of yearly series of 12 points, with one backtest window): simple exponential smoothing,
    ETS(A,N,N), as R's ``ets`` falls back to for tiny data: the level starts at y_0 and alpha in
    [0.0001, 0.9999] minimises the one-step squared errors l_t = l_{t-1} + alpha (y_t - l_{t-1}),
    the forecast l_n. Returns ``(spec, params)`` as :meth:`_StatsforecastETS.search` does."""
    from scipy.optimize import minimize_scalar

    def sse(alpha: float) -> float:
        level, total = y[0], 0.0
        for v in y[1:]:
            total += (v - level) ** 2
            level += alpha * (v - level)
        return total

    alpha = float(minimize_scalar(sse, bounds=(1e-4, 0.9999), method="bounded").x) if len(y) > 1 else 0.9999
    return ("ANNN", 1, 2), np.array([alpha, np.nan, np.nan, np.nan, y[0]], dtype=np.float64)


class _StatsforecastETS:
    """statsforecast's AutoETS (its default ``ZZZ`` search, as the AutoETS baseline) and its filter
    with fixed parameters (``forward_ets``).

    ``spec``: ``(components, m, n_params)``, e.g. ``("MAAN", 12, 17)`` is ETS(M,A,A) with season
    12 (the fourth letter: D when the trend is damped); ``params``: alpha, beta, gamma, phi (NaN
    where the model has none), then the initial states. The season is used when
    ``1 < m <= max_season`` and the series holds two full seasons, as for the baselines.
    """

    backend = "statsforecast"

    def __init__(self, name: str, season_length: int, cfg: BaselineConfig):
        if name != "ets":
            raise ValueError(f"the statsforecast guide backend has ETS only, got {name!r}")
        self.name, self.m, self.max_season = name, int(season_length), int(cfg.max_season)

    def search(self, y: np.ndarray) -> tuple:
        from statsforecast.models import AutoETS

        y = np.asarray(y, dtype=np.float64)
        if len(y) <= TINY:
            return tiny_ses(y)
        m = self.m if 1 < self.m <= self.max_season and len(y) >= 2 * self.m else 1
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")
            model = AutoETS(season_length=m, model="ZZZ").fit(y).model_
        return (str(model["components"]), int(model["m"]), int(model["n_params"])), \
            np.asarray(model["par"], dtype=np.float64)

    def from_fit(self, fitted, n: int) -> tuple | None:
        """What :meth:`search` returns on the same ``n`` values, taken from ``fitted``, the AutoETS
        baseline fit on them (statsforecast's ``AutoETS``), when that fit searched the same models:
        the default ``ZZZ`` search with the season this search would use (the baseline has no
        ``max_season`` bound, so a season of 52 differs). None otherwise."""
        m = self.m if 1 < self.m <= self.max_season and n >= 2 * self.m else 1
        model = getattr(fitted, "model_", None)
        if (not isinstance(model, dict) or getattr(fitted, "season_length", None) != m
                or getattr(fitted, "model", None) != "ZZZ"):
            return None
        return (str(model["components"]), int(model["m"]), int(model["n_params"])), \
            np.asarray(model["par"], dtype=np.float64)

    def run(self, y: np.ndarray, spec, params: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        from statsforecast.ets import forecast_ets, forward_ets

        components, m, n_params = spec
        fitted = {"components": components, "m": m, "par": params, "n_params": n_params, "fit": None}
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")
            out = forecast_ets(forward_ets(fitted, np.asarray(y, dtype=np.float64)), h=horizon)
        return np.asarray(out["fitted"], dtype=np.float64), np.asarray(out["mean"], dtype=np.float64)

    def run_prefixes(self, y: np.ndarray, spec, params: np.ndarray, origins: Sequence[int],
                     horizon: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`run` on ``y[:o]`` for every origin ``o``, from one filter pass over
        ``y[:max(origins)]`` instead of one per origin (O(n) instead of O(n^2) on a long series).
        The filter is causal (the prediction of y_t reads y_<t only), so the pass's first ``o``
        one-step predictions are those of a pass over ``y[:o]``, and the forecast from ``o`` is
        the one from the state after y_{o-1} (statsforecast's ``states[o]``). An origin whose
        history is constant goes through :meth:`run`: statsforecast fits a constant series afresh
        instead of filtering it."""
        from statsforecast.ets import forward_ets, pegelsfcast_C

        components, m, n_params = spec
        y = np.asarray(y, dtype=np.float64)
        fitted = {"components": components, "m": m, "par": params, "n_params": n_params, "fit": None}
        out = []
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")
            whole = forward_ets(fitted, y[:max(origins)])
            states = np.asarray(whole["states"], dtype=np.float64)  # (n + 1, states): row o follows y[:o]
            onestep = np.asarray(whole["fitted"], dtype=np.float64)
            changes = np.flatnonzero(y != y[0])
            constant_until = int(changes[0]) if len(changes) else len(y)  # y[:o] is constant for o <= this
            for o in origins:
                if o <= constant_until:
                    out.append(self.run(y[:o], spec, params, horizon))
                    continue
                last = {"states": states[o:o + 1], "components": whole["components"], "par": whole["par"], "m": m}
                out.append((onestep[:o], np.asarray(pegelsfcast_C(horizon, last), dtype=np.float64)))
        return out

    @staticmethod
    def label(spec) -> str:
        c, m = spec[0], spec[1]
        season = c[2] if m > 1 else "N"
        return f"ETS({c[0]},{c[1]}{'d' if c[3] == 'D' else ''},{season})" + (f" m={m}" if m > 1 else "")

    @staticmethod
    def burn_in(spec) -> int:
        return 1

    @staticmethod
    def spec_to_json(spec):
        return list(spec)

    @staticmethod
    def spec_from_json(spec):
        return str(spec[0]), int(spec[1]), int(spec[2])


def _backend_for(name: str, cfg: BaselineConfig) -> str:
    if name == "ets" and (cfg.backend == "statsforecast" or (cfg.backend == "auto" and has_statsforecast())):
        return "statsforecast"
    return "statsmodels"


def _fits_for(name: str, season_length: int, cfg: BaselineConfig, backend: str):
    if backend == "statsforecast":
        return _StatsforecastETS(name, season_length, cfg)
    if backend == "statsmodels":
        return _StatsmodelsFits(name, season_length, cfg)
    raise ValueError(f"guide backend must be one of {BACKENDS}, got {backend!r}")


def _params_to_json(params: np.ndarray) -> list:
    return [None if np.isnan(v) else float(v) for v in params]  # NaN is not JSON


def _params_from_json(params: list) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in params], dtype=np.float64)


def prefix_digests(series: Sequence[Series], pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """``{(series index, origin): digest}``: :meth:`Guide.refit_key`'s digest of ``target[:origin]``
    for every pair, each series hashed once from its start (the hash of a prefix, copied at each
    origin, then fed on): the training windows of a series of 33,000 days hashed their prefixes one
    by one, 35 s of a default run (cProfile)."""
    out: dict[tuple[int, int], str] = {}
    by_series: dict[int, set[int]] = {}
    for i, o in pairs:
        by_series.setdefault(i, set()).add(o)
    for i, origins in by_series.items():
        y = np.asarray(series[i].target, dtype=np.float64)
        h, done = hashlib.sha1(), 0
        for o in sorted(origins):
            end = max(min(o, len(y)), done)
            h.update(y[done:end].tobytes())
            done = end
            out[i, o] = h.copy().hexdigest()
    return out


def search_start(origin: int, max_points: int) -> int:
    """Where the guide's search at a refit ``origin`` begins: at most the last ``max_points``
    values before it (``baselines.max_points``; 0 = all), the values the AutoETS baseline's fit
    there reads, so that fit can be the guide's search (:mod:`.background`) and the guide costs no
    more than the baseline on a long series. Its filter then runs from here, and input rows
    before it hold the last observed value, as in an ARIMA's diffuse start."""
    return max(0, origin - max_points) if max_points else 0


def _signature(name: str, season_length: int, backend: str, cfg: BaselineConfig) -> tuple:
    """What makes two searches the same: the model, its season, backend and bounds."""
    return name, int(season_length), backend, int(cfg.max_season), int(cfg.max_points)


class Guide:
    """Per-series ETS or ARIMA fits and the guide channel of windows.

    ``fits``: series name -> (spec, params), the model's structure and estimated parameters
    (what the run folder saves; the channel is recomputed from them). Channels are cached per
    (series, origin, lengths, observed values). ``backend``: ``statsforecast`` or ``statsmodels``;
    by default the one ``cfg.backend`` picks (see the module docstring).
    """

    def __init__(self, name: str, season_length: int, cfg: BaselineConfig | None = None, refit: bool = True,
                 backend: str | None = None):
        if name not in GUIDES:
            raise ValueError(f"model.guide must be one of {GUIDES} (or none), got {name!r}")
        self.name = name
        self.season_length = int(season_length)
        self.cfg = cfg or BaselineConfig()
        self.backend = backend or _backend_for(name, self.cfg)
        self.fitter = _fits_for(name, self.season_length, self.cfg, self.backend)
        self.fits: dict[str, tuple] = {}
        self.fit_ends: dict[str, int] = {}  # series -> points its kept fit saw
        self.refit = refit  # model.guide_refit=every_origin
        self.refit_from: dict[str, int] = {}  # series -> the first origin at which the guide is refit
        self._cache: dict[tuple, np.ndarray] = {}
        self._refits: dict[tuple, tuple] = {}
        self.progress = False  # a bar over the windows in ``paths`` (the backtest's refits take a while on a panel)

    # ------------------------------------------------------------------ fitting
    def fit(self, sset: SeriesSet, ends: dict[str, int] | None = None, echo=None) -> Guide:
        """Fit the guide on every series of ``sset`` (the RNN's training set), each on its values
        before ``ends[name]`` (default: all of them); returns self."""
        for s in sset.series:
            end = s.length if ends is None else ends[s.name]
            self._fit_series(s.name, s.target[:end])
            if self.refit:
                self.refit_from[s.name] = s.length  # the end of the training history: the backtest's origins
            if echo:
                echo(f"guide {self.name} for {s.name}: {self.fitter.label(self.fits[s.name][0])}")
        return self

    def _fit_series(self, name: str, y: np.ndarray) -> None:
        if np.isnan(y).any():
            raise ValueError(f"guide {self.name}: series {name!r} has missing values in its history")
        self.fits[name] = self._search(y)
        self.fit_ends[name] = len(y)
        if self.refit:
            self.refit_from[name] = len(y) + 1  # the fit's own origin needs no second one

    def _search(self, y: np.ndarray) -> tuple:
        return self.fitter.search(y)

    def describe(self) -> dict[str, str]:
        return {name: self.fitter.label(spec) for name, (spec, _) in self.fits.items()}

    # ------------------------------------------------------------------ searches done elsewhere
    @staticmethod
    def searcher(name: str, season_length: int, cfg: BaselineConfig) -> tuple[tuple, object]:
        """(signature, searcher): what a guide built with these arguments searches with
        (``searcher.search(y[search_start(o, cfg.max_points):o]) -> (spec, params)``) and the
        signature :meth:`preload` checks."""
        backend = _backend_for(name, cfg)
        fitter = _fits_for(name, int(season_length), cfg, backend)
        return _signature(name, season_length, backend, cfg), fitter

    @staticmethod
    def refit_key(s: Series, origin: int) -> tuple:
        """The key of the search on ``s.target[:origin]`` (series, origin, digest of the values)."""
        y = np.asarray(s.target[:origin], dtype=np.float64)
        return s.name, origin, hashlib.sha1(y.tobytes()).hexdigest()

    def preload(self, refits: dict[tuple, tuple], signature: tuple) -> int:
        """Take searches made by another process (:mod:`.background`) on the same values, keyed by
        :meth:`refit_key`; ignored unless ``signature`` is this guide's (same model, season, backend
        and bounds, so the search would have found the same). Returns how many were taken."""
        if tuple(signature) != _signature(self.name, self.season_length, self.backend, self.cfg):
            return 0
        self._refits.update(refits)
        return len(refits)

    def burn_in(self, spec) -> int:
        """Leading one-step predictions that come from the filter's diffuse start (ARIMA only)."""
        return self.fitter.burn_in(spec)

    # ------------------------------------------------------------------ the channel
    def path(self, s: Series, origin: int, input_len: int, horizon: int, digest: str | None = None) -> np.ndarray:
        """``(input_len + horizon - 1,)``: the guide's prediction of the target at each row's step
        (data scale), from ``s.target[:origin]`` only (see the module docstring). ``digest``: that
        of :meth:`refit_key`, when the caller has it (:meth:`paths` makes them in one pass)."""
        key, y, spec, params, start = self._prepare(s, origin, input_len, horizon, digest)
        if key not in self._cache:
            onestep, ahead = self.fitter.run(y[start:], spec, params, horizon)
            self._cache[key] = self._assemble(s, y, spec, onestep, ahead, input_len, start)
        return self._cache[key]

    def _prepare(self, s: Series, o: int, L: int, H: int, digest: str | None = None) -> tuple:
        """``(cache key, y[:o], spec, params, start)``: the model the channel at origin ``o`` runs
        and where its filter starts: the kept fit from 0, or past the training history a search on
        ``y[start:o]`` (:func:`search_start`), run from ``start``. ``digest``: :meth:`refit_key`'s,
        made by the caller."""
        if o < L:
            raise ValueError(f"guide: origin {o} needs {L} observed points before it")
        y = np.asarray(s.target[:o], dtype=np.float64)
        refit_key = self.refit_key(s, o) if digest is None else (s.name, o, digest)
        key = (s.name, o, L, H, refit_key[2])
        if key in self._cache:
            return key, y, None, None, 0
        if np.isnan(y).any():
            bad = int(np.flatnonzero(np.isnan(y))[0])
            raise ValueError(f"guide {self.name}: series {s.name!r} has no value at position {bad}, before the "
                             f"forecast origin {o}")
        if s.name not in self.fits:  # a series unseen in training: fit on what it has
            self._fit_series(s.name, y)
        spec, params = self.fits[s.name]
        start = 0
        if o >= self.refit_from.get(s.name, o + 1):  # past the history: refit on the values before the origin
            start = search_start(o, self.cfg.max_points)
            if refit_key not in self._refits:
                self._refits[refit_key] = self._search(y[start:])
            spec, params = self._refits[refit_key]
        return key, y, spec, params, start

    def _assemble(self, s: Series, y: np.ndarray, spec, onestep: np.ndarray, ahead: np.ndarray,
                  L: int, start: int = 0) -> np.ndarray:
        """The channel from the filter's one-step predictions over ``y[start:]`` (at least
        ``len(y) - start`` of them) and its forecast from the end of ``y``."""
        o = len(y)
        burn = start + self.burn_in(spec)
        t = np.arange(o - L + 1, o)  # the steps predicted by the input rows
        early = t < burn
        inside = np.empty(len(t), dtype=np.float64)
        inside[~early] = onestep[t[~early] - start]
        # before the filter's start, or in its diffuse start: the last observed value instead
        inside[early] = y[t[early] - 1]
        out = np.concatenate([inside, ahead])
        if not np.isfinite(out).all():
            raise ValueError(f"guide {self.name}: non-finite prediction for series {s.name!r} at origin {o}")
        return out

    def paths(self, series: Sequence[Series], pairs: Sequence[tuple[int, int]], input_len: int,
              horizon: int) -> list[np.ndarray]:
        """The channel of each ``(series index, origin)`` pair. The windows of one series that
        share its kept fit are filtered in one pass where the backend can (``run_prefixes``)."""
        digests = prefix_digests(series, pairs)
        with _bar(len(pairs), f"guide {self.name}", self.progress, delay=BAR_DELAY) as bar:
            if hasattr(self.fitter, "run_prefixes"):
                self._fill_kept_fit_paths(series, pairs, input_len, horizon, digests)
            out = []
            for i, o in pairs:
                out.append(self.path(series[i], o, input_len, horizon, digests[i, o]))
                bar.update(1)
        return out

    def _fill_kept_fit_paths(self, series, pairs, L: int, H: int, digests: dict[tuple[int, int], str]) -> None:
        """Cache the channel of every pair whose model is its series' kept fit, one filter pass per
        series (the refit origins past the training history keep one search each)."""
        by_series: dict[int, dict[int, tuple]] = {}
        for i, o in pairs:
            s = series[i]
            if s.name in self.fits and o < self.refit_from.get(s.name, o + 1):
                key, _, spec, _, _ = self._prepare(s, o, L, H, digests[i, o])
                if spec is not None:  # not cached yet
                    by_series.setdefault(i, {})[o] = key
        for i, todo in by_series.items():
            s = series[i]
            spec, params = self.fits[s.name]
            origins = sorted(todo)
            y = np.asarray(s.target[:origins[-1]], dtype=np.float64)
            for o, (onestep, ahead) in zip(origins, self.fitter.run_prefixes(y, spec, params, origins, H)):
                self._cache[todo[o]] = self._assemble(s, y[:o], spec, onestep, ahead, L)

    # ------------------------------------------------------------------ saving
    def to_dict(self) -> dict:
        return {"name": self.name, "season_length": self.season_length, "backend": self.backend,
                "fits": {k: [self.fitter.spec_to_json(spec), _params_to_json(params)]
                         for k, (spec, params) in self.fits.items()},
                "fit_ends": dict(self.fit_ends), "refit": self.refit, "refit_from": dict(self.refit_from)}

    @classmethod
    def from_dict(cls, d: dict, cfg: BaselineConfig | None = None) -> Guide:
        # runs saved before the statsforecast backend used statsmodels
        g = cls(d["name"], int(d["season_length"]), cfg, refit=bool(d.get("refit", False)),
                backend=d.get("backend", "statsmodels"))
        g.fits = {k: (g.fitter.spec_from_json(spec), _params_from_json(params))
                  for k, (spec, params) in d["fits"].items()}
        g.fit_ends = {k: int(v) for k, v in d.get("fit_ends", {}).items()}
        g.refit_from = {k: int(v) for k, v in d.get("refit_from", {}).items()}  # absent (older runs): never refit
        return g
