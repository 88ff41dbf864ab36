"""Triton backward of the split GRU (:mod:`.triton_split_fwd`).

Program ``(p, q)`` owns hidden units ``J_p`` of batch block q and walks t = T-1..0 carrying the
gradient that reaches h_t from later steps. Its weight slice is three ``(BLOCK_K, BLOCK_J)``
tiles ``W_g[k, j] = W_hh[g*H + k, j]``. Per step (equations: rnnkit/kernels/gru/triton_cell.py)::

    G = carry + sum_g dx[(t+1) % 2][:, g-block] W_g[:, J_p]    (t < T-1; three tl.dot over all H)
    dh = dy_t + G;  (da_r, da_z, da_n, dn_h, dh_direct) from the saved r, z, n, n_h, h_{t-1}
    dgates_t <- [da_r, da_z, da_n, dn_h] (fp32);  dx[t % 2] <- [da_r, da_z, dn_h] (input dtype)
    carry <- dh_direct;  grid barrier

dx holds the gradients of the three blocks of ``h_{t-1} W_hh^T (+ b_hn)``, which is what flows
back through W_hh. A last iteration s = T only reads, giving dL/dh0. Padded steps are identities
(gate gradients 0, carry unchanged, dy ignored). The exchange, barrier and per-step launches under
the interpreter are those of the LSTM's split backward.

Zoneout (``HAS_ZONE``, h_t = d_t h_{t-1} + (1 - d_t) h~_t with d_t from ``zm``; h_{t-1} from hs is
the zoned state): the cell's gradients take ``(1 - d_t) dh`` in place of dh, and the carry gains
the part that skips the cell, ``carry <- dh_direct + d_t dh``.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.grid_sync import grid_barrier
from rnnkit.kernels.gru.triton_cell import gru_update_grad
from rnnkit.kernels.triton_blocks import load_gates, split_tiles, store_gates, zero_invalid


@triton.jit
def _gru_split_bwd_kernel(saved_ptr, hs_ptr, h0_ptr, w_ptr, len_ptr, dy_ptr, dx_ptr, dh_ptr,
                          dgates_ptr, bar_ptr, B, T, H, s_begin, s_end, hm_ptr, zm_ptr,
                          HAS_H0: tl.constexpr, HAS_LEN: tl.constexpr, SYNC: tl.constexpr, HAS_HMASK: tl.constexpr,
                          HAS_ZONE: tl.constexpr,
                          BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr,
                          DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    rb, j, k, rmask, jmask, m2, mk, wmask = split_tiles(pj, pb, B, H, BLOCK_B, BLOCK_J, BLOCK_K)
    w_off = k[:, None] * H + j[None, :]  # W_g[k, j] = W_hh[g*H + k, j]
    w_r = tl.load(w_ptr + w_off, mask=wmask, other=0.0)
    w_z = tl.load(w_ptr + H * H + w_off, mask=wmask, other=0.0)
    w_n = tl.load(w_ptr + 2 * H * H + w_off, mask=wmask, other=0.0)
    s_off = rb[:, None].to(tl.int64) * H + j[None, :]
    x_off = rb[:, None].to(tl.int64) * 3 * H + k[None, :]  # gate block g of dx: + g*H
    xg_off = rb[:, None].to(tl.int64) * 3 * H + j[None, :]  # own units of dx's gate block g
    if HAS_H0:
        h0 = tl.load(h0_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        h0 = tl.zeros([BLOCK_B, BLOCK_J], dtype=tl.float32)
    carry = tl.load(dh_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:  # the product read h * m: its gradient reaches h times m
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    sv_row = rb[:, None].to(tl.int64) * T * 4 * H + j[None, :]
    y_row = rb[:, None].to(tl.int64) * T * H + j[None, :]
    for s in range(s_begin, s_end):  # s = T - 1 - t; the last iteration (s = T) only reads
        t = T - 1 - s
        G = carry
        if s > 0:  # through W_hh from step t+1: every unit's gradients of step t+1
            xb = dx_ptr + ((t + 1) % 2) * B * 3 * H
            x_r = tl.load(xb + x_off, mask=mk, other=0.0, cache_modifier=".cg")
            x_z = tl.load(xb + x_off + H, mask=mk, other=0.0, cache_modifier=".cg")
            x_n = tl.load(xb + x_off + 2 * H, mask=mk, other=0.0, cache_modifier=".cg")
            through = tl.dot(x_r, w_r, input_precision=DOT_PREC)
            through += tl.dot(x_z, w_z, input_precision=DOT_PREC)
            through += tl.dot(x_n, w_n, input_precision=DOT_PREC)
            if HAS_HMASK:
                through = through * hm
            G += through
        if s < T:
            s0 = sv_row + t * 4 * H
            r, z, n, n_h = load_gates(saved_ptr, s0, H, m2)
            h_prev = tl.load(hs_ptr + y_row + tl.maximum(t - 1, 0) * H, mask=m2, other=0.0)
            h_prev = tl.where(t > 0, h_prev, h0)
            dh = tl.load(dy_ptr + y_row + t * H, mask=m2, other=0.0).to(tl.float32) + G
            if HAS_ZONE:  # h_t = d h_{t-1} + (1 - d) h~_t: the cell sees (1 - d) dh, h_{t-1} also d dh
                d = tl.load(zm_ptr + y_row + t * H, mask=m2, other=0.0)
                da_r, da_z, da_n, dn_h, dh_dir = gru_update_grad(r, z, n, n_h, h_prev, (1.0 - d) * dh)
                dh_dir += d * dh
            else:
                da_r, da_z, da_n, dn_h, dh_dir = gru_update_grad(r, z, n, n_h, h_prev, dh)
            if HAS_LEN:
                valid = (t < L)[:, None]
                da_r, da_z, da_n, dn_h = zero_invalid(valid, da_r, da_z, da_n, dn_h)
                carry = tl.where(valid, dh_dir, G)
            else:
                carry = dh_dir
            store_gates(dgates_ptr, s0, H, da_r, da_z, da_n, dn_h, m2)
            xw = dx_ptr + (t % 2) * B * 3 * H
            dt = dx_ptr.dtype.element_ty  # products in the input dtype, accumulated in fp32
            tl.store(xw + xg_off, da_r.to(dt), mask=m2)
            tl.store(xw + xg_off + H, da_z.to(dt), mask=m2)
            tl.store(xw + xg_off + 2 * H, dn_h.to(dt), mask=m2)
            if SYNC:
                grid_barrier(bar_ptr + pb, (s - s_begin + 1) * tl.num_programs(0))
        else:
            carry = G
    tl.store(dh_ptr + s_off, carry, mask=m2)
