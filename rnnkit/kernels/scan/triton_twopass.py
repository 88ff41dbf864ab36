"""Two-pass Triton scan: the chunk carry fused into the first pass (see README.md, "Two passes").

The three-pass chunked kernels (:mod:`.triton_fwd`, :mod:`.triton_bwd`) run local scans, then a
separate carry kernel over the chunk summaries, then the write. Here:

- **pass 1** (``_scan2_carry_kernel``): each program loads one ``(CH, BLOCK)`` tile (CH steps of
  BLOCK channels) of the coefficients at once, reduces it to the chunk's affine map
  ``s -> P_k s + S_k`` with ``tl.associative_scan``, publishes ``(P_k, S_k)``, then finds its true
  start state by a *decoupled look-back* over the chunk summaries of the same channels (below),
  and publishes its end state ``E_k = P_k start + S_k``;
- **pass 2** (``_scan2_fwd_write_kernel`` / ``_scan2_bwd_write_kernel``): each program reloads its
  tile, scans it again, and writes ``h = A_cum * start + S_cum`` (the backward: g, then
  ``dL/da_t = g_t h_{t-1}`` and ``dL/db_t = g_t``), with start = ``E_{k-1}`` (forward) or
  ``E'_{k+1}`` (backward), or the initial state for the first chunk.

Look-back (per channel, vectorised over the tile's BLOCK channels). A chunk's status word in
``flags`` goes 0 (nothing) -> 1 (aggregate ``P, S`` published) -> 2 (end state ``E`` published);
each publication stores the values, then ``tl.debug_barrier()`` (the whole program's stores
happen before ...) and a ``release`` atomic exchange of the status; readers poll with an
``acquire`` atomic, barrier, then ``volatile`` loads. Walking back from chunk k-1 a program
composes aggregates (status 1) into ``acc`` until it meets an end state (status 2) or runs past
the first chunk (the initial state); status 0 means "not yet": poll again.

Deadlock freedom on a GPU without co-residency: chunk ids are not ``tl.program_id`` but a ticket
from one ``tl.atomic_add`` on a counter, taken first thing, and chunk order follows ticket order
(``ticket = step * NT + tile``). A program only ever waits on chunks of *smaller* tickets, whose
programs have already started (they took their ticket) and therefore are resident; none of them
waits before publishing its aggregate, and the first chunk in scan order waits on nothing, so by
induction every wait ends, whatever order or number of programs the hardware runs at once. (With
``tl.program_id`` a program could spin on a chunk whose program was never scheduled because
spinning programs fill the card.) Under the Triton interpreter programs run one after another in
ticket order, so a wait never spins (``SEQUENTIAL``: there, a poll that finds a chunk not yet run
is a bug, and it makes the start NaN instead of spinning forever); ``PUBLISH_EVERY > 1`` (tests
only) withholds the end states of most chunks so that the look-back walks through aggregates as it
does on a GPU when predecessors are still running.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

# (CH, BLOCK) tiles: 64 steps x 64 channels, 4096 elements per tensor, 32 fp32 registers per
# thread per tensor at 4 warps. Untuned (no GPU was lent when this was written).
CHUNK = 64
BLOCK = 64
# tests only: > 1 publishes the end state of every PUBLISH_EVERY-th chunk only (see module doc)
PUBLISH_EVERY = 1


@triton.jit
def _affine(a1, b1, a2, b2):
    """(a2, b2) o (a1, b1): step 1 (earlier), then step 2."""
    return a2 * a1, a2 * b1 + b2


@triton.jit
def _tile_index(k, tile, T, D, BD, CH: tl.constexpr, BLOCK: tl.constexpr, REVERSE: tl.constexpr):
    """Row r of chunk k is step t = k*CH + r (forward) or k*CH + CH-1-r (reverse: scan order).
    Returns t (CH, 1) int64, the (1, BLOCK) offsets of element (b, 0, d), the channels, their mask."""
    r = tl.arange(0, CH)
    c = tile * BLOCK + tl.arange(0, BLOCK)
    cmask = c < BD
    off = (c // D).to(tl.int64) * T * D + (c % D).to(tl.int64)
    if REVERSE:
        t = k * CH + CH - 1 - r
    else:
        t = k * CH + r
    return t.to(tl.int64)[:, None], off[None, :], c, cmask


@triton.jit
def _tile_coeffs(a_ptr, y_ptr, L, t, off, cmask, T, D, REVERSE: tl.constexpr, HAS_LEN: tl.constexpr,
                 ACC: tl.constexpr):
    """The tile's coefficients in ACC: forward ``(a_t, b_t)`` (y = b); reverse, the backward's
    ``g_t = a'_{t+1} g_{t+1} + dy'_t``: ``(a'_{t+1}, dy'_t)`` (y = dy). Steps past T and padded
    steps are identities (1, 0)."""
    m = cmask[None, :] & (t < T)
    if REVERSE:
        x = tl.load(a_ptr + off + (t + 1) * D, mask=cmask[None, :] & (t + 1 < T), other=1.0).to(ACC)
        y = tl.load(y_ptr + off + t * D, mask=m, other=0.0).to(ACC)
        if HAS_LEN:
            x = tl.where(t + 1 < L[None, :], x, 1.0)
            y = tl.where(t < L[None, :], y, 0.0)
    else:
        x = tl.load(a_ptr + off + t * D, mask=m, other=1.0).to(ACC)
        y = tl.load(y_ptr + off + t * D, mask=m, other=0.0).to(ACC)
        if HAS_LEN:
            x = tl.where(t < L[None, :], x, 1.0)
            y = tl.where(t < L[None, :], y, 0.0)
    return x, y


@triton.jit
def _tile_scan(a_ptr, y_ptr, len_ptr, k, tile, T, D, BD, CH: tl.constexpr, BLOCK: tl.constexpr,
               REVERSE: tl.constexpr, HAS_LEN: tl.constexpr, ACC: tl.constexpr):
    """What every kernel here starts with: chunk k's tile (:func:`_tile_index`), its lengths L
    (T without them), and the scan of its coefficients (:func:`_tile_coeffs`) from the chunk's
    start, ``(A_r, S_r)``: the state after row r is ``A_r s + S_r`` for a start state s."""
    t, off, c, cmask = _tile_index(k, tile, T, D, BD, CH, BLOCK, REVERSE)
    if HAS_LEN:
        L = tl.load(len_ptr + c // D, mask=cmask, other=0)
    else:
        L = T
    x, y = _tile_coeffs(a_ptr, y_ptr, L, t, off, cmask, T, D, REVERSE, HAS_LEN, ACC)
    A, S = tl.associative_scan((x, y), 0, _affine)
    return t, off, c, cmask, L, A, S


@triton.jit
def _scan2_carry_kernel(a_ptr, y_ptr, len_ptr, init_ptr, sync_ptr, p_ptr, s_ptr, e_ptr, T, D, BD, n, NT,
                        REVERSE: tl.constexpr, HAS_LEN: tl.constexpr, HAS_INIT: tl.constexpr,
                        PUBLISH_EVERY: tl.constexpr, SEQUENTIAL: tl.constexpr, CH: tl.constexpr,
                        BLOCK: tl.constexpr, ACC: tl.constexpr):
    """Pass 1: every chunk's map (P, S) and its true end state E, carried by look-back.
    sync_ptr[0]: the ticket counter; sync_ptr[1 + k*BD + c]: the status of chunk k, channel c."""
    ticket = tl.atomic_add(sync_ptr, 1)  # the order programs started in: chunk order follows it
    tile = ticket % NT
    step_no = ticket // NT  # position of this chunk in scan order
    if REVERSE:
        k = n - 1 - step_no
    else:
        k = step_no
    _, _, c, cmask, _, A, S = _tile_scan(a_ptr, y_ptr, len_ptr, k, tile, T, D, BD, CH, BLOCK, REVERSE, HAS_LEN, ACC)
    last = (tl.arange(0, CH) == CH - 1)[:, None]
    P = tl.sum(tl.where(last, A, 0.0), axis=0)  # the chunk's map: s -> P s + Sk
    Sk = tl.sum(tl.where(last, S, 0.0), axis=0)
    slot = k.to(tl.int64) * BD + c
    flag = sync_ptr + 1 + slot
    tl.store(p_ptr + slot, P, mask=cmask)
    tl.store(s_ptr + slot, Sk, mask=cmask)
    tl.debug_barrier()  # every thread's stores above happen before the release below
    tl.atomic_xchg(flag, tl.full([BLOCK], 1, tl.int32), mask=cmask, sem="release")
    # look back over the chunks before this one in scan order (same channels)
    if HAS_INIT:
        init = tl.load(init_ptr + c, mask=cmask, other=0.0).to(ACC)
    else:
        init = tl.zeros([BLOCK], dtype=ACC)
    if REVERSE:
        j = tl.zeros([BLOCK], dtype=tl.int32) + k + 1
    else:
        j = tl.zeros([BLOCK], dtype=tl.int32) + k - 1
    accP = tl.full([BLOCK], 1.0, dtype=ACC)  # the map from E_j to this chunk's start
    accS = tl.zeros([BLOCK], dtype=ACC)
    start = tl.zeros([BLOCK], dtype=ACC)
    pending = cmask
    while tl.max(pending.to(tl.int32), axis=0) > 0:
        outside = (j < 0) | (j >= n)
        look = pending & (outside == 0)
        jslot = tl.where(look, j, 0).to(tl.int64) * BD + c
        st = tl.atomic_add(sync_ptr + 1 + jslot, tl.zeros([BLOCK], dtype=tl.int32), mask=look, sem="acquire")
        st = tl.where(look, st, 0)
        tl.debug_barrier()  # the acquire above happens before every thread's loads below
        incl = look & (st == 2)
        aggr = look & (st == 1)
        first = pending & outside
        Ej = tl.load(e_ptr + jslot, mask=incl, other=0.0, volatile=True)
        Pj = tl.load(p_ptr + jslot, mask=aggr, other=1.0, volatile=True)
        Sj = tl.load(s_ptr + jslot, mask=aggr, other=0.0, volatile=True)
        start = tl.where(incl, accP * Ej + accS, start)
        start = tl.where(first, accP * init + accS, start)
        accS = tl.where(aggr, accP * Sj + accS, accS)
        accP = tl.where(aggr, accP * Pj, accP)
        if REVERSE:
            j = tl.where(aggr, j + 1, j)
        else:
            j = tl.where(aggr, j - 1, j)
        pending = pending & ((incl | first) == 0)
        if SEQUENTIAL:  # the interpreter: every earlier ticket has finished, so a wait would never end
            stuck = look & (st == 0)  # a bug (chunk order is not ticket order): poison the result
            start = tl.where(stuck, float("nan"), start)
            pending = pending & (stuck == 0)
    tl.store(e_ptr + slot, P * start + Sk, mask=cmask)
    publish = cmask
    if PUBLISH_EVERY > 1:
        publish = cmask & ((step_no + tl.zeros([BLOCK], dtype=tl.int32)) % PUBLISH_EVERY == 0)
    tl.debug_barrier()
    tl.atomic_xchg(flag, tl.full([BLOCK], 2, tl.int32), mask=publish, sem="release")


@triton.jit
def _chunk_start(e_ptr, init_ptr, k, n, c, cmask, BD, REVERSE: tl.constexpr, HAS_INIT: tl.constexpr,
                 BLOCK: tl.constexpr, ACC: tl.constexpr):
    """The true state entering chunk k: the end of the chunk before it in scan order, or init."""
    if HAS_INIT:
        init = tl.load(init_ptr + c, mask=cmask, other=0.0).to(ACC)
    else:
        init = tl.zeros([BLOCK], dtype=ACC)
    kv = k + tl.zeros([BLOCK], dtype=tl.int32)  # a vector: the interpreter's masks need one
    if REVERSE:
        prev = tl.minimum(kv + 1, n - 1)
        has_prev = kv + 1 < n
    else:
        prev = tl.maximum(kv - 1, 0)
        has_prev = kv > 0
    e = tl.load(e_ptr + prev.to(tl.int64) * BD + c, mask=cmask & has_prev, other=0.0)
    return tl.where(has_prev, e, init)


@triton.jit
def _scan2_fwd_write_kernel(a_ptr, b_ptr, len_ptr, init_ptr, e_ptr, h_ptr, T, D, BD, n,
                            HAS_LEN: tl.constexpr, HAS_INIT: tl.constexpr, CH: tl.constexpr,
                            BLOCK: tl.constexpr, ACC: tl.constexpr):
    """Pass 2 of the forward: h of chunk k from its true start."""
    tile = tl.program_id(0)
    k = tl.program_id(1)
    t, off, c, cmask, L, A, S = _tile_scan(a_ptr, b_ptr, len_ptr, k, tile, T, D, BD, CH, BLOCK, False, HAS_LEN,
                                           ACC)
    start = _chunk_start(e_ptr, init_ptr, k, n, c, cmask, BD, False, HAS_INIT, BLOCK, ACC)
    h = A * start[None, :] + S
    if HAS_LEN:
        h = tl.where(t < L[None, :], h, 0.0)
    tl.store(h_ptr + off + t * D, h.to(h_ptr.dtype.element_ty), mask=cmask[None, :] & (t < T))


@triton.jit
def _scan2_bwd_write_kernel(a_ptr, dy_ptr, h_ptr, h0_ptr, len_ptr, init_ptr, e_ptr, da_ptr, db_ptr,
                            T, D, BD, n, HAS_H0: tl.constexpr, HAS_LEN: tl.constexpr,
                            HAS_INIT: tl.constexpr, CH: tl.constexpr, BLOCK: tl.constexpr,
                            ACC: tl.constexpr):
    """Pass 2 of the backward: g of chunk k from its true g at the chunk's end (the later chunk's
    start, or dL/dh_last), then dL/db_t = g_t, dL/da_t = g_t h_{t-1} (h_{-1} = h0, or 0)."""
    tile = tl.program_id(0)
    k = tl.program_id(1)
    t, off, c, cmask, L, A, S = _tile_scan(a_ptr, dy_ptr, len_ptr, k, tile, T, D, BD, CH, BLOCK, True, HAS_LEN,
                                           ACC)
    start = _chunk_start(e_ptr, init_ptr, k, n, c, cmask, BD, True, HAS_INIT, BLOCK, ACC)
    g = A * start[None, :] + S
    m = cmask[None, :] & (t < T)
    hp = tl.load(h_ptr + off + (t - 1) * D, mask=m & (t >= 1), other=0.0).to(ACC)
    if HAS_H0:
        h0 = tl.load(h0_ptr + c, mask=cmask, other=0.0).to(ACC)
        hp = tl.where(t == 0, h0[None, :], hp)
    if HAS_LEN:
        valid = t < L[None, :]
    else:
        valid = t < T
    tl.store(da_ptr + off + t * D, tl.where(valid, g * hp, 0.0).to(da_ptr.dtype.element_ty), mask=m)
    tl.store(db_ptr + off + t * D, tl.where(valid, g, 0.0).to(db_ptr.dtype.element_ty), mask=m)


# ---------------------------------------------------------------------------------------------
# launchers (called by triton_op.TritonScan with carry="fused")


def _carry(a: Tensor, y: Tensor, lens: Tensor | None, init: Tensor | None, chunk: int, reverse: bool,
           acc, new) -> Tensor:
    """Pass 1: the end state of every chunk, ``(n, B, D)`` in the accumulation dtype."""
    B, T, D = a.shape
    BD, n, NT = B * D, triton.cdiv(T, chunk), triton.cdiv(B * D, BLOCK)
    f = torch.float64 if a.dtype == torch.float64 else torch.float32
    like = torch.empty((), dtype=f, device=a.device)
    P, S, E = (new((n, B, D), like) for _ in range(3))
    sync = torch.zeros(1 + n * BD, dtype=torch.int32, device=a.device)  # counter, then the statuses
    _scan2_carry_kernel[(NT * n,)](a, y, lens if lens is not None else a, init if init is not None else a,
                                   sync, P, S, E, T, D, BD, n, NT, REVERSE=reverse, HAS_LEN=lens is not None,
                                   HAS_INIT=init is not None, PUBLISH_EVERY=PUBLISH_EVERY,
                                   SEQUENTIAL=a.device.type != "cuda", CH=chunk,
                                   BLOCK=BLOCK, ACC=acc)
    return E


def two_pass_forward(a: Tensor, b: Tensor, h0: Tensor | None, lens: Tensor | None, h: Tensor,
                     chunk: int, acc, new) -> Tensor:
    """Write h; return E ``(n, B, D)`` (``E[-1]`` is h_last)."""
    B, T, D = a.shape
    E = _carry(a, b, lens, h0, chunk, False, acc, new)
    grid = (triton.cdiv(B * D, BLOCK), E.shape[0])
    _scan2_fwd_write_kernel[grid](a, b, lens if lens is not None else a, h0 if h0 is not None else a, E, h,
                                  T, D, B * D, E.shape[0], HAS_LEN=lens is not None, HAS_INIT=h0 is not None,
                                  CH=chunk, BLOCK=BLOCK, ACC=acc)
    return E


def two_pass_backward(a: Tensor, h: Tensor, h0: Tensor | None, lens: Tensor | None, dy: Tensor,
                      dlast: Tensor | None, da: Tensor, db: Tensor, chunk: int, acc, new) -> Tensor:
    """Write da, db; return E' ``(n, B, D)``, the g entering each chunk from the later ones in
    scan order (``E'[0]`` is g_0, so dL/dh0 = a_0 E'[0])."""
    B, T, D = a.shape
    E = _carry(a, dy, lens, dlast, chunk, True, acc, new)
    grid = (triton.cdiv(B * D, BLOCK), E.shape[0])
    _scan2_bwd_write_kernel[grid](a, dy, h, h0 if h0 is not None else a, lens if lens is not None else a,
                                  dlast if dlast is not None else a, E, da, db, T, D, B * D, E.shape[0],
                                  HAS_H0=h0 is not None, HAS_LEN=lens is not None, HAS_INIT=dlast is not None,
                                  CH=chunk, BLOCK=BLOCK, ACC=acc)
    return E
