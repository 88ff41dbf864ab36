"""The fused Triton Elman RNN (rnnkit/kernels/elman) against its twin (the eager loop in the same
dtype), the float64 oracle and torch.nn.RNN: outputs, final h, every gradient (gi, W_hh, h0), tanh
and relu; lengths; the recurrent dropout mask; refusals. Runs under the Triton interpreter on CPU
(see conftest.py), compiled on CUDA."""

from functools import partial

import pytest
import torch

from rnnkit.kernels.elman.op import elman_forward, elman_sequence_forward
from rnnkit.kernels.elman.reference import elman_sequence_ref

f16, f32, f64 = torch.float16, torch.float32, torch.float64
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # as conftest.py: compiled or interpreted
NAMES = ("y", "h_n", "grad gi", "grad w_hh", "grad h0")


def _inputs(B, T, H, seed=0, relu=False):
    g = torch.Generator().manual_seed(seed)
    gi = torch.randn(B, T, H, generator=g, dtype=f64)
    # the recurrence matters (tanh); relu with a gain below 1 keeps the state bounded over T
    w = torch.randn(H, H, generator=g, dtype=f64) * ((0.7 if relu else 1.5) / H ** 0.5)
    h0 = torch.randn(B, H, generator=g, dtype=f64) * 0.5
    if relu:
        h0 = h0.abs()  # a state relu could have produced
    return [x.to(DEVICE) for x in (gi, w, h0)]


def _run(fn, gi, w, h0, dtype, lengths=None, seed=0):
    """(y, h_n, dgi, dw, dh0) of fn in dtype for L = <dy, y> + <dh, h_n>."""
    g = torch.Generator().manual_seed(seed + 100)
    B, T, H = gi.shape
    dy, dh = (torch.randn(*s, generator=g, dtype=f64).to(DEVICE) for s in ((B, T, H), (B, H)))
    xs = [x.to(dtype).requires_grad_() for x in (gi, w, h0)]
    y, h = fn(*xs, lengths)
    loss = (y.double() * dy).sum() + (h.double() * dh).sum()
    return (y, h) + torch.autograd.grad(loss, xs)


@pytest.mark.parametrize("B,T,H", [(1, 1, 7), (3, 5, 24), (3, 33, 7), (2, 9, 40), (17, 6, 70)])
@pytest.mark.parametrize("dtype", [f32, f16])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_elman_matches_twin_and_oracle_with_gradients(B, T, H, dtype, nonlinearity, kt):
    """H=40 and 70 give 2 and 3 programs of 32 units, the last partial, B=17 two batch blocks: a
    unit read before its owner wrote it fails here."""
    gi, w, h0 = _inputs(B, T, H, relu=nonlinearity == "relu")
    fused = partial(elman_sequence_forward, nonlinearity=nonlinearity)
    ref = partial(elman_sequence_ref, nonlinearity=nonlinearity)
    got = _run(fused, gi, w, h0, dtype)
    twin = _run(ref, gi, w, h0, dtype)
    oracle = _run(ref, gi, w, h0, f64)
    for name, g, t, o in zip(NAMES, got, twin, oracle):
        assert g.dtype == dtype, name
        if dtype == f32:  # in fp16 the twin rounds every step: the rule below is the check
            torch.testing.assert_close(g, t, **kt.tol[dtype], msg=name)
        kt.rule(g, t, o, dtype, name)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_elman_with_lengths_equals_each_sequence_alone(nonlinearity, kt):
    B, T, H = 3, 9, 40
    gi, w, h0 = [x.float() for x in _inputs(B, T, H, seed=2, relu=nonlinearity == "relu")]
    lengths = torch.tensor([9, 1, 4], device=DEVICE)
    fused = partial(elman_sequence_forward, nonlinearity=nonlinearity)
    ref = partial(elman_sequence_ref, nonlinearity=nonlinearity)
    with torch.no_grad():
        y, h = fused(gi, w, h0, lengths)
        for i, n in enumerate(lengths.tolist()):
            ya, ha = ref(gi[i:i + 1, :n], w, h0[i:i + 1])
            torch.testing.assert_close(y[i:i + 1, :n], ya, **kt.tol[f32])
            torch.testing.assert_close(h[i:i + 1], ha, **kt.tol[f32])
            assert torch.count_nonzero(y[i, n:]) == 0
    got = _run(fused, gi, w, h0, f32, lengths)
    want = _run(ref, gi, w, h0, f64, lengths)
    for name, g, o in zip(NAMES, got, want):
        torch.testing.assert_close(g.double(), o, **kt.tol[f32], msg=name)
    for i, n in enumerate(lengths.tolist()):  # no gradient into padded steps
        assert torch.count_nonzero(got[2][i, n:]) == 0


@pytest.mark.parametrize("use_lengths", [False, True])
def test_elman_recurrent_dropout_mask_matches_twin_and_oracle(use_lengths, kt):
    """hmask: the product reads h * m; every gradient against the loop with the same mask."""
    B, T, H = 3, 9, 40
    gi, w, h0 = _inputs(B, T, H, seed=7)
    g = torch.Generator().manual_seed(8)
    m = ((torch.rand(B, H, generator=g) > 0.3).double() / 0.7).to(DEVICE)
    lengths = torch.tensor([9, 2, 5], device=DEVICE) if use_lengths else None
    got = _run(partial(elman_sequence_forward, hmask=m), gi, w, h0, f32, lengths)
    twin = _run(partial(elman_sequence_ref, hmask=m), gi, w, h0, f32, lengths)
    oracle = _run(partial(elman_sequence_ref, hmask=m), gi, w, h0, f64, lengths)
    plain = _run(elman_sequence_ref, gi, w, h0, f64, lengths)
    assert not torch.allclose(oracle[0], plain[0])  # the mask matters here
    for name, gt, t, o in zip(NAMES, got, twin, oracle):
        torch.testing.assert_close(gt, t, **kt.tol[f32], msg=name)
        kt.rule(gt, t, o, f32, name)


def test_elman_inference_and_no_initial_state(kt):
    gi, w, _ = [x.float() for x in _inputs(2, 6, 24, seed=1)]
    with torch.no_grad():
        y, h = elman_sequence_forward(gi, w)
        yr, hr = elman_sequence_ref(gi.double(), w.double())
    assert y.grad_fn is None
    torch.testing.assert_close(y.double(), yr, **kt.tol[f32])
    torch.testing.assert_close(h.double(), hr, **kt.tol[f32])


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_elman_forward_equals_torch_nn_rnn(nonlinearity, kt):
    """torch's RNN with the same weights: both biases outside the nonlinearity, folded into gi."""
    torch.manual_seed(3)
    m = torch.nn.RNN(5, 24, nonlinearity=nonlinearity, batch_first=True).to(DEVICE)
    x = torch.randn(3, 7, 5, device=DEVICE)
    h0 = torch.randn(1, 3, 24, device=DEVICE)
    with torch.no_grad(), torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        want_y, want_h = m(x, h0)
        y, h = elman_forward(x, m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0, h0[0],
                             nonlinearity=nonlinearity)
    torch.testing.assert_close(y, want_y, **kt.tol[f32])
    torch.testing.assert_close(h, want_h[0], **kt.tol[f32])


def test_elman_refuses_bad_inputs():
    gi, w, _ = [x.float() for x in _inputs(1, 2, 7)]
    with pytest.raises(ValueError, match="w_hh must have shape"):
        elman_sequence_forward(gi, w[:, :5])
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        elman_sequence_forward(gi, w, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="h0 must have shape"):
        elman_sequence_forward(gi, w, torch.zeros(2, 7, device=DEVICE))
    with pytest.raises(ValueError, match="fused Elman RNN does not fit .* KiB of shared memory"):
        elman_sequence_forward(torch.zeros(1, 1, 2048, device=DEVICE), torch.zeros(2048, 2048, device=DEVICE))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (bf16 and larger shapes)")
@pytest.mark.parametrize("dtype", [torch.bfloat16, f16, f32])
@pytest.mark.parametrize("B,T,H,lengths", [(1, 1, 100, None), (3, 1000, 255, [1000, 1, 517]),
                                           (16, 200, 1024, None), (40, 64, 500, [64, 3] * 20)])
def test_elman_gpu_larger_shapes(B, T, H, lengths, dtype, kt):
    """Training shapes on a GPU (never run yet: the first GPU session runs it)."""
    gi, w, h0 = _inputs(B, T, H, seed=4)
    lens = torch.tensor(lengths, device=DEVICE) if lengths else None
    got = _run(elman_sequence_forward, gi, w, h0, dtype, lens)
    twin = _run(elman_sequence_ref, gi, w, h0, dtype, lens)
    oracle = _run(elman_sequence_ref, gi, w, h0, f64, lens)
    for name, g, t, o in zip(NAMES, got, twin, oracle):
        kt.rule(g, t, o, dtype, name)
