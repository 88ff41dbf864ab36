"""Triton backward of the LayerNorm-LSTM (:mod:`.triton_ln_fwd`): whole rows, one program per batch block.

Program q walks t = T-1..0 with dh = dL/dh_t (from later steps) and dc = dL/dc_t (the cell carry)
of its rows in fp32 registers and all of W_hh on chip (tiles ``W_g[j, k] = W_hh[g*H + j, k]``).
From the saved act = [i, f, g, o], n, c_t, nc, (rstd_g, rstd_c) and c_{t-1} (``cs[t-1]`` or c0)::

    dh~ = dy_t + dh;   u = gamma_c nc + beta_c
    da_o = dh~ tanh(u) o (1 - o);   du = dh~ o (1 - tanh(u)^2)           (du saved: dgamma_c, dbeta_c)
    dc_t = dc + LN'(gamma_c du)          LN' = rstd_c (dn - mean_H(dn) - nc mean_H(dn nc))
    da_i = dc_t g i (1 - i);  da_f = dc_t c_{t-1} f (1 - f);  da_g = dc_t i (1 - g^2);  dc <- dc_t f
    da = [da_i, da_f, da_g, da_o] = dL/dgi_t                               (saved: dgi, dgamma_hh)
    dp = LN'(gamma_hh da) over the 4H row, with rstd_g and n               (saved: dW_hh)
    dh <- sum_g dp_g W_g                 (times hmask when the product read h * hmask)

Padded steps (t >= lengths[b]) are identities: da, dp, du are 0 and dh, dc pass through. dh_ptr,
dc_ptr start as dL/dh_n, dL/dc_n and end as dL/dh0, dL/dc0 (fp32, (B, H)). The parameter
gradients are sums over b and t done on the host: ``dW_hh = dp^T h_{t-1}``,
``dgamma_hh = sum da * n``, ``dgamma_c = sum du * nc``, ``dbeta_c = sum du``.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.headwise_common import head_block
from rnnkit.kernels.triton_blocks import load_gates, store_gates, tanh, zero_invalid
from rnnkit.kernels.triton_ln import ln1_grad, ln4_grad, row_tiles


@triton.jit
def _ln_lstm_bwd_kernel(act_ptr, nh_ptr, cs_ptr, nc_ptr, rs_ptr, c0_ptr, w_ptr, gh_ptr, gc_ptr, bc_ptr,
                        len_ptr, hm_ptr, dy_ptr, dh_ptr, dc_ptr, dgi_ptr, dp_ptr, du_ptr, B, T, H,
                        HAS_C0: tl.constexpr, HAS_BC: tl.constexpr, HAS_LEN: tl.constexpr,
                        HAS_HMASK: tl.constexpr,
                        BLOCK_B: tl.constexpr, BLOCK_K: tl.constexpr, DOT_PREC: tl.constexpr):
    pb = tl.program_id(0)
    rb, k, rmask, cm, m2, wmask = row_tiles(pb, B, H, BLOCK_B, BLOCK_K)
    # gate g's (H, H) block of W_hh, W as one head (rnnkit/kernels/headwise_common.py)
    w_i = head_block(w_ptr, 0, 0, 4, H, k, wmask, False)
    w_f = head_block(w_ptr, 0, 1, 4, H, k, wmask, False)
    w_g = head_block(w_ptr, 0, 2, 4, H, k, wmask, False)
    w_o = head_block(w_ptr, 0, 3, 4, H, k, wmask, False)
    g_i, g_f, g_g, g_o = load_gates(gh_ptr, k[None, :], H, cm)
    gam_c = tl.load(gc_ptr + k[None, :], mask=cm, other=0.0).to(tl.float32)
    if HAS_BC:
        bet_c = tl.load(bc_ptr + k[None, :], mask=cm, other=0.0).to(tl.float32)
    else:
        bet_c = tl.zeros([1, BLOCK_K], dtype=tl.float32)
    s_off = rb[:, None].to(tl.int64) * H + k[None, :]
    if HAS_C0:
        c0 = tl.load(c0_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        c0 = tl.zeros([BLOCK_B, BLOCK_K], dtype=tl.float32)
    dh = tl.load(dh_ptr + s_off, mask=m2, other=0.0)
    dc = tl.load(dc_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    g_row = rb[:, None].to(tl.int64) * T * 4 * H + k[None, :]
    y_row = rb[:, None].to(tl.int64) * T * H + k[None, :]
    rs_row = rb[:, None].to(tl.int64) * T * 2
    for s in range(0, T):
        t = T - 1 - s
        g0 = g_row + t * 4 * H
        y0 = y_row + t * H
        i, f, g, o = load_gates(act_ptr, g0, H, m2)
        n_i, n_f, n_g, n_o = load_gates(nh_ptr, g0, H, m2)
        nc = tl.load(nc_ptr + y0, mask=m2, other=0.0)
        c_p = tl.load(cs_ptr + y_row + tl.maximum(t - 1, 0) * H, mask=m2, other=0.0)
        c_p = tl.where(t > 0, c_p, c0)
        rstd = tl.load(rs_ptr + rs_row + t * 2, mask=rmask[:, None], other=1.0)
        rstd_c = tl.load(rs_ptr + rs_row + t * 2 + 1, mask=rmask[:, None], other=1.0)
        dh_t = tl.load(dy_ptr + y0, mask=m2, other=0.0).to(tl.float32) + dh
        tu = tanh(gam_c * nc + bet_c)
        du = dh_t * o * (1.0 - tu * tu)
        dc_ln = ln1_grad(gam_c * du, nc, rstd_c, cm, H)
        dc_t = dc + dc_ln  # h_t reaches c_t only through the LayerNorm of c_t
        d_i = dc_t * g * i * (1.0 - i)
        d_f = dc_t * c_p * f * (1.0 - f)
        d_g = dc_t * i * (1.0 - g * g)
        d_o = dh_t * tu * o * (1.0 - o)
        dp_i, dp_f, dp_g, dp_o = ln4_grad(g_i * d_i, g_f * d_f, g_g * d_g, g_o * d_o,
                                          n_i, n_f, n_g, n_o, rstd, cm, 4 * H)
        dt = w_ptr.dtype.element_ty  # products in the input dtype, accumulated in fp32
        dh_new = tl.dot(dp_i.to(dt), w_i, input_precision=DOT_PREC)
        dh_new += tl.dot(dp_f.to(dt), w_f, input_precision=DOT_PREC)
        dh_new += tl.dot(dp_g.to(dt), w_g, input_precision=DOT_PREC)
        dh_new += tl.dot(dp_o.to(dt), w_o, input_precision=DOT_PREC)
        if HAS_HMASK:
            dh_new = dh_new * hm
        if HAS_LEN:
            valid = (t < L)[:, None]
            d_i, d_f, d_g, d_o = zero_invalid(valid, d_i, d_f, d_g, d_o)
            dp_i, dp_f, dp_g, dp_o = zero_invalid(valid, dp_i, dp_f, dp_g, dp_o)
            du = tl.where(valid, du, 0.0)
            dh = tl.where(valid, dh_new, dh)
            dc = tl.where(valid, dc_t * f, dc)
        else:
            dh = dh_new
            dc = dc_t * f
        store_gates(dgi_ptr, g0, H, d_i, d_f, d_g, d_o, m2)
        store_gates(dp_ptr, g0, H, dp_i, dp_f, dp_g, dp_o, m2)
        tl.store(du_ptr + y0, du, mask=m2)
    tl.store(dh_ptr + s_off, dh, mask=m2)
    tl.store(dc_ptr + s_off, dc, mask=m2)
