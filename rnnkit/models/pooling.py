"""Pooling a sequence of outputs ``(B, T, F)`` to one vector per sequence ``(B, F)``.

Every pooling looks at valid steps only: ``mask (B, T)`` is True where ``t < lengths[b]``.
Padding never counts in a mean, never wins a max and gets zero attention.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

__all__ = ["POOLINGS", "pool_last", "pool_mean", "pool_max", "AdditiveAttentionPool"]

POOLINGS = ("last", "mean", "max", "attention")


def pool_last(out: Tensor, lengths: Tensor, reverse_from: Optional[int] = None) -> Tensor:
    """The output at each sequence's last valid step, ``out[b, lengths[b] - 1]``.

    ``reverse_from=S``: features ``[S:]`` come from a reverse-time direction, whose summary of the
    whole sequence is its output at step 0; they are taken from ``out[b, 0, S:]`` instead.
    """
    idx = (lengths - 1).view(-1, 1, 1).expand(-1, 1, out.shape[-1])
    last = out.gather(1, idx).squeeze(1)
    if reverse_from is None:
        return last
    return torch.cat([last[:, :reverse_from], out[:, 0, reverse_from:]], dim=-1)


def pool_mean(out: Tensor, mask: Tensor) -> Tensor:
    """``sum_{t valid} out[b, t] / lengths[b]``."""
    m = mask.unsqueeze(-1).to(out.dtype)
    return (out * m).sum(1) / m.sum(1)


def pool_max(out: Tensor, mask: Tensor) -> Tensor:
    """Feature-wise maximum over valid steps (padded steps are set to -inf first)."""
    return out.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(1)


class AdditiveAttentionPool(nn.Module):
    """Additive (Bahdanau-style) attention pooling with a learned query.

    For outputs ``h_t (F,)``::

        e_t = v^T tanh(W h_t + b)            W (A, F), v (A,)
        a   = softmax_t(e_t) over valid t    (a_t = 0 at padding; sum_t a_t = 1)
        p   = sum_t a_t h_t

    ``forward(out (B, T, F), mask (B, T)) -> (p (B, F), a (B, T))``.
    """

    def __init__(self, input_size: int, attention_size: int):
        super().__init__()
        self.proj = nn.Linear(input_size, attention_size)
        self.score = nn.Linear(attention_size, 1, bias=False)

    def forward(self, out: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        e = self.score(torch.tanh(self.proj(out))).squeeze(-1)
        a = torch.softmax(e.masked_fill(~mask, float("-inf")), dim=1)
        return torch.bmm(a.unsqueeze(1), out).squeeze(1), a
