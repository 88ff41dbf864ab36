"""The Diebold-Mariano comparison (rnnkit/apps/forecast/compare.py): statistic and p-value against
numbers worked by hand, the MASE difference against summarize(), refusals, and the report."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rnnkit.apps.forecast.compare import compare_to_baselines, diebold_mariano
from rnnkit.apps.forecast.metrics import summarize


def _table(errors_a, errors_b, horizon=1, series=("s",), actual=10.0):
    """Backtest rows where model A misses by errors_a[k] and B by errors_b[k] at every step of
    origin k (every series alike)."""
    rows = []
    for name in series:
        for k, (ea, eb) in enumerate(zip(errors_a, errors_b)):
            for step in range(1, horizon + 1):
                for model, e in (("rnn", ea), ("arima", eb)):
                    rows.append({"model": model, "series": name, "origin": f"2000-{k + 1:02d}-01", "step": step,
                                 "actual": actual, "point": actual + e, "lo": actual - 1, "hi": actual + 1})
    return pd.DataFrame(rows)


def test_statistic_and_p_value_by_hand_without_lags():
    """d = (1, 2, 3), no overlap: mean 2, g0 = 2/3, c = sqrt((3 + 1 - 2) / 3), DM = 2 / sqrt(g0 / 3) * c."""
    got = diebold_mariano(_table([1, 2, 3], [0, 0, 0]), {"s": 1.0}, "rnn", "arima", horizon=1, stride=1)
    want = 2 / math.sqrt((2 / 3) / 3) * math.sqrt(2 / 3)
    assert got["lags"] == 0 and got["origins"] == 3
    assert got["mase_diff"] == pytest.approx(2.0)
    assert got["dm"] == pytest.approx(want) and want == pytest.approx(3.4641016)
    assert got["p"] == pytest.approx(2 * stats.t.sf(want, df=2))


def test_overlapping_horizons_use_one_bartlett_lag_by_hand():
    """Horizon 2, stride 1: one lag. d = (1, 3, 2, 4): c = (-1.5, .5, -.5, 1.5), g0 = 1.25,
    g1 = (-.75 - .25 - .75) / 4, V = g0 + 2 * 0.5 * g1 = 0.8125, h = 2."""
    got = diebold_mariano(_table([1, 3, 2, 4], [0, 0, 0, 0], horizon=2), {"s": 1.0}, "rnn", "arima",
                          horizon=2, stride=1)
    hln = math.sqrt((4 + 1 - 4 + 2 * 1 / 4) / 4)
    want = 2.5 / math.sqrt(0.8125 / 4) * hln
    assert got["lags"] == 1
    assert got["dm"] == pytest.approx(want) and want == pytest.approx(3.3968, abs=1e-4)
    # a stride as long as the horizon: no overlap, no lag
    assert diebold_mariano(_table([1, 3, 2, 4], [0] * 4, horizon=2), {"s": 1.0}, "rnn", "arima", 2, 2)["lags"] == 0


def test_series_are_scaled_and_averaged_per_origin():
    """Two series, the second's errors 10x larger but so is its scale: d_k as for one series."""
    one = _table([1, 2, 3], [0, 0, 0])
    two = pd.concat([one, _table([10, 20, 30], [0, 0, 0], series=("t",))], ignore_index=True)
    a = diebold_mariano(one, {"s": 1.0}, "rnn", "arima", 1, 1)
    b = diebold_mariano(two, {"s": 1.0, "t": 10.0}, "rnn", "arima", 1, 1)
    assert b["origins"] == 3 and b["dm"] == pytest.approx(a["dm"]) and b["mase_diff"] == pytest.approx(2.0)


def test_mase_difference_equals_the_tables_difference():
    rng = np.random.default_rng(0)
    rows = []
    for s in ("a", "b", "c"):
        for k in range(6):
            for step in (1, 2, 3):
                y = rng.normal()
                for model in ("rnn", "naive", "ets"):
                    rows.append({"model": model, "series": s, "origin": f"2001-{k + 1:02d}-01", "step": step,
                                 "actual": y, "point": y + rng.normal(), "lo": y - 1, "hi": y + 1})
    table = pd.DataFrame(rows)
    scales = {"a": 0.5, "b": 2.0, "c": 1.3}
    _, overall = summarize(table, scales)
    mase = dict(zip(overall["model"], overall["MASE"]))
    comparisons = compare_to_baselines(table, scales, horizon=3, stride=2)
    assert [c["b"] for c in comparisons] == ["naive", "ets"]
    for c in comparisons:
        assert c["mase_diff"] == pytest.approx(mase["rnn"] - mase[c["b"]])
        assert 0 <= c["p"] <= 1 and c["lags"] == 1
    swapped = diebold_mariano(table, scales, "ets", "rnn", 3, 2)
    assert swapped["dm"] == pytest.approx(-comparisons[1]["dm"]) and swapped["p"] == pytest.approx(comparisons[1]["p"])


def test_no_test_without_variation_or_origins():
    same = diebold_mariano(_table([1, 1, 1], [0, 0, 0]), {"s": 1.0}, "rnn", "arima", 1, 1)
    assert same["mase_diff"] == pytest.approx(1.0) and math.isnan(same["dm"]) and math.isnan(same["p"])
    few = diebold_mariano(_table([1, 2], [0, 0]), {"s": 1.0}, "rnn", "arima", 1, 1)
    assert few["origins"] == 2 and math.isnan(few["p"])


def test_refuses_unknown_models_and_different_windows():
    table = _table([1, 2, 3], [0, 0, 0])
    with pytest.raises(ValueError, match="no forecasts of model 'ets'"):
        diebold_mariano(table, {"s": 1.0}, "rnn", "ets", 1, 1)
    short = table.drop(index=table.index[-1])  # arima lost its last step
    with pytest.raises(ValueError, match="not forecast on the same series, origins and steps"):
        diebold_mariano(short, {"s": 1.0}, "rnn", "arima", 1, 1)


def test_a_series_without_a_mase_scale_is_left_out_as_in_the_means():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 12), rng.normal(0, 1, 12)
    two = _table(a, b, series=("s", "flat"))
    alone = diebold_mariano(_table(a, b), {"s": 1.0}, "rnn", "arima", 1, 1)
    got = diebold_mariano(two, {"s": 1.0, "flat": 0.0}, "rnn", "arima", 1, 1)
    assert math.isfinite(got["dm"]) and got["dm"] == pytest.approx(alone["dm"]) and got["p"] == pytest.approx(alone["p"])
    _, overall = summarize(two, {"s": 1.0, "flat": 0.0})
    mase = overall.set_index("model")["MASE"]
    assert got["mase_diff"] == pytest.approx(mase["rnn"] - mase["arima"])


def test_a_comparison_without_a_test_says_why_instead_of_nan():
    from rnnkit.apps.forecast.report import comparison_table, describe_comparison

    nan = float("nan")
    same = {"a": "rnn", "b": "naive", "mase_diff": 0.0, "dm": nan, "p": nan, "origins": 10, "lags": 1}
    short = {"a": "rnn", "b": "ets", "mase_diff": -0.1, "dm": nan, "p": nan, "origins": 2, "lags": 1}
    tested = {"a": "rnn", "b": "theta", "mase_diff": -0.2, "dm": -2.5, "p": 0.03, "origins": 10, "lags": 1}
    table = comparison_table([same, short, tested])
    assert "nan" not in table
    assert "| naive | +0.000 | no test (10 origins, the same difference at every one) | |" in table
    assert "| ets | -0.100 | no test (2 origins) | |" in table and "| theta | -0.200 | -2.50 | 0.030 |" in table
    assert describe_comparison(short) == "MASE difference -0.100; no test (2 origins)"
