"""The fused Elman RNN sequential part on the Triton kernels of :mod:`.triton_split_fwd` and
:mod:`.triton_split_bwd`.

``elman_sequence_forward(gi, w_hh, h0, lengths, hmask, nonlinearity, zone)`` computes exactly what
:func:`rnnkit.kernels.elman.reference.elman_sequence_ref` computes, with fp32 accumulation and
an fp32 state. ``elman_forward`` adds the input projection from torch-named weights (one matrix
product over all T, outside the kernel, both biases folded in).

Layout: the LSTM's ``split`` (rnnkit/kernels/persistent.py) with one gate: each program owns 16 or
32 hidden units and their rows of W_hh, the programs meet at a grid barrier each step. With one
gate instead of four, the weight slice is a quarter of the LSTM's, so larger H fits. In fp32
the recurrent products are exact unless torch allows TF32 for fp32 matmuls when the forward runs
(``torch.backends.cuda.matmul.allow_tf32``; :func:`rnnkit.kernels.persistent.dot_precision`).

Status: correct under the Triton interpreter (tests/kernels_triton/test_triton_elman.py); not yet
compiled or timed on a GPU, so the layers' ``auto`` never takes it (rnnkit/kernels/dispatch.py):
``backend="triton"`` runs it on request.

Autograd: ``ElmanSequence`` saves h_t in fp32 when a gradient is needed (with zoneout also the
candidate h~_t and the keep-weights); its backward gives dL/dgi, dL/dW_hh and dL/dh0.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.kernels.elman.reference import NONLINEARITIES
from rnnkit.kernels.elman.triton_split_bwd import _elman_split_bwd_kernel
from rnnkit.kernels.elman.triton_split_fwd import _elman_split_fwd_kernel
from rnnkit.kernels.persistent import check_sequence_inputs, launch, new_output, plan, zone_weights
from rnnkit.kernels.scan.triton_op import check_device


def choose_layout(B: int, H: int, dtype: torch.dtype, device: torch.device, training: bool = True) -> dict:
    """``{"fwd": cfg, "bwd": cfg or None}`` of the split layout with one gate; a clear error where
    the shape does not fit. Both carry ``DOT_PREC``, the fp32 products' precision as torch's TF32
    switch says now."""
    fwd = plan(B, H, dtype, device, training=False, kind="split", gates=1)
    bwd = plan(B, H, dtype, device, training=True, gates=1) if training else None
    for cfg in (fwd, bwd):
        if isinstance(cfg, str):
            raise ValueError(f"the fused Elman RNN does not fit this shape: {cfg}")
    return {"fwd": fwd, "bwd": bwd}


def elman_sequence_forward(gi: Tensor, w_hh: Tensor, h0: Tensor | None = None, lengths: Tensor | None = None,
                           hmask: Tensor | None = None, nonlinearity: str = "tanh",
                           zone: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """gi ``(B, T, H)`` (= x W_ih^T + b_ih + b_hh), w_hh ``(H, H)``, h0 ``(B, H)`` or None, lengths
    ``(B,)`` or None -> ``y (B, T, H)``, ``h_n (B, H)`` in gi's dtype (fp16, bf16 or fp32).
    ``hmask`` ``(B, H)``, not differentiated: variational recurrent dropout, the product reads
    ``h * hmask``. ``nonlinearity``: ``tanh`` or ``relu``. ``zone``, not differentiated,
    broadcastable to ``(B, T, H)``: zoneout keep-weights d (0/1 in training, p in eval),
    ``h_t = d_t h_{t-1} + (1 - d_t) h~_t``."""
    check_device(gi)
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
    B, T, H = check_sequence_inputs(gi, w_hh, 1, "Elman RNN", {"h0": h0, "hmask": hmask})
    zm = zone_weights(zone, (B, T, H))
    training = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (gi, w_hh, h0))
    layout = choose_layout(B, H, gi.dtype, gi.device, training)
    hm = hmask.detach().float().contiguous() if hmask is not None else None
    return ElmanSequence.apply(gi, w_hh, h0, lengths, hm, zm, nonlinearity == "relu", layout)


class ElmanSequence(torch.autograd.Function):
    """``(y, h_n)`` of the fused forward; the backward runs :mod:`.triton_split_bwd` for dL/dgi and
    dL/dh0 and one matrix product for dL/dW_hh."""

    @staticmethod
    def forward(ctx, gi, w_hh, h0, lengths, hmask, zone, relu, layout):
        B, T, H = gi.shape
        dev = gi.device
        gi = gi.contiguous()
        w = w_hh.to(gi.dtype).contiguous()
        lens = lengths.to(device=dev, dtype=torch.int32).contiguous() if lengths is not None else None
        if lens is not None and (int(lens.min()) < 1 or int(lens.max()) > T):
            raise ValueError(f"lengths must be in [1, T={T}]")
        save = any(ctx.needs_input_grad[:3])
        y = new_output((B, T, H), gi.dtype, dev)
        hs = new_output((B, T, H), torch.float32, dev) if save else None
        hc = new_output((B, T, H), torch.float32, dev) if save and zone is not None else None  # h~_t
        h_state = h0.float().clone() if h0 is not None else torch.zeros(B, H, device=dev)
        hx = torch.empty(2, B, H, dtype=gi.dtype, device=dev)
        # h_{-1} as the product reads it: in the input dtype, times the mask
        hx[0] = (h_state if hmask is None else h_state * hmask).to(gi.dtype)
        cfg = layout["fwd"]
        bar = torch.zeros(cfg["grid"][1], dtype=torch.int32, device=dev)
        args = (gi, w, hx, h_state, lens if lens is not None else gi, y, hs if save else gi, bar, B, T, H, 0, 0,
                hmask if hmask is not None else gi, zone if zone is not None else gi, hc if hc is not None else gi)
        launch(_elman_split_fwd_kernel, cfg["grid"], args, cfg, dev, T, 11,
               HAS_LEN=lens is not None, SAVE=save, HAS_HMASK=hmask is not None, RELU=relu,
               HAS_ZONE=zone is not None)
        if save:
            h0f = h0.float().contiguous() if h0 is not None else None
            ctx.save_for_backward(w, h0f, lens, hs, hmask, zone, hc)
            ctx.layout, ctx.relu = layout, relu
            ctx.dtypes = (gi.dtype, w_hh.dtype, h0.dtype if h0 is not None else None)
        return y, h_state.to(gi.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dhn):
        w, h0, lens, hs, hmask, zone, hc = ctx.saved_tensors
        B, T, H = hs.shape
        dev = hs.device
        gi_dtype, w_dtype, h0_dtype = ctx.dtypes
        dy = dy.contiguous() if dy is not None else torch.zeros(B, T, H, dtype=gi_dtype, device=dev)
        dgi = new_output((B, T, H), torch.float32, dev)
        dh = dhn.float().clone() if dhn is not None else torch.zeros(B, H, device=dev)  # ends as dL/dh0
        dx = torch.empty(2, B, H, dtype=w.dtype, device=dev)
        cfg = ctx.layout["bwd"]
        bar = torch.zeros(cfg["grid"][1], dtype=torch.int32, device=dev)
        # act' is a function of the cell's own output: h_t, or with zoneout the candidate h~_t
        args = (hc if zone is not None else hs, w, lens if lens is not None else hs, dy, dx, dh, dgi, bar,
                B, T, H, 0, 0, hmask if hmask is not None else hs, zone if zone is not None else hs)
        # T steps and one last iteration that only reads (dL/dh0 through W_hh)
        launch(_elman_split_bwd_kernel, cfg["grid"], args, cfg, dev, T + 1, 11,
               HAS_LEN=lens is not None, HAS_HMASK=hmask is not None, RELU=ctx.relu, HAS_ZONE=zone is not None)
        d_gi = d_w = d_h0 = None
        if ctx.needs_input_grad[0]:
            d_gi = dgi.to(gi_dtype)
        if ctx.needs_input_grad[1]:
            # dW_hh = sum over b, t of da_t^T h_{t-1}; da is zero at padded steps
            first = h0 if h0 is not None else torch.zeros(B, H, device=dev)
            h_prev = torch.cat([first.unsqueeze(1), hs[:, :-1]], dim=1)
            if hmask is not None:  # the product read h * m
                h_prev = h_prev * hmask.unsqueeze(1)
            d_w = (dgi.reshape(B * T, H).t() @ h_prev.reshape(B * T, H)).to(w_dtype)
        if h0_dtype is not None and ctx.needs_input_grad[2]:
            d_h0 = dh.to(h0_dtype)
        return d_gi, d_w, d_h0, None, None, None, None, None


def elman_forward(x: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor | None = None,
                  bias_hh: Tensor | None = None, h0: Tensor | None = None, lengths: Tensor | None = None,
                  hmask: Tensor | None = None, nonlinearity: str = "tanh",
                  zone: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One Elman RNN layer, batch-first x ``(B, T, D)``, torch-named weights: ``gi = x W_ih^T +
    b_ih + b_hh`` in one product, then the fused sequential part."""
    gi = x @ weight_ih.t()
    if bias_ih is not None:
        gi = gi + bias_ih
    if bias_hh is not None:
        gi = gi + bias_hh
    return elman_sequence_forward(gi, weight_hh, h0, lengths, hmask, nonlinearity, zone)
