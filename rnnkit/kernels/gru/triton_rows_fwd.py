"""Triton forward of the GRU's sequential part, split layout with the gates stacked as rows.

The LSTM's rows layout (rnnkit/kernels/lstm/triton_rows_fwd.py says why it is faster on Hopper)
for the GRU's three gates. Program ``(p, q)`` owns hidden units ``J_p = p*BLOCK_J ..`` of batch
block q (grid barrier each step, as :mod:`.triton_split_fwd`); its weight slice is the left
operand of one ``tl.dot``, with a fourth block of zero rows so that the stack has
``4*BLOCK_J = 64`` rows (a power of two, as tl.arange needs; the M of one warp-group MMA)::

    W_p  (4*BLOCK_J, BLOCK_K): row r = gate g = r // BLOCK_J (r, z, n, zero) of unit J_p[r % BLOCK_J]
    pre  = W_p @ h_{t-1}^T                              (4*BLOCK_J, BLOCK_B), fp32 accumulation
    a_r  = pre_r + gi_r;   a_z = pre_z + gi_z;   n_h = pre_n + b_hn     (gi_n enters inside tanh)

States are held transposed, ``(BLOCK_J, BLOCK_B)``. Exchange buffer, lengths, the SAVE layout
(r, z, n, n_h in ``(B, T, 4H)``, h_t in ``(B, T, H)``) and per-step launches under the
interpreter are those of :mod:`.triton_split_fwd`, so both backward kernels read what it saves:
:mod:`.triton_split_bwd` (what ``auto`` trains with) and :mod:`.triton_rows_bwd` (``kernel="rows"``).
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.grid_sync import grid_barrier
from rnnkit.kernels.gru.triton_cell import gru_update
from rnnkit.kernels.triton_blocks import publish, rows_tiles, store_gates, unstack_gates


@triton.jit
def _gru_rows_fwd_kernel(gi_ptr, w_ptr, bn_ptr, hx_ptr, h_ptr, len_ptr, y_ptr, saved_ptr, hs_ptr,
                         bar_ptr, B, T, H, t_begin, t_end, hm_ptr,
                         HAS_BN: tl.constexpr, HAS_LEN: tl.constexpr, SAVE: tl.constexpr, SYNC: tl.constexpr,
                         HAS_HMASK: tl.constexpr,
                         BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr,
                         DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    # gate 3 of the stack is the zero padding: its row_w points past W_hh and is masked everywhere
    gate, row_unit, row_w, jj, rb, k, bmask, m2 = rows_tiles(pj, pb, B, H, BLOCK_B, BLOCK_J, BLOCK_K)
    w = tl.load(w_ptr + row_w[:, None].to(tl.int64) * H + k[None, :],
                mask=((gate < 3) & (row_unit < H))[:, None] & (k < H)[None, :], other=0.0)  # (4J, BK)
    # gi of r and z joins the product's rows; gi_n is added inside tanh, after r scales n_h
    gi_mask = ((gate < 2) & (row_unit < H))[:, None] & bmask[None, :]
    if HAS_BN:
        bn = tl.load(bn_ptr + jj, mask=jj < H, other=0.0).to(tl.float32)[:, None]
    else:
        bn = tl.zeros([BLOCK_J, 1], dtype=tl.float32)
    s_off = rb[None, :].to(tl.int64) * H + jj[:, None]  # (J, BB) into a (B, H) tensor
    xt_off = rb[None, :].to(tl.int64) * H + k[:, None]  # (BK, BB): h^T of this batch block
    mkt = (k < H)[:, None] & bmask[None, :]
    h = tl.load(h_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:  # variational recurrent dropout: the product reads h * m, the z-interpolation h
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    else:
        hm = h  # unused: publish() reads it only with a mask
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=bmask, other=0)
    gi_rows = rb[None, :].to(tl.int64) * T * 3 * H + row_w[:, None]  # (4J, BB)
    gin_off = rb[None, :].to(tl.int64) * T * 3 * H + 2 * H + jj[:, None]  # (J, BB): gi_n of step 0
    sv_off = rb[None, :].to(tl.int64) * T * 4 * H + jj[:, None]  # (J, BB)
    y_off = rb[None, :].to(tl.int64) * T * H + jj[:, None]  # (J, BB)
    for t in range(t_begin, t_end):
        ht = tl.load(hx_ptr + (t % 2) * B * H + xt_off, mask=mkt, other=0.0, cache_modifier=".cg")
        pre = tl.dot(w, ht, input_precision=DOT_PREC)
        pre += tl.load(gi_ptr + gi_rows + t * 3 * H, mask=gi_mask, other=0.0).to(tl.float32)
        a_r, a_z, pre_n, _ = unstack_gates(pre, BLOCK_J, BLOCK_B)  # the fourth block: zero rows
        gi_n = tl.load(gi_ptr + gin_off + t * 3 * H, mask=m2, other=0.0).to(tl.float32)
        n_h = pre_n + bn
        rg, z, n, h_new = gru_update(a_r, a_z, gi_n, n_h, h)
        if HAS_LEN:
            valid = (t < L)[None, :]
            h = tl.where(valid, h_new, h)
            out = tl.where(valid, h, 0.0)
        else:
            h = h_new
            out = h
        if SAVE:  # the layout of the split kernel: r, z, n, n_h (B, T, 4H) and h_t (B, T, H), fp32
            store_gates(saved_ptr, sv_off + t * 4 * H, H, rg, z, n, n_h, m2)
            tl.store(hs_ptr + y_off + t * H, h, mask=m2)
        tl.store(y_ptr + y_off + t * H, out.to(y_ptr.dtype.element_ty), mask=m2)
        publish(hx_ptr, ((t + 1) % 2) * B * H + s_off, h, hm, m2, HAS_HMASK)
        if SYNC:
            grid_barrier(bar_ptr + pb, (t - t_begin + 1) * tl.num_programs(0))
    tl.store(h_ptr + s_off, h, mask=m2)
