"""Sizes derived from the data (horizon from the frequency, input, backtest and validation from the
length), the too-short error that says what would work, and ``--print-config`` on a user's file."""

import json

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import build_series
from rnnkit.apps.forecast.auto import candidates, default_horizon, resolve_sizes
from rnnkit.apps.forecast.config import ForecastConfig


def _real(freq):
    import statsmodels.api as sm

    if freq == "MS":
        wide = sm.datasets.elnino.load_pandas().data.drop(columns="YEAR")
        y = wide.to_numpy(float).ravel()
    elif freq == "QS":
        y = sm.datasets.macrodata.load_pandas().data["realgdp"].to_numpy(float)
    else:
        y = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(float)
    return pd.DataFrame({"date": pd.date_range("1900-01-01", periods=len(y), freq=freq), "y": y})


@pytest.mark.parametrize("freq, H", [("MS", 18), ("QS", 8), ("YS", 6)])
def test_horizon_from_the_frequency_and_sizes_that_fit(freq, H):
    frame = _real(freq)
    sset = build_series(frame, time_col="date", target=["y"])
    assert default_horizon(sset.freq) == H
    cfg, said = resolve_sizes(ForecastConfig(), sset)
    T, m = len(frame), {"MS": 12, "QS": 4, "YS": 1}[freq]
    w, b = cfg.window, cfg.backtest
    assert w.horizon == H and 1 <= b.windows <= 10 and b.stride == -(-H // 2)
    hist = T - H - (b.windows - 1) * b.stride
    assert hist >= 0.6 * T - b.stride and hist - b.val_size - w.input_len >= 2
    assert w.input_len >= max(m, 4) and 2 <= b.val_size <= H
    assert f"horizon {H} (from the frequency)" in said[0] and f"input length {w.input_len}" in said[0]


@pytest.mark.parametrize("n", [42, 54, 72])
def test_short_monthly_series_get_sizes_that_work(n):
    """Two seasons plus the horizon (42 months) is enough; 72 months, which failed with the old
    fixed defaults (input 48, 10 windows), works too."""
    frame = _real("MS").iloc[-n:]
    cfg, _ = resolve_sizes(ForecastConfig(), build_series(frame, time_col="date", target=["y"]))
    hist = n - 18 - (cfg.backtest.windows - 1) * cfg.backtest.stride
    assert hist - cfg.backtest.val_size - cfg.window.input_len >= 2


def test_a_panels_few_short_series_are_named_where_they_cut_its_origins():
    """openintro's ``world_pop``: 216 yearly series of 61 years, but 'West Bank and Gaza' has 31,
    and the sizes follow the shortest: 3 backtest origins. The sizes line now says which series
    set them and what leaving them out would give; the command it names does that."""
    from rnnkit import config as C

    years = np.arange(1960, 2021)
    rows = [pd.DataFrame({"date": years, "id": f"c{i}", "v": np.arange(61.0) + i}) for i in range(11)]
    rows.append(pd.DataFrame({"date": years[30:], "id": "short one", "v": np.arange(31.0)}))
    sset = build_series(pd.concat(rows), time_col="date", target=["v"], id_col="id")
    cfg, said = resolve_sizes(ForecastConfig(), sset)
    assert cfg.backtest.windows == 3
    assert said[1] == ("sizes: 3 backtest origin(s) because the shortest series set them; without the 1 shorter than "
                       "61 points ('short one' (31)) the backtest would have 7 ('data.exclude=short one')"), said
    kept = build_series(pd.concat(rows), time_col="date", target=["v"], id_col="id", exclude=("short one",))
    cfg, said = resolve_sizes(C.apply_overrides(ForecastConfig(), ["data.exclude=short one"]), kept)
    assert cfg.backtest.windows == 7 and len(said) == 1
    few = build_series(pd.concat(rows[:5] + rows[-1:]), time_col="date", target=["v"], id_col="id")
    assert len(resolve_sizes(ForecastConfig(), few)[1]) == 1  # under ten series: no such line


def test_too_short_names_the_longest_horizon_that_works():
    frame = _real("MS").iloc[-30:]
    sset = build_series(frame, time_col="date", target=["y"])
    with pytest.raises(ValueError, match=r"fewer than two seasons plus the horizon .*longest horizon that would "
                                         r"work is 6 \(--horizon 6\)"):
        resolve_sizes(ForecastConfig(), sset)
    cfg, _ = resolve_sizes(ForecastConfig(window=ForecastConfig().window.__class__(horizon=6)), sset)
    assert cfg.window.horizon == 6


def test_too_short_errors_name_only_settings_that_were_tried_and_work():
    """Two years of weekly values (plotly's normalised stock prices, 105 weeks) are too short for
    two seasons of 52 plus the horizon 13: the error names the longest horizon that works with the
    season and says the default horizon works without one. A panel of 12-point series (gapminder's
    life expectancy every five years) with one backtest window already names no lower window
    count, and the horizon it names works. Each named setting resolves without an error."""
    weekly = pd.DataFrame({"date": pd.date_range("2018-01-07", periods=105, freq="W"),
                           "y": 1 + np.cumsum(np.random.default_rng(0).normal(0, 0.02, 105))})
    sset = build_series(weekly, time_col="date", target=["y"])
    with pytest.raises(ValueError, match=r"the longest horizon that would work is 1 \(--horizon 1\); without a "
                                         r"season \(data.season_length=1\) the horizon 13 works$"):
        resolve_sizes(ForecastConfig(), sset)
    from rnnkit import config as C

    cfg, _ = resolve_sizes(C.apply_overrides(ForecastConfig(), ["data.season_length=1"]), sset)
    assert cfg.window.horizon == 13
    resolve_sizes(C.apply_overrides(ForecastConfig(), ["window.horizon=1"]), sset)
    years = np.arange(1952, 2008, 5)
    panel = pd.DataFrame({"country": np.repeat(["a", "b"], 12), "year": np.tile(years, 2),
                          "life": np.r_[np.linspace(28.8, 43.8, 12), np.linspace(55.2, 76.4, 12)]})
    sset = build_series(panel, time_col="year", id_col="country", target=["life"])
    with pytest.raises(ValueError) as err:
        resolve_sizes(ForecastConfig(), sset)
    message = str(err.value)
    assert "too few for input length 4 + validation 2 + 2 training origins;" in message
    assert "lower backtest.windows" not in message and "lower window.input_len" not in message
    assert message.endswith("the longest horizon that would work with one backtest window is 4 "
                            "(--horizon 4 backtest.windows=1)")
    cfg, _ = resolve_sizes(C.apply_overrides(ForecastConfig(), ["window.horizon=4", "backtest.windows=1"]), sset)
    assert (cfg.window.horizon, cfg.backtest.windows) == (4, 1)
    with pytest.raises(ValueError):
        resolve_sizes(C.apply_overrides(ForecastConfig(), ["window.horizon=5", "backtest.windows=1"]), sset)


def test_log_candidates_only_for_positive_series():
    pos = build_series(_real("QS"), time_col="date", target=["y"])
    assert candidates(ForecastConfig(), pos) == ["level", "level_deseason", "seasonal", "guided", "level_log",
                                                 "level_log_deseason", "seasonal_log"]
    neg = _real("QS").assign(y=lambda d: d["y"] - d["y"].mean())
    assert candidates(ForecastConfig(), build_series(neg, time_col="date", target=["y"])) == [
        "level", "level_deseason", "seasonal", "guided"]


def test_print_config_of_a_users_file_names_no_builtin_dataset(tmp_path):
    """What ``--print-config`` prints for a user's file: the resolved config has no built-in dataset."""
    from rnnkit import config as C
    from rnnkit.apps.forecast import resolve_config

    path = tmp_path / "y.csv"
    _real("QS").to_csv(path, index=False)
    cfg = json.loads(json.dumps(C.to_dict(resolve_config(path=str(path), overrides=["data.target=y"]))))
    assert cfg["data"]["dataset"] is None and cfg["data"]["path"] == str(path)
    assert cfg["window"]["horizon"] == 0 and cfg["model"]["transform"] == "auto"  # 0 = from the data
    assert resolve_config().data.dataset == "sunspots"  # neither given: the built-in default
    assert np.isfinite(cfg["backtest"]["interval"])


def test_seasonal_base_only_where_its_look_back_fits(tmp_path):
    """Three seasons plus the horizon of a weekly series (season 52): the input (52) fits before the
    validation span but the seasonal treatments' look-back (input + season) does not, so ``auto``
    leaves them out instead of failing with "no training window fits" (it did on the last 169
    weeks of fpp3's us_gasoline), and the default run trains and backtests."""
    from rnnkit.apps.forecast import pipeline, resolve_config
    from rnnkit.apps.forecast.auto import room_for_seasonal_base

    frame = _real("MS").iloc[-169:].assign(date=lambda d: pd.date_range("1991-02-04", periods=169, freq="W-MON"))
    path = tmp_path / "weekly.csv"
    frame.to_csv(path, index=False)
    cfg = resolve_config(path=path, overrides=["data.target=y", "baselines.models=seasonal_naive", "train.epochs=2",
                                               "train.progress=false", "train.tensorboard=false"])
    sset = build_series(frame, time_col="date", target=["y"])
    sized, _ = resolve_sizes(cfg, sset)
    assert (sized.window.input_len, sized.window.horizon) == (52, 13)
    history = pipeline._prepare(sized, sset)[4]
    assert not room_for_seasonal_base(sized, history, 52)
    assert candidates(sized, history) == ["level", "level_deseason", "guided", "level_log", "level_log_deseason"]
    result = pipeline.train(cfg, tmp_path / "run", echo=lambda *a: None)
    assert "seasonal" not in result["transform"]["scores"] and len(result["transform"]["scores"]) == 5
    # one training origin is enough (107 points before the first origin, 13 of them validation)
    for L, room in [(40, True), (41, True), (42, False)]:
        sized = resolve_sizes(resolve_config(path=path, overrides=["data.target=y", f"window.input_len={L}"]), sset)[0]
        assert room_for_seasonal_base(sized, pipeline._prepare(sized, sset)[4], 52) is room, L
