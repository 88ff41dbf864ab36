"""torch's fused RNN ops (cuDNN on CUDA, ATen on CPU) driven with an rnnkit layer's parameters.

They compute exactly rnnkit's built-in cells (same equations, gate order and parameters), so a
layer made only of plain ``RNNCell``/``LSTMCell``/``GRUCell``, concatenated directions and no
residual connections can run here. Variable lengths go through a PackedSequence, which gives the
same semantics as rnnkit's loop: reverse direction within each length, final state at the last
valid step, zeros at padded outputs.
"""

from __future__ import annotations

import torch
from torch import Tensor, _VF
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.cells.builtin import GRUCell, LSTMCell, RNNCell

_NATIVE_DTYPES_CPU = (torch.float32, torch.float64)
_NATIVE_DTYPES_CUDA = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _mode(cell) -> str | None:
    kind = type(cell)
    if kind is LSTMCell:
        return "lstm"
    if kind is GRUCell:
        return "gru"
    if kind is RNNCell:
        return "rnn_" + cell.nonlinearity
    return None


def unsupported_reason(layer, x: Tensor) -> str | None:
    """Why torch's fused op cannot compute this layer on this input; None when it can."""
    cells = list(layer.cells)
    modes = {_mode(c) for c in cells}
    if None in modes:
        names = sorted({type(c).__name__ for c in cells if _mode(c) is None})
        return f"cell type {', '.join(names)} has no fused torch op"
    if len(modes) > 1:
        return "layers mix cell types"
    first = cells[0]
    for c in cells:
        if (c.hidden_size, c.bias, getattr(c, "proj_size", 0)) != (
            first.hidden_size, first.bias, getattr(first, "proj_size", 0)):
            return "layers differ in hidden_size, bias or proj_size"
        if c._forward_hooks or c._forward_pre_hooks:
            return "a cell has forward hooks"
    if layer.bidirectional and layer.merge != "concat":
        return f"merge={layer.merge!r} (torch only concatenates directions)"
    if layer.residual:
        return "residual connections"
    if x.device.type not in ("cpu", "cuda"):
        return f"device {x.device.type}"
    allowed = _NATIVE_DTYPES_CUDA if x.device.type == "cuda" else _NATIVE_DTYPES_CPU
    if x.dtype not in allowed:
        return f"dtype {x.dtype} on {x.device.type}"
    return None


def _flat_weights(layer) -> list[Tensor]:
    """Per layer and direction: w_ih, w_hh, [b_ih, b_hh], [w_hr] - torch's order."""
    weights = []
    for c in layer.cells:
        weights += [c.weight_ih, c.weight_hh]
        if c.bias:
            weights += [c.bias_ih, c.bias_hh]
        if getattr(c, "weight_hr", None) is not None:
            weights.append(c.weight_hr)
    return weights


def run_native(layer, x: Tensor, state: tuple[Tensor, ...], lengths: Tensor | None):
    """x ``(B, T, D)`` batch-first, state tuple of ``(L*dirs, B, S_k)`` -> (output, final state)."""
    first = layer.cells[0]
    mode = _mode(first)
    weights = _flat_weights(layer)
    args = (first.bias, layer.num_layers, float(layer.dropout), layer.training, layer.bidirectional)
    op = {"lstm": _VF.lstm, "gru": _VF.gru, "rnn_tanh": _VF.rnn_tanh, "rnn_relu": _VF.rnn_relu}[mode]
    hx = state if mode == "lstm" else state[0]

    if lengths is None:
        result = op(x, hx, weights, *args, True)
        return result[0], tuple(result[1:])

    T = x.shape[1]
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    order, unorder = packed.sorted_indices, packed.unsorted_indices
    if mode == "lstm":
        hx = tuple(h.index_select(1, order) for h in hx)
    else:
        hx = hx.index_select(1, order)
    result = op(packed.data, packed.batch_sizes, hx, weights, *args)
    out_packed = type(packed)(result[0], packed.batch_sizes, order, unorder)
    out, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=T)
    final = tuple(h.index_select(1, unorder) for h in result[1:])
    return out, final
