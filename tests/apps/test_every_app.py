"""Every app in the registry, through the one grammar: ``rnnkit train APP --preset tiny --run-dir D``,
then ``rnnkit evaluate D``, then ``rnnkit.load(D)`` gives the model back and (for apps that
predict) its ``predict`` answers; ``rnnkit runs`` lists the run. Built-in data where it is
offline and small; an app whose optional source (a Debian package, a wheel's data) is missing
here is skipped with the command that installs it."""

from __future__ import annotations

import random
import shutil

import pytest
import torch

import rnnkit
from rnnkit.apps import app_names
from rnnkit.cli import main

QUIET = ["train.progress=false", "train.tensorboard=false"]


def _pairs_tsv(path):
    """A small parallel corpus: the target is the source reversed (attention helps)."""
    rng = random.Random(0)
    words = "the lord god light day night water earth heaven man".split()
    lines = []
    for _ in range(400):
        src = [rng.choice(words) for _ in range(rng.randint(2, 6))]
        lines.append(" ".join(src) + "\t" + " ".join(reversed(src)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _reviews_csv(path):
    rng = random.Random(0)
    good, bad = "great wonderful moving smart funny".split(), "awful dull boring flat tedious".split()
    rows = ["text,label"]
    for i in range(300):
        label = "pos" if i % 2 else "neg"
        words = [rng.choice(good if label == "pos" else bad) for _ in range(4)] + ["film"]
        rows.append(f"{' '.join(words)},{label}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _corpus(path):
    from pydoc_data.topics import topics

    path.write_text("\n".join(topics[k] for k in sorted(topics))[:20000], encoding="utf-8")
    return path


def _args(app, tmp_path) -> list[str]:
    if app == "textgen":
        return ["--data", str(_corpus(tmp_path / "c.txt"))]
    if app == "classify":
        return ["--data", str(_reviews_csv(tmp_path / "reviews.csv"))]
    if app == "translate":
        return ["--data", str(_pairs_tsv(tmp_path / "pairs.tsv"))]
    if app == "forecast":  # the two quick baselines: refitting AutoARIMA at every origin takes minutes
        return ["--dataset", "sunspots", "baselines.models=naive,seasonal_naive"]
    if app == "speech" and shutil.which("espeak-ng") is None:
        pytest.skip("speech's built-in corpus needs espeak-ng: apt-get install -y espeak-ng")
    if app == "music":
        pytest.importorskip("music21", reason="music's built-in chorales need music21: pip install music21")
    return []


PREDICT = {
    "textgen": lambda run: run.predict("The ", max_new_tokens=10),
    "classify": lambda run: run.predict(["a great wonderful film"]),
    "translate": lambda run: run.predict(["the lord god"]),
    "music": lambda run: run.predict("C5/1 D5/1", events=4),
    "forecast": lambda run: run.predict(),
}


def _check_prediction(app, out):
    if app == "textgen":
        assert isinstance(out, str) and out.startswith("The ") and len(out) > 4
    elif app == "classify":
        assert out[0]["label"] in ("pos", "neg") and 0.0 <= out[0]["prob"] <= 1.0
    elif app == "translate":
        assert isinstance(out[0], str)
    elif app == "music":
        assert out.startswith("C5/1 D5/1")
    elif app == "forecast":
        assert len(out) > 0


@pytest.mark.parametrize("app", app_names())
def test_train_evaluate_load_predict(app, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    run = tmp_path / "run"
    from rnnkit import config as C
    from rnnkit.apps import get_app

    keys = set(C.leaf_keys(get_app(app).task.default_config()))
    quiet = [q for q in QUIET if q.split("=")[0] in keys]  # the long-range sweep has no progress bar
    code = main(["train", app, "--preset", "tiny", *_args(app, tmp_path), "--run-dir", str(run), *quiet])
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]
    assert main(["evaluate", str(run)]) == 0, capsys.readouterr().err[-2000:]
    loaded = rnnkit.load(run)
    assert loaded.app == app and loaded.config is not None
    if app not in ("longrange", "overfit"):  # studies of many models have none to return
        assert isinstance(loaded.model, torch.nn.Module) and not loaded.model.training  # eval mode
    if app in PREDICT:
        _check_prediction(app, PREDICT[app](loaded))
    elif loaded.model is None:
        with pytest.raises(ValueError, match="no predict"):
            loaded.predict()
    capsys.readouterr()
    assert main(["runs", str(tmp_path)]) == 0
    assert app in capsys.readouterr().out


@pytest.mark.parametrize("app", app_names())
def test_train_help_lists_the_presets_and_the_config_keys(app, capsys):
    """``rnnkit train APP --help`` prints the app's presets and every config key (forecast's
    task module once lacked PRESETS, and its help stopped with a traceback)."""
    with pytest.raises(SystemExit) as exit_:
        main(["train", app, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "presets:" in out and "config keys" in out and "\n  train." in out
