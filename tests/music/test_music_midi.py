"""MIDI writing and reading (mido), the melody reduction, and bad files."""

from __future__ import annotations

import mido
import pytest

from rnnkit.apps.music.data import load_midi_corpus
from rnnkit.apps.music.events import REST, normalize, parse_notes
from rnnkit.apps.music.midi_io import read_midi, write_midi


def test_written_melody_reads_back_exactly(tmp_path):
    # Leading and trailing rests, repeated pitches, a long note, dotted and 32nd-note values.
    events = parse_notes("r/1 G4/1 G4/1 D5/1/8 B4/3/2 r/1/2 A4/4 C6/1/4 r/2")
    path = write_midi(events, tmp_path / "m.mid")
    back = read_midi(path)
    assert back.events == events
    assert (back.dropped_short, back.dropped_overlap, back.notes) == (0, 0, 6)


def test_triplets_need_a_fine_enough_grid(tmp_path):
    events = parse_notes("C5/1/3 D5/1/3 E5/1/3 F5/1")
    path = write_midi(events, tmp_path / "t.mid")
    assert read_midi(path, grid=1).events == events
    # On the default 32nd-note grid the triplet onsets move to 16 -> 18 and 32 -> 30 ticks.
    assert read_midi(path).events == [(72, 18), (74, 12), (76, 18), (77, 48)]


def test_consecutive_rests_are_written_as_one(tmp_path):
    events = [(60, 48), (REST, 12), (REST, 12), (62, 48)]
    assert read_midi(write_midi(events, tmp_path / "r.mid")).events == normalize(events)


def _polyphonic(path, ticks_per_beat=96):
    """Two note tracks and a drum track; chords, a late note-off and timing jitter."""
    mid = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    q = ticks_per_beat
    melody = mido.MidiTrack([mido.MetaMessage("key_signature", key="Gm", time=0)])
    # (onset, offset, pitch): C5 quarter played 2 ticks late, a chord E5+G5 (G5 wins), then
    # A5 held past the next onset (cut there), a gap, and F5 released by velocity-0 note_on.
    notes = [(2, q, 72), (q, 2 * q, 76), (q, 2 * q, 79), (2 * q, 4 * q, 81), (3 * q, 4 * q, 74), (5 * q, 6 * q, 77)]
    bass = [(0, 4 * q, 48), (0, 2, 84)]  # a long bass note and a grace-like blip (too short)
    drums = [(0, q, 90)]

    def track(spec, channel, off_as_on=False):
        msgs = []
        for on, off, p in spec:
            msgs.append((on, mido.Message("note_on", note=p, velocity=64, channel=channel)))
            kind = "note_on" if off_as_on else "note_off"
            msgs.append((off, mido.Message(kind, note=p, velocity=0, channel=channel)))
        msgs.sort(key=lambda m: (m[0], m[1].type == "note_on" and m[1].velocity > 0))
        out, now = [], 0
        for t, m in msgs:
            out.append(m.copy(time=t - now))
            now = t
        return out

    melody.extend(track(notes, 0, off_as_on=True))
    mid.tracks.extend([melody, mido.MidiTrack(track(bass, 1)), mido.MidiTrack(track(drums, 9))])
    mid.save(str(path))
    return path


def test_polyphonic_file_reduces_to_the_top_line(tmp_path):
    mel = read_midi(_polyphonic(tmp_path / "poly.mid"))
    # bass C3 and the melody start together at 0 (C5 at 2 ticks rounds to 0): C5 wins; the
    # blip is too short; the chord keeps G5; A5 is cut by D5; a rest; F5.
    assert mel.events == parse_notes("C5/1 G5/1 A5/1 D5/1 r/1 F5/1")
    assert mel.key == (7, "minor")
    assert mel.dropped_short == 1 and mel.dropped_overlap == 2 and mel.tracks == [0, 1]
    only_bass = read_midi(tmp_path / "poly.mid", track=1)
    assert only_bass.events == parse_notes("C3/4")


def test_corrupt_midi_names_the_file(tmp_path):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x10\x00\x00\x90")
    with pytest.raises(ValueError, match="broken.mid: not a readable MIDI file"):
        read_midi(bad)
    noise = tmp_path / "noise.midi"
    noise.write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match="noise.midi: not a readable MIDI file"):
        read_midi(noise)


def test_file_without_notes_is_an_error(tmp_path):
    mid = mido.MidiFile()
    mid.tracks.append(mido.MidiTrack([mido.Message("note_on", note=40, velocity=90, channel=9),
                                      mido.Message("note_off", note=40, channel=9, time=100)]))
    mid.save(str(tmp_path / "drums.mid"))
    with pytest.raises(ValueError, match="drums.mid: no notes"):
        read_midi(tmp_path / "drums.mid")


def test_folder_skips_bad_files_counts_and_names_them(tmp_path):
    write_midi(parse_notes("C5/1 D5/1 E5/2"), tmp_path / "a" / "good.mid")
    write_midi(parse_notes("A4/1 B4/1 C5/2"), tmp_path / "b.MID")
    (tmp_path / "corrupt.mid").write_bytes(b"not a midi file at all")
    (tmp_path / "notes.txt").write_text("ignored: not a MIDI suffix")
    warnings = []
    corpus = load_midi_corpus(tmp_path, warn=warnings.append)
    assert sorted(m.name for m in corpus.melodies) == ["a/good.mid", "b.MID"]
    assert [p for p, _ in corpus.skipped] == [str(tmp_path / "corrupt.mid")]
    assert "corrupt.mid: not a readable MIDI file" in corpus.skipped[0][1] and len(warnings) == 1
    # With on_error="raise" the same folder stops at the bad file.
    with pytest.raises(ValueError, match="corrupt.mid"):
        load_midi_corpus(tmp_path, on_error="raise")
    # A single named bad file is always an error.
    with pytest.raises(ValueError, match="corrupt.mid"):
        load_midi_corpus(tmp_path / "corrupt.mid")


def test_folder_of_only_bad_files_and_empty_folder_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no MIDI files \(.mid/.midi\) in folder .*empty"):
        load_midi_corpus(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.mid").write_bytes(b"\x00" * 10)
    with pytest.raises(ValueError, match="no usable MIDI file .*all 1 were skipped"):
        load_midi_corpus(tmp_path / "bad", warn=lambda s: None)
    with pytest.raises(FileNotFoundError, match="no such MIDI file or folder"):
        load_midi_corpus(tmp_path / "missing")


def test_midi_key_comes_from_the_signature_else_from_music21(tmp_path):
    write_midi(parse_notes("D4/1 F#4/1 A4/1 D5/1 C#5/1 B4/1 A4/2 G4/1 F#4/1 E4/1 D4/2"), tmp_path / "d.mid")
    corpus = load_midi_corpus(tmp_path)
    assert (corpus.melodies[0].tonic_pc, corpus.melodies[0].mode) == (2, "major")  # no signature: estimated
    up = corpus.melodies[0].transposed()
    assert up.events[0] == (62 - 2, 48) and (up.tonic_pc, up.mode) == (0, "major")
