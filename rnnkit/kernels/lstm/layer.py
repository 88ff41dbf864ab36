"""The fused Triton LSTM as a layer backend (``backend="triton"`` of rnnkit's recurrent layers).

``fused_scan`` has the contract of :func:`rnnkit.layers.scan.scan_cell` for a plain
:class:`rnnkit.LSTMCell`: x ``(B, T, D)`` and state ``(h0, c0)`` -> outputs ``(B, T, H)`` (zero at
padded steps) and the state after each sequence's last valid step; ``reverse=True`` runs each
sequence backwards within its length. The layer's stacking, directions, merge, residual and
dropout stay in :meth:`rnnkit.layers.Recurrent._forward_loop`; only the per-direction scan changes.

``unsupported_reason`` says why the fused path cannot run a layer on an input (None when it can).
Nothing here imports triton at module import: a machine without it keeps every other backend.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.cells.builtin import LSTMCell
from rnnkit.layers.padding import reverse_padded

FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32)


def triton_importable() -> bool:
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def unsupported_reason(layer, x: Tensor) -> str | None:
    """Why the fused Triton LSTM cannot compute ``layer`` on ``x`` (B, T, D); None when it can."""
    cells = list(layer.cells)
    if any(type(c) is not LSTMCell for c in cells):
        names = sorted({type(c).__name__ for c in cells if type(c) is not LSTMCell})
        return f"cell type {', '.join(names)}: the fused Triton kernel is an LSTM"
    if any(c.proj_size for c in cells):
        return "proj_size (LSTM projections are not fused)"
    if any(c._forward_hooks or c._forward_pre_hooks for c in cells):
        return "a cell has forward hooks"
    if x.dtype not in FUSED_DTYPES:
        return f"dtype {x.dtype} (the fused LSTM takes fp16, bf16 or fp32)"
    if not triton_importable():
        return "triton is not installed (pip install triton)"
    from rnnkit.kernels.scan.triton_op import interpreter_on
    if x.device.type != "cuda" and not interpreter_on():
        return f"device {x.device.type} (the Triton kernels need CUDA tensors)"
    from rnnkit.kernels.lstm.op import choose_kernel
    training = torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in layer.parameters()))
    for c in cells:
        try:
            choose_kernel(x.shape[0], c.hidden_size, x.dtype, x.device, training=training)
        except ValueError as err:
            return str(err)
    return None


def fused_scan(cell: LSTMCell, x: Tensor, state: tuple[Tensor, Tensor], lengths: Tensor | None = None,
               reverse: bool = False) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """:func:`rnnkit.layers.scan.scan_cell` for a plain LSTMCell, on the fused Triton kernels."""
    from rnnkit.kernels.lstm.op import lstm_forward
    if reverse:
        x = reverse_padded(x, lengths)
    h0, c0 = state
    y, (h, c) = lstm_forward(x, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh,
                             h0.to(x.dtype), c0.to(x.dtype), lengths)
    if reverse:
        y = reverse_padded(y, lengths)
    return y, (h, c)
