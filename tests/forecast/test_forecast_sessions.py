"""Sub-daily readings taken only in a daily session (fpp3's ``bank_calls``: calls every five
minutes 07:00-21:00 on weekdays; a market's trading hours): read in session order, nights and
days off skipped, a holiday and the gaps inside a session filled and counted, the forecasts'
times in session too (``rnnkit/apps/forecast/sessions.py``). Before, such a file stopped with
"its readings leave ... of the steps of a '5min' grid empty". Data that fits a regular grid reads
as it did. Also times written without a year (R's ``airquality``: month and day; ``beaver1``: a
day of the year and hhmm clock times), which stopped with "time column 'date' is not in the data"."""

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import build_series
from rnnkit.apps.forecast.features import Encoder, calendar_features
from rnnkit.apps.forecast.grid import future_times, season_length_for
from rnnkit.apps.forecast.sessions import Session, infer_session
from rnnkit.cli import main

FAST = ["--preset", "tiny", "train.progress=false", "train.tensorboard=false", "train.epochs=2",
        "baselines.models=naive,seasonal_naive"]


def session_times(days: pd.DatetimeIndex, start: str, end: str, step: str) -> pd.DatetimeIndex:
    """Every slot ``start``-``end`` every ``step`` of each of ``days``, day by day."""
    clock = pd.timedelta_range(f"{start}:00", f"{end}:00", freq=step)
    return pd.DatetimeIndex(days.repeat(len(clock)) + pd.TimedeltaIndex(np.tile(clock, len(days))))


def calls(times: pd.DatetimeIndex, seed: int = 0) -> np.ndarray:
    """Counts like a call centre's: Poisson around a profile that peaks mid-session."""
    rng = np.random.default_rng(seed)
    hours = np.asarray(times.hour + times.minute / 60, dtype=float)
    return rng.poisson(60 + 50 * np.sin(np.pi * (hours - 7) / 15).clip(0)).astype(float)


WEEKDAYS = pd.bdate_range("2003-03-03", "2003-04-04")  # five weeks, Monday to Friday
BANK = session_times(WEEKDAYS, "07:00", "21:55", "5min")  # 180 slots a day, as the bank_calls


def _read(times, values=None, **kw):
    frame = pd.DataFrame({"DateTime": times, "Calls": calls(times) if values is None else values})
    return build_series(frame, time_col="DateTime", target=["Calls"], **kw)


def test_a_call_centres_weekday_session_is_read_in_session_order():
    """Five weeks of 5-minute counts 07:00-21:55 on weekdays, written as R's tsibble writes them
    (``2003-03-03T07:00:00Z``): 25 sessions of 180 slots, nights and weekends skipped, season 1
    (a session of 180 steps is over the 96 a default season may be) with a note saying so."""
    text = BANK.strftime("%Y-%m-%dT%H:%M:%SZ")
    sset = _read(pd.Series(text), calls(BANK))
    s = sset.series[0]
    assert isinstance(sset.freq, Session) and sset.freq == "5min"
    assert s.length == 25 * 180 and s.filled == 0 and (s.times == BANK).all()
    assert set(s.times.dayofweek) == {0, 1, 2, 3, 4}
    assert s.times.indexer_between_time("22:00", "06:55").size == 0  # no night
    # the step from a session's last slot is the next session day's first: Friday to Monday
    friday = int(np.flatnonzero(s.times == pd.Timestamp("2003-03-07 21:55"))[0])
    assert s.times[friday + 1] == pd.Timestamp("2003-03-10 07:00")
    assert season_length_for(sset.freq) == 1
    assert sset.notes == [(
        "frequency: 5-minute readings in a daily session 07:00-21:55 on weekdays, nights and weekends skipped "
        "(180 per session; season 1: a session of 180 steps is longer than a default season may be; "
        "data.season_length=180 makes it the season; data.freq=5min asks for a regular grid instead)")]


def test_a_holiday_is_a_session_of_gaps_filled_and_noted():
    """A weekday with no readings (Friday 14 March) is a missing session: its 180 slots are on the
    grid, filled by linear interpolation from Thursday's close to Monday's open, and the holiday
    is named."""
    holiday = pd.Timestamp("2003-03-14")
    kept = BANK[BANK.normalize() != holiday]
    y = calls(kept)
    sset = _read(kept, y)
    s = sset.series[0]
    assert s.length == 25 * 180 and s.filled == 180
    day = s.times.normalize() == holiday
    assert day.sum() == 180 and s.times[day][0] == holiday + pd.Timedelta(hours=7)
    before, after = y[kept < holiday][-1], y[kept > holiday][0]  # Thursday 21:55, Monday 07:00
    np.testing.assert_allclose(s.target[day], before + (after - before) * np.arange(1, 181) / 181)
    assert ("1 session day(s) without readings inside the series (holidays?): 2003-03-14; their 180 slots are gaps "
            "filled as any other") in sset.notes
    assert ("series 'Calls': 180 missing target value(s)/gap(s) filled by linear interpolation (first at "
            "2003-03-14 07:00:00)") in sset.notes


def test_slots_missing_inside_a_session_are_gaps_interpolated_and_counted():
    gone = [pd.Timestamp("2003-03-05 12:00"), pd.Timestamp("2003-03-05 12:05"), pd.Timestamp("2003-03-20 08:30")]
    kept = BANK.delete(BANK.get_indexer(gone))
    y = calls(kept)
    s = _read(kept, y).series[0]
    assert s.length == 25 * 180 and s.filled == 3
    i = int(np.flatnonzero(s.times == gone[0])[0])
    np.testing.assert_allclose(s.target[i:i + 2], s.target[i - 1] + (s.target[i + 2] - s.target[i - 1]) * np.array([1, 2]) / 3)
    assert not any("session day(s) without readings" in n for n in _read(kept, y).notes)


def test_forecast_times_continue_in_session_order_across_the_weekend():
    """After Friday's 21:55 comes Monday's 07:00; a forecast longer than a session runs on through
    the following sessions, nights and the weekend skipped."""
    sset = _read(BANK)
    last = sset.series[0].times[-1]
    assert last == pd.Timestamp("2003-04-04 21:55")  # a Friday
    ahead = future_times(last, sset.freq, 400)
    assert list(ahead[:2]) == [pd.Timestamp("2003-04-07 07:00"), pd.Timestamp("2003-04-07 07:05")]
    assert len(ahead) == 400 and (ahead == session_times(pd.bdate_range("2003-04-07", periods=3), "07:00", "21:55",
                                                         "5min")[:400]).all()
    # from inside a session: the rest of it, then the next day's
    assert list(future_times(pd.Timestamp("2003-04-03 21:50"), sset.freq, 2)) == [
        pd.Timestamp("2003-04-03 21:55"), pd.Timestamp("2003-04-04 07:00")]


def test_a_short_session_is_the_season_and_days_of_week_are_those_with_readings():
    """Hourly readings 10:00-15:00 Sunday to Thursday (some markets' week), five weeks: season 6
    (one session), Friday and Saturday skipped."""
    days = pd.date_range("2024-01-07", periods=35)
    days = days[days.dayofweek.isin([6, 0, 1, 2, 3])]
    times = session_times(days, "10:00", "15:00", "h")
    sset = _read(times)
    assert isinstance(sset.freq, Session) and season_length_for(sset.freq) == 6
    assert sset.series[0].length == len(times) == 25 * 6
    assert sset.notes[0].startswith("frequency: hourly readings in a daily session 10:00-15:00 on Mon, Tue, Wed, Thu, "
                                    "Sun, nights and Fri, Sat skipped (6 per session; season 6, one session;")
    assert list(future_times(times[-1], sset.freq, 1)) == [pd.Timestamp("2024-02-11 10:00")]  # Thursday to Sunday


def test_under_four_weeks_every_day_is_a_session_day():
    """As business days need four weeks, so do session days of the week: two weeks of weekday
    sessions are days with their weekend missing, two session days filled and noted."""
    sset = _read(session_times(WEEKDAYS[:10], "09:00", "16:00", "h"))
    assert sset.freq.days == "Mon Tue Wed Thu Fri Sat Sun" and sset.series[0].length == 12 * 8
    assert "09:00-16:00 every day, nights skipped" in sset.notes[0]
    assert sset.notes[1].startswith("2 session day(s) without readings inside the series (holidays?): 2003-03-08, "
                                    "2003-03-09;")


def test_regular_hourly_and_business_day_series_read_as_before():
    """Series that fit a regular grid keep it, notes and all: hourly readings with a gap, business
    days with a holiday, and a session every day whose nights leave the 5-minute grid less than half
    empty (there, data.freq=session asks for the session)."""
    hours = pd.date_range("2024-01-01", periods=24 * 14, freq="h").delete([30, 31])
    hourly = build_series(pd.DataFrame({"date": hours, "y": np.arange(len(hours), dtype=float)}), time_col="date",
                          target=["y"])
    assert type(hourly.freq) is str and hourly.freq == "h" and hourly.series[0].length == 24 * 14
    assert hourly.notes == [("series 'y': 2 missing target value(s)/gap(s) filled by linear interpolation (first at "
                             "2024-01-02 06:00:00)")]
    bdays = pd.bdate_range("2020-01-01", periods=120).delete([9, 60])
    business = build_series(pd.DataFrame({"date": bdays, "sales": np.arange(118.0)}), time_col="date",
                            target=["sales"])
    assert type(business.freq) is str and business.freq == "B" and business.series[0].length == 120
    assert business.notes == [("series 'sales': 2 missing target value(s)/gap(s) filled by linear interpolation "
                               "(first at 2020-01-14)")]
    every_day = session_times(pd.date_range("2003-03-03", periods=10), "07:00", "21:55", "5min")
    regular = _read(every_day)
    assert type(regular.freq) is str and regular.series[0].length == 9 * 288 + 180  # nights interpolated
    forced = _read(every_day, freq="session")
    assert isinstance(forced.freq, Session) and forced.series[0].length == 10 * 180 and forced.series[0].filled == 0
    assert "07:00-21:55 every day, nights skipped" in forced.notes[0]


def test_the_regular_grid_stays_an_error_where_asked_for_and_where_no_session_is_kept():
    """``data.freq=5min`` refuses the session: the emptiness error, which says how to read it;
    readings at shifting hours, or whose days open and close at varying times (the grid of
    07:00-21:55 would be 80% full), keep no session and stop as before; ``data.freq=session`` on
    data with no night is an error saying why."""
    with pytest.raises(ValueError, match=r"leave 4896 of the 9396 steps of a '5min' grid empty.*they keep a daily "
                                         r"session \(5-minute readings in a daily session 07:00-21:55 on weekdays, "
                                         r"nights and weekends skipped\): data.freq=session reads them"):
        _read(BANK, freq="5min")
    shifting = BANK[(BANK.day % 2 == 0) & (BANK.hour < 12) | (BANK.day % 2 == 1) & (BANK.hour >= 15)]
    with pytest.raises(ValueError, match=r"steps of a '5min' grid empty; filling them would make most of the series "
                                         r"up\. The timestamps are irregular or the step is wrong: give it with "
                                         r"data.freq=\.\.\. \(a pandas offset alias such as 10min, h or D\), or put "
                                         r"the readings on a regular grid first$"):
        _read(shifting)
    # most days open at 09:00 and close at 19:55, a third 07:00-21:55: the days keep no one window
    wide = BANK.normalize().isin(WEEKDAYS[::3])
    varying = BANK[wide | ((BANK.hour >= 9) & (BANK.hour < 20))]
    with pytest.raises(ValueError, match=r"steps of a '5min' grid empty;.*regular grid first$"):
        _read(varying)
    # every day opens at 07:00 and closes at 21:55, but only 4 of its 180 slots have a reading
    sparse = BANK[BANK.indexer_between_time("07:00", "07:05").tolist() + BANK.indexer_between_time("21:50", "21:55").tolist()]
    with pytest.raises(ValueError, match=r"data.freq=session: .* no daily session: a series' 100 readings would leave "
                                         r"4400 of the 4500 steps of the session 07:00-21:55 empty"):
        _read(sparse.sort_values(), freq="session")
    with pytest.raises(ValueError, match=r"data.freq=session: the timestamps in time column 'date' are no daily "
                                         r"session: readings cover the whole day \(00:00-23:00\)"):
        build_series(pd.DataFrame({"date": pd.date_range("2024-01-01", periods=100, freq="h"), "y": np.arange(100.0)}),
                     time_col="date", target=["y"], freq="session")


def test_the_session_survives_saving_and_the_calendar_of_its_forecasts_skips_nights():
    """The encoder saved with a run (JSON) and the set pickled to the baselines' worker keep the
    session; the calendar features of the steps after the data are those of the next session."""
    sset = _read(BANK)
    assert pickle.loads(pickle.dumps(sset.freq)).spec == sset.freq.spec == "session 5min 07:00-21:55 Mon Tue Wed Thu Fri"
    saved = json.loads(json.dumps(Encoder.fit(sset, "standard", calendar=True).to_dict()))  # as a run saves it
    enc = Encoder.from_dict(saved)
    assert isinstance(enc.freq, Session) and enc.calendar == ["hour", "dayofweek"]
    arrays = enc.encode(sset.series[0], extra=3)
    monday = pd.DatetimeIndex(["2003-04-07 07:00", "2003-04-07 07:05", "2003-04-07 07:10"])
    np.testing.assert_allclose(arrays.future[-3:], calendar_features(monday, ["hour", "dayofweek"]))


def test_a_session_file_trains_and_forecasts_in_session_order_through_the_cli(tmp_path, capsys):
    """End to end: hourly counts 09:00-16:00 on weekdays (eight weeks, a holiday) train with no
    option about time, the terminal says how the file was read, and ``predict`` forecasts Monday's
    session after Friday's close."""
    days = pd.bdate_range("2024-01-01", periods=40).delete(12)  # 2024-01-17 missing
    times = session_times(days, "09:00", "16:00", "h")
    pd.DataFrame({"time": times, "calls": calls(times)}).to_csv(tmp_path / "calls.csv", index=False)
    run = tmp_path / "run"
    assert main(["train", "forecast", "--data", str(tmp_path / "calls.csv"), "--horizon", "8", "--run-dir", str(run),
                 *FAST]) == 0
    out = capsys.readouterr().out
    assert "points, frequency h in a daily session;" in out  # the data line: not a regular hourly grid
    assert ("note: frequency: hourly readings in a daily session 09:00-16:00 on weekdays, nights and weekends skipped "
            "(8 per session; season 8, one session;") in out
    assert "note: 1 session day(s) without readings inside the series (holidays?): 2024-01-17" in out
    assert "season 8" in out and "| seasonal_naive |" in out
    assert main(["predict", str(run), "--output", str(tmp_path / "next.csv")]) == 0
    ahead = pd.to_datetime(pd.read_csv(tmp_path / "next.csv")["time"])
    assert list(ahead) == list(pd.date_range("2024-02-26 09:00", "2024-02-26 16:00", freq="h"))  # a Monday


# ------------------------------------------------------------------- sessions past midnight
def night_times(days: pd.DatetimeIndex, start: str, slots: int, step: str) -> pd.DatetimeIndex:
    """``slots`` readings ``step`` apart from ``start`` on each of ``days``, running past midnight."""
    clock = pd.Timedelta(f"{start}:00") + pd.Timedelta(pd.tseries.frequencies.to_offset(step)) * np.arange(slots)
    return pd.DatetimeIndex(days.repeat(slots) + pd.TimedeltaIndex(np.tile(clock, len(days))))


NIGHTS = night_times(pd.date_range("2024-01-01", periods=35), "22:00", 48, "10min")  # 22:00-05:50, every night


def test_a_night_shifts_session_runs_past_midnight_and_is_read_in_session_order():
    """Ten-minute readings 22:00-05:50 every night for five weeks (a night shift). Before, the
    earliest and latest clock times (00:00, 23:50) left no night, so the file stopped with the
    emptiness error of a 10-minute grid. Now: 35 sessions of 48 slots, each on the day it
    starts, 05:50 followed by 22:00 the same day, season 48 (one session)."""
    sset = _read(NIGHTS)
    s = sset.series[0]
    assert isinstance(sset.freq, Session) and sset.freq.past_midnight
    assert sset.freq.spec == "session 10min 22:00-05:50 Mon Tue Wed Thu Fri Sat Sun"
    assert s.length == 35 * 48 and s.filled == 0 and (s.times == NIGHTS).all()
    assert season_length_for(sset.freq) == 48
    assert sset.notes[0].startswith("frequency: 10-minute readings in a daily session 22:00-05:50 (into the next day) "
                                    "every day, the breaks skipped (48 per session; season 48, one session;")
    assert list(future_times(NIGHTS[-1], sset.freq, 2)) == [pd.Timestamp("2024-02-05 22:00"),
                                                            pd.Timestamp("2024-02-05 22:10")]
    assert list(future_times(pd.Timestamp("2024-01-02 05:50"), sset.freq, 1)) == [pd.Timestamp("2024-01-02 22:00")]
    assert pickle.loads(pickle.dumps(sset.freq)).spec == Session.from_spec(sset.freq.spec).spec == sset.freq.spec


def test_a_missing_night_is_named_by_the_day_it_starts_on_and_filled():
    """The night starting on 10 January (22:00 to 05:50 on the 11th) has no reading: its 48
    slots are gaps, named by the session's day, not by the two calendar days it touches."""
    kept = NIGHTS[(NIGHTS - pd.Timedelta("22h")).normalize() != pd.Timestamp("2024-01-10")]
    sset = _read(kept)
    s = sset.series[0]
    assert s.length == 35 * 48 and s.filled == 48
    assert ("1 session day(s) without readings inside the series (holidays?): 2024-01-10; their 48 slots are gaps "
            "filled as any other") in sset.notes


def test_a_futures_week_from_sunday_evening_keeps_its_session_days_and_daily_break():
    """Hourly prices 18:00-16:00 (the next day), sessions starting Sunday to Thursday, an hour's
    break each day and Friday evening to Sunday evening closed, as many futures markets trade,
    asked for with ``data.freq=session``: 23 slots a session on the days Sunday to Thursday; after
    Thursday's session (Friday 16:00) comes Sunday 18:00."""
    days = pd.date_range("2024-01-07", periods=42)  # from a Sunday, six weeks
    days = days[days.dayofweek.isin([6, 0, 1, 2, 3])]
    times = night_times(days, "18:00", 23, "h")
    sset = _read(times, freq="session")
    session = sset.freq
    assert session.spec == "session h 18:00-16:00 Mon Tue Wed Thu Sun" and session.slots == 23
    assert sset.series[0].length == len(times) and sset.series[0].filled == 0
    assert "18:00-16:00 (into the next day) on Mon, Tue, Wed, Thu, Sun, the breaks and Fri, Sat skipped" in sset.notes[0]
    assert times[-1] == pd.Timestamp("2024-02-16 16:00")  # a Friday
    assert list(future_times(times[-1], session, 1)) == [pd.Timestamp("2024-02-18 18:00")]


def test_a_session_that_read_before_reads_the_same_and_data_without_a_break_stays_no_session():
    """The session from the earliest clock time comes first: 5-minute readings 06:00-23:55 on
    weekdays with 10:00-16:55 never observed keep the day session 06:00-23:55 (61% of its slots
    read), though the midday stretch without readings (7 hours) is longer than the night (6) and
    a session 17:00-09:55 past midnight would fit them too; every hour of the day observed is still
    "cover the whole day"."""
    day = session_times(WEEKDAYS, "06:00", "23:55", "5min")
    split = day[(day.hour < 10) | (day.hour >= 17)]
    found, _ = infer_session([split])
    assert found is not None and found.spec == "session 5min 06:00-23:55 Mon Tue Wed Thu Fri"
    hourly = pd.date_range("2024-01-01", periods=24 * 30, freq="h")
    assert infer_session([hourly])[1] == "readings cover the whole day (00:00-23:00): there is no night to skip"


def test_a_night_shift_file_trains_and_forecasts_the_next_night_through_the_cli(tmp_path, capsys):
    """End to end with no option about time: the terminal says how the file was read, and
    ``predict`` forecasts the next night's first slots."""
    nights = night_times(pd.date_range("2024-01-01", periods=21), "22:00", 8, "h")  # 22:00-05:00
    pd.DataFrame({"time": nights, "load": calls(nights + pd.Timedelta("9h"))}).to_csv(tmp_path / "n.csv", index=False)
    run = tmp_path / "run"
    assert main(["train", "forecast", "--data", str(tmp_path / "n.csv"), "--horizon", "8", "--run-dir", str(run),
                 *FAST]) == 0
    out = capsys.readouterr().out
    assert ("note: frequency: hourly readings in a daily session 22:00-05:00 (into the next day) every day, the breaks "
            "skipped (8 per session; season 8, one session;") in out
    assert main(["predict", str(run), "--output", str(tmp_path / "next.csv")]) == 0
    ahead = pd.to_datetime(pd.read_csv(tmp_path / "next.csv")["time"])
    assert list(ahead) == list(pd.date_range("2024-01-22 22:00", "2024-01-23 05:00", freq="h"))  # after the 21st night


# ------------------------------------------------------------------- times written without a year
def test_month_and_day_columns_without_a_year_are_days_of_a_stand_in_year(tmp_path):
    """R's ``airquality`` (May to September 1973, a year the file does not write): its ``Month``
    and ``Day`` are days of 2000, a stand-in leap year the note names, with how to give the real
    one; the command line finds them as the time with only ``--target`` given."""
    days = pd.date_range("1973-05-01", "1973-09-30")
    frame = pd.DataFrame({"rownames": np.arange(1, len(days) + 1), "Ozone": np.where(np.arange(len(days)) % 7, 30.0, np.nan),
                          "Temp": 60 + 20 * np.sin(np.arange(len(days)) / 30), "Month": days.month, "Day": days.day})
    sset = build_series(frame, time_col="date", target=["Temp"])
    s = sset.series[0]
    assert sset.freq == "D" and s.length == 153 and s.times[0] == pd.Timestamp("2000-05-01")
    assert s.times[-1] == pd.Timestamp("2000-09-30")
    assert sset.notes == ["time column 'date' is not in the data: the columns 'Month', 'Day' read as the dates",
                          ("time columns 'Month', 'Day' hold no year: read in 2000, a stand-in year (5, 1 as "
                           "2000-05-01), which the forecasts' dates carry too; data.year=YYYY (or a year column) gives "
                           "the real one")]
    real = build_series(frame, time_col="date", target=["Temp"], year=1973)  # data.year gives the real one
    assert real.series[0].times[0] == pd.Timestamp("1973-05-01") and real.series[0].length == 153
    assert real.notes[-1] == ("time columns 'Month', 'Day' hold no year: read in 1973, the year data.year gives (5, 1 "
                              "as 1973-05-01)")
    with pytest.raises(ValueError, match="time columns 'month', 'day': year 1973, month 2, day 29"):
        build_series(pd.DataFrame({"month": [2, 2, 3], "day": [28, 29, 1], "y": [1.0, 2.0, 3.0]}), time_col="date",
                     target=["y"], year=1973)  # no 29 February that year
    leap = build_series(pd.DataFrame({"month": [2, 2, 3], "day": [28, 29, 1], "y": [1.0, 2.0, 3.0]}), time_col="date",
                        target=["y"])
    assert leap.series[0].times[1] == pd.Timestamp("2000-02-29")  # a stand-in year with a 29 February
    frame.to_csv(tmp_path / "airquality.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "airquality.csv"), "--target", "Temp",
                 "--print-config"]) == 0
    assert main(["train", "forecast", "--data", str(tmp_path / "airquality.csv"), "--target", "Temp",
                 "data.year=99", "--print-config"]) == 2


def test_a_day_of_the_year_and_hhmm_clock_times_are_times(tmp_path):
    """R's ``beaver1``: ``day`` 346 and ``time`` 840 (08:40) every 10 minutes across midnight
    (2350, then 0 of day 347) are times of the stand-in year, or of the year a ``year`` column
    gives; a clock time that is none (875) is an error naming its row."""
    times = pd.date_range("1990-12-12 08:40", periods=30, freq="10min")
    frame = pd.DataFrame({"rownames": np.arange(1, 31), "day": times.dayofyear, "time": times.hour * 100 + times.minute,
                          "temp": 36.5 + 0.01 * np.arange(30), "activ": 0})
    sset = build_series(frame, time_col="date", target=["temp"])
    s = sset.series[0]
    assert sset.freq == "10min" and s.length == 30 and s.filled == 0
    assert s.times[0] == pd.Timestamp("2000-12-11 08:40") and s.times[-1] == pd.Timestamp("2000-12-11 13:30")
    assert sset.notes[1] == ("time columns 'day', 'time' (days of the year, clock times written hhmm) hold no year: read "
                             "in 2000, a stand-in year (346, 840 as 2000-12-11 08:40), which the forecasts' dates carry "
                             "too; data.year=YYYY (or a year column) gives the real one")
    night = frame.assign(time=(times + pd.Timedelta(hours=15)).hour * 100 + (times + pd.Timedelta(hours=15)).minute,
                         day=(times + pd.Timedelta(hours=15)).dayofyear)
    # 23:40, 23:50 of day 346, then 0 (00:00) of day 347: the next day
    assert build_series(night, time_col="date", target=["temp"]).series[0].times[2] == pd.Timestamp("2000-12-12 00:00")
    dated = build_series(frame.assign(year=1990), time_col="date", target=["temp"])
    assert dated.series[0].times[0] == pd.Timestamp("1990-12-12 08:40")
    assert dated.notes[1] == ("time columns 'year', 'day', 'time' (days of the year, clock times written hhmm) read as "
                              "times (1990, 346, 840 as 1990-12-12 08:40)")
    with pytest.raises(ValueError, match=r"time columns 'day', 'time': day 346 of 2000 at 875 \(hhmm; row 3\) is not "
                                         r"a time"):
        build_series(frame.assign(time=frame.time.where(frame.index != 3, 875)), time_col="day,time", target=["temp"])
    with pytest.raises(ValueError, match=r"day 346 of 2000 at 2400 \(hhmm; row 3\) is not a time"):  # not the next day
        build_series(frame.assign(time=frame.time.where(frame.index != 3, 2400)), time_col="day,time", target=["temp"])
    frame.to_csv(tmp_path / "beaver1.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "beaver1.csv"), "--target", "temp",
                 "--print-config"]) == 0


def test_month_and_day_beside_a_time_column_are_no_stand_in_dates(tmp_path):
    """Month and day columns derived from a ``timestamp`` column are not read as dates without a
    year: which column is the time stays the user's choice (the error asks for ``--time-col``),
    as before times without a year were read; with it named, the timestamps are the time."""
    from rnnkit import config as C
    from rnnkit.apps.forecast.config import DataConfig
    from rnnkit.apps.forecast.roles import find_roles

    days = pd.date_range("2019-12-01", periods=90, freq="D")
    frame = pd.DataFrame({"timestamp": days.strftime("%Y-%m-%d"), "month": days.month, "day": days.day,
                          "value": np.arange(90.0)})
    path = tmp_path / "derived.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(C.ConfigError, match="time column 'date' is not in the data.*--time-col"):
        find_roles(DataConfig(path=str(path)), time_given=False)
    sset = build_series(frame, time_col="timestamp", target=["value"])
    assert sset.series[0].times[0] == pd.Timestamp("2019-12-01") and sset.series[0].length == 90
