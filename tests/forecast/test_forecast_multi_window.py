"""Multi-window ensembles (model.ensemble_input_lens): members that differ in input length as well
as seed, combined as model.ensemble_combine says; saved runs remember each member's length."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from rnnkit import config as C
from rnnkit.apps.forecast import build_series, plan_backtest, run_backtest
from rnnkit.apps.forecast.backtest import history_set
from rnnkit.apps.forecast.config import ForecastConfig, check_config, member_input_lens
from rnnkit.apps.forecast.neural import NeuralForecaster

H = 4
LENS = [8, 20]


def _sset(n=90, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    d = pd.DataFrame({"date": pd.date_range("2000-01-01", periods=n, freq="MS"),
                      "y": 20 + 0.05 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n),
                      "x": rng.normal(size=n)})
    return build_series(d, time_col="date", target=["y"], past=["x"])


def _cfg(*over):
    return C.apply_overrides(ForecastConfig(), [
        "window.input_len=12", f"window.horizon={H}", "model.hidden_size=8", "train.epochs=2",
        "train.progress=false", "train.patience=0", "train.tensorboard=false", "backtest.val_size=8",
        "model.ensemble=2", f"model.ensemble_input_lens={','.join(map(str, LENS))}", *over])


def _single(nf, i):
    """Member i alone, as a one-network forecaster with its own input length."""
    cfg = dataclasses.replace(nf.cfg, model=dataclasses.replace(nf.cfg.model, ensemble=1, ensemble_input_lens=()),
                              window=dataclasses.replace(nf.cfg.window, input_len=nf.input_lens[i]))
    one = NeuralForecaster(cfg, nf.encoder, nf.layouts[i], nf.calibration, guide=nf.guide)
    one.nets = [nf.nets[i]]
    return one


def test_members_cycle_through_the_input_lengths_and_bad_settings_are_named():
    cfg = C.apply_overrides(ForecastConfig(), ["model.ensemble=5", "model.ensemble_input_lens=24,40"])
    assert member_input_lens(cfg) == [24, 40, 24, 40, 24]
    assert member_input_lens(C.apply_overrides(ForecastConfig(), ["model.ensemble=3", "window.input_len=48"])) == [48] * 3
    with pytest.raises(C.ConfigError, match=r"model.ensemble=2 is fewer than the 3 input lengths"):
        check_config(C.apply_overrides(ForecastConfig(), ["model.ensemble=2", "model.ensemble_input_lens=8,16,24"]))
    with pytest.raises(C.ConfigError, match="ensemble_input_lens must all be >= 1"):
        check_config(C.apply_overrides(ForecastConfig(), ["model.ensemble=2", "model.ensemble_input_lens=8,0"]))


@pytest.fixture(scope="module")
def trained():
    sset = _sset()
    plan = plan_backtest(sset, H, 3, H)
    hist = history_set(sset, plan.first)
    # local level with alpha < 1: each member's window level differs (it smooths its own input span);
    # a plain RNN, so that a member reads nothing before its own look-back (a guide's filter reads
    # the whole history), and no naive fallback, which would hand the ensemble's forecasts, not the
    # members' alone, to naive where the validation span calls for it
    nf = NeuralForecaster.create(_cfg("model.local_level=true", "model.level_alpha=0.5", "model.guide=none",
                                      "model.naive_fallback=0"), hist)
    nf.fit(hist, echo=lambda *_: None)
    return sset, plan, hist, nf


@pytest.mark.parametrize("combine", ["mean", "mixture"])
def test_members_read_their_own_input_lengths_and_combine_on_the_target_level(trained, combine):
    _, _, hist, nf = trained
    nf.cfg.model.ensemble_combine = combine
    assert [lay.input_len for lay in nf.layouts] == LENS and nf.layout.input_len == max(LENS)
    s, o = hist.series[0], hist.series[0].length - H
    levels = [0.1, 0.5, 0.9]
    both = nf.quantiles([s], [o], levels)
    singles = [_single(nf, i).quantiles([s], [o], levels) for i in range(2)]
    assert not np.allclose(singles[0], singles[1])
    # the point forecast is the mean of the members' medians, each on its own window level
    np.testing.assert_allclose(both[..., 1], (singles[0][..., 1] + singles[1][..., 1]) / 2, rtol=1e-12)
    if combine == "mean":
        np.testing.assert_allclose(both, (singles[0] + singles[1]) / 2, rtol=1e-12)
    else:  # mixture ends lie between the members' ends (up to the grid)
        tol = 0.01 * np.ptp(np.stack(singles))
        for j in (0, 2):
            lo = np.minimum(singles[0][..., j], singles[1][..., j])
            hi = np.maximum(singles[0][..., j], singles[1][..., j])
            assert ((both[..., j] >= lo - tol) & (both[..., j] <= hi + tol)).all()
    # a value 15 steps before the origin is outside member 0's look-back (8), inside member 1's (20)
    changed = dataclasses.replace(s, target=s.target.copy())
    changed.target[o - 15] += 10.0
    after = [_single(nf, i).quantiles([changed], [o], levels) for i in range(2)]
    np.testing.assert_array_equal(after[0], singles[0])
    assert not np.allclose(after[1], singles[1])
    assert not np.allclose(nf.quantiles([changed], [o], levels), both)
    nf.cfg.model.ensemble_combine = "mean"


def test_origins_need_the_longest_input_length(trained):
    _, _, hist, nf = trained
    with pytest.raises(ValueError, match=r"needs the longest ensemble member's input length "
                                         r"\(model.ensemble_input_lens\)=20 points before it, and it has 19"):
        nf.quantiles([hist.series[0]], [19], [0.5])
    nf.quantiles([hist.series[0]], [20], [0.5])  # exactly enough


def test_saved_run_remembers_each_members_input_length_and_reproduces_exactly(tmp_path):
    from rnnkit.apps.forecast import pipeline, resolve_config

    sset = _sset()
    s = sset.series[0]
    path = tmp_path / "y.csv"
    pd.DataFrame({"date": s.times, "y": s.target, "x": s.past[:, 0]}).to_csv(path, index=False)
    over = ["data.target=y", "data.past_covariates=x", "window.input_len=12", f"window.horizon={H}",
            "model.hidden_size=8", "model.ensemble=3", "model.ensemble_input_lens=8,20", "model.combine=1",
            "model.ensemble_combine=mixture", "train.epochs=2", "train.progress=false", "train.tensorboard=false",
            "train.patience=0", "baselines.models=naive", "backtest.windows=3", "backtest.val_size=8"]
    cfg = resolve_config(path=path, overrides=over)
    run = tmp_path / "run"
    result = pipeline.train(cfg, run, echo=lambda *_: None)
    assert result["input_len"] == "8/20/8 (ensemble members)"
    state = json.loads((run / "forecast_state.json").read_text())
    assert state["member_input_lens"] == [8, 20, 8] and state["layout"]["input_len"] == 20
    assert json.loads((run / "members" / "1" / "config.json").read_text())["caller"]["window"]["input_len"] == 20
    _, nf = pipeline.load_run(run)
    assert nf.input_lens == [8, 20, 8] and [lay.input_len for lay in nf.layouts] == [8, 20, 8]
    assert "inputs 8/20" in nf.name
    stored = pd.read_csv(run / "backtest_forecasts.csv")
    stored = stored[stored.model == nf.name]
    again = run_backtest(pipeline.load_series(cfg.data), plan_backtest(sset, H, 3, H), [nf], 0.8)
    for col in ("point", "lo", "hi"):
        np.testing.assert_allclose(again[col].to_numpy(), stored[col].to_numpy(), rtol=1e-12)
    ev = pipeline.evaluate(run, echo=lambda *_: None)
    assert ev["overall"][0]["MASE"] == pytest.approx(result["overall"][0]["MASE"], rel=1e-12)
    p1, p2 = pipeline.predict(run, use_backtest_model=True), pipeline.predict(run, use_backtest_model=True)
    assert len(p1) == H and np.isfinite(p1[["point", "lo", "hi"]].to_numpy()).all()
    pd.testing.assert_frame_equal(p1, p2)
    # the stored lengths are what the reloaded run uses: change them and the forecasts move
    state["member_input_lens"] = [8, 20, 20]
    (run / "forecast_state.json").write_text(json.dumps(state))
    _, nf2 = pipeline.load_run(run)
    assert not np.allclose(pipeline.predict(run, use_backtest_model=True)["point"], p1["point"])
    assert nf2.input_lens == [8, 20, 20]


def test_a_series_too_short_for_the_longest_member_is_a_clear_error(tmp_path):
    from rnnkit.apps.forecast import pipeline, resolve_config

    s = _sset(n=40).series[0]
    path = tmp_path / "y.csv"
    pd.DataFrame({"date": s.times, "y": s.target}).to_csv(path, index=False)
    cfg = resolve_config(path=path, overrides=["data.target=y", f"window.horizon={H}", "window.input_len=8",
                                               "model.ensemble=2", "model.ensemble_input_lens=8,38",
                                               "train.progress=false"])
    with pytest.raises(ValueError, match=r"fewer than max\(model.ensemble_input_lens\) \+ window.horizon = "
                                         r"38 \+ 4 = 42"):
        pipeline.train(cfg, tmp_path / "run", echo=lambda *_: None)
    cfg = resolve_config(path=path, overrides=["data.target=y", f"window.horizon={H}", "window.input_len=8",
                                               "model.ensemble=2", "model.ensemble_input_lens=8,20",
                                               "backtest.windows=3", "backtest.val_size=8", "train.progress=false"])
    with pytest.raises(ValueError, match=r"lower backtest.windows or max\(model.ensemble_input_lens\)"):
        pipeline.train(cfg, tmp_path / "run", echo=lambda *_: None)
