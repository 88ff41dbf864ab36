"""torch.compile of a small rnnkit layer compiles once for three sequence lengths (dynamic=True).

- The LSTM through its public call, and a custom-cell Recurrent through the export scan path
  (rnnkit.apps.export.scan.run_layer), compiled with backend="aot_eager" (dynamo's graph capture
  and guards decide recompiles; the backend does not), which keeps them to seconds.
- A custom-cell Recurrent through its public call with the default backend (Inductor), in
  training (outputs and gradients equal eager's) and bidirectional with padded rows: the time
  loop runs as its own compiled scan (rnnkit/layers/compiled.py). These compile with Inductor's
  C++ wrapper: about 20-40 s each on a shared 2-core CPU with an empty compile cache.
- A cell the scan cannot compile warns and runs the eager loop, with eager's results.

benchmarks/compile.py measures compile times and speeds."""

from __future__ import annotations

import os
import shutil
import warnings

import pytest
import torch

import rnnkit
from rnnkit.apps.export.scan import run_layer

LENGTHS = (5, 9, 17)


class TanhCell(torch.nn.Module):
    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.lin = torch.nn.Linear(input_size + hidden_size, hidden_size)

    def forward(self, x, state=None):
        h = state[0] if isinstance(state, tuple) else state
        return torch.tanh(self.lin(torch.cat([x, h], dim=-1)))


def _graphs_per_length(fn, reference, D=4):
    import torch._dynamo
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    seen = []
    for T in LENGTHS:
        x = torch.randn(3, T, D)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(x)
            torch.testing.assert_close(out, reference(x), atol=1e-5, rtol=1e-5)
        seen.append(int(counters["stats"]["unique_graphs"]))
    return seen


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_lstm_layer_compiles_once_for_three_lengths():
    torch.manual_seed(0)
    lstm = rnnkit.LSTM(4, 8, batch_first=True).eval()
    compiled = torch.compile(lstm, dynamic=True, backend="aot_eager")
    seen = _graphs_per_length(lambda x: compiled(x)[0], lambda x: lstm(x)[0])
    assert seen[0] >= 1 and seen[1:] == [seen[0]] * 2, f"graphs after each length: {seen}"


def test_custom_cell_recurrent_compiles_once_through_scan():
    torch.manual_seed(0)
    layer = rnnkit.Recurrent(lambda d: TanhCell(d, 8), input_size=4, batch_first=True).eval()

    def scan_call(x):
        return run_layer(layer, x, (x.new_zeros(1, x.shape[0], 8),))[0]

    compiled = torch.compile(scan_call, dynamic=True, backend="aot_eager")
    seen = _graphs_per_length(compiled, lambda x: layer(x)[0])
    assert seen == [1, 1, 1], f"graphs after each length: {seen}"


# Inductor on CPU writes and builds C++: without a compiler it cannot run (the layer would warn and
# run its eager loop, which the tests below would report as a failure)
needs_cxx = pytest.mark.skipif(not any(shutil.which(c) for c in (os.environ.get("CXX", "c++"), "g++", "clang++")),
                               reason="Inductor needs a C++ compiler on CPU")


def _no_loop_fallback(caught) -> None:
    fallbacks = [str(w.message) for w in caught if "could not be compiled" in str(w.message)]
    assert not fallbacks, fallbacks


@needs_cxx
def test_custom_cell_recurrent_public_call_compiles_once_and_trains():
    """The default backend, with backward: one compile for three lengths; outputs, final state and
    every gradient (input and parameters) equal eager's."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    torch.manual_seed(0)
    layer = rnnkit.Recurrent(lambda d: TanhCell(d, 8), input_size=4, batch_first=True)
    compiled = torch.compile(layer, dynamic=True)
    torch._dynamo.reset()
    counters.clear()
    seen = []
    for T in LENGTHS:
        x = torch.randn(3, T, 4, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out, h_n = compiled(x)
        _no_loop_fallback(caught)
        (out.square().sum() + h_n.sum()).backward()
        seen.append(int(counters["stats"]["unique_graphs"]))
        got = [out, h_n, x.grad] + [p.grad for p in layer.parameters()]
        x.grad = None
        layer.zero_grad(set_to_none=True)
        ref_out, ref_h = layer(x)
        (ref_out.square().sum() + ref_h.sum()).backward()
        want = [ref_out, ref_h, x.grad] + [p.grad for p in layer.parameters()]
        layer.zero_grad(set_to_none=True)
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w, atol=1e-5, rtol=1e-4)
    assert seen[0] >= 2 and seen[1:] == [seen[0]] * 2, f"graphs after each length: {seen}"


@needs_cxx
def test_custom_cell_recurrent_bidirectional_with_lengths_compiles_once():
    """Padded rows (lengths=) and the reverse direction: one compile for three lengths, outputs
    and final states equal eager's (padded outputs zero, each row's state after its last step)."""
    torch.manual_seed(0)
    layer = rnnkit.Recurrent(lambda d: TanhCell(d, 8), input_size=4, batch_first=True,
                             bidirectional=True).eval()
    compiled = torch.compile(layer, dynamic=True)

    def padded(fn):
        def call(x):
            T = x.shape[1]
            lengths = torch.tensor([T, T - 3, 2])
            out, h_n = fn(x, lengths=lengths)
            return torch.cat([out.flatten(), h_n.flatten()])
        return call

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seen = _graphs_per_length(padded(compiled), padded(layer))
    _no_loop_fallback(caught)
    assert seen[0] >= 2 and seen[1:] == [seen[0]] * 2, f"graphs after each length: {seen}"


class _BranchingCell(TanhCell):
    """A step with a Python branch on a tensor's value: no one-graph scan can hold it."""

    def forward(self, x, state=None):
        h = state[0] if isinstance(state, tuple) else state
        if float(h.abs().sum()) > 1e9:
            h = torch.zeros_like(h)
        return super().forward(x, h)


def test_cell_that_cannot_be_a_scan_warns_and_runs_eagerly():
    torch.manual_seed(0)
    layer = rnnkit.Recurrent(lambda d: _BranchingCell(d, 8), input_size=4, batch_first=True).eval()
    compiled = torch.compile(layer, dynamic=True, backend="aot_eager")
    x = torch.randn(3, 6, 4)
    with torch.no_grad(), pytest.warns(RuntimeWarning, match="could not be compiled as one scan"):
        out, h_n = compiled(x)
    with torch.no_grad():
        ref_out, ref_h = layer(x)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h_n, ref_h)
