"""``TritonScan``: the linear recurrence ``h_t = a_t * h_{t-1} + b_t`` on the Triton kernels of
:mod:`.triton_fwd` and :mod:`.triton_bwd`, as an autograd.Function.

Shapes: a, b ``(B, T, D)`` of one dtype (fp16, bf16 or fp32; the state is carried in fp32);
h0 ``(B, D)`` or None (zeros); lengths ``(B,)`` integers or None. Returns ``(h, h_last)``:
h ``(B, T, D)`` in the input dtype (zero at padded steps) and h_last ``(B, D)``, the state after
each sequence's last valid step. Runs on CUDA, or on CPU tensors under ``TRITON_INTERPRET=1``
(the Triton interpreter; slow, for tests). No input checks here: see
:func:`rnnkit.kernels.scan.dispatch.scan`.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.kernels.scan.triton_bwd import _scan_bwd_kernel
from rnnkit.kernels.scan.triton_fwd import _scan_fwd_kernel

# channels per program: 256 fp32 registers per thread block of 4 warps keeps loads coalesced.
# Untuned (no GPU was lent when this was written).
BLOCK = 256


# Tests set this: every output buffer starts as NaN, so an element the kernel fails to write fails
# the parity check instead of passing by luck with whatever memory held.
POISON = False


def _new(shape, like: Tensor) -> Tensor:
    if POISON:
        return torch.full(shape, float("nan"), dtype=like.dtype, device=like.device)
    return torch.empty(shape, dtype=like.dtype, device=like.device)


def interpreter_on() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def check_device(t: Tensor) -> None:
    """Raise unless the kernels can run on t's device."""
    if t.device.type != "cuda" and not interpreter_on():
        raise RuntimeError(
            f"the Triton scan runs on CUDA tensors (or on CPU with TRITON_INTERPRET=1 set before "
            f"triton is imported), got a tensor on {t.device}; use backend='chunked' on CPU")


def _acc(dtype: torch.dtype):
    """Accumulation dtype: fp32 for fp16/bf16/fp32 inputs, fp64 for fp64 (gradcheck)."""
    return tl.float64 if dtype == torch.float64 else tl.float32


def _grid(BD: int):
    return (triton.cdiv(BD, BLOCK),)


class TritonScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor | None, lengths: Tensor | None):
        a, b = a.contiguous(), b.contiguous()
        B, T, D = a.shape
        h = _new(b.shape, b)
        h_last = _new((B, D), b)
        h0c = h0.contiguous() if h0 is not None else None
        lens = lengths.to(device=a.device, dtype=torch.int32).contiguous() if lengths is not None else None
        _scan_fwd_kernel[_grid(B * D)](a, b, h0c if h0c is not None else a, lens if lens is not None else a,
                                       h, h_last, T, D, B * D, HAS_H0=h0c is not None,
                                       HAS_LEN=lens is not None, BLOCK=BLOCK, ACC=_acc(a.dtype))
        ctx.save_for_backward(a, h, h0c, lens)
        return h, h_last

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_h: Tensor | None, grad_last: Tensor | None):
        a, h, h0, lens = ctx.saved_tensors
        B, T, D = a.shape
        dy = grad_h.contiguous() if grad_h is not None else torch.zeros_like(h)
        da = _new(a.shape, a)
        db = _new(a.shape, a)
        dh0 = _new(h0.shape, h0) if h0 is not None else None
        dl = grad_last.contiguous() if grad_last is not None else None
        _scan_bwd_kernel[_grid(B * D)](a, h, h0 if h0 is not None else a, lens if lens is not None else a,
                                       dy, dl if dl is not None else a, da, db,
                                       dh0 if dh0 is not None else a, T, D, B * D,
                                       HAS_H0=h0 is not None, HAS_LEN=lens is not None,
                                       HAS_DHLAST=dl is not None, BLOCK=BLOCK, ACC=_acc(a.dtype))
        return (da if ctx.needs_input_grad[0] else None, db if ctx.needs_input_grad[1] else None,
                dh0 if h0 is not None and ctx.needs_input_grad[2] else None, None)


def triton_scan(a: Tensor, b: Tensor, h0: Tensor | None = None,
                lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """``(h, h_last)`` of ``h_t = a_t h_{t-1} + b_t`` on the Triton kernels (see module doc)."""
    check_device(a)
    if a.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise ValueError(f"the Triton scan takes fp16, bf16, fp32 (or fp64, for gradcheck), got {a.dtype}")
    return TritonScan.apply(a, b, h0, lengths)
