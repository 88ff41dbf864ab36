"""torch.compile of rnnkit layers: how many compiles for several sequence lengths, compile time,
and speed against eager and against torch's native layer, from the same run, as ratios.

Rows (each compiled with ``dynamic=True``, default options unless the path says, and called at
every length of ``--lengths``):

- ``rnnkit.LSTM``, public call: ``torch.compile(layer, dynamic=True)``. On CPU in fp32 the layer
  runs torch's fused LSTM op, one op in the graph: one compile serves all lengths. Native:
  ``torch.nn.LSTM``.
- ``Recurrent(custom cell)``, public call, forward and training (forward + backward): rnnkit's
  time loop under compile (rnnkit/layers/compiled.py): a graph break, then the loop as one
  ``scan`` compiled on its own by Inductor with its C++ wrapper, one compile for all lengths.
  Native: ``torch.nn.RNN`` with the same weights (the custom cell is ``tanh(W [x, h] + b)``).
- Alternatives measured for that choice (``--no-alternatives`` skips them):
  ``scan, Python wrapper``: the same scan compiled with Inductor's default Python wrapper;
  ``step compiled``: the loop outside the graph over the cell's step compiled on its own (one
  compile: the step's shapes do not depend on T), each step one compiled call;
  ``unrolled loop``: ``layer.compile_loop = "unroll"``, the loop traced into the caller's graph,
  as rnnkit did before: dynamo unrolls it and every new length compiles again (run at the short
  ``--loop-lengths``, each compile takes tens of seconds on a small CPU).

Compiles are counted with ``torch._dynamo.utils.counters["stats"]["unique_graphs"]`` after a
``torch._dynamo.reset()``: ``graphs`` is what the first length made (the caller's graph pieces
around a graph break, and the nested scan's graph), ``recompiles`` what the later lengths added
(0: compiled once for all lengths); ``first call s`` is the first length's call (compile
included), ``later calls s`` the later lengths' calls together. Every compiled call is checked
against eager (outputs; gradients too in training). Speeds are median wall times at the longest
length, interleaved (benchmarks/common.py), forward under ``torch.no_grad()``, training one
forward and ``backward()``; ``compiled ms`` is the compiled call's median, the ratios are to
the row's own eager call and to the native layer. ``--quick`` for a smoke run.
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

COLUMNS = ["layer", "path", "mode", "lengths", "graphs", "recompiles", "graph breaks", "first call s",
           "later calls s", "compiled ms", "compiled / eager", "compiled / native", "eager / native"]


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


def _step_compiled_layer(layer):
    """The ``step compiled`` alternative: ``layer`` (a Recurrent over one cell) whose time loop,
    under compile, runs outside the graph over the cell's step compiled on its own."""
    import torch._dynamo

    import rnnkit
    from rnnkit.cells.base import as_state_tuple
    from rnnkit.layers.scan import run_direction

    step = torch.compile(lambda cell, x_t, s: as_state_tuple(cell(x_t, s)), dynamic=True)

    def loop(cell, x, state, lengths=None, reverse=False):
        def body(x, run_lengths):
            assert run_lengths is None, "the benchmark runs full-length batches"
            s, outputs = state, []
            for x_t in x.unbind(1):
                s = step(cell, x_t, s)
                outputs.append(s[0])
            return torch.stack(outputs, dim=1), s
        return run_direction(cell, x, lengths, reverse, body)

    loop = torch._dynamo.disable(loop)

    class StepCompiled(rnnkit.Recurrent):
        def _direction_scan(self, backend, state_given):
            return loop if torch.compiler.is_compiling() else super()._direction_scan(backend, state_given)

    other = StepCompiled(lambda d: TanhCell(d, layer.cells[0].hidden_size), input_size=layer.input_size,
                         batch_first=layer.batch_first)
    other.load_state_dict(layer.state_dict())
    return other.train(layer.training)


def count_compiles(fn, inputs: list, train: bool, params: list):
    """Dynamo graphs made by the first call of ``fn``, graphs made again by the later calls (new
    lengths: recompiles), the graph breaks' reasons, the first call's seconds, the later calls'
    seconds together, and per call the output and (training) the parameters' gradients."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    results, first, later, graphs = [], 0.0, 0.0, 0
    for i, x in enumerate(inputs):
        for p in params:
            p.grad = None
        t0 = time.perf_counter()
        if train:
            out = fn(x)
            out.square().sum().backward()
        else:
            with torch.no_grad():
                out = fn(x)
        dt = time.perf_counter() - t0
        results.append((out.detach(), [p.grad.clone() for p in params] if train else []))
        if i == 0:
            first = dt
            graphs = int(counters["stats"]["unique_graphs"])
        else:
            later += dt
    breaks = [str(k).splitlines()[0][:80] for k in counters["graph_break"]]
    return graphs, int(counters["stats"]["unique_graphs"]) - graphs, breaks, first, later, results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--input", type=int, default=32)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--lengths", type=int, nargs="+", default=[16, 64, 256])
    p.add_argument("--loop-lengths", type=int, nargs="+", default=[8, 12],
                   help="lengths for the unrolled loop (one compile per length)")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-alternatives", dest="alternatives", action="store_false",
                   help="only the library's own paths (no Python-wrapper scan, step-compiled or unrolled rows)")
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats, no alternatives")
    args = p.parse_args(argv)
    if args.quick:
        args.lengths, args.repeats, args.alternatives = [4, 8, 12], 3, False
        args.batch, args.input, args.hidden = 2, 8, 16
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")

    import rnnkit
    from rnnkit.layers import compiled as compiled_loop

    torch.manual_seed(0)
    B, D, H = args.batch, args.input, args.hidden
    xs = [torch.randn(B, T, D) for T in args.lengths]
    x_long = xs[-1]
    native_lstm = torch.nn.LSTM(D, H, batch_first=True)
    lstm = rnnkit.LSTM(D, H, batch_first=True)
    lstm.load_state_dict(native_lstm.state_dict())
    custom = rnnkit.Recurrent(lambda d: TanhCell(d, H), input_size=D, batch_first=True)
    native_rnn = torch.nn.RNN(D, H, batch_first=True)  # the custom cell's math, its weights
    with torch.no_grad():
        w = custom.cells[0].lin.weight
        native_rnn.weight_ih_l0.copy_(w[:, :D])
        native_rnn.weight_hh_l0.copy_(w[:, D:])
        native_rnn.bias_ih_l0.copy_(custom.cells[0].lin.bias)
        native_rnn.bias_hh_l0.zero_()
        assert (native_rnn(x_long)[0] - custom(x_long)[0]).abs().max() < 1e-5

    for line in machine_header(args.threads):
        print(line)
    print(f"B={B} D={D} H={H}; lengths {args.lengths}; forward under no_grad, training forward + "
          f"backward; times: median of {args.repeats} at T={args.lengths[-1]}")
    rows = []

    def row(name, path, mode, layer, native, inputs, before=None, after=None):
        """Compile ``layer`` (dynamic=True), call it at each of ``inputs``, check against eager,
        time it against eager and ``native``; ``before``/``after`` set up and undo a variant."""
        if before is not None:
            before()
        try:
            train = mode == "training"
            params = list(layer.parameters())
            comp = torch.compile(layer, dynamic=True)
            n, again, breaks, first, later, results = count_compiles(lambda x: comp(x)[0], inputs, train, params)
            for x, (out, grads) in zip(inputs, results):
                for q in params:
                    q.grad = None
                if train:
                    ref = layer(x)[0]
                    ref.square().sum().backward()
                else:
                    with torch.no_grad():
                        ref = layer(x)[0]
                err = (out - ref.detach()).abs().max().item()
                assert err < 1e-4, f"{name} {path} {mode}: compiled output differs from eager by {err:.3g}"
                for g, q in zip(grads, params):
                    gerr = ((g - q.grad).abs().max() / q.grad.abs().max().clamp_min(1e-6)).item()
                    assert gerr < 1e-4, f"{name} {path}: compiled gradient differs from eager by {gerr:.3g} (relative)"
            if inputs[-1] is x_long:
                def call(f):
                    if train:
                        return lambda: f(x_long)[0].square().sum().backward()
                    return lambda: f(x_long)

                def zero(_):
                    for q in params + list(native.parameters()):
                        q.grad = None

                with torch.set_grad_enabled(train):
                    ms = time_interleaved({"native": call(native), "eager": call(layer), "compiled": call(comp)},
                                          args.repeats, setup=zero)
                timing = (f"{ms['compiled']:.2f}", f"{ms['compiled'] / ms['eager']:.2f}",
                          f"{ms['compiled'] / ms['native']:.2f}", f"{ms['eager'] / ms['native']:.2f}")
            else:
                timing = ("-", "-", "-", "-")
        finally:
            if after is not None:
                after()
        rows.append([name, path, mode, ",".join(str(x.shape[1]) for x in inputs), n, again, len(breaks),
                     f"{first:.1f}", f"{later:.1f}", *timing])
        print(f"  {name} / {path} / {mode}: {n} graph(s) at the first length, {again} recompile(s) at "
              f"{len(inputs) - 1} later lengths; graph breaks: {breaks or 'none'}", flush=True)

    row("rnnkit.LSTM", "public call", "forward", lstm, native_lstm, xs)
    for mode in ("forward", "training"):
        row("Recurrent(custom cell)", "public call", mode, custom, native_rnn, xs)
    if args.alternatives:
        saved = dict(compiled_loop.COMPILE_OPTIONS)

        def python_wrapper():
            compiled_loop.COMPILE_OPTIONS.clear()
            compiled_loop.COMPILE_OPTIONS["backend"] = "inductor"
            compiled_loop._compiled.clear()

        def restore():
            compiled_loop.COMPILE_OPTIONS.clear()
            compiled_loop.COMPILE_OPTIONS.update(saved)
            compiled_loop._compiled.clear()

        stepped = _step_compiled_layer(custom)
        for mode in ("forward", "training"):
            row("Recurrent(custom cell)", "scan, Python wrapper", mode, custom, native_rnn, xs,
                before=python_wrapper, after=restore)
            row("Recurrent(custom cell)", "step compiled", mode, stepped, native_rnn, xs)

        def unroll():
            custom.compile_loop = "unroll"

        def scan_again():
            del custom.compile_loop

        loop_xs = [torch.randn(B, T, D) for T in args.loop_lengths]
        row("Recurrent(custom cell)", "unrolled loop", "forward", custom, native_rnn, loop_xs,
            before=unroll, after=scan_again)
    print()
    print(markdown_table(COLUMNS, rows))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
