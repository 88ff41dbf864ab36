"""The cell protocol: what any cell needs so that :class:`rnnkit.layers.Recurrent` can scan it.

A cell is an ``nn.Module`` that advances a recurrent state by one time step. A user's own cell
plugs into every layer feature (stacking, bidirectional, lengths, ``step()``) when it has:

``input_size: int``
    D, the features of x_t.
``hidden_size: int``
    H.
``state_sizes: tuple[int, ...]`` (optional, default ``(hidden_size,)``)
    Size of each state tensor; the LSTM has two, ``(P or H, H)`` for ``(h, c)``.
``forward(x_t, state) -> new_state``
    x_t ``(B, D)``; ``state`` a tuple of ``(B, size)`` tensors (a bare tensor is accepted back
    for one-tensor states). The output y_t of the step is the first state tensor, ``new_state[0]``.

Two optional methods let the layer do the input projection for all T steps in one product:
``project_input(x) -> gi`` maps ``(..., D) -> (..., G)`` and ``step_projected(gi_t, state)``
finishes one step from ``gi_t`` ``(B, G)``. The built-in cells have both.

One optional hook lets a cell hold randomness that is fixed for a whole sequence (the dropout
masks of :mod:`rnnkit.cells.regularized`):
``begin_sequence(batch_size, device, dtype)``
    Called by the layer when a new batch of sequences starts: once per ``forward`` (per layer and
    direction, before the input projection) and at the first ``step()`` of a stream (state None).
    Anything it samples stays fixed until the next call. See :func:`begin_sequence`.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

State = tuple[Tensor, ...]


def as_state_tuple(state: Tensor | Sequence[Tensor]) -> State:
    """A state as a tuple of tensors, whether a cell returned a bare tensor or a sequence."""
    if isinstance(state, Tensor):
        return (state,)
    return tuple(state)


def begin_sequence(cell: nn.Module, batch_size: int, device: torch.device, dtype: torch.dtype) -> None:
    """Tell ``cell`` that a new batch of ``batch_size`` sequences starts (no-op without the hook)."""
    hook = getattr(cell, "begin_sequence", None)
    if hook is not None:
        hook(batch_size, device, dtype)


def cell_state_sizes(cell: nn.Module) -> tuple[int, ...]:
    """The sizes of a cell's state tensors; ``(hidden_size,)`` when the cell does not say."""
    sizes = getattr(cell, "state_sizes", None)
    if sizes is None:
        return (int(cell.hidden_size),)
    return tuple(int(s) for s in sizes)


def cell_output_size(cell: nn.Module) -> int:
    """Features of y_t, the first state tensor."""
    return cell_state_sizes(cell)[0]


class RecurrentCell(nn.Module):
    """Base class of rnnkit's cells. Subclasses set sizes and implement ``step_projected``."""

    input_size: int
    hidden_size: int

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size,)

    def initial_state(
        self, batch_size: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> State:
        """Zeros for every state tensor: a tuple of ``(B, size)``."""
        return tuple(torch.zeros(batch_size, s, device=device, dtype=dtype) for s in self.state_sizes)

    def project_input(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def step_projected(self, gi: Tensor, state: State) -> State:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: Tensor, state: Tensor | Sequence[Tensor] | None = None):
        """One step: x ``(B, D)``, state as returned before (or None for zeros) -> new state.

        Returns a bare tensor when the state is a single tensor (like ``torch.nn.GRUCell``),
        otherwise a tuple (like ``torch.nn.LSTMCell``).
        """
        if x.dim() != 2 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__} expects x of shape (batch, {self.input_size}), "
                f"got {tuple(x.shape)}"
            )
        if state is None:
            state_t = self.initial_state(x.shape[0], x.device, x.dtype)
        else:
            state_t = as_state_tuple(state)
        new = self.step_projected(self.project_input(x), state_t)
        return new[0] if len(new) == 1 else new
