"""Data parallel on CPU (gloo, two processes) equals one process on the same global batches."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import torch

import rnnkit

HERE = Path(__file__).parent


def _load_worker():
    spec = importlib.util.spec_from_file_location("rnnkit_tests_ddp_worker", HERE / "ddp_worker.py")
    sys.path.insert(0, str(HERE))  # the worker imports _trainkit as a sibling
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(HERE))
    return module


def test_two_process_ddp_matches_one_process(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(Path(rnnkit.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]))
    init_file = tmp_path / "pg_init"
    procs = [
        subprocess.Popen([sys.executable, str(HERE / "ddp_worker.py"), str(r), "2", str(init_file), str(tmp_path)],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for r in range(2)
    ]
    logs = []
    for p in procs:
        try:
            logs.append(p.communicate(timeout=90)[0])
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
    assert all(p.returncode == 0 for p in procs), "\n".join(logs)

    worker = _load_worker()
    ref_model, ref_history, _ = worker.train(0, 1, str(tmp_path / "single"))

    got = torch.load(tmp_path / "result.pt", weights_only=True)
    assert got["wrapped"] == "DistributedDataParallel"
    for k, v in ref_model.state_dict().items():
        torch.testing.assert_close(got["weights"][k], v, atol=1e-6, rtol=0)
    moved = any(not torch.equal(v, worker.kit.mlp(seed=0).state_dict()[k]) for k, v in ref_model.state_dict().items())
    assert moved  # the comparison is between trained weights
    for a, b in zip(got["history"], ref_history):
        assert a.keys() == b.keys()
        for key in a:  # metrics are all-reduced, so rank 0 reports the global averages
            assert abs(a[key] - b[key]) <= 1e-6 * max(1.0, abs(b[key])), key

    # Only rank 0 writes files.
    assert (tmp_path / "run0" / "metrics.csv").exists()
    assert (tmp_path / "run0" / "checkpoints" / "latest" / "model.safetensors").exists()
    assert not (tmp_path / "run1").exists()
