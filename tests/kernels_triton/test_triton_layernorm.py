"""Fused LayerNorm-LSTM/GRU (rnnkit/kernels/{lstm,gru}/ln_op.py, whole-row Triton kernels).

The oracle is the cells' own step functions (rnnkit/cells/layernorm.py) in a loop
(``ln_*_sequence_ref``) in float64; the fused op runs in fp32 (and fp16) under the Triton
interpreter on CPU (conftest.py). Checked: outputs, final states and the gradient of every input
(gi, W_hh, gamma_hh, gamma_c, beta_c / bias_hh, h0, c0) with lengths, with and without an initial
state, bias=False, the recurrent dropout mask, several H (non-powers of two), batch 1 and a batch
over two programs. Then layers: ``backend="triton"`` over LayerNorm cells equals ``backend="loop"``
(outputs, states, every parameter's gradient), VariationalDropout with the same seed; Zoneout and
oversized H are refused with one line; ``auto`` never takes the LayerNorm kernels.
"""

import pytest
import torch

import rnnkit
from rnnkit.cells import LayerNormGRUCell, LayerNormLSTMCell
from rnnkit.cells.regularized import VariationalDropout, Zoneout
from rnnkit.kernels import dispatch
from rnnkit.kernels.gru.ln_op import ln_gru_sequence_forward, ln_gru_sequence_ref
from rnnkit.kernels.lstm.ln_op import ln_lstm_sequence_forward, ln_lstm_sequence_ref

f16, f32, f64 = torch.float16, torch.float32, torch.float64
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # as conftest.py: compiled or interpreted


def _inputs(cell, B, T, H, init, bias, hmask, lengths, seed=0):
    """Differentiable float64 inputs of a LayerNorm op and its keyword arguments."""
    G = (4 if cell == "lstm" else 3) * H
    g = torch.Generator().manual_seed(seed)

    def r(*shape, scale=1.0, shift=0.0):
        return (shift + scale * torch.randn(*shape, generator=g, dtype=f64)).to(DEVICE)

    # gains away from 1 and shifts away from 0, so a dropped or misplaced parameter shows
    args = [r(B, T, G), r(G, H, scale=H ** -0.5), r(G, scale=0.3, shift=1.0)]
    if cell == "lstm":
        args += [r(H, scale=0.3, shift=1.0), r(H, scale=0.3) if bias else None,
                 r(B, H) if init else None, r(B, H) if init else None]
    else:
        args += [r(G, scale=0.3) if bias else None, r(B, H) if init else None]
    kw = {"lengths": torch.tensor(lengths, device=DEVICE) if lengths else None}
    if hmask:
        kw["hmask"] = ((torch.rand(B, H, generator=g) > 0.3).double() / 0.7).to(DEVICE)
    return args, kw


def _run(fn, args, kw, dtype, seed=1):
    """Outputs, final state(s) and the gradient of a fixed random projection of them w.r.t. every
    given input (None inputs skipped)."""
    xs = [a.detach().to(dtype).requires_grad_() if a is not None else None for a in args]
    y, final = fn(*xs, **kw)
    outs = [y] + (list(final) if isinstance(final, tuple) else [final])
    g = torch.Generator().manual_seed(seed)
    loss = sum((o.double() * torch.randn(o.shape, generator=g, dtype=f64).to(DEVICE)).sum() for o in outs)
    given = [x for x in xs if x is not None]
    return outs + list(torch.autograd.grad(loss, given))


OPS = {"lstm": (ln_lstm_sequence_forward, ln_lstm_sequence_ref),
       "gru": (ln_gru_sequence_forward, ln_gru_sequence_ref)}
# B, T, H, init, bias, hmask, lengths: batch 1, non-powers of two, bias=False, no initial state,
# the recurrent dropout mask, padding, and B = 17 over two programs of 16 rows
CASES = [(1, 4, 7, False, True, False, None),
         (3, 5, 20, True, True, False, [5, 2, 4]),
         (2, 3, 16, True, False, True, None),
         (17, 3, 5, True, True, True, [3, 1, 2] * 5 + [3, 1])]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "B{}T{}H{}-init{:d}-bias{:d}-hm{:d}-len{:d}".format(
    *c[:3], c[3], c[4], c[5], c[6] is not None))
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_fused_layernorm_matches_the_cell_loop_with_every_gradient(cell, case, kt):
    B, T, H, init, bias, hmask, lengths = case
    args, kw = _inputs(cell, B, T, H, init, bias, hmask, lengths)
    fused, ref = OPS[cell]
    got = _run(fused, args, kw, f32)
    want = _run(ref, args, kw, f64)
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want)):
        assert a.dtype == f32 and torch.isfinite(a).all(), k
        torch.testing.assert_close(a.double(), b, **kt.tol[f32], msg=f"{cell} output/grad #{k}")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_fused_layernorm_fp16(cell, kt):
    args, kw = _inputs(cell, 3, 4, 20, True, True, False, [4, 1, 3])
    fused, ref = OPS[cell]
    got = _run(fused, args, kw, f16)
    want = _run(ref, args, kw, f64)
    for k, (a, b) in enumerate(zip(got, want)):
        assert a.dtype == f16, k
        torch.testing.assert_close(a.double(), b, **kt.tol[f16], msg=f"{cell} output/grad #{k}")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_fused_layernorm_inference_and_partial_gradients(cell, kt):
    args, kw = _inputs(cell, 2, 4, 9, True, True, False, [4, 3])
    fused, ref = OPS[cell]
    want = _run(ref, args, kw, f64)
    with torch.no_grad():
        y, _ = fused(*[a.float() if a is not None else None for a in args], **kw)
    torch.testing.assert_close(y.double(), want[0], **kt.tol[f32])
    # only W_hh requires a gradient: the others get none, W_hh's equals the loop's
    xs = [a.float() if a is not None else None for a in args]
    xs[1].requires_grad_()
    y, final = fused(*xs, **kw)
    outs = [y] + (list(final) if isinstance(final, tuple) else [final])
    g = torch.Generator().manual_seed(1)
    loss = sum((o.double() * torch.randn(o.shape, generator=g, dtype=f64)).sum() for o in outs)
    (dw,) = torch.autograd.grad(loss, [xs[1]])
    torch.testing.assert_close(dw.double(), want[len(outs) + 1], **kt.tol[f32])


def test_fused_layernorm_refuses_bad_inputs():
    gi = torch.randn(2, 3, 4 * 8, device=DEVICE)
    w = torch.randn(32, 8, device=DEVICE)
    with pytest.raises(ValueError, match="gamma_hh must have shape"):
        ln_lstm_sequence_forward(gi, w, torch.ones(8, device=DEVICE), torch.ones(8, device=DEVICE))
    with pytest.raises(ValueError, match="gamma_c must have shape"):
        ln_lstm_sequence_forward(gi, w, torch.ones(32, device=DEVICE), torch.ones(7, device=DEVICE))
    with pytest.raises(ValueError, match="bias_hh must have shape"):
        ln_gru_sequence_forward(gi[..., :24], w[:24], torch.ones(24, device=DEVICE), torch.ones(8, device=DEVICE))
    with pytest.raises(ValueError, match=r"lengths must be in \[1, T=3\]"):
        ln_gru_sequence_forward(gi[..., :24], w[:24], torch.ones(24, device=DEVICE),
                                lengths=torch.tensor([0, 3], device=DEVICE))
    H = 256  # fp32 training: all of W_hh in one program does not fit
    big = torch.randn(1, 2, 4 * H, device=DEVICE, requires_grad=True)
    with pytest.raises(ValueError, match="LayerNorm-LSTM does not fit this shape"):
        ln_lstm_sequence_forward(big, torch.randn(4 * H, H, device=DEVICE), torch.ones(4 * H, device=DEVICE),
                                 torch.ones(H, device=DEVICE))


# ---------------------------------------------------------------- layers

def _pair(factory, seed=0, **kw):
    torch.manual_seed(seed)
    fused = rnnkit.Recurrent(factory, backend="triton", batch_first=True, **kw).to(DEVICE)
    loop = rnnkit.Recurrent(factory, backend="loop", batch_first=True, **kw).to(DEVICE)
    loop.load_state_dict(fused.state_dict())
    with torch.no_grad():  # gains and shifts away from their 1/0 initialisation
        for (name, p), q in zip(fused.named_parameters(), loop.parameters()):
            if name.split(".")[-1].startswith(("gamma", "beta", "bias")):
                p.add_(0.3 * torch.randn_like(p))
                q.copy_(p)
    return fused, loop


@pytest.mark.parametrize("cls", [LayerNormLSTMCell, LayerNormGRUCell])
@pytest.mark.parametrize("bias", [True, False])
def test_layers_of_layernorm_cells_equal_the_loop(cls, bias, kt):
    fused, loop = _pair(lambda d: cls(d, 6, bias=bias), input_size=5, num_layers=2, bidirectional=True)
    x = torch.randn(3, 4, 5, device=DEVICE)
    lengths = torch.tensor([4, 1, 3], device=DEVICE)
    state = torch.randn(4, 3, 6, device=DEVICE)
    if cls is LayerNormLSTMCell:
        state = (state, torch.randn(4, 3, 6, device=DEVICE))
    assert dispatch.choose_backend(fused, "triton", x) == "triton"
    got = kt.grads(fused, x, lengths, state)
    want = kt.grads(loop, x, lengths, state)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        torch.testing.assert_close(g, w, **kt.tol[f32], msg=f"{cls.__name__} output/grad #{k}")


@pytest.mark.parametrize("cls", [LayerNormLSTMCell, LayerNormGRUCell])
def test_layernorm_cells_in_variational_dropout_equal_the_loop(cls, kt):
    fused, loop = _pair(lambda d: VariationalDropout(cls(d, 7), p_in=0.3, p_h=0.4), input_size=5)
    x = torch.randn(2, 5, 5, device=DEVICE)
    lengths = torch.tensor([5, 3], device=DEVICE)
    torch.manual_seed(3)  # the same masks: the wrappers draw them in the same order either way
    got = kt.grads(fused, x, lengths)
    torch.manual_seed(3)
    want = kt.grads(loop, x, lengths)
    for k, (g, w) in enumerate(zip(got, want)):
        torch.testing.assert_close(g, w, **kt.tol[f32], msg=f"{cls.__name__} output/grad #{k}")


def test_layernorm_refusals_and_auto():
    x = torch.randn(1, 2, 3, device=DEVICE)
    zoned = rnnkit.Recurrent(lambda d: Zoneout(LayerNormLSTMCell(d, 4), 0.1), input_size=3, backend="triton")
    with pytest.raises(dispatch.BackendUnavailable, match="zoneout around a LayerNorm cell is not fused"):
        zoned.to(DEVICE)(x)
    for cls in (LayerNormLSTMCell, LayerNormGRUCell):
        layer = rnnkit.Recurrent(lambda d: cls(d, 4), input_size=3).to(DEVICE)
        for dtype in (torch.bfloat16, f16, f32):  # never auto: no GPU timing yet
            assert dispatch.choose_backend(layer.to(dtype), "auto", x.to(dtype)) != "triton"
    big = rnnkit.Recurrent(lambda d: LayerNormGRUCell(d, 300), input_size=3, backend="triton").to(DEVICE)
    with pytest.raises(dispatch.BackendUnavailable, match="LayerNorm-GRU does not fit this shape"):
        big(x)
