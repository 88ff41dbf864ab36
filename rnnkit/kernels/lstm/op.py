"""The fused LSTM sequential part on the Triton kernel of :mod:`.triton_fwd`: forward only.

``lstm_sequence_forward(gi, w_hh, h0, c0, lengths)`` computes exactly what
:func:`rnnkit.kernels.lstm.reference.lstm_sequence_ref` computes (same shapes, same gate order
i, f, g, o), with fp32 accumulation and an fp32 cell state. ``lstm_forward`` adds the input
projection (one matrix product over all T, outside the kernel) from torch-named weights.

There is no backward yet: calling it where autograd would need one raises, so it is for inference
(``torch.no_grad()`` / ``torch.inference_mode()``) only, and the layer dispatch
(rnnkit/kernels/dispatch.py) does not pick it.
"""

from __future__ import annotations

import torch
import triton
from torch import Tensor

from rnnkit.kernels.lstm.triton_fwd import _lstm_fwd_kernel
from rnnkit.kernels.scan.triton_op import check_device

# the whole W_hh lives in one program (see triton_fwd.py): beyond this the tiles no longer fit
MAX_HIDDEN = 256
POISON = False  # tests: outputs start as NaN so unwritten elements fail


def _new(shape, dtype, device) -> Tensor:
    if POISON:
        return torch.full(shape, float("nan"), dtype=dtype, device=device)
    return torch.empty(shape, dtype=dtype, device=device)


def lstm_sequence_forward(gi: Tensor, w_hh: Tensor, h0: Tensor | None = None, c0: Tensor | None = None,
                          lengths: Tensor | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """gi ``(B, T, 4H)``, w_hh ``(4H, H)``, h0/c0 ``(B, H)`` or None, lengths ``(B,)`` or None
    -> ``y (B, T, H)``, ``(h_n, c_n)`` in gi's dtype (fp16, bf16 or fp32)."""
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (gi, w_hh, h0, c0)):
        raise RuntimeError("the fused Triton LSTM has no backward yet: call it under torch.no_grad() "
                           "(inference), or use the 'native'/'loop' layer backends for training")
    check_device(gi)
    if gi.dim() != 3 or gi.shape[-1] % 4:
        raise ValueError(f"gi must have shape (batch, time, 4*hidden), got {tuple(gi.shape)}")
    B, T, G = gi.shape
    H = G // 4
    if tuple(w_hh.shape) != (G, H):
        raise ValueError(f"w_hh must have shape (4H, H) = {(G, H)}, got {tuple(w_hh.shape)}")
    if gi.dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise ValueError(f"the fused LSTM takes fp16, bf16 or fp32, got {gi.dtype}")
    if H > MAX_HIDDEN:
        raise ValueError(f"the fused LSTM keeps W_hh in one program: hidden_size <= {MAX_HIDDEN}, got {H}")
    if T == 0 or B == 0:
        raise ValueError(f"empty input of shape {tuple(gi.shape)}")
    for name, s in (("h0", h0), ("c0", c0)):
        if s is not None and tuple(s.shape) != (B, H):
            raise ValueError(f"{name} must have shape (batch, hidden) = {(B, H)}, got {tuple(s.shape)}")
    gi = gi.contiguous()
    w = w_hh.to(gi.dtype).contiguous()
    h0c = h0.contiguous() if h0 is not None else None
    c0c = c0.contiguous() if c0 is not None else None
    lens = lengths.to(device=gi.device, dtype=torch.int32).contiguous() if lengths is not None else None
    if lens is not None and (int(lens.min()) < 1 or int(lens.max()) > T):
        raise ValueError(f"lengths must be in [1, T={T}]")
    y = _new((B, T, H), gi.dtype, gi.device)
    h_n = _new((B, H), gi.dtype, gi.device)
    c_n = _new((B, H), gi.dtype, gi.device)
    # tl.dot needs tiles of at least 16 on GPUs; padded rows/columns are masked
    BLOCK_B = max(16, min(64, triton.next_power_of_2(B)))
    BLOCK_H = max(16, triton.next_power_of_2(H))
    # fp32: true fp32 products (no TF32), as torch's reference computes them
    prec = "ieee" if gi.dtype == torch.float32 else "tf32"
    _lstm_fwd_kernel[(triton.cdiv(B, BLOCK_B),)](
        gi, w, h0c if h0c is not None else gi, c0c if c0c is not None else gi,
        lens if lens is not None else gi, y, h_n, c_n, B, T, H,
        HAS_H0=h0c is not None, HAS_C0=c0c is not None, HAS_LEN=lens is not None,
        BLOCK_B=BLOCK_B, BLOCK_H=BLOCK_H, DOT_PREC=prec)
    return y, (h_n, c_n)


def lstm_forward(x: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor | None = None,
                 bias_hh: Tensor | None = None, h0: Tensor | None = None, c0: Tensor | None = None,
                 lengths: Tensor | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One LSTM layer, batch-first x ``(B, T, D)``, torch-named weights (``weight_ih_l0 (4H, D)``
    etc.): ``gi = x W_ih^T + b_ih + b_hh`` in one product, then the fused sequential part."""
    gi = x @ weight_ih.t()
    if bias_ih is not None:
        gi = gi + bias_ih
    if bias_hh is not None:
        gi = gi + bias_hh
    return lstm_sequence_forward(gi, weight_hh, h0, c0, lengths)
