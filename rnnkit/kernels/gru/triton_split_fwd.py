"""Triton forward of the GRU's sequential part, W_hh split across programs (the LSTM's split layout).

Program ``(p, q)`` owns hidden units ``J_p = p*BLOCK_J ..`` (all three gates of them) of batch
block q and keeps three ``(BLOCK_K, BLOCK_J)`` tiles ``W_g^T[k, j] = W_hh[g*H + j, k]`` on chip
for all T steps; h of J_p stays in fp32 registers. Per step t::

    h_{t-1}  (BLOCK_B, BLOCK_K)   read from the exchange buffer hx[t % 2], in the input dtype
    a_r = gi_r + h W_r^T;  a_z = gi_z + h W_z^T;  n_h = h W_n^T + b_hn    three tl.dot, fp32 accumulation
    r, z, n, h_t (rnnkit/kernels/gru/triton_cell.py);  y_t, hx[(t+1) % 2] <- h_t;  grid barrier

The exchange and barrier are those of rnnkit/kernels/lstm/triton_split_fwd.py (their docstring
says why two buffers and one barrier per step suffice). With SAVE (training) r, z, n, n_h go to
``saved (B, T, 4H)`` and h_t to ``hs (B, T, H)``, fp32, for the backward. Lengths: steps
t >= lengths[b] hold h and output 0. ``SYNC=False``: one step per launch (the interpreter).

Zoneout (``HAS_ZONE``, keep-weights d in ``zm (B, T, H)`` fp32: 0/1 in training, p in eval): the
cell's h~_t becomes ``h_t = d_t h_{t-1} + (1 - d_t) h~_t``, which y, hs and the next product read.
The backward needs nothing more: h~_t's gradients come from r, z, n, n_h and h_{t-1} (README.md).
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.grid_sync import grid_barrier
from rnnkit.kernels.gru.triton_cell import gru_update
from rnnkit.kernels.triton_blocks import publish, split_tiles, store_gates


@triton.jit
def _gru_split_fwd_kernel(gi_ptr, w_ptr, bn_ptr, hx_ptr, h_ptr, len_ptr, y_ptr, saved_ptr, hs_ptr,
                          bar_ptr, B, T, H, t_begin, t_end, hm_ptr, zm_ptr,
                          HAS_BN: tl.constexpr, HAS_LEN: tl.constexpr, SAVE: tl.constexpr, SYNC: tl.constexpr,
                          HAS_HMASK: tl.constexpr, HAS_ZONE: tl.constexpr,
                          BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr,
                          DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    rb, j, k, rmask, jmask, m2, mk, wmask = split_tiles(pj, pb, B, H, BLOCK_B, BLOCK_J, BLOCK_K)
    w_off = j[None, :] * H + k[:, None]  # W_g^T[k, j] = W_hh[g*H + j, k]
    w_r = tl.load(w_ptr + w_off, mask=wmask, other=0.0)
    w_z = tl.load(w_ptr + H * H + w_off, mask=wmask, other=0.0)
    w_n = tl.load(w_ptr + 2 * H * H + w_off, mask=wmask, other=0.0)
    if HAS_BN:
        bn = tl.load(bn_ptr + j, mask=jmask, other=0.0).to(tl.float32)[None, :]
    else:
        bn = tl.zeros([1, BLOCK_J], dtype=tl.float32)
    s_off = rb[:, None].to(tl.int64) * H + j[None, :]
    x_off = rb[:, None].to(tl.int64) * H + k[None, :]
    h = tl.load(h_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:  # variational recurrent dropout: the product reads h * m, the z-interpolation h
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    else:
        hm = h  # unused: publish() reads it only with a mask
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    gi_row = rb[:, None].to(tl.int64) * T * 3 * H + j[None, :]
    sv_row = rb[:, None].to(tl.int64) * T * 4 * H + j[None, :]
    y_row = rb[:, None].to(tl.int64) * T * H + j[None, :]
    for t in range(t_begin, t_end):
        hd = tl.load(hx_ptr + (t % 2) * B * H + x_off, mask=mk, other=0.0, cache_modifier=".cg")
        g0 = gi_row + t * 3 * H
        a_r = tl.load(gi_ptr + g0, mask=m2, other=0.0).to(tl.float32) + tl.dot(hd, w_r, input_precision=DOT_PREC)
        a_z = tl.load(gi_ptr + g0 + H, mask=m2, other=0.0).to(tl.float32) + tl.dot(hd, w_z, input_precision=DOT_PREC)
        gi_n = tl.load(gi_ptr + g0 + 2 * H, mask=m2, other=0.0).to(tl.float32)
        n_h = tl.dot(hd, w_n, input_precision=DOT_PREC) + bn
        r, z, n, h_new = gru_update(a_r, a_z, gi_n, n_h, h)
        if HAS_ZONE:  # d h + (1 - d) h~, not h~ + d (h - h~): exactly h or h~ for a 0/1 draw, as the loop's where
            d = tl.load(zm_ptr + y_row + t * H, mask=m2, other=0.0)
            h_new = d * h + (1.0 - d) * h_new
        if HAS_LEN:
            valid = (t < L)[:, None]
            h = tl.where(valid, h_new, h)
            out = tl.where(valid, h, 0.0)
        else:
            h = h_new
            out = h
        if SAVE:  # for the backward: r, z, n, n_h (B, T, 4H) and h_t (B, T, H), fp32
            store_gates(saved_ptr, sv_row + t * 4 * H, H, r, z, n, n_h, m2)
            tl.store(hs_ptr + y_row + t * H, h, mask=m2)
        tl.store(y_ptr + y_row + t * H, out.to(y_ptr.dtype.element_ty), mask=m2)
        publish(hx_ptr, ((t + 1) % 2) * B * H + s_off, h, hm, m2, HAS_HMASK)
        if SYNC:
            grid_barrier(bar_ptr + pb, (t - t_begin + 1) * tl.num_programs(0))
    tl.store(h_ptr + s_off, h, mask=m2)
