"""The model of every long-range run: one recurrent stack and a linear readout.

    h_{1..T} = RNN(x_{1..T})            (B, T, H), RNN one of CELLS
    y        = h_T W^T + b              readout "last": (B, O)
    y_{T-K+1..T} = h_{T-K+1..T} W^T + b readout K: (B, K, O)

``lstm``/``gru``/``rnn`` (Elman, tanh) come from :func:`rnnkit.models.make_rnn` (torch's fused
op where it is exact); ``mingru``/``minlstm`` are the parallel-scan layers
:class:`rnnkit.MinGRU`/:class:`rnnkit.MinLSTM`.
"""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit.layers import MinGRU, MinLSTM
from rnnkit.models import make_rnn

CELLS = ("lstm", "gru", "rnn", "mingru", "minlstm")


def build_rnn(cell: str, input_size: int, hidden_size: int, num_layers: int = 1) -> nn.Module:
    if cell == "mingru":
        return MinGRU(input_size, hidden_size, num_layers=num_layers, batch_first=True)
    if cell == "minlstm":
        return MinLSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True)
    if cell in ("lstm", "gru", "rnn"):
        return make_rnn(cell, input_size, hidden_size, num_layers)
    raise ValueError(f"unknown cell {cell!r}; choose from {', '.join(CELLS)}")


class LongRangeModel(nn.Module):
    """``x (B, T, D) -> (B, O)`` (readout "last") or ``(B, K, O)`` (readout K)."""

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_outputs: int,
                 readout="last", num_layers: int = 1):
        super().__init__()
        if readout != "last" and not (isinstance(readout, int) and readout >= 1):
            raise ValueError(f"readout must be 'last' or a number of final steps >= 1, got {readout!r}")
        self.readout = readout
        self.rnn = build_rnn(cell, input_size, hidden_size, num_layers)
        self.head = nn.Linear(hidden_size, num_outputs)

    def forward(self, x: Tensor) -> Tensor:
        h, _ = self.rnn(x)
        return self.head(h[:, -1] if self.readout == "last" else h[:, -self.readout:])
