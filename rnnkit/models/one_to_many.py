"""One-to-many: a conditioning vector (an image embedding, a class, a style) to a token sequence.

    model = OneToMany(cond_size=64, vocab_size=100, hidden_size=128)
    logits = model(c, tokens)                       # teacher forcing: (B, T, V)
    ids = model.generate(c, max_len=20, bos_id=1, eos_id=2)   # (B, <=20)
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import torch
from torch import Tensor, nn

from rnnkit.decoding import DecodingConfig
from rnnkit.models.builders import CellSpec, make_rnn
from rnnkit.models.generation import autoregress, resolve_decoding
from rnnkit.models.inputs import SequenceInput

__all__ = ["OneToMany", "OneToManyConfig"]


class OneToMany(nn.Module):
    """Conditioned generator: ``c (B, C)`` sets the initial state; a unidirectional RNN emits tokens.

    For every layer l and state tensor k (h, and c for the LSTM)::

        s_0^(l,k) = tanh(c W_s^T + b_s)[slice for (l, k)]     W_s (L * sum(state sizes), C)
        x_t       = E[token_t]                                 E (V, E)
        y_t, s_t  = RNN.step(x_t, s_{t-1})
        logits_t  = y_t W_o^T + b_o                            W_o (V, H)

    Training uses teacher forcing: ``forward(c, tokens)`` reads ``tokens (B, T)`` (starting with
    BOS, the targets shifted right) and returns ``logits (B, T, V)``; the loss compares
    ``logits[:, t]`` with ``tokens[:, t + 1]`` (or a separate target tensor). ``generate`` runs the
    same recurrence one step at a time, feeding back its own choices.

    Args:
        cond_size: C. vocab_size: V. hidden_size: H. embed_size: E (default H).
        cell, num_layers, dropout, bias: as :func:`rnnkit.models.make_rnn` (unidirectional).
        padding_idx: embedding row that stays zero (pad token).
        tie_weights: share the embedding matrix with the output head (needs E == H).
    """

    def __init__(self, cond_size: int, vocab_size: int, hidden_size: int,
                 embed_size: Optional[int] = None, cell: CellSpec = "lstm", num_layers: int = 1,
                 dropout: float = 0.0, padding_idx: Optional[int] = None, tie_weights: bool = False,
                 bias: bool = True):
        super().__init__()
        if int(cond_size) < 1:
            raise ValueError(f"OneToMany: cond_size must be >= 1, got {cond_size}")
        self.cond_size = int(cond_size)
        self.vocab_size = int(vocab_size)
        self.padding_idx = padding_idx
        self.inputs = SequenceInput("OneToMany", vocab_size=vocab_size, embed_size=embed_size,
                                    padding_idx=padding_idx, default_embed=hidden_size)
        self.rnn = make_rnn(cell, self.inputs.output_size, hidden_size, num_layers, dropout, False,
                            bias=bias)
        self.init_state = nn.Linear(self.cond_size, self.rnn.num_layers * sum(self.rnn.state_sizes))
        self.head = nn.Linear(self.rnn.output_size, self.vocab_size)
        if tie_weights:
            if self.inputs.output_size != self.rnn.output_size:
                raise ValueError(
                    f"OneToMany: tie_weights needs embed_size == RNN output size, got "
                    f"{self.inputs.output_size} and {self.rnn.output_size}"
                )
            self.head.weight = self.inputs.embed.weight

    # ------------------------------------------------------------------ pieces
    def _check_cond(self, c: Tensor) -> None:
        if not isinstance(c, Tensor) or c.dim() != 2 or not c.is_floating_point():
            got = f"{c.dtype} of shape {tuple(c.shape)}" if isinstance(c, Tensor) else type(c).__name__
            raise ValueError(f"OneToMany expects a float condition c (B, C={self.cond_size}), got {got}")
        if c.shape[-1] != self.cond_size:
            raise ValueError(f"OneToMany expects a condition with {self.cond_size} features, got "
                             f"{c.shape[-1]} (shape {tuple(c.shape)})")

    def initial_state(self, c: Tensor):
        """``c (B, C)`` -> the RNN's initial state: ``(L, B, H)``, or ``(h0, c0)`` for the LSTM."""
        self._check_cond(c)
        L, B = self.rnn.num_layers, c.shape[0]
        z = torch.tanh(self.init_state(c)).view(B, L, sum(self.rnn.state_sizes))
        parts = torch.split(z, list(self.rnn.state_sizes), dim=-1)
        state = tuple(p.transpose(0, 1).contiguous() for p in parts)
        return state[0] if len(state) == 1 else state

    def step(self, tokens: Tensor, state):
        """One step: ``tokens (B,)`` and the state -> ``(logits (B, V), state)``."""
        y, state = self.rnn.step(self.inputs(tokens, step=True), state)
        return self.head(y), state

    # ------------------------------------------------------------------ forward / generate
    def forward(self, c: Tensor, tokens: Tensor, lengths: Optional[Tensor] = None) -> Tensor:
        """Teacher forcing: ``c (B, C)``, ``tokens (B, T)`` (BOS first) -> ``logits (B, T, V)``.

        ``lengths (B,)`` marks padded batches; logits at padded steps are meaningless (mask them
        in the loss, e.g. with ``ignore_index``).
        """
        x = self.inputs(tokens)
        if x.shape[0] != c.shape[0]:
            raise ValueError(f"OneToMany: c has batch {c.shape[0]} but tokens have batch {x.shape[0]}")
        y, _ = self.rnn(x, self.initial_state(c), lengths=lengths)
        return self.head(y)

    @torch.no_grad()
    def generate(self, c: Tensor, max_len: int, bos_id: int, eos_id: Optional[int] = None,
                 decoding: Optional[DecodingConfig] = None, strategy: str = "greedy",
                 temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                 generator: Optional[torch.Generator] = None,
                 pad_id: Optional[int] = None) -> Tensor:
        """Generate from ``c (B, C)``: returns token ids ``(B, n)``, ``n <= max_len``, BOS excluded.

        Each step feeds the previous choice (BOS first) through :meth:`step` and picks the next
        token with ``decoding`` (a :class:`~rnnkit.decoding.DecodingConfig`) or, without it,
        ``strategy``/``temperature``/``top_k``/``top_p``. A row stops at ``eos_id`` (kept in the
        output); its later positions hold ``pad_id`` (default: ``padding_idx``, else ``eos_id``).
        Pass a seeded ``generator`` (or ``decoding.seed``) for repeatable sampling. Runs without
        gradients; call ``.eval()`` first to switch dropout off.
        """
        self._check_cond(c)
        for name, v in (("bos_id", bos_id), ("eos_id", eos_id), ("pad_id", pad_id)):
            if v is not None and not 0 <= int(v) < self.vocab_size:
                raise ValueError(f"OneToMany.generate: {name} must be in [0, {self.vocab_size}), got {v}")
        decoding, generator = resolve_decoding(decoding, strategy, temperature, top_k, top_p,
                                               generator, c.device)
        if pad_id is None:
            pad_id = self.padding_idx if self.padding_idx is not None else eos_id
        bos = torch.full((c.shape[0],), int(bos_id), dtype=torch.long, device=c.device)
        logits, state = self.step(bos, self.initial_state(c))
        return autoregress(self.step, logits, state, max_len, decoding, generator, eos_id, pad_id)


@dataclasses.dataclass
class OneToManyConfig:
    """Arguments of :class:`OneToMany`; ``build()`` makes the model."""

    cond_size: int
    vocab_size: int
    hidden_size: int
    embed_size: Optional[int] = None
    cell: str = "lstm"
    num_layers: int = 1
    dropout: float = 0.0
    padding_idx: Optional[int] = None
    tie_weights: bool = False
    bias: bool = True

    def build(self) -> OneToMany:
        return OneToMany(**dataclasses.asdict(self))
