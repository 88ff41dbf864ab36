"""The RNN forecaster's decoders and likelihoods end to end on a small seasonal series: each one
learns something real, forecasts repeatably, and calibration reaches nominal coverage."""

import numpy as np
import pandas as pd
import pytest

from rnnkit import config as C
from rnnkit.apps.forecast import build_series, plan_backtest, run_backtest
from rnnkit.apps.forecast.backtest import history_set
from rnnkit.apps.forecast.baselines import Naive
from rnnkit.apps.forecast.config import ForecastConfig
from rnnkit.apps.forecast.metrics import summarize
from rnnkit.apps.forecast.neural import NeuralForecaster

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


@pytest.mark.learning
@pytest.mark.parametrize("over", [
    ["model.decoder=autoregressive"],
    ["model.decoder=autoregressive", "model.likelihood=studentt", "model.cell=gru"],
    ["model.likelihood=quantile", "model.scaling=robust"],
], ids=["ar-gaussian", "ar-studentt-gru", "direct-quantile"])
def test_each_decoder_learns_the_cycle(data, over):
    sset, plan, hist = data
    nf = _trained(hist, "train.epochs=60", *over)
    table = run_backtest(sset, plan, [nf, Naive(1).fit(hist)], 0.8)
    assert (table["lo"] <= table["point"]).all() and (table["point"] <= table["hi"]).all()
    _, overall = summarize(table, {"y": 1.0})
    mae = overall.set_index("model")["MAE"]
    # A flat forecast at the history's mean scores 3.17 here (naive 5.87): an untrained network
    # (about that flat forecast, 3.25-3.35; the untrained quantile head 8.8) or one that learnt only
    # the level passes "beats naive", so the bound is on the flat forecast. Measured at 60 epochs
    # (8 seeds; the rounding settings move it in the 7th digit): ar-gaussian 0.46-0.57, ar-studentt-gru
    # 0.46-0.53, direct-quantile 0.44-1.30 (at 12-30 epochs some seeds still sat on the flat forecast).
    flat = (table[table.model == nf.name]["actual"] - hist.series[0].target.mean()).abs().mean()
    assert mae[nf.name] < 0.6 * flat, (mae.to_dict(), flat)
    again = run_backtest(sset, plan, [nf], 0.8)  # sample paths are seeded: the same forecasts
    np.testing.assert_array_equal(again["point"], table[table.model == nf.name]["point"])


@pytest.mark.learning
def test_one_to_one_learns_its_one_step_distribution(data):
    """One step in, the next out, no state: it cannot place the phase of the cycle from one value,
    so its roll-out does not learn the cycle (its backtest MAE grows with training, 2.8 -> 4.2);
    what it learns is the one-step distribution, on the validation windows."""
    import torch

    sset, plan, hist = data
    over = ["model.kind=one_to_one", "model.decoder=autoregressive", "window.input_len=2"]
    cfg = C.apply_overrides(ForecastConfig(), [
        "window.input_len=24", f"window.horizon={H}", "model.hidden_size=16", "train.epochs=12", "train.lr=1e-2",
        "train.progress=false", "train.tensorboard=false", "train.patience=0", "backtest.val_size=30",
        "model.samples=100", *over])
    nf = NeuralForecaster.create(cfg, hist)
    _, val = nf.split_windows(hist)

    def val_nll():
        with torch.no_grad():
            return float(nf.loss_fn(nf.nets[0].eval(), (val.inputs, val.targets))[0])

    before = val_nll()
    nf.fit(hist, echo=lambda *_: None)
    after = val_nll()
    # Measured (6 seeds): untrained 1.53-1.80, trained 1.13-1.26, a fall of 0.33-0.66.
    assert after < before - 0.15, (before, after)
    table = run_backtest(sset, plan, [nf], 0.8)
    assert (table["lo"] <= table["point"]).all() and (table["point"] <= table["hi"]).all()
    again = run_backtest(sset, plan, [nf], 0.8)  # sample paths are seeded: the same forecasts
    np.testing.assert_array_equal(again["point"], table["point"])


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


def test_ensemble_averages_its_members_and_reloads_exactly(data, tmp_path):
    """An ensemble's quantiles are the mean of its members'; the saved run gives the same forecasts."""
    from rnnkit.apps.forecast import pipeline, resolve_config

    sset, _, _ = data
    path = tmp_path / "y.csv"
    pd.DataFrame({"t": sset.series[0].times, "y": sset.series[0].target}).to_csv(path, index=False)
    cfg = resolve_config(path=path, overrides=[
        "data.time_col=t", "data.target=y", "window.input_len=24", f"window.horizon={H}", "model.hidden_size=8",
        "model.ensemble=2", "model.combine=1", "train.epochs=2", "train.progress=false", "train.tensorboard=false",
        "baselines.models=naive", "backtest.windows=3", "backtest.val_size=30"])  # one treatment: its seeds
    pipeline.train(cfg, tmp_path / "run", echo=lambda *_: None)
    assert (tmp_path / "run" / "members" / "1" / "checkpoints" / "best" / "model.safetensors").exists()
    _, nf = pipeline.load_run(tmp_path / "run")
    s, origins = sset.series[0], [150, 170]
    q = nf.quantiles([s, s], origins, [0.1, 0.5, 0.9])
    members = []
    for net in nf.nets:
        nf_one = NeuralForecaster(cfg, nf.encoder, nf.layout, guide=nf.guide)
        nf_one.nets = [net]
        members.append(nf_one.quantiles([s, s], origins, [0.1, 0.5, 0.9]))
    np.testing.assert_allclose(q, (members[0] + members[1]) / 2, rtol=1e-6)
    assert not np.allclose(members[0], members[1])  # two seeds, two different networks
    report = pd.read_csv(tmp_path / "run" / "backtest_forecasts.csv")
    rnn = report[report.model == nf.name]
    again = run_backtest(pipeline.load_series(cfg.data), plan_backtest(sset, H, 3, H), [nf], 0.8)
    np.testing.assert_allclose(again["point"].to_numpy(), rnn["point"].to_numpy(), rtol=1e-12)


def _record_training_batches(monkeypatch):
    """(sizes, fingerprints): filled with each training batch's size and a fingerprint per window
    (the sum of its absolute inputs) as the forecaster's loss sees them."""
    sizes, rows = [], []
    original = NeuralForecaster.loss_fn

    def record(self, model, batch):
        if model.training:
            sizes.append(batch[0].shape[0])
            rows.append(batch[0].flatten(1).abs().sum(1).clone())
        return original(self, model, batch)

    monkeypatch.setattr(NeuralForecaster, "loss_fn", record)
    return sizes, rows


def test_a_large_panel_reads_a_fresh_sample_of_per_epoch_windows_each_epoch(data, monkeypatch):
    """``window.per_epoch`` caps the training windows one epoch reads (a large panel trains on a
    seeded sample per epoch); the samples differ between epochs, and with the cap at or above the
    number of windows every window is read once per epoch, as before."""
    _, _, hist = data
    seen, seen_rows = _record_training_batches(monkeypatch)
    nf = _trained(hist, "train.epochs=2", "train.batch_size=16", "window.per_epoch=40")
    n_train = len(nf.split_windows(hist)[0])
    assert n_train > 80  # so the cap bites
    assert seen == [16, 16, 8] * 2  # 40 windows per epoch, in batches of 16
    first, second = (np.sort(np.concatenate([r.numpy() for r in seen_rows[k:k + 3]])) for k in (0, 3))
    assert not np.array_equal(first, second)  # a fresh sample each epoch
    seen.clear()
    seen_rows.clear()
    _trained(hist, "train.epochs=1", "train.batch_size=16", f"window.per_epoch={n_train}")
    assert sum(seen) == n_train
    with pytest.raises(C.ConfigError, match="window.per_epoch must be >= 0"):
        from rnnkit.apps.forecast.config import check_config

        check_config(C.apply_overrides(ForecastConfig(), ["window.per_epoch=-1"]))


def test_without_a_cap_the_batches_are_exactly_those_of_a_shuffled_loader():
    """Runs trained before ``window.per_epoch`` existed reproduce: below the cap, the epoch loader
    yields the batches of ``DataLoader(shuffle=True, generator=g)``, epoch after epoch."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from rnnkit.apps.forecast.neural import epoch_loader

    data = TensorDataset(torch.arange(100.0))

    def batches(make):
        loader = make(torch.Generator().manual_seed(3))
        return [b[0].tolist() for _ in range(3) for b in loader]

    shuffled = batches(lambda g: DataLoader(data, batch_size=16, shuffle=True, generator=g))
    assert batches(lambda g: epoch_loader(data, 16, 0, g)) == shuffled
    assert batches(lambda g: epoch_loader(data, 16, 100, g)) == shuffled
    capped = batches(lambda g: epoch_loader(data, 16, 40, g))
    assert [len(b) for b in capped] == [16, 16, 8] * 3
    # window.min_per_epoch: fewer windows than asked for are drawn with replacement up to it
    assert batches(lambda g: epoch_loader(data, 16, 0, g, at_least=100)) == shuffled  # enough: as before
    drawn = batches(lambda g: epoch_loader(data, 16, 0, g, at_least=160))
    assert [len(b) for b in drawn] == [16] * 30
    values = [v for b in drawn for v in b]
    assert set(values) <= set(range(100)) and len(set(values)) < len(values)  # repeats: with replacement


def test_per_series_bounds_the_windows_an_epoch_reads(data, monkeypatch):
    """``window.per_series`` bounds one epoch's sample by the number of series (a long single series
    no longer reads thousands of windows an epoch), ``window.per_epoch`` still caps it, 0 removes
    either bound."""
    from rnnkit.apps.forecast.config import check_config
    from rnnkit.apps.forecast.neural import windows_per_epoch

    def per_epoch(per_epoch, per_series, n):
        cfg = C.apply_overrides(ForecastConfig(), [f"window.per_epoch={per_epoch}", f"window.per_series={per_series}"])
        return windows_per_epoch(cfg, n)

    assert per_epoch(6400, 1024, 1) == 1024  # one long series
    assert per_epoch(6400, 1024, 148) == 6400  # us_employment: the panel's cap, as before
    assert per_epoch(0, 1024, 2) == 2048
    assert per_epoch(6400, 0, 1) == 6400 and per_epoch(0, 0, 3) == 0
    _, _, hist = data
    seen, _ = _record_training_batches(monkeypatch)
    nf = _trained(hist, "train.epochs=2", "train.batch_size=16", "window.per_series=20")
    assert len(nf.split_windows(hist)[0]) > 20 * len(hist.series)  # so the bound bites
    assert sum(seen) == 2 * 20 * len(hist.series)
    with pytest.raises(C.ConfigError, match="window.per_series must be >= 0"):
        check_config(C.apply_overrides(ForecastConfig(), ["window.per_series=-1"]))
