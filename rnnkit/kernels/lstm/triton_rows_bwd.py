"""Triton backward of the LSTM's sequential part, rows layout (the product turned around).

The walk of :mod:`.triton_split_bwd` (program ``(p, q)`` owns hidden units ``J_p`` of batch block
q, t = T-1..0, dh = dL/dh_t and dc = dL/dc_t of its units in fp32 registers, a grid barrier per
step), with the recurrent product turned around as :mod:`.triton_rows_fwd` turns the forward's:
the weight slice is the *left* operand and the states are held transposed, ``(BLOCK_J, BLOCK_B)``::

    W_g^T  (BLOCK_J, BLOCK_K):  [j, k] = W_hh[g*H + k, J_p[j]]     g = i, f, g, o; loaded once
    dx_g^T (BLOCK_K, BLOCK_B):  [k, b] = dL/da_g of unit k, batch row b, step t+1 (exchange buffer)
    dh^T   = sum_g W_g^T @ dx_g^T   (BLOCK_J, BLOCK_B), fp32         (= ([da] W_hh)^T restricted to J_p)

The four gradient tiles are read one at a time, each multiplied before the next is loaded
(:func:`rnnkit.kernels.triton_blocks.dot_gate_t`), so a program holds its weight slice and one
gradient tile, ``(4*BLOCK_J + BLOCK_B) * BLOCK_K`` elements, where the split backward holds four
tiles, ``(4*BLOCK_J + 4*BLOCK_B) * BLOCK_K``: fp16/bf16 training fits H = 768 and 1024
(``rnnkit.kernels.persistent.plan``). Per step, with the saved i, f, g, o, c_t of J_p (the
per-unit equations are :func:`.triton_cell.lstm_update_grad`, as in the split backward)::

    dh = [dh^T above] * hmask (t < T-1; a padded step t+1 passes dh unchanged)
    dh~ = dy_t + dh;   dc~ = dc + dh~ o (1 - tanh(c_t)^2)
    [di, df, dg, do] of J_p -> dgates_t (fp32, = dL/dgi_t) and the exchange buffer dx[t % 2]
    dc <- dc~ f;   grid barrier

A final iteration s = T only reads (dL/dh0). The exchange buffer ``dx (2, B, 4H)`` in the input
dtype, its double buffering, the barrier and the per-step launches under the interpreter
(``SYNC=False``, dh and dc travelling between launches in ``dh_ptr``/``dc_ptr``) are exactly those
of :mod:`.triton_split_bwd`, which documents why they are safe. Lengths: padded steps are
identities (gate gradients 0, dh and dc unchanged). No zoneout (the rows forward has none).
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.grid_sync import grid_barrier
from rnnkit.kernels.lstm.triton_cell import lstm_update_grad
from rnnkit.kernels.triton_blocks import (
    dot_gate_t,
    load_gates,
    load_weight_t,
    rows_tiles,
    store_gates,
    zero_invalid,
)


@triton.jit
def _lstm_rows_bwd_kernel(gates_ptr, cs_ptr, c0_ptr, w_ptr, len_ptr, dy_ptr, dx_ptr, dh_ptr, dc_ptr,
                          dgates_ptr, bar_ptr, B, T, H, s_begin, s_end, hm_ptr,
                          HAS_C0: tl.constexpr, HAS_LEN: tl.constexpr, SYNC: tl.constexpr, HAS_HMASK: tl.constexpr,
                          BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr,
                          DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    _, _, _, jj, rb, k, bmask, m2 = rows_tiles(pj, pb, B, H, BLOCK_B, BLOCK_J, BLOCK_K)
    w_i = load_weight_t(w_ptr, 0, H, jj, k)
    w_f = load_weight_t(w_ptr, 1, H, jj, k)
    w_g = load_weight_t(w_ptr, 2, H, jj, k)
    w_o = load_weight_t(w_ptr, 3, H, jj, k)
    s_off = rb[None, :].to(tl.int64) * H + jj[:, None]  # (J, BB) into a (B, H) tensor
    xt_off = rb[None, :].to(tl.int64) * 4 * H + k[:, None]  # (BK, BB): dx^T of gate block 0 (+ g*H)
    xg_off = rb[None, :].to(tl.int64) * 4 * H + jj[:, None]  # (J, BB): own units of dx's gate block 0
    mkt = (k < H)[:, None] & bmask[None, :]
    if HAS_C0:
        c0 = tl.load(c0_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        c0 = tl.zeros([BLOCK_J, BLOCK_B], dtype=tl.float32)
    dh = tl.load(dh_ptr + s_off, mask=m2, other=0.0)
    dc = tl.load(dc_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:  # the product read h * m: its gradient reaches h times m
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=bmask, other=0)
    g_row = rb[None, :].to(tl.int64) * T * 4 * H + jj[:, None]  # (J, BB): gate block 0 of step 0
    y_row = rb[None, :].to(tl.int64) * T * H + jj[:, None]
    for s in range(s_begin, s_end):  # s = T - 1 - t; the last iteration (s = T) only reads
        t = T - 1 - s
        if s > 0:  # dh_t from step t+1 through W_hh: every unit's gate gradients of step t+1
            xb = dx_ptr + ((t + 1) % 2) * B * 4 * H + xt_off
            dh_new = tl.zeros([BLOCK_J, BLOCK_B], dtype=tl.float32)
            dh_new = dot_gate_t(dh_new, w_i, xb, mkt, DOT_PREC)  # one gradient tile at a time
            dh_new = dot_gate_t(dh_new, w_f, xb + H, mkt, DOT_PREC)
            dh_new = dot_gate_t(dh_new, w_g, xb + 2 * H, mkt, DOT_PREC)
            dh_new = dot_gate_t(dh_new, w_o, xb + 3 * H, mkt, DOT_PREC)
            if HAS_HMASK:
                dh_new = dh_new * hm
            if HAS_LEN:  # a padded step t+1 passed dh through unchanged
                dh = tl.where((t + 1 < L)[None, :], dh_new, dh)
            else:
                dh = dh_new
        if s < T:
            g0 = g_row + t * 4 * H
            y0 = y_row + t * H
            i, f, g, o = load_gates(gates_ptr, g0, H, m2)
            c_t = tl.load(cs_ptr + y0, mask=m2, other=0.0)
            c_p = tl.load(cs_ptr + y_row + tl.maximum(t - 1, 0) * H, mask=m2, other=0.0)
            c_p = tl.where(t > 0, c_p, c0)
            dh_t = tl.load(dy_ptr + y0, mask=m2, other=0.0).to(tl.float32) + dh
            d_i, d_f, d_g, d_o, dc_t = lstm_update_grad(i, f, g, o, c_t, c_p, dh_t, dc)
            if HAS_LEN:
                valid = (t < L)[None, :]
                d_i, d_f, d_g, d_o = zero_invalid(valid, d_i, d_f, d_g, d_o)
                dc = tl.where(valid, dc_t * f, dc)
            else:
                dc = dc_t * f
            store_gates(dgates_ptr, g0, H, d_i, d_f, d_g, d_o, m2)
            dt = dx_ptr.dtype.element_ty  # products in the input dtype, accumulated in fp32
            store_gates(dx_ptr + (t % 2) * B * 4 * H, xg_off, H, d_i.to(dt), d_f.to(dt), d_g.to(dt), d_o.to(dt), m2)
            if SYNC:
                grid_barrier(bar_ptr + pb, (s - s_begin + 1) * tl.num_programs(0))
    tl.store(dh_ptr + s_off, dh, mask=m2)
    tl.store(dc_ptr + s_off, dc, mask=m2)
