"""Fused zoneout in the Triton Elman RNN, GRU and LSTM kernels (split layout).

Per family: the kernel against its twin (the eager reference with the same keep-weights d) and the
float64 oracle, outputs, final state and every gradient, in training (0/1 draws) and eval (the
rate p); lengths; zoneout with the recurrent dropout mask; the twin against rnnkit's own
``Zoneout`` loop in float64 with the masks the loop drew. Then layers: ``backend="triton"`` with
Zoneout cells (and Zoneout/VariationalDropout nestings) equals ``backend="loop"`` with the same
seed, and ``auto`` never takes it. Runs under the Triton interpreter on CPU (see conftest.py)."""

import copy
from functools import partial

import pytest
import torch

import rnnkit
from rnnkit.cells.base import as_state_tuple
from rnnkit.cells.regularized import VariationalDropout, Zoneout
from rnnkit.kernels import dispatch
from rnnkit.kernels.elman.op import elman_sequence_forward
from rnnkit.kernels.elman.reference import elman_sequence_ref
from rnnkit.kernels.gru.op import gru_sequence_forward
from rnnkit.kernels.gru.reference import gru_sequence_ref
from rnnkit.kernels.lstm.op import lstm_sequence_forward
from rnnkit.kernels.lstm.reference import lstm_sequence_ref

f16, f32, f64 = torch.float16, torch.float32, torch.float64
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # as conftest.py: compiled or interpreted
P = 0.35  # zoneout rate of the kernel tests: both 0 and 1 occur often in a few steps


def _keep(B, T, H, mode, seed):
    """Keep-weights d: 0/1 draws (training) or the rate itself, as a scalar to broadcast (eval)."""
    if mode == "eval":
        return torch.tensor(P, dtype=f64, device=DEVICE)
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(B, T, H, generator=g) < P).double().to(DEVICE)


def _lengths(use_lengths, B, T):
    return torch.tensor([T, 2, T - 2, 1][:B], device=DEVICE) if use_lengths else None


def _check(got, twin, oracle, names, dtype, kt):
    for name, g, t, o in zip(names, got, twin, oracle):
        assert g.dtype == dtype, name
        if dtype == f32:  # in fp16 the twin rounds every step: the rule is the check
            torch.testing.assert_close(g, t, **kt.tol[dtype], msg=name)
        kt.rule(g, t, o, dtype, name)


def _recording(zoneout):
    """Record every mask the wrapper draws (the loop's own draws, in its order)."""
    draws = []
    sample = zoneout.sample_bernoulli

    def record(shape, p, device):
        m = sample(shape, p, device)
        draws.append(m)
        return m

    zoneout.sample_bernoulli = record
    return draws


def _padded(draws, T):
    """(B, steps, S) of the loop's per-step masks, padded with zeros to T steps (never read there)."""
    d = torch.stack(draws, dim=1).double()
    return torch.cat([d, d.new_zeros(d.shape[0], T - d.shape[1], d.shape[2])], dim=1)


# ---------------------------------------------------------------- Elman RNN

ELMAN_NAMES = ("y", "h_n", "grad gi", "grad w_hh", "grad h0")


def _elman_inputs(B, T, H, seed=0, relu=False):
    g = torch.Generator().manual_seed(seed)
    gi = torch.randn(B, T, H, generator=g, dtype=f64)
    w = torch.randn(H, H, generator=g, dtype=f64) * ((0.7 if relu else 1.5) / H ** 0.5)
    h0 = torch.randn(B, H, generator=g, dtype=f64) * 0.5
    return [x.to(DEVICE) for x in (gi, w, h0.abs() if relu else h0)]


def _elman_run(fn, gi, w, h0, dtype, lengths=None):
    """(y, h_n, dgi, dw, dh0) of fn in dtype for L = <dy, y> + <dh, h_n>."""
    g = torch.Generator().manual_seed(100)
    B, T, H = gi.shape
    dy, dh = (torch.randn(*s, generator=g, dtype=f64).to(DEVICE) for s in ((B, T, H), (B, H)))
    xs = [x.to(dtype).requires_grad_() for x in (gi, w, h0)]
    y, h = fn(*xs, lengths)
    loss = (y.double() * dy).sum() + (h.double() * dh).sum()
    return (y, h) + torch.autograd.grad(loss, xs)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("use_lengths", [False, True])
@pytest.mark.parametrize("dtype,nonlinearity", [(f32, "tanh"), (f16, "tanh"), (f32, "relu")])
def test_elman_zoneout_matches_twin_and_oracle(mode, use_lengths, dtype, nonlinearity, kt):
    """H=40: two programs of 32 units, the second partial; B=3 with lengths (5, 2, 3)."""
    B, T, H = 3, 5, 40
    relu = nonlinearity == "relu"
    gi, w, h0 = _elman_inputs(B, T, H, seed=1, relu=relu)
    zone = _keep(B, T, H, mode, seed=2)
    lengths = _lengths(use_lengths, B, T)
    fused = partial(elman_sequence_forward, nonlinearity=nonlinearity, zone=zone)
    ref = partial(elman_sequence_ref, nonlinearity=nonlinearity, zone=zone)
    got = _elman_run(fused, gi, w, h0, dtype, lengths)
    twin = _elman_run(ref, gi, w, h0, dtype, lengths)
    oracle = _elman_run(ref, gi, w, h0, f64, lengths)
    plain = _elman_run(partial(elman_sequence_ref, nonlinearity=nonlinearity), gi, w, h0, f64, lengths)
    for o, p in zip(oracle, plain):  # zoneout changes every output and gradient here
        assert not torch.allclose(o, p), "zoneout had no effect"
    _check(got, twin, oracle, ELMAN_NAMES, dtype, kt)
    if lengths is not None:  # padded steps: output 0, no gradient into gi
        for i, n in enumerate(lengths.tolist()):
            assert torch.count_nonzero(got[0][i, n:]) == 0 and torch.count_nonzero(got[2][i, n:]) == 0


def test_elman_zoneout_with_recurrent_dropout_mask(kt):
    """hmask and zoneout together: the product reads h * m, the zoneout sum h itself."""
    B, T, H = 3, 5, 40
    gi, w, h0 = _elman_inputs(B, T, H, seed=3)
    g = torch.Generator().manual_seed(4)
    m = ((torch.rand(B, H, generator=g) > 0.3).double() / 0.7).to(DEVICE)
    zone = _keep(B, T, H, "train", seed=5)
    lengths = _lengths(True, B, T)
    got = _elman_run(partial(elman_sequence_forward, hmask=m, zone=zone), gi, w, h0, f32, lengths)
    twin = _elman_run(partial(elman_sequence_ref, hmask=m, zone=zone), gi, w, h0, f32, lengths)
    oracle = _elman_run(partial(elman_sequence_ref, hmask=m, zone=zone), gi, w, h0, f64, lengths)
    _check(got, twin, oracle, ELMAN_NAMES, f32, kt)


def test_elman_zoneout_refuses_bad_weights():
    gi, w, _ = [x.float() for x in _elman_inputs(2, 3, 7)]
    with pytest.raises(ValueError, match="zone must broadcast to"):
        elman_sequence_forward(gi, w, zone=torch.zeros(2, 4, 7, device=DEVICE))


# ---------------------------------------------------------------- GRU

GRU_NAMES = ("y", "h_n", "grad gi", "grad w_hh", "grad b_hn", "grad h0")


def _gru_inputs(B, T, H, seed=0):
    g = torch.Generator().manual_seed(seed)
    gi = torch.randn(B, T, 3 * H, generator=g, dtype=f64)
    w = torch.randn(3 * H, H, generator=g, dtype=f64) * (1.5 / H ** 0.5)
    b_hn = torch.randn(H, generator=g, dtype=f64) * 0.5
    h0 = torch.randn(B, H, generator=g, dtype=f64) * 0.5
    return [x.to(DEVICE) for x in (gi, w, b_hn, h0)]


def _gru_run(fn, gi, w, b_hn, h0, dtype, lengths=None):
    """(y, h_n, dgi, dw, db_hn, dh0) of fn in dtype for L = <dy, y> + <dh, h_n>."""
    g = torch.Generator().manual_seed(100)
    B, T, H = gi.shape[0], gi.shape[1], w.shape[1]
    dy, dh = (torch.randn(*s, generator=g, dtype=f64).to(DEVICE) for s in ((B, T, H), (B, H)))
    xs = [x.to(dtype).requires_grad_() for x in (gi, w, b_hn, h0)]
    y, h = fn(*xs, lengths)
    loss = (y.double() * dy).sum() + (h.double() * dh).sum()
    return (y, h) + torch.autograd.grad(loss, xs)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("use_lengths", [False, True])
@pytest.mark.parametrize("dtype", [f32, f16])
def test_gru_zoneout_matches_twin_and_oracle(mode, use_lengths, dtype, kt):
    """H=40: two programs of 32 units, the second partial; B=3 with lengths (5, 2, 3)."""
    B, T, H = 3, 5, 40
    gi, w, b_hn, h0 = _gru_inputs(B, T, H, seed=1)
    zone = _keep(B, T, H, mode, seed=2)
    lengths = _lengths(use_lengths, B, T)
    got = _gru_run(partial(gru_sequence_forward, zone=zone), gi, w, b_hn, h0, dtype, lengths)
    twin = _gru_run(partial(gru_sequence_ref, zone=zone), gi, w, b_hn, h0, dtype, lengths)
    oracle = _gru_run(partial(gru_sequence_ref, zone=zone), gi, w, b_hn, h0, f64, lengths)
    plain = _gru_run(gru_sequence_ref, gi, w, b_hn, h0, f64, lengths)
    for o, p in zip(oracle, plain):
        assert not torch.allclose(o, p), "zoneout had no effect"
    _check(got, twin, oracle, GRU_NAMES, dtype, kt)
    if lengths is not None:
        for i, n in enumerate(lengths.tolist()):
            assert torch.count_nonzero(got[0][i, n:]) == 0 and torch.count_nonzero(got[2][i, n:]) == 0


def test_gru_zoneout_with_recurrent_dropout_mask(kt):
    """hmask and zoneout together: the product reads h * m, the z-interpolation and zoneout h."""
    B, T, H = 3, 5, 40
    gi, w, b_hn, h0 = _gru_inputs(B, T, H, seed=3)
    g = torch.Generator().manual_seed(4)
    m = ((torch.rand(B, H, generator=g) > 0.3).double() / 0.7).to(DEVICE)
    zone = _keep(B, T, H, "train", seed=5)
    lengths = _lengths(True, B, T)
    got = _gru_run(partial(gru_sequence_forward, hmask=m, zone=zone), gi, w, b_hn, h0, f32, lengths)
    twin = _gru_run(partial(gru_sequence_ref, hmask=m, zone=zone), gi, w, b_hn, h0, f32, lengths)
    oracle = _gru_run(partial(gru_sequence_ref, hmask=m, zone=zone), gi, w, b_hn, h0, f64, lengths)
    _check(got, twin, oracle, GRU_NAMES, f32, kt)


def test_gru_zoneout_is_split_layout_only():
    gi, w, b_hn, _ = [x.float() for x in _gru_inputs(2, 3, 7)]
    with pytest.raises(ValueError, match="split layout only"):
        gru_sequence_forward(gi, w, b_hn, zone=torch.tensor(0.2, device=DEVICE), kernel="rows")
    with pytest.raises(ValueError, match="zone must broadcast to"):
        gru_sequence_forward(gi, w, b_hn, zone=torch.zeros(3, 1, 1, device=DEVICE))


# ---------------------------------------------------------------- LSTM

LSTM_NAMES = ("y", "h_n", "c_n", "grad gi", "grad w_hh", "grad h0", "grad c0")


def _lstm_inputs(B, T, H, seed=0):
    g = torch.Generator().manual_seed(seed)
    gi = torch.randn(B, T, 4 * H, generator=g, dtype=f64)
    w = torch.randn(4 * H, H, generator=g, dtype=f64) * (1.5 / H ** 0.5)
    h0 = torch.randn(B, H, generator=g, dtype=f64) * 0.5
    c0 = torch.randn(B, H, generator=g, dtype=f64)
    return [x.to(DEVICE) for x in (gi, w, h0, c0)]


def _lstm_run(fn, gi, w, h0, c0, dtype, lengths=None):
    """(y, h_n, c_n, dgi, dw, dh0, dc0) of fn in dtype for L = <dy, y> + <dh, h_n> + <dc, c_n>."""
    g = torch.Generator().manual_seed(100)
    B, T, H = gi.shape[0], gi.shape[1], w.shape[1]
    dy, dh, dc = (torch.randn(*s, generator=g, dtype=f64).to(DEVICE) for s in ((B, T, H), (B, H), (B, H)))
    xs = [x.to(dtype).requires_grad_() for x in (gi, w, h0, c0)]
    y, (h, c) = fn(*xs, lengths)
    loss = (y.double() * dy).sum() + (h.double() * dh).sum() + (c.double() * dc).sum()
    return (y, h, c) + torch.autograd.grad(loss, xs)


def _lstm_zone(B, T, H, mode, which, seed):
    """(zone_h, zone_c): both zoned, or only h, or only c (the other None)."""
    z_h, z_c = _keep(B, T, H, mode, seed), _keep(B, T, H, mode, seed + 1)
    if mode == "eval":
        z_c = torch.tensor(0.6, dtype=f64, device=DEVICE)  # another rate for c
    return {"hc": (z_h, z_c), "h": (z_h, None), "c": (None, z_c)}[which]


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("use_lengths", [False, True])
@pytest.mark.parametrize("dtype,which", [(f32, "hc"), (f32, "h"), (f32, "c"), (f16, "hc")])
def test_lstm_zoneout_matches_twin_and_oracle(which, mode, use_lengths, dtype, kt):
    """H=40: two programs of 32 units, the second partial; B=3 with lengths (5, 2, 3); h and c
    zoned together or alone (the kernels compile each case on its own)."""
    B, T, H = 3, 5, 40
    gi, w, h0, c0 = _lstm_inputs(B, T, H, seed=1)
    zone = _lstm_zone(B, T, H, mode, which, seed=2)
    lengths = _lengths(use_lengths, B, T)
    got = _lstm_run(partial(lstm_sequence_forward, zone=zone), gi, w, h0, c0, dtype, lengths)
    twin = _lstm_run(partial(lstm_sequence_ref, zone=zone), gi, w, h0, c0, dtype, lengths)
    oracle = _lstm_run(partial(lstm_sequence_ref, zone=zone), gi, w, h0, c0, f64, lengths)
    plain = _lstm_run(lstm_sequence_ref, gi, w, h0, c0, f64, lengths)
    for o, p in zip(oracle, plain):
        assert not torch.allclose(o, p), "zoneout had no effect"
    _check(got, twin, oracle, LSTM_NAMES, dtype, kt)
    if lengths is not None:
        for i, n in enumerate(lengths.tolist()):
            assert torch.count_nonzero(got[0][i, n:]) == 0 and torch.count_nonzero(got[3][i, n:]) == 0


def test_lstm_zoneout_with_recurrent_dropout_mask_and_single_layout(kt):
    """hmask and zoneout together, in the single-program layout (the split kernels with one
    program owning every unit), which takes zoneout too."""
    B, T, H = 3, 5, 24
    gi, w, h0, c0 = _lstm_inputs(B, T, H, seed=3)
    g = torch.Generator().manual_seed(4)
    m = ((torch.rand(B, H, generator=g) > 0.3).double() / 0.7).to(DEVICE)
    zone = _lstm_zone(B, T, H, "train", "hc", seed=5)
    lengths = _lengths(True, B, T)
    got = _lstm_run(partial(lstm_sequence_forward, hmask=m, zone=zone, kernel="single"), gi, w, h0, c0, f32,
                    lengths)
    twin = _lstm_run(partial(lstm_sequence_ref, hmask=m, zone=zone), gi, w, h0, c0, f32, lengths)
    oracle = _lstm_run(partial(lstm_sequence_ref, hmask=m, zone=zone), gi, w, h0, c0, f64, lengths)
    _check(got, twin, oracle, LSTM_NAMES, f32, kt)


def test_lstm_zoneout_is_split_kernels_only():
    gi, w, _, _ = [x.float() for x in _lstm_inputs(2, 3, 7)]
    p = torch.tensor(0.2, device=DEVICE)
    with pytest.raises(ValueError, match="split kernels only"):
        lstm_sequence_forward(gi, w, zone=(p, None), kernel="rows")
    with pytest.raises(ValueError, match="zone_c must broadcast to"):
        lstm_sequence_forward(gi, w, zone=(None, torch.zeros(2, 3, 8, device=DEVICE)))
    for bad in ((p,), torch.zeros(2, 3, 7, device=DEVICE)):
        with pytest.raises(ValueError, match="zone must be None or"):
            lstm_sequence_forward(gi, w, zone=bad)


# ---------------------------------------------------------------- twins against rnnkit's Zoneout loop

def _loop_layer(cell, p, D=4, H=6, seed=0):
    torch.manual_seed(seed)
    layer = rnnkit.Recurrent(lambda d: Zoneout(cell(d, H), p), input_size=D, batch_first=True,
                             backend="loop").double().to(DEVICE)
    return layer, layer.cells[0]


def _loop_and_twin(layer, twin, x, state, lengths, mode):
    """Outputs and gradients (x, initial state, parameters) of the loop layer and of ``twin(x,
    state, zone)``, given the masks the loop drew (training) or the rates (eval): one keep-weight
    tensor or None per state tensor. The loop's draws are read as one per step and zoned tensor,
    in state order (h, then c): the twin agreeing with the loop confirms that order."""
    getattr(layer, mode)()
    zo = layer.cells[0]
    draws = _recording(zo)
    leaves = [x.clone().requires_grad_(), *(s.clone().requires_grad_() for s in state)]
    hx = tuple(s.unsqueeze(0) for s in leaves[1:])
    y, final = layer(leaves[0], hx if len(hx) > 1 else hx[0], lengths=lengths)
    loop_out = [y, *(f[0] for f in as_state_tuple(final))]
    active = [k for k, p in enumerate(zo.p) if p]
    zone = [None] * len(zo.p)
    for j, k in enumerate(active):
        if mode == "train":
            zone[k] = _padded(draws[j::len(active)], x.shape[1])
        else:
            zone[k] = torch.tensor(zo.p[k], dtype=f64, device=DEVICE)
    if mode == "train":
        assert len(draws) == len(active) * int(lengths.max())
    twin_out = twin(leaves[0], leaves[1:], zone)
    params = [p for _, p in sorted(layer.named_parameters())]
    g = torch.Generator().manual_seed(9)
    weights = [torch.randn(t.shape, generator=g, dtype=f64).to(DEVICE) for t in loop_out]
    got = []
    for outs in (loop_out, twin_out):
        loss = sum((o * wt).sum() for o, wt in zip(outs, weights))
        got.append(list(outs) + list(torch.autograd.grad(loss, leaves + params)))
    return got


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_elman_twin_equals_the_zoneout_loop(mode, kt):
    """float64: the reference with the loop's own masks gives the loop's outputs and gradients."""
    layer, zo = _loop_layer(rnnkit.RNNCell, 0.4)
    cell = zo.cell
    B, T = 4, 7
    x = torch.randn(B, T, 4, dtype=f64, device=DEVICE)
    h0 = torch.randn(B, 6, dtype=f64, device=DEVICE)
    lengths = torch.tensor([5, 2, 4, 1], device=DEVICE)  # the loop runs max(lengths) = 5 < T steps

    def twin(x, state, zone):
        gi = x @ cell.weight_ih.t() + cell.bias_ih + cell.bias_hh
        y, h = elman_sequence_ref(gi, cell.weight_hh, state[0], lengths, zone=zone[0])
        return y, h

    loop, ref = _loop_and_twin(layer, twin, x, (h0,), lengths, mode)
    for i, (a, b) in enumerate(zip(loop, ref)):
        torch.testing.assert_close(a, b, **kt.tol[f64], msg=f"tensor {i}")


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_gru_twin_equals_the_zoneout_loop(mode, kt):
    layer, zo = _loop_layer(rnnkit.GRUCell, 0.4)
    cell = zo.cell
    H = 6
    B, T = 4, 7
    x = torch.randn(B, T, 4, dtype=f64, device=DEVICE)
    h0 = torch.randn(B, H, dtype=f64, device=DEVICE)
    lengths = torch.tensor([5, 2, 4, 1], device=DEVICE)

    def twin(x, state, zone):
        gi = x @ cell.weight_ih.t() + cell.bias_ih + torch.cat([cell.bias_hh[:2 * H], cell.bias_hh.new_zeros(H)])
        return gru_sequence_ref(gi, cell.weight_hh, cell.bias_hh[2 * H:], state[0], lengths, zone=zone[0])

    loop, ref = _loop_and_twin(layer, twin, x, (h0,), lengths, mode)
    for i, (a, b) in enumerate(zip(loop, ref)):
        torch.testing.assert_close(a, b, **kt.tol[f64], msg=f"tensor {i}")


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("p", [(0.3, 0.5), (0.0, 0.5), (0.4, 0.0)])
def test_lstm_twin_equals_the_zoneout_loop(mode, p, kt):
    """The loop draws h's mask, then c's, at every step (one of them when the other rate is 0)."""
    layer, zo = _loop_layer(rnnkit.LSTMCell, p)
    cell = zo.cell
    B, T, H = 4, 7, 6
    x = torch.randn(B, T, 4, dtype=f64, device=DEVICE)
    h0, c0 = (torch.randn(B, H, dtype=f64, device=DEVICE) for _ in range(2))
    lengths = torch.tensor([5, 2, 4, 1], device=DEVICE)

    def twin(x, state, zone):
        gi = x @ cell.weight_ih.t() + cell.bias_ih + cell.bias_hh
        y, (h, c) = lstm_sequence_ref(gi, cell.weight_hh, state[0], state[1], lengths, zone=tuple(zone))
        return y, h, c

    loop, ref = _loop_and_twin(layer, twin, x, (h0, c0), lengths, mode)
    for i, (a, b) in enumerate(zip(loop, ref)):
        torch.testing.assert_close(a, b, **kt.tol[f64], msg=f"tensor {i}")


# ---------------------------------------------------------------- layers

WRAPS = {
    "zoneout": lambda c, p: Zoneout(c, p),
    "zoneout(variational)": lambda c, p: Zoneout(VariationalDropout(c, p_in=0.2, p_h=0.3), p),
    "variational(zoneout)": lambda c, p: VariationalDropout(Zoneout(c, p), p_in=0.2, p_h=0.3),
}
# The wrappers are unwrapped and their masks drawn by cell-independent code (fused_layer.fused_scan);
# each kernel's zoneout with and without the recurrent-dropout mask is checked above for every cell,
# dtype and flag. So the layer cases cover each cell with both wrappers, each nesting order on two
# cells, bare zoneout on two, and the LSTM zoning only c: six cases rather than the full nine-plus-one
# (each takes 5-12 s under the interpreter).
LAYER_CASES = [(rnnkit.RNNCell, 0.3, "zoneout(variational)"),
               (rnnkit.GRUCell, 0.3, "zoneout"), (rnnkit.GRUCell, 0.3, "variational(zoneout)"),
               (rnnkit.LSTMCell, (0.0, 0.5), "zoneout"),
               (rnnkit.LSTMCell, (0.2, 0.5), "zoneout(variational)"),
               (rnnkit.LSTMCell, (0.2, 0.5), "variational(zoneout)")]


@pytest.mark.parametrize("cell,p,wrap", LAYER_CASES)
def test_triton_layer_with_zoneout_equals_loop(cell, p, wrap, kt):
    """Same seed, same masks: the fused layer draws where the loop draws (per step, h before c),
    so outputs, final state and every gradient agree in training; in eval both use the rates.
    Two layers, both directions, lengths whose maximum is below T (the loop runs fewer steps)."""
    torch.manual_seed(5)
    fused = rnnkit.Recurrent(lambda d: WRAPS[wrap](cell(d, 20), p), input_size=5, num_layers=2,
                             bidirectional=True, batch_first=True, backend="triton").to(DEVICE)
    loop = copy.deepcopy(fused)
    loop.backend = "loop"
    x = torch.randn(3, 7, 5, device=DEVICE)
    lengths = torch.tensor([6, 2, 5], device=DEVICE)
    n = 2 if cell is rnnkit.LSTMCell else 1
    state = tuple(torch.randn(4, 3, 20, device=DEVICE) for _ in range(n))
    state = state if n > 1 else state[0]
    for mode in ("train", "eval"):
        getattr(fused, mode)(), getattr(loop, mode)()
        torch.manual_seed(11)
        got = kt.grads(fused, x, lengths, state)
        torch.manual_seed(11)
        want = kt.grads(loop, x, lengths, state)
        for i, (g, w) in enumerate(zip(got, want)):
            torch.testing.assert_close(g, w, **kt.tol[f32], msg=f"{mode} tensor {i}")
    with torch.no_grad():
        zoned = fused.train()(x, state, lengths=lengths)[0]
        expected = fused.eval()(x, state, lengths=lengths)[0]
    assert not torch.allclose(zoned, expected)  # the draws did something


def test_auto_never_takes_triton_for_zoneout_and_nesting_twice_is_refused():
    """Zoneout is untimed on a GPU: only ``backend="triton"`` on request runs it."""
    for cell in (rnnkit.RNNCell, rnnkit.GRUCell, rnnkit.LSTMCell):
        for wrap in WRAPS.values():
            layer = rnnkit.Recurrent(lambda d: wrap(cell(d, 4), 0.2), input_size=3)
            for dtype in (f16, torch.bfloat16, f32):
                assert not dispatch.auto_takes_triton(layer, dtype), (cell.__name__, dtype)
    twice = rnnkit.Recurrent(lambda d: Zoneout(Zoneout(rnnkit.RNNCell(d, 4), 0.1), 0.2), input_size=3,
                             backend="triton").to(DEVICE)
    with pytest.raises(dispatch.BackendUnavailable, match="VariationalDropout and/or Zoneout"):
        twice(torch.randn(1, 2, 3, device=DEVICE))
