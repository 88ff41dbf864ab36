"""One time step of the Elman RNN, LSTM and GRU, as pure functions.

Shapes: B batch, D input features, H hidden, P projection (LSTM ``proj_size``), G = gates * H.
Each step takes ``gi``, the input projection of x_t already computed (``(B, G)``), so the layer can
do the projection for all steps at once; the recurrent product ``h_{t-1} @ W_hh^T`` happens here.
Gate order follows torch: LSTM ``i, f, g, o``; GRU ``r, z, n``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def input_projection(x: Tensor, weight_ih: Tensor, bias_ih: Tensor | None = None) -> Tensor:
    """``x @ W_ih^T + b_ih`` for any leading shape: ``(..., D) -> (..., G)``."""
    return F.linear(x, weight_ih, bias_ih)


def rnn_step(
    gi: Tensor,
    h: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """Elman RNN: ``h_t = act(gi_t + h_{t-1} W_hh^T + b_hh)`` with act tanh or relu.

    gi ``(B, H)``, h ``(B, H)``, weight_hh ``(H, H)`` -> h_t ``(B, H)``.
    """
    pre = gi + F.linear(h, weight_hh, bias_hh)
    if nonlinearity == "tanh":
        return torch.tanh(pre)
    if nonlinearity == "relu":
        return torch.relu(pre)
    raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def lstm_step(
    gi: Tensor,
    h: Tensor,
    c: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    weight_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """LSTM step (torch's formulation, gate order i, f, g, o)::

        [i, f, g, o] = gi_t + h_{t-1} W_hh^T + b_hh          (B, 4H)
        i, f, o = sigmoid(i), sigmoid(f), sigmoid(o);  g = tanh(g)
        c_t = f * c_{t-1} + i * g                             (B, H)
        h_t = o * tanh(c_t)                                   (B, H)
        h_t = h_t W_hr^T        only with a projection        (B, P)

    gi ``(B, 4H)``, h ``(B, P or H)``, c ``(B, H)``, weight_hh ``(4H, P or H)``,
    weight_hr ``(P, H)`` -> ``(h_t, c_t)``.
    """
    gates = gi + F.linear(h, weight_hh, bias_hh)
    i, f, g, o = gates.chunk(4, dim=-1)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(c_next)
    if weight_hr is not None:
        h_next = F.linear(h_next, weight_hr)
    return h_next, c_next


def gru_step(
    gi: Tensor,
    h: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
) -> Tensor:
    """GRU step in torch's variant (the reset gate multiplies ``W_hn h + b_hn``, after the product)::

        [r_i, z_i, n_i] = gi_t;  [r_h, z_h, n_h] = h_{t-1} W_hh^T + b_hh
        r = sigmoid(r_i + r_h);  z = sigmoid(z_i + z_h)
        n = tanh(n_i + r * n_h)
        h_t = (1 - z) * n + z * h_{t-1}

    This differs from the original Cho et al. (2014) GRU, which applies r to h before the product.
    gi ``(B, 3H)``, h ``(B, H)``, weight_hh ``(3H, H)`` -> h_t ``(B, H)``.
    """
    gh = F.linear(h, weight_hh, bias_hh)
    r_i, z_i, n_i = gi.chunk(3, dim=-1)
    r_h, z_h, n_h = gh.chunk(3, dim=-1)
    r = torch.sigmoid(r_i + r_h)
    z = torch.sigmoid(z_i + z_h)
    n = torch.tanh(n_i + r * n_h)
    return n + z * (h - n)  # == (1 - z) * n + z * h, one op fewer
