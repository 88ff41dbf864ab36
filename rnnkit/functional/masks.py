"""Helpers for variable-length batches: validity masks and per-sequence time reversal.

Shapes: x ``(B, T, ...)`` batch-first; lengths ``(B,)`` integers, each in ``[1, T]``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def length_mask(lengths: Tensor, max_len: int) -> Tensor:
    """``(B,) -> (B, T)`` boolean mask, True where ``t < lengths[b]``."""
    steps = torch.arange(max_len, device=lengths.device)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)


def padded_step(t: int, lengths: Tensor | None, new: tuple[Tensor, ...],
                old: tuple[Tensor, ...]) -> tuple[tuple[Tensor, ...], Tensor]:
    """Step t of a time loop over a padded batch: ``(states, output)``. Each state ``(B, H)`` takes
    its ``new`` value where ``t < lengths[b]`` and holds its ``old`` one at padded steps (so the
    final state is the last valid step's); the output is the first state, zero at padded steps.
    Without lengths every state is new."""
    if lengths is None:
        return new, new[0]
    valid = (t < lengths.to(new[0].device)).unsqueeze(1)
    states = tuple(torch.where(valid, n, o) for n, o in zip(new, old))
    return states, torch.where(valid, states[0], torch.zeros_like(states[0]))


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of ``x (B, T, ...)`` within its own length; padding stays in place.

    Sequence b becomes ``x[b, L_b-1], ..., x[b, 0], x[b, L_b], ..., x[b, T-1]``. The map is its
    own inverse, so the same call undoes it on the outputs of a reverse-direction scan.
    """
    if lengths is None:
        return x.flip(1)
    T = x.shape[1]
    steps = torch.arange(T, device=x.device).unsqueeze(0)  # (1, T)
    rev = lengths.to(x.device).unsqueeze(1) - 1 - steps  # (B, T)
    index = torch.where(rev >= 0, rev, steps)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)
