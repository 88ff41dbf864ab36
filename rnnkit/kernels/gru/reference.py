"""The sequential part of a GRU (torch's variant) in plain torch: the fused kernels' algorithm and twin.

Shapes: gi ``(B, T, 3H)`` is the input projection for all steps with the recurrent biases that
can be folded in, ``gi = x W_ih^T + b_ih + [b_hr, b_hz, 0]``; w_hh ``(3H, H)``; b_hn ``(H,)`` or
None (it sits inside the reset gate's product, so it cannot be folded into gi); h0 ``(B, H)``
(zeros if None); lengths ``(B,)`` or None. Gate order r, z, n (torch's). Per step::

    [r_h, z_h, n_h] = h_{t-1} W_hh^T,  n_h += b_hn                         (B, 3H)
    r = sigmoid(gi_r + r_h);  z = sigmoid(gi_z + z_h);  n = tanh(gi_n + r * n_h)
    h_t = (1 - z) * n + z * h_{t-1}

With lengths, steps ``t >= lengths[b]`` hold h and output 0. ``hmask`` ``(B, H)`` (variational
recurrent dropout, fixed over time) multiplies h in the product only, ``(h * m) W_hh^T``; the
interpolation with z reads h itself (as rnnkit.cells.regularized.VariationalDropout does).
``zone`` (zoneout, not differentiated), broadcastable to ``(B, T, H)``, holds the keep-weights d
of each step and unit: a 0/1 draw of Bernoulli(p) in training, the rate p itself in eval
(rnnkit.cells.regularized.Zoneout); with h~_t the cell's new state above::

    h_t = d_t * h_{t-1} + (1 - d_t) * h~_t

Everything runs in gi's dtype (in float64 it is the oracle). Returns ``y (B, T, H)`` (y_t = h_t,
the zoned state) and ``h_n (B, H)``, the state after each sequence's last valid step.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.functional.masks import padded_step


def gru_sequence_ref(gi: Tensor, w_hh: Tensor, b_hn: Tensor | None = None, h0: Tensor | None = None,
                     lengths: Tensor | None = None, hmask: Tensor | None = None,
                     zone: Tensor | None = None) -> tuple[Tensor, Tensor]:
    B, _T, G = gi.shape
    H = G // 3
    h = gi.new_zeros(B, H) if h0 is None else h0.to(gi.dtype)
    w_t = w_hh.to(gi.dtype).t()
    d_all = None if zone is None else torch.broadcast_to(zone.detach().to(gi.dtype), (B, gi.shape[1], H))
    ys = []
    for t, gi_t in enumerate(gi.unbind(1)):
        r_i, z_i, n_i = gi_t.chunk(3, dim=-1)
        h_rec = h if hmask is None else h * hmask.to(gi.dtype)
        r_h, z_h, n_h = (h_rec @ w_t).chunk(3, dim=-1)
        if b_hn is not None:
            n_h = n_h + b_hn.to(gi.dtype)
        r = torch.sigmoid(r_i + r_h)
        z = torch.sigmoid(z_i + z_h)
        n = torch.tanh(n_i + r * n_h)
        h_new = (1 - z) * n + z * h
        if d_all is not None:  # d * old + (1 - d) * new: exactly old or new for a 0/1 draw
            d = d_all[:, t]
            h_new = d * h + (1 - d) * h_new
        (h,), out = padded_step(t, lengths, (h_new,), (h,))
        ys.append(out)
    return torch.stack(ys, dim=1), h
