"""Rows that are events, added up per period: a shop's sales one row per sale, a meter's readings
at irregular times, a log of calls. ``data.aggregate=sum --freq D`` makes each series the daily
total of its rows (``mean``, ``count``, ``min``, ``max`` or ``last`` likewise), as pandas'
``resample`` bins them:

* the periods are ``freq``'s, labelled as pandas labels them (a day or an hour by its start, a
  week ``W`` by its Sunday, a month ``MS`` by its first day, ``ME`` by its last);
* a series runs from the period of its first row to the period of its last; a period without
  rows is 0 for ``sum`` and ``count`` (no sale is a sale of nothing) and missing for the others
  (the reader then fills it by interpolation, with a note);
* the covariates are averaged over the period, the static covariates are taken from the series'
  first row;
* nothing is known of the last period beyond the file: when the file stops in the middle of a
  day, that day's sum is the part it holds.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

__all__ = ["AGGREGATES", "ROWS", "per_period"]

AGGREGATES = ("sum", "mean", "count", "min", "max", "last")
# the target ``count`` makes when none is named: the file's rows, one each (a log of dates alone)
ROWS = "rows"


def per_period(df: pd.DataFrame, times: pd.Series, *, time_col: str, id_col: str | None, target: Sequence[str],
               covariates: Sequence[str], static: Sequence[str], how: str, freq: str) -> tuple[pd.DataFrame, str]:
    """``(table, note)``: one row per series and period of ``freq``, its ``target`` columns the
    ``how`` of the rows in the period (``df``'s target and covariate columns hold numbers, the rows'
    times are ``times``); the time column holds the periods' labels."""
    if how not in AGGREGATES:
        raise ValueError(f"data.aggregate must be none or one of {', '.join(AGGREGATES)}, got {how!r}")
    if not pd.api.types.is_datetime64_any_dtype(times):
        raise ValueError(f"data.aggregate={how} adds up rows per period of dates, but time column {time_col!r} holds "
                         "integer steps")
    rows = df.assign(**{time_col: times.to_numpy()}).set_index(time_col)
    # ``count`` counts rows, as its name says, not the target's values: a row without one is an event too
    rules = {**{c: "sum" if how == "count" else how for c in target},
             **{c: "mean" for c in covariates if c not in target}}
    parts, without_rows = [], 0
    for key, group in (rows.groupby(id_col, sort=True) if id_col is not None else [(None, rows)]):
        if how == "count":
            group = group.assign(**{c: 1.0 for c in target})
        binned = group[list(rules)].resample(freq).agg(rules)
        without_rows += int((group.resample(freq).size() == 0).sum())  # sum and count give 0 there, the rest NaN
        for c in static:
            binned[c] = group[c].iloc[0]
        if id_col is not None:
            binned.insert(0, id_col, key)
        parts.append(binned)
    table = pd.concat(parts).rename_axis(time_col).reset_index()
    note = (f"{len(df):,} rows added up per period (data.aggregate={how} of {', '.join(map(repr, target))} per "
            f"{freq!r}): {len(table):,} periods" + (f" in {len(parts)} series" if id_col is not None else "")
            + (f", {without_rows} of them without rows ({'0' if how in ('sum', 'count') else 'missing'})"
               if without_rows else ""))
    return table, note
