"""The interval floor (``backtest.interval_floor``, on by default): at each horizon step the RNN's
interval is widened, never narrowed, until it covers the nominal share of the network's own
training windows (``Intervals.training_floor`` in ``rnnkit/apps/forecast/intervals.py``).

Before it, on seeded random walks the 80% interval covered 30-59% of the backtest's points and was
a third to a half as wide as the naive forecast's, which is the right interval for a random walk
(y_t +- 1.28 sigma sqrt(h)): early stopping kept an epoch from the first few, whose spread had not
learned to grow with the lead time."""

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import build_series
from rnnkit.apps.forecast.config import ForecastConfig
from rnnkit.apps.forecast.intervals import Intervals, floor_words
from rnnkit.cli import main


class FixedWidth(Intervals):
    """A forecaster whose median is the last value and whose 80% interval is +- ``half`` at every
    step (on a random walk with unit steps the right half-width is 1.28 sqrt(h))."""

    def __init__(self, half: float, horizon: int = 4, lookback: int = 3):
        self.cfg = ForecastConfig()
        self.layout = SimpleNamespace(horizon=horizon, lookback=lookback)
        self.encoder = SimpleNamespace(future_scales=None)
        self.calibration = 1.0
        self.half = half

    def quantiles(self, series, origins, levels):
        assert list(levels) == [0.1, 0.5, 0.9]
        last = np.array([s.target[o - 1] for s, o in zip(series, origins)])
        med = np.repeat(last[:, None], self.layout.horizon, axis=1)
        return np.stack([med - self.half, med, med + self.half], axis=-1)


def _walk(n: int, seed: int = 0) -> np.ndarray:
    return 50.0 + np.cumsum(np.random.default_rng(seed).normal(size=n))


def _history(y: np.ndarray):
    frame = pd.DataFrame({"t": np.arange(len(y)), "value": y})
    return build_series(frame, time_col="t", target=["value"])


def test_a_narrow_interval_is_widened_to_cover_the_training_windows():
    y, H = _walk(300), 4
    k = FixedWidth(half=0.5, horizon=H).training_floor(_history(y), 0.8)
    # the split-conformal factor of each step, computed here from its definition: every origin
    # whose step h the history observes (the last ones are partial windows, as in training)
    want = []
    for h in range(H):
        ratios = np.sort([abs(y[o + h] - y[o - 1]) / 0.5 for o in range(3, len(y) - h)])
        want.append(ratios[math.ceil((len(ratios) + 1) * 0.8) - 1])
    assert k == pytest.approx(want)
    assert all(v > 1 for v in k) and k[-1] > k[0]  # the spread must grow with the lead time


def test_a_short_history_floors_through_its_partial_windows():
    """8 points, lookback 3, horizon 6: no whole window, so every factor comes from partial ones
    (step 5 from origin 3 alone; step 6 from none, so it takes the factor of all steps pooled)."""
    y = _walk(8, seed=5)
    k = FixedWidth(half=0.05, horizon=6).training_floor(_history(y), 0.8)
    assert all(v > 1 for v in k)
    first = np.sort([abs(y[o] - y[o - 1]) / 0.05 for o in range(3, 8)])
    assert k[0] == pytest.approx(first[math.ceil(6 * 0.8) - 1])


def test_a_wide_enough_interval_is_left_as_it_is():
    assert FixedWidth(half=50.0).training_floor(_history(_walk(300)), 0.8) == [1.0] * 4


def test_a_long_history_is_read_through_a_seeded_sample():
    y, f = _walk(3000), FixedWidth(half=0.5)
    sample = f.training_floor(_history(y), 0.8, most=400)
    assert sample == f.training_floor(_history(y), 0.8, most=400)  # the same sample each time
    assert sample != f.training_floor(_history(y), 0.8)  # 400 of 2,994 windows, not the first 2,000
    # drawn from the whole history: calm first half (steps of 0.01), wild second half (steps of 1)
    steps = np.random.default_rng(4).normal(size=3000) * np.where(np.arange(3000) < 1500, 0.01, 1.0)
    assert min(f.training_floor(_history(50 + np.cumsum(steps)), 0.8, most=400)) > 1.0


def test_the_words_say_what_was_done():
    assert "widened at 2 of 3 horizon steps, by up to 2.50x" in floor_words([1.0, 1.5, 2.5], 0.8)
    assert "the network's own" in floor_words([1.0, 1.0, 1.0], 0.8)


@pytest.mark.learning
def test_a_random_walk_gets_the_width_a_random_walk_needs(tmp_path, capsys, monkeypatch):
    """With the defaults, the RNN's backtest interval on a random walk is at least 0.8 times as wide
    as the naive forecast's (the right one there); without the floor it was 0.31-0.68 of it on
    four seeded walks. ``predict`` floors the refit network's intervals too (that network, trained
    on all 250 points, comes out near the right width on its own: its check is a sanity bound)."""
    path = tmp_path / "walk.csv"
    pd.DataFrame({"t": np.arange(250), "value": _walk(250, seed=1)}).to_csv(path, index=False)
    run = tmp_path / "run"
    assert main(["--threads", "1", "train", "forecast", "--data", str(path), "--time-col", "t", "--target", "value",
                 "--run-dir", str(run), "train.progress=false", "train.tensorboard=false",
                 "baselines.models=naive"]) == 0
    out = capsys.readouterr().out
    assert "intervals: widened at" in out
    rows = pd.read_csv(run / "backtest_forecasts.csv")
    width = (rows.hi - rows.lo).groupby(rows.model.str.startswith("rnnkit")).mean()
    assert width[True] >= 0.8 * width[False], width
    report = json.loads((run / "report.json").read_text())
    assert report["interval_floor"] and max(report["calibration"]) > 1.0
    assert "widened at" in (run / "report.md").read_text()
    read = []  # the histories the floor reads: predict's is all 250 points, the refit network's
    floor = Intervals.training_floor
    monkeypatch.setattr(Intervals, "training_floor",
                        lambda self, history, *a, **k: read.append(history.series[0].length) or floor(self, history, *a, **k))
    assert main(["predict", "forecast", "--run-dir", str(run), "--output", str(tmp_path / "next.csv")]) == 0
    assert read == [250] and "predict: intervals:" in capsys.readouterr().out
    ahead = pd.read_csv(tmp_path / "next.csv")
    assert (ahead.hi - ahead.lo).iloc[-1] >= 0.6 * 2 * 1.2816 * math.sqrt(len(ahead))  # sigma = 1 here


def test_off_keeps_the_networks_own_interval(tmp_path, capsys):
    path = tmp_path / "walk.csv"
    pd.DataFrame({"t": np.arange(120), "value": _walk(120, seed=2)}).to_csv(path, index=False)
    run = tmp_path / "run"
    assert main(["--threads", "1", "train", "forecast", "--data", str(path), "--time-col", "t", "--target", "value",
                 "--run-dir", str(run), "--preset", "tiny", "train.progress=false", "train.tensorboard=false",
                 "baselines.models=naive", "backtest.interval_floor=false"]) == 0
    assert "intervals:" not in capsys.readouterr().out
    report = json.loads((run / "report.json").read_text())
    assert report["calibration"] == 1.0 and not report["interval_floor"]


def test_the_benchmark_rescores_a_run_with_and_without_the_floor(tmp_path):
    """benchmarks/forecast_interval_floor.py: the floor's figures are the run's own backtest, the
    point forecasts do not move, and its coverage and score come from the forecasts it wrote."""
    import importlib.util
    import sys

    from rnnkit.apps.forecast import pipeline, resolve_config

    bench = Path(__file__).resolve().parents[2] / "benchmarks"
    sys.path.insert(0, str(bench))
    try:
        spec = importlib.util.spec_from_file_location("forecast_interval_floor", bench / "forecast_interval_floor.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(bench))
    path = tmp_path / "walk.csv"
    pd.DataFrame({"t": np.arange(150), "value": _walk(150, seed=3)}).to_csv(path, index=False)
    cfg = resolve_config(path=str(path), overrides=[
        "data.time_col=t", "data.target=value", "model.hidden_size=8", "train.epochs=2", "train.patience=0",
        "train.progress=false", "train.tensorboard=false", "model.transform=level", "baselines.models=naive"])
    result = pipeline.train(cfg, tmp_path / "run", echo=lambda *_: None)
    scores = module.rescore(tmp_path / "run")
    assert scores["MASE own"] == scores["MASE floor"] == pytest.approx(result["rnn_mase"], rel=1e-9)
    assert scores["coverage floor"] == pytest.approx(result["rnn_coverage"], rel=1e-9)
    assert scores["largest factor"] == max(result["calibration"]) > 1.0  # two epochs: too narrow
    assert scores["coverage floor"] >= scores["coverage own"] and scores["MSIS floor"] != scores["MSIS own"]
    rows = pd.read_csv(tmp_path / "run" / "backtest_forecasts.csv")
    naive = rows[rows.model == "naive"]
    assert scores["naive coverage"] == pytest.approx(module.coverage(naive))
