"""``make_rnn``: the recurrent stack every model in :mod:`rnnkit.models` is built on.

One place turns a cell name into a layer, so the four shapes (and the tasks) accept the same
``cell=`` values and the same errors::

    rnn = make_rnn("lstm", input_size=32, hidden_size=64, num_layers=2, bidirectional=True)
    y, state = rnn(x)             # x (B, T, 32) -> y (B, T, 128): batch-first, inside rnnkit's models
"""

from __future__ import annotations

from typing import Callable, Union

from torch import nn

from rnnkit.layers import GRU, LSTM, RNN, Recurrent

__all__ = ["CELLS", "CellSpec", "make_rnn"]

#: Cell names accepted by ``make_rnn`` (and the ``cell=`` argument of every model).
CELLS = ("lstm", "gru", "rnn", "rnn_tanh", "rnn_relu")

#: A cell name from :data:`CELLS`, or a factory ``input_size -> cell`` for a custom cell.
CellSpec = Union[str, Callable[[int], nn.Module]]


def make_rnn(
    cell: CellSpec,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    dropout: float = 0.0,
    bidirectional: bool = False,
    *,
    bias: bool = True,
    proj_size: int = 0,
    merge: str = "concat",
    residual: bool = False,
    backend: str = "auto",
) -> Recurrent:
    """Build a (stacked, optionally bidirectional) recurrent layer, batch-first (``batch_first=True``:
    rnnkit's models run ``(B, T, D)``; the layers' own default is torch's ``(T, B, D)``).

    Args:
        cell: ``"lstm"``, ``"gru"`` (torch's variant), ``"rnn"``/``"rnn_tanh"`` (Elman, tanh),
            ``"rnn_relu"`` (Elman, relu); or a factory ``input_size -> cell`` for any cell with
            rnnkit's cell protocol (``hidden_size`` is then the factory's business and ignored).
        input_size: D, features of each step.
        hidden_size: H.
        num_layers: L.
        dropout: between layers, in training only (as torch).
        bidirectional: add a reverse-time scan per layer.
        bias, merge, residual, backend: as :class:`rnnkit.Recurrent`.
        proj_size: LSTM projection P (LSTM only; 0 = none).

    Returns a :class:`rnnkit.Recurrent`: ``(B, T, D) -> ((B, T, O), state)`` with
    ``O = layer.output_size`` (``H``, or ``P`` with a projection, doubled by a bidirectional concat).
    """
    if callable(cell) and not isinstance(cell, str):
        if proj_size:
            raise ValueError("proj_size applies to cell='lstm' only, not to a custom cell factory")
        return Recurrent(cell, input_size=input_size, num_layers=num_layers,
                         bidirectional=bidirectional, merge=merge, dropout=dropout,
                         residual=residual, batch_first=True, backend=backend)
    if not isinstance(cell, str) or cell.lower() not in CELLS:
        raise ValueError(f"cell must be one of {CELLS} or a factory input_size -> cell, got {cell!r}")
    kind = cell.lower()
    if proj_size and kind != "lstm":
        raise ValueError(f"proj_size applies to cell='lstm' only, got cell={cell!r}")
    if int(input_size) < 1 or int(hidden_size) < 1:
        raise ValueError(f"input_size and hidden_size must be >= 1, got {input_size} and {hidden_size}")
    # dropout acts between layers only: with one layer it does nothing (and torch warns), but a
    # value outside [0, 1) is still an error, as the layers themselves say
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    dropout = dropout if num_layers > 1 else 0.0
    common = dict(num_layers=num_layers, bias=bias, batch_first=True, dropout=dropout,
                  bidirectional=bidirectional, merge=merge, residual=residual, backend=backend)
    if kind == "lstm":
        return LSTM(input_size, hidden_size, proj_size=proj_size, **common)
    if kind == "gru":
        return GRU(input_size, hidden_size, **common)
    nonlinearity = "relu" if kind == "rnn_relu" else "tanh"
    return RNN(input_size, hidden_size, nonlinearity=nonlinearity, **common)
