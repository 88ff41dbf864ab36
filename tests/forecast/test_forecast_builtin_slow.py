"""The built-in datasets end to end with their default settings (minutes each: marked slow).

Run with ``pytest -m slow tests/forecast``. These are the runs whose tables docs/forecasting.md
records; the assertions hold what was measured there.
"""

import json

import pytest

from rnnkit.cli import main


# learning, but slow (minutes per dataset, outside both CI passes): its bounds were not re-measured
# across rounding settings for issue 14.
@pytest.mark.learning
@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["sunspots", "elnino", "macrodata"])
def test_builtin_dataset_backtest(dataset, tmp_path):
    run = tmp_path / dataset
    assert main(["--threads", "1", "forecast", "train", "--dataset", dataset, "--run-dir", str(run),
                 "train.progress=false"]) == 0
    report = json.loads((run / "report.json").read_text())
    mase = {r["model"]: r["MASE"] for r in report["overall"]}
    rnn = mase.pop(report["model"])
    assert list(mase) == ["naive", "seasonal_naive", "ets", "arima"]
    assert rnn < mase["naive"] and rnn < mase["seasonal_naive"]
    if dataset == "sunspots":  # the goal: lowest MASE, 80% coverage within 0.70-0.90
        assert report["rnn_lowest_mase"] and 0.70 <= report["rnn_coverage"] <= 0.90
    if dataset == "elnino":  # second to ARIMA, ahead of ETS (docs/forecasting.md)
        assert rnn < mase["ets"]
