"""Small Triton building blocks shared by rnnkit's recurrent kernels (inlined where called)."""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def tanh(x):
    # tanh from sigmoid: exact in the limits (tanh -> -1 as sigmoid(2x) -> 0), no overflow
    return 2.0 * tl.sigmoid(2.0 * x) - 1.0


@triton.jit
def store_gates(ptr, offsets, H, a, b, c, d, mask):
    """Store four tiles at ``offsets + g*H``, g = 0..3 (the four H-blocks of a (..., 4H) row):
    saved activations in the forwards, gate gradients in the backwards."""
    tl.store(ptr + offsets, a, mask=mask)
    tl.store(ptr + offsets + H, b, mask=mask)
    tl.store(ptr + offsets + 2 * H, c, mask=mask)
    tl.store(ptr + offsets + 3 * H, d, mask=mask)


@triton.jit
def load_gates(ptr, offsets, H, mask):
    """The four tiles at ``offsets + g*H`` in fp32 (the twin of ``store_gates``)."""
    a = tl.load(ptr + offsets, mask=mask, other=0.0).to(tl.float32)
    b = tl.load(ptr + offsets + H, mask=mask, other=0.0).to(tl.float32)
    c = tl.load(ptr + offsets + 2 * H, mask=mask, other=0.0).to(tl.float32)
    d = tl.load(ptr + offsets + 3 * H, mask=mask, other=0.0).to(tl.float32)
    return a, b, c, d


@triton.jit
def zero_invalid(valid, a, b, c, d):
    """Gate gradients of padded steps are 0."""
    return tl.where(valid, a, 0.0), tl.where(valid, b, 0.0), tl.where(valid, c, 0.0), tl.where(valid, d, 0.0)
