"""Tables with a year per row and the months (or quarters) across the columns, turned into the
long format the reader takes.

Statistics offices publish a monthly series as a grid of years by months (the BLS, NOAA's
GISTEMP, the Met Office, R's printed ``ts``)::

    Year,Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec,Annual
    1949,112,118,132,129,121,135,148,148,136,119,104,118,1520

Such a table becomes one series in columns ``date`` and ``value``, sorted by date:

* the months are the 12 months named in English, by three letters or in full (``Jan``,
  ``January``, any letter case), each once; or ``Q1`` ... ``Q4`` for a quarterly series (dated
  at the quarter's first month);
* the year is the column named ``Year`` (or ``Yr``), else the one column of whole numbers
  1000-2999 that do not repeat within a series; a table without one is not this layout;
* one text column may name the series (``State``, ``Station``): then one series per name, in
  columns ``<its name>, date, value``; without it a year may not repeat;
* the summaries beside the months (``Annual``, ``Total``, ``Avg``, ``Mean``, ``YTD``, the BLS'
  ``HALF1``, NOAA's season means ``J-D``, ``D-N``, ``DJF`` ... and quarters beside months) are
  left out, and the note names them;
* empty cells before a series' first value and after its last (the rest of the final year, as
  published tables leave it: blank, a missing mark such as ``..`` or GISTEMP's ``***``) are
  dropped; those between values stay, as missing values;
* the values stay as written (text stays text): the reader parses them.

Any other table (a month missing or twice, another column, a year repeated) is returned as it is.
"""

from __future__ import annotations

import re

import pandas as pd

from .writings import MISSING_MARKS

__all__ = ["months_across_columns"]

_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_MONTH_OF = {**{m: i + 1 for i, m in enumerate(_MONTHS)}, **{m[:3]: i + 1 for i, m in enumerate(_MONTHS)}}
_QUARTER = re.compile(r"^q([1-4])$")
_YEAR_NAMES = ("year", "yr")
# what a table puts beside the months: the year's total or mean, NOAA's (GISTEMP's) means of
# Jan-Dec, Dec-Nov and the seasons, the Met Office's seasons (win, spr, sum, aut) and ann, the
# BLS' half years
_SUMMARY = re.compile(r"^(?:(?:annual|year|yearly)\s*)?(?:total|sum|avg\.?|average|mean)$"
                      r"|^(?:annual|ann|ytd|j-d|d-n|djf|mam|jja|son|win|spr|aut|half\s*[12]|h[12])$")


def _bare(name) -> str:
    """A column's name in lower case, spaces and underscores around and inside collapsed."""
    return re.sub(r"[\s_]+", " ", str(name)).strip().lower()


def _periods(columns: list) -> tuple[dict, list] | None:
    """``({column: month}, summaries)``: the 12 month columns, each once, with the quarter columns
    among the summaries; else the 4 quarter columns ``Q1`` ... ``Q4`` (months 1, 4, 7, 10); None
    when neither is whole."""
    months = {c: _MONTH_OF[_bare(c)] for c in columns if _bare(c) in _MONTH_OF}
    quarters = {c: 3 * int(m.group(1)) - 2 for c in columns if (m := _QUARTER.match(_bare(c)))}
    summaries = [c for c in columns if _SUMMARY.match(_bare(c))]
    if sorted(months.values()) == list(range(1, 13)):
        return months, summaries + list(quarters)
    if not months and sorted(quarters.values()) == [1, 4, 7, 10]:
        return quarters, summaries
    return None


def _years(col: pd.Series) -> pd.Series | None:
    """The column as whole years 1000-2999, or None when a cell is not one."""
    numbers = pd.to_numeric(col, errors="coerce")
    if numbers.isna().any() or not numbers.between(1000, 2999).all() or not (numbers % 1 == 0).all():
        return None
    return numbers.astype(int)


def _is_names(col: pd.Series) -> bool:
    """A column of text filled in every row: the names of the series."""
    filled = col.notna() & col.astype(str).str.strip().ne("")
    return bool(filled.all()) and pd.to_numeric(col, errors="coerce").isna().any()


def _year_and_name(table: pd.DataFrame, others: list) -> tuple[str, str | None] | None:
    """The year column and the column naming the series (or None), among the columns that are
    neither months nor summaries; None when they are not one year column and at most one text
    column, or a year repeats within a series."""
    named = [c for c in others if _bare(c) in _YEAR_NAMES]
    candidates = named or [c for c in others if _years(table[c]) is not None]
    rest = [c for c in others if c not in candidates[:1]]
    if len(candidates) != 1 or len(rest) > 1 or _years(table[candidates[0]]) is None:
        return None
    year, name = candidates[0], (rest[0] if rest else None)
    if name is not None and (not _is_names(table[name]) or _bare(name) in ("date", "value")):
        return None
    keys = pd.DataFrame({"name": table[name] if name is not None else 0, "year": _years(table[year])})
    return None if keys.duplicated().any() else (year, name)


def _missing(values: pd.Series) -> pd.Series:
    """Cells with no value: empty, blank, a mark the reader takes for missing (``..``, ``:``, a
    dash), or asterisks (GISTEMP's ``***`` for the months still to come)."""
    text = values.astype(str).str.strip()
    return values.isna() | text.eq("") | text.isin(MISSING_MARKS) | text.str.fullmatch(r"\*+")


def months_across_columns(table: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """``(table, note)``: the table in long format and a note saying how it was read, when it has a
    year per row and the months (or quarters) across its columns (see the module doc); else the
    table unchanged and None."""
    columns = [c for c in table.columns if not (str(c).startswith("Unnamed:") and table[c].isna().all())]
    found = _periods(columns)
    if found is None or table.empty:
        return table, None
    periods, left_out = found
    others = [c for c in columns if c not in periods and c not in left_out]
    roles = _year_and_name(table, others)
    if roles is None:
        return table, None
    year, name = roles
    order = sorted(periods, key=periods.get)
    wide = table.assign(_year=_years(table[year]), _series=0 if name is None else
                        pd.Categorical(table[name], categories=pd.unique(table[name])))
    wide = wide.sort_values(["_series", "_year"]).reset_index(drop=True)
    long = wide[order].stack(future_stack=True).reset_index().set_axis(["row", "column", "value"], axis=1)
    long["date"] = pd.to_datetime(pd.DataFrame({"year": wide["_year"].to_numpy()[long["row"]],
                                                "month": long["column"].map(periods), "day": 1}))
    long["_series"] = wide["_series"].to_numpy()[long["row"]]
    long = _trimmed(long).rename(columns={"_series": name})
    long = long[[name, "date", "value"] if name is not None else ["date", "value"]].reset_index(drop=True)
    return long, _note(wide, year, name, order, left_out, list(long.columns))


def _trimmed(long: pd.DataFrame) -> pd.DataFrame:
    """The long table without the empty cells before each series' first value and after its last."""
    has = ~_missing(long["value"])
    started = has.groupby(long["_series"]).cummax()
    ongoing = has[::-1].groupby(long["_series"][::-1]).cummax()[::-1]
    return long[started & ongoing]


def _note(wide: pd.DataFrame, year: str, name: str | None, order: list, left_out: list, columns: list) -> str:
    """How the table was read: its year column and years, its month columns, what was left out."""
    periods = "months" if len(order) == 12 else "quarters"
    named_as = "one series" if name is None else f"one series per name in {name!r}"
    note = (f"the file has a year per row ({year!r}, {wide['_year'].min()} ... {wide['_year'].max()}) and the "
            f"{periods} across its columns ({str(order[0]).strip()} ... {str(order[-1]).strip()}): read as "
            f"{named_as}, in columns {', '.join(map(repr, columns))}")
    if left_out:
        note += f"; left out: {', '.join(repr(str(c)) for c in left_out)}"
    return note
