"""Tables whose times run across the columns, turned into the long format the reader takes.

Statistics offices and data portals often publish one row per series and one column per period:
the World Bank (``Country Name, Country Code, Indicator Name, Indicator Code, 1960, 1961, ...``),
Eurostat (``unit,geo\\TIME_PERIOD, 2010 , 2011 ...``), the Johns Hopkins case counts
(``Province/State, Country/Region, Lat, Long, 1/22/20, 1/23/20, ...``). Such a table becomes one
row per (series, time) in three columns: the series' name, ``date`` and ``value``:

* the columns whose names are times (years, months, quarters, weeks, dates) are the times;
* the series' name is the leftmost other text column that is filled and different in every row
  (``Country Name``); when none is, the text columns together (``Province/State / Country/Region``);
  Eurostat's first column (``unit,geo\\TIME_PERIOD``) is split at its commas first;
* other columns that describe the series (a code beside its name, an indicator, a latitude) are
  left out, and the note says which.

Years behind one prefix shared by all of them are years too: R writes a column named ``1960`` as
``X1960`` (``read.csv``'s ``check.names``), tidied tables write ``year_1960`` or ``yr1960``, and
the World Bank's download tool ``1960 [YR1960]``.

One row of months (or quarters) under columns of years (``Month, 1949, 1950, ...``: a year per
column, the months down the rows) is one series whose dates are each year's months.

A table is turned only when at least three column names are times and they are at least half of
its named columns; an ordinary table (times down a column) never has that many.
"""

from __future__ import annotations

import re
import warnings

import pandas as pd

from .writings import period_dates

__all__ = ["times_across_columns"]

_YEAR = re.compile(r"^\s*([12]\d{3})\s*$")
# "2000 Q1", "2000Q1", "1991 W06", "1991-W06": a quarter or an ISO week after its year
_YEAR_PERIOD = re.compile(r"^\s*[12]\d{3}\s*[- ]?\s*[QW]\d{1,2}\s*$", re.IGNORECASE)
# what a written date has: a four-digit year, or day/month/year numbers ("1/22/20")
_DATE_SHAPE = re.compile(r"[12]\d{3}|^\s*\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\s*$")
# a year behind a prefix ("X1960", "year_1960", "yr 1960"), and the World Bank tool's "1960 [YR1960]"
_PREFIXED_YEAR = re.compile(r"^\s*([A-Za-z]+[_. ]?)([12]\d{3})\s*$")
_BRACKETED_YEAR = re.compile(r"^\s*([12]\d{3})\s*\[YR\1\]\s*$")
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def _is_time_label(name) -> bool:
    """Whether a column's name is a time: a year, a period code, or a date pandas reads."""
    if isinstance(name, pd.Timestamp) or hasattr(name, "year"):
        return True
    text = str(name).strip()
    if _YEAR.match(text) or _YEAR_PERIOD.match(text):
        return True
    if period_dates(pd.Series([text])) is not None:
        return True
    if not _DATE_SHAPE.search(text):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' "could not infer format"
        return pd.notna(pd.to_datetime(text, errors="coerce", format="mixed"))


def _prefixed_years(names: list) -> dict:
    """Column name -> its year, for the names that are a year behind a prefix, when every one of
    them has the same prefix (case aside); empty otherwise (``x2000`` and ``y2000`` are two
    variables, not two years)."""
    years, prefixes = {}, set()
    for name in names:
        text = str(name)
        if m := _BRACKETED_YEAR.match(text):
            years[name] = m.group(1)
            prefixes.add("[YR]")
        elif m := _PREFIXED_YEAR.match(text):
            years[name] = m.group(2)
            prefixes.add(m.group(1).lower())
    return years if len(prefixes) == 1 else {}


def _label_text(name) -> str:
    if isinstance(name, pd.Timestamp) or hasattr(name, "year") and hasattr(name, "strftime"):
        return name.strftime("%Y-%m-%d")
    return str(name).strip()


def times_across_columns(table: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """``(table, note)``: the table in long format and a note saying how it was read, when its
    times run across the columns (see the module doc); else the table unchanged and None."""
    named = [c for c in table.columns if not (str(c).startswith("Unnamed:") and table[c].isna().all())]
    times = [c for c in named if _is_time_label(c)]
    prefixed = _prefixed_years(named) if len(times) < 3 else {}
    if prefixed:
        times = list(prefixed)
    if len(times) < 3 or len(times) * 2 < len(named):
        return table, None
    others = [c for c in named if c not in times]
    wide = table[named].dropna(how="all", subset=times).reset_index(drop=True)
    labels = [prefixed.get(c) or _label_text(c) for c in times]
    first = str(others[0]) if others else ""
    if len(others) == 1 and "\\" in first and "," in first:  # Eurostat: "unit,geo\TIME_PERIOD"
        keys = first.split("\\")[0].split(",")
        split = wide[others[0]].astype(str).str.split(",", expand=True)
        if split.shape[1] == len(keys):
            wide = pd.concat([split.set_axis(keys, axis=1), wide[times]], axis=1)
            others = keys
    months = _month_rows(wide, others, times, labels)
    if months is not None:
        return months
    name_col, names, left_out = _series_name(wide, others)
    values = wide[times].set_axis(labels, axis=1)
    if name_col is None:
        if len(wide) != 1:
            return table, None  # several rows and nothing to tell them apart: not this layout
        long = values.T.reset_index().set_axis(["date", "value"], axis=1)
        named_as = "one series"
    else:
        values.insert(0, name_col, names)
        long = values.melt(id_vars=name_col, var_name="date", value_name="value")
        named_as = f"one series per row, named by {name_col!r}"
    if all(_YEAR.match(t) for t in labels):
        long["date"] = long["date"].astype(int)
    named_times = f"; columns {times[0]!r} ... {times[-1]!r} read as years" if prefixed else ""
    note = (f"the file's times run across its columns ({labels[0]} ... {labels[-1]}, {len(labels)} columns"
            f"{named_times}): "
            f"read as {named_as}, in columns {', '.join(repr(c) for c in long.columns)}")
    if left_out:
        note += f"; left out: {', '.join(map(repr, left_out))}"
    return long, note


def _series_name(wide: pd.DataFrame, others: list) -> tuple[str | None, pd.Series | None, list]:
    """The name of the column that names each row's series, its values, and the describing
    columns left out: the leftmost text column filled and different in every row; else the text
    columns together (a new column, named after them, ``a / b``) when that tells the rows apart;
    else the leftmost such column of numbers (a numbered series); else None. Text first, because
    a latitude differs in every row too."""
    def names_rows(col):
        return col.notna().all() and col.astype(str).str.strip().ne("").all() and not col.duplicated().any()

    text = [c for c in others if pd.to_numeric(wide[c], errors="coerce").isna().any()]
    for c in text:
        if names_rows(wide[c]):
            return str(c), wide[c], [o for o in others if o != c]
    if text and not _joined(wide, text).duplicated().any():
        return " / ".join(map(str, text)), _joined(wide, text), [o for o in others if o not in text]
    for c in others:
        if c not in text and names_rows(wide[c]):
            return str(c), wide[c], [o for o in others if o != c]
    return None, None, list(others)


def _joined(wide: pd.DataFrame, columns: list) -> pd.Series:
    """The row's values of the columns, the empty ones left out, joined by " / "."""
    parts = wide[columns].astype(object).where(wide[columns].notna(), "")
    return parts.apply(lambda row: " / ".join(str(v).strip() for v in row if str(v).strip()), axis=1)


def _month_rows(wide: pd.DataFrame, others: list, times: list, labels: list[str]) -> tuple[pd.DataFrame, str] | None:
    """A year per column and the months (or quarters) down the rows in one column, as one series
    of dates ``year-month``; None for any other table."""
    if len(others) != 1 or not all(_YEAR.match(t) for t in labels):
        return None
    rows = wide[others[0]].astype(str).str.strip().str.lower()
    month = rows.str[:3].map({m: i + 1 for i, m in enumerate(_MONTHS)})
    if month.isna().any():
        number = pd.to_numeric(rows.str.lstrip("q"), errors="coerce")
        quarters = rows.str.startswith("q").all() and number.between(1, 4).all()
        if number.isna().any() or not (quarters or number.between(1, 12).all()):
            return None
        month = 3 * number - 2 if quarters else number
    if month.duplicated().any() or len(month) < 2:
        return None
    values = wide[times].set_axis(labels, axis=1)
    values.index = month.astype(int).to_numpy()
    long = values.stack(future_stack=True).reset_index().set_axis(["month", "year", "value"], axis=1)
    long["date"] = pd.to_datetime(pd.DataFrame({"year": long["year"].astype(int), "month": long["month"], "day": 1}))
    long = long.sort_values("date")[["date", "value"]].reset_index(drop=True)
    periods = "quarters" if len(month) <= 4 else "months"
    note = (f"the file has a year per column ({labels[0]} ... {labels[-1]}) and the {periods} "
            f"down column {others[0]!r}: read as one series, in columns 'date', 'value'")
    return long, note
