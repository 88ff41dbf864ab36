"""The classifier: :class:`rnnkit.models.ManyToOne` with dropout on its embeddings and pooled vector.

::

    e_t = Dropout(Embed(x_t))                      x (B, T) ids -> e (B, T, E)
    h   = (bi)LSTM/GRU(e)                          h (B, T, F), F = H or 2H
    p   = pool(h)  last | mean | max | attention   p (B, F)
    y   = W_o Dropout(p) + b_o                     y (B, K) logits over K classes

Short texts and ~10k examples overfit fast; dropout at these two places is the usual remedy
(the recurrent stack's own ``dropout`` acts only between stacked layers).

Optional lexicon features (``lexicon_features=True``): beside its learned embedding, each token
gets K fixed numbers, its naive-Bayes log-count ratios computed on the training split
(Wang & Manning 2012), one per class k::

    p_k(v) = (n_k(v) + a) / sum_u (n_k(u) + a)      n_k(v): training texts of class k containing v
    r_k(v) = log p_k(v) - log p_not_k(v)            (one class against the rest; a = 1)
    e_t    = [Embed(x_t), r(x_t)]                   (B, T, E + K)

They give the recurrent network each word's polarity from the first step instead of asking it to
learn that from ~10k short texts; the table is a buffer (saved with the weights, not trained).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from rnnkit.models import ManyToOne

__all__ = ["ClassifierModelConfig", "LexiconEmbedding", "TextClassifier", "build_model", "nb_log_count_ratios"]


@dataclass
class ClassifierModelConfig:
    cell: Literal["lstm", "gru", "rnn", "rnn_relu"] = "gru"
    embed_size: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    pooling: Literal["last", "mean", "max", "attention"] = "attention"
    attention_size: int = 64
    embed_dropout: float = 0.5
    dropout: float = 0.5          # on the pooled vector, and between stacked layers
    lexicon_features: bool = True


def nb_log_count_ratios(ids: list[list[int]], labels: list[int], vocab_size: int, num_classes: int,
                        alpha: float = 1.0, specials: int = 4) -> Tensor:
    """``(V, K)`` table ``r_k(v)`` of the module docstring from encoded training texts; the first
    ``specials`` ids (pad/unk/bos/eos) get 0."""
    counts = torch.zeros(vocab_size, num_classes, dtype=torch.float64)
    for seq, y in zip(ids, labels):
        counts[torch.tensor(sorted(set(seq)), dtype=torch.long), y] += 1.0   # presence, not frequency
    p = (counts + alpha) / (counts + alpha).sum(0, keepdim=True)                 # p_k(v)
    rest = counts.sum(1, keepdim=True) - counts                                   # n_not_k(v)
    q = (rest + alpha) / (rest + alpha).sum(0, keepdim=True)
    r = (p.log() - q.log()).float()
    r[:specials] = 0.0
    return r


class LexiconEmbedding(nn.Module):
    """``ids (B, T) -> [Embed(ids), table[ids]] (B, T, E + K)``; the table is a fixed buffer."""

    def __init__(self, embed: nn.Embedding, num_classes: int):
        super().__init__()
        self.embed = embed
        self.register_buffer("table", torch.zeros(embed.num_embeddings, num_classes))

    def forward(self, ids: Tensor) -> Tensor:
        return torch.cat([self.embed(ids), self.table[ids]], dim=-1)


class TextClassifier(ManyToOne):
    """``ManyToOne`` over token ids with embedding and output dropout; forward as ManyToOne:
    ``model(ids (B, T), lengths (B,)) -> logits (B, K)``, ``return_attention=True`` adds ``(B, T)``.
    With ``lexicon_features``, fill ``set_lexicon(nb_log_count_ratios(...))`` before training."""

    def __init__(self, cfg: ClassifierModelConfig, vocab_size: int, num_classes: int, padding_idx: int = 0):
        extra = num_classes if cfg.lexicon_features else 0
        super().__init__(cfg.hidden_size, num_classes, vocab_size=vocab_size, embed_size=cfg.embed_size + extra,
                         padding_idx=padding_idx, cell=cfg.cell, num_layers=cfg.num_layers,
                         bidirectional=cfg.bidirectional, dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
                         pooling=cfg.pooling, attention_size=cfg.attention_size)
        # Wrap the embedding and the head in place: ManyToOne.forward calls them by these names,
        # so every pooling (and return_attention) works unchanged.
        embed = self.inputs.embed
        if cfg.lexicon_features:
            embed = LexiconEmbedding(nn.Embedding(vocab_size, cfg.embed_size, padding_idx=padding_idx), num_classes)
        self.inputs.embed = nn.Sequential(embed, nn.Dropout(cfg.embed_dropout))
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), self.head)

    def set_lexicon(self, table: Tensor) -> None:
        lex = self.inputs.embed[0]
        if not isinstance(lex, LexiconEmbedding):
            raise ValueError("set_lexicon needs model.lexicon_features=true")  # noqa: TRY004 (a config mismatch)
        if table.shape != lex.table.shape:
            raise ValueError(f"lexicon table must be {tuple(lex.table.shape)}, got {tuple(table.shape)}")
        lex.table.copy_(table)


def build_model(cfg: ClassifierModelConfig, vocab_size: int, num_classes: int, padding_idx: int = 0) -> TextClassifier:
    return TextClassifier(cfg, vocab_size, num_classes, padding_idx)
