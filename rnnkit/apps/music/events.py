"""Melodies as events: ``(pitch, duration)`` pairs, and the token codec the model reads.

An event is a tuple ``(pitch, ticks)``:

- ``pitch``: a MIDI note number 0..127, or :data:`REST` (-1) for silence;
- ``ticks``: the duration in ticks of :data:`TICKS_PER_QUARTER` (48) per quarter note, an int >= 1.
  48 divides every duration in the Bach chorales (the shortest is a 32nd note, 6 ticks) and
  triplets (a triplet eighth is 16 ticks), so the chorales are stored exactly.

A melody is a list of events, played one after another (monophonic). Normal form
(:func:`normalize`): no zero-length events, no two rests in a row (they are merged).

:class:`EventCodec` maps events to two token streams, one id per event in each::

    pitch ids:    PAD=0 BOS=1 END=2 UNK=3 REST=4, then the pitches lo..hi    (V_p = 5 + hi - lo + 1)
    duration ids: PAD=0 BOS=1 UNK=2, then the training durations in ticks     (V_d = 3 + #durations)

A piece of N events becomes inputs ``[BOS, e_1 .. e_N]`` and targets ``[e_1 .. e_N, END]``; the END
step has no duration (its duration target is PAD, ignored by the loss).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fractions import Fraction

import torch

__all__ = [
    "BOS",
    "DUR_UNK",
    "END",
    "PAD",
    "REST",
    "REST_ID",
    "TICKS_PER_QUARTER",
    "UNK",
    "Event",
    "EventCodec",
    "format_notes",
    "normalize",
    "parse_notes",
    "pitch_name",
    "quantize",
    "transpose",
    "transpose_shift",
]

REST = -1
TICKS_PER_QUARTER = 48
Event = tuple[int, int]

PAD, BOS, END, UNK, REST_ID = 0, 1, 2, 3, 4  # pitch-stream specials
DUR_UNK = 2  # duration-stream UNK (PAD and BOS share the pitch stream's ids)
_PITCH_SPECIALS = 5
_DUR_SPECIALS = 3

_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
_STEP_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_NOTE_RE = re.compile(r"^([A-Ga-g])([#b]*)(-?\d+)$")


def normalize(events: Iterable[Sequence[int]]) -> list[Event]:
    """Drop zero-length events and merge runs of rests: the form every loader returns.

    Raises ValueError on a negative duration or a pitch outside REST or 0..127.
    """
    out: list[Event] = []
    for pitch, ticks in events:
        pitch, ticks = int(pitch), int(ticks)
        if ticks < 0:
            raise ValueError(f"event ({pitch}, {ticks}) has a negative duration")
        if pitch != REST and not 0 <= pitch <= 127:
            raise ValueError(f"event ({pitch}, {ticks}) has a pitch outside MIDI 0..127 (or REST=-1)")
        if ticks == 0:
            continue
        if pitch == REST and out and out[-1][0] == REST:
            out[-1] = (REST, out[-1][1] + ticks)
        else:
            out.append((pitch, ticks))
    return out


def transpose_shift(tonic_pc: int, mode: str) -> int:
    """Semitones that move a key with tonic pitch class ``tonic_pc`` to C major / A minor.

    The shift is the nearest one, in ``[-6, 5]``, so melodies move at most a tritone.
    """
    target = 9 if mode == "minor" else 0
    return (target - int(tonic_pc) + 6) % 12 - 6


def transpose(events: Iterable[Event], semitones: int) -> list[Event]:
    """Shift every pitch by ``semitones`` (rests stay rests); raises if one leaves MIDI 0..127."""
    out = []
    for p, t in events:
        if p != REST:
            p += semitones
            if not 0 <= p <= 127:
                raise ValueError(f"transposing by {semitones} takes pitch {p - semitones} outside MIDI 0..127")
        out.append((p, t))
    return out


def quantize(ticks: float, grid: int) -> int:
    """Round a time in ticks to the nearest multiple of ``grid`` ticks (halves round up)."""
    return int((Fraction(ticks) / grid + Fraction(1, 2)) // 1) * grid


def pitch_name(pitch: int) -> str:
    """``60 -> "C4"``, ``REST -> "r"`` (scientific pitch notation, MIDI 60 = middle C = C4)."""
    if pitch == REST:
        return "r"
    return f"{_NAMES[pitch % 12]}{pitch // 12 - 1}"


def parse_notes(text: str) -> list[Event]:
    """Events from text such as ``"C5/1 D5/0.5 r/0.5 F#4/1/3"``: ``NAME/QUARTERS`` per event.

    NAME is a note (letter, ``#``/``b`` accidentals, octave; C4 = MIDI 60) or ``r`` for a rest;
    QUARTERS is the duration in quarter notes (decimal or fraction) and must be a whole number
    of ticks (1/48 quarter). Raises ValueError naming the bad item.
    """
    events: list[Event] = []
    for item in text.split():
        name, sep, dur = item.partition("/")
        if not sep:
            raise ValueError(f"note {item!r}: expected NAME/QUARTERS, e.g. C5/1 or r/0.5")
        try:
            ticks = Fraction(dur) * TICKS_PER_QUARTER
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"note {item!r}: duration {dur!r} is not a number of quarter notes") from None
        if ticks <= 0 or ticks.denominator != 1:
            raise ValueError(f"note {item!r}: duration must be a positive multiple of 1/{TICKS_PER_QUARTER} quarter")
        if name.lower() == "r":
            pitch = REST
        else:
            m = _NOTE_RE.match(name)
            if not m:
                raise ValueError(f"note {item!r}: {name!r} is not a note name like C4, F#5, Bb3 or r")
            step, acc, octave = m.groups()
            pitch = 12 * (int(octave) + 1) + _STEP_PC[step.upper()] + acc.count("#") - acc.count("b")
            if not 0 <= pitch <= 127:
                raise ValueError(f"note {item!r} is outside MIDI 0..127")
        events.append((pitch, int(ticks)))
    if not events:
        raise ValueError("no notes given (expected e.g. 'C5/1 D5/0.5 r/0.5')")
    return events


def format_notes(events: Iterable[Event]) -> str:
    """Inverse of :func:`parse_notes`: ``"C5/1 D5/1/2 r/1/2"`` (durations as exact fractions)."""
    return " ".join(f"{pitch_name(p)}/{Fraction(t, TICKS_PER_QUARTER)}" for p, t in events)


class EventCodec:
    """Events <-> token ids, with a pitch range ``[lo, hi]`` and a list of durations (ticks).

    Build it from the training melodies with :meth:`fit`; pitches outside the range and unseen
    durations encode as UNK (counted by :meth:`count_unknown`), which :meth:`decode` refuses.
    """

    def __init__(self, lo: int, hi: int, durations: Sequence[int]):
        if not 0 <= lo <= hi <= 127:
            raise ValueError(f"pitch range must satisfy 0 <= lo <= hi <= 127, got {lo}..{hi}")
        durations = sorted({int(d) for d in durations})
        if not durations or durations[0] < 1:
            raise ValueError(f"durations must be positive tick counts, got {durations}")
        self.lo, self.hi, self.durations = int(lo), int(hi), durations
        self._dur_id = {d: _DUR_SPECIALS + i for i, d in enumerate(durations)}

    @classmethod
    def fit(cls, melodies: Iterable[Sequence[Event]]) -> EventCodec:
        pitches, durs = set(), set()
        for events in melodies:
            for p, t in events:
                if p != REST:
                    pitches.add(p)
                durs.add(t)
        if not durs:
            raise ValueError("cannot build a codec from melodies without events")
        if not pitches:
            raise ValueError("cannot build a codec from melodies that hold only rests")
        return cls(min(pitches), max(pitches), durs)

    @property
    def num_pitches(self) -> int:
        """V_p: the pitch vocabulary, specials included."""
        return _PITCH_SPECIALS + self.hi - self.lo + 1

    @property
    def num_durations(self) -> int:
        """V_d: the duration vocabulary, specials included."""
        return _DUR_SPECIALS + len(self.durations)

    def pitch_id(self, pitch: int) -> int:
        if pitch == REST:
            return REST_ID
        return _PITCH_SPECIALS + pitch - self.lo if self.lo <= pitch <= self.hi else UNK

    def dur_id(self, ticks: int) -> int:
        return self._dur_id.get(int(ticks), DUR_UNK)

    def pitch_of(self, pid: int) -> int:
        if pid == REST_ID:
            return REST
        if _PITCH_SPECIALS <= pid < self.num_pitches:
            return self.lo + pid - _PITCH_SPECIALS
        raise ValueError(f"pitch id {pid} is a special token (PAD/BOS/END/UNK) or out of range, not a pitch")

    def ticks_of(self, did: int) -> int:
        if _DUR_SPECIALS <= did < self.num_durations:
            return self.durations[did - _DUR_SPECIALS]
        raise ValueError(f"duration id {did} is a special token (PAD/BOS/UNK) or out of range, not a duration")

    def encode(self, events: Sequence[Event]) -> tuple[torch.Tensor, torch.Tensor]:
        """``N`` events -> pitch ids ``(N,)`` and duration ids ``(N,)`` (long)."""
        p = torch.tensor([self.pitch_id(e[0]) for e in events], dtype=torch.long)
        d = torch.tensor([self.dur_id(e[1]) for e in events], dtype=torch.long)
        return p, d

    def decode(self, pitch_ids: Iterable[int], dur_ids: Iterable[int]) -> list[Event]:
        """Inverse of :meth:`encode` for ids of real events (no specials)."""
        return [(self.pitch_of(int(p)), self.ticks_of(int(d))) for p, d in zip(pitch_ids, dur_ids, strict=True)]

    def training_pair(self, events: Sequence[Event]) -> tuple[torch.Tensor, ...]:
        """Inputs and targets of one piece, each ``(N + 1,)``: ``x_p, x_d, y_p, y_d``.

        ``x = [BOS, e_1..e_N]``, ``y = [e_1..e_N, END]``; the END step's duration target is PAD.
        """
        p, d = self.encode(events)
        bos, end, pad = (torch.tensor([v]) for v in (BOS, END, PAD))
        return torch.cat([bos, p]), torch.cat([bos, d]), torch.cat([p, end]), torch.cat([d, pad])

    def count_unknown(self, melodies: Iterable[Sequence[Event]]) -> dict[str, int]:
        """How many events have an out-of-range pitch or an unseen duration (UNK tokens)."""
        pitches = durs = total = 0
        for events in melodies:
            for p, t in events:
                total += 1
                pitches += self.pitch_id(p) == UNK
                durs += self.dur_id(t) == DUR_UNK
        return {"events": total, "unknown_pitch": int(pitches), "unknown_duration": int(durs)}

    def to_dict(self) -> dict:
        return {"lo": self.lo, "hi": self.hi, "durations": list(self.durations)}

    @classmethod
    def from_dict(cls, d: dict) -> EventCodec:
        return cls(d["lo"], d["hi"], d["durations"])

    def __eq__(self, other) -> bool:
        return isinstance(other, EventCodec) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return (f"EventCodec(pitches {pitch_name(self.lo)}..{pitch_name(self.hi)}, "
                f"{len(self.durations)} durations; V_p={self.num_pitches}, V_d={self.num_durations})")
