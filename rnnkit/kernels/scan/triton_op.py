"""``TritonScan``: the linear recurrence ``h_t = a_t * h_{t-1} + b_t`` on the Triton kernels of
:mod:`.triton_fwd` and :mod:`.triton_bwd` (and, with ``carry="fused"``, the two-pass kernels of
:mod:`.triton_twopass`), as an autograd.Function.

Shapes: a, b ``(B, T, D)`` of one dtype (fp16, bf16 or fp32; the state is carried in fp32);
h0 ``(B, D)`` or None (zeros); lengths ``(B,)`` integers or None. Returns ``(h, h_last)``:
h ``(B, T, D)`` in the input dtype (zero at padded steps) and h_last ``(B, D)``, the state after
each sequence's last valid step. Runs on CUDA, or on CPU tensors under ``TRITON_INTERPRET=1``
(the Triton interpreter; slow, for tests). No input checks here: see
:func:`rnnkit.kernels.scan.scan`.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnkit.kernels.scan.triton_bwd import (
    _scan_bwd_apply_kernel,
    _scan_bwd_kernel,
    _scan_bwd_local_kernel,
)
from rnnkit.kernels.scan.triton_fwd import (
    _scan_carry_kernel,
    _scan_fwd_apply_kernel,
    _scan_fwd_kernel,
    _scan_fwd_local_kernel,
)
from rnnkit.kernels.scan.triton_twopass import CHUNK as TWO_PASS_CHUNK
from rnnkit.kernels.scan.triton_twopass import two_pass_backward, two_pass_forward

# channels per program: 256 fp32 registers per thread block of 4 warps keeps loads coalesced.
# Untuned (no GPU was lent when this was written).
BLOCK = 256
# Chunked path (long T, few channels): chunks of CHUNK steps when the plain walk would launch fewer
# than MIN_PROGRAMS programs. Both untuned guesses (about two waves of an H100's 132 SMs).
CHUNK = 64
MIN_PROGRAMS = 264
# How the chunked path carries state across chunks: "kernel" (three passes: local scans, a carry
# kernel, the write; what scan(backend="triton") and auto run) or "fused" (two passes, the carry
# inside the first by look-back: triton_twopass.py; opt-in until timed on a GPU).
CARRIES = ("kernel", "fused")
DEFAULT_CARRY = "kernel"


def pick_chunk(B: int, T: int, D: int) -> int | None:
    """Chunk length for the chunked kernels, or None for the plain sequential walk."""
    if triton.cdiv(B * D, BLOCK) >= MIN_PROGRAMS or T <= 2 * CHUNK:
        return None
    return CHUNK


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
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor | None, lengths: Tensor | None,
                chunk: int | None = None, carry: str = "kernel"):
        a, b = a.contiguous(), b.contiguous()
        B, T, D = a.shape
        h = _new(b.shape, b)
        h_last = _new((B, D), b)
        h0c = h0.contiguous() if h0 is not None else None
        lens = lengths.to(device=a.device, dtype=torch.int32).contiguous() if lengths is not None else None
        acc = _acc(a.dtype)
        lens_arg = lens if lens is not None else a
        if chunk is None or (chunk >= T and carry != "fused"):  # fused: one chunk is two passes too
            _scan_fwd_kernel[_grid(B * D)](a, b, h0c if h0c is not None else a, lens_arg,
                                           h, h_last, T, D, B * D, HAS_H0=h0c is not None,
                                           HAS_LEN=lens is not None, BLOCK=BLOCK, ACC=acc)
        elif carry == "fused":
            E = two_pass_forward(a, b, h0c, lens, h, chunk, acc, _new)
            h_last.copy_(E[-1])
        else:
            n = triton.cdiv(T, chunk)
            grid2 = (triton.cdiv(B * D, BLOCK), n)
            f = torch.float64 if a.dtype == torch.float64 else torch.float32
            E, P, cin = (_new((n, B, D), torch.empty((), dtype=f, device=a.device)) for _ in range(3))
            last = _new((B, D), torch.empty((), dtype=f, device=a.device))
            _scan_fwd_local_kernel[grid2](a, b, lens_arg, E, P, T, D, B * D, chunk,
                                          HAS_LEN=lens is not None, BLOCK=BLOCK, ACC=acc)
            _scan_carry_kernel[_grid(B * D)](E, P, h0c if h0c is not None else E, cin, last, n, B * D,
                                             HAS_INIT=h0c is not None, REVERSE=False, BLOCK=BLOCK, ACC=acc)
            _scan_fwd_apply_kernel[grid2](a, b, lens_arg, cin, h, T, D, B * D, chunk,
                                          HAS_LEN=lens is not None, BLOCK=BLOCK, ACC=acc)
            h_last.copy_(last)
        ctx.save_for_backward(a, h, h0c, lens)
        ctx.chunk, ctx.carry = chunk, carry
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
        acc, chunk = _acc(a.dtype), ctx.chunk
        lens_arg = lens if lens is not None else a
        if chunk is None or (chunk >= T and ctx.carry != "fused"):
            _scan_bwd_kernel[_grid(B * D)](a, h, h0 if h0 is not None else a, lens_arg,
                                           dy, dl if dl is not None else a, da, db,
                                           dh0 if dh0 is not None else a, T, D, B * D,
                                           HAS_H0=h0 is not None, HAS_LEN=lens is not None,
                                           HAS_DHLAST=dl is not None, BLOCK=BLOCK, ACC=acc)
        elif ctx.carry == "fused":
            E = two_pass_backward(a, h, h0, lens, dy, dl, da, db, chunk, acc, _new)
            if dh0 is not None:  # dL/dh0 = a_0 g_0 (step 0 is never padded)
                dh0.copy_(a[:, 0].to(E.dtype) * E[0])
        else:
            n = triton.cdiv(T, chunk)
            grid2 = (triton.cdiv(B * D, BLOCK), n)
            f = torch.float64 if a.dtype == torch.float64 else torch.float32
            E, P, cin = (_new((n, B, D), torch.empty((), dtype=f, device=a.device)) for _ in range(3))
            g0 = _new((B, D), torch.empty((), dtype=f, device=a.device))
            _scan_bwd_local_kernel[grid2](a, dy, lens_arg, E, P, T, D, B * D, chunk,
                                          HAS_LEN=lens is not None, BLOCK=BLOCK, ACC=acc)
            _scan_carry_kernel[_grid(B * D)](E, P, dl if dl is not None else E, cin, g0, n, B * D,
                                             HAS_INIT=dl is not None, REVERSE=True, BLOCK=BLOCK, ACC=acc)
            _scan_bwd_apply_kernel[grid2](a, h, h0 if h0 is not None else a, lens_arg, dy, cin, da, db,
                                          T, D, B * D, chunk, HAS_H0=h0 is not None,
                                          HAS_LEN=lens is not None, BLOCK=BLOCK, ACC=acc)
            if dh0 is not None:  # dL/dh0 = a_0 g_0 (step 0 is never padded)
                dh0.copy_(a[:, 0].to(f) * g0)
        return (da if ctx.needs_input_grad[0] else None, db if ctx.needs_input_grad[1] else None,
                dh0 if h0 is not None and ctx.needs_input_grad[2] else None, None, None, None)


def triton_scan(a: Tensor, b: Tensor, h0: Tensor | None = None, lengths: Tensor | None = None,
                chunk: int | str | None = "auto", carry: str | None = None) -> tuple[Tensor, Tensor]:
    """``(h, h_last)`` of ``h_t = a_t h_{t-1} + b_t`` on the Triton kernels (see module doc).

    ``chunk``: ``"auto"`` (:func:`pick_chunk`), None (one sequential walk over T per channel) or
    a chunk length (the chunked kernels: T split into chunks scanned in parallel, then carried).
    ``carry`` (chunked path only): ``"kernel"``, three passes (local scans, a carry kernel, the
    write), or ``"fused"``, two passes (the carry fused into the first by look-back,
    :mod:`.triton_twopass`; its chunk must be a power of two, ``"auto"`` gives its own 64);
    None: :data:`DEFAULT_CARRY` (``"kernel"``: the fused carry is opt-in until timed on a GPU).
    """
    check_device(a)
    if a.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise ValueError(f"the Triton scan takes fp16, bf16, fp32 (or fp64, for gradcheck), got {a.dtype}")
    carry = DEFAULT_CARRY if carry is None else carry
    if carry not in CARRIES:
        raise ValueError(f"carry must be one of {CARRIES} or None, got {carry!r}")
    if chunk == "auto":
        chunk = pick_chunk(*a.shape)
        if chunk is not None and carry == "fused":
            chunk = TWO_PASS_CHUNK
    elif chunk is not None and (not isinstance(chunk, int) or chunk < 1):
        raise ValueError(f"chunk must be 'auto', None or a positive int, got {chunk!r}")
    elif chunk is not None and carry == "fused" and chunk & (chunk - 1):
        raise ValueError(f"carry='fused' needs a power-of-two chunk (a tile dimension), got {chunk}")
    return TritonScan.apply(a, b, h0, lengths, chunk, carry)
