"""An export-friendly run of an rnnkit recurrent layer: one ``scan`` per layer and direction.

``rnnkit.RNN/LSTM/GRU`` run torch's fused op on CPU, whose decomposition unrolls the time loop
(``torch.export`` then fixes the sequence length), and rnnkit's own loop is a Python ``for`` over
time steps (unrolled the same way). Here each direction of each layer is one
``torch._higher_order_ops.scan`` over the cell's step: the graph holds the step once and loops
over however many steps the input has, so the time axis stays dynamic. ``torch.onnx`` turns the
scan into ONNX's ``Scan`` operator; ``torch.export`` keeps it as ``higher_order.scan``.

:func:`run_layer` computes what :meth:`rnnkit.Recurrent.forward` computes in eval mode (no
dropout) for a batch-first input, with the same semantics for ``lengths`` (padded steps give zero
outputs and leave the state alone; the reverse direction starts at each sequence's last valid
step), and without the Python-side checks that read tensor values (``int(lengths.max())``) or
sizes, which a traced graph cannot hold. Any cell with rnnkit's cell protocol runs: the step is
``cell.step_projected(cell.project_input(x)_t, s)`` where the cell offers it (the input
projection for all steps in one product), else ``cell(x_t, s)``.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch._higher_order_ops.scan import scan

from rnnkit.cells.base import as_state_tuple
from rnnkit.functional.masks import length_mask, reverse_padded

__all__ = ["run_direction", "run_layer", "state_sizes", "flat_state", "stacked_state", "step_layer", "zeros_state"]


def state_sizes(layer) -> tuple[int, ...]:
    """The sizes of the layer's state tensors, ``(H,)`` or the LSTM's ``(P or H, H)``."""
    return tuple(int(s) for s in layer.state_sizes)


def run_direction(cell, x: Tensor, state: tuple[Tensor, ...], valid: Tensor | None = None,
                  reverse: bool = False) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Scan ``cell`` over ``x (B, T, D)`` from ``state`` (tuple of ``(B, S_k)``).

    ``valid (B, T)`` (bool, True at real steps, padding at the end of each row) freezes the state
    and zeroes the output at padded steps. ``reverse`` scans from the last step to the first: the
    caller reverses padded rows within their lengths first (:func:`run_layer` does).
    Returns outputs ``(B, T, S_0)`` and the final state.
    """
    fast = hasattr(cell, "project_input") and hasattr(cell, "step_projected")
    inputs = cell.project_input(x) if fast else x
    xs = inputs.transpose(0, 1)  # (T, B, G): scan runs over dim 0

    def advance(s, x_t):
        return tuple(cell.step_projected(x_t, s)) if fast else as_state_tuple(cell(x_t, s))

    if valid is None:
        def body(s, x_t):
            new = advance(s, x_t)
            return new, new[0].clone()  # scan outputs may not alias its carry

        final, ys = scan(body, tuple(state), xs, reverse=reverse)
    else:
        ms = valid.transpose(0, 1).unsqueeze(-1)  # (T, B, 1)

        def body(s, inp):
            x_t, m_t = inp
            new = advance(s, x_t)
            kept = tuple(torch.where(m_t, n, old) for n, old in zip(new, s))
            return kept, torch.where(m_t, new[0], torch.zeros_like(new[0]))

        final, ys = scan(body, tuple(state), (xs, ms), reverse=reverse)
    return ys.transpose(0, 1), tuple(final)


def run_layer(layer, x: Tensor, state: tuple[Tensor, ...],
              lengths: Tensor | None = None) -> tuple[Tensor, tuple[Tensor, ...]]:
    """``layer`` (an rnnkit ``Recurrent``: RNN, LSTM, GRU or any cell) over ``x (B, T, D)``
    batch-first, from ``state`` (tuple of ``(L * dirs, B, S_k)``), in eval mode.

    Returns ``(output (B, T, O), final state tuple)`` as ``layer(x, hx, lengths=lengths)`` does
    (converted to batch-first). ``lengths (B,)``: valid steps per row, in ``[1, T]``.
    """
    if hasattr(layer, "_sync_cells"):
        layer._sync_cells()
    valid = None if lengths is None else length_mask(lengths, x.shape[1])
    dirs = layer.num_directions
    layer_input = x
    finals: list[tuple[Tensor, ...]] = []
    for li in range(layer.num_layers):
        outputs = []
        for d in range(dirs):
            idx = li * dirs + d
            s0 = tuple(s[idx] for s in state)
            cell = layer.cells[idx]
            if d == 0:
                out, fin = run_direction(cell, layer_input, s0, valid)
            elif lengths is None:
                out, fin = run_direction(cell, layer_input, s0, None, reverse=True)
            else:  # reverse each row within its length: padding stays at the end
                out, fin = run_direction(cell, reverse_padded(layer_input, lengths), s0, valid)
                out = reverse_padded(out, lengths)
            outputs.append(out)
            finals.append(fin)
        out = layer._merge(outputs)
        if layer.residual and out.shape[-1] == layer_input.shape[-1]:
            out = out + layer_input
        layer_input = out
    if valid is not None and layer.residual:
        layer_input = layer_input * valid.unsqueeze(-1).to(layer_input.dtype)
    final = tuple(torch.stack([f[k] for f in finals]) for k in range(len(finals[0])))
    return layer_input, final


def step_layer(layer, x_t: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
    """One step of a unidirectional ``layer``: ``x_t (B, D)`` and the state as a flat tuple of
    ``(B, S)`` tensors, layer by layer (layer 0's ``h, c``, then layer 1's ...) -> ``(y_t (B, O),
    next state in the same layout)``, as :meth:`rnnkit.Recurrent.step` in eval mode (without its
    stream bookkeeping, which a traced graph cannot hold). Inside a ``scan`` the carry stays a
    set of 2-D tensors, the layout torch.onnx's scan conversion handles."""
    if hasattr(layer, "_sync_cells"):
        layer._sync_cells()
    n = len(layer.state_sizes)
    layer_input = x_t
    finals: list[Tensor] = []
    for li, cell in enumerate(layer.cells):
        s = tuple(state[li * n:(li + 1) * n])
        if hasattr(cell, "project_input") and hasattr(cell, "step_projected"):
            new = tuple(cell.step_projected(cell.project_input(layer_input), s))
        else:
            new = as_state_tuple(cell(layer_input, s))
        out = new[0]
        if layer.residual and out.shape[-1] == layer_input.shape[-1]:
            out = out + layer_input
        finals.extend(new)
        layer_input = out
    return layer_input, tuple(finals)


def flat_state(state: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """``(L, B, S_k)`` tensors -> the flat per-layer ``(B, S)`` layout of :func:`step_layer`."""
    return tuple(t[li] for li in range(state[0].shape[0]) for t in state)


def stacked_state(flat: tuple[Tensor, ...], n: int) -> tuple[Tensor, ...]:
    """The inverse of :func:`flat_state` for a cell with ``n`` state tensors."""
    return tuple(torch.stack(list(flat[k::n])) for k in range(n))


def zeros_state(layer, like: Tensor) -> tuple[Tensor, ...]:
    """A zero initial state for ``layer`` with the batch of ``like (B, ...)``."""
    rows = layer.num_layers * layer.num_directions
    return tuple(like.new_zeros(rows, like.shape[0], int(s)) for s in layer.state_sizes)
