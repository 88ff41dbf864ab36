"""Chorale parsing against music21 itself, the parse cache, the split by tune."""

from __future__ import annotations

import json

import pytest

from rnnkit.apps.music.data import (
    CACHE_VERSION,
    Melody,
    load_chorales,
    split_melodies,
    tune_key,
)
from rnnkit.apps.music.events import REST, normalize, parse_notes

LAYOUTS = ["bach/bwv269", "bach/bwv250", "bach/bwv277"]  # as conftest.LAYOUTS (parsed there once)

# Read off the scores (music21's own rendering of the first notes, see the test below).
KNOWN_START = {
    "bach/bwv269": "G4/1 G4/2 D5/1 B4/3/2 A4/1/2 G4/1 G4/3/2",
    "bach/bwv250": "D4/1 G4/1 A4/1 B4/1 C5/1/2 D5/1/4 E5/1/4",
    "bach/bwv277": "A4/1 G#4/1 A4/1/2 B4/1/2 C5/1 D5/1 C5/1",
}


def _music21_melody(name):
    """The soprano line computed independently with music21's own stripTies()."""
    from music21 import corpus

    score = corpus.parse(name)
    part = next((p for p in score.parts if str(p.id).startswith("Soprano")), score.parts[0])
    events = [(e.pitch.midi if e.isNote else REST, round(e.quarterLength * 48))
              for e in part.stripTies().flatten().notesAndRests if e.quarterLength > 0]
    key = score.analyze("key")
    return normalize(events), (key.tonic.pitchClass, key.mode)


def _corpus(cache_root):
    return {m.name: m for m in load_chorales(names=LAYOUTS, cache_dir=cache_root / "music", progress=False).melodies}


@pytest.mark.parametrize("name", LAYOUTS)
def test_parsed_chorales_match_music21(cache_root, name):
    mel = _corpus(cache_root)[name]
    events, key = _music21_melody(name)
    assert mel.events == events
    assert (mel.tonic_pc, mel.mode) == key
    assert mel.events[:7] == parse_notes(KNOWN_START[name])


def test_soprano_is_found_by_name_behind_instrument_parts(cache_root):
    # bwv250's first two parts are horns; its melody starts on D4, the horns' does not.
    from music21 import corpus

    horn = corpus.parse("bach/bwv250").parts[0]
    assert horn.id == "Horn 1"
    assert _corpus(cache_root)["bach/bwv250"].events[0] == (62, 48)


def test_cache_is_used_and_holds_the_events(cache_root, monkeypatch):
    from rnnkit.apps.music import data

    def no_parsing(name):
        raise AssertionError(f"{name} was parsed again instead of read from the cache")

    monkeypatch.setattr(data, "parse_chorale", no_parsing)
    corpus = _corpus(cache_root)
    cached = json.loads((cache_root / "music" / CACHE_VERSION / "bach__bwv269.json").read_text())
    assert Melody.from_dict(cached).events == corpus["bach/bwv269"].events


def test_transposed_chorale_is_in_c_major(cache_root):
    mel = _corpus(cache_root)["bach/bwv269"]  # G major: moves up a fourth
    up = mel.transposed()
    assert up.events[:3] == parse_notes("C5/1 C5/2 G5/1") and (up.tonic_pc, up.mode) == (0, "major")


def test_split_is_seeded_and_keeps_one_tune_in_one_split(chorales):
    base = chorales.melodies
    # Two settings of one tune: a copy of the first melody in another key, and one that
    # differs only after the eighth interval.
    twin = Melody("twin", [(p + 2 if p != REST else p, t) for p, t in base[0].events])
    late = Melody("late", base[0].events[:10] + [(60, 48)])
    melodies = [*base, twin, late]
    assert tune_key(twin.events) == tune_key(base[0].events) == tune_key(late.events)
    for seed in range(6):
        splits = split_melodies(melodies, 0.2, 0.2, seed)
        assert splits == split_melodies(melodies, 0.2, 0.2, seed)
        where = [k for k, part in enumerate(splits) for m in part if m.name in (base[0].name, "twin", "late")]
        assert len(where) == 3 and len(set(where)) == 1
        assert sorted(m.name for part in splits for m in part) == sorted(m.name for m in melodies)
    with pytest.raises(ValueError, match="sum below 1"):
        split_melodies(melodies, 0.5, 0.5, 0)
