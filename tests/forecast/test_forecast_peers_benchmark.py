"""benchmarks/forecast_peers.py: neuralforecast's LSTM and NHITS as rnnkit forecasters, on a real series.

Skipped without neuralforecast, which rnnkit does not depend on and CI does not install; run it in
the benchmark's environment: ``make bench-forecast-setup``, then
``~/.cache/rnnkit-bench-nf/bin/python -m pytest tests/forecast/test_forecast_peers_benchmark.py``.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("neuralforecast", reason="neuralforecast is installed only for benchmarks/forecast_panel.py "
                    "--peers (make bench-forecast-setup); CI does not install it")
sm = pytest.importorskip("statsmodels.api", reason="the real series comes from statsmodels' bundled macrodata")

import torch

from rnnkit.apps.forecast.backtest import history_set, plan_backtest, run_backtest
from rnnkit.apps.forecast.data import Series, SeriesSet

_path = Path(__file__).resolve().parents[2] / "benchmarks" / "forecast_peers.py"
_spec = importlib.util.spec_from_file_location("forecast_peers", _path)
forecast_peers = importlib.util.module_from_spec(_spec)
sys.modules["forecast_peers"] = forecast_peers
_spec.loader.exec_module(forecast_peers)

H, WINDOWS, STRIDE, LEVEL = 4, 3, 4, 0.8


def _realgdp(n: int = 100) -> SeriesSet:
    """US real GDP, quarterly from 1959, its first ``n`` quarters."""
    y = sm.datasets.macrodata.load_pandas().data["realgdp"].to_numpy(float)[:n]
    times = pd.date_range("1959-01-01", periods=n, freq="QS")
    s = Series("realgdp", times, y, np.zeros((n, 0)), np.zeros((n, 0)), {})
    return SeriesSet([s], "QS", "value")


@pytest.fixture(scope="module")
def fitted():
    sset = _realgdp()
    plan = plan_backtest(sset, H, WINDOWS, STRIDE)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        peers = forecast_peers.make_peers(["lstm", "nhits"], H, LEVEL, max_steps=5)
        for p in peers:
            p.fit(history_set(sset, plan.first))  # the history before the first origin only
        table = run_backtest(sset, plan, peers, LEVEL)
        assert torch.get_num_threads() == 1  # neuralforecast / Lightning leave the thread count alone
    finally:
        torch.set_num_threads(threads)
    return sset, plan, peers, table


def test_the_forecast_table_has_every_origin_and_step_finite_and_ordered(fitted):
    sset, plan, peers, table = fitted
    assert [p.name for p in peers] == ["nf_lstm", "nf_nhits"]
    assert len(table) == len(peers) * WINDOWS * H
    for name, g in table.groupby("model"):
        assert len(g) == WINDOWS * H
        assert list(g["origin"].unique()) == [sset.series[0].times[o] for o in plan.origins[0]]
        assert sorted(g["step"].unique()) == list(range(1, H + 1))
    values = table[["point", "lo", "hi"]].to_numpy()
    assert np.isfinite(values).all()
    assert (table["lo"] <= table["point"]).all() and (table["point"] <= table["hi"]).all()
    assert (table["hi"] > table["lo"]).any()  # an interval, not a point
    # the stated settings reached the models: input_size 3h for LSTM (its default), 2h for NHITS
    lstm, nhits = (p.nf.models[0] for p in peers)
    assert (lstm.input_size, nhits.input_size, lstm.max_steps) == (3 * H, 2 * H, 5)


def test_no_forecast_changes_when_the_values_after_its_origin_change(fitted):
    sset, plan, peers, table = fitted
    s = sset.series[0]
    for p in peers:
        for o in plan.origins[0]:
            target = s.target.copy()
            target[o:] = target[o:] * 3 + 1000.0  # the future, altered and NOT hidden
            altered = Series(s.name, s.times, target, s.past, s.future, s.static)
            point, lo, hi = p.forecast([altered], [o], H, LEVEL)[0]
            g = table[(table["model"] == p.name) & (table["origin"] == s.times[o])].sort_values("step")
            np.testing.assert_array_equal(point, g["point"].to_numpy())
            np.testing.assert_array_equal(lo, g["lo"].to_numpy())
            np.testing.assert_array_equal(hi, g["hi"].to_numpy())
        # and the check can fail: values before the origin do move the forecast
        o = plan.origins[0][-1]
        target = s.target.copy()
        target[o - 2 * H:o] += 0.2 * np.abs(target[:o]).mean()
        moved = p.forecast([Series(s.name, s.times, target, s.past, s.future, s.static)], [o], H, LEVEL)[0][0]
        g = table[(table["model"] == p.name) & (table["origin"] == s.times[o])].sort_values("step")
        assert not np.allclose(moved, g["point"].to_numpy())


def test_a_wrong_horizon_or_level_is_an_error(fitted):
    sset, plan, peers, _ = fitted
    s = sset.series[0]
    with pytest.raises(ValueError, match="trained for horizon"):
        peers[0].forecast([s], [plan.origins[0][0]], H + 1, LEVEL)
    with pytest.raises(ValueError, match="trained for horizon"):
        peers[0].forecast([s], [plan.origins[0][0]], H, 0.9)
