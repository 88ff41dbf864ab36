#!/usr/bin/env bash
# One device call, in parts, each with its own timeout (one stuck part does not lose the others):
#   smoke  - the split LSTM kernel once at H=768 (a hang or launch error shows here first)
#   tests  - all of tests/kernels_triton on the GPU, gpu-marked included
#   bench  - benchmarks/gpu.py (parity first, then timing against cuDNN and torch scans): every part, the
#            never-timed ones first (layernorm, headwise, zoneout, rnn, dropout, then lstm, gru, scan), so a
#            timeout cuts re-measurements; the fp32 rows of rnn, lstm and gru time the TF32 product too; a
#            parity failure of a TF32 row, of zoneout, of layernorm or of headwise skips that timing and makes
#            its exit code 1 (other parts still run). Only the LayerNorm LSTM/GRU:
#            BENCH_ARGS="--parts layernorm" PARTS="bench"
#   train  - benchmarks/gpu_train_parity.py (char LM trained with every fused path: Elman RNN, LSTM, GRU
#            against cuDNN; LayerNorm LSTM/GRU, head-wise LSTM/GRU, zoneout LSTM/GRU, recurrent dropout
#            against rnnkit's loop; validation loss within the reference's seed spread, exit code 1 if not).
#            All paths: about 4 minutes, at most ~5 (an estimate: never run on a GPU yet; the eager loop
#            references are most of it), so with the other three parts the call passes 10 minutes: run it
#            as its own call, PARTS="train" (the never-measured paths run first, so a cut loses LSTM/GRU,
#            measured before). A subset: TRAIN_ARGS="--paths ln_lstm,ln_gru" (names in the script).
# Logs go to $OUT (the device tool brings them back) or ./gpu-logs.
#   PARTS="tests bench train" bash benchmarks/gpu_check.sh        # default: all four
#   TEST_ARGS, BENCH_ARGS, TRAIN_ARGS: other pytest / benchmarks/gpu.py / gpu_train_parity.py arguments;
#   *_TIMEOUT: seconds per part
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
out="${OUT:-gpu-logs}"; mkdir -p "$out"
parts=" ${PARTS:-smoke tests bench train} "
nvidia-smi -L
python3 -c "import torch, triton; print('torch', torch.__version__, 'cudnn', torch.backends.cudnn.version(), 'triton', triton.__version__)"
if [[ $parts == *" smoke "* ]]; then
timeout "${SMOKE_TIMEOUT:-60}" python3 - <<'PY' 2>&1 | tee "$out/smoke.log"
import time, torch
from rnnkit.kernels.lstm.op import lstm_sequence_forward
from rnnkit.kernels.lstm.reference import lstm_sequence_ref
B, T, H = 16, 64, 768
gi = torch.randn(B, T, 4 * H, device="cuda", dtype=torch.bfloat16)
w = (torch.randn(4 * H, H, device="cuda") / H ** 0.5).bfloat16()
t0 = time.time()
with torch.no_grad():
    y, (h, c) = lstm_sequence_forward(gi, w, kernel="split")
torch.cuda.synchronize()
want = lstm_sequence_ref(gi.double(), w.double())[0]
print(f"split smoke B={B} T={T} H={H} bf16: max |y - oracle| = {(y.double() - want).abs().max().item():.3g} "
      f"(first call incl. compile {time.time() - t0:.1f} s)")
PY
echo "smoke exit: $?"
fi
if [[ $parts == *" tests "* ]]; then
timeout "${TEST_TIMEOUT:-150}" python3 -m pytest -m "" -q -p no:cacheprovider -n 8 ${TEST_ARGS:-tests/kernels_triton} 2>&1 \
    | tee "$out/pytest.log" | tail -25
echo "pytest exit: $?"
fi
if [[ $parts == *" bench "* ]]; then
timeout "${BENCH_TIMEOUT:-300}" python3 benchmarks/gpu.py ${BENCH_ARGS:-} 2>&1 | tee "$out/bench.log"
echo "bench exit: $?"
fi
if [[ $parts == *" train "* ]]; then
timeout "${TRAIN_TIMEOUT:-420}" python3 benchmarks/gpu_train_parity.py ${TRAIN_ARGS:-} 2>&1 | tee "$out/train.log"
echo "train exit: $?"
fi
