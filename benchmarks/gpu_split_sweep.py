"""Launch settings of the split LSTM kernel (rnnkit/kernels/lstm/split.py) on one CUDA card:
BLOCK_J (hidden units per program) x NUM_WARPS, bf16, forward and forward+backward of the
sequential part alone, T = 1024. Parity against the float64 loop is checked for every setting.

    python benchmarks/gpu_split_sweep.py
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch
from common import markdown_table
from gpu import check, cuda_ms

from rnnkit.kernels.lstm import split
from rnnkit.kernels.lstm.op import lstm_sequence_forward
from rnnkit.kernels.lstm.reference import lstm_sequence_ref


def main() -> int:
    if not torch.cuda.is_available():
        print("needs a CUDA device", file=sys.stderr)
        return 2
    rows = []
    for B, H in ((16, 768), (8, 256)):
        T = 1024
        g = torch.Generator(device="cuda").manual_seed(0)
        gi64 = torch.randn(B, T, 4 * H, device="cuda", dtype=torch.float64, generator=g)
        w64 = torch.randn(4 * H, H, device="cuda", dtype=torch.float64, generator=g) / H ** 0.5
        want = lstm_sequence_ref(gi64, w64)[0]
        gi, w = gi64.bfloat16(), w64.bfloat16()
        dy = torch.randn_like(gi[..., :H])
        for block_j in (16, 32):
            for warps in (4, 8):
                split.BLOCK_J, split.NUM_WARPS = block_j, warps
                try:
                    with torch.no_grad():
                        check(f"split B={B} H={H} J={block_j} w={warps}",
                              lstm_sequence_forward(gi, w, kernel="split")[0], want, torch.bfloat16)
                    gl, wl = gi.clone().requires_grad_(), w.clone().requires_grad_()
                    ms = cuda_ms({"fwd": lambda: _fwd(gi, w),
                                  "f+b": lambda: lstm_sequence_forward(gl, wl, kernel="split")[0].backward(dy)}, 10)
                    rows.append([B, H, block_j, warps, f"{ms['fwd']:.3f}", f"{ms['f+b']:.3f}"])
                except Exception as err:  # a setting that does not compile or fit: say so, go on
                    rows.append([B, H, block_j, warps, f"error: {str(err).splitlines()[0][:60]}", ""])
    print(f"# {torch.cuda.get_device_name()} | split LSTM sequential part, bf16, T=1024 (median ms)\n")
    print(markdown_table(["B", "H", "BLOCK_J", "warps", "fwd ms", "f+b ms"], rows))
    return 0


def _fwd(gi, w):
    with torch.no_grad():
        return lstm_sequence_forward(gi, w, kernel="split")


if __name__ == "__main__":
    sys.exit(main())
