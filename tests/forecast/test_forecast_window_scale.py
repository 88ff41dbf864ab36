"""Windows scaled by their own spread (``model.window_scale``, rnnkit/apps/forecast/windows.py): the
targets and inputs come back exactly through ``value * spread + level (+ base)``, a window's
features do not depend on the size of the series' steps, a flat window is finite, and an inference
window reads nothing at or after its origin."""

import numpy as np
import pytest
import torch

from rnnkit.apps.forecast.features import SeriesArrays
from rnnkit.apps.forecast.windows import (
    SPREAD_FLOOR,
    Layout,
    build_windows,
    training_origins,
    window_spread,
)


def _arrays(z: np.ndarray, seed: int = 0) -> SeriesArrays:
    rng = np.random.default_rng(seed)
    return SeriesArrays(np.asarray(z, dtype=np.float64), np.zeros((len(z), 0)), rng.normal(size=(len(z) + 5, 2)),
                        np.zeros(0))


def _calm_end(T: int = 60, seed: int = 0) -> np.ndarray:
    """A random walk whose steps shrink a hundredfold two thirds of the way in (epidemics, then a vaccine)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(size=T) * np.where(np.arange(T) < 2 * T // 3, 1.0, 0.01)
    return 50.0 + np.cumsum(steps)


@pytest.mark.parametrize("lag", [0, 6])
def test_targets_and_inputs_come_back_through_spread_level_and_base(lag):
    a = _arrays(_calm_end())
    L, H = 8, 5
    lay = Layout(L, H, 0, 2, 0, local_level=lag == 0, target_steps=True, seasonal_lag=lag, window_scale=True)
    origins = list(training_origins(len(a.z), lay))
    w = build_windows([a], [(0, o) for o in origins], lay, with_targets=True)
    for i, o in enumerate(origins):
        zin = a.z[o - L:o] - (a.z[o - L - lag:o - lag] if lag else 0)
        assert w.spread[i] == pytest.approx(max(np.mean(np.abs(np.diff(zin))), SPREAD_FLOOR), rel=1e-12)
        x = w.inputs[i].double().numpy()
        np.testing.assert_allclose(x[:L, 0] * w.spread[i] + w.level[i], zin, rtol=1e-6, atol=1e-6 * w.spread[i])
        np.testing.assert_allclose(x[1:L, lay.step_col] * w.spread[i], np.diff(a.z[o - L:o]), atol=1e-6 * w.spread[i])
        y = w.targets[i].double().numpy() * w.spread[i] + w.level[i]
        ref = np.concatenate([a.z[o - L + 1 - lag:o - lag], w.base[i]]) if lag else 0.0
        np.testing.assert_allclose(y + ref, a.z[o - L + 1:o + H], rtol=1e-6, atol=1e-6 * w.spread[i])
    # the calm part's windows have a spread near its steps' (0.01 x 0.8), the wild part's near 0.8
    late = w.spread[w.origins > 2 * len(a.z) // 3 + L + lag]
    early = w.spread[w.origins < 2 * len(a.z) // 3]
    assert late.max() < 0.05 and early.min() > 0.3


def test_a_windows_features_do_not_depend_on_the_size_of_its_steps():
    z = _calm_end(seed=1)
    lay = Layout(8, 5, 0, 2, 0, local_level=True, target_steps=True, window_scale=True)
    pairs = [(0, o) for o in training_origins(len(z), lay)]
    w1 = build_windows([_arrays(z)], pairs, lay, with_targets=True)
    w2 = build_windows([_arrays(1000.0 * z - 3.0)], pairs, lay, with_targets=True)  # same seed: same covariates
    keep = w1.spread > 10 * SPREAD_FLOOR  # the floor is in the series' units: where it binds, the size shows
    assert keep.sum() > len(pairs) // 2
    np.testing.assert_allclose(w2.inputs[keep].numpy(), w1.inputs[keep].numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(w2.targets[keep].numpy(), w1.targets[keep].numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(w2.spread[keep], 1000.0 * w1.spread[keep], rtol=1e-9)
    # without window_scale the same windows are a thousand times larger
    plain = Layout(8, 5, 0, 2, 0, local_level=True, target_steps=True)
    big = build_windows([_arrays(1000.0 * z - 3.0)], pairs, plain, with_targets=True)
    assert (big.spread == 1.0).all()
    assert big.targets[keep].abs().max() > 100 * w1.targets[keep].abs().max()


def test_a_flat_window_is_scaled_by_the_floor_and_stays_finite():
    assert window_spread(np.zeros(8)) == SPREAD_FLOOR
    assert window_spread(np.array([3.0])) == SPREAD_FLOOR  # one value: no step
    z = np.concatenate([np.linspace(0, 40, 30), np.zeros(30)])  # counts that fell to 0 and stayed
    lay = Layout(8, 4, 0, 2, 0, local_level=True, window_scale=True)
    o = 50
    w = build_windows([_arrays(z)], [(0, o)], lay, with_targets=True)
    assert w.spread[0] == SPREAD_FLOOR and torch.isfinite(w.inputs).all() and torch.isfinite(w.targets).all()
    assert (w.targets == 0).all()  # a zero forecast relative to the level is exactly right


def test_an_inference_window_reads_nothing_from_its_origin_on():
    a = _arrays(_calm_end(seed=2))
    lay = Layout(8, 5, 0, 2, 0, local_level=True, target_steps=True, window_scale=True)
    o = 47
    full = build_windows([a], [(0, o)], lay, with_targets=True)
    hidden = SeriesArrays(a.z.copy(), a.past, a.future, a.static)
    hidden.z[o:] = np.nan
    w = build_windows([hidden], [(0, o)], lay, with_targets=False)
    assert torch.isfinite(w.inputs).all() and w.spread[0] == full.spread[0]
    np.testing.assert_array_equal(w.inputs[0].numpy(), full.inputs[0].numpy())


@pytest.mark.parametrize("over", [[], ["model.ensemble=2", "model.ensemble_input_lens=12,24"]],
                         ids=["one-member", "two-input-lengths"])
def test_forecasts_are_the_networks_window_outputs_times_the_spread_plus_the_level(over):
    """What a trained forecaster with ``model.window_scale`` returns is each member's window-space
    quantile times that window's spread plus its level, mapped through the series' scale, and
    averaged over the members (computed here by hand)."""
    import pandas as pd

    from rnnkit import config as C
    from rnnkit.apps.forecast import build_series
    from rnnkit.apps.forecast.config import ForecastConfig
    from rnnkit.apps.forecast.models import forecast_quantiles
    from rnnkit.apps.forecast.neural import NeuralForecaster

    y = 1000.0 + 40.0 * _calm_end(T=120, seed=3)
    sset = build_series(pd.DataFrame({"t": np.arange(len(y)), "y": y}), time_col="t", target=["y"])
    cfg = C.apply_overrides(ForecastConfig(), [
        "window.input_len=24", "window.horizon=4", "model.hidden_size=8", "train.epochs=2", "train.progress=false",
        "train.tensorboard=false", "backtest.val_size=8", "model.guide=none", "model.scaling=diff",
        "model.local_level=true", "model.window_scale=true", "model.ensemble_combine=mean", *over])
    nf = NeuralForecaster.create(cfg, sset)
    nf.fit(sset, echo=lambda *_: None)
    s, origins, levels = sset.series[0], [60, 90, 110], [0.1, 0.5, 0.9]
    got = nf._raw_quantiles([s] * 3, origins, levels)
    a, sc = nf.encoder.encode(s), nf.encoder.target_scale(s)
    members = []
    for net, lay in zip(nf.nets, nf.layouts):
        w = build_windows([a], [(0, o) for o in origins], lay, with_targets=False)
        assert (w.spread != 1.0).all()
        q = forecast_quantiles(net, nf.likelihood, w.inputs, lay, levels).double().numpy()
        members.append(q * w.spread[:, None, None] + w.level[:, None, None])
    want = np.stack([sc.inverse(qi, start=o) for qi, o in zip(np.mean(members, axis=0), origins)])
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert np.isfinite(got).all()
