"""Fault injection in real processes: SIGKILL anywhere (checkpoint writes included), a NaN at an
epoch's last step, a full disk, damaged and foreign checkpoints. Every case ends with a run folder
that still resumes (to the same weights as an uninterrupted run: training here is deterministic)
or evaluates, or with one line that says which file to remove.
"""

from __future__ import annotations

import pickle
import random
import shutil

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from procs import one_line_error, rnnkit, rnnkit_injected, script, snapshot, temporaries

from rnnkit.train.checkpoint import load_weights, nonfinite_tensors  # noqa: E402

EPOCHS = 4  # 5 batches per epoch in tiny_run.py: 20 steps
STEPS = 20


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "final.safetensors"
    proc = script(str(out.parent / "run"), str(EPOCHS), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return load_weights(out)


def _same(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# Random batch numbers (seeded, so a failure reproduces) and every stage of a checkpoint write,
# each once: saves alternate latest/best while validation improves (K=1 the first epoch's latest,
# K=2 its best, K=3 the second epoch's latest), so the three stages also cover both folders and
# a save over an existing one. (Each case is two training processes, about 10 s.)
KILLS = [f"kill:step:{s}" for s in random.Random(14).sample(range(1, STEPS), 2)] + [
    "kill:weights:1", "kill:state:2", "kill:swap:3"]


@pytest.mark.parametrize("spec", KILLS)
def test_sigkill_then_resume_equals_the_uninterrupted_run(tmp_path, uninterrupted, spec):
    run, out = tmp_path / "run", tmp_path / "final.safetensors"
    killed = script(str(run), str(EPOCHS), "--inject", spec)
    assert killed.returncode == -9, killed.stderr  # really killed, not finished
    resumed = script(str(run), str(EPOCHS), "--resume", "--out", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert _same(load_weights(out), uninterrupted)
    assert not temporaries(run), temporaries(run)  # the killed writer's temporaries were cleaned
    for name in ("latest", "best"):
        assert not nonfinite_tensors(load_weights(run / "checkpoints" / name / "model.safetensors"))


def test_nan_at_an_epochs_last_step_never_reaches_a_checkpoint(tmp_path, uninterrupted):
    run, out = tmp_path / "run", tmp_path / "final.safetensors"
    proc = script(str(run), str(EPOCHS), "--nan-step", "10")  # the last batch of epoch 2
    assert proc.returncode == 3, proc.stderr
    assert "non-finite gradient" in proc.stderr and "epoch 2, step 10" in proc.stderr
    latest = run / "checkpoints" / "latest"
    assert f"last good checkpoint: {latest}" in proc.stderr
    state = torch.load(latest / "trainer_state.pt", weights_only=True)
    assert state["epoch"] == 1  # epoch 2 ended in the bad step: nothing of it was saved
    assert not nonfinite_tensors(load_weights(latest / "model.safetensors"))
    resumed = script(str(run), str(EPOCHS), "--resume", "--out", str(out))  # continues from it
    assert resumed.returncode == 0, resumed.stderr
    assert _same(load_weights(out), uninterrupted)


def test_injected_enospc_during_a_checkpoint_is_one_line_and_keeps_the_previous(tmp_path, trained):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    before = snapshot(run)
    # The resumed run's first checkpoint write (epoch 2's latest) fails as on a full disk.
    proc = rnnkit_injected("enospc:weights:1", "train", "textgen", "--run-dir", str(run), "--resume", "train.epochs=2")
    assert proc.returncode == 4, proc.stderr
    one_line_error(proc, "no space left on device", str(run / "checkpoints" / "latest"), "intact")
    after = snapshot(run)
    for name in ("checkpoints/latest/model.safetensors", "checkpoints/best/model.safetensors", "vocab.json"):
        assert after[name] == before[name]
    assert not temporaries(run)
    rnnkit("evaluate", str(run))


def test_sigkill_of_the_cli_during_a_checkpoint_then_resume_and_evaluate(tmp_path, trained):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    proc = rnnkit_injected("kill:swap:1", "train", "textgen", "--run-dir", str(run), "--resume", "train.epochs=2")
    assert proc.returncode == -9, proc.stderr
    assert (run / "checkpoints" / "latest.old").is_dir()  # killed between the two renames
    rnnkit("evaluate", str(run))  # works on what is there
    rnnkit("train", "textgen", "--run-dir", str(run), "--resume", "train.epochs=2")
    assert torch.load(run / "checkpoints/latest/trainer_state.pt", weights_only=True)["epoch"] == 2
    assert not temporaries(run) and not (run / "checkpoints" / "latest.old").exists()
    rnnkit("evaluate", str(run))


@pytest.mark.skipif(shutil.which("mount") is None or __import__("os").geteuid() != 0,
                    reason="a real full disk needs a small tmpfs, which only root can mount; "
                           "the injected ENOSPC test covers the code path")
def test_a_real_full_disk_is_one_line_and_the_run_resumes_after(tmp_path, trained):
    import os
    import subprocess

    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)]).returncode != 0:
        pytest.skip("mount -t tmpfs is not permitted here (a container without CAP_SYS_ADMIN)")
    try:
        run = mnt / "run"
        shutil.copytree(trained, run)
        before = snapshot(run)
        filler = mnt / "filler"
        with open(filler, "wb", buffering=0) as f:  # fill the disk to the last page
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
        proc = rnnkit("train", "textgen", "--run-dir", str(run), "--resume", "train.epochs=2", check=4)
        one_line_error(proc, "no space left on device")
        after = snapshot(run)
        for name in ("checkpoints/latest/model.safetensors", "checkpoints/best/model.safetensors", "run.json"):
            assert after[name] == before[name]
        assert not temporaries(run)
        filler.unlink()
        rnnkit("train", "textgen", "--run-dir", str(run), "--resume", "train.epochs=2")
        assert torch.load(run / "checkpoints/latest/trainer_state.pt", weights_only=True)["epoch"] == 2
        rnnkit("evaluate", str(run))
    finally:
        subprocess.run(["umount", "-l", str(mnt)])
        os.sync()


def test_truncated_best_names_the_file_and_the_checkpoint_that_still_loads(tmp_path, trained):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    weights = run / "checkpoints" / "best" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    proc = rnnkit("evaluate", str(run), check=2)
    one_line_error(proc, str(weights), "damaged", str(run / "checkpoints" / "latest"), "remove")
    shutil.rmtree(run / "checkpoints" / "best")  # what the message says to do
    rnnkit("evaluate", str(run))


def test_truncated_latest_on_resume_names_best(tmp_path, trained):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    weights = run / "checkpoints" / "latest" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-50])
    proc = rnnkit("train", "textgen", "--run-dir", str(run), "--resume", "train.epochs=2", check=2)
    one_line_error(proc, "cannot resume", str(weights), str(run / "checkpoints" / "best"), "remove")
    shutil.rmtree(run / "checkpoints" / "latest")
    rnnkit("train", "textgen", "--run-dir", str(run), "--resume", "train.epochs=2")  # from best


class _Evil:
    """Unpickling this would create a file: the proof that pickled code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickled_checkpoint_files_are_refused_and_nothing_executes(tmp_path, trained):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"weights": _Evil(marker)})
    (run / "checkpoints" / "best" / "model.safetensors").write_bytes(payload)
    (run / "checkpoints" / "latest" / "trainer_state.pt").write_bytes(payload)
    proc = rnnkit("evaluate", str(run), check=2)
    one_line_error(proc, "best/model.safetensors", "not a safetensors file")
    proc = rnnkit("train", "textgen", "--run-dir", str(run), "--resume", "train.epochs=2", check=2)
    one_line_error(proc, "trainer_state.pt", "does not load")
    assert not marker.exists()
