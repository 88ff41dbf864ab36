"""The GRU cell's elementwise step and its gradient (torch's variant), shared by the GRU kernels.

Inlined by Triton into :mod:`.triton_split_fwd` and :mod:`.triton_split_bwd`. All in fp32.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.triton_blocks import tanh


@triton.jit
def gru_update(a_r, a_z, gi_n, n_h, h):
    """Pre-activations of r and z, the n gate's input part gi_n and hidden part n_h (W_hn h + b_hn),
    and h_{t-1} -> (r, z, n, h_t)::

        r = sigmoid(a_r);  z = sigmoid(a_z);  n = tanh(gi_n + r n_h);  h_t = (1 - z) n + z h
    """
    r = tl.sigmoid(a_r)
    z = tl.sigmoid(a_z)
    n = tanh(gi_n + r * n_h)
    return r, z, n, n + z * (h - n)


@triton.jit
def gru_update_grad(r, z, n, n_h, h_prev, dh):
    """Saved r, z, n, n_h, h_{t-1} and dL/dh_t (all of it) -> (da_r, da_z, da_n, dn_h, dh_direct)::

        da_n = dh (1 - z) (1 - n^2)            (= dL/dgi_n)
        dn_h = da_n r                          (= dL/d(W_hn h + b_hn))
        da_r = da_n n_h r (1 - r);   da_z = dh (h_{t-1} - n) z (1 - z)
        dh_direct = dh z                       (the part of dL/dh_{t-1} not through W_hh)
    """
    da_n = dh * (1.0 - z) * (1.0 - n * n)
    da_r = da_n * n_h * r * (1.0 - r)
    da_z = dh * (h_prev - n) * z * (1.0 - z)
    return da_r, da_z, da_n, da_n * r, dh * z
