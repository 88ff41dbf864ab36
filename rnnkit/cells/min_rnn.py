"""minGRU and minLSTM cells (Feng et al. 2024, "Were RNNs All We Needed?").

Their gates read only x_t, never h_{t-1}, so one step is the linear recurrence
``h_t = a_t * h_{t-1} + b_t`` with (a_t, b_t) a function of x_t alone: a layer can compute all
(a, b) in one product and solve the recurrence with a parallel scan
(:class:`rnnkit.layers.MinGRU`), while the cell itself steps one x_t at a time (generation, and
the generic :class:`rnnkit.layers.Recurrent`). The equations are in
:mod:`rnnkit.functional.scan` (:func:`~rnnkit.functional.scan.mingru_coefficients` and
:func:`~rnnkit.functional.scan.minlstm_coefficients`)::

    minGRU   z_t = sigmoid(W_z x_t + b_z),  h~_t = g(W_h x_t + b_h)
             h_t = (1 - z_t) h_{t-1} + z_t h~_t
    minLSTM  f_t = sigmoid(W_f x_t + b_f),  i_t = sigmoid(W_i x_t + b_i),  h~_t = g(W_h x_t + b_h)
             f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)
             h_t = f'_t h_{t-1} + i'_t h~_t
    g(x) = x + 0.5 (x >= 0), sigmoid(x) (x < 0)      -- positive, so the log-space scan applies

Parameters: ``weight_ih (G, D)`` and ``bias_ih (G,)`` with G = 2H (rows z, h) for minGRU and
G = 3H (rows f, i, h) for minLSTM; no hidden-to-hidden weights. Init as ``nn.Linear`` (the
paper's code): uniform in ``[-1/sqrt(D), 1/sqrt(D)]``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnkit import functional as RF
from rnnkit.cells.base import RecurrentCell, State
from rnnkit.functional import scan as FS


class _MinCell(RecurrentCell):
    num_gates = 2

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"input_size and hidden_size must be >= 1, got {input_size} and {hidden_size}")
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        g = self.num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(g, input_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(g))
        else:
            self.register_parameter("bias_ih", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.input_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def project_input(self, x: Tensor) -> Tensor:
        """``(..., D) -> (..., G)``: all gate pre-activations."""
        return RF.input_projection(x, self.weight_ih, self.bias_ih)

    def coefficients(self, gi: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        """``(a, b)`` of the recurrence from the projected input, any leading shape."""
        raise NotImplementedError

    def log_coefficients(self, gi: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        """``(log a, log b)``, computed without forming a and b (exact at saturated gates)."""
        raise NotImplementedError

    def step_projected(self, gi: Tensor, state: State) -> State:
        a, b = self.coefficients(gi)
        return (FS.linear_step(a, b, state[0]),)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"


class MinGRUCell(_MinCell):
    """minGRU cell: ``h_t = (1 - z_t) h_{t-1} + z_t g(W_h x_t + b_h)``, ``z_t = sigmoid(W_z x_t + b_z)``.

    State ``h (B, H)``. Gate rows of ``weight_ih``: z, h.
    """

    num_gates = 2

    def coefficients(self, gi: Tensor) -> tuple[Tensor, Tensor]:
        return FS.mingru_coefficients(gi)

    def log_coefficients(self, gi: Tensor) -> tuple[Tensor, Tensor]:
        return FS.mingru_log_coefficients(gi)


class MinLSTMCell(_MinCell):
    """minLSTM cell: ``h_t = f'_t h_{t-1} + i'_t g(W_h x_t + b_h)`` with ``f' + i' = 1``.

    State ``h (B, H)`` (no cell state: the minLSTM's h plays both roles). Gate rows: f, i, h.
    """

    num_gates = 3

    def coefficients(self, gi: Tensor) -> tuple[Tensor, Tensor]:
        return FS.minlstm_coefficients(gi)

    def log_coefficients(self, gi: Tensor) -> tuple[Tensor, Tensor]:
        return FS.minlstm_log_coefficients(gi)
