"""Rolling-origin backtesting on the same windows for every model, with the future hidden.

Origins: for a series of T points, ``o_k = T - H - (K - 1 - k) * stride`` for k = 0..K-1, so the
last horizon ends at the last point. The span before the first origin is the *history*: the only
data any model learns from (RNN weights, scales, baseline parameters and orders).

Leak guard: at each origin every forecaster receives a copy of the series whose target and past
covariates from the origin on are NaN (known-future covariates stay). Nothing it reads there can
carry information, and a forecaster that reads it anyway returns NaN, which
:func:`run_backtest` reports as a :class:`LeakError` naming the model, the series and the origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import pandas as pd

from .data import Series, SeriesSet, fmt_time

__all__ = ["BacktestPlan", "Forecaster", "LeakError", "check_lengths", "cut_before", "hide_future", "history_set",
           "plan_backtest", "run_backtest", "split_train_only", "training_set"]


class LeakError(RuntimeError):
    """A forecaster's output depends on values it must not see (they are NaN in the backtest)."""


class Forecaster(Protocol):
    name: str

    def forecast(self, series: Sequence[Series], origins: Sequence[int], horizon: int,
                 level: float) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(point, lo, hi), each ``(horizon,)``, for each (series, origin); ``series[i]`` is hidden from
        ``origins[i]`` on."""


@dataclass
class BacktestPlan:
    horizon: int
    origins: list[list[int]]  # per series, increasing

    @property
    def first(self) -> list[int]:
        return [o[0] for o in self.origins]


def val_size_for(history: int, horizon: int, val_size: int) -> int:
    """Validation points at the end of a history: the given size, or a tenth of it (>= horizon)."""
    return val_size if val_size else max(horizon, history // 10)


def check_lengths(sset: SeriesSet, input_len: int, horizon: int, windows: int, stride: int, val_size: int,
                  input_key: str = "window.input_len", partial: bool = False) -> None:
    """Each too-short series is an error naming it and the numbers that do not fit.

    First what any forecast needs (horizon < T, T >= input_len + horizon), then what the backtest
    needs (one training window and the validation span before the first origin). ``input_key``:
    the config key that set ``input_len`` (the longest member's of a multi-window ensemble).
    """
    for s in sset.series:
        T = s.length
        if horizon >= T:
            raise ValueError(f"window.horizon={horizon} is longer than series {s.name!r} ({T} points)")
        if T < input_len + horizon:
            raise ValueError(f"series {s.name!r} has {T} points, fewer than {input_key} + window.horizon = "
                             f"{input_len} + {horizon} = {input_len + horizon}")
    for s in sset.series:
        T = s.length
        history = T - horizon - (windows - 1) * stride
        val = val_size_for(max(history, 0), horizon, val_size)
        if partial:  # partial windows: two training origins with a target before the validation span
            need = input_len + val + 2
            what = f"{input_key} {input_len} + 2 training origins + {val} for validation"
        else:
            need = input_len + horizon + max(val, horizon)
            what = (f"{input_key} {input_len} + horizon {horizon} for one training window, "
                    f"+ {max(val, horizon)} for validation")
        if history < need:
            raise ValueError(
                f"series {s.name!r} has {T} points: a backtest of {windows} windows {stride} steps apart "
                f"leaves {history} points of history before the first origin, fewer than the "
                f"{need} needed ({what}); lower backtest.windows or {input_key}")


def plan_backtest(sset: SeriesSet, horizon: int, windows: int, stride: int) -> BacktestPlan:
    origins = [[s.length - horizon - (windows - 1 - k) * stride for k in range(windows)] for s in sset.series]
    return BacktestPlan(horizon, origins)


def history_set(sset: SeriesSet, ends: Sequence[int]) -> SeriesSet:
    """Each series cut at ``ends[i]`` (exclusive): the training history, with no future rows."""
    cut = [Series(s.name, s.times[:e], s.target[:e].copy(), s.past[:e].copy(), s.future[:e].copy(), s.static,
                  s.filled) for s, e in zip(sset.series, ends)]
    return replace(sset, series=cut)


def split_train_only(sset: SeriesSet, names: Sequence[str]) -> tuple[SeriesSet, list[Series]]:
    """(the scored series, the training-only series ``names``): each name must be a series of the set,
    and at least one series must stay to be scored."""
    names = list(dict.fromkeys(names))
    if not names:
        return sset, []
    known = set(sset.names)
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"data.train_only: {missing} are not series of the data; series are: {', '.join(sset.names)}")
    scored = [s for s in sset.series if s.name not in names]
    if not scored:
        raise ValueError("data.train_only names every series: at least one series must be forecast and scored")
    extra = [s for s in sset.series if s.name in names]
    return replace(sset, series=scored, train_only=()), extra


def cut_before(s: Series, time) -> Series:
    """``s`` up to (excluding) ``time``: no target, covariate or future row at or after it."""
    e = int(s.times.searchsorted(time, side="left"))
    return Series(s.name, s.times[:e], s.target[:e].copy(), s.past[:e].copy(), s.future[:e].copy(), s.static,
                  s.filled)


def training_set(history: SeriesSet, extra: Sequence[Series], first_origin_times: Sequence, input_len: int,
                 horizon: int, val_size: int, input_key: str = "input_len") -> SeriesSet:
    """The RNN's training data: the scored series' history plus each training-only series cut
    before the *earliest* first-origin time of the scored series, so that no value at or after any
    backtest origin reaches the model through them either. A training-only series too short after
    the cut for one training window is an error naming it (nothing is dropped silently)."""
    if not extra:
        return history
    cut_time = min(first_origin_times)
    cut = []
    for s in extra:
        c = cut_before(s, cut_time)
        val = val_size_for(c.length, horizon, val_size)
        need = input_len + horizon + val
        if c.length < need:
            raise ValueError(f"training-only series {s.name!r} has {c.length} points before the first backtest "
                             f"origin ({fmt_time(cut_time)}), fewer than the {need} needed for one training window "
                             f"({input_key} {input_len} + horizon {horizon} + validation span {val}); "
                             "leave it out of data.train_only")
        cut.append(c)
    return replace(history, series=[*history.series, *cut], train_only=tuple(s.name for s in extra))


def hide_future(s: Series, origin: int) -> Series:
    """A copy of ``s`` with target and past covariates NaN from ``origin`` on (known-future kept)."""
    target, past = s.target.copy(), s.past.copy()
    target[origin:] = np.nan
    past[origin:] = np.nan
    return Series(s.name, s.times, target, past, s.future, s.static, s.filled)


def run_backtest(sset: SeriesSet, plan: BacktestPlan, forecasters: Sequence[Forecaster], level: float,
                 echo=None) -> pd.DataFrame:
    """Forecast every origin of every series with every forecaster.

    Returns one row per (model, series, origin, step): columns model, series, origin (its time),
    step (1..H), time, actual, point, lo, hi.
    """
    H = plan.horizon
    views, origins, owners = [], [], []
    for i, (s, os_) in enumerate(zip(sset.series, plan.origins)):
        for o in os_:
            views.append(hide_future(s, o))
            origins.append(o)
            owners.append(i)
    frames = []
    for f in forecasters:
        if echo:
            echo(f"backtest: {f.name} on {len(views)} windows")
        out = f.forecast(views, origins, H, level)
        rows = []
        for (point, lo, hi), o, i in zip(out, origins, owners):
            s = sset.series[i]
            arrays = [np.asarray(a, dtype=np.float64) for a in (point, lo, hi)]
            if any(a.shape != (H,) for a in arrays):
                raise ValueError(f"{f.name}: expected forecasts of shape ({H},), got {[a.shape for a in arrays]}")
            if not all(np.isfinite(a).all() for a in arrays):
                raise LeakError(
                    f"{f.name} returned a non-finite forecast for series {s.name!r} at origin {fmt_time(s.times[o])}: "
                    "the backtest hides every target and past-covariate value from the origin on as NaN, "
                    "so the model read data it must not see (or its computation failed)")
            rows.append(pd.DataFrame({
                "model": f.name, "series": s.name, "origin": s.times[o], "step": np.arange(1, H + 1),
                "time": s.times[o:o + H], "actual": s.target[o:o + H],
                "point": arrays[0], "lo": arrays[1], "hi": arrays[2]}))
        frames += rows
    return pd.concat(frames, ignore_index=True)
