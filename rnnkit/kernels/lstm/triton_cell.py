"""The LSTM cell's elementwise step and its gradient, shared by every Triton LSTM kernel
(the generic gate loads/stores are in :mod:`rnnkit.kernels.triton_blocks`).

Inlined by Triton into the split and rows forwards and the split backward, whose difference is
where W_hh lives and how h travels; the per-unit math of a step is here once. All in fp32.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.triton_blocks import tanh


@triton.jit
def lstm_update(a_i, a_f, a_g, a_o, c):
    """Pre-activations and c_{t-1} -> (i, f, g, o, c_t, h_t)::

        i, f, o = sigmoid(a_i, a_f, a_o);  g = tanh(a_g);  c_t = f c + i g;  h_t = o tanh(c_t)
    """
    s_i = tl.sigmoid(a_i)
    s_f = tl.sigmoid(a_f)
    t_g = tanh(a_g)
    s_o = tl.sigmoid(a_o)
    c_new = s_f * c + s_i * t_g
    return s_i, s_f, t_g, s_o, c_new, s_o * tanh(c_new)


@triton.jit
def lstm_update_grad(i, f, g, o, c_t, c_p, dh_t, dc):
    """Saved activations, c_t, c_{t-1}, dL/dh_t (all of it) and the cell carry dL/dc_t from
    step t+1 -> (da_i, da_f, da_g, da_o, dc~), the gate pre-activation gradients and the full
    dL/dc_t (the carry to step t-1 is dc~ * f)::

        dc~ = dc + dh_t o (1 - tanh(c_t)^2);    da_o = dh_t tanh(c_t) o (1 - o)
        da_i = dc~ g i (1 - i);  da_g = dc~ i (1 - g^2);  da_f = dc~ c_{t-1} f (1 - f)
    """
    tc = tanh(c_t)
    d_o = dh_t * tc * o * (1.0 - o)
    dc_t = dc + dh_t * o * (1.0 - tc * tc)
    d_i = dc_t * g * i * (1.0 - i)
    d_g = dc_t * i * (1.0 - g * g)
    d_f = dc_t * c_p * f * (1.0 - f)
    return d_i, d_f, d_g, d_o, dc_t



@triton.jit
def hold_padded(valid, h_new, c_new, h, c):
    """Lengths: where ``valid`` the new state, else the held one; the output is 0 where not
    valid. Returns (h, c, out)."""
    h = tl.where(valid, h_new, h)
    c = tl.where(valid, c_new, c)
    return h, c, tl.where(valid, h, 0.0)
