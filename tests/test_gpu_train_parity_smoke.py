"""benchmarks/gpu_train_parity.py on CPU (``--cpu-smoke``: a few steps, ``loop`` in place of the fused
kernels): every selected path trains, the summary table lists each (path, dtype) with its verdict,
an error in one path is reported and the others still run (exit code 1), and the verdict rule."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_train_parity.py"
HEADER = ["path", "dtype", "reference", "T x steps", "ref val bpc (mean ± spread)", "ref seed 0", "loop val bpc",
          "gap", "seconds ref / loop", "verdict"]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("TRITON_INTERPRET", None)
    return env


def _summary(out: str) -> list[dict]:
    """The rows of the last table (the summary), as dicts."""
    lines = out.strip().splitlines()
    table = []
    for line in reversed(lines[:-1]):  # the last line is the "all passed" / "FAILED" sentence
        if not line.strip():
            if table:
                break
            continue
        if not line.startswith("|"):
            break
        table.insert(0, line)
    header = [c.strip() for c in table[0].strip("|").split("|")]
    assert header == HEADER, table[0]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")))) for line in table[2:]]


def test_cpu_smoke_subset_lists_each_path_and_passes():
    paths = "rnn,ln_lstm,hw_gru,zoneout_lstm,vd_lstm"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--cpu-smoke", "--paths", paths], capture_output=True,
                          text=True, timeout=120, check=False, env=_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = _summary(proc.stdout)
    assert [(r["path"], r["dtype"]) for r in rows] == [
        ("rnn", "fp32"), ("rnn", "bf16"), ("ln_lstm", "bf16"), ("hw_gru", "bf16"), ("zoneout_lstm", "bf16"),
        ("vd_lstm", "bf16")]
    for r in rows:
        assert r["verdict"].startswith("pass"), r
        assert r["reference"] == ("torch CPU" if (r["path"], r["dtype"]) == ("rnn", "fp32") else "loop")
        mean, spread = (float(v) for v in r["ref val bpc (mean ± spread)"].split("±"))
        assert 0 < mean < 8 and spread >= 0
        assert abs(float(r["gap"]) - abs(float(r["loop val bpc"]) - float(r["ref seed 0"]))) < 2e-4
    assert proc.stdout.rstrip().endswith("all passed: 6 (path, dtype) checks")


def test_an_error_in_one_path_is_reported_and_the_others_run():
    code = f"""
import sys
sys.argv = ["gpu_train_parity.py", "--cpu-smoke", "--paths", "broken,ln_gru"]
sys.path.insert(0, {str(SCRIPT.parent)!r})
import gpu_train_parity as g
def boom(d):
    raise RuntimeError("planted failure")
g.BY_NAME = {{"broken": g.Path("broken", "a cell that fails", boom, 8, ("fp32",), "loop"), **g.BY_NAME}}
sys.exit(g.main())
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env=_env())
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "ERROR broken fp32: RuntimeError: planted failure" in proc.stderr
    rows = _summary(proc.stdout)
    assert [(r["path"], r["verdict"].split(" ")[0]) for r in rows] == [("broken", "error:"), ("ln_gru", "pass")]
    assert proc.stdout.rstrip().endswith("FAILED: 2 (path, dtype) checks")


def test_verdict_rule(monkeypatch):
    spec = importlib.util.spec_from_file_location("gpu_train_parity", SCRIPT)
    g = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, g)  # dataclasses look the module up while it loads
    monkeypatch.setattr(sys, "path", list(sys.path))  # the script puts the repository root first
    spec.loader.exec_module(g)
    ok, gap, tol = g.verdict([2.20, 2.25], 2.24)  # gap to seed 0's reference, tolerance the seed spread
    assert ok and abs(gap - 0.04) < 1e-9 and abs(tol - 0.05) < 1e-9
    assert g.verdict([2.20, 2.25], 2.16)[0]  # within the spread below seed 0 too
    assert not g.verdict([2.20, 2.25], 2.26)[0]  # 0.06 from its own seed's reference
    assert g.verdict([2.200, 2.201], 2.209)[0]  # seeds close by chance: the floor (0.01) applies
    assert not g.verdict([2.200, 2.201], 2.211)[0]
    assert not g.verdict([2.20, 2.25], float("nan"))[0]
    assert not g.verdict([float("nan"), 2.25], 2.25)[0]
