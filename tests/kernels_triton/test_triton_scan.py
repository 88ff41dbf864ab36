"""The Triton linear scan (rnnkit/kernels/scan/triton_*.py) against its twin (the sequential loop
in the same dtype) and the float64 oracle: outputs, final state, every gradient; lengths;
dispatch. The two-pass variant (``carry="fused"``, triton_twopass.py) also against the three-pass
kernels. Runs under the Triton interpreter on CPU (see conftest.py), compiled on CUDA."""

import types

import pytest
import torch

from rnnkit.functional import scan as FS
from rnnkit.kernels import dispatch
from rnnkit.kernels.scan import scan
from rnnkit.kernels.scan import triton_op as scan_op
from rnnkit.kernels.scan import triton_twopass as twopass
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


def _triton(chunk, carry=None):
    return lambda a, b, h0, lengths: triton_scan(a, b, h0, lengths, chunk=chunk, carry=carry)


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

    def loss(h, last):
        return (h * dy).sum() + (last * dlast).sum()
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


# ---------------------------------------------------------------------------------------------
# the two-pass scan (carry="fused"): chunk summaries carried inside pass 1 by look-back

@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles of 8 channels, so most shapes have several channel tiles (the ticket's tile part, and
    tiles that straddle two sequences of the batch, are exercised)."""
    monkeypatch.setattr(twopass, "BLOCK", 8)


# (B, T, D, chunk, lengths, h0, dtype, publish_every). publish_every > 1 withholds most chunks' end
# states, so successors walk back through aggregates, as on a GPU while predecessors still run.
TWO_PASS_CASES = [
    (3, 33, 7, 4, None, True, f32, 1),  # 8 chunks + 1 partial, 3 tiles (the last straddles b = 2, 3)
    (3, 33, 7, 4, None, True, f32, 3),
    (3, 33, 7, 4, (33, 1, 20), False, f32, 1),  # lengths, h0 absent
    (3, 33, 7, 4, (33, 1, 20), True, f16, 4),
    (2, 5, 5, 8, (5, 2), True, f16, 1),  # T shorter than one chunk: one chunk, partial
    (2, 32, 6, 8, None, False, f32, 2),  # T a multiple of the chunk
    (1, 1, 3, 2, None, True, f32, 1),  # T = 1
]


@pytest.mark.parametrize("B,T,D,chunk,lengths,with_h0,dtype,publish_every", TWO_PASS_CASES)
def test_two_pass_matches_loop_and_three_pass(B, T, D, chunk, lengths, with_h0, dtype, publish_every,
                                              small_tiles, kt, monkeypatch):
    monkeypatch.setattr(twopass, "PUBLISH_EVERY", publish_every)
    a, b, h0, dy, dlast = _inputs(B, T, D, dtype, seed=5)
    lens = torch.tensor(lengths, device=DEVICE) if lengths is not None else None

    def run(fn, dt):
        xs = [x.to(dt).requires_grad_() for x in (a, b, h0)]
        if not with_h0:
            xs[2] = None
        h, last = fn(*xs, lens)
        loss = (h.double() * dy).sum() + (last.double() * dlast).sum()
        leaves = [x for x in xs if x is not None]
        return (h, last) + torch.autograd.grad(loss, leaves)

    got = run(_triton(chunk, "fused"), dtype)
    three = run(_triton(min(chunk, max(T - 1, 1)), "kernel"), dtype)  # the three-pass twin
    twin = run(_loop, dtype)
    oracle = run(_loop, f64)
    for name, g, th, t, o in zip(NAMES, got, three, twin, oracle):
        assert g.dtype == dtype, name
        torch.testing.assert_close(g, th, **kt.tol[dtype], msg=f"{name} vs three-pass")
        torch.testing.assert_close(g, t, **kt.tol[dtype], msg=f"{name} vs loop")
        kt.rule(g, t, o, dtype, name)
    if lens is not None:
        for i, n in enumerate(lengths):  # zero outputs and no gradient leak at padded steps
            assert torch.count_nonzero(got[0][i, n:]) == 0
            assert torch.count_nonzero(got[2][i, n:]) == 0 and torch.count_nonzero(got[3][i, n:]) == 0


@pytest.mark.parametrize("publish_every", [1, 2])
def test_two_pass_resets_and_accumulation_exact(publish_every, small_tiles, monkeypatch):
    """a_t = 0 (a reset, also at chunk starts and at t = 0) and a_t = 1 (pure accumulation) in
    float64: equal to the loop, forward and backward, to rounding."""
    monkeypatch.setattr(twopass, "PUBLISH_EVERY", publish_every)
    B, T, D = 2, 19, 5
    g = torch.Generator().manual_seed(6)
    a = torch.ones(B, T, D, dtype=f64)
    a[0, ::4] = 0.0  # resets at t = 0, 4, 8, ... (chunk starts for chunk 4)
    a[1, 7] = 0.0
    a[1, 10:] = 0.5
    b = torch.randn(B, T, D, generator=g, dtype=f64)
    h0 = torch.randn(B, D, generator=g, dtype=f64)
    dy = torch.randn(B, T, D, generator=g, dtype=f64)
    a, b, h0, dy = (x.to(DEVICE) for x in (a, b, h0, dy))
    xs = [x.clone().requires_grad_() for x in (a, b, h0)]
    h, last = triton_scan(*xs, None, chunk=4, carry="fused")
    want = FS.linear_scan_ref(*xs)
    torch.testing.assert_close(h, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(h[1, :7], h0[1] + b[1, :7].cumsum(0), rtol=1e-12, atol=1e-12)  # a = 1: sums
    torch.testing.assert_close(h[0, 4], b[0, 4], rtol=0, atol=0)  # a reset forgets the past exactly
    got_g = torch.autograd.grad((h * dy).sum() + last.sum(), xs)
    want_g = torch.autograd.grad((want * dy).sum() + want[:, -1].sum(), xs)
    for name, x, w in zip(("grad a", "grad b", "grad h0"), got_g, want_g):
        torch.testing.assert_close(x, w, rtol=1e-12, atol=1e-12, msg=name)
    assert torch.count_nonzero(got_g[2][0]) == 0  # a_0 = 0: h0 cannot matter for sequence 0


def test_two_pass_gradcheck_float64(small_tiles):
    a, b, h0, _, _ = _inputs(2, 5, 3, f64, seed=7)
    lengths = torch.tensor([4, 2], device=DEVICE)
    xs = [x.clone().requires_grad_() for x in (a, b, h0)]
    assert torch.autograd.gradcheck(lambda a, b, h0: triton_scan(a, b, h0, lengths, chunk=2, carry="fused"),
                                    xs, fast_mode=True)


def test_two_pass_is_opt_in_and_checks_its_arguments(monkeypatch):
    """``carry=None`` (what scan(backend="triton") and auto run) is the three-pass kernels; the
    two-pass takes power-of-two chunks, and chunk="auto" gives it its own tile height."""
    seen = []
    real = scan_op.TritonScan.apply
    monkeypatch.setattr(scan_op.TritonScan, "apply", lambda *args: seen.append(args[4:]) or real(*args))
    x = torch.rand(1, 6, 3, device=DEVICE)
    scan(x, x, backend="triton")
    triton_scan(x, x, chunk=2)
    triton_scan(x, x, chunk=2, carry="fused")
    assert seen == [(None, "kernel"), (2, "kernel"), (2, "fused")]
    monkeypatch.setattr(scan_op, "pick_chunk", lambda B, T, D: 64)  # as at the goal size
    triton_scan(x, x, carry="fused")
    triton_scan(x, x)
    assert seen[-2:] == [(twopass.CHUNK, "fused"), (64, "kernel")]
    with pytest.raises(ValueError, match="power-of-two chunk"):
        triton_scan(x, x, chunk=3, carry="fused")
    with pytest.raises(ValueError, match="carry must be one of"):
        triton_scan(x, x, chunk=2, carry="lookback")


# ---------------------------------------------------------------------------------------------
# what auto picks for the scan (rnnkit/kernels/dispatch.py; docs/kernels.md, scan/README.md)

def _like(device: str, dtype: torch.dtype):
    """What the scan's dispatch reads of a tensor (device and dtype), without allocating on it."""
    return types.SimpleNamespace(device=torch.device(device), dtype=dtype)


@pytest.mark.parametrize("device,dtype,want", [
    ("cuda", f32, "triton"), ("cuda", torch.bfloat16, "triton"),  # timed faster than chunked (H200)
    ("cuda", f16, "chunked"), ("cuda", f64, "chunked"),  # not timed
    ("cpu", f32, "chunked"), ("cpu", torch.bfloat16, "chunked"),  # CPU: even with the interpreter on
])
def test_auto_scan_rule(device, dtype, want):
    assert dispatch.choose_scan_backend("auto", _like(device, dtype)) == want
    layer = types.SimpleNamespace(backend_kind=dispatch.SCAN_LAYER)  # MinGRU/MinLSTM: the same rule
    assert dispatch.choose_backend(layer, "auto", _like(device, dtype)) == want


def test_auto_scan_without_triton_is_chunked(monkeypatch):
    monkeypatch.setattr(dispatch.fused, "triton_importable", lambda: False)
    assert dispatch.choose_scan_backend("auto", _like("cuda", f32)) == "chunked"


def test_auto_scan_on_cpu_runs_chunked_with_lengths(monkeypatch):
    """On CPU auto is chunked, lengths or not (the rule reads only device and dtype)."""
    calls = []
    monkeypatch.setattr(scan_op, "triton_scan", lambda *a, **k: calls.append(1))
    x = torch.rand(2, 5, 3)
    lengths = torch.tensor([5, 2])
    torch.testing.assert_close(scan(x, x, None, lengths), FS.linear_scan_ref(x, x, None, lengths))
    assert calls == []


def test_auto_triton_chunk_rule():
    """Inside the Triton scan, chunk="auto" (pick_chunk): the chunked three-pass kernels when the
    sequential walk would launch fewer than MIN_PROGRAMS programs and T > 2 * CHUNK, else the walk."""
    assert pick_chunk(16, 4096, 1024) == CHUNK
    assert pick_chunk(16, 2 * CHUNK, 1024) is None and pick_chunk(16, 2 * CHUNK + 1, 1024) == CHUNK
    blocks = scan_op.MIN_PROGRAMS * scan_op.BLOCK
    assert pick_chunk(1, 4096, blocks) is None and pick_chunk(1, 4096, blocks - scan_op.BLOCK) == CHUNK
    assert scan_op.DEFAULT_CARRY == "kernel"  # the two-pass is opt-in until timed on a GPU


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (bf16, real concurrency)")
@pytest.mark.parametrize("dtype", [torch.bfloat16, f16, f32])
@pytest.mark.parametrize("B,T,D", [(1, 1, 1000), (16, 4096, 1024), (3, 4097, 77)])
def test_two_pass_gpu_larger_shapes(B, T, D, dtype, kt):
    """On a GPU the look-back really waits (programs run concurrently, in any order)."""
    a, b, h0, dy, dlast = _inputs(B, T, D, dtype, seed=8)
    got = _run(lambda a, b, h0, lengths: triton_scan(a, b, h0, lengths, chunk=twopass.CHUNK, carry="fused"),
               a, b, h0, dy, dlast, dtype)
    twin = _run(_loop, a, b, h0, dy, dlast, dtype)
    oracle = _run(_loop, a, b, h0, dy, dlast, f64)
    for name, g, t, o in zip(NAMES, got, twin, oracle):
        kt.rule(g, t, o, dtype, name)
