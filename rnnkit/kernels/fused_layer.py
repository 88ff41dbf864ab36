"""rnnkit's fused Triton Elman RNN, LSTM and GRU as a layer backend (``backend="triton"`` of recurrent layers).

``fused_scan`` is the per-direction scan of a recurrent layer (the contract of rnnkit's time loop
over one cell) for a plain :class:`rnnkit.RNNCell` (tanh or relu),
:class:`rnnkit.LSTMCell` or :class:`rnnkit.GRUCell`, bare or wrapped in
:class:`rnnkit.cells.regularized.VariationalDropout` (its masks are drawn by the wrapper itself, at
the same point of the random stream as the loop draws them, and the kernels apply the recurrent
mask inside the product): x ``(B, T, D)`` and the cell's state tuple ->
outputs ``(B, T, H)`` (zero at padded steps) and the state after each sequence's last valid step;
``reverse=True`` runs each sequence backwards within its length. The layer's stacking,
directions, merge, residual and dropout stay in the layer's own loop over layers and directions;
only the per-direction scan changes.

``unsupported_reason`` says why the fused path cannot run a layer on an input (None when it can).
Nothing here imports triton at module import: a machine without it keeps every other backend.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.cells.base import begin_sequence
from rnnkit.cells.builtin import GRUCell, LSTMCell, RNNCell
from rnnkit.cells.regularized import VariationalDropout
from rnnkit.functional.masks import reverse_padded

FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32)
FUSED_CELLS = (RNNCell, LSTMCell, GRUCell)


def triton_importable() -> bool:
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def triton_unavailable(x: Tensor) -> str | None:
    """Why no Triton kernel can run on ``x``'s device here (triton missing, or not a CUDA tensor
    and the interpreter off); None when one can."""
    if not triton_importable():
        return "triton is not installed (pip install triton)"
    from rnnkit.kernels.scan.triton_op import interpreter_on
    if x.device.type != "cuda" and not interpreter_on():
        return (f"device {x.device.type}: 'triton' needs CUDA tensors (or TRITON_INTERPRET=1 set "
                "before triton is imported, for tests)")
    return None


def base_cell(cell):
    """The plain RNNCell/LSTMCell/GRUCell the fused kernels compute for ``cell`` (itself, or the one
    inside a VariationalDropout), else None."""
    if type(cell) in FUSED_CELLS:
        return cell
    if type(cell) is VariationalDropout and type(cell.cell) in FUSED_CELLS:
        return cell.cell
    return None


def cell_kind(layer) -> type | None:
    """RNNCell, LSTMCell or GRUCell when every cell of the layer is (or wraps, for variational
    dropout) exactly that type, else None."""
    kinds = {type(base_cell(c)) if base_cell(c) is not None else None for c in layer.cells}
    return kinds.pop() if len(kinds) == 1 and None not in kinds else None


def plain(layer) -> bool:
    """Every cell is a bare RNNCell/LSTMCell/GRUCell (no wrapper)."""
    return all(type(c) in FUSED_CELLS for c in layer.cells)


def unsupported_reason(layer, x: Tensor) -> str | None:
    """Why the fused Triton kernels cannot compute ``layer`` on ``x`` (B, T, D); None when they can."""
    cells = list(layer.cells)
    kind = cell_kind(layer)
    if kind is None:
        names = sorted({type(c).__name__ for c in cells})
        return (f"cell types {', '.join(names)}: the fused Triton kernels are plain Elman RNN, LSTM or GRU "
                "layers, bare or in VariationalDropout")
    bases = [base_cell(c) for c in cells]
    if any(getattr(b, "proj_size", 0) for b in bases):
        return "proj_size (LSTM projections are not fused)"
    if any(m._forward_hooks or m._forward_pre_hooks for m in [*cells, *bases]):
        return "a cell has forward hooks"
    if x.dtype not in FUSED_DTYPES:
        return f"dtype {x.dtype} (the fused kernels take fp16, bf16 or fp32)"
    why_not = triton_unavailable(x)
    if why_not is not None:
        return why_not
    training = torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in layer.parameters()))
    if kind is LSTMCell:
        from rnnkit.kernels.lstm.op import choose_kernel as choose
    elif kind is GRUCell:
        from rnnkit.kernels.gru.op import choose_layout as choose
    else:
        from rnnkit.kernels.elman.op import choose_layout as choose
    for b in bases:
        try:
            choose(x.shape[0], b.hidden_size, x.dtype, x.device, training=training)
        except ValueError as err:
            return str(err)
    return None


def fused_scan(cell, x: Tensor, state: tuple[Tensor, ...], lengths: Tensor | None = None,
               reverse: bool = False) -> tuple[Tensor, tuple[Tensor, ...]]:
    """The per-direction scan of a layer for a plain (or variationally dropped) RNNCell, LSTMCell
    or GRUCell, on the fused kernels."""
    if reverse:
        x = reverse_padded(x, lengths)
    base = base_cell(cell)
    hmask = None
    if base is not cell:  # VariationalDropout: its masks, drawn where the loop draws them
        begin_sequence(cell, x.shape[0], x.device, x.dtype)
        if cell.training:
            m_in, hmask = cell._masks(x.shape[0], x.device, x.dtype)
            if m_in is not None:
                x = x * m_in.unsqueeze(1)
    if type(base) is LSTMCell:
        from rnnkit.kernels.lstm.op import lstm_forward
        h0, c0 = state
        y, final = lstm_forward(x, base.weight_ih, base.weight_hh, base.bias_ih, base.bias_hh,
                                h0.to(x.dtype), c0.to(x.dtype), lengths, hmask=hmask)
    elif type(base) is GRUCell:
        from rnnkit.kernels.gru.op import gru_forward
        y, h = gru_forward(x, base.weight_ih, base.weight_hh, base.bias_ih, base.bias_hh,
                           state[0].to(x.dtype), lengths, hmask=hmask)
        final = (h,)
    else:
        from rnnkit.kernels.elman.op import elman_forward
        y, h = elman_forward(x, base.weight_ih, base.weight_hh, base.bias_ih, base.bias_hh,
                             state[0].to(x.dtype), lengths, hmask=hmask, nonlinearity=base.nonlinearity)
        final = (h,)
    if reverse:
        y = reverse_padded(y, lengths)
    return y, final
