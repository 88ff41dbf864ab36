"""The forecasting networks: a many-to-many sequence model and a one-to-one model, same parameters.

``ForecastNet(kind="sequence")`` is :class:`rnnkit.models.ManyToMany` over the window's R rows
(see :mod:`.windows`): ``x (B, R, D) -> params (B, R, P)``, one output distribution per row::

    h_k, s_k = RNN(x_k, s_{k-1})        params_k = W_o h_k + b_o

``ForecastNet(kind="one_to_one")`` is :class:`rnnkit.models.OneToOne`: every row alone, from a zero
state (``params_k = W_o cell(x_k, 0) + b_o``): one value in, the next value out, no memory. Both
hold the parameters under the same names (``net.rnn.*``, ``net.head.*``), so one's state_dict
loads into the other, and on a window of one row they give the same output.

Forecasting (window space, before the level and the scale are put back):

* direct decoder: one pass; the H forecast rows' distributions give the quantiles;
* autoregressive roll-out: run the L input rows, then draw S sample paths, feeding each drawn
  value back as the next row's ``target_in`` (:func:`rollout`); quantiles are taken over paths.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rnnkit.models import ManyToMany, OneToOne

from .windows import Layout

__all__ = ["ForecastNet", "forecast_quantiles", "rollout"]


class ForecastNet(nn.Module):
    """``x (B, R, D) -> params (B, R, P)``; see the module docstring."""

    def __init__(self, n_features: int, n_params: int, kind: str = "sequence", cell: str = "lstm",
                 hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.0):
        super().__init__()
        if kind not in ("sequence", "one_to_one"):
            raise ValueError(f"kind must be 'sequence' or 'one_to_one', got {kind!r}")
        self.kind = kind
        if kind == "sequence":
            self.net = ManyToMany(hidden_size, num_outputs=n_params, input_size=n_features, cell=cell,
                                  num_layers=num_layers, dropout=dropout)
        else:
            self.net = OneToOne(n_features, hidden_size, n_params, cell=cell, num_layers=num_layers,
                                dropout=dropout)

    def forward(self, x: Tensor) -> Tensor:
        if self.kind == "sequence":
            return self.net(x)
        B, R, D = x.shape
        return self.net(x.reshape(B * R, D)).reshape(B, R, -1)

    def start(self, x: Tensor):
        """Read the input rows ``x (B, L, D)``: the last row's params ``(B, P)`` and the state."""
        if self.kind == "sequence":
            y, state = self.net(x, return_state=True)
            return y[:, -1], state
        return self.net(x[:, -1]), None

    def step(self, x_t: Tensor, state):
        """One more row ``x_t (B, D)`` -> ``(params (B, P), state)``."""
        if self.kind == "sequence":
            return self.net.step(x_t, state)
        return self.net(x_t), None


def _repeat_state(state, n: int):
    if state is None:
        return None
    if isinstance(state, Tensor):  # (L * dirs, B, H): repeat each row of the batch n times
        return state.repeat_interleave(n, dim=1)
    return type(state)(_repeat_state(s, n) for s in state)


@torch.no_grad()
def rollout(net: ForecastNet, likelihood, x: Tensor, layout: Layout, samples: int) -> Tensor:
    """Sample paths ``(B, S, H)`` of an autoregressive model from inference windows ``x (B, R, D)``.

    Path j's value at horizon step h is drawn from the model's distribution given the L observed
    rows and the path's own draws at steps < h (fed back as ``target_in``). Draws use torch's global
    generator: seed it (``torch.random.fork_rng`` + ``manual_seed``) for repeatable paths.
    """
    L, H = layout.input_len, layout.horizon
    B = x.shape[0]
    params, state = net.start(x[:, :L])
    params, state = params.repeat_interleave(samples, 0), _repeat_state(state, samples)
    rows = x.repeat_interleave(samples, 0)
    draws = []
    prev = rows[:, L - 1, 0]
    for j in range(H):
        y = likelihood.sample(params)
        draws.append(y)
        if j + 1 < H:
            x_t = rows[:, L + j].clone()
            x_t[:, 0] = y  # target_in of the next row: this path's own draw
            if layout.step_col is not None:
                x_t[:, layout.step_col] = y - prev
            prev = y
            params, state = net.step(x_t, state)
    return torch.stack(draws, dim=-1).reshape(B, samples, H)


@torch.no_grad()
def forecast_quantiles(net: ForecastNet, likelihood, x: Tensor, layout: Layout, levels: Sequence[float],
                       samples: int = 200) -> Tensor:
    """Quantiles ``(B, H, len(levels))`` of the H-step forecast, in window space."""
    net.eval()
    H = layout.horizon
    if layout.autoregressive:
        paths = rollout(net, likelihood, x, layout, samples)  # (B, S, H)
        q = torch.tensor(list(levels), dtype=paths.dtype)
        return torch.quantile(paths, q, dim=1).permute(1, 2, 0)
    params = net(x)[:, -H:]
    return likelihood.quantiles(params, levels)
