"""The RNN forecaster's decoders and likelihoods end to end on a small seasonal series: each one
learns something real, forecasts repeatably, and calibration reaches nominal coverage."""

import numpy as np
import pandas as pd
import pytest

from rnnkit import config as C
from rnnkit.forecast import build_series, plan_backtest, run_backtest
from rnnkit.forecast.backtest import history_set
from rnnkit.forecast.baselines import Naive
from rnnkit.forecast.config import ForecastConfig
from rnnkit.forecast.metrics import summarize
from rnnkit.forecast.neural import NeuralForecaster

H = 6


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 220
    t = np.arange(n)
    y = 10 + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, n)
    sset = build_series(pd.DataFrame({"t": t, "y": y}), time_col="t", target=["y"])
    plan = plan_backtest(sset, H, windows=6, stride=H)
    return sset, plan, history_set(sset, plan.first)


def _trained(hist, *over):
    cfg = C.apply_overrides(ForecastConfig(), [
        "window.input_len=24", f"window.horizon={H}", "model.hidden_size=16", "train.epochs=12", "train.lr=1e-2",
        "train.progress=false", "train.tensorboard=false", "train.patience=0", "backtest.val_size=30",
        "model.samples=100", *over])
    nf = NeuralForecaster.create(cfg, hist)
    nf.fit(hist, echo=lambda *_: None)
    return nf


@pytest.mark.parametrize("over", [
    ["model.decoder=autoregressive"],
    ["model.decoder=autoregressive", "model.likelihood=studentt", "model.cell=gru"],
    ["model.likelihood=quantile", "model.scaling=robust"],
    ["model.kind=one_to_one", "model.decoder=autoregressive", "window.input_len=2"],
], ids=["ar-gaussian", "ar-studentt-gru", "direct-quantile", "one-to-one"])
def test_each_decoder_learns_the_cycle(data, over):
    sset, plan, hist = data
    nf = _trained(hist, *over)
    table = run_backtest(sset, plan, [nf, Naive(1).fit(hist)], 0.8)
    assert (table["lo"] <= table["point"]).all() and (table["point"] <= table["hi"]).all()
    _, overall = summarize(table, {"y": 1.0})
    mae = overall.set_index("model")["MAE"]
    assert mae[nf.name] < 0.6 * mae["naive"], mae  # the naive forecast ignores the 12-step cycle
    again = run_backtest(sset, plan, [nf], 0.8)  # sample paths are seeded: the same forecasts
    np.testing.assert_array_equal(again["point"], table[table.model == nf.name]["point"])


def test_calibration_reaches_nominal_coverage_on_the_validation_windows(data):
    _, _, hist = data
    nf = _trained(hist)
    k = nf.calibrate(hist, 0.8)
    nf.calibration = k
    views, origins = [], []
    for o in range(hist.series[0].length - 30, hist.series[0].length - H + 1):
        views.append(hist.series[0])
        origins.append(o)
    out = nf.forecast(views, origins, H, 0.8)
    y = np.stack([hist.series[0].target[o:o + H] for o in origins])
    inside = np.mean([(lo <= yy) & (yy <= hi) for (_, lo, hi), yy in zip(out, y)])
    assert inside == pytest.approx(0.8, abs=0.03)
    assert k > 0
