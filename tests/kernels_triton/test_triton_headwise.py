"""The fused head-wise (block-diagonal) LSTM (rnnkit/kernels/lstm/headwise.py) against rnnkit's
time loop over :class:`rnnkit.cells.HeadwiseLSTMCell`: outputs, final (h, c) and every gradient,
through stacking, both directions, lengths and h0; against the float64 loop; the dispatch rules
(an explicit request runs it, ``auto`` never takes it, wrappers and oversized heads are refused).
Runs under the Triton interpreter on CPU, compiled on CUDA."""

import copy

import pytest
import torch

import rnnkit
from rnnkit.cells import HeadwiseLSTMCell, VariationalDropout
from rnnkit.kernels import dispatch
from rnnkit.kernels.dispatch import BackendUnavailable
from rnnkit.kernels.lstm import headwise as hw  # decorated by conftest.py (interpreted on CPU)

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # as conftest.py: compiled or interpreted

def _pair(H, heads, seed=0, **kw):
    torch.manual_seed(seed)
    fused = rnnkit.Recurrent(lambda d: HeadwiseLSTMCell(d, H, heads=heads), input_size=5, batch_first=True,
                             backend="triton", **kw).to(DEVICE)
    loop = copy.deepcopy(fused)
    loop.backend = "loop"
    return fused, loop


# Hh = 8, 32 (two batch blocks with B=17), 40 (not a power of two: padded tile), 1 (16 heads of one unit)
SHAPES = [(3, 5, 24, 3), (17, 6, 64, 2), (2, 4, 40, 1), (3, 3, 16, 16)]


@pytest.mark.parametrize("B,T,H,heads", SHAPES)
@pytest.mark.parametrize("bidirectional,num_layers,use_lengths,use_h0",
                         [(False, 1, False, False), (True, 2, True, True), (False, 2, True, False),
                          (True, 1, False, True)])
def test_triton_headwise_equals_loop(B, T, H, heads, bidirectional, num_layers, use_lengths, use_h0, kt):
    fused, loop = _pair(H, heads, bidirectional=bidirectional, num_layers=num_layers)
    x = torch.randn(B, T, 5, device=DEVICE)
    lengths = None
    if use_lengths:
        lengths = torch.randint(1, T + 1, (B,))
        lengths[0] = T
        lengths = lengths.to(DEVICE)
    state = None
    if use_h0:
        n = num_layers * (2 if bidirectional else 1)
        state = tuple(torch.randn(n, B, H, device=DEVICE) for _ in range(2))
    assert dispatch.choose_backend(fused, "triton", x) == "triton"
    got, want = kt.grads(fused, x, lengths, state), kt.grads(loop, x, lengths, state)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert torch.isfinite(g).all(), f"tensor {i}: unwritten output?"
        torch.testing.assert_close(g, w, **kt.tol[torch.float32], msg=f"tensor {i}")


def test_op_gradients_of_h0_c0_and_blocks_against_float64_loop(kt):
    """The op alone, with dL/dh_n and dL/dc_n reaching the carries (lengths: the final state is
    taken mid-sequence), against autograd through the float64 loop."""
    from rnnkit.layers.scan import scan_cell

    torch.manual_seed(3)
    B, T, D, H, k = 5, 7, 3, 24, 3
    cell = HeadwiseLSTMCell(D, H, heads=k).double()
    with torch.no_grad():
        cell.weight_hh.mul_(3.0)  # the recurrence matters
    x = torch.randn(B, T, D, dtype=torch.double)
    h0, c0 = torch.randn(B, H, dtype=torch.double), torch.randn(B, H, dtype=torch.double)
    lengths = torch.tensor([7, 2, 4, 1, 6])
    dy, dh, dc = torch.randn(B, T, H, dtype=torch.double), torch.randn(B, H), torch.randn(B, H)
    params = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]

    def run(fn, dtype):
        xs = [t.to(dtype).detach().requires_grad_() for t in (x, h0, c0, *params)]
        y, (hn, cn) = fn(*xs)
        loss = (y.double() * dy).sum() + (hn.double() * dh).sum() + (cn.double() * dc).sum()
        return [y, hn, cn] + list(torch.autograd.grad(loss, xs))

    def fused(x_, h_, c_, wi, wh, bi, bh):
        return hw.headwise_lstm_forward(x_.to(DEVICE), wi.to(DEVICE), wh.to(DEVICE), bi.to(DEVICE), bh.to(DEVICE),
                                        h_.to(DEVICE), c_.to(DEVICE), lengths.to(DEVICE))

    def loop(x_, h_, c_, wi, wh, bi, bh):
        ref = HeadwiseLSTMCell(D, H, heads=k).to(x_.dtype)
        for name, p in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), (wi, wh, bi, bh)):
            delattr(ref, name)
            setattr(ref, name, p)
        y, final = scan_cell(ref, x_, (h_, c_), lengths)
        return y, final

    got = run(fused, torch.float32)
    oracle = run(loop, torch.double)
    names = ("y", "h_n", "c_n", "dx", "dh0", "dc0", "dW_ih", "dW_hh", "db_ih", "db_hh")
    for name, g, o in zip(names, got, oracle):
        assert g.shape == o.shape, name
        torch.testing.assert_close(g.double().cpu(), o, rtol=1e-4, atol=1e-4, msg=name)


def test_inference_forward_saves_nothing_and_matches():
    fused, loop = _pair(24, 4, seed=4, num_layers=2)
    x = torch.randn(3, 6, 5, device=DEVICE)
    with torch.no_grad():
        y1, (h1, c1) = fused(x)
        y2, (h2, c2) = loop(x)
    for a, b in ((y1, y2), (h1, h2), (c1, c2)):
        torch.testing.assert_close(a, b, rtol=2e-5, atol=2e-5)


def test_auto_never_takes_the_headwise_kernel():
    fused, _ = _pair(24, 3)
    x = torch.randn(2, 4, 5, device=DEVICE)
    assert dispatch.choose_backend(fused, "auto", x) == "loop"
    # the CUDA rule itself: not in any dtype
    for dtype in (torch.float16, torch.bfloat16, torch.float32):
        assert not dispatch.auto_takes_triton(fused, dtype)


def test_refusals_wrappers_and_oversized_heads():
    torch.manual_seed(5)
    wrapped = rnnkit.Recurrent(lambda d: VariationalDropout(HeadwiseLSTMCell(d, 16, heads=2), p_h=0.2),
                               input_size=5, backend="triton").to(DEVICE)
    with pytest.raises(BackendUnavailable, match="wrappers around HeadwiseLSTMCell"):
        wrapped(torch.randn(4, 2, 5, device=DEVICE))
    big = rnnkit.Recurrent(lambda d: HeadwiseLSTMCell(d, 256, heads=1), input_size=5, backend="triton").to(DEVICE)
    with pytest.raises(BackendUnavailable, match="head size 256 .* needs"):
        big(torch.randn(2, 2, 5, device=DEVICE))
    with pytest.raises(ValueError, match="w_hh must have shape"):
        hw.headwise_lstm_sequence_forward(torch.randn(2, 3, 4 * 12, device=DEVICE),
                                          torch.randn(3, 4 * 5, 5, device=DEVICE))
