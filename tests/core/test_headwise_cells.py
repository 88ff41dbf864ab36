"""Head-wise (block-diagonal) LSTM/GRU cells (rnnkit/cells/headwise.py).

Oracles: heads=1 is the dense cell bit for bit; heads=k is the dense cell whose W_hh is the
block-diagonal matrix of the blocks (outputs and every gradient, float64, through a layer with
lengths, h0 and both directions); the off-block part has no parameters (its Jacobian and any
update leave it zero).
"""

import pytest
import torch

import rnnkit
from rnnkit.cells import GRUCell, HeadwiseGRUCell, HeadwiseLSTMCell, LSTMCell
from rnnkit.cells.headwise import block_diagonal, headwise_recurrent
from rnnkit.kernels.dispatch import BackendUnavailable

D, H, B, T = 5, 12, 3, 7
PAIRS = [(HeadwiseLSTMCell, LSTMCell, 4), (HeadwiseGRUCell, GRUCell, 3)]
IDS = ["lstm", "gru"]


def _states_equal(a, b):
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    assert len(a) == len(b)
    return all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("hidden", [H, 256])  # 256: where a batched product would round differently
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("ours,dense,ng", PAIRS, ids=IDS)
def test_one_head_is_the_dense_cell_bit_for_bit(ours, dense, ng, bias, hidden):
    torch.manual_seed(0)
    cell = ours(D, hidden, bias=bias, heads=1)
    torch.manual_seed(0)
    ref = dense(D, hidden, bias=bias)
    # same seed, same numbers: torch's init draws survive the (1, G, H) shape
    assert torch.equal(cell.weight_hh[0], ref.weight_hh)
    assert torch.equal(cell.weight_ih, ref.weight_ih)
    xs = torch.randn(T, 16, D)
    s_ours = s_ref = None
    for x in xs:
        s_ours, s_ref = cell(x, s_ours), ref(x, s_ref)
        assert _states_equal(s_ours, s_ref)


@pytest.mark.parametrize("ours,dense,ng", PAIRS, ids=IDS)
def test_one_head_layer_equals_dense_layer_with_gradients(ours, dense, ng):
    torch.manual_seed(1)
    a = rnnkit.Recurrent(lambda d: ours(d, H, heads=1), input_size=D, num_layers=2, backend="loop")
    b = rnnkit.Recurrent(lambda d: dense(d, H), input_size=D, num_layers=2, backend="loop")
    with torch.no_grad():
        for ca, cb in zip(a.cells, b.cells):
            cb.weight_ih.copy_(ca.weight_ih)
            cb.weight_hh.copy_(ca.weight_hh[0])
            cb.bias_ih.copy_(ca.bias_ih)
            cb.bias_hh.copy_(ca.bias_hh)
    x = torch.randn(T, B, D)
    ya, _ = a(x)
    yb, _ = b(x)
    assert torch.equal(ya, yb)
    ya.square().sum().backward()
    yb.square().sum().backward()
    for ca, cb in zip(a.cells, b.cells):
        assert torch.equal(ca.weight_hh.grad[0], cb.weight_hh.grad)
        assert torch.equal(ca.weight_ih.grad, cb.weight_ih.grad)
        assert torch.equal(ca.bias_hh.grad, cb.bias_hh.grad)


def _dense_blocks(grad_dense, k, ng):
    """The diagonal blocks of a dense (ng*H, H) gradient, in the cell's (k, ng*Hh, Hh) layout."""
    hh = H // k
    g = grad_dense.reshape(ng, k, hh, k, hh)  # (gate, row head, a, col head, b)
    return torch.stack([g[:, j, :, j, :].reshape(ng * hh, hh) for j in range(k)])


@pytest.mark.parametrize("k", [2, 3, 4, 12])
@pytest.mark.parametrize("ours,dense,ng", PAIRS, ids=IDS)
def test_k_heads_equal_the_block_diagonal_dense_layer(ours, dense, ng, k):
    torch.manual_seed(2)
    a = rnnkit.Recurrent(lambda d: ours(d, H, heads=k), input_size=D, num_layers=2, bidirectional=True,
                         batch_first=True, backend="loop").double()
    b = rnnkit.Recurrent(lambda d: dense(d, H), input_size=D, num_layers=2, bidirectional=True,
                         batch_first=True, backend="loop").double()
    for i, ca in enumerate(a.cells):
        b.cells[i].load_state_dict(ca.to_dense().state_dict())
    x = torch.randn(B, T, D, dtype=torch.double)
    lengths = torch.tensor([T, 2, 5])
    n_states = 2 if ng == 4 else 1
    h0 = tuple(torch.randn(4, B, H, dtype=torch.double) for _ in range(n_states))
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    h0a = tuple(s.clone().requires_grad_() for s in h0)
    h0b = tuple(s.clone().requires_grad_() for s in h0)
    pub = (lambda s: s) if n_states == 2 else (lambda s: s[0])
    ya, fa = a(xa, pub(h0a), lengths=lengths)
    yb, fb = b(xb, pub(h0b), lengths=lengths)
    torch.testing.assert_close(ya, yb, rtol=1e-12, atol=1e-12)
    fa, fb = (fa, fb) if n_states == 2 else ((fa,), (fb,))
    for s, r in zip(fa, fb):
        torch.testing.assert_close(s, r, rtol=1e-12, atol=1e-12)
    w = torch.randn_like(ya)
    loss_a = (ya * w).sum() + sum(s.square().sum() for s in fa)
    loss_b = (yb * w).sum() + sum(s.square().sum() for s in fb)
    loss_a.backward()
    loss_b.backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-10, atol=1e-12)
    for s, r in zip(h0a, h0b):
        torch.testing.assert_close(s.grad, r.grad, rtol=1e-10, atol=1e-12)
    for ca, cb in zip(a.cells, b.cells):
        assert ca.weight_hh.grad.shape == (k, ng * H // k, H // k)
        torch.testing.assert_close(ca.weight_hh.grad, _dense_blocks(cb.weight_hh.grad, k, ng),
                                   rtol=1e-10, atol=1e-12)
        for name in ("weight_ih", "bias_ih", "bias_hh"):
            torch.testing.assert_close(getattr(ca, name).grad, getattr(cb, name).grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("ours,dense,ng", PAIRS, ids=IDS)
def test_gradcheck_float64(ours, dense, ng):
    torch.manual_seed(3)
    cell = ours(3, 4, heads=2).double()
    x = torch.randn(2, 3, dtype=torch.double, requires_grad=True)
    state = tuple(torch.randn(2, 4, dtype=torch.double, requires_grad=True) for _ in cell.state_sizes)
    params = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)

    def f(x, *rest):
        st = rest[:len(state)]
        out = cell(x, st)
        return out if isinstance(out, tuple) else (out,)

    assert torch.autograd.gradcheck(f, (x, *state) + params)


@pytest.mark.parametrize("ours,dense,ng", PAIRS, ids=IDS)
def test_off_block_part_is_structurally_zero(ours, dense, ng):
    k, hh = 4, H // 4
    torch.manual_seed(4)
    cell = ours(D, H, heads=k).double()
    # head j's h slice drives only head j's gates: the recurrent Jacobian is block-diagonal
    h = torch.randn(H, dtype=torch.double)
    jac = torch.autograd.functional.jacobian(lambda v: cell.recurrent(v.unsqueeze(0))[0], h)  # (ng*H, H)
    dense_w = cell.dense_weight_hh()
    torch.testing.assert_close(jac, dense_w, rtol=0, atol=0)
    mask = torch.block_diag(*[torch.ones(hh, hh, dtype=torch.double)] * k).repeat(ng, 1).bool()
    assert torch.count_nonzero(jac[~mask]) == 0
    assert torch.count_nonzero(jac[mask]) == mask.sum()  # the blocks are all there
    assert cell.weight_hh.numel() == ng * H * H // k
    # no optimizer can fill the off-block part: it has no parameters
    opt = torch.optim.AdamW(cell.parameters(), lr=0.1, weight_decay=0.5)
    for _ in range(3):
        opt.zero_grad()
        out = cell(torch.randn(B, D, dtype=torch.double))
        (out[0] if isinstance(out, tuple) else out).sum().backward()
        opt.step()
    assert torch.count_nonzero(cell.dense_weight_hh()[~mask]) == 0


def test_headwise_recurrent_matches_linear_on_the_block_diagonal():
    torch.manual_seed(5)
    w = torch.randn(3, 4 * 2, 2, dtype=torch.double)
    b = torch.randn(4 * 6, dtype=torch.double)
    h = torch.randn(5, 6, dtype=torch.double)
    dense = block_diagonal(w)
    assert dense.shape == (24, 6)
    # the documented index map W[g*H + j*Hh + a, j*Hh + c] = w[j, g*Hh + a, c]
    for g in range(4):
        for j in range(3):
            assert torch.equal(dense[g * 6 + j * 2:g * 6 + j * 2 + 2, j * 2:j * 2 + 2], w[j, g * 2:g * 2 + 2])
    torch.testing.assert_close(headwise_recurrent(h, w, b), torch.nn.functional.linear(h, dense, b),
                               rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("cls", [HeadwiseLSTMCell, HeadwiseGRUCell])
@pytest.mark.parametrize("heads", [0, -2, 5, 7, True, 2.0, "2"])
def test_bad_heads_raise_one_line(cls, heads):
    with pytest.raises(ValueError, match=r"^heads must be an integer >= 1 that divides hidden_size=12, got") as e:
        cls(D, H, heads=heads)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("cls", [HeadwiseLSTMCell, HeadwiseGRUCell])
def test_state_dict_round_trip(cls):
    torch.manual_seed(6)
    a = cls(D, H, heads=3)
    sd = a.state_dict()
    assert sd["weight_hh"].shape == (3, a.num_gates * 4, 4)
    assert set(sd) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
    b = cls(D, H, heads=3)
    b.load_state_dict(sd)
    x = torch.randn(B, D)
    assert _states_equal(a(x), b(x))
    with pytest.raises(RuntimeError, match="size mismatch"):
        cls(D, H, heads=2).load_state_dict(sd)
    # a whole layer, through torch.save
    import io

    la = rnnkit.Recurrent(lambda d: cls(d, H, heads=3), input_size=D, num_layers=2)
    buf = io.BytesIO()
    torch.save(la.state_dict(), buf)
    buf.seek(0)
    lb = rnnkit.Recurrent(lambda d: cls(d, H, heads=3), input_size=D, num_layers=2)
    lb.load_state_dict(torch.load(buf))
    xs = torch.randn(T, B, D)
    assert torch.equal(la(xs)[0], lb(xs)[0])


@pytest.mark.parametrize("cls", [HeadwiseLSTMCell, HeadwiseGRUCell])
def test_backends_auto_is_loop_and_fused_paths_refuse(cls):
    layer = rnnkit.Recurrent(lambda d: cls(d, H, heads=4), input_size=D)
    x = torch.randn(T, B, D)
    y_auto, _ = layer(x)
    layer.backend = "loop"
    y_loop, _ = layer(x)
    assert torch.equal(y_auto, y_loop)
    from rnnkit.kernels import dispatch

    assert dispatch.choose_backend(layer, "auto", x.transpose(0, 1)) == "loop"
    # torch's op has no block-diagonal recurrence; the fused Triton kernels (under the interpreter)
    # are tested in tests/kernels_triton/test_triton_headwise.py and test_triton_headwise_gru.py
    for name in ("native",):
        layer.backend = name
        with pytest.raises(BackendUnavailable):
            layer(x)


@pytest.mark.parametrize("cls", [HeadwiseLSTMCell, HeadwiseGRUCell])
def test_streaming_step_equals_forward(cls):
    torch.manual_seed(7)
    layer = rnnkit.Recurrent(lambda d: cls(d, H, heads=2), input_size=D, num_layers=2, backend="loop")
    x = torch.randn(T, B, D)
    y, _ = layer(x)
    state = None
    for t in range(T):
        y_t, state = layer.step(x[t], state)
        torch.testing.assert_close(y_t, y[t], rtol=1e-6, atol=1e-6)


def test_repr_and_exports():
    assert "heads=4" in repr(HeadwiseLSTMCell(D, H, heads=4))
    assert "bias=False" in repr(HeadwiseGRUCell(D, H, heads=4, bias=False))
    import rnnkit.cells as cells

    assert {"HeadwiseLSTMCell", "HeadwiseGRUCell"} <= set(cells.__all__)
    # the dense cells are untouched: torch's shapes
    assert LSTMCell(D, H).weight_hh.shape == (4 * H, H)
