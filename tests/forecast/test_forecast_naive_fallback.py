"""The naive fallback of the guide's share (``model.naive_fallback``, rnnkit/apps/forecast/blend.py):
where even the best mix of the network and its guide was more than the margin times the naive
forecast's error on the earlier origins' out-of-sample steps, the forecast is the naive one.

A stub forecaster stands in for the network and the guide (each forecasts a constant), so the
errors, and with them every choice, are known exactly."""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from rnnkit import config as C
from rnnkit.apps.forecast.blend import (
    GRID,
    NAIVE,
    GuideBlend,
    naive_forecast,
    naive_quantiles,
    naive_sigma,
)
from rnnkit.apps.forecast.config import ForecastConfig
from rnnkit.apps.forecast.windows import Layout

H, END = 4, 40  # horizon; the training history's end (the first backtest origin)


class _Stub(GuideBlend):
    """A network forecasting N(``net``, 1) and a guide forecasting ``guide`` at every step."""

    def __init__(self, net: float, guide: float, margin: float = 2.0, season: int = 1):
        self.cfg = C.apply_overrides(ForecastConfig(), [f"model.naive_fallback={margin:g}", f"backtest.stride={H}"])
        self.layout, self.encoder = Layout(4, H), SimpleNamespace(future_scales=[])
        self.guide = SimpleNamespace(name="ets", season_length=season)
        self.season_length = season
        self.net, self.guide_level = net, guide
        self.blend, self.fixed_blend, self.blend_at_end = "auto", {}, {}
        self.fixed_sigmas, self.fallbacks = {}, set()
        self.history_ends = {"y": END}

    def _raw_quantiles(self, series, origins, levels):
        return np.broadcast_to(stats.norm.ppf(list(levels), self.net, 1.0), (len(origins), H, len(levels))).copy()

    def guide_forecasts(self, series, origins):
        return np.full((len(origins), H), self.guide_level)


def _series(after: np.ndarray) -> SimpleNamespace:
    """100 for the training history, then ``after``."""
    y = np.concatenate([np.full(END, 100.0), after])
    return SimpleNamespace(name="y", target=y, times=np.arange(len(y)), length=len(y))


def test_a_series_that_left_both_models_falls_back_to_naive_after_the_first_origin():
    s = _series(np.zeros(24))  # the level drops from 100 to 0 at the first origin ("after the vaccine")
    nf = _Stub(net=100.0, guide=90.0)
    origins = [END, END + H, END + 3 * H]
    w = nf.blend_weights([s] * 3, origins)
    # the first origin has no out-of-sample record: the network alone. At END + H naive's one earlier
    # forecast was made from 100 too (error 100, the guide's 90): the guide. At END + 3H naive's errors
    # are 100, 0, 0 a step (mean 33.3) and the guide's 90 is over twice that: naive
    assert w[0] == 0.0 and w[1] == 1.0 and w[2] == NAIVE, w
    q = nf.quantiles([s] * 3, origins, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(q[2, :, 1], naive_forecast(s, origins[2], H, 1))
    np.testing.assert_allclose(q[2, :, 1], 0.0)
    # naive's own interval: sigma from its one-step errors y_t - y_{t-1} since the validation span
    # began (END - 4 = 36) up to 52: one of the 16 is -100 (at END), so sigma = 100 / 4; at step h
    # the spread is sigma sqrt(h), whatever the network's width
    spread = 25.0 * np.sqrt(np.arange(1, H + 1))
    np.testing.assert_allclose(q[2, :, 2] - q[2, :, 0], 2 * stats.norm.ppf(0.9) * spread, rtol=1e-9)
    np.testing.assert_allclose(q[2, :, 2], -q[2, :, 0], rtol=1e-9)  # still centred on the naive forecast
    np.testing.assert_allclose(q[0, :, 1], 100.0)
    np.testing.assert_allclose(q[0, :, 2] - q[0, :, 0], 2 * stats.norm.ppf(0.9), rtol=1e-9)  # no fallback: as it was


def test_the_networks_interval_factors_leave_naives_own_interval_alone():
    from rnnkit.apps.forecast.intervals import Intervals

    class Calibrated(_Stub, Intervals):  # the network's intervals widened 3 times (a calibration or floor)
        calibration = 3.0

    s = _series(np.zeros(24))
    nf = Calibrated(net=100.0, guide=90.0)
    (p0, _, hi0), (p2, lo2, hi2) = nf.forecast([s, s], [END, END + 3 * H], H, 0.8)
    np.testing.assert_allclose(hi0 - p0, 3 * stats.norm.ppf(0.9), rtol=1e-9)  # the network's: widened
    np.testing.assert_allclose(p2, 0.0)
    # naive's (sigma 25, as in the first test): as it is; its lower end cut at 0 (counts)
    np.testing.assert_allclose(hi2, stats.norm.ppf(0.9) * 25.0 * np.sqrt(np.arange(1, H + 1)), rtol=1e-9)
    np.testing.assert_allclose(lo2, 0.0)


def test_without_a_guide_or_with_a_share_set_the_fallback_still_applies():
    s = _series(np.zeros(24))
    origins = [END, END + H, END + 3 * H]
    alone = _Stub(net=100.0, guide=90.0)
    alone.guide, alone.blend = None, 0.0  # model.guide=none: the network's forecast alone
    # as in the first test, naive's errors before END + 3H are 100, 0, 0 a step; the network's 100
    # is over twice that there (not before: at END + H naive's one earlier forecast erred by 100 too)
    np.testing.assert_array_equal(alone.blend_weights([s] * 3, origins), [0.0, 0.0, NAIVE])
    np.testing.assert_allclose(alone.quantiles([s], [END + 3 * H], [0.5])[0, :, 0], 0.0)
    fixed = _Stub(net=100.0, guide=90.0)
    fixed.blend = 0.5  # model.guide_blend=0.5: the set mix is what is judged, (100 + 90) / 2 = 95
    # at END the validation span (all 100) decides: the mix errs by 5 where naive is exact; at END + H
    # by 95 against naive's 100; at END + 3H by 95 against naive's 33.3
    np.testing.assert_array_equal(fixed.blend_weights([s] * 3, origins), [NAIVE, 0.5, NAIVE])
    np.testing.assert_allclose(fixed.quantiles([s], [END + H], [0.5])[0, :, 0], 95.0)  # the set share
    fixed.history_ends = {"y": END + H}  # no validation point observed before END: the share set stands
    fixed.cfg = C.apply_overrides(fixed.cfg, ["backtest.val_size=1"])
    assert fixed.blend_weights([s], [4])[0] == 0.5
    fixed.history_ends, fixed.cfg = {"y": END}, _Stub(0, 0).cfg
    for stub in (alone, fixed):  # margin 0: the network alone, or the share set, at every origin
        stub.cfg = C.apply_overrides(stub.cfg, ["model.naive_fallback=0"])
    np.testing.assert_array_equal(alone.blend_weights([s] * 3, origins), 0.0)
    np.testing.assert_array_equal(fixed.blend_weights([s] * 3, origins), 0.5)


def test_the_margin_zero_turns_the_fallback_off_and_the_best_share_stays():
    s = _series(np.zeros(24))
    w = _Stub(net=100.0, guide=90.0, margin=0).blend_weights([s], [END + 2 * H])
    assert w[0] == 1.0  # the guide (error 90) beat the network (100) and every mix between them


def test_no_fallback_while_the_best_share_is_within_the_margin_of_naive():
    # noise around 0: the network's 0 errs by 1 a step, naive (the last value, +-1) by 0 or 2: 1 on average
    s = _series(np.tile([1.0, -1.0], 12))
    s.target[END - 1] = -1.0  # the first forecast's last value, so naive's steps alternate 2, 0, ...
    w = _Stub(net=0.0, guide=5.0).blend_weights([s], [END + 2 * H])
    assert w[0] == 0.0, w  # the network: its error 1 is not over 2 x naive's


def test_the_fallback_needs_an_error_strictly_over_the_margin_times_naives():
    # the truth is 1 from END on, 0 just before: naive from END (0) errs by 1 on its 4 steps, from
    # END + H (1) by 0 on its 4: mean 0.5 at o = END + 2H. Models forecasting c err by |1 - c| on all 8.
    s = _series(np.ones(24))
    s.target[END - 1] = 0.0
    o = END + 2 * H
    assert _Stub(net=2.0, guide=2.0).blend_weights([s], [o])[0] in GRID  # 1.0, exactly 2 x 0.5: kept
    assert _Stub(net=2.01, guide=2.01).blend_weights([s], [o])[0] == NAIVE  # 1.01 > 1.0: naive
    assert _Stub(net=2.01, guide=2.01, margin=3).blend_weights([s], [o])[0] in GRID  # under 3 x 0.5


def test_the_fallbacks_interval_is_naives_own_from_its_recent_one_season_errors():
    # quarterly, season 4: the new season from END on, its first quarter an outlier once
    s = _series(np.tile([10.0, 20.0, 30.0, 40.0], 6))
    s.target[END + 4] = 50.0
    by_hand = [s.target[t] - s.target[t - 4] for t in range(36, 52)]  # y_t - y_{t-4} from the span's start
    assert naive_sigma(s, 52, 36, 4) == pytest.approx(np.sqrt(np.mean(np.square(by_hand))))
    assert naive_sigma(s, 52, 49, 4) == 0.0  # past the outlier and the quarter that repeats it: exact
    assert np.isnan(naive_sigma(s, 30, 30, 4))  # no step in the span
    s.target[45] = np.nan  # a missing value drops the two errors it takes part in
    kept = [s.target[t] - s.target[t - 4] for t in range(36, 52) if t not in (45, 49)]
    assert naive_sigma(s, 52, 36, 4) == pytest.approx(np.sqrt(np.mean(np.square(kept))))
    # the quantiles: naive's forecast, spread sigma sqrt(k + 1), k the whole seasons before step h
    q = naive_quantiles(s, 52, 6, 4, 2.0, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(q[:, 1], naive_forecast(s, 52, 6, 4))
    np.testing.assert_allclose(q[:, 2] - q[:, 1], stats.norm.ppf(0.9) * 2.0 * np.sqrt([1, 1, 1, 1, 2, 2]))


def test_each_series_interval_reads_its_own_recent_span_in_a_panel():
    # "a" jumped between 0 and 1000 long before its validation span (from END - 4 = 36), "b" has a
    # shorter history (end 24): a's sigma must come from a's own span, not from b's (from 20)
    a = _series(np.zeros(24))
    a.target[:30] = np.tile([0.0, 1000.0], 15)
    b = SimpleNamespace(name="b", target=np.full(64, 5.0), times=np.arange(64), length=64)
    nf = _Stub(net=100.0, guide=90.0)
    nf.history_ends = {"y": END, "b": 24}
    w, sigma = nf.blend_choices([a, b], [END + 3 * H, END + 3 * H])
    assert w[0] == NAIVE and sigma[0] == pytest.approx(naive_sigma(a, END + 3 * H, 36, 1)) == pytest.approx(25.0)


def test_naive_forecast_repeats_the_last_season_and_skips_missing_values():
    s = SimpleNamespace(target=np.array([1.0, 2, 3, 4, 5, 6, 7, 8, np.nan, 10]))
    np.testing.assert_array_equal(naive_forecast(s, 8, 3, 1), [8, 8, 8])  # the last value before the origin
    np.testing.assert_array_equal(naive_forecast(s, 9, 3, 1), [8, 8, 8])  # a missing last value: the one before
    np.testing.assert_array_equal(naive_forecast(s, 8, 6, 4), [5, 6, 7, 8, 5, 6])  # the last season, repeated
    np.testing.assert_array_equal(naive_forecast(s, 10, 4, 4), [7, 8, 10, 10])  # its missing phase: the last value
    np.testing.assert_array_equal(naive_forecast(s, 3, 2, 4), [3, 3])  # less than a season: the last value


def test_the_fallback_saved_at_the_end_of_the_data_is_what_predict_uses():
    from rnnkit.apps.forecast.pipeline import _blend_at_end

    s = _series(np.zeros(24))
    nf = _Stub(net=100.0, guide=90.0)
    said = []
    shares, widths = _blend_at_end(nf, SimpleNamespace(series=[s]), said.append)
    assert shares == {"y": NAIVE}
    # at the end (origin 64): one of naive's 28 one-step errors since 36 is -100
    assert widths == {"y": pytest.approx(100 / np.sqrt(28))}
    assert "naive: 1 series" in said[0] and "model.naive_fallback=0" in said[0], said
    nf.fixed_blend, nf.fixed_sigmas = shares, widths  # what predict sets after refitting on all the data
    nf.history_ends = {}  # the refit network: no out-of-sample record, the saved choice alone decides
    q = nf.quantiles([s], [len(s.target)], [0.1, 0.5, 0.9])
    np.testing.assert_allclose(q[0, :, 1], 0.0)
    np.testing.assert_allclose(q[0, :, 2] - q[0, :, 0], 2 * stats.norm.ppf(0.9) * widths["y"] * np.sqrt(
        np.arange(1, H + 1)), rtol=1e-9)
    nf.fixed_sigmas = {}  # a saved run without a sigma: the network's interval (width 2 z) around naive's 0
    q = nf.quantiles([s], [len(s.target)], [0.1, 0.5, 0.9])
    np.testing.assert_allclose(q[0, :, 1], 0.0)
    np.testing.assert_allclose(q[0, :, 2] - q[0, :, 0], 2 * stats.norm.ppf(0.9), rtol=1e-9)
    nf.history_ends = {"y": END}
    # a series unseen in training takes the mean of the known shares, the fallback left out
    nf.fixed_blend, nf.blend_at_end = {}, {"y": NAIVE, "b": 0.5}
    other = SimpleNamespace(name="other", target=s.target, times=s.times)
    assert nf.blend_weights([other], [len(s.target)])[0] == 0.5


@pytest.mark.parametrize("bad", ["0.5", "-1"])
def test_a_margin_below_one_is_an_error(bad):
    from rnnkit.apps.forecast.config import check_config

    with pytest.raises(C.ConfigError, match="model.naive_fallback must be 0"):
        check_config(C.apply_overrides(ForecastConfig(), [f"model.naive_fallback={bad}"]))


def test_at_the_first_origin_the_validation_span_decides_the_fallback():
    """No backtest origin before the first: the network's errors on its validation span (the last
    max(H, T / 10) = 4 origins before END, their steps before END) against naive's from there."""
    s = _series(np.zeros(24))
    s.target[END - 10:END] = 0.0  # the drop came 10 steps before the first origin: naive knows it there
    nf = _Stub(net=100.0, guide=90.0)
    assert nf.blend_weights([s], [END])[0] == NAIVE
    q = nf.quantiles([s], [END], [0.5])
    np.testing.assert_allclose(q[0, :, 0], 0.0)
    assert _Stub(net=100.0, guide=90.0, margin=0).blend_weights([s], [END])[0] == 0.0
    # a network within the margin there keeps the first origin (its share 0: the guide is never chosen
    # here): noise of +-1 around 0, which the network's 0 misses by 1 a step and naive by 2
    noisy = _series(np.zeros(24))
    noisy.target[END - 10:END] = np.tile([1.0, -1.0], 5)
    assert _Stub(net=0.0, guide=0.0).blend_weights([noisy], [END])[0] == 0.0
    # the fallback compares errors only: where naive was exact (error 0), any error of the network's is over it
    assert _Stub(net=0.5, guide=0.0).blend_weights([s], [END])[0] == NAIVE
    # the drop at the validation span's first step (END - 4): naive, from END - 4 (last value 100), misses
    # by 100 on that origin's 4 steps and is exact on the other origins' 6 (mean 40); the network misses
    # by 100 on all 10, over twice 40
    s.target[:END - 4] = 100.0
    assert nf.blend_weights([s], [END])[0] == NAIVE
    # the drop 2 steps before END: naive misses on 5 of the 10 steps (mean 50), the network on 6 (60): kept
    s.target[:END - 2] = 100.0
    assert nf.blend_weights([s], [END])[0] == 0.0


def test_the_report_counts_the_backtest_fallbacks_by_series_and_origin_time():
    import pandas as pd

    from rnnkit.apps.forecast.pipeline import _backtest_fallbacks
    from rnnkit.apps.forecast.report import fallback_sentence

    times = pd.date_range("2000-01-01", periods=64, freq="MS")
    a = SimpleNamespace(name="a", length=64, times=times)
    b = SimpleNamespace(name="b", length=64, times=times)
    # 39: before the first backtest origin (a validation origin); 64: the end of the data (predict's)
    nf = SimpleNamespace(history_ends={"a": 40, "b": 40},
                         fallbacks={("a", 48), ("a", 39), ("a", 64), ("a", 44), ("b", 40)})
    fell = _backtest_fallbacks(nf, SimpleNamespace(series=[a, b]))
    assert fell == {"a": ["2003-09-01", "2004-01-01"], "b": ["2003-05-01"]}
    said = fallback_sentence(fell, 2, 6)
    assert said.startswith("naive fallback: 3 of 12 backtest forecasts") and said.endswith("a (2), b (1)"), said
    one = fallback_sentence({"a": fell["a"]}, 1, 6)
    assert "2 of 6" in one and one.endswith("from 2003-09-01, 2004-01-01"), one


def test_a_series_that_fell_to_zero_is_forecast_by_naive_through_the_cli(tmp_path, capsys):
    """Yearly counts in the thousands that fell to 0 and stayed there (measles after the vaccine),
    with the defaults but for a short training: the backtest forecasts after the fall are naive's
    (0, exactly), the report says so, and predict keeps the naive forecast for the next years."""
    import json

    import pandas as pd

    from rnnkit.cli import main

    rng = np.random.default_rng(0)
    # the fall comes before the validation span of the first backtest origin (77): naive is exact there
    y = np.concatenate([np.maximum(2000 + 40 * np.arange(70) + rng.normal(0, 400, 70), 0), np.zeros(40)])
    csv = tmp_path / "counts.csv"
    pd.DataFrame({"year": np.arange(1900, 1900 + len(y)), "cases": y}).to_csv(csv, index=False)
    run = tmp_path / "run"
    fast = ["train.progress=false", "train.tensorboard=false", "train.epochs=3", "baselines.models=naive,ets"]
    assert main(["forecast", "train", "--data", str(csv), "--time-col", "year", "--target", "cases",
                 "--run-dir", str(run), *fast]) == 0
    out = capsys.readouterr().out
    report = json.loads((run / "report.json").read_text())
    table = pd.read_csv(run / "backtest_forecasts.csv")
    rnn = table[table.model == report["model"]]
    # every origin: at the first one the validation span (all 0) decides, later the earlier origins
    assert report["naive_fallbacks"] == {"cases": sorted(set(rnn["origin"]))}
    assert "naive fallback: 10 of 10 backtest forecasts" in out
    md = (run / "report.md").read_text()
    assert "naive fallback: 10 of 10" in md and "At the end of the data, used by predict: cases: naive." in md
    assert (rnn["point"] == 0).all()
    state = json.loads((run / "forecast_state.json").read_text())
    # naive's one-step errors since the validation span began are all 0: its interval is the point
    assert state["blend_at_end"] == {"cases": -1.0} and state["fallback_sigma_at_end"] == {"cases": 0.0}
    assert main(["forecast", "predict", str(run), "--output", str(tmp_path / "next.csv")]) == 0
    nxt = pd.read_csv(tmp_path / "next.csv")
    np.testing.assert_array_equal(nxt["point"], 0.0)
    np.testing.assert_array_equal(nxt["lo"], 0.0)
    np.testing.assert_array_equal(nxt["hi"], 0.0)


def test_a_network_without_a_guide_falls_back_through_the_cli(tmp_path, capsys):
    """The same counts with ``model.guide=none``: no share to choose, and the fallback still takes
    the forecasts after the fall; predict keeps it."""
    import json

    import pandas as pd

    from rnnkit.cli import main

    rng = np.random.default_rng(0)
    y = np.concatenate([np.maximum(2000 + 40 * np.arange(70) + rng.normal(0, 400, 70), 0), np.zeros(40)])
    csv = tmp_path / "counts.csv"
    pd.DataFrame({"year": np.arange(1900, 1900 + len(y)), "cases": y}).to_csv(csv, index=False)
    run = tmp_path / "run"
    fast = ["train.progress=false", "train.tensorboard=false", "train.epochs=3", "baselines.models=naive",
            "model.guide=none", "model.transform=level"]
    assert main(["train", "forecast", "--data", str(csv), "--time-col", "year", "--target", "cases",
                 "--run-dir", str(run), *fast]) == 0
    out = capsys.readouterr().out
    report = json.loads((run / "report.json").read_text())
    assert "guided by" not in report["model"] and report["naive_fallbacks"].get("cases"), report["model"]
    assert "naive: 1 series whose earlier forecasts were over 2 times" in out
    state = json.loads((run / "forecast_state.json").read_text())
    assert state["blend_at_end"] == {"cases": -1.0}
    assert main(["forecast", "predict", str(run), "--output", str(tmp_path / "next.csv")]) == 0
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "next.csv")["point"], 0.0)


def test_a_log_treatment_trained_on_positive_counts_forecasts_after_they_fall_to_zero(tmp_path):
    """The counts are positive up to the first backtest origin (so the log treatments are tried and
    combined) and 0 from shortly after it: the log treatment's windows then hold zeros, which it reads
    as its floor. This stopped with 'returned a non-finite forecast' (log 0) before the floor."""
    import json

    import pandas as pd

    from rnnkit.cli import main

    rng = np.random.default_rng(0)
    y = np.concatenate([np.maximum(2000 + 40 * np.arange(60) + rng.normal(0, 400, 60), 0), np.zeros(24)])
    assert y[:60].min() > 0
    csv = tmp_path / "counts.csv"
    pd.DataFrame({"year": np.arange(1900, 1900 + len(y)), "cases": y}).to_csv(csv, index=False)
    run = tmp_path / "run"
    assert main(["forecast", "train", "--data", str(csv), "--time-col", "year", "--target", "cases",
                 "--run-dir", str(run), "train.progress=false", "train.tensorboard=false", "train.epochs=3",
                 "baselines.models=naive", "model.transform=level_log"]) == 0
    report = json.loads((run / "report.json").read_text())
    assert "level_log" in report["model"] or report.get("transform", {}).get("chosen") == "level_log"
    table = pd.read_csv(run / "backtest_forecasts.csv")
    assert np.isfinite(table[["point", "lo", "hi"]].to_numpy()).all()
