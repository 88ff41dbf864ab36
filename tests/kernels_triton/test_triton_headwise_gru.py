"""The fused head-wise (block-diagonal) GRU (rnnkit/kernels/gru/headwise.py) against rnnkit's time
loop over :class:`rnnkit.cells.HeadwiseGRUCell`: outputs, final h and every gradient, through
stacking, both directions, lengths, h0 and bias=False; the op against autograd through the float64
loop (dL/dx, dL/dh0, dL/dW_ih, dL/dW_hh, dL/db_ih, dL/db_hh); fp16 (bf16 on CUDA) by the
low-precision rule; heads=1 against the dense fused GRU; the dispatch rules (an explicit request
runs it, ``auto`` never takes it, wrappers, oversized heads and bad inputs are refused).
Runs under the Triton interpreter on CPU, compiled on CUDA. The head-wise LSTM's twin is
tests/kernels_triton/test_triton_headwise.py."""

import copy

import pytest
import torch

import rnnkit
from rnnkit.cells import GRUCell, HeadwiseGRUCell, VariationalDropout, Zoneout
from rnnkit.kernels import dispatch
from rnnkit.kernels.dispatch import BackendUnavailable
from rnnkit.kernels.gru import headwise as hw
from rnnkit.kernels.gru.op import gru_forward
from rnnkit.layers.scan import scan_cell

# hw is decorated by conftest.py (interpreted on CPU)
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # as conftest.py: compiled or interpreted
D = 5
PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _pair(H, heads, seed=0, bias=True, **kw):
    torch.manual_seed(seed)
    fused = rnnkit.Recurrent(lambda d: HeadwiseGRUCell(d, H, heads=heads, bias=bias), input_size=D,
                             batch_first=True, backend="triton", **kw).to(DEVICE)
    loop = copy.deepcopy(fused)
    loop.backend = "loop"
    return fused, loop


def _lengths(B, T, seed):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0] = T
    lengths[-1] = 1  # a sequence of one step: everything after it is padding
    return lengths


# Hh = 8; 32 with B=17 (two batch blocks); 40 (not a power of two: a padded tile); 1 (16 heads of one unit)
SHAPES = [(3, 5, 24, 3), (17, 6, 64, 2), (2, 4, 40, 1), (3, 3, 16, 16)]


@pytest.mark.parametrize("B,T,H,heads", SHAPES)
@pytest.mark.parametrize("bidirectional,num_layers,use_lengths,use_h0,bias",
                         [(False, 1, False, False, True), (True, 2, True, True, True),
                          (False, 1, True, False, False)])
def test_triton_headwise_gru_equals_loop(B, T, H, heads, bidirectional, num_layers, use_lengths, use_h0, bias, kt):
    fused, loop = _pair(H, heads, bias=bias, bidirectional=bidirectional, num_layers=num_layers)
    x = torch.randn(B, T, D, device=DEVICE)
    lengths = _lengths(B, T, B + T).to(DEVICE) if use_lengths else None
    state = None
    if use_h0:
        state = torch.randn(num_layers * (2 if bidirectional else 1), B, H, device=DEVICE)
    assert dispatch.choose_backend(fused, "triton", x) == "triton"
    got, want = kt.grads(fused, x, lengths, state), kt.grads(loop, x, lengths, state)
    cells = num_layers * (2 if bidirectional else 1)
    assert len(got) == len(want) == 3 + cells * (4 if bias else 2)  # y, h_n, dx, every parameter
    for i, (g, w) in enumerate(zip(got, want)):
        assert torch.isfinite(g).all(), f"tensor {i}: unwritten output?"
        torch.testing.assert_close(g, w, **kt.tol[torch.float32], msg=f"tensor {i}")


def _op_run(fn, dtype, x, h0, params, dy, dh):
    """[y, h_n] and the gradients of <dy, y> + <dh, h_n> w.r.t. x, h0 (if given) and params, fn in dtype."""
    xs = [t.to(DEVICE, dtype).detach().requires_grad_() if t is not None else None for t in (x, h0, *params)]
    y, hn = fn(*xs)
    loss = (y.double() * dy).sum() + (hn.double() * dh).sum()
    wrt = [t for t in xs if t is not None]
    return [y, hn] + list(torch.autograd.grad(loss, wrt))


def _loop_fn(cell, lengths):
    """The cell's loop over its own equations with the given tensors as its parameters."""
    def fn(x_, h_, *ps):
        ref = copy.deepcopy(cell).to(x_.dtype)
        for name, p in zip(PARAMS, ps):
            delattr(ref, name)
            setattr(ref, name, p)
        h_ = h_ if h_ is not None else x_.new_zeros(x_.shape[0], cell.hidden_size)
        y, (hn,) = scan_cell(ref, x_, (h_,), lengths)
        return y, hn
    return fn


def _fused_fn(lengths):
    def fn(x_, h_, wi, wh, bi=None, bh=None):
        return hw.headwise_gru_forward(x_, wi, wh, bi, bh, h_, lengths.to(DEVICE) if lengths is not None else None)
    return fn


def _op_case(B, T, H, k, bias, use_h0, seed):
    torch.manual_seed(seed)
    cell = HeadwiseGRUCell(D, H, heads=k, bias=bias).double()
    with torch.no_grad():
        cell.weight_hh.mul_(3.0)  # the recurrence matters
    x = torch.randn(B, T, D, dtype=torch.double)
    h0 = torch.randn(B, H, dtype=torch.double) if use_h0 else None
    g = torch.Generator().manual_seed(seed + 1)
    dy, dh = torch.randn(B, T, H, generator=g, dtype=torch.double), torch.randn(B, H, generator=g, dtype=torch.double)
    params = [getattr(cell, n) for n in PARAMS if getattr(cell, n) is not None]
    return cell, x, h0, params, dy.to(DEVICE), dh.to(DEVICE)


@pytest.mark.parametrize("B,T,H,k,bias,use_h0", [(5, 7, 24, 3, True, True), (17, 5, 64, 2, False, True),
                                                 (4, 6, 12, 4, True, False), (3, 4, 20, 1, True, True)])
def test_op_every_gradient_against_float64_loop(B, T, H, k, bias, use_h0):
    """The op alone, dL/dh_n reaching the carry mid-sequence (lengths), against autograd through
    the float64 loop: y, h_n, dL/dx, dL/dh0 (when given), dL/dW_ih, dL/dW_hh, dL/db_ih, dL/db_hh."""
    cell, x, h0, params, dy, dh = _op_case(B, T, H, k, bias, use_h0, seed=B + H)
    lengths = _lengths(B, T, seed=B)
    got = _op_run(_fused_fn(lengths), torch.float32, x, h0, params, dy, dh)
    oracle = _op_run(_loop_fn(cell, lengths), torch.double, x, h0, params, dy, dh)
    names = ["y", "h_n", "dx"] + (["dh0"] if use_h0 else []) + ["d" + n for n in PARAMS][:len(params)]
    assert len(got) == len(oracle) == len(names)
    for name, gt, o in zip(names, got, oracle):
        assert gt.shape == o.shape, name
        torch.testing.assert_close(gt.double(), o, rtol=1e-4, atol=1e-4, msg=name)
    y = got[0]
    for b, L in enumerate(lengths.tolist()):  # padded steps output exactly 0, h_n is h at step L-1
        assert (y[b, L:] == 0).all()
        torch.testing.assert_close(got[1][b], y[b, L - 1], rtol=0, atol=0)


LOW = [torch.float16, pytest.param(torch.bfloat16, marks=pytest.mark.skipif(
    DEVICE == "cpu", reason="the Triton interpreter's tl.dot mishandles bf16 (numpy has no bf16)"))]


@pytest.mark.parametrize("dtype", LOW)
def test_low_precision_rule_against_twin_and_oracle(dtype, kt):
    """fp16 / bf16: the kernel accumulates in fp32 and keeps h in fp32, the loop (twin) rounds every
    op, so the check is |kernel - f64| <= 2 |twin - f64| (+ floor) for every output and gradient."""
    B, T, H, k = 17, 6, 32, 2
    cell, x, h0, params, dy, dh = _op_case(B, T, H, k, True, True, seed=11)
    lengths = _lengths(B, T, seed=3)
    got = _op_run(_fused_fn(lengths), dtype, x, h0, params, dy, dh)
    twin = _op_run(_loop_fn(cell, lengths.to(DEVICE)), dtype, x, h0, params, dy, dh)
    oracle = _op_run(_loop_fn(cell, lengths), torch.double, x, h0, params, dy, dh)
    for i, (g, t, o) in enumerate(zip(got, twin, oracle)):
        assert g.dtype == dtype, i
        kt.rule(g, t, o.to(DEVICE), dtype, f"tensor {i}")


def test_one_head_equals_the_dense_fused_gru_and_the_dense_loop(kt):
    """heads=1: the head-wise kernel computes the dense GRU, so it equals the dense fused op
    (gru_forward, weight_hh[0]) and the dense GRUCell loop, outputs and every gradient."""
    torch.manual_seed(2)
    B, T, H = 5, 6, 40
    hcell = HeadwiseGRUCell(D, H, heads=1).to(DEVICE)
    dense = hcell.to_dense()
    assert type(dense) is GRUCell
    x, h0 = torch.randn(B, T, D, device=DEVICE), torch.randn(B, H, device=DEVICE)
    lengths = _lengths(B, T, seed=5).to(DEVICE)
    dy, dh = torch.randn(B, T, H, device=DEVICE).double(), torch.randn(B, H, device=DEVICE).double()
    params = [getattr(hcell, n) for n in PARAMS]

    def dense_fused(x_, h_, wi, wh, bi, bh):
        return gru_forward(x_, wi, wh[0], bi, bh, h_, lengths)

    got = _op_run(_fused_fn(lengths), torch.float32, x, h0, params, dy, dh)
    fused_dense = _op_run(dense_fused, torch.float32, x, h0, params, dy, dh)
    loop_dense = _op_run(_loop_fn(dense, lengths), torch.float32, x, h0,
                         [dense.weight_ih, dense.weight_hh, dense.bias_ih, dense.bias_hh], dy, dh)
    for i, (g, f, lp) in enumerate(zip(got, fused_dense, loop_dense)):
        torch.testing.assert_close(g, f, **kt.tol[torch.float32], msg=f"vs dense fused, tensor {i}")
        torch.testing.assert_close(g, lp.reshape(g.shape), **kt.tol[torch.float32], msg=f"vs dense loop, tensor {i}")


def test_inference_forward_matches():
    fused, loop = _pair(24, 4, seed=4, num_layers=2)
    x = torch.randn(3, 6, D, device=DEVICE)
    with torch.no_grad():
        y1, h1 = fused(x)
        y2, h2 = loop(x)
    for a, b in ((y1, y2), (h1, h2)):
        torch.testing.assert_close(a, b, rtol=2e-5, atol=2e-5)


def test_auto_never_takes_the_headwise_gru_kernel():
    """As the head-wise LSTM: untimed on a GPU, so ``auto`` runs the loop (no native op either)."""
    fused, _ = _pair(24, 3)
    x = torch.randn(2, 4, D, device=DEVICE)
    assert dispatch.choose_backend(fused, "auto", x) == "loop"
    for dtype in (torch.float16, torch.bfloat16, torch.float32):  # the CUDA rule itself
        assert not dispatch.auto_takes_triton(fused, dtype)


@pytest.mark.parametrize("wrap", [lambda c: VariationalDropout(c, p_h=0.2), lambda c: Zoneout(c, p=0.1)],
                         ids=["variational", "zoneout"])
def test_refuses_wrappers(wrap):
    torch.manual_seed(5)
    wrapped = rnnkit.Recurrent(lambda d: wrap(HeadwiseGRUCell(d, 16, heads=2)), input_size=D,
                               backend="triton").to(DEVICE)
    with pytest.raises(BackendUnavailable, match=r"^backend 'triton' cannot run Recurrent: dropout/zoneout "
                                                 r"wrappers around HeadwiseGRUCell are not fused \(backend='loop'"):
        wrapped(torch.randn(4, 2, D, device=DEVICE))


def test_refuses_oversized_heads_and_bad_inputs():
    big = rnnkit.Recurrent(lambda d: HeadwiseGRUCell(d, 256, heads=1), input_size=D, backend="triton").to(DEVICE)
    with pytest.raises(BackendUnavailable, match=r"the fused head-wise GRU does not fit this shape: head size 256 "
                                                 r"in torch.float32 needs \d+ KiB"):
        big(torch.randn(2, 2, D, device=DEVICE))
    four = rnnkit.Recurrent(lambda d: HeadwiseGRUCell(d, 256, heads=4), input_size=D, backend="triton").to(DEVICE)
    assert dispatch.choose_backend(four, "triton", torch.randn(2, 2, D, device=DEVICE)) == "triton"  # Hh = 64 fits
    gi = torch.randn(2, 3, 3 * 12, device=DEVICE)
    cases = [
        ((torch.randn(2, 3, 4 * 12, device=DEVICE), torch.randn(3, 12, 4, device=DEVICE)),
         r"w_hh must have shape \(heads, 3\*H/heads, H/heads\) with H=16"),
        ((gi, torch.randn(3, 3 * 5, 5, device=DEVICE)), r"w_hh must have shape \(heads, 3\*H/heads"),
        ((torch.randn(2, 3, 35, device=DEVICE), torch.randn(1, 3, 1, device=DEVICE)), r"gi must be \(batch, time, 3\*hidden\)"),
        ((gi.double(), torch.randn(3, 12, 4, device=DEVICE).double()), "takes fp16, bf16 or fp32, got torch.float64"),
        ((gi, torch.randn(3, 12, 4, device=DEVICE), torch.randn(11, device=DEVICE)), r"b_hn must have shape \(hidden,\)"),
        ((gi, torch.randn(3, 12, 4, device=DEVICE), None, torch.randn(3, 12, device=DEVICE)),
         r"h0 must have shape \(batch, hidden\) = \(2, 12\)"),
        ((gi[:, :0], torch.randn(3, 12, 4, device=DEVICE)), "empty input"),
        ((gi, torch.randn(3, 12, 4, device=DEVICE), None, None, torch.tensor([3, 4])), r"lengths must be in \[1, T=3\]"),
    ]
    for args, msg in cases:
        with pytest.raises(ValueError, match=msg):
            hw.headwise_gru_sequence_forward(*args)
