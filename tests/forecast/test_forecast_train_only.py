"""Training-only series (``data.train_only``): the RNN trains on them, nothing scores them, and
nothing of theirs at or after the first backtest origin reaches the model (planted-leak tests)."""

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import build_series, resolve_config, train
from rnnkit.apps.forecast.backtest import (
    history_set,
    plan_backtest,
    split_train_only,
    training_set,
)
from rnnkit.apps.forecast.datasets import load_series
from rnnkit.apps.forecast.pipeline import _prepare

N = 90


def _frame(helper_shift_after=None, helper_shift_before=None, n=N, seed=0):
    """Long format, monthly: scored series a and b, a related series 'helper' (the same cycle)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2000-01-01", periods=n, freq="MS")
    t = np.arange(n)
    rows = []
    for name, base in (("a", 20.0), ("b", 35.0), ("helper", 50.0)):
        y = base + 4 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, n)
        if name == "helper":
            if helper_shift_after is not None:
                y[dates >= helper_shift_after[0]] += helper_shift_after[1]
            if helper_shift_before is not None:
                y[dates < helper_shift_before[0]] += helper_shift_before[1]
        rows.append(pd.DataFrame({"date": dates, "id": name, "y": y, "x": rng.normal(size=n)}))
    return pd.concat(rows, ignore_index=True)


def _cfg(tmp_path, frame, *over, name="d.csv"):
    frame.to_csv(tmp_path / name, index=False)
    return resolve_config(path=tmp_path / name, preset="tiny", overrides=[
        "data.target=y", "data.id_col=id", "data.past_covariates=x", "data.train_only=helper",
        "window.input_len=12", "window.horizon=4", "backtest.windows=3", "backtest.val_size=8",
        "baselines.models=naive", "train.progress=false", "train.tensorboard=false", *over])


def _first_origin(cfg):
    sset, plan, _, _, _ = _prepare(cfg)
    return min(s.times[o] for s, o in zip(sset.series, plan.first))


def test_training_only_series_are_cut_before_the_first_origin_and_not_scored(tmp_path):
    cfg = _cfg(tmp_path, _frame())
    sset, plan, history, _, train_set = _prepare(cfg)
    assert sset.names == ["a", "b"] and history.names == ["a", "b"]  # scored, and what the baselines see
    assert train_set.names == ["a", "b", "helper"] and train_set.train_only == ("helper",)
    first = min(s.times[o] for s, o in zip(sset.series, plan.first))
    helper = train_set.series[2]
    assert helper.times[-1] < first and helper.length == plan.first[0]
    assert len(helper.past) == len(helper.future) == helper.length  # no covariate rows after the cut either


def test_the_cut_is_the_earliest_first_origin_over_the_scored_series():
    dates = pd.date_range("2000-01-01", periods=60, freq="MS")
    d = pd.DataFrame({"date": dates, "a": np.arange(60.0), "b": np.arange(60.0), "h": np.arange(60.0)})
    d.loc[50:, "b"] = np.nan  # b ends 10 months earlier: its first origin is the earliest
    sset, extra = split_train_only(build_series(d, time_col="date", target=["a", "b", "h"]), ["h"])
    plan = plan_backtest(sset, 4, 2, 4)
    firsts = [s.times[o] for s, o in zip(sset.series, plan.first)]
    ts = training_set(history_set(sset, plan.first), extra, firsts, 6, 4, 4)
    assert ts.series[2].times[-1] == min(firsts) - pd.offsets.MonthBegin(1)


def test_bad_training_only_names_are_errors(tmp_path):
    with pytest.raises(ValueError, match=r"data.train_only: \['nope'\] are not series of the data"):
        _prepare(_cfg(tmp_path, _frame(), "data.train_only=helper,nope"))
    with pytest.raises(ValueError, match="names every series"):
        _prepare(_cfg(tmp_path, _frame(), "data.train_only=a,b,helper"))
    short = _frame()
    short = short[(short.id != "helper") | (short.date >= "2005-06-01")]  # helper starts near the first origin
    with pytest.raises(ValueError, match="training-only series 'helper' has .* points before the first backtest origin"):
        _prepare(_cfg(tmp_path, short))
    with pytest.raises(ValueError, match=r"not extra series of the built-in dataset 'elnino'"):
        load_series(resolve_config("elnino", overrides=["data.train_only=cpi"]).data)


def test_builtin_macrodata_extra_series_are_training_only():
    cfg = resolve_config("macrodata", overrides=["data.train_only=cpi,m1"])
    sset, _, _, _, train_set = _prepare(cfg)
    assert sset.names == ["realcons", "realdpi", "realgdp", "realgovt", "realinv"]
    assert train_set.train_only == ("cpi", "m1") and train_set.names[-2:] == ["cpi", "m1"]
    assert all(s.times[-1] < sset.series[0].times[-42] for s in train_set.series[-2:])  # before 1999Q2


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same run on data that differ only in the helper series after the first origin (a planted
    leak: +1000 there), and on data whose helper differs before it (its first two years)."""
    tmp = tmp_path_factory.mktemp("train_only")
    cfg = _cfg(tmp, _frame(), name="base.csv")
    cut = _first_origin(cfg)

    def rnn_rows(frame, name):
        c = _cfg(tmp, frame, name=f"{name}.csv")
        train(c, tmp / name, echo=lambda *_: None)
        table = pd.read_csv(tmp / name / "backtest_forecasts.csv")
        assert "Training-only series (trained on, not scored; cut before the first origin): helper." in \
            (tmp / name / "report.md").read_text()
        return table[table.model.str.startswith("rnnkit")].reset_index(drop=True)

    return {"base": rnn_rows(_frame(), "base"),
            "after": rnn_rows(_frame(helper_shift_after=(cut, 1000.0)), "after"),
            "before": rnn_rows(_frame(helper_shift_before=(pd.Timestamp("2002-01-01"), 5.0)), "before")}


def test_training_only_values_after_the_first_origin_change_nothing(runs):
    assert set(runs["base"].series) == {"a", "b"}  # the helper is never forecast or scored
    pd.testing.assert_frame_equal(runs["base"], runs["after"])


def test_training_only_values_before_the_first_origin_are_learnt_from(runs):
    assert not np.allclose(runs["base"]["point"], runs["before"]["point"])
