"""ConvLSTM over whole clips: :class:`ConvLSTM` runs :class:`rnnkit.cells.convlstm.ConvLSTMCell`
(the equations are in that module) through :class:`rnnkit.layers.Recurrent` on ``(B, T, C, H, W)``."""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit.cells.convlstm import convlstm_factory
from rnnkit.layers.recurrent import Recurrent

__all__ = ["ConvLSTM"]


class ConvLSTM(nn.Module):
    """A (stacked, optionally bidirectional) ConvLSTM over ``x (B, T, C, H, W)``.

    Returns ``y (B, T, K', H, W)`` (K' = K, or 2K bidirectional) and with ``return_state`` the
    final ``(h, c)``, each ``(L * dirs, B, K, H, W)``. ``lengths (B,)`` and ``state`` behave as in
    :class:`rnnkit.layers.Recurrent`, which does the scan.
    """

    def __init__(self, in_channels: int, hidden_channels: int, image_size: tuple[int, int],
                 kernel_size: int = 3, num_layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.in_channels, self.hidden_channels = int(in_channels), int(hidden_channels)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        area = self.image_size[0] * self.image_size[1]
        self.layer = Recurrent(convlstm_factory(hidden_channels, self.image_size, kernel_size, bias),
                               input_size=self.in_channels * area, num_layers=num_layers,
                               bidirectional=bidirectional, dropout=dropout, batch_first=True)
        self.out_channels = self.layer.output_size // area

    def forward(self, x: Tensor, state=None, lengths=None, return_state: bool = False):
        if x.dim() != 5 or x.shape[2] != self.in_channels or tuple(x.shape[3:]) != self.image_size:
            raise ValueError(f"ConvLSTM expects x (B, T, {self.in_channels}, {self.image_size[0]}, "
                             f"{self.image_size[1]}), got shape {tuple(x.shape)}")
        B, T = x.shape[:2]
        maps = (self.hidden_channels, *self.image_size)
        flat_state = None
        if state is not None:
            flat_state = tuple(s.flatten(2) for s in state)
        y, final = self.layer(x.reshape(B, T, -1), flat_state, lengths=lengths)
        y = y.view(B, T, self.out_channels, *self.image_size)
        if not return_state:
            return y
        return y, tuple(s.view(s.shape[0], B, *maps) for s in final)
