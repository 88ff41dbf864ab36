"""Many-to-many, aligned: one output per input step (tagging, frame labels, language models).

    lm = ManyToMany(hidden_size=128, vocab_size=80, tie_weights=True)   # character LM, O = V
    logits = lm(ids)                                # (B, T) -> (B, T, 80)
    new = lm.generate(prompt, max_new_tokens=100, strategy="sample", top_k=10)
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import torch
from torch import Tensor, nn

from rnnkit.decoding import DecodingConfig
from rnnkit.layers import length_mask
from rnnkit.models.builders import CellSpec, make_rnn
from rnnkit.models.generation import autoregress, resolve_decoding
from rnnkit.models.inputs import SequenceInput

__all__ = ["ManyToMany", "ManyToManyConfig"]


class ManyToMany(nn.Module):
    """Recurrent stack with a per-step head: ``x (B, T[, D]) -> y (B, T, O)``.

    ::

        h_t, s_t = RNN(x_t, s_{t-1})          (bidirectional: h_t also reads x_{t+1..T})
        y_t      = h_t W_o^T + b_o            W_o (O, F), F = H (2H bidirectional)

    Inputs: token ids ``(B, T)`` with ``vocab_size`` (embedding ``embed_size``, default H), or
    features ``(B, T, D)`` with ``input_size``. With ``lengths``, outputs at padded steps are
    exactly zero and the returned state is each row's state after its last valid step.

    As a language model (token inputs, unidirectional, ``num_outputs = vocab_size``, the default
    for token inputs): :meth:`step` streams one token at a time and equals the full forward;
    :meth:`generate` primes on a prompt and continues it. ``tie_weights=True`` shares the
    embedding matrix with the head (needs embed_size == F and num_outputs == vocab_size).

    Args:
        hidden_size: H. num_outputs: O (default vocab_size for token inputs).
        input_size / vocab_size, embed_size, padding_idx: the input (give one of the first two).
        cell, num_layers, bidirectional, dropout, bias: as :func:`rnnkit.models.make_rnn`.
    """

    def __init__(self, hidden_size: int, num_outputs: Optional[int] = None,
                 input_size: Optional[int] = None, vocab_size: Optional[int] = None,
                 embed_size: Optional[int] = None, padding_idx: Optional[int] = None,
                 cell: CellSpec = "lstm", num_layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, tie_weights: bool = False, bias: bool = True):
        super().__init__()
        self.inputs = SequenceInput("ManyToMany", input_size, vocab_size, embed_size, padding_idx,
                                    default_embed=hidden_size)
        if num_outputs is None:
            if vocab_size is None:
                raise ValueError("ManyToMany: num_outputs is required for feature inputs")
            num_outputs = vocab_size
        if int(num_outputs) < 1:
            raise ValueError(f"ManyToMany: num_outputs must be >= 1, got {num_outputs}")
        self.num_outputs = int(num_outputs)
        self.rnn = make_rnn(cell, self.inputs.output_size, hidden_size, num_layers, dropout,
                            bidirectional, bias=bias)
        self.head = nn.Linear(self.rnn.output_size, self.num_outputs)
        if tie_weights:
            if not self.inputs.tokens or self.num_outputs != self.inputs.vocab_size:
                raise ValueError("ManyToMany: tie_weights needs token inputs and num_outputs == vocab_size")
            if self.inputs.output_size != self.rnn.output_size:
                raise ValueError(
                    f"ManyToMany: tie_weights needs embed_size == RNN output size, got "
                    f"{self.inputs.output_size} and {self.rnn.output_size}"
                )
            self.head.weight = self.inputs.embed.weight

    def forward(self, x: Tensor, lengths: Optional[Tensor] = None, state=None,
                return_state: bool = False):
        """``x`` ids ``(B, T)`` or features ``(B, T, D)`` -> ``y (B, T, O)`` [, final state].

        ``state``: initial state as the layer takes it (None = zeros). ``y`` is zero at padding.
        """
        h, final = self.rnn(self.inputs(x), state, lengths=lengths)
        y = self.head(h)
        if lengths is not None:
            mask = length_mask(torch.as_tensor(lengths).to(h.device), h.shape[1])
            y = y * mask.unsqueeze(-1).to(y.dtype)
        return (y, final) if return_state else y

    def step(self, x_t: Tensor, state=None):
        """One step: ids ``(B,)`` or features ``(B, D)`` -> ``(y_t (B, O), state)``.

        Feeding a sequence step by step gives the same outputs as :meth:`forward` over it.
        Unidirectional models only.
        """
        if self.rnn.bidirectional:
            raise RuntimeError("ManyToMany.step() needs a unidirectional model: the backward "
                               "direction reads the future")
        h, state = self.rnn.step(self.inputs(x_t, step=True), state)
        return self.head(h), state

    @torch.no_grad()
    def generate(self, prompt_ids: Tensor, max_new_tokens: int,
                 decoding: Optional[DecodingConfig] = None, strategy: str = "greedy",
                 temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                 generator: Optional[torch.Generator] = None,
                 prompt_lengths: Optional[Tensor] = None, eos_id: Optional[int] = None,
                 pad_id: Optional[int] = None) -> Tensor:
        """Continue ``prompt_ids (B, T0)``; returns the new tokens only, ``(B, n)``, n <= max_new_tokens.

        One forward over the prompt (``prompt_lengths`` for prompts of different lengths) gives
        the state and the logits of the first new token; then each chosen token is fed back
        through :meth:`step`. Tokens are picked with ``decoding`` or, without it,
        ``strategy``/``temperature``/``top_k``/``top_p``; a seeded ``generator`` (or
        ``decoding.seed``) makes it repeatable. With ``eos_id`` a row stops after EOS and is
        padded with ``pad_id`` (default: ``padding_idx``, else ``eos_id``). No gradients; call
        ``.eval()`` first to switch dropout off.
        """
        if not self.inputs.tokens or self.num_outputs != self.inputs.vocab_size or self.rnn.bidirectional:
            raise RuntimeError("ManyToMany.generate needs a unidirectional model with token inputs "
                               "and num_outputs == vocab_size (a language model)")
        for name, v in (("eos_id", eos_id), ("pad_id", pad_id)):
            if v is not None and not 0 <= int(v) < self.num_outputs:
                raise ValueError(f"ManyToMany.generate: {name} must be in [0, {self.num_outputs}), got {v}")
        logits, state = self(prompt_ids, lengths=prompt_lengths, return_state=True)
        B, T0, _ = logits.shape
        last = (torch.full((B,), T0 - 1, device=logits.device) if prompt_lengths is None
                else torch.as_tensor(prompt_lengths).to(logits.device, torch.long) - 1)
        first = logits[torch.arange(B, device=logits.device), last]
        decoding, generator = resolve_decoding(decoding, strategy, temperature, top_k, top_p,
                                               generator, logits.device)
        if pad_id is None:
            pad_id = self.inputs.padding_idx if self.inputs.padding_idx is not None else eos_id
        return autoregress(self.step, first, state, max_new_tokens, decoding, generator, eos_id, pad_id)


@dataclasses.dataclass
class ManyToManyConfig:
    """Arguments of :class:`ManyToMany`; ``build()`` makes the model."""

    hidden_size: int
    num_outputs: Optional[int] = None
    input_size: Optional[int] = None
    vocab_size: Optional[int] = None
    embed_size: Optional[int] = None
    padding_idx: Optional[int] = None
    cell: str = "lstm"
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    tie_weights: bool = False
    bias: bool = True

    def build(self) -> ManyToMany:
        return ManyToMany(**dataclasses.asdict(self))
