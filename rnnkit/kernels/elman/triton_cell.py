"""The Elman cell's nonlinearity and its gradient, shared by the Elman kernels (inlined; fp32)."""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.triton_blocks import tanh


@triton.jit
def elman_act(a, RELU: tl.constexpr):
    """h_t = tanh(a) or relu(a) of the pre-activation ``a = gi_t + h_{t-1} W_hh^T``."""
    if RELU:
        return tl.maximum(a, 0.0)
    return tanh(a)


@triton.jit
def elman_act_grad(h, dh, RELU: tl.constexpr):
    """dL/da from h_t = act(a) and dL/dh_t: ``dh (1 - h^2)`` for tanh, ``dh [h > 0]`` for relu (0 at
    a = 0, as torch's relu)."""
    if RELU:
        return tl.where(h > 0.0, dh, 0.0)
    return dh * (1.0 - h * h)
