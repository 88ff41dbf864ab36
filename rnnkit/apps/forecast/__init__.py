"""Time-series forecasting with recurrent networks: data, windows, models, backtests, baselines.

Python API::

    from rnnkit.apps.forecast import resolve_config, train, evaluate, predict
    cfg = resolve_config("sunspots", overrides=["model.cell=gru"])
    result = train(cfg, "runs/sunspots")          # RNN vs naive/seasonal naive/ETS/ARIMA, same windows
    predict("runs/sunspots")                       # next H steps with intervals, as a DataFrame

Command line: ``rnnkit forecast train|evaluate|predict`` (see docs/forecasting.md).
"""

# Each name is imported from its module on first use (PEP 562), so that importing a submodule
# (``rnnkit.apps.forecast.cli``, which ``rnnkit --help`` imports with every other app's cli module)
# does not import pandas, pyarrow and statsforecast: about a second of that command's 5-6 s.
_HOMES = {
    **dict.fromkeys(["LeakError", "hide_future", "plan_backtest", "run_backtest"], ".backtest"),
    **dict.fromkeys(["ARIMA", "ETS", "Naive", "SeasonalNaive"], ".baselines"),
    **dict.fromkeys(["DATASET_DEFAULTS", "PRESETS", "ForecastConfig", "resolve_config"], ".config"),
    **dict.fromkeys(["Series", "SeriesSet", "build_series", "read_table"], ".data"),
    **dict.fromkeys(["load_builtin", "load_series"], ".datasets"),
    **dict.fromkeys(["Encoder"], ".features"),
    **dict.fromkeys(["Gaussian", "Quantile", "StudentT"], ".losses"),
    **dict.fromkeys(["coverage", "mae", "mase", "mase_scale", "rmse", "smape", "summarize"], ".metrics"),
    **dict.fromkeys(["ForecastNet", "rollout"], ".models"),
    **dict.fromkeys(["NeuralForecaster"], ".neural"),
    **dict.fromkeys(["evaluate", "load_run", "predict", "train"], ".pipeline"),
    **dict.fromkeys(["Scale", "fit_scale"], ".scaling"),
    **dict.fromkeys(["Layout", "Windows", "build_windows"], ".windows"),
}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(home, __name__), name)
    globals()[name] = value  # found here from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


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
