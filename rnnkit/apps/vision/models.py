"""The two vision models: a clip classifier/captioner and an image captioner.

VideoModel (many-to-one, plus an optional one-to-many caption decoder)::

    f_t = CNN(frame_t)                          (B, T, F)     ConvEncoder, shared over frames
    z   = ManyToOne(f_1..f_T, lengths)          (B, E)        RNN over frames, pooled, projected
    motion logits = z W_m^T + b_m               (B, M)        M = activity classes
    digit logits  = z W_d^T + b_d               (B, 10)       when the data has a second label
    caption       = OneToMany(c = z)            (B, T', V)    when the data has captions

With ``temporal="convlstm"`` the frames' CNN maps (no pooling, no projection) feed a ConvLSTM
(:mod:`rnnkit.cells.convlstm`) inside the same ``ManyToOne``, so the recurrence keeps the layout.

CaptionModel (one-to-many)::

    z = ConvEncoder(image)                      (B, E)
    logits = OneToMany(c = z, BOS w_1 .. w_n)   (B, n + 1, V)   the state starts at tanh(W_s z + b_s)
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from rnnkit.models import ManyToOne, OneToMany
from rnnkit.apps.vision.beam import Hypothesis, beam_search
from rnnkit.cells.convlstm import convlstm_factory
from rnnkit.apps.vision.encoder import ConvEncoder
from rnnkit.apps.vision.vocab import BOS_ID, EOS_ID, PAD_ID

__all__ = ["VideoModel", "CaptionModel", "decode_captions"]

TEMPORAL = ("gru", "lstm", "rnn", "convlstm")


class VideoModel(nn.Module):
    """Clips ``(B, T, C, H, W)`` (uint8 or float) -> motion logits, digit logits, clip embedding.

    Args:
        in_channels, frame_size (H, W): of the frames.
        num_classes: M activity classes. num_digits: classes of the second head (0 = none).
        vocab_size: caption vocabulary V (0 = no caption decoder).
        channels, grid, frame_features, where_channels, norm, conv_bias: the frame CNN
        (:class:`ConvEncoder`).
        temporal: ``gru``, ``lstm``, ``rnn`` or ``convlstm``. hidden_size: H of the RNN (the
        ConvLSTM uses ``convlstm_channels`` maps instead). num_layers, bidirectional, dropout,
        pooling: of the ``ManyToOne``. embed_size: E. caption_hidden, caption_cell: the decoder.
    """

    def __init__(self, in_channels: int, frame_size: tuple[int, int], num_classes: int,
                 num_digits: int = 0, vocab_size: int = 0, channels=(16, 32, 64), grid=(4, 4),
                 frame_features: int = 128, temporal: str = "gru", hidden_size: int = 128,
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
                 pooling: str = "last", embed_size: int = 128, convlstm_channels: int = 16,
                 convlstm_kernel: int = 3, caption_hidden: int = 128, caption_cell: str = "lstm",
                 where_channels: int = 4, norm: str = "batch", conv_bias: bool = False):
        super().__init__()
        if temporal not in TEMPORAL:
            raise ValueError(f"temporal must be one of {TEMPORAL}, got {temporal!r}")
        self.temporal = temporal
        self.frames = ConvEncoder(in_channels, frame_size, channels, grid, frame_features,
                                  where_channels=where_channels, norm=norm, conv_bias=conv_bias)
        if temporal == "convlstm":
            h, w = self.frames.map_size
            cell = convlstm_factory(convlstm_channels, (h, w), convlstm_kernel)
            self.clip = ManyToOne(hidden_size=convlstm_channels * h * w, num_outputs=embed_size,
                                  input_size=self.frames.map_channels * h * w, cell=cell,
                                  num_layers=num_layers, bidirectional=bidirectional, dropout=dropout,
                                  pooling=pooling)
        else:
            self.clip = ManyToOne(hidden_size=hidden_size, num_outputs=embed_size,
                                  input_size=frame_features, cell=temporal, num_layers=num_layers,
                                  bidirectional=bidirectional, dropout=dropout, pooling=pooling)
        self.motion_head = nn.Linear(embed_size, num_classes)
        self.digit_head = nn.Linear(embed_size, num_digits) if num_digits else None
        self.decoder = (OneToMany(embed_size, vocab_size, caption_hidden, cell=caption_cell,
                                  padding_idx=PAD_ID) if vocab_size else None)

    def encode(self, frames: Tensor, lengths: Optional[Tensor] = None) -> Tensor:
        """``(B, T, C, H, W) -> z (B, E)``; padded frames beyond ``lengths`` are ignored."""
        if frames.dim() != 5:
            raise ValueError(f"VideoModel expects clips (B, T, C, H, W), got shape {tuple(frames.shape)}")
        B, T = frames.shape[:2]
        flat = frames.reshape(B * T, *frames.shape[2:])
        if self.temporal == "convlstm":
            feats = self.frames.feature_maps(flat).reshape(B, T, -1)
        else:
            feats = self.frames(flat).view(B, T, -1)
        return self.clip(feats, lengths=lengths)

    def forward(self, frames: Tensor, lengths: Optional[Tensor] = None, tokens: Optional[Tensor] = None):
        """-> ``(motion logits (B, M), digit logits (B, 10) or None, caption logits or None)``.

        Caption logits ``(B, T', V)`` come with teacher forcing on ``tokens (B, T')`` (BOS first)
        when the model has a decoder and tokens are given. One call does all heads, so the
        trainer's (possibly DistributedDataParallel-wrapped) model is only ever called.
        """
        z = self.encode(frames, lengths)
        digits = self.digit_head(z) if self.digit_head is not None else None
        caption = self.decoder(z, tokens) if self.decoder is not None and tokens is not None else None
        return self.motion_head(z), digits, caption


class CaptionModel(nn.Module):
    """Images ``(B, C, H, W)`` -> caption logits with teacher forcing; decode with
    :func:`decode_captions` on ``encoder(images)``. Encoder arguments as :class:`ConvEncoder`;
    BatchNorm and conv biases are off by default here (see docs/vision.md: with either, the digit
    strips' captions stayed at the no-image level for 8 epochs)."""

    def __init__(self, in_channels: int, image_size: tuple[int, int], vocab_size: int,
                 channels=(32, 64), grid=(2, 8), embed_size: int = 256, hidden_size: int = 256,
                 cell: str = "lstm", num_layers: int = 1, dropout: float = 0.0, where_channels: int = 0,
                 norm: str = "none", conv_bias: bool = False):
        super().__init__()
        self.encoder = ConvEncoder(in_channels, image_size, channels, grid, embed_size,
                                   where_channels=where_channels, norm=norm, conv_bias=conv_bias)
        self.decoder = OneToMany(embed_size, vocab_size, hidden_size, cell=cell, num_layers=num_layers,
                                 dropout=dropout, padding_idx=PAD_ID)

    def forward(self, images: Tensor, tokens: Tensor) -> Tensor:
        return self.decoder(self.encoder(images), tokens)


@torch.no_grad()
def decode_captions(decoder: OneToMany, z: Tensor, max_len: int, beam_size: int = 1,
                    alpha: float = 0.0) -> list[list[int]]:
    """Word ids (no BOS/EOS/pad) for each row of ``z (B, E)``: greedy with ``beam_size=1``
    (``OneToMany.generate``), else :func:`rnnkit.apps.vision.beam.beam_search`; PAD and BOS are never
    chosen by the beam (a trained decoder gives them no mass anyway)."""
    decoder.eval()
    if beam_size == 1:
        ids = decoder.generate(z, max_len=max_len, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID)
        out = []
        for row in ids.tolist():
            words = []
            for i in row:
                if i == EOS_ID:
                    break
                if i not in (PAD_ID, BOS_ID):
                    words.append(i)
            out.append(words)
        return out
    hyps: list[list[Hypothesis]] = beam_search(decoder.step, decoder.initial_state(z), z.shape[0], BOS_ID,
                                               EOS_ID, max_len, beam_size, alpha, never=(PAD_ID, BOS_ID),
                                               device=z.device)
    return [h[0].tokens for h in hyps]
