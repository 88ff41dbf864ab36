"""The fused Triton GRU (rnnkit/kernels/gru) against its twin (the eager loop in the same dtype),
the float64 oracle and torch.nn.GRU: outputs, final h, every gradient (gi, W_hh, b_hn, h0);
lengths; refusals. Runs under the Triton interpreter on CPU (see conftest.py), compiled on CUDA."""

from functools import partial

import pytest
import torch

from rnnkit.kernels.gru.op import gru_forward, gru_sequence_forward
from rnnkit.kernels.gru.reference import gru_sequence_ref

f16, f32, f64 = torch.float16, torch.float32, torch.float64
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # as conftest.py: compiled or interpreted
NAMES = ("y", "h_n", "grad gi", "grad w_hh", "grad b_hn", "grad h0")


def _inputs(B, T, H, seed=0):
    g = torch.Generator().manual_seed(seed)
    gi = torch.randn(B, T, 3 * H, generator=g, dtype=f64)
    w = torch.randn(3 * H, H, generator=g, dtype=f64) * (1.5 / H ** 0.5)  # recurrence matters
    b_hn = torch.randn(H, generator=g, dtype=f64) * 0.5
    h0 = torch.randn(B, H, generator=g, dtype=f64) * 0.5
    return [x.to(DEVICE) for x in (gi, w, b_hn, h0)]


def _run(fn, gi, w, b_hn, h0, dtype, lengths=None, seed=0):
    """(y, h_n, dgi, dw, db_hn, dh0) of fn in dtype for L = <dy, y> + <dh, h_n>."""
    g = torch.Generator().manual_seed(seed + 100)
    B, T, H = gi.shape[0], gi.shape[1], w.shape[1]
    dy, dh = (torch.randn(*s, generator=g, dtype=f64).to(DEVICE) for s in ((B, T, H), (B, H)))
    xs = [x.to(dtype).requires_grad_() for x in (gi, w, b_hn, h0)]
    y, h = fn(*xs, lengths)
    loss = (y.double() * dy).sum() + (h.double() * dh).sum()
    return (y, h) + torch.autograd.grad(loss, xs)


@pytest.mark.parametrize("B,T,H", [(1, 1, 7), (3, 5, 24), (3, 33, 7), (2, 9, 40), (17, 6, 70)])
@pytest.mark.parametrize("dtype", [f32, f16])
@pytest.mark.parametrize("kernel", ["split", "rows"])
def test_gru_matches_twin_and_oracle_with_gradients(B, T, H, dtype, kernel, kt):
    """H=40 and 70 give 2 and 3 programs of 32 units (split; rows: 3 and 5 of 16), the last
    partial, B=17 two batch blocks: a unit or row read before its owner wrote it fails here."""
    gi, w, b_hn, h0 = _inputs(B, T, H)
    got = _run(partial(gru_sequence_forward, kernel=kernel), gi, w, b_hn, h0, dtype)
    twin = _run(gru_sequence_ref, gi, w, b_hn, h0, dtype)
    oracle = _run(gru_sequence_ref, gi, w, b_hn, h0, f64)
    for name, g, t, o in zip(NAMES, got, twin, oracle):
        assert g.dtype == dtype, name
        if dtype == f32:  # in fp16 the twin rounds every step: the rule below is the check
            torch.testing.assert_close(g, t, **kt.tol[dtype], msg=name)
        kt.rule(g, t, o, dtype, name)


@pytest.mark.parametrize("kernel", ["split", "rows"])
def test_gru_with_lengths_equals_each_sequence_alone(kernel, kt):
    B, T, H = 3, 9, 40
    gi, w, b_hn, h0 = [x.float() for x in _inputs(B, T, H, seed=2)]
    lengths = torch.tensor([9, 1, 4], device=DEVICE)
    fused = partial(gru_sequence_forward, kernel=kernel)
    with torch.no_grad():
        y, h = fused(gi, w, b_hn, h0, lengths)
        for i, n in enumerate(lengths.tolist()):
            ya, ha = gru_sequence_ref(gi[i:i + 1, :n], w, b_hn, h0[i:i + 1])
            torch.testing.assert_close(y[i:i + 1, :n], ya, **kt.tol[f32])
            torch.testing.assert_close(h[i:i + 1], ha, **kt.tol[f32])
            assert torch.count_nonzero(y[i, n:]) == 0
    got = _run(fused, gi, w, b_hn, h0, f32, lengths)
    want = _run(gru_sequence_ref, gi, w, b_hn, h0, f64, lengths)
    for name, g, o in zip(NAMES, got, want):
        torch.testing.assert_close(g.double(), o, **kt.tol[f32], msg=name)
    for i, n in enumerate(lengths.tolist()):  # no gradient into padded steps
        assert torch.count_nonzero(got[2][i, n:]) == 0


def test_gru_inference_and_no_initial_state(kt):
    gi, w, _, _ = [x.float() for x in _inputs(2, 6, 24, seed=1)]
    with torch.no_grad():
        y, h = gru_sequence_forward(gi, w)
        yr, hr = gru_sequence_ref(gi.double(), w.double())
    assert y.grad_fn is None
    torch.testing.assert_close(y.double(), yr, **kt.tol[f32])
    torch.testing.assert_close(h.double(), hr, **kt.tol[f32])


def test_gru_forward_equals_torch_nn_gru(kt):
    """torch's GRU with the same weights (gate order r, z, n; b_hn inside the reset product)."""
    torch.manual_seed(3)
    m = torch.nn.GRU(5, 24, batch_first=True).to(DEVICE)
    x = torch.randn(3, 7, 5, device=DEVICE)
    h0 = torch.randn(1, 3, 24, device=DEVICE)
    with torch.no_grad(), torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        want_y, want_h = m(x, h0)
        y, h = gru_forward(x, m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0, h0[0])
    torch.testing.assert_close(y, want_y, **kt.tol[f32])
    torch.testing.assert_close(h, want_h[0], **kt.tol[f32])


def test_gru_refuses_bad_inputs():
    gi, w, b_hn, _ = [x.float() for x in _inputs(1, 2, 7)]
    with pytest.raises(ValueError, match="w_hh must have shape"):
        gru_sequence_forward(gi, w[:, :5])
    with pytest.raises(ValueError, match="b_hn must have shape"):
        gru_sequence_forward(gi, w, b_hn[:3])
    with pytest.raises(ValueError, match="kernel must be one of"):
        gru_sequence_forward(gi, w, kernel="cols")
    with pytest.raises(ValueError, match="fused GRU does not fit .* KiB of shared memory"):
        gru_sequence_forward(torch.zeros(1, 1, 3 * 2048, device=DEVICE), torch.zeros(3 * 2048, 2048, device=DEVICE))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (bf16 and larger shapes)")
@pytest.mark.parametrize("dtype", [torch.bfloat16, f16, f32])
@pytest.mark.parametrize("B,T,H,lengths", [(1, 1, 100, None), (3, 1000, 255, [1000, 1, 517]),
                                           (16, 200, 1024, None), (40, 64, 500, [64, 3] * 20)])
@pytest.mark.parametrize("kernel", ["split", "rows"])
def test_gru_gpu_larger_shapes(B, T, H, lengths, dtype, kernel, kt):
    """Training shapes; fp32 above H = 512 does not fit shared memory and must say so."""
    gi, w, b_hn, h0 = _inputs(B, T, H, seed=4)
    lens = torch.tensor(lengths, device=DEVICE) if lengths else None
    fused = partial(gru_sequence_forward, kernel=kernel)
    if dtype == f32 and H > 512:
        with pytest.raises(ValueError, match="KiB of shared memory per program"):
            _run(fused, gi, w, b_hn, h0, dtype, lens)
        return
    got = _run(fused, gi, w, b_hn, h0, dtype, lens)
    twin = _run(gru_sequence_ref, gi, w, b_hn, h0, dtype, lens)
    oracle = _run(gru_sequence_ref, gi, w, b_hn, h0, f64, lens)
    for name, g, t, o in zip(NAMES, got, twin, oracle):
        kt.rule(g, t, o, dtype, name)


@pytest.mark.parametrize("use_lengths", [False, True])
@pytest.mark.parametrize("kernel", ["split", "rows"])
def test_gru_recurrent_dropout_mask_matches_twin_and_oracle(use_lengths, kernel, kt):
    """hmask: the product reads h * m, the z-interpolation reads h; every gradient against the
    loop with the same mask."""
    B, T, H = 3, 9, 40
    gi, w, b_hn, h0 = _inputs(B, T, H, seed=7)
    g = torch.Generator().manual_seed(8)
    m = ((torch.rand(B, H, generator=g) > 0.3).double() / 0.7).to(DEVICE)
    lengths = torch.tensor([9, 2, 5], device=DEVICE) if use_lengths else None
    got = _run(partial(gru_sequence_forward, hmask=m, kernel=kernel), gi, w, b_hn, h0, f32, lengths)
    twin = _run(partial(gru_sequence_ref, hmask=m), gi, w, b_hn, h0, f32, lengths)
    oracle = _run(partial(gru_sequence_ref, hmask=m), gi, w, b_hn, h0, f64, lengths)
    plain = _run(gru_sequence_ref, gi, w, b_hn, h0, f64, lengths)
    assert not torch.allclose(oracle[0], plain[0])  # the mask matters here
    for name, gt, t, o in zip(NAMES, got, twin, oracle):
        torch.testing.assert_close(gt, t, **kt.tol[f32], msg=name)
        kt.rule(gt, t, o, f32, name)


def test_auto_takes_rows_and_falls_back_to_split_where_only_split_fits(monkeypatch):
    """rows beat split at every size timed on the H200 (docs/kernels.md); its padded fourth row
    block needs more shared memory, so at bf16 B=128 H=1024 inference on a 132-SM card only
    split fits, and auto must take it rather than refuse."""
    import rnnkit.kernels.persistent as persistent
    from rnnkit.kernels.gru.op import choose_layout
    monkeypatch.setattr(persistent, "sm_count", lambda device: 132)
    cpu, bf16 = torch.device("cpu"), torch.bfloat16
    assert choose_layout(8, 256, bf16, cpu)["fwd"]["kind"] == "rows"
    with pytest.raises(ValueError, match="rows layout"):
        choose_layout(128, 1024, bf16, cpu, training=False, kernel="rows")
    assert choose_layout(128, 1024, bf16, cpu, training=False)["fwd"]["kind"] == "split"
