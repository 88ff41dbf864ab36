"""``SequenceInput``: what a model reads, token ids through an embedding or feature vectors as is.

Models that accept either kind (``ManyToOne``, ``ManyToMany``) own one of these; it checks the
input's rank, dtype, feature size and token range, so a wrong input fails with a message that
names the model and the expected shape instead of deep inside a matrix product.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

__all__ = ["SequenceInput"]


class SequenceInput(nn.Module):
    """Token ids ``(B, T)`` -> embeddings ``(B, T, E)``, or features ``(B, T, D)`` passed through.

    Give exactly one of ``input_size`` (features, D) or ``vocab_size`` (tokens, V; embedding size
    ``embed_size``, default ``default_embed``). ``padding_idx`` is the embedding's padding row
    (zero and never updated). ``output_size`` is what the recurrent stack receives: D or E.
    ``forward(x, step=True)`` reads one step: ids ``(B,)`` or features ``(B, D)``.
    """

    def __init__(self, owner: str, input_size: Optional[int] = None,
                 vocab_size: Optional[int] = None, embed_size: Optional[int] = None,
                 padding_idx: Optional[int] = None, default_embed: Optional[int] = None):
        super().__init__()
        self.owner = owner
        if (input_size is None) == (vocab_size is None):
            raise ValueError(
                f"{owner}: give exactly one of input_size (feature inputs (B, T, D)) or vocab_size "
                f"(token ids (B, T)), got input_size={input_size}, vocab_size={vocab_size}"
            )
        self.vocab_size = None if vocab_size is None else int(vocab_size)
        if self.vocab_size is not None:
            if self.vocab_size < 1:
                raise ValueError(f"{owner}: vocab_size must be >= 1, got {vocab_size}")
            size = embed_size if embed_size is not None else default_embed
            if size is None or int(size) < 1:
                raise ValueError(f"{owner}: embed_size must be >= 1, got {size}")
            if padding_idx is not None and not 0 <= padding_idx < self.vocab_size:
                raise ValueError(f"{owner}: padding_idx must be in [0, {self.vocab_size}), got {padding_idx}")
            self.embed = nn.Embedding(self.vocab_size, int(size), padding_idx=padding_idx)
            self.output_size = int(size)
        else:
            if embed_size is not None or padding_idx is not None:
                raise ValueError(f"{owner}: embed_size and padding_idx need token inputs (vocab_size)")
            if int(input_size) < 1:
                raise ValueError(f"{owner}: input_size must be >= 1, got {input_size}")
            self.embed = None
            self.output_size = int(input_size)
        self.input_size = None if input_size is None else int(input_size)
        self.padding_idx = padding_idx

    @property
    def tokens(self) -> bool:
        """True when the model reads token ids."""
        return self.vocab_size is not None

    def forward(self, x: Tensor, step: bool = False) -> Tensor:
        rank = 1 if step else 2
        if not isinstance(x, Tensor):
            raise TypeError(f"{self.owner} expects a tensor, got {type(x).__name__}")
        if self.tokens:
            want = "(B,)" if step else "(B, T)"
            if x.dim() != rank or x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
                raise ValueError(
                    f"{self.owner} was built for token ids (vocab_size={self.vocab_size}) and expects "
                    f"an integer tensor {want}, got {x.dtype} of shape {tuple(x.shape)}"
                )
            # The range check reads values, which tracing (torch.export, torch.compile) cannot:
            # it runs in eager mode only, where a bad id would otherwise be an index error.
            if not torch.compiler.is_compiling() and x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.vocab_size):
                raise ValueError(
                    f"{self.owner}: token ids must be in [0, {self.vocab_size}), got values from "
                    f"{int(x.min())} to {int(x.max())}"
                )
            return self.embed(x)
        want = "(B, D)" if step else "(B, T, D)"
        if x.dim() != rank + 1 or not x.is_floating_point():
            raise ValueError(
                f"{self.owner} was built for features (input_size={self.input_size}) and expects a "
                f"float tensor {want}, got {x.dtype} of shape {tuple(x.shape)}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{self.owner} expects {self.input_size} input features, got {x.shape[-1]} "
                f"(input shape {tuple(x.shape)})"
            )
        return x
