"""The Triton linear scan (rnnkit/kernels/scan/triton_*.py) against its twin (the sequential loop
in the same dtype) and the float64 oracle: outputs, final state, every gradient; lengths;
dispatch. Runs under the Triton interpreter on CPU (see conftest.py), compiled on CUDA."""

import pytest
import torch

from rnnkit.functional import scan as FS
from rnnkit.kernels.scan import scan
from rnnkit.kernels.scan.triton_op import CHUNK, pick_chunk, triton_scan

f16, f32, f64 = torch.float16, torch.float32, torch.float64
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # as conftest.py: compiled or interpreted


def _inputs(B, T, D, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = 0.7 + 0.3 * torch.rand(B, T, D, generator=g, dtype=f64)  # gates in (0.7, 1): long memory
    b = torch.randn(B, T, D, generator=g, dtype=f64)
    h0 = torch.randn(B, D, generator=g, dtype=f64)
    dy = torch.randn(B, T, D, generator=g, dtype=f64)
    dlast = torch.randn(B, D, generator=g, dtype=f64)
    return [x.to(DEVICE) for x in (a, b, h0, dy, dlast)]


def _run(fn, a, b, h0, dy, dlast, dtype, lengths=None):
    """(h, h_last, da, db, dh0) of fn in dtype, loss = <dy, h> + <dlast, h_last>."""
    xs = [x.to(dtype).requires_grad_() for x in (a, b, h0)]
    h, last = fn(*xs, lengths)
    loss = (h.double() * dy).sum() + (last.double() * dlast).sum()
    return (h, last) + torch.autograd.grad(loss, xs)


def _triton(chunk):
    return lambda a, b, h0, lengths: triton_scan(a, b, h0, lengths, chunk=chunk)


def _loop(a, b, h0, lengths):
    h = FS.linear_scan_ref(a, b, h0, lengths)
    return h, FS.final_state(h, lengths)


NAMES = ("h", "h_last", "grad a", "grad b", "grad h0")


# chunk None: one sequential walk per channel; else the chunked kernels (33 = 8 chunks of 4 + 1)
@pytest.mark.parametrize("B,T,D,chunk", [(1, 1, 7, None), (3, 5, 24, None), (3, 5, 24, 2),
                                         (3, 33, 7, None), (3, 33, 7, 4), (1, 33, 24, None),
                                         (1, 33, 24, 4)])
@pytest.mark.parametrize("dtype", [f32, f16])
def test_scan_matches_twin_and_oracle(B, T, D, dtype, chunk, kt):
    a, b, h0, dy, dlast = _inputs(B, T, D, dtype)
    got = _run(_triton(chunk), a, b, h0, dy, dlast, dtype)
    twin = _run(_loop, a, b, h0, dy, dlast, dtype)
    oracle = _run(_loop, a, b, h0, dy, dlast, f64)
    for name, g, t, o in zip(NAMES, got, twin, oracle):
        assert g.dtype == dtype, name
        torch.testing.assert_close(g, t, **kt.tol[dtype], msg=name)
        kt.rule(g, t, o, dtype, name)


@pytest.mark.parametrize("chunk", [None, 2, 4])
@pytest.mark.parametrize("with_h0", [True, False])
def test_scan_with_lengths_equals_each_sequence_alone(with_h0, chunk, kt):
    B, T, D = 3, 9, 7
    a, b, h0, dy, dlast = _inputs(B, T, D, f64, seed=1)
    h0 = h0 if with_h0 else None
    lengths = torch.tensor([9, 1, 4], device=DEVICE)
    xs = [x.clone().requires_grad_() if x is not None else None for x in (a, b, h0)]
    h, last = triton_scan(*xs, lengths, chunk=chunk)
    want = FS.linear_scan_ref(*xs, lengths)
    torch.testing.assert_close(h, want, **kt.tol[f64])
    torch.testing.assert_close(last, FS.final_state(want, lengths), **kt.tol[f64])
    for i, n in enumerate(lengths.tolist()):
        assert torch.count_nonzero(h[i, n:]) == 0
    inputs = [x for x in xs if x is not None]
    loss = lambda h, last: (h * dy).sum() + (last * dlast).sum()
    got_g = torch.autograd.grad(loss(h, last), inputs)
    want_g = torch.autograd.grad(loss(want, FS.final_state(want, lengths)), inputs)
    for g, w in zip(got_g, want_g):
        torch.testing.assert_close(g, w, **kt.tol[f64])
    for i, n in enumerate(lengths.tolist()):  # no gradient leaks into padded steps
        assert torch.count_nonzero(got_g[0][i, n:]) == 0 and torch.count_nonzero(got_g[1][i, n:]) == 0


def test_scan_gradcheck_float64():
    """gradcheck of the autograd.Function (fast mode: the interpreter is slow)."""
    a, b, h0, _, _ = _inputs(2, 5, 3, f64, seed=2)
    lengths = torch.tensor([4, 2], device=DEVICE)
    xs = [x.clone().requires_grad_() for x in (a, b, h0)]
    for chunk in (None, 2):  # 2: three chunks, the last one partial
        assert torch.autograd.gradcheck(lambda a, b, h0, c=chunk: triton_scan(a, b, h0, lengths, chunk=c),
                                        xs, fast_mode=True)
        assert torch.autograd.gradcheck(lambda a, b, c=chunk: triton_scan(a, b, None, None, chunk=c),
                                        xs[:2], fast_mode=True)


def test_chunk_choice():
    """Chunks only where the plain walk launches too few programs and T is long."""
    assert pick_chunk(16, 4096, 1024) == CHUNK  # 64 programs: split T
    assert pick_chunk(256, 4096, 1024) is None  # 1024 programs fill the card
    assert pick_chunk(16, 100, 1024) is None  # short T
    with pytest.raises(ValueError, match="chunk must be"):
        triton_scan(torch.rand(1, 2, 3, device=DEVICE), torch.rand(1, 2, 3, device=DEVICE), chunk=0)


def test_dispatch_triton_backend_equals_loop(kt):
    a, b, h0, _, _ = _inputs(2, 6, 5, f32, seed=3)
    lengths = torch.tensor([6, 3], device=DEVICE)
    a, b, h0 = a.float(), b.float(), h0.float()
    torch.testing.assert_close(scan(a, b, h0, lengths, backend="triton"),
                               scan(a, b, h0, lengths, backend="loop"), **kt.tol[f32])


def test_dispatch_refuses_triton_on_cpu_without_interpreter(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    x = torch.rand(1, 3, 2)
    with pytest.raises(ValueError, match="'triton' needs CUDA tensors"):
        scan(x, x, backend="triton")
    assert scan(x, x, backend="auto").shape == x.shape  # auto on CPU: chunked, never triton


@pytest.mark.parametrize("cls", ["MinGRU", "MinLSTM"])
def test_min_rnn_layer_triton_backend_equals_loop(cls, kt, monkeypatch):
    """The min-RNN layers' ``backend="triton"``: the Triton scan per direction, inside Recurrent's
    loop; outputs, final state and every gradient as the sequential loop (fp32)."""
    import copy

    from rnnkit import layers
    from rnnkit.kernels.scan import triton_op
    calls = []
    monkeypatch.setattr(triton_op, "triton_scan", lambda *a, **k: calls.append(1) or triton_scan(*a, **k))
    torch.manual_seed(2)
    fused = getattr(layers, cls)(3, 5, num_layers=2, bidirectional=True, batch_first=True,
                                 backend="triton").to(DEVICE)
    loop = copy.deepcopy(fused)
    loop.backend = "loop"
    x = torch.randn(3, 9, 3, device=DEVICE, requires_grad=True)
    h0 = torch.randn(4, 3, 5, device=DEVICE, requires_grad=True)
    lengths = torch.tensor([9, 2, 6], device=DEVICE)
    results = []
    for m in (fused, loop):
        y, h = m(x, h0, lengths=lengths)
        results.append((y, h, *torch.autograd.grad((y * y).sum() + h.sum(), [x, h0, *m.parameters()])))
    assert len(calls) == 4  # 2 layers x 2 directions, all on the kernels
    for got, want in zip(*results):
        torch.testing.assert_close(got, want, **kt.tol[f32])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (bf16 and larger shapes)")
@pytest.mark.parametrize("dtype", [torch.bfloat16, f16, f32])
@pytest.mark.parametrize("B,T,D", [(1, 1, 1000), (16, 1024, 1024), (3, 4097, 77)])
def test_scan_gpu_larger_shapes(B, T, D, dtype, kt):
    a, b, h0, dy, dlast = _inputs(B, T, D, dtype, seed=4)
    got = _run(_triton("auto"), a, b, h0, dy, dlast, dtype)
    twin = _run(_loop, a, b, h0, dy, dlast, dtype)
    oracle = _run(_loop, a, b, h0, dy, dlast, f64)
    for name, g, t, o in zip(NAMES, got, twin, oracle):
        kt.rule(g, t, o, dtype, name)
