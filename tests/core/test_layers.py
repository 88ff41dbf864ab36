"""Oracle 1 and 3 for layers: torch state_dict parity both ways, a hand loop over the cell,
lengths against unpadded runs, bidirectional against a reversed run, step() against forward.

These run batch-first (``batch_first=True``, as rnnkit's models do); torch's own default layout
and the rest of torch's call contract are in test_torch_dropin.py."""

import itertools

import pytest
import torch

import rnnkit
from rnnkit.cells.base import as_state_tuple

D, H, B, T = 4, 6, 3, 7
KINDS = {"RNN": {}, "RNN_relu": {"nonlinearity": "relu"}, "LSTM": {}, "LSTM_proj": {"proj_size": 3}, "GRU": {}}


def _make(kind, num_layers=1, bidirectional=False, bias=True, **extra):
    base = kind.split("_")[0]
    kw = dict(KINDS[kind], num_layers=num_layers, bidirectional=bidirectional, bias=bias)
    ref = getattr(torch.nn, base)(D, H, batch_first=True, **kw).double()
    ours = getattr(rnnkit, base)(D, H, batch_first=True, **kw, **extra).double()
    return ref, ours


def _close(a, b, tol=1e-10):
    for x, y in zip(as_state_tuple(a), as_state_tuple(b)):
        torch.testing.assert_close(x, y, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("num_layers,bidirectional,bias", list(itertools.product([1, 2], [False, True], [True, False])))
@pytest.mark.parametrize("backend", ["native", "loop"])
def test_torch_state_dict_parity_both_directions(kind, num_layers, bidirectional, bias, backend):
    ref, ours = _make(kind, num_layers, bidirectional, bias, backend=backend)
    ours.load_state_dict(ref.state_dict())  # strict: every key maps
    assert set(ours.state_dict()) == set(ref.state_dict())
    x = torch.randn(B, T, D, dtype=torch.double)
    h0 = tuple(torch.randn_like(s) for s in as_state_tuple(ref(x)[1]))
    h0_arg = h0 if len(h0) == 2 else h0[0]
    y_ref, s_ref = ref(x, h0_arg)
    y, s = ours(x, h0_arg)
    _close(y, y_ref)
    _close(s, s_ref)
    # and back: our weights into a fresh torch module
    back = _make(kind, num_layers, bidirectional, bias)[0]
    for p in back.parameters():
        torch.nn.init.normal_(p)
    back.load_state_dict(ours.state_dict())
    _close(back(x, h0_arg)[0], y_ref)


def test_batch_first_false_matches_torch():
    ref = torch.nn.LSTM(D, H, num_layers=2).double()
    ours = rnnkit.LSTM(D, H, num_layers=2, backend="loop").double()  # batch_first=False: the default
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(T, B, D, dtype=torch.double)
    y_ref, s_ref = ref(x)
    y, s = ours(x)
    _close(y, y_ref)
    _close(s, s_ref)


def _hand_loop(cell, x, state):
    outs = []
    for t in range(x.shape[1]):
        state = as_state_tuple(cell(x[:, t], state))
        outs.append(state[0])
    return torch.stack(outs, 1), state


@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_equals_hand_written_loop_over_its_cell(kind):
    _, ours = _make(kind, num_layers=2, backend="loop")
    x = torch.randn(B, T, D, dtype=torch.double)
    y1, s1 = _hand_loop(ours.cells[0], x, None if kind == "GRU" else None)
    y2, s2 = _hand_loop(ours.cells[1], y1, None)
    y, s = ours(x)
    _close(y, y2, 1e-12)
    _close(tuple(t[1] for t in as_state_tuple(s)), s2, 1e-12)
    _close(tuple(t[0] for t in as_state_tuple(s)), s1, 1e-12)


@pytest.mark.parametrize("kind", ["LSTM_proj", "GRU", "RNN"])
@pytest.mark.parametrize("backend", ["native", "loop"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lengths_equal_each_sequence_run_alone(kind, backend, bidirectional):
    _, ours = _make(kind, num_layers=2, bidirectional=bidirectional, backend=backend)
    lengths = torch.tensor([4, 7, 1])  # unsorted, includes T and 1
    x = torch.randn(B, T, D, dtype=torch.double)
    x_poisoned = x.clone()
    for b, n in enumerate(lengths):
        x_poisoned[b, n:] = 1e3  # padding content must not matter
    y, s = ours(x_poisoned, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        y_b, s_b = ours(x[b:b + 1, :n])
        _close(y[b:b + 1, :n], y_b)
        assert torch.count_nonzero(y[b, n:]) == 0, "padded outputs must be zero"
        _close(tuple(t[:, b:b + 1] for t in as_state_tuple(s)), s_b)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_bidirectional_equals_forward_plus_reversed_run(kind):
    _, ours = _make(kind, bidirectional=True, backend="loop")
    fwd = rnnkit.Recurrent(ours.cells[0], batch_first=True)
    bwd = rnnkit.Recurrent(ours.cells[1], batch_first=True)
    x = torch.randn(B, T, D, dtype=torch.double)
    y, s = ours(x)
    y_f, s_f = fwd(x)
    y_b, s_b = bwd(x.flip(1))
    _close(y, torch.cat([y_f, y_b.flip(1)], -1))
    _close(tuple(t[1:] for t in as_state_tuple(s)), s_b)


@pytest.mark.parametrize("merge", ["sum", "mean", "mul", "concat"])
def test_merge_modes(merge):
    layer = rnnkit.GRU(D, H, bidirectional=True, merge=merge, batch_first=True).double()
    fwd = rnnkit.Recurrent(layer.cells[0], batch_first=True)
    bwd = rnnkit.Recurrent(layer.cells[1], batch_first=True)
    x = torch.randn(B, T, D, dtype=torch.double)
    a, b = fwd(x)[0], bwd(x.flip(1))[0].flip(1)
    expected = {"sum": a + b, "mean": (a + b) / 2, "mul": a * b, "concat": torch.cat([a, b], -1)}[merge]
    _close(layer(x)[0], expected)
    assert layer.output_size == expected.shape[-1]


def test_stacked_merge_feeds_next_layer_and_residual_adds_input():
    layer = rnnkit.LSTM(D, H, num_layers=3, bidirectional=True, merge="sum", residual=True,
                        batch_first=True).double()
    assert layer.cells[2].input_size == H
    x = torch.randn(B, T, D, dtype=torch.double)
    out = x
    for l in range(3):
        f = rnnkit.Recurrent(layer.cells[2 * l], batch_first=True)
        b = rnnkit.Recurrent(layer.cells[2 * l + 1], batch_first=True)
        merged = f(out)[0] + b(out.flip(1))[0].flip(1)
        out = merged + out if merged.shape[-1] == out.shape[-1] else merged  # layer 0: D != H
    _close(layer(x)[0], out)


def test_residual_with_lengths_keeps_padding_zero():
    layer = rnnkit.GRU(H, H, num_layers=2, residual=True, batch_first=True).double()
    x = torch.randn(B, T, H, dtype=torch.double)
    lengths = torch.tensor([2, 7, 5])
    y, _ = layer(x, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        assert torch.count_nonzero(y[b, n:]) == 0
        _close(y[b:b + 1, :n], layer(x[b:b + 1, :n])[0])


@pytest.mark.parametrize("kind", ["LSTM_proj", "GRU", "RNN"])
def test_step_equals_full_pass_and_carries_state_across_calls(kind):
    _, ours = _make(kind, num_layers=2)
    x = torch.randn(B, T, D, dtype=torch.double)
    y, s = ours(x)
    state = None
    for t in range(T):
        y_t, state = ours.step(x[:, t], state)
        _close(y_t, y[:, t])
    _close(state, s)
    # streaming in chunks through forward(state=...) equals one pass too
    y1, s1 = ours(x[:, :3])
    y2, _ = ours(x[:, 3:], s1)
    _close(torch.cat([y1, y2], 1), y)


def test_step_rejects_bidirectional():
    with pytest.raises(RuntimeError, match="bidirectional"):
        rnnkit.GRU(D, H, bidirectional=True).step(torch.randn(B, D))


def test_dropout_between_layers_only_in_training():
    layer = rnnkit.LSTM(D, H, num_layers=2, dropout=0.5, backend="loop")
    x = torch.randn(T, B, D)
    layer.eval()
    y_eval, _ = layer(x)
    torch.testing.assert_close(layer(x)[0], y_eval)
    layer.train()
    assert not torch.allclose(layer(x)[0], y_eval)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):  # as torch warns
        single = rnnkit.LSTM(D, H, num_layers=1, dropout=0.5, backend="loop").train()
    torch.testing.assert_close(single(x)[0], single.eval()(x)[0])  # nothing after the last layer


@pytest.mark.parametrize("backend", ["native", "loop"])
def test_gradients_match_torch(backend):
    ref, ours = _make("LSTM", num_layers=2, bidirectional=True, backend=backend)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(B, T, D, dtype=torch.double, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    ref(x)[0].pow(2).sum().backward()
    ours(x2)[0].pow(2).sum().backward()
    torch.testing.assert_close(x2.grad, x.grad)
    grads = {k: p.grad for k, p in ours.named_parameters()}
    for k, p in ref.named_parameters():
        torch.testing.assert_close(grads[k], p.grad, msg=k)


def test_layer_gradcheck_float64_with_lengths():
    layer = rnnkit.GRU(2, 3, bidirectional=True, backend="loop").double()
    x = torch.randn(4, 2, 2, dtype=torch.double, requires_grad=True)  # (T, B, D)
    h0 = torch.randn(2, 2, 3, dtype=torch.double, requires_grad=True)
    lengths = torch.tensor([4, 2])
    assert torch.autograd.gradcheck(lambda a, h: layer(a, h, lengths=lengths), (x, h0))
