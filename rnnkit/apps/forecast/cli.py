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
    t.add_argument("--id-col", dest="id_col", default=None, help="series id column (long format)")
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
    if args.data is not None and (not cfg.data.target or cfg.data.id_col is None or args.time_col is None):
        from rnnkit.apps.forecast.data import read_table

        table = read_table(cfg.data.path)
        _check_header(table)
        found = []
        if args.time_col is None and not any(str(c).strip().casefold() == str(cfg.data.time_col).casefold()
                                             for c in table.columns):
            time_col = _time_column(table, cfg.data)
            if time_col is not None:
                cfg = C.apply_overrides(cfg, [f"data.time_col={time_col}"])
                found.append(f"data.time_col={time_col}")
                print(f"time column: {time_col!r} (--time-col names another)", file=sys.stderr)
            elif not _year_parts(table):  # said before the target: without a time column nothing else is sure
                raise C.ConfigError(f"time column {cfg.data.time_col!r} is not in the data; columns are: "
                                    f"{', '.join(map(str, table.columns))} (name the time column with --time-col)")
        if cfg.data.id_col is None:
            id_col = _series_column(table, cfg.data)
            if id_col is not None:
                found.append(f"data.id_col={id_col}")
                print(f"series id: {id_col!r}, the column that tells the series apart (each time appears once per "
                      f"{id_col}; --id-col names another)", file=sys.stderr)  # stderr: --print-config's stdout is JSON
        if not cfg.data.target:
            target = _only_numeric_column(table, cfg.data)
            found.append(f"data.target={target}")
            print(f"target: {target!r}, the file's only numeric column besides the time (--target names another)",
                  file=sys.stderr)
        cfg = C.apply_overrides(cfg, found) if found else cfg
    return cfg


# the names tables give their time column, besides the default "date"
_TIME_NAMES = {"time", "datetime", "timestamp", "ds", "period", "year", "month", "week", "quarter", "day", "t",
               "step", "date_time", "fecha", "datum", "jahr", "annee", "année", "observation_date"}


def _time_column(table, data) -> str | None:
    """A file without the default time column (``date``) and no ``--time-col``: its one column
    named as time columns are (``year``, ``time``, ``ds``, ``timestamp`` ...) or, failing that, its
    one column of text dates; None when there are none or several (the reader's error then names
    the columns). Year and month columns that make the dates together are left to the reader."""
    from rnnkit.apps.forecast.data import parses_as_dates
    from rnnkit.apps.forecast.writings import year_parts

    if year_parts(table.columns) is not None:
        return None
    named = [c for c in table.columns if isinstance(c, str) and c.strip().casefold() in _TIME_NAMES]
    if len(named) == 1:
        return named[0]
    if named:
        return None
    dated = [c for c in table.columns if parses_as_dates(table[c])]
    return str(dated[0]) if len(dated) == 1 else None


def _check_header(table) -> None:
    from rnnkit.apps.forecast.writings import looks_like_data

    if looks_like_data(table.columns):
        raise C.ConfigError(f"the file's first line looks like data, not a header ({', '.join(map(str, table.columns))}): "
                            "add a first line naming the columns (e.g. date,value)")


def _year_parts(table) -> bool:
    from rnnkit.apps.forecast.writings import year_parts

    return year_parts(table.columns) is not None


def _taken(table, data) -> set:
    """The columns a file's config already gives a role (the time, or the year/month columns that
    make it; the id; the covariates and targets)."""
    from rnnkit.apps.forecast.writings import year_parts

    taken = {data.time_col, data.id_col, *(data.target or ()), *(data.past_covariates or ()),
             *(data.future_covariates or ()), *(data.static_covariates or ()),
             *[c.strip() for c in str(data.time_col).split(",")]}
    if data.time_col not in table.columns:
        taken.update(year_parts(table.columns) or ())
    return taken


def _series_column(table, data) -> str | None:
    """A long-format file given without ``--id-col``: the one text column that makes every
    (series, time) pair unique where the times repeat; None when they do not repeat, or when no
    single column (or more than one) does it (the reader's error then asks for it)."""
    from rnnkit.apps.forecast.data import reads_as_numbers
    from rnnkit.apps.forecast.writings import year_parts

    times = [data.time_col] if data.time_col in table.columns else (year_parts(table.columns) or [])
    if not times or not table.duplicated(subset=times).any():
        return None
    taken = _taken(table, data)
    fits = [c for c in table.columns if c not in taken and table[c].notna().all() and not reads_as_numbers(table[c])
            and not table.duplicated(subset=[c, *times]).any()]
    if not fits:
        return None
    # several that split the rows alike (a store and its region, one per store): the leftmost,
    # where tables keep their key; different splits are a choice left to the user
    split = table.groupby(fits[0], sort=False).ngroup().to_numpy()
    same = all((table.groupby(c, sort=False).ngroup().to_numpy() == split).all() for c in fits[1:])
    return str(fits[0]) if same else None


def _only_numeric_column(table, data) -> str:
    """The target of a file given without ``--target``: its one numeric column that has no other
    role; an error naming the candidates when there are none or several."""
    from rnnkit.apps.forecast.data import reads_as_numbers

    taken = _taken(table, data)
    numeric = [c for c in table.columns if c not in taken and reads_as_numbers(table[c])]
    if len(numeric) == 1:
        return str(numeric[0])
    listed = f": its numeric columns are {', '.join(map(str, numeric))}" if numeric else ""
    raise C.ConfigError(f"name the target column(s) of your file with --target COLUMN{listed}"
                        + (f" (--target {','.join(map(str, numeric))} forecasts each)" if len(numeric) > 1 else ""))


def add_evaluate_args(e) -> None:
    e.add_argument("--refit-baselines", action="store_true",
                   help="fit the baselines again even when the data is unchanged since training")


def evaluate(args) -> int:
    return _evaluate(args)


def add_predict_args(r) -> None:
    r.add_argument("--data", default=None, help="data file (default: the run's data)")
    r.add_argument("--future", default=None, help="file of future rows with the known-future covariates")
    r.add_argument("--output", default=None, help="write the forecasts to this CSV file")
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
        print(f"written to {args.output}")
    return 0
