"""The fused GRU sequential part on the Triton kernels of :mod:`.triton_split_fwd` or
:mod:`.triton_rows_fwd` (forward) and :mod:`.triton_split_bwd` or :mod:`.triton_rows_bwd`.

``gru_sequence_forward(gi, w_hh, b_hn, h0, lengths, hmask, kernel, zone)`` computes exactly what
:func:`rnnkit.kernels.gru.reference.gru_sequence_ref` computes (torch's GRU variant, gate order
r, z, n), with fp32 accumulation and an fp32 state. ``gru_forward`` adds the input projection
from torch-named weights (one matrix product over all T, outside the kernel).

Layouts (``kernel=``): the LSTM's ``split`` (rnnkit/kernels/persistent.py): each program owns
16 or 32 hidden units and their three gates' slice of W_hh, the programs meet at a grid barrier
each step; ``rows``: the same division with the product turned around (the gates stacked as the
left operand, :mod:`.triton_rows_fwd`), and for the backward too (:mod:`.triton_rows_bwd`: W_hh^T's
rows as the left operand, one gradient tile at a time). With three gates instead of four, training
fits fp16/bf16 up to H = 1024 at small batch (fp32 512) in either layout. ``auto`` takes the rows
forward where it fits, as the LSTM does, always with the split backward (the one timed on an H200;
the rows backward is untimed); with zoneout (``zone``) only ``split`` applies it, so ``auto`` takes
``split`` there.
In fp32 the recurrent products are exact unless torch allows TF32 for fp32 matmuls when the
forward runs (``torch.backends.cuda.matmul.allow_tf32``; :func:`rnnkit.kernels.persistent.dot_precision`).

Compiled, tested and timed on an H200 (docs/kernels.md); the layers' ``auto`` takes it for bare GRU
layers in fp16/bf16 on CUDA (rnnkit/kernels/dispatch.py), ``backend="triton"`` on request.

Autograd: ``GRUSequence`` saves r, z, n, n_h and h_t in fp32 when a gradient is needed; its
backward gives dL/dgi, dL/dW_hh, dL/db_hn and dL/dh0.

The LayerNorm-GRU's fused op (``ln_gru_sequence_forward``, whole-row kernels) lives in
:mod:`.ln_op` and is re-exported here, so importing this module decorates every GRU kernel.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.kernels.gru.ln_op import ln_gru_sequence_forward  # noqa: F401  (LayerNorm-GRU)
from rnnkit.kernels.gru.triton_rows_bwd import _gru_rows_bwd_kernel
from rnnkit.kernels.gru.triton_rows_fwd import _gru_rows_fwd_kernel
from rnnkit.kernels.gru.triton_split_bwd import _gru_split_bwd_kernel
from rnnkit.kernels.gru.triton_split_fwd import _gru_split_fwd_kernel
from rnnkit.kernels.persistent import check_sequence_inputs, launch, new_output, plan, zone_weights
from rnnkit.kernels.scan.triton_op import check_device

KERNELS = ("auto", "split", "rows")
FORWARD_KERNELS = {"split": _gru_split_fwd_kernel, "rows": _gru_rows_fwd_kernel}
BACKWARD_KERNELS = {"split": _gru_split_bwd_kernel, "rows": _gru_rows_bwd_kernel}


def choose_layout(B: int, H: int, dtype: torch.dtype, device: torch.device, training: bool = True,
                  kernel: str = "auto") -> dict:
    """``{"fwd": cfg, "bwd": cfg or None}``; a clear error where the shape does not fit.
    ``kernel``: the layout of forward and backward, ``split`` or ``rows``. ``auto``: the rows
    forward, faster than split at every size timed on an H200 (forward 1.1-2.1x, docs/kernels.md),
    split where only split fits (the rows stack has a fourth block of zero rows, so its weight
    tile is sized as four gates), and always the split backward: the one those timings ran (the
    rows backward has not run on a GPU, so ``auto`` never takes it).
    Both configurations carry ``DOT_PREC``, the fp32 products' precision as torch's TF32 switch says now."""
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")

    def forward_plan(kind: str) -> dict | str:
        return plan(B, H, dtype, device, training=False, kind=kind, gates=4 if kind == "rows" else 3)

    kind = "rows" if kernel == "auto" else kernel
    fwd = forward_plan(kind)
    if kernel == "auto" and isinstance(fwd, str):
        split = forward_plan("split")
        if isinstance(split, dict):
            kind, fwd = "split", split
    bwd_kind = "rows" if kernel == "rows" else "split"  # auto: the timed split backward
    bwd = plan(B, H, dtype, device, training=True, kind=bwd_kind, gates=3) if training else None
    for cfg in (fwd, bwd):
        if isinstance(cfg, str):
            raise ValueError(f"the fused GRU does not fit this shape ({kind} layout): {cfg}")
    return {"fwd": fwd, "bwd": bwd}


def gru_sequence_forward(gi: Tensor, w_hh: Tensor, b_hn: Tensor | None = None, h0: Tensor | None = None,
                         lengths: Tensor | None = None, hmask: Tensor | None = None,
                         kernel: str = "auto", zone: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """gi ``(B, T, 3H)`` (= x W_ih^T + b_ih + [b_hr, b_hz, 0]), w_hh ``(3H, H)``, b_hn ``(H,)`` or
    None, h0 ``(B, H)`` or None, lengths ``(B,)`` or None -> ``y (B, T, H)``, ``h_n (B, H)`` in
    gi's dtype (fp16, bf16 or fp32). ``hmask`` ``(B, H)``, not differentiated: variational
    recurrent dropout, the product reads ``h * hmask``, the interpolation with z reads h.
    ``kernel``: the forward's layout (``KERNELS``). ``zone``, not differentiated, broadcastable to
    ``(B, T, H)``: zoneout keep-weights d (0/1 in training, p in eval),
    ``h_t = d_t h_{t-1} + (1 - d_t) h~_t``; the split layout only (``auto`` takes it)."""
    check_device(gi)
    B, T, H = check_sequence_inputs(gi, w_hh, 3, "GRU", {"h0": h0, "hmask": hmask})
    if b_hn is not None and tuple(b_hn.shape) != (H,):
        raise ValueError(f"b_hn must have shape (hidden,) = {(H,)}, got {tuple(b_hn.shape)}")
    zm = zone_weights(zone, (B, T, H))
    if zm is not None:
        if kernel == "rows":
            raise ValueError("zoneout is fused in the split layout only (kernel='split' or 'auto')")
        kernel = "split"
    training = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (gi, w_hh, b_hn, h0))
    layout = choose_layout(B, H, gi.dtype, gi.device, training, kernel)
    hm = hmask.detach().float().contiguous() if hmask is not None else None
    return GRUSequence.apply(gi, w_hh, b_hn, h0, lengths, hm, zm, layout)


class GRUSequence(torch.autograd.Function):
    """``(y, h_n)`` of the fused forward; the backward runs :mod:`.triton_split_bwd` or
    :mod:`.triton_rows_bwd` (``layout["bwd"]["kind"]``) for dL/dgi, dL/db_hn, dL/dh0 and one matrix
    product for dL/dW_hh."""

    @staticmethod
    def forward(ctx, gi, w_hh, b_hn, h0, lengths, hmask, zone, layout):
        B, T, G = gi.shape
        H = G // 3
        dev = gi.device
        gi = gi.contiguous()
        w = w_hh.to(gi.dtype).contiguous()
        lens = lengths.to(device=dev, dtype=torch.int32).contiguous() if lengths is not None else None
        if lens is not None and (int(lens.min()) < 1 or int(lens.max()) > T):
            raise ValueError(f"lengths must be in [1, T={T}]")
        save = any(ctx.needs_input_grad[:4])
        y = new_output((B, T, H), gi.dtype, dev)
        saved = new_output((B, T, 4 * H), torch.float32, dev) if save else None
        hs = new_output((B, T, H), torch.float32, dev) if save else None
        h_state = h0.float().clone() if h0 is not None else torch.zeros(B, H, device=dev)
        hx = torch.empty(2, B, H, dtype=gi.dtype, device=dev)
        # h_{-1} as the product reads it: in the input dtype, times the mask
        hx[0] = (h_state if hmask is None else h_state * hmask).to(gi.dtype)
        cfg = layout["fwd"]
        bar = torch.zeros(cfg["grid"][1], dtype=torch.int32, device=dev)
        bn = b_hn.contiguous() if b_hn is not None else None
        args = (gi, w, bn if bn is not None else gi, hx, h_state, lens if lens is not None else gi, y,
                saved if save else gi, hs if save else gi, bar, B, T, H, 0, 0, hmask if hmask is not None else gi)
        zoned = {}
        if cfg["kind"] == "split":  # the rows forward has no zoneout: with it, gru_sequence_forward chose split
            args, zoned = args + (zone if zone is not None else gi,), {"HAS_ZONE": zone is not None}
        launch(FORWARD_KERNELS[cfg["kind"]], cfg["grid"], args, cfg, dev, T, 13,
               HAS_BN=bn is not None, HAS_LEN=lens is not None, SAVE=save, HAS_HMASK=hmask is not None, **zoned)
        if save:
            h0f = h0.float().contiguous() if h0 is not None else None
            ctx.save_for_backward(w, h0f, lens, saved, hs, hmask, zone)
            ctx.layout = layout
            ctx.dtypes = (gi.dtype, w_hh.dtype, b_hn.dtype if b_hn is not None else None,
                          h0.dtype if h0 is not None else None)
        return y, h_state.to(gi.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dhn):
        w, h0, lens, saved, hs, hmask, zone = ctx.saved_tensors
        B, T, H = hs.shape
        dev = hs.device
        gi_dtype, w_dtype, bn_dtype, h0_dtype = ctx.dtypes
        dy = dy.contiguous() if dy is not None else torch.zeros(B, T, H, dtype=gi_dtype, device=dev)
        dgates = new_output((B, T, 4 * H), torch.float32, dev)
        dh = dhn.float().clone() if dhn is not None else torch.zeros(B, H, device=dev)  # ends as dL/dh0
        dx = torch.empty(2, B, 3 * H, dtype=w.dtype, device=dev)
        cfg = ctx.layout["bwd"]
        bar = torch.zeros(cfg["grid"][1], dtype=torch.int32, device=dev)
        args = (saved, hs, h0 if h0 is not None else hs, w, lens if lens is not None else hs, dy, dx, dh,
                dgates, bar, B, T, H, 0, 0, hmask if hmask is not None else hs)
        zoned = {}
        if cfg["kind"] == "split":  # the rows backward has no zoneout: with it, the split layout was chosen
            args, zoned = args + (zone if zone is not None else hs,), {"HAS_ZONE": zone is not None}
        # T steps and one last iteration that only reads (dL/dh0 through W_hh)
        launch(BACKWARD_KERNELS[cfg["kind"]], cfg["grid"], args, cfg, dev, T + 1, 13,
               HAS_H0=h0 is not None, HAS_LEN=lens is not None, HAS_HMASK=hmask is not None, **zoned)
        d_gi = d_w = d_bn = d_h0 = None
        if ctx.needs_input_grad[0]:
            d_gi = dgates[..., :3 * H].to(gi_dtype)
        if ctx.needs_input_grad[1]:
            # dW_hh = sum over b, t of [da_r, da_z, dn_h]^T h_{t-1}; zero at padded steps
            first = h0 if h0 is not None else torch.zeros(B, H, device=dev)
            h_prev = torch.cat([first.unsqueeze(1), hs[:, :-1]], dim=1)
            if hmask is not None:  # the product read h * m
                h_prev = h_prev * hmask.unsqueeze(1)
            h_prev = h_prev.reshape(B * T, H)
            dpre = torch.cat([dgates[..., :2 * H], dgates[..., 3 * H:]], dim=-1).reshape(B * T, 3 * H)
            d_w = (dpre.t() @ h_prev).to(w_dtype)
        if bn_dtype is not None and ctx.needs_input_grad[2]:
            d_bn = dgates[..., 3 * H:].sum(dim=(0, 1)).to(bn_dtype)
        if h0_dtype is not None and ctx.needs_input_grad[3]:
            d_h0 = dh.to(h0_dtype)
        return d_gi, d_w, d_bn, d_h0, None, None, None, None


def gru_forward(x: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor | None = None,
                bias_hh: Tensor | None = None, h0: Tensor | None = None,
                lengths: Tensor | None = None, hmask: Tensor | None = None,
                kernel: str = "auto", zone: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One GRU layer, batch-first x ``(B, T, D)``, torch-named weights: ``gi = x W_ih^T + b_ih +
    [b_hr, b_hz, 0]`` in one product, then the fused sequential part with ``b_hn``."""
    gi, b_hn = input_part(x, weight_ih, bias_ih, bias_hh)
    return gru_sequence_forward(gi, weight_hh, b_hn, h0, lengths, hmask, kernel, zone)


def input_part(x: Tensor, weight_ih: Tensor, bias_ih: Tensor | None, bias_hh: Tensor | None
               ) -> tuple[Tensor, Tensor | None]:
    """``(gi, b_hn)``: the input projection with every bias outside the reset gate,
    ``gi = x W_ih^T + b_ih + [b_hr, b_hz, 0]`` ``(B, T, 3H)`` (H from ``weight_ih (3H, D)``, so a
    head-wise ``weight_hh`` works too), and ``b_hn = bias_hh[2H:]``, which the kernel adds inside
    ``r * (h W_hn^T + b_hn)`` (None without ``bias_hh``)."""
    H = weight_ih.shape[0] // 3
    gi = x @ weight_ih.t()
    if bias_ih is not None:
        gi = gi + bias_ih
    b_hn = None
    if bias_hh is not None:
        gi = gi + torch.cat([bias_hh[:2 * H], bias_hh.new_zeros(H)])
        b_hn = bias_hh[2 * H:]
    return gi, b_hn
