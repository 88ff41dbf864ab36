"""``backend="triton"`` of rnnkit's Elman RNN, LSTM and GRU layers: same outputs, final state and gradients
as the time loop (``backend="loop"``), through stacking, both directions, lengths and dropout; the
dispatch rules (explicit request is strict, auto takes it only where it was timed faster on CUDA)."""

import copy

import pytest
import torch

import rnnkit
from rnnkit.kernels import dispatch

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # as conftest.py: compiled or interpreted


def _pair(seed=0, layer=rnnkit.LSTM, **kw):
    torch.manual_seed(seed)
    fused = layer(input_size=5, hidden_size=kw.pop("hidden_size", 20), backend="triton", batch_first=True,
                  **kw).to(DEVICE)
    loop = copy.deepcopy(fused)
    loop.backend = "loop"
    return fused, loop


@pytest.mark.parametrize("layer", [rnnkit.LSTM, rnnkit.GRU, rnnkit.RNN])
@pytest.mark.parametrize("bidirectional,num_layers,use_lengths", [(False, 1, False), (True, 2, True),
                                                                  (True, 1, False), (False, 2, True)])
def test_triton_backend_equals_loop(layer, bidirectional, num_layers, use_lengths, kt):
    fused, loop = _pair(layer=layer, bidirectional=bidirectional, num_layers=num_layers)
    x = torch.randn(3, 7, 5, device=DEVICE)
    lengths = torch.tensor([7, 2, 5], device=DEVICE) if use_lengths else None
    got, want = kt.grads(fused, x, lengths), kt.grads(loop, x, lengths)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        torch.testing.assert_close(g, w, **kt.tol[torch.float32], msg=f"tensor {i}")


@pytest.mark.parametrize("layer", [rnnkit.LSTM, rnnkit.GRU, rnnkit.RNN])
def test_triton_backend_with_initial_state_and_dropout_in_eval(layer, kt):
    fused, loop = _pair(seed=1, layer=layer, num_layers=2, dropout=0.3)
    fused.eval(), loop.eval()  # dropout off: both must agree exactly
    x = torch.randn(2, 6, 5, device=DEVICE)
    state = torch.randn(2, 2, 20, device=DEVICE)
    if layer is rnnkit.LSTM:
        state = (state, torch.randn(2, 2, 20, device=DEVICE))
    for g, w in zip(kt.grads(fused, x, None, state), kt.grads(loop, x, None, state)):
        torch.testing.assert_close(g, w, **kt.tol[torch.float32])


class _UsersLSTMCell(rnnkit.LSTMCell):
    """A user's own cell: whatever it changes, the kernels would not compute it."""


def test_triton_backend_refuses_what_it_cannot_run():
    own = rnnkit.Recurrent(lambda d: _UsersLSTMCell(d, 4), input_size=3, backend="triton").to(DEVICE)
    with pytest.raises(dispatch.BackendUnavailable, match="plain Elman RNN, LSTM or GRU layers"):
        own(torch.randn(1, 2, 3, device=DEVICE))
    lstm = rnnkit.LSTM(input_size=3, hidden_size=4, backend="triton").to(DEVICE).double()
    with pytest.raises(dispatch.BackendUnavailable, match="dtype torch.float64"):
        lstm(torch.randn(1, 2, 3, device=DEVICE, dtype=torch.float64))


def test_auto_picks_triton_only_on_cuda_in_the_measured_dtypes():
    lstm = rnnkit.LSTM(input_size=3, hidden_size=4).to(DEVICE)
    x = torch.randn(1, 2, 3, device=DEVICE)
    want = "triton" if DEVICE == "cuda" else "loop"  # the interpreter is for tests, never auto
    assert dispatch.choose_backend(lstm.bfloat16(), "auto", x.bfloat16()) == want
    assert dispatch.choose_backend(lstm.float(), "auto", x) != "triton"  # fp32: exact products, slow
    assert dispatch.choose_backend(lstm.half(), "auto", x.half()) != "triton"  # fp16: cuDNN keeps W on chip
    gru = rnnkit.GRU(input_size=3, hidden_size=4).to(DEVICE)
    assert dispatch.choose_backend(gru.bfloat16(), "auto", x.bfloat16()) == want  # GRU: fp16 and bf16
    assert dispatch.choose_backend(gru.half(), "auto", x.half()) == want
    assert dispatch.choose_backend(gru.float(), "auto", x) != "triton"
    rnn = rnnkit.RNN(input_size=3, hidden_size=4).to(DEVICE)  # the Elman kernel: not timed, on request only
    for dtype in (torch.float16, torch.bfloat16, torch.float32):
        assert dispatch.choose_backend(rnn.to(dtype), "auto", x.to(dtype)) != "triton"
    assert "triton" in dispatch.available_backends()


@pytest.mark.parametrize("cell", [rnnkit.LSTMCell, rnnkit.GRUCell, rnnkit.RNNCell])
def test_triton_backend_fuses_variational_dropout(cell, kt):
    """VariationalDropout(cell) in training: the fused path draws the wrapper's masks where the
    loop draws them (same seed, same masks) and applies the recurrent one inside the kernels, so
    outputs and every gradient equal the loop's; in eval mode both are the plain cell."""
    from rnnkit.cells.regularized import VariationalDropout
    torch.manual_seed(5)
    fused = rnnkit.Recurrent(lambda d: VariationalDropout(cell(d, 20), p_in=0.25, p_h=0.4), input_size=5,
                             num_layers=2, bidirectional=True, batch_first=True, backend="triton").to(DEVICE)
    loop = copy.deepcopy(fused)
    loop.backend = "loop"
    x = torch.randn(3, 7, 5, device=DEVICE)
    lengths = torch.tensor([7, 2, 5], device=DEVICE)
    for mode in ("train", "eval"):
        getattr(fused, mode)(), getattr(loop, mode)()
        torch.manual_seed(11)
        got = kt.grads(fused, x, lengths)
        torch.manual_seed(11)
        want = kt.grads(loop, x, lengths)
        for i, (g, w) in enumerate(zip(got, want)):
            torch.testing.assert_close(g, w, **kt.tol[torch.float32], msg=f"{mode} tensor {i}")
    torch.manual_seed(11)
    fused.train()
    dropped, _ = fused(x, lengths=lengths)
    fused.eval()
    assert not torch.allclose(dropped, fused(x, lengths=lengths)[0])  # the masks did something


def test_auto_rule_takes_bare_lstms_in_bf16_and_bare_grus_in_fp16_bf16():
    """The measured rule itself (device-independent, so it is checked on CPU too)."""
    from rnnkit.cells.regularized import VariationalDropout
    lstm, gru = rnnkit.LSTM(input_size=3, hidden_size=4), rnnkit.GRU(input_size=3, hidden_size=4)
    wrapped = rnnkit.Recurrent(lambda d: VariationalDropout(rnnkit.LSTMCell(d, 4), p_h=0.3), input_size=3)
    wrapped_gru = rnnkit.Recurrent(lambda d: VariationalDropout(rnnkit.GRUCell(d, 4), p_h=0.3), input_size=3)
    for layer, dtype in ((lstm, torch.bfloat16), (gru, torch.bfloat16), (gru, torch.float16)):
        assert dispatch.auto_takes_triton(layer, dtype), (type(layer).__name__, dtype)
    for layer, dtype in ((lstm, torch.float32), (lstm, torch.float16), (gru, torch.float32),
                         (wrapped, torch.bfloat16), (wrapped_gru, torch.float16)):
        assert not dispatch.auto_takes_triton(layer, dtype), (type(layer).__name__, dtype)
