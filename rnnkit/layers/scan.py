"""The reference time loop: run one cell over a batch of sequences, one step at a time.

This is rnnkit's own path for any cell (and the oracle the fast paths are checked against). When
the cell offers ``project_input``/``step_projected``, the input projection runs for all T steps in
one matrix product and only the recurrent part stays in the loop.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.cells.base import State, as_state_tuple, begin_sequence
from rnnkit.layers.padding import length_mask, reverse_padded


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
    B, T, _ = x.shape
    if reverse:
        x = reverse_padded(x, lengths)
    # After the per-sequence reversal, padding always sits at the end, so steps beyond the
    # longest sequence never need computing.
    steps = T if lengths is None else int(lengths.max())
    begin_sequence(cell, B, x.device, x.dtype)  # per-sequence randomness (dropout masks) starts here
    fast = hasattr(cell, "project_input") and hasattr(cell, "step_projected")
    inputs = cell.project_input(x[:, :steps]) if fast else x[:, :steps]
    mask = None
    if lengths is not None and int(lengths.min()) < steps:
        mask = length_mask(lengths.to(x.device), steps).unsqueeze(-1)  # (B, T, 1)

    outputs = []
    # unbind, not inputs[:, t]: the backward of T separate slices would each build a zero tensor
    # of the full (B, T, G) size, making training cost grow with T^2.
    for t, x_t in enumerate(inputs.unbind(1)):
        new = cell.step_projected(x_t, state) if fast else as_state_tuple(cell(x_t, state))
        if mask is None:
            state = new
            outputs.append(new[0])
        else:
            valid = mask[:, t]
            state = tuple(torch.where(valid, n, s) for n, s in zip(new, state))
            outputs.append(torch.where(valid, new[0], torch.zeros((), dtype=new[0].dtype, device=x.device)))
    out = torch.stack(outputs, dim=1)
    if steps < T:
        out = torch.cat([out, out.new_zeros(B, T - steps, out.shape[-1])], dim=1)
    if reverse:
        out = reverse_padded(out, lengths)
    return out, state
