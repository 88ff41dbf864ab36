"""The fused Triton LSTM (rnnkit/kernels/lstm) against its twin (the eager loop in the same dtype),
the float64 oracle and torch.nn.LSTM: outputs, final (h, c), every gradient; lengths; refusals.
Runs under the Triton interpreter on CPU (see conftest.py), compiled on CUDA."""

from functools import partial

import pytest
import torch

from rnnkit.kernels.lstm.op import lstm_forward, lstm_sequence_forward
from rnnkit.kernels.lstm.reference import lstm_sequence_ref

f16, f32, f64 = torch.float16, torch.float32, torch.float64
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # as conftest.py: compiled or interpreted


def _inputs(B, T, H, seed=0):
    g = torch.Generator().manual_seed(seed)
    gi = torch.randn(B, T, 4 * H, generator=g, dtype=f64)
    w = torch.randn(4 * H, H, generator=g, dtype=f64) * (1.5 / H ** 0.5)  # recurrence matters
    h0 = torch.randn(B, H, generator=g, dtype=f64) * 0.5
    c0 = torch.randn(B, H, generator=g, dtype=f64)
    return [x.to(DEVICE) for x in (gi, w, h0, c0)]


def _flat(out):
    y, (h, c) = out
    return y, h, c


NAMES = ("y", "h_n", "c_n", "grad gi", "grad w_hh", "grad h0", "grad c0")


def _run(fn, gi, w, h0, c0, dtype, lengths=None, seed=0):
    """(y, h_n, c_n, dgi, dw, dh0, dc0) of fn in dtype for L = <dy, y> + <dh, h_n> + <dc, c_n>."""
    g = torch.Generator().manual_seed(seed + 100)
    B, T, H = gi.shape[0], gi.shape[1], w.shape[1]
    dy, dh, dc = (torch.randn(*s, generator=g, dtype=f64).to(DEVICE) for s in ((B, T, H), (B, H), (B, H)))
    xs = [x.to(dtype).requires_grad_() for x in (gi, w, h0, c0)]
    y, (h, c) = fn(*xs, lengths)
    loss = (y.double() * dy).sum() + (h.double() * dh).sum() + (c.double() * dc).sum()
    return (y, h, c) + torch.autograd.grad(loss, xs)


@pytest.mark.parametrize("B,T,H", [(1, 1, 7), (3, 5, 24), (3, 33, 7), (1, 33, 24), (17, 6, 70)])
@pytest.mark.parametrize("dtype", [f32, f16])
@pytest.mark.parametrize("kernel", ["single", "split", "rows"])
def test_lstm_matches_twin_and_oracle_with_gradients(B, T, H, dtype, kernel, kt):
    """H=70 gives split 3 programs (32 units each) and rows 5 (16 each), the last partial; H=24
    gives rows 2; B=17 two batch blocks: a unit or row read before its owner wrote it fails here."""
    gi, w, h0, c0 = _inputs(B, T, H)
    if kernel == "single" and H > 64 and dtype == f32:  # all of W_hh in one program: over 224 KiB
        with pytest.raises(ValueError, match="single layout"):
            _run(partial(lstm_sequence_forward, kernel=kernel), gi, w, h0, c0, dtype)
        return
    got = _run(partial(lstm_sequence_forward, kernel=kernel), gi, w, h0, c0, dtype)
    twin = _run(lstm_sequence_ref, gi, w, h0, c0, dtype)
    oracle = _run(lstm_sequence_ref, gi, w, h0, c0, f64)
    for name, g, t, o in zip(NAMES, got, twin, oracle):
        assert g.dtype == dtype, name
        if dtype == f32:  # in fp16 the twin rounds every step: the rule below is the check
            torch.testing.assert_close(g, t, **kt.tol[dtype], msg=name)
        kt.rule(g, t, o, dtype, name)


@pytest.mark.parametrize("B,T,H", [(3, 5, 24), (1, 33, 7)])
def test_lstm_inference_forward_saves_nothing_and_matches(B, T, H, kt):
    gi, w, h0, c0 = [x.float() for x in _inputs(B, T, H, seed=5)]
    with torch.no_grad():
        y, (h, c) = lstm_sequence_forward(gi, w, h0, c0)
        yr, (hr, cr) = lstm_sequence_ref(gi.double(), w.double(), h0.double(), c0.double())
    assert y.grad_fn is None
    for g, o in ((y, yr), (h, hr), (c, cr)):
        torch.testing.assert_close(g.double(), o, **kt.tol[f32])


def test_lstm_forward_without_initial_state(kt):
    gi, w, _, _ = _inputs(2, 6, 7, seed=1)
    with torch.no_grad():
        got = _flat(lstm_sequence_forward(gi.float(), w.float()))
        want = _flat(lstm_sequence_ref(gi, w))
    for g, o in zip(got, want):
        torch.testing.assert_close(g.double(), o, **kt.tol[f32])


@pytest.mark.parametrize("kernel,H", [("single", 7), ("split", 7), ("split", 20), ("rows", 20)])
def test_lstm_forward_with_lengths_equals_each_sequence_alone(kernel, H, kt):
    B, T = 3, 9
    fused = partial(lstm_sequence_forward, kernel=kernel)
    gi, w, h0, c0 = [x.float() for x in _inputs(B, T, H, seed=2)]
    lengths = torch.tensor([9, 1, 4], device=DEVICE)
    with torch.no_grad():
        y, (h, c) = fused(gi, w, h0, c0, lengths)
        for i, n in enumerate(lengths.tolist()):
            ya, (ha, ca) = lstm_sequence_ref(gi[i:i + 1, :n], w, h0[i:i + 1], c0[i:i + 1])
            torch.testing.assert_close(y[i:i + 1, :n], ya, **kt.tol[f32])
            torch.testing.assert_close(h[i:i + 1], ha, **kt.tol[f32])
            torch.testing.assert_close(c[i:i + 1], ca, **kt.tol[f32])
            assert torch.count_nonzero(y[i, n:]) == 0
    # every gradient against autograd through the float64 loop with the same lengths
    got = _run(fused, gi, w, h0, c0, f32, lengths)
    want = _run(lstm_sequence_ref, gi, w, h0, c0, f64, lengths)
    for name, g, o in zip(NAMES, got, want):
        torch.testing.assert_close(g.double(), o, **kt.tol[f32], msg=name)
    for i, n in enumerate(lengths.tolist()):  # no gradient into padded steps
        assert torch.count_nonzero(got[3][i, n:]) == 0


def test_lstm_forward_equals_torch_nn_lstm(kt):
    """torch's LSTM with the same weights (gate order i, f, g, o; both biases)."""
    torch.manual_seed(3)
    m = torch.nn.LSTM(5, 24, batch_first=True).to(DEVICE)
    x = torch.randn(3, 7, 5, device=DEVICE)
    h0, c0 = torch.randn(1, 3, 24, device=DEVICE), torch.randn(1, 3, 24, device=DEVICE)
    with torch.no_grad(), torch.backends.cudnn.flags(enabled=True, allow_tf32=False):  # cuDNN: true fp32
        want_y, (want_h, want_c) = m(x, (h0, c0))
        y, (h, c) = lstm_forward(x, m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0,
                                 h0[0], c0[0])
    torch.testing.assert_close(y, want_y, **kt.tol[f32])
    torch.testing.assert_close(h, want_h[0], **kt.tol[f32])
    torch.testing.assert_close(c, want_c[0], **kt.tol[f32])


def test_lstm_refuses_bad_inputs(monkeypatch):
    gi, w, _, _ = [x.float() for x in _inputs(1, 2, 7)]
    with pytest.raises(ValueError, match="w_hh must have shape"):
        lstm_sequence_forward(gi, w[:, :5])
    with pytest.raises(ValueError, match=r"\(single layout\).* KiB of shared memory"):  # all of W_hh in one program
        lstm_sequence_forward(torch.zeros(1, 1, 4 * 100, device=DEVICE), torch.zeros(4 * 100, 100, device=DEVICE),
                              kernel="single")
    with pytest.raises(ValueError, match="KiB of shared memory per program"):
        lstm_sequence_forward(torch.zeros(1, 1, 4 * 2048, device=DEVICE), torch.zeros(4 * 2048, 2048, device=DEVICE))
    # training needs four gate-gradient tiles more than inference: H = 1000 in fp16 is inference-only
    w_big = torch.zeros(4 * 1000, 1000, device=DEVICE, dtype=f16, requires_grad=True)
    with pytest.raises(ValueError, match=r"\(training\) needs 2\d\d KiB"):
        lstm_sequence_forward(torch.zeros(1, 1, 4 * 1000, device=DEVICE, dtype=f16), w_big, kernel="split")
    with pytest.raises(ValueError, match="kernel must be one of"):
        lstm_sequence_forward(gi, w, kernel="fast")
    if DEVICE == "cpu":
        monkeypatch.delenv("TRITON_INTERPRET", raising=False)
        with pytest.raises(RuntimeError, match="CUDA tensors"):
            lstm_sequence_forward(gi, w)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (bf16 and larger shapes)")
@pytest.mark.parametrize("dtype", [torch.bfloat16, f16, f32])
@pytest.mark.parametrize("B,T,H,lengths", [(1, 1, 100, None), (16, 256, 128, None), (3, 1000, 255, [1000, 1, 517]),
                                           (16, 200, 512, None), (40, 64, 500, [64, 3] * 20)])
@pytest.mark.parametrize("kernel", ["auto", "rows"])
def test_lstm_gpu_larger_shapes(B, T, H, lengths, dtype, kernel, kt):
    """Training shapes; fp32 above H = 256 does not fit the split backward's shared memory and must
    say so (``auto`` trains with it); ``rows`` trains with the rows backward, which fits fp32 to 512."""
    fused = partial(lstm_sequence_forward, kernel=kernel)
    gi, w, h0, c0 = _inputs(B, T, H, seed=4)
    lens = torch.tensor(lengths, device=DEVICE) if lengths else None
    if dtype == f32 and H > 256 and kernel != "rows":
        with pytest.raises(ValueError, match="KiB of shared memory per program"):
            _run(fused, gi, w, h0, c0, dtype, lens)
        return
    got = _run(fused, gi, w, h0, c0, dtype, lens)
    twin = _run(lstm_sequence_ref, gi, w, h0, c0, dtype, lens)
    oracle = _run(lstm_sequence_ref, gi, w, h0, c0, f64, lens)
    for name, g, t, o in zip(NAMES, got, twin, oracle):
        kt.rule(g, t, o, dtype, name)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (bf16 and larger shapes)")
@pytest.mark.parametrize("dtype", [torch.bfloat16, f16, f32])
@pytest.mark.parametrize("B,T,H", [(16, 300, 768), (40, 64, 1000), (8, 100, 512)])
@pytest.mark.parametrize("kernel", ["split", "rows"])
def test_lstm_gpu_inference_large_hidden(B, T, H, dtype, kernel, kt):
    """Inference fits larger H than training (one h tile instead of four gradient tiles)."""
    gi, w, h0, c0 = _inputs(B, T, H, seed=6)
    with torch.no_grad():
        if dtype == f32 and H > 512:
            with pytest.raises(ValueError, match="KiB of shared memory per program"):
                lstm_sequence_forward(gi.to(dtype), w.to(dtype), kernel=kernel)
            return
        got = _flat(lstm_sequence_forward(*[x.to(dtype) for x in (gi, w, h0, c0)], kernel=kernel))
        twin = _flat(lstm_sequence_ref(*[x.to(dtype) for x in (gi, w, h0, c0)]))
        oracle = _flat(lstm_sequence_ref(gi, w, h0, c0))
    for name, g, t, o in zip(NAMES, got, twin, oracle):
        kt.rule(g, t, o, dtype, name)


@pytest.mark.parametrize("kernel", ["split", "rows"])
@pytest.mark.parametrize("use_lengths", [False, True])
def test_lstm_recurrent_dropout_mask_matches_twin_and_oracle(kernel, use_lengths, kt):
    """hmask (variational recurrent dropout): the product reads h * m at every step, h0 included;
    every gradient (W_hh's through h * m, h0's times m) against the loop with the same mask."""
    B, T, H = 3, 9, 40
    gi, w, h0, c0 = _inputs(B, T, H, seed=7)
    g = torch.Generator().manual_seed(8)
    m = ((torch.rand(B, H, generator=g) > 0.3).double() / 0.7).to(DEVICE)
    lengths = torch.tensor([9, 2, 5], device=DEVICE) if use_lengths else None
    got = _run(partial(lstm_sequence_forward, kernel=kernel, hmask=m), gi, w, h0, c0, f32, lengths)
    twin = _run(partial(lstm_sequence_ref, hmask=m), gi, w, h0, c0, f32, lengths)
    oracle = _run(partial(lstm_sequence_ref, hmask=m), gi, w, h0, c0, f64, lengths)
    plain = _run(partial(lstm_sequence_ref), gi, w, h0, c0, f64, lengths)
    assert not torch.allclose(oracle[0], plain[0])  # the mask matters here
    for name, gt, t, o in zip(NAMES, got, twin, oracle):
        torch.testing.assert_close(gt, t, **kt.tol[f32], msg=name)
        kt.rule(gt, t, o, f32, name)


@pytest.mark.parametrize("dtype", [f32, f16])
def test_auto_takes_the_rows_layout_in_every_dtype(dtype):
    """rows beat split at every size and dtype timed on the H200 (fp32 B=8 H=256: 13.9 vs 492 ms
    forward, docs/kernels.md); the backward has one layout."""
    from rnnkit.kernels.lstm.op import choose_kernel
    cfg = choose_kernel(8, 256, dtype, torch.device(DEVICE))
    assert cfg["fwd"]["kind"] == "rows" and cfg["fwd"]["BLOCK_J"] == 16
    assert cfg["bwd"] is not None and choose_kernel(8, 256, dtype, torch.device(DEVICE), training=False)["bwd"] is None
