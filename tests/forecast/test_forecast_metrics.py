"""Metrics against values computed by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast.metrics import (
    coverage,
    mae,
    mase,
    mase_scale,
    rmse,
    smape,
    summarize,
)

Y = [10.0, 20.0, 30.0, 0.0]
F = [12.0, 18.0, 33.0, 0.0]


def test_point_metrics_by_hand():
    assert mae(Y, F) == pytest.approx((2 + 2 + 3 + 0) / 4)
    assert rmse(Y, F) == pytest.approx(math.sqrt((4 + 4 + 9 + 0) / 4))
    # 100 * mean(2|e| / (|y| + |f|)); the 0/0 term counts 0
    assert smape(Y, F) == pytest.approx(100 * (4 / 22 + 4 / 38 + 6 / 63 + 0) / 4)


def test_mase_by_hand():
    history = [1.0, 3.0, 2.0, 5.0, 4.0, 8.0]
    assert mase_scale(history, 1) == pytest.approx((2 + 1 + 3 + 1 + 4) / 5)
    assert mase_scale(history, 2) == pytest.approx((1 + 2 + 2 + 3) / 4)
    assert mase_scale(history, 4) == pytest.approx(2.2)  # history shorter than 2m: m = 1
    assert mase(Y, F, 1.75) == pytest.approx(1.75 / 1.75)
    assert math.isnan(mase(Y, F, 0.0))


def test_coverage_counts_the_ends_as_inside():
    assert coverage([1, 2, 3, 4], [0, 2, 3.5, 5], [1, 3, 4, 6]) == 0.5


def test_summary_per_series_and_overall():
    df = pd.DataFrame({
        "model": ["m"] * 4 + ["b"] * 4, "series": ["a", "a", "b", "b"] * 2,
        "actual": [1.0, 2, 10, 20] * 2, "point": [1.0, 3, 10, 24, 2, 2, 10, 20],
        "lo": [0.0, 0, 0, 0] * 2, "hi": [2.0, 2, 30, 30] * 2})
    per, overall = summarize(df, {"a": 0.5, "b": 2.0})
    m = per[per.model == "m"].set_index("series")
    assert m.loc["a", "MAE"] == 0.5 and m.loc["a", "MASE"] == 1.0
    assert m.loc["b", "MAE"] == 2.0 and m.loc["b", "MASE"] == 1.0
    o = overall.set_index("model")
    assert o.loc["m", "MASE"] == 1.0 and o.loc["m", "MAE"] == pytest.approx(1.25)
    assert o.loc["m", "coverage"] == 1.0 and o.loc["b", "MASE"] == pytest.approx((0.5 / 0.5 + 0 / 2.0) / 2)
    assert o.loc["m", "RMSE"] == pytest.approx(np.sqrt((0 + 1 + 0 + 16) / 4))
    assert list(overall.model) == ["m", "b"]


def test_a_series_without_a_mase_scale_is_left_out_of_the_mean():
    """A series constant in its history has no MASE (scale 0): the overall MASE is the mean of the
    others, not NaN for the whole panel."""
    df = pd.DataFrame({"model": ["m"] * 4, "series": ["a", "a", "flat", "flat"], "actual": [1.0, 2, 5, 5],
                       "point": [1.0, 3, 5, 6], "lo": [0.0] * 4, "hi": [9.0] * 4})
    per, overall = summarize(df, {"a": 0.5, "flat": 0.0})
    assert np.isnan(per.set_index("series").loc["flat", "MASE"])
    assert overall.loc[0, "MASE"] == 1.0
    _, overall = summarize(df[df.series == "flat"], {"flat": 0.0})
    assert np.isnan(overall.loc[0, "MASE"])
