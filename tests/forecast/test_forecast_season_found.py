"""A season found in series whose times are integer steps (``rnnkit/apps/forecast/seasonality.py``).

Before, a quarterly or monthly series written with row numbers as its time had no season: no
seasonal treatment, no seasonal baseline. The rule must find a calendar season, leave cycles of
varying length (sunspots) and series without one (random walks, noise) alone, read nothing after
the first backtest origin, and never override a season the user gives or a calendar's."""

import numpy as np
import pandas as pd
import pytest

from rnnkit import config as C
from rnnkit.apps.forecast import build_series
from rnnkit.apps.forecast.config import ForecastConfig
from rnnkit.apps.forecast.seasonality import (
    changes_autocorrelation,
    find_season,
    with_found_season,
)
from rnnkit.cli import main
from rnnkit.train.run_folder import read_run_info

FAST = ["--preset", "tiny", "train.progress=false", "train.tensorboard=false", "baselines.models=naive,seasonal_naive"]


def _elnino() -> np.ndarray:
    sm = pytest.importorskip("statsmodels.api")
    return sm.datasets.elnino.load_pandas().data.drop(columns="YEAR").to_numpy(float).ravel()  # 732 months


def _sunspots() -> np.ndarray:
    sm = pytest.importorskip("statsmodels.api")
    return sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(float)  # 309 years


def _steps(y: np.ndarray, ids=None) -> pd.DataFrame:
    return pd.DataFrame({"t": np.arange(1, len(y) + 1), "value": y})


def _sset(y: np.ndarray):
    return build_series(_steps(y), time_col="t", target=["value"])


def test_the_autocorrelation_of_the_changes():
    y = np.cumsum(np.tile([2.0, 1.0, -2.0, -1.0], 30))  # changes repeat every 4 steps exactly
    r = changes_autocorrelation(y, 8)
    d = np.diff(y) - np.diff(y).mean()
    direct = [np.sum(d[:len(d) - k] * d[k:]) / np.sum(d * d) for k in range(9)]  # the definition, term by term
    np.testing.assert_allclose(r, direct, atol=1e-12)
    assert r[4] > 0.95 and r[2] < 0
    assert not changes_autocorrelation(np.arange(20.0), 3)[1:].any()  # constant changes: nothing to correlate
    # missing values are dropped first
    with_gap = y.copy()
    with_gap[10] = np.nan
    assert np.isfinite(changes_autocorrelation(with_gap, 8)).all()


def test_a_monthly_series_as_steps_gets_its_year():
    found = find_season([_elnino()[:438]])  # the part before rnnkit's first backtest origin
    assert found is not None and found.season == 12
    assert found.r_one > 0.45 and found.r_two > 0.35 and found.series == 1 and found.changes == 437


def test_a_cycle_of_varying_length_is_no_season():
    """Sunspots: a cycle of 9-14 years. The changes correlate 0.40 with those 11 years before but
    only 0.26 with those 22 years before: no season."""
    y = _sunspots()
    assert find_season([y[:185]]) is None
    assert changes_autocorrelation(y[:185], 22)[11] > 0.35  # the peak is there; the repeat is not


@pytest.mark.parametrize("n", [40, 120, 600])
def test_noise_and_random_walks_get_no_season(n):
    rng = np.random.default_rng(n)
    found = 0
    for _ in range(40):
        e = rng.standard_normal(n)
        ar = np.zeros(n)
        for t in range(1, n):
            ar[t] = -0.5 * ar[t - 1] + e[t]
        found += sum(find_season([y]) is not None for y in (e, np.cumsum(e), ar))
    assert found <= 1, found  # 120 series per length: at most one chance season


def test_a_panel_pools_its_series():
    y = _elnino()
    found = find_season([y[:300], y[300:600]])
    assert found is not None and found.season == 12 and found.series == 2 and found.changes == 299 + 299
    assert find_season([y[:5]]) is None  # too short to hold two seasons twice


def test_only_the_history_before_the_first_origin_is_read():
    """Integer steps: horizon 8, 10 backtest origins 4 steps apart, so the first origin is 732 - 8
    - 36 = 688 and the history is y[:688] (687 changes)."""
    y = _elnino()
    cfg = ForecastConfig()
    _, found = with_found_season(cfg, _sset(y))
    assert found.season == 12 and found.changes == 687
    after = y.copy()
    after[688:] = np.random.default_rng(0).standard_normal(len(y) - 688)  # the backtest span
    assert with_found_season(cfg, _sset(after))[1] == found
    last = y.copy()
    last[687] += 5.0  # the last value of the history is read
    assert with_found_season(cfg, _sset(last))[1] != found
    noise = np.random.default_rng(1).standard_normal(len(y))
    assert with_found_season(cfg, _sset(noise))[1] is None


def test_a_given_season_and_a_calendar_are_kept():
    y = _elnino()
    given = C.apply_overrides(ForecastConfig(), ["data.season_length=1"])
    assert with_found_season(given, _sset(y)) == (given, None)
    dated = build_series(pd.DataFrame({"date": pd.date_range("1950-01-01", periods=len(y), freq="MS"), "value": y}),
                         time_col="date", target=["value"])
    cfg = ForecastConfig()
    assert with_found_season(cfg, dated) == (cfg, None)  # a monthly calendar has its season already


def test_the_season_leaves_every_series_two_seasons_and_the_horizon():
    """A panel of El Nino (732 months as steps) and a 20-step series: 12 would leave the short one
    fewer than 2 x 12 + 8 points, and the run would drop it; the season is at most (20 - 8) // 2
    = 6 instead, and the pair gets none (El Nino's changes have no peak at 3-6)."""
    y = _elnino()
    short = np.random.default_rng(2).standard_normal(20).cumsum()
    frame = pd.DataFrame({"t": [*range(1, 733), *range(1, 21)], "id": ["elnino"] * 732 + ["short"] * 20,
                          "value": [*y, *short]})
    sset = build_series(frame, time_col="t", target=["value"], id_col="id")
    assert with_found_season(ForecastConfig(), sset)[1] is None
    alone = build_series(frame[frame.id == "elnino"], time_col="t", target=["value"], id_col="id")
    assert with_found_season(ForecastConfig(), alone)[1].season == 12


def test_the_cli_run_finds_says_and_keeps_the_season(tmp_path, capsys):
    data = tmp_path / "elnino_steps.csv"
    _steps(_elnino()).to_csv(data, index=False)
    run = tmp_path / "run"
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(run), *FAST]) == 0
    out = capsys.readouterr().out
    assert "note: season 12, found in the data" in out and "data.season_length=1 turns this off" in out
    assert "season 12 (shortest series" in out
    saved = read_run_info(run)["config"]
    assert saved["data"]["season_length"] == 12  # predict and evaluate use the same season
    report = (run / "report.md").read_text()
    assert "season 12, found in the data" in report
    assert main(["forecast", "predict", str(run), "--output", str(tmp_path / "next.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "next.csv")) == 8
    off = tmp_path / "off"
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(off), *FAST, "data.season_length=1"]) == 0
    out = capsys.readouterr().out
    assert "found in the data" not in out and "season 1 (shortest series" in out
    assert "season: none found" not in out  # the user gave it
    noise = tmp_path / "noise.csv"
    _steps(np.random.default_rng(5).standard_normal(200).cumsum()).to_csv(noise, index=False)
    assert main(["train", "forecast", "--data", str(noise), "--run-dir", str(tmp_path / "noise"), *FAST]) == 0
    out = capsys.readouterr().out
    assert "season: none found in the integer steps' changes" in out and "data.season_length=N" in out


def test_the_pooled_autocorrelation_is_the_weighted_mean_of_the_series():
    y = _elnino()
    a, b = y[:400], y[400:700]
    found = find_season([a, b])
    m = found.season
    expected = (399 * changes_autocorrelation(a, 2 * m)[m] + 299 * changes_autocorrelation(b, 2 * m)[m]) / 698
    assert found.r_one == pytest.approx(expected, abs=1e-12)


def test_momentum_in_the_changes_is_no_season():
    """Changes that follow an AR(1) with coefficient 0.9 (a smooth wandering series) correlate
    0.73 with those 3 steps before and 0.58 with those 6 before, but decay from lag 1 on: no
    lag is a peak, so no season."""
    rng = np.random.default_rng(7)
    d = np.zeros(600)
    for t in range(1, 600):
        d[t] = 0.9 * d[t - 1] + rng.standard_normal()
    r = changes_autocorrelation(np.cumsum(d), 6)
    assert r[3] > 0.6 and r[6] > 0.4  # the thresholds alone would take lag 3
    assert find_season([np.cumsum(d)]) is None


def test_a_short_series_needs_a_correlation_beyond_chance():
    """A found season's r(m) is at least 3 / sqrt(n): with 24 changes, 0.61, not 0.45. A weak
    pattern of 4 steps under noise, 300 seeded draws of 25 points (without the bound, 42 of them
    got a season with r(4) below it)."""
    for seed in range(300):
        changes = np.tile([1.0, -0.5, -0.5, 1.0], 7)[:25] * 1.2 + np.random.default_rng(seed).standard_normal(25)
        found = find_season([np.cumsum(changes)])
        assert found is None or found.r_one >= 3 / np.sqrt(found.changes), (seed, found)


def test_steps_below_an_hour_with_a_day_too_long_for_a_season_say_how_to_give_it(tmp_path, capsys):
    """10-minute readings: a day is 144 steps, over the 96 a default season may be, so the series
    gets none; the run says so and names the setting that gives it its day."""
    from rnnkit.apps.forecast.grid import day_too_long_words

    assert day_too_long_words("15min") is None and day_too_long_words("h") is None
    assert day_too_long_words("7min") is None  # no whole day of steps
    assert "data.season_length=288" in day_too_long_words("5min")
    times = pd.date_range("2024-01-01", periods=4 * 144, freq="10min")
    load = 50 + 20 * np.sin(np.arange(len(times)) * 2 * np.pi / 144) + np.random.default_rng(0).normal(0, 1, len(times))
    data = tmp_path / "meter.csv"
    pd.DataFrame({"time": times, "kw": load}).to_csv(data, index=False)
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(tmp_path / "r"), *FAST,
                 "model.transform=level"]) == 0
    out = capsys.readouterr().out
    assert ("season: none by default for steps of 10min: a day is 144 of them" in out
            and "data.season_length=144 gives the series its day" in out), out
