"""Fast CPU/GPU linear scan in pure torch: the chunked algorithm of :mod:`.reference`, in place,
with a hand-written backward (a reversed scan). See README.md for the equations.

Forward, on an output buffer h that starts as a copy of b (h0 folded into step 0):

1. inside every chunk of C steps, C - 1 in-place multiply-adds ``h[:, :, j] += a[:, :, j] *
   h[:, :, j-1]`` (each over all n chunks at once) leave the local scans; the chunk products
   accumulate in a small ``(B, n, D)`` buffer;
2. the chunk ends form a scan of n = T/C steps, solved in place by recursion;
3. the other C - 1 positions of every chunk are recomputed from the true end of the previous
   chunk and the original b: ``h[c, j] = a[c, j] * h[c, j-1] + b[c, j]``.

Every operation is one vectorised torch call over ``B * n * D`` elements; there are about
3 (C - 1) of them per level and log_C T levels, against T calls for the sequential loop. No
temporary of the full size is allocated (only h), no division and no logarithm, so it is exact for
any real a (a_t = 0 and a_t near 1 included).

Backward (g_t = dL/dh_t summed over every use of h_t):
``g_t = dy_t + a_{t+1} g_{t+1}`` (a reversed scan of the same kind, run by the same code),
``dL/db_t = g_t``, ``dL/da_t = g_t h_{t-1}``, ``dL/dh0 = a_0 g_0``.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

# chunk size C: 8 minimised CPU time at B*D = 256 and T = 1k..16k in benchmarks/cpu_scan.py runs
# (4 costs more levels, 16-32 more calls per level); the result does not depend on it.
DEFAULT_CHUNK = 8


def _sequential_(a: Tensor, h: Tensor, reverse: bool) -> None:
    """In place: ``h[:, t] = a[:, t] * h[:, t -/+ 1] + h[:, t]`` along the direction."""
    T = h.shape[1]
    hs, as_ = h.unbind(1), a.unbind(1)
    if not reverse:
        for t in range(1, T):
            torch.addcmul(hs[t], as_[t], hs[t - 1], out=hs[t])
    else:
        for t in range(T - 2, -1, -1):
            torch.addcmul(hs[t], as_[t], hs[t + 1], out=hs[t])


def scan_inplace_(a: Tensor, b: Tensor, h: Tensor, reverse: bool = False, chunk: int = DEFAULT_CHUNK) -> None:
    """Scan over dim 1 of ``(B, T, D)`` in place: on entry h holds b (with h0 folded into the
    first step), on exit the recurrence. ``b`` must be an untouched copy of those values except at
    the first step. ``reverse=True`` runs ``h_t = a_t h_{t+1} + b_t`` from the last step down.
    """
    B, T, D = h.shape
    C = chunk
    n, r = divmod(T, C)
    if n < 2:
        _sequential_(a, h, reverse)
        return
    body = slice(0, n * C) if not reverse else slice(r, T)  # leftovers come last in scan order
    av = a[:, body].reshape(B, n, C, D)
    bv = b[:, body].reshape(B, n, C, D)
    hv = h[:, body].view(B, n, C, D)
    order = list(range(C)) if not reverse else list(range(C - 1, -1, -1))
    a_j, h_j = av.unbind(2), hv.unbind(2)  # one call instead of C slicing calls
    # 1. local scans (in h) and chunk products (in acc)
    acc = a_j[order[0]].clone()
    for p, j in zip(order[:-1], order[1:]):
        torch.addcmul(h_j[j], a_j[j], h_j[p], out=h_j[j])
        acc.mul_(a_j[j])
    # 2. the chunk ends: a scan of n steps, in place in h
    last = order[-1]
    ends = h_j[last]
    scan_inplace_(acc, ends.clone(), ends, reverse, C)
    # 3. every chunk but the first (in scan order) from the end of its predecessor
    tgt, src = (slice(1, n), slice(0, n - 1)) if not reverse else (slice(0, n - 1), slice(1, n))
    prev = hv[:, src, last]
    a_t, b_t, h_t = av[:, tgt].unbind(2), bv[:, tgt].unbind(2), hv[:, tgt].unbind(2)
    for j in order[:-1]:
        torch.addcmul(b_t[j], a_t[j], prev, out=h_t[j])
        prev = h_t[j]
    if r:  # the r leftover steps, from the last chunk's end
        if not reverse:
            _sequential_(a[:, n * C - 1:], h[:, n * C - 1:], False)
        else:
            _sequential_(a[:, : r + 1], h[:, : r + 1], True)


def _forward(a: Tensor, b: Tensor, h0: Tensor | None, chunk: int) -> Tensor:
    h = torch.empty(b.shape, dtype=b.dtype, device=b.device)
    h.copy_(b)
    if h0 is not None:
        torch.addcmul(h[:, 0], a[:, 0], h0, out=h[:, 0])
    scan_inplace_(a, b, h, False, chunk)
    return h


class ChunkedScan(torch.autograd.Function):
    """``h = scan(a, b, h0)`` with the reversed-scan backward. h0 may be None."""

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor | None, chunk: int) -> Tensor:
        a = a.contiguous()
        h = _forward(a, b.contiguous(), h0, chunk)
        ctx.save_for_backward(a, h, h0)
        ctx.chunk = chunk
        return h

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_h: Tensor):
        a, h, h0 = ctx.saved_tensors
        T = a.shape[1]
        dy = grad_h.contiguous()
        g = dy.clone(memory_format=torch.contiguous_format)
        if T > 1:
            # g_t = dy_t + a_{t+1} g_{t+1}: a reversed scan over t = 0..T-2 with coefficients
            # a[:, 1:], started from g_{T-1} = dy_{T-1} (folded into step T-2).
            torch.addcmul(g[:, T - 2], a[:, T - 1], g[:, T - 1], out=g[:, T - 2])
            scan_inplace_(a[:, 1:], dy[:, : T - 1], g[:, : T - 1], True, ctx.chunk)
        grad_a = grad_h0 = None
        if ctx.needs_input_grad[0]:
            grad_a = torch.empty_like(a)
            torch.mul(g[:, 1:], h[:, :-1], out=grad_a[:, 1:])
            if h0 is None:
                grad_a[:, 0] = 0
            else:
                torch.mul(g[:, 0], h0, out=grad_a[:, 0])
        if h0 is not None and ctx.needs_input_grad[2]:
            grad_h0 = a[:, 0] * g[:, 0]
        grad_b = g if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, grad_h0, None


def chunked_scan(a: Tensor, b: Tensor, h0: Tensor | None = None, chunk: int = DEFAULT_CHUNK) -> Tensor:
    """``h_t = a_t h_{t-1} + b_t`` over ``(B, T, D)``, fast; no input checks (see ``scan``)."""
    if chunk < 2:
        raise ValueError(f"chunk must be >= 2, got {chunk}")
    return ChunkedScan.apply(a, b, h0, int(chunk))
