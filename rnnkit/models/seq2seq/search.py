"""Greedy and beam search for any step-wise decoder, batched and length-aware.

A decoder here is anything with ``step(tokens (N,), state, bank) -> (logits (N, V), state,
attention (N, S) or None)`` and states/banks with ``index_select(index)`` (see
:class:`~rnnkit.models.seq2seq.decoder.AttentionDecoder`). Each batch row b decodes on its own:
at most ``max_lens[b]`` tokens (EOS included), so a padded batch gives the same result as each
row alone.

Scores are sums of log-probabilities, ``log p(y) = sum_t log p(y_t | y_<t, x)``. Beam search ranks
finished hypotheses by the GNMT length penalty (Wu et al. 2016)::

    score(y) = log p(y) / lp(|y|),      lp(n) = ((5 + n) / 6) ** alpha      (alpha = 0: raw log p)

where |y| counts the generated tokens, EOS included. Beam search keeps K live hypotheses; at
every step it takes the 2K best extensions, turns those ending in EOS and ranked within the first
K into finished hypotheses, and keeps the K best others (so K = 1 is exactly greedy search). A
row stops once it has K finished hypotheses, once no live hypothesis can beat its n-best finished
ones, or at its length limit (its live hypotheses are then finished as they are). One engine,
:func:`beam_search_steps`, serves every decoder (captioning wraps it too). N-gram blocking forbids any token that would repeat an n-gram the
hypothesis already contains. PAD and BOS are never generated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

__all__ = ["Hypothesis", "SearchConfig", "beam_search", "beam_search_steps", "greedy_search", "length_penalty",
           "max_lengths"]


@dataclass
class SearchConfig:
    """How to decode.

    strategy: ``greedy`` or ``beam``. beam_size: K. length_penalty: alpha of the GNMT penalty.
    max_len_a, max_len_b: a row may produce at most ``min(max_len, a * source_length + b)`` tokens.
    no_repeat_ngram_size: n of n-gram blocking (0 = off).
    """

    strategy: Literal["greedy", "beam"] = "beam"
    beam_size: int = 5
    length_penalty: float = 1.0
    max_len: int = 200
    max_len_a: float = 1.5
    max_len_b: int = 10
    no_repeat_ngram_size: int = 0

    def __post_init__(self):
        if self.strategy not in ("greedy", "beam"):
            raise ValueError(f"strategy must be 'greedy' or 'beam', got {self.strategy!r}")
        if self.beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, got {self.beam_size}")
        if self.max_len < 1 or self.max_len_b < 0 or self.max_len_a < 0:
            raise ValueError("max_len must be >= 1 and max_len_a, max_len_b >= 0")
        if self.no_repeat_ngram_size < 0:
            raise ValueError(f"no_repeat_ngram_size must be >= 0, got {self.no_repeat_ngram_size}")

    def replace(self, **changes) -> SearchConfig:
        return dataclasses.replace(self, **changes)


@dataclass
class Hypothesis:
    """One decoded sequence: tokens (EOS and BOS excluded), log p (EOS included), the ranking
    score (log p / lp, or log p for greedy), whether it ended with EOS, and the attention weights
    (n, S) of its n steps (EOS included) or None."""

    tokens: list[int]
    logprob: float
    score: float
    finished: bool
    attention: Tensor | None = None


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's lp(n) = ((5 + n) / 6) ** alpha."""
    return ((5.0 + length) / 6.0) ** alpha


def max_lengths(src_lengths: Tensor, cfg: SearchConfig) -> Tensor:
    """Per-row limit ``min(max_len, floor(a * src_len) + b)``, at least 1: (B,) -> (B,)."""
    n = torch.floor(src_lengths.to(torch.float64) * cfg.max_len_a).to(torch.long) + cfg.max_len_b
    return n.clamp(min=1, max=cfg.max_len)


def _banned_ngrams(history: list[list[int]], n: int) -> list[list[int]]:
    """For each history, the tokens that would complete an n-gram already in it."""
    banned = []
    for h in history:
        if n <= 0 or len(h) < n:
            banned.append([])
            continue
        prefix = tuple(h[len(h) - n + 1:]) if n > 1 else ()
        banned.append([h[i + n - 1] for i in range(len(h) - n + 1) if tuple(h[i:i + n - 1]) == prefix])
    return banned


def _step_logprobs(decoder, tokens, state, bank, never: Sequence[int], history, ngram: int):
    logits, state, attn = decoder.step(tokens, state, bank)
    return _logprobs(logits, never, history, ngram), state, attn


def _logprobs(logits: Tensor, never: Sequence[int], history, ngram: int) -> Tensor:
    """log-softmax in at least float32 (half-precision sums drift; float64 is kept), with the
    ``never`` tokens and the n-gram-blocked ones at -inf."""
    logp = torch.log_softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=-1)
    if never:
        logp[:, list(never)] = float("-inf")
    if ngram > 0:
        for row, toks in enumerate(_banned_ngrams(history, ngram)):
            if toks:
                logp[row, toks] = float("-inf")
    return logp


def _check_ids(bos_id: int, eos_id: int, pad_id: int | None, max_lens: Tensor, batch: int):
    if max_lens.dim() != 1 or max_lens.shape[0] != batch or int(max_lens.min()) < 1:
        raise ValueError(f"max_lens must be (B,) = ({batch},) with values >= 1, got {tuple(max_lens.shape)}")
    if eos_id == bos_id or (pad_id is not None and eos_id == pad_id):
        raise ValueError("eos_id must differ from bos_id and pad_id")


@torch.no_grad()
def greedy_search(decoder, state, bank, bos_id: int, eos_id: int, max_lens: Tensor,
                  pad_id: int | None = None, no_repeat_ngram_size: int = 0) -> list[Hypothesis]:
    """Pick the most likely token at every step; one :class:`Hypothesis` per batch row.

    ``state``/``bank``: the decoder's initial state and memory for B rows; ``max_lens`` (B,).
    Rows that have finished keep being stepped so the batch stays aligned; what they produce
    is discarded.
    """
    B = max_lens.shape[0]
    _check_ids(bos_id, eos_id, pad_id, max_lens, B)
    never = [i for i in (bos_id, pad_id) if i is not None]
    device = max_lens.device
    tokens = torch.full((B,), bos_id, dtype=torch.long, device=device)
    score = torch.zeros(B, dtype=torch.float32, device=device)
    done = [False] * B
    history: list[list[int]] = [[] for _ in range(B)]
    attns: list[list[Tensor]] = [[] for _ in range(B)]
    ended = [False] * B
    limits = max_lens.tolist()
    for t in range(max(limits)):
        logp, state, attn = _step_logprobs(decoder, tokens, state, bank, never, history, no_repeat_ngram_size)
        # Add the running score as beam search does, so K = 1 beam search ranks identically.
        best, tokens = (score.unsqueeze(1) + logp).max(dim=-1)
        score = torch.where(torch.tensor(done, device=device), score, best)
        toks = tokens.tolist()
        for b in range(B):
            if done[b]:
                continue
            if attn is not None:
                attns[b].append(attn[b])
            if toks[b] == eos_id:
                ended[b] = True
            else:
                history[b].append(toks[b])
            if toks[b] == eos_id or t + 1 >= limits[b]:
                done[b] = True
        if all(done):
            break
    return [Hypothesis(history[b], float(score[b]), float(score[b]), ended[b],
                       torch.stack(attns[b]) if attns[b] else None) for b in range(B)]


@torch.no_grad()
def beam_search(decoder, state, bank, bos_id: int, eos_id: int, max_lens: Tensor, beam_size: int = 5,
                length_penalty_alpha: float = 1.0, pad_id: int | None = None,
                no_repeat_ngram_size: int = 0, n_best: int = 1) -> list[list[Hypothesis]]:
    """Beam search with K = ``beam_size``; for each batch row its ``n_best`` hypotheses, best first.

    ``state``/``bank`` hold B rows; they are expanded to B*K rows here (row b's beams are rows
    b*K .. b*K+K-1). Returns a list of B lists of :class:`Hypothesis`. The search itself is
    :func:`beam_search_steps`.
    """
    B = max_lens.shape[0]
    _check_ids(bos_id, eos_id, pad_id, max_lens, B)
    expand = torch.arange(B, device=max_lens.device).repeat_interleave(int(beam_size))
    bank = bank.index_select(expand) if bank is not None else None

    def step(tokens, st):
        return decoder.step(tokens, st, bank)

    return beam_search_steps(step, state, lambda st, rows: st.index_select(rows), bos_id, eos_id,
                             max_lens.tolist(), beam_size, length_penalty_alpha, n_best,
                             never=[i for i in (bos_id, pad_id) if i is not None],
                             no_repeat_ngram_size=no_repeat_ngram_size, device=max_lens.device)


@torch.no_grad()
def beam_search_steps(step, state, select, bos_id: int, eos_id: int, limits: Sequence[int], beam_size: int,
                      alpha: float, n_best: int = 1, never: Sequence[int] = (), no_repeat_ngram_size: int = 0,
                      device=None) -> list[list[Hypothesis]]:
    """The beam search of every rnnkit decoder (translation, captioning), for B = ``len(limits)`` rows.

    ``step(tokens (N,), state) -> (logits (N, V), state, attention (N, S) or None)`` advances N
    hypotheses one token; ``select(state, rows)`` keeps the state rows ``rows`` (N,), in order.
    ``state`` holds B rows and is expanded to N = B*K here. ``limits[b]``: row b's maximum length
    (EOS included). ``never``: token ids never generated. Scores are kept in the logits' precision,
    at least float32.

    A row stops when it has K finished hypotheses, when no live hypothesis can still beat its
    ``n_best``-th best finished one (log p only falls and lp only grows, so a live raw score s
    bounds every completion by ``s / lp(limit)``), or at its limit, where its live hypotheses end
    as they are (``finished=False``; if n-gram blocking left none possible and nothing finished,
    the first one still ends, so every row gets an answer).
    """
    B, K = len(limits), int(beam_size)
    if K < 1 or not 1 <= n_best <= K:
        raise ValueError(f"need beam_size >= 1 and 1 <= n_best <= beam_size, got {beam_size} and {n_best}")
    if eos_id in never:
        raise ValueError("eos_id cannot be in `never`")
    state = select(state, torch.arange(B, device=device).repeat_interleave(K))
    N = B * K
    tokens = torch.full((N,), bos_id, dtype=torch.long, device=device)
    scores = None  # (B, K) running log p, made at the first step in the logits' precision
    history: list[list[int]] = [[] for _ in range(N)]
    attn_hist: list[list[Tensor]] = [[] for _ in range(N)]
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    done = [False] * B
    base = (torch.arange(B, device=device) * K).unsqueeze(1)
    lp_limit = [length_penalty(n, alpha) for n in limits]

    def finish(b: int, row: int, logprob: float, length: int, ended: bool, attn_t: Tensor | None):
        steps = attn_hist[row] + ([attn_t] if attn_t is not None else [])
        finished[b].append(Hypothesis(list(history[row]), logprob, logprob / length_penalty(length, alpha),
                                      ended, torch.stack(steps) if steps else None))

    for t in range(max(limits)):
        logits, state, attn = step(tokens, state)
        logp = _logprobs(logits, never, history, no_repeat_ngram_size)
        if scores is None:
            scores = torch.full((B, K), float("-inf"), dtype=logp.dtype, device=logp.device)
            scores[:, 0] = 0.0  # all beams start equal: only the first one may expand at step 1
        V = logp.shape[-1]
        cand = (scores.view(N, 1) + logp).view(B, K * V)
        top_s, top_i = cand.topk(min(2 * K, K * V), dim=1)
        beam, tok = top_i // V, top_i % V
        is_eos = tok == eos_id
        # EOS among the first K candidates: a finished hypothesis.
        for b, j in (is_eos[:, :K] & torch.isfinite(top_s[:, :K])).nonzero().tolist():
            if not done[b]:
                row = b * K + int(beam[b, j])
                finish(b, row, float(top_s[b, j]), t + 1, True, None if attn is None else attn[row])
        # The K best extensions that do not end here stay live.
        live_s, live_j = top_s.masked_fill(is_eos, float("-inf")).topk(K, dim=1)
        rows = (base + beam.gather(1, live_j)).view(N)
        tokens = tok.gather(1, live_j).view(N)
        scores = live_s
        state = select(state, rows)
        rows_l, toks_l = rows.tolist(), tokens.tolist()
        history = [history[r] + [x] for r, x in zip(rows_l, toks_l)]
        if attn is not None:
            attn_hist = [attn_hist[r] + [attn[r]] for r in rows_l]
        live = scores.tolist()
        for b in range(B):
            if done[b]:
                continue
            if t + 1 >= limits[b]:  # length limit: live hypotheses end as they are
                for k, s in enumerate(live[b]):
                    if s != float("-inf") or (k == 0 and not finished[b]):
                        finish(b, b * K + k, s, t + 1, False, None)
                done[b] = True
            elif len(finished[b]) >= K or (len(finished[b]) >= n_best
                                           and _nth_best(finished[b], n_best) >= max(live[b]) / lp_limit[b]):
                done[b] = True
        if all(done):
            break
    # sorted() is stable: among equal scores the earlier-finished hypothesis wins, as in greedy.
    return [sorted(f, key=lambda h: -h.score)[:n_best] for f in finished]


def _nth_best(hyps: list[Hypothesis], n: int) -> float:
    return sorted((h.score for h in hyps), reverse=True)[n - 1]
