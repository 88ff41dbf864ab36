"""The fused head-wise (block-diagonal) GRU: Triton kernels where each program owns one whole head.

For :class:`rnnkit.cells.HeadwiseGRUCell` (equations and the block layout in
rnnkit/cells/headwise.py): ``W_hh = blockdiag(U_1..U_k)``, ``U_j = weight_hh[j]`` ``(3*Hh, Hh)``
(rows: r, z, n of head j, Hh each), gate pre-activations in torch's gate-major layout
``gi (B, T, 3H)`` with the recurrent biases that can be folded in,
``gi = x W_ih^T + b_ih + [b_hr, b_hz, 0]``; ``b_hn`` ``(H,)`` stays in the kernel (the reset gate
multiplies it). The structure is the head-wise LSTM's (rnnkit/kernels/lstm/headwise.py, the
shared pieces in rnnkit/kernels/headwise_common.py): program ``(j, q)`` (head j, batch block q)
keeps ``U_j`` on chip for all T steps and walks the sequence alone, no exchange of h between
programs, no grid barrier, one ordinary launch for all T steps.

Forward, per step t (program (j, q), units ``J = j*Hh .. (j+1)*Hh``, ``V_g = U_j[g*Hh:(g+1)*Hh]``)::

    a_r = gi_t[:, J] + h_{t-1}[:, J] V_r^T;   a_z = gi_t[:, H + J] + h_{t-1}[:, J] V_z^T
    n_h = h_{t-1}[:, J] V_n^T + b_hn[J]                        three (BLOCK_B, Hh) x (Hh, Hh) tl.dot
    r = sig(a_r);  z = sig(a_z);  n = tanh(gi_t[:, 2H + J] + r n_h);  h_t = (1 - z) n + z h_{t-1}

(rnnkit/kernels/gru/triton_cell.py's ``gru_update``; the product reads h_{t-1} rounded to gi's
dtype, h stays fp32 in registers). With SAVE r, z, n, n_h go to ``saved (B, T, 4H)`` and h_t to
``hs (B, T, H)``, fp32. Backward, t = T-1..0, carrying ``dh`` (dL/dh_t from later steps)::

    (da_r, da_z, da_n, dn_h, dh_direct) = gru_update_grad(r, z, n, n_h, h_{t-1}, dy_t + dh)
    dh <- dh_direct + da_r V_r + da_z V_z + dn_h V_n               (head j's rows of W_hh only)

then outside the kernel: dL/dgi = [da_r, da_z, da_n], dL/db_hn = sum_{b,t} dn_h, and dL/dW_hh one
batched product ``dU_j = sum_{b,t} [da_r, da_z, dn_h][head j]^T h_{t-1}[J]``. Lengths: steps
t >= lengths[b] hold h, output 0, have zero gate gradients and pass the carry back unchanged.

Not fused here, as for the head-wise LSTM: VariationalDropout / Zoneout around the cell
(``backend="loop"`` runs them). ``auto`` never takes this path (no GPU timing yet).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.kernels.gru.op import input_part
from rnnkit.kernels.gru.triton_cell import gru_update, gru_update_grad
from rnnkit.kernels.headwise_common import (
    check_headwise_inputs,
    choose_headwise,
    head_block,
    head_tiles,
    headwise_weight_grad,
    prepare_lengths,
)
from rnnkit.kernels.persistent import new_output
from rnnkit.kernels.scan.triton_op import check_device
from rnnkit.kernels.triton_blocks import load_gates, store_gates, zero_invalid


@triton.jit
def _headwise_gru_fwd_kernel(gi_ptr, w_ptr, bn_ptr, h_ptr, len_ptr, y_ptr, saved_ptr, hs_ptr, B, T, H, HH,
                             HAS_BN: tl.constexpr, HAS_LEN: tl.constexpr, SAVE: tl.constexpr,
                             BLOCK_B: tl.constexpr, BLOCK_U: tl.constexpr, DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)  # the head
    pb = tl.program_id(1)  # the batch block
    rb, u, col, rmask, m2, wmask, s_off = head_tiles(pj, pb, B, H, HH, BLOCK_B, BLOCK_U)
    # V_g^T[k, u] = weight_hh[j, g*HH + u, k], the right operand of h V_g^T
    w_r = head_block(w_ptr, pj, 0, 3, HH, u, wmask, True)
    w_z = head_block(w_ptr, pj, 1, 3, HH, u, wmask, True)
    w_n = head_block(w_ptr, pj, 2, 3, HH, u, wmask, True)
    if HAS_BN:
        bn = tl.load(bn_ptr + col, mask=u < HH, other=0.0).to(tl.float32)[None, :]
    else:
        bn = tl.zeros([1, BLOCK_U], dtype=tl.float32)
    h = tl.load(h_ptr + s_off, mask=m2, other=0.0)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    gi_row = rb[:, None].to(tl.int64) * T * 3 * H + col[None, :]
    sv_row = rb[:, None].to(tl.int64) * T * 4 * H + col[None, :]
    y_row = rb[:, None].to(tl.int64) * T * H + col[None, :]
    for t in range(T):
        hd = h.to(gi_ptr.dtype.element_ty)
        g0 = gi_row + t * 3 * H
        a_r = tl.load(gi_ptr + g0, mask=m2, other=0.0).to(tl.float32) + tl.dot(hd, w_r, input_precision=DOT_PREC)
        a_z = (tl.load(gi_ptr + g0 + H, mask=m2, other=0.0).to(tl.float32)
               + tl.dot(hd, w_z, input_precision=DOT_PREC))
        gi_n = tl.load(gi_ptr + g0 + 2 * H, mask=m2, other=0.0).to(tl.float32)
        n_h = tl.dot(hd, w_n, input_precision=DOT_PREC) + bn
        r, z, n, h_new = gru_update(a_r, a_z, gi_n, n_h, h)
        if HAS_LEN:
            valid = (t < L)[:, None]
            h = tl.where(valid, h_new, h)
            out = tl.where(valid, h, 0.0)
        else:
            h = h_new
            out = h
        if SAVE:
            store_gates(saved_ptr, sv_row + t * 4 * H, H, r, z, n, n_h, m2)
            tl.store(hs_ptr + y_row + t * H, h, mask=m2)
        tl.store(y_ptr + y_row + t * H, out.to(y_ptr.dtype.element_ty), mask=m2)
    tl.store(h_ptr + s_off, h, mask=m2)


@triton.jit
def _headwise_gru_bwd_kernel(saved_ptr, hs_ptr, h0_ptr, w_ptr, len_ptr, dy_ptr, dh_ptr, dgates_ptr,
                             B, T, H, HH, HAS_H0: tl.constexpr, HAS_LEN: tl.constexpr, BLOCK_B: tl.constexpr,
                             BLOCK_U: tl.constexpr, DOT_PREC: tl.constexpr):
    pj = tl.program_id(0)
    pb = tl.program_id(1)
    rb, u, col, rmask, m2, wmask, s_off = head_tiles(pj, pb, B, H, HH, BLOCK_B, BLOCK_U)
    # V_g[u, k] = weight_hh[j, g*HH + u, k], the right operand of da_g V_g (dL/dh_{t-1} through W_hh)
    w_r = head_block(w_ptr, pj, 0, 3, HH, u, wmask, False)
    w_z = head_block(w_ptr, pj, 1, 3, HH, u, wmask, False)
    w_n = head_block(w_ptr, pj, 2, 3, HH, u, wmask, False)
    dh = tl.load(dh_ptr + s_off, mask=m2, other=0.0)  # starts as dL/dh_n, ends as dL/dh0
    if HAS_H0:
        h_first = tl.load(h0_ptr + s_off, mask=m2, other=0.0).to(tl.float32)
    else:
        h_first = tl.zeros((BLOCK_B, BLOCK_U), dtype=tl.float32)
    if HAS_LEN:
        L = tl.load(len_ptr + rb, mask=rmask, other=0)
    sv_row = rb[:, None].to(tl.int64) * T * 4 * H + col[None, :]
    y_row = rb[:, None].to(tl.int64) * T * H + col[None, :]
    for s in range(T):
        t = T - 1 - s
        s0 = sv_row + t * 4 * H
        r, z, n, n_h = load_gates(saved_ptr, s0, H, m2)
        h_prev = tl.load(hs_ptr + y_row + tl.maximum(t - 1, 0) * H, mask=m2, other=0.0)
        h_prev = tl.where(t > 0, h_prev, h_first)
        dh_t = tl.load(dy_ptr + y_row + t * H, mask=m2, other=0.0).to(tl.float32) + dh
        da_r, da_z, da_n, dn_h, dh_dir = gru_update_grad(r, z, n, n_h, h_prev, dh_t)
        if HAS_LEN:
            valid = (t < L)[:, None]
            da_r, da_z, da_n, dn_h = zero_invalid(valid, da_r, da_z, da_n, dn_h)
        store_gates(dgates_ptr, s0, H, da_r, da_z, da_n, dn_h, m2)
        wt = w_ptr.dtype.element_ty  # products in the weights' dtype, accumulated in fp32
        dh_new = (dh_dir + tl.dot(da_r.to(wt), w_r, input_precision=DOT_PREC)
                  + tl.dot(da_z.to(wt), w_z, input_precision=DOT_PREC)
                  + tl.dot(dn_h.to(wt), w_n, input_precision=DOT_PREC))
        if HAS_LEN:  # a padded step is the identity: the carry passes, dy_t is ignored
            dh = tl.where(valid, dh_new, dh)
        else:
            dh = dh_new
    tl.store(dh_ptr + s_off, dh, mask=m2)


class HeadwiseGRUSequence(torch.autograd.Function):
    """``(y, h_n)`` of the head-wise forward kernel; the backward kernel gives dL/dgi, dL/db_hn and
    dL/dh0, one batched product dL/dW_hh ``(k, 3*Hh, Hh)``."""

    @staticmethod
    def forward(ctx, gi, w_hh, b_hn, h0, lengths, cfg):
        B, T, G = gi.shape
        H = G // 3
        dev = gi.device
        gi = gi.contiguous()
        w = w_hh.to(gi.dtype).contiguous()
        lens = prepare_lengths(lengths, T, dev)
        bn = b_hn.contiguous() if b_hn is not None else None
        h_state = h0.float().clone() if h0 is not None else torch.zeros(B, H, device=dev)
        y = new_output((B, T, H), gi.dtype, dev)
        save = any(ctx.needs_input_grad[:4])
        saved = new_output((B, T, 4 * H), torch.float32, dev) if save else gi
        hs = new_output((B, T, H), torch.float32, dev) if save else gi
        _headwise_gru_fwd_kernel[cfg["grid"]](
            gi, w, bn if bn is not None else gi, h_state, lens if lens is not None else gi, y, saved, hs,
            B, T, H, cfg["HH"], HAS_BN=bn is not None, HAS_LEN=lens is not None, SAVE=save,
            BLOCK_B=cfg["BLOCK_B"], BLOCK_U=cfg["BLOCK_U"], DOT_PREC=cfg["DOT_PREC"])
        if save:
            ctx.save_for_backward(w, h0, lens, saved, hs)
            ctx.cfg = cfg
            ctx.dtypes = (gi.dtype, w_hh.dtype, b_hn.dtype if b_hn is not None else None)
        return y, h_state.to(gi.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dhn):
        w, h0, lens, saved, hs = ctx.saved_tensors
        cfg = ctx.cfg
        gi_dtype, w_dtype, bn_dtype = ctx.dtypes
        B, T, H = hs.shape
        dev = hs.device
        dy = dy.contiguous() if dy is not None else torch.zeros(B, T, H, dtype=gi_dtype, device=dev)
        dh = dhn.float().clone() if dhn is not None else torch.zeros(B, H, device=dev)
        dgates = new_output((B, T, 4 * H), torch.float32, dev)  # [da_r, da_z, da_n, dn_h]
        _headwise_gru_bwd_kernel[cfg["grid"]](
            saved, hs, h0 if h0 is not None else hs, w, lens if lens is not None else hs, dy, dh, dgates,
            B, T, H, cfg["HH"], HAS_H0=h0 is not None, HAS_LEN=lens is not None, BLOCK_B=cfg["BLOCK_B"],
            BLOCK_U=cfg["BLOCK_U"], DOT_PREC=cfg["DOT_PREC"])
        d_gi = d_w = d_bn = d_h0 = None
        if ctx.needs_input_grad[0]:
            d_gi = dgates[..., :3 * H].to(gi_dtype)
        if ctx.needs_input_grad[1]:
            # the product's three blocks are r, z and n_h (whose gradient is dn_h, not da_n)
            dpre = torch.cat([dgates[..., :2 * H], dgates[..., 3 * H:]], dim=-1)
            d_w = headwise_weight_grad(dpre, h0, hs, w.shape[0]).to(w_dtype)
        if bn_dtype is not None and ctx.needs_input_grad[2]:
            d_bn = dgates[..., 3 * H:].sum(dim=(0, 1)).to(bn_dtype)
        if h0 is not None and ctx.needs_input_grad[3]:
            d_h0 = dh.to(h0.dtype)
        return d_gi, d_w, d_bn, d_h0, None, None


def headwise_gru_sequence_forward(gi: Tensor, w_hh: Tensor, b_hn: Tensor | None = None, h0: Tensor | None = None,
                                  lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """gi ``(B, T, 3H)`` (= x W_ih^T + b_ih + [b_hr, b_hz, 0], torch's gate layout), w_hh
    ``(k, 3*Hh, Hh)`` with ``H = k*Hh``, b_hn ``(H,)`` or None, h0 ``(B, H)`` or None, lengths
    ``(B,)`` or None -> ``y (B, T, H)``, ``h_n (B, H)`` in gi's dtype (fp16, bf16 or fp32)."""
    check_device(gi)
    B, _T, H, k = check_headwise_inputs(gi, w_hh, 3, "GRU", {"h0": h0})
    if b_hn is not None and tuple(b_hn.shape) != (H,):
        raise ValueError(f"b_hn must have shape (hidden,) = {(H,)}, got {tuple(b_hn.shape)}")
    training = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (gi, w_hh, b_hn, h0))
    cfg = choose_headwise(B, H, k, gi.dtype, gi.device, training, gates=3, cell="GRU")
    return HeadwiseGRUSequence.apply(gi, w_hh, b_hn, h0, lengths, cfg)


def headwise_gru_forward(x: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor | None = None,
                         bias_hh: Tensor | None = None, h0: Tensor | None = None,
                         lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One head-wise GRU layer, batch-first x ``(B, T, D)``, the cell's parameters: ``gi = x W_ih^T
    + b_ih + [b_hr, b_hz, 0]`` in one product (bias_hh in torch's gate layout), then the fused
    sequential part with ``b_hn = bias_hh[2H:]``."""
    gi, b_hn = input_part(x, weight_ih, bias_ih, bias_hh)
    return headwise_gru_sequence_forward(gi, weight_hh, b_hn, h0, lengths)
