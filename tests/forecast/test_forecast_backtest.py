"""Backtest windows never see the future: planted leaks are caught, futures cannot move forecasts."""

import numpy as np
import pandas as pd
import pytest

from rnnkit import config as C
from rnnkit.apps.forecast import (
    LeakError,
    build_series,
    hide_future,
    plan_backtest,
    run_backtest,
)
from rnnkit.apps.forecast import windows as W
from rnnkit.apps.forecast.backtest import history_set
from rnnkit.apps.forecast.baselines import ARIMA, ETS, Naive, SeasonalNaive
from rnnkit.apps.forecast.config import ForecastConfig
from rnnkit.apps.forecast.features import SeriesArrays
from rnnkit.apps.forecast.neural import NeuralForecaster

H = 4


def _sset(n=80, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    d = pd.DataFrame({"date": pd.date_range("2000-01-01", periods=n, freq="MS"),
                      "y": 20 + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n),
                      "x": rng.normal(size=n)})
    return build_series(d, time_col="date", target=["y"], past=["x"])


def _cfg(*over):
    return C.apply_overrides(ForecastConfig(), ["window.input_len=12", f"window.horizon={H}", "model.hidden_size=8",
                                                "train.epochs=2", "train.progress=false", "train.patience=0",
                                                "train.tensorboard=false", "backtest.val_size=8", *over])


class Oracle:
    """Reads the actual future: a planted leak."""

    name = "oracle"

    def forecast(self, series, origins, horizon, level):
        return [(s.target[o:o + horizon],) * 3 for s, o in zip(series, origins)]


def test_plan_and_history():
    s = _sset()
    plan = plan_backtest(s, H, windows=3, stride=5)
    assert plan.origins == [[80 - 4 - 10, 80 - 4 - 5, 80 - 4]]
    hist = history_set(s, plan.first)
    assert hist.series[0].length == 66 and len(hist.series[0].future) == 66
    view = hide_future(s.series[0], 70)
    assert np.isnan(view.target[70:]).all() and np.isnan(view.past[70:]).all()
    np.testing.assert_array_equal(view.target[:70], s.series[0].target[:70])
    np.testing.assert_array_equal(view.future, s.series[0].future)  # known-future stays known


def test_a_forecaster_that_reads_the_future_is_caught():
    s = _sset()
    with pytest.raises(LeakError, match=r"oracle returned a non-finite forecast for series 'y' at origin 2005-09-01"):
        run_backtest(s, plan_backtest(s, H, 3, H), [Naive(12).fit(s), Oracle()], 0.8)


def test_a_window_builder_off_by_one_is_caught(monkeypatch):
    """Plant the classic bug, inputs shifted one step into the future, and the backtest catches it."""
    s = _sset()
    plan = plan_backtest(s, H, 2, H)
    nf = NeuralForecaster.create(_cfg(), history_set(s, plan.first))
    honest = run_backtest(s, plan, [nf], 0.8)  # the honest builder passes
    assert np.isfinite(honest["point"]).all()
    original = W._window

    def leaky(a, o, lay, teacher_forcing, guide=None):  # the target read one step late: input at t holds z[t+1]
        shifted = SeriesArrays(np.append(a.z[1:], np.nan), a.past, a.future, a.static)
        return original(shifted, o, lay, teacher_forcing, guide)

    monkeypatch.setattr(W, "_window", leaky)
    with pytest.raises(LeakError, match="rnnkit LSTM"):
        run_backtest(s, plan, [nf], 0.8)


@pytest.mark.parametrize("neural", [(), ("model.ensemble=2", "model.ensemble_input_lens=8,20",
                                           "model.ensemble_combine=mixture"), ("model.guide=ets",)],
                         ids=["single", "multi-window", "guided"])
def test_values_after_the_first_origin_cannot_change_any_forecast_at_it(neural):
    """Train and backtest twice on data that differ only from the first origin on (target and past
    covariate scrambled): the RNN (scales, weights; also a multi-window ensemble, whose longest
    member reaches furthest back, and a hybrid whose guide is fit and filtered on the series) and
    every baseline forecast the first origin identically."""
    a, b = _sset(), _sset()
    plan = plan_backtest(a, H, 3, H)
    first = plan.first[0]
    rng = np.random.default_rng(1)
    b.series[0].target[first:] = rng.normal(100, 50, len(b.series[0].target) - first)
    b.series[0].past[first:] *= -7
    outs = []
    for sset in (a, b):
        hist = history_set(sset, plan.first)
        nf = NeuralForecaster.create(_cfg(*neural), hist)
        nf.fit(hist, echo=lambda *_: None)
        # ETS/ARIMA without a seasonal part: the same machinery (fit on the history, filter to
        # each origin) at a fraction of the cost
        models = [nf, Naive(12).fit(hist), SeasonalNaive(12).fit(hist), ETS(1).fit(hist),
                  ARIMA(1, max_p=1, max_q=1).fit(hist)]
        outs.append(run_backtest(sset, plan, models, 0.8))
    at_first = [o[o["origin"] == a.series[0].times[first]] for o in outs]
    assert len(at_first[0]) == 5 * H
    for col in ("point", "lo", "hi"):
        np.testing.assert_array_equal(at_first[0][col].to_numpy(), at_first[1][col].to_numpy())
    later = [o[o["origin"] == a.series[0].times[plan.origins[0][1]]] for o in outs]
    assert not np.allclose(later[0]["point"], later[1]["point"])  # ... but later origins do see them
