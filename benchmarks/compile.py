"""torch.compile of rnnkit layers: how many compiles for several sequence lengths, compile time,
and speed against eager and against torch.nn.LSTM (native), from the same run, as ratios.

Rows (each compiled with ``dynamic=True`` and called at every length of ``--lengths``):

- ``rnnkit.LSTM``: the layer's public call, ``torch.compile(layer, dynamic=True)``. On CPU in fp32
  the layer runs torch's fused LSTM op, which stays one op in the graph: one compile serves all
  lengths.
- ``Recurrent(custom cell), public call``: rnnkit's own time loop is a Python ``for`` over the
  steps, which dynamo unrolls, so every new length compiles again (counted; run with
  ``--loop-lengths`` short lengths, each compile takes tens of seconds on a small CPU).
- ``Recurrent(custom cell), scan``: the same layer through
  :func:`rnnkit.apps.export.scan.run_layer`, the time loop as one ``scan`` higher-order op:
  one compile for all lengths. torch's Inductor does not lower ``scan`` on CPU in this torch
  (it raises on it), so this row compiles with ``backend="aot_eager"``.

Compiles are counted with ``torch._dynamo.utils.counters["stats"]["unique_graphs"]`` after a
``torch._dynamo.reset()``: ``graphs`` is what the first length made (a graph break splits the
call into pieces, each a graph), ``recompiles`` what the later lengths added (0: compiled once
for all lengths); the graph breaks' reasons are printed above the table.
Speeds are median wall times of one forward under ``torch.no_grad()`` at the longest length,
interleaved (benchmarks/common.py), printed as ratios to the native ``torch.nn.LSTM`` and to the
row's own eager call. ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_header, markdown_table, time_interleaved  # noqa: E402

COLUMNS = ["layer", "path", "backend", "lengths", "graphs", "recompiles", "graph breaks", "first call s", "later calls s",
           "compiled / eager", "compiled / native", "eager / native"]


class TanhCell(torch.nn.Module):
    """A custom cell (not one of rnnkit's): ``h' = tanh(W [x, h] + b)``; rnnkit's cell protocol
    needs ``input_size``, ``hidden_size`` and ``forward(x, state) -> new state``."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.lin = torch.nn.Linear(input_size + hidden_size, hidden_size)

    def forward(self, x, state=None):
        h = state[0] if isinstance(state, tuple) else state
        return torch.tanh(self.lin(torch.cat([x, h], dim=-1)))


def count_compiles(fn, inputs: list[tuple]) -> tuple[int, int, list[str], float, float, list]:
    """Dynamo graphs made by the first call of ``fn``, graphs made again by the later calls (new
    lengths: recompiles), the graph breaks' reasons, the first call's seconds, the later calls'
    seconds together, and the outputs."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    outs, first, later, graphs = [], 0.0, 0.0, 0
    for i, args in enumerate(inputs):
        t0 = time.perf_counter()
        with torch.no_grad():
            outs.append(fn(*args))
        dt = time.perf_counter() - t0
        if i == 0:
            first = dt
            graphs = int(counters["stats"]["unique_graphs"])
        else:
            later += dt
    breaks = [str(k).splitlines()[0][:80] for k in counters["graph_break"]]
    return graphs, int(counters["stats"]["unique_graphs"]) - graphs, breaks, first, later, outs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--input", type=int, default=32)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--lengths", type=int, nargs="+", default=[16, 64, 256])
    p.add_argument("--loop-lengths", type=int, nargs="+", default=[8, 12],
                   help="lengths for the custom cell's public call (recompiles per length)")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats, no loop row")
    args = p.parse_args(argv)
    if args.quick:
        args.lengths, args.loop_lengths, args.repeats = [4, 8, 12], [], 3
        args.batch, args.input, args.hidden = 2, 8, 16
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")

    import rnnkit
    from rnnkit.apps.export.scan import run_layer

    torch.manual_seed(0)
    B, D, H = args.batch, args.input, args.hidden
    xs = [(torch.randn(B, T, D),) for T in args.lengths]
    x_long = xs[-1][0]
    native = torch.nn.LSTM(D, H, batch_first=True).eval()
    lstm = rnnkit.LSTM(D, H, batch_first=True).eval()
    lstm.load_state_dict(native.state_dict())
    custom = rnnkit.Recurrent(lambda d: TanhCell(d, H), input_size=D, batch_first=True).eval()

    def scan_call(x):
        return run_layer(custom, x, (x.new_zeros(1, x.shape[0], H),))[0]

    for line in machine_header(args.threads):
        print(line)
    print(f"B={B} D={D} H={H}; lengths {args.lengths}; forward under no_grad; times: median of {args.repeats}")
    rows = []

    def row(name, path, backend, eager_fn, compiled, inputs, check):
        n, again, breaks, first, later, outs = count_compiles(compiled, inputs)
        for (x,), out in zip(inputs, outs):
            with torch.no_grad():
                err = (out - check(x)).abs().max().item()
            assert err < 1e-4, f"{name} {path}: compiled output differs from eager by {err:.3g}"
        if inputs[-1][0] is x_long:
            with torch.no_grad():
                ms = time_interleaved({"native": lambda: native(x_long), "eager": lambda: eager_fn(x_long),
                                       "compiled": lambda: compiled(x_long)}, args.repeats)
            ratios = (f"{ms['compiled'] / ms['eager']:.2f}", f"{ms['compiled'] / ms['native']:.2f}",
                      f"{ms['eager'] / ms['native']:.2f}")
        else:
            ratios = ("-", "-", "-")
        rows.append([name, path, backend, ",".join(str(a[0].shape[1]) for a in inputs), n, again,
                     len(breaks), f"{first:.1f}", f"{later:.1f}", *ratios])
        print(f"  {name} / {path}: {n} graph(s) at the first length, {again} recompile(s) at "
              f"{len(inputs) - 1} later lengths; graph breaks: {breaks or 'none'}", flush=True)

    lstm_out = lambda x: lstm(x)[0]  # noqa: E731
    compiled_lstm = torch.compile(lstm, dynamic=True)
    row("rnnkit.LSTM", "public call", "inductor", lstm_out, lambda x: compiled_lstm(x)[0], xs, lstm_out)

    custom_out = lambda x: custom(x)[0]  # noqa: E731
    compiled_scan = torch.compile(scan_call, dynamic=True, backend="aot_eager")
    row("Recurrent(custom cell)", "scan (run_layer)", "aot_eager", custom_out, compiled_scan, xs, custom_out)
    if args.loop_lengths:
        compiled_custom = torch.compile(custom, dynamic=True)
        loop_xs = [(torch.randn(B, T, D),) for T in args.loop_lengths]
        row("Recurrent(custom cell)", "public call", "inductor", custom_out, lambda x: compiled_custom(x)[0],
            loop_xs, custom_out)
    print()
    print(markdown_table(COLUMNS, rows))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
