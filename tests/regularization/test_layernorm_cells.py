"""LayerNorm LSTM/GRU: a hand-written float64 loop of Ba et al.'s equations, gradcheck, layer features."""

import pytest
import torch

import rnnkit
from rnnkit.cells import LayerNormGRUCell, LayerNormLSTMCell
from rnnkit.kernels.dispatch import BackendUnavailable, choose_backend

D, H, B, T = 3, 5, 3, 6
EPS = 1e-5


def _norm(z):
    """Written out, not F.layer_norm: (z - mean) / sqrt(biased var + eps) over the last dim."""
    mu = z.sum(-1, keepdim=True) / z.shape[-1]
    var = ((z - mu) ** 2).sum(-1, keepdim=True) / z.shape[-1]
    return (z - mu) / torch.sqrt(var + EPS)


def ln_lstm_ref(cell, x_t, state):
    h, c = state
    gates = (cell.gamma_ih * _norm(x_t @ cell.weight_ih.T) + cell.bias_ih
             + cell.gamma_hh * _norm(h @ cell.weight_hh.T))
    i, f, g, o = gates.split(H, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(cell.gamma_c * _norm(c) + cell.beta_c)
    return h, c


def ln_gru_ref(cell, x_t, state):
    (h,) = state
    r_i, z_i, n_i = (cell.gamma_ih * _norm(x_t @ cell.weight_ih.T) + cell.bias_ih).split(H, dim=-1)
    r_h, z_h, n_h = (cell.gamma_hh * _norm(h @ cell.weight_hh.T) + cell.bias_hh).split(H, dim=-1)
    r, z = torch.sigmoid(r_i + r_h), torch.sigmoid(z_i + z_h)
    n = torch.tanh(n_i + r * n_h)
    return ((1 - z) * n + z * h,)


CELLS = {"lstm": (LayerNormLSTMCell, ln_lstm_ref), "gru": (LayerNormGRUCell, ln_gru_ref)}


def _randomised(cls):
    """A float64 cell whose gains and shifts are not the trivial 1 and 0."""
    cell = cls(D, H).double()
    with torch.no_grad():
        for name, p in cell.named_parameters():
            if not name.startswith("weight"):
                p.copy_(torch.randn_like(p) * 0.5 + (1.0 if name.startswith("gamma") else 0.0))
    return cell


@pytest.mark.parametrize("kind", CELLS)
def test_layer_equals_hand_written_float64_loop(kind, reg):
    cls, ref = CELLS[kind]
    cell = _randomised(cls)
    layer = rnnkit.Recurrent(cell, batch_first=True)
    x = torch.randn(B, T, D, dtype=torch.double)
    s0 = tuple(torch.randn(B, s, dtype=torch.double) for s in cell.state_sizes)
    y_ref, s_ref = reg.hand_loop(lambda x_t, s: ref(cell, x_t, s), x, s0)
    layer_state = tuple(s.unsqueeze(0) for s in s0)
    y, s = layer(x, layer_state if len(s0) > 1 else layer_state[0])
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
    for a, b in zip(rnnkit.cells.as_state_tuple(s), s_ref):
        torch.testing.assert_close(a[0], b, rtol=1e-12, atol=1e-12)
    # the single-step module call agrees too
    one = cell(x[:, 0], s0)
    torch.testing.assert_close(rnnkit.cells.as_state_tuple(one)[0], y_ref[:, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", CELLS)
def test_gradcheck_inputs_state_and_parameters(kind):
    """Three chained steps; gradients w.r.t. inputs, initial state and every parameter."""
    cls, _ = CELLS[kind]
    cell = _randomised(cls)
    names = [n for n, _ in cell.named_parameters()]
    n_state = len(cell.state_sizes)
    x = torch.randn(2, 3, D, dtype=torch.double, requires_grad=True)
    s0 = tuple(torch.randn(2, s, dtype=torch.double, requires_grad=True) for s in cell.state_sizes)
    params = tuple(p.detach().clone().requires_grad_() for p in cell.parameters())

    def run(x, *rest):
        state, weights = rest[:n_state], dict(zip(names, rest[n_state:]))
        outs = []
        for t in range(x.shape[1]):
            state = rnnkit.cells.as_state_tuple(torch.func.functional_call(cell, weights, (x[:, t], state)))
            outs.append(state[0])
        return (torch.stack(outs, 1), *state)

    assert torch.autograd.gradcheck(run, (x, *s0, *params), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", CELLS)
def test_bidirectional_lengths_and_step(kind):
    cls, _ = CELLS[kind]
    layer = rnnkit.Recurrent(lambda d: cls(d, H), input_size=D, num_layers=2, bidirectional=True, batch_first=True).double()
    x = torch.randn(B, T, D, dtype=torch.double)
    lengths = torch.tensor([T, 2, 4])
    y, s = layer(x, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        y_b, s_b = layer(x[b:b + 1, :n])
        torch.testing.assert_close(y[b:b + 1, :n], y_b)
        assert torch.count_nonzero(y[b, n:]) == 0
        for a, c in zip(rnnkit.cells.as_state_tuple(s), rnnkit.cells.as_state_tuple(s_b)):
            torch.testing.assert_close(a[:, b:b + 1], c)
    uni = rnnkit.Recurrent(lambda d: cls(d, H), input_size=D, num_layers=2, batch_first=True).double()
    full, _ = uni(x)
    state = None
    for t in range(T):
        y_t, state = uni.step(x[:, t], state)
        torch.testing.assert_close(y_t, full[:, t])


def test_never_sent_to_the_native_op():
    layer = rnnkit.Recurrent(lambda d: LayerNormLSTMCell(d, H), input_size=D, batch_first=True)
    x = torch.randn(B, T, D)
    assert choose_backend(layer, "auto", x) == "loop"
    with pytest.raises(BackendUnavailable, match="LayerNormGRUCell"):
        rnnkit.Recurrent(LayerNormGRUCell(D, H), backend="native", batch_first=True)(x)


def test_bias_false_and_bad_sizes():
    cell = LayerNormLSTMCell(D, H, bias=False)
    assert cell.bias_ih is None and cell.beta_c is None
    assert {n for n, _ in cell.named_parameters()} == {"weight_ih", "weight_hh", "gamma_ih", "gamma_hh", "gamma_c"}
    assert rnnkit.Recurrent(cell, batch_first=True)(torch.randn(2, 3, D))[0].shape == (2, 3, H)
    with pytest.raises(ValueError, match="hidden_size"):
        LayerNormGRUCell(D, 0)
    with pytest.raises(ValueError, match="eps"):
        LayerNormGRUCell(D, H, eps=0.0)
