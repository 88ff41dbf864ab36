"""Held-out scores: the LSTM's NLL per event, and histogram distances of generated music.

NLL per event (nats): ``-(1/M) sum_i log p(e_i | e_<i)`` over every predicted token of every piece
(its N events and the closing END, so M = sum (N + 1)), split exactly into a pitch part and a
duration part (:func:`rnnkit.apps.music.model.event_nll`). Perplexity is ``exp(NLL)``.

Histograms, normalised to sum 1:

- pitch class: ``count(pitch mod 12)`` over notes (rests skipped), 12 bins, C = 0;
- melodic interval: ``p_{i+1} - p_i`` between consecutive notes (rests skipped, not bridged
  across pieces), clipped to [-12, 12], 25 bins; larger leaps land in the end bins.

Distance: total variation ``TV(p, q) = 1/2 sum_k |p_k - q_k|`` in [0, 1].
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np
import torch

from rnnkit.apps.music.data import MelodyDataset, collate_melodies
from rnnkit.apps.music.events import REST, Event, EventCodec
from rnnkit.apps.music.model import MelodyLSTM, event_nll

__all__ = ["MAX_INTERVAL", "interval_histogram", "lstm_nll", "pitch_class_histogram", "total_variation"]

MAX_INTERVAL = 12


def _pitches(events: Sequence[Event]) -> list[int]:
    return [p for p, _ in events if p != REST]


def pitch_class_histogram(melodies: Iterable[Sequence[Event]]) -> np.ndarray:
    """``(12,)`` share of notes in each pitch class."""
    counts = np.zeros(12)
    for events in melodies:
        for p in _pitches(events):
            counts[p % 12] += 1
    return counts / max(counts.sum(), 1)


def interval_histogram(melodies: Iterable[Sequence[Event]]) -> np.ndarray:
    """``(25,)`` share of melodic intervals -12..12 semitones (clipped)."""
    counts = np.zeros(2 * MAX_INTERVAL + 1)
    for events in melodies:
        ps = _pitches(events)
        for a, b in itertools.pairwise(ps):
            counts[int(np.clip(b - a, -MAX_INTERVAL, MAX_INTERVAL)) + MAX_INTERVAL] += 1
    return counts / max(counts.sum(), 1)


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """``1/2 sum |p - q|`` of two histograms of equal length."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    if p.shape != q.shape:
        raise ValueError(f"histograms differ in length: {p.shape} and {q.shape}")
    return 0.5 * float(np.abs(p - q).sum())


@torch.no_grad()
def lstm_nll(model: MelodyLSTM, codec: EventCodec, melodies: Iterable[Sequence[Event]],
             batch_size: int = 32) -> dict[str, float]:
    """``{"nll", "pitch", "duration", "events"}``: the model's held-out NLL per event (nats)."""
    was_training = model.training
    model.eval()
    device = model.pitch_head.weight.device
    data = MelodyDataset(melodies, codec)
    pitch = dur = 0.0
    count = 0
    for start in range(0, len(data), batch_size):
        x_p, x_d, y_p, y_d = (t.to(device) for t in collate_melodies([data[i] for i in range(start, min(start + batch_size, len(data)))]))
        pl, dl = model(x_p, x_d, y_p)
        s_p, s_d, n = event_nll(pl, dl, y_p, y_d)
        pitch, dur, count = pitch + float(s_p), dur + float(s_d), count + int(n)
    model.train(was_training)
    if count == 0:
        raise ValueError("no events to score")
    return {"nll": (pitch + dur) / count, "pitch": pitch / count, "duration": dur / count, "events": count}
