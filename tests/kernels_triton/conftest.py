"""Triton kernels under test: compiled on CUDA when present, else under the Triton interpreter.

TRITON_INTERPRET=1 must be set before the kernels are decorated (triton.jit reads it then), so it is
set here, at collection, before anything imports them. It is restored afterwards and set again
only around the tests of this folder, so other folders (tests/scan checks that backend='triton'
is refused on CPU) see the environment they expect.
"""

import os

import pytest
import torch

HAS_CUDA = torch.cuda.is_available()
DEVICE = "cuda" if HAS_CUDA else "cpu"

_prev = os.environ.get("TRITON_INTERPRET")
if not HAS_CUDA:
    os.environ["TRITON_INTERPRET"] = "1"
try:
    try:
        import triton  # noqa: F401
        HAS_TRITON = True
    except ImportError:
        HAS_TRITON = False
    if HAS_TRITON:  # decorate the kernels now (outside the ImportError guard: a bug must fail)
        # the ops import every kernel module (a kernel imported later would not be interpreted)
        import rnnkit.kernels.elman.op
        import rnnkit.kernels.gru.headwise
        import rnnkit.kernels.gru.op
        import rnnkit.kernels.lstm.headwise
        import rnnkit.kernels.lstm.op
        import rnnkit.kernels.scan.triton_op  # noqa: F401
finally:
    if _prev is None:
        os.environ.pop("TRITON_INTERPRET", None)
    else:
        os.environ["TRITON_INTERPRET"] = _prev


def _scan_builtins_once():
    """The interpreter patches triton.language's builtins at every kernel launch *and* at every
    call of a ``@triton.jit`` helper inside a kernel (the rows kernels call theirs every step).
    Each time it finds them with ``inspect.getmembers`` over ``tl``, ``tl.tensor``, ``tl.math``
    ...; inside a launch the builtins are already patched, so the helpers' scans find nothing and
    patch nothing, yet cost about a sixth of this folder's time. Here the builtins' names are
    found once per package, and each call patches those of them that are still triton's builtins:
    the same attributes with the same values as triton's own scan (test_interpreter_patch.py checks
    it). With another triton whose internals differ, nothing is changed."""
    import inspect

    from triton.runtime import interpreter as interp

    patch_builtin, patch_attr = getattr(interp, "_patch_builtin", None), getattr(interp, "_patch_attr", None)
    if patch_builtin is None or patch_attr is None or hasattr(patch_builtin, "triton_scan"):
        return
    if list(inspect.signature(patch_builtin).parameters) != ["pkg", "builder", "scope"]:
        return
    import triton.language as tl

    # Scanned now, before any launch: inside one, some builtins are patched (and a helper's
    # patches are never restored), so a first scan there would miss them.
    names = {id(pkg): (pkg, tuple(n for n, m in inspect.getmembers(pkg) if tl.core.is_builtin(m)))
             for pkg in (tl, tl.core, tl.tensor, tl.math, tl.core.tensor_descriptor_base)}

    def patch_builtin_scanned_once(pkg, builder, scope):
        if id(pkg) not in names:  # a package this list does not know: triton's own scan
            return patch_builtin(pkg, builder, scope)
        for name in names[id(pkg)][1]:
            member = getattr(pkg, name)
            if tl.core.is_builtin(member):
                patch_attr(pkg, name, member, builder, scope)

    patch_builtin_scanned_once.triton_scan = patch_builtin
    interp._patch_builtin = patch_builtin_scanned_once


if HAS_TRITON and not HAS_CUDA:
    _scan_builtins_once()

if not HAS_TRITON:
    collect_ignore_glob = ["test_*.py"]  # the whole folder: nothing here runs without triton


def pytest_report_header(config):
    if not HAS_TRITON:
        return "tests/kernels_triton skipped: triton is not importable (pip install triton)"
    return None


f16, f32, f64 = torch.float16, torch.float32, torch.float64

# One table of tolerances, keyed by dtype. fp32: the kernel and its twin
# differ only by the order of fp32 roundings. fp16/bf16: the kernel accumulates in fp32 while the
# twin rounds every step, so closeness to the twin is loose; the binding check is the
# low-precision rule (error vs the float64 oracle <= LOW_PRECISION_FACTOR x the twin's error).
TOL = {
    f64: {"rtol": 1e-10, "atol": 1e-12},
    f32: {"rtol": 2e-5, "atol": 2e-5},
    f16: {"rtol": 2e-2, "atol": 2e-2},
    torch.bfloat16: {"rtol": 8e-2, "atol": 8e-2},
}
LOW_PRECISION_FACTOR = 2.0
# an error floor for the rule, so a twin that happens to be exact does not demand exactness
RULE_FLOOR = {f16: 2e-3, torch.bfloat16: 1.6e-2, f32: 1e-5}


@pytest.fixture(autouse=True)
def _interpreter_and_poison(monkeypatch):
    if not HAS_CUDA:
        monkeypatch.setenv("TRITON_INTERPRET", "1")
    from rnnkit.kernels.scan import triton_op as scan_op
    monkeypatch.setattr(scan_op, "POISON", True)
    from rnnkit.kernels import persistent  # the LSTM, GRU and Elman kernels' outputs
    monkeypatch.setattr(persistent, "POISON", True)
    yield


def assert_low_precision_rule(got, twin, oracle, dtype, what=""):
    """|kernel - oracle| <= 2 x |twin - oracle| (+ a floor), and no NaN."""
    assert torch.isfinite(got).all(), f"{what}: non-finite values (unwritten output?)"
    err = (got.double() - oracle).abs().max().item()
    ref = (twin.double() - oracle).abs().max().item()
    assert err <= LOW_PRECISION_FACTOR * ref + RULE_FLOOR[dtype], (what, err, ref)


def layer_grads(model, x, lengths, state=None):
    """A layer's outputs, final state and the gradients of a fixed random projection of them with
    respect to x and every parameter (sorted by name): what a fused layer must equal the loop in."""
    x = x.clone().requires_grad_()
    y, final = model(x, state, lengths=lengths)
    outs = [y] + (list(final) if isinstance(final, tuple) else [final])
    g = torch.Generator().manual_seed(9)
    loss = sum((t * torch.randn(t.shape, generator=g).to(DEVICE)).sum() for t in outs)
    params = [p for _, p in sorted(model.named_parameters())]
    return outs + list(torch.autograd.grad(loss, [x] + params))


@pytest.fixture
def kt():
    """The helpers of this folder (the suite imports test files by path, so no `from conftest`)."""
    from types import SimpleNamespace
    return SimpleNamespace(device=DEVICE, tol=TOL, rule=assert_low_precision_rule, grads=layer_grads)
