"""The sequential part of an LSTM in plain torch: the algorithm of the fused kernel, and its twin.

Shapes: gi ``(B, T, 4H)`` is the input projection for all steps, computed outside in one matrix
product, ``gi = x W_ih^T + b_ih + b_hh``; w_hh ``(4H, H)``; h0, c0 ``(B, H)`` (zeros if None);
lengths ``(B,)`` or None. Gate order i, f, g, o (torch's). Per step::

    [i, f, g, o] = gi_t + h_{t-1} W_hh^T          (B, 4H)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
    h_t = sigmoid(o) * tanh(c_t)

With lengths, steps ``t >= lengths[b]`` hold (h, c) and output 0. ``hmask`` ``(B, H)`` (variational
recurrent dropout, fixed over time) multiplies h where it enters the product: ``(h * m) W_hh^T``.
``zone`` (zoneout, not differentiated) is None or ``(zone_h, zone_c)``, each None (that tensor is
not zoned) or broadcastable to ``(B, T, H)``: the keep-weights d of each step and unit, a 0/1 draw
of Bernoulli(p) in training, the rate p itself in eval (rnnkit.cells.regularized.Zoneout). The
cell computes c~_t and h~_t = sigmoid(o) * tanh(c~_t) from the previous (zoned) state, then::

    c_t = d^c_t * c_{t-1} + (1 - d^c_t) * c~_t,    h_t = d^h_t * h_{t-1} + (1 - d^h_t) * h~_t

Everything runs in gi's dtype
(a plain eager loop: the reference run in the same dtype, whose error against the float64
oracle bounds a low-precision kernel's, which may be at most about twice as large); in float64 it
is the oracle. Returns ``y (B, T, H)`` and ``(h_n, c_n)``, each ``(B, H)``, the state after each
sequence's last valid step.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.functional.masks import padded_step


def lstm_sequence_ref(gi: Tensor, w_hh: Tensor, h0: Tensor | None = None, c0: Tensor | None = None,
                      lengths: Tensor | None = None, hmask: Tensor | None = None,
                      zone: tuple[Tensor | None, Tensor | None] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    B, _T, G = gi.shape
    H = G // 4
    h = gi.new_zeros(B, H) if h0 is None else h0.to(gi.dtype)
    c = gi.new_zeros(B, H) if c0 is None else c0.to(gi.dtype)
    w_t = w_hh.to(gi.dtype).t()
    d_h, d_c = (None if z is None else torch.broadcast_to(z.detach().to(gi.dtype), (B, gi.shape[1], H))
                for z in (zone or (None, None)))
    ys = []
    for t, gi_t in enumerate(gi.unbind(1)):
        h_rec = h if hmask is None else h * hmask.to(gi.dtype)
        i, f, g, o = (gi_t + h_rec @ w_t).chunk(4, dim=-1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        # d * old + (1 - d) * new: exactly old or new for a 0/1 draw
        if d_h is not None:
            h_new = d_h[:, t] * h + (1 - d_h[:, t]) * h_new
        if d_c is not None:
            c_new = d_c[:, t] * c + (1 - d_c[:, t]) * c_new
        (h, c), out = padded_step(t, lengths, (h_new, c_new), (h, c))
        ys.append(out)
    return torch.stack(ys, dim=1), (h, c)
