"""Triton backward of the LayerNorm-GRU (:mod:`.triton_ln_fwd`): whole rows, one program per batch block.

Program q walks t = T-1..0 carrying dh = dL/dh_t from later steps in fp32 registers, with all of
W_hh on chip (tiles ``W_g[j, k] = W_hh[g*H + j, k]``). From the saved r, z, n, gh_n, nh, rstd and
h_{t-1} (``hs[t-1]`` or h0); the cell part is rnnkit/kernels/gru/triton_cell.py's
``gru_update_grad`` with n_h = gh_n::

    dh~ = dy_t + dh;   (da_r, da_z, da_n, dgh_n, dh_direct) = gru_update_grad(r, z, n, gh_n, h_{t-1}, dh~)
    dgi_t = [da_r, da_z, da_n];   dgh = [da_r, da_z, dgh_n]        (saved: dgamma_hh, dbias_hh)
    dp = rstd (dn - mean(dn) - nh mean(dn nh)),  dn = gamma_hh dgh   over the 3H row  (saved: dW_hh)
    dh <- dh_direct + sum_g dp_g W_g          (the sum times hmask when the product read h * hmask)

Padded steps are identities (gradients 0, dh passes through). ``dh_ptr`` starts as dL/dh_n and
ends as dL/dh0. ``dgates (B, T, 4H)`` receives [da_r, da_z, da_n, dgh_n], ``dp (B, T, 3H)`` dp; the
host sums ``dbias_hh = sum dgh``, ``dgamma_hh = sum dgh * nh``, ``dW_hh = dp^T h_{t-1}``.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.gru.triton_cell import gru_update_grad
from rnnkit.kernels.headwise_common import head_block
from rnnkit.kernels.triton_blocks import load_gates, store_gates, zero_invalid
from rnnkit.kernels.triton_ln import ln3_grad, row_tiles


@triton.jit
def _ln_gru_bwd_kernel(saved_ptr, nh_ptr, rs_ptr, hs_ptr, h0_ptr, w_ptr, gh_ptr, len_ptr, hm_ptr, dy_ptr,
                       dh_ptr, dgates_ptr, dp_ptr, B, T, H,
                       HAS_H0: tl.constexpr, HAS_LEN: tl.constexpr, HAS_HMASK: tl.constexpr,
                       BLOCK_B: tl.constexpr, BLOCK_K: tl.constexpr, DOT_PREC: tl.constexpr):
    pb = tl.program_id(0)
    rb, k, rmask, cm, m2, wmask = row_tiles(pb, B, H, BLOCK_B, BLOCK_K)
    # gate g's (H, H) block of W_hh, W as one head (rnnkit/kernels/headwise_common.py)
    w_r = head_block(w_ptr, 0, 0, 3, H, k, wmask, False)
    w_z = head_block(w_ptr, 0, 1, 3, H, k, wmask, False)
    w_n = head_block(w_ptr, 0, 2, 3, H, k, wmask, False)
    kk = k[None, :]
    g_r = tl.load(gh_ptr + kk, mask=cm, other=0.0).to(tl.float32)
    g_z = tl.load(gh_ptr + H + kk, mask=cm, other=0.0).to(tl.float32)
    g_n = tl.load(gh_ptr + 2 * H + kk, mask=cm, other=0.0).to(tl.float32)
    s_off = rb[:, None].to(tl.int64) * H + kk
    if HAS_H0:
        h0 = tl.load(h0_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        h0 = tl.zeros([BLOCK_B, BLOCK_K], dtype=tl.float32)
    dh = tl.load(dh_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    gi_row = rb[:, None].to(tl.int64) * T * 3 * H + kk
    sv_row = rb[:, None].to(tl.int64) * T * 4 * H + kk
    y_row = rb[:, None].to(tl.int64) * T * H + kk
    for s in range(0, T):
        t = T - 1 - s
        s0 = sv_row + t * 4 * H
        g0 = gi_row + t * 3 * H
        r, z, n, gh_n = load_gates(saved_ptr, s0, H, m2)
        n_r = tl.load(nh_ptr + g0, mask=m2, other=0.0)
        n_z = tl.load(nh_ptr + g0 + H, mask=m2, other=0.0)
        n_n = tl.load(nh_ptr + g0 + 2 * H, mask=m2, other=0.0)
        rstd = tl.load(rs_ptr + rb[:, None].to(tl.int64) * T + t, mask=rmask[:, None], other=1.0)
        h_prev = tl.load(hs_ptr + y_row + tl.maximum(t - 1, 0) * H, mask=m2, other=0.0)
        h_prev = tl.where(t > 0, h_prev, h0)
        dh_t = tl.load(dy_ptr + y_row + t * H, mask=m2, other=0.0).to(tl.float32) + dh
        da_r, da_z, da_n, dgh_n, dh_dir = gru_update_grad(r, z, n, gh_n, h_prev, dh_t)
        dp_r, dp_z, dp_n = ln3_grad(g_r * da_r, g_z * da_z, g_n * dgh_n, n_r, n_z, n_n, rstd, cm, 3 * H)
        dt = w_ptr.dtype.element_ty  # products in the input dtype, accumulated in fp32
        through = tl.dot(dp_r.to(dt), w_r, input_precision=DOT_PREC)
        through += tl.dot(dp_z.to(dt), w_z, input_precision=DOT_PREC)
        through += tl.dot(dp_n.to(dt), w_n, input_precision=DOT_PREC)
        if HAS_HMASK:
            through = through * hm
        if HAS_LEN:
            valid = (t < L)[:, None]
            da_r, da_z, da_n, dgh_n = zero_invalid(valid, da_r, da_z, da_n, dgh_n)
            dp_r, dp_z, dp_n, _ = zero_invalid(valid, dp_r, dp_z, dp_n, dp_n)
            dh = tl.where(valid, dh_dir + through, dh)
        else:
            dh = dh_dir + through
        store_gates(dgates_ptr, s0, H, da_r, da_z, da_n, dgh_n, m2)
        tl.store(dp_ptr + g0, dp_r, mask=m2)
        tl.store(dp_ptr + g0 + H, dp_z, mask=m2)
        tl.store(dp_ptr + g0 + 2 * H, dp_n, mask=m2)
    tl.store(dh_ptr + s_off, dh, mask=m2)
