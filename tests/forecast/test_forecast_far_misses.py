"""Series the RNN forecasts orders of magnitude worse than the naive forecast are named, in the
terminal and the report (``report.far_misses``): a panel's mean MASE can hide them (session 28's
disease panel: 53 of 357 series, measles at thousands of cases a year where a handful were counted,
behind a mean MASE level with naive's)."""

import pandas as pd

from rnnkit.apps.forecast.pipeline import summary_lines
from rnnkit.apps.forecast.report import (
    FAR_MISS,
    baselines_far_misses,
    far_misses,
    far_misses_sentence,
)

RNN = "rnnkit LSTM"


def _per(rows):
    return pd.DataFrame([{"model": m, "series": s, "MAE": mae} for s, m, mae in rows])


def test_series_past_the_factor_are_named_worst_first_against_naive():
    per = _per([("a", RNN, 5.0), ("a", "naive", 1.0),  # 5x: not named
                ("b", RNN, 2000.0), ("b", "naive", 4.0),  # 500x
                ("c", RNN, 30.0), ("c", "naive", 2.0),  # 15x
                ("d", RNN, 3.0), ("d", "naive", 0.0),  # naive exact: no ratio
                ("e", RNN, 10.0 * 2.0), ("e", "naive", 2.0)])  # exactly the factor: not over it
    got = far_misses(per, RNN)
    assert [(m["series"], m["ratio"]) for m in got] == [("b", 500.0), ("c", 15.0)]
    assert got[0] == {"series": "b", "ratio": 500.0, "mae": 2000.0, "reference": "naive", "reference_mae": 4.0}
    assert FAR_MISS == 10.0
    said = far_misses_sentence(got, 5)
    assert said.startswith("RNN far off on 2 of 5 series: its MAE over 10 times the naive forecast's on b (500x), "
                           "c (15x)"), said


def test_the_baselines_own_far_misses_are_counted_beside_the_rnns():
    """On the disease panel AutoETS, AutoARIMA and AutoTheta missed more series than rnnkit: the
    count says whether a miss is the RNN's own or the data's."""
    per = _per([("a", RNN, 50.0), ("a", "naive", 1.0), ("a", "ets", 20.0), ("a", "theta", 2.0),
                ("b", RNN, 1.0), ("b", "naive", 1.0), ("b", "ets", 30.0), ("b", "theta", 1.0)])
    counts = baselines_far_misses(per, RNN)
    assert counts == {"ets": 2, "theta": 0}
    said = far_misses_sentence(far_misses(per, RNN), 2, baselines=counts)
    assert "on a (50x); the baselines' own: ets 2, theta 0 (per series" in said, said


def test_seasonal_naive_is_the_reference_without_naive_and_nothing_without_either():
    per = _per([("a", RNN, 50.0), ("a", "seasonal_naive", 1.0), ("a", "ets", 60.0)])
    assert [m["reference"] for m in far_misses(per, RNN)] == ["seasonal_naive"]
    assert far_misses(per[per["model"] != "seasonal_naive"], RNN) == []
    assert far_misses_sentence([], 3) == ""


def test_the_sentence_names_the_first_five_and_counts_the_rest():
    misses = [{"series": f"s{i}", "ratio": 100.0 - i, "reference": "naive"} for i in range(8)]
    said = far_misses_sentence(misses, 20)
    assert "s4 (96x) and 3 more" in said and "s5" not in said


def test_the_terminal_summary_says_so_only_when_there_are_some():
    overall = [{"model": RNN, "MAE": 1.0, "RMSE": 1.0, "sMAPE": 1.0, "MASE": 1.0, "coverage": 0.8, "width": 1.0},
               {"model": "naive", "MAE": 1.0, "RMSE": 1.0, "sMAPE": 1.0, "MASE": 1.1, "coverage": 0.8, "width": 1.0}]
    result = {"overall": overall, "interval": 0.8, "rnn_lowest_mase": True, "rnn_mase": 1.0, "best_baseline": "naive",
              "best_baseline_mase": 1.1, "rnn_coverage": 0.8, "series": ["a", "b"], "far_misses": []}
    assert not any("far off" in line for line in summary_lines(result))
    result["far_misses"] = [{"series": "b", "ratio": 42.0, "reference": "naive"}]
    assert summary_lines(result)[-1].startswith("RNN far off on 1 of 2 series")


def test_the_report_names_them_below_its_per_series_table(tmp_path, monkeypatch):
    from rnnkit.apps.forecast import report

    monkeypatch.setattr(report, "plot_forecasts", lambda *a, **k: None)  # the figure is not this test's
    per = _per([("a", RNN, 1.0), ("a", "naive", 1.0), ("b", RNN, 900.0), ("b", "naive", 3.0)]).assign(MASE=1.0)
    overall = pd.DataFrame([{"model": m, "MAE": 1.0, "RMSE": 1.0, "sMAPE": 1.0, "MASE": 1.0, "coverage": 0.8,
                             "width": 1.0} for m in (RNN, "naive")])
    result = {"data": "two series", "windows": 2, "stride": 1, "horizon": 3, "input_len": 4, "season_length": 1,
              "series": ["a", "b"], "far_misses": far_misses(per, RNN), "far_misses_baselines": {"ets": 1},
              "baseline_models": {}, "notes": [],
              "epochs": [3], "parameters": 10, "train_seconds": 1.0, "calibrated": False, "interval": 0.8}
    report.write_report(tmp_path, result, None, pd.DataFrame(), per, overall, 0.8)
    md = (tmp_path / "report.md").read_text()
    table, after = md.split("## MASE per series")[1].split("\n\n")[1:3]
    assert "| b |" in table
    assert after.startswith("RNN far off on 1 of 2 series: its MAE over 10 times the naive forecast's on b (300x); "
                            "the baselines' own: ets 1 (per series in report.md"), after
