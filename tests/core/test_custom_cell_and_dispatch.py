"""A user's own cell gets every layer feature; dispatch picks and logs backends; bad input errors."""

import logging

import pytest
import torch
from torch import nn

import rnnkit
from rnnkit.kernels.dispatch import BackendUnavailable


class NormTanhCell(nn.Module):
    """A user cell following only the documented protocol: h_t = LayerNorm(tanh(W x + U h))."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.inp = nn.Linear(input_size, hidden_size)
        self.rec = nn.Linear(hidden_size, hidden_size, bias=False)
        self.norm = nn.LayerNorm(hidden_size)

    def forward(self, x, state):
        (h,) = state
        return self.norm(torch.tanh(self.inp(x) + self.rec(h)))


def _manual(cell, x):
    h = torch.zeros(x.shape[0], cell.hidden_size, dtype=x.dtype)
    outs = []
    for t in range(x.shape[1]):
        h = cell(x[:, t], (h,))
        outs.append(h)
    return torch.stack(outs, 1), h


def test_custom_cell_gets_stacking_bidirectional_lengths_and_step():
    layer = rnnkit.Recurrent(lambda d: NormTanhCell(d, 5), input_size=3, num_layers=2, bidirectional=True,
                             batch_first=True).double()
    x = torch.randn(2, 6, 3, dtype=torch.double)
    c = layer.cells
    y0f, _ = _manual(c[0], x)
    y0b, _ = _manual(c[1], x.flip(1))
    y0 = torch.cat([y0f, y0b.flip(1)], -1)
    y1f, h1f = _manual(c[2], y0)
    y1b, h1b = _manual(c[3], y0.flip(1))
    y, h = layer(x)
    torch.testing.assert_close(y, torch.cat([y1f, y1b.flip(1)], -1))
    torch.testing.assert_close(h[2], h1f)
    torch.testing.assert_close(h[3], h1b)
    lengths = torch.tensor([6, 3])
    y_len, _ = layer(x, lengths=lengths)
    torch.testing.assert_close(y_len[1:, :3], layer(x[1:, :3])[0])
    assert torch.count_nonzero(y_len[1, 3:]) == 0
    # torch-style state_dict naming applies to nested parameters of user cells too
    assert "norm.weight_l1_reverse" in layer.state_dict()
    uni = rnnkit.Recurrent(NormTanhCell(3, 5), num_layers=1, batch_first=True).double()
    state = None
    full, _ = uni(x)
    for t in range(6):
        y_t, state = uni.step(x[:, t], state)
        torch.testing.assert_close(y_t, full[:, t])


def test_cell_instance_copied_for_reverse_direction_gets_own_parameters():
    layer = rnnkit.Recurrent(NormTanhCell(3, 3), num_layers=2, bidirectional=True, merge="sum")
    assert layer.cells[1] is not layer.cells[0]
    assert not torch.equal(layer.cells[1].inp.weight, layer.cells[0].inp.weight)
    with pytest.raises(ValueError, match="factory"):
        rnnkit.Recurrent(NormTanhCell(3, 5), num_layers=2)


def test_auto_picks_native_for_plain_layers_and_loop_otherwise(caplog):
    x = torch.randn(2, 4, 3)
    with caplog.at_level(logging.INFO, logger="rnnkit.dispatch"):
        rnnkit.LSTM(3, 5)(x)
        rnnkit.LSTM(3, 5)(x)
        rnnkit.GRU(3, 5, bidirectional=True, merge="sum")(x)
        rnnkit.Recurrent(lambda d: NormTanhCell(d, 5), input_size=3)(x)
    msgs = [r.getMessage() for r in caplog.records]
    assert sum("LSTM on cpu/torch.float32: backend=native" in m for m in msgs) <= 1, "logged once"
    assert any("GRU" in m and "backend=loop" in m and "merge='sum'" in m for m in msgs)
    assert any("Recurrent" in m and "backend=loop" in m and "NormTanhCell" in m for m in msgs)


def test_explicit_native_raises_when_unavailable():
    x = torch.randn(2, 4, 3)
    with pytest.raises(BackendUnavailable, match="NormTanhCell"):
        rnnkit.Recurrent(lambda d: NormTanhCell(d, 5), input_size=3, backend="native")(x)
    with pytest.raises(BackendUnavailable, match="residual"):
        rnnkit.GRU(3, 3, num_layers=2, residual=True, backend="native")(x)
    with pytest.raises(BackendUnavailable, match="float16"):
        rnnkit.GRU(3, 3, backend="native").half()(x.half())
    with pytest.raises(ValueError, match="backend"):
        rnnkit.GRU(3, 3, backend="cuda")


def test_native_and_loop_agree_in_float32():
    layer = rnnkit.LSTM(3, 8, num_layers=2, bidirectional=True)
    x = torch.randn(9, 4, 3)  # (T, B, D)
    lengths = torch.tensor([9, 1, 5, 3])
    layer.backend = "native"
    y_n, s_n = layer(x, lengths=lengths)
    layer.backend = "loop"
    y_l, s_l = layer(x, lengths=lengths)
    torch.testing.assert_close(y_n, y_l, rtol=1e-5, atol=1e-6)
    for a, b in zip(s_n, s_l):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda l: l(torch.randn(4, 2, 3, 1)), r"rank 3 \(time, batch, features\), or rank 2 .*got rank 4"),
        (lambda l: l(torch.randn(4, 2, 5)), "expects 3 input features, got 5"),
        (lambda l: l(torch.randn(4, 2, 3), lengths=torch.tensor([5, 2])), r"lengths must be in \[1, T=4\].*5"),
        (lambda l: l(torch.randn(4, 2, 3), lengths=torch.tensor([0, 2])), r"lengths must be in \[1, T=4\]"),
        (lambda l: l(torch.randn(4, 2, 3), lengths=torch.tensor([2, 2, 2])), "1-D tensor of 2"),
        (lambda l: l(torch.randn(4, 2, 3), lengths=torch.tensor([2.0, 2.0])), "integers"),
        (lambda l: l(torch.randn(4, 2, 3), (torch.zeros(1, 3, 5), torch.zeros(1, 3, 5))),
         r"batch sizes of input and state differ"),
        (lambda l: l(torch.randn(4, 2, 3), torch.zeros(1, 2, 5)), "state of 2 tensor"),
        (lambda l: l(torch.randn(4, 3), lengths=torch.tensor([4])), "unbatched"),
        (lambda l: l(torch.randn(4, 3).double()), r"input dtype \(torch.float64\) does not match weight dtype \(torch.float32\)"),
        (lambda l: l.step(torch.randn(2, 4, 3)), r"x_t of shape \(batch, 3\)"),
    ],
)
def test_bad_input_gets_clear_error(call, match):
    layer = rnnkit.LSTM(3, 5)
    with pytest.raises(ValueError, match=match):
        call(layer)


def test_layers_see_the_dispatcher():
    """A broken import inside rnnkit/kernels must not silently turn every layer into the loop."""
    from rnnkit.layers import recurrent
    assert recurrent._dispatch is not None and recurrent._native is not None and recurrent._fused is not None
