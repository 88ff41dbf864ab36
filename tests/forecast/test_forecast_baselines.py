"""Baselines: naive and seasonal naive by hand; ETS and ARIMA recover what generated the data."""

import numpy as np
import pandas as pd

from rnnkit.forecast import ARIMA, ETS, Naive, SeasonalNaive, build_series, hide_future


def _sset(y):
    d = pd.DataFrame({"t": np.arange(len(y)), "y": y})
    return build_series(d, time_col="t", target=["y"])


def test_naive_by_hand():
    s = _sset(np.array([1.0, 3.0, 2.0, 6.0, 5.0, 9.0]))
    hist = _sset(s.series[0].target[:4])
    f = Naive(1).fit(hist)
    sigma = np.sqrt(np.mean(np.array([2.0, -1.0, 4.0]) ** 2))
    point, lo, hi = f.forecast([hide_future(s.series[0], 4)], [4], 2, 0.8)[0]
    np.testing.assert_array_equal(point, [6.0, 6.0])
    np.testing.assert_allclose(hi - point, 1.2815516 * sigma * np.sqrt([1, 2]), rtol=1e-6)
    np.testing.assert_allclose(point - lo, hi - point)


def test_seasonal_naive_repeats_the_last_season():
    y = np.array([1.0, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24])
    s = _sset(y)
    f = SeasonalNaive(4).fit(_sset(y[:8]))
    point, lo, hi = f.forecast([hide_future(s.series[0], 10)], [10], 6, 0.8)[0]
    np.testing.assert_array_equal(point, [13, 14, 21, 22, 13, 14])  # y[6], y[7], y[8], y[9], then again
    sigma = 10.0  # every 4-step change in the history is 10
    np.testing.assert_allclose(hi - point, 1.2815516 * sigma * np.sqrt([1, 1, 1, 1, 2, 2]), rtol=1e-6)
    np.testing.assert_allclose(point - lo, hi - point)


def test_ets_continues_a_trend():
    rng = np.random.default_rng(0)
    y = 100 + 2.0 * np.arange(120) + rng.normal(0, 0.5, 120)
    s = _sset(y)
    f = ETS(1).fit(_sset(y[:100]))
    point, lo, hi = f.forecast([hide_future(s.series[0], 110)], [110], 5, 0.8)[0]
    assert "A" in f.describe()["y"].split(",")[1]  # a trend was chosen: ETS(A,A,N) or ETS(A,Ad,N)
    np.testing.assert_allclose(point, 100 + 2.0 * np.arange(110, 115), atol=1.5)
    assert ((lo < point) & (point < hi)).all()


def test_arima_finds_the_autoregression():
    rng = np.random.default_rng(1)
    y = np.zeros(500)
    for t in range(1, 500):
        y[t] = 0.8 * y[t - 1] + rng.normal()
    y += 50
    s = _sset(y)
    f = ARIMA(1, max_p=2, max_q=1, max_d=0).fit(_sset(y[:480]))
    label = f.describe()["y"]
    assert label[:9] in ("ARIMA(1,0", "ARIMA(2,0") and label.endswith("with constant"), label
    point, lo, hi = f.forecast([hide_future(s.series[0], 490)], [490], 10, 0.8)[0]
    # past the MA term's first step the forecast decays geometrically (rate ~0.8) to its mean
    steps = np.diff(point)
    np.testing.assert_allclose(steps[2:] / steps[1:-1], 0.8, atol=0.1)
    assert abs(point[-1] - 50) < 1.0
    assert np.all(np.diff(hi - lo) >= -1e-9)  # intervals widen with the horizon


def test_arima_differences_a_random_walk_and_takes_the_seasonal_difference():
    rng = np.random.default_rng(2)
    walk = np.cumsum(rng.normal(size=200)) + 100
    assert ARIMA(1)._d(walk) == 1
    season = np.tile([0.0, 5, 10, 5], 50) + rng.normal(0, 0.3, 200)
    assert ARIMA(4)._seasonal_d(season) == 1
    assert ARIMA(4)._seasonal_d(rng.normal(size=200)) == 0


def test_without_statsmodels_ets_and_arima_are_left_out_with_a_message(monkeypatch):
    import importlib.util

    from rnnkit.forecast.baselines import make_baselines
    from rnnkit.forecast.config import BaselineConfig

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "statsmodels" else real(name, *a))
    said = []
    made = make_baselines(["naive", "ets", "seasonal_naive", "arima"], 12, BaselineConfig(), echo=said.append)
    assert [b.name for b in made] == ["naive", "seasonal_naive"]
    assert said == [f"baseline {n}: left out, statsmodels is not installed (pip install 'rnnkit[forecast]')"
                    for n in ("ets", "arima")]
