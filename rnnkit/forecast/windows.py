"""Windows: the model's view of a series at a forecast origin ``o`` (the first step to forecast).

A window has ``R = L + H - 1`` rows. Row ``k`` stands at time ``t_k = o - L + k`` and predicts the
target at ``t_k + 1``, so rows ``0..L-2`` are one-step-ahead predictions inside the input span and
rows ``L-1..R-1`` are the H forecasts for ``o..o+H-1``. The features of row k (D of them)::

    [ target_in, target_flag, (target_step), past (Dp), past_flag (if Dp > 0), future (Df), static (Ds) ]

    target_in   z_{t_k} - level     for t_k < o (observed)
                direct decoder:        0, target_flag 0 (the horizon is forecast from one pass)
                autoregressive:        the value fed back (teacher forcing in training), flag 1
    past        past covariates at t_k while t_k < o, else 0 with past_flag 0 (unknown ahead)
    future      known-future covariates (and calendar) at t_k + 1, the step being predicted
    static      the series' static covariates, on every row
    target_step with ``target_steps``: target_in_k - target_in_{k-1}, the last change (0 where the
                previous value is unknown); O(1) even when the levels inside a window drift far
    level       z_{o-1} with local_level, else 0; targets are ``z_{t_k+1} - level``

Inference windows read the target only at times < o: everything at or after the origin is
never touched (the backtest also hides it as NaN, so a slip would show as NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from .features import SeriesArrays

__all__ = ["Layout", "Windows", "build_windows", "training_origins"]


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
    def n_features(self) -> int:
        return self.future_cols.stop + self.n_static

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Windows:
    """inputs ``(N, R, D)`` float32; targets ``(N, R)`` float32 or None; per window: level ``(N,)``
    (float64), series index and origin ``(N,)``."""

    inputs: torch.Tensor
    targets: torch.Tensor | None
    level: np.ndarray
    series: np.ndarray
    origins: np.ndarray

    def __len__(self) -> int:
        return self.inputs.shape[0]


def training_origins(length: int, layout: Layout, start: int = 0) -> range:
    """Origins o with a full window inside ``[start, length)``: ``o - L >= start`` and ``o + H <= length``."""
    return range(start + layout.input_len, length - layout.horizon + 1)


def _window(a: SeriesArrays, o: int, lay: Layout, teacher_forcing: bool):
    L, H, R = lay.input_len, lay.horizon, lay.rows
    if o - L < 0:
        raise ValueError(f"origin {o} needs {L} input steps before it")
    x = np.zeros((R, lay.n_features))
    level = float(a.z[o - 1]) if lay.local_level else 0.0
    x[:L, 0] = a.z[o - L:o] - level
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
        x[:, lay.future_cols.stop:] = a.static
    return x, level


def build_windows(arrays: Sequence[SeriesArrays], pairs: Sequence[tuple[int, int]], layout: Layout,
                  with_targets: bool) -> Windows:
    """Windows at ``(series index, origin)`` pairs.

    ``with_targets``: training/validation windows (targets read up to ``o + H - 1``; autoregressive
    inputs teacher-forced). Without: inference windows, reading nothing at or after the origin.
    """
    n = len(pairs)
    X = np.zeros((n, layout.rows, layout.n_features), dtype=np.float32)
    Y = np.zeros((n, layout.rows), dtype=np.float32) if with_targets else None
    level = np.zeros(n)
    L = layout.input_len
    for i, (s, o) in enumerate(pairs):
        a = arrays[s]
        X[i], level[i] = _window(a, o, layout, teacher_forcing=with_targets)
        if with_targets:
            if o + layout.horizon > len(a.z):
                raise ValueError(f"window at origin {o} needs targets up to {o + layout.horizon - 1}, "
                                 f"past the series end ({len(a.z)})")
            Y[i] = a.z[o - L + 1:o + layout.horizon] - level[i]
    s_idx = np.asarray([p[0] for p in pairs], dtype=np.int64)
    o_idx = np.asarray([p[1] for p in pairs], dtype=np.int64)
    return Windows(torch.from_numpy(X), torch.from_numpy(Y) if Y is not None else None, level, s_idx, o_idx)
