"""``rnnkit forecast``: train, evaluate and predict time-series forecasters.

    rnnkit forecast train --dataset sunspots [--preset tiny] [--run-dir DIR] [key=value ...]
    rnnkit forecast train --data sales.csv --time-col date --id-col store --target sales \\
                          --future promo --past temperature --static region --horizon 14
    rnnkit forecast evaluate RUN [--refit-baselines]
    rnnkit forecast predict RUN [--data PATH] [--future PATH] [--output forecasts.csv] [--use-backtest-model]

Flags are shortcuts for config keys (``--horizon 14`` is ``window.horizon=14``); any other key of
:class:`rnnkit.forecast.config.ForecastConfig` is set with ``key=value`` (``model.cell=gru``).
"""

from __future__ import annotations

import json
from pathlib import Path

from rnnkit import config as C

# flag -> config key; list-valued keys take comma-separated values
_SHORTCUTS = {
    "time_col": "data.time_col", "id_col": "data.id_col", "target": "data.target",
    "past": "data.past_covariates", "future_cov": "data.future_covariates", "static": "data.static_covariates",
    "freq": "data.freq", "horizon": "window.horizon", "input_len": "window.input_len",
}


def register(subparsers) -> None:
    p = subparsers.add_parser("forecast", help="time-series forecasting: train, evaluate, predict",
                              description=__doc__.split("\n\n")[0])
    actions = p.add_subparsers(dest="action", required=True)

    t = actions.add_parser("train", help="train on a built-in dataset or your CSV/Parquet file, backtest "
                                         "against the baselines, write a report")
    src = t.add_mutually_exclusive_group()
    src.add_argument("--dataset", default=None, help="built-in dataset: sunspots, elnino, macrodata")
    src.add_argument("--data", default=None, help="your CSV or Parquet file")
    t.add_argument("--time-col", dest="time_col", default=None, help="time column (dates or integer steps)")
    t.add_argument("--id-col", dest="id_col", default=None, help="series id column (long format)")
    t.add_argument("--target", default=None, help="target column(s), comma separated")
    t.add_argument("--past", default=None, help="past covariate columns, comma separated")
    t.add_argument("--future", dest="future_cov", default=None, help="known-future covariate columns, comma separated")
    t.add_argument("--static", default=None, help="static covariate columns, comma separated")
    t.add_argument("--freq", default=None, help="pandas frequency (D, W, MS, QS, h ...); inferred by default")
    t.add_argument("--horizon", default=None, help="steps to forecast")
    t.add_argument("--input-len", dest="input_len", default=None, help="steps the model reads")
    t.add_argument("--preset", default=None, help="named settings (tiny)")
    t.add_argument("--run-dir", default=None, help="run folder (default runs/forecast-TIMESTAMP)")
    t.add_argument("--resume", action="store_true", help="continue training the run in --run-dir")
    t.add_argument("--print-config", action="store_true", help="print the resolved config and exit")

    e = actions.add_parser("evaluate", help="backtest a saved run again and print the table")
    e.add_argument("run", help="run folder")
    e.add_argument("--refit-baselines", action="store_true",
                   help="fit the baselines again even when the data is unchanged since training")

    r = actions.add_parser("predict", help="forecast the steps after the end of the data")
    r.add_argument("run", help="run folder")
    r.add_argument("--data", default=None, help="data file (default: the run's data)")
    r.add_argument("--future", default=None, help="file of future rows with the known-future covariates")
    r.add_argument("--output", default=None, help="write the forecasts to this CSV file")
    r.add_argument("--use-backtest-model", action="store_true",
                   help="forecast with the saved model (trained before the first backtest origin) instead of "
                        "training the run's configuration again on the data up to its end (the default)")
    p.set_defaults(func=run)


def run(args, rest: list[str]) -> int:
    overrides = C.parse_override_args(rest)
    if args.action == "train":
        return _train(args, overrides)
    if overrides:
        raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
    if args.action == "evaluate":
        return _evaluate(args)
    return _predict(args)


def _train(args, overrides: list[str]) -> int:
    from rnnkit.forecast import pipeline
    from rnnkit.forecast.config import resolve_config
    from rnnkit.tasks.runs import default_run_dir

    shortcuts = [f"{key}={getattr(args, flag)}" for flag, key in _SHORTCUTS.items() if getattr(args, flag) is not None]
    if args.data is None and any(getattr(args, f) is not None for f in ("time_col", "id_col", "past", "future_cov", "static")):
        raise C.ConfigError("--time-col/--id-col/--past/--future/--static describe your own file: give it with --data")
    cfg = resolve_config(args.dataset, args.data, args.preset, [*shortcuts, *overrides])
    if args.print_config:
        print(json.dumps(C.to_dict(cfg), indent=2))
        return 0
    if args.data is not None and not cfg.data.target:
        raise C.ConfigError("name the target column(s) of your file with --target COLUMN")
    if args.resume and args.run_dir is None:
        raise C.ConfigError("--resume needs --run-dir naming the run to continue")
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir("forecast")
    print(f"run folder: {run_dir}")
    result = pipeline.train(cfg, run_dir, resume=args.resume)
    print("\n".join(pipeline.summary_lines(result)))
    print(f"report: {run_dir / 'report.md'}")
    return 0


def _evaluate(args) -> int:
    from rnnkit.forecast import pipeline

    print(pipeline.evaluate(args.run, refit_baselines=args.refit_baselines)["table"])
    return 0


def _predict(args) -> int:
    from rnnkit.forecast import pipeline

    out = pipeline.predict(args.run, data=args.data, future=args.future, output=args.output,
                           use_backtest_model=args.use_backtest_model)
    print(out.to_string(index=False))
    if args.output:
        print(f"written to {args.output}")
    return 0
