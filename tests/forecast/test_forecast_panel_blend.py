"""benchmarks/forecast_panel.py --blend: the MASE of the mean of rnnkit's and a baseline's point
forecasts, on rnnkit's scale, from the rows of a run's backtest_forecasts.csv."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

_path = Path(__file__).resolve().parents[2] / "benchmarks" / "forecast_panel.py"
_spec = importlib.util.spec_from_file_location("forecast_panel_blend", _path)
forecast_panel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(forecast_panel)


def _rows(model, points, actual):
    return pd.DataFrame({"model": model, "series": "y", "origin": "2000-01-01", "step": range(1, len(points) + 1),
                         "actual": actual, "point": points})


def test_the_blend_is_scored_on_rnnkits_scale():
    actual = [10.0, 10.0, 10.0, 10.0]
    rnn = _rows("rnn", [12.0, 12.0, 8.0, 8.0], actual)  # MAE 2
    ets = _rows("ets", [8.0, 8.0, 12.0, 12.0], actual)  # errors of the other sign: the mean is exact
    frame = pd.concat([rnn, ets], ignore_index=True)
    assert forecast_panel.blend_mase(frame, "rnn", "ets", rnn_mase=0.5) == pytest.approx(0.0)
    half = pd.concat([rnn, _rows("ets", [11.0, 11.0, 9.0, 9.0], actual)], ignore_index=True)
    # mean forecast 11.5, 11.5, 8.5, 8.5: MAE 1.5 against rnnkit's 2, so 0.5 x 1.5 / 2
    assert forecast_panel.blend_mase(half, "rnn", "ets", rnn_mase=0.5) == pytest.approx(0.375)
    with pytest.raises(ValueError, match="--blend theta: its rows do not line up"):
        forecast_panel.blend_mase(frame, "rnn", "theta", rnn_mase=0.5)
