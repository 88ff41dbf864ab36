"""Manifest format, alphabet, bad input (named or counted), speaker splits, batches."""

import numpy as np
import pytest
import soundfile as sf
import torch

from rnnkit.apps.speech.data import (
    Alphabet,
    BadUtterance,
    SpeechBatches,
    Utterance,
    collate,
    ctc_min_frames,
    filter_feasible,
    load_examples,
    normalize_transcript,
    read_manifest,
    split_by_speaker,
)
from rnnkit.apps.speech.features import LogMelConfig

FEAT = LogMelConfig(n_mels=32)


def _tone(path, seconds=0.5, freq=440.0, sr=16000):
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr, subtype="PCM_16")


def _folder(tmp_path, lines, wavs=("a.wav", "b.wav")):
    for w in wavs:
        _tone(tmp_path / w)
    (tmp_path / "transcripts.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_alphabet_round_trip_and_blank():
    a = Alphabet()
    ids = a.encode("it's two")
    assert 0 not in ids and a.decode(ids) == "it's two"
    assert a.decode([0, *ids, 0]) == "it's two"
    assert len(a) == 29 and Alphabet.from_dict(a.to_dict()) == a
    with pytest.raises(ValueError, match="'é' are not in the alphabet"):
        a.encode("café")
    with pytest.raises(ValueError, match="repeated"):
        Alphabet("abca")


def test_normalize_transcript():
    assert normalize_transcript("  Three\tOH  seven\n") == "three oh seven"


def test_ctc_min_frames_counts_a_blank_between_repeats():
    a = Alphabet()
    assert ctc_min_frames(a.encode("hello")) == 6
    assert ctc_min_frames(a.encode("three")) == 6
    assert ctc_min_frames(a.encode("one")) == 3
    assert ctc_min_frames([]) == 0


def test_manifest_reads_columns_comments_and_relative_paths(tmp_path):
    folder = _folder(tmp_path, ["# file\ttranscript\tspeaker", "", "a.wav\tOne  Two\tann", "sub/../b.wav\tthree"])
    utts = read_manifest(folder)
    assert [(u.path.name, u.text, u.speaker) for u in utts] == [("a.wav", "One  Two", "ann"), ("b.wav", "three", "")]
    assert utts[0].path == tmp_path / "a.wav" and utts[0].where == "transcripts.tsv:3"
    assert read_manifest(folder / "transcripts.tsv")[1].where == "transcripts.tsv:4"


def test_manifest_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        read_manifest(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="empty of audio files and has no transcripts.tsv"):
        read_manifest(empty)
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    _tone(wavs / "x.wav")
    with pytest.raises(FileNotFoundError, match="holds 1 audio files but no transcripts.tsv"):
        read_manifest(wavs)
    bad = tmp_path / "bad.tsv"
    bad.write_text("a.wav\tone\n a.wav one two\n")
    with pytest.raises(ValueError, match=r"bad.tsv:2: expected 2 or 3 tab-separated columns"):
        read_manifest(bad)
    blank = tmp_path / "blank.tsv"
    blank.write_text("# only a comment\n\n")
    with pytest.raises(ValueError, match="lists no utterances"):
        read_manifest(blank)


def _bad_folder(tmp_path):
    folder = _folder(tmp_path, ["a.wav\tone two", "corrupt.wav\tthree", "b.wav\tcafé au lait", "missing.wav\tfour",
                                "a.wav\t   "])
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage")
    return folder


def test_bad_input_raises_naming_the_file_by_default(tmp_path):
    utts = read_manifest(_bad_folder(tmp_path))
    a = Alphabet()
    with pytest.raises(BadUtterance, match=r"corrupt.wav: cannot read audio.*transcripts.tsv:2.*on_bad=skip"):
        load_examples(utts[:2], FEAT, a)
    with pytest.raises(BadUtterance, match=r"b.wav \(transcripts.tsv:3\): transcript 'café au lait' has characters 'é'"):
        load_examples([utts[2]], FEAT, a)
    with pytest.raises(BadUtterance, match="missing.wav: no such audio file"):
        load_examples([utts[3]], FEAT, a)
    with pytest.raises(BadUtterance, match=r"a.wav \(transcripts.tsv:5\): empty transcript"):
        load_examples([utts[4]], FEAT, a)


def test_bad_input_is_skipped_and_counted_on_request(tmp_path):
    utts = read_manifest(_bad_folder(tmp_path))
    examples, skipped = load_examples(utts, FEAT, Alphabet(), on_bad="skip")
    assert [e.text for e in examples] == ["one two"]
    assert [s[0].rsplit("/", 1)[-1] for s in skipped] == ["corrupt.wav", "b.wav", "missing.wav", "a.wav"]
    assert all(name in reason for name, reason in skipped)
    # the same transcript passes once the alphabet holds its characters
    ok, skipped = load_examples([utts[2]], FEAT, Alphabet(" abcdefghijklmnopqrstuvwxyzé"), on_bad="skip")
    assert len(ok) == 1 and not skipped
    assert ok[0].features.shape == (51, 32)


def _utts(speakers, per=4):
    return [Utterance(f"/x/{s}{i}.wav", "one", s) for s in speakers for i in range(per)]


def test_split_by_speaker_keeps_speakers_apart_and_is_seeded():
    utts = _utts([f"s{k}" for k in range(20)])
    train, val, test, by_speaker = split_by_speaker(utts, 0.1, 0.2, seed=0)
    assert by_speaker and len(train) + len(val) + len(test) == len(utts)
    who = [{u.speaker for u in part} for part in (train, val, test)]
    assert len(who[2]) == 4 and len(who[1]) == 2 and len(who[0]) == 14
    assert not (who[0] & who[1] or who[0] & who[2] or who[1] & who[2])
    again = split_by_speaker(utts, 0.1, 0.2, seed=0)
    assert [u.path for u in again[2]] == [u.path for u in test]
    assert {u.speaker for u in split_by_speaker(utts, 0.1, 0.2, seed=1)[2]} != who[2]


def test_split_without_speakers_is_by_utterance_and_too_few_is_an_error():
    utts = [Utterance(f"/x/{i}.wav", "one") for i in range(30)]
    train, val, test, by_speaker = split_by_speaker(utts, 0.1, 0.1)
    assert not by_speaker and (len(train), len(val), len(test)) == (24, 3, 3)
    with pytest.raises(ValueError, match="2 speakers cannot be split"):
        split_by_speaker(_utts(["a", "b"]), 0.1, 0.1)


def _examples(lengths):
    from rnnkit.apps.speech.data import Example

    a = Alphabet()
    return [Example(torch.full((n, 3), float(i + 1)), torch.tensor(a.encode("ab"[: 1 + i % 2])), "ab"[: 1 + i % 2],
                    Utterance(f"/x/{i}.wav", "")) for i, n in enumerate(lengths)]


def test_collate_pads_features_and_labels_with_zeros():
    ex = _examples([5, 3])
    x, lengths, y, label_lengths, index = collate(ex, [1, 0])
    assert lengths.tolist() == [3, 5] and label_lengths.tolist() == [2, 1] and index.tolist() == [1, 0]
    assert torch.equal(x[0, :3], ex[1].features) and torch.equal(x[0, 3:], torch.zeros(2, 3))
    assert y.tolist() == [[3, 4], [3, 0]]


def test_batches_cover_every_example_once_in_a_seeded_length_bucketed_order():
    rng = np.random.default_rng(0)
    ex = _examples(rng.integers(5, 60, size=103).tolist())
    b = SpeechBatches(ex, batch_size=8, seed=7, pool=4)
    assert len(b) == 13
    b.set_epoch(1)
    first = [i for batch in b for i in batch[4].tolist()]
    assert sorted(first) == list(range(103))
    assert [i for batch in b for i in batch[4].tolist()] == first  # same epoch, same order
    b.set_epoch(2)
    assert [i for batch in b for i in batch[4].tolist()] != first
    # bucketing: padding is far below that of random batches
    pad = sum(int(bt[1].max() * len(bt[1]) - bt[1].sum()) for bt in b)
    b_random = SpeechBatches(ex, batch_size=8, seed=7, pool=1)
    pad_random = sum(int(bt[1].max() * len(bt[1]) - bt[1].sum()) for bt in b_random)
    assert pad < 0.5 * pad_random
    ordered = SpeechBatches(ex, batch_size=8, shuffle=False)
    lengths = [n for bt in ordered for n in bt[1].tolist()]
    assert lengths == sorted(lengths)
    with pytest.raises(ValueError, match="no utterances"):
        SpeechBatches([], 4)


def test_sortagrad_gives_length_order_in_the_first_epoch_only():
    ex = _examples(np.random.default_rng(1).integers(5, 60, size=40).tolist())
    b = SpeechBatches(ex, batch_size=4, seed=0, sortagrad=True)
    b.set_epoch(1)
    lengths = [n for bt in b for n in bt[1].tolist()]
    assert lengths == sorted(lengths)
    b.set_epoch(2)
    lengths = [n for bt in b for n in bt[1].tolist()]
    assert lengths != sorted(lengths) and sorted(lengths) == sorted(e.features.shape[0] for e in ex)


def test_filter_feasible_skips_what_ctc_cannot_align_and_says_why():
    a = Alphabet()
    from rnnkit.apps.speech.data import Example

    ok = Example(torch.zeros(12, 3), torch.tensor(a.encode("three")), "three", Utterance("/x/ok.wav", ""))
    short = Example(torch.zeros(10, 3), torch.tensor(a.encode("three")), "three", Utterance("/x/short.wav", ""))
    kept, skipped = filter_feasible([ok, short], lambda n: (n - 1) // 2 + 1)  # 6 and 5 frames; "three" needs 6
    assert kept == [ok]
    assert skipped[0][0] == "/x/short.wav" and "5 output frames cannot align its 6 CTC labels" in skipped[0][1]
