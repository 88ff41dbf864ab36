"""The run folder's report: metrics tables (model vs baselines), forecast plots, the data notes.

Files: ``report.md`` (tables and notes), ``report.json`` (the same numbers), ``backtest_forecasts.csv``
(every forecast step of every model), ``backtest_metrics.csv`` (per series and overall), and
``forecasts.png`` (a few windows: history, actuals, the RNN's median and interval, the best
baseline). The trainer's ``curves.png`` and ``metrics.csv`` hold the training curves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.train import atomic_write_json, atomic_write_text
from rnnkit.train.atomic import atomic_path

from .blend import share_label
from .data import SeriesSet, fmt_time, season_length_for
from .intervals import floor_words

__all__ = ["FAR_MISS", "baselines_far_misses", "comparison_table", "describe_comparison", "fallback_sentence",
           "far_misses", "far_misses_sentence", "markdown_table", "plot_forecasts", "plot_future", "write_report"]

COLUMNS = ["MAE", "RMSE", "sMAPE", "MASE", "coverage", "width"]
# A series whose RNN mean absolute error is this many times the naive forecast's is named in the
# terminal and the report: a mean MASE over a panel can hide a forecast off by orders of magnitude
# (measles series at a few cases a year after the vaccine, forecast at thousands by rnnkit and its
# statistical peers alike: docs/forecasting.md, session 28).
FAR_MISS = 10.0


def markdown_table(overall: pd.DataFrame, level: float) -> str:
    """Overall metrics, one row per model; the lowest MASE in bold."""
    best = overall["MASE"].min()
    head = ["model", "MAE", "RMSE", "sMAPE %", "MASE", f"{level:.0%} coverage", "interval width"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in overall.iterrows():
        mase = f"**{r['MASE']:.3f}**" if r["MASE"] == best else f"{r['MASE']:.3f}"
        lines.append(f"| {r['model']} | {r['MAE']:.4g} | {r['RMSE']:.4g} | {r['sMAPE']:.2f} | {mase} | "
                     f"{r['coverage']:.3f} | {r['width']:.4g} |")
    return "\n".join(lines)


def _no_test_reason(c: dict) -> str:
    """Why a comparison has no test (its p is NaN)."""
    return (f"{c['origins']} origins" if c["origins"] < 3
            else f"{c['origins']} origins, the same difference at every one")


def describe_comparison(c: dict) -> str:
    """One line: the MASE difference and whether the Diebold-Mariano test finds it significant."""
    if c["p"] != c["p"]:  # NaN: too few origins or no variation
        return f"MASE difference {c['mase_diff']:+.3f}; no test ({_no_test_reason(c)})"
    verdict = "significant at 5%" if c["p"] < 0.05 else "not significant at 5%"
    return (f"MASE difference {c['mase_diff']:+.3f}, Diebold-Mariano {c['dm']:+.2f}, p = {c['p']:.3f} "
            f"({verdict}; {c['origins']} origins)")


def comparison_table(comparisons: list[dict]) -> str:
    """The RNN against each baseline (rnnkit/apps/forecast/compare.py): MASE difference, statistic, p."""
    if not comparisons:
        return ""
    lines = [(f"{comparisons[0]['a']} against each baseline (Diebold-Mariano, HAC variance with "
              f"{comparisons[0]['lags']} lag(s), two-sided p; a negative difference favours the RNN)"), "",
             "| baseline | MASE difference | DM | p |", "|---|---|---|---|"]
    for c in comparisons:
        if c["p"] != c["p"]:  # NaN: no test, and the row says why instead of "nan"
            lines.append(f"| {c['b']} | {c['mase_diff']:+.3f} | no test ({_no_test_reason(c)}) | |")
        else:
            lines.append(f"| {c['b']} | {c['mase_diff']:+.3f} | {c['dm']:+.2f} | {c['p']:.3f} |")
    return "\n".join(lines)


def far_misses(per: pd.DataFrame, model: str, factor: float = FAR_MISS) -> list[dict]:
    """The series where ``model``'s MAE is over ``factor`` times the naive forecast's (the seasonal
    naive's when naive is not among the baselines), worst first: ``[{"series", "ratio", "mae",
    "reference", "reference_mae"}]``. Series the reference forecast exactly (MAE 0) are left out:
    no ratio says how far off a forecast is there. Empty without either naive baseline."""
    models = set(per["model"])
    reference = next((b for b in ("naive", "seasonal_naive") if b in models), None)
    if reference is None or model not in models:
        return []
    mae = per.pivot_table(index="series", columns="model", values="MAE", aggfunc="first")
    mine, ref = mae[model], mae[reference]
    keep = (ref > 0) & (mine > factor * ref)
    ratio = (mine[keep] / ref[keep]).sort_values(ascending=False)
    return [{"series": str(name), "ratio": float(r), "mae": float(mine[name]), "reference": reference,
             "reference_mae": float(ref[name])} for name, r in ratio.items()]


def baselines_far_misses(per: pd.DataFrame, rnn: str) -> dict[str, int]:
    """How many series each statistical baseline misses as :func:`far_misses` counts them (the
    naive forecasts, the references, left out): where the RNN misses, whether its peers do too."""
    return {m: len(far_misses(per, m)) for m in dict.fromkeys(per["model"])
            if m != rnn and m not in ("naive", "seasonal_naive")}


def far_misses_sentence(misses: list[dict], n_series: int, shown: int = 5,
                        baselines: dict[str, int] | None = None) -> str:
    """One line naming the far misses (empty string when there are none), with the baselines'
    counts of their own when given."""
    if not misses:
        return ""
    names = ", ".join(f"{m['series']} ({m['ratio']:,.0f}x)" for m in misses[:shown])
    more = f" and {len(misses) - shown} more" if len(misses) > shown else ""
    peers = (f"; the baselines' own: {', '.join(f'{m} {n}' for m, n in baselines.items())}"
             if baselines else "")
    return (f"RNN far off on {len(misses)} of {n_series} series: its MAE over {FAR_MISS:g} times the "
            f"{misses[0]['reference'].replace('_', ' ')} forecast's on {names}{more}{peers} (per series in "
            "report.md; a mean MASE can hide such misses)")


def fallback_sentence(fell: dict[str, list[str]], n_series: int, windows: int | None, shown: int = 5) -> str:
    """One line on the naive fallback (:mod:`.blend`): how many backtest forecasts it took, and where
    (``fell``: series -> the origins' times)."""
    count = sum(len(v) for v in fell.values())
    worst = sorted(fell, key=lambda k: -len(fell[k]))
    where = (", ".join(f"{k} ({len(fell[k])})" for k in worst[:shown])
             + (f" and {len(worst) - shown} more" if len(worst) > shown else "") if n_series > 1
             else "from " + ", ".join(fell[worst[0]]))
    total = f" of {n_series * windows}" if windows else ""
    return (f"naive fallback: {count}{total} backtest forecasts are the naive forecast, where before their origin the "
            f"network and its guide had erred by over model.naive_fallback times naive's: {where}")


def _series_table(per: pd.DataFrame) -> str:
    pivot = per.pivot(index="series", columns="model", values="MASE")[list(dict.fromkeys(per["model"]))]
    lines = ["| series | " + " | ".join(pivot.columns) + " |", "|" + "---|" * (len(pivot.columns) + 1)]
    for name, row in pivot.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    return "\n".join(lines)


def _stacked_panels(n: int, panel_height: float, width: float = 9.0):
    """A figure of ``n`` panels one above the other (``panel_height`` inches each) and its axes.

    Fixed margins rather than ``tight_layout``, which took a third of a plot's time: room on the
    left for tick labels of seven characters at font size 8 (matplotlib writes larger numbers with
    an offset), above each panel for its title and below it for its dates."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = panel_height * n
    left, right, top, bottom, gap = 0.75, 0.15, 0.3, 0.35, 0.6  # inches
    axes_height = (height - top - bottom - (n - 1) * gap) / n
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height,
                        hspace=gap / axes_height)
    return fig, [fig.add_subplot(n, 1, i + 1) for i in range(n)]


def plot_forecasts(path: Path, sset: SeriesSet, forecasts: pd.DataFrame, models: Sequence[str], level: float,
                   windows: int = 3, max_series: int = 3, context: int = 0) -> None:
    """Panels of (series, origin): history, actuals, each model's median and interval band."""
    names = list(dict.fromkeys(forecasts["series"]))[:max_series]
    first = forecasts[forecasts["model"] == models[0]]
    panels = []
    for name in names:
        origins = list(dict.fromkeys(first[first["series"] == name]["origin"]))
        picks = np.unique(np.linspace(0, len(origins) - 1, min(windows, len(origins))).round().astype(int))
        panels += [(name, origins[i]) for i in picks]
    if not panels:
        return
    fig, axes = _stacked_panels(len(panels), 2.6)
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    for ax, (name, origin) in zip(axes, panels):
        s = sset.series[sset.names.index(name)]
        o = int(s.times.get_loc(origin))
        H = int(first["step"].max())
        ctx = context or 3 * H
        lo_i = max(0, o - ctx)
        ax.plot(s.times[lo_i:o + 1], s.target[lo_i:o + 1], color="black", lw=1, label="history")
        ax.plot(s.times[o:o + H], s.target[o:o + H], color="black", lw=1.5, ls="--", marker=".", label="actual")
        for c, model in zip(colors, models):
            f = forecasts[(forecasts["model"] == model) & (forecasts["series"] == name) & (forecasts["origin"] == origin)]
            ax.plot(f["time"], f["point"], color=c, lw=1.5, label=model)
            ax.fill_between(f["time"], f["lo"], f["hi"], color=c, alpha=0.18 if c == colors[0] else 0.08,
                            label=f"{level:.0%} interval ({model})")
        ax.set_title(f"{name}, forecast from {fmt_time(origin)}", fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0].legend(fontsize=7, loc="upper left", ncol=2)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)


def plot_future(path: Path, sset: SeriesSet, future: pd.DataFrame, level: float, max_series: int = 6) -> None:
    """``predict``'s forecasts as a picture: per series (the first ``max_series``) the last
    stretch of its history (four horizons, at least two seasons' worth when there are that many
    points) and the forecast's median and interval band after it. ``future``: the rows
    :func:`.pipeline.predict` returns (series, time, point, lo, hi)."""
    names = [n for n in dict.fromkeys(future["series"]) if n in sset.names][:max_series]
    if not names:
        return
    fig, axes = _stacked_panels(len(names), 2.4)
    for ax, name in zip(axes, names):
        s = sset.series[sset.names.index(name)]
        f = future[future["series"] == name]
        start = max(0, s.length - max(4 * len(f), 2 * season_length_for(sset.freq)))
        ax.plot(s.times[start:s.length], s.target[start:s.length], color="black", lw=1, label="history")
        ax.plot(f["time"], f["point"], color="tab:blue", lw=1.5, marker=".", label="forecast (median)")
        ax.fill_between(f["time"], f["lo"], f["hi"], color="tab:blue", alpha=0.2, label=f"{level:.0%} interval")
        ax.set_title(f"{name}: the next {len(f)} steps", fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0].legend(fontsize=7, loc="upper left")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)


def write_report(run_dir: Path, result: dict, sset: SeriesSet, forecasts: pd.DataFrame, per: pd.DataFrame,
                 overall: pd.DataFrame, level: float, plot_windows: int = 3) -> None:
    run_dir = Path(run_dir)
    with atomic_path(run_dir / "backtest_forecasts.csv") as tmp:
        forecasts.to_csv(tmp, index=False)
    both = pd.concat([per, overall.assign(series="(overall)")], ignore_index=True)
    with atomic_path(run_dir / "backtest_metrics.csv") as tmp:
        both.to_csv(tmp, index=False)
    atomic_write_json(run_dir / "report.json", result)
    models = list(overall["model"])
    best_baseline = min(models[1:], key=lambda m: float(overall.set_index("model").loc[m, "MASE"])) if len(models) > 1 else None
    plot_forecasts(run_dir / "forecasts.png", sset, forecasts, [models[0]] + ([best_baseline] if best_baseline else []),
                   level, windows=plot_windows)
    lines = [
        f"# Forecast backtest: {result['data']}", "",
        (f"{result['windows']} origins per series, {result['stride']} steps apart, horizon {result['horizon']}, "
         f"input length {result['input_len']}; season length m = {result['season_length']} (seasonal naive, "
         "ETS/ARIMA seasonality, MASE scale). Every model sees the same windows and learns only from the "
         "history before the first origin."), "",
        *([_transform_sentence(result["transform"]), ""] if result.get("transform") else []),
        *([_blend_sentence(result["guide_blend"]), ""] if (result.get("guide_blend") or {}).get("at_end") else []),
        "## Overall", "", markdown_table(overall, level), "",
        "## MASE per series", "", _series_table(per), "",
        *([far_misses_sentence(result["far_misses"], len(result["series"]), shown=20,
                               baselines=result.get("far_misses_baselines")), ""]
          if result.get("far_misses") else []),
        *([fallback_sentence(result["naive_fallbacks"], len(result["series"]), result.get("windows"), shown=20), ""]
          if result.get("naive_fallbacks") else []),
        *(["## Is the difference real?", "", comparison_table(result["comparisons"]), ""]
          if result.get("comparisons") else []),
        "## Baseline models chosen", "",
        _refit_sentence(result.get("baseline_refit", "once"), result.get("baseline_max_points", 0),
                        result.get("baseline_arima_max_points", 0)), "",
        *[f"- {name}: {desc}" for name, desc in result.get("baseline_models", {}).items()], "",
        "## Data", "", *([f"- {n}" for n in result.get("notes", [])] or ["- no gaps, no missing values"]), "",
        (f"Training: {'/'.join(map(str, result['epochs']))} epochs, {result['parameters']:,} parameters, "
         f"{result['train_seconds']:.0f} s; "
         + _calibration_words(result)
         + (f" Training-only series (trained on, not scored; cut before the first origin): "
            f"{', '.join(result['train_only'])}." if result.get("train_only") else "")
         + (f" Guide (the statistical forecast the RNN reads, fit on its training data): "
            f"{'; '.join(f'{k}: {v}' for k, v in result['guide_models'].items())}."
            if result.get("guide_models") else "")), "",
        "Figures: forecasts.png (forecast windows), curves.png (training curves).", "",
    ]
    atomic_write_text(run_dir / "report.md", "\n".join(lines))


def _transform_sentence(t: dict) -> str:
    tried = t.get("scores") or {}
    if not tried:
        return f"Level/trend/season treatment: {t['chosen']}."
    said = (f"Level/trend/season treatment: {t['chosen']}, chosen by the validation windows' MASE before the first "
            f"origin (" + ", ".join(f"{k} {v:.3f}" for k, v in tried.items()) + ").")
    halving = t.get("halving")
    if halving and halving.get("stopped"):
        said += (f" Stopped after {halving['epochs']} epochs by the halving (model.halving_epochs), with their MASE "
                 "then: " + ", ".join(f"{k} {halving['scores'][k]:.3f}" for k in halving["stopped"]) + ".")
    return said


def _blend_sentence(b: dict) -> str:
    shares = b["at_end"]
    said = "; ".join(f"{k}: {share_label(v)}" for k, v in list(shares.items())[:20]) + (
        "; ..." if len(shares) > 20 else "")
    return ("The guide's share of the forecast (model.guide_blend=auto) is chosen at each backtest origin from the "
            "errors of the earlier origins' forecasts on the values observed before it (0 at the first origin). "
            "Where even the best share erred by over model.naive_fallback times the naive forecast, the naive "
            f"forecast is taken instead ('naive'). At the end of the data, used by predict: {said}.")


def _refit_sentence(refit: str, bounded: int = 0, arima_bounded: int = 0) -> str:
    how = ("refit at every backtest origin on the series up to it" if refit == "every_origin"
           else "fit once on the history before the first origin, then run over the newer values")
    cut = (f" ETS, ARIMA and Theta saw only the last {bounded:,} values before each origin (baselines.max_points="
           f"{bounded}; 0 reads all)." if bounded else "")
    if arima_bounded:
        cut += (f" AutoARIMA, with its long season, saw only the last {arima_bounded:,} (baselines.arima_max_points="
                f"{arima_bounded}; 0 = as max_points).")
    return f"Baselines {how} (baselines.refit={refit}).{cut}"


def _calibration_words(result: dict) -> str:
    if result.get("interval_floor") and not result.get("calibrated"):
        return floor_words(result["calibration"], result["interval"]) + "."
    if not result.get("calibrated", True):
        return "interval calibration off (backtest.calibrate=false)."
    if result.get("calibration_window"):
        return f"interval calibration rolling, from the last {result['calibration_window']} observed origins."
    return f"interval calibration factor {_fmt(result['calibration'])} (on the validation windows)."


def _fmt(k) -> str:
    return ", ".join(f"{v:.3f}" for v in k) if isinstance(k, list) else f"{k:.3f}"
