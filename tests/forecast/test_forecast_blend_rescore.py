"""benchmarks/forecast_blend.py: a saved run backtested again with the guide's share fixed at each
w and with auto. ``auto`` reproduces the run's own MASE, and w = 1 is the AutoETS baseline's
forecast (the guide at a backtest origin is that baseline's own model)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

_dir = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def forecast_blend():
    sys.path.insert(0, str(_dir))
    try:
        spec = importlib.util.spec_from_file_location("forecast_blend_rescore", _dir / "forecast_blend.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(_dir))


def test_rescoring_reproduces_auto_and_w1_is_autoets(tmp_path, forecast_blend):
    from rnnkit.apps.forecast import pipeline, resolve_config

    rng = np.random.default_rng(3)
    t = np.arange(96)
    y = 50 + 0.2 * t + 6 * np.sin(2 * np.pi * t / 12) + np.cumsum(rng.normal(0, 1, len(t)))
    path = tmp_path / "y.csv"
    pd.DataFrame({"date": pd.date_range("2000-01-01", periods=len(t), freq="MS"), "value": y}).to_csv(path, index=False)
    cfg = resolve_config(path=str(path), overrides=[
        "data.target=value", "window.horizon=6", "backtest.windows=4", "model.hidden_size=8", "train.epochs=2",
        "train.patience=0", "train.progress=false", "train.tensorboard=false", "model.transform=level",
        "baselines.models=ets"])
    result = pipeline.train(cfg, tmp_path / "run", echo=lambda *_: None)
    scores = forecast_blend.rescore(tmp_path / "run")
    assert list(scores) == ["w=0", "w=0.25", "w=0.5", "w=0.75", "w=1", "auto"]
    assert scores["auto"] == pytest.approx(result["rnn_mase"], rel=1e-9)
    ets = next(r["MASE"] for r in result["overall"] if r["model"] == "ets")
    assert scores["w=1"] == pytest.approx(ets, rel=1e-6)
    assert len({round(v, 9) for v in scores.values()}) > 2  # the shares change the forecast
