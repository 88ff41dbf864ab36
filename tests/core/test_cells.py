"""Oracle 1 and 2: cells against torch.nn cells with copied weights; gradcheck in float64."""

import pytest
import torch

import rnnkit
from rnnkit import functional as RF

D, H, B, STEPS = 5, 7, 4, 6


def _copy(src, dst):
    dst.load_state_dict(src.state_dict())


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    "ours,theirs,kwargs",
    [
        (rnnkit.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
        (rnnkit.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
        (rnnkit.LSTMCell, torch.nn.LSTMCell, {}),
        (rnnkit.GRUCell, torch.nn.GRUCell, {}),
    ],
)
def test_cell_matches_torch_over_chained_steps(ours, theirs, kwargs, bias):
    ref = theirs(D, H, bias=bias, **kwargs).double()
    cell = ours(D, H, bias=bias, **kwargs).double()
    _copy(ref, cell)
    xs = torch.randn(STEPS, B, D, dtype=torch.double)
    s_ref = s_ours = None
    for x in xs:
        s_ref = ref(x, s_ref)
        s_ours = cell(x, s_ours)
        if isinstance(s_ref, tuple):
            for a, b in zip(s_ref, s_ours):
                torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)
        else:
            torch.testing.assert_close(s_ours, s_ref, rtol=1e-12, atol=1e-12)


def test_cell_state_dict_loads_into_torch():
    cell = rnnkit.GRUCell(D, H)
    ref = torch.nn.GRUCell(D, H)
    ref.load_state_dict(cell.state_dict())
    x = torch.randn(B, D)
    torch.testing.assert_close(ref(x), cell(x))


def test_lstm_projection_matches_torch_single_layer():
    P = 3
    ref = torch.nn.LSTM(D, H, proj_size=P, batch_first=True).double()
    cell = rnnkit.LSTMCell(D, H, proj_size=P).double()
    for name in ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"]:
        getattr(cell, name).data.copy_(getattr(ref, name + "_l0"))
    x = torch.randn(B, STEPS, D, dtype=torch.double)
    y_ref, (h_ref, c_ref) = ref(x)
    state = None
    for t in range(STEPS):
        state = cell(x[:, t], state)
        torch.testing.assert_close(state[0], y_ref[:, t])
    torch.testing.assert_close(state[1], c_ref[0])
    assert state[0].shape == (B, P) and state[1].shape == (B, H)


def test_gru_is_torch_variant_not_cho():
    """The reset gate multiplies (W_hn h + b_hn): with b_hn != 0 this differs from Cho et al."""
    cell = rnnkit.GRUCell(2, 3).double()
    x, h = torch.randn(1, 2, dtype=torch.double), torch.randn(1, 3, dtype=torch.double)
    gi = RF.input_projection(x, cell.weight_ih, cell.bias_ih)
    w_r, w_z, w_n = cell.weight_hh.chunk(3)
    b_r, b_z, b_n = cell.bias_hh.chunk(3)
    g_r, g_z, g_n = gi.chunk(3, dim=-1)
    r = torch.sigmoid(g_r + h @ w_r.T + b_r)
    z = torch.sigmoid(g_z + h @ w_z.T + b_z)
    n = torch.tanh(g_n + r * (h @ w_n.T + b_n))
    torch.testing.assert_close(cell(x, h), (1 - z) * n + z * h)
    cho = torch.tanh(g_n + (r * h) @ w_n.T + b_n)
    assert not torch.allclose(n, cho)


@pytest.mark.parametrize("name", ["rnn_tanh", "rnn_relu", "lstm", "lstm_proj", "gru"])
def test_step_functions_gradcheck_float64(name):
    torch.manual_seed(1)
    dd = dict(dtype=torch.double, requires_grad=True)
    if name.startswith("rnn"):
        args = (torch.randn(2, 3, **dd), torch.randn(2, 3, **dd), torch.randn(3, 3, **dd), torch.randn(3, **dd))
        fn = lambda *a: RF.rnn_step(*a, nonlinearity=name[4:])  # noqa: E731
    elif name == "gru":
        args = (torch.randn(2, 9, **dd), torch.randn(2, 3, **dd), torch.randn(9, 3, **dd), torch.randn(9, **dd))
        fn = RF.gru_step
    else:
        p = 2 if name == "lstm_proj" else 3
        args = (torch.randn(2, 12, **dd), torch.randn(2, p, **dd), torch.randn(2, 3, **dd),
                torch.randn(12, p, **dd), torch.randn(12, **dd))
        if name == "lstm_proj":
            args = args + (torch.randn(p, 3, **dd),)
        fn = RF.lstm_step
    if name == "rnn_relu":
        # keep pre-activations away from relu's kink where finite differences are wrong
        args = tuple(a.detach().abs().requires_grad_() for a in args)
    assert torch.autograd.gradcheck(fn, args)


def test_bad_sizes_raise_clear_errors():
    with pytest.raises(ValueError, match="proj_size"):
        rnnkit.LSTMCell(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="nonlinearity"):
        rnnkit.RNNCell(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"\(batch, 3\)"):
        rnnkit.GRUCell(3, 4)(torch.randn(2, 5))
