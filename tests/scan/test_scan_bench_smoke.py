"""benchmarks/cpu_scan.py --quick runs, checks parity first, and prints its three tables."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "cpu_scan.py"


def _tables(out: str) -> list[list[dict]]:
    """Every markdown table in the output, as a list of rows (dicts keyed by the header)."""
    tables, lines = [], out.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|-"):
            header = [c.strip() for c in lines[i].strip("|").split("|")]
            rows, i = [], i + 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(dict(zip(header, (c.strip() for c in lines[i].strip("|").split("|")))))
                i += 1
            tables.append(rows)
        else:
            i += 1
    return tables


def test_cpu_scan_quick_prints_tables():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True,
                          timeout=120, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "torch threads: 1" in out and "parity checked before timing" in out
    scan_rows, width_rows, train_rows = _tables(out)

    assert [(r["T"], r["mode"]) for r in scan_rows] == [
        (T, m) for T in ("32", "128") for m in ("fwd", "fwd+bwd")]
    for r in scan_rows + width_rows:
        loop, chunked = float(r["loop ms"]), float(r["chunked ms"])
        assert loop > 0 and chunked > 0
        assert abs(float(r["loop / chunked"]) - loop / chunked) <= 0.06 * loop / chunked + 0.05
    assert {r["B*D"] for r in width_rows} == {"8", "16"}

    models = {(r["model"], r["scan / path"]) for r in train_rows}
    assert models == {("MinGRU", "chunked"), ("MinGRU", "log"), ("MinGRU", "loop"),
                      ("rnnkit.GRU", "loop"), ("torch.nn.GRU", "ATen fused")}
    torch_row = next(r for r in train_rows if r["model"] == "torch.nn.GRU")
    assert torch_row["speed-up over torch.nn.GRU"] == "1.00x"
