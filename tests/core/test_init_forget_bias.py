"""init_forget_bias: the forget gate of every LSTM cell starts at sigmoid(value), nothing else moves."""

import pytest
import torch

import rnnkit
from rnnkit.cells import LayerNormLSTMCell
from rnnkit.layers import init_forget_bias


def _biases(module):
    return {n: p.detach().clone() for n, p in module.named_parameters() if "bias" in n}


@pytest.mark.parametrize("make", [
    lambda: rnnkit.LSTM(3, 8, num_layers=2, bidirectional=True),
    lambda: torch.nn.LSTM(3, 8, num_layers=2, bidirectional=True),
    lambda: torch.nn.LSTMCell(3, 8),
])
def test_only_the_forget_slice_changes(make):
    torch.manual_seed(0)
    m = make()
    before = _biases(m)
    weights = {n: p.detach().clone() for n, p in m.named_parameters() if "weight" in n}
    count = init_forget_bias(m, 1.5)
    assert count == len(before) // 2  # one (bias_ih, bias_hh) pair per cell or direction
    H = 8
    for name, old in before.items():
        new = dict(m.named_parameters())[name].detach()
        keep = torch.ones(4 * H, dtype=torch.bool)
        keep[H:2 * H] = False
        assert torch.equal(new[keep], old[keep]), name
        assert torch.all(new[H:2 * H] == (1.5 if "bias_ih" in name else 0.0)), name
    for name, old in weights.items():
        assert torch.equal(dict(m.named_parameters())[name].detach(), old)


def test_forget_gate_carries_the_cell_state_by_sigmoid_value():
    """All weights and other biases zero: c_1 = sigmoid(v) c_0 + sigmoid(0) tanh(0) = sigmoid(v) c_0."""
    lstm = rnnkit.LSTM(2, 4)
    with torch.no_grad():
        for p in lstm.parameters():
            p.zero_()
    init_forget_bias(lstm, 2.0)
    c0 = torch.linspace(-1, 1, 12).reshape(1, 3, 4)
    _, (_, c1) = lstm(torch.randn(1, 3, 2), (torch.zeros(1, 3, 4), c0))  # x (T=1, B=3, D)
    torch.testing.assert_close(c1, torch.sigmoid(torch.tensor(2.0)) * c0)


def test_rnnkit_and_torch_stay_equal_after_init():
    torch.manual_seed(1)
    ours = rnnkit.LSTM(3, 5, num_layers=2)
    theirs = torch.nn.LSTM(3, 5, num_layers=2)
    theirs.load_state_dict(ours.state_dict())
    init_forget_bias(ours, 1.0)
    init_forget_bias(theirs, 1.0)
    x = torch.randn(7, 2, 3)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0])


def test_layernorm_lstm_cell_is_covered():
    cell = LayerNormLSTMCell(3, 6)
    assert init_forget_bias(cell, 1.0) == 1
    assert torch.all(cell.bias_ih[6:12] == 1.0)


@pytest.mark.parametrize("make", [lambda: rnnkit.GRU(3, 4), lambda: torch.nn.LSTM(3, 4, bias=False)])
def test_nothing_to_set_is_an_error(make):
    with pytest.raises(ValueError, match="no LSTM cell with biases"):
        init_forget_bias(make())
