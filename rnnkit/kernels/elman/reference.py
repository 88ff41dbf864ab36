"""The sequential part of an Elman RNN in plain torch: the fused kernels' algorithm and twin.

Shapes: gi ``(B, T, H)`` is the input projection for all steps with both biases folded in,
``gi = x W_ih^T + b_ih + b_hh`` (the recurrent bias is added outside the nonlinearity, so it folds);
w_hh ``(H, H)``; h0 ``(B, H)`` (zeros if None); lengths ``(B,)`` or None. Per step::

    h_t = act(gi_t + h_{t-1} W_hh^T),      act = tanh or relu                     (B, H)

With lengths, steps ``t >= lengths[b]`` hold h and output 0. ``hmask`` ``(B, H)`` (variational
recurrent dropout, fixed over time) multiplies h where it enters the product, ``(h * m) W_hh^T``,
as rnnkit.cells.regularized.VariationalDropout does for an RNNCell. ``zone`` (zoneout, not
differentiated), broadcastable to ``(B, T, H)``, holds the keep-weights d of each step and unit:
a 0/1 draw of Bernoulli(p) in training, the rate p itself in eval (rnnkit.cells.regularized.Zoneout)::

    h~_t = act(gi_t + (h_{t-1} * m) W_hh^T),    h_t = d_t * h_{t-1} + (1 - d_t) * h~_t

Everything runs in gi's dtype (in float64 it is the oracle). Returns ``y (B, T, H)`` (y_t = h_t,
the zoned state) and ``h_n (B, H)``, the state after each sequence's last valid step.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.functional.masks import padded_step

NONLINEARITIES = ("tanh", "relu")


def elman_sequence_ref(gi: Tensor, w_hh: Tensor, h0: Tensor | None = None, lengths: Tensor | None = None,
                       hmask: Tensor | None = None, nonlinearity: str = "tanh",
                       zone: Tensor | None = None) -> tuple[Tensor, Tensor]:
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
    act = torch.tanh if nonlinearity == "tanh" else torch.relu
    B, _T, H = gi.shape
    h = gi.new_zeros(B, H) if h0 is None else h0.to(gi.dtype)
    w_t = w_hh.to(gi.dtype).t()
    d_all = None if zone is None else torch.broadcast_to(zone.detach().to(gi.dtype), gi.shape)
    ys = []
    for t, gi_t in enumerate(gi.unbind(1)):
        h_rec = h if hmask is None else h * hmask.to(gi.dtype)
        h_new = act(gi_t + h_rec @ w_t)
        if d_all is not None:  # d * old + (1 - d) * new: exactly old or new for a 0/1 draw
            d = d_all[:, t]
            h_new = d * h + (1 - d) * h_new
        (h,), out = padded_step(t, lengths, (h_new,), (h,))
        ys.append(out)
    return torch.stack(ys, dim=1), h
