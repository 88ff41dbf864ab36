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


@triton.jit
def split_tiles(pj, pb, B, H, BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr):
    """Index tiles of program (pj, pb) of a split kernel: its batch rows ``rb``, its own hidden
    units ``j``, all hidden units ``k``; masks ``m2`` (rows x own units), ``mk`` (rows x all
    units) and ``wmask`` (all units x own units, for the weight slice)."""
    rb = pb * BLOCK_B + tl.arange(0, BLOCK_B)
    j = pj * BLOCK_J + tl.arange(0, BLOCK_J)
    k = tl.arange(0, BLOCK_K)
    rmask = rb < B
    jmask = j < H
    m2 = rmask[:, None] & jmask[None, :]
    mk = rmask[:, None] & (k < H)[None, :]
    wmask = (k[:, None] < H) & jmask[None, :]
    return rb, j, k, rmask, jmask, m2, mk, wmask


@triton.jit
def publish(hx_ptr, offsets, h, hm, mask, HAS_HMASK: tl.constexpr):
    """Write this program's slice of h to the exchange buffer as the recurrent product will read
    it: times the recurrent-dropout mask ``hm`` when there is one, in the buffer's dtype."""
    if HAS_HMASK:
        h = h * hm
    tl.store(hx_ptr + offsets, h.to(hx_ptr.dtype.element_ty), mask=mask)


@triton.jit
def unstack_gates(pre, BLOCK_J: tl.constexpr, BLOCK_B: tl.constexpr):
    """The four gate blocks of a rows-layout product ``pre (4*BLOCK_J, BLOCK_B)`` (row g*J + j is
    gate g of unit j) as four ``(BLOCK_J, BLOCK_B)`` tiles, gate order 0, 1, 2, 3."""
    # rows g*J + j -> (g_hi, g_lo, j, b) with g = 2 g_hi + g_lo; split g_lo, then g_hi
    p4 = tl.permute(tl.reshape(pre, (2, 2, BLOCK_J, BLOCK_B)), (2, 3, 0, 1))
    even, odd = tl.split(p4)  # gates (0, 2) and (1, 3), each (J, BB, 2)
    g0, g2 = tl.split(even)
    g1, g3 = tl.split(odd)
    return g0, g1, g2, g3


@triton.jit
def rows_tiles(pj, pb, B, H, BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_K: tl.constexpr):
    """Index tiles of program (pj, pb) of a rows-layout kernel (states held transposed): for the
    ``4*BLOCK_J`` stacked rows their ``gate`` (r // BLOCK_J), ``row_unit`` and ``row_w`` (row of
    W_hh = column of gi, ``gate*H + row_unit``); this program's units ``jj``, its batch rows ``rb``,
    all hidden units ``k``; masks ``bmask`` (batch rows) and ``m2`` (units x rows)."""
    r = tl.arange(0, 4 * BLOCK_J)
    gate = r // BLOCK_J
    row_unit = pj * BLOCK_J + r % BLOCK_J
    row_w = gate * H + row_unit
    jj = pj * BLOCK_J + tl.arange(0, BLOCK_J)
    rb = pb * BLOCK_B + tl.arange(0, BLOCK_B)
    k = tl.arange(0, BLOCK_K)
    bmask = rb < B
    m2 = (jj < H)[:, None] & bmask[None, :]
    return gate, row_unit, row_w, jj, rb, k, bmask, m2


@triton.jit
def load_weight_t(w_ptr, gate, H, jj, k):
    """The rows backward's weight tile of one gate: ``W_g^T (BLOCK_J, BLOCK_K)``, element
    ``[j, k] = W_hh[gate*H + k, jj[j]]`` (the columns ``jj`` of gate block ``gate`` of W_hh, as
    rows), zero outside ``jj < H``, ``k < H``. Loaded once; the left operand of every step's product."""
    return tl.load(w_ptr + (gate * H + k[None, :]).to(tl.int64) * H + jj[:, None],
                   mask=(jj < H)[:, None] & (k < H)[None, :], other=0.0)


@triton.jit
def dot_gate_t(acc, w_t, x_ptrs, mask, DOT_PREC: tl.constexpr):
    """``acc + W_g^T @ dx_g^T``: one gate's gradient tile ``(BLOCK_K, BLOCK_B)`` (the exchange
    buffer read transposed, through L2) times its weight tile ``(BLOCK_J, BLOCK_K)``, fp32
    accumulation. Each tile is loaded just before its product and dead after it, so one
    gradient tile is live at a time instead of every gate's (what lets training fit H = 1024)."""
    x = tl.load(x_ptrs, mask=mask, other=0.0, cache_modifier=".cg")
    return tl.dot(w_t, x, acc, input_precision=DOT_PREC)
