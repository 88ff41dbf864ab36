"""``Seq2Seq``: encoder + attention decoder for unaligned many-to-many problems (translation).

    model = Seq2SeqConfig(src_vocab_size=8000, tgt_vocab_size=8000, hidden_size=256).build()
    logits = model(src, src_lengths, tgt_in)                   # teacher forcing: (B, T, V)
    hyps = model.translate(src, src_lengths, SearchConfig(beam_size=5))   # B lists of tokens

The encoder's final top-layer state (directions concatenated) is the condition that sets the
decoder's initial state; its outputs are the memory the decoder attends to, padding masked.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from rnnkit.models.seq2seq.decoder import AttentionDecoder
from rnnkit.models.seq2seq.encoder import Encoder
from rnnkit.models.seq2seq.search import (
    Hypothesis,
    SearchConfig,
    beam_search,
    greedy_search,
    max_lengths,
)

__all__ = ["Seq2Seq", "Seq2SeqConfig"]


class Seq2Seq(nn.Module):
    """An :class:`Encoder` and an :class:`AttentionDecoder` with the special token ids they share.

    ``sampling_prob`` (attribute, default 0) is the scheduled-sampling probability used by
    :meth:`forward` in training mode; a training callback may raise it epoch by epoch.
    """

    def __init__(self, encoder: Encoder, decoder: AttentionDecoder, bos_id: int, eos_id: int, pad_id: int):
        super().__init__()
        if len({bos_id, eos_id, pad_id}) != 3:
            raise ValueError(f"bos_id, eos_id and pad_id must differ, got {bos_id}, {eos_id}, {pad_id}")
        if decoder.memory_size not in (None, encoder.output_size):
            raise ValueError(f"decoder memory_size {decoder.memory_size} != encoder output size {encoder.output_size}")
        if decoder.cond_size not in (None, encoder.summary_size):
            raise ValueError(f"decoder cond_size {decoder.cond_size} != encoder summary size {encoder.summary_size}")
        self.encoder, self.decoder = encoder, decoder
        self.bos_id, self.eos_id, self.pad_id = int(bos_id), int(eos_id), int(pad_id)
        self.sampling_prob = 0.0

    def start(self, src: Tensor, src_lengths: Tensor | None = None):
        """Encode the source: -> ``(decoder initial state, memory bank)``."""
        enc = self.encoder(src, src_lengths)
        cond = enc.summary if self.decoder.cond_size is not None else None
        bank = self.decoder.prepare_memory(enc.memory, enc.mask) if self.decoder.memory_size is not None else None
        return self.decoder.init_state(src.shape[0], cond), bank

    def forward(self, src: Tensor, src_lengths: Tensor | None, tgt_in: Tensor, return_attention: bool = False):
        """Teacher forcing: src (B, S), lengths (B,), tgt_in (B, T) (BOS + target) -> logits (B, T, V)."""
        state, bank = self.start(src, src_lengths)
        p = self.sampling_prob if self.training else 0.0
        return self.decoder(tgt_in, state, bank, sampling_prob=p, return_attention=return_attention)

    @torch.no_grad()
    def translate(self, src: Tensor, src_lengths: Tensor | None = None,
                  search: SearchConfig | None = None, n_best: int = 1) -> list[list[Hypothesis]]:
        """Decode every source row; B lists of ``n_best`` :class:`Hypothesis` (1 for greedy), best first.

        Call ``.eval()`` first so dropout is off.
        """
        search = search or SearchConfig()
        if src_lengths is None:
            src_lengths = torch.full((src.shape[0],), src.shape[1], dtype=torch.long, device=src.device)
        src_lengths = torch.as_tensor(src_lengths, device=src.device)
        state, bank = self.start(src, src_lengths)
        limits = max_lengths(src_lengths, search)
        if search.strategy == "greedy":
            return [[h] for h in greedy_search(self.decoder, state, bank, self.bos_id, self.eos_id, limits,
                                               self.pad_id, search.no_repeat_ngram_size)]
        return beam_search(self.decoder, state, bank, self.bos_id, self.eos_id, limits, search.beam_size,
                           search.length_penalty, self.pad_id, search.no_repeat_ngram_size, n_best)


@dataclass
class Seq2SeqConfig:
    """Arguments of :class:`Seq2Seq`; ``build()`` makes the model.

    Vocabularies: V_src, V_tgt and the special ids (PAD also the embeddings' padding row).
    Sizes: embed_size E (both sides), hidden_size H (the decoder's), encoder_hidden_size per
    direction (default H, so a bidirectional encoder's memory has M = 2H; for ``dot`` attention,
    which needs M == H, the default is H / 2 per direction when bidirectional). ``bridge``: initialise the decoder
    from the encoder's final state (else zeros). ``share_embeddings`` ties source and target
    embeddings (needs one shared vocabulary); ``tie_output`` ties the decoder's embedding with
    its output layer (needs E == H).
    """

    src_vocab_size: int
    tgt_vocab_size: int
    pad_id: int = 0
    bos_id: int = 2
    eos_id: int = 3
    embed_size: int = 128
    hidden_size: int = 256
    encoder_hidden_size: int | None = None
    cell: Literal["lstm", "gru", "rnn", "rnn_relu"] = "gru"
    encoder_layers: int = 1
    decoder_layers: int = 1
    bidirectional: bool = True
    attention: Literal["bahdanau", "dot", "general"] = "general"
    attn_size: int | None = None
    input_feeding: bool = False
    bridge: bool = True
    dropout: float = 0.1
    share_embeddings: bool = False
    tie_output: bool = False

    def build(self) -> Seq2Seq:
        enc_hidden = self.encoder_hidden_size
        if enc_hidden is None:
            halve = self.attention == "dot" and self.bidirectional
            if halve and self.hidden_size % 2:
                raise ValueError(f"dot attention with a bidirectional encoder needs an even hidden_size, got {self.hidden_size}")
            enc_hidden = self.hidden_size // 2 if halve else self.hidden_size
        enc = Encoder(enc_hidden, vocab_size=self.src_vocab_size, embed_size=self.embed_size,
                      padding_idx=self.pad_id, cell=self.cell, num_layers=self.encoder_layers,
                      bidirectional=self.bidirectional, dropout=self.dropout)
        dec = AttentionDecoder(self.tgt_vocab_size, self.hidden_size, self.embed_size,
                               memory_size=enc.output_size, cond_size=enc.summary_size if self.bridge else None,
                               attention=self.attention, attn_size=self.attn_size,
                               input_feeding=self.input_feeding, cell=self.cell,
                               num_layers=self.decoder_layers, dropout=self.dropout,
                               padding_idx=self.pad_id, tie_weights=self.tie_output)
        if self.share_embeddings:
            if self.src_vocab_size != self.tgt_vocab_size:
                raise ValueError("share_embeddings needs one shared vocabulary (src_vocab_size == tgt_vocab_size)")
            dec.embed.weight = enc.inputs.embed.weight
        return Seq2Seq(enc, dec, self.bos_id, self.eos_id, self.pad_id)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
