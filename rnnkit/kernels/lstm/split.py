"""Host side of the split LSTM kernels (:mod:`.triton_split_fwd`, :mod:`.triton_split_bwd`).

On CUDA one cooperative launch walks all T steps, the programs meeting at a grid barrier each
step; under the Triton interpreter (CPU tests), which runs programs in turn, the same kernels are
launched once per step with the barrier compiled out, the state passing through global memory.

Limits, from what one program must hold in shared memory (``shared_bytes``) and from the barrier
(every program resident at once): ``split_config`` says whether a shape fits, and why not.
"""

from __future__ import annotations

import torch
import triton
from torch import Tensor

from rnnkit.kernels.lstm.triton_split_bwd import _lstm_split_bwd_kernel
from rnnkit.kernels.lstm.triton_rows_fwd import _lstm_rows_fwd_kernel
from rnnkit.kernels.lstm.triton_split_fwd import _lstm_split_fwd_kernel

FORWARD_KERNELS = {"split": _lstm_split_fwd_kernel, "rows": _lstm_rows_fwd_kernel}

NUM_WARPS = 4  # per program; benchmarks/gpu_split_sweep.py compares other values
# Shared memory one program needs, in elements (measured: Triton's figure matched these exactly on
# an H200): the forward holds its weight slice, 4 x BLOCK_K x BLOCK_J, and one h tile, BLOCK_B x
# BLOCK_K; the backward the same slice and four gate-gradient tiles, 4 x BLOCK_B x BLOCK_K.
SHARED_BYTES = 224 * 1024  # an H100/H200 offers 227 KiB per block
MAX_BLOCK_B = 64


def shared_bytes(block_b: int, block_j: int, block_k: int, itemsize: int, training: bool) -> int:
    tiles = 4 * block_b if training else block_b
    return (4 * block_j + tiles) * block_k * itemsize


def _sm_count(device: torch.device) -> int | None:
    if device.type != "cuda":
        return None  # interpreter: programs run in turn, no residency limit
    return torch.cuda.get_device_properties(device).multi_processor_count


def split_config(B: int, H: int, dtype: torch.dtype, device: torch.device, training: bool = True,
                 kind: str = "split", one_program: bool = False) -> dict | str:
    """The launch configuration of one kernel, or a sentence saying why this shape does not fit.

    ``training=True`` sizes the backward kernel (four gradient tiles), ``False`` a forward one;
    ``kind`` is the forward's layout, ``"split"`` or ``"rows"`` (:mod:`.triton_rows_fwd`, whose
    stacked tile has 4*BLOCK_J rows: BLOCK_J = 16 gives the 64 rows of one warp-group MMA).
    BLOCK_J (hidden units per program) is otherwise 32 where it fits (faster on an H200 at
    H = 256: fewer programs meet at each barrier), else 16, the least tl.dot takes;
    ``one_program=True`` gives one program all H units (the "single" layout: no exchange between
    programs, all of W_hh in one program, so only small H fits). BLOCK_B grows from 16 until every
    program can be resident at once (the barrier needs it)."""
    block_k = max(16, triton.next_power_of_2(H))
    itemsize = torch.empty((), dtype=dtype).element_size()
    sms = _sm_count(device)
    for block_j in ((block_k,) if one_program else (16,) if kind == "rows" else (32, 16)):
        if block_j > block_k:
            continue
        n_j = triton.cdiv(H, block_j)
        block_b = 16
        while sms is not None and n_j * triton.cdiv(B, block_b) > sms and block_b < MAX_BLOCK_B:
            block_b *= 2
        if shared_bytes(block_b, block_j, block_k, itemsize, training) <= SHARED_BYTES:
            break
    need = shared_bytes(block_b, block_j, block_k, itemsize, training)
    if need > SHARED_BYTES:
        what = "training" if training else "inference"
        hint = ("all of W_hh in one program fits only small H" if one_program else
                "fp16/bf16 fit H <= 512 for training and H <= 1024 for inference at small batch, fp32 half that")
        return (f"hidden_size {H}, batch {B} in {dtype} ({what}) needs {need // 1024} KiB of shared memory per "
                f"program (limit {SHARED_BYTES // 1024} KiB); {hint}")
    if sms is not None and n_j * triton.cdiv(B, block_b) > sms:
        return (f"batch {B} x hidden {H} needs {n_j * triton.cdiv(B, block_b)} resident programs, "
                f"the card has {sms} multiprocessors")
    return {"kind": kind, "BLOCK_B": block_b, "BLOCK_J": block_j, "BLOCK_K": block_k,
            "grid": (n_j, triton.cdiv(B, block_b)),
            "DOT_PREC": "ieee" if dtype == torch.float32 else "tf32"}


def _launch(kernel, grid, args, cfg, device, steps: int, begin_end_index: int, **constexprs):
    """One cooperative launch over all steps (CUDA) or one launch per step (interpreter)."""
    meta = {k: cfg[k] for k in ("BLOCK_B", "BLOCK_J", "BLOCK_K", "DOT_PREC")}
    if device.type == "cuda":
        args = list(args)
        args[begin_end_index:begin_end_index + 2] = [0, steps]
        kernel[grid](*args, SYNC=True, **constexprs, **meta, num_warps=NUM_WARPS, num_stages=1,
                     launch_cooperative_grid=True)
        return
    for s in range(steps):
        args = list(args)
        args[begin_end_index:begin_end_index + 2] = [s, s + 1]
        kernel[grid](*args, SYNC=False, **constexprs, **meta)


def split_forward(gi: Tensor, w: Tensor, h0: Tensor | None, c0: Tensor | None, lens: Tensor | None,
                  y: Tensor, h_n: Tensor, c_n: Tensor, gates: Tensor | None, cs: Tensor | None, cfg: dict) -> None:
    """Fills y ``(B, T, H)``, h_n, c_n ``(B, H)`` and, when training, the saved activations gates
    ``(B, T, 4H)`` and c_t ``(B, T, H)`` (fp32) for :func:`split_backward`."""
    B, T, G = gi.shape
    H = G // 4
    dev = gi.device
    h_state = h0.float().clone() if h0 is not None else torch.zeros(B, H, device=dev)
    c_state = c0.float().clone() if c0 is not None else torch.zeros(B, H, device=dev)
    hx = torch.empty(2, B, H, dtype=gi.dtype, device=dev)
    hx[0] = h_state.to(gi.dtype)  # h_{-1}: the product reads h in the input dtype
    bar = torch.zeros(cfg["grid"][1], dtype=torch.int32, device=dev)
    save = gates is not None
    args = (gi, w, hx, h_state, c_state, lens if lens is not None else gi, y,
            gates if save else gi, cs if save else gi, bar, B, T, H, 0, 0)
    _launch(FORWARD_KERNELS[cfg["kind"]], cfg["grid"], args, cfg, dev, T, 13,
            HAS_LEN=lens is not None, SAVE=save)
    h_n.copy_(h_state)
    c_n.copy_(c_state)


def split_backward(gates: Tensor, cs: Tensor, c0: Tensor | None, w: Tensor, lens: Tensor | None, dy: Tensor,
                   dhn: Tensor | None, dcn: Tensor | None, dgates: Tensor, dh0: Tensor, dc0: Tensor,
                   cfg: dict) -> None:
    """Fills dgates ``(B, T, 4H)`` (= dL/dgi), dh0 and dc0 ``(B, H)``, all fp32, from the saved
    activations, dL/dy and dL/dh_n, dL/dc_n (None: zero)."""
    B, T, H = cs.shape
    dev = cs.device
    dh0.copy_(dhn.float() if dhn is not None else torch.zeros(B, H, device=dev))  # the carries start
    dc0.copy_(dcn.float() if dcn is not None else torch.zeros(B, H, device=dev))  # as dL/dh_n, dL/dc_n
    dx = torch.empty(2, B, 4 * H, dtype=w.dtype, device=dev)
    bar = torch.zeros(cfg["grid"][1], dtype=torch.int32, device=dev)
    args = (gates, cs, c0 if c0 is not None else cs, w, lens if lens is not None else cs, dy, dx, dh0, dc0,
            dgates, bar, B, T, H, 0, 0)
    # T steps and one last iteration that only reads (dL/dh0 through W_hh)
    _launch(_lstm_split_bwd_kernel, cfg["grid"], args, cfg, dev, T + 1, 14,
            HAS_C0=c0 is not None, HAS_LEN=lens is not None)
