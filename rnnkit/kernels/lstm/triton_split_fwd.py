"""Triton forward of the LSTM's sequential part with W_hh split across programs (large H).

A program that keeps all of W_hh overflows shared memory on an H100/H200 from H ~ 100. Here
program ``(p, q)`` owns hidden units ``J_p = p*BLOCK_J ..`` (all four gates of them) for batch
block ``q``, and keeps only its slice of the weight on chip for all T steps: four
``(BLOCK_K, BLOCK_J)`` tiles ``W_g^T[k, j] = W_hh[g*H+j, k]``
(k over all H units, padded to BLOCK_K). Its cell state c and hidden state h of J_p stay in fp32
registers. Per step t::

    h_{t-1}  (BLOCK_B, BLOCK_K)   read from the exchange buffer hx[t % 2], in the input dtype
    a_g = gi_t[:, g*H + J_p] + h_{t-1} W_g^T[:, J_p]          four tl.dot, fp32 accumulation
    c = sig(a_f) c + sig(a_i) tanh(a_g);  h = sig(a_o) tanh(c)
    y_t[:, J_p] = h;  hx[(t+1) % 2][:, J_p] = h (input dtype);  grid barrier

The barrier (rnnkit/kernels/grid_sync.py) makes every slice of h_t visible before any program
reads it at t+1. Two exchange buffers suffice: hx[t % 2] is read during step t and written again
during step t+1, after the barrier that ends step t, which every program reaches only after its
reads. With ``SYNC=False`` (the Triton interpreter, which runs programs in turn) the host
launches one step at a time, and the states travel between launches in ``h_ptr``/``c_ptr`` (fp32,
(B, H)); ``t_begin``/``t_end`` bound the steps of one launch.

With SAVE (training) the activated gates and c_t are written in fp32 for the backward, exactly as
the single-program kernel does. Lengths: steps t >= lengths[b] hold (h, c) and output 0.

Zoneout (``HAS_ZONE_H``/``HAS_ZONE_C``, keep-weights in ``zh``/``zc (B, T, H)`` fp32: 0/1 in
training, p in eval): the cell's c~_t and h~_t = o tanh(c~_t) become
``c_t = d^c c_{t-1} + (1 - d^c) c~_t`` and ``h_t = d^h h_{t-1} + (1 - d^h) h~_t``, which y, the
state and the next product read. With SAVE ``cs`` holds the zoned c_t (the next step's c_{t-1})
and, when c is zoned, ``cc (B, T, H)`` the candidate c~_t (the backward's tanh(c~_t)).
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.grid_sync import grid_barrier
from rnnkit.kernels.lstm.triton_cell import hold_padded, lstm_update
from rnnkit.kernels.triton_blocks import publish, split_tiles, store_gates


@triton.jit
def _lstm_split_fwd_kernel(gi_ptr, w_ptr, hx_ptr, h_ptr, c_ptr, len_ptr, y_ptr, gates_ptr, cs_ptr,
                           bar_ptr, B, T, H, t_begin, t_end, hm_ptr, zh_ptr, zc_ptr, cc_ptr,
                           HAS_LEN: tl.constexpr, SAVE: tl.constexpr, SYNC: tl.constexpr, HAS_HMASK: tl.constexpr,
                           HAS_ZONE_H: tl.constexpr, HAS_ZONE_C: tl.constexpr,
                           BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr,
                           DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    # batch rows rb, the units j this program computes, every unit k of h_{t-1}
    rb, j, k, rmask, jmask, m2, mk, wmask = split_tiles(pj, pb, B, H, BLOCK_B, BLOCK_J, BLOCK_K)
    w_off = j[None, :] * H + k[:, None]  # W_g^T[k, j] = W_hh[g*H + j, k]
    w_i = tl.load(w_ptr + 0 * H * H + w_off, mask=wmask, other=0.0)
    w_f = tl.load(w_ptr + 1 * H * H + w_off, mask=wmask, other=0.0)
    w_g = tl.load(w_ptr + 2 * H * H + w_off, mask=wmask, other=0.0)
    w_o = tl.load(w_ptr + 3 * H * H + w_off, mask=wmask, other=0.0)
    s_off = rb[:, None].to(tl.int64) * H + j[None, :]  # own slice of a (B, H) tensor
    x_off = rb[:, None].to(tl.int64) * H + k[None, :]  # all of a (B, H) tensor, this batch block
    h = tl.load(h_ptr + s_off, mask=m2, other=0.0)
    c = tl.load(c_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:  # variational recurrent dropout: the product reads h * m (m fixed over time)
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    else:
        hm = h  # unused: publish() reads it only with a mask
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    gi_row = rb[:, None].to(tl.int64) * T * 4 * H + j[None, :]
    y_row = rb[:, None].to(tl.int64) * T * H + j[None, :]
    for t in range(t_begin, t_end):
        hd = tl.load(hx_ptr + (t % 2) * B * H + x_off, mask=mk, other=0.0, cache_modifier=".cg")
        g0 = gi_row + t * 4 * H
        a_i = tl.load(gi_ptr + g0, mask=m2, other=0.0).to(tl.float32) + tl.dot(hd, w_i, input_precision=DOT_PREC)
        a_f = tl.load(gi_ptr + g0 + H, mask=m2, other=0.0).to(tl.float32) + tl.dot(hd, w_f, input_precision=DOT_PREC)
        a_g = (tl.load(gi_ptr + g0 + 2 * H, mask=m2, other=0.0).to(tl.float32)
               + tl.dot(hd, w_g, input_precision=DOT_PREC))
        a_o = (tl.load(gi_ptr + g0 + 3 * H, mask=m2, other=0.0).to(tl.float32)
               + tl.dot(hd, w_o, input_precision=DOT_PREC))
        s_i, s_f, t_g, s_o, c_new, h_new = lstm_update(a_i, a_f, a_g, a_o, c)
        if SAVE:  # for the backward: activated gates (B, T, 4H) and c_t (B, T, H), fp32
            store_gates(gates_ptr, g0, H, s_i, s_f, t_g, s_o, m2)
        # zoneout: d s + (1 - d) s~, not s~ + d (s - s~): exactly s or s~ for a 0/1 draw, as the loop's where
        if HAS_ZONE_C:
            if SAVE:
                tl.store(cc_ptr + y_row + t * H, c_new, mask=m2)
            d_c = tl.load(zc_ptr + y_row + t * H, mask=m2, other=0.0)
            c_new = d_c * c + (1.0 - d_c) * c_new
        if HAS_ZONE_H:
            d_h = tl.load(zh_ptr + y_row + t * H, mask=m2, other=0.0)
            h_new = d_h * h + (1.0 - d_h) * h_new
        if SAVE:
            tl.store(cs_ptr + y_row + t * H, c_new, mask=m2)
        if HAS_LEN:
            h, c, out = hold_padded((t < L)[:, None], h_new, c_new, h, c)
        else:
            c = c_new
            h = h_new
            out = h
        tl.store(y_ptr + y_row + t * H, out.to(y_ptr.dtype.element_ty), mask=m2)
        publish(hx_ptr, ((t + 1) % 2) * B * H + s_off, h, hm, m2, HAS_HMASK)
        if SYNC:
            grid_barrier(bar_ptr + pb, (t - t_begin + 1) * tl.num_programs(0))
    tl.store(h_ptr + s_off, h, mask=m2)
    tl.store(c_ptr + s_off, c, mask=m2)
