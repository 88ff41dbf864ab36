"""The per-direction scan of a layer: one cell over a batch of sequences, forward or reversed.

:func:`run_direction` is what every per-direction scan shares (reversal within each length,
skipping the steps past the longest sequence, the cell's per-sequence hook); :func:`scan_cell` is
the reference time loop, rnnkit's own path for any cell (and the oracle the fast paths are checked
against); :func:`loop_body` is its loop without the per-direction frame. When the cell offers
``project_input``/``step_projected``, the input projection runs for all T steps in one matrix
product and only the recurrent part stays in the loop.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from rnnkit.cells.base import State, as_state_tuple, begin_sequence
from rnnkit.functional.masks import length_mask, reverse_padded

# body(x (B, steps, D), lengths or None) -> (outputs (B, steps, S), final state)
DirectionBody = Callable[[Tensor, "Tensor | None"], "tuple[Tensor, object]"]


def run_direction(cell: nn.Module, x: Tensor, lengths: Tensor | None, reverse: bool,
                  body: DirectionBody) -> tuple[Tensor, object]:
    """Run ``body`` over ``x (B, T, D)`` for one direction of a layer.

    ``reverse=True`` reverses each sequence within its own length first (and the outputs back
    afterwards). After that reversal padding always sits at the end, so ``body`` sees only the
    first ``max(lengths)`` steps, and ``lengths`` only when some sequence is shorter than that
    (else None); outputs past the longest sequence are zero. The cell's ``begin_sequence`` hook
    runs once, before ``body`` (per-sequence randomness such as dropout masks starts there).
    """
    B, T, _ = x.shape
    if reverse:
        x = reverse_padded(x, lengths)
    # Skipping steps past the longest sequence reads the lengths' values: eager mode only (a traced
    # graph runs all T steps, masked by lengths, which gives the same outputs).
    tracing = torch.compiler.is_compiling()
    steps = T if lengths is None or tracing else int(lengths.max())
    begin_sequence(cell, B, x.device, x.dtype)
    run_lengths = None if lengths is None or (not tracing and int(lengths.min()) >= steps) else lengths
    out, final = body(x[:, :steps], run_lengths)
    if steps < T:
        out = torch.cat([out, out.new_zeros(B, T - steps, out.shape[-1])], dim=1)
    if reverse:
        out = reverse_padded(out, lengths)
    return out, final


def loop_body(cell: nn.Module, x: Tensor, state: State, lengths: Tensor | None) -> tuple[Tensor, State]:
    """The time loop itself: ``cell`` over ``x (B, steps, D)`` from ``state``, step by step, with
    padded steps (``lengths``, or None) frozen and zero; the ``body`` of :func:`scan_cell` (and the
    fallback of the compiled loop, :mod:`rnnkit.layers.compiled`)."""
    s = state
    fast = hasattr(cell, "project_input") and hasattr(cell, "step_projected")
    inputs = cell.project_input(x) if fast else x
    mask = None if lengths is None else length_mask(lengths.to(x.device), x.shape[1]).unsqueeze(-1)
    outputs = []
    # unbind, not inputs[:, t]: the backward of T separate slices would each build a zero
    # tensor of the full (B, T, G) size, making training cost grow with T^2.
    for t, x_t in enumerate(inputs.unbind(1)):
        new = cell.step_projected(x_t, s) if fast else as_state_tuple(cell(x_t, s))
        if mask is None:
            s = new
            outputs.append(new[0])
        else:
            valid = mask[:, t]
            s = tuple(torch.where(valid, n, old) for n, old in zip(new, s))
            outputs.append(torch.where(valid, new[0], torch.zeros((), dtype=new[0].dtype, device=x.device)))
    return torch.stack(outputs, dim=1), s


def scan_cell(
    cell: nn.Module,
    x: Tensor,
    state: State,
    lengths: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, State]:
    """Scan ``cell`` over ``x (B, T, D)`` from ``state`` (tuple of ``(B, S_k)``).

    Returns outputs ``(B, T, S_0)`` (the first state tensor at every step; zero at padded steps)
    and the final state, which for sequence b is its state after step ``lengths[b] - 1``.
    ``reverse=True`` runs each sequence backwards within its own length.
    """

    def body(x: Tensor, lengths: Tensor | None) -> tuple[Tensor, State]:
        return loop_body(cell, x, state, lengths)

    return run_direction(cell, x, lengths, reverse, body)
