"""CTC decoding: best path (greedy) and prefix beam search, on per-frame log-posteriors.

A CTC model emits, at each of T frames, log-probabilities ``log y_t(k)`` over V symbols, the
blank (id 0 here) included. A *path* picks one symbol per frame; the collapse map B removes
repeated neighbours, then blanks (``_aa_b_ -> ab``; ``a_a -> aa``). The probability of a label
sequence l is the sum over its paths, ``P(l | x) = sum_{pi in B^-1(l)} prod_t y_t(pi_t)``.

Greedy (best path)
    ``B(argmax_k y_t(k) for each t)``: the label of the single most probable path, which need not
    be the most probable label (several weaker paths can add up to more).

Prefix beam search (Hannun et al., 2014)
    Keeps the ``beam_width`` most probable label *prefixes*, each with two path masses: paths
    ending in blank ``p_b`` and in its last label ``p_nb``. At frame t, for prefix l with last
    label e and total ``p = p_b + p_nb``::

        blank:          l      gets  p_b' += p * y_t(blank)
        repeat e:       l      gets  p_nb' += p_nb * y_t(e)     (e e collapses)
                        l + e  gets  p_nb' += p_b * y_t(e)      (e _ e is two labels)
        other c != e:   l + c  gets  p_nb' += p * y_t(c)

    then the beam keeps the best ``beam_width`` prefixes by ``p_b + p_nb``. With an unbounded
    beam and no pruning this sums every path exactly, so the answer is the most probable label
    and its score is ``log P(l | x)`` (tests check both against brute force and ``ctc_loss``).
    All sums are in log space. ``prune`` skips symbols with ``y_t(k) < prune`` at a frame (the
    frame's best symbol and the prefix's own last label are always tried).

Beam width 1 and greedy
    Width 1 keeps one prefix but still merges the paths of that prefix, so it is *not* best path
    in general: frames ``[_:.6 a:.4], [_:.6 a:.4]`` make greedy say "" (0.36) but the prefix
    search, which sums "a" over its three paths (0.64), says "a" at width >= 2. When every
    frame's best symbol has probability >= 0.9 (a trained CTC model's peaky posteriors) the two
    agree at width 1: each step's winning extension then carries most of the mass, so the
    single kept prefix is greedy's. The tests check both statements.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = ["collapse", "decode_batch", "greedy_decode", "prefix_beam_search"]

NEG_INF = -math.inf


def _logaddexp(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


def greedy_decode(log_probs: Tensor | np.ndarray, blank: int = 0) -> list[int]:
    """``(T, V)`` -> label ids of the best path: argmax per frame, repeats merged, blanks dropped."""
    return collapse(torch.as_tensor(log_probs).argmax(dim=-1).tolist(), blank)


def prefix_beam_search(log_probs: Tensor | np.ndarray, beam_width: int = 8, blank: int = 0,
                       prune: float | None = 1e-3, nbest: int = 1) -> list[tuple[list[int], float]]:
    """``(T, V)`` log-posteriors -> the ``nbest`` best ``(label ids, log score)``, best first.

    The score is ``log(p_b + p_nb)`` of the prefix after the last frame: ``log P(l | x)`` exactly
    when nothing was cut (``beam_width`` at least the number of prefixes, ``prune=None``).
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    lp = torch.as_tensor(log_probs, dtype=torch.float64).cpu().numpy()
    if lp.ndim != 2:
        raise ValueError(f"prefix_beam_search expects (T, V) log-probabilities, got shape {lp.shape}")
    T, V = lp.shape
    log_prune = math.log(prune) if prune else NEG_INF
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}  # prefix -> (log p_b, log p_nb)
    for t in range(T):
        row = lp[t]
        best_k = int(row.argmax())
        cands = [k for k in range(V) if k != blank and (row[k] >= log_prune or k == best_k)]
        nxt: dict[tuple[int, ...], list[float]] = {}  # prefix -> [log p_b, log p_nb] after frame t
        for prefix, (pb, pnb) in beams.items():
            total = _logaddexp(pb, pnb)
            here = nxt.setdefault(prefix, [NEG_INF, NEG_INF])
            here[0] = _logaddexp(here[0], total + row[blank])
            last = prefix[-1] if prefix else None
            if last is not None:  # the prefix's own last label, tried even if pruned
                here[1] = _logaddexp(here[1], pnb + row[last])
            for c in cands:
                ext = nxt.setdefault(prefix + (c,), [NEG_INF, NEG_INF])
                ext[1] = _logaddexp(ext[1], (pb if c == last else total) + row[c])
        ranked = sorted(nxt.items(), key=lambda kv: (-_logaddexp(*kv[1]), kv[0]))
        beams = {p: (s[0], s[1]) for p, s in ranked[:beam_width]}
    ranked = sorted(beams.items(), key=lambda kv: (-_logaddexp(*kv[1]), kv[0]))
    return [(list(p), _logaddexp(*s)) for p, s in ranked[:nbest]]


def decode_batch(log_probs: Tensor, lengths: Tensor, method: str = "greedy", beam_width: int = 8,
                 prune: float | None = 1e-3, blank: int = 0) -> list[list[int]]:
    """``(B, T, V)`` log-posteriors with valid lengths ``(B,)`` -> one id list per utterance."""
    if method not in ("greedy", "beam"):
        raise ValueError(f"decoding method must be 'greedy' or 'beam', got {method!r}")
    out = []
    lp = log_probs.detach().float().cpu()
    for b, n in enumerate(lengths.tolist()):
        if method == "greedy":
            out.append(greedy_decode(lp[b, :n], blank))
        else:
            out.append(prefix_beam_search(lp[b, :n], beam_width, blank, prune)[0][0])
    return out


def collapse(path: Sequence[int], blank: int = 0) -> list[int]:
    """The CTC collapse map B: merge repeated neighbours, then drop blanks."""
    out, prev = [], None
    for k in path:
        if k != prev and k != blank:
            out.append(k)
        prev = k
    return out
