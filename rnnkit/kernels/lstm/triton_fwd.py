"""Triton forward of the LSTM's sequential part (see README.md and :mod:`.reference`).

Program p owns batch rows ``p*BLOCK_B ..`` and walks t = 0..T-1. The recurrent weight is loaded
once, before the time loop, as four ``(BLOCK_H, BLOCK_H)`` tiles ``W_g^T`` (one per gate) and
stays in registers/shared memory for all T steps (persistent); h and the cell state c stay in fp32
registers. Per step: one load of gi_t, four ``tl.dot`` (h_{t-1} rounded to the input dtype,
fp32 accumulation), the activations and the state update fused, one store of h_t.

With SAVE (training), the activated gates and c_t are written in fp32 for the backward of
:mod:`.triton_bwd` (at padded steps too, where the backward ignores them).

Columns j >= H (H padded to a power of two) see zero weights and zero inputs, so their gates are
i = f = o = 1/2, g = 0 and their c and h stay exactly 0: they never leak into real columns.

This first version keeps all of W_hh in one program: fine for H up to a few hundred; larger H
needs the matrix split across SMs (issue 7, not done).
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _tanh(x):
    # tanh from sigmoid: exact in the limits (tanh -> -1 as sigmoid(2x) -> 0), no overflow
    return 2.0 * tl.sigmoid(2.0 * x) - 1.0


@triton.jit
def _lstm_fwd_kernel(gi_ptr, w_ptr, h0_ptr, c0_ptr, len_ptr, y_ptr, hn_ptr, cn_ptr, gates_ptr, cs_ptr,
                     B, T, H, HAS_H0: tl.constexpr, HAS_C0: tl.constexpr, HAS_LEN: tl.constexpr,
                     SAVE: tl.constexpr,
                     BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr, DOT_PREC: tl.constexpr):
    pid = tl.program_id(0)
    rb = pid * BLOCK_B + tl.arange(0, BLOCK_B)  # batch rows
    j = tl.arange(0, BLOCK_H)  # hidden columns (output of the gate)
    k = tl.arange(0, BLOCK_H)  # hidden rows of W^T (input of the product)
    rmask = rb < B
    jmask = j < H
    m2 = rmask[:, None] & jmask[None, :]
    # W_g^T[k, j] = W_hh[g*H + j, k]; W_hh is (4H, H) row-major
    wmask = (k[:, None] < H) & jmask[None, :]
    w_off = j[None, :] * H + k[:, None]
    w_i = tl.load(w_ptr + 0 * H * H + w_off, mask=wmask, other=0.0)
    w_f = tl.load(w_ptr + 1 * H * H + w_off, mask=wmask, other=0.0)
    w_g = tl.load(w_ptr + 2 * H * H + w_off, mask=wmask, other=0.0)
    w_o = tl.load(w_ptr + 3 * H * H + w_off, mask=wmask, other=0.0)
    s_off = rb[:, None].to(tl.int64) * H + j[None, :]  # (B, H) state tensors
    if HAS_H0:
        h = tl.load(h0_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        h = tl.zeros([BLOCK_B, BLOCK_H], dtype=tl.float32)
    if HAS_C0:
        c = tl.load(c0_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        c = tl.zeros([BLOCK_B, BLOCK_H], dtype=tl.float32)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    gi_row = rb[:, None].to(tl.int64) * T * 4 * H + j[None, :]  # gi[b, 0, j]
    y_row = rb[:, None].to(tl.int64) * T * H + j[None, :]  # y[b, 0, j]
    for t in range(T):
        g0 = gi_row + t * 4 * H
        hd = h.to(w_i.dtype)  # the product in the input dtype, accumulated in fp32
        a_i = tl.load(gi_ptr + g0, mask=m2, other=0.0).to(tl.float32) + tl.dot(hd, w_i, input_precision=DOT_PREC)
        a_f = tl.load(gi_ptr + g0 + H, mask=m2, other=0.0).to(tl.float32) + tl.dot(hd, w_f, input_precision=DOT_PREC)
        a_g = tl.load(gi_ptr + g0 + 2 * H, mask=m2, other=0.0).to(tl.float32) + tl.dot(hd, w_g, input_precision=DOT_PREC)
        a_o = tl.load(gi_ptr + g0 + 3 * H, mask=m2, other=0.0).to(tl.float32) + tl.dot(hd, w_o, input_precision=DOT_PREC)
        s_i = tl.sigmoid(a_i)
        s_f = tl.sigmoid(a_f)
        t_g = _tanh(a_g)
        s_o = tl.sigmoid(a_o)
        c_new = s_f * c + s_i * t_g
        h_new = s_o * _tanh(c_new)
        if SAVE:  # for the backward: activated gates (B, T, 4H) and c_t (B, T, H), fp32
            tl.store(gates_ptr + g0, s_i, mask=m2)
            tl.store(gates_ptr + g0 + H, s_f, mask=m2)
            tl.store(gates_ptr + g0 + 2 * H, t_g, mask=m2)
            tl.store(gates_ptr + g0 + 3 * H, s_o, mask=m2)
            tl.store(cs_ptr + y_row + t * H, c_new, mask=m2)
        if HAS_LEN:
            valid = (t < L)[:, None]
            c = tl.where(valid, c_new, c)
            h = tl.where(valid, h_new, h)
            out = tl.where(valid, h, 0.0)
        else:
            c = c_new
            h = h_new
            out = h
        tl.store(y_ptr + y_row + t * H, out.to(y_ptr.dtype.element_ty), mask=m2)
    tl.store(hn_ptr + s_off, h.to(hn_ptr.dtype.element_ty), mask=m2)
    tl.store(cn_ptr + s_off, c.to(cn_ptr.dtype.element_ty), mask=m2)
