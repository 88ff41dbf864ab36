"""The classifier: :class:`rnnkit.models.ManyToOne` with dropout on its embeddings and pooled vector.

::

    e_t = Dropout(Embed(x_t))                      x (B, T) ids -> e (B, T, E)
    h   = (bi)LSTM/GRU(e)                          h (B, T, F), F = H or 2H
    p   = pool(h)  last | mean | max | attention   p (B, F)
    y   = W_o Dropout(p) + b_o                     y (B, K) logits over K classes

Short texts and ~10k examples overfit fast; dropout at these two places is the usual remedy
(the recurrent stack's own ``dropout`` acts only between stacked layers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import nn

from rnnkit.models import ManyToOne

__all__ = ["ClassifierModelConfig", "TextClassifier", "build_model"]


@dataclass
class ClassifierModelConfig:
    cell: Literal["lstm", "gru", "rnn", "rnn_relu"] = "gru"
    embed_size: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    pooling: Literal["last", "mean", "max", "attention"] = "attention"
    attention_size: int = 64
    embed_dropout: float = 0.3
    dropout: float = 0.3          # on the pooled vector, and between stacked layers


class TextClassifier(ManyToOne):
    """``ManyToOne`` over token ids with embedding and output dropout; forward as ManyToOne:
    ``model(ids (B, T), lengths (B,)) -> logits (B, K)``, ``return_attention=True`` adds ``(B, T)``."""

    def __init__(self, cfg: ClassifierModelConfig, vocab_size: int, num_classes: int, padding_idx: int = 0):
        super().__init__(cfg.hidden_size, num_classes, vocab_size=vocab_size, embed_size=cfg.embed_size,
                         padding_idx=padding_idx, cell=cfg.cell, num_layers=cfg.num_layers,
                         bidirectional=cfg.bidirectional, dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
                         pooling=cfg.pooling, attention_size=cfg.attention_size)
        # Wrap the embedding and the head in place: ManyToOne.forward calls them by these names,
        # so every pooling (and return_attention) works unchanged.
        self.inputs.embed = nn.Sequential(self.inputs.embed, nn.Dropout(cfg.embed_dropout))
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), self.head)


def build_model(cfg: ClassifierModelConfig, vocab_size: int, num_classes: int, padding_idx: int = 0) -> TextClassifier:
    return TextClassifier(cfg, vocab_size, num_classes, padding_idx)
