"""A token decoder conditioned on an encoder memory (with attention) and/or an initial state.

Translation gives it a memory ``(B, S, M)`` with a mask; captioning can give it image or frame
features as memory (mask None), or only a condition vector ``(B, C)`` that sets the initial state.

Luong attention (``dot``, ``general``) reads the new state (Luong et al. 2015)::

    x_t      = [E y_{t-1} ; h~_{t-1}]                 (h~_{t-1} only with input feeding; h~_0 = 0)
    h_t, s_t = RNN.step(x_t, s_{t-1})
    c_t, a_t = attend(h_t, memory)
    h~_t     = tanh(W_c [h_t ; c_t])                  W_c (H, H + M)
    p(y_t)   = softmax(W_o h~_t + b_o)                W_o (V, H)

Bahdanau attention (``bahdanau``) reads the previous state and feeds the context in (2015)::

    c_t, a_t = attend(h_{t-1}, memory)                (h_0 = top layer of the initial state)
    x_t      = [E y_{t-1} ; c_t ; h~_{t-1}]
    h_t, s_t = RNN.step(x_t, s_{t-1});   h~_t = tanh(W_c [h_t ; c_t])

Without memory there is no attention: h~_t = h_t, and input feeding is off (it would feed h_t back).
The initial state is ``s_0 = tanh(W_s cond + b_s)`` split over layers (and the LSTM's (h, c)), or
zeros without ``cond_size``.

Training runs :meth:`forward` with teacher forcing (the gold previous token), optionally with
scheduled sampling (Bengio et al. 2015): at each step t > 0 each row feeds the model's own argmax
prediction instead of the gold token with probability ``sampling_prob``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.cells.base import as_state_tuple
from rnnkit.models.builders import CellSpec, make_rnn
from rnnkit.models.seq2seq.attention import ATTENTIONS, Attention

__all__ = ["AttentionDecoder", "DecoderState", "MemoryBank"]


@dataclass
class MemoryBank:
    """The encoder memory prepared for decoding: values (B, S, M), mask (B, S) or None, keys (B, S, K)."""

    values: Tensor
    mask: Tensor | None
    keys: Tensor

    def index_select(self, index: Tensor) -> MemoryBank:
        """Rows ``index`` of the batch (beam expansion)."""
        mask = None if self.mask is None else self.mask.index_select(0, index)
        return MemoryBank(self.values.index_select(0, index), mask, self.keys.index_select(0, index))


@dataclass
class DecoderState:
    """rnn: the recurrent state, a tuple of (L, B, size) tensors; feed: h~_{t-1} (B, H) for input feeding."""

    rnn: tuple[Tensor, ...]
    feed: Tensor | None = None

    def index_select(self, index: Tensor) -> DecoderState:
        """Rows ``index`` of the batch (beam expansion and reordering)."""
        feed = None if self.feed is None else self.feed.index_select(0, index)
        return DecoderState(tuple(s.index_select(1, index) for s in self.rnn), feed)


class AttentionDecoder(nn.Module):
    """Autoregressive token decoder with optional attention over a memory.

    Args:
        vocab_size: V. hidden_size: H. embed_size: E (default H).
        memory_size: M, features of the memory (None: no memory, no attention).
        cond_size: C, features of the condition that sets the initial state (None: zeros).
        attention: one of :data:`~rnnkit.models.seq2seq.attention.ATTENTIONS`. attn_size: bahdanau's A.
        input_feeding: feed h~_{t-1} into step t (Luong); ignored without memory.
        cell, num_layers, dropout: as :func:`rnnkit.models.make_rnn` (unidirectional); ``dropout``
            also applies to the embeddings and to h~_t before the output layer, in training.
        padding_idx: embedding row kept at zero. tie_weights: W_o shares E's matrix (needs E == H).
    """

    def __init__(self, vocab_size: int, hidden_size: int, embed_size: int | None = None,
                 memory_size: int | None = None, cond_size: int | None = None,
                 attention: str = "general", attn_size: int | None = None,
                 input_feeding: bool = True, cell: CellSpec = "lstm", num_layers: int = 1,
                 dropout: float = 0.0, padding_idx: int | None = None, tie_weights: bool = False):
        super().__init__()
        if int(vocab_size) < 1 or int(hidden_size) < 1:
            raise ValueError(f"AttentionDecoder: vocab_size and hidden_size must be >= 1, got {vocab_size}, {hidden_size}")
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
        self.vocab_size, self.hidden_size = int(vocab_size), int(hidden_size)
        embed_size = int(embed_size or hidden_size)
        self.memory_size = None if memory_size is None else int(memory_size)
        self.attention_kind = attention if memory_size is not None else None
        self.input_feeding = bool(input_feeding) and memory_size is not None
        self.padding_idx = padding_idx
        self.embed = nn.Embedding(self.vocab_size, embed_size, padding_idx=padding_idx)
        self.dropout = nn.Dropout(dropout)

        rnn_in = embed_size
        if self.attention_kind == "bahdanau":
            rnn_in += self.memory_size
        if self.input_feeding:
            rnn_in += self.hidden_size
        self.rnn = make_rnn(cell, rnn_in, hidden_size, num_layers, dropout, False)
        if self.rnn.state_sizes[0] != self.hidden_size:
            raise ValueError("AttentionDecoder needs a cell whose output size is hidden_size")
        if memory_size is not None:
            self.attention = Attention(attention, self.hidden_size, self.memory_size, attn_size)
            self.combine = nn.Linear(self.hidden_size + self.memory_size, self.hidden_size)  # W_c
        else:
            self.attention = self.combine = None
        self.cond_size = None if cond_size is None else int(cond_size)
        self.init_state_proj = (nn.Linear(self.cond_size, self.rnn.num_layers * sum(self.rnn.state_sizes))
                                if cond_size is not None else None)
        self.head = nn.Linear(self.hidden_size, self.vocab_size)
        if tie_weights:
            if embed_size != self.hidden_size:
                raise ValueError(f"tie_weights needs embed_size == hidden_size, got {embed_size} and {hidden_size}")
            self.head.weight = self.embed.weight

    # ------------------------------------------------------------------ setup
    def init_state(self, batch_size: int, cond: Tensor | None = None) -> DecoderState:
        """The state before the first token: from ``cond (B, C)`` if the decoder has ``cond_size``, else zeros."""
        ref = next(self.parameters())
        L, sizes = self.rnn.num_layers, self.rnn.state_sizes
        if self.init_state_proj is not None:
            if cond is None or cond.dim() != 2 or cond.shape != (batch_size, self.cond_size):
                got = None if cond is None else tuple(cond.shape)
                raise ValueError(f"AttentionDecoder.init_state needs cond of shape ({batch_size}, {self.cond_size}), got {got}")
            z = torch.tanh(self.init_state_proj(cond)).view(batch_size, L, sum(sizes))
            rnn = tuple(p.transpose(0, 1).contiguous() for p in torch.split(z, list(sizes), dim=-1))
        else:
            if cond is not None:
                raise ValueError("AttentionDecoder was built without cond_size: it takes no condition")
            rnn = tuple(ref.new_zeros(L, batch_size, s) for s in sizes)
        feed = ref.new_zeros(batch_size, self.hidden_size) if self.input_feeding else None
        return DecoderState(rnn, feed)

    def prepare_memory(self, memory: Tensor | None, mask: Tensor | None = None) -> MemoryBank | None:
        """Memory (B, S, M) and mask (B, S) -> a :class:`MemoryBank` with the attention keys computed once."""
        if self.attention is None:
            if memory is not None:
                raise ValueError("AttentionDecoder was built without memory_size: it takes no memory")
            return None
        if memory is None:
            raise ValueError(f"AttentionDecoder was built with memory_size={self.memory_size}: give it a memory (B, S, M)")
        if mask is not None:
            mask = mask.to(torch.bool)
            if not torch.compiler.is_compiling() and not bool(mask.any(dim=-1).all()):  # eager-only check
                raise ValueError("every memory row needs at least one valid (unmasked) position")
        return MemoryBank(memory, mask, self.attention.keys(memory))

    # ------------------------------------------------------------------ one step
    def step(self, tokens: Tensor, state: DecoderState, bank: MemoryBank | None):
        """``tokens (B,)`` (the previous output) -> ``(logits (B, V), new state, attention (B, S) or None)``."""
        parts = [self.dropout(self.embed(tokens))]
        weights = None
        if self.attention_kind == "bahdanau":
            context, weights = self.attention(state.rnn[0][-1], bank.values, bank.mask, bank.keys)
            parts.append(context)
        if self.input_feeding:
            parts.append(state.feed)
        h, rnn_state = self.rnn.step(torch.cat(parts, dim=-1), state.rnn)
        if self.attention is not None:
            if self.attention_kind != "bahdanau":
                context, weights = self.attention(h, bank.values, bank.mask, bank.keys)
            out = torch.tanh(self.combine(torch.cat([h, context], dim=-1)))
        else:
            out = h
        logits = self.head(self.dropout(out))
        return logits, DecoderState(as_state_tuple(rnn_state), out if self.input_feeding else None), weights

    # ------------------------------------------------------------------ teacher forcing
    def forward(self, tokens: Tensor, state: DecoderState, bank: MemoryBank | None,
                sampling_prob: float = 0.0, return_attention: bool = False):
        """Teacher forcing over ``tokens (B, T)`` (BOS first, the targets shifted right) -> logits (B, T, V).

        With ``return_attention``, also the weights (B, T, S) (None without memory).
        ``sampling_prob`` in [0, 1]: scheduled sampling (see the module docstring).
        Luong attention without input feeding or sampling runs the RNN over all T steps in one
        call (torch's fused op where it applies); every other setting loops over :meth:`step`.
        Both give the same numbers.
        """
        if tokens.dim() != 2:
            raise ValueError(f"AttentionDecoder.forward expects tokens (B, T), got {tuple(tokens.shape)}")
        if not 0.0 <= sampling_prob <= 1.0:
            raise ValueError(f"sampling_prob must be in [0, 1], got {sampling_prob}")
        if self.attention_kind != "bahdanau" and not self.input_feeding and sampling_prob == 0.0:
            logits, weights = self._forward_parallel(tokens, state, bank)
        else:
            logits, weights = self._forward_loop(tokens, state, bank, sampling_prob)
        return (logits, weights) if return_attention else logits

    def _forward_parallel(self, tokens, state, bank):
        h, _ = self.rnn(self.dropout(self.embed(tokens)), state.rnn)  # (B, T, H)
        weights = None
        if self.attention is not None:
            context, weights = self.attention(h, bank.values, bank.mask, bank.keys)
            h = torch.tanh(self.combine(torch.cat([h, context], dim=-1)))
        return self.head(self.dropout(h)), weights

    def _forward_loop(self, tokens, state, bank, sampling_prob):
        logits, weights = [], []
        for t in range(tokens.shape[1]):
            tok = tokens[:, t]
            if t > 0 and sampling_prob > 0.0:
                own = logits[-1].detach().argmax(dim=-1)
                coin = torch.rand(tok.shape, device=tok.device) < sampling_prob
                tok = torch.where(coin, own, tok)
            step_logits, state, w = self.step(tok, state, bank)
            logits.append(step_logits)
            weights.append(w)
        attn = torch.stack(weights, dim=1) if self.attention is not None else None
        return torch.stack(logits, dim=1), attn
