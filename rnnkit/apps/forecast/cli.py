"""Forecasting from the command line: train, evaluate and predict time-series forecasters.

    rnnkit train forecast --dataset sunspots [--preset tiny] [--run-dir DIR] [key=value ...]
    rnnkit train forecast --data sales.csv --time-col date --id-col store --target sales \\
                          --future promo --past temperature --static region --horizon 14
    rnnkit evaluate RUN [--refit-baselines]
    rnnkit predict RUN [--data PATH] [--future PATH] [--output forecasts.csv] [--use-backtest-model]

Flags are shortcuts for config keys (``--horizon 14`` is ``window.horizon=14``); any other key of
:class:`rnnkit.apps.forecast.config.ForecastConfig` is set with ``key=value`` (``model.cell=gru``).
"""

from __future__ import annotations

import sys

from rnnkit import config as C

# flag -> config key; list-valued keys take comma-separated values
_SHORTCUTS = {
    "time_col": "data.time_col", "id_col": "data.id_col", "target": "data.target",
    "past": "data.past_covariates", "future_cov": "data.future_covariates", "static": "data.static_covariates",
    "freq": "data.freq", "horizon": "window.horizon", "input_len": "window.input_len",
}


def add_train_args(t) -> None:
    t.add_argument("--dataset", default=None, help="built-in dataset: sunspots, elnino, macrodata")
    t.add_argument("--time-col", dest="time_col", default=None,
                   help="time column (dates or integer steps), or year,month columns")
    t.add_argument("--id-col", dest="id_col", default=None,
                   help="series id column (long format); two joined by a comma (store,item) name a series per pair")
    t.add_argument("--target", default=None,
                   help="target column(s), comma separated (default: the file's only numeric column)")
    t.add_argument("--past", default=None, help="past covariate columns, comma separated")
    t.add_argument("--future", dest="future_cov", default=None, help="known-future covariate columns, comma separated")
    t.add_argument("--static", default=None, help="static covariate columns, comma separated")
    t.add_argument("--freq", default=None, help="pandas frequency (D, W, MS, QS, h ...); inferred by default")
    t.add_argument("--horizon", default=None, help="steps to forecast")
    t.add_argument("--input-len", dest="input_len", default=None, help="steps the model reads")


def train_overrides(args) -> list[str]:
    if args.data is None and any(getattr(args, f) is not None for f in ("time_col", "id_col", "past", "future_cov", "static")):
        raise C.ConfigError("--time-col/--id-col/--past/--future/--static describe your own file: give it with --data")
    if args.data is not None and args.dataset is not None:
        raise C.ConfigError("give either --dataset (a built-in series) or --data (your file), not both")
    return [f"{key}={getattr(args, flag)}" for flag, key in _SHORTCUTS.items() if getattr(args, flag) is not None]


def resolve_config(args, overrides: list[str]):
    """A new run's config: defaults, the built-in dataset's settings, preset, then the overrides."""
    from rnnkit.apps.forecast.config import resolve_config as resolve

    cfg = resolve(args.dataset, args.data, args.preset, overrides)
    if args.data is not None:
        from rnnkit.apps.forecast.roles import find_roles

        found, said = find_roles(cfg.data, time_given=args.time_col is not None)
        for line in said:  # on stderr: --print-config's stdout stays one JSON document
            print(line, file=sys.stderr)
        cfg = C.apply_overrides(cfg, found) if found else cfg
    return cfg


def add_evaluate_args(e) -> None:
    e.add_argument("--refit-baselines", action="store_true",
                   help="fit the baselines again even when the data is unchanged since training")


def evaluate(args) -> int:
    return _evaluate(args)


def add_predict_args(r) -> None:
    r.add_argument("--data", default=None, help="data file (default: the run's data)")
    r.add_argument("--future", default=None, help="file of future rows with the known-future covariates")
    r.add_argument("--output", default=None, help="write the forecasts to this CSV file (and a plot of them beside "
                   "it, the same name ending in .png)")
    r.add_argument("--use-backtest-model", action="store_true",
                   help="forecast with the saved model (trained before the first backtest origin) instead of "
                        "training the run's configuration again on the data up to its end (the default)")


def predict(args) -> int:
    return _predict(args)


def _evaluate(args) -> int:
    from rnnkit.apps.forecast import pipeline

    print(pipeline.evaluate(args.run, refit_baselines=args.refit_baselines)["table"])
    return 0


def _predict(args) -> int:
    from rnnkit.apps.forecast import pipeline

    out = pipeline.predict(args.run, data=args.data, future=args.future, output=args.output,
                           use_backtest_model=args.use_backtest_model)
    print(out.to_string(index=False))
    if args.output:
        print(f"written to {args.output} (a picture of it: {pipeline.plot_path(args.output)})")
    return 0
