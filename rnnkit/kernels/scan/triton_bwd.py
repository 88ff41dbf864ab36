"""Triton backward of the linear recurrence: a reversed scan (see README.md).

With g_t = dL/dh_t summed over every use of h_t (the output and the next step)::

    g_t = dy_t + a_{t+1} g_{t+1}        (g_{T-1} = dy_{T-1})
    dL/db_t = g_t,   dL/da_t = g_t h_{t-1} (h_{-1} = h0, or 0),   dL/dh0 = a_0 g_0

Program p owns a block of the B*D channels (as the forward) and walks t = T-1..0 with g and
a_{t+1} in fp32 registers (fp64 for fp64 inputs); h_{t-1} is read back from the forward's output. With lengths, padded
steps are identities (``a = 1``, their dy ignored because their output is the constant 0), so g
is 0 there and so are the gradients of a and b.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _scan_bwd_kernel(a_ptr, h_ptr, h0_ptr, len_ptr, dy_ptr, dhlast_ptr, da_ptr, db_ptr, dh0_ptr,
                     T, D, BD, HAS_H0: tl.constexpr, HAS_LEN: tl.constexpr,
                     HAS_DHLAST: tl.constexpr, BLOCK: tl.constexpr, ACC: tl.constexpr):
    pid = tl.program_id(0)
    c = pid * BLOCK + tl.arange(0, BLOCK)
    cmask = c < BD
    bi = (c // D).to(tl.int64)
    di = (c % D).to(tl.int64)
    off = bi * T * D + di
    if HAS_H0:
        h0 = tl.load(h0_ptr + c, mask=cmask, other=0.0).to(ACC)
    else:
        h0 = tl.zeros([BLOCK], dtype=ACC)
    if HAS_LEN:
        L = tl.load(len_ptr + bi, mask=cmask, other=0)
    # gradient flowing into the final state (the state after the last valid step): it joins g at
    # that step; with no padding that is simply g_{T-1} += dhlast
    if HAS_DHLAST:
        g = tl.load(dhlast_ptr + c, mask=cmask, other=0.0).to(ACC)
    else:
        g = tl.zeros([BLOCK], dtype=ACC)
    a_next = tl.full([BLOCK], 1.0, dtype=ACC)  # carries g_{t+1} -> g_t; g starts as dhlast
    for i in range(T):
        t = T - 1 - i
        p = off + t * D
        a = tl.load(a_ptr + p, mask=cmask, other=1.0).to(ACC)
        dy = tl.load(dy_ptr + p, mask=cmask, other=0.0).to(ACC)
        if HAS_LEN:
            valid = t < L
            a = tl.where(valid, a, 1.0)
            dy = tl.where(valid, dy, 0.0)
        g = dy + a_next * g
        # h_{t-1}, read at step max(t-1, 0) and replaced by h0 at t = 0 (no scalar in the mask)
        hp = tl.load(h_ptr + off + tl.maximum(t - 1, 0) * D, mask=cmask, other=0.0).to(ACC)
        hp = tl.where(t > 0, hp, h0)
        da = g * hp
        if HAS_LEN:  # at padded steps g only carries dhlast down to the last valid step
            da = tl.where(valid, da, 0.0)
            g_out = tl.where(valid, g, 0.0)
        else:
            g_out = g
        tl.store(da_ptr + p, da.to(da_ptr.dtype.element_ty), mask=cmask)
        tl.store(db_ptr + p, g_out.to(db_ptr.dtype.element_ty), mask=cmask)
        a_next = a
    if HAS_H0:
        tl.store(dh0_ptr + c, (a_next * g).to(dh0_ptr.dtype.element_ty), mask=cmask)


# ---------------------------------------------------------------------------------------------
# chunked backward: the reversed scan g_t = alpha_t g_{t+1} + beta_t with alpha_t = a'_{t+1}
# (a' = 1 past T and at padded steps) and beta_t = dy'_t, split like the forward (triton_fwd.py):
# local reversed scans per chunk from 0, the carry over chunks from g_T = dL/dh_last
# (_scan_carry_kernel with REVERSE), then every chunk again from its true g_{end}.
@triton.jit
def _alpha_beta(a_ptr, dy_ptr, off, t, T, D, cmask, L, HAS_LEN: tl.constexpr, ACC: tl.constexpr):
    """(a'_{t+1}, dy'_t): the coefficients of the reversed scan at step t (t a vector)."""
    mn = cmask & (t + 1 < T)
    alpha = tl.load(a_ptr + off + (t + 1) * D, mask=mn, other=1.0).to(ACC)
    beta = tl.load(dy_ptr + off + t * D, mask=cmask & (t < T), other=0.0).to(ACC)
    if HAS_LEN:
        alpha = tl.where(t + 1 < L, alpha, 1.0)
        beta = tl.where(t < L, beta, 0.0)
    return alpha, beta


@triton.jit
def _scan_bwd_local_kernel(a_ptr, dy_ptr, len_ptr, e_ptr, p_ptr, T, D, BD, CH,
                           HAS_LEN: tl.constexpr, BLOCK: tl.constexpr, ACC: tl.constexpr):
    pid = tl.program_id(0)
    k = tl.program_id(1)
    c = pid * BLOCK + tl.arange(0, BLOCK)
    cmask = c < BD
    bi = (c // D).to(tl.int64)
    off = bi * T * D + (c % D).to(tl.int64)
    if HAS_LEN:
        L = tl.load(len_ptr + bi, mask=cmask, other=0)
    else:
        L = T
    g = tl.zeros([BLOCK], dtype=ACC)
    prod = tl.full([BLOCK], 1.0, dtype=ACC)
    for s in range(CH):
        t = k * CH + CH - 1 - s  # steps past T are identities (alpha = 1, beta = 0)
        tv = t + tl.zeros([BLOCK], dtype=tl.int32)  # a vector: the interpreter masks need one
        alpha, beta = _alpha_beta(a_ptr, dy_ptr, off, tv, T, D, cmask, L, HAS_LEN, ACC)
        g = alpha * g + beta
        prod = prod * alpha
    tl.store(e_ptr + k * BD + c, g, mask=cmask)
    tl.store(p_ptr + k * BD + c, prod, mask=cmask)


@triton.jit
def _scan_bwd_apply_kernel(a_ptr, h_ptr, h0_ptr, len_ptr, dy_ptr, cin_ptr, da_ptr, db_ptr,
                           T, D, BD, CH, HAS_H0: tl.constexpr, HAS_LEN: tl.constexpr,
                           BLOCK: tl.constexpr, ACC: tl.constexpr):
    pid = tl.program_id(0)
    k = tl.program_id(1)
    c = pid * BLOCK + tl.arange(0, BLOCK)
    cmask = c < BD
    bi = (c // D).to(tl.int64)
    off = bi * T * D + (c % D).to(tl.int64)
    if HAS_LEN:
        L = tl.load(len_ptr + bi, mask=cmask, other=0)
    else:
        L = T
    if HAS_H0:
        h0 = tl.load(h0_ptr + c, mask=cmask, other=0.0).to(ACC)
    else:
        h0 = tl.zeros([BLOCK], dtype=ACC)
    g = tl.load(cin_ptr + k * BD + c, mask=cmask, other=0.0)  # g_{end}: from the later chunks
    for s in range(CH):
        t = k * CH + CH - 1 - s
        tv = t + tl.zeros([BLOCK], dtype=tl.int32)
        m = cmask & (tv < T)
        alpha, beta = _alpha_beta(a_ptr, dy_ptr, off, tv, T, D, cmask, L, HAS_LEN, ACC)
        g = alpha * g + beta
        hp = tl.load(h_ptr + off + tl.maximum(t - 1, 0) * D, mask=m, other=0.0).to(ACC)
        hp = tl.where(t > 0, hp, h0)
        valid = t < L
        tl.store(da_ptr + off + t * D, tl.where(valid, g * hp, 0.0).to(da_ptr.dtype.element_ty), mask=m)
        tl.store(db_ptr + off + t * D, tl.where(valid, g, 0.0).to(db_ptr.dtype.element_ty), mask=m)
