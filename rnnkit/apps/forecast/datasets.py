"""Built-in real datasets, from the data files bundled with statsmodels (nothing is downloaded).

``load_builtin(name)`` returns a long-format DataFrame and the column roles to read it with:

========== ==================================================================================
sunspots   monthly mean sunspot numbers, Jan 1749 - Jun 2009 (3,126 months, one series), from
           statsmodels' ``datasets/sunspots/src/sunspots_monthly.dat``. Solar cycle ~11 years.
elnino     monthly sea-surface temperature of the El Nino region, 1950-2010 (732 months).
macrodata  US quarterly macro data 1959Q1-2009Q3 (203 quarters). Five series (real GDP,
           consumption, investment, government spending, disposable income), one global model;
           past covariates: unemployment, inflation, 3-month T-bill rate; static: the variable.
           Extra series for ``data.train_only`` (trained on, never scored): the other columns
           cpi, m1, pop, realint, unemp, infl, tbilrate (:data:`MACRO_EXTRA`).
========== ==================================================================================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .data import SeriesSet

__all__ = ["BUILTIN", "DatasetSpec", "load_builtin"]


@dataclass(frozen=True)
class DatasetSpec:
    """Column roles of a built-in dataset (the same roles a user's file declares in DataConfig)."""

    time_col: str
    target: tuple[str, ...]
    id_col: str | None = None
    past_covariates: tuple[str, ...] = ()
    future_covariates: tuple[str, ...] = ()
    static_covariates: tuple[str, ...] = ()
    freq: str | None = None
    extra: tuple[str, ...] = ()  # series that may be added for training only (data.train_only)


def _statsmodels():
    try:
        import statsmodels
    except ImportError:  # the forecast extra
        raise ImportError("the built-in forecasting datasets come with statsmodels: "
                          "pip install 'rnnkit[forecast]' (or pip install statsmodels)") from None
    return statsmodels


def _sunspots() -> pd.DataFrame:
    path = Path(_statsmodels().__file__).parent / "datasets" / "sunspots" / "src" / "sunspots_monthly.dat"
    rows = []
    for line in path.read_text(encoding="latin-1").splitlines():
        parts = line.split()
        # data lines are "YEAR v1 ... v12" (the last year is partial); headers and notes are not
        if len(parts) >= 2 and parts[0].isdigit() and len(parts[0]) == 4:
            year = int(parts[0])
            rows += [(pd.Timestamp(year=year, month=m + 1, day=1), float(v)) for m, v in enumerate(parts[1:13])]
    return pd.DataFrame(rows, columns=["date", "sunspots"])


def _elnino() -> pd.DataFrame:
    import statsmodels.api as sm

    wide = sm.datasets.elnino.load_pandas().data
    long = wide.melt(id_vars="YEAR", var_name="month", value_name="sst")
    months = {m: i + 1 for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG",
                                               "SEP", "OCT", "NOV", "DEC"])}
    long["date"] = pd.to_datetime({"year": long["YEAR"].astype(int), "month": long["month"].map(months), "day": 1})
    return long.sort_values("date")[["date", "sst"]].reset_index(drop=True)


MACRO_TARGETS = ("realgdp", "realcons", "realinv", "realgovt", "realdpi")
MACRO_PAST = ("unemp", "infl", "tbilrate")
MACRO_EXTRA = ("cpi", "m1", "pop", "realint", "unemp", "infl", "tbilrate")


def _macrodata(extra: tuple[str, ...] = ()) -> pd.DataFrame:
    import statsmodels.api as sm

    d = sm.datasets.macrodata.load_pandas().data
    dates = pd.to_datetime({"year": d["year"].astype(int), "month": (d["quarter"].astype(int) - 1) * 3 + 1, "day": 1})
    frames = []
    for name in (*MACRO_TARGETS, *extra):
        f = pd.DataFrame({"date": dates, "series": name, "value": d[name].to_numpy(np.float64)})
        for c in MACRO_PAST:
            f[c] = d[c].to_numpy(np.float64)
        f["variable"] = name  # static covariate: which aggregate this series is
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


BUILTIN: dict[str, tuple] = {
    "sunspots": (_sunspots, DatasetSpec("date", ("sunspots",), freq="MS")),
    "elnino": (_elnino, DatasetSpec("date", ("sst",), freq="MS")),
    "macrodata": (_macrodata, DatasetSpec("date", ("value",), id_col="series", past_covariates=MACRO_PAST,
                                          static_covariates=("variable",), freq="QS", extra=MACRO_EXTRA)),
}


def load_builtin(name: str, extra: tuple[str, ...] = ()) -> tuple[pd.DataFrame, DatasetSpec]:
    """The long-format frame of a built-in dataset and its column roles; ``extra``: names of its
    extra series to include as well (for ``data.train_only``)."""
    if name not in BUILTIN:
        raise ValueError(f"unknown built-in dataset {name!r}; available: {', '.join(BUILTIN)}")
    make, spec = BUILTIN[name]
    bad = [e for e in extra if e not in spec.extra]
    if bad:
        raise ValueError(f"data.train_only: {bad} are not extra series of the built-in dataset {name!r}; "
                         f"available: {', '.join(spec.extra) or 'none'}")
    return (make(tuple(extra)) if extra else make()), spec


def load_series(cfg) -> SeriesSet:
    """The :class:`SeriesSet` a :class:`DataConfig` names: a built-in dataset or the user's file.

    For a built-in dataset the column roles come from its spec, except those ``cfg`` sets (not
    None). The user's file needs at least ``target`` (and ``time_col``).
    """
    from .data import build_series, read_table

    train_only = tuple(dict.fromkeys(cfg.train_only or ()))
    read_notes = []
    if cfg.path:
        df = read_table(cfg.path, cfg.sheet)
        read_notes = list(df.attrs.get("notes", []))
        roles = {"time_col": cfg.time_col, "target": cfg.target or (), "id_col": cfg.id_col,
                 "past": cfg.past_covariates or (), "future": cfg.future_covariates or (),
                 "static": cfg.static_covariates or (), "freq": cfg.freq}
    else:
        df, spec = load_builtin(cfg.dataset, train_only)
        def pick(given, default):
            return default if given is None else given

        roles = {"time_col": spec.time_col, "target": pick(cfg.target, spec.target), "id_col": spec.id_col,
                 "past": pick(cfg.past_covariates, spec.past_covariates),
                 "future": pick(cfg.future_covariates, spec.future_covariates),
                 "static": pick(cfg.static_covariates, spec.static_covariates), "freq": cfg.freq or spec.freq}
    # data.exclude: names not in this file are ignored (predict's new data)
    sset = build_series(df, missing=cfg.missing, date_format=cfg.date_format, aggregate=cfg.aggregate,
                         year=cfg.year, exclude=cfg.exclude, **roles)
    if read_notes:  # how the file was read comes first
        sset = dataclasses.replace(sset, notes=[*read_notes, *sset.notes])
    train_only = tuple(n for n in train_only if n not in set(cfg.exclude))
    if train_only:
        # checked and split off by the pipeline (backtest.split_train_only)
        sset = dataclasses.replace(sset, train_only=train_only)
    return sset.truncated(cfg.truncate)
