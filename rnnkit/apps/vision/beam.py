"""Beam search for a one-to-many decoder (``OneToMany``, or anything with the same ``step``).

A decoder step is ``step(tokens (N,), state) -> (logits (N, V), state)``, where the state is a
tensor or a tuple of tensors with the batch in dimension ``batch_dim`` (1 for rnnkit's
``(L, B, H)`` states). Each batch row b searches on its own.

A hypothesis y scores ``log p(y) = sum_t log p(y_t | y_<t, c)`` (EOS included), ranked by the
GNMT length penalty (Wu et al. 2016)::

    score(y) = log p(y) / lp(|y|),        lp(n) = ((5 + n) / 6) ** alpha     (alpha = 0: log p(y))

The search is translation's (:func:`rnnkit.models.seq2seq.search.beam_search_steps`, one engine
for every decoder): of the 2K best extensions, those ending in EOS and ranked within the first K
finish, the K best others stay live; a row stops with K finished hypotheses, when no live one can
beat its ``n_best``-th best finished one, or at ``max_len`` tokens, where its live hypotheses end
unfinished. A beam as wide as the number of live prefixes is exact search; K = 1 is greedy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from rnnkit.models.seq2seq.search import Hypothesis, beam_search_steps, length_penalty

__all__ = ["Hypothesis", "beam_search", "length_penalty", "select_state"]

StepFn = Callable[[Tensor, object], tuple[Tensor, object]]


def select_state(state, index: Tensor, batch_dim: int = 1):
    """Rows ``index`` of a tensor state or of every tensor in a tuple state."""
    if isinstance(state, Tensor):
        return state.index_select(batch_dim, index)
    return tuple(s.index_select(batch_dim, index) for s in state)


@torch.no_grad()
def beam_search(step: StepFn, state, batch_size: int, bos_id: int, eos_id: int, max_len: int,
                beam_size: int = 5, alpha: float = 0.0, n_best: int = 1,
                never: Sequence[int] = (), batch_dim: int = 1,
                device: torch.device | None = None) -> list[list[Hypothesis]]:
    """For each of ``batch_size`` rows, its ``n_best`` hypotheses, best first (``attention`` None).

    ``state`` holds B rows (the decoder's initial state). ``never``: token ids never generated
    (e.g. PAD, BOS).
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")

    def with_no_attention(tokens, st):
        logits, st = step(tokens, st)
        return logits, st, None

    return beam_search_steps(with_no_attention, state, lambda st, rows: select_state(st, rows, batch_dim),
                             int(bos_id), int(eos_id), [int(max_len)] * int(batch_size), beam_size, alpha, n_best,
                             never=list(never), device=device)
