"""benchmarks/gpu.py without CUDA: a clear message and exit code 2, no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu.py"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the benchmark would run")
def test_gpu_benchmark_exits_clearly_without_cuda():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick"], check=False, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "needs a CUDA device" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
