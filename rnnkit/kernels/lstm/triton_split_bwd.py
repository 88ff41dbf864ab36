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

Zoneout (``h_t = d^h h_{t-1} + (1 - d^h) h~_t``, ``c_t = d^c c_{t-1} + (1 - d^c) c~_t``, weights
from ``zh``/``zc``; ``cs`` holds the zoned c_t, ``cc`` the candidates c~_t): the cell's gradients
take ``(1 - d^h) dh~`` and ``(1 - d^c) dc`` with tanh(c~_t), and the carries gain the parts that
skip the cell: ``dc <- dc~ f + d^c dc``, and dh keeps ``d^h dh~`` to which the next iteration
adds the product through W_hh (so both carries still travel between launches in dh_ptr, dc_ptr).
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.grid_sync import grid_barrier
from rnnkit.kernels.lstm.triton_cell import lstm_update_grad
from rnnkit.kernels.triton_blocks import load_gates, split_tiles, store_gates, zero_invalid


@triton.jit
def _lstm_split_bwd_kernel(gates_ptr, cs_ptr, c0_ptr, w_ptr, len_ptr, dy_ptr, dx_ptr, dh_ptr, dc_ptr,
                           dgates_ptr, bar_ptr, B, T, H, s_begin, s_end, hm_ptr, zh_ptr, zc_ptr, cc_ptr,
                           HAS_C0: tl.constexpr, HAS_LEN: tl.constexpr, SYNC: tl.constexpr, HAS_HMASK: tl.constexpr,
                           HAS_ZONE_H: tl.constexpr, HAS_ZONE_C: tl.constexpr,
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
            if HAS_ZONE_H:  # plus d^h dL/dh_{t+1}, kept by step t+1 (it held h_t there)
                dh_new += dh
            if HAS_LEN:  # a padded step t+1 passed dh through unchanged
                dh = tl.where((t + 1 < L)[:, None], dh_new, dh)
            else:
                dh = dh_new
        if s < T:
            g0 = g_row + t * 4 * H
            y0 = y_row + t * H
            i, f, g, o = load_gates(gates_ptr, g0, H, m2)
            if HAS_ZONE_C:  # tanh of the cell's own c~_t; c_{t-1} below is the zoned state
                c_t = tl.load(cc_ptr + y0, mask=m2, other=0.0)
            else:
                c_t = tl.load(cs_ptr + y0, mask=m2, other=0.0)
            c_p = tl.load(cs_ptr + y_row + tl.maximum(t - 1, 0) * H, mask=m2, other=0.0)
            c_p = tl.where(t > 0, c_p, c0)
            dy = tl.load(dy_ptr + y0, mask=m2, other=0.0).to(tl.float32)
            dh_t = dy + dh
            if HAS_ZONE_H:  # keep_h: the part of dL/dh_t carried straight to h_{t-1}
                z_h = tl.load(zh_ptr + y0, mask=m2, other=0.0)
                keep_h = z_h * dh_t
                dh_t = (1.0 - z_h) * dh_t
            if HAS_ZONE_C:
                z_c = tl.load(zc_ptr + y0, mask=m2, other=0.0)
                d_i, d_f, d_g, d_o, dc_t = lstm_update_grad(i, f, g, o, c_t, c_p, dh_t, (1.0 - z_c) * dc)
                dc_prev = dc_t * f + z_c * dc
            else:
                d_i, d_f, d_g, d_o, dc_t = lstm_update_grad(i, f, g, o, c_t, c_p, dh_t, dc)
                dc_prev = dc_t * f
            if HAS_LEN:
                valid = (t < L)[:, None]
                d_i, d_f, d_g, d_o = zero_invalid(valid, d_i, d_f, d_g, d_o)
                dc = tl.where(valid, dc_prev, dc)
                if HAS_ZONE_H:
                    dh = tl.where(valid, keep_h, dh)
            else:
                dc = dc_prev
                if HAS_ZONE_H:
                    dh = keep_h
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
