"""Beam search for a one-to-many decoder (``OneToMany``, or anything with the same ``step``).

A decoder step is ``step(tokens (N,), state) -> (logits (N, V), state)``, where the state is a
tensor or a tuple of tensors with the batch in dimension ``batch_dim`` (1 for rnnkit's
``(L, B, H)`` states). Each batch row b searches on its own.

A hypothesis y scores ``log p(y) = sum_t log p(y_t | y_<t, c)`` (EOS included), ranked by the
GNMT length penalty (Wu et al. 2016)::

    score(y) = log p(y) / lp(|y|),        lp(n) = ((5 + n) / 6) ** alpha     (alpha = 0: log p(y))

At each step the K live hypotheses of a row are extended by every token; of the 2K best
extensions, those ending in EOS and ranked within the first K become finished hypotheses, and
the K best others stay live. A row stops when it has K finished hypotheses, when no live
hypothesis can still beat its ``n_best``-th best finished one (log p only falls and lp only
grows, so a live raw score s bounds every completion by ``s / lp(max_len)``), or at ``max_len``
tokens, where its live hypotheses finish as they are (``finished=False``). A beam as wide as the
number of live prefixes is therefore exact search. With K = 1 this is greedy search: the first
time EOS is the best token the row has one finished hypothesis and stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor

__all__ = ["Hypothesis", "beam_search", "length_penalty", "select_state"]

StepFn = Callable[[Tensor, object], tuple[Tensor, object]]


@dataclass
class Hypothesis:
    """tokens (EOS and BOS excluded), log p (EOS included), score (log p / lp), finished (ended in EOS)."""

    tokens: list[int]
    logprob: float
    score: float
    finished: bool


def length_penalty(length: int, alpha: float) -> float:
    return ((5.0 + length) / 6.0) ** alpha


def _nth_best(hyps: list[Hypothesis], n: int) -> float:
    return sorted((h.score for h in hyps), reverse=True)[n - 1]


def select_state(state, index: Tensor, batch_dim: int = 1):
    """Rows ``index`` of a tensor state or of every tensor in a tuple state."""
    if isinstance(state, Tensor):
        return state.index_select(batch_dim, index)
    return tuple(s.index_select(batch_dim, index) for s in state)


@torch.no_grad()
def beam_search(step: StepFn, state, batch_size: int, bos_id: int, eos_id: int, max_len: int,
                beam_size: int = 5, alpha: float = 0.0, n_best: int = 1,
                never: Sequence[int] = (), batch_dim: int = 1,
                device: Optional[torch.device] = None) -> list[list[Hypothesis]]:
    """For each of ``batch_size`` rows, its ``n_best`` hypotheses, best first.

    ``state`` holds B rows (the decoder's initial state); it is expanded to B*K rows here, row
    b's beams being rows ``b*K .. b*K+K-1``. ``never``: token ids never generated (e.g. PAD, BOS).
    """
    B, K = int(batch_size), int(beam_size)
    if K < 1 or not 1 <= n_best <= K:
        raise ValueError(f"need beam_size >= 1 and 1 <= n_best <= beam_size, got {beam_size} and {n_best}")
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    if eos_id in never:
        raise ValueError("eos_id cannot be in `never`")
    state = select_state(state, torch.arange(B, device=device).repeat_interleave(K), batch_dim)
    N = B * K
    tokens = torch.full((N,), int(bos_id), dtype=torch.long, device=device)
    scores = None  # (B, K) running log p, made at the first step in the logits' precision
    history: list[list[int]] = [[] for _ in range(N)]
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    done = [False] * B
    base = (torch.arange(B, device=device) * K).unsqueeze(1)
    lp_max = length_penalty(max_len, alpha)

    for t in range(max_len):
        logits, state = step(tokens, state)
        # at least float32 (half-precision sums drift), float64 kept as is
        logp = torch.log_softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=-1)
        if scores is None:
            scores = torch.full((B, K), float("-inf"), dtype=logp.dtype, device=logp.device)
            scores[:, 0] = 0.0  # all beams start equal: only the first may expand at step 1
        if never:
            logp[:, list(never)] = float("-inf")
        V = logp.shape[-1]
        cand = (scores.view(N, 1) + logp).view(B, K * V)
        top_s, top_i = cand.topk(min(2 * K, K * V), dim=1)
        beam, tok = top_i // V, top_i % V
        is_eos = tok == eos_id
        lp = length_penalty(t + 1, alpha)
        for b, j in (is_eos[:, :K] & torch.isfinite(top_s[:, :K])).nonzero().tolist():
            if not done[b]:
                s = float(top_s[b, j])
                finished[b].append(Hypothesis(list(history[b * K + int(beam[b, j])]), s, s / lp, True))
        live_s, live_j = top_s.masked_fill(is_eos, float("-inf")).topk(K, dim=1)
        rows = (base + beam.gather(1, live_j)).view(N)
        tokens = tok.gather(1, live_j).view(N)
        scores = live_s
        state = select_state(state, rows, batch_dim)
        history = [history[r] + [x] for r, x in zip(rows.tolist(), tokens.tolist())]
        live = scores.tolist()
        for b in range(B):
            if done[b]:
                continue
            best_live = max(live[b])
            if t + 1 >= max_len:  # out of room: live hypotheses end unfinished
                for k, s in enumerate(live[b]):
                    if s != float("-inf"):
                        finished[b].append(Hypothesis(list(history[b * K + k]), s, s / lp, False))
                done[b] = True
            elif len(finished[b]) >= K or best_live == float("-inf") or len(finished[b]) >= n_best and _nth_best(finished[b], n_best) >= best_live / lp_max:
                done[b] = True
        if all(done):
            break
    # sorted() is stable: among equal scores the earlier-finished hypothesis stays first.
    return [sorted(f, key=lambda h: -h.score)[:n_best] for f in finished]
