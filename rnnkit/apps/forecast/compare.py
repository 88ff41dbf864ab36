"""Is a MASE difference between two models real? The Diebold-Mariano test on a backtest table.

A backtest of K origins per series gives each model one scaled absolute error per forecast step.
For models A and B, the loss differential of origin k (the k-th origin of every series, averaged
over series s and steps j, with s's MASE scale)::

    d_k = mean_{s, j} (|y - f_A| - |y - f_B|) / scale_s           k = 1..K
    mean(d) = MASE_A - MASE_B        (the overall MASE is the mean of the series' MASE, and every
                                      series has the same steps per origin)

Forecasts from origins closer than the horizon share target steps, so d_k is autocorrelated up to
lag L = ceil(horizon / stride) - 1. Its long-run variance is the Newey-West estimate (Bartlett
weights, L lags)::

    g_l = (1/K) sum_{k > l} (d_k - mean d)(d_{k-l} - mean d);   V = g_0 + 2 sum_{l=1..L} (1 - l/(L+1)) g_l
    DM  = mean(d) / sqrt(V / K) * c,   c = sqrt((K + 1 - 2h + h(h-1)/K) / K),  h = L + 1

c is the Harvey-Leybourne-Newbold small-sample correction, and the p-value (two-sided) is from
Student's t with K - 1 degrees of freedom. With 20 origins only large differences are
significant: the test says whether a ranking in the table would likely hold on other origins.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["compare_to_baselines", "diebold_mariano"]


def _origin_differentials(forecasts: pd.DataFrame, scales: dict[str, float], a: str, b: str) -> np.ndarray:
    """d_k of the module docstring, k over origins in time order."""
    keys = ["series", "origin", "step"]
    fa = forecasts[forecasts["model"] == a].set_index(keys)
    fb = forecasts[forecasts["model"] == b].set_index(keys)
    for name, f in ((a, fa), (b, fb)):
        if f.empty:
            raise ValueError(f"no forecasts of model {name!r} in the table (models: "
                             f"{list(dict.fromkeys(forecasts['model']))})")
    if not fa.index.sort_values().equals(fb.index.sort_values()):
        raise ValueError(f"models {a!r} and {b!r} were not forecast on the same series, origins and steps")
    fb = fb.loc[fa.index]
    scale = fa.index.get_level_values("series").map(scales).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = (np.abs(fa["actual"] - fa["point"]).to_numpy()
                - np.abs(fb["actual"] - fb["point"]).to_numpy()) / scale
    table = pd.DataFrame({"series": fa.index.get_level_values("series"),
                          "origin": fa.index.get_level_values("origin"), "d": diff})
    table = table[np.isfinite(scale) & (scale > 0)]  # a series constant in its history has no MASE (as in the means)
    # the k-th origin of each series (series may end at different times): rank within the series
    table["k"] = table.groupby("series")["origin"].rank(method="dense").astype(int)
    per_series = table.groupby(["k", "series"])["d"].mean()  # each series' mean over its steps
    return per_series.groupby(level="k").mean().sort_index().to_numpy()


def diebold_mariano(forecasts: pd.DataFrame, scales: dict[str, float], a: str, b: str,
                    horizon: int, stride: int) -> dict:
    """The test of the module docstring for models ``a`` and ``b`` of a backtest table (columns
    model, series, origin, step, actual, point). Returns ``{"a", "b", "mase_diff", "dm", "p",
    "origins", "lags"}``; dm and p are NaN with fewer than 3 origins or no variation in d."""
    from scipy import stats

    d = _origin_differentials(forecasts, scales, a, b)
    K = len(d)
    lags = max(0, math.ceil(horizon / stride) - 1)
    out = {"a": a, "b": b, "mase_diff": float(d.mean()) if K else float("nan"), "dm": float("nan"),
           "p": float("nan"), "origins": K, "lags": lags}
    if K < 3:
        return out
    c = d - d.mean()
    L = min(lags, K - 1)
    v = float(c @ c) / K + 2 * sum((1 - l / (L + 1)) * float(c[l:] @ c[:-l]) / K for l in range(1, L + 1))
    if v <= 0:
        return out
    h = L + 1
    hln = math.sqrt(max(K + 1 - 2 * h + h * (h - 1) / K, 0.0) / K)
    dm = float(d.mean() / math.sqrt(v / K) * hln)
    out.update(dm=dm, p=float(2 * stats.t.sf(abs(dm), df=K - 1)))
    return out


def compare_to_baselines(forecasts: pd.DataFrame, scales: dict[str, float], horizon: int, stride: int) -> list[dict]:
    """The first model of the table (the RNN) against every other, in table order."""
    models = list(dict.fromkeys(forecasts["model"]))
    return [diebold_mariano(forecasts, scales, models[0], m, horizon, stride) for m in models[1:]]
