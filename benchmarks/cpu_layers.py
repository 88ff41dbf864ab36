"""rnnkit's LSTM/GRU layers against torch.nn on CPU, timed side by side in one run.

For each cell (LSTM, GRU), size (B, T, H) and mode (fwd: forward under no_grad; fwd+bwd: forward
then backward of a fixed output gradient into the parameters) it times five contenders on the same
input and the same weights (input size D = H, one layer, float32, batch-first):

    torch      torch.nn.LSTM / nn.GRU
    auto       rnnkit.LSTM / GRU, backend="auto" (torch's fused op where it is exact)
    loop       rnnkit.LSTM / GRU, backend="loop" (rnnkit's Python time loop, x @ W_ih for all T
               in one product)
    cell loop  a plain Python loop over torch.nn.LSTMCell / GRUCell, the peer of "loop"

Before any timing, outputs, final states and parameter gradients of all contenders are checked to
agree, so the benchmark never times a wrong path. Medians of interleaved repeats; see common.py.

    python benchmarks/cpu_layers.py                 # full run, 1 thread (~1-2 minutes on 2 cores)
    python benchmarks/cpu_layers.py --threads 2 --repeats 9
    python benchmarks/cpu_layers.py --quick         # one tiny config (smoke test)
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(1, os.path.dirname(_HERE))  # run from a checkout without installing rnnkit

import torch  # noqa: E402
from torch import nn  # noqa: E402

import rnnkit  # noqa: E402
from common import machine_header, markdown_table, time_interleaved  # noqa: E402
from rnnkit.kernels import dispatch  # noqa: E402

# (B, T, H): small/medium, medium batch and width, long and narrow, wide and short. Chosen so the
# full run takes ~1-2 minutes on 2 cores at 1 thread. The Python loops cost ~T steps of per-op
# overhead; the backward of the "loop" path currently grows like T^2 (see benchmarks/README.md),
# which is what bounds T for the wider configs.
CONFIGS = [(16, 128, 128), (32, 128, 256), (8, 512, 64), (32, 32, 512)]
QUICK_CONFIGS = [(4, 16, 16)]
CELLS = ("lstm", "gru")
MODES = ("fwd", "fwd+bwd")
CONTENDERS = ("torch", "auto", "loop", "cell loop")
COLUMNS = ["cell", "B", "T", "H", "mode", "auto path", "torch ms", "rnnkit auto ms",
           "auto / torch", "rnnkit loop ms", "cell loop ms", "loop / cell loop"]
# float32; the paths differ only in summation order. Relative to the largest magnitude.
RTOL = 2e-4


def _canonical(name: str) -> str:
    """``cells.0.weight_ih`` / ``weight_ih_l0`` / ``weight_ih`` -> ``weight_ih``."""
    name = name.rsplit(".", 1)[-1]
    return name[:-3] if name.endswith("_l0") else name


class Contenders:
    """The four modules of one (cell, H), computing the same function, and a call for each."""

    def __init__(self, cell: str, H: int, seed: int = 0):
        torch.manual_seed(seed)
        torch_cls, rk_cls, cell_cls = {
            "lstm": (nn.LSTM, rnnkit.LSTM, nn.LSTMCell),
            "gru": (nn.GRU, rnnkit.GRU, nn.GRUCell),
        }[cell]
        self.cell, self.H = cell, H
        self.torch_layer = torch_cls(H, H, batch_first=True)
        sd = self.torch_layer.state_dict()
        self.auto = rk_cls(H, H, batch_first=True, backend="auto")
        self.loop = rk_cls(H, H, batch_first=True, backend="loop")
        self.auto.load_state_dict(sd)
        self.loop.load_state_dict(sd)
        self.torch_cell = cell_cls(H, H)
        self.torch_cell.load_state_dict({_canonical(k): v for k, v in sd.items()})
        self.modules = {"torch": self.torch_layer, "auto": self.auto, "loop": self.loop,
                        "cell loop": self.torch_cell}

    def run(self, name: str, x: torch.Tensor):
        """Output (B, T, H) and final state as a tuple of (B, H) tensors."""
        if name == "torch":
            out, fin = self.torch_layer(x)
        elif name in ("auto", "loop"):
            out, fin = self.modules[name](x)
        else:
            return self._cell_loop(x)
        fin = fin if isinstance(fin, tuple) else (fin,)
        return out, tuple(f[0] for f in fin)

    def _cell_loop(self, x: torch.Tensor):
        B, T, _ = x.shape
        h = x.new_zeros(B, self.H)
        c = x.new_zeros(B, self.H)
        outs = []
        for t in range(T):
            if self.cell == "lstm":
                h, c = self.torch_cell(x[:, t], (h, c))
            else:
                h = self.torch_cell(x[:, t], h)
            outs.append(h)
        return torch.stack(outs, dim=1), ((h, c) if self.cell == "lstm" else (h,))

    def grads(self, name: str) -> dict[str, torch.Tensor]:
        return {_canonical(k): p.grad for k, p in self.modules[name].named_parameters()}

    def zero_grad(self, name: str) -> None:
        for p in self.modules[name].parameters():
            p.grad = None


def _close(a: torch.Tensor, b: torch.Tensor) -> float:
    """Max abs difference relative to the largest magnitude of the reference."""
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-12))


def check_parity(m: Contenders, x: torch.Tensor, g: torch.Tensor) -> None:
    """Outputs, final states and parameter gradients of every contender equal torch's."""
    results = {}
    for name in CONTENDERS:
        m.zero_grad(name)
        out, fin = m.run(name, x)
        out.backward(g)
        results[name] = (out.detach(), tuple(f.detach() for f in fin), m.grads(name))
    ref_out, ref_fin, ref_grads = results["torch"]
    for name in CONTENDERS[1:]:
        out, fin, grads = results[name]
        errs = {"output": _close(out, ref_out)}
        errs.update({f"final state {k}": _close(f, r) for k, (f, r) in enumerate(zip(fin, ref_fin))})
        if set(grads) != set(ref_grads):
            raise AssertionError(f"{m.cell}: {name} has parameters {sorted(grads)}, torch {sorted(ref_grads)}")
        errs.update({f"grad {k}": _close(grads[k], ref_grads[k]) for k in ref_grads})
        bad = {k: v for k, v in errs.items() if not v <= RTOL}
        if bad:
            raise AssertionError(
                f"parity failed for {m.cell} {name} vs torch at x {tuple(x.shape)}: "
                + ", ".join(f"{k} rel. err {v:.2e}" for k, v in bad.items()) + f" (tolerance {RTOL})")
    for name in CONTENDERS:
        m.zero_grad(name)


def _ms(v: float) -> str:
    return f"{v:.1f}" if v >= 100 else f"{v:.2f}" if v >= 1 else f"{v:.3f}"


def bench_one(cell: str, B: int, T: int, H: int, repeats: int, warmup: int) -> list[list]:
    m = Contenders(cell, H)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(B, T, H, generator=gen)
    g = torch.randn(B, T, H, generator=gen)
    check_parity(m, x, g)
    auto_path = dispatch.choose_backend(m.auto, "auto", x)

    def fwd(name):
        def f():
            with torch.no_grad():
                m.run(name, x)
        return f

    def fwd_bwd(name):
        def f():
            m.run(name, x)[0].backward(g)
        return f

    rows = []
    for mode in MODES:
        make = fwd if mode == "fwd" else fwd_bwd
        fns = {name: make(name) for name in CONTENDERS}
        ms = time_interleaved(fns, repeats, warmup, setup=m.zero_grad)
        rows.append([
            cell.upper(), B, T, H, mode, auto_path,
            _ms(ms["torch"]), _ms(ms["auto"]), f"{ms['auto'] / ms['torch']:.3f}",
            _ms(ms["loop"]), _ms(ms["cell loop"]), f"{ms['loop'] / ms['cell loop']:.3f}",
        ])
    return rows


def call_overhead(repeats: int = 300) -> str:
    """Per-call time at B=1, T=1, H=8 (forward, no_grad), where nearly all of it is overhead."""
    lines = []
    for cell in CELLS:
        m = Contenders(cell, 8)
        x = torch.randn(1, 1, 8)

        def fwd(name):
            def f():
                with torch.no_grad():
                    m.run(name, x)
            return f

        us = time_interleaved({n: fwd(n) for n in ("torch", "auto")}, repeats, warmup=20)
        lines.append(f"{cell.upper()} torch {us['torch'] * 1e3:.0f} us, rnnkit auto {us['auto'] * 1e3:.0f} us "
                     f"(+{(us['auto'] - us['torch']) * 1e3:.0f} us)")
    return "per-call time at B=1, T=1, H=8 (fwd, median): " + "; ".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per contender (default 7; 3 with --quick)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls of each contender first (default 1)")
    p.add_argument("--quick", action="store_true", help="one tiny config, few repeats (smoke test)")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error("--threads must be >= 1")
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 7)
    if repeats < 1:
        p.error("--repeats must be >= 1")

    torch.set_num_threads(args.threads)
    configs = QUICK_CONFIGS if args.quick else CONFIGS
    start = time.perf_counter()
    print("# rnnkit CPU layers vs torch.nn, " + datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    for line in machine_header(args.threads):
        print("# " + line)
    print(f"# float32, D = H, 1 layer, batch-first; median of {repeats} interleaved repeats after "
          f"{args.warmup} warm-up; parity (outputs, final state, grads) checked before timing")
    print("# " + call_overhead(50 if args.quick else 300), flush=True)

    rows = []
    for B, T, H in configs:
        for cell in CELLS:
            for row in bench_one(cell, B, T, H, repeats, args.warmup):
                rows.append(row)
                print("  " + " ".join(str(c) for c in row), flush=True)
    print(f"# total {time.perf_counter() - start:.1f} s\n")
    print(markdown_table(COLUMNS, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
