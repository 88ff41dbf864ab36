"""``RNN``, ``LSTM`` and ``GRU``: drop-in sequence layers with torch's arguments and state_dict keys.

Differences from ``torch.nn``: batch-first by default; extra ``merge``, ``residual``, ``backend``;
``forward(x, state=None, lengths=None, return_state=False)`` takes lengths instead of a
PackedSequence and returns only the output unless asked for the state; ``step()`` streams.
A ``torch.nn.LSTM(...).state_dict()`` loads into ``rnnkit.LSTM`` with the same arguments (and back).
"""

from __future__ import annotations


from rnnkit.cells.builtin import GRUCell, LSTMCell, RNNCell
from rnnkit.layers.recurrent import Recurrent


def _cell_factory(cell_cls, hidden_size, **kwargs):
    return lambda input_size: cell_cls(input_size, hidden_size, **kwargs)


class _Builtin(Recurrent):
    def __init__(self, factory, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                 bidirectional, merge, residual, backend):
        super().__init__(factory, input_size=input_size, num_layers=num_layers,
                         bidirectional=bidirectional, merge=merge, dropout=dropout,
                         residual=residual, batch_first=batch_first, backend=backend)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)


class RNN(_Builtin):
    """Elman RNN layer: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act tanh or relu.

    State: ``h (L * dirs, B, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False, merge: str = "concat",
                 residual: bool = False, backend: str = "auto"):
        factory = _cell_factory(RNNCell, hidden_size, bias=bias, nonlinearity=nonlinearity)
        super().__init__(factory, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, merge, residual, backend)
        self.nonlinearity = nonlinearity


class LSTM(_Builtin):
    """LSTM layer (gates i, f, g, o). State: ``(h, c)``, h ``(L * dirs, B, P or H)``, c ``(L * dirs, B, H)``.

    ``proj_size=P > 0`` projects h_t to P features (torch's LSTMP); outputs then have P features.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = True, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, merge: str = "concat", residual: bool = False,
                 backend: str = "auto"):
        factory = _cell_factory(LSTMCell, hidden_size, bias=bias, proj_size=proj_size)
        super().__init__(factory, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, merge, residual, backend)
        self.proj_size = int(proj_size)


class GRU(_Builtin):
    """GRU layer in torch's variant (gates r, z, n; see :func:`rnnkit.functional.gru_step`).

    State: ``h (L * dirs, B, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = True, dropout: float = 0.0, bidirectional: bool = False,
                 merge: str = "concat", residual: bool = False, backend: str = "auto"):
        factory = _cell_factory(GRUCell, hidden_size, bias=bias)
        super().__init__(factory, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, merge, residual, backend)
