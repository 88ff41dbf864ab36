"""End to end through `rnnkit classify`: train on a small review file, reload, evaluate, predict."""

import io
import json

import pytest

from rnnkit.cli import main
from rnnkit.apps.classify import load_run, pipeline

# Tiny validation sets tie on accuracy; the loss picks the most confident epoch.
FAST = ["--preset", "tiny", "train.progress=false", "train.epochs=6", "train.lr=1e-2", "train.monitor=val_loss",
        "train.mode=min"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, reviews_csv):
    run = tmp_path_factory.mktemp("runs") / "clf"
    assert main(["classify", "train", "--data", str(reviews_csv), "--run-dir", str(run), *FAST]) == 0
    return run


@pytest.mark.learning
def test_train_writes_report_and_beats_chance_clearly(trained):
    for name in ["run.json", "labels.json", "vocab.json", "metrics.csv", "report.md", "report.json",
                 "confusion.png", "confusion_baseline.png", "attention.png", "attention.html",
                 "checkpoints/best/model.safetensors"]:
        assert (trained / name).exists(), name
    report = json.loads((trained / "report.json").read_text())
    assert report["labels"] == ["negative", "positive"]
    assert report["data"]["train"] + report["data"]["val"] + report["data"]["test"] == 400
    assert report["test"]["n"] == 40
    # a balanced two-class file: chance is 50%; the words carry the label, so the RNN must learn it
    # (measured 1.0, as the TF-IDF baseline, over 4 seeds x 4 rounding settings)
    assert report["test"]["accuracy"] >= 0.85, report["test"]
    assert report["baseline"]["test"]["accuracy"] >= 0.85
    ex = report["attention_examples"]
    assert ex and all(abs(sum(e["weights"]) - 1) < 1e-5 and len(e["weights"]) == len(e["pieces"]) for e in ex)
    md = (trained / "report.md").read_text()
    assert "TF-IDF" in md and "| negative |" in md and "Attention over test sentences" in md


def test_trains_on_an_excel_workbook(tmp_path, reviews_csv):
    """The CLI on an .xlsx of the same reviews: the same texts and labels reach training."""
    import pandas as pd

    book = tmp_path / "reviews.xlsx"
    pd.read_csv(reviews_csv).to_excel(book, index=False)
    run = tmp_path / "xl"
    assert main(["classify", "train", "--data", str(book), "--run-dir", str(run), *FAST, "train.epochs=1"]) == 0
    report = json.loads((run / "report.json").read_text())
    assert report["labels"] == ["negative", "positive"]
    assert report["data"]["train"] + report["data"]["val"] + report["data"]["test"] == 400


def test_reloaded_run_reproduces_its_report_exactly(trained, capsys):
    report = json.loads((trained / "report.json").read_text())
    run_a, run_b = load_run(trained), load_run(trained)
    _, _, test, _ = pipeline.load_data(run_a.cfg.data)
    pa, pb = run_a.predict_proba(test.texts), run_b.predict_proba(test.texts)
    assert (pa == pb).all()
    assert main(["classify", "evaluate", str(trained)]) == 0
    out = capsys.readouterr().out
    assert f"accuracy: {report['test']['accuracy']:.4f}" in out and "examples: 40" in out
    assert pipeline.evaluate(trained)["accuracy"] == report["test"]["accuracy"]
    # the generic task commands reach the same pipeline
    assert main(["evaluate", str(trained)]) == 0
    assert f"accuracy: {report['test']['accuracy']:.4f}" in capsys.readouterr().out


@pytest.mark.learning
def test_predict_from_arguments_file_and_stdin(trained, tmp_path, capsys, monkeypatch):
    texts = ["The acting is superb and moving.", "The script feels dull and tedious from start to finish."]
    assert main(["classify", "predict", str(trained), *texts]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split("\t")[0] for ln in lines] == ["positive", "negative"]
    assert [ln.split("\t")[2] for ln in lines] == texts

    path = tmp_path / "new.txt"
    path.write_text(f"{texts[0]}\n\n{texts[1]}\n", encoding="utf-8")
    assert main(["classify", "predict", str(trained), "--file", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(x) for x in out.strip().splitlines()]
    assert [r["line"] for r in rows] == [1, 3] and [r["label"] for r in rows] == ["positive", "negative"]
    assert abs(sum(rows[0]["probs"].values()) - 1) < 1e-5
    assert "1 blank_line (line 2)" in err

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(f"{texts[1]}\n   \n".encode())))
    assert main(["classify", "predict", str(trained)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("negative\t") and "1 blank_line (line 2)" in err

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"fine\n\xff\xfe bad\n")))
    assert main(["classify", "predict", str(trained)]) == 2
    assert "<stdin>:2: not valid utf-8" in capsys.readouterr().err


def test_evaluate_bad_input_exits_2_with_file_and_line(trained, tmp_path, capsys):
    unseen = tmp_path / "unseen.csv"
    unseen.write_text("text,label\nSuperb.,positive\nIt was fine.,neutral\n", encoding="utf-8")
    assert main(["classify", "evaluate", str(trained), "--data", str(unseen)]) == 2
    assert "unseen.csv:3: 'neutral'" in capsys.readouterr().err
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("review,label\nSuperb.,positive\n", encoding="utf-8")
    assert main(["classify", "evaluate", str(trained), "--data", str(nocol)]) == 2
    assert "nocol.csv:1: no column 'text'" in capsys.readouterr().err
    good = tmp_path / "good.csv"
    good.write_text("text,label\nSuperb and witty.,positive\n\nDull and awful.,negative\n", encoding="utf-8")
    assert main(["classify", "evaluate", str(trained), "--data", str(good)]) == 0
    out, err = capsys.readouterr()
    assert "examples: 2" in out and "accuracy: 1.0000" in out and "1 blank_line (line 3)" in err


def test_train_errors_and_columns(tmp_path, reviews_csv, capsys):
    assert main(["classify", "train", "--data", str(reviews_csv), "--label-column", "stars",
                 "--run-dir", str(tmp_path / "x"), *FAST]) == 2
    assert "no column 'stars'" in capsys.readouterr().err
    assert main(["classify", "train", "model.pooling=median", *FAST]) == 2
    assert "model.pooling" in capsys.readouterr().err
    assert main(["classify", "predict", str(tmp_path / "nowhere"), "hi"]) == 2
    assert "not an rnnkit run folder" in capsys.readouterr().err


@pytest.mark.learning
def test_subword_tokens_and_lexicon_features_train_through_the_cli(tmp_path, reviews_csv):
    run = tmp_path / "sub"
    assert main(["classify", "train", "--data", str(reviews_csv), "--run-dir", str(run), *FAST,
                 "tokenizer.kind=subword", "tokenizer.vocab_size=400", "model.lexicon_features=true", "baseline=false",
                 "attention_examples=0"]) == 0
    report = json.loads((run / "report.json").read_text())
    assert (run / "subword.model").exists() and report["tokenizer"] == "subword"
    assert report["test"]["accuracy"] >= 0.8  # chance 0.5; measured 1.0 (4 seeds x 4 rounding settings)
    assert load_run(run).predict(["superb and witty", "dull and awful"]) == ["positive", "negative"]
