"""The acoustic model: strided convolutions, a (bi)LSTM/GRU stack with lengths, CTC outputs.

Shapes: features ``x (B, T, F)`` with valid lengths ``(B,)`` ->

1. SpecAugment masks (training only, when enabled).
2. Conv front-end: ``conv_layers`` 3x3 Conv2d + ReLU over (time, mel) with ``C`` channels; every
   layer halves the mel axis, and the first ``log2(time_stride)`` layers halve time, so
   ``T' = ceil(T / time_stride)`` (per layer ``t' = floor((t - 1) / s) + 1``) and the output is
   flattened to ``(B, T', C * F')``. Frames past an utterance's length are zeroed after every
   layer, so a padded batch gives each utterance exactly what it gets alone.
3. Linear to ``hidden_size``, LayerNorm over each frame (optional), ReLU, then rnnkit's ``LSTM``/``GRU`` (``num_layers``,
   ``bidirectional``, ``dropout`` between layers) scanning each utterance within its length.
4. Linear to V symbols (blank + alphabet) and ``log_softmax``: ``(B, T', V)``, lengths ``(B,)``.

The log-posteriors go to ``torch.nn.functional.ctc_loss`` in training and to
:mod:`rnnkit.apps.speech.ctc_decode` at inference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.layers import GRU, LSTM
from rnnkit.apps.speech.features import SpecAugment, SpecAugmentConfig

__all__ = ["CTCSpeechModel", "ConvFrontEnd", "SpeechModelConfig"]


@dataclass
class SpeechModelConfig:
    channels: int = 16
    conv_layers: int = 2
    time_stride: int = 4  # 1, 2 or 4: frames of 10 ms -> 40 ms before the RNN
    cell: Literal["lstm", "gru"] = "gru"
    hidden_size: int = 128
    num_layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.1
    layer_norm: bool = True  # LayerNorm on each frame after the projection (per frame: padding-safe)

    def __post_init__(self) -> None:
        if self.time_stride not in (1, 2, 4):
            raise ValueError(f"time_stride must be 1, 2 or 4, got {self.time_stride}")
        if (self.time_stride.bit_length() - 1) > self.conv_layers:
            raise ValueError(f"time_stride={self.time_stride} needs at least {self.time_stride.bit_length() - 1} conv layers")


class ConvFrontEnd(nn.Module):
    """Strided 3x3 convolutions over ``(B, T, F)``; see the module docstring for the shapes."""

    def __init__(self, n_mels: int, channels: int, layers: int, time_stride: int) -> None:
        super().__init__()
        n_time = time_stride.bit_length() - 1  # layers that halve time
        self.strides = [(2 if i < n_time else 1, 2) for i in range(layers)]
        self.convs = nn.ModuleList(
            nn.Conv2d(1 if i == 0 else channels, channels, 3, stride=s, padding=1) for i, s in enumerate(self.strides))
        f = n_mels
        for _, sf in self.strides:
            f = (f - 1) // sf + 1
        if f < 1:
            raise ValueError(f"{n_mels} mel bands are too few for {layers} conv layers")
        self.output_size = channels * f

    def output_lengths(self, lengths: Tensor) -> Tensor:
        for st, _ in self.strides:
            lengths = torch.div(lengths - 1, st, rounding_mode="floor") + 1
        return lengths

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        h = x.unsqueeze(1)  # (B, 1, T, F)
        for conv, (st, _) in zip(self.convs, self.strides):
            h = F.relu(conv(h))
            lengths = torch.div(lengths - 1, st, rounding_mode="floor") + 1
            valid = torch.arange(h.shape[2], device=h.device) < lengths.to(h.device)[:, None]
            h = h * valid[:, None, :, None].to(h.dtype)
        B, C, T, Fq = h.shape
        return h.permute(0, 2, 1, 3).reshape(B, T, C * Fq), lengths


class CTCSpeechModel(nn.Module):
    """Features -> CTC log-posteriors. ``forward(x, lengths) -> (log_probs (B, T', V), lengths (B,))``."""

    def __init__(self, n_mels: int, vocab_size: int, cfg: SpeechModelConfig | None = None,
                 augment: SpecAugmentConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or SpeechModelConfig()
        self.cfg = cfg
        self.augment = SpecAugment(augment or SpecAugmentConfig())
        self.frontend = ConvFrontEnd(n_mels, cfg.channels, cfg.conv_layers, cfg.time_stride)
        self.proj = nn.Linear(self.frontend.output_size, cfg.hidden_size)
        self.norm = nn.LayerNorm(cfg.hidden_size) if cfg.layer_norm else nn.Identity()
        layer = LSTM if cfg.cell == "lstm" else GRU
        self.rnn = layer(cfg.hidden_size, cfg.hidden_size, num_layers=cfg.num_layers,
                         bidirectional=cfg.bidirectional, dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
                         batch_first=True)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden_size * (2 if cfg.bidirectional else 1), vocab_size)

    def output_lengths(self, lengths: Tensor) -> Tensor:
        """Frames of the log-posteriors for inputs of ``lengths`` frames."""
        return self.frontend.output_lengths(lengths)

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        lengths = lengths.to(x.device)
        x = self.augment(x, lengths)
        h, lengths = self.frontend(x, lengths)
        h = self.dropout(F.relu(self.norm(self.proj(h))))
        h, _ = self.rnn(h, lengths=lengths)
        return F.log_softmax(self.head(self.dropout(h)), dim=-1), lengths
