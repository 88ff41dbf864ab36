"""`rnnkit music` end to end on tiny settings: train, report, evaluate, generate, user MIDI, errors."""

from __future__ import annotations

import json

import pytest

from rnnkit.cli import main
from rnnkit.apps.music.events import parse_notes
from rnnkit.apps.music.midi_io import read_midi, write_midi

TINY = ["--preset", "tiny", "data.limit=10", "train.tensorboard=false", "train.epochs=3"]


@pytest.fixture(scope="module")
def run(cache_root, tmp_path_factory):
    """One tiny chorale run shared by the tests below."""
    mp = pytest.MonkeyPatch()
    mp.setenv("RNNKIT_CACHE_DIR", str(cache_root))
    run_dir = tmp_path_factory.mktemp("music") / "run"
    assert main(["music", "train", "--run-dir", str(run_dir), *TINY]) == 0
    yield run_dir
    mp.undo()


def test_train_writes_the_report_and_its_pictures(run, cache_root):
    from rnnkit.apps.music.data import load_chorales

    for name in ("report.md", "report.json", "histograms.png", "pianoroll.png", "generated_1.mid", "codec.json",
                 "metrics.csv", "run.json"):
        assert (run / name).is_file(), name
    result = json.loads((run / "report.json").read_text())
    report = (run / "report.md").read_text()
    for key in ("lstm", "bigram", "unigram"):
        assert f"| {result['nll'][key]['nll']:.3f} |" in report
    assert result["data"]["train"] + result["data"]["val"] + result["data"]["test"] == 10
    test_events = sum(len(m.transposed().events) + 1 for m in load_chorales(names=result["data"]["test_pieces"],
                                                                          cache_dir=cache_root / "music", progress=False).melodies)
    assert result["nll"]["lstm"]["events"] == test_events  # every held-out event and each END
    assert result["nll"]["bigram"]["nll"] < result["nll"]["unigram"]["nll"]
    for scores in result["histograms"].values():
        assert 0 <= scores["pitch_class_tv"] <= 1 and 0 <= scores["interval_tv"] <= 1


def test_generated_midi_parses_back_to_the_reported_events(run):
    sample = json.loads((run / "report.json").read_text())["samples"][0]
    events = parse_notes(sample["prime"] + " " + sample["notes"])
    assert len(events) == 4 + sample["events"]
    assert read_midi(run / sample["midi"]).events == events


def test_evaluate_reproduces_the_reported_nll(run, capsys):
    assert main(["music", "evaluate", str(run)]) == 0
    out = dict(line.split(": ") for line in capsys.readouterr().out.strip().splitlines())
    nll = json.loads((run / "report.json").read_text())["nll"]
    assert float(out["lstm_nll"]) == pytest.approx(nll["lstm"]["nll"], abs=1e-4)
    assert float(out["bigram_nll"]) == pytest.approx(nll["bigram"]["nll"], abs=1e-4)


def test_generate_writes_midi_and_piano_roll_repeatably(run, tmp_path, capsys):
    args = ["music", "generate", str(run), "--prime", "C5/1 D5/1 E5/2", "--events", "12", "--seed", "3"]
    assert main([*args, "--out", str(tmp_path / "a.mid")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert main([*args, "--out", str(tmp_path / "b.mid")]) == 0
    capsys.readouterr()
    assert (tmp_path / "a.png").is_file()
    generated = parse_notes(printed[1].split(": ", 1)[1])
    a = read_midi(tmp_path / "a.mid").events
    assert a == parse_notes("C5/1 D5/1 E5/2") + generated == read_midi(tmp_path / "b.mid").events


def test_generate_from_a_midi_primer_returns_to_its_key(run, tmp_path, capsys):
    # A primer in D major: the model (trained in C) continues it, the result is moved back to D.
    write_midi(parse_notes("D5/1 F#5/1 A5/1 F#5/1 E5/1 D5/1 C#5/1 D5/2 A4/1 B4/1 C#5/1 D5/4"), tmp_path / "d.mid")
    out = tmp_path / "out.mid"
    assert main(["music", "generate", str(run), "--prime-midi", str(tmp_path / "d.mid"), "--prime-events", "3",
                 "--events", "8", "--out", str(out)]) == 0
    assert read_midi(out).events[:3] == parse_notes("D5/1 F#5/1 A5/1")


def test_training_on_a_midi_folder_counts_skipped_files(cache_root, tmp_path):
    from rnnkit.apps.music.data import load_chorales

    folder = tmp_path / "midi"
    for mel in load_chorales(limit=10, cache_dir=cache_root / "music", progress=False).melodies:
        write_midi(mel.events, folder / (mel.name.replace("/", "_") + ".mid"))
    (folder / "zz_corrupt.mid").write_bytes(b"MThd garbage")
    run_dir = tmp_path / "run"
    assert main(["music", "train", "--data", str(folder), "--run-dir", str(run_dir), *TINY]) == 0
    result = json.loads((run_dir / "report.json").read_text())
    assert result["data"]["pieces"] == 10 and [p for p, _ in result["data"]["skipped"]] == [str(folder / "zz_corrupt.mid")]
    assert "## Skipped files (1)" in (run_dir / "report.md").read_text()


def test_bad_input_gives_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["music", "train", "--data", str(tmp_path / "empty"), "--run-dir", str(tmp_path / "r")]) == 2
    assert f"no MIDI files (.mid/.midi) in folder {tmp_path / 'empty'}" in capsys.readouterr().err
    assert main(["music", "train", "--preset", "huge"]) == 2
    assert "unknown preset 'huge'" in capsys.readouterr().err
    assert main(["music", "generate", str(tmp_path)]) == 2
    assert "not an rnnkit run folder" in capsys.readouterr().err


def test_prime_key_moves_text_primers_into_the_models_key_and_back(run, tmp_path, capsys):
    common = ["--events", "10", "--seed", "5"]
    assert main(["music", "generate", str(run), "--prime", "C5/1 C5/1 G5/1", *common, "--out", str(tmp_path / "c.mid")]) == 0
    assert main(["music", "generate", str(run), "--prime", "G4/1 G4/1 D5/1", "--prime-key", "G", *common,
                 "--out", str(tmp_path / "g.mid")]) == 0
    in_c, in_g = read_midi(tmp_path / "c.mid").events, read_midi(tmp_path / "g.mid").events
    assert in_g == [(p - 5 if p >= 0 else p, t) for p, t in in_c]  # G major is C major moved down a fourth
    capsys.readouterr()
    assert main(["music", "generate", str(run), "--prime", "C5/1", "--prime-key", "H"]) == 2
    assert "--prime-key 'H' is not a key" in capsys.readouterr().err


def test_generate_primes_with_a_held_out_piece_by_default(run, cache_root, tmp_path, capsys):
    from rnnkit.apps.music.data import load_chorales

    name = json.loads((run / "report.json").read_text())["data"]["test_pieces"][0]
    held_out = load_chorales(names=[name], cache_dir=cache_root / "music", progress=False).melodies[0].transposed()
    assert main(["music", "generate", str(run), "--events", "5", "--out", str(tmp_path / "h.mid")]) == 0
    assert f"held-out piece {name}" in capsys.readouterr().out
    assert read_midi(tmp_path / "h.mid").events[:4] == held_out.events[:4]
    assert main(["music", "generate", str(run), "--test-piece", "99"]) == 2
    assert "--test-piece must be in [0, 1)" in capsys.readouterr().err
