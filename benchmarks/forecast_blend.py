"""What each fixed share of the guide would have scored, against ``model.guide_blend=auto``.

Every series of a panel (as ``benchmarks/forecast_panel.py`` loads them) is trained once through
``rnnkit.apps.forecast.pipeline.train`` with default settings; the saved run is then backtested
again on the same origins with the guide's share fixed at each w of ``rnnkit.apps.forecast.blend.GRID``
(the same trained networks, only the mix ``(1 - w) network + w guide`` changes) and with ``auto``.
Prints the MASE per series and the mean. (A run with ``model.guide_blend=W`` instead is a different
experiment: with a share fixed, the treatments are also ranked on blended validation forecasts.)

    python benchmarks/forecast_blend.py --panel dev
    python benchmarks/forecast_blend.py --panel dev --series qgas,auscafe
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import markdown_table
from forecast_panel import PANELS, load


def parse(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--panel", choices=sorted(PANELS), default="dev")
    ap.add_argument("--series", default="", help="comma-separated names: only these")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("overrides", nargs="*", help="config overrides (key=value) for every run")
    return ap.parse_args(argv)


def rescore(run_dir: Path) -> dict[str, float]:
    """MASE of a saved run's backtest with each fixed share and with ``auto`` (baselines reused)."""
    from rnnkit.apps.forecast.blend import GRID
    from rnnkit.apps.forecast.datasets import load_series
    from rnnkit.apps.forecast.pipeline import _scored, backtest, load_run

    cfg, nf = load_run(run_dir)
    sset, _ = _scored(cfg, load_series(cfg.data))
    stored = pd.read_csv(run_dir / "backtest_forecasts.csv")
    baselines = stored[stored.model != nf.name]
    out = {}
    for w in (*GRID, "auto"):
        nf.blend = w
        _, _, overall, _, _ = backtest(cfg, nf, sset, echo=lambda *a: None, baseline_rows=baselines)
        out[f"w={w:g}" if w != "auto" else "auto"] = float(overall.iloc[0]["MASE"])
    return out


def main(argv=None) -> int:
    args = parse(argv)
    import torch

    torch.set_num_threads(args.threads)
    from rnnkit.apps.forecast import pipeline, resolve_config

    picks = [p for p in PANELS[args.panel] if not args.series or p[1] in args.series.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for source, name, freq in picks:
            path = Path(tmp) / f"{name}.csv"
            load(source, name, freq).to_csv(path, index=False)
            cfg = resolve_config(path=str(path), overrides=["data.target=value", "train.progress=false",
                                                            "train.tensorboard=false", "baselines.models=naive",
                                                            *args.overrides])
            pipeline.train(cfg, Path(tmp) / f"run-{name}", echo=lambda *a: None)
            rows.append({"series": name, **rescore(Path(tmp) / f"run-{name}")})
            print(f"done {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in rows[-1].items() if k != "series"),
                  file=sys.stderr, flush=True)
    table = pd.DataFrame(rows).set_index("series")
    table.loc["mean MASE"] = table.mean()
    print(f"panel {args.panel}: the same trained runs, backtested with the guide's share fixed at w and with auto")
    print()
    print(markdown_table(["series", *table.columns], [[name, *(f"{v:.3f}" for v in r)] for name, r in table.iterrows()]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
