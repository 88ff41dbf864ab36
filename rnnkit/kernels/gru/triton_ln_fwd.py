"""Triton forward of the LayerNorm-GRU's sequential part (rnnkit/cells/layernorm.py): whole rows.

One program per batch block owns all H units of its BLOCK_B rows and all of W_hh (three tiles
``W_g^T[k, j] = W_hh[g*H + j, k]``), so the LayerNorm of the 3H-wide recurrent product is an
in-register row reduction and the programs never meet (no grid barrier, one launch for all T).
Why not the split layout's unit slices, and what it costs (H bounded by one program's on-chip
memory, parallelism over batch blocks only): rnnkit/kernels/lstm/triton_ln_fwd.py.

Per step t (torch's GRU variant, gate order r, z, n; LN over the 3H row)::

    p = h_{t-1} W_hh^T      (BLOCK_B, 3H) three tl.dot, fp32 accumulation (h * hmask if any)
    nh = (p - mean(p)) * rstd;   gh = gamma_hh * nh + bias_hh
    r = sig(gi_r + gh_r);  z = sig(gi_z + gh_z);  n = tanh(gi_n + r gh_n);  h_t = (1 - z) n + z h_{t-1}

With SAVE (training), fp32: ``saved (B, T, 4H)`` = [r, z, n, gh_n] (the plain GRU's layout),
``nh (B, T, 3H)``, ``rs (B, T)`` = rstd and ``hs (B, T, H)`` = h_t. Lengths: steps t >= lengths[b]
hold h and output 0.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.gru.triton_cell import gru_update
from rnnkit.kernels.headwise_common import head_block
from rnnkit.kernels.triton_blocks import store_gates
from rnnkit.kernels.triton_ln import ln3, row_tiles


@triton.jit
def _ln_gru_fwd_kernel(gi_ptr, w_ptr, gh_ptr, bh_ptr, h_ptr, len_ptr, hm_ptr, y_ptr,
                       saved_ptr, nh_ptr, rs_ptr, hs_ptr, B, T, H, eps,
                       HAS_BH: tl.constexpr, HAS_LEN: tl.constexpr, HAS_HMASK: tl.constexpr, SAVE: tl.constexpr,
                       BLOCK_B: tl.constexpr, BLOCK_K: tl.constexpr, DOT_PREC: tl.constexpr):
    pb = tl.program_id(0)
    rb, k, rmask, cm, m2, wmask = row_tiles(pb, B, H, BLOCK_B, BLOCK_K)
    # gate g's (H, H) block of W_hh, W as one head (rnnkit/kernels/headwise_common.py)
    w_r = head_block(w_ptr, 0, 0, 3, H, k, wmask, True)
    w_z = head_block(w_ptr, 0, 1, 3, H, k, wmask, True)
    w_n = head_block(w_ptr, 0, 2, 3, H, k, wmask, True)
    kk = k[None, :]
    g_r = tl.load(gh_ptr + kk, mask=cm, other=0.0).to(tl.float32)
    g_z = tl.load(gh_ptr + H + kk, mask=cm, other=0.0).to(tl.float32)
    g_n = tl.load(gh_ptr + 2 * H + kk, mask=cm, other=0.0).to(tl.float32)
    if HAS_BH:
        b_r = tl.load(bh_ptr + kk, mask=cm, other=0.0).to(tl.float32)
        b_z = tl.load(bh_ptr + H + kk, mask=cm, other=0.0).to(tl.float32)
        b_n = tl.load(bh_ptr + 2 * H + kk, mask=cm, other=0.0).to(tl.float32)
    else:
        b_r = tl.zeros([1, BLOCK_K], dtype=tl.float32)
        b_z = b_r
        b_n = b_r
    s_off = rb[:, None].to(tl.int64) * H + kk
    h = tl.load(h_ptr + s_off, mask=m2, other=0.0)
    if HAS_HMASK:
        hm = tl.load(hm_ptr + s_off, mask=m2, other=0.0)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    gi_row = rb[:, None].to(tl.int64) * T * 3 * H + kk
    sv_row = rb[:, None].to(tl.int64) * T * 4 * H + kk
    y_row = rb[:, None].to(tl.int64) * T * H + kk
    for t in range(0, T):
        if HAS_HMASK:
            hd = (h * hm).to(w_ptr.dtype.element_ty)
        else:
            hd = h.to(w_ptr.dtype.element_ty)
        n_r, n_z, n_n, rstd = ln3(tl.dot(hd, w_r, input_precision=DOT_PREC),
                                  tl.dot(hd, w_z, input_precision=DOT_PREC),
                                  tl.dot(hd, w_n, input_precision=DOT_PREC), cm, 3 * H, eps)
        g0 = gi_row + t * 3 * H
        a_r = tl.load(gi_ptr + g0, mask=m2, other=0.0).to(tl.float32) + g_r * n_r + b_r
        a_z = tl.load(gi_ptr + g0 + H, mask=m2, other=0.0).to(tl.float32) + g_z * n_z + b_z
        gi_n = tl.load(gi_ptr + g0 + 2 * H, mask=m2, other=0.0).to(tl.float32)
        gh_n = g_n * n_n + b_n
        r, z, n, h_new = gru_update(a_r, a_z, gi_n, gh_n, h)
        if HAS_LEN:
            valid = (t < L)[:, None]
            h = tl.where(valid, h_new, h)
            out = tl.where(valid, h, 0.0)
        else:
            h = h_new
            out = h
        if SAVE:
            store_gates(saved_ptr, sv_row + t * 4 * H, H, r, z, n, gh_n, m2)
            tl.store(nh_ptr + g0, n_r, mask=m2)
            tl.store(nh_ptr + g0 + H, n_z, mask=m2)
            tl.store(nh_ptr + g0 + 2 * H, n_n, mask=m2)
            tl.store(rs_ptr + rb.to(tl.int64) * T + t, tl.sum(rstd, axis=1), mask=rmask)
            tl.store(hs_ptr + y_row + t * H, h, mask=m2)
        tl.store(y_ptr + y_row + t * H, out.to(y_ptr.dtype.element_ty), mask=m2)
    tl.store(h_ptr + s_off, h, mask=m2)
