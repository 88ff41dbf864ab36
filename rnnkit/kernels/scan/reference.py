"""The chunked scan's algorithm in plain, out-of-place torch (autograd differentiates it).

Computes ``h_t = a_t * h_{t-1} + b_t`` over dim 1 of ``(B, T, D)`` with the same chunk
decomposition as :mod:`.op` (which reduces each chunk first and writes h once), but
readably and without in-place tricks, so it can be checked against the sequential loop and serve
as the gradient oracle of the hand-written backward. One level, chunk size C, T = n*C + r::

    1. within each of the n chunks (in parallel), C - 1 sequential steps give the local scan
       H_loc[c, j] (the chunk started from h = 0) and the local product P[c, j] = a[c,0..j];
    2. the chunk totals are themselves a linear recurrence, E_c = P[c, C-1] E_{c-1} + H_loc[c, C-1],
       solved by the same algorithm on n steps (recursion, depth log_C T);
    3. h[c, j] = H_loc[c, j] + P[c, j] * E_{c-1}; the r leftover steps run sequentially.

Work O(T D) (about 3 multiply-adds per element at the first level), depth O(C log_C T). There is
no division and no logarithm, so it is exact for any real a, including a_t = 0 and a_t near 1.
"""

from __future__ import annotations

import torch
from torch import Tensor


def chunked_scan_reference(a: Tensor, b: Tensor, h0: Tensor | None = None, chunk: int = 8) -> Tensor:
    """``h (B, T, D)`` from ``a, b (B, T, D)`` and ``h0 (B, D)`` (zeros if None)."""
    if chunk < 2:
        raise ValueError(f"chunk must be >= 2, got {chunk}")
    if h0 is not None:
        # fold the initial state into the first step: b_0 + a_0 h0
        b = torch.cat([(b[:, 0] + a[:, 0] * h0).unsqueeze(1), b[:, 1:]], dim=1)
    return _scan(a, b, chunk)


def _sequential(a: Tensor, b: Tensor) -> Tensor:
    h, out = None, []
    for a_t, b_t in zip(a.unbind(1), b.unbind(1)):
        h = b_t if h is None else a_t * h + b_t
        out.append(h)
    return torch.stack(out, dim=1)


def _scan(a: Tensor, b: Tensor, C: int) -> Tensor:
    B, T, D = a.shape
    n, r = divmod(T, C)
    if n < 2:
        return _sequential(a, b)
    av = a[:, : n * C].reshape(B, n, C, D)
    bv = b[:, : n * C].reshape(B, n, C, D)
    # 1. local scans and products inside every chunk at once
    h_loc, p = [bv[:, :, 0]], [av[:, :, 0]]
    for j in range(1, C):
        h_loc.append(av[:, :, j] * h_loc[-1] + bv[:, :, j])
        p.append(av[:, :, j] * p[-1])
    h_loc, p = torch.stack(h_loc, dim=2), torch.stack(p, dim=2)  # (B, n, C, D)
    # 2. true state at the end of every chunk: a scan of n steps
    ends = _scan(p[:, :, -1], h_loc[:, :, -1], C)  # (B, n, D)
    # 3. carry the end of chunk c-1 into chunk c
    carry = torch.cat([torch.zeros_like(ends[:, :1]), ends[:, :-1]], dim=1)
    h = (h_loc + p * carry.unsqueeze(2)).reshape(B, n * C, D)
    if r:
        tail = [h[:, -1]]
        for t in range(n * C, T):
            tail.append(a[:, t] * tail[-1] + b[:, t])
        h = torch.cat([h, torch.stack(tail[1:], dim=1)], dim=1)
    return h
