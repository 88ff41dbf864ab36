"""The linear scan's entry point, and its fast CPU/GPU path in pure torch.

``scan(a, b, h0, lengths, backend)`` picks a backend through :mod:`rnnkit.kernels.dispatch` (the
one vocabulary: ``auto | loop | chunked | triton``) and runs it (:func:`run_scan`).

``chunked_scan`` is the chunked algorithm of :mod:`.reference`, written into one output buffer,
with a hand-written backward (a reversed scan). See README.md for the equations.

Forward, reduce then scan (T = n C + r, chunk c, position j):

1. a sweep over a and b reduces every chunk of C steps to the affine map it applies to its start
   state, ``s -> prod_c * s + total_c`` (prod_c: the product of its a; total_c: its local scan
   from zero), with C - 1 multiply-adds over all n chunks at once into small ``(B, n, D)`` buffers;
2. the chunk ends form a scan of n = T/C steps over those maps, solved by recursion from h_init;
3. a second sweep writes every chunk into h, ``h[c, j] = a[c, j] * h[c, j-1] + b[c, j]``, starting
   from the true end of the previous chunk.

Every operation is one vectorised torch call over ``B * n * D`` elements; there are about
3 C of them per level and log_C T levels, against T calls for the sequential loop. No temporary of
the full size is allocated (only h, written once), no division and no logarithm, so it is exact for
any real a (a_t = 0 and a_t near 1 included). On CPU the two sweeps are bound by memory access:
each touches every element of a and b once, in strided slices.

Backward (g_t = dL/dh_t summed over every use of h_t):
``g_t = dy_t + a_{t+1} g_{t+1}`` (a reversed scan of the same kind, run by the same code),
``dL/db_t = g_t``, ``dL/da_t = g_t h_{t-1}``, ``dL/dh0 = a_0 g_0``.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.functional import scan as FS
from rnnkit.kernels import dispatch

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

    Reduce, then scan: the first sweep keeps only per-chunk summaries in small ``(B, n, D)``
    buffers (it writes nothing into h), so h is written exactly once, by the last sweep.
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
    # 1. reduce every chunk to (product of its a, its total from a zero start):
    #    a chunk maps a start s to prod * s + total.
    prod = a_j[order[0]].clone()
    total = b_j[order[0]].clone()
    for j in order[1:]:
        torch.addcmul(b_j[j], a_j[j], total, out=total)  # elementwise, so out may alias total
        prod.mul_(a_j[j])
    # 2. the true chunk ends: a scan of n steps over the chunk maps, from h_init
    ends = torch.empty_like(total)
    scan_into_(prod, total, ends, h_init, reverse, C)
    # 3. every chunk from the true end of its predecessor (the first from h_init): one sweep
    #    that writes h
    starts = torch.empty_like(total)
    first_chunk = 0 if not reverse else n - 1
    if not reverse:
        starts[:, 1:] = ends[:, :-1]
    else:
        starts[:, :-1] = ends[:, 1:]
    if h_init is None:
        starts[:, first_chunk] = 0
    else:
        starts[:, first_chunk] = h_init
    prev = starts
    for j in order:
        torch.addcmul(b_j[j], a_j[j], prev, out=h_j[j])
        prev = h_j[j]
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


def run_scan(a: Tensor, b: Tensor, h0: Tensor | None, lengths: Tensor | None, backend: str,
             chunk: int = DEFAULT_CHUNK) -> Tensor:
    """Run one concrete backend (``loop``, ``chunked`` or ``triton``, already chosen by
    :func:`rnnkit.kernels.dispatch.choose_scan_backend`): inputs as :func:`scan`."""
    FS.check_scan_inputs(a, b, h0, lengths)
    if backend == "loop":
        return FS.linear_scan_ref(a, b, h0, lengths)
    if backend == "triton":
        from rnnkit.kernels.scan.triton_op import triton_scan
        return triton_scan(a, b, h0, lengths)[0]
    if backend != "chunked":
        raise ValueError(f"run_scan runs 'loop', 'chunked' or 'triton', got {backend!r}")
    mask = FS.valid_mask(lengths, a.shape[1], a.device)
    a, b = FS.hold_padded(a, b, mask)
    return FS.zero_padded(chunked_scan(a, b, h0, chunk), mask)


def scan(a: Tensor, b: Tensor, h0: Tensor | None = None, lengths: Tensor | None = None,
         backend: str = "auto", chunk: int = DEFAULT_CHUNK) -> Tensor:
    """``h_t = a_t * h_{t-1} + b_t``. a, b ``(B, T, D)``; h0 ``(B, D)`` or None (zeros);
    lengths ``(B,)`` or None -> h ``(B, T, D)``.

    ``backend``: ``auto`` (``triton`` on CUDA in fp32/bf16 when triton imports, else ``chunked``;
    the Triton path is then ``triton_scan``'s default: the three-pass kernels), ``loop`` (the
    sequential reference), ``chunked``, ``triton``; see :mod:`rnnkit.kernels.dispatch`. An
    explicit request that cannot run raises, never falls back. With lengths, padded steps hold
    the state (a = 1, b = 0) and their outputs are zero; use
    :func:`rnnkit.functional.scan.final_state` for the state after each last valid step.
    """
    return run_scan(a, b, h0, lengths, dispatch.choose_scan_backend(backend, a), chunk)
