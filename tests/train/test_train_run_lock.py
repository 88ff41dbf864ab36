"""One training process per run folder: a second one gets a clear error, not a corrupted folder."""

import subprocess
import sys

import pytest

from rnnkit.train import RunFolderBusy, Trainer, run_folder_lock

from ._trainkit import mlp, mse_loss, quiet_config, regression_data

_HOLD = ("import sys, time\n"
         "from rnnkit.train import run_folder_lock\n"
         "with run_folder_lock(sys.argv[1]):\n"
         "    print('held', flush=True)\n"
         "    time.sleep(60)\n")


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of ``tmp_path / 'run'`` until it is killed."""
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield run, proc
    finally:
        proc.kill()
        proc.wait()


def _trainer(run):
    return Trainer(mlp(), mse_loss, quiet_config(epochs=1, batch_size=8), run_dir=run)


def test_a_second_process_training_into_a_busy_folder_gets_a_clear_error(holder):
    run, proc = holder
    with pytest.raises(RunFolderBusy, match=rf"run folder .*run is in use by pid {proc.pid} on .*another --run-dir"):
        _trainer(run).fit(regression_data())
    assert not (run / "checkpoints").exists()  # nothing written


def test_the_lock_goes_with_its_process_even_when_it_is_killed(holder):
    run, proc = holder
    proc.kill()
    proc.wait()
    history = _trainer(run).fit(regression_data())
    assert len(history) == 1 and (run / "checkpoints" / "latest").is_dir()


def test_fit_releases_the_lock_when_it_ends(tmp_path):
    run = tmp_path / "run"
    _trainer(run).fit(regression_data())
    with run_folder_lock(run):  # free again, in this process ...
        pass
    out = subprocess.run([sys.executable, "-c", _HOLD.replace("time.sleep(60)", "pass"), str(run)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.stdout.strip() == "held", out.stderr  # ... and for another one


def test_the_cli_reports_a_busy_folder(holder, capsys):
    from rnnkit.cli import main

    run, proc = holder
    code = main(["--threads", "1", "train", "textgen", "--preset", "tiny", "--run-dir", str(run)])
    assert code == 2
    assert f"in use by pid {proc.pid}" in capsys.readouterr().err
