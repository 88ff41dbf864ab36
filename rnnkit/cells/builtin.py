"""Elman RNN, LSTM and GRU cells with torch's parameter names, shapes, gate order and init.

Parameters (G = gates * H): ``weight_ih (G, D)``, ``weight_hh (G, H or P)``, ``bias_ih (G,)``,
``bias_hh (G,)``, and for the LSTM with a projection ``weight_hr (P, H)``. The same names as
``torch.nn.LSTMCell`` etc., so weights copy across one to one; ``device``/``dtype`` as torch's.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnkit import functional as RF
from rnnkit.cells.base import RecurrentCell, State


class _GatedCell(RecurrentCell):
    """Shared parameters of the three cells: ``num_gates * H`` rows in each weight."""

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, recurrent_size=None,
                 device=None, dtype=None):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(
                f"input_size and hidden_size must be >= 1, got {input_size} and {hidden_size}"
            )
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        g = self.num_gates * hidden_size
        rec = hidden_size if recurrent_size is None else recurrent_size
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(g, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(g, rec, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(g, **factory))
            self.bias_hh = nn.Parameter(torch.empty(g, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def reset_parameters(self) -> None:
        """torch's init: every parameter uniform in ``[-1/sqrt(H), 1/sqrt(H)]``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def project_input(self, x: Tensor) -> Tensor:
        return RF.input_projection(x, self.weight_ih, self.bias_ih)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"


class RNNCell(_GatedCell):
    """Elman RNN cell: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu)."""

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity
        self.reset_parameters()

    def step_projected(self, gi: Tensor, state: State) -> State:
        return (RF.rnn_step(gi, state[0], self.weight_hh, self.bias_hh, self.nonlinearity),)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"


class LSTMCell(_GatedCell):
    """LSTM cell (gate order i, f, g, o); state ``(h, c)`` with h of size P when ``proj_size=P``.

    See :func:`rnnkit.functional.lstm_step` for the equations.
    """

    num_gates = 4

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, proj_size: int = 0,
                 device=None, dtype=None):
        if proj_size < 0 or (proj_size and proj_size >= hidden_size):
            raise ValueError(
                f"proj_size must be 0 (off) or in [1, hidden_size={hidden_size}), got {proj_size}"
            )
        super().__init__(input_size, hidden_size, bias, recurrent_size=proj_size or hidden_size,
                         device=device, dtype=dtype)
        self.proj_size = int(proj_size)
        if proj_size:
            self.weight_hr = nn.Parameter(torch.empty(proj_size, hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("weight_hr", None)
        self.reset_parameters()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def step_projected(self, gi: Tensor, state: State) -> State:
        h, c = state
        return RF.lstm_step(gi, h, c, self.weight_hh, self.bias_hh, self.weight_hr)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + f", proj_size={self.proj_size}" if self.proj_size else s


class GRUCell(_GatedCell):
    """GRU cell in torch's variant (gate order r, z, n; reset applied after ``W_hn h``).

    See :func:`rnnkit.functional.gru_step` for the equations and how it differs from Cho et al.
    """

    num_gates = 3

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)
        self.reset_parameters()

    def step_projected(self, gi: Tensor, state: State) -> State:
        return (RF.gru_step(gi, state[0], self.weight_hh, self.bias_hh),)
