"""Local clock times without a zone that repeat an hour when summer time ends.

Meters, loggers and market exports often write local wall-clock times with no UTC offset. When
summer time ends the clock goes back an hour and that hour is written twice (``2019-10-27 02:00``
in Berlin, ``2019-11-03 01:00`` in New York); when it starts, an hour is skipped. Read as they
are, the repeat is a duplicated timestamp and the skip a gap that would be filled with a made-up
value. Read in standard (winter) time throughout, the readings lie on a regular grid with
neither: every reading in summer time is moved an hour earlier (the first of each repeated pair
is still summer time, as the file gives it first).

The change is recognised only when every repeated timestamp falls in the hour a rule repeats:

* the European Union's (and the United Kingdom's): the last Sunday of October, the clock going
  back at 01:00 UTC, so the repeated hour starts at 01:00 (UTC+0), 02:00 (UTC+1) or 03:00 (UTC+2),
  and summer time begins at the same hour of the last Sunday of March;
* the United States' and Canada's: the first Sunday of November, 01:00-02:00 repeated, summer
  time from 02:00 on the second Sunday of March;
* Australia's (the states with summer time, since 2008) and New Zealand's (since 2007), in the
  southern summer: the first Sunday of April, 02:00-03:00 repeated, summer time from 02:00 on the
  first Sunday of October (Australia) or the last Sunday of September (New Zealand), so it spans
  the new year. The two repeat the same hour; New Zealand's is taken when the data skips 02:00 on
  its spring Sunday, else Australia's (the two differ only on the days between those Sundays).

Older rules (Australia's before 2008, New Zealand's before 2007, the United States' before 2007)
repeat other hours: their repeats stay the duplicate error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["in_repeated_hour", "standard_time"]


def _sunday(year: int, month: int, nth: int) -> pd.Timestamp:
    """The nth Sunday of a month (nth = -1: the last)."""
    days = pd.date_range(f"{year}-{month:02d}-01", periods=pd.Timestamp(year, month, 1).days_in_month, freq="D")
    sundays = days[days.dayofweek == 6]
    return sundays[nth]


def _rule(moment: pd.Timestamp) -> tuple[str, int] | None:
    """``(rule, hour)`` when ``moment`` lies in the hour a rule repeats, else None."""
    day, hour = moment.normalize(), moment.hour
    if moment.month == 10 and day == _sunday(moment.year, 10, -1) and hour in (1, 2, 3):
        return "EU", hour
    if moment.month == 11 and day == _sunday(moment.year, 11, 0) and hour == 1:
        return "US", hour
    if moment.month == 4 and day == _sunday(moment.year, 4, 0) and hour == 2:
        return "south", hour
    return None


def in_repeated_hour(times: pd.Series) -> bool:
    """Whether every one of ``times`` lies in the hour one rule repeats (as :func:`standard_time`
    reads them): the duplicates of local clock times that summer time's end explains."""
    rules = {_rule(pd.Timestamp(t)) for t in times}
    return len(times) > 0 and None not in rules and len(rules) == 1


def _skips_hour(times: pd.Series, start: pd.Timestamp) -> bool:
    """Whether the readings cover the hours around ``[start, start + 1 h)`` but none inside it."""
    hour = pd.Timedelta(hours=1)
    inside = ((times >= start) & (times < start + hour)).any()
    return not inside and (times < start).any() and (times >= start + hour).any() \
        and ((times >= start - hour) & (times < start + 2 * hour)).any()


def _southern(times: pd.Series) -> str:
    """``"NZ"`` when the readings skip 02:00 on New Zealand's spring Sunday in some year, else ``"AU"``."""
    for year in np.unique(times.dt.year.to_numpy()):
        if _skips_hour(times, _sunday(int(year), 9, -1) + pd.Timedelta(hours=2)):
            return "NZ"
    return "AU"


def _summer(year: int, rule: str, hour: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The wall-clock start of summer time (the first time after the skipped hour) and of the
    repeated hour, in ``year``. In the south summer time starts after it ends in the same year."""
    if rule == "AU":
        return _sunday(year, 10, 0) + pd.Timedelta(hours=3), _sunday(year, 4, 0) + pd.Timedelta(hours=hour)
    if rule == "NZ":
        return _sunday(year, 9, -1) + pd.Timedelta(hours=3), _sunday(year, 4, 0) + pd.Timedelta(hours=hour)
    if rule == "EU":
        return (_sunday(year, 3, -1) + pd.Timedelta(hours=hour + 1), _sunday(year, 10, -1) + pd.Timedelta(hours=hour))
    return _sunday(year, 3, 1) + pd.Timedelta(hours=3), _sunday(year, 11, 0) + pd.Timedelta(hours=hour)


def standard_time(times: pd.Series, groups) -> tuple[pd.Series, str | None]:
    """``(times, note)``: clock times that repeat the hour summer time ends in, in standard time
    (see the module doc); the times unchanged and None when nothing repeats, or when a repeated
    time is not in a rule's repeated hour, or a time repeats more than twice in a series.
    ``groups``: ``(name, column, row indices)`` per series, the rows in the file's order."""
    if not pd.api.types.is_datetime64_any_dtype(times):
        return times, None
    repeated = set()
    for _, _, idx in groups:
        t = times.iloc[idx]
        counts = t.value_counts()
        if (counts > 2).any():
            return times, None
        repeated.update(counts.index[counts == 2])
    if not repeated:
        return times, None
    if not in_repeated_hour(pd.Series(sorted(repeated))):
        return times, None
    (rule, hour), = {_rule(m) for m in repeated}
    if rule == "south":
        rule = _southern(times)
    out = times.copy()
    for _, _, idx in groups:
        t = times.iloc[idx]
        years = t.dt.year.to_numpy()
        summer = np.zeros(len(t), dtype=bool)
        for year in np.unique(years):
            begins, repeat = _summer(int(year), rule, hour)
            here = years == year
            in_repeat = (t >= repeat) & (t < repeat + pd.Timedelta(hours=1))
            first = ~t.duplicated(keep="first")  # the first of a repeated pair is still summer time
            if begins < repeat:  # north: summer between spring and autumn
                between = (t >= begins) & (t < repeat)
            else:  # south: summer from the new year to autumn and from spring to the year's end
                between = (t < repeat) | (t >= begins)
            summer |= here & (between | (in_repeat & first)).to_numpy()
        out.iloc[idx] = (t - pd.to_timedelta(summer.astype(int), unit="h")).to_numpy()
    first = min(repeated)
    where = {"EU": "the European Union's", "US": "the United States'", "AU": "Australia's",
             "NZ": "New Zealand's"}[rule]
    return out, (f"clock times repeat the hour summer time ends in ({first:%Y-%m-%d %H:%M}, {where} rule): read in "
                 "standard (winter) time throughout, summer readings an hour earlier (forecasts are in standard "
                 "time too)")
