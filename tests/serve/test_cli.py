"""The serve command: its options, a run folder that is not one, and the real command started in a
subprocess, answering on loopback and stopping cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from rnnkit.apps.serve.cli import add_serve_args, main, settings_from_args


def _parse(*argv):
    p = argparse.ArgumentParser()
    add_serve_args(p)
    return p.parse_args(list(argv))


def test_defaults_and_options():
    a = _parse("runs/a", "runs/b")
    assert a.runs == ["runs/a", "runs/b"] and a.host == "127.0.0.1" and a.port == 8000
    s = settings_from_args(_parse("r", "--max-batch", "16", "--batch-wait-ms", "2.5", "--max-body-bytes", "1000"))
    assert (s.max_batch, s.batch_wait_ms, s.max_body_bytes) == (16, 2.5, 1000)
    with pytest.raises(ValueError, match="--max-batch must be >= 1"):
        settings_from_args(_parse("r", "--max-batch", "0"))


def test_a_folder_that_is_not_a_run_exits_2(tmp_path, capsys):
    from rnnkit.cli import main as rnnkit_main

    assert main([str(tmp_path)]) == 2
    assert "is not a run folder" in capsys.readouterr().err
    assert rnnkit_main(["serve", str(tmp_path)]) == 2  # the same through `rnnkit serve`
    assert "is not a run folder" in capsys.readouterr().err


def test_rnnkit_serve_help_lists_the_options(capsys):
    from rnnkit.cli import main as rnnkit_main

    with pytest.raises(SystemExit) as exit_:
        rnnkit_main(["serve", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--max-batch", "--batch-wait-ms", "--max-body-bytes", "--max-upload-bytes"):
        assert option in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_command_serves_until_interrupted(runs, http):
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rnnkit", "serve", str(runs["classify"]), "--port", str(port),
                             "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if http.call(url, "GET", "/health", timeout=5).status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.3)
        r = http.call(url, "POST", "/api/reviews/predict", {"text": "great film"})
        assert r.status == 200 and r.json()["predictions"][0]["label"] == "pos"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert f"classify  http://localhost:{port}/reviews" in out
