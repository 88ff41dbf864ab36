"""Layer-normalised LSTM and GRU cells (Ba, Kiros & Hinton, "Layer Normalization", 2016).

Notation: D input features, H hidden, G = gates * H; ``norm(z)`` normalises each row of z over
its last dimension, ``norm(z) = (z - mean(z)) / sqrt(var(z) + eps)`` (biased variance), and
``*`` is the element-wise product. Statistics are taken over all G pre-activations of one step at
once, as in the paper's LSTM equations (some implementations normalise each gate on its own).

LSTM (gate order i, f, g, o as torch)::

    [i, f, g, o] = gamma_ih * norm(x_t W_ih^T) + bias_ih + gamma_hh * norm(h_{t-1} W_hh^T)   (B, 4H)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)                                    (B, H)
    h_t = sigmoid(o) * tanh(gamma_c * norm(c_t) + beta_c)                                (B, H)

The paper writes LN(z; alpha, beta) = alpha * norm(z) + beta for each of the two products and
adds a gate bias b; the three shifts add up, so one ``bias_ih`` (G,) stands for beta_1 + beta_2 + b.

GRU (torch's variant, gate order r, z, n; the reset gate multiplies the recurrent part)::

    [r_i, z_i, n_i] = gamma_ih * norm(x_t W_ih^T) + bias_ih                              (B, 3H)
    [r_h, z_h, n_h] = gamma_hh * norm(h_{t-1} W_hh^T) + bias_hh                          (B, 3H)
    r = sigmoid(r_i + r_h);  z = sigmoid(z_i + z_h);  n = tanh(n_i + r * n_h)
    h_t = (1 - z) * n + z * h_{t-1}

Here the recurrent shift ``bias_hh`` is kept apart because its n-part sits inside ``r * (...)``.

Parameters: ``weight_ih (G, D)`` and ``weight_hh (G, H)`` (uniform in [-1/sqrt(H), 1/sqrt(H)]
like torch), gains ``gamma_*`` (ones) and shifts (zeros). The gains and shifts are 1-D, so the
trainer's AdamW never decays them (see :func:`rnnkit.train.optim.param_groups`). These cells are
not torch's fused ops, so layers built from them always run rnnkit's own loop.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.cells.base import RecurrentCell, State

__all__ = ["LayerNormGRUCell", "LayerNormLSTMCell", "layer_norm_gru_step", "layer_norm_lstm_step"]


def _ln(z: Tensor, gain: Tensor, shift: Tensor | None, eps: float) -> Tensor:
    """``gain * norm(z) + shift`` over the last dimension."""
    return F.layer_norm(z, (z.shape[-1],), gain, shift, eps)


def layer_norm_lstm_step(gi: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor, gamma_hh: Tensor,
                         gamma_c: Tensor, beta_c: Tensor | None, eps: float = 1e-5) -> tuple[Tensor, Tensor]:
    """One LN-LSTM step from ``gi = gamma_ih * norm(x_t W_ih^T) + bias_ih`` ``(B, 4H)``; see the module
    docstring. h ``(B, H)``, c ``(B, H)``, weight_hh ``(4H, H)`` -> ``(h_t, c_t)``."""
    gates = gi + _ln(F.linear(h, weight_hh), gamma_hh, None, eps)
    i, f, g, o = gates.chunk(4, dim=-1)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(_ln(c_next, gamma_c, beta_c, eps))
    return h_next, c_next


def layer_norm_gru_step(gi: Tensor, h: Tensor, weight_hh: Tensor, gamma_hh: Tensor,
                        bias_hh: Tensor | None, eps: float = 1e-5, h_rec: Tensor | None = None) -> Tensor:
    """One LN-GRU step from ``gi = gamma_ih * norm(x_t W_ih^T) + bias_ih`` ``(B, 3H)``.

    ``h_rec`` (default h) is what the recurrent product reads, while the interpolation
    ``z * h_{t-1}`` always uses ``h``: recurrent dropout drops h only inside the product.
    """
    gh = _ln(F.linear(h if h_rec is None else h_rec, weight_hh), gamma_hh, bias_hh, eps)
    r_i, z_i, n_i = gi.chunk(3, dim=-1)
    r_h, z_h, n_h = gh.chunk(3, dim=-1)
    r = torch.sigmoid(r_i + r_h)
    z = torch.sigmoid(z_i + z_h)
    n = torch.tanh(n_i + r * n_h)
    return n + z * (h - n)  # == (1 - z) * n + z * h


class _LayerNormCell(RecurrentCell):
    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, eps: float = 1e-5):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"input_size and hidden_size must be >= 1, got {input_size} and {hidden_size}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.bias, self.eps = bool(bias), float(eps)
        g = self.num_gates * self.hidden_size
        self.weight_ih = nn.Parameter(torch.empty(g, self.input_size))
        self.weight_hh = nn.Parameter(torch.empty(g, self.hidden_size))
        self.gamma_ih = nn.Parameter(torch.empty(g))
        self.gamma_hh = nn.Parameter(torch.empty(g))

    def _optional(self, name: str, size: int) -> None:
        if self.bias:
            setattr(self, name, nn.Parameter(torch.empty(size)))
        else:
            self.register_parameter(name, None)

    def reset_parameters(self) -> None:
        """Weights uniform in [-1/sqrt(H), 1/sqrt(H)] (torch's rule); gains one, shifts zero."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name, p in self.named_parameters():
            if name.startswith("weight_"):
                nn.init.uniform_(p, -bound, bound)
            elif name.startswith("gamma_"):
                nn.init.ones_(p)
            else:
                nn.init.zeros_(p)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"


class LayerNormLSTMCell(_LayerNormCell):
    """LSTM with layer normalisation of both gate products and of the cell state (module docstring).

    Parameters: ``weight_ih (4H, D)``, ``weight_hh (4H, H)``, ``gamma_ih, gamma_hh (4H,)``,
    ``bias_ih (4H,)``, ``gamma_c, beta_c (H,)`` (``bias=False`` drops ``bias_ih`` and ``beta_c``).
    State ``(h, c)``, both ``(B, H)``.
    """

    num_gates = 4

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, eps: float = 1e-5):
        super().__init__(input_size, hidden_size, bias, eps)
        self._optional("bias_ih", 4 * self.hidden_size)
        self.gamma_c = nn.Parameter(torch.empty(self.hidden_size))
        self._optional("beta_c", self.hidden_size)
        self.reset_parameters()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size, self.hidden_size)

    def project_input(self, x: Tensor) -> Tensor:
        """``gamma_ih * norm(x W_ih^T) + bias_ih`` for any leading shape: ``(..., D) -> (..., 4H)``."""
        return _ln(F.linear(x, self.weight_ih), self.gamma_ih, self.bias_ih, self.eps)

    def step_projected(self, gi: Tensor, state: State) -> State:
        h, c = state
        return layer_norm_lstm_step(gi, h, c, self.weight_hh, self.gamma_hh, self.gamma_c, self.beta_c, self.eps)


class LayerNormGRUCell(_LayerNormCell):
    """GRU (torch's variant) with layer normalisation of both gate products (module docstring).

    Parameters: ``weight_ih (3H, D)``, ``weight_hh (3H, H)``, ``gamma_ih, gamma_hh, bias_ih,
    bias_hh (3H,)`` (``bias=False`` drops the two shifts). State ``h (B, H)``.
    """

    num_gates = 3

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, eps: float = 1e-5):
        super().__init__(input_size, hidden_size, bias, eps)
        self._optional("bias_ih", 3 * self.hidden_size)
        self._optional("bias_hh", 3 * self.hidden_size)
        self.reset_parameters()

    def project_input(self, x: Tensor) -> Tensor:
        """``gamma_ih * norm(x W_ih^T) + bias_ih`` for any leading shape: ``(..., D) -> (..., 3H)``."""
        return _ln(F.linear(x, self.weight_ih), self.gamma_ih, self.bias_ih, self.eps)

    def step_projected(self, gi: Tensor, state: State) -> State:
        return (layer_norm_gru_step(gi, state[0], self.weight_hh, self.gamma_hh, self.bias_hh, self.eps),)

    def step_projected_rec(self, gi: Tensor, state: State, h_rec: Tensor) -> State:
        """A step whose recurrent product reads ``h_rec`` (e.g. a dropped h) instead of ``state[0]``."""
        return (layer_norm_gru_step(gi, state[0], self.weight_hh, self.gamma_hh, self.bias_hh, self.eps,
                                    h_rec=h_rec),)
