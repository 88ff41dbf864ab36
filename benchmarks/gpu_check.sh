#!/usr/bin/env bash
# One device call: a 1-minute smoke of the split LSTM kernel (a hang or a launch error shows here
# first), the Triton kernels' tests on the GPU (all of tests/kernels_triton, gpu-marked included),
# then benchmarks/gpu.py (parity first, then timing). Logs go to $OUT (the device tool brings them
# back) or ./gpu-logs. Each part has its own timeout, so one stuck part does not lose the others.
#   bash benchmarks/gpu_check.sh
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
out="${OUT:-gpu-logs}"; mkdir -p "$out"
nvidia-smi -L
python3 -c "import torch, triton; print('torch', torch.__version__, 'cudnn', torch.backends.cudnn.version(), 'triton', triton.__version__)"
timeout "${SMOKE_TIMEOUT:-60}" python3 - <<'PY' 2>&1 | tee "$out/smoke.log"
import time, torch
from rnnkit.kernels.lstm.op import lstm_sequence_forward
from rnnkit.kernels.lstm.reference import lstm_sequence_ref
B, T, H = 16, 64, 768
gi = torch.randn(B, T, 4 * H, device="cuda", dtype=torch.bfloat16)
w = (torch.randn(4 * H, H, device="cuda") / H ** 0.5).bfloat16()
t0 = time.time()
y, (h, c) = lstm_sequence_forward(gi, w, kernel="split")
torch.cuda.synchronize()
want = lstm_sequence_ref(gi.double(), w.double())[0]
print(f"split smoke B={B} T={T} H={H} bf16: max |y - oracle| = {(y.double() - want).abs().max().item():.3g} "
      f"(first call incl. compile {time.time() - t0:.1f} s)")
PY
echo "smoke exit: $?"
timeout "${TEST_TIMEOUT:-150}" python3 -m pytest -m "" -q -p no:cacheprovider -n 8 tests/kernels_triton 2>&1 \
    | tee "$out/pytest.log" | tail -25
echo "pytest exit: $?"
timeout "${BENCH_TIMEOUT:-240}" python3 benchmarks/gpu.py ${BENCH_ARGS:-} 2>&1 | tee "$out/bench.log"
echo "bench exit: $?"
timeout "${SWEEP_TIMEOUT:-60}" python3 benchmarks/gpu_split_sweep.py 2>&1 | tee "$out/sweep.log"
echo "sweep exit: $?"
