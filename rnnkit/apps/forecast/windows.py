"""Windows: the model's view of a series at a forecast origin ``o`` (the first step to forecast).

A window has ``R = L + H - 1`` rows. Row ``k`` stands at time ``t_k = o - L + k`` and predicts the
target at ``t_k + 1``, so rows ``0..L-2`` are one-step-ahead predictions inside the input span and
rows ``L-1..R-1`` are the H forecasts for ``o..o+H-1``. The features of row k (D of them)::

    [ target_in, target_flag, (target_step), past (Dp), past_flag (if Dp > 0), future (Df), static (Ds),
      (guide) ]

    target_in   z_{t_k} - level     for t_k < o (observed)
                direct decoder:        0, target_flag 0 (the horizon is forecast from one pass)
                autoregressive:        the value fed back (teacher forcing in training), flag 1
    past        past covariates at t_k while t_k < o, else 0 with past_flag 0 (unknown ahead)
    future      known-future covariates (and calendar) at t_k + 1, the step being predicted
    static      the series' static covariates, on every row
    target_step with ``target_steps``: target_in_k - target_in_{k-1}, the last change (0 where the
                previous value is unknown); O(1) even when the levels inside a window drift far
    level       with local_level: the exponential-smoothing level of the window's input span,
                l_j = alpha z_j + (1 - alpha) l_{j-1} from l = z_{o-L} to l_{o-1} (ES-RNN style,
                Smyl 2020; ``level_alpha`` = 1, the default, gives z_{o-1}, the last value); else 0.
                Targets are ``z_{t_k+1} - level``. The level reads only z_{o-L..o-1}.
    spread      with ``window_scale``: what is in target units (target_in, target_step, the guide
                channel, and the targets once the level and the base are taken off) is divided by
                the window's spread ``d = max(mean_k |target_in_k - target_in_{k-1}|, SPREAD_FLOOR)``
                over its L input rows (the values before the level is subtracted; seasonal
                differences with ``seasonal_lag``), and forecasts are ``output * d + level + base``: every window
                reaches the network at one size, set by its own recent steps rather than the
                series' whole history (a series whose swings died down is forecast at their new
                size). The floor keeps a flat input span finite; it is a share of the series' scale
                (``model.scaling``), in which the history's typical step is about 1. Else d = 1.
    guide       with ``model.guide``: a statistical model's prediction g of the target at t_k + 1 from
                the values before min(t_k + 1, o) (see :mod:`.guide`), scaled as the target, minus
                the reference the row's target is taken against (the level; with ``seasonal_lag``
                the seasonal naive value below): the guide's prediction in the target's own terms
    guide_base  with ``guide_base`` (direct decoder, no ``seasonal_lag``): the targets are taken
                relative to the guide, ``z_{t_k+1} - g_{t_k+1}`` on every row, and the guide's forecast
                is the ``base`` added back on output: an output of 0 is exactly the guide's
                forecast, and the network learns where the statistical model goes wrong (the
                hybrid of Zhang 2003; ES-RNN's statistical part, Smyl 2020)
    seasonal    with ``seasonal_lag`` m (direct decoder): the target is taken relative to the seasonal
                naive forecast. Inside the input span target_in = z_{t_k} - z_{t_k-m} and the one-step
                targets z_{t_k+1} - z_{t_k+1-m}; the forecast of step o+h (h = 0..H-1) is relative to
                ``base_h = z_{o-m+(h mod m)}``, the last observed season repeated (= z_{o+h-m} for
                h < m; observed: it lies before o), so an output of 0 is exactly the seasonal naive
                forecast. Origins need L + m points before them (``lookback``).

Inference windows read the target only at times < o: everything at or after the origin is
never touched (the backtest also hides it as NaN, so a slip would show as NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from .features import SeriesArrays

__all__ = ["SPREAD_FLOOR", "Layout", "Windows", "build_windows", "es_level", "training_origins", "window_spread"]

# The smallest window spread, in the series' scaled units (its history's typical step is about 1):
# a window whose input never moves is scaled by this, so its forecast stays within a hundredth of a
# typical step of the base unless the network is sure.
SPREAD_FLOOR = 0.01


@dataclass(frozen=True)
class Layout:
    input_len: int
    horizon: int
    n_past: int = 0
    n_future: int = 0
    n_static: int = 0
    autoregressive: bool = False
    local_level: bool = False
    target_steps: bool = False
    level_alpha: float = 1.0
    seasonal_lag: int = 0
    guide: bool = False
    guide_base: bool = False
    window_scale: bool = False

    def __post_init__(self):
        if self.guide_base and (not self.guide or self.seasonal_lag or self.autoregressive):
            raise ValueError("a layout with guide_base needs a guide channel, the direct decoder and no seasonal_lag")

    @property
    def lookback(self) -> int:
        """Points needed before an origin."""
        return self.input_len + self.seasonal_lag

    @property
    def rows(self) -> int:
        return self.input_len + self.horizon - 1

    @property
    def step_col(self) -> int | None:
        return 2 if self.target_steps else None

    @property
    def past_cols(self) -> slice:
        start = 3 if self.target_steps else 2
        return slice(start, start + self.n_past)

    @property
    def future_cols(self) -> slice:
        start = self.past_cols.stop + (1 if self.n_past else 0)
        return slice(start, start + self.n_future)

    @property
    def guide_col(self) -> int | None:
        return self.future_cols.stop + self.n_static if self.guide else None

    @property
    def n_features(self) -> int:
        return self.future_cols.stop + self.n_static + (1 if self.guide else 0)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Windows:
    """inputs ``(N, R, D)`` float32; targets ``(N, R)`` float32 or None; per window: level ``(N,)``
    (float64), series index and origin ``(N,)``; ``base`` ``(N, H)``: the seasonal base (or the
    guide's forecast, with ``guide_base``) added back to each forecast step after the level (zeros
    without either); ``spread`` ``(N,)``: the window's scale, outputs are ``output * spread +
    level + base`` (ones without ``window_scale``)."""

    inputs: torch.Tensor
    targets: torch.Tensor | None
    level: np.ndarray
    series: np.ndarray
    origins: np.ndarray
    base: np.ndarray | None = None
    spread: np.ndarray | None = None

    def __len__(self) -> int:
        return self.inputs.shape[0]


def training_origins(length: int, layout: Layout, start: int = 0) -> range:
    """Origins o with a full window inside ``[start, length)``: ``o - L - m >= start`` and ``o + H <= length``."""
    return range(start + layout.lookback, length - layout.horizon + 1)


def es_level(values: np.ndarray, alpha: float) -> float:
    """Simple exponential smoothing level after the last of ``values`` (started at the first one)."""
    if alpha >= 1.0:
        return float(values[-1])
    level = float(values[0])
    for v in values[1:]:
        level = alpha * float(v) + (1.0 - alpha) * level
    return level


def window_spread(zin: np.ndarray) -> float:
    """The spread of a window's input values ``zin`` (L,): their mean absolute step, at least
    :data:`SPREAD_FLOOR` (see the module docstring)."""
    steps = np.abs(np.diff(zin))
    return max(float(np.mean(steps)) if steps.size else 0.0, SPREAD_FLOOR)


def _window(a: SeriesArrays, o: int, lay: Layout, teacher_forcing: bool, guide: np.ndarray | None = None):
    """One window's features ``(R, D)``, its level and its spread (see the module docstring)."""
    L, H, R = lay.input_len, lay.horizon, lay.rows
    if o - lay.lookback < 0:
        raise ValueError(f"origin {o} needs {lay.lookback} input steps before it")
    x = np.zeros((R, lay.n_features))
    m = lay.seasonal_lag
    zin = a.z[o - L:o] - a.z[o - L - m:o - m] if m else a.z[o - L:o]
    level = es_level(zin, lay.level_alpha) if lay.local_level else 0.0
    spread = window_spread(zin) if lay.window_scale else 1.0
    x[:L, 0] = zin - level
    x[:L, 1] = 1.0
    if lay.autoregressive:
        x[L:, 1] = 1.0
        if teacher_forcing:  # training only: the true values fed back (they lie inside the training span)
            x[L:, 0] = a.z[o:o + H - 1] - level
    if lay.target_steps:
        known = L + (H - 1 if lay.autoregressive and teacher_forcing else 0)
        values = a.z[max(o - L - 1, 0):o - L + known]
        steps = np.diff(values)
        x[known - len(steps):known, lay.step_col] = steps  # the first row's step is 0 at a series start
    if lay.n_past:
        x[:L, lay.past_cols] = a.past[o - L:o]
        x[:L, lay.past_cols.stop] = 1.0
    if lay.n_future:
        fut = a.future[o - L + 1:o + H]
        if len(fut) < R:
            raise ValueError(f"known-future covariates end {o + H - len(a.future)} step(s) before the horizon "
                             f"of origin {o}")
        x[:, lay.future_cols] = fut
    if lay.n_static:
        x[:, lay.future_cols.stop:lay.future_cols.stop + lay.n_static] = a.static
    if lay.guide:
        if guide is None or guide.shape != (R,):
            raise ValueError(f"the layout has a guide channel: expected {R} guide values for origin {o}, got "
                             f"{None if guide is None else guide.shape}")
        ref = level
        if m:  # the values the rows' targets are taken against: one season back, then the base
            ref = np.concatenate([a.z[o - L + 1 - m:o - m], a.z[o - m + np.arange(H) % m]])
        x[:, lay.guide_col] = guide - ref
    if spread != 1.0:  # every column in target units, to the window's own size
        x[:, 0] /= spread
        if lay.target_steps:
            x[:, lay.step_col] /= spread
        if lay.guide:
            x[:, lay.guide_col] /= spread
    return x, level, spread


def _padded(z: np.ndarray, lo: int, hi: int, end: int) -> np.ndarray:
    """``z[lo:hi]`` with every position at or after ``end`` (or past the array) NaN."""
    out = np.full(hi - lo, np.nan)
    stop = min(hi, end, len(z))
    if stop > lo:
        out[:stop - lo] = z[lo:stop]
    return out


def build_windows(arrays: Sequence[SeriesArrays], pairs: Sequence[tuple[int, int]], layout: Layout,
                  with_targets: bool, guide: Sequence[np.ndarray] | None = None,
                  ends: Sequence[int] | None = None) -> Windows:
    """Windows at ``(series index, origin)`` pairs.

    ``guide``: with ``layout.guide``, each pair's guide channel ``(R,)`` in scaled target space.

    ``with_targets``: training/validation windows (targets read up to ``o + H - 1``; autoregressive
    inputs teacher-forced). Without: inference windows, reading nothing at or after the origin.

    ``ends`` (direct decoder only): per pair, the first position whose target the window may not
    read; its horizon targets at or after it are NaN (a *partial* window, the loss skips NaN), so
    short series give training windows up to the end of their span, and no training target ever
    reaches into the validation span.
    """
    if ends is not None and layout.autoregressive:
        raise ValueError("partial windows (ends) need the direct decoder")
    n = len(pairs)
    X = np.zeros((n, layout.rows, layout.n_features), dtype=np.float32)
    Y = np.zeros((n, layout.rows), dtype=np.float32) if with_targets else None
    level, spread = np.zeros(n), np.ones(n)
    L, H, m = layout.input_len, layout.horizon, layout.seasonal_lag
    base = np.zeros((n, H))
    for i, (s, o) in enumerate(pairs):
        a = arrays[s]
        X[i], level[i], spread[i] = _window(a, o, layout, teacher_forcing=with_targets,
                                            guide=guide[i] if guide is not None else None)
        if m:
            base[i] = a.z[o - m + np.arange(H) % m]  # the last observed season, repeated over the horizon
        elif layout.guide_base:
            base[i] = guide[i][L - 1:] - level[i]  # the guide's forecast, relative to the window level
        if not with_targets:
            continue
        if ends is not None:
            y = _padded(a.z, o - L + 1, o + H, ends[i]) - level[i]
        else:
            if o + layout.horizon > len(a.z):
                raise ValueError(f"window at origin {o} needs targets up to {o + layout.horizon - 1}, "
                                 f"past the series end ({len(a.z)})")
            y = a.z[o - L + 1:o + H] - level[i]
        if m:  # one-step targets relative to one season back, the horizon's to the base
            y = y - np.concatenate([a.z[o - L + 1 - m:o - m], base[i]])
        elif layout.guide_base:  # every row's target relative to the guide's prediction
            y = y - (guide[i] - level[i])
        Y[i] = y / spread[i]  # in float64 until here: a small spread magnifies no rounding
    s_idx = np.asarray([p[0] for p in pairs], dtype=np.int64)
    o_idx = np.asarray([p[1] for p in pairs], dtype=np.int64)
    return Windows(torch.from_numpy(X), torch.from_numpy(Y) if Y is not None else None, level, s_idx, o_idx, base,
                   spread)
