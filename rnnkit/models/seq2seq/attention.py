"""Attention over an encoder memory: Bahdanau (additive) and Luong (dot, general) scores.

Shapes: query ``q`` (B, Q) for one decoder step, or (B, T, Q) for T steps at once; memory ``m``
(B, S, M); mask (B, S) boolean, True at valid source positions. For source position s::

    dot       score_s = q . m_s                              (needs Q == M)
    general   score_s = q . (W_a m_s)                        W_a (Q, M)
    bahdanau  score_s = v . tanh(W_q q + W_m m_s)            W_q (A, Q), W_m (A, M), v (A,)

    a_s = exp(score_s) / sum_{s' valid} exp(score_s')        (a_s = 0 where mask is False)
    c   = sum_s a_s m_s                                      context (B, M)

The memory-side products (``W_a m``, ``W_m m``) do not depend on the step, so :meth:`keys`
computes them once per source batch and every decoder step reuses them.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["ATTENTIONS", "Attention"]

#: Attention kinds: ``bahdanau`` (additive, Bahdanau et al. 2015), ``dot`` and ``general``
#: (multiplicative, Luong et al. 2015).
ATTENTIONS = ("bahdanau", "dot", "general")


class Attention(nn.Module):
    """Score a query against every memory position, softmax over valid positions, return the context.

    Args:
        kind: one of :data:`ATTENTIONS`.
        query_size: Q, the decoder state size.
        memory_size: M, the encoder output size (2H for a bidirectional concat encoder).
        attn_size: A, the hidden size of the additive scorer (default Q); bahdanau only.
    """

    def __init__(self, kind: str, query_size: int, memory_size: int, attn_size: int | None = None):
        super().__init__()
        if kind not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {kind!r}")
        if int(query_size) < 1 or int(memory_size) < 1:
            raise ValueError(f"query_size and memory_size must be >= 1, got {query_size}, {memory_size}")
        if kind == "dot" and query_size != memory_size:
            raise ValueError(
                f"dot attention needs query_size == memory_size, got {query_size} and {memory_size}; "
                "use attention='general' (a learnt W_a bridges the sizes)"
            )
        if attn_size is not None and kind != "bahdanau":
            raise ValueError(f"attn_size applies to bahdanau attention only, not {kind!r}")
        self.kind = kind
        self.query_size, self.memory_size = int(query_size), int(memory_size)
        if kind == "general":
            self.W_a = nn.Linear(memory_size, query_size, bias=False)
        elif kind == "bahdanau":
            self.attn_size = int(attn_size or query_size)
            self.W_q = nn.Linear(query_size, self.attn_size, bias=False)
            self.W_m = nn.Linear(memory_size, self.attn_size, bias=True)
            self.v = nn.Linear(self.attn_size, 1, bias=False)

    def keys(self, memory: Tensor) -> Tensor:
        """The step-independent part of the score: (B, S, M) -> (B, S, Q | Q | A) for dot | general | bahdanau."""
        if memory.dim() != 3 or memory.shape[-1] != self.memory_size:
            raise ValueError(f"attention memory must be (B, S, {self.memory_size}), got {tuple(memory.shape)}")
        if self.kind == "dot":
            return memory
        if self.kind == "general":
            return self.W_a(memory)
        return self.W_m(memory)

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        """Raw scores: query (B, Q) or (B, T, Q), keys (B, S, K) -> (B, S) or (B, T, S)."""
        one_step = query.dim() == 2
        q = query.unsqueeze(1) if one_step else query  # (B, T, Q)
        if self.kind == "bahdanau":
            # (B, T, 1, A) + (B, 1, S, A) -> (B, T, S, A) -> (B, T, S)
            e = self.v(torch.tanh(self.W_q(q).unsqueeze(2) + keys.unsqueeze(1))).squeeze(-1)
        else:
            e = torch.bmm(q, keys.transpose(1, 2))  # (B, T, S)
        return e.squeeze(1) if one_step else e

    def forward(self, query: Tensor, memory: Tensor, mask: Tensor | None = None,
                keys: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """-> ``(context, weights)``: (B, M) and (B, S) for a (B, Q) query; (B, T, M), (B, T, S) for (B, T, Q).

        ``mask`` (B, S): True where the source is real; padded positions get weight exactly 0.
        Every row needs at least one valid position. ``keys``: :meth:`keys` of this memory, to
        reuse across steps (computed here when None).
        """
        if query.dim() not in (2, 3) or query.shape[-1] != self.query_size:
            raise ValueError(f"attention query must be (B, {self.query_size}) or (B, T, {self.query_size}), "
                             f"got {tuple(query.shape)}")
        if keys is None:
            keys = self.keys(memory)
        e = self.scores(query, keys)
        if mask is not None:
            if mask.shape != memory.shape[:2]:
                raise ValueError(f"attention mask must be (B, S) = {tuple(memory.shape[:2])}, got {tuple(mask.shape)}")
            valid = mask.unsqueeze(1) if e.dim() == 3 else mask
            e = e.masked_fill(~valid, float("-inf"))
        weights = torch.softmax(e, dim=-1)
        context = torch.bmm(weights.unsqueeze(1) if query.dim() == 2 else weights, memory)
        return (context.squeeze(1) if query.dim() == 2 else context), weights

    def extra_repr(self) -> str:
        extra = f", attn_size={self.attn_size}" if self.kind == "bahdanau" else ""
        return f"kind={self.kind!r}, query_size={self.query_size}, memory_size={self.memory_size}{extra}"
