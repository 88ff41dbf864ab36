"""torch.compile of a small rnnkit layer compiles once for three sequence lengths (dynamic=True):
the LSTM through its public call, and a custom-cell Recurrent through the scan path
(rnnkit.apps.export.scan.run_layer). Compiled with backend="aot_eager" (dynamo's graph capture
and guards decide recompiles; the backend does not), which keeps the test to seconds on a small
CPU. benchmarks/compile.py measures the Inductor compile as well."""

from __future__ import annotations

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
