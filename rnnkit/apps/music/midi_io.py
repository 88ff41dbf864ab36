"""MIDI files <-> melodies, with mido (a small, well-kept MIDI library).

Writing (:func:`write_midi`): one track, one channel; each note event is a note-on/note-off pair,
a rest only advances time, and a final rest is kept as the track's length (the end-of-track
message is placed after it). ``ticks_per_beat = 480``, i.e. 10 MIDI ticks per event tick.

Reading (:func:`read_midi`): the notes of the chosen track(s) (drums on channel 10 excluded) are
reduced to one melody line:

1. every note's onset and offset are converted to event ticks (48 per quarter = per MIDI beat)
   and rounded to a ``grid`` (default 6 ticks, a 32nd note); notes that round to zero length are
   dropped and counted;
2. at each onset the highest note starting there is kept ("skyline"); it lasts until its own
   offset or the next onset, whichever comes first;
3. the gaps become rests: silence before the first note and after the last one (up to the end
   of the track) is kept, so a file written by :func:`write_midi` reads back to the same events.

A file mido cannot read raises ValueError naming it; so does a file without notes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit.apps.music.events import REST, TICKS_PER_QUARTER, Event, normalize, quantize

__all__ = ["KEY_SIGNATURES", "MIDI_TICKS_PER_BEAT", "MidiMelody", "read_midi", "write_midi"]

MIDI_TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9
_KEY_TONIC = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6,
              "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11, "Cb": 11}
#: mido key names ("C", "Am", "Bb", ...) -> (tonic pitch class, mode)
KEY_SIGNATURES = {**{k: (v, "major") for k, v in _KEY_TONIC.items()},
                  **{k + "m": (v, "minor") for k, v in _KEY_TONIC.items()}}


def _mido():
    try:
        import mido
    except ImportError:
        raise ImportError("MIDI files need mido: pip install mido") from None
    return mido


@dataclass
class MidiMelody:
    """A melody read from a MIDI file, with what the reduction dropped.

    key: ``(tonic_pc, mode)`` from the file's first key-signature message, or None.
    dropped_short: notes shorter than half a grid step (zero length after rounding).
    dropped_overlap: notes that started with a higher one (the skyline kept one note per onset).
    """

    events: list[Event]
    key: tuple[int, str] | None = None
    dropped_short: int = 0
    dropped_overlap: int = 0
    notes: int = 0
    tracks: list[int] = field(default_factory=list)


def write_midi(events: Sequence[Event], path: str | Path, bpm: float = 90.0, program: int = 0,
               velocity: int = 80) -> Path:
    """Write a melody as a type-0 MIDI file; returns the path."""
    mido = _mido()
    scale = MIDI_TICKS_PER_BEAT // TICKS_PER_QUARTER
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    track.append(mido.Message("program_change", program=program, channel=0, time=0))
    wait = 0  # MIDI ticks since the last message
    for pitch, ticks in normalize(events):
        if pitch == REST:
            wait += ticks * scale
            continue
        track.append(mido.Message("note_on", note=pitch, velocity=velocity, channel=0, time=wait))
        track.append(mido.Message("note_off", note=pitch, velocity=0, channel=0, time=ticks * scale))
        wait = 0
    track.append(mido.MetaMessage("end_of_track", time=wait))
    mid = mido.MidiFile(type=0, ticks_per_beat=MIDI_TICKS_PER_BEAT)
    mid.tracks.append(track)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mid.save(str(path))
    return path


def _open(path: Path):
    mido = _mido()
    if not path.is_file():
        raise FileNotFoundError(f"MIDI file not found: {path}")
    try:
        return mido.MidiFile(str(path))
    except Exception as err:  # noqa: BLE001 -- mido raises OSError, EOFError, ValueError, KeyError, ... on bad bytes
        why = str(err) or ("the file ends before its data does: truncated?" if isinstance(err, EOFError) else "no detail")
        raise ValueError(f"{path}: not a readable MIDI file ({type(err).__name__}: {why})") from None


def read_midi(path: str | Path, grid: int = 6, track: int | None = None) -> MidiMelody:
    """Read ``path`` as one melody line (see the module docstring). ``track``: only that track."""
    path = Path(path)
    if grid < 1:
        raise ValueError(f"grid must be >= 1 tick, got {grid}")
    mid = _open(path)
    if mid.type == 2:
        raise ValueError(f"{path}: MIDI type 2 (independent sequences) is not supported")
    if track is not None and not 0 <= track < len(mid.tracks):
        raise ValueError(f"{path}: track {track} does not exist (the file has {len(mid.tracks)})")
    tpb = mid.ticks_per_beat
    key = None
    notes: list[tuple[int, int, int]] = []  # (onset, offset, pitch) in MIDI ticks
    end_time, used = 0, []
    for index, trk in enumerate(mid.tracks):
        if track is not None and index != track:
            continue
        now, sounding, found = 0, defaultdict(list), 0
        for msg in trk:
            now += msg.time
            if msg.type == "key_signature" and key is None:
                key = KEY_SIGNATURES.get(msg.key)
            elif msg.type in ("note_on", "note_off") and msg.channel != DRUM_CHANNEL:
                if msg.type == "note_on" and msg.velocity > 0:
                    sounding[(msg.channel, msg.note)].append(now)
                elif sounding[(msg.channel, msg.note)]:  # note_off, or note_on with velocity 0
                    notes.append((sounding[(msg.channel, msg.note)].pop(0), now, msg.note))
                    found += 1
        for (_, pitch), onsets in sounding.items():  # never released: sound to the track's end
            notes.extend((t, now, pitch) for t in onsets)
            found += len(onsets)
        if found:
            used.append(index)
            end_time = max(end_time, now)
    if not notes:
        raise ValueError(f"{path}: no notes (outside the drum channel) in "
                         f"{f'track {track}' if track is not None else 'any track'}")
    return _skyline(notes, end_time, tpb, grid, key, used)


def _skyline(notes, end_time: int, tpb: int, grid: int, key, used) -> MidiMelody:
    def to_ticks(t: int) -> int:
        return quantize(t * TICKS_PER_QUARTER / tpb, grid)

    by_onset: dict[int, tuple[int, int]] = {}
    short = overlap = 0
    for on, off, pitch in notes:
        on, off = to_ticks(on), to_ticks(off)
        if off <= on:
            short += 1
            continue
        if on in by_onset:
            overlap += 1
            if pitch <= by_onset[on][1]:
                continue
        by_onset[on] = (off, pitch)
    events: list[Event] = []
    now = 0
    onsets = sorted(by_onset)
    for i, on in enumerate(onsets):
        off, pitch = by_onset[on]
        if i + 1 < len(onsets):
            off = min(off, onsets[i + 1])
        if on > now:
            events.append((REST, on - now))
        events.append((pitch, off - on))
        now = off
    end = to_ticks(end_time)
    if end > now and events:
        events.append((REST, end - now))
    return MidiMelody(normalize(events), key, short, overlap, len(notes), used)
