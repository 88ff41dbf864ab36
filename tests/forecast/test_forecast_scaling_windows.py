"""Scaling and windowing round-trip exactly; inference windows read nothing at or after the origin."""

import numpy as np
import pandas as pd
import pytest
import torch

from rnnkit.apps.forecast import build_series, fit_scale
from rnnkit.apps.forecast.features import Encoder, SeriesArrays, calendar_features
from rnnkit.apps.forecast.windows import Layout, build_windows, training_origins


@pytest.mark.parametrize("method", ["standard", "robust", "diff", "none"])
def test_scaling_round_trip(method):
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(1e4, 300.0, 500), [2e5]])  # with an outlier
    sc = fit_scale(y, method)
    z = sc.transform(y)
    np.testing.assert_allclose(sc.inverse(z), y, rtol=1e-15, atol=1e-15 * np.abs(y).max())
    if method == "standard":
        assert z.mean() == pytest.approx(0, abs=1e-12) and z.std() == pytest.approx(1)
    if method == "robust":  # the outlier does not move the robust scale; median maps to 0
        assert sc.center == pytest.approx(np.median(y)) and sc.scale == pytest.approx(300, rel=0.1)
    if method == "diff":  # the mean absolute step
        assert sc.scale == pytest.approx(np.mean(np.abs(np.diff(y))))
    if method == "none":
        assert (sc.center, sc.scale) == (0.0, 1.0)


def test_scaling_edge_cases():
    assert fit_scale(np.full(10, 7.0), "standard").scale == 1.0  # constant history
    assert fit_scale([1.0, 1, 1, 1, 1, 5], "robust").scale == pytest.approx(np.std([1.0, 1, 1, 1, 1, 5]))
    # NaN (the backtest's hidden future) is never skipped: a scale fit on it is NaN
    assert np.isnan(fit_scale([1.0, 2.0, np.nan], "standard").center)
    assert np.isnan(fit_scale([1.0, 2.0, np.nan], "robust").center)
    with pytest.raises(ValueError, match="scaling must be one of"):
        fit_scale([1.0], "minmax")


def _arrays(T=40, n_past=1, n_future=2, n_static=1, seed=0):
    rng = np.random.default_rng(seed)
    return SeriesArrays(rng.normal(size=T).astype(np.float32).astype(np.float64), rng.normal(size=(T, n_past)),
                        rng.normal(size=(T + 5, n_future)), rng.normal(size=n_static))


@pytest.mark.parametrize("autoregressive", [False, True])
def test_windows_round_trip_exactly(autoregressive):
    """Every value of the series comes back bit for bit from the windows, at its own time."""
    a = _arrays()
    lay = Layout(8, 5, 1, 2, 1, autoregressive=autoregressive)
    origins = list(training_origins(len(a.z), lay))
    w = build_windows([a], [(0, o) for o in origins], lay, with_targets=True)
    T, L, H = len(a.z), lay.input_len, lay.horizon
    rebuilt = np.full(T, np.nan, dtype=np.float32)
    for i, o in enumerate(w.origins):
        for k in range(lay.rows):
            t = o - L + k  # row k stands at time t and predicts t + 1
            if k < L or autoregressive:
                assert w.inputs[i, k, 0].item() == np.float32(a.z[t])
            else:
                assert w.inputs[i, k, 0].item() == 0.0 and w.inputs[i, k, 1].item() == 0.0
            rebuilt[t + 1] = w.targets[i, k].item()
            np.testing.assert_array_equal(w.inputs[i, k, lay.future_cols].numpy(), a.future[t + 1].astype(np.float32))
            past_known = k < L
            assert w.inputs[i, k, lay.past_cols.stop].item() == float(past_known)
            expect_past = a.past[t].astype(np.float32) if past_known else np.zeros(1, np.float32)
            np.testing.assert_array_equal(w.inputs[i, k, lay.past_cols].numpy(), expect_past)
            np.testing.assert_array_equal(w.inputs[i, k, -1:].numpy(), a.static.astype(np.float32))
        rebuilt[o - L] = w.inputs[i, 0, 0].item()
    np.testing.assert_array_equal(rebuilt, a.z.astype(np.float32))
    assert origins == list(range(L, T - H + 1))


def test_local_level_subtracts_the_last_observed_value():
    a = _arrays(n_past=0, n_future=0, n_static=0)
    lay = Layout(6, 3, local_level=True)
    w = build_windows([a], [(0, 10)], lay, with_targets=True)
    assert w.level[0] == a.z[9]
    np.testing.assert_allclose(w.inputs[0, :6, 0].numpy(), (a.z[4:10] - a.z[9]).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(w.targets[0].numpy(), (a.z[5:13] - a.z[9]).astype(np.float32), rtol=1e-6)


@pytest.mark.parametrize("autoregressive", [False, True])
def test_inference_windows_never_read_the_future(autoregressive):
    a = _arrays()
    o = 25
    a.z[o:] = np.nan  # hide the future
    a.past[o:] = np.nan
    lay = Layout(8, 5, 1, 2, 1, autoregressive=autoregressive)
    w = build_windows([a], [(0, o)], lay, with_targets=False)
    assert torch.isfinite(w.inputs).all() and w.targets is None


def test_calendar_features_and_encoder(store_frame):
    s = build_series(store_frame, time_col="date", target=["sales"], id_col="store", past=["temp"],
                     future=["promo"], static=["region"])
    enc = Encoder.fit(s, "robust", calendar=True)
    assert enc.calendar == ["month"] and enc.n_future == 3 and enc.n_static == 2
    a = enc.encode(s.series[1], extra=4)
    assert a.future.shape == (96 + 4, 3)  # calendar continues past the data; promo unknown there (NaN)
    assert np.isnan(a.future[96:, 0]).all() and np.isfinite(a.future[96:, 1:]).all()
    feb = calendar_features(pd.DatetimeIndex(["2020-02-01"]), ["month"])[0]
    np.testing.assert_allclose(feb, [np.sin(2 * np.pi / 12), np.cos(2 * np.pi / 12)])
    np.testing.assert_array_equal(a.static, [0.0, 1.0])  # region one-hot: n, s
    np.testing.assert_allclose(enc.target_scale(s.series[1]).inverse(a.z), s.series[1].target, rtol=1e-14)
    again = Encoder.from_dict(enc.to_dict())
    np.testing.assert_array_equal(again.encode(s.series[0]).z, enc.encode(s.series[0]).z)
    s.series[0].static["region"] = "west"
    with pytest.raises(ValueError, match="static covariate 'region': value 'west' of series 'north' was not seen"):
        enc.encode(s.series[0])


def test_seasonal_scaling_round_trip_at_any_start():
    rng = np.random.default_rng(3)
    n, m = 120, 12
    profile = 5 * np.sin(2 * np.pi * np.arange(m) / m)
    y = 20 + profile[np.arange(n) % m] + rng.normal(0, 0.3, n)
    sc = fit_scale(y, "standard", season_length=m)
    np.testing.assert_allclose(sc.season, profile - profile.mean(), atol=0.2)
    z = sc.transform(y)
    assert z.std() == pytest.approx(1.0) and abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 0.3  # the cycle is gone
    np.testing.assert_allclose(sc.inverse(z), y, rtol=1e-14)
    # a block of quantiles (time, levels) from position 37 on maps back with the right phases
    block = np.stack([z[37:43] - 1, z[37:43], z[37:43] + 1], axis=1)
    np.testing.assert_allclose(sc.inverse(block, start=37)[:, 1], y[37:43], rtol=1e-14)
    assert type(sc).from_list(sc.to_list()) == sc
    with pytest.raises(ValueError, match="needs at least two seasons"):
        fit_scale(y[:20], "standard", season_length=m)


@pytest.mark.parametrize("autoregressive", [False, True])
def test_target_steps_are_the_changes_of_the_target_inputs(autoregressive):
    a = _arrays()
    lay = Layout(8, 5, 1, 2, 1, autoregressive=autoregressive, target_steps=True)
    w = build_windows([a], [(0, 8), (0, 20)], lay, with_targets=True)
    known = lay.rows if autoregressive else lay.input_len
    for i, o in enumerate((8, 20)):
        z = np.asarray(a.z[o - 9:o - 8 + known] if o > 8 else np.r_[a.z[0], a.z[:known]], dtype=np.float64)
        np.testing.assert_allclose(w.inputs[i, :known, 2].numpy(), np.diff(z), rtol=1e-5, atol=1e-6)
        assert (w.inputs[i, known:, 2] == 0).all()
    assert w.inputs[0, 0, 2].item() == 0.0  # at the series start the first change is unknown
    # the other columns moved one to the right, intact
    plain = build_windows([a], [(0, 20)], Layout(8, 5, 1, 2, 1, autoregressive=autoregressive), with_targets=True)
    torch.testing.assert_close(torch.cat([w.inputs[1, :, :2], w.inputs[1, :, 3:]], dim=-1), plain.inputs[0])


def test_log_target_scaling_round_trips_and_makes_growth_a_constant_step():
    y = 100.0 * 1.02 ** np.arange(80)  # 2% growth a step: the absolute steps grow 5x
    sc = fit_scale(y, "standard", log=True)
    z = sc.transform(y)
    np.testing.assert_allclose(sc.inverse(z), y, rtol=1e-13)
    np.testing.assert_allclose(np.diff(z), np.diff(z)[0], rtol=1e-9)  # equal steps in z
    assert fit_scale(y, "standard", season_length=4, log=True).log
    again = type(sc).from_list(sc.to_list())
    assert again == sc and np.isnan(sc.transform(np.array([np.nan]))).all()  # hidden values stay NaN
    with pytest.raises(ValueError, match=r"model.log_target needs positive target values, got -1.0 at position 2"):
        fit_scale([1.0, 2.0, -1.0], "standard", log=True)
    assert np.isnan(fit_scale([1.0, 2.0, np.nan], "standard", log=True).center)  # the leak check still works


def test_a_log_scale_reads_a_later_zero_as_half_the_historys_smallest_value():
    """A log treatment fit on a positive history meets a count that fell to 0 after it (or below):
    it reads the value as half the history's smallest (finite, below anything trained on), never
    log 0 = -inf; a hidden value (NaN) stays NaN, and positive values map exactly as before."""
    from rnnkit.apps.forecast.scaling import Scale

    sc = fit_scale([4.0, 8.0, 6.0, 10.0], "diff", log=True)
    assert sc.floor == 2.0
    z = sc.transform(np.array([0.0, -3.0, np.nan, 2.0, 1.0, 8.0]))
    assert z[0] == z[1] == z[3] == z[4] and np.isnan(z[2]) and np.isfinite(z[[0, 1, 3, 4, 5]]).all()
    np.testing.assert_allclose(sc.inverse(z[5]), 8.0, rtol=1e-12)
    np.testing.assert_allclose(sc.inverse(z[0]), 2.0, rtol=1e-12)
    assert Scale.from_list(sc.to_list()) == sc
    assert Scale.from_list([0.5, 2.0, [], True]).floor == 0.0  # a run saved before the floor: as it was
