"""Triton forward of the LSTM's sequential part, split layout with the gates stacked as rows.

Same work division as :mod:`.triton_split_fwd` (program ``(p, q)`` owns hidden units
``J_p = p*BLOCK_J ..`` of batch block q; grid barrier each step), but the product is turned
around so that the weight slice is the *left* operand of one large ``tl.dot``::

    W_p  (4*BLOCK_J, BLOCK_K): row r = gate r // BLOCK_J of unit J_p[r % BLOCK_J], i.e. W_hh[g*H + j, :]
    pre  = W_p @ h_{t-1}^T + gi_t^T          (4*BLOCK_J, BLOCK_B), fp32 accumulation

With 4*BLOCK_J = 64 rows this is the shape of a Hopper warp-group MMA (M = 64), whose left operand
Triton can take from shared memory, where the loop-invariant W_p can stay for all T steps; the
split kernel's ``h @ W^T`` has M = BLOCK_B = 16 and keeps W in registers. The four gate blocks of
``pre`` are separated with reshape/permute/split (``triton_blocks.unstack_gates``); states are
held transposed, ``(BLOCK_J, BLOCK_B)``.
Everything else (exchange buffer hx, lengths, SAVE layout of gates and c_t, per-step launches
under the interpreter) is as in :mod:`.triton_split_fwd`, so both backward kernels read what it
saves: :mod:`.triton_split_bwd` (what ``auto`` trains with) and :mod:`.triton_rows_bwd`
(``kernel="rows"``).
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.grid_sync import grid_barrier
from rnnkit.kernels.lstm.triton_cell import hold_padded, lstm_update
from rnnkit.kernels.triton_blocks import publish, rows_tiles, store_gates, unstack_gates


@triton.jit
def _lstm_rows_fwd_kernel(gi_ptr, w_ptr, hx_ptr, h_ptr, c_ptr, len_ptr, y_ptr, gates_ptr, cs_ptr,
                          bar_ptr, B, T, H, t_begin, t_end, hm_ptr,
                          HAS_LEN: tl.constexpr, SAVE: tl.constexpr, SYNC: tl.constexpr, HAS_HMASK: tl.constexpr,
                          BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr,
                          DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    _, row_unit, row_w, jj, rb, k, bmask, m2 = rows_tiles(pj, pb, B, H, BLOCK_B, BLOCK_J, BLOCK_K)
    rmask = (row_unit < H)[:, None] & bmask[None, :]  # (4J, BB)
    w = tl.load(w_ptr + row_w[:, None].to(tl.int64) * H + k[None, :],
                mask=(row_unit < H)[:, None] & (k < H)[None, :], other=0.0)  # (4J, BK)
    s_off = rb[None, :].to(tl.int64) * H + jj[:, None]  # (J, BB) into a (B, H) tensor
    xt_off = rb[None, :].to(tl.int64) * H + k[:, None]  # (BK, BB): h^T of this batch block
    mkt = (k < H)[:, None] & bmask[None, :]
    h = tl.load(h_ptr + s_off, mask=m2, other=0.0)
    c = tl.load(c_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:  # variational recurrent dropout: the product reads h * m (m fixed over time)
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    else:
        hm = h  # unused: publish() reads it only with a mask
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=bmask, other=0)
    gi_rows = rb[None, :].to(tl.int64) * T * 4 * H + row_w[:, None]  # (4J, BB)
    g_off = rb[None, :].to(tl.int64) * T * 4 * H + jj[:, None]  # (J, BB): gate block 0 of step 0
    y_off = rb[None, :].to(tl.int64) * T * H + jj[:, None]  # (J, BB)
    for t in range(t_begin, t_end):
        ht = tl.load(hx_ptr + (t % 2) * B * H + xt_off, mask=mkt, other=0.0, cache_modifier=".cg")
        pre = tl.dot(w, ht, input_precision=DOT_PREC)
        pre += tl.load(gi_ptr + gi_rows + t * 4 * H, mask=rmask, other=0.0).to(tl.float32)
        a_i, a_f, a_g, a_o = unstack_gates(pre, BLOCK_J, BLOCK_B)
        s_i, s_f, t_g, s_o, c_new, h_new = lstm_update(a_i, a_f, a_g, a_o, c)
        if SAVE:  # the layout of the split kernel: gates (B, T, 4H), c_t (B, T, H), fp32
            g0 = g_off + t * 4 * H
            store_gates(gates_ptr, g0, H, s_i, s_f, t_g, s_o, m2)
            tl.store(cs_ptr + y_off + t * H, c_new, mask=m2)
        if HAS_LEN:
            h, c, out = hold_padded((t < L)[None, :], h_new, c_new, h, c)
        else:
            c = c_new
            h = h_new
            out = h
        tl.store(y_ptr + y_off + t * H, out.to(y_ptr.dtype.element_ty), mask=m2)
        publish(hx_ptr, ((t + 1) % 2) * B * H + s_off, h, hm, m2, HAS_HMASK)
        if SYNC:
            grid_barrier(bar_ptr + pb, (t - t_begin + 1) * tl.num_programs(0))
    tl.store(h_ptr + s_off, h, mask=m2)
    tl.store(c_ptr + s_off, c, mask=m2)
