"""Turning a :class:`Series` into model arrays with what was learnt from the training history.

:class:`Encoder` holds, all fit on the training span only:

* the per-series target scale (``standard`` / ``robust`` / ``none``, see :mod:`.scaling`);
* one standard scale per past and known-future covariate column, pooled over the series;
* static covariates: numbers standardised across series, text one-hot over the training categories;
* calendar features (known-future): for monthly data ``sin, cos(2 pi month / 12)``, quarterly the
  quarter, weekly the week of the year, daily the day of the week and of the year, hourly the hour
  and the day of the week. Cyclic sin/cos pairs keep December next to January.

It is saved in the run folder (JSON) so ``evaluate``/``predict`` encode new data identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .data import Series, SeriesSet, future_times
from .scaling import Scale, fit_scale
from .sessions import Session

__all__ = ["Encoder", "SeriesArrays", "calendar_features"]

# calendar feature name -> (period, function of a DatetimeIndex giving the position in the cycle)
_CYCLES = {
    "month": (12, lambda t: t.month - 1),
    "quarter": (4, lambda t: t.quarter - 1),
    "week": (52.18, lambda t: t.isocalendar().week.to_numpy() - 1),
    "dayofweek": (7, lambda t: t.dayofweek),
    "dayofyear": (365.25, lambda t: t.dayofyear - 1),
    "hour": (24, lambda t: t.hour + t.minute / 60),
}


def calendar_kinds(freq: Any) -> list[str]:
    """The calendar cycles that vary at this frequency (none for yearly data or integer steps)."""
    if not isinstance(freq, str):
        return []
    base = pd.tseries.frequencies.to_offset(freq).rule_code.split("-")[0].upper()
    if base in ("MS", "ME", "M", "SMS", "SME"):
        return ["month"]
    if base in ("QS", "QE", "Q", "BQS", "BQE"):
        return ["quarter"]
    if base == "W":
        return ["week"]
    if base in ("D", "B", "C"):
        return ["dayofweek", "dayofyear"]
    if base in ("H", "BH", "MIN", "T", "S"):
        return ["hour", "dayofweek"]
    return []


def calendar_features(times: pd.Index, kinds: list[str]) -> np.ndarray:
    """``(len(times), 2 * len(kinds))``: sin and cos of each cycle's phase."""
    if not kinds:
        return np.zeros((len(times), 0))
    t = pd.DatetimeIndex(times)
    cols = []
    for k in kinds:
        period, pos = _CYCLES[k]
        phase = 2 * np.pi * np.asarray(pos(t), dtype=np.float64) / period
        cols += [np.sin(phase), np.cos(phase)]
    return np.column_stack(cols)


@dataclass
class SeriesArrays:
    """Scaled arrays of one series: z ``(T,)``, past ``(T, Dp)``, future ``(T + E, Df)``, static ``(Ds,)``."""

    z: np.ndarray
    past: np.ndarray
    future: np.ndarray
    static: np.ndarray


@dataclass
class Encoder:
    method: str
    freq: Any
    target_scales: dict[str, Scale]
    past_scales: list[Scale]
    future_scales: list[Scale]
    calendar: list[str]
    static_numeric: dict[str, Scale] = field(default_factory=dict)
    static_categories: dict[str, list[str]] = field(default_factory=dict)
    static_order: list[str] = field(default_factory=list)
    past_names: list[str] = field(default_factory=list)
    future_names: list[str] = field(default_factory=list)
    season_length: int = 0
    log_target: bool = False

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, history: SeriesSet, method: str, calendar: bool, season_length: int = 0,
            log_target: bool = False) -> Encoder:
        """Fit every scale on ``history`` (the training span of each series); ``season_length`` > 1
        also removes each series' seasonal profile, ``log_target`` scales log y (see :mod:`.scaling`)."""
        series = history.series
        past = [fit_scale(np.concatenate([s.past[:, j] for s in series]), "standard")
                for j in range(len(history.past_names))]
        future = [fit_scale(np.concatenate([s.future[:s.length, j] for s in series]), "standard")
                  for j in range(len(history.future_names))]
        numeric: dict[str, Scale] = {}
        categories: dict[str, list[str]] = {}
        for c in history.static_names:
            values = [s.static[c] for s in series]
            if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values):
                numeric[c] = fit_scale(np.asarray(values, dtype=np.float64), "standard")
            else:
                categories[c] = sorted({str(v) for v in values})
        targets = {}
        for s in series:
            try:
                targets[s.name] = fit_scale(s.target, method, season_length, log_target)
            except ValueError as e:
                raise ValueError(f"series {s.name!r}: {e}") from None
        return cls(method, history.freq, targets, past, future,
                   calendar_kinds(history.freq) if calendar else [], numeric, categories,
                   list(history.static_names), list(history.past_names), list(history.future_names),
                   season_length, log_target)

    # ------------------------------------------------------------------ sizes
    @property
    def n_past(self) -> int:
        return len(self.past_scales)

    @property
    def n_future(self) -> int:
        return len(self.future_scales) + 2 * len(self.calendar)

    @property
    def n_static(self) -> int:
        return len(self.static_numeric) + sum(len(v) for v in self.static_categories.values())

    def feature_names(self) -> dict[str, list[str]]:
        return {
            "calendar": [f"{k}_{f}" for k in self.calendar for f in ("sin", "cos")],
            "static": [c if c in self.static_numeric else f"{c}={v}" for c in self.static_order
                       for v in ([None] if c in self.static_numeric else self.static_categories[c])],
        }

    # ------------------------------------------------------------------ encoding
    def target_scale(self, series: Series) -> Scale:
        """The series' training scale; a series unseen in training is scaled by its own history."""
        if series.name in self.target_scales:
            return self.target_scales[series.name]
        return fit_scale(series.target[~np.isnan(series.target)], self.method, self.season_length, self.log_target)

    def encode(self, series: Series, extra: int = 0) -> SeriesArrays:
        """Scaled arrays of ``series``; ``extra`` > 0 extends the calendar past the series' times."""
        z = self.target_scale(series).transform(series.target)
        past = np.column_stack([sc.transform(series.past[:, j]) for j, sc in enumerate(self.past_scales)]) \
            if self.past_scales else np.zeros((series.length, 0))
        times = series.times
        user = series.future
        need = series.length + extra
        if need > len(times):  # calendar needs times; user covariates past the data are unknown (NaN)
            times = times.append(future_times(times[-1], self.freq, need - len(times)))
            user = np.vstack([user, np.full((need - len(user), user.shape[1]), np.nan)])
        cols = [sc.transform(user[:, j]) for j, sc in enumerate(self.future_scales)]
        future = np.column_stack(cols) if cols else np.zeros((len(times), 0))
        future = np.hstack([future, calendar_features(times, self.calendar)])
        return SeriesArrays(z, past, future, self.encode_static(series))

    def encode_static(self, series: Series) -> np.ndarray:
        out: list[float] = []
        for c in self.static_order:
            if c not in series.static:
                raise ValueError(f"series {series.name!r} has no value for static covariate {c!r}")
            v = series.static[c]
            if c in self.static_numeric:
                out.append(float(self.static_numeric[c].transform(float(v))))
            else:
                cats = self.static_categories[c]
                if str(v) not in cats:
                    raise ValueError(f"static covariate {c!r}: value {v!r} of series {series.name!r} was not seen "
                                     f"in training (known: {', '.join(cats)})")
                out += [1.0 if str(v) == k else 0.0 for k in cats]
        return np.asarray(out, dtype=np.float64)

    # ------------------------------------------------------------------ saving
    def to_dict(self) -> dict:
        return {
            "method": self.method, "freq": self.freq, "calendar": self.calendar,
            "target_scales": {k: v.to_list() for k, v in self.target_scales.items()},
            "past_scales": [s.to_list() for s in self.past_scales],
            "future_scales": [s.to_list() for s in self.future_scales],
            "static_numeric": {k: v.to_list() for k, v in self.static_numeric.items()},
            "static_categories": self.static_categories, "static_order": self.static_order,
            "past_names": self.past_names, "future_names": self.future_names,
            "season_length": self.season_length, "log_target": self.log_target,
            # a daily session's freq is saved as its step ("5min"): the session goes beside it, so
            # the calendar of a reopened run's forecasts skips the nights too
            **({"session": self.freq.spec} if isinstance(self.freq, Session) else {}),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Encoder:
        freq = Session.from_spec(d["session"]) if d.get("session") else d["freq"]
        return cls(d["method"], freq, {k: Scale.from_list(v) for k, v in d["target_scales"].items()},
                   [Scale.from_list(v) for v in d["past_scales"]], [Scale.from_list(v) for v in d["future_scales"]],
                   list(d["calendar"]), {k: Scale.from_list(v) for k, v in d["static_numeric"].items()},
                   {k: list(v) for k, v in d["static_categories"].items()}, list(d["static_order"]),
                   list(d["past_names"]), list(d["future_names"]), int(d.get("season_length", 0)),
                   bool(d.get("log_target", False)))
