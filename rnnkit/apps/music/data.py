"""Melody corpora: the Bach chorales bundled with music21, or the user's MIDI files.

Bach chorales
    ``music21.corpus.chorales.Iterator(numberingSystem="riemenschneider")`` lists 371 chorales,
    which are 350 distinct files (21 numbers repeat a file); each file is used once. The melody is
    the part named "Soprano..." (else the first part, as in the four humdrum files). Parsing a
    chorale takes about 0.1-0.3 s, so each one is parsed once and cached as JSON under
    ``$RNNKIT_CACHE_DIR/music/chorales-v1/`` (default ``~/.cache/rnnkit``). The key comes from
    ``score.analyze("key")`` (Krumhansl-Schmuckler on all four voices).

    Soprano -> events: ties are merged into one event; a chord keeps its highest note; grace notes
    (zero duration) and notes of a second voice that overlap the first are dropped and counted;
    gaps and rests become rest events; repeats are not expanded (the written form).

User MIDI files
    A ``.mid``/``.midi`` file or a folder of them (searched recursively), each reduced to one
    melody line by :func:`rnnkit.apps.music.midi_io.read_midi`. In a folder, a file that cannot be
    read (corrupt, no notes) is skipped, counted and named in ``MelodyCorpus.skipped``, and the
    run reports it; ``on_error="raise"`` stops at the first one instead. A single named file
    that cannot be read is always an error, and so is a folder with no usable file.

Keys and transposition
    Every melody carries its key (tonic pitch class, mode); ``transpose=True`` moves each one to
    C major or A minor by the nearest shift (at most a tritone). A MIDI file's key is its first
    key-signature message, else music21's analysis of the melody itself.

Split
    :func:`split_melodies` holds out whole tunes: pieces whose first eight melodic intervals are
    the same (the same chorale tune in two harmonisations) go to the same split, so the held-out
    melodies are not tunes seen in training. The split is a seeded shuffle of those groups.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import torch
from torch.utils.data import Dataset

from rnnkit.data.cache import cache_root
from rnnkit.apps.music.events import (
    PAD,
    REST,
    TICKS_PER_QUARTER,
    Event,
    EventCodec,
    normalize,
    transpose,
    transpose_shift,
)
from rnnkit.apps.music.midi_io import read_midi

__all__ = [
    "CACHE_VERSION",
    "MIDI_SUFFIXES",
    "Melody",
    "MelodyCorpus",
    "MelodyDataset",
    "cache_root",
    "chorale_names",
    "collate_melodies",
    "estimate_key",
    "load_chorales",
    "load_midi_corpus",
    "midi_files",
    "parse_chorale",
    "soprano_events",
    "split_melodies",
    "tune_key",
]

CACHE_VERSION = "chorales-v1"
MIDI_SUFFIXES = (".mid", ".midi")
_INSTALL = "the Bach chorales need music21: pip install music21"


@dataclass
class Melody:
    """One monophonic melody: ``events`` (pitch, ticks), its key, where it came from."""

    name: str
    events: list[Event]
    tonic_pc: int | None = None
    mode: str | None = None
    dropped: dict = field(default_factory=dict)

    def transposed(self) -> Melody:
        """This melody in C major / A minor (unchanged when its key is unknown)."""
        if self.tonic_pc is None:
            return self
        shift = transpose_shift(self.tonic_pc, self.mode or "major")
        key = (0, "major") if self.mode != "minor" else (9, "minor")
        return Melody(self.name, transpose(self.events, shift), *key, dict(self.dropped))

    def to_dict(self) -> dict:
        return {"name": self.name, "events": [list(e) for e in self.events], "tonic_pc": self.tonic_pc,
                "mode": self.mode, "dropped": self.dropped}

    @classmethod
    def from_dict(cls, d: dict) -> Melody:
        return cls(d["name"], [tuple(e) for e in d["events"]], d.get("tonic_pc"), d.get("mode"),
                   dict(d.get("dropped", {})))


@dataclass
class MelodyCorpus:
    """Melodies plus the files that were skipped, as ``(path, reason)``."""

    melodies: list[Melody]
    source: str
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _music21():
    try:
        import music21
    except ImportError:
        raise ImportError(_INSTALL) from None
    return music21


# ------------------------------------------------------------------------------- chorales
def chorale_names() -> list[str]:
    """The distinct corpus paths of music21's 371 Riemenschneider chorales (350 files), in order."""
    m21 = _music21()
    names = m21.corpus.chorales.Iterator(numberingSystem="riemenschneider", returnType="filename")
    return list(dict.fromkeys(names))


def _melody_part(score):
    for part in score.parts:
        if str(part.id).lower().startswith("soprano") or str(part.partName or "").lower().startswith("soprano"):
            return part
    return score.parts[0]


def soprano_events(part) -> tuple[list[Event], dict]:
    """Events of a music21 part (see the module docstring for the rules) and the drop counts."""
    m21 = _music21()
    events: list[Event] = []
    dropped = {"grace": 0, "chord": 0, "overlap": 0}
    now = Fraction(0)
    elements = sorted(part.flatten().notesAndRests, key=lambda e: Fraction(e.offset))
    for el in elements:
        offset, length = Fraction(el.offset), Fraction(el.duration.quarterLength)
        if length == 0 or el.duration.isGrace:
            dropped["grace"] += 1
            continue
        if offset < now:  # a second voice in the same part
            dropped["overlap"] += 1
            continue
        if offset > now:
            events.append((REST, _ticks(offset - now)))
        if isinstance(el, m21.chord.Chord):
            dropped["chord"] += 1
            pitch = max(p.midi for p in el.pitches)
        elif isinstance(el, m21.note.Note):
            pitch = el.pitch.midi
        else:
            pitch = REST
        tie = el.tie.type if getattr(el, "tie", None) is not None else None
        if tie in ("stop", "continue") and events and events[-1][0] == pitch != REST:
            events[-1] = (pitch, events[-1][1] + _ticks(length))
        else:
            events.append((pitch, _ticks(length)))
        now = offset + length
    return normalize(events), dropped


def _ticks(quarters: Fraction) -> int:
    # Chorale durations are multiples of 1/8 quarter, so this is exact; round anything finer.
    return max(1, round(quarters * TICKS_PER_QUARTER))


def parse_chorale(name: str) -> Melody:
    """Parse one chorale (corpus path like ``"bach/bwv269"``) with music21: its soprano melody."""
    m21 = _music21()
    score = m21.corpus.parse(name)
    events, dropped = soprano_events(_melody_part(score))
    key = score.analyze("key")
    return Melody(name, events, int(key.tonic.pitchClass), str(key.mode), dropped)


def _cache_file(folder: Path, name: str) -> Path:
    return folder / (name.replace("/", "__") + ".json")


def load_chorales(limit: int | None = None, cache_dir: str | Path | None = None,
                  progress: bool = True, names: Sequence[str] | None = None) -> MelodyCorpus:
    """The chorale melodies (first ``limit`` of them, or the corpus paths in ``names``).

    Each chorale is read from the cache when it is there, else parsed and cached at once (one
    small JSON file per chorale, written atomically), so an interrupted first run loses nothing.
    """
    from rnnkit.train import atomic_write_json

    folder = (Path(cache_dir) if cache_dir else cache_root() / "music") / CACHE_VERSION
    names = list(names) if names is not None else chorale_names()
    if limit is not None:
        names = names[:limit]
    missing = [n for n in names if not _cache_file(folder, n).is_file()]
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
        bar = _bar(missing, progress, f"parsing chorales (once; cached in {folder})")
        for name in bar:
            atomic_write_json(_cache_file(folder, name), parse_chorale(name).to_dict())
    melodies = [Melody.from_dict(json.loads(_cache_file(folder, n).read_text("utf-8"))) for n in names]
    return MelodyCorpus(melodies, f"Bach chorales (music21 corpus, {len(melodies)} files)")


def _bar(items, progress: bool, desc: str):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="file")


# ------------------------------------------------------------------------------- MIDI
def estimate_key(events: Sequence[Event]) -> tuple[int, str] | None:
    """music21's Krumhansl-Schmuckler key of a melody; None without music21 or notes."""
    try:
        m21 = _music21()
    except ImportError:
        return None
    stream = m21.stream.Stream()
    for pitch, ticks in events:
        if pitch != REST:
            stream.append(m21.note.Note(pitch, quarterLength=Fraction(ticks, TICKS_PER_QUARTER)))
    if not len(stream):
        return None
    key = stream.analyze("key")
    return int(key.tonic.pitchClass), str(key.mode)


def midi_files(path: str | Path) -> list[Path]:
    """The MIDI files under ``path`` (a file, or a folder searched recursively), sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"no such MIDI file or folder: {path}")
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"no MIDI files ({'/'.join(MIDI_SUFFIXES)}) in folder {path}")
    return files


def load_midi_corpus(path: str | Path, grid: int = 6, track: int | None = None,
                     on_error: str = "skip", progress: bool = False,
                     warn: Callable[[str], None] = print) -> MelodyCorpus:
    """Melodies from the user's MIDI file or folder (see the module docstring for bad files)."""
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}")
    path = Path(path)
    files = midi_files(path)
    melodies, skipped = [], []
    for f in _bar(files, progress, "reading MIDI"):
        try:
            mel = read_midi(f, grid=grid, track=track)
            if not any(p != REST for p, _ in mel.events):
                raise ValueError(f"{f}: no note is longer than half the grid ({grid} ticks)")
        except ValueError as err:
            if on_error == "raise" or path.is_file():
                raise
            skipped.append((str(f), str(err)))
            warn(f"skipping {err}")
            continue
        key = mel.key or estimate_key(mel.events)
        dropped = {"short": mel.dropped_short, "overlap": mel.dropped_overlap}
        melodies.append(Melody(str(f.relative_to(path) if path.is_dir() else f.name), mel.events,
                               *(key or (None, None)), dropped))
    if not melodies:
        raise ValueError(f"no usable MIDI file in {path}: all {len(files)} were skipped "
                         f"(first: {skipped[0][1]})")
    return MelodyCorpus(melodies, f"MIDI files in {path}", skipped)


# ------------------------------------------------------------------------------- split
def tune_key(events: Sequence[Event], n: int = 8) -> tuple[int, ...]:
    """The first ``n`` melodic intervals (rests skipped): equal for two settings of one tune."""
    pitches = [p for p, _ in events if p != REST][: n + 1]
    return tuple(b - a for a, b in itertools.pairwise(pitches))


def split_melodies(melodies: Sequence[Melody], val_fraction: float, test_fraction: float,
                   seed: int) -> tuple[list[Melody], list[Melody], list[Melody]]:
    """Seeded train/validation/test split by tune (see the module docstring).

    Groups are shuffled with ``random.Random(seed)`` and dealt to test, then validation, until
    each holds its fraction of the pieces; the rest is training. Each split keeps corpus order.
    """
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction and test_fraction must be in [0, 1) with a sum below 1, "
                         f"got {val_fraction} and {test_fraction}")
    groups: dict[tuple, list[int]] = {}
    for i, mel in enumerate(melodies):
        groups.setdefault(tune_key(mel.events), []).append(i)
    order = list(groups.values())
    random.Random(seed).shuffle(order)
    n = len(melodies)
    want_test, want_val = round(n * test_fraction), round(n * val_fraction)
    test, val, train = [], [], []
    for g in order:
        if len(test) < want_test:
            test += g
        elif len(val) < want_val:
            val += g
        else:
            train += g
    pick = lambda idx: [melodies[i] for i in sorted(idx)]
    return pick(train), pick(val), pick(test)


# ------------------------------------------------------------------------------- batches
class MelodyDataset(Dataset):
    """Each item is one piece's ``(x_p, x_d, y_p, y_d)``, see :meth:`EventCodec.training_pair`."""

    def __init__(self, melodies: Iterable[Sequence[Event]], codec: EventCodec):
        self.items = [codec.training_pair(events) for events in melodies if events]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self.items[i]


def collate_melodies(items) -> tuple[torch.Tensor, ...]:
    """Pad a list of pieces with PAD to ``(B, T)`` each: ``x_p, x_d, y_p, y_d``."""
    T = max(item[0].numel() for item in items)
    out = torch.full((4, len(items), T), PAD, dtype=torch.long)
    for b, item in enumerate(items):
        for k in range(4):
            out[k, b, : item[k].numel()] = item[k]
    return tuple(out.unbind(0))
