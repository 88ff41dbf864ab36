"""Baselines: naive and seasonal naive by hand; ETS and ARIMA recover what generated the data; the
statsforecast baselines equal statsforecast's own cross-validation on the same windows; the drift
of a differenced ARIMA is a constant step (a straight-line forecast)."""

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import (
    ARIMA,
    ETS,
    Naive,
    SeasonalNaive,
    build_series,
    hide_future,
)


def _sset(y):
    d = pd.DataFrame({"t": np.arange(len(y)), "y": y})
    return build_series(d, time_col="t", target=["y"])


def test_naive_by_hand():
    s = _sset(np.array([1.0, 3.0, 2.0, 6.0, 5.0, 9.0]))
    hist = _sset(s.series[0].target[:4])
    f = Naive(1, refit="once").fit(hist)
    sigma = np.sqrt(np.mean(np.array([2.0, -1.0, 4.0]) ** 2))
    point, lo, hi = f.forecast([hide_future(s.series[0], 4)], [4], 2, 0.8)[0]
    np.testing.assert_array_equal(point, [6.0, 6.0])
    np.testing.assert_allclose(hi - point, 1.2815516 * sigma * np.sqrt([1, 2]), rtol=1e-6)
    np.testing.assert_allclose(point - lo, hi - point)


def test_seasonal_naive_repeats_the_last_season():
    y = np.array([1.0, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24])
    s = _sset(y)
    f = SeasonalNaive(4, refit="once").fit(_sset(y[:8]))
    point, lo, hi = f.forecast([hide_future(s.series[0], 10)], [10], 6, 0.8)[0]
    np.testing.assert_array_equal(point, [13, 14, 21, 22, 13, 14])  # y[6], y[7], y[8], y[9], then again
    sigma = 10.0  # every 4-step change in the history is 10
    np.testing.assert_allclose(hi - point, 1.2815516 * sigma * np.sqrt([1, 1, 1, 1, 2, 2]), rtol=1e-6)
    np.testing.assert_allclose(point - lo, hi - point)


@pytest.mark.learning
def test_ets_continues_a_trend():
    rng = np.random.default_rng(0)
    y = 100 + 2.0 * np.arange(120) + rng.normal(0, 0.5, 120)
    s = _sset(y)
    f = ETS(1, refit="once").fit(_sset(y[:100]))
    point, lo, hi = f.forecast([hide_future(s.series[0], 110)], [110], 5, 0.8)[0]
    assert "A" in f.describe()["y"].split(",")[1]  # a trend was chosen: ETS(A,A,N) or ETS(A,Ad,N)
    # statsmodels, not torch: bit-identical under the four rounding settings; max error 0.09 here
    # (0.02-0.13 over 6 other noise draws)
    np.testing.assert_allclose(point, 100 + 2.0 * np.arange(110, 115), atol=1.5)
    assert ((lo < point) & (point < hi)).all()


@pytest.mark.learning
def test_arima_finds_the_autoregression():
    rng = np.random.default_rng(1)
    y = np.zeros(500)
    for t in range(1, 500):
        y[t] = 0.8 * y[t - 1] + rng.normal()
    y += 50
    s = _sset(y)
    f = ARIMA(1, max_p=2, max_q=1, max_d=0, refit="once").fit(_sset(y[:480]))
    label = f.describe()["y"]
    assert label[:9] in ("ARIMA(1,0", "ARIMA(2,0") and label.endswith("with constant"), label
    point, lo, hi = f.forecast([hide_future(s.series[0], 490)], [490], 10, 0.8)[0]
    # past the MA term's first step the forecast decays geometrically (rate ~0.8) to its mean
    # statsmodels, not torch: bit-identical under the four rounding settings (rate within 0.02 of 0.8)
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

    from rnnkit.apps.forecast.baselines import make_baselines
    from rnnkit.apps.forecast.config import BaselineConfig

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "statsmodels" else real(name, *a))
    said = []
    made = make_baselines(["naive", "ets", "seasonal_naive", "arima"], 12, BaselineConfig(backend="statsmodels"),
                          echo=said.append)
    assert [b.name for b in made] == ["naive", "seasonal_naive"]
    assert said == [f"baseline {n}: left out, statsmodels is not installed (pip install 'rnnkit[forecast]')"
                    for n in ("ets", "arima")]


# ------------------------------------------------------------------------------ statsforecast
def _real_quarterly(column="realcons"):
    import statsmodels.api as sm

    d = sm.datasets.macrodata.load_pandas().data
    dates = pd.date_range("1959-01-01", periods=len(d), freq="QS")
    return pd.DataFrame({"date": dates, "y": d[column].to_numpy(float)})


@pytest.mark.parametrize("refit", ["every_origin", "once"])
def test_statsforecast_baselines_equal_statsforecasts_own_cross_validation(refit):
    """Same series (real: US real consumption, quarterly), same origins: every model's point forecast
    and 80% interval equal what ``StatsForecast.cross_validation`` computes (refit=True / False)."""
    pytest.importorskip("statsforecast")
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta
    from statsforecast.models import Naive as SFNaive
    from statsforecast.models import SeasonalNaive as SFSeasonalNaive

    from rnnkit.apps.forecast.backtest import history_set, plan_backtest, run_backtest
    from rnnkit.apps.forecast.baselines import SFModel

    frame = _real_quarterly().iloc[:120]
    sset = build_series(frame, time_col="date", target=["y"], freq="QS")
    H, K, stride = 8, 3, 4
    plan = plan_backtest(sset, H, K, stride)
    kinds = ["naive", "seasonal_naive", "ets", "arima", "theta"]
    ours = [SFModel(k, 4, refit=refit).fit(history_set(sset, plan.first)) for k in kinds]
    got = run_backtest(sset, plan, ours, 0.8)

    sf = StatsForecast(models=[SFNaive(), SFSeasonalNaive(4), AutoETS(season_length=4),
                               AutoARIMA(season_length=4), AutoTheta(season_length=4)], freq="QS")
    long = frame.rename(columns={"date": "ds"}).assign(unique_id="y")
    cv = sf.cross_validation(df=long, h=H, n_windows=K, step_size=stride, level=[80], refit=refit == "every_origin")
    cv = cv.sort_values(["cutoff", "ds"]).reset_index(drop=True)
    for kind, col in zip(kinds, ["Naive", "SeasonalNaive", "AutoETS", "AutoARIMA", "AutoTheta"]):
        mine = got[got["model"] == kind].sort_values(["origin", "time"]).reset_index(drop=True)
        assert len(mine) == len(cv) == H * K
        np.testing.assert_array_equal(mine["time"].to_numpy(), cv["ds"].to_numpy())
        np.testing.assert_allclose(mine["point"], cv[col], rtol=1e-5, err_msg=kind)
        np.testing.assert_allclose(mine["lo"], cv[f"{col}-lo-80"], rtol=1e-4, err_msg=kind)
        np.testing.assert_allclose(mine["hi"], cv[f"{col}-hi-80"], rtol=1e-4, err_msg=kind)


@pytest.mark.parametrize("refit", ["every_origin", "once"])
def test_max_points_bounds_what_the_statistical_baselines_see(refit):
    """``baselines.max_points=N``: ETS, ARIMA and Theta fit on the last N values before each origin
    (with ``once``, on the history's last N and then run from there), exactly statsforecast's own
    result on those values; the naive forecasts are untouched; each fit at an origin is handed on
    (to the guide, whose search there reads the same values) with where its values begin."""
    pytest.importorskip("statsforecast")
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    from rnnkit.apps.forecast.baselines import SFModel, make_baselines
    from rnnkit.apps.forecast.config import BaselineConfig

    frame = _real_quarterly()
    sset = build_series(frame, time_col="date", target=["y"], freq="QS")
    y, first, origins, H, N = sset.series[0].target, 150, [150, 170], 8, 100
    hist = _sset(y[:first])
    cut = make_baselines(["naive", "ets", "arima", "theta"], 4, BaselineConfig(refit=refit, max_points=N))
    whole = make_baselines(["naive"], 4, BaselineConfig(refit=refit, max_points=0))
    handed = []
    for b in [*cut, *whole]:
        b.fit(hist)
        if b.name != "naive":
            b.on_fit = lambda s, o, fitted, start, name=b.name: handed.append((name, o, start))
    series = [hide_future(sset.series[0], o) for o in origins]
    got = {b.name: b.forecast(series, origins, H, 0.8) for b in cut}
    # every fit of ETS, ARIMA and Theta was cut to the last N values (with ``once`` none is made at an origin)
    assert handed == ([(name, o, o - N) for name in ("ets", "arima", "theta") for o in origins]
                      if refit == "every_origin" else [])
    handed.clear()
    peers = {"ets": AutoETS(season_length=4), "arima": AutoARIMA(season_length=4, approximation=False),
             "theta": AutoTheta(season_length=4)}
    for name, peer in peers.items():
        if refit == "once":
            fitted = peer.fit(y[first - N:first])
        for i, o in enumerate(origins):
            want = (peer.fit(y[o - N:o]).predict(h=H, level=[80]) if refit == "every_origin"
                    else fitted.forward(y=y[first - N:o], h=H, level=[80]))
            point, lo, hi = got[name][i]
            np.testing.assert_allclose(point, want["mean"], rtol=1e-6, err_msg=f"{name} at {o}")
            np.testing.assert_allclose(lo, want["lo-80"], rtol=1e-5, err_msg=f"{name} at {o}")
    np.testing.assert_array_equal(np.array(got["naive"]), np.array(whole[0].forecast(series, origins, H, 0.8)))
    uncut = SFModel("ets", 4, refit=refit)
    uncut.max_points = len(y)
    uncut.fit(hist)
    uncut.on_fit = lambda s, o, fitted, start: handed.append((s.name, o, start))
    uncut.forecast(series, origins, H, 0.8)
    assert handed == ([("y", 150, 0), ("y", 170, 0)] if refit == "every_origin" else [])


def test_max_points_is_checked_and_the_report_says_when_it_cut():
    from rnnkit.apps.forecast import resolve_config
    from rnnkit.apps.forecast.config import check_config
    from rnnkit.apps.forecast.pipeline import _refit_words, bounded_points
    from rnnkit.apps.forecast.report import _refit_sentence

    with pytest.raises(ValueError, match="baselines.max_points must be 0 .* or at least 100, got 5"):
        check_config(resolve_config(overrides=["baselines.max_points=5"]))
    sset = build_series(_real_quarterly(), time_col="date", target=["y"], freq="QS")  # 203 points
    cfg = resolve_config(overrides=["window.horizon=8", "baselines.max_points=150"])
    assert bounded_points(cfg, sset) == 150  # 195 values before the last origin
    assert bounded_points(resolve_config(overrides=["window.horizon=8"]), sset) == 0  # 5,000: no cut
    unbounded = resolve_config(overrides=["window.horizon=8", "baselines.max_points=150",
                                          "baselines.models=naive,seasonal_naive"])
    assert bounded_points(unbounded, sset) == 0  # no bounded model among the baselines: nothing to say
    assert "on the last 150 values before each origin (baselines.max_points" in _refit_words("every_origin", 150)
    assert "saw only the last 150 values" in _refit_sentence("every_origin", 150)
    assert "max_points" not in _refit_sentence("every_origin", 0)


def test_arima_max_points_bounds_autoarima_with_a_long_season_only():
    """``baselines.arima_max_points`` cuts AutoARIMA's history where its season is longer than 12
    (hours of a day) and nowhere else: not ETS or Theta, not a monthly ARIMA; its fit is
    statsforecast's own on those values; the report and the terminal say so; 0 leaves
    ``max_points``; below 100 is refused."""
    pytest.importorskip("statsforecast")
    from statsforecast.models import AutoARIMA

    from rnnkit.apps.forecast import resolve_config
    from rnnkit.apps.forecast.baselines import fit_bound, make_baselines
    from rnnkit.apps.forecast.config import BaselineConfig, check_config
    from rnnkit.apps.forecast.pipeline import _refit_words, bounded_arima_points
    from rnnkit.apps.forecast.report import _refit_sentence

    assert fit_bound("arima", 24, 5000, 2000) == 2000 and fit_bound("arima", 24, 1500, 2000) == 1500
    assert fit_bound("arima", 12, 5000, 2000) == 5000 and fit_bound("arima", 52, 0, 2000) == 2000
    assert fit_bound("ets", 24, 5000, 2000) == 5000 and fit_bound("theta", 48, 5000, 2000) == 5000
    assert fit_bound("arima", 24, 5000, 0) == 5000 and fit_bound("naive", 24, 5000, 2000) == 0
    with pytest.raises(ValueError, match="baselines.arima_max_points must be 0 .* or at least 100, got 50"):
        check_config(resolve_config(overrides=["baselines.arima_max_points=50"]))
    # three weeks of hours (a daily pattern and noise): AutoARIMA reads the last 200, ETS all
    rng = np.random.default_rng(3)
    t = np.arange(24 * 21)
    y = 10 + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.5, len(t))
    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=len(t), freq="h"), "y": y})
    sset = build_series(frame, time_col="date", target=["y"])
    arima, ets = make_baselines(["arima", "ets"], 24, BaselineConfig(arima_max_points=200))
    o, H = len(t) - 24, 24
    assert arima.first_seen(o) == o - 200 and ets.first_seen(o) == 0
    got = arima.forecast([hide_future(sset.series[0], o)], [o], H, 0.8)[0][0]
    want = AutoARIMA(season_length=24, approximation=True).fit(y[o - 200:o]).predict(h=H)["mean"]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    hourly = resolve_config(overrides=["window.horizon=24", "baselines.arima_max_points=200", "data.season_length=24"])
    assert bounded_arima_points(hourly, sset) == 200
    monthly = resolve_config(overrides=["window.horizon=24", "baselines.arima_max_points=200", "data.season_length=12"])
    assert bounded_arima_points(monthly, sset) == 0  # a season of 12: the bound does not apply
    no_arima = resolve_config(overrides=["window.horizon=24", "baselines.arima_max_points=200",
                                         "data.season_length=24", "baselines.models=naive,ets"])
    assert bounded_arima_points(no_arima, sset) == 0
    assert "AutoARIMA, whose season is longer than 12, on the last 200" in _refit_words("every_origin", 0, 200)
    assert "AutoARIMA, with its long season, saw only the last 200" in _refit_sentence("every_origin", 0, 200)
    assert "AutoARIMA" not in _refit_sentence("every_origin", 0, 0)


def test_autoarima_search_follows_r_rule_and_equals_statsforecasts_own():
    """``baselines.arima_search=auto``: approximate beyond 150 points (or a season above 12), as R's
    auto.arima; on a 203-quarter series (US unemployment, where the two searches choose different
    orders) our AutoARIMA equals statsforecast's cross-validation with ``approximation=True``, and
    ``exact`` equals its default (``approximation=False``)."""
    pytest.importorskip("statsforecast")
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA

    from rnnkit.apps.forecast.backtest import history_set, plan_backtest, run_backtest
    from rnnkit.apps.forecast.baselines import SFModel, arima_approximates

    assert not arima_approximates("auto", 150, 12) and arima_approximates("auto", 151, 12)
    assert arima_approximates("auto", 100, 24) and not arima_approximates("exact", 900, 52)
    assert arima_approximates("approximate", 20, 1)
    frame = _real_quarterly("unemp")
    sset = build_series(frame, time_col="date", target=["y"], freq="QS")
    H, K, stride = 8, 1, 4  # one origin, 195 quarters of history
    plan = plan_backtest(sset, H, K, stride)
    long = frame.rename(columns={"date": "ds"}).assign(unique_id="y")
    points = {}
    for search, approximation in (("auto", True), ("exact", False)):
        ours = SFModel("arima", 4, arima_search=search).fit(history_set(sset, plan.first))
        got = run_backtest(sset, plan, [ours], 0.8).sort_values(["origin", "time"]).reset_index(drop=True)
        sf = StatsForecast(models=[AutoARIMA(season_length=4, approximation=approximation)], freq="QS")
        cv = sf.cross_validation(df=long, h=H, n_windows=K, step_size=stride, level=[80])
        cv = cv.sort_values(["cutoff", "ds"]).reset_index(drop=True)
        np.testing.assert_allclose(got["point"], cv["AutoARIMA"], rtol=1e-5, err_msg=search)
        np.testing.assert_allclose(got["hi"], cv["AutoARIMA-hi-80"], rtol=1e-4, err_msg=search)
        points[search] = got["point"].to_numpy()
    assert np.abs(points["auto"] - points["exact"]).max() > 1e-3  # the two searches differ here
    with pytest.raises(ValueError, match="arima_search"):
        SFModel("arima", 4, arima_search="fast")


def test_autoarima_above_max_season_has_no_seasonal_terms_and_is_statsforecasts_own_below():
    """With a season over ``baselines.max_season`` (24) AutoARIMA searches no seasonal AR or MA
    orders (seasonal differencing still chosen by its test): a seasonal term at lag 48 cost 36 s a
    fit on 245 half-hours of solar generation, and ten origins several minutes. At or below 24
    the model is statsforecast's own default search. The label says why; ``max_season`` raised
    puts the seasonal terms back."""
    pytest.importorskip("statsforecast")
    from statsforecast.models import AutoARIMA

    from rnnkit.apps.forecast.baselines import make_baselines
    from rnnkit.apps.forecast.config import BaselineConfig

    rng = np.random.default_rng(5)
    t = np.arange(48 * 5)
    y = 10 + 3 * np.sin(2 * np.pi * t / 48) + np.cumsum(rng.normal(0, 0.2, len(t)))
    o, H = len(t) - 8, 8
    (half_hours,) = make_baselines(["arima"], 48, BaselineConfig())
    assert half_hours.max_season == 24
    fitted = half_hours._fit(y[:o])
    _, _, P, Q, m, _, _ = fitted.model_["arma"]  # (p, q, P, Q, m, d, D)
    assert m == 48 and P == Q == 0
    assert "no seasonal AR/MA terms at a season over baselines.max_season=24" in half_hours.label(fitted)
    want = AutoARIMA(season_length=48, approximation=True, max_P=0, max_Q=0).fit(y[:o]).predict(h=H)["mean"]
    np.testing.assert_allclose(fitted.predict(h=H)["mean"], want, rtol=1e-6)
    (allowed,) = make_baselines(["arima"], 48, BaselineConfig(max_season=48))
    assert allowed._seasonal_terms(48) == {} and "max_season" not in allowed.label(fitted)
    # a season of 24 or less: statsforecast's own default search, seasonal terms allowed
    (hours,) = make_baselines(["arima"], 24, BaselineConfig())
    assert hours._seasonal_terms(24) == {}
    short = y[:24 * 3]
    np.testing.assert_allclose(hours._fit(short).predict(h=H)["mean"],
                               AutoARIMA(season_length=24, approximation=True).fit(short).predict(h=H)["mean"],
                               rtol=1e-6)


def test_every_origin_refits_and_once_does_not():
    """On a series whose slope changes after the history, ETS refit at every origin follows the new
    slope; fit once it keeps the history's parameters (the forecasts differ)."""
    pytest.importorskip("statsforecast")
    from rnnkit.apps.forecast.baselines import SFModel

    rng = np.random.default_rng(3)
    y = np.cumsum(rng.normal(0, 1, 100))
    y = np.concatenate([y[:100], y[99] + 3.0 * np.arange(1, 61) + rng.normal(0, 1, 60)])  # slope 3 after 100
    s = _sset(y)
    hist = _sset(y[:100])
    once = SFModel("ets", 1, refit="once").fit(hist)
    every = SFModel("ets", 1, refit="every_origin").fit(hist)
    p_once = once.forecast([hide_future(s.series[0], 150)], [150], 5, 0.8)[0][0]
    p_every = every.forecast([hide_future(s.series[0], 150)], [150], 5, 0.8)[0][0]
    assert abs(np.mean(np.diff(p_every)) - 3.0) < 0.5  # the refit model has learnt the slope
    assert np.abs(p_every - p_once).max() > 1.0


def _drifting_walk(n=300, slope=0.5, seed=4):
    rng = np.random.default_rng(seed)
    return 20 + np.cumsum(slope + rng.normal(0, 1, n))


@pytest.mark.parametrize("backend", ["statsmodels", "statsforecast"])
def test_arima_drift_is_a_constant_step(backend):
    """A random walk with drift 0.5: ARIMA chooses d = 1 with a drift, and its forecast is a straight
    line whose slope estimates 0.5 (a time trend in the differenced series, the old bug, makes the
    steps grow linearly: a quadratic forecast)."""
    if backend == "statsforecast":
        pytest.importorskip("statsforecast")
        from rnnkit.apps.forecast.baselines import SFModel

        model = SFModel("arima", 1)
    else:
        model = ARIMA(1, max_p=1, max_q=1)
    y = _drifting_walk()
    s = _sset(y)
    point, lo, hi = model.forecast([hide_future(s.series[0], 280)], [280], 20, 0.8)[0]
    label = model.describe()["y"]
    assert "drift" in label.lower(), label
    steps = np.diff(point)
    np.testing.assert_allclose(steps[5:], steps[-1], atol=1e-6)  # constant steps once any AR part has decayed
    assert abs(steps[-1] - 0.5) < 0.2, steps[-1]
    drift_hat = np.mean(np.diff(y[:280]))
    assert abs(steps[-1] - drift_hat) < 0.1


def test_statsmodels_fallback_theta_and_every_origin_refit():
    y = _drifting_walk(120, 1.0, seed=5)
    s = _sset(y)
    from rnnkit.apps.forecast.baselines import Theta

    point, lo, hi = Theta(1).forecast([hide_future(s.series[0], 110)], [110], 5, 0.8)[0]
    assert (lo < point).all() and (point < hi).all()
    assert abs(point[0] - y[109]) < 5
