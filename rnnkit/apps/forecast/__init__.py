"""Time-series forecasting with recurrent networks: data, windows, models, backtests, baselines.

Python API::

    from rnnkit.apps.forecast import resolve_config, train, evaluate, predict
    cfg = resolve_config("sunspots", overrides=["model.cell=gru"])
    result = train(cfg, "runs/sunspots")          # RNN vs naive/seasonal naive/ETS/ARIMA, same windows
    predict("runs/sunspots")                       # next H steps with intervals, as a DataFrame

Command line: ``rnnkit forecast train|evaluate|predict`` (see docs/forecasting.md).
"""

from .backtest import LeakError, hide_future, plan_backtest, run_backtest
from .baselines import ARIMA, ETS, Naive, SeasonalNaive
from .config import DATASET_DEFAULTS, PRESETS, ForecastConfig, resolve_config
from .data import Series, SeriesSet, build_series, read_table
from .datasets import load_builtin, load_series
from .features import Encoder
from .losses import Gaussian, Quantile, StudentT
from .metrics import coverage, mae, mase, mase_scale, rmse, smape, summarize
from .models import ForecastNet, rollout
from .neural import NeuralForecaster
from .pipeline import evaluate, load_run, predict, train
from .scaling import Scale, fit_scale
from .windows import Layout, Windows, build_windows

__all__ = [
    "ARIMA",
    "DATASET_DEFAULTS",
    "ETS",
    "PRESETS",
    "Encoder",
    "ForecastConfig",
    "ForecastNet",
    "Gaussian",
    "Layout",
    "LeakError",
    "Naive",
    "NeuralForecaster",
    "Quantile",
    "Scale",
    "SeasonalNaive",
    "Series",
    "SeriesSet",
    "StudentT",
    "Windows",
    "build_series",
    "build_windows",
    "coverage",
    "evaluate",
    "fit_scale",
    "hide_future",
    "load_builtin",
    "load_run",
    "load_series",
    "mae",
    "mase",
    "mase_scale",
    "plan_backtest",
    "predict",
    "read_table",
    "resolve_config",
    "rmse",
    "rollout",
    "run_backtest",
    "smape",
    "summarize",
    "train",
]
