"""Count-based baselines over whole events: a unigram and an interpolated bigram.

An event token is the pair (pitch id, duration id) of :class:`~rnnkit.apps.music.events.EventCodec`,
or END. Its space has ``K = (V_p - 3) * (V_d - 2) + 1`` tokens: every pitch-like id (UNK, REST,
the pitches) with every duration id (UNK, the durations), plus END, so the baselines give a
probability to everything the LSTM can score, unseen combinations included. Counts come from
the training melodies (each as ``BOS, e_1..e_N, END``); the smoothing constants are chosen on the
validation melodies from a fixed grid, never on the test melodies.

::

    unigram:  P1(e)      = (c(e) + a) / (N + a K)
    bigram:   P2(e | e') = l c(e', e) / c(e') + (1 - l) P1(e)      (P1(e) when c(e') = 0)

Both are scored like the LSTM: NLL per event is the mean over every predicted token of a piece
(its N events and END), in nats. :meth:`EventNgram.split_nll` divides it exactly into a pitch
part ``-log P(p)`` and a duration part ``-log P(d | p)`` using the model's own marginals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch

from rnnkit.decoding import DecodingConfig
from rnnkit.apps.music.events import DUR_UNK, UNK, Event, EventCodec

__all__ = ["ALPHAS", "LAMBDAS", "EventNgram"]

ALPHAS = (0.01, 0.03, 0.1, 0.3, 1.0)
LAMBDAS = tuple(round(0.05 * i, 2) for i in range(20))  # 0.0 .. 0.95

_FIRST_PITCH = UNK  # pitch ids UNK, REST, lo..hi are event pitches
_FIRST_DUR = DUR_UNK  # duration ids UNK, d_1.. are event durations


class EventNgram:
    """Unigram (``order=1``) or interpolated bigram (``order=2``) over event tokens."""

    def __init__(self, codec: EventCodec, order: int = 2):
        if order not in (1, 2):
            raise ValueError(f"order must be 1 (unigram) or 2 (bigram), got {order}")
        self.codec, self.order = codec, order
        self.P = codec.num_pitches - _FIRST_PITCH  # pitch-like ids
        self.D = codec.num_durations - _FIRST_DUR  # duration-like ids
        self.K = self.P * self.D + 1
        self.end = self.K - 1
        self.bos = self.K  # context index only
        self.alpha, self.lam = 1.0, 0.0
        self.uni = torch.zeros(self.K, dtype=torch.float64)
        self.bi = torch.zeros(self.K + 1, self.K, dtype=torch.float64)

    # ------------------------------------------------------------------ tokens
    def tokens(self, events: Sequence[Event]) -> list[int]:
        """``[BOS, e_1..e_N, END]`` as token indices."""
        p, d = self.codec.encode(events)
        ids = ((p - _FIRST_PITCH) * self.D + (d - _FIRST_DUR)).tolist()
        return [self.bos, *ids, self.end]

    def event_of(self, token: int) -> tuple[int, int] | None:
        """Token -> ``(pitch id, duration id)``; None for END."""
        if token == self.end:
            return None
        return token // self.D + _FIRST_PITCH, token % self.D + _FIRST_DUR

    # ------------------------------------------------------------------ fitting
    def fit(self, train: Iterable[Sequence[Event]], val: Iterable[Sequence[Event]] | None = None) -> EventNgram:
        """Count on ``train``; pick a (and l for the bigram) by the NLL on ``val`` if given."""
        self.uni.zero_()
        self.bi.zero_()
        for events in train:
            t = torch.tensor(self.tokens(events))
            self.uni.index_put_((t[1:],), torch.ones(len(t) - 1, dtype=torch.float64), accumulate=True)
            self.bi.index_put_((t[:-1], t[1:]), torch.ones(len(t) - 1, dtype=torch.float64), accumulate=True)
        val = list(val) if val is not None else []
        if val:
            self.alpha = min(ALPHAS, key=lambda a: self._set(a, 0.0).nll(val))
            if self.order == 2:
                self.lam = min(LAMBDAS, key=lambda l: self._set(self.alpha, l).nll(val))
        return self._set(self.alpha, self.lam if self.order == 2 else 0.0)

    def _set(self, alpha: float, lam: float) -> EventNgram:
        self.alpha, self.lam = alpha, lam
        p1 = (self.uni + alpha) / (self.uni.sum() + alpha * self.K)
        ctx = self.bi.sum(1, keepdim=True)
        ml = self.bi / ctx.clamp_min(1)
        self.table = torch.where(ctx > 0, lam * ml + (1 - lam) * p1, p1)  # (K + 1, K), rows sum to 1
        return self

    # ------------------------------------------------------------------ scoring
    def log_probs(self, events: Sequence[Event]) -> torch.Tensor:
        """``log P(token_i | token_{i-1})`` of each predicted token ``(N + 1,)``."""
        t = torch.tensor(self.tokens(events))
        return self.table[t[:-1], t[1:]].log()

    def nll(self, melodies: Iterable[Sequence[Event]]) -> float:
        """Mean NLL per predicted event (nats) over ``melodies``."""
        total, count = 0.0, 0
        for events in melodies:
            lp = self.log_probs(events)
            total -= float(lp.sum())
            count += lp.numel()
        return total / count

    def split_nll(self, melodies: Iterable[Sequence[Event]]) -> dict[str, float]:
        """``{"nll", "pitch", "duration"}`` per event: -log P(e) = -log P(p) - log P(d | p)."""
        pitch = dur = 0.0
        count = 0
        for events in melodies:
            t = torch.tensor(self.tokens(events))
            rows = self.table[t[:-1]]  # (N + 1, K)
            marg = torch.cat([rows[:, :-1].reshape(len(rows), self.P, self.D).sum(-1), rows[:, -1:]], dim=1)
            targets = t[1:]
            pcol = torch.where(targets == self.end, torch.tensor(self.P), targets // self.D)
            lp_pitch = marg[torch.arange(len(rows)), pcol].log()
            lp_event = rows[torch.arange(len(rows)), targets].log()
            pitch -= float(lp_pitch.sum())
            dur -= float((lp_event - lp_pitch).sum())
            count += len(rows)
        return {"nll": (pitch + dur) / count, "pitch": pitch / count, "duration": dur / count}

    # ------------------------------------------------------------------ sampling
    def sample(self, prime: Sequence[Event], max_events: int, decoding: DecodingConfig,
               generator: torch.Generator | None = None) -> list[Event]:
        """Continue ``prime`` (the bigram looks at its last event) for up to ``max_events`` events.

        Tokens are drawn with :func:`rnnkit.decoding.sample_next` on the log-probabilities, so
        temperature/top-k/top-p mean the same as for the LSTM; UNK pitches and durations are
        never drawn.
        """
        ctx = self.tokens(prime)[-2]  # the prime's last event (BOS for an empty prime)
        out: list[Event] = []
        blocked = torch.zeros(self.K, dtype=torch.bool)
        for tok in range(self.K - 1):
            pid, did = self.event_of(tok)
            blocked[tok] = pid == UNK or did == DUR_UNK
        for _ in range(max_events):
            logits = self.table[ctx].log().float().masked_fill(blocked, -math.inf).unsqueeze(0)
            ctx = int(decoding.sample(logits, generator=generator)[0])
            if ctx == self.end:
                break
            pid, did = self.event_of(ctx)
            out.append((self.codec.pitch_of(pid), self.codec.ticks_of(did)))
        return out

    def summary(self) -> dict:
        return {"order": self.order, "alpha": self.alpha, "lambda": self.lam, "tokens": self.K}
