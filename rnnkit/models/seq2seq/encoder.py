"""The encoder of an encoder-decoder: a (bi)directional recurrent stack over the source, with lengths.

    x_s             = E[src_s]                  (or source features as given)  (B, S, E)
    m_1..m_S, s_fin = RNN(x, lengths)           m (B, S, M), M = H (2H bidirectional)

Outputs at padded positions are zero and masked out of attention; the final state of each
direction is taken at each sequence's own last valid step (the reverse direction ends at s = 1),
so a padded batch encodes every sentence exactly as it would be encoded alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.cells.base import as_state_tuple
from rnnkit.layers import length_mask
from rnnkit.models.builders import CellSpec, make_rnn
from rnnkit.models.inputs import SequenceInput

__all__ = ["Encoder", "EncoderOutput"]


@dataclass
class EncoderOutput:
    """What the decoder reads.

    memory: (B, S, M) outputs of the top layer, zero at padding.
    mask: (B, S) True at real source positions.
    summary: (B, C) the top layer's final hidden state, directions concatenated (C = M): the
        condition that initialises the decoder state.
    """

    memory: Tensor
    mask: Tensor
    summary: Tensor


class Encoder(nn.Module):
    """Token ids (B, S) or features (B, S, D), with lengths -> :class:`EncoderOutput`.

    Args:
        hidden_size: H per direction.
        vocab_size / input_size, embed_size, padding_idx: the input, as :class:`rnnkit.models.SequenceInput`.
        cell, num_layers, bidirectional, dropout: as :func:`rnnkit.models.make_rnn`; ``dropout``
            also applies to the embeddings in training.
    """

    def __init__(self, hidden_size: int, vocab_size: int | None = None, input_size: int | None = None,
                 embed_size: int | None = None, padding_idx: int | None = None,
                 cell: CellSpec = "lstm", num_layers: int = 1, bidirectional: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        self.inputs = SequenceInput("Encoder", input_size, vocab_size, embed_size, padding_idx,
                                    default_embed=hidden_size)
        self.rnn = make_rnn(cell, self.inputs.output_size, hidden_size, num_layers, dropout, bidirectional)
        self.dropout = nn.Dropout(dropout)
        self.output_size = self.rnn.output_size
        self.summary_size = self.rnn.num_directions * self.rnn.state_sizes[0]

    def forward(self, src: Tensor, lengths: Tensor | None = None) -> EncoderOutput:
        x = self.dropout(self.inputs(src))
        B, S = x.shape[:2]
        if lengths is None:
            lengths = torch.full((B,), S, dtype=torch.long, device=x.device)
        lengths = torch.as_tensor(lengths, device=x.device)
        memory, final = self.rnn(x, lengths=lengths)
        h = as_state_tuple(final)[0]  # (L * dirs, B, H): the top layer's rows are the last `dirs`
        dirs = self.rnn.num_directions
        summary = h[-dirs:].transpose(0, 1).reshape(B, dirs * h.shape[-1])
        return EncoderOutput(memory, length_mask(lengths, S), summary)
