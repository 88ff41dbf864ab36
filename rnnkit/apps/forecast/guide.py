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
``y[:o]``, as the baselines are refit at every origin: a guide frozen on old data goes stale when
a series turns (visnights' NSWMetro: ETS(A,A,A) fit on its first 40 quarters with smoothing
constants at their floor kept forecasting the old downward trend, MAE 2-3x the seasonal naive
forecast's at the later origins). Refitting at the validation origins as well scored no better on
five development series (auscafe 1.218 against 1.125, the other four within 0.01). A series unseen in training (a new file at
``predict``) gets its own fit on its observed history.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence

import numpy as np

from .baselines import ARIMA, ETS, _one_blas_thread
from .config import BaselineConfig
from .data import Series, SeriesSet

__all__ = ["GUIDES", "Guide"]

GUIDES = ("ets", "arima")


def _model_for(name: str, season_length: int, cfg: BaselineConfig):
    if name == "ets":
        return ETS(season_length, cfg.max_season)
    if name == "arima":
        return ARIMA(season_length, cfg.max_season, cfg.max_p, cfg.max_q, cfg.max_d)
    raise ValueError(f"model.guide must be one of {GUIDES} (or none), got {name!r}")


def _spec_to_json(spec):
    return [list(v) if isinstance(v, tuple) else v for v in spec]


def _spec_from_json(name: str, spec):
    if name == "ets":
        return spec[0], spec[1]
    return tuple(spec[0]), tuple(spec[1]), spec[2]


class Guide:
    """Per-series ETS or ARIMA fits and the guide channel of windows.

    ``fits``: series name -> (spec, params), the model's structure and estimated parameters
    (what the run folder saves; the channel is recomputed from them). Channels are cached per
    (series, origin, lengths, observed values).
    """

    def __init__(self, name: str, season_length: int, cfg: BaselineConfig | None = None, refit: bool = True):
        self.name = name
        self.season_length = int(season_length)
        self.cfg = cfg or BaselineConfig()
        self.model = _model_for(name, self.season_length, self.cfg)
        self.fits: dict[str, tuple] = {}
        self.fit_ends: dict[str, int] = {}  # series -> points its kept fit saw
        self.refit = refit  # model.guide_refit=every_origin
        self.refit_from: dict[str, int] = {}  # series -> the first origin at which the guide is refit
        self._cache: dict[tuple, np.ndarray] = {}
        self._refits: dict[tuple, tuple] = {}

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
                echo(f"guide {self.name} for {s.name}: {self.model._label(self.fits[s.name][0])}")
        return self

    def _fit_series(self, name: str, y: np.ndarray) -> None:
        if np.isnan(y).any():
            raise ValueError(f"guide {self.name}: series {name!r} has missing values in its history")
        self.fits[name] = self._search(y)
        self.fit_ends[name] = len(y)
        if self.refit:
            self.refit_from[name] = len(y) + 1  # the fit's own origin needs no second one

    def _search(self, y: np.ndarray) -> tuple:
        spec, res = self.model._fit(y)  # the baselines' search
        return spec, np.asarray(res.params, dtype=np.float64)

    def describe(self) -> dict[str, str]:
        return {name: self.model._label(spec) for name, (spec, _) in self.fits.items()}

    def burn_in(self, spec) -> int:
        """Leading one-step predictions that come from the filter's diffuse start (ARIMA only)."""
        if self.name != "arima":
            return 1
        (p, d, _), (P, D, _, m), _ = spec
        return d + D * m + p + P * m + 1

    # ------------------------------------------------------------------ the channel
    def path(self, s: Series, origin: int, input_len: int, horizon: int) -> np.ndarray:
        """``(input_len + horizon - 1,)``: the guide's prediction of the target at each row's step
        (data scale), from ``s.target[:origin]`` only (see the module docstring)."""
        L, H, o = input_len, horizon, origin
        if o < L:
            raise ValueError(f"guide: origin {o} needs {L} observed points before it")
        y = np.asarray(s.target[:o], dtype=np.float64)
        key = (s.name, o, L, H, hashlib.sha1(y.tobytes()).hexdigest())
        if key in self._cache:
            return self._cache[key]
        if np.isnan(y).any():
            bad = int(np.flatnonzero(np.isnan(y))[0])
            raise ValueError(f"guide {self.name}: series {s.name!r} has no value at position {bad}, before the "
                             f"forecast origin {o}")
        if s.name not in self.fits:  # a series unseen in training: fit on what it has
            self._fit_series(s.name, y)
        spec, params = self.fits[s.name]
        if o >= self.refit_from.get(s.name, o + 1):  # past the history: refit on everything before the origin
            refit_key = key[:2] + key[4:]
            if refit_key not in self._refits:
                self._refits[refit_key] = self._search(y)
            spec, params = self._refits[refit_key]
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")
            res = self.model._model(y, spec).filter(params)
            onestep = np.asarray(res.fittedvalues, dtype=np.float64)
            ahead = np.asarray(res.get_forecast(H).predicted_mean, dtype=np.float64)
        burn = self.burn_in(spec)
        t = np.arange(o - L + 1, o)  # the steps predicted by the input rows
        inside = onestep[t]
        early = t < burn
        inside[early] = y[t[early] - 1]  # the diffuse start: the last observed value instead
        out = np.concatenate([inside, ahead])
        if not np.isfinite(out).all():
            raise ValueError(f"guide {self.name}: non-finite prediction for series {s.name!r} at origin {o}")
        self._cache[key] = out
        return out

    def paths(self, series: Sequence[Series], pairs: Sequence[tuple[int, int]], input_len: int,
              horizon: int) -> list[np.ndarray]:
        """The channel of each ``(series index, origin)`` pair."""
        return [self.path(series[i], o, input_len, horizon) for i, o in pairs]

    # ------------------------------------------------------------------ saving
    def to_dict(self) -> dict:
        return {"name": self.name, "season_length": self.season_length,
                "fits": {k: [_spec_to_json(spec), [float(v) for v in params]]
                         for k, (spec, params) in self.fits.items()},
                "fit_ends": dict(self.fit_ends), "refit": self.refit, "refit_from": dict(self.refit_from)}

    @classmethod
    def from_dict(cls, d: dict, cfg: BaselineConfig | None = None) -> Guide:
        g = cls(d["name"], int(d["season_length"]), cfg, refit=bool(d.get("refit", False)))
        g.fits = {k: (_spec_from_json(g.name, spec), np.asarray(params, dtype=np.float64))
                  for k, (spec, params) in d["fits"].items()}
        g.fit_ends = {k: int(v) for k, v in d.get("fit_ends", {}).items()}
        g.refit_from = {k: int(v) for k, v in d.get("refit_from", {}).items()}  # absent (older runs): never refit
        return g
