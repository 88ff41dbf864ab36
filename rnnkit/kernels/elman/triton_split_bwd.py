"""Triton backward of the split Elman RNN (:mod:`.triton_split_fwd`).

Program ``(p, q)`` owns hidden units ``J_p`` of batch block q and walks t = T-1..0 carrying the
gradient that reaches h_t from later steps. Its weight slice is the ``(BLOCK_K, BLOCK_J)`` tile
``W[k, j] = W_hh[k, j]``. Per step::

    G = carry + da[(t+1) % 2] W[:, J_p]      (t < T-1; one tl.dot over all H; times the mask m)
    dh = dy_t + G;  da_t = dh act'(h_t)      (tanh: 1 - h_t^2; relu: [h_t > 0])
    dgi_t <- da_t (fp32);  da[t % 2] <- da_t (input dtype);  carry <- 0;  grid barrier

h_{t-1} reaches h_t only through the product (no direct path as the GRU's z or the LSTM's c), so
nothing is carried past a valid step. A last iteration s = T only reads, giving dL/dh0. Padded
steps are identities (da 0, carry unchanged, dy ignored). The exchange, barrier and per-step
launches under the interpreter are those of the LSTM's split backward.

Zoneout (``HAS_ZONE``, h_t = d_t h_{t-1} + (1 - d_t) h~_t with d_t from ``zm``): the host passes
the candidates h~_t as ``hs`` (act' is a function of h~_t), and a valid step becomes::

    da_t = (1 - d_t) dh act'(h~_t);   carry <- d_t dh        (the part of dL/dh_t that skips the cell)
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.elman.triton_cell import elman_act_grad
from rnnkit.kernels.grid_sync import grid_barrier
from rnnkit.kernels.triton_blocks import split_tiles


@triton.jit
def _elman_split_bwd_kernel(hs_ptr, w_ptr, len_ptr, dy_ptr, dx_ptr, dh_ptr, dgi_ptr, bar_ptr, B, T, H, s_begin,
                            s_end, hm_ptr, zm_ptr, HAS_LEN: tl.constexpr, SYNC: tl.constexpr,
                            HAS_HMASK: tl.constexpr, RELU: tl.constexpr, HAS_ZONE: tl.constexpr,
                            BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr,
                            DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    rb, j, k, rmask, jmask, m2, mk, wmask = split_tiles(pj, pb, B, H, BLOCK_B, BLOCK_J, BLOCK_K)
    w = tl.load(w_ptr + k[:, None] * H + j[None, :], mask=wmask, other=0.0)  # W[k, j] = W_hh[k, j]
    s_off = rb[:, None].to(tl.int64) * H + j[None, :]
    x_off = rb[:, None].to(tl.int64) * H + k[None, :]
    carry = tl.load(dh_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:  # the product read h * m: its gradient reaches h times m
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    row = rb[:, None].to(tl.int64) * T * H + j[None, :]
    for s in range(s_begin, s_end):  # s = T - 1 - t; the last iteration (s = T) only reads
        t = T - 1 - s
        G = carry
        if s > 0:  # through W_hh from step t+1: every unit's da of step t+1
            xd = tl.load(dx_ptr + ((t + 1) % 2) * B * H + x_off, mask=mk, other=0.0, cache_modifier=".cg")
            through = tl.dot(xd, w, input_precision=DOT_PREC)
            if HAS_HMASK:
                through = through * hm
            G += through
        if s < T:
            h_t = tl.load(hs_ptr + row + t * H, mask=m2, other=0.0)
            dh = tl.load(dy_ptr + row + t * H, mask=m2, other=0.0).to(tl.float32) + G
            if HAS_ZONE:  # h_t = d h_{t-1} + (1 - d) h~_t; h_t here is the candidate h~_t
                d = tl.load(zm_ptr + row + t * H, mask=m2, other=0.0)
                keep = d * dh
                da = elman_act_grad(h_t, (1.0 - d) * dh, RELU)
            else:
                keep = tl.zeros([BLOCK_B, BLOCK_J], dtype=tl.float32)
                da = elman_act_grad(h_t, dh, RELU)
            if HAS_LEN:
                valid = (t < L)[:, None]
                da = tl.where(valid, da, 0.0)
                carry = tl.where(valid, keep, G)
            else:
                carry = keep
            tl.store(dgi_ptr + row + t * H, da, mask=m2)
            tl.store(dx_ptr + (t % 2) * B * H + s_off, da.to(dx_ptr.dtype.element_ty), mask=m2)
            if SYNC:
                grid_barrier(bar_ptr + pb, (s - s_begin + 1) * tl.num_programs(0))
        else:
            carry = G
    tl.store(dh_ptr + s_off, carry, mask=m2)
