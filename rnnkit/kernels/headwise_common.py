"""What the fused head-wise (block-diagonal) kernels share, whatever the cell (LSTM, GRU).

The layout (rnnkit/cells/headwise.py): ``H = k*Hh`` units in k heads, NG gates (4 LSTM, 3 GRU),
gate pre-activations gate-major ``(B, T, NG*H)`` (column ``g*H + j*Hh + u`` is unit u of head j
in gate g), ``weight_hh`` ``(k, NG*Hh, Hh)`` with ``U_j = weight_hh[j]`` and gate g's block
``U_j[g*Hh:(g+1)*Hh]`` ``(Hh, Hh)``. A program ``(j, q)`` owns head j of batch block q: its h
columns ``j*Hh + u`` and its NG gate blocks of ``U_j``, for all T steps.

Here: the program's index tiles and block loads (Triton, inlined where called), the launch
configuration and its shared-memory bound, the input checks, and the one batched product for
dL/dW_hh. The cell's own step and walk stay in rnnkit/kernels/{lstm,gru}/headwise.py.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from rnnkit.kernels.persistent import SHARED_BYTES, dot_precision

BLOCK_B = 16  # batch rows per program: tl.dot takes no dimension under 16


@triton.jit
def head_tiles(pj, pb, B, H, HH, BLOCK_B: tl.constexpr, BLOCK_U: tl.constexpr):
    """Index tiles of program (pj, pb): batch rows ``rb``, head units ``u`` (``BLOCK_U >= HH``,
    also the k of the products), their columns ``col = pj*HH + u`` of h; masks ``rmask`` (rows),
    ``m2`` (rows x units), ``wmask`` (units x units, a gate block); ``s_off`` the (rows, units)
    offsets into a ``(B, H)`` state."""
    rb = pb * BLOCK_B + tl.arange(0, BLOCK_B)
    u = tl.arange(0, BLOCK_U)
    rmask = rb < B
    umask = u < HH
    m2 = rmask[:, None] & umask[None, :]
    wmask = umask[:, None] & umask[None, :]
    col = pj * HH + u
    s_off = rb[:, None].to(tl.int64) * H + col[None, :]
    return rb, u, col, rmask, m2, wmask, s_off


@triton.jit
def head_block(w_ptr, pj, g, NG, HH, u, wmask, TRANSPOSED: tl.constexpr):
    """Gate g's ``(Hh, Hh)`` block of head pj, ``V = weight_hh[pj, g*Hh:(g+1)*Hh, :]``, padded
    with zeros to ``(BLOCK_U, BLOCK_U)``. ``TRANSPOSED``: ``V^T[k, u] = V[u, k]``, the right
    operand of the forward's ``h V^T``; else ``V[u, k]``, the right operand of the backward's
    ``da V`` (dL/dh through the block). A dense W_hh ``(NG*H, H)`` is one head (``pj = 0``,
    ``HH = H``): the whole-row LayerNorm kernels load their gate blocks with it."""
    base = w_ptr + (pj * NG + g) * HH * HH
    if TRANSPOSED:
        off = u[None, :] * HH + u[:, None]
    else:
        off = u[:, None] * HH + u[None, :]
    return tl.load(base + off, mask=wmask, other=0.0)


def choose_headwise(B: int, H: int, heads: int, dtype: torch.dtype, device: torch.device,
                    training: bool = True, gates: int = 4, cell: str = "LSTM") -> dict:
    """The launch configuration of a head-wise kernel of ``gates`` gates: grid
    ``(heads, cdiv(B, BLOCK_B))``, one head per program; a one-line ValueError where a head's
    block does not fit one program's shared memory. The bound counts the NG ``(Hh, Hh)`` blocks
    of ``U_j``, one h tile and, training, the backward's NG gate-gradient tiles, each padded to
    ``BLOCK_U`` (a power of two, at least 16)."""
    if heads < 1 or H % heads:
        raise ValueError(f"heads must divide hidden_size={H}, got {heads}")
    hh = H // heads
    block_u = max(16, triton.next_power_of_2(hh))  # tl.dot takes no dimension under 16
    itemsize = torch.empty((), dtype=dtype).element_size()
    need = (gates * block_u + BLOCK_B + (gates * BLOCK_B if training else 0)) * block_u * itemsize
    if need > SHARED_BYTES:
        raise ValueError(f"the fused head-wise {cell} does not fit this shape: head size {hh} in {dtype} needs "
                         f"{need // 1024} KiB of shared memory per program (limit {SHARED_BYTES // 1024} KiB); "
                         f"more heads, fp16/bf16, or backend='loop' fits")
    return {"grid": (heads, triton.cdiv(B, BLOCK_B)), "BLOCK_B": BLOCK_B, "BLOCK_U": block_u,
            "DOT_PREC": dot_precision(dtype), "HH": hh}


def check_headwise_inputs(gi: Tensor, w_hh: Tensor, gates: int, cell: str,
                          states: dict[str, Tensor | None]) -> tuple[int, int, int, int]:
    """``(B, T, H, k)`` of gi ``(B, T, NG*H)`` and w_hh ``(k, NG*Hh, Hh)``; a one-line
    ValueError for a bad shape or dtype, an empty input, or a state (``states``, name ->
    tensor or None) not ``(B, H)``."""
    if gi.dim() != 3 or gi.shape[-1] % gates or w_hh.dim() != 3:
        raise ValueError(f"gi must be (batch, time, {gates}*hidden) and w_hh (heads, {gates}*head, head), got "
                         f"{tuple(gi.shape)} and {tuple(w_hh.shape)}")
    B, T, G = gi.shape
    H = G // gates
    k = w_hh.shape[0]
    if k < 1 or H % k or tuple(w_hh.shape) != (k, gates * (H // k), H // k):
        raise ValueError(f"w_hh must have shape (heads, {gates}*H/heads, H/heads) with H={H}, "
                         f"got {tuple(w_hh.shape)}")
    if gi.dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise ValueError(f"the fused head-wise {cell} takes fp16, bf16 or fp32, got {gi.dtype}")
    if B == 0 or T == 0:
        raise ValueError(f"empty input of shape {tuple(gi.shape)}")
    for name, s in states.items():
        if s is not None and tuple(s.shape) != (B, H):
            raise ValueError(f"{name} must have shape (batch, hidden) = {(B, H)}, got {tuple(s.shape)}")
    return B, T, H, k


def prepare_lengths(lengths: Tensor | None, T: int, device: torch.device) -> Tensor | None:
    """lengths ``(B,)`` as the kernels read them (int32, contiguous, on ``device``); a ValueError
    unless every length is in ``[1, T]``."""
    if lengths is None:
        return None
    lens = lengths.to(device=device, dtype=torch.int32).contiguous()
    if int(lens.min()) < 1 or int(lens.max()) > T:
        raise ValueError(f"lengths must be in [1, T={T}]")
    return lens


def headwise_weight_grad(dpre: Tensor, h0: Tensor | None, hs: Tensor, heads: int) -> Tensor:
    """dL/dW_hh ``(k, NG*Hh, Hh)`` in fp32 from dpre ``(B, T, NG*H)``, the gradients of the
    recurrent product ``h_{t-1} W_hh^T`` (plus any bias inside it) in the gate-major layout, and
    the states the product read: ``h_{t-1}`` is h0 ``(B, H)`` (zeros if None) at t = 0, else
    ``hs[:, t-1]`` (hs ``(B, T, H)``)::

        dU_j[g*Hh + u, c] = sum_{b,t} dpre[b, t, g*H + j*Hh + u] h_{t-1}[b, j*Hh + c]

    A step whose dpre is 0 (a padded one) adds nothing, whatever hs holds there."""
    B, T, G = dpre.shape
    H = hs.shape[-1]
    ng, hh = G // H, H // heads
    first = h0.float() if h0 is not None else torch.zeros(B, H, device=hs.device)
    h_prev = torch.cat([first.unsqueeze(1), hs[:, :-1].float()], dim=1).reshape(B * T, heads, hh)
    da = dpre.reshape(B * T, ng, heads, hh)
    return torch.einsum("ngju,njc->jguc", da, h_prev).reshape(heads, ng * hh, hh)
