"""The fused LayerNorm-GRU sequential part (rnnkit/cells/layernorm.py) on :mod:`.triton_ln_fwd` and
:mod:`.triton_ln_bwd`, and its reference twin, the cell's own step function in a loop.

``ln_gru_sequence_forward(gi, w_hh, gamma_hh, bias_hh, h0, lengths, eps, hmask)`` computes what
:func:`ln_gru_sequence_ref` computes (the loop over :func:`rnnkit.cells.layernorm.layer_norm_gru_step`):
gi ``(B, T, 3H)`` is the cell's ``project_input`` (``gamma_ih * norm(x W_ih^T) + bias_ih``),
w_hh ``(3H, H)``, gamma_hh ``(3H,)``, bias_hh ``(3H,)`` or None (``bias=False``), h0 ``(B, H)`` or
None, lengths ``(B,)`` or None; ``hmask`` ``(B, H)``, not differentiated: variational recurrent
dropout (the product reads ``h * hmask``, the z-interpolation h, as the cell's ``h_rec``).

Layout, limits and dispatch as the LayerNorm-LSTM's (rnnkit/kernels/lstm/ln_op.py): one program
per batch block owns whole rows, no grid barrier; ``auto`` never takes it (not timed on a GPU).
Autograd: ``LNGRUSequence`` saves r, z, n, gh_n, the normalised product, rstd and h_t (fp32);
its backward gives dL/dgi, dL/dW_hh, dL/dgamma_hh, dL/dbias_hh and dL/dh0.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.cells.layernorm import layer_norm_gru_step
from rnnkit.functional.masks import padded_step
from rnnkit.kernels.gru.triton_ln_bwd import _ln_gru_bwd_kernel
from rnnkit.kernels.gru.triton_ln_fwd import _ln_gru_fwd_kernel
from rnnkit.kernels.lstm.ln_op import check_lengths, check_vector, choose_ln_layout, run_ln_kernel
from rnnkit.kernels.persistent import check_sequence_inputs, new_output
from rnnkit.kernels.scan.triton_op import check_device


def choose_ln_gru_layout(B: int, H: int, dtype: torch.dtype, device: torch.device, training: bool = True) -> dict:
    """The whole-row kernels' configurations for three gates; a one-line error where H does not fit."""
    return choose_ln_layout(B, H, dtype, device, training, gates=3, cell="LayerNorm-GRU")


def ln_gru_sequence_forward(gi: Tensor, w_hh: Tensor, gamma_hh: Tensor, bias_hh: Tensor | None = None,
                            h0: Tensor | None = None, lengths: Tensor | None = None, eps: float = 1e-5,
                            hmask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """-> ``y (B, T, H)``, ``h_n (B, H)`` in gi's dtype; see the module docstring."""
    check_device(gi)
    B, T, H = check_sequence_inputs(gi, w_hh, 3, "LayerNorm-GRU", {"h0": h0, "hmask": hmask})
    check_vector(gamma_hh, 3 * H, "gamma_hh")
    check_vector(bias_hh, 3 * H, "bias_hh")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    training = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (gi, w_hh, gamma_hh, bias_hh, h0))
    layout = choose_ln_gru_layout(B, H, gi.dtype, gi.device, training)
    hm = hmask.detach().float().contiguous() if hmask is not None else None
    return LNGRUSequence.apply(gi, w_hh, gamma_hh, bias_hh, h0, lengths, hm, float(eps), layout)


class LNGRUSequence(torch.autograd.Function):
    """``(y, h_n)`` of the fused forward; the backward runs :mod:`.triton_ln_bwd`, then sums the
    parameter gradients over batch and time (one matrix product for dW_hh)."""

    @staticmethod
    def forward(ctx, gi, w_hh, gamma_hh, bias_hh, h0, lengths, hmask, eps, layout):
        B, T, G = gi.shape
        H = G // 3
        dev = gi.device
        gi = gi.contiguous()
        w = w_hh.to(gi.dtype).contiguous()
        gh = gamma_hh.float().contiguous()
        bh = bias_hh.float().contiguous() if bias_hh is not None else None
        lens = check_lengths(lengths, T, dev)
        h_state = h0.float().clone() if h0 is not None else torch.zeros(B, H, device=dev)
        y = new_output((B, T, H), gi.dtype, dev)
        save = any(ctx.needs_input_grad[:5])
        f32 = torch.float32
        saved = new_output((B, T, 4 * H), f32, dev) if save else gi
        nh = new_output((B, T, G), f32, dev) if save else gi
        rs = new_output((B, T), f32, dev) if save else gi
        hs = new_output((B, T, H), f32, dev) if save else gi
        run_ln_kernel(_ln_gru_fwd_kernel, layout["fwd"], B, dev,
                      (gi, w, gh, bh if bh is not None else gh, h_state, lens if lens is not None else gi,
                       hmask if hmask is not None else gi, y, saved, nh, rs, hs, B, T, H, eps),
                      HAS_BH=bh is not None, HAS_LEN=lens is not None, HAS_HMASK=hmask is not None, SAVE=save)
        if save:
            h0f = h0.float().contiguous() if h0 is not None else None
            ctx.save_for_backward(w, gh, h0f, lens, hmask, saved, nh, rs, hs)
            ctx.layout = layout
            ctx.dtypes = [None if v is None else v.dtype for v in (gi, w_hh, gamma_hh, bias_hh, h0)]
        return y, h_state.to(gi.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dhn):
        w, gh, h0, lens, hmask, saved, nh, rs, hs = ctx.saved_tensors
        B, T, H = hs.shape
        dev = hs.device
        dt = ctx.dtypes
        dy = dy.contiguous() if dy is not None else torch.zeros(B, T, H, dtype=dt[0], device=dev)
        dh = dhn.float().clone() if dhn is not None else torch.zeros(B, H, device=dev)  # -> dL/dh0
        dgates = new_output((B, T, 4 * H), torch.float32, dev)
        dp = new_output((B, T, 3 * H), torch.float32, dev)
        run_ln_kernel(_ln_gru_bwd_kernel, ctx.layout["bwd"], B, dev,
                      (saved, nh, rs, hs, h0 if h0 is not None else hs, w, gh, lens if lens is not None else hs,
                       hmask if hmask is not None else hs, dy, dh, dgates, dp, B, T, H),
                      HAS_H0=h0 is not None, HAS_LEN=lens is not None, HAS_HMASK=hmask is not None)
        needs = ctx.needs_input_grad
        grads = [None] * 9
        if needs[0]:
            grads[0] = dgates[..., :3 * H].to(dt[0])
        if needs[1]:  # dW_hh = sum over b, t of dp_t^T h_{t-1} (as the product read it); dp is 0 where padded
            first = h0 if h0 is not None else torch.zeros(B, H, device=dev)
            h_prev = torch.cat([first.unsqueeze(1), hs[:, :-1]], dim=1)
            if hmask is not None:
                h_prev = h_prev * hmask.unsqueeze(1)
            grads[1] = (dp.reshape(B * T, -1).t() @ h_prev.reshape(B * T, H)).to(dt[1])
        dgh = torch.cat([dgates[..., :2 * H], dgates[..., 3 * H:]], dim=-1)  # dL/d(gamma_hh nh + bias_hh)
        if needs[2]:
            grads[2] = (dgh * nh).sum(dim=(0, 1)).to(dt[2])
        if dt[3] is not None and needs[3]:
            grads[3] = dgh.sum(dim=(0, 1)).to(dt[3])
        if dt[4] is not None and needs[4]:
            grads[4] = dh.to(dt[4])
        return tuple(grads)


def ln_gru_sequence_ref(gi: Tensor, w_hh: Tensor, gamma_hh: Tensor, bias_hh: Tensor | None = None,
                        h0: Tensor | None = None, lengths: Tensor | None = None, eps: float = 1e-5,
                        hmask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The twin: :func:`rnnkit.cells.layernorm.layer_norm_gru_step` in a loop, in gi's dtype, with
    the fused op's lengths (hold h, output 0) and hmask (the cell's ``h_rec``)."""
    B, T, G = gi.shape
    H = G // 3
    h = gi.new_zeros(B, H) if h0 is None else h0.to(gi.dtype)
    ys = []
    for t in range(T):
        h_rec = None if hmask is None else h * hmask.to(gi.dtype)
        h_new = layer_norm_gru_step(gi[:, t], h, w_hh, gamma_hh, bias_hh, eps, h_rec=h_rec)
        (h,), out = padded_step(t, lengths, (h_new,), (h,))
        ys.append(out)
    return torch.stack(ys, dim=1), h
