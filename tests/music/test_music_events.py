"""Events, the token codec and the note-text notation."""

from __future__ import annotations

import pytest

from rnnkit.apps.music.events import (
    BOS,
    DUR_UNK,
    END,
    PAD,
    REST,
    REST_ID,
    UNK,
    EventCodec,
    format_notes,
    normalize,
    parse_notes,
    pitch_name,
    quantize,
    transpose,
    transpose_shift,
)

MELODY = [(67, 48), (67, 96), (REST, 24), (74, 48), (71, 72), (69, 24), (61, 16)]


def test_codec_round_trip_and_layout():
    codec = EventCodec.fit([MELODY])
    assert (codec.lo, codec.hi) == (61, 74)
    assert codec.durations == [16, 24, 48, 72, 96]
    p, d = codec.encode(MELODY)
    assert codec.decode(p, d) == MELODY
    assert p[2] == REST_ID and int(p.min()) >= REST_ID and int(d.min()) > DUR_UNK
    assert codec.num_pitches == 5 + 14 and codec.num_durations == 3 + 5
    assert EventCodec.from_dict(codec.to_dict()) == codec


def test_training_pair_shifts_by_one_and_closes_with_end():
    codec = EventCodec.fit([MELODY])
    x_p, x_d, y_p, y_d = codec.training_pair(MELODY)
    p, d = codec.encode(MELODY)
    assert x_p.tolist() == [BOS, *p.tolist()] and x_d.tolist() == [BOS, *d.tolist()]
    assert y_p.tolist() == [*p.tolist(), END] and y_d.tolist() == [*d.tolist(), PAD]


def test_unknown_pitches_and_durations_encode_as_unk_and_do_not_decode():
    codec = EventCodec.fit([MELODY])
    p, d = codec.encode([(60, 48), (67, 12)])
    assert p.tolist()[0] == UNK and d.tolist()[1] == DUR_UNK
    assert codec.count_unknown([[(60, 48), (67, 12), (REST, 5)]]) == {"events": 3, "unknown_pitch": 1, "unknown_duration": 2}
    with pytest.raises(ValueError, match="special token"):
        codec.decode([UNK], [int(d[0])])


def test_normalize_merges_rests_and_drops_empty_events():
    assert normalize([(60, 12), (REST, 6), (REST, 0), (REST, 6), (62, 0), (62, 12)]) == [(60, 12), (REST, 12), (62, 12)]
    with pytest.raises(ValueError, match="negative duration"):
        normalize([(60, -1)])
    with pytest.raises(ValueError, match="outside MIDI"):
        normalize([(128, 12)])


@pytest.mark.parametrize("tonic,mode,shift", [(0, "major", 0), (7, "major", 5), (2, "major", -2),
                                              (9, "minor", 0), (4, "minor", 5), (11, "minor", -2), (6, "major", -6)])
def test_transpose_shift_reaches_c_major_or_a_minor_by_the_nearest_way(tonic, mode, shift):
    got = transpose_shift(tonic, mode)
    assert got == shift and -6 <= got <= 5
    assert (tonic + got) % 12 == (9 if mode == "minor" else 0)


def test_transpose_keeps_rests_and_refuses_to_leave_midi():
    assert transpose([(60, 12), (REST, 12)], 3) == [(63, 12), (REST, 12)]
    with pytest.raises(ValueError, match="outside MIDI"):
        transpose([(126, 12)], 5)


def test_note_text_round_trips():
    text = "G4/1 G4/2 r/1/2 D5/1 B4/3/2 A4/1/2 C#4/1/3"
    events = parse_notes(text)
    assert events == MELODY
    assert format_notes(events) == text
    assert parse_notes("Bb3/0.25 e#4/1") == [(58, 12), (65, 48)]
    assert pitch_name(60) == "C4" and pitch_name(REST) == "r"


@pytest.mark.parametrize("bad,match", [("C4", "NAME/QUARTERS"), ("H4/1", "not a note name"), ("C4/x", "not a number"),
                                       ("C4/0", "positive multiple"), ("C4/1/96", "positive multiple"), ("", "no notes")])
def test_note_text_errors_name_the_item(bad, match):
    with pytest.raises(ValueError, match=match):
        parse_notes(bad)


def test_quantize_rounds_to_the_grid():
    assert [quantize(t, 6) for t in (0, 2.9, 3, 8.9, 9, 14.5)] == [0, 0, 6, 6, 12, 12]
    assert quantize(47.6, 1) == 48
