"""The warm-fork harness (warm.py) behaves as ``subprocess.run`` of a fresh interpreter would.

The reliability suite's verdicts rest on it: exit codes, signals, the streams, the working folder,
the environment, ``sys.argv``/``sys.path[0]``, a traceback, and each run's own random seed. Each
case runs the same script forked and fresh and compares what the test suite reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import warm
from procs import env

SCRIPT = textwrap.dedent("""
    import json, os, random, signal, sys
    import numpy as np
    what = sys.argv[1]
    if what == "report":
        print(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "path0": sys.path[0],
                          "var": os.environ.get("RNNKIT_WARM_PROBE"), "main": __name__,
                          "stdin": sys.stdin.read(), "random": random.random(),
                          "numpy": float(np.random.random()), "parent": os.getppid()}))
        print("to stderr\\r\\nline two\\rline three", file=sys.stderr)
    elif what == "exit":
        sys.exit(int(sys.argv[2]))
    elif what == "raise":
        raise RuntimeError("boom")
    elif what == "kill":
        sys.stdout.write("before the kill\\n"); sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("warm") / "probe.py"
    path.write_text(SCRIPT)
    return path


def both(args: list[str], cwd: Path, **extra: str):
    e = env(**extra)
    fresh = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=e, cwd=cwd,
                           timeout=120, check=False)
    forked = warm.run(args, env=e, cwd=cwd, timeout=120)
    return fresh, forked


def test_a_run_sees_its_own_argv_folder_environment_and_empty_stdin(script, tmp_path):
    if os.environ.get("RNNKIT_TEST_WARM") == "0":
        pytest.skip("RNNKIT_TEST_WARM=0: every process starts fresh, nothing is forked")
    assert warm._server(env()) is not None, "no warm server: the suite would run fresh processes only"
    fresh, forked = both([str(script), "report", "a b", "c"], tmp_path, RNNKIT_WARM_PROBE="x")
    assert forked.returncode == fresh.returncode == 0, forked.stderr
    got, want = json.loads(forked.stdout), json.loads(fresh.stdout)
    for key in ("argv", "cwd", "path0", "var", "main", "stdin"):
        assert got[key] == want[key], key
    assert got["path0"] == str(script.parent) and got["var"] == "x"
    assert want["parent"] == os.getpid() != got["parent"], "the run was not forked from the warm server"
    assert forked.stderr == fresh.stderr == "to stderr\nline two\nline three\n"  # text mode's newlines


def test_each_run_draws_its_own_random_numbers(script, tmp_path):
    runs = [json.loads(warm.run([str(script), "report"], env=env(), cwd=tmp_path).stdout) for _ in range(2)]
    assert runs[0]["random"] != runs[1]["random"] and runs[0]["numpy"] != runs[1]["numpy"]


@pytest.mark.parametrize("args,code", [(["exit", "3"], 3), (["raise"], 1), (["kill"], -9)])
def test_exit_codes_tracebacks_and_signals_read_as_from_a_fresh_process(script, tmp_path, args, code):
    fresh, forked = both([str(script), *args], tmp_path)
    assert forked.returncode == fresh.returncode == code
    assert forked.stdout == fresh.stdout
    assert ("RuntimeError: boom" in forked.stderr) == ("RuntimeError: boom" in fresh.stderr) == (code == 1)


def test_the_rnnkit_module_runs_as_python_m_does(tmp_path):
    fresh, forked = both(["-m", "rnnkit", "train", "no-such-app"], tmp_path)
    assert forked.returncode == fresh.returncode == 2
    assert forked.stderr == fresh.stderr and forked.stdout == fresh.stdout


def test_a_run_past_its_timeout_is_killed_and_raises(script, tmp_path):
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(60)\n")
    with pytest.raises(subprocess.TimeoutExpired):
        warm.run([str(slow)], env=env(), cwd=tmp_path, timeout=2)
