"""End to end on the tiny preset: training lowers the loss, the report, evaluate, transcribe, CLI,
the user's own folder with bad files skipped and counted, and real recordings (pocketsphinx)."""

import json
import shutil

import pytest

from rnnkit.cli import main
from rnnkit.apps.speech import pipeline as sp
from rnnkit.apps.speech.real import INSTALL_HINT, pocketsphinx_utterances


@pytest.mark.learning
def test_tiny_run_trains_its_loss_falls_and_writes_its_report(tiny_run):
    run_dir, result = tiny_run
    rows = [json.loads(json.dumps(r)) for r in result["history"]]
    assert rows[-1]["train_loss"] < 0.7 * rows[0]["train_loss"]  # measured 0.38-0.44 (4 seeds x 4 rounding settings)
    for name in ("report.md", "report.json", "logmel.png", "metrics.csv", "alphabet.json", "run.json"):
        assert (run_dir / name).is_file(), name
    report = (run_dir / "report.md").read_text()
    assert "| greedy |" in report and "prefix beam (width 4)" in report and "test speakers never heard" in report
    data = result["data"]
    assert data["by_speaker"] and data["train"] + data["val"] + data["test"] == 48
    assert (run_dir / "logmel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for r in result["test"].values():
        assert 0.0 <= r["cer"] and r["utterances"] == data["test"]


def test_training_is_reproducible_from_its_seed(tiny_corpus, tiny_config, tmp_path):
    """Initial weights, batch order, masks and dropout all come from train.seed."""
    import torch

    cfg = tiny_config("train.epochs=1", "real_speech=false", "train.plots=false")
    first = sp.train(cfg, tmp_path / "a", echo=lambda *_: None)
    torch.manual_seed(123)  # whatever the process did before does not matter
    second = sp.train(cfg, tmp_path / "b", echo=lambda *_: None)
    assert first["history"] == second["history"]
    assert first["test"] == second["test"]


def test_evaluate_reproduces_the_reported_test_figures(tiny_run):
    run_dir, result = tiny_run
    metrics = sp.evaluate(run_dir, echo=lambda *_: None)
    assert metrics["test_utterances"] == result["data"]["test"]
    assert metrics["greedy_wer"] == pytest.approx(result["test"]["greedy"]["wer"])
    assert metrics["greedy_cer"] == pytest.approx(result["test"]["greedy"]["cer"])
    assert metrics["beam4_cer"] == pytest.approx(result["test"]["prefix beam (width 4)"]["cer"])


def test_transcribe_cli_prints_one_line_per_file_and_scores_a_reference(tiny_run, tiny_corpus, capsys):
    run_dir, _ = tiny_run
    wavs = sorted((tiny_corpus / "wavs").glob("*.wav"))[:3]
    assert main(["speech", "transcribe", str(run_dir), *map(str, wavs), "--reference",
                 str(tiny_corpus / "transcripts.tsv"), "--beam-width", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split("\t")[0] for ln in lines[:3]] == [str(w) for w in wavs]
    assert lines[3].startswith("WER ") and "(3 files)" in lines[3]
    greedy = sp.transcribe(run_dir, wavs)
    beam1 = sp.transcribe(run_dir, wavs, method="beam", beam_width=1)
    assert all(set(t) <= set(" 'abcdefghijklmnopqrstuvwxyz") for _, t in greedy)
    assert len(beam1) == 3


def test_real_recordings_are_transcribed(tiny_run):
    """Smoke test on real speech: a synthetic-trained model is expected to be poor on it; this
    checks that real clips (WAV and raw PCM) go through the pipeline and come out as text."""
    utts = pocketsphinx_utterances()
    if not utts:
        pytest.skip(f"pocketsphinx-testdata is not installed: {INSTALL_HINT}")
    run_dir, result = tiny_run
    out = sp.transcribe(run_dir, [u.path for u in utts])
    assert [f for f, _ in out] == [str(u.path) for u in utts]
    assert all(isinstance(t, str) and set(t) <= set(" 'abcdefghijklmnopqrstuvwxyz") for _, t in out)
    real = result["real_speech"]
    assert real["utterances"] == len(utts) and not real["skipped"] and real["wer"] >= 0


def test_cli_trains_a_users_folder_skipping_and_counting_bad_files(tiny_corpus, tmp_path, capsys):
    """A user's folder (TSV with speakers) holding a corrupt WAV and a transcript outside the
    alphabet: the default stops naming the file; data.on_bad=skip trains and reports both."""
    folder = tmp_path / "mydata"
    shutil.copytree(tiny_corpus / "wavs", folder / "clips")
    lines = [ln for ln in (tiny_corpus / "transcripts.tsv").read_text().splitlines() if not ln.startswith("#")]
    lines = [ln.replace("wavs/", "clips/") for ln in lines]
    (folder / "clips" / "broken.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEnot really audio")
    lines.append("clips/broken.wav\tone two\tnew+speaker")
    name, _, speaker = lines[0].split("\t")
    lines[0] = f"{name}\tthree 3 four\t{speaker}"
    (folder / "transcripts.tsv").write_text("\n".join(lines) + "\n")
    common = ["speech", "train", "--preset", "tiny", "--data", str(folder), "train.progress=false", "train.epochs=1",
              "real_speech=false"]

    assert main([*common, "--run-dir", str(tmp_path / "strict")]) == 2
    err = capsys.readouterr().err
    assert "rnnkit: error:" in err and "data.on_bad=skip" in err
    assert "broken.wav" in err or "'3'" in err

    assert main([*common, "--run-dir", str(tmp_path / "lenient"), "data.on_bad=skip"]) == 0
    assert "features" not in capsys.readouterr().err  # train.progress=false: no feature bars either
    result = json.loads((tmp_path / "lenient" / "report.json").read_text())
    reasons = [r for items in result["skipped"].values() for _, r in items]
    assert sum("broken.wav: cannot read audio" in r for r in reasons) == 1
    assert sum("characters '3' outside the alphabet" in r for r in reasons) == 1
    assert "user data" in result["data"]["source"]
    assert "Skipped utterances" in (tmp_path / "lenient" / "report.md").read_text()


def test_cli_synth_prints_the_cached_corpus_folder(tiny_corpus, capsys):
    assert main(["speech", "synth", "synth.utterances=48"]) == 0
    assert capsys.readouterr().out.strip() == str(tiny_corpus)


def test_cli_errors_are_clear(tmp_path, capsys):
    assert main(["speech", "train", "--data", str(tmp_path), "--run-dir", str(tmp_path / "r")]) == 2
    assert "empty of audio files and has no transcripts.tsv" in capsys.readouterr().err
    assert main(["speech", "evaluate", str(tmp_path)]) == 2
    assert "not an rnnkit run folder" in capsys.readouterr().err
    assert main(["speech", "train", "--preset", "nope"]) == 2
    assert "unknown preset 'nope'" in capsys.readouterr().err
    assert main(["speech", "synth", "model.hidden_size=3"]) == 2
    assert "only synth.* overrides" in capsys.readouterr().err
