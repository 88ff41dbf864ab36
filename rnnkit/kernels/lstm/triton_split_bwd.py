"""Triton backward of the split LSTM (:mod:`.triton_split_fwd`): W_hh split across programs.

Program ``(p, q)`` owns hidden units ``J_p`` for batch block ``q`` and walks t = T-1..0 carrying
dh = dL/dh_t and dc = dL/dc_t of its units in fp32 registers. Its on-chip weight slice is four
``(BLOCK_K, BLOCK_J)`` tiles ``W_g[k, j] = W_hh[g*H + k, j]`` (the columns J_p of each gate block).
Per step, with the forward's saved activations i, f, g, o and c_t of J_p (the per-unit
equations are :func:`.triton_cell.lstm_update_grad`)::

    dh = sum_g dx[(t+1) % 2][:, g-block] W_g[:, J_p]    (t < T-1) four tl.dot over all H units
    dh~ = dy_t + dh;   dc~ = dc + dh~ o (1 - tanh(c_t)^2)
    [di, df, dg, do] of J_p -> dgates_t (fp32, = dL/dgi_t) and the exchange buffer dx[t % 2]
    dc <- dc~ f;   grid barrier

Each program needs every unit's gate gradients of step t+1, hence the barrier between the write
(end of step t+1) and the read (start of step t). A final iteration s = T only reads, giving
dL/dh0. dx[t % 2] is written again at step t-2, after the barrier ending step t-1, which every
program reaches only after its reads of dx[t % 2]. With ``SYNC=False`` (interpreter) the host
launches one iteration at a time, and dh, dc travel between launches in ``dh_ptr``/``dc_ptr``
(fp32, (B, H)), which start as dL/dh_n, dL/dc_n and end as dL/dh0, dL/dc0. Padded steps are
identities: their gate gradients are 0 and dh, dc pass through.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.grid_sync import grid_barrier
from rnnkit.kernels.lstm.triton_cell import lstm_update_grad
from rnnkit.kernels.triton_blocks import load_gates, split_tiles, store_gates, zero_invalid


@triton.jit
def _lstm_split_bwd_kernel(gates_ptr, cs_ptr, c0_ptr, w_ptr, len_ptr, dy_ptr, dx_ptr, dh_ptr, dc_ptr,
                           dgates_ptr, bar_ptr, B, T, H, s_begin, s_end, hm_ptr,
                           HAS_C0: tl.constexpr, HAS_LEN: tl.constexpr, SYNC: tl.constexpr, HAS_HMASK: tl.constexpr,
                           BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr,
                           DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    rb, j, k, rmask, jmask, m2, mk, wmask = split_tiles(pj, pb, B, H, BLOCK_B, BLOCK_J, BLOCK_K)
    w_off = k[:, None] * H + j[None, :]  # W_g[k, j] = W_hh[g*H + k, j]
    w_i = tl.load(w_ptr + 0 * H * H + w_off, mask=wmask, other=0.0)
    w_f = tl.load(w_ptr + 1 * H * H + w_off, mask=wmask, other=0.0)
    w_g = tl.load(w_ptr + 2 * H * H + w_off, mask=wmask, other=0.0)
    w_o = tl.load(w_ptr + 3 * H * H + w_off, mask=wmask, other=0.0)
    s_off = rb[:, None].to(tl.int64) * H + j[None, :]
    x_off = rb[:, None].to(tl.int64) * 4 * H + k[None, :]  # gate block g of dx: + g*H
    xg_off = rb[:, None].to(tl.int64) * 4 * H + j[None, :]  # own units of dx's gate block g
    if HAS_C0:
        c0 = tl.load(c0_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        c0 = tl.zeros([BLOCK_B, BLOCK_J], dtype=tl.float32)
    dh = tl.load(dh_ptr + s_off, mask=m2, other=0.0)
    dc = tl.load(dc_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:  # the product read h * m: its gradient reaches h times m
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    g_row = rb[:, None].to(tl.int64) * T * 4 * H + j[None, :]
    y_row = rb[:, None].to(tl.int64) * T * H + j[None, :]
    for s in range(s_begin, s_end):  # s = T - 1 - t; the last iteration (s = T) only reads
        t = T - 1 - s
        if s > 0:  # dh_t from step t+1 through W_hh: every unit's gate gradients of step t+1
            xb = dx_ptr + ((t + 1) % 2) * B * 4 * H
            a_i = tl.load(xb + x_off, mask=mk, other=0.0, cache_modifier=".cg")
            a_f = tl.load(xb + x_off + H, mask=mk, other=0.0, cache_modifier=".cg")
            a_g = tl.load(xb + x_off + 2 * H, mask=mk, other=0.0, cache_modifier=".cg")
            a_o = tl.load(xb + x_off + 3 * H, mask=mk, other=0.0, cache_modifier=".cg")
            dh_new = tl.dot(a_i, w_i, input_precision=DOT_PREC)
            dh_new += tl.dot(a_f, w_f, input_precision=DOT_PREC)
            dh_new += tl.dot(a_g, w_g, input_precision=DOT_PREC)
            dh_new += tl.dot(a_o, w_o, input_precision=DOT_PREC)
            if HAS_HMASK:
                dh_new = dh_new * hm
            if HAS_LEN:  # a padded step t+1 passed dh through unchanged
                dh = tl.where((t + 1 < L)[:, None], dh_new, dh)
            else:
                dh = dh_new
        if s < T:
            g0 = g_row + t * 4 * H
            y0 = y_row + t * H
            i, f, g, o = load_gates(gates_ptr, g0, H, m2)
            c_t = tl.load(cs_ptr + y0, mask=m2, other=0.0)
            c_p = tl.load(cs_ptr + y_row + tl.maximum(t - 1, 0) * H, mask=m2, other=0.0)
            c_p = tl.where(t > 0, c_p, c0)
            dy = tl.load(dy_ptr + y0, mask=m2, other=0.0).to(tl.float32)
            dh_t = dy + dh
            d_i, d_f, d_g, d_o, dc_t = lstm_update_grad(i, f, g, o, c_t, c_p, dh_t, dc)
            if HAS_LEN:
                valid = (t < L)[:, None]
                d_i, d_f, d_g, d_o = zero_invalid(valid, d_i, d_f, d_g, d_o)
                dc = tl.where(valid, dc_t * f, dc)
            else:
                dc = dc_t * f
            store_gates(dgates_ptr, g0, H, d_i, d_f, d_g, d_o, m2)
            xw = dx_ptr + (t % 2) * B * 4 * H
            dt = dx_ptr.dtype.element_ty  # products in the input dtype, accumulated in fp32
            tl.store(xw + xg_off, d_i.to(dt), mask=m2)
            tl.store(xw + xg_off + H, d_f.to(dt), mask=m2)
            tl.store(xw + xg_off + 2 * H, d_g.to(dt), mask=m2)
            tl.store(xw + xg_off + 3 * H, d_o.to(dt), mask=m2)
            if SYNC:
                grid_barrier(bar_ptr + pb, (s - s_begin + 1) * tl.num_programs(0))
    tl.store(dh_ptr + s_off, dh, mask=m2)
    tl.store(dc_ptr + s_off, dc, mask=m2)
