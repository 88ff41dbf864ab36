"""The fused LSTM sequential part on rnnkit's Triton kernels (:mod:`.split` launches them).

``lstm_sequence_forward(gi, w_hh, h0, c0, lengths, kernel, hmask, zone)`` computes exactly what
:func:`rnnkit.kernels.lstm.reference.lstm_sequence_ref` computes (same shapes, same gate order
i, f, g, o), with fp32 accumulation and an fp32 cell state. ``lstm_forward`` adds the input
projection (one matrix product over all T, outside the kernel) from torch-named weights.

Kernel layouts (``kernel=``), all on the kernels of :mod:`.split`: ``split`` gives each program
16 or 32 hidden units and their slice of W_hh, the programs meeting at a grid barrier every step;
``rows`` is ``split`` with the products turned around so the weight slice is the left operand,
forward (:mod:`.triton_rows_fwd`, a 64-row stack of four gates) and backward
(:mod:`.triton_rows_bwd`, W_hh^T's rows, one gradient tile at a time); ``single`` gives one
program all units (all of W_hh in one program: small H only). Shared memory limits split to
fp16/bf16 H <= 512 for training and 1024 for inference, fp32 half that; the rows backward trains
fp16/bf16 H = 768 and 1024 (B <= 64; fp32 up to 512). ``auto`` takes the pair timed on an H200: the
rows forward with the split backward (the rows backward is untimed); with zoneout (``zone``),
which only the split kernels apply, ``split``.

Precision of the recurrent product in fp32 (every layout, forward and backward): exact fp32 by
default, TF32 when torch allows TF32 for fp32 matmuls at the time of the forward
(``torch.backends.cuda.matmul.allow_tf32``; :func:`rnnkit.kernels.persistent.dot_precision`),
as torch's own fp32 products (the input projection here included) follow the same switch.

Autograd: ``LSTMSequence`` saves the activated gates and c_t in fp32 when a gradient is needed
(nothing under ``torch.no_grad()``); its backward gives dL/dgi, dL/dW_hh, dL/dh0, dL/dc0. The
saved activations are fp32, so there is no float64 path (no gradcheck): the gradients are checked
against autograd through the float64 eager loop instead. Layers reach it through
``backend="triton"`` (rnnkit/kernels/fused_layer.py, rnnkit/kernels/dispatch.py).

The LayerNorm-LSTM's fused op (``ln_lstm_sequence_forward``, whole-row kernels) lives in
:mod:`.ln_op` and is re-exported here, so importing this module decorates every LSTM kernel.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.kernels.lstm.ln_op import ln_lstm_sequence_forward  # noqa: F401  (LayerNorm-LSTM)
from rnnkit.kernels.lstm.split import split_backward, split_forward
from rnnkit.kernels.persistent import check_sequence_inputs, new_output, plan, zone_weights
from rnnkit.kernels.scan.triton_op import check_device

KERNELS = ("auto", "single", "split", "rows")


def lstm_sequence_forward(gi: Tensor, w_hh: Tensor, h0: Tensor | None = None, c0: Tensor | None = None,
                          lengths: Tensor | None = None, kernel: str = "auto", hmask: Tensor | None = None,
                          zone: tuple[Tensor | None, Tensor | None] | None = None
                          ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """gi ``(B, T, 4H)``, w_hh ``(4H, H)``, h0/c0 ``(B, H)`` or None, lengths ``(B,)`` or None
    -> ``y (B, T, H)``, ``(h_n, c_n)`` in gi's dtype (fp16, bf16 or fp32). ``kernel``: one of
    ``KERNELS`` (see the module docstring). ``hmask`` ``(B, H)``, not differentiated: variational
    recurrent dropout, the product reads ``h * hmask`` at every step (as the reference does).
    ``zone``, not differentiated: None or ``(zone_h, zone_c)``, each None or broadcastable to
    ``(B, T, H)``, zoneout keep-weights d (0/1 in training, p in eval) of h and c,
    ``s_t = d_t s_{t-1} + (1 - d_t) s~_t``; split kernels only (``split``, ``single``; ``auto``
    takes split)."""
    check_device(gi)
    B, T, H = check_sequence_inputs(gi, w_hh, 4, "LSTM", {"h0": h0, "c0": c0, "hmask": hmask})
    zone = (None, None) if zone is None else zone
    if isinstance(zone, Tensor) or len(zone) != 2:  # one tensor per state tensor, h and c
        raise ValueError("zone must be None or (zone_h, zone_c), each None or a (B, T, H) tensor")
    zm = tuple(zone_weights(z, (B, T, H), name) for z, name in zip(zone, ("zone_h", "zone_c")))
    if zm != (None, None):
        if kernel == "rows":
            raise ValueError("zoneout is fused in the split kernels only (kernel='split', 'single' or 'auto')")
        kernel = "split" if kernel == "auto" else kernel
    training = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (gi, w_hh, h0, c0))
    layout = choose_kernel(B, H, gi.dtype, gi.device, kernel, training)
    hm = hmask.detach().float().contiguous() if hmask is not None else None
    y, h_n, c_n = LSTMSequence.apply(gi, w_hh, h0, c0, lengths, hm, *zm, layout)
    return y, (h_n, c_n)


def choose_kernel(B: int, H: int, dtype: torch.dtype, device: torch.device, kernel: str = "auto",
                  training: bool = True) -> dict:
    """``{"fwd": cfg, "bwd": cfg or None}``: the launch configurations of the forward and (when
    training) the backward kernel; a clear error where the shape does not fit. Both carry
    ``DOT_PREC``, the fp32 products' precision as torch's TF32 switch says now.

    ``auto``: the rows forward, faster than ``split`` forward at every size measured on an H200
    (docs/kernels.md): 1.4-2.3x in fp16/bf16, 1.6-35x in fp32 (B=8, H=256: 13.9 against 492 ms);
    rows fits every forward shape split fits (16 units per program needs the least shared memory).
    Its backward stays the split one, the backward those timings ran: the rows backward
    (``kernel="rows"``) has not run on a GPU, so ``auto`` never takes it, not even where only it
    fits (training at H = 768/1024 in fp16/bf16: ``auto`` refuses, and the layers take cuDNN).
    ``rows``: the rows forward and the rows backward; ``split``, ``single``: the split kernels."""
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    if kernel == "auto":  # the timed pair; named "rows" in errors, as before the rows backward existed
        kernel, fwd_kind, bwd_kind = "rows", "rows", "split"
    else:
        fwd_kind = bwd_kind = "split" if kernel == "single" else kernel
    one = kernel == "single"
    fwd = plan(B, H, dtype, device, training=False, kind=fwd_kind, one_program=one)
    bwd = plan(B, H, dtype, device, training=True, kind=bwd_kind, one_program=one) if training else None
    for cfg in (fwd, bwd):
        if isinstance(cfg, str):
            hint = ""
            if cfg is bwd and isinstance(fwd, dict) and bwd_kind == "split" and not one and isinstance(
                    plan(B, H, dtype, device, training=True, kind="rows"), dict):
                hint = "; kernel='rows' trains it (its backward holds one gradient tile; untimed on a GPU)"
            raise ValueError(f"the fused LSTM does not fit this shape ({kernel} layout): {cfg}{hint}")
    return {"fwd": fwd, "bwd": bwd}


class LSTMSequence(torch.autograd.Function):
    """``(y, h_n, c_n)`` of the fused forward; the backward runs :mod:`.triton_split_bwd` or
    :mod:`.triton_rows_bwd` (``layout["bwd"]["kind"]``) for dL/dgi, dL/dh0, dL/dc0 and one matrix
    product for dL/dW_hh."""

    @staticmethod
    def forward(ctx, gi, w_hh, h0, c0, lengths, hmask, zone_h, zone_c, layout):
        B, T, G = gi.shape
        H = G // 4
        gi = gi.contiguous()
        w = w_hh.to(gi.dtype).contiguous()
        h0c = h0.contiguous() if h0 is not None else None
        c0c = c0.contiguous() if c0 is not None else None
        lens = lengths.to(device=gi.device, dtype=torch.int32).contiguous() if lengths is not None else None
        if lens is not None and (int(lens.min()) < 1 or int(lens.max()) > T):
            raise ValueError(f"lengths must be in [1, T={T}]")
        y = new_output((B, T, H), gi.dtype, gi.device)
        h_n = new_output((B, H), gi.dtype, gi.device)
        c_n = new_output((B, H), gi.dtype, gi.device)
        save = any(ctx.needs_input_grad[:4])
        gates = new_output((B, T, G), torch.float32, gi.device) if save else None
        cs = new_output((B, T, H), torch.float32, gi.device) if save else None
        # with c zoned, tanh(c~_t) in the backward needs the candidate: cs holds the zoned c_t
        cc = new_output((B, T, H), torch.float32, gi.device) if save and zone_c is not None else None
        split_forward(gi, w, h0c, c0c, lens, y, h_n, c_n, gates, cs, layout["fwd"], hmask, (zone_h, zone_c), cc)
        ctx.layout = layout
        if save:
            ctx.save_for_backward(w, h0c, c0c, lens, y, gates, cs, hmask, zone_h, zone_c, cc)
            ctx.gi_dtype, ctx.w_dtype = gi.dtype, w_hh.dtype
        return y, h_n, c_n

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dhn, dcn):
        w, h0, c0, lens, y, gates, cs, hmask, zone_h, zone_c, cc = ctx.saved_tensors
        B, T, H = y.shape
        dy = dy.contiguous() if dy is not None else torch.zeros_like(y)
        dgates = new_output(gates.shape, torch.float32, y.device)
        dh0 = new_output((B, H), torch.float32, y.device)
        dc0 = new_output((B, H), torch.float32, y.device)
        split_backward(gates, cs, c0, w, lens, dy, dhn, dcn, dgates, dh0, dc0, ctx.layout["bwd"], hmask,
                       (zone_h, zone_c), cc)
        d_gi = d_w = d_h0 = d_c0 = None
        if ctx.needs_input_grad[0]:
            d_gi = dgates.to(ctx.gi_dtype)
        if ctx.needs_input_grad[1]:
            # dW_hh = sum over b, t of dgates_t^T h_{t-1}: one product over all B*T rows. y is 0
            # at padded steps, where dgates is 0 too, so padding adds nothing.
            first = h0.float() if h0 is not None else torch.zeros(B, H, device=y.device)
            h_prev = torch.cat([first.unsqueeze(1), y[:, :-1].float()], dim=1)
            if hmask is not None:  # the product read h * m
                h_prev = h_prev * hmask.unsqueeze(1)
            d_w = (dgates.reshape(B * T, -1).t() @ h_prev.reshape(B * T, H)).to(ctx.w_dtype)
        if h0 is not None and ctx.needs_input_grad[2]:
            d_h0 = dh0.to(h0.dtype)
        if c0 is not None and ctx.needs_input_grad[3]:
            d_c0 = dc0.to(c0.dtype)
        return d_gi, d_w, d_h0, d_c0, None, None, None, None, None


def lstm_forward(x: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor | None = None,
                 bias_hh: Tensor | None = None, h0: Tensor | None = None, c0: Tensor | None = None,
                 lengths: Tensor | None = None, kernel: str = "auto", hmask: Tensor | None = None,
                 zone: tuple[Tensor | None, Tensor | None] | None = None
                 ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One LSTM layer, batch-first x ``(B, T, D)``, torch-named weights (``weight_ih_l0 (4H, D)``
    etc.): ``gi = x W_ih^T + b_ih + b_hh`` in one product, then the fused sequential part."""
    gi = x @ weight_ih.t()
    if bias_ih is not None:
        gi = gi + bias_ih
    if bias_hh is not None:
        gi = gi + bias_hh
    return lstm_sequence_forward(gi, weight_hh, h0, c0, lengths, kernel, hmask, zone)
