"""The fp32 kernels' product precision follows torch's TF32 switch, read when the layout is chosen.

``DOT_PREC`` of every configuration the LSTM, GRU and Elman ops choose is ``"ieee"`` (exact fp32)
for fp32 by default and ``"tf32"`` with ``torch.backends.cuda.matmul.allow_tf32 = True`` (the old
switch) or ``fp32_precision = "tf32"`` (torch >= 2.9's), forward and backward; fp16/bf16 are
unaffected; the launches receive it; ``auto``'s backend choice does not change. The interpreter
computes fp32 products in fp32 whatever DOT_PREC says, so the TF32 numbers themselves are checked
by benchmarks/gpu.py on a GPU (docs/kernels.md)."""

import pytest
import torch

import rnnkit
from rnnkit.kernels import dispatch, persistent
from rnnkit.kernels.elman import op as elman_op
from rnnkit.kernels.gru import op as gru_op
from rnnkit.kernels.lstm import op as lstm_op
from rnnkit.kernels.lstm import split as lstm_split

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # as conftest.py: compiled or interpreted
MATMUL = torch.backends.cuda.matmul
NEW_API = hasattr(MATMUL, "fp32_precision")

# every way each family chooses a configuration: (family, chooser of (B, H, dtype, training))
CHOOSERS = [
    *((f"lstm {k}", lambda B, H, dt, tr, k=k: lstm_op.choose_kernel(B, H, dt, torch.device(DEVICE), k, tr))
      for k in lstm_op.KERNELS),
    *((f"gru {k}", lambda B, H, dt, tr, k=k: gru_op.choose_layout(B, H, dt, torch.device(DEVICE), tr, k))
      for k in gru_op.KERNELS),
    ("elman", lambda B, H, dt, tr: elman_op.choose_layout(B, H, dt, torch.device(DEVICE), tr)),
]


@pytest.fixture
def allow_tf32():
    """Sets torch's old switch for the test, restores it afterwards (the same switch both ways:
    torch >= 2.9 refuses to read it after the two switches were mixed)."""
    saved = MATMUL.allow_tf32

    def allow(on: bool) -> None:
        MATMUL.allow_tf32 = on

    try:
        yield allow
    finally:
        MATMUL.allow_tf32 = saved


def _precisions(layout) -> set:
    return {cfg["DOT_PREC"] for cfg in (layout["fwd"], layout["bwd"]) if cfg is not None}


@pytest.mark.parametrize("family,choose", CHOOSERS, ids=[c[0] for c in CHOOSERS])
def test_fp32_product_is_exact_by_default_and_tf32_when_torch_allows_it(family, choose, allow_tf32):
    allow_tf32(False)
    assert not persistent.tf32_allowed()
    for training in (False, True):
        assert _precisions(choose(4, 24, torch.float32, training)) == {"ieee"}, family
    allow_tf32(True)  # read at call time: the next choice follows
    assert persistent.tf32_allowed()
    for training in (False, True):
        assert _precisions(choose(4, 24, torch.float32, training)) == {"tf32"}, family
    allow_tf32(False)
    assert _precisions(choose(4, 24, torch.float32, True)) == {"ieee"}, family


@pytest.mark.parametrize("family,choose", CHOOSERS, ids=[c[0] for c in CHOOSERS])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_configs_ignore_the_switch(family, choose, dtype, allow_tf32):
    allow_tf32(False)
    off = choose(4, 24, dtype, True)
    allow_tf32(True)
    assert choose(4, 24, dtype, True) == off, family  # the whole configuration, not only DOT_PREC
    assert _precisions(off) == {"tf32"}  # Triton ignores it for fp16/bf16 inputs


@pytest.mark.skipif(not NEW_API, reason="torch < 2.9 has no fp32_precision switch")
def test_the_new_torch_switch_counts_too():
    saved = MATMUL.fp32_precision
    try:
        MATMUL.fp32_precision = "tf32"
        assert persistent.dot_precision(torch.float32) == "tf32"
        MATMUL.fp32_precision = "ieee"
        assert persistent.dot_precision(torch.float32) == "ieee"
    finally:
        MATMUL.fp32_precision = saved


def _spy(monkeypatch, module, seen):
    real = module.launch

    def launch(kernel, grid, args, cfg, *rest, **kw):
        seen.append(cfg["DOT_PREC"])
        return real(kernel, grid, args, cfg, *rest, **kw)

    monkeypatch.setattr(module, "launch", launch)


@pytest.mark.parametrize("on", [False, True])
def test_launches_get_the_precision_in_forward_and_backward(on, allow_tf32, monkeypatch):
    """All three ops' forward and backward kernels are launched with the precision chosen at the
    forward; under the interpreter the fp32 results are the same either way."""
    seen: list[str] = []
    for module in (lstm_split, gru_op, elman_op):
        _spy(monkeypatch, module, seen)
    B, T, H = 2, 3, 8
    g = torch.Generator().manual_seed(0)
    runs = {"lstm": (lstm_op.lstm_sequence_forward, 4), "gru": (gru_op.gru_sequence_forward, 3),
            "elman": (elman_op.elman_sequence_forward, 1)}
    for name, (fn, gates) in runs.items():
        gi = torch.randn(B, T, gates * H, generator=g).to(DEVICE).requires_grad_()
        w = (torch.randn(gates * H, H, generator=g) / H ** 0.5).to(DEVICE).requires_grad_()
        allow_tf32(on)
        y = fn(gi, w)[0]
        allow_tf32(not on)  # the backward keeps the forward's choice
        y.sum().backward()
        assert seen == ["tf32" if on else "ieee"] * 2, name  # one forward, one backward launch
        allow_tf32(False)
        if DEVICE == "cpu":  # the interpreter's fp32 product is fp32 whatever DOT_PREC says
            torch.testing.assert_close(y, fn(gi.detach(), w.detach())[0], atol=0, rtol=0)
        seen.clear()


def test_auto_does_not_change_with_the_switch(allow_tf32):
    """Whether the fused fp32-TF32 path beats cuDNN is unmeasured: ``auto`` keeps fp32 on cuDNN."""
    layers = [rnnkit.LSTM(8, 8), rnnkit.GRU(8, 8), rnnkit.RNN(8, 8)]
    choices = {}
    for on in (False, True):
        allow_tf32(on)
        choices[on] = [dispatch.auto_takes_triton(layer, dt) for layer in layers
                       for dt in (torch.float32, torch.float16, torch.bfloat16)]
    assert choices[True] == choices[False]
    assert not any(choices[True][0::3])  # fp32: never the fused kernels
