"""Encoder-decoder with attention: many-to-many, unaligned (translation; the decoder serves captioning too).

    from rnnkit.models.seq2seq import Seq2SeqConfig, SearchConfig
    model = Seq2SeqConfig(src_vocab_size=1000, tgt_vocab_size=1000, attention="bahdanau").build()
    logits = model(src, src_lengths, tgt_in)                  # (B, S), (B,), (B, T) -> (B, T, V)
    best = model.eval().translate(src, src_lengths, SearchConfig(beam_size=5))[0][0].tokens

Pieces, each usable alone:

- :class:`Encoder` (encoder.py): (bi)LSTM/GRU over token ids or features, with lengths.
- :class:`Attention` (attention.py): ``bahdanau`` (additive), ``dot`` and ``general`` (Luong).
- :class:`AttentionDecoder` (decoder.py): conditioned on a memory (B, S, M) + mask and/or an
  initial-state vector (B, C); input feeding; teacher forcing with scheduled sampling.
- :func:`greedy_search`, :func:`beam_search` (search.py): batched, per-row length limits, GNMT
  length penalty, n-gram blocking.
- :class:`Seq2Seq`, :class:`Seq2SeqConfig` (model.py): the assembled model; :func:`seq2seq_loss`
  (loss.py): label-smoothed token cross-entropy in the trainer's ``loss_fn(model, batch)`` form.
"""

from rnnkit.models.seq2seq.attention import ATTENTIONS, Attention
from rnnkit.models.seq2seq.decoder import AttentionDecoder, DecoderState, MemoryBank
from rnnkit.models.seq2seq.encoder import Encoder, EncoderOutput
from rnnkit.models.seq2seq.loss import seq2seq_loss
from rnnkit.models.seq2seq.model import Seq2Seq, Seq2SeqConfig
from rnnkit.models.seq2seq.search import (
    Hypothesis,
    SearchConfig,
    beam_search,
    greedy_search,
    length_penalty,
    max_lengths,
)

__all__ = [
    "ATTENTIONS",
    "Attention",
    "AttentionDecoder",
    "DecoderState",
    "Encoder",
    "EncoderOutput",
    "Hypothesis",
    "MemoryBank",
    "SearchConfig",
    "Seq2Seq",
    "Seq2SeqConfig",
    "beam_search",
    "greedy_search",
    "length_penalty",
    "max_lengths",
    "seq2seq_loss",
]
