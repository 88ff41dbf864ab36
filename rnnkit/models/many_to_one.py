"""Many-to-one: a sequence to one output vector (classification, regression).

    model = ManyToOne(hidden_size=64, num_outputs=2, vocab_size=5000, padding_idx=0,
                      bidirectional=True, pooling="attention")
    logits, weights = model(ids, lengths=lengths, return_attention=True)   # (B, 2), (B, T)
"""

from __future__ import annotations

import dataclasses
from typing import Literal, Optional

import torch
from torch import Tensor, nn

from rnnkit.layers import length_mask
from rnnkit.models.builders import CellSpec, make_rnn
from rnnkit.models.inputs import SequenceInput
from rnnkit.models.pooling import POOLINGS, AdditiveAttentionPool, pool_last, pool_max, pool_mean

__all__ = ["ManyToOne", "ManyToOneConfig"]


class ManyToOne(nn.Module):
    """Sequence encoder + pooling + linear head: ``x (B, T[, D]) -> y (B, O)``.

    ::

        h_{1..T} = RNN(x_{1..T})                 h_t (F,), F = H (2H bidirectional)
        p        = pool(h, valid steps only)     p (F,)
        y        = p W_o^T + b_o                 W_o (O, F)

    Poolings (over each sequence's valid steps ``t < lengths[b]``):

    - ``last``: the state after the last valid step; bidirectional: the forward direction's
      output at the last valid step and the backward direction's output at step 0 (each has
      then read the whole sequence).
    - ``mean``, ``max``: feature-wise over valid steps; padding never counts or wins.
    - ``attention``: additive attention (:class:`AdditiveAttentionPool`) with a masked softmax;
      ``return_attention=True`` also returns the weights ``(B, T)`` (0 at padding, rows sum to 1).

    Inputs: token ids ``(B, T)`` with ``vocab_size`` (embedding of ``embed_size``, default H;
    ``padding_idx`` stays zero), or features ``(B, T, D)`` with ``input_size``. A padded batch
    with ``lengths`` gives, row for row, the outputs of each sequence run alone.

    Args:
        hidden_size: H. num_outputs: O (classes, or regression targets).
        input_size / vocab_size, embed_size, padding_idx: see above (give one of the first two).
        cell, num_layers, bidirectional, dropout, bias: as :func:`rnnkit.models.make_rnn`.
        pooling: one of ``last``, ``mean``, ``max``, ``attention``.
        attention_size: A for the attention scorer (default H).
    """

    def __init__(self, hidden_size: int, num_outputs: int, input_size: Optional[int] = None,
                 vocab_size: Optional[int] = None, embed_size: Optional[int] = None,
                 padding_idx: Optional[int] = None, cell: CellSpec = "lstm", num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, pooling: str = "last",
                 attention_size: Optional[int] = None, bias: bool = True):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"ManyToOne: pooling must be one of {POOLINGS}, got {pooling!r}")
        if int(num_outputs) < 1:
            raise ValueError(f"ManyToOne: num_outputs must be >= 1, got {num_outputs}")
        self.pooling = pooling
        self.num_outputs = int(num_outputs)
        self.inputs = SequenceInput("ManyToOne", input_size, vocab_size, embed_size, padding_idx,
                                    default_embed=hidden_size)
        self.rnn = make_rnn(cell, self.inputs.output_size, hidden_size, num_layers, dropout,
                            bidirectional, bias=bias)
        features = self.rnn.output_size
        self.attention = (AdditiveAttentionPool(features, attention_size or int(hidden_size))
                          if pooling == "attention" else None)
        self.head = nn.Linear(features, self.num_outputs)

    def forward(self, x: Tensor, lengths: Optional[Tensor] = None, return_attention: bool = False):
        """``x`` ids ``(B, T)`` or features ``(B, T, D)``; ``lengths (B,)`` in ``[1, T]``.

        Returns ``y (B, O)``; with ``return_attention`` (attention pooling only) ``(y, a (B, T))``.
        """
        if return_attention and self.attention is None:
            raise ValueError(f"ManyToOne: return_attention needs pooling='attention', not {self.pooling!r}")
        h, _ = self.rnn(self.inputs(x), lengths=lengths)    # validates lengths
        B, T, _ = h.shape
        lengths = (torch.full((B,), T, device=h.device) if lengths is None
                   else torch.as_tensor(lengths).to(device=h.device, dtype=torch.long))
        weights = None
        if self.pooling == "last":
            split = self.rnn.output_size // 2 if self.rnn.bidirectional else None
            p = pool_last(h, lengths, reverse_from=split)
        else:
            mask = length_mask(lengths, T)
            if self.pooling == "mean":
                p = pool_mean(h, mask)
            elif self.pooling == "max":
                p = pool_max(h, mask)
            else:
                p, weights = self.attention(h, mask)
        y = self.head(p)
        return (y, weights) if return_attention else y


@dataclasses.dataclass
class ManyToOneConfig:
    """Arguments of :class:`ManyToOne`; ``build()`` makes the model."""

    hidden_size: int
    num_outputs: int
    input_size: Optional[int] = None
    vocab_size: Optional[int] = None
    embed_size: Optional[int] = None
    padding_idx: Optional[int] = None
    cell: str = "lstm"
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    pooling: Literal["last", "mean", "max", "attention"] = "last"
    attention_size: Optional[int] = None
    bias: bool = True

    def build(self) -> ManyToOne:
        return ManyToOne(**dataclasses.asdict(self))
