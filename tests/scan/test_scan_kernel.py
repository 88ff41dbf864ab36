"""kernels/scan: reference.py and the fast op against the float64 loop; gradcheck; dispatch."""

import logging

import pytest
import torch

from rnnkit.functional import scan as FS
from rnnkit.kernels.scan import BACKENDS, chunked_scan, chunked_scan_reference, scan

f64 = torch.float64
T_VALUES = [1, 2, 3, 7, 8, 9, 16, 63, 64, 65, 100, 257]


def _inputs(B, T, D, dtype=f64, grad=True):
    a = (torch.rand(B, T, D, dtype=dtype) * 1.9 - 0.95)  # any sign, |a| < 1
    b = torch.randn(B, T, D, dtype=dtype)
    h0 = torch.randn(B, D, dtype=dtype)
    for t in (a, b, h0):
        t.requires_grad_(grad)
    return a, b, h0


def _value_and_grads(fn, a, b, h0, g):
    out = fn(a, b, h0)
    inputs = (a, b) if h0 is None else (a, b, h0)
    # T = 1 without h0: the reference never multiplies a_0 (by the zero state), so a is unused
    grads = torch.autograd.grad(out, inputs, g, allow_unused=True)
    return out, [torch.zeros_like(x) if d is None else d for x, d in zip(inputs, grads)]


@pytest.mark.parametrize("T", T_VALUES)
@pytest.mark.parametrize("chunk", [2, 3, 8, 16])
@pytest.mark.parametrize("use_h0", [False, True])
def test_op_and_reference_equal_loop_forward_and_gradients(T, chunk, use_h0, tol):
    a, b, h0 = _inputs(2, T, 3)
    h0 = h0 if use_h0 else None
    g = torch.randn(2, T, 3, dtype=f64)
    want, want_grads = _value_and_grads(FS.linear_scan_ref, a, b, h0, g)
    for fn in (lambda a, b, h0: chunked_scan(a, b, h0, chunk),
               lambda a, b, h0: chunked_scan_reference(a, b, h0, chunk)):
        out, grads = _value_and_grads(fn, a, b, h0, g)
        torch.testing.assert_close(out, want, **tol(f64))
        for got, exp in zip(grads, want_grads):
            torch.testing.assert_close(got, exp, **tol(f64))


@pytest.mark.parametrize("T, chunk", [(1, 8), (2, 2), (13, 2), (19, 3), (42, 4)])
def test_gradcheck_float64(T, chunk):
    a, b, h0 = _inputs(2, T, 2)
    assert torch.autograd.gradcheck(lambda a, b, h0: chunked_scan(a, b, h0, chunk), (a, b, h0))
    assert torch.autograd.gradcheck(lambda a, b: chunked_scan(a, b, None, chunk), (a, b))
    # gradients for a subset of inputs only
    a2 = a.detach()
    assert torch.autograd.gradcheck(lambda b: chunked_scan(a2, b, None, chunk), (b,))


def test_backward_accepts_non_contiguous_output_gradients():
    a, b, h0 = _inputs(2, 37, 4)
    for reduce in (lambda h: h.sum(), lambda h: h[:, ::3, 1:].square().sum(),
                   lambda h: h.transpose(1, 2)[..., -1].sum()):
        want = torch.autograd.grad(reduce(FS.linear_scan_ref(a, b, h0)), (a, b, h0))
        got = torch.autograd.grad(reduce(chunked_scan(a, b, h0)), (a, b, h0))
        for x, y in zip(got, want):
            torch.testing.assert_close(x, y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dispatch_with_lengths_equals_each_sequence_alone(backend, tol):
    T = 23
    a, b, h0 = _inputs(4, T, 3)
    lengths = torch.tensor([23, 1, 9, 16])
    out = scan(a, b, h0, lengths, backend=backend)
    final = FS.final_state(out, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone = FS.linear_scan_ref(a[i:i + 1, :n], b[i:i + 1, :n], h0[i:i + 1])
        torch.testing.assert_close(out[i:i + 1, :n], alone, **tol(f64))
        torch.testing.assert_close(final[i], alone[0, -1], **tol(f64))
        assert torch.count_nonzero(out[i, n:]) == 0
    # gradients do not leak into padded steps
    ga, gb = torch.autograd.grad(out.square().sum(), (a, b))
    for i, n in enumerate(lengths.tolist()):
        assert torch.count_nonzero(ga[i, n:]) == 0 and torch.count_nonzero(gb[i, n:]) == 0


def test_exact_at_a_zero_one_and_near_one_over_long_sequences():
    """No division or log: a_t = 0 resets, a_t = 1 accumulates, a = 1 - 1e-7 decays slowly."""
    T = 5000
    a = torch.full((1, T, 3), 1 - 1e-7, dtype=f64)
    a[0, :, 1] = 1.0
    a[0, ::7, 2] = 0.0
    a[0, 1::7, 2] = 1e-300  # tiny but non-zero: products underflow, no inf/NaN
    b = torch.randn(1, T, 3, dtype=f64)
    want = FS.linear_scan_ref(a, b)
    for chunk in (2, 8):
        got = chunked_scan(a, b, None, chunk)
        assert torch.isfinite(got).all()
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-10)
    # the log-space form cannot take a = 0 or a negative b; the chunked form can, in float32 too
    a32, b32 = a.float(), b.float()
    err32 = (chunked_scan(a32, b32).double() - want).abs().max()
    err_loop32 = (FS.linear_scan_ref(a32, b32).double() - want).abs().max()
    assert err32 <= 2 * err_loop32 + 1e-4


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_low_precision_error_at_most_about_twice_the_loop_in_same_dtype(dtype):
    """error against the float64 oracle <= ~2x the reference's own error."""
    torch.manual_seed(1)
    a, b, h0 = _inputs(4, 1000, 16, grad=False)
    a = a.abs() * 0.1 + 0.9  # slowly forgetting gates: the hard case for accumulated rounding
    want = FS.linear_scan_ref(a, b, h0)
    lo = [t.to(dtype) for t in (a, b, h0)]
    err_op = (chunked_scan(*lo).double() - want).abs().max()
    err_ref = (FS.linear_scan_ref(*lo).double() - want).abs().max()
    assert err_op <= 2 * err_ref + 1e-6, (float(err_op), float(err_ref))


def test_dispatch_backends_strict_and_logged_once(caplog, monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)  # the interpreter would let triton run on CPU
    a, b, h0 = _inputs(2, 11, 3, grad=False)
    outs = {k: scan(a, b, h0, backend=k) for k in BACKENDS}
    for k in BACKENDS:
        torch.testing.assert_close(outs[k], outs["loop"])
    with pytest.raises(ValueError, match="scan backend must be one of"):
        scan(a, b, backend="triton")
    with caplog.at_level(logging.INFO, logger="rnnkit.dispatch"):
        x = torch.rand(1, 3, 2, dtype=torch.float16)
        scan(x, x, backend="auto")
        scan(x, x, backend="auto")
    lines = [r.getMessage() for r in caplog.records if "linear scan" in r.getMessage()]
    assert lines == ["linear scan on cpu/torch.float16: backend=chunked (requested auto)"]


def test_dispatch_validates_inputs():
    a, b, h0 = _inputs(2, 5, 3, grad=False)
    with pytest.raises(ValueError, match="same shape"):
        scan(a, b[:, :, :2])
    with pytest.raises(ValueError, match="h0 must have shape"):
        scan(a, b, h0[:1])
    with pytest.raises(ValueError, match="lengths must be in"):
        scan(a, b, lengths=torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="chunk must be >= 2"):
        chunked_scan(a, b, chunk=1)
