"""ConvLSTM (Shi et al. 2015): an LSTM whose states are feature maps and whose products are convolutions.

For input maps x_t ``(B, C, H, W)`` and state h, c ``(B, K, H, W)`` (K hidden channels)::

    [i, f, g, o] = W_ih * x_t + b_ih + W_hh * h_{t-1} + b_hh      (* = 2-D convolution, "same" padding)
    c_t = sigmoid(f) . c_{t-1} + sigmoid(i) . tanh(g)
    h_t = sigmoid(o) . tanh(c_t)

with torch's gate order ``i, f, g, o`` and parameters ``weight_ih (4K, C, k, k)``,
``weight_hh (4K, K, k, k)``, ``bias_ih (4K,)``, ``bias_hh (4K,)``. The peephole terms of the
paper (``W_c . c``) are left out, as in most implementations. With 1x1 maps and a 1x1 kernel it
is exactly ``torch.nn.LSTMCell``.

:class:`ConvLSTMCell` follows rnnkit's cell protocol (:mod:`rnnkit.cells.base`) by flattening
maps channel-major: x_t is ``(B, C*H*W)``, the state is two ``(B, K*H*W)`` tensors. So any
rnnkit layer or model scans it: :class:`rnnkit.layers.Recurrent` (lengths, stacking,
bidirectional, ``step()``), ``ManyToOne(cell=factory)``; ``project_input`` runs the input
convolution for all T frames in one call. :class:`rnnkit.layers.convlstm.ConvLSTM` wraps that for
``(B, T, C, H, W)`` (cells know no sequences: the layer lives with the layers).
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.cells.base import RecurrentCell, State

__all__ = ["ConvLSTMCell", "convlstm_step", "convlstm_factory"]


def convlstm_step(gi: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor,
                  bias_hh: Optional[Tensor]) -> tuple[Tensor, Tensor]:
    """One step from the input part of the gates ``gi (B, 4K, H, W)`` and maps ``h, c (B, K, H, W)``."""
    gates = gi + F.conv2d(h, weight_hh, bias_hh, padding=weight_hh.shape[-1] // 2)
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class ConvLSTMCell(RecurrentCell):
    """A ConvLSTM cell on flattened maps. ``input_size = C*H*W``, ``hidden_size = K*H*W``.

    Args: in_channels C, hidden_channels K, image_size (H, W) of the maps, kernel_size k (odd),
    bias. Init: uniform in ``[-1/sqrt(K k^2), 1/sqrt(K k^2)]`` (torch's LSTM rule with the
    recurrent fan-in ``K k^2`` in place of H).
    """

    def __init__(self, in_channels: int, hidden_channels: int, image_size: tuple[int, int],
                 kernel_size: int = 3, bias: bool = True):
        super().__init__()
        if in_channels < 1 or hidden_channels < 1 or min(image_size) < 1:
            raise ValueError(f"ConvLSTMCell: channels and image size must be >= 1, got "
                             f"{in_channels}, {hidden_channels}, {tuple(image_size)}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"ConvLSTMCell: kernel_size must be odd (for 'same' padding), got {kernel_size}")
        self.in_channels, self.hidden_channels = int(in_channels), int(hidden_channels)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.kernel_size = int(kernel_size)
        area = self.image_size[0] * self.image_size[1]
        self.input_size = self.in_channels * area
        self.hidden_size = self.hidden_channels * area
        self.bias = bool(bias)
        G, k = 4 * self.hidden_channels, self.kernel_size
        self.weight_ih = nn.Parameter(torch.empty(G, self.in_channels, k, k))
        self.weight_hh = nn.Parameter(torch.empty(G, self.hidden_channels, k, k))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(G))
            self.bias_hh = nn.Parameter(torch.empty(G))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_channels * self.kernel_size ** 2)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size, self.hidden_size)

    def project_input(self, x: Tensor) -> Tensor:
        """``(..., C*H*W) -> (..., 4K*H*W)``: the input convolution for any number of frames."""
        lead = x.shape[:-1]
        maps = x.reshape(-1, self.in_channels, *self.image_size)
        gi = F.conv2d(maps, self.weight_ih, self.bias_ih, padding=self.kernel_size // 2)
        return gi.reshape(*lead, -1)

    def step_projected(self, gi: Tensor, state: State) -> State:
        B = gi.shape[0]
        maps = (B, self.hidden_channels, *self.image_size)
        h, c = convlstm_step(gi.view(B, 4 * self.hidden_channels, *self.image_size),
                             state[0].view(maps), state[1].view(maps), self.weight_hh, self.bias_hh)
        return h.reshape(B, -1), c.reshape(B, -1)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.hidden_channels}, image_size={self.image_size}, "
                f"kernel_size={self.kernel_size}" + ("" if self.bias else ", bias=False"))


def convlstm_factory(hidden_channels: int, image_size: tuple[int, int], kernel_size: int = 3,
                     bias: bool = True):
    """``input_size -> ConvLSTMCell``: the cell factory rnnkit's layers and models take.

    The input channels follow from the flattened input size, so a stacked or bidirectional
    layer (whose upper layers read ``K`` or ``2K`` channels) builds each layer's cell right.
    """
    area = int(image_size[0]) * int(image_size[1])

    def make(input_size: int) -> ConvLSTMCell:
        if input_size % area:
            raise ValueError(f"ConvLSTM: input size {input_size} is not a whole number of "
                             f"{image_size[0]}x{image_size[1]} maps")
        return ConvLSTMCell(input_size // area, hidden_channels, image_size, kernel_size, bias)

    return make
