"""Intermittent series (mostly zeros): ``model.likelihood=auto`` takes the pinball loss there
(``rnnkit/apps/forecast/auto.py``, ``resolve_likelihood``). Before, the Gaussian's median, pulled
up by the occasional non-zero value, sat above the zeros at every step (AER's FrozenJuice freezing
degree days, 91% zeros: MASE 0.469 against the naive forecast's 0.021), and a run with
``model.likelihood=quantile`` stopped after training: "quantile 0.0025 was not trained" (the
combination's mixture asked its members for levels a quantile head does not have)."""

import numpy as np
import pandas as pd
import pytest

from rnnkit import config as C
from rnnkit.apps.forecast import build_series
from rnnkit.apps.forecast.auto import resolve_likelihood
from rnnkit.apps.forecast.config import ForecastConfig
from rnnkit.cli import main

FAST = ["--preset", "tiny", "train.progress=false", "train.tensorboard=false", "baselines.models=naive,seasonal_naive"]


def _intermittent(n: int = 240, p: float = 0.2, seed: int = 0) -> np.ndarray:
    """A month is 0, or with probability p a gamma draw (sales of a slow item)."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < p, np.round(rng.gamma(2.0, 3.0, n), 1), 0.0)


def _history(y: np.ndarray):
    frame = pd.DataFrame({"date": pd.date_range("2000-01-01", periods=len(y), freq="MS"), "value": y})
    return build_series(frame, time_col="date", target=["value"])


def test_mostly_zeros_take_the_pinball_loss_with_the_intervals_ends():
    cfg, why = resolve_likelihood(ForecastConfig(), _history(_intermittent()))
    assert cfg.model.likelihood == "quantile" and cfg.model.quantiles == (0.1, 0.25, 0.5, 0.75, 0.9)
    assert why.startswith("likelihood: quantile") and "are exactly 0" in why
    wide = C.apply_overrides(ForecastConfig(), ["backtest.interval=0.9"])
    cfg, _ = resolve_likelihood(wide, _history(_intermittent()))
    assert cfg.model.quantiles == (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)  # the 90% interval's ends added


@pytest.mark.parametrize("change, why", [
    (lambda y: np.where(y == 0, np.random.default_rng(1).gamma(2.0, 3.0, len(y)) * (np.arange(len(y)) % 3 > 0), y),
     "a third zeros"),
    (lambda y: np.where(np.arange(len(y)) == 5, -0.1, y), "a value below 0"),
    (lambda y: y + 1.0, "no zeros"),
])
def test_other_series_stay_gaussian(change, why):
    cfg, said = resolve_likelihood(ForecastConfig(), _history(change(_intermittent())))
    assert cfg.model.likelihood == "gaussian" and said is None, why


def test_a_given_likelihood_and_the_autoregressive_decoder():
    y = _intermittent()
    given = C.apply_overrides(ForecastConfig(), ["model.likelihood=studentt"])
    assert resolve_likelihood(given, _history(y)) == (given, None)
    roll = C.apply_overrides(ForecastConfig(), ["model.decoder=autoregressive"])
    assert resolve_likelihood(roll, _history(y))[0].model.likelihood == "gaussian"  # it samples a distribution


def test_an_intermittent_file_trains_backtests_and_predicts(tmp_path, capsys):
    """Through the CLI with the defaults' combination of three treatments (whose mixture stopped
    the run before): the forecast sits on the zeros and never below them."""
    data = tmp_path / "slow_item.csv"
    y = _intermittent(n=180, p=0.12, seed=3)
    pd.DataFrame({"date": pd.date_range("2005-01-01", periods=len(y), freq="MS"), "sales": y}).to_csv(data, index=False)
    run = tmp_path / "run"
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(run), *FAST]) == 0
    out = capsys.readouterr().out
    assert "likelihood: quantile (pinball loss at 0.1, 0.25, 0.5, 0.75, 0.9)" in out
    assert "mean of 3 treatments" in out and "(direct, quantile" in out
    forecasts = pd.read_csv(run / "backtest_forecasts.csv")
    rnn = forecasts[forecasts.model.str.startswith("rnnkit")]
    assert len(rnn) and np.median(rnn.point) < 0.25 * np.mean(y[y > 0])  # the median of a slow item's month
    assert main(["forecast", "predict", str(run), "--output", str(tmp_path / "next.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "next.csv")) == 18


def test_an_ensembles_mixture_with_the_pinball_loss_takes_the_mean(tmp_path):
    """``model.ensemble_combine=mixture`` draws levels a quantile head was not trained at (it
    stopped the backtest as the combination's mixture did): with the pinball loss the members'
    quantiles are averaged instead."""
    data = tmp_path / "slow_item.csv"
    y = _intermittent(n=120, p=0.3, seed=4)
    pd.DataFrame({"date": pd.date_range("2005-01-01", periods=len(y), freq="MS"), "sales": y}).to_csv(data, index=False)
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(tmp_path / "run"), *FAST,
                 "model.transform=level", "model.likelihood=quantile", "model.ensemble=2",
                 "model.ensemble_combine=mixture"]) == 0


def test_counts_get_no_forecast_below_zero(tmp_path):
    """A Gaussian output knows no bound: on low counts (a third of the months 0, so still the
    Gaussian) its lower ends fall below 0. A series never below 0 before the origin has its point
    and interval cut at 0, in the backtest and in predict; one negative value in its history
    leaves them as they are."""
    rng = np.random.default_rng(6)
    counts = rng.poisson(1.2, 150).astype(float)
    assert 0.25 < np.mean(counts == 0) < 0.5

    def run(y, name):
        data = tmp_path / f"{name}.csv"
        pd.DataFrame({"date": pd.date_range("2005-01-01", periods=len(y), freq="MS"), "n": y}).to_csv(data, index=False)
        assert main(["train", "forecast", "--data", str(data), "--run-dir", str(tmp_path / name), *FAST]) == 0
        f = pd.read_csv(tmp_path / name / "backtest_forecasts.csv")
        assert main(["forecast", "predict", str(tmp_path / name), "--output", str(tmp_path / f"{name}_next.csv")]) == 0
        return f[f.model.str.startswith("rnnkit")], pd.read_csv(tmp_path / f"{name}_next.csv")

    backtest, future = run(counts, "counts")
    assert "gaussian" in backtest.model.iloc[0]
    for frame in (backtest, future):
        assert (frame[["point", "lo", "hi"]] >= 0).all().all()
    assert (backtest.lo == 0).mean() > 0.5  # the cut is doing something here
    shifted = counts.copy()
    shifted[3] = -0.5  # a history that has been below 0 can be again
    backtest, future = run(shifted, "shifted")
    assert (backtest.lo < 0).mean() > 0.5 and (future.lo < 0).any()


def test_the_bound_reads_only_the_history_before_the_origin():
    from rnnkit.apps.forecast.intervals import never_negative

    s = _history(np.array([0.0, 2.0, np.nan, 1.0, -1.0, 3.0])).series[0]
    assert never_negative(s, 4) and not never_negative(s, 5)  # the -1 comes at position 4
    assert not never_negative(s, 0)  # nothing seen yet: no bound
