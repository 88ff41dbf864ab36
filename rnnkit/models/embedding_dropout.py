"""Embedding dropout: drop whole words (rows of the embedding matrix), as in Gal & Ghahramani (2016)
and AWD-LSTM (Merity et al. 2018).

::

    m_v ~ Bernoulli(1 - p) for each word v of the vocabulary (V,), one draw per forward pass
    E~  = E * m[:, None] / (1 - p)                                   E (V, E_dim)
    e_t = E~[x_t]                                                    every occurrence of a dropped
                                                                     word in the batch is zero

Dropping the word type rather than single vector entries removes a word everywhere in the batch,
so the model cannot lean on any one word's embedding. Off in eval mode (``E~ = E``). The mask
is shared by the batch, as AWD-LSTM does; with ``step()`` decoding in training mode each call is
its own forward pass and draws its own mask.

Usage on a model that owns an ``nn.Embedding`` (weight ties are kept: the Parameter is shared)::

    lm = ManyToMany(256, vocab_size=V, tie_weights=True)
    lm.inputs.embed = EmbeddingDropout.from_embedding(lm.inputs.embed, p=0.1)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["EmbeddingDropout", "embedding_dropout"]


def embedding_dropout(ids: Tensor, weight: Tensor, p: float, training: bool = True,
                      padding_idx: int | None = None, scale_grad_by_freq: bool = False,
                      generator: torch.Generator | None = None) -> Tensor:
    """``ids (...)`` -> ``(..., E)`` looked up in ``weight (V, E)`` with whole rows dropped at rate p."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"embedding dropout p must be in [0, 1), got {p}")
    if training and p:
        keep = torch.empty(weight.shape[0], 1, device=weight.device, dtype=weight.dtype)
        keep.bernoulli_(1.0 - p, generator=generator).div_(1.0 - p)
        weight = weight * keep
    return F.embedding(ids, weight, padding_idx, scale_grad_by_freq=scale_grad_by_freq)


class EmbeddingDropout(nn.Embedding):
    """An ``nn.Embedding`` whose rows are dropped as whole words in training (module docstring).

    Same parameters and state_dict keys as ``nn.Embedding`` (``weight (V, E)``), so it loads a
    plain embedding's weights and replaces one in place. ``max_norm`` (renormalises rows in
    place) and ``sparse`` (the mask makes the gradient dense) are not supported.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, p: float = 0.1,
                 padding_idx: int | None = None, **kwargs):
        if kwargs.get("max_norm") is not None or kwargs.get("sparse"):
            raise ValueError("EmbeddingDropout does not support max_norm or sparse gradients")
        super().__init__(num_embeddings, embedding_dim, padding_idx=padding_idx, **kwargs)
        if not 0.0 <= p < 1.0:
            raise ValueError(f"embedding dropout p must be in [0, 1), got {p}")
        self.p = float(p)

    @classmethod
    def from_embedding(cls, embedding: nn.Embedding, p: float) -> EmbeddingDropout:
        """Wrap an existing embedding, sharing its weight Parameter (ties to a head survive)."""
        if embedding.max_norm is not None or embedding.sparse:
            raise ValueError("EmbeddingDropout does not support max_norm or sparse gradients")
        new = cls(embedding.num_embeddings, embedding.embedding_dim, p=p, padding_idx=embedding.padding_idx,
                  scale_grad_by_freq=embedding.scale_grad_by_freq,
                  device=embedding.weight.device, dtype=embedding.weight.dtype)
        new.weight = embedding.weight
        return new

    def forward(self, ids: Tensor) -> Tensor:
        if not (self.training and self.p):
            return super().forward(ids)
        return embedding_dropout(ids, self.weight, self.p, True, self.padding_idx, self.scale_grad_by_freq)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", p={self.p}"
