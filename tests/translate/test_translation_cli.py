"""`rnnkit translate` end to end on a tiny TSV: train, evaluate, translate from args / file / stdin;
a reloaded run predicts exactly what it predicted in the run; bad input fails with file:line."""

import io
import json
import sys

import pytest

from rnnkit.cli import main
from rnnkit.apps.translate import pipeline as P


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One tiny training run on English/Spanish number names, shared by the tests below."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("kit_cli", Path(__file__).with_name("_s2skit.py"))
    kit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kit)
    root = tmp_path_factory.mktemp("translate")
    data = root / "numbers.tsv"
    data.write_text("".join(f"{en}\t{es}\n" for en, es in kit.number_pairs()) + "\n", encoding="utf-8")
    run_dir = root / "run"
    code = main(["--threads", "1", "translate", "train", "--preset", "tiny", "--data", str(data), "--run-dir",
                 str(run_dir), "data.val_fraction=0.15", "data.test_fraction=0.15", "data.max_words=0",
                 "vocab.size=280", "train.epochs=2"])
    assert code == 0
    return run_dir


def test_train_writes_scores_baselines_and_heatmap(run):
    report = json.loads((run / "report.json").read_text())
    assert set(report["scores"]) == {"beam", "greedy", "dictionary", "copy"}
    for s in report["scores"].values():
        assert 0.0 <= s["bleu"] <= 100.0 and 0.0 <= s["chrf"] <= 100.0
    assert report["data"]["skipped"] == {"blank line": 1}  # the trailing blank line, counted
    assert report["data"]["test"] == 8 and report["data"]["train"] == 34
    assert (run / "attention.png").stat().st_size > 1000
    assert "| copy the source |" in (run / "report.md").read_text()


def test_predictions_are_identical_after_reload(run):
    rows = [line.split("\t") for line in (run / "test_predictions.tsv").read_text().splitlines()[1:]]
    sources, beam, greedy = [r[1] for r in rows], [r[3] for r in rows], [r[4] for r in rows]
    assert P.translate_texts(run, sources) == beam
    assert P.translate_texts(run, sources, strategy="greedy") == greedy


def test_translate_text_from_args_file_and_stdin(run, tmp_path, capsys, monkeypatch):
    assert main(["translate", "text", str(run), "thirty two", "nine"]) == 0
    from_args = capsys.readouterr().out.splitlines()
    assert len(from_args) == 2
    sentences = tmp_path / "in.txt"
    sentences.write_text("thirty two\n\nnine\n", encoding="utf-8")
    assert main(["translate", "text", str(run), "--file", str(sentences)]) == 0
    assert capsys.readouterr().out.splitlines() == [from_args[0], "", from_args[1]]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"thirty two\nnine\n")))
    assert main(["translate", "text", str(run)]) == 0
    assert capsys.readouterr().out.splitlines() == from_args
    assert main(["translate", "text", str(run), "--greedy", "nine"]) == 0
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"nine\n\xff\n")
    assert main(["translate", "text", str(run), "--file", str(bad)]) == 2
    assert "bad.txt:2: not valid UTF-8" in capsys.readouterr().err


def test_evaluate_reproduces_the_run_scores(run, capsys):
    assert main(["translate", "evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    report = json.loads((run / "report.json").read_text())
    for name, s in report["scores"].items():
        assert f"{name}: BLEU {s['bleu']:.2f}  chrF {s['chrf']:.2f}" in out


def test_bad_training_input_fails_with_file_and_line(tmp_path, capsys):
    data = tmp_path / "pairs.tsv"
    data.write_text("one\tuno\ntwo dos\n", encoding="utf-8")
    assert main(["translate", "train", "--preset", "tiny", "--data", str(data), "--run-dir", str(tmp_path / "r")]) == 2
    assert "pairs.tsv:2: no tab" in capsys.readouterr().err
    assert main(["translate", "train", "--preset", "nope"]) == 2
    assert "unknown preset" in capsys.readouterr().err
    assert main(["translate", "evaluate", str(tmp_path)]) == 2
    assert "not an rnnkit run folder" in capsys.readouterr().err


def test_generic_train_and_evaluate_reach_translation(run, capsys):
    """`rnnkit evaluate RUN` works on a translation run like on every other task's run."""
    from rnnkit.apps import app_names, get_app

    assert "translate" in app_names() and get_app("translation").task.NAME == "translate"  # old runs' name
    assert main(["evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    report = json.loads((run / "report.json").read_text())
    assert f"{report['scores']['beam']['bleu']}" in out or f"{report['scores']['beam']['bleu']:.4f}" in out
