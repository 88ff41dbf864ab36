"""The fused head-wise (block-diagonal) LSTM: Triton kernels where each program owns one whole head.

For :class:`rnnkit.cells.HeadwiseLSTMCell` (equations and the block layout in
rnnkit/cells/headwise.py): ``W_hh = blockdiag(U_1..U_k)``, ``U_j = weight_hh[j]`` ``(4*Hh, Hh)``,
gate pre-activations in torch's gate-major layout ``(B, T, 4H)``. Head j's gates read only head
j's h, so program ``(j, q)`` (head j, batch block q) keeps ``U_j`` on chip for all T steps and
walks the whole sequence alone: a head-blocked product ``h_j U_j^T`` per gate (four
``(BLOCK_B, Hh) x (Hh, Hh)`` tl.dot, fp32 accumulation), no reduction across heads, no exchange
of h between programs and no grid barrier (unlike the dense split kernels of
:mod:`.triton_split_fwd`). So one ordinary launch runs all T steps, on CUDA and under the
interpreter alike, and the launch does not need every program resident at once.

Forward, per step t (program (j, q), units ``J = j*Hh .. (j+1)*Hh``)::

    a_g = gi_t[:, g*H + J] + h_{t-1}[:, J] U_j[g*Hh:(g+1)*Hh]^T     g = i, f, g, o
    c_t = sig(a_f) c_{t-1} + sig(a_i) tanh(a_g);  h_t = sig(a_o) tanh(c_t)

(the product reads h_{t-1} rounded to the input dtype; h, c fp32 in registers). With SAVE the
activated gates ``(B, T, 4H)`` and c_t ``(B, T, H)`` are stored in fp32. Backward: the reversed
walk of rnnkit/kernels/lstm/README.md restricted to one head, ``dh <- sum_g da_g U_j[g]``; dL/dW_hh
is one batched product outside the kernel, ``dU_j = sum_{b,t} da_{b,t}[head j]^T h_{b,t-1}[J]``.
Lengths: steps t >= lengths[b] hold (h, c), output 0, and pass the carries back unchanged.

Not fused here: VariationalDropout / Zoneout around the cell (``backend="loop"`` runs them).
``auto`` never takes this path (no GPU timing yet: docs/kernels.md). The head-wise GRU
(rnnkit/kernels/gru/headwise.py) shares the tiles, the launch configuration, the input checks and
the dL/dW_hh product (rnnkit/kernels/headwise_common.py).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.kernels.headwise_common import (
    check_headwise_inputs,
    choose_headwise,
    head_block,
    head_tiles,
    headwise_weight_grad,
    prepare_lengths,
)
from rnnkit.kernels.lstm.triton_cell import hold_padded, lstm_update, lstm_update_grad
from rnnkit.kernels.persistent import new_output
from rnnkit.kernels.scan.triton_op import check_device
from rnnkit.kernels.triton_blocks import load_gates, store_gates


@triton.jit
def _headwise_lstm_fwd_kernel(gi_ptr, w_ptr, h_ptr, c_ptr, len_ptr, y_ptr, gates_ptr, cs_ptr, B, T, H, HH,
                              HAS_LEN: tl.constexpr, SAVE: tl.constexpr, BLOCK_B: tl.constexpr,
                              BLOCK_U: tl.constexpr, DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)  # the head
    pb = tl.program_id(1)  # the batch block
    rb, u, col, rmask, m2, wmask, s_off = head_tiles(pj, pb, B, H, HH, BLOCK_B, BLOCK_U)
    # U_j^T per gate: wt_g[k, u] = weight_hh[j, g*HH + u, k]
    w_i = head_block(w_ptr, pj, 0, 4, HH, u, wmask, True)
    w_f = head_block(w_ptr, pj, 1, 4, HH, u, wmask, True)
    w_g = head_block(w_ptr, pj, 2, 4, HH, u, wmask, True)
    w_o = head_block(w_ptr, pj, 3, 4, HH, u, wmask, True)
    h = tl.load(h_ptr + s_off, mask=m2, other=0.0)
    c = tl.load(c_ptr + s_off, mask=m2, other=0.0)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    gi_row = rb[:, None].to(tl.int64) * T * 4 * H + col[None, :]
    y_row = rb[:, None].to(tl.int64) * T * H + col[None, :]
    for t in range(T):
        hd = h.to(gi_ptr.dtype.element_ty)
        g0 = gi_row + t * 4 * H
        a_i = tl.load(gi_ptr + g0, mask=m2, other=0.0).to(tl.float32) + tl.dot(hd, w_i, input_precision=DOT_PREC)
        a_f = (tl.load(gi_ptr + g0 + H, mask=m2, other=0.0).to(tl.float32)
               + tl.dot(hd, w_f, input_precision=DOT_PREC))
        a_g = (tl.load(gi_ptr + g0 + 2 * H, mask=m2, other=0.0).to(tl.float32)
               + tl.dot(hd, w_g, input_precision=DOT_PREC))
        a_o = (tl.load(gi_ptr + g0 + 3 * H, mask=m2, other=0.0).to(tl.float32)
               + tl.dot(hd, w_o, input_precision=DOT_PREC))
        s_i, s_f, t_g, s_o, c_new, h_new = lstm_update(a_i, a_f, a_g, a_o, c)
        if SAVE:
            store_gates(gates_ptr, g0, H, s_i, s_f, t_g, s_o, m2)
            tl.store(cs_ptr + y_row + t * H, c_new, mask=m2)
        if HAS_LEN:
            h, c, out = hold_padded((t < L)[:, None], h_new, c_new, h, c)
        else:
            c = c_new
            h = h_new
            out = h
        tl.store(y_ptr + y_row + t * H, out.to(y_ptr.dtype.element_ty), mask=m2)
    tl.store(h_ptr + s_off, h, mask=m2)
    tl.store(c_ptr + s_off, c, mask=m2)


@triton.jit
def _headwise_lstm_bwd_kernel(gates_ptr, cs_ptr, c0_ptr, w_ptr, len_ptr, dy_ptr, dh_ptr, dc_ptr, dgates_ptr,
                              B, T, H, HH, HAS_C0: tl.constexpr, HAS_LEN: tl.constexpr, BLOCK_B: tl.constexpr,
                              BLOCK_U: tl.constexpr, DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    rb, u, col, rmask, m2, wmask, s_off = head_tiles(pj, pb, B, H, HH, BLOCK_B, BLOCK_U)
    # U_j per gate, as the left-to-right product dh = da_g U_j[g] reads it: w_g[u, k] = weight_hh[j, g*HH + u, k]
    w_i = head_block(w_ptr, pj, 0, 4, HH, u, wmask, False)
    w_f = head_block(w_ptr, pj, 1, 4, HH, u, wmask, False)
    w_g = head_block(w_ptr, pj, 2, 4, HH, u, wmask, False)
    w_o = head_block(w_ptr, pj, 3, 4, HH, u, wmask, False)
    dh = tl.load(dh_ptr + s_off, mask=m2, other=0.0)  # starts as dL/dh_n
    dc = tl.load(dc_ptr + s_off, mask=m2, other=0.0)  # starts as dL/dc_n
    if HAS_C0:
        c_first = tl.load(c0_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        c_first = tl.zeros((BLOCK_B, BLOCK_U), dtype=tl.float32)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    gi_row = rb[:, None].to(tl.int64) * T * 4 * H + col[None, :]
    y_row = rb[:, None].to(tl.int64) * T * H + col[None, :]
    for s in range(T):
        t = T - 1 - s
        g0 = gi_row + t * 4 * H
        i, f, g, o = load_gates(gates_ptr, g0, H, m2)
        c_t = tl.load(cs_ptr + y_row + t * H, mask=m2, other=0.0)
        c_prev = tl.load(cs_ptr + y_row + tl.maximum(t - 1, 0) * H, mask=m2, other=0.0)
        c_p = tl.where(t > 0, c_prev, c_first)
        dh_t = tl.load(dy_ptr + y_row + t * H, mask=m2, other=0.0).to(tl.float32) + dh
        d_i, d_f, d_g, d_o, dc_t = lstm_update_grad(i, f, g, o, c_t, c_p, dh_t, dc)
        if HAS_LEN:
            valid = (t < L)[:, None]
            d_i = tl.where(valid, d_i, 0.0)
            d_f = tl.where(valid, d_f, 0.0)
            d_g = tl.where(valid, d_g, 0.0)
            d_o = tl.where(valid, d_o, 0.0)
        store_gates(dgates_ptr, g0, H, d_i, d_f, d_g, d_o, m2)
        wt = w_ptr.dtype.element_ty
        dh_new = (tl.dot(d_i.to(wt), w_i, input_precision=DOT_PREC) + tl.dot(d_f.to(wt), w_f, input_precision=DOT_PREC)
                  + tl.dot(d_g.to(wt), w_g, input_precision=DOT_PREC)
                  + tl.dot(d_o.to(wt), w_o, input_precision=DOT_PREC))
        if HAS_LEN:
            dh = tl.where(valid, dh_new, dh)
            dc = tl.where(valid, dc_t * f, dc)
        else:
            dh = dh_new
            dc = dc_t * f
    tl.store(dh_ptr + s_off, dh, mask=m2)
    tl.store(dc_ptr + s_off, dc, mask=m2)


class HeadwiseLSTMSequence(torch.autograd.Function):
    """``(y, h_n, c_n)`` of the head-wise forward kernel; the backward kernel gives dL/dgi, dL/dh0,
    dL/dc0, one batched product dL/dW_hh ``(k, 4*Hh, Hh)``."""

    @staticmethod
    def forward(ctx, gi, w_hh, h0, c0, lengths, cfg):
        B, T, G = gi.shape
        H = G // 4
        gi = gi.contiguous()
        w = w_hh.to(gi.dtype).contiguous()
        lens = prepare_lengths(lengths, T, gi.device)
        h_state = h0.float().clone() if h0 is not None else torch.zeros(B, H, device=gi.device)
        c_state = c0.float().clone() if c0 is not None else torch.zeros(B, H, device=gi.device)
        y = new_output((B, T, H), gi.dtype, gi.device)
        save = any(ctx.needs_input_grad[:4])
        gates = new_output((B, T, G), torch.float32, gi.device) if save else gi
        cs = new_output((B, T, H), torch.float32, gi.device) if save else gi
        _headwise_lstm_fwd_kernel[cfg["grid"]](
            gi, w, h_state, c_state, lens if lens is not None else gi, y, gates, cs, B, T, H, cfg["HH"],
            HAS_LEN=lens is not None, SAVE=save, BLOCK_B=cfg["BLOCK_B"], BLOCK_U=cfg["BLOCK_U"],
            DOT_PREC=cfg["DOT_PREC"])
        ctx.cfg = cfg
        if save:
            c0c = c0.contiguous() if c0 is not None else None
            ctx.save_for_backward(w, h0, c0c, lens, y, gates, cs)
            ctx.gi_dtype, ctx.w_dtype = gi.dtype, w_hh.dtype
        return y, h_state.to(gi.dtype), c_state.to(gi.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dhn, dcn):
        w, h0, c0, lens, y, gates, cs = ctx.saved_tensors
        cfg = ctx.cfg
        B, T, H = y.shape
        k, hh = w.shape[0], cfg["HH"]
        dy = dy.contiguous() if dy is not None else torch.zeros_like(y)
        dh = dhn.float().clone() if dhn is not None else torch.zeros(B, H, device=y.device)
        dc = dcn.float().clone() if dcn is not None else torch.zeros(B, H, device=y.device)
        dgates = new_output(gates.shape, torch.float32, y.device)
        _headwise_lstm_bwd_kernel[cfg["grid"]](
            gates, cs, c0 if c0 is not None else cs, w, lens if lens is not None else cs, dy, dh, dc, dgates,
            B, T, H, hh, HAS_C0=c0 is not None, HAS_LEN=lens is not None, BLOCK_B=cfg["BLOCK_B"],
            BLOCK_U=cfg["BLOCK_U"], DOT_PREC=cfg["DOT_PREC"])
        d_gi = d_w = d_h0 = d_c0 = None
        if ctx.needs_input_grad[0]:
            d_gi = dgates.to(ctx.gi_dtype)
        if ctx.needs_input_grad[1]:
            # all four gates are in the product; y is h_t as the product read it (in gi's dtype)
            d_w = headwise_weight_grad(dgates, h0, y, k).to(ctx.w_dtype)
        if h0 is not None and ctx.needs_input_grad[2]:
            d_h0 = dh.to(h0.dtype)
        if c0 is not None and ctx.needs_input_grad[3]:
            d_c0 = dc.to(c0.dtype)
        return d_gi, d_w, d_h0, d_c0, None, None


def headwise_lstm_sequence_forward(gi: Tensor, w_hh: Tensor, h0: Tensor | None = None, c0: Tensor | None = None,
                                   lengths: Tensor | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """gi ``(B, T, 4H)`` (torch's gate layout), w_hh ``(k, 4*Hh, Hh)`` with ``H = k*Hh``, h0/c0
    ``(B, H)`` or None, lengths ``(B,)`` or None -> ``y (B, T, H)``, ``(h_n, c_n)`` in gi's dtype
    (fp16, bf16 or fp32)."""
    check_device(gi)
    B, _T, H, k = check_headwise_inputs(gi, w_hh, 4, "LSTM", {"h0": h0, "c0": c0})
    training = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (gi, w_hh, h0, c0))
    cfg = choose_headwise(B, H, k, gi.dtype, gi.device, training, gates=4, cell="LSTM")
    y, h_n, c_n = HeadwiseLSTMSequence.apply(gi, w_hh, h0, c0, lengths, cfg)
    return y, (h_n, c_n)


def headwise_lstm_forward(x: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor | None = None,
                          bias_hh: Tensor | None = None, h0: Tensor | None = None, c0: Tensor | None = None,
                          lengths: Tensor | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One head-wise LSTM layer, batch-first x ``(B, T, D)``, the cell's parameters:
    ``gi = x W_ih^T + b_ih + b_hh`` in one product (b_hh is in torch's gate layout), then the
    fused sequential part."""
    gi = x @ weight_ih.t()
    if bias_ih is not None:
        gi = gi + bias_ih
    if bias_hh is not None:
        gi = gi + bias_hh
    return headwise_lstm_sequence_forward(gi, weight_hh, h0, c0, lengths)
