"""Host side of rnnkit's persistent split kernels (LSTM, GRU): what fits, and how to launch.

A split kernel gives program ``(p, q)`` hidden units ``J_p`` (all gates of them) of batch block q
and keeps that slice of W_hh on chip for all T steps; the programs exchange the state through
global memory and meet at a grid barrier (rnnkit/kernels/grid_sync.py) every step. On CUDA one
cooperative launch walks all T steps; under the Triton interpreter (CPU tests), which runs
programs in turn, the same kernel is launched once per step with the barrier compiled out.

``plan`` says whether a shape fits (shared memory per program, every program resident at once)
and gives the launch configuration; ``launch`` runs it either way.

The recurrent products' input precision (``DOT_PREC`` of the configuration, ``dot_precision``):
fp32 products are exact fp32 (``"ieee"``, no tensor cores) unless the user allows TF32 for fp32
matmuls in torch (``torch.backends.cuda.matmul.allow_tf32 = True``, or
``torch.set_float32_matmul_precision("high")``; off by default), then ``"tf32"`` (tensor cores,
inputs rounded to 10 mantissa bits), as torch's own fp32 matmuls do. The switch is read each time
a configuration is planned (every forward; the backward keeps its forward's choice), not at import.
fp16/bf16 products take their inputs' own precision either way.
"""

from __future__ import annotations

import functools

import torch
import triton

# per program; on an H200 (LSTM B=8, H=256, bf16) 8 warps were 3-6% slower forward than 4 and 10-18% slower
# forward+backward (docs/kernels.md)
NUM_WARPS = 4
# Shared memory one program needs, in elements (measured for the LSTM, G = 4 gates: Triton's figure
# matched these exactly on an H200): the forward holds its weight slice, G x BLOCK_K x BLOCK_J,
# and one h tile, BLOCK_B x BLOCK_K; the split backward the same slice and G gate-gradient tiles,
# G x BLOCK_B x BLOCK_K. The rows backward (kind "rows", training; not yet compiled on a GPU) reads
# its gradient tiles one at a time: the slice, one tile and, as a margin, one fp32 BLOCK_J x BLOCK_B
# tile for the layout change of the product's result (shared_bytes).
SHARED_BYTES = 224 * 1024  # an H100/H200 offers 227 KiB per block
MAX_BLOCK_B = 64
# units per program of the rows backward, largest first: BLOCK_J is the M of its product (the weight
# slice is the left operand), and a Hopper warp-group MMA takes M = 64; at H = 768/1024 only 16 fits
# (64 units' slice, 4H x 64, would be 384/512 KiB in bf16). Untimed: a GPU timing may prefer 16 (more
# programs) at small H.
ROWS_BWD_BLOCK_J = (64, 32, 16)


POISON = False  # tests: the kernels' outputs start as NaN, so an element no program wrote fails


def new_output(shape, dtype, device) -> torch.Tensor:
    """An output buffer of a persistent kernel: uninitialised, or all NaN under ``POISON``."""
    if POISON:
        return torch.full(shape, float("nan"), dtype=dtype, device=device)
    return torch.empty(shape, dtype=dtype, device=device)


def check_sequence_inputs(gi: torch.Tensor, w_hh: torch.Tensor, gates: int, cell: str,
                          states: dict) -> tuple[int, int, int]:
    """``(B, T, H)`` of a fused cell's sequential part, or a one-line error: gi ``(B, T, gates*H)``
    in fp16/bf16/fp32, w_hh ``(gates*H, H)``, each named state of ``states`` (None or ``(B, H)``),
    no empty batch or time. ``cell`` names the cell in the dtype error ("GRU")."""
    what = f"{gates}*hidden" if gates > 1 else "hidden"
    if gi.dim() != 3 or gi.shape[-1] % gates:
        raise ValueError(f"gi must have shape (batch, time, {what}), got {tuple(gi.shape)}")
    B, T, G = gi.shape
    H = G // gates
    if tuple(w_hh.shape) != (G, H):
        rows = f"{gates}H" if gates > 1 else "H"
        raise ValueError(f"w_hh must have shape ({rows}, H) = {(G, H)}, got {tuple(w_hh.shape)}")
    if gi.dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise ValueError(f"the fused {cell} takes fp16, bf16 or fp32, got {gi.dtype}")
    if T == 0 or B == 0:
        raise ValueError(f"empty input of shape {tuple(gi.shape)}")
    for name, state in states.items():
        if state is not None and tuple(state.shape) != (B, H):
            raise ValueError(f"{name} must have shape (batch, hidden) = {(B, H)}, got {tuple(state.shape)}")
    return B, T, H


def zone_weights(zone: torch.Tensor | None, shape: tuple[int, int, int], name: str = "zone") -> torch.Tensor | None:
    """Zoneout keep-weights as every family's kernels read them: ``(B, T, H)`` fp32, contiguous (a
    scalar p broadcast in eval is materialised: the kernels index every step and unit alike); None
    stays None."""
    if zone is None:
        return None
    try:
        return torch.broadcast_to(zone.detach(), shape).float().contiguous()
    except RuntimeError:
        raise ValueError(f"{name} must broadcast to (batch, time, hidden) = {shape}, "
                         f"got {tuple(zone.shape)}") from None


def tf32_allowed() -> bool:
    """Whether torch allows TF32 for fp32 matmuls now. torch >= 2.9 reports every way of allowing
    it (``allow_tf32``, ``set_float32_matmul_precision``, ``fp32_precision``) in
    ``torch.backends.cuda.matmul.fp32_precision``, whose reading never raises; reading
    ``allow_tf32`` there raises when the old and new switches were mixed. Older torch: ``allow_tf32``."""
    matmul = torch.backends.cuda.matmul
    precision = getattr(matmul, "fp32_precision", None)
    if precision is not None:
        return precision == "tf32"
    return bool(matmul.allow_tf32)


def dot_precision(dtype: torch.dtype) -> str:
    """``input_precision`` of the kernels' ``tl.dot`` for inputs of ``dtype``: fp32 exact
    (``"ieee"``) unless torch allows TF32 now (``"tf32"``); fp16/bf16 ``"tf32"``, which Triton
    ignores for them (the product takes the inputs' own precision)."""
    if dtype != torch.float32:
        return "tf32"
    return "tf32" if tf32_allowed() else "ieee"


def shared_bytes(block_b: int, block_j: int, block_k: int, itemsize: int, training: bool, gates: int = 4,
                 kind: str = "split") -> int:
    """Bytes of shared memory one program of a persistent kernel needs (the header's model)::

        forward (either layout)   (G*J + BB) * K * s
        split backward            (G*J + G*BB) * K * s          G gradient tiles at once
        rows backward             (G*J + BB) * K * s + J*BB*4   one gradient tile at a time

    with J = BLOCK_J, BB = BLOCK_B, K = BLOCK_K, s = itemsize and G = ``gates``."""
    if training and kind == "rows":
        return (gates * block_j + block_b) * block_k * itemsize + block_j * block_b * 4
    tiles = gates * block_b if training else block_b
    return (gates * block_j + tiles) * block_k * itemsize


def sm_count(device: torch.device) -> int | None:
    if device.type != "cuda":
        return None  # interpreter: programs run in turn, no residency limit
    return _cuda_sm_count(device.index if device.index is not None else torch.cuda.current_device())


@functools.lru_cache(maxsize=None)
def _cuda_sm_count(index: int) -> int:  # asked on every forward of a fused layer: ask the driver once
    return torch.cuda.get_device_properties(index).multi_processor_count


def plan(B: int, H: int, dtype: torch.dtype, device: torch.device, training: bool = True,
         kind: str = "split", one_program: bool = False, gates: int = 4) -> dict | str:
    """The launch configuration of one kernel, or a sentence saying why this shape does not fit.

    ``training=True`` sizes a backward kernel, ``False`` a forward one; ``gates`` per hidden unit
    (4 LSTM, 3 GRU); ``kind`` the kernel's layout, ``"split"`` or ``"rows"``. A rows forward (the
    LSTM's :mod:`rnnkit.kernels.lstm.triton_rows_fwd`) stacks its gates in a tile of 4*BLOCK_J rows:
    BLOCK_J = 16 gives the 64 rows of one warp-group MMA. A rows backward
    (:mod:`rnnkit.kernels.lstm.triton_rows_bwd`, ``training=True, kind="rows"``) holds one gradient
    tile at a time, and its product's M is BLOCK_J: the largest of ``ROWS_BWD_BLOCK_J`` that fits.
    A split backward holds a gradient tile per gate.
    BLOCK_J (hidden units per program) is otherwise 32 where it fits (faster on an H200 at
    H = 256: fewer programs meet at each barrier), else 16, the least tl.dot takes;
    ``one_program=True`` gives one program all H units (the "single" layout: no exchange between
    programs, all of W_hh in one program, so only small H fits). BLOCK_B grows from 16 until every
    program can be resident at once (the barrier needs it). ``DOT_PREC``: :func:`dot_precision`,
    read now (torch's TF32 switch for fp32)."""
    block_k = max(16, triton.next_power_of_2(H))
    itemsize = torch.empty((), dtype=dtype).element_size()
    sms = sm_count(device)
    if one_program:
        candidates = (block_k,)
    elif kind == "rows":
        candidates = ROWS_BWD_BLOCK_J if training else (16,)
    else:
        candidates = (32, 16)
    for block_j in candidates:
        if block_j > block_k:  # the last candidate, 16, never is (BLOCK_K >= 16)
            continue
        n_j = triton.cdiv(H, block_j)
        block_b = 16
        while sms is not None and n_j * triton.cdiv(B, block_b) > sms and block_b < MAX_BLOCK_B:
            block_b *= 2
        if shared_bytes(block_b, block_j, block_k, itemsize, training, gates, kind) <= SHARED_BYTES:
            break
    need = shared_bytes(block_b, block_j, block_k, itemsize, training, gates, kind)
    if need > SHARED_BYTES:
        what = "training" if training else "inference"
        hint = ("all of W_hh in one program fits only small H" if one_program else
                "a smaller hidden size or batch, fp16/bf16 instead of fp32, or inference instead of "
                "training fits; docs/kernels.md lists the limits")
        return (f"hidden_size {H}, batch {B} in {dtype} ({what}) needs {need // 1024} KiB of shared memory per "
                f"program (limit {SHARED_BYTES // 1024} KiB); {hint}")
    if sms is not None and n_j * triton.cdiv(B, block_b) > sms:
        return (f"batch {B} x hidden {H} needs {n_j * triton.cdiv(B, block_b)} resident programs, "
                f"the card has {sms} multiprocessors")
    return {"kind": kind, "BLOCK_B": block_b, "BLOCK_J": block_j, "BLOCK_K": block_k,
            "grid": (n_j, triton.cdiv(B, block_b)), "shared_bytes": need,
            "DOT_PREC": dot_precision(dtype)}


def launch(kernel, grid, args, cfg, device, steps: int, begin_end_index: int, **constexprs):
    """One cooperative launch over all steps (CUDA) or one launch per step (interpreter). Returns
    what the launch returns on CUDA, Triton's compiled kernel (``.metadata.shared``: its shared
    memory in bytes, to hold against ``cfg["shared_bytes"]``); None under the interpreter."""
    meta = {k: cfg[k] for k in ("BLOCK_B", "BLOCK_J", "BLOCK_K", "DOT_PREC")}
    if device.type == "cuda":
        args = list(args)
        args[begin_end_index:begin_end_index + 2] = [0, steps]
        return kernel[grid](*args, SYNC=True, **constexprs, **meta, num_warps=NUM_WARPS, num_stages=1,
                            launch_cooperative_grid=True)
    for s in range(steps):
        args = list(args)
        args[begin_end_index:begin_end_index + 2] = [s, s + 1]
        kernel[grid](*args, SYNC=False, **constexprs, **meta)
