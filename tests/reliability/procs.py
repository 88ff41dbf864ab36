"""Helpers for the reliability suite: real ``rnnkit`` processes on a small corpus.

The suite runs with ``--import-mode=importlib``, so the tests put this folder on ``sys.path``
themselves to import this module."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import warm

HERE = Path(__file__).parent
# Small settings: about 60 training batches per epoch on the corpus below, seconds per run.
TINY = ["--preset", "tiny", "train.progress=false", "train.tensorboard=false", "train.plots=false"]


def env(**extra: str) -> dict[str, str]:
    e = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    e.update(extra)
    return e


def rnnkit(*args: str, check: int | None = 0, timeout: float = 300, **extra_env: str) -> subprocess.CompletedProcess:
    """Run ``python -m rnnkit ARGS`` in its own process (forked warm: warm.py); assert its exit code
    when ``check`` is set."""
    proc = warm.run(["-m", "rnnkit", *args], timeout=timeout, env=env(**extra_env))
    if check is not None:
        assert proc.returncode == check, f"exit {proc.returncode} (expected {check})\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def rnnkit_injected(spec: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``rnnkit ARGS`` in its own process with the faults of ``spec`` installed (see inject.py)."""
    return warm.run([str(HERE / "inject.py"), spec, *args], timeout=timeout, env=env())


def script(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run tests/reliability/tiny_run.py (a Trainer on a small GRU) in its own process."""
    return warm.run([str(HERE / "tiny_run.py"), *args], timeout=timeout, env=env())


def one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """The process failed with one ``rnnkit: ...`` line on stderr (no traceback) holding ``needles``."""
    err = proc.stderr.strip()
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("rnnkit: ")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def snapshot(run: Path) -> dict[str, bytes]:
    """Every file of a run folder (but the lock) and its bytes."""
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def temporaries(run: Path) -> list[Path]:
    return [p for p in run.rglob(".*") if ".tmp" in p.name]
