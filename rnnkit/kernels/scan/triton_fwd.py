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


# ---------------------------------------------------------------------------------------------
# chunked forward (for long T with few channels): the grid also splits T into n chunks of CH
# steps, so B*D/BLOCK * n programs run at once instead of B*D/BLOCK.
#   1. _scan_fwd_local_kernel: each chunk k scans from 0 -> its end state E_k and product P_k
#   2. _scan_carry_kernel: per channel, n sequential steps carry_k = P_k carry_{k-1} + E_k give
#      the state entering every chunk (cin) and the final state
#   3. _scan_fwd_apply_kernel: each chunk walks again from its true entering state, writing h
# Reads a and b twice instead of once; the carry pass touches only (n, B*D) fp32 numbers.
@triton.jit
def _scan_fwd_local_kernel(a_ptr, b_ptr, len_ptr, e_ptr, p_ptr, T, D, BD, CH,
                           HAS_LEN: tl.constexpr, BLOCK: tl.constexpr, ACC: tl.constexpr):
    pid = tl.program_id(0)
    k = tl.program_id(1)
    c = pid * BLOCK + tl.arange(0, BLOCK)
    cmask = c < BD
    bi = (c // D).to(tl.int64)
    off = bi * T * D + (c % D).to(tl.int64)
    if HAS_LEN:
        L = tl.load(len_ptr + bi, mask=cmask, other=0)
    h = tl.zeros([BLOCK], dtype=ACC)
    prod = tl.full([BLOCK], 1.0, dtype=ACC)
    start = k * CH
    for s in range(CH):
        t = start + s
        tv = t + tl.zeros([BLOCK], dtype=tl.int32)  # a vector: the interpreter masks need one
        m = cmask & (tv < T)
        a = tl.load(a_ptr + off + t * D, mask=m, other=1.0).to(ACC)  # beyond T: identity
        b = tl.load(b_ptr + off + t * D, mask=m, other=0.0).to(ACC)
        if HAS_LEN:
            valid = t < L
            a = tl.where(valid, a, 1.0)
            b = tl.where(valid, b, 0.0)
        h = a * h + b
        prod = prod * a
    tl.store(e_ptr + k * BD + c, h, mask=cmask)
    tl.store(p_ptr + k * BD + c, prod, mask=cmask)


@triton.jit
def _scan_carry_kernel(e_ptr, p_ptr, init_ptr, cin_ptr, last_ptr, n, BD,
                       HAS_INIT: tl.constexpr, REVERSE: tl.constexpr, BLOCK: tl.constexpr,
                       ACC: tl.constexpr):
    """cin[k] = state entering chunk k; carry <- P_k carry + E_k, over k = 0..n-1 (or n-1..0)."""
    c = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    cmask = c < BD
    if HAS_INIT:
        carry = tl.load(init_ptr + c, mask=cmask, other=0.0).to(ACC)
    else:
        carry = tl.zeros([BLOCK], dtype=ACC)
    for i in range(n):
        if REVERSE:
            k = n - 1 - i
        else:
            k = i
        tl.store(cin_ptr + k * BD + c, carry, mask=cmask)
        carry = tl.load(p_ptr + k * BD + c, mask=cmask, other=1.0) * carry + \
            tl.load(e_ptr + k * BD + c, mask=cmask, other=0.0)
    tl.store(last_ptr + c, carry, mask=cmask)


@triton.jit
def _scan_fwd_apply_kernel(a_ptr, b_ptr, len_ptr, cin_ptr, h_ptr, T, D, BD, CH,
                           HAS_LEN: tl.constexpr, BLOCK: tl.constexpr, ACC: tl.constexpr):
    pid = tl.program_id(0)
    k = tl.program_id(1)
    c = pid * BLOCK + tl.arange(0, BLOCK)
    cmask = c < BD
    bi = (c // D).to(tl.int64)
    off = bi * T * D + (c % D).to(tl.int64)
    if HAS_LEN:
        L = tl.load(len_ptr + bi, mask=cmask, other=0)
    h = tl.load(cin_ptr + k * BD + c, mask=cmask, other=0.0)
    start = k * CH
    for s in range(CH):
        t = start + s
        tv = t + tl.zeros([BLOCK], dtype=tl.int32)  # a vector: the interpreter masks need one
        m = cmask & (tv < T)
        a = tl.load(a_ptr + off + t * D, mask=m, other=1.0).to(ACC)
        b = tl.load(b_ptr + off + t * D, mask=m, other=0.0).to(ACC)
        hn = a * h + b
        if HAS_LEN:
            valid = t < L
            h = tl.where(valid, hn, h)
            out = tl.where(valid, h, 0.0)
        else:
            h = hn
            out = h
        tl.store(h_ptr + off + t * D, out.to(h_ptr.dtype.element_ty), mask=m)
