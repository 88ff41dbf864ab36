"""Triton backward of the LSTM's sequential part (equations in README.md).

Program p owns batch rows ``p*BLOCK_B ..`` (as the forward) and walks t = T-1..0 carrying
dh = dL/dh_t and dc = dL/dc_t from later steps in fp32 registers. With the forward's saved
activations i, f, g (= tanh), o and c_t (fp32), per step::

    dh~ = dy_t + dh                        dc~ = dc + dh~ o (1 - tanh(c_t)^2)
    do = dh~ tanh(c_t) o (1 - o)           di = dc~ g i (1 - i)
    dg = dc~ i (1 - g^2)                   df = dc~ c_{t-1} f (1 - f)
    dc <- dc~ f                            dh <- [di, df, dg, do] W_hh     ((B, 4H) x (4H, H))

and stores dgates_t = [di, df, dg, do] (= dL/dgi_t). W_hh stays on chip for all steps; the
weight gradient ``dW_hh = sum_t dgates_t^T h_{t-1}`` is one large matrix product outside.
Padded steps (t >= lengths[b]) are identities: dgates 0, carries unchanged, dy ignored.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _lstm_bwd_kernel(gates_ptr, cs_ptr, c0_ptr, w_ptr, len_ptr, dy_ptr, dhn_ptr, dcn_ptr,
                     dgates_ptr, dh0_ptr, dc0_ptr, B, T, H,
                     HAS_C0: tl.constexpr, HAS_LEN: tl.constexpr, HAS_DHN: tl.constexpr,
                     HAS_DCN: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr,
                     DOT_PREC: tl.constexpr):
    pid = tl.program_id(0)
    rb = pid * BLOCK_B + tl.arange(0, BLOCK_B)
    j = tl.arange(0, BLOCK_H)  # gate column (row of W_g)
    k = tl.arange(0, BLOCK_H)  # hidden column of h_{t-1}
    rmask = rb < B
    jmask = j < H
    m2 = rmask[:, None] & jmask[None, :]
    # W_g[j, k] = W_hh[g*H + j, k]: dh_{t-1}[b, k] = sum_g sum_j dgate_g[b, j] W_g[j, k]
    wmask = (j[:, None] < H) & (k[None, :] < H)
    w_off = j[:, None] * H + k[None, :]
    w_i = tl.load(w_ptr + 0 * H * H + w_off, mask=wmask, other=0.0)
    w_f = tl.load(w_ptr + 1 * H * H + w_off, mask=wmask, other=0.0)
    w_g = tl.load(w_ptr + 2 * H * H + w_off, mask=wmask, other=0.0)
    w_o = tl.load(w_ptr + 3 * H * H + w_off, mask=wmask, other=0.0)
    s_off = rb[:, None].to(tl.int64) * H + j[None, :]
    if HAS_C0:
        c0 = tl.load(c0_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        c0 = tl.zeros([BLOCK_B, BLOCK_H], dtype=tl.float32)
    if HAS_DHN:
        dh = tl.load(dhn_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        dh = tl.zeros([BLOCK_B, BLOCK_H], dtype=tl.float32)
    if HAS_DCN:
        dc = tl.load(dcn_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        dc = tl.zeros([BLOCK_B, BLOCK_H], dtype=tl.float32)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    g_row = rb[:, None].to(tl.int64) * T * 4 * H + j[None, :]
    y_row = rb[:, None].to(tl.int64) * T * H + j[None, :]
    for s in range(T):
        t = T - 1 - s
        g0 = g_row + t * 4 * H
        y0 = y_row + t * H
        i = tl.load(gates_ptr + g0, mask=m2, other=0.0)
        f = tl.load(gates_ptr + g0 + H, mask=m2, other=0.0)
        g = tl.load(gates_ptr + g0 + 2 * H, mask=m2, other=0.0)
        o = tl.load(gates_ptr + g0 + 3 * H, mask=m2, other=0.0)
        c_t = tl.load(cs_ptr + y0, mask=m2, other=0.0)
        # c_{t-1}: read at step max(t-1, 0), replaced by c0 at t = 0 (no scalar in the mask)
        c_p = tl.load(cs_ptr + y_row + tl.maximum(t - 1, 0) * H, mask=m2, other=0.0)
        c_p = tl.where(t > 0, c_p, c0)
        dy = tl.load(dy_ptr + y0, mask=m2, other=0.0).to(tl.float32)
        dh_t = dy + dh
        tc = 2.0 * tl.sigmoid(2.0 * c_t) - 1.0
        d_o = dh_t * tc * o * (1.0 - o)
        dc_t = dc + dh_t * o * (1.0 - tc * tc)
        d_i = dc_t * g * i * (1.0 - i)
        d_g = dc_t * i * (1.0 - g * g)
        d_f = dc_t * c_p * f * (1.0 - f)
        if HAS_LEN:
            valid = (t < L)[:, None]
            d_i = tl.where(valid, d_i, 0.0)
            d_f = tl.where(valid, d_f, 0.0)
            d_g = tl.where(valid, d_g, 0.0)
            d_o = tl.where(valid, d_o, 0.0)
        dt = w_i.dtype  # products in the input dtype, accumulated in fp32 (as the forward)
        dh_new = tl.dot(d_i.to(dt), w_i, input_precision=DOT_PREC)
        dh_new += tl.dot(d_f.to(dt), w_f, input_precision=DOT_PREC)
        dh_new += tl.dot(d_g.to(dt), w_g, input_precision=DOT_PREC)
        dh_new += tl.dot(d_o.to(dt), w_o, input_precision=DOT_PREC)
        if HAS_LEN:
            dh = tl.where(valid, dh_new, dh)
            dc = tl.where(valid, dc_t * f, dc)
        else:
            dh = dh_new
            dc = dc_t * f
        tl.store(dgates_ptr + g0, d_i, mask=m2)
        tl.store(dgates_ptr + g0 + H, d_f, mask=m2)
        tl.store(dgates_ptr + g0 + 2 * H, d_g, mask=m2)
        tl.store(dgates_ptr + g0 + 3 * H, d_o, mask=m2)
    tl.store(dh0_ptr + s_off, dh, mask=m2)
    tl.store(dc0_ptr + s_off, dc, mask=m2)
