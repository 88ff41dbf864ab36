"""Fast CPU/GPU linear scan in pure torch: the chunked algorithm of :mod:`.reference`, written
into one output buffer, with a hand-written backward (a reversed scan). See README.md for the equations.

Forward, written straight into the output buffer h (T = n C + r, chunk c, position j):

1. inside every chunk of C steps, C - 1 multiply-adds ``h[:, :, j] = a[:, :, j] * h[:, :, j-1]
   + b[:, :, j]`` (each over all n chunks at once) leave the local scans; the chunk products
   accumulate in a small ``(B, n, D)`` buffer;
2. the chunk ends form a scan of n = T/C steps, solved in place by recursion;
3. the other C - 1 positions of every chunk are recomputed from the true end of the previous
   chunk and the original b: ``h[c, j] = a[c, j] * h[c, j-1] + b[c, j]``.

Every operation is one vectorised torch call over ``B * n * D`` elements; there are about
3 (C - 1) of them per level and log_C T levels, against T calls for the sequential loop. No
temporary of the full size is allocated (only h), no division and no logarithm, so it is exact for
any real a (a_t = 0 and a_t near 1 included). On CPU the two sweeps of step 1 and 3 over h are
memory-bound: at B*D = 256, T = 4096 (4 MB per tensor) they cost about as much as 8 passes of an
elementwise op.

Backward (g_t = dL/dh_t summed over every use of h_t):
``g_t = dy_t + a_{t+1} g_{t+1}`` (a reversed scan of the same kind, run by the same code),
``dL/db_t = g_t``, ``dL/da_t = g_t h_{t-1}``, ``dL/dh0 = a_0 g_0``.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

# chunk size C: 8, 16 and 32 were within noise of each other at B*D = 256, T = 4096 in side
# runs with the benchmark's timer; 16 was best at T = 16384 (fewer levels, slices that stay in cache).
# The result does not depend on it.
DEFAULT_CHUNK = 16


def _sequential(a: Tensor, b: Tensor, h: Tensor, h_init: Tensor | None, reverse: bool) -> None:
    """Write ``h_t = a_t * h_prev + b_t`` step by step into h (h_prev = h_init at the start)."""
    T = h.shape[1]
    hs, as_, bs = h.unbind(1), a.unbind(1), b.unbind(1)
    prev = h_init
    for t in (range(T) if not reverse else range(T - 1, -1, -1)):
        if prev is None:
            hs[t].copy_(bs[t])
        else:
            torch.addcmul(bs[t], as_[t], prev, out=hs[t])
        prev = hs[t]


def scan_into_(a: Tensor, b: Tensor, h: Tensor, h_init: Tensor | None = None, reverse: bool = False,
               chunk: int = DEFAULT_CHUNK) -> None:
    """Write the scan of ``(a, b)`` over dim 1 of ``(B, T, D)`` into the buffer h (not aliasing a
    or b). ``h_init (B, D)`` is the state before the first step (None: zeros). ``reverse=True``
    runs ``h_t = a_t h_{t+1} + b_t`` from the last step down.
    """
    B, T, D = h.shape
    C = chunk
    n, r = divmod(T, C)
    if n < 2:
        _sequential(a, b, h, h_init, reverse)
        return
    body = slice(0, n * C) if not reverse else slice(r, T)  # leftovers come last in scan order
    av = a[:, body].reshape(B, n, C, D)
    bv = b[:, body].reshape(B, n, C, D)
    hv = h[:, body].view(B, n, C, D)
    order = list(range(C)) if not reverse else list(range(C - 1, -1, -1))
    a_j, b_j, h_j = av.unbind(2), bv.unbind(2), hv.unbind(2)  # one call instead of C slicings
    # 1. local scans of every chunk (from zero; the first chunk from h_init) and chunk products
    first, last = order[0], order[-1]
    h_j[first].copy_(b_j[first])
    if h_init is not None:
        c0 = 0 if not reverse else n - 1
        torch.addcmul(b_j[first][:, c0], a_j[first][:, c0], h_init, out=h_j[first][:, c0])
    acc = a_j[first].clone()
    for p, j in pairwise(order):
        torch.addcmul(b_j[j], a_j[j], h_j[p], out=h_j[j])
        acc.mul_(a_j[j])
    # 2. the true chunk ends: a scan of n steps over (chunk product, local total). The first
    #    chunk's total already includes h_init, so it starts from zero.
    ends = h_j[last]
    scan_into_(acc, ends.clone(), ends, None, reverse, C)
    # 3. every other chunk again, from the true end of its predecessor and the original b
    tgt, src = (slice(1, n), slice(0, n - 1)) if not reverse else (slice(0, n - 1), slice(1, n))
    prev = hv[:, src, last]
    a_t, b_t, h_t = av[:, tgt].unbind(2), bv[:, tgt].unbind(2), hv[:, tgt].unbind(2)
    for j in order[:-1]:
        torch.addcmul(b_t[j], a_t[j], prev, out=h_t[j])
        prev = h_t[j]
    if r:  # the r leftover steps, from the end of the chunked part
        if not reverse:
            s = n * C
            _sequential(a[:, s:], b[:, s:], h[:, s:], h[:, s - 1], False)
        else:
            _sequential(a[:, :r], b[:, :r], h[:, :r], h[:, r], True)


class ChunkedScan(torch.autograd.Function):
    """``h = scan(a, b, h0)`` with the reversed-scan backward. h0 may be None."""

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor | None, chunk: int) -> Tensor:
        a, b = a.contiguous(), b.contiguous()
        h = torch.empty(b.shape, dtype=b.dtype, device=b.device)
        scan_into_(a, b, h, h0, False, chunk)
        ctx.save_for_backward(a, h, h0)
        ctx.chunk = chunk
        return h

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_h: Tensor):
        a, h, h0 = ctx.saved_tensors
        T = a.shape[1]
        dy = grad_h.contiguous()
        g = torch.empty(dy.shape, dtype=dy.dtype, device=dy.device)
        # g_t = dy_t + a_{t+1} g_{t+1}: a reversed scan over t = 0..T-2 with coefficients
        # a[:, 1:] (views, no copy), started from g_{T-1} = dy_{T-1}.
        g[:, T - 1] = dy[:, T - 1]
        if T > 1:
            scan_into_(a[:, 1:], dy[:, : T - 1], g[:, : T - 1], g[:, T - 1], True, ctx.chunk)
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
