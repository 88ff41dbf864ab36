"""rnnkit.functional.scan: the sequential reference, the log-space scan, the minGRU/minLSTM maps."""

import pytest
import torch

from rnnkit.functional import scan as FS

f64 = torch.float64


def _inputs(B, T, D, positive=False, dtype=f64):
    a = torch.rand(B, T, D, dtype=dtype) * 0.98 + 0.01
    b = torch.randn(B, T, D, dtype=dtype)
    return a, (b.abs() + 1e-3 if positive else b)


@pytest.mark.parametrize("T", [1, 2, 7, 33])
def test_linear_scan_ref_equals_hand_loop_with_h0_and_lengths(T, oracle, tol):
    a, b = _inputs(3, T, 2)
    h0 = torch.randn(3, 2, dtype=f64)
    lengths = torch.tensor([T, max(1, T // 2), 1])
    h = FS.linear_scan_ref(a, b, h0, lengths)
    want, want_final = oracle(a, b, h0, lengths)
    torch.testing.assert_close(h, want, **tol(f64))
    torch.testing.assert_close(FS.final_state(h, lengths), want_final, **tol(f64))
    for i, n in enumerate(lengths.tolist()):
        assert torch.count_nonzero(h[i, n:]) == 0  # outputs are zero at padding


@pytest.mark.parametrize("T", [1, 2, 5, 64, 100])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_log_scan_equals_loop_forward_and_gradients(T, with_lengths, tol):
    a, b = _inputs(2, T, 3, positive=True)
    h0 = torch.randn(2, 3, dtype=f64)  # any sign: it enters linearly
    lengths = torch.tensor([T, max(1, T - 3)]) if with_lengths else None
    for x in (a, b, h0):
        x.requires_grad_()
    g = torch.randn(2, T, 3, dtype=f64)

    ref = FS.linear_scan_ref(a, b, h0, lengths)
    grads_ref = torch.autograd.grad(ref, (a, b, h0), g)
    out = FS.log_linear_scan(a.log(), b.log(), h0, lengths)
    grads = torch.autograd.grad(out, (a, b, h0), g)

    torch.testing.assert_close(out, ref, rtol=1e-9, atol=1e-11)
    for got, want in zip(grads, grads_ref):
        assert torch.isfinite(got).all()
        torch.testing.assert_close(got, want, rtol=1e-8, atol=1e-10)


def test_log_scan_minus_inf_log_b_is_zero_b():
    a, b = _inputs(2, 9, 3, positive=True)
    b[:, 4] = 0.0
    log_b = b.log()  # -inf at step 4
    torch.testing.assert_close(FS.log_linear_scan(a.log(), log_b), FS.linear_scan_ref(a, b))


@pytest.mark.parametrize("eps", [1e-7, 1e-12])
@pytest.mark.parametrize("coeffs, log_coeffs, gates", [
    (FS.mingru_coefficients, FS.mingru_log_coefficients, 2),
    (FS.minlstm_coefficients, FS.minlstm_log_coefficients, 3),
])
def test_log_space_exact_at_extreme_gates_float64(eps, coeffs, log_coeffs, gates):
    """Gates at eps and 1 - eps: the log-space scan matches the loop in float64, finite grads."""
    B, T, H = 2, 50, 4
    logit = torch.logit(torch.tensor([eps, 1 - eps], dtype=f64))
    # every gate pre-activation at one of the two extremes, mixed over time and units
    gi = logit[torch.randint(0, 2, (B, T, gates * H))].clone()
    gi[..., -H:] = torch.randn(B, T, H, dtype=f64) * 3  # the candidate h~ stays ordinary
    gi.requires_grad_()
    a, b = coeffs(gi)
    ref = FS.linear_scan_ref(a, b)
    (g_ref,) = torch.autograd.grad(ref.sum(), gi)
    log_a, log_b = log_coeffs(gi)
    out = FS.log_linear_scan(log_a, log_b)
    (g_out,) = torch.autograd.grad(out.sum(), gi)
    assert torch.isfinite(out).all() and torch.isfinite(g_out).all()
    torch.testing.assert_close(out, ref, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(g_out, g_ref, rtol=1e-7, atol=1e-10)
    # and the log coefficients are exact: log a = log(1 - z) without cancellation
    torch.testing.assert_close(log_a.exp(), a, rtol=1e-10, atol=0)


@pytest.mark.parametrize("k", [16.0, 40.0, 200.0])
def test_log_space_finite_when_float32_gates_saturate(k):
    """At |pre-activation| 40, sigmoid is exactly 0 or 1 in float32; logs stay finite."""
    B, T, H = 2, 300, 3
    gi = (torch.randint(0, 2, (B, T, 2 * H)).float() * 2 - 1) * k
    gi.requires_grad_()
    log_a, log_b = FS.mingru_log_coefficients(gi)
    assert torch.isfinite(log_a).all() and torch.isfinite(log_b).all()
    out = FS.log_linear_scan(log_a, log_b)
    out.square().sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(gi.grad).all()
    # and still the same function: within float32's log-space cancellation error (docs/scan.md)
    h0 = torch.zeros(B, H, dtype=f64)
    ref = FS.linear_scan_ref(*FS.mingru_coefficients(gi.detach().double()), h0)
    assert (out.detach().double() - ref).abs().max() <= 1e-2 * ref.abs().max()


def test_coefficients_match_naive_formulas_float64():
    gi = torch.randn(4, 6, 3 * 5, dtype=f64) * 3
    k_z, k_h = gi[..., :10].chunk(2, dim=-1)
    z, g = torch.sigmoid(k_z), FS.g_activation(k_h)
    a, b = FS.mingru_coefficients(gi[..., :10])
    torch.testing.assert_close(a, 1 - z)
    torch.testing.assert_close(b, z * g)

    k_f, k_i, k_h = gi.chunk(3, dim=-1)
    f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
    a, b = FS.minlstm_coefficients(gi)
    torch.testing.assert_close(a, f / (f + i))
    torch.testing.assert_close(b, i / (f + i) * FS.g_activation(k_h))
    la, lb = FS.minlstm_log_coefficients(gi)
    torch.testing.assert_close(la.exp(), a)
    torch.testing.assert_close(lb.exp(), b)


def test_g_activation_is_positive_continuous_and_log_matches():
    x = torch.linspace(-30, 30, 2001, dtype=f64)
    g = FS.g_activation(x)
    assert (g > 0).all()
    torch.testing.assert_close(FS.log_g_activation(x), g.log())
    torch.testing.assert_close(FS.g_activation(torch.tensor([0.0, -1e-12], dtype=f64)),
                               torch.tensor([0.5, 0.5], dtype=f64))
    torch.testing.assert_close(FS.g_activation(torch.tensor([3.0, -3.0])),
                               torch.tensor([3.5, float(torch.sigmoid(torch.tensor(-3.0)))]))
    # g's hand-written derivative
    x64 = (torch.randn(40, dtype=f64) * 3).requires_grad_()
    assert torch.autograd.gradcheck(FS.g_activation, (x64,))
    # the gradient of log g is finite on both sides of 0
    xg = x.clone().requires_grad_()
    FS.log_g_activation(xg).sum().backward()
    assert torch.isfinite(xg.grad).all()
    torch.testing.assert_close(xg.grad[x > 0.1], 1 / (x[x > 0.1] + 0.5))


def test_bad_input_errors():
    a, b = _inputs(2, 5, 3)
    with pytest.raises(ValueError, match="same shape"):
        FS.linear_scan_ref(a, b[:, :4])
    with pytest.raises(ValueError, match="batch, time, features"):
        FS.linear_scan_ref(a[0], b[0])
    with pytest.raises(ValueError, match="h0 must have shape"):
        FS.linear_scan_ref(a, b, torch.zeros(3, 2, dtype=f64))
    with pytest.raises(ValueError, match="lengths must be in"):
        FS.log_linear_scan(a.log(), b.abs().log(), lengths=torch.tensor([5, 6]))
    with pytest.raises(ValueError, match="lengths must be integers"):
        FS.linear_scan_ref(a, b, lengths=torch.tensor([5.0, 2.0]))
    with pytest.raises(ValueError, match="floating point"):
        FS.linear_scan_ref(a.float(), b)
