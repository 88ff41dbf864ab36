"""The RNN's intervals with and without the floor from its training windows (``backtest.interval_floor``).

Every series of a panel (as ``benchmarks/forecast_panel.py`` loads them; ``--walks``: six seeded
synthetic series instead, four random walks, a GARCH(1,1) walk and an AR(1) with coefficient 0.97)
is trained once through ``rnnkit.apps.forecast.pipeline.train`` with default settings; the saved
run is then backtested again on the same origins with the interval factors set to 1 (the network's
own interval) and to :meth:`rnnkit.apps.forecast.intervals.Intervals.training_floor`'s (the default).
The point forecasts are the same in both. Prints per series the MASE, the 80% coverage and the
scaled interval score of both, and the naive forecast's coverage and score from the same run:

    MSIS = mean over the backtest's points of (hi - lo + 2/a (lo - y)+ + 2/a (y - hi)+) / s,  a = 0.2

with s the mean absolute one-step change of the series' history before its first origin (the M4
competition's interval score, scaled by the lag-1 naive error for every frequency). Lower is better:
width is paid for, and so is every miss, in proportion to its distance.

    python benchmarks/forecast_interval_floor.py --panel dev
    python benchmarks/forecast_interval_floor.py --walks
    python benchmarks/forecast_interval_floor.py --runs runs/*   # folders of `rnnkit train forecast`
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import markdown_table
from forecast_panel import PANELS, load

ALPHA = 0.2  # the 80% interval


def walks() -> list[tuple[str, pd.DataFrame]]:
    """Six seeded synthetic series as integer steps (their names say kind and length)."""
    out = []
    for k, (n, kind) in enumerate([(120, "rw"), (250, "rw"), (500, "rw"), (250, "rwdrift"), (300, "garch"),
                                   (500, "ar1")]):
        rng = np.random.default_rng(100 + k)
        e = rng.normal(size=n)
        if kind == "garch":  # volatility clustering: s2_t = 0.05 + 0.1 x_{t-1}^2 + 0.85 s2_{t-1}
            s2, x = np.ones(n), np.zeros(n)
            for t in range(1, n):
                s2[t] = 0.05 + 0.1 * x[t - 1] ** 2 + 0.85 * s2[t - 1]
                x[t] = np.sqrt(s2[t]) * e[t]
            e = x
        if kind == "ar1":
            y = np.zeros(n)
            for t in range(1, n):
                y[t] = 0.97 * y[t - 1] + e[t]
        else:
            y = np.cumsum(e + (0.3 if kind == "rwdrift" else 0.0))
        out.append((f"{kind}{n}", pd.DataFrame({"t": np.arange(n), "value": 50 + y})))
    return out


def msis(rows: pd.DataFrame, scale: dict[str, float]) -> float:
    lo, hi, y = rows["lo"].to_numpy(), rows["hi"].to_numpy(), rows["actual"].to_numpy()
    score = (hi - lo) + 2 / ALPHA * np.maximum(lo - y, 0) + 2 / ALPHA * np.maximum(y - hi, 0)
    return float(np.mean(score / rows["series"].map(scale).to_numpy()))


def coverage(rows: pd.DataFrame) -> float:
    return float(np.mean((rows["actual"] >= rows["lo"]) & (rows["actual"] <= rows["hi"])))


def rescore(run_dir: Path) -> dict[str, float]:
    """A saved run's backtest with the interval factors at 1 and at the training floor."""
    from rnnkit.apps.forecast.datasets import load_series
    from rnnkit.apps.forecast.pipeline import _prepare, _scored, backtest, load_run

    cfg, nf = load_run(run_dir)
    sset, _ = _scored(cfg, load_series(cfg.data))
    _, _, history, _, _ = _prepare(cfg, sset)
    scale = {s.name: float(np.nanmean(np.abs(np.diff(s.target)))) for s in history.series}
    stored = pd.read_csv(run_dir / "backtest_forecasts.csv")
    baselines = stored[stored.model != nf.name]
    out = {}
    floor = nf.training_floor(history, cfg.backtest.interval)
    for tag, factors in (("own", 1.0), ("floor", floor)):
        nf.calibration = factors
        forecasts, _, overall, _, _ = backtest(cfg, nf, sset, echo=lambda *a: None, baseline_rows=baselines)
        rnn = forecasts[forecasts.model == nf.name]
        out.update({f"MASE {tag}": float(overall.iloc[0]["MASE"]), f"coverage {tag}": coverage(rnn),
                    f"MSIS {tag}": msis(rnn, scale)})
    naive = forecasts[forecasts.model == "naive"]
    out.update({"largest factor": max(floor), "naive coverage": coverage(naive), "naive MSIS": msis(naive, scale)})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--panel", choices=sorted(PANELS), default="dev")
    ap.add_argument("--walks", action="store_true", help="the six seeded synthetic series instead of a panel")
    ap.add_argument("--runs", nargs="+", type=Path, default=[],
                    help="rescore these run folders (trained with the naive baseline among others) instead")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("overrides", nargs="*", help="config overrides (key=value) for every run")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    from rnnkit.apps.forecast import pipeline, resolve_config

    rows = [{"series": run.name, **rescore(run)} for run in args.runs]
    frames = [] if args.runs else walks() if args.walks else [(name, load(source, name, freq))
                                                              for source, name, freq in PANELS[args.panel]]
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in frames:
            path = Path(tmp) / f"{name}.csv"
            frame.to_csv(path, index=False)
            time = ["data.time_col=t"] if args.walks else []
            cfg = resolve_config(path=str(path), overrides=[*time, "data.target=value", "train.progress=false",
                                                            "train.tensorboard=false", "baselines.models=naive",
                                                            *args.overrides])
            pipeline.train(cfg, Path(tmp) / f"run-{name}", echo=lambda *a: None)
            rows.append({"series": name, **rescore(Path(tmp) / f"run-{name}")})
            print(f"done {name}", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows).set_index("series")
    table.loc["mean"] = table.mean()
    what = "run folders" if args.runs else "seeded walks" if args.walks else f"panel {args.panel}"
    print(f"{what}: the same trained runs, the RNN's interval as "
          "the network gives it (own) and with the training floor (floor)")
    print()
    print(markdown_table(["series", *table.columns], [[name, *(f"{v:.3f}" for v in r)] for name, r in table.iterrows()]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
