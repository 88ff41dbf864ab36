"""What users mean by a run folder, through the real command line: resume continues the run as it
was saved, a busy or finished folder is never overwritten, nonsense settings and divergence stop
with one line that names the key, and a stale temporary file does not survive the next start."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from procs import TINY, env, one_line_error, rnnkit, snapshot  # noqa: E402


def _copy(trained: Path, tmp_path: Path) -> Path:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    return run


def test_resume_reloads_the_saved_config_and_records_what_changed(tmp_path, trained):
    run = _copy(trained, tmp_path)
    saved = json.loads((run / "run.json").read_text())
    vocab = (run / "vocab.json").read_bytes()
    # The README's form: no --data, no --preset. The default config would be H=384 on the
    # built-in corpus; the run's own (a user's file, H=32) must come back.
    proc = rnnkit("train", "textgen", "--run-dir", str(run), "--resume", "train.epochs=2")
    assert "changed: train.epochs 1 -> 2" in proc.stdout
    info = json.loads((run / "run.json").read_text())
    assert info["config"]["model"] == saved["config"]["model"]
    assert info["config"]["data"] == saved["config"]["data"]
    assert info["config"]["train"]["epochs"] == 2
    assert [h["action"] for h in info["history"]] == ["train", "resume"]
    assert info["history"][-1]["changed"] == {"train.epochs": [1, 2]}
    assert info["preset"] == "tiny"
    assert (run / "vocab.json").read_bytes() == vocab
    rnnkit("evaluate", str(run))


@pytest.mark.parametrize("override", ["model.hidden_size=64", "data.seq_len=32"])
def test_resume_refuses_a_change_of_shape_or_data_and_names_the_key(tmp_path, trained, override):
    run = _copy(trained, tmp_path)
    before = snapshot(run)
    proc = rnnkit("train", "textgen", "--run-dir", str(run), "--resume", override, check=2)
    one_line_error(proc, "--resume cannot change", override.split("=")[0])
    assert snapshot(run) == before


def test_resume_of_a_folder_without_a_run_is_an_error(tmp_path):
    proc = rnnkit("train", "textgen", "--run-dir", str(tmp_path / "nothing"), "--resume", check=2)
    one_line_error(proc, "holds no run")
    assert not (tmp_path / "nothing").exists()


def test_a_fresh_run_into_a_finished_run_is_refused_untouched(tmp_path, trained, corpus):
    run = _copy(trained, tmp_path)
    before = snapshot(run)
    proc = rnnkit("train", "textgen", "--data", str(corpus), *TINY, "model.hidden_size=48", "--run-dir", str(run),
                  check=2)
    one_line_error(proc, "already holds a trained run", "--resume")
    assert snapshot(run) == before


def test_overwrite_replaces_a_finished_run_and_says_so_in_one_line(tmp_path, trained, corpus):
    run = _copy(trained, tmp_path)
    proc = rnnkit("train", "textgen", "--data", str(corpus), *TINY, "model.hidden_size=48", "--run-dir", str(run),
                  "--overwrite")
    assert f"--overwrite: the run in {run} is replaced by this one" in proc.stdout
    assert "Warning" not in proc.stderr  # not the Trainer's raw warning line as well
    assert json.loads((run / "run.json").read_text())["config"]["model"]["hidden_size"] == 48


def test_two_trainings_into_one_folder_the_second_is_refused_before_any_write(tmp_path, corpus):
    run = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "rnnkit", "train", "textgen", "--data", str(corpus), *TINY,
                              "train.epochs=3", "--run-dir", str(run)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env())
    try:
        deadline = time.time() + 120
        while not (run / "run.json").is_file() and time.time() < deadline:
            time.sleep(0.2)
        assert (run / "run.json").is_file(), "the first training never started"
        before = {k: v for k, v in snapshot(run).items() if k == "run.json" or k == "vocab.json"}
        proc = rnnkit("train", "textgen", "--data", str(corpus), *TINY, "model.hidden_size=48",
                      "--run-dir", str(run), check=2)
        one_line_error(proc, "is in use by pid")
        now = snapshot(run)
        assert {k: now[k] for k in before} == before
    finally:
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    info = json.loads((run / "run.json").read_text())
    assert info["config"]["model"]["hidden_size"] == 32  # the first run's, never the second's
    rnnkit("evaluate", str(run))


@pytest.mark.parametrize("override,key", [
    ("train.epochs=0", "train.epochs"), ("train.lr=0", "train.lr"), ("train.lr=inf", "train.lr"),
    ("train.lr=nan", "train.lr"), ("train.eps=0", "train.eps"), ("train.step_gamma=nan", "train.step_gamma"),
    ("train.min_lr_ratio=inf", "train.min_lr_ratio"), ("train.grad_clip=-1", "train.grad_clip"),
])
def test_nonsense_settings_are_refused_up_front_naming_the_key(tmp_path, capsys, override, key):
    """In this process (``main``, as ``python -m rnnkit`` calls it): the refusal comes before any
    work, and the real process's one line and exit 2 are checked by the other tests of this file
    (a process per setting cost 3 s of torch's import each)."""
    from rnnkit.cli import main

    code = main(["train", "textgen", *TINY, override, "--run-dir", str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    one_line_error(subprocess.CompletedProcess([], code, captured.out, captured.err), key)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_diverging_run_stops_with_advice_and_no_bad_checkpoint(tmp_path, corpus):
    run = tmp_path / "run"
    proc = rnnkit("train", "textgen", "--data", str(corpus), *TINY, "train.lr=1e6", "--run-dir", str(run), check=3)
    line = one_line_error(proc, "training stopped", "train.lr", "no checkpoint was written")
    assert "diverged" in line or "non-finite" in line
    assert not (run / "checkpoints").exists()
    proc = rnnkit("evaluate", str(run), check=2)
    one_line_error(proc, "no checkpoint")


def test_stale_temporaries_of_a_killed_writer_are_removed_on_the_next_start(tmp_path, trained):
    run = _copy(trained, tmp_path)
    stale = [run / ".curves.abc123.tmp.png", run / "checkpoints" / ".latest.tmp-xyz"]
    stale[0].write_bytes(b"half a png")
    stale[1].mkdir()
    (stale[1] / "model.safetensors").write_bytes(b"half")
    rnnkit("train", "textgen", "--run-dir", str(run), "--resume", "train.epochs=2")
    assert not any(p.exists() for p in stale)


def test_only_a_folder_with_nothing_but_the_attempts_record_is_discarded(tmp_path):
    """A refused fresh training removes its folder only when it holds nothing but run.json and the
    lock (empty sub-folders aside); anything else written there (a log, a checkpoint, a user's own
    file) keeps the folder."""
    from rnnkit.train.run_folder import discard_if_untrained, untrained

    bare = tmp_path / "bare"
    (bare / "checkpoints").mkdir(parents=True)
    (bare / "run.json").write_text("{}")
    (bare / ".lock").write_text("")
    assert untrained(bare) and discard_if_untrained(bare) and not bare.exists()
    for name in ("metrics.csv", "checkpoints/latest/model.safetensors", "notes.txt"):
        kept = tmp_path / name.replace("/", "_")
        (kept / name).parent.mkdir(parents=True)
        (kept / name).write_text("x")
        (kept / "run.json").write_text("{}")
        assert not untrained(kept) and not discard_if_untrained(kept) and (kept / name).is_file()
    assert not untrained(tmp_path / "missing")
