"""Point and interval accuracy, per series and overall, on the original scale of the data.

For actuals y_i and forecasts f_i (i over every forecast step of every origin), interval [l_i, u_i]::

    MAE   = mean |y - f|                    RMSE = sqrt(mean (y - f)^2)
    sMAPE = 100 * mean 2|y - f| / (|y| + |f|)     (a term with y = f = 0 counts 0)
    MASE  = MAE / s,   s = mean_{t >= m} |y_t - y_{t-m}| over the series' training history
            (the in-sample error of the seasonal naive forecast, m = season length; m = 1 when the
            history is shorter than 2m)
    coverage = mean 1[l <= y <= u]          width = mean (u - l)

Overall: MASE is the mean of the series' MASE (every series has the same number of forecast
steps, so this is also the mean scaled error); sMAPE and coverage are pooled over all steps; MAE,
RMSE and width are pooled too, so with several series they mix units (as in the M4 tables).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["coverage", "mae", "mase", "mase_scale", "rmse", "smape", "summarize"]


def mae(y, f) -> float:
    return float(np.mean(np.abs(np.asarray(y, float) - np.asarray(f, float))))


def rmse(y, f) -> float:
    return float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(f, float)) ** 2)))


def smape(y, f) -> float:
    y, f = np.asarray(y, float), np.asarray(f, float)
    denom = np.abs(y) + np.abs(f)
    terms = np.where(denom == 0, 0.0, 2 * np.abs(y - f) / np.where(denom == 0, 1.0, denom))
    return float(100 * np.mean(terms))


def mase_scale(history, m: int) -> float:
    """In-sample MAE of the seasonal naive forecast ``y_t = y_{t-m}`` on ``history``."""
    h = np.asarray(history, float)
    if len(h) < 2 * m:
        m = 1
    if len(h) < 2:
        raise ValueError("MASE needs at least two points of history")
    return float(np.mean(np.abs(h[m:] - h[:-m])))


def mase(y, f, scale: float) -> float:
    return mae(y, f) / scale if scale > 0 else float("nan")


def coverage(y, lo, hi) -> float:
    y = np.asarray(y, float)
    return float(np.mean((np.asarray(lo, float) <= y) & (y <= np.asarray(hi, float))))


def _row(g: pd.DataFrame, scale: float | None) -> dict:
    y, f = g["actual"].to_numpy(), g["point"].to_numpy()
    return {"MAE": mae(y, f), "RMSE": rmse(y, f), "sMAPE": smape(y, f),
            "MASE": mase(y, f, scale) if scale is not None else float("nan"),
            "coverage": coverage(y, g["lo"], g["hi"]), "width": float(np.mean(g["hi"] - g["lo"])),
            "n": len(g)}


def summarize(forecasts: pd.DataFrame, scales: dict[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-series and overall metrics of a backtest table.

    ``forecasts`` has columns model, series, actual, point, lo, hi (one row per forecast step);
    ``scales`` maps each series to its MASE scale. Returns (per_series, overall), one row per
    model (and series), models in order of first appearance. The overall MASE is the mean over the
    series that have one (a series constant in its history has no scale).
    """
    models = list(dict.fromkeys(forecasts["model"]))
    per, overall = [], []
    for model in models:
        fm = forecasts[forecasts["model"] == model]
        rows = []
        for name, g in fm.groupby("series", sort=False):
            rows.append({"model": model, "series": name, **_row(g, scales.get(name))})
        per += rows
        total = _row(fm, None)
        defined = [r["MASE"] for r in rows if np.isfinite(r["MASE"])]  # a series constant in its history has none
        total["MASE"] = float(np.mean(defined)) if defined else float("nan")
        overall.append({"model": model, **total})
    return pd.DataFrame(per), pd.DataFrame(overall)
