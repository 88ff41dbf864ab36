"""The fused LayerNorm-LSTM sequential part (rnnkit/cells/layernorm.py) on :mod:`.triton_ln_fwd` and
:mod:`.triton_ln_bwd`, and its reference twin, the cell's own step function in a loop.

``ln_lstm_sequence_forward(gi, w_hh, gamma_hh, gamma_c, beta_c, h0, c0, lengths, eps, hmask)``
computes what :func:`ln_lstm_sequence_ref` computes (the loop over
:func:`rnnkit.cells.layernorm.layer_norm_lstm_step`): gi ``(B, T, 4H)`` is the cell's
``project_input`` (``gamma_ih * norm(x W_ih^T) + bias_ih``, one LayerNorm per step done outside
the recurrence), w_hh ``(4H, H)``, gamma_hh ``(4H,)``, gamma_c ``(H,)``, beta_c ``(H,)`` or None
(``bias=False``); h0/c0 ``(B, H)`` or None; lengths ``(B,)`` or None; ``hmask`` ``(B, H)``, not
differentiated: variational recurrent dropout (the product reads ``h * hmask``). fp16, bf16 or
fp32, fp32 statistics and state.

Layout: one program per batch block owning all H units (the kernels' docstrings say why: both
LayerNorms are row reductions, done in registers without any grid barrier); it fits what the
split family's ``single`` layout fits (:func:`rnnkit.kernels.persistent.plan` with
``one_program=True``), larger H is refused with a one-line error. Not timed on a GPU yet: the
layers' ``auto`` never takes it (rnnkit/kernels/dispatch.py); ``backend="triton"`` does.

Autograd: ``LNLSTMSequence`` saves the activated gates, the normalised recurrent product, c_t, the
normalised c_t and both rstd per step (fp32) when a gradient is needed; its backward gives
dL/dgi, dL/dW_hh, dL/dgamma_hh, dL/dgamma_c, dL/dbeta_c, dL/dh0, dL/dc0.
"""

from __future__ import annotations

import torch
import triton
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.cells.layernorm import layer_norm_lstm_step
from rnnkit.functional.masks import padded_step
from rnnkit.kernels.lstm.triton_ln_bwd import _ln_lstm_bwd_kernel
from rnnkit.kernels.lstm.triton_ln_fwd import _ln_lstm_fwd_kernel
from rnnkit.kernels.persistent import NUM_WARPS, check_sequence_inputs, new_output, plan
from rnnkit.kernels.scan.triton_op import check_device


def choose_ln_layout(B: int, H: int, dtype: torch.dtype, device: torch.device, training: bool = True,
                     gates: int = 4, cell: str = "LayerNorm-LSTM") -> dict:
    """``{"fwd": cfg, "bwd": cfg or None}`` of the whole-row kernels (one program per batch block,
    all H units: the ``single`` plan of rnnkit/kernels/persistent.py); a one-line error where the
    shape does not fit."""
    fwd = plan(B, H, dtype, device, training=False, one_program=True, gates=gates)
    bwd = plan(B, H, dtype, device, training=True, one_program=True, gates=gates) if training else None
    for cfg in (fwd, bwd):
        if isinstance(cfg, str):
            raise ValueError(f"the fused {cell} does not fit this shape (whole-row layout): {cfg}")
    return {"fwd": fwd, "bwd": bwd}


def run_ln_kernel(kernel, cfg: dict, B: int, device: torch.device, args: tuple, **constexprs) -> None:
    """One launch, grid (batch blocks,), all T steps in it (no barrier: the programs never meet)."""
    grid = (triton.cdiv(B, cfg["BLOCK_B"]),)
    extra = {"num_warps": NUM_WARPS, "num_stages": 1} if device.type == "cuda" else {}
    kernel[grid](*args, BLOCK_B=cfg["BLOCK_B"], BLOCK_K=cfg["BLOCK_K"], DOT_PREC=cfg["DOT_PREC"],
                 **constexprs, **extra)


def check_lengths(lengths: Tensor | None, T: int, device: torch.device) -> Tensor | None:
    lens = lengths.to(device=device, dtype=torch.int32).contiguous() if lengths is not None else None
    if lens is not None and (int(lens.min()) < 1 or int(lens.max()) > T):
        raise ValueError(f"lengths must be in [1, T={T}]")
    return lens


def check_vector(v: Tensor | None, size: int, name: str) -> None:
    if v is not None and tuple(v.shape) != (size,):
        raise ValueError(f"{name} must have shape ({size},), got {tuple(v.shape)}")


def ln_lstm_sequence_forward(gi: Tensor, w_hh: Tensor, gamma_hh: Tensor, gamma_c: Tensor,
                             beta_c: Tensor | None = None, h0: Tensor | None = None, c0: Tensor | None = None,
                             lengths: Tensor | None = None, eps: float = 1e-5, hmask: Tensor | None = None
                             ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """-> ``y (B, T, H)``, ``(h_n, c_n)`` in gi's dtype; see the module docstring."""
    check_device(gi)
    B, T, H = check_sequence_inputs(gi, w_hh, 4, "LayerNorm-LSTM", {"h0": h0, "c0": c0, "hmask": hmask})
    check_vector(gamma_hh, 4 * H, "gamma_hh")
    check_vector(gamma_c, H, "gamma_c")
    check_vector(beta_c, H, "beta_c")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    training = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (gi, w_hh, gamma_hh, gamma_c, beta_c, h0, c0))
    layout = choose_ln_layout(B, H, gi.dtype, gi.device, training)
    hm = hmask.detach().float().contiguous() if hmask is not None else None
    y, h_n, c_n = LNLSTMSequence.apply(gi, w_hh, gamma_hh, gamma_c, beta_c, h0, c0, lengths, hm, float(eps), layout)
    return y, (h_n, c_n)


class LNLSTMSequence(torch.autograd.Function):
    """``(y, h_n, c_n)`` of the fused forward; the backward runs :mod:`.triton_ln_bwd`, then sums
    the parameter gradients over batch and time (one matrix product for dW_hh)."""

    @staticmethod
    def forward(ctx, gi, w_hh, gamma_hh, gamma_c, beta_c, h0, c0, lengths, hmask, eps, layout):
        B, T, G = gi.shape
        H = G // 4
        dev = gi.device
        gi = gi.contiguous()
        w = w_hh.to(gi.dtype).contiguous()
        gh, gc = gamma_hh.float().contiguous(), gamma_c.float().contiguous()
        bc = beta_c.float().contiguous() if beta_c is not None else None
        lens = check_lengths(lengths, T, dev)
        h_state = h0.float().clone() if h0 is not None else torch.zeros(B, H, device=dev)
        c_state = c0.float().clone() if c0 is not None else torch.zeros(B, H, device=dev)
        y = new_output((B, T, H), gi.dtype, dev)
        save = any(ctx.needs_input_grad[:7])
        f32 = torch.float32
        act, nh = (new_output((B, T, G), f32, dev) for _ in range(2)) if save else (gi, gi)
        cs, nc = (new_output((B, T, H), f32, dev) for _ in range(2)) if save else (gi, gi)
        rs = new_output((B, T, 2), f32, dev) if save else gi
        run_ln_kernel(_ln_lstm_fwd_kernel, layout["fwd"], B, dev,
                      (gi, w, gh, gc, bc if bc is not None else gc, h_state, c_state,
                       lens if lens is not None else gi, hmask if hmask is not None else gi, y,
                       act, nh, cs, nc, rs, B, T, H, eps),
                      HAS_BC=bc is not None, HAS_LEN=lens is not None, HAS_HMASK=hmask is not None, SAVE=save)
        if save:
            c0c = c0.float().contiguous() if c0 is not None else None
            h0c = h0.float().contiguous() if h0 is not None else None
            ctx.save_for_backward(w, gh, gc, bc, h0c, c0c, lens, hmask, y, act, nh, cs, nc, rs)
            ctx.layout = layout
            ctx.dtypes = [None if v is None else v.dtype for v in (gi, w_hh, gamma_hh, gamma_c, beta_c, h0, c0)]
        return y, h_state.to(gi.dtype), c_state.to(gi.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dhn, dcn):
        w, gh, gc, bc, h0, c0, lens, hmask, y, act, nh, cs, nc, rs = ctx.saved_tensors
        B, T, H = y.shape
        dev = y.device
        dy = dy.contiguous() if dy is not None else torch.zeros_like(y)
        dh = dhn.float().clone() if dhn is not None else torch.zeros(B, H, device=dev)  # -> dL/dh0
        dc = dcn.float().clone() if dcn is not None else torch.zeros(B, H, device=dev)  # -> dL/dc0
        dgi, dp = (new_output(act.shape, torch.float32, dev) for _ in range(2))
        du = new_output((B, T, H), torch.float32, dev)
        run_ln_kernel(_ln_lstm_bwd_kernel, ctx.layout["bwd"], B, dev,
                      (act, nh, cs, nc, rs, c0 if c0 is not None else cs, w, gh, gc, bc if bc is not None else gc,
                       lens if lens is not None else cs, hmask if hmask is not None else cs, dy, dh, dc,
                       dgi, dp, du, B, T, H),
                      HAS_C0=c0 is not None, HAS_BC=bc is not None, HAS_LEN=lens is not None,
                      HAS_HMASK=hmask is not None)
        needs = ctx.needs_input_grad
        dt = ctx.dtypes
        grads = [None] * 11
        if needs[0]:
            grads[0] = dgi.to(dt[0])
        if needs[1]:  # dW_hh = sum over b, t of dp_t^T h_{t-1} (as the product read it); dp is 0 where padded
            first = h0 if h0 is not None else torch.zeros(B, H, device=dev)
            h_prev = torch.cat([first.unsqueeze(1), y[:, :-1].float()], dim=1)
            if hmask is not None:
                h_prev = h_prev * hmask.unsqueeze(1)
            grads[1] = (dp.reshape(B * T, -1).t() @ h_prev.reshape(B * T, H)).to(dt[1])
        if needs[2]:
            grads[2] = (dgi * nh).sum(dim=(0, 1)).to(dt[2])
        if needs[3]:
            grads[3] = (du * nc).sum(dim=(0, 1)).to(dt[3])
        if dt[4] is not None and needs[4]:
            grads[4] = du.sum(dim=(0, 1)).to(dt[4])
        if dt[5] is not None and needs[5]:
            grads[5] = dh.to(dt[5])
        if dt[6] is not None and needs[6]:
            grads[6] = dc.to(dt[6])
        return tuple(grads)


def ln_lstm_sequence_ref(gi: Tensor, w_hh: Tensor, gamma_hh: Tensor, gamma_c: Tensor, beta_c: Tensor | None = None,
                         h0: Tensor | None = None, c0: Tensor | None = None, lengths: Tensor | None = None,
                         eps: float = 1e-5, hmask: Tensor | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """The twin: the cell's own step (:func:`rnnkit.cells.layernorm.layer_norm_lstm_step`) in a
    loop, in gi's dtype, with the fused op's lengths (hold the state, output 0) and hmask."""
    B, T, G = gi.shape
    H = G // 4
    h = gi.new_zeros(B, H) if h0 is None else h0.to(gi.dtype)
    c = gi.new_zeros(B, H) if c0 is None else c0.to(gi.dtype)
    ys = []
    for t in range(T):
        h_rec = h if hmask is None else h * hmask.to(gi.dtype)
        h_new, c_new = layer_norm_lstm_step(gi[:, t], h_rec, c, w_hh, gamma_hh, gamma_c, beta_c, eps)
        (h, c), out = padded_step(t, lengths, (h_new, c_new), (h, c))
        ys.append(out)
    return torch.stack(ys, dim=1), (h, c)
