"""Triton forward of the Elman RNN's sequential part, W_hh split across programs (the LSTM's split layout).

Program ``(p, q)`` owns hidden units ``J_p = p*BLOCK_J ..`` of batch block q and keeps the
``(BLOCK_K, BLOCK_J)`` tile ``W^T[k, j] = W_hh[j, k]`` on chip for all T steps; h of J_p stays
in fp32 registers. Per step t::

    h_{t-1}  (BLOCK_B, BLOCK_K)   read from the exchange buffer hx[t % 2], in the input dtype
    a = gi_t + h_{t-1} W^T        one tl.dot, fp32 accumulation
    h_t = act(a);  y_t, hx[(t+1) % 2] <- h_t;  grid barrier

The exchange and barrier are those of rnnkit/kernels/lstm/triton_split_fwd.py (their docstring
says why two buffers and one barrier per step suffice). With SAVE (training) h_t goes to
``hs (B, T, H)`` in fp32: the backward needs nothing else (act' comes from h_t itself). Lengths:
steps t >= lengths[b] hold h and output 0. ``SYNC=False``: one step per launch (the interpreter).

Zoneout (``HAS_ZONE``, keep-weights d in ``zm (B, T, H)`` fp32: 0/1 in training, p in eval)::

    h~_t = act(a);  h_t = d_t h_{t-1} + (1 - d_t) h~_t       (h_{t-1} the held fp32 state)

The product and y read the zoned h_t; with SAVE the candidate h~_t also goes to ``hc (B, T, H)``
fp32, since act' at step t is a function of h~_t, not of h_t (README.md).
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.elman.triton_cell import elman_act
from rnnkit.kernels.grid_sync import grid_barrier
from rnnkit.kernels.triton_blocks import publish, split_tiles


@triton.jit
def _elman_split_fwd_kernel(gi_ptr, w_ptr, hx_ptr, h_ptr, len_ptr, y_ptr, hs_ptr, bar_ptr, B, T, H, t_begin, t_end,
                            hm_ptr, zm_ptr, hc_ptr, HAS_LEN: tl.constexpr, SAVE: tl.constexpr, SYNC: tl.constexpr,
                            HAS_HMASK: tl.constexpr, RELU: tl.constexpr, HAS_ZONE: tl.constexpr,
                            BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr,
                            DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    rb, j, k, rmask, jmask, m2, mk, wmask = split_tiles(pj, pb, B, H, BLOCK_B, BLOCK_J, BLOCK_K)
    w = tl.load(w_ptr + j[None, :] * H + k[:, None], mask=wmask, other=0.0)  # W^T[k, j] = W_hh[j, k]
    s_off = rb[:, None].to(tl.int64) * H + j[None, :]
    x_off = rb[:, None].to(tl.int64) * H + k[None, :]
    h = tl.load(h_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:  # variational recurrent dropout: the product reads h * m
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    else:
        hm = h  # unused: publish() reads it only with a mask
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    row = rb[:, None].to(tl.int64) * T * H + j[None, :]
    for t in range(t_begin, t_end):
        hd = tl.load(hx_ptr + (t % 2) * B * H + x_off, mask=mk, other=0.0, cache_modifier=".cg")
        a = tl.load(gi_ptr + row + t * H, mask=m2, other=0.0).to(tl.float32) + tl.dot(hd, w, input_precision=DOT_PREC)
        h_new = elman_act(a, RELU)
        if HAS_ZONE:  # d h + (1 - d) h~, not h~ + d (h - h~): exactly h or h~ for a 0/1 draw, as the loop's where
            if SAVE:
                tl.store(hc_ptr + row + t * H, h_new, mask=m2)
            d = tl.load(zm_ptr + row + t * H, mask=m2, other=0.0)
            h_new = d * h + (1.0 - d) * h_new
        if HAS_LEN:
            valid = (t < L)[:, None]
            h = tl.where(valid, h_new, h)
            out = tl.where(valid, h, 0.0)
        else:
            h = h_new
            out = h
        if SAVE:
            tl.store(hs_ptr + row + t * H, h, mask=m2)
        tl.store(y_ptr + row + t * H, out.to(y_ptr.dtype.element_ty), mask=m2)
        publish(hx_ptr, ((t + 1) % 2) * B * H + s_off, h, hm, m2, HAS_HMASK)
        if SYNC:
            grid_barrier(bar_ptr + pb, (t - t_begin + 1) * tl.num_programs(0))
    tl.store(h_ptr + s_off, h, mask=m2)
