"""Triton forward of the LayerNorm-LSTM's sequential part (rnnkit/cells/layernorm.py): whole rows.

Why whole rows, not the split layout's unit slices: the split kernels (:mod:`.triton_split_fwd`)
give each program 16 or 32 hidden units of all gates, so one batch element's G = 4H recurrent
pre-activations are spread over H/16..H/32 programs. LayerNorm needs the mean and variance of the
whole row before any gate can fire, and the LSTM's second LayerNorm (of c_t over H) needs every
unit's c_t before any h_t exists: in the split layout that is two more grid-wide reductions per
step (a partial-statistics exchange and a barrier before the gates, another before h_t), i.e.
three barriers per step instead of one, plus per-phase launches under the interpreter. Here
program q owns batch block q (BLOCK_B rows) and ALL H units of it (the split family's ``single``
layout, BLOCK_J = BLOCK_K): both LayerNorms are in-register row reductions (``tl.sum``), the
programs never exchange anything, and there is no barrier at all (one launch walks all T steps,
on CUDA and under the interpreter alike). The cost: W_hh is not divided among SMs: each program
holds all of it (4 tiles ``(BLOCK_K, BLOCK_K)``), so parallelism is over batch blocks only and H
is bounded by what one program holds on chip (``persistent.plan(..., one_program=True)``: about
H <= 128 in fp16/bf16, 64 in fp32, for training; the GRU's three gates fit 128 in fp32);
larger H is refused with a one-line error.

Per step t, rows b of the block (``*`` elementwise, LN over the 4H row, then over the H row)::

    p = h_{t-1} W_hh^T                  (BLOCK_B, 4H) four tl.dot, fp32 accumulation (h * hmask if any)
    n = (p - mean(p)) * rstd_g;  a = gi_t + gamma_hh * n;  i, f, o = sig(a_i, a_f, a_o);  g = tanh(a_g)
    c_t = f c_{t-1} + i g;  nc = (c_t - mean(c_t)) * rstd_c;  u = gamma_c * nc + beta_c;  h_t = o tanh(u)

With SAVE (training), fp32: ``act (B, T, 4H)`` = [i, f, g, o], ``nh (B, T, 4H)`` = n,
``cs (B, T, H)`` = c_t, ``nc (B, T, H)`` = nc and ``rs (B, T, 2)`` = (rstd_g, rstd_c): the
backward reads the normalised values and rstd as the forward made them (nothing re-derived).
Lengths: steps t >= lengths[b] hold (h, c) and output 0.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.headwise_common import head_block
from rnnkit.kernels.lstm.triton_cell import lstm_update
from rnnkit.kernels.triton_blocks import load_gates, store_gates, tanh
from rnnkit.kernels.triton_ln import ln1, ln4, row_tiles


@triton.jit
def _ln_lstm_fwd_kernel(gi_ptr, w_ptr, gh_ptr, gc_ptr, bc_ptr, h_ptr, c_ptr, len_ptr, hm_ptr, y_ptr,
                        act_ptr, nh_ptr, cs_ptr, nc_ptr, rs_ptr, B, T, H, eps,
                        HAS_BC: tl.constexpr, HAS_LEN: tl.constexpr, HAS_HMASK: tl.constexpr, SAVE: tl.constexpr,
                        BLOCK_B: tl.constexpr, BLOCK_K: tl.constexpr, DOT_PREC: tl.constexpr):
    pb = tl.program_id(0)
    rb, k, rmask, cm, m2, wmask = row_tiles(pb, B, H, BLOCK_B, BLOCK_K)
    # gate g's (H, H) block of W_hh, W as one head (rnnkit/kernels/headwise_common.py)
    w_i = head_block(w_ptr, 0, 0, 4, H, k, wmask, True)
    w_f = head_block(w_ptr, 0, 1, 4, H, k, wmask, True)
    w_g = head_block(w_ptr, 0, 2, 4, H, k, wmask, True)
    w_o = head_block(w_ptr, 0, 3, 4, H, k, wmask, True)
    # gains and shifts as (1, BLOCK_K) rows, fp32, 0 in masked columns
    g_i, g_f, g_g, g_o = load_gates(gh_ptr, k[None, :], H, cm)
    gam_c = tl.load(gc_ptr + k[None, :], mask=cm, other=0.0).to(tl.float32)
    if HAS_BC:
        bet_c = tl.load(bc_ptr + k[None, :], mask=cm, other=0.0).to(tl.float32)
    else:
        bet_c = tl.zeros([1, BLOCK_K], dtype=tl.float32)
    s_off = rb[:, None].to(tl.int64) * H + k[None, :]
    h = tl.load(h_ptr + s_off, mask=m2, other=0.0)
    c = tl.load(c_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    gi_row = rb[:, None].to(tl.int64) * T * 4 * H + k[None, :]
    y_row = rb[:, None].to(tl.int64) * T * H + k[None, :]
    rs_row = rb.to(tl.int64) * T * 2
    for t in range(0, T):
        if HAS_HMASK:
            hd = (h * hm).to(w_ptr.dtype.element_ty)
        else:
            hd = h.to(w_ptr.dtype.element_ty)
        n_i, n_f, n_g, n_o, rstd = ln4(tl.dot(hd, w_i, input_precision=DOT_PREC),
                                       tl.dot(hd, w_f, input_precision=DOT_PREC),
                                       tl.dot(hd, w_g, input_precision=DOT_PREC),
                                       tl.dot(hd, w_o, input_precision=DOT_PREC), cm, 4 * H, eps)
        g0 = gi_row + t * 4 * H
        x_i, x_f, x_g, x_o = load_gates(gi_ptr, g0, H, m2)
        s_i, s_f, t_g, s_o, c_new, _ = lstm_update(x_i + g_i * n_i, x_f + g_f * n_f, x_g + g_g * n_g,
                                                   x_o + g_o * n_o, c)
        nc, rstd_c = ln1(c_new, cm, H, eps)
        h_new = s_o * tanh(gam_c * nc + bet_c)
        if SAVE:
            store_gates(act_ptr, g0, H, s_i, s_f, t_g, s_o, m2)
            store_gates(nh_ptr, g0, H, n_i, n_f, n_g, n_o, m2)
            tl.store(cs_ptr + y_row + t * H, c_new, mask=m2)
            tl.store(nc_ptr + y_row + t * H, nc, mask=m2)
            tl.store(rs_ptr + rs_row + t * 2, tl.sum(rstd, axis=1), mask=rmask)
            tl.store(rs_ptr + rs_row + t * 2 + 1, tl.sum(rstd_c, axis=1), mask=rmask)
        if HAS_LEN:
            valid = (t < L)[:, None]
            h = tl.where(valid, h_new, h)
            c = tl.where(valid, c_new, c)
            out = tl.where(valid, h, 0.0)
        else:
            h = h_new
            c = c_new
            out = h
        tl.store(y_ptr + y_row + t * H, out.to(y_ptr.dtype.element_ty), mask=m2)
    tl.store(h_ptr + s_off, h, mask=m2)
    tl.store(c_ptr + s_off, c, mask=m2)
