"""The time grid of a user's series: its frequency, inferred as the coarsest regular grid that
holds every timestamp (and that grid's multiple: readings every 15 minutes are a ``15min``
grid), timestamps a little off a clock step put on it, the season of a frequency, the steps
between two times and the times after a series' end. A daily session (:mod:`.sessions`) is a
frequency too: its steps skip nights and days off.
"""

from __future__ import annotations

import math
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd

from .sessions import Session

__all__ = ["day_too_long_words", "fixed_step", "future_times", "grid_between", "grid_size", "infer_freq",
           "off_grid", "season_length_for", "snap_to_clock", "snap_to_period"]


_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


def fixed_step(freq: Any) -> int | None:
    """The length in nanoseconds of a fixed step (days, hours, minutes, seconds and their
    multiples: ``15min``), None for a calendar's (months, weeks, business days) or a session's
    (a :class:`.sessions.Session` is its step's string too, but its grid skips the nights)."""
    if not isinstance(freq, str) or isinstance(freq, Session):
        return None
    offset = pd.tseries.frequencies.to_offset(freq)
    return pd.Timedelta(offset).value if isinstance(offset, pd.offsets.Tick) else None


def grid_size(first: Any, last: Any, freq: Any) -> int | None:
    """``len(grid_between(first, last, freq))`` without building the grid, for a fixed step
    (:func:`fixed_step`); None otherwise. A grid of seconds over ten years holds 315 million
    steps: irregular instants (R's weekly decimal years written as times) took seconds and
    gigabytes to be found irregular."""
    step = fixed_step(freq)
    if step is None:
        return None
    return (pd.Timestamp(last).value - pd.Timestamp(first).value) // step + 1


def off_grid(times: pd.DatetimeIndex, freq: str) -> pd.Timestamp | None:
    """The first timestamp that is not on the grid ``date_range(times[0], .., freq)``, or None
    (by arithmetic for a fixed step, as sorted times on that grid are whole steps from the first)."""
    step = fixed_step(freq)
    if step is not None and times.is_monotonic_increasing:
        off = (times.asi8 - times.asi8[0]) % step != 0
        return times[off][0] if off.any() else None
    grid = pd.date_range(times[0], times[-1], freq=freq)
    if len(grid) == 0 or grid[0] != times[0]:
        return times[0]
    off = ~times.isin(grid)
    return times[off][0] if off.any() else None


def infer_freq(all_times: list[pd.DatetimeIndex], time_col: str) -> str:
    t0 = all_times[0][0]
    month, day = _MONTHS[t0.month - 1], _DAYS[t0.day_of_week]
    # Business days only over four weeks or more: a few days with one weekend missing are more
    # likely days with a gap than a weekday series.
    weekdays = any(t[0] + pd.Timedelta(days=28) <= t[-1] for t in all_times)  # no subtraction: 300 years overflow it
    # coarsest first: the coarsest grid that holds every timestamp is the series' own step
    for freq in (f"YS-{month}", f"YE-{month}", f"QS-{month}", f"QE-{month}", "MS", "ME", f"W-{day}",
                 "B", "D", "h", "min", "s"):
        if freq == "B" and not weekdays:
            continue
        if all(off_grid(t, freq) is None for t in all_times):
            return _step_multiple(all_times, freq)
    raise ValueError(f"cannot infer a regular frequency from time column {time_col!r}: its timestamps fit "
                     "no grid of years, quarters, months, weeks, business days, days, hours, minutes or seconds; "
                     "give it with data.freq=... (a pandas offset alias such as D, MS or 15min)")


def _step_multiple(all_times: list[pd.DatetimeIndex], freq: str) -> str:
    """``freq``, or its multiple that every series' steps are made of: readings every 15 minutes
    are a grid of ``15min``, not of minutes with 14 of every 15 interpolated (years, days, hours,
    minutes and seconds: a census every 10 years is ``10YS-JAN``; months and quarters have no
    multiples here)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if freq.startswith(("YS-", "YE-")):  # every k years: a census, the Olympic Games
        years = [int(y) for t in all_times if len(t) > 1 for y in np.unique(np.diff(t.year))]
        k = reduce(math.gcd, years, 0)
        if k > 1 and all(off_grid(t, f"{k}{freq}") is None for t in all_times):
            return pd.tseries.frequencies.to_offset(f"{k}{freq}").freqstr
        return offset.freqstr
    if freq not in ("D", "h", "min", "s"):
        return offset.freqstr
    unit = pd.Timedelta(offset).value
    steps = [int(d) // unit for t in all_times if len(t) > 1 for d in np.unique(np.diff(t.asi8))]
    k = reduce(math.gcd, steps, 0)
    if k > 1 and all(off_grid(t, f"{k}{freq}") is None for t in all_times):
        return pd.tseries.frequencies.to_offset(f"{k}{freq}").freqstr
    return offset.freqstr


# steps a logger's clock may be meant to keep (seconds): 1 s to a day
_CLOCK_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 21600, 28800,
                43200, 86400)


def snap_to_clock(times: pd.Series, groups) -> tuple[pd.Series, str | None]:
    """Timestamps a little off a regular clock grid (a logger's ``10:00:03, 10:10:01, 10:20:04``),
    put on it: the grid's step is the usual clock step within 10% of the median step between
    readings; each time goes to the nearest multiple, when none is moved by more than a quarter
    step and no two readings of a series land on one time. Else unchanged (None: no note)."""
    diffs = np.concatenate([np.diff(np.sort(times.iloc[idx].to_numpy().astype("datetime64[ns]").astype(np.int64)))
                            for _, _, idx in groups if len(idx) > 1] or [np.zeros(0, np.int64)])
    diffs = diffs[diffs > 0]
    if len(diffs) < 3:
        return times, None
    median = float(np.median(diffs)) / 1e9
    step = min(_CLOCK_STEPS, key=lambda c: abs(c - median))
    if abs(median - step) > 0.1 * step:
        return times, None
    rounded = times.dt.round(f"{step}s")
    moved = (times - rounded).abs()
    if not moved.any() or moved.max() > pd.Timedelta(seconds=step / 4):
        return times, None
    if any(rounded.iloc[idx].duplicated().any() for _, _, idx in groups):
        return times, None
    grid = pd.tseries.frequencies.to_offset(f"{step}s").freqstr
    return rounded, (f"{int((moved > pd.Timedelta(0)).sum())} timestamp(s) up to {moved.max().total_seconds():g} s "
                     f"off a {_clock_words(step)} grid were put on it (a logger's clock; data.freq={grid} says so, "
                     "another data.freq sets another grid)")


# the calendar periods readings may be taken once in: the band of the median days between them, the
# grid they are put on (labelled by the period's first day), and the period's name
_PERIODS = (((6.0, 8.0), "W-MON", "week"), ((27.0, 32.0), "MS", "month"), ((85.0, 95.0), "QS-JAN", "quarter"),
            ((360.0, 370.0), "YS-JAN", "year"))


def snap_to_period(times: pd.Series, groups) -> tuple[pd.Series, str | None]:
    """Dates of readings taken once a week, month, quarter or year on varying days (polls in the
    third week of each month, prices on each month's last trading day: ``1983-01-20, 1983-02-17,
    1983-03-17``), put on that period's grid, each at its period's first day (a week's Monday):
    where the dates keep no regular grid of their own but days (or business days; a 30-day grid is
    one of their own), the median days between a series' readings are the period's (7, 27-32,
    85-95, 360-370), no two readings of a series fall in one period, and each series has a reading
    in at least half of its periods. Else unchanged (None: no note)."""
    if not pd.api.types.is_datetime64_any_dtype(times) or (times != times.dt.normalize()).any():
        return times, None
    ordered = [pd.DatetimeIndex(np.sort(times.iloc[idx].to_numpy())) for _, _, idx in groups]
    if any(len(t) < 3 for t in ordered):
        return times, None
    try:
        if not infer_freq(ordered, "").startswith(("B", "D")):  # on a calendar grid already (month ends ...)
            return times, None
    except ValueError:
        pass
    days = float(np.median(np.concatenate([np.diff(t.asi8) for t in ordered]))) / 86400e9
    for (low, high), freq, name in _PERIODS:
        if not low <= days <= high:
            continue
        period = freq.split("-")[0].replace("S", "") if freq != "W-MON" else "W-SUN"  # pandas' period of the grid
        starts = times.dt.to_period(period).dt.start_time
        for _, _, idx in groups:
            labels = pd.DatetimeIndex(np.sort(starts.iloc[idx].to_numpy()))
            if labels.has_duplicates or len(labels) * 2 < len(pd.date_range(labels[0], labels[-1], freq=freq)):
                return times, None
        moved = times[times != starts]  # examples that show the days varying
        shown = ", ".join(f"{d:%Y-%m-%d}" for d in (moved if len(moved) else times).iloc[:3])
        return starts, (f"readings once a {name} on varying days ({shown} ...) read as {name}ly, each at its "
                        f"{name}'s first day (data.freq=D asks for the days instead)")
    return times, None


def _clock_words(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n}-{unit}" if n > 1 else f"one-{unit}"
    return f"{seconds}-second"


# the longest day, in steps, that a step below an hour gets as its season: a seasonal AutoARIMA
# took 13 s a fit with a season of 48 and 29 s with 96 (5,000 half-hours, one core), so finer
# steps (10-minute readings: 144) keep a season of 1 unless data.season_length gives the day
MAX_DAY_STEPS = 96


def season_length_for(freq: Any) -> int:
    """Default seasonal period m of a frequency: 12 monthly, 4 quarterly, 52 weekly, 7 daily, 5
    business days, 24 hourly; a day for a multiple of hours (8 for every 3 hours) and for steps
    below an hour of 15 minutes or more (48 for half-hours, 96 for quarter-hours:
    :data:`MAX_DAY_STEPS`); 1 otherwise (``data.season_length=144`` gives 10-minute readings
    their day). A daily session's season is one session, by the same bound (12 for hourly
    readings 09:00-20:00; 1 for ``bank_calls``' 169 five-minute slots a day)."""
    if isinstance(freq, Session):
        return freq.slots if freq.slots <= MAX_DAY_STEPS else 1
    if not isinstance(freq, str):
        return 1
    offset = pd.tseries.frequencies.to_offset(freq)
    base = offset.rule_code.split("-")[0].upper()
    if base in ("MIN", "T", "S"):  # a day of steps below an hour, where it is whole and not too long
        steps = _whole_day_steps(freq)
        return steps if steps is not None and 2 <= steps <= MAX_DAY_STEPS else 1
    m = {"MS": 12, "ME": 12, "M": 12, "QS": 4, "QE": 4, "Q": 4, "W": 52, "D": 7, "B": 5, "H": 24,
         "BH": 8}.get(base, 1)
    if offset.n > 1:  # every 3 hours: 8 a day; every 2 days has no whole week
        m = m // offset.n if base == "H" and m % offset.n == 0 else 1
    return m


def _whole_day_steps(freq: str) -> int | None:
    """How many steps of ``freq`` make a day, for steps below an hour (minutes, seconds) that
    divide it; None otherwise."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if offset.rule_code.split("-")[0].upper() not in ("MIN", "T", "S"):
        return None
    steps = 86400 / pd.Timedelta(offset).total_seconds()
    return int(steps) if steps == int(steps) else None


def day_too_long_words(freq: Any) -> str | None:
    """Why steps below an hour whose day is longer than :data:`MAX_DAY_STEPS` get no season (10
    minutes: 144 a day), and how to give them their day; None for any other frequency."""
    steps = _whole_day_steps(freq) if isinstance(freq, str) else None
    if steps is None or steps <= MAX_DAY_STEPS:
        return None
    return (f"season: none by default for steps of {freq}: a day is {steps} of them, longer than a default "
            f"season may be ({MAX_DAY_STEPS}); data.season_length={steps} gives the series its day")


def grid_between(first: Any, last: Any, freq: Any) -> pd.DatetimeIndex:
    """Every step of ``freq`` from ``first`` to ``last``: a regular grid, or a session's slots."""
    if isinstance(freq, Session):
        return freq.grid(first, last)
    return pd.date_range(first, last, freq=freq)


def future_times(last: Any, freq: Any, n: int) -> pd.Index:
    """The ``n`` grid steps after ``last`` (a session's continue at the next session's start)."""
    if isinstance(freq, Session):
        return freq.after(last, n)
    if isinstance(freq, str):
        return pd.date_range(last, periods=n + 1, freq=freq)[1:]
    return pd.Index([int(last) + freq * (k + 1) for k in range(n)])
