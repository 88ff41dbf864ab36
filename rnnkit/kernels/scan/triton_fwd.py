"""Triton forward of the linear recurrence ``h_t = a_t * h_{t-1} + b_t`` (see README.md).

Layout: a, b, h contiguous ``(B, T, D)``; the B*D channels are independent, so program p owns
channels ``c = p*BLOCK .. p*BLOCK + BLOCK - 1`` (``b = c // D``, ``d = c % D``, element
``(b, t, d)`` at ``b*T*D + t*D + d``) and walks t = 0..T-1 with the state in fp32 registers (fp64 for fp64 inputs).
Every step is one coalesced load of a and b and one store of h per channel: memory-bound, one
pass over the data.

Lengths (optional): steps ``t >= lengths[b]`` act as ``a_t = 1, b_t = 0`` (the state holds) and
store ``h_t = 0``, exactly like :func:`rnnkit.functional.scan.linear_scan_ref`.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _scan_fwd_kernel(a_ptr, b_ptr, h0_ptr, len_ptr, h_ptr, hlast_ptr, T, D, BD,
                     HAS_H0: tl.constexpr, HAS_LEN: tl.constexpr, BLOCK: tl.constexpr, ACC: tl.constexpr):
    pid = tl.program_id(0)
    c = pid * BLOCK + tl.arange(0, BLOCK)
    cmask = c < BD
    bi = (c // D).to(tl.int64)
    di = (c % D).to(tl.int64)
    off = bi * T * D + di  # element (b, 0, d); step t adds t*D
    if HAS_H0:
        h = tl.load(h0_ptr + c, mask=cmask, other=0.0).to(ACC)
    else:
        h = tl.zeros([BLOCK], dtype=ACC)
    if HAS_LEN:
        L = tl.load(len_ptr + bi, mask=cmask, other=0)
    for t in range(T):
        p = off + t * D
        a = tl.load(a_ptr + p, mask=cmask, other=1.0).to(ACC)
        b = tl.load(b_ptr + p, mask=cmask, other=0.0).to(ACC)
        hn = a * h + b
        if HAS_LEN:
            valid = t < L
            h = tl.where(valid, hn, h)
            out = tl.where(valid, h, 0.0)
        else:
            h = hn
            out = h
        tl.store(h_ptr + p, out.to(h_ptr.dtype.element_ty), mask=cmask)
    # the state after each sequence's last valid step (registers, so no rounding on the way)
    tl.store(hlast_ptr + c, h.to(hlast_ptr.dtype.element_ty), mask=cmask)
