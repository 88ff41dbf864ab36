"""Sub-daily readings taken only in a daily session: a call centre's calls every five minutes from
07:00 to 21:00 on weekdays (fpp3's ``bank_calls``), a market's prices in its trading hours. On a
regular grid most steps of such a series are nights and weekends that were never observed, and
filling them would make most of the series up; in *session order* they are skipped: the grid is,
for each session day, the slots from the session's first to its last clock time at the step, and
after 21:00 comes 07:00 of the next session day. A session may run past midnight (a night shift
22:00-06:00; a futures market trading from 18:00 to 16:00 the next day, Sunday to Thursday): its
day is the day it starts on, and the part of the day skipped is the break between sessions.

The rule (:func:`infer_session`), over the readings of every series together:

* the readings are sub-daily, a whole number of steps after the session's start ``S``: the
  earliest clock time of any reading (07:00 for the call centre), or where no session starts
  there, the clock time that ends the longest stretch between two readings of a day if that is
  longer than the stretch over midnight (18:00 for the futures market, whose break is 16:00-18:00;
  22:00 for the night shift). The step is the greatest common divisor of the
  readings' times after ``S`` (5 minutes), the end ``E`` the latest of them, so the session holds
  ``slots = (E - S) / step + 1`` readings a day;
* the break is never observed: ``slots x step`` is shorter than a day;
* most days keep the session: more than half of the session days of each series start at ``S``,
  and more than half end at ``E`` (readings at shifting hours are no session). A reading's
  session day is the day of its time less ``S``;
* the session days are the days of the week of any reading's session day, when some series spans four
  weeks or more (weekdays for a bank or a stock exchange, Sunday to Thursday for some exchanges,
  every day for a shop open on all of them); with less, every day, as business days need four
  weeks (a few days with one weekend missing are more likely days with a gap). A session day
  with no reading inside a series' span (a holiday) is a gap, filled as any other;
* the grid from each series' first to its last reading is at most half empty, as any grid.

A :class:`Session` is the frequency of such a series. Its text is the step's pandas alias
(``5min``): the code that asks pandas about the step alone (the default horizon, the calendar
features' cycles of hour and day of week) reads the step, while :mod:`.grid` lays times out in
session order (:meth:`Session.grid`, :meth:`Session.after`).
"""

from __future__ import annotations

import math
from functools import reduce
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # annotations only: typing.Self is Python 3.11+
    from typing_extensions import Self

__all__ = ["SESSION", "Session", "infer_session", "session_days_without_readings"]

SESSION = "session"  # data.freq=session: read the readings in session order, or say why not
_DAY = 86_400 * 10**9  # ns
_WEEK = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FOUR_WEEKS = pd.Timedelta(days=28)


class Session(str):
    """A daily session: ``slots`` readings ``step`` apart from clock time ``start``, on the days of
    the week in ``days`` (a pandas weekmask such as ``"Mon Tue Wed Thu Fri"``). The string is the
    step's alias (``"5min"``); :attr:`spec` writes the whole session (saved with a run)."""

    step: pd.Timedelta
    start: pd.Timedelta
    slots: int
    days: str

    def __new__(cls, step: pd.Timedelta, start: pd.Timedelta, slots: int, days: str) -> Self:
        step, start = pd.Timedelta(step), pd.Timedelta(start)
        day = pd.Timedelta(days=1)
        if step <= pd.Timedelta(0) or slots < 2 or slots * step >= day or not pd.Timedelta(0) <= start < day:
            raise ValueError(f"a session is 2 or more steps from a clock time, shorter than a day; got {slots} "
                             f"steps of {step} from {start}")
        self = super().__new__(cls, pd.tseries.frequencies.to_offset(step).freqstr)
        self.step, self.start, self.slots, self.days = step, start, int(slots), " ".join(days.split())
        return self

    def __reduce__(self):  # pickled to the baselines' worker with the series
        return Session, (self.step, self.start, self.slots, self.days)

    @property
    def end(self) -> pd.Timedelta:
        """The time of the session's last slot after its day's midnight (a day or more when the
        session runs past midnight)."""
        return self.start + (self.slots - 1) * self.step

    @property
    def past_midnight(self) -> bool:
        return self.end >= pd.Timedelta(days=1)

    def day_of(self, t) -> pd.Timestamp | pd.DatetimeIndex:
        """The session day (a midnight) of slot time(s) ``t``: the day the session began on."""
        return (t - self.start).normalize()

    @property
    def spec(self) -> str:
        """``session 5min 07:00-21:00 Mon Tue Wed Thu Fri``: read back by :meth:`from_spec`."""
        return f"{SESSION} {self} {_clock(self.start)}-{_clock(self.end)} {self.days}"

    @classmethod
    def from_spec(cls, spec: str) -> Session:
        word, step, hours, *days = spec.split()
        first, last = (pd.Timedelta(h if h.count(":") == 2 else f"{h}:00") for h in hours.split("-"))
        step_td = pd.Timedelta(pd.tseries.frequencies.to_offset(step))
        if last < first:  # the session runs past midnight
            last += pd.Timedelta(days=1)
        if word != SESSION or (last - first) % step_td:
            raise ValueError(f"not a session: {spec!r} (expected e.g. 'session 5min 07:00-21:00 Mon Tue Wed')")
        return cls(step_td, first, (last - first) // step_td + 1, " ".join(days))

    def session_days(self, first, last=None, periods: int | None = None) -> pd.DatetimeIndex:
        """The session days (midnights) from the session day of slot ``first`` to that of ``last``,
        or ``periods`` of them."""
        start = self.day_of(pd.Timestamp(first))
        end = None if last is None else self.day_of(pd.Timestamp(last))
        return pd.date_range(start, end, periods=periods, freq=pd.offsets.CustomBusinessDay(weekmask=self.days))

    def _slots_of(self, days: pd.DatetimeIndex) -> pd.DatetimeIndex:
        """Every slot of ``days`` (midnights), day by day: ``(len(days) * slots,)``."""
        clock = self.start + self.step * np.arange(self.slots)
        return pd.DatetimeIndex(days.repeat(self.slots) + pd.TimedeltaIndex(np.tile(clock, len(days))))

    def grid(self, first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
        """The slots from ``first`` to ``last`` (both slots), nights and days off skipped."""
        first, last = pd.Timestamp(first), pd.Timestamp(last)
        slots = self._slots_of(self.session_days(first, last))
        return slots[(slots >= first) & (slots <= last)]

    def after(self, last, n: int) -> pd.DatetimeIndex:
        """The ``n`` slots after ``last``: the rest of its session, then the next session days'."""
        last = pd.Timestamp(last)
        slots = self._slots_of(self.session_days(last, periods=n // self.slots + 2))
        return slots[slots > last][:n]

    @property
    def summary(self) -> str:
        """``5-minute readings in a daily session 07:00-21:00 on weekdays, nights and weekends skipped``."""
        night = "the breaks" if self.past_midnight else "nights"
        every = {"Mon Tue Wed Thu Fri": ("on weekdays", f"{night} and weekends skipped"),
                 " ".join(_WEEK): ("every day", f"{night} skipped")}
        off = ", ".join(d for d in _WEEK if d not in self.days.split())
        on, skipped = every.get(self.days, (f"on {', '.join(self.days.split())}", f"{night} and {off} skipped"))
        past = " (into the next day)" if self.past_midnight else ""
        return (f"{_step_words(self.step)} readings in a daily session {_clock(self.start)}-{_clock(self.end)}{past} "
                f"{on}, {skipped}")

    def describe(self, season: int) -> str:
        """The run's frequency note; ``season``: the season the session gets by default."""
        said = (f"season {season}, one session" if season == self.slots else
                f"season {season}: a session of {self.slots} steps is longer than a default season may be; "
                f"data.season_length={self.slots} makes it the season")
        return (f"frequency: {self.summary} ({self.slots} per session; {said}; data.freq={self} asks for a regular "
                "grid instead)")


def _clock(t: pd.Timedelta) -> str:
    """``07:00``: the clock time of ``t`` after a midnight (the next day's for a day or more)."""
    seconds = int(t.total_seconds()) % 86_400
    hhmm = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return hhmm + (f":{seconds % 60:02d}" if seconds % 60 else "")


def _step_words(step: pd.Timedelta) -> str:
    """``5-minute``, ``hourly``, ``30-second``."""
    seconds = int(step.total_seconds())
    for unit, size, one in (("hour", 3600, "hourly"), ("minute", 60, "one-minute")):
        if seconds % size == 0:
            return f"{seconds // size}-{unit}" if seconds > size else one
    return f"{seconds}-second"


def _nanoseconds(times: pd.DatetimeIndex) -> np.ndarray:
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def _longest_break_end(clock: np.ndarray) -> int | None:
    """The clock time (ns after midnight) that ends the longest stretch between two readings of a
    day, when it is longer than the stretch from the latest clock time to the earliest over
    midnight (then a session there runs past midnight); else None. ``clock``: the readings'
    clock times."""
    times = np.unique(clock)
    if len(times) < 2:
        return None
    gaps = np.diff(times)
    inside = int(np.argmax(gaps))
    return int(times[inside + 1]) if gaps[inside] > times[0] + _DAY - times[-1] else None


def infer_session(all_times: list[pd.DatetimeIndex]) -> tuple[Session | None, str]:
    """``(session, "")`` when the readings keep a daily session (the module's rule), else
    ``(None, why not)``. ``all_times``: each series' distinct timestamps, sorted.

    The session from the earliest clock time is tried first, so whatever read as a session
    before sessions could run past midnight reads the same; then, where the longest stretch
    without readings lies inside the day, the session that starts at its end."""
    ns = [_nanoseconds(t) for t in all_times if len(t)]
    if not ns:
        return None, "there are no readings"
    every = np.concatenate(ns)
    clock = every - every // _DAY * _DAY  # the time of day (floor division: days before 1970 too)
    found, why_not = _session_from(int(clock.min()), every, ns, all_times)
    overnight = _longest_break_end(clock)
    if found is None and overnight is not None:
        crossing, why_not_crossing = _session_from(overnight, every, ns, all_times)
        if crossing is not None:
            return crossing, ""
        if why_not.startswith("readings cover the whole day"):  # the first saw no night at all
            why_not = why_not_crossing
    return found, why_not


def _session_from(start: int, every: np.ndarray, ns: list[np.ndarray],
                  all_times: list[pd.DatetimeIndex]) -> tuple[Session | None, str]:
    """The session that starts at clock time ``start`` (ns), if the readings keep it (the module's
    rule). ``every``: all readings (ns); ``ns``, ``all_times``: each series'."""
    after = (every - start) - (every - start) // _DAY * _DAY  # each reading's time after its session's start
    end = int(after.max())
    step = reduce(math.gcd, np.unique(after).tolist(), 0)
    if step == 0:
        return None, "every reading is at one time of day (daily readings, not a session)"
    slots = end // step + 1
    first, last = _clock(pd.Timedelta(start)), _clock(pd.Timedelta(start + end))
    if slots * step >= _DAY:
        return None, f"readings cover the whole day ({first}-{last}): there is no night to skip"
    for t in ns:  # more than half of each series' session days start at the session's start, and end at its end
        days, clock = (t - start) // _DAY, (t - start) - (t - start) // _DAY * _DAY
        per_day = pd.Series(clock).groupby(days).agg(["min", "max"])
        opened, closed = float((per_day["min"] == 0).mean()), float((per_day["max"] == end).mean())
        if opened <= 0.5 or closed <= 0.5:
            return None, (f"the readings keep no daily session: {opened:.0%} of the days start at {first} and "
                          f"{closed:.0%} end at {last}")
    long = any(t[0] + _FOUR_WEEKS <= t[-1] for t in all_times if len(t))  # no subtraction, as grid.infer_freq
    seen = np.unique((pd.DatetimeIndex(every) - pd.Timedelta(start)).dayofweek) if long else np.arange(7)
    session = Session(pd.Timedelta(step), pd.Timedelta(start), slots, " ".join(_WEEK[d] for d in seen))
    for t in all_times:
        grid = session.grid(t[0], t[-1])
        if len(grid) - len(t) > len(grid) / 2:
            return None, (f"a series' {len(t)} readings would leave {len(grid) - len(t)} of the {len(grid)} steps "
                          f"of the session {first}-{last} empty")
    return session, ""


def session_days_without_readings(all_times: list[pd.DatetimeIndex], session: Session) -> pd.DatetimeIndex:
    """The session days inside some series' span on which it has no reading (holidays), sorted."""
    missing: set[pd.Timestamp] = set()
    for t in all_times:
        days = session.session_days(t[0], t[-1])
        missing.update(days.difference(session.day_of(pd.DatetimeIndex(t)).unique()))
    return pd.DatetimeIndex(sorted(missing))
