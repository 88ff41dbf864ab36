"""Triton backward of the GRU's sequential part, rows layout (the product turned around).

The walk of :mod:`.triton_split_bwd` (program ``(p, q)`` owns hidden units ``J_p`` of batch block
q, t = T-1..0, carrying the gradient that reaches h_t from later steps; a grid barrier per step)
with the product turned around as in the LSTM's rows backward
(rnnkit/kernels/lstm/triton_rows_bwd.py): the weight slice is the left operand, states are held
transposed, ``(BLOCK_J, BLOCK_B)``::

    W_g^T  (BLOCK_J, BLOCK_K):  [j, k] = W_hh[g*H + k, J_p[j]]      g = r, z, n; loaded once
    dx_g^T (BLOCK_K, BLOCK_B):  gradients of step t+1's g-block of h_{t-1} W_hh^T (+ b_hn):
                                da_r, da_z, dn_h (exchange buffer, input dtype)
    G^T    = carry + (sum_g W_g^T @ dx_g^T) * hmask                  (t < T-1)

The three gradient tiles are read one at a time (``triton_blocks.dot_gate_t``), so a program
holds ``(3*BLOCK_J + BLOCK_B) * BLOCK_K`` elements against the split backward's
``(3*BLOCK_J + 3*BLOCK_B) * BLOCK_K``. Per step (equations: rnnkit/kernels/gru/triton_cell.py)::

    dh = dy_t + G;  (da_r, da_z, da_n, dn_h, dh_direct) from the saved r, z, n, n_h, h_{t-1}
    dgates_t <- [da_r, da_z, da_n, dn_h] (fp32);  dx[t % 2] <- [da_r, da_z, dn_h] (input dtype)
    carry <- dh_direct;  grid barrier

A last iteration s = T only reads (dL/dh0 = G). Padded steps are identities (gate gradients 0,
the carry passes unchanged, dy ignored). Exchange, barrier and per-step launches under the
interpreter are those of :mod:`.triton_split_bwd`. No zoneout (the rows forward has none).
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.grid_sync import grid_barrier
from rnnkit.kernels.gru.triton_cell import gru_update_grad
from rnnkit.kernels.triton_blocks import (
    dot_gate_t,
    load_gates,
    load_weight_t,
    rows_tiles,
    store_gates,
    zero_invalid,
)


@triton.jit
def _gru_rows_bwd_kernel(saved_ptr, hs_ptr, h0_ptr, w_ptr, len_ptr, dy_ptr, dx_ptr, dh_ptr,
                         dgates_ptr, bar_ptr, B, T, H, s_begin, s_end, hm_ptr,
                         HAS_H0: tl.constexpr, HAS_LEN: tl.constexpr, SYNC: tl.constexpr, HAS_HMASK: tl.constexpr,
                         BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr,
                         DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    _, _, _, jj, rb, k, bmask, m2 = rows_tiles(pj, pb, B, H, BLOCK_B, BLOCK_J, BLOCK_K)
    w_r = load_weight_t(w_ptr, 0, H, jj, k)
    w_z = load_weight_t(w_ptr, 1, H, jj, k)
    w_n = load_weight_t(w_ptr, 2, H, jj, k)
    s_off = rb[None, :].to(tl.int64) * H + jj[:, None]  # (J, BB) into a (B, H) tensor
    xt_off = rb[None, :].to(tl.int64) * 3 * H + k[:, None]  # (BK, BB): dx^T of gate block 0 (+ g*H)
    xg_off = rb[None, :].to(tl.int64) * 3 * H + jj[:, None]  # (J, BB): own units of dx's gate block 0
    mkt = (k < H)[:, None] & bmask[None, :]
    if HAS_H0:
        h0 = tl.load(h0_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        h0 = tl.zeros([BLOCK_J, BLOCK_B], dtype=tl.float32)
    carry = tl.load(dh_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:  # the product read h * m: its gradient reaches h times m
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=bmask, other=0)
    sv_row = rb[None, :].to(tl.int64) * T * 4 * H + jj[:, None]
    y_row = rb[None, :].to(tl.int64) * T * H + jj[:, None]
    for s in range(s_begin, s_end):  # s = T - 1 - t; the last iteration (s = T) only reads
        t = T - 1 - s
        G = carry
        if s > 0:  # through W_hh from step t+1 (zero where t+1 was padded: its gradients are 0)
            xb = dx_ptr + ((t + 1) % 2) * B * 3 * H + xt_off
            through = tl.zeros([BLOCK_J, BLOCK_B], dtype=tl.float32)
            through = dot_gate_t(through, w_r, xb, mkt, DOT_PREC)  # one gradient tile at a time
            through = dot_gate_t(through, w_z, xb + H, mkt, DOT_PREC)
            through = dot_gate_t(through, w_n, xb + 2 * H, mkt, DOT_PREC)
            if HAS_HMASK:
                through = through * hm
            G += through
        if s < T:
            s0 = sv_row + t * 4 * H
            r, z, n, n_h = load_gates(saved_ptr, s0, H, m2)
            h_prev = tl.load(hs_ptr + y_row + tl.maximum(t - 1, 0) * H, mask=m2, other=0.0)
            h_prev = tl.where(t > 0, h_prev, h0)
            dh = tl.load(dy_ptr + y_row + t * H, mask=m2, other=0.0).to(tl.float32) + G
            da_r, da_z, da_n, dn_h, dh_dir = gru_update_grad(r, z, n, n_h, h_prev, dh)
            if HAS_LEN:
                valid = (t < L)[None, :]
                da_r, da_z, da_n, dn_h = zero_invalid(valid, da_r, da_z, da_n, dn_h)
                carry = tl.where(valid, dh_dir, G)
            else:
                carry = dh_dir
            store_gates(dgates_ptr, s0, H, da_r, da_z, da_n, dn_h, m2)
            xw = dx_ptr + (t % 2) * B * 3 * H + xg_off
            dt = dx_ptr.dtype.element_ty  # products in the input dtype, accumulated in fp32
            tl.store(xw, da_r.to(dt), mask=m2)
            tl.store(xw + H, da_z.to(dt), mask=m2)
            tl.store(xw + 2 * H, dn_h.to(dt), mask=m2)
            if SYNC:
                grid_barrier(bar_ptr + pb, (s - s_begin + 1) * tl.num_programs(0))
        else:
            carry = G
    tl.store(dh_ptr + s_off, carry, mask=m2)
