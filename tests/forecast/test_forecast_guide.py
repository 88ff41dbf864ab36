"""Hybrids (model.guide=ets|arima): the statistical forecast as an input channel. The channel is
the guide's prediction of each row's target from the values before it and before the origin, it
lands in the windows scaled as the target, the network reads it, and saved runs reproduce it."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from rnnkit import config as C
from rnnkit.apps.forecast import build_series, plan_backtest, run_backtest
from rnnkit.apps.forecast.backtest import history_set
from rnnkit.apps.forecast.config import ForecastConfig, check_config
from rnnkit.apps.forecast.guide import Guide
from rnnkit.apps.forecast.neural import NeuralForecaster

H, L = 4, 12


def _sset(n=90, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    d = pd.DataFrame({"date": pd.date_range("2000-01-01", periods=n, freq="MS"),
                      "y": 50 + 0.3 * t + 5 * np.sin(2 * np.pi * t / 12) + np.cumsum(rng.normal(0, 1, n))})
    return build_series(d, time_col="date", target=["y"])


def _cfg(*over):
    return C.apply_overrides(ForecastConfig(), [
        f"window.input_len={L}", f"window.horizon={H}", "model.hidden_size=8", "train.epochs=2",
        "train.progress=false", "train.patience=0", "train.tensorboard=false", "backtest.val_size=8",
        "baselines.max_p=1", "baselines.max_q=1", *over])


@pytest.fixture(scope="module")
def arima_guide():
    """An ARIMA guide with a differenced order (d = 1), so the diffuse start has a burn-in."""
    sset = _sset()
    g = Guide("arima", 12)
    g.fits["y"] = (((1, 1, 0), (0, 0, 0, 0), "c"), np.array([0.3, 0.2, 1.0]))  # drift, ar.L1, sigma2
    return sset.series[0], g


def test_the_channel_is_the_filters_one_step_and_multi_step_predictions(arima_guide):
    """Rows before the origin: E[y_t | y_<t] from a filter over y[:o]; from the origin on: the
    forecast from y[:o]; the burn-in rows of the diffuse start: the last observed value."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    s, g = arima_guide
    spec, params = g.fits["y"]
    for o in (L, 40, 70):
        path = g.path(s, o, L, H)
        assert path.shape == (L + H - 1,)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = SARIMAX(s.target[:o], order=(1, 1, 0), trend="c").filter(params)
        fitted, ahead = np.asarray(res.fittedvalues), np.asarray(res.get_forecast(H).predicted_mean)
        t = np.arange(o - L + 1, o)
        burn = g.burn_in(spec)
        assert burn == 1 + 1 + 1  # d + p + 1
        expect = np.where(t < burn, s.target[np.maximum(t - 1, 0)], fitted[t])
        np.testing.assert_allclose(path[:L - 1], expect, rtol=1e-12)
        np.testing.assert_allclose(path[L - 1:], ahead, rtol=1e-12)
    assert (g.path(s, L, L, H)[:2] == s.target[0:2]).all()  # t = 1, 2 < burn-in: y_{t-1}


def test_the_channel_reads_nothing_at_or_after_the_origin(arima_guide):
    s, g = arima_guide
    o = 50
    before = g.path(s, o, L, H).copy()
    changed = s.__class__(s.name, s.times, s.target.copy(), s.past, s.future, s.static)
    changed.target[o:] = np.nan  # hidden, as the backtest does
    np.testing.assert_array_equal(g.path(changed, o, L, H), before)
    changed.target[o:] = 1e6  # or scrambled
    np.testing.assert_array_equal(g.path(changed, o, L, H), before)
    changed.target[o - 1] += 5.0  # the last value before the origin does move it
    assert not np.allclose(g.path(changed, o, L, H)[L - 1:], before[L - 1:])


@pytest.fixture(scope="module")
def guided():
    sset = _sset()
    plan = plan_backtest(sset, H, 3, H)
    hist = history_set(sset, plan.first)
    cfg = _cfg("model.guide=ets", "model.local_level=true", "model.deseasonalize=true")
    nf = NeuralForecaster.create(cfg, hist)
    nf.fit(hist, echo=lambda *_: None)
    return sset, plan, hist, nf


def test_windows_hold_the_scaled_guide_minus_the_window_level(guided):
    _, _, hist, nf = guided
    lay = nf.layout
    assert lay.guide and lay.guide_col == lay.n_features - 1
    s = hist.series[0]
    train, _ = nf.split_windows(hist)
    scale = nf.encoder.target_scale(s)
    for i in (0, len(train) // 2, len(train) - 1):
        o = int(train.origins[i])
        expect = scale.transform(nf.guide.path(s, o, L, H), start=o - L + 1) - train.level[i]
        np.testing.assert_allclose(train.inputs[i, :, lay.guide_col].numpy(), expect, rtol=1e-5, atol=1e-5)
        # the level is the scaled last observed value (local_level), which the guide channel shares
        assert train.level[i] == pytest.approx(scale.transform(s.target[o - 1:o], start=o - 1)[0])


def test_the_network_reads_the_channel(guided, monkeypatch):
    sset, plan, _, nf = guided
    honest = run_backtest(sset, plan, [nf], 0.8)
    original = Guide.path

    def shifted(self, s, o, input_len, horizon, digest=None):
        return original(self, s, o, input_len, horizon, digest) + 25.0

    monkeypatch.setattr(Guide, "path", shifted)
    moved = run_backtest(sset, plan, [nf], 0.8)
    assert np.abs(moved["point"].to_numpy() - honest["point"].to_numpy()).min() > 1e-3


def test_the_guide_is_fit_before_the_validation_span(guided):
    """Values inside the validation span cannot move the guide's parameters (validation sees the
    guide out of sample, as the backtest does); values before it do."""
    _, _, hist, nf = guided
    s = hist.series[0]
    val = 8  # backtest.val_size
    changed = history_set(_sset(), [s.length])
    changed.series[0].target[-val:] += 40.0
    again = NeuralForecaster.create(nf.cfg, changed)
    np.testing.assert_array_equal(again.guide.fits["y"][1], nf.guide.fits["y"][1])
    changed.series[0].target[-val - 1] += 40.0
    moved = NeuralForecaster.create(nf.cfg, changed)
    (spec, params), (spec2, params2) = nf.guide.fits["y"], moved.guide.fits["y"]
    assert spec2 != spec or not np.allclose(params2, params)


def test_config_errors_name_the_keys():
    with pytest.raises(C.ConfigError, match="model.guide_base=ets needs model.guide=none or the same model.*"
                       "got guide=arima"):
        check_config(_cfg("model.guide=arima", "model.guide_base=ets"))
    with pytest.raises(C.ConfigError, match="model.guide_base=ets needs .*seasonal_diff=false"):
        check_config(_cfg("model.guide_base=ets", "model.seasonal_diff=true", "data.season_length=12"))
    check_config(_cfg("model.guide_base=ets"))  # the base's model is the guide: no model.guide needed
    check_config(_cfg("model.guide=arima", "model.seasonal_diff=true", "data.season_length=12"))  # allowed now
    with pytest.raises(C.ConfigError, match="model.guide"):
        _cfg("model.guide=prophet")


def test_saved_guided_run_reproduces_exactly(tmp_path):
    from rnnkit.apps.forecast import pipeline, resolve_config

    sset = _sset()
    s = sset.series[0]
    path = tmp_path / "y.csv"
    pd.DataFrame({"date": s.times, "y": s.target}).to_csv(path, index=False)
    over = ["data.target=y", f"window.input_len={L}", f"window.horizon={H}", "model.hidden_size=8",
            "model.guide=ets", "model.log_target=true", "model.guide_blend=auto", "train.epochs=2", "train.progress=false",
            "train.tensorboard=false", "train.patience=0", "baselines.models=naive,arima", "baselines.max_p=1",
            "baselines.max_q=1", "backtest.windows=2", "backtest.val_size=8",
            # rolling factors in every path too; few origins, since the guide is refit at each
            # origin from the training history's end on (the earlier ones the rolling window reads)
            "backtest.calibrate=true", "backtest.calibrate_window=3"]
    cfg = resolve_config(path=path, overrides=over)
    run = tmp_path / "run"
    result = pipeline.train(cfg, run, echo=lambda *_: None)
    assert "rolling, from the last 3 observed origins" in (run / "report.md").read_text()
    assert "Guide (the statistical forecast the RNN reads" in (run / "report.md").read_text()
    assert set(result["guide_models"]) == {"y"} and result["guide_models"]["y"].startswith("ETS(")
    state = json.loads((run / "forecast_state.json").read_text())
    assert state["guide"]["name"] == "ets" and "y" in state["guide"]["fits"]
    assert state["guide"]["backend"] == "statsforecast"
    cfg_saved, nf = pipeline.load_run(run)
    assert cfg_saved.model.guide_blend == "auto" == nf.blend and nf.guide.fits.keys() == {"y"}
    assert nf.name == result["model"] and "ETS share auto" in nf.name
    shares = result["guide_blend"]["at_end"]  # the share at the end of the data, saved for predict
    assert set(shares) == {"y"} and nf.blend_at_end == shares
    assert f"At the end of the data, used by predict: y: {shares['y']:g}." in (run / "report.md").read_text()
    np.testing.assert_array_equal(nf.blend_weights([s], [s.length]), [shares["y"]])
    refit = pipeline.refit_on_all(cfg_saved, nf, pipeline.load_series(cfg.data), echo=lambda *_: None)
    assert refit.fixed_blend == shares and refit.history_ends == {"y": s.length}
    np.testing.assert_array_equal(refit.blend_weights([s], [s.length]), [shares["y"]])
    stored = pd.read_csv(run / "backtest_forecasts.csv")
    again = run_backtest(pipeline.load_series(cfg.data), plan_backtest(sset, H, 2, H), [nf], 0.8)
    mine = stored[stored.model == nf.name]
    for col in ("point", "lo", "hi"):
        np.testing.assert_allclose(again[col].to_numpy(), mine[col].to_numpy(), rtol=1e-9)
    ev = pipeline.evaluate(run, echo=lambda *_: None)
    assert ev["overall"][0]["MASE"] == pytest.approx(result["overall"][0]["MASE"], rel=1e-9)
    p = pipeline.predict(run, use_backtest_model=True)
    assert len(p) == H and np.isfinite(p[["point", "lo", "hi"]].to_numpy()).all()


def _guide_windows(nf, hist, **layout_changes):
    """Training windows of ``nf``'s series under its layout with ``layout_changes``, and the scaled guide rows."""
    import dataclasses

    from rnnkit.apps.forecast.windows import build_windows

    lay = dataclasses.replace(nf.layout, **layout_changes)
    s = hist.series[0]
    pairs = [(0, o) for o in (lay.lookback + 3, 40, s.length - H)]
    rows = nf.guide_rows(hist.series, pairs, lay)
    return lay, build_windows([nf.encoder.encode(s)], pairs, lay, with_targets=True, guide=rows), rows


def test_guide_base_targets_are_the_deviation_from_the_guide(guided):
    """With guide_base every row's target is z - g (the window level cancels), the base is the
    guide's forecast less the level, so an output of 0 forecasts exactly the guide."""
    _, _, hist, nf = guided
    _, w, rows = _guide_windows(nf, hist, guide_base=True)
    z = nf.encoder.encode(hist.series[0]).z
    for i, o in enumerate(w.origins):
        g = rows[i]
        np.testing.assert_allclose(w.targets[i].numpy(), z[o - L + 1:o + H] - g, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(w.level[i] + w.base[i], g[L - 1:], rtol=1e-12)
    plain = _guide_windows(nf, hist)[1]
    np.testing.assert_array_equal(plain.inputs.numpy(), w.inputs.numpy())  # the inputs are the same
    assert not plain.base.any()


def test_seasonal_layout_guide_channel_is_relative_to_the_seasonal_reference(guided):
    """With seasonal_lag m the channel is g minus the value each row's target is taken against:
    z one season back inside the input span, the repeated last season over the horizon."""
    _, _, hist, nf = guided
    m = 12
    lay, w, rows = _guide_windows(nf, hist, seasonal_lag=m, local_level=False)
    z = nf.encoder.encode(hist.series[0]).z
    for i, o in enumerate(w.origins):
        ref = np.concatenate([z[o - L + 1 - m:o - m], z[o - m + np.arange(H) % m]])
        np.testing.assert_allclose(w.inputs[i, :, lay.guide_col].numpy(), rows[i] - ref, rtol=1e-5, atol=1e-5)


def test_a_guide_base_layout_needs_a_guide_and_no_season():
    from rnnkit.apps.forecast.windows import Layout

    for bad in ({"guide": False}, {"guide": True, "seasonal_lag": 12}, {"guide": True, "autoregressive": True}):
        with pytest.raises(ValueError, match="guide_base needs a guide channel"):
            Layout(L, H, guide_base=True, **bad)


def test_auto_fits_the_guide_once_for_every_treatment(tmp_path, monkeypatch):
    """transform=auto with a guide: the candidates, the combined members and the best retrained
    in the run folder share one guide fit per series (the statistical search is the slow part)."""
    from rnnkit.apps.forecast import pipeline, resolve_config

    s = _sset().series[0]
    path = tmp_path / "y.csv"
    pd.DataFrame({"date": s.times, "y": s.target}).to_csv(path, index=False)
    calls = []
    original = Guide._fit_series
    monkeypatch.setattr(Guide, "_fit_series", lambda self, name, y: (calls.append(name), original(self, name, y)))
    cfg = resolve_config(path=path, overrides=[
        "data.target=y", f"window.horizon={H}", "model.hidden_size=8", "model.guide=ets", "train.epochs=1",
        "train.progress=false", "train.tensorboard=false", "baselines.models=naive", "backtest.windows=2"])
    result = pipeline.train(cfg, tmp_path / "run", echo=lambda *_: None)
    assert "guided" in result["transform"]["scores"]  # the guide-based treatment was a candidate
    assert len(result["transform"]["scores"]) >= 5
    assert calls == ["y"]


def test_past_the_training_history_the_guide_is_refit_on_everything_before_the_origin():
    """Origins before the training history's end (training and validation windows) filter with the
    kept parameters; an origin at or after it (backtest, predict) gets a fresh search on y[:o], as
    a baseline refit at every origin would, so a guide never forecasts from parameters frozen
    before a turn."""
    s = _sset().series[0]
    kept = Guide("ets", 12)
    kept._fit_series(s.name, s.target[:50])
    kept.refit_from[s.name] = 60  # the training history's end: validation origins 50..59 keep the fit
    inside = kept.path(s, 50, L, H)
    assert kept.path(s, 59, L, H) is not None and not kept._refits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec, params = kept.fits[s.name]
        _, ahead = kept.fitter.run(s.target[:50], spec, params, H)
    np.testing.assert_allclose(inside[L - 1:], ahead, rtol=1e-12)
    later = kept.path(s, 80, L, H)
    fresh = Guide("ets", 12)
    fresh._fit_series(s.name, s.target[:80])  # its own fit ends at the origin: no refit, its own search
    np.testing.assert_allclose(later, fresh.path(s, 80, L, H), rtol=1e-9)
    assert kept.fits[s.name] is not fresh.fits[s.name] and kept.fit_ends[s.name] == 50  # the kept fit is kept
    # a saved guide remembers where its fit ends, so a loaded run refits at the same origins
    again = Guide.from_dict(json.loads(json.dumps(kept.to_dict())))
    np.testing.assert_array_equal(again.path(s, 80, L, H), later)


def test_at_the_backtest_origins_the_ets_guide_forecasts_what_the_autoets_baseline_does():
    """Refit at every origin from the training history's end on, the guide is the AutoETS baseline's
    own model: the same forecast (so ``model.guide_blend=1`` is that baseline)."""
    from rnnkit.apps.forecast.baselines import SFModel

    sset = _sset()
    plan = plan_backtest(sset, H, 3, H)
    g = Guide("ets", 12).fit(history_set(sset, plan.first))
    s, base = sset.series[0], SFModel("ets", 12)
    for o in range(plan.first[0], sset.series[0].length - H + 1, H):
        y = s.target[:o]
        want = base._forecast(base._fit(y), y, H, 0.8)[0]
        np.testing.assert_allclose(g.path(s, o, L, H)[L - 1:], want, rtol=1e-9)


def test_past_max_points_the_guides_search_reads_what_the_cut_autoets_baseline_reads():
    """``baselines.max_points=N`` bounds the guide's searches at its refit origins as it bounds the
    AutoETS baseline's fits: the guide forecasts what the baseline fit on the last N values does,
    its input rows from the filter's start on are that fit's one-step predictions, and the rows
    before the start hold the last observed value."""
    from statsforecast.models import AutoETS

    from rnnkit.apps.forecast.baselines import SFModel
    from rnnkit.apps.forecast.config import BaselineConfig
    from rnnkit.apps.forecast.guide import search_start

    N, long_L = 100, 30
    sset = _sset(n=160)
    s = sset.series[0]
    g = Guide("ets", 12, BaselineConfig(max_points=N)).fit(history_set(sset, [110]))
    base = SFModel("ets", 12)
    base.max_points = N
    for o in (110, 140):  # the cut begins at 10 and 40
        start = search_start(o, N)
        assert start == o - N
        y = s.target[start:o]
        want = base._forecast(base._fit(y), y, H, 0.8)[0]
        path = g.path(s, o, long_L, H)
        np.testing.assert_allclose(path[long_L - 1:], want, rtol=1e-9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = AutoETS(season_length=12, model="ZZZ").fit(y).predict_in_sample()["fitted"]
        np.testing.assert_allclose(path[:long_L - 1], fitted[o - long_L + 1 - start:], rtol=1e-9)
    # an input reaching back before the filter's start: those rows hold the last observed value
    o, far_L = 140, 120
    path = g.path(s, o, far_L, H)
    t = np.arange(o - far_L + 1, o)
    before = t < search_start(o, N)
    assert before.sum() == 19
    np.testing.assert_array_equal(path[:far_L - 1][before], s.target[t[before] - 1])
    assert search_start(50, N) == 0 and search_start(5000, 0) == 0  # short histories, and 0 = all


def test_statsforecast_guide_is_autoets_own_fit_and_forecast():
    """The default ETS guide (statsforecast installed) is AutoETS's default search, as the baseline: at the origin its fit ends on,
    the rows before it are AutoETS's own in-sample one-step predictions and the rows after it its
    forecast; at a later origin with the kept fit, the filter over the longer history (``forward``)."""
    from statsforecast.models import AutoETS

    s = _sset().series[0]
    g = Guide("ets", 12)
    assert g.backend == "statsforecast"
    o = 70
    g._fit_series(s.name, s.target[:o])
    g.refit_from.clear()  # keep this fit at the later origin too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        own = AutoETS(season_length=12, model="ZZZ").fit(s.target[:o])
        later = AutoETS(season_length=12, model="ZZZ").fit(s.target[:o]).forward(y=s.target[:o + 9], h=H, fitted=True)
    path = g.path(s, o, L, H)
    np.testing.assert_allclose(path[:L - 1], own.predict_in_sample()["fitted"][o - L + 1:o], rtol=1e-9)
    np.testing.assert_allclose(path[L - 1:], own.predict(h=H)["mean"], rtol=1e-9)
    np.testing.assert_allclose(g.path(s, o + 9, L, H)[L - 1:], later["mean"], rtol=1e-9)
    np.testing.assert_allclose(g.path(s, o + 9, L, H)[:L - 1], later["fitted"][o + 9 - L + 1:o + 9], rtol=1e-9)
    assert g.describe()["y"].startswith("ETS(")


def test_guide_backend_follows_baselines_backend_and_saved_runs_keep_theirs():
    """``baselines.backend=statsmodels`` gives the statsmodels search; a saved guide (NaN-free
    strict JSON) reloads with the backend it was fit with, and one saved before backends existed
    loads as statsmodels."""
    from rnnkit.apps.forecast.config import BaselineConfig

    s = _sset().series[0]
    assert Guide("ets", 12, BaselineConfig(backend="statsmodels")).backend == "statsmodels"
    assert Guide("arima", 12).backend == "statsmodels"  # the ARIMA guide is statsmodels' only
    g = Guide("ets", 12)
    g._fit_series(s.name, s.target[:60])
    saved = json.dumps(g.to_dict(), allow_nan=False)  # statsforecast marks absent parameters with NaN
    again = Guide.from_dict(json.loads(saved))
    assert again.backend == "statsforecast"
    np.testing.assert_array_equal(again.path(s, 60, L, H), g.path(s, 60, L, H))
    old = Guide("ets", 12, backend="statsmodels")
    old._fit_series(s.name, s.target[:60])
    legacy = old.to_dict()
    del legacy["backend"]
    assert Guide.from_dict(legacy).backend == "statsmodels"
    np.testing.assert_array_equal(Guide.from_dict(legacy).path(s, 60, L, H), old.path(s, 60, L, H))


def test_the_guide_shows_a_bar_over_the_backtest_windows_unless_progress_is_off(capsys, monkeypatch):
    """The guide is searched again at every backtest origin (minutes on a large panel): with
    ``train.progress`` on, the backtest shows a bar while it runs; off, stderr stays quiet. (The
    bar waits ``BAR_DELAY`` seconds before it shows, longer than this small pass: 0 here.)"""
    from rnnkit.apps.forecast import guide as guide_module
    from rnnkit.apps.forecast.pipeline import backtest

    monkeypatch.setattr(guide_module, "BAR_DELAY", 0.0)

    sset = _sset()
    plan = plan_backtest(sset, H, 3, H)
    hist = history_set(sset, plan.first)
    for progress in (True, False):
        cfg = _cfg("model.guide=ets", "backtest.windows=3", f"backtest.stride={H}", "baselines.models=naive",
                   f"train.progress={str(progress).lower()}")
        nf = NeuralForecaster.create(cfg, hist)
        nf.guide.progress = not progress  # the backtest sets it from the config
        capsys.readouterr()
        backtest(cfg, nf, sset, echo=lambda *_: None)
        err = capsys.readouterr().err
        assert ("guide ets" in err) == progress, err[-500:]


def test_guide_blend_moves_every_quantile_towards_the_guides_forecast(guided):
    """``model.guide_blend`` w: the point forecast is (1 - w) x the network's median + w x the
    guide's forecast, every quantile moves by the same amount (the interval keeps its width), with
    or without the median among the asked levels; w = 0 is the network alone."""
    import copy

    _, _, hist, trained = guided
    nf = copy.copy(trained)
    # the share's arithmetic alone: the naive fallback, which judges a share set too, would take some
    # of these forecasts (tests/forecast/test_forecast_naive_fallback.py)
    nf.cfg = C.apply_overrides(nf.cfg, ["model.naive_fallback=0"])
    nf.blend = 0.0
    assert "of the forecast from" not in nf.name and "blended" not in nf.name  # the network's alone
    s = hist.series[0]
    origins = [40, 55, s.length]
    series = [s] * len(origins)
    net = nf.quantiles(series, origins, [0.1, 0.5, 0.9])
    g = np.stack([nf.guide.path(s, o, L, H)[L - 1:] for o in origins])
    mixed = copy.copy(nf)
    mixed.blend = 0.5
    q = mixed.quantiles(series, origins, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(q[..., 1], 0.5 * net[..., 1] + 0.5 * g, rtol=1e-9)
    np.testing.assert_allclose(q[..., 2] - q[..., 0], net[..., 2] - net[..., 0], rtol=1e-9)
    np.testing.assert_allclose(mixed.quantiles(series, origins, [0.1, 0.9]), q[..., [0, 2]], rtol=1e-9)
    cfg = _cfg("model.guide=ets", "model.guide_blend=0.25")
    assert "guided by ETS, 0.25 of the forecast from ETS)" in NeuralForecaster.create(cfg, hist).name
    with pytest.raises(C.ConfigError, match=r"model.guide_blend must be auto or in \[0, 1\], got 1.5"):
        check_config(_cfg("model.guide_blend=1.5"))


def test_auto_blend_takes_the_share_with_the_lowest_out_of_sample_error(guided):
    """``model.guide_blend=auto`` at origin o: the share w whose mix ``(1 - w) m + w g`` had the
    lowest MAE over the forecasts from o - stride, o - 2 stride, .. (not before the end of the
    training history) on their steps before o, computed here from the network's medians and the
    guide's paths; 0 with nothing observed out of sample; a fixed share per series overrides it."""
    import copy

    from rnnkit.apps.forecast.blend import GRID

    sset, _, hist, trained = guided
    nf = copy.copy(trained)
    nf.blend = "auto"
    s = sset.series[0]  # the whole series: its points after the training history are the out-of-sample record
    end = hist.series[0].length
    assert nf.history_ends == {s.name: end}
    stride = nf.cfg.backtest.stride or H
    nf.blend = 0.0
    want = {}
    for o in (end, end + 1, end + 5, end + 9, s.length):
        earlier = list(range(o - stride, end - 1, -stride))
        if not earlier:
            want[o] = 0.0
            continue
        med = nf.quantiles([s] * len(earlier), earlier, [0.5])[..., 0]
        g = np.stack([nf.guide.path(s, r, L, H)[L - 1:] for r in earlier])
        mae = {}
        for w in GRID:
            f = (1 - w) * med + w * g
            mae[w] = np.mean(np.concatenate([np.abs(s.target[r:min(o, r + H)] - f[i, :min(o, r + H) - r])
                                             for i, r in enumerate(earlier)]))
        want[o] = min(GRID, key=lambda w: (mae[w], w))
    nf.blend = "auto"
    origins = list(want)
    got = nf.blend_weights([s] * len(origins), origins)
    np.testing.assert_array_equal(got, [want[o] for o in origins])
    assert got[0] == 0.0 and len(set(got.tolist())) > 1, got  # nothing out of sample at the first; then a choice
    # the blended forecast at each origin is the mix with that origin's share
    med = trained._raw_quantiles([s] * len(origins), origins, [0.1, 0.5, 0.9])
    q = nf.quantiles([s] * len(origins), origins, [0.1, 0.5, 0.9])
    g = np.stack([nf.guide.path(s, o, L, H)[L - 1:] for o in origins])
    np.testing.assert_allclose(q[..., 1], (1 - got[:, None]) * med[..., 1] + got[:, None] * g, rtol=1e-9)
    # what predict does after refitting: the shares saved at the end of the data
    nf.fixed_blend = {s.name: 0.75}
    np.testing.assert_array_equal(nf.blend_weights([s, s], [end, s.length]), [0.75, 0.75])
    # a series unseen in training: the mean of the known shares (none known: the network alone)
    import dataclasses

    other = dataclasses.replace(s, name="other")
    nf.fixed_blend, nf.blend_at_end = {}, {s.name: 0.5, "b": 1.0}
    np.testing.assert_array_equal(nf.blend_weights([other], [s.length]), [0.75])
    nf.blend_at_end = {}
    np.testing.assert_array_equal(nf.blend_weights([other], [s.length]), [0.0])
    assert "ETS share auto" in nf.name


@pytest.mark.parametrize(("model", "season", "damped"), [("AAN", 1, False), ("MAM", 12, False), ("AAN", 1, True)])
def test_one_filter_pass_gives_every_windows_channel_as_a_pass_per_window(model, season, damped):
    """``paths`` filters a series once for all the windows that share its kept fit
    (``run_prefixes``); each window's channel equals the one filtered over its own history alone
    (``path``), for additive, multiplicative and damped models, on a series whose first values are
    constant (there statsforecast fits afresh instead of filtering, and so must the pass), and
    with the refit origins past the training history mixed in."""
    from statsforecast.models import AutoETS

    rng = np.random.default_rng(3)
    t = np.arange(120)
    y = 50 + 0.2 * t + 6 * np.sin(2 * np.pi * t / 12) + np.cumsum(rng.normal(0, 1, 120))
    y[:20] = y[20]  # a constant start: the windows with origins up to 20 see a constant history
    d = pd.DataFrame({"date": pd.date_range("2000-01-01", periods=120, freq="MS"), "y": y})
    s = build_series(d, time_col="date", target=["y"]).series[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = AutoETS(season_length=season, model=model, damped=damped).fit(y[:90]).model_
    spec = (str(fit["components"]), int(fit["m"]), int(fit["n_params"]))
    assert spec[0] == model + ("D" if damped else "N")
    one_pass, per_window = Guide("ets", 12), Guide("ets", 12)
    for g in (one_pass, per_window):
        g.fits[s.name], g.fit_ends[s.name], g.refit_from[s.name] = (spec, fit["par"]), 90, 100
    pairs = [(0, o) for o in range(L, 106)]  # 100..105: refit origins, searched on y[:o]
    batched = one_pass.paths([s], pairs, L, H)
    for (_, o), got in zip(pairs, batched):
        np.testing.assert_allclose(got, per_window.path(s, o, L, H), rtol=1e-12, atol=1e-12)


def test_paths_hash_each_series_once_with_the_keys_refit_key_makes(monkeypatch):
    """The cache and refit keys carry a digest of the values before the origin. ``paths`` makes
    them for all of a series' windows in one pass (``prefix_digests``): the same digests as
    ``refit_key``'s one by one, and ``refit_key`` is not called per window (on 33,000 days that
    was 35 s of a profiled run: every window hashed its whole history again)."""
    from rnnkit.apps.forecast.guide import prefix_digests

    sset = _sset(n=120)
    s, other = sset.series[0], _sset(n=100, seed=1).series[0]
    pairs = [(0, o) for o in (40, 12, 119, 120, 130, 40)] + [(1, o) for o in (99, 13)]
    digests = prefix_digests([s, other], pairs)
    for i, o in pairs:
        assert digests[i, o] == Guide.refit_key([s, other][i], o)[2]
    guide = Guide("ets", 12)
    guide.fit(history_set(sset, [100]))
    calls = []
    monkeypatch.setattr(Guide, "refit_key", staticmethod(lambda *a: calls.append(a) or ("x", 0, "y")))
    batched = guide.paths([s], [(0, o) for o in range(L, 104)], L, H)
    assert not calls
    monkeypatch.undo()
    one_by_one = Guide("ets", 12).fit(history_set(sset, [100]))  # each window's key made by refit_key
    for o, got in zip(range(L, 104), batched):
        np.testing.assert_array_equal(got, one_by_one.path(s, o, L, H))


def test_a_history_too_short_for_autoets_gets_simple_exponential_smoothing(tmp_path, capsys):
    """statsforecast's AutoETS fits nothing to 6 values or fewer ("tiny datasets"), so a panel of
    12-point yearly series with one backtest window (gapminder's life expectancy, 1952-2007; the
    horizon 4 the too-short error names) stopped with a traceback in the guide's search. There
    the guide is ETS(A,N,N) with alpha by least squares, as R's ets falls back to: alpha minimises
    the one-step squared errors (checked against a fine grid), the forecast is the last level; with
    7 values it is AutoETS's own search. The run trains, backtests and forecasts."""
    from rnnkit.apps.forecast.config import BaselineConfig
    from rnnkit.apps.forecast.guide import TINY, _StatsforecastETS, tiny_ses
    from rnnkit.cli import main

    pytest.importorskip("statsforecast")
    from statsforecast.models import AutoETS

    y = np.array([28.8, 30.3, 32.0, 34.0, 36.1, 38.4]) + np.array([0.0, 0.4, -0.5, 0.3, -0.2, 0.1])
    searcher = _StatsforecastETS("ets", 1, BaselineConfig())
    spec, params = searcher.search(y)
    assert len(y) == TINY and spec == ("ANNN", 1, 2) and (spec, params[0]) == (tiny_ses(y)[0], tiny_ses(y)[1][0])

    def sse(alpha):
        level, total = y[0], 0.0
        for v in y[1:]:
            total += (v - level) ** 2
            level += alpha * (v - level)
        return total, level

    grid = np.linspace(1e-4, 0.9999, 20001)
    best = grid[np.argmin([sse(a)[0] for a in grid])]
    assert params[0] == pytest.approx(best, abs=1e-3) and params[4] == y[0]
    _, mean = searcher.run(y, spec, params, 3)
    np.testing.assert_allclose(mean, sse(params[0])[1], rtol=1e-6)  # the last level, flat
    seven = np.r_[y, 38.9]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        own = AutoETS(season_length=1, model="ZZZ").fit(seven).model_
    spec7, params7 = searcher.search(seven)
    assert spec7[0] == own["components"]
    np.testing.assert_array_equal(params7, own["par"])
    years = np.arange(1952, 2008, 5)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"country": np.repeat(["a", "b", "c"], 12), "year": np.tile(years, 3),
                          "life": np.concatenate([np.linspace(lo, hi, 12) + rng.normal(0, 0.3, 12)
                                                  for lo, hi in ((28.8, 43.8), (55.2, 76.4), (40.1, 70.2))])})
    path = tmp_path / "life.csv"
    frame.to_csv(path, index=False)
    args = ["train", "forecast", "--data", str(path), "--id-col", "country", "--target", "life", "--horizon", "4",
            "backtest.windows=1", "--run-dir", str(tmp_path / "run"), "--preset", "tiny", "train.progress=false",
            "train.tensorboard=false", "train.epochs=4"]
    assert main(args) == 0, capsys.readouterr().err
    assert main(["forecast", "predict", str(tmp_path / "run"), "--output", str(tmp_path / "f.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "f.csv")) == 3 * 4
