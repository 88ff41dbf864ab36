"""Defaults derived from the data: horizon, input length, backtest windows, validation span, and the
choice of the level/trend/season treatment by validation.

Sizes (each only where the config leaves it at 0; T = the shortest scored series, m = its season):

* horizon H: the frequency's usual one (M4): 18 monthly, 8 quarterly, 6 yearly, 13 weekly,
  14 daily, 48 hourly (a multiple of hours or days: the same span); 8 for integer steps and
  steps below an hour;
* backtest (with ``backtest.windows=0``): origins ``ceil(H / 2)`` steps apart, as many as leave at
  least 60% of the series (and two seasons) as history before the first one, at most 10; where
  a tenth of a panel's series or fewer hold it to fewer origins than the rest would give, a line
  names them and the ``data.exclude`` that leaves them out (:func:`_shortest_hint`);
* validation span: ``clip((history - L_min) / 3, 2, H)`` points at the end of that history
  (L_min = max(m, 4)); with partial windows each point is a validation origin;
* input length L: ``1.25 max(H, m)`` (Hewamalage et al. 2021), lowered for short series so that at
  least half of the training span gives training origins, never below L_min.

A series shorter than two seasons plus a horizon, or too short for one training window, is an error
that says the longest horizon (and the shortest input) that would work.

Treatments (``model.transform``; ``auto`` picks one by the validation windows' MASE, see
:func:`candidates`): ``level`` (every window relative to its last value, scaled by the mean
absolute step: forecasts can leave the training range), ``level_deseason`` (the seasonal profile
of the training history removed first), ``level_log`` (``level`` on log y: for positive series whose
swings grow with the level), ``level_log_deseason``, and ``seasonal`` / ``seasonal_log`` (the
network forecasts the deviation from the seasonal naive forecast, the last observed season
repeated: on series whose season is strong and stable it starts from that forecast and learns
only what differs, so it does not lose to it by much), and ``guided`` (the network forecasts the
deviation from the guide's forecast, ETS unless ``model.guide`` names ARIMA: an output of 0 is that
forecast; see :mod:`.guide`). ``none`` leaves
model.scaling/local_level/log_target/deseasonalize/seasonal_diff as set.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Sequence

import numpy as np

from rnnkit import config as C

from .backtest import val_size_for
from .config import TRANSFORMS, ForecastConfig, max_input_len
from .data import SeriesSet, season_length_for

__all__ = ["HORIZONS", "TRANSFORMS", "candidates", "default_horizon", "resolve_likelihood", "resolve_sizes",
           "room_for_seasonal_base", "transform_overrides"]

# at least this share of a non-negative history exactly 0 makes it intermittent (its median is 0)
INTERMITTENT = 0.5

HORIZONS = {"MS": 18, "ME": 18, "M": 18, "QS": 8, "QE": 8, "Q": 8, "YS": 6, "YE": 6, "Y": 6, "A": 6, "AS": 6,
            "W": 13, "D": 14, "B": 14, "H": 48, "BH": 48}



def default_horizon(freq) -> int:
    """The frequency's usual horizon (:data:`HORIZONS`); a multiple of hours or days covers the same
    span (every 3 hours: 16 steps, the hourly 48 hours); 8 otherwise (integer steps, minutes)."""
    if not isinstance(freq, str):
        return 8
    import pandas as pd

    offset = pd.tseries.frequencies.to_offset(freq)
    base = offset.rule_code.split("-")[0].upper()
    H = HORIZONS.get(base, 8)
    if offset.n > 1 and base in ("H", "D"):
        return max(H // offset.n, 1)
    return H


def resolve_sizes(cfg: ForecastConfig, sset: SeriesSet, hints: bool = True) -> tuple[ForecastConfig, list[str]]:
    """``cfg`` with every size left at 0 filled in from the data, and the lines that say what was
    chosen. A series too short is an error that names the settings that would work (each tried
    here; ``hints=False`` leaves them out, as the tries themselves do)."""
    m = cfg.data.season_length or season_length_for(sset.freq)
    T = min(s.length for s in sset.series)
    shortest = min(sset.series, key=lambda s: s.length).name
    H = cfg.window.horizon or default_horizon(sset.freq)
    auto_h = not cfg.window.horizon
    lmin = max(m, 4)
    over, said = [], []
    if auto_h:
        over.append(f"window.horizon={H}")
    given_l = max(cfg.window.input_len, *(cfg.model.ensemble_input_lens or (0,)))
    key = "max(model.ensemble_input_lens)" if cfg.model.ensemble_input_lens else "window.input_len"
    if H >= T:
        raise ValueError(f"window.horizon={H} is longer than series {shortest!r} ({T} points); the longest horizon "
                         f"that would work is {max(T - 2 * m, 1)}")
    if given_l and T < given_l + H:
        raise ValueError(f"series {shortest!r} has {T} points, fewer than {key} + window.horizon = "
                         f"{given_l} + {H} = {given_l + H}; the longest input that fits is {T - H}")
    if T < 2 * m + H:
        longest = _longest_horizon(cfg, sset, T - 2 * m) if hints else 0
        plain = hints and m > 1 and not cfg.data.season_length and _fits(
            cfg, sset, ["data.season_length=1", f"window.horizon={H}"])
        raise ValueError(
            f"series {shortest!r} has {T} points, fewer than two seasons plus the horizon (2 x {m} + {H} = "
            f"{2 * m + H}): " + (f"the longest horizon that would work is {longest} (--horizon {longest})"
                                 if longest else f"it needs at least {2 * m + 1} points")
            + (f"; without a season (data.season_length=1) the horizon {H} works" if plain else ""))
    K, stride = cfg.backtest.windows, cfg.backtest.stride
    few = ""
    if K == 0:
        stride = stride or max(1, math.ceil(H / 2))
        K = _origins_for(T, H, m, lmin, stride)
        over += [f"backtest.windows={K}", f"backtest.stride={stride}"]
        few = _shortest_hint(sset, K, H, m, lmin, stride) if hints else ""
    stride = stride or H
    hist = T - H - (K - 1) * stride
    val = cfg.backtest.val_size or int(np.clip((hist - lmin) // 3, 2, H))
    if not cfg.backtest.val_size:
        over.append(f"backtest.val_size={val}")
    L = cfg.window.input_len
    if not L and not cfg.model.ensemble_input_lens:
        pref = math.ceil(1.25 * max(H, m))
        L = int(np.clip(hist - val - max(4, (hist - val) // 2), lmin, pref))
        over.append(f"window.input_len={L}")
    L = max(L, max(cfg.model.ensemble_input_lens or (0,)))
    if hist - val - L < 2:
        longest = _longest_horizon(cfg, sset, H, ["backtest.windows=1"]) if hints else 0
        levers = [name for name, lower in (("backtest.windows", K > 1), (key, L > lmin)) if lower]
        raise ValueError(
            f"series {shortest!r} has {T} points: a backtest of {K} window(s) {stride} steps apart with horizon {H} "
            f"leaves {hist} points of history, too few for input length {L} + validation {val} + 2 training origins"
            + (f" (lower {' or '.join(levers)})" if levers else "")
            + (f"; the shortest input that would work is {lmin} (--input-len {lmin})" if hist - val - lmin >= 2 else "")
            + (f"; the longest horizon that would work with one backtest window is {longest} "
               f"(--horizon {longest} backtest.windows=1)" if longest else ""))
    cfg = C.apply_overrides(cfg, over) if over else cfg
    said.append(f"sizes: horizon {H}{' (from the frequency)' if auto_h else ''}, input length {L}, "
                f"{K} backtest origin(s) {stride} steps apart, validation span {val} point(s), season {m} "
                f"(shortest series: {T} points, {hist} before the first origin)")
    if few:
        said.append(few)
    return cfg, said


def _origins_for(T: int, H: int, m: int, lmin: int, stride: int) -> int:
    """The backtest's origin count for a shortest series of T points (the module docstring)."""
    hist_min = max(2 * m, math.ceil(0.6 * T), lmin + 4)
    return int(np.clip(1 + (T - H - hist_min) // stride, 1, 10))


def _shortest_hint(sset: SeriesSet, K: int, H: int, m: int, lmin: int, stride: int) -> str:
    """A panel's origins follow its shortest series; where a tenth of its series or fewer, the
    shortest, hold the others to fewer origins than the rest would have (World Bank populations: one
    country of 31 years gave 216 series 3 origins, where the others' 61 give 10), the line that
    says so and how to leave them out; '' otherwise (they stay: leaving series out is the user's call)."""
    lengths = sorted(s.length for s in sset.series)
    if len(lengths) < 10 or K >= 10:
        return ""
    typical = lengths[len(lengths) // 10]  # the tenth percentile: what nine series in ten have
    short = sorted((s for s in sset.series if s.length < typical), key=lambda s: s.length)
    more = _origins_for(typical, H, m, lmin, stride)
    if not short or more <= K:
        return ""
    names = [s.name for s in short]
    listed = ", ".join(f"{n!r} ({s.length})" for n, s in zip(names[:5], short)) + (
        f" and {len(names) - 5} more" if len(names) > 5 else "")
    command = (f" ({shlex.quote('data.exclude=' + ','.join(names))})"
               if len(names) <= 5 and not any("," in n for n in names) else " (data.exclude)")
    return (f"sizes: {K} backtest origin(s) because the shortest series set them; without the {len(names)} "
            f"shorter than {typical} points ({listed}) the backtest would have {more}{command}")


def _fits(cfg: ForecastConfig, sset: SeriesSet, overrides: list[str]) -> bool:
    """Whether ``cfg`` with ``overrides`` sizes ``sset`` without an error: a hint in an error
    names only settings that were tried."""
    try:
        resolve_sizes(C.apply_overrides(cfg, overrides), sset, hints=False)
    except ValueError:
        return False
    return True


def _longest_horizon(cfg: ForecastConfig, sset: SeriesSet, most: int, overrides: Sequence[str] = ()) -> int:
    """The longest horizon up to ``most`` with which ``cfg`` (and ``overrides``) sizes ``sset``;
    0 where none does."""
    return next((h for h in range(most, 0, -1) if _fits(cfg, sset, [*overrides, f"window.horizon={h}"])), 0)


def transform_overrides(name: str, guide: str = "none") -> list[str]:
    """The model keys a treatment sets; ``guide``: the run's ``model.guide`` (the ``guided``
    treatments' base is that model, ETS when it is none)."""
    base = ["model.local_level=true", "model.scaling=diff", "model.level_alpha=1.0", "model.seasonal_diff=false",
            "model.guide_base=none"]
    if name in ("seasonal", "seasonal_log"):  # the seasonal naive base carries the level: no local level
        return ["model.local_level=false", "model.scaling=diff", "model.deseasonalize=false", "model.guide_base=none",
                "model.seasonal_diff=true", f"model.log_target={'true' if name == 'seasonal_log' else 'false'}"]
    if name == "guided":  # a statistical model's forecast is the base
        return base[:-1] + [f"model.guide_base={guide if guide != 'none' else 'ets'}", "model.deseasonalize=false",
                            "model.log_target=false"]
    if name == "level":
        return base + ["model.log_target=false", "model.deseasonalize=false"]
    if name == "level_deseason":
        return base + ["model.log_target=false", "model.deseasonalize=true"]
    if name == "level_log":
        return base + ["model.log_target=true", "model.deseasonalize=false"]
    if name == "level_log_deseason":
        return base + ["model.log_target=true", "model.deseasonalize=true"]
    raise ValueError(f"model.transform must be auto, none or one of {TRANSFORMS}, got {name!r}")


def candidates(cfg: ForecastConfig, history: SeriesSet) -> list[str]:
    """The treatments ``auto`` tries on this history: the log ones only when every value is
    positive, deseasonalisation only with a season m > 1 and two seasons of history, and the
    seasonal naive base only where its look-back (the input plus one season) also fits
    (:func:`room_for_seasonal_base`)."""
    m = cfg.data.season_length or season_length_for(history.freq)
    positive = all(np.nanmin(s.target) > 0 for s in history.series)
    deseason = m > 1 and min(s.length for s in history.series) >= 2 * m
    base = deseason and room_for_seasonal_base(cfg, history, m)
    guided = cfg.model.decoder == "direct"
    out = ["level"] + (["level_deseason"] if deseason else []) + (["seasonal"] if base else []) + (
        ["guided"] if guided else [])
    if positive:
        out += ["level_log"] + (["level_log_deseason"] if deseason else []) + (["seasonal_log"] if base else [])
    return out


def room_for_seasonal_base(cfg: ForecastConfig, history: SeriesSet, m: int) -> bool:
    """Whether every scored series of ``history`` leaves the ``seasonal`` treatments a training
    origin before its validation span: their windows need ``L + m`` points before each origin (the
    last season before the input is the base). A 169-week series with season 52 and input 52 has
    room for the input but not for both. One origin is enough: the network starts from the
    seasonal naive forecast (an output of 0), so on a series of 20 quarters with a single
    training window it is that forecast plus a small correction, which the validation ranking may
    still prefer. True while the input length is not yet resolved (0)."""
    L = max_input_len(cfg)
    if not L:
        return True
    partial = cfg.window.partial and cfg.model.decoder == "direct"  # as NeuralForecaster.split_windows
    for s in history.series:
        if s.name in history.train_only:
            continue
        val_start = s.length - val_size_for(s.length, cfg.window.horizon, cfg.backtest.val_size)
        origins = val_start - (L + m) if partial else val_start - (L + m) - cfg.window.horizon + 1
        if origins < 1:
            return False
    return True


def resolve_likelihood(cfg: ForecastConfig, history: SeriesSet) -> tuple[ForecastConfig, str | None]:
    """``model.likelihood=auto`` made concrete from ``history`` (the scored series before their
    first backtest origin), and the line that says why when it is not ``gaussian``.

    Intermittent data (sales of a slow item, freezing degree days, rainfall): no value below 0 and
    at least :data:`INTERMITTENT` of them exactly 0, pooled over the series. Their median is 0
    most of the time, and a Gaussian cannot say so: its median is its mean, pulled up by the
    occasional non-zero value, so every forecast step sat above the zeros. The pinball loss at
    ``model.quantiles`` learns the median as it is (0) and a skewed interval, so ``quantile`` is
    taken there (the quantiles gain the interval's ends if they lack them). Synthetic monthly
    series with 93%, 80% and 63% zeros (600 points; a zero or a gamma draw each month): MASE
    0.577, 0.970 and 0.743 with the Gaussian, 0.388, 0.503 and 0.526 with the pinball loss (the
    naive forecast: 0.367, 0.642, 0.751); at 40% and 23% zeros the two tied (0.830 / 0.823,
    0.673 / 0.673) with lower coverage for the pinball loss, so they stay Gaussian
    (docs/forecasting.md, "Intermittent series"). An autoregressive decoder needs a distribution to
    sample from: ``gaussian`` there."""
    m = cfg.model
    if m.likelihood != "auto":
        return cfg, None
    values = np.concatenate([s.target[np.isfinite(s.target)] for s in history.series
                             if s.name not in history.train_only] or [np.zeros(0)])
    zeros = float(np.mean(values == 0)) if len(values) else 0.0
    if m.decoder == "autoregressive" or not len(values) or values.min() < 0 or zeros < INTERMITTENT:
        return C.apply_overrides(cfg, ["model.likelihood=gaussian"]), None
    lo, hi = round((1 - cfg.backtest.interval) / 2, 6), round((1 + cfg.backtest.interval) / 2, 6)
    levels = sorted({*m.quantiles, 0.5, lo, hi})
    cfg = C.apply_overrides(cfg, ["model.likelihood=quantile", f"model.quantiles={','.join(f'{q:g}' for q in levels)}"])
    return cfg, (f"likelihood: quantile (pinball loss at {', '.join(f'{q:g}' for q in levels)}): {zeros:.0%} of the "
                 "values before the first backtest origin are exactly 0 and none is below, and a Gaussian's median "
                 "cannot sit on the zeros (model.likelihood=gaussian keeps it)")
