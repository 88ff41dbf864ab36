"""Covariates are used: a target driven by a known-future covariate is learnt; past and static
covariates move the forecast."""

import numpy as np
import pandas as pd
import pytest

from rnnkit import config as C
from rnnkit.apps.forecast import build_series, hide_future, plan_backtest, run_backtest
from rnnkit.apps.forecast.backtest import history_set
from rnnkit.apps.forecast.baselines import Naive
from rnnkit.apps.forecast.config import ForecastConfig
from rnnkit.apps.forecast.metrics import summarize
from rnnkit.apps.forecast.neural import NeuralForecaster

H = 4


@pytest.fixture(scope="module")
def trained():
    """Two series: y = 10 + 4 f (sign +1) and y = 10 - 4 f (sign -1), f random and known ahead, so
    the future is unpredictable without f; the sign is a static covariate."""
    rng = np.random.default_rng(0)
    n = 160
    frames = []
    for name, sign in (("up", 1.0), ("down", -1.0)):
        f = rng.normal(size=n)
        frames.append(pd.DataFrame({"t": np.arange(n), "id": name, "f": f, "noise": rng.normal(size=n),
                                    "sign": sign, "y": 10 + sign * 4 * f + rng.normal(0, 0.1, n)}))
    sset = build_series(pd.concat(frames), time_col="t", target=["y"], id_col="id", future=["f"],
                        past=["noise"], static=["sign"])
    cfg = C.apply_overrides(ForecastConfig(), [
        "window.input_len=8", f"window.horizon={H}", "model.hidden_size=24", "train.epochs=60", "train.lr=1e-2",
        "train.batch_size=32", "train.progress=false", "train.tensorboard=false", "train.patience=0",
        "backtest.val_size=12", "data.calendar=false"])
    plan = plan_backtest(sset, H, windows=5, stride=H)
    hist = history_set(sset, plan.first)
    nf = NeuralForecaster.create(cfg, hist)
    nf.fit(hist, echo=lambda *_: None)
    return sset, plan, hist, nf


@pytest.mark.learning
def test_known_future_covariate_is_learnt(trained):
    sset, plan, hist, nf = trained
    table = run_backtest(sset, plan, [nf, Naive(1).fit(hist)], 0.8)
    _, overall = summarize(table, {s.name: 1.0 for s in sset.series})
    mae = overall.set_index("model")["MAE"]
    assert mae["naive"] > 3.0  # y jumps with f: yesterday says little
    # without f the best is the mean, MAE 4 E|f| = 3.2; measured 0.095-0.133 (4 seeds x 4 rounding settings)
    assert mae[nf.name] < 0.15 * mae["naive"], mae


def _forecast(nf, s, o):
    return nf.forecast([hide_future(s, o)], [o], H, 0.8)[0][0]


@pytest.mark.learning
def test_changing_the_future_covariate_moves_the_forecast_by_the_learnt_slope(trained):
    sset, plan, _, nf = trained
    deltas = {}
    for s, sign, origins in zip(sset.series, (-1, 1), plan.origins):  # sorted ids: down, up
        for o in origins:
            base = _forecast(nf, s, o)
            moved = s.__class__(s.name, s.times, s.target, s.past, s.future.copy(), s.static)
            moved.future[o:o + H, 0] += 1.0
            deltas[s.name, o] = (_forecast(nf, moved, o) - base) * sign  # the slope's size, 4 when learnt
    d = np.stack(list(deltas.values()))  # (series x origins, H)
    # A model that ignores f moves by 0, one with the sign wrong by -4. Measured (seeds 0-3 with
    # defaults, seeds 0-2 with ATEN_CPU_CAPABILITY=default, seed 0 with OMP_NUM_THREADS=1 and =avx2):
    # mean 3.89-3.94, single steps 2.75-4.25 (the first step of the first origin is the weakest);
    # the old check, one origin's steps each within 1 of 4, failed for 2 of 4 seeds.
    assert abs(d.mean() - 4.0) < 0.5 and 2.0 < d.min() and d.max() < 6.0, (d.mean(), d.min(), d.max())


def test_past_and_static_covariates_reach_the_forecast(trained):
    sset, plan, _, nf = trained
    s, o = sset.series[0], plan.origins[0][0]
    base = _forecast(nf, s, o)
    past = s.__class__(s.name, s.times, s.target, s.past.copy(), s.future, s.static)
    past.past[o - 3:o] += 5.0
    assert np.abs(_forecast(nf, past, o) - base).max() > 1e-3
    flipped = s.__class__(s.name, s.times, s.target, s.past, s.future, {"sign": 1.0})
    assert np.abs(_forecast(nf, flipped, o) - base).max() > 1e-3


def test_known_future_covariates_with_origins_closer_than_the_horizon(tmp_path, make_store_frame, capsys):
    """The default backtest puts origins H/2 apart; with known-future covariates and no future rows
    in the file, the guide's share at the end of the data asked for a forecast from H/2 before the
    end, whose covariates run past it: training stopped with "known-future covariate 'promo' has no
    value" (found on fpp2's elecdaily with its WorkDay and Temperature). Earlier forecasts whose
    horizon the covariates do not cover are left out of that choice."""
    from rnnkit.cli import main

    path = tmp_path / "stores.csv"
    make_store_frame(n=72).to_csv(path, index=False)
    assert main(["train", "forecast", "--data", str(path), "--time-col", "date", "--id-col", "store", "--target",
                 "sales", "--future", "promo", "--horizon", "4", "--input-len", "12", "--run-dir", str(tmp_path / "r"),
                 "--preset", "tiny", "backtest.stride=2", "train.progress=false", "train.tensorboard=false",
                 "baselines.models=naive"]) == 0
    assert "the guide's (ETS) share, chosen by the backtest's errors, at the end of the data" in capsys.readouterr().out
