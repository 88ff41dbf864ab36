"""Row LayerNorm blocks of the fused LayerNorm-LSTM/GRU kernels (inlined where called).

A row is one batch element's pre-activations, held whole by one program as tiles
``(BLOCK_B, BLOCK_K)`` (one per gate; columns >= H masked by ``cm (1, BLOCK_K)``). Statistics
are taken over all ``N = tiles * H`` valid entries of the row at once, as
rnnkit/cells/layernorm.py does (two passes: the mean first, then the squared deviations)::

    mean = sum(x) / N;   var = sum((x - mean)^2) / N  (biased);   rstd = 1 / sqrt(var + eps)
    xn = (x - mean) * rstd                               (0 in masked columns)

Backward of ``xn`` given ``dn = dL/dxn`` (means over the same N entries; 0 in masked columns)::

    dL/dx = rstd * (dn - mean(dn) - xn * mean(dn * xn))
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _dev(x, mean, cm):
    return tl.where(cm, x - mean[:, None], 0.0)


@triton.jit
def ln1(x, cm, N, eps):
    """One tile: ``(xn, rstd (BLOCK_B, 1))``."""
    mean = tl.sum(tl.where(cm, x, 0.0), axis=1) / N
    d = _dev(x, mean, cm)
    rstd = (1.0 / tl.sqrt(tl.sum(d * d, axis=1) / N + eps))[:, None]
    return d * rstd, rstd


@triton.jit
def ln3(a, b, c, cm, N, eps):
    """Three tiles normalised together: ``(an, bn, cn, rstd (BLOCK_B, 1))``."""
    s = tl.sum(tl.where(cm, a, 0.0), axis=1) + tl.sum(tl.where(cm, b, 0.0), axis=1)
    mean = (s + tl.sum(tl.where(cm, c, 0.0), axis=1)) / N
    da = _dev(a, mean, cm)
    db = _dev(b, mean, cm)
    dc = _dev(c, mean, cm)
    ss = tl.sum(da * da, axis=1) + tl.sum(db * db, axis=1) + tl.sum(dc * dc, axis=1)
    rstd = (1.0 / tl.sqrt(ss / N + eps))[:, None]
    return da * rstd, db * rstd, dc * rstd, rstd


@triton.jit
def ln4(a, b, c, d, cm, N, eps):
    """Four tiles normalised together: ``(an, bn, cn, dn, rstd (BLOCK_B, 1))``."""
    s = tl.sum(tl.where(cm, a, 0.0), axis=1) + tl.sum(tl.where(cm, b, 0.0), axis=1)
    s += tl.sum(tl.where(cm, c, 0.0), axis=1) + tl.sum(tl.where(cm, d, 0.0), axis=1)
    mean = s / N
    da = _dev(a, mean, cm)
    db = _dev(b, mean, cm)
    dc = _dev(c, mean, cm)
    dd = _dev(d, mean, cm)
    ss = tl.sum(da * da, axis=1) + tl.sum(db * db, axis=1) + tl.sum(dc * dc, axis=1) + tl.sum(dd * dd, axis=1)
    rstd = (1.0 / tl.sqrt(ss / N + eps))[:, None]
    return da * rstd, db * rstd, dc * rstd, dd * rstd, rstd


@triton.jit
def _back(dn, xn, m1, m2, rstd, cm):
    return tl.where(cm, rstd * (dn - m1[:, None] - xn * m2[:, None]), 0.0)


@triton.jit
def ln1_grad(dn, xn, rstd, cm, N):
    """dL/dx of one normalised tile from ``dn = dL/dxn``."""
    m1 = tl.sum(tl.where(cm, dn, 0.0), axis=1) / N
    m2 = tl.sum(tl.where(cm, dn * xn, 0.0), axis=1) / N
    return _back(dn, xn, m1, m2, rstd, cm)


@triton.jit
def ln3_grad(da, db, dc, an, bn, cn, rstd, cm, N):
    """dL/dx of three tiles normalised together, from the gradients of their normalised values."""
    m1 = tl.sum(tl.where(cm, da, 0.0), axis=1) + tl.sum(tl.where(cm, db, 0.0), axis=1)
    m1 = (m1 + tl.sum(tl.where(cm, dc, 0.0), axis=1)) / N
    m2 = tl.sum(tl.where(cm, da * an, 0.0), axis=1) + tl.sum(tl.where(cm, db * bn, 0.0), axis=1)
    m2 = (m2 + tl.sum(tl.where(cm, dc * cn, 0.0), axis=1)) / N
    return _back(da, an, m1, m2, rstd, cm), _back(db, bn, m1, m2, rstd, cm), _back(dc, cn, m1, m2, rstd, cm)


@triton.jit
def ln4_grad(da, db, dc, dd, an, bn, cn, dn, rstd, cm, N):
    """dL/dx of four tiles normalised together, from the gradients of their normalised values."""
    m1 = tl.sum(tl.where(cm, da, 0.0), axis=1) + tl.sum(tl.where(cm, db, 0.0), axis=1)
    m1 += tl.sum(tl.where(cm, dc, 0.0), axis=1) + tl.sum(tl.where(cm, dd, 0.0), axis=1)
    m1 = m1 / N
    m2 = tl.sum(tl.where(cm, da * an, 0.0), axis=1) + tl.sum(tl.where(cm, db * bn, 0.0), axis=1)
    m2 += tl.sum(tl.where(cm, dc * cn, 0.0), axis=1) + tl.sum(tl.where(cm, dd * dn, 0.0), axis=1)
    m2 = m2 / N
    return (_back(da, an, m1, m2, rstd, cm), _back(db, bn, m1, m2, rstd, cm),
            _back(dc, cn, m1, m2, rstd, cm), _back(dd, dn, m1, m2, rstd, cm))


@triton.jit
def row_tiles(pb, B, H, BLOCK_B: tl.constexpr, BLOCK_K: tl.constexpr):
    """Index tiles of program pb of a whole-row kernel: batch rows ``rb``, all units ``k``; masks
    ``rmask`` (rows), ``cm`` (1, BLOCK_K) valid units, ``m2`` (rows x units), ``wmask`` (units x units)."""
    rb = pb * BLOCK_B + tl.arange(0, BLOCK_B)
    k = tl.arange(0, BLOCK_K)
    rmask = rb < B
    kmask = k < H
    cm = kmask[None, :]
    return rb, k, rmask, cm, rmask[:, None] & cm, kmask[:, None] & cm
