"""MinGRUCell / MinLSTMCell against hand-written float64 equations; the generic loop twin."""

import pytest
import torch

from rnnkit.cells import MinGRUCell, MinLSTMCell
from rnnkit.layers import MinGRU, MinLSTM, Recurrent

f64 = torch.float64


def _g(x):
    return x + 0.5 if x >= 0 else 1 / (1 + torch.exp(-x))


def _sig(x):
    return 1 / (1 + torch.exp(-x))


def _hand_mingru(cell, xs, h):
    """Element by element: z = sigmoid(W_z x + b_z), h~ = g(W_h x + b_h), h = (1-z) h + z h~."""
    H = cell.hidden_size
    W, bias = cell.weight_ih.detach(), cell.bias_ih.detach()
    out = []
    for x in xs:
        pre = W @ x + bias
        h = torch.stack([(1 - _sig(pre[k])) * h[k] + _sig(pre[k]) * _g(pre[H + k]) for k in range(H)])
        out.append(h)
    return torch.stack(out)


def _hand_minlstm(cell, xs, h):
    """f, i = sigmoid(.), f' = f / (f + i), i' = i / (f + i), h = f' h + i' g(W_h x + b_h)."""
    H = cell.hidden_size
    W, bias = cell.weight_ih.detach(), cell.bias_ih.detach()
    out = []
    for x in xs:
        pre = W @ x + bias
        new = []
        for k in range(H):
            f, i = _sig(pre[k]), _sig(pre[H + k])
            new.append(f / (f + i) * h[k] + i / (f + i) * _g(pre[2 * H + k]))
        h = torch.stack(new)
        out.append(h)
    return torch.stack(out)


@pytest.mark.parametrize("cls, hand", [(MinGRUCell, _hand_mingru), (MinLSTMCell, _hand_minlstm)])
def test_cell_steps_equal_hand_equations(cls, hand):
    cell = cls(4, 3).double()
    with torch.no_grad():
        cell.bias_ih.mul_(8)  # push some gates towards saturation and h~ to both branches of g
    xs = torch.randn(6, 4, dtype=f64) * 3
    h0 = torch.randn(3, dtype=f64)
    want = hand(cell, xs, h0)
    h = h0.unsqueeze(0)
    for t in range(6):
        h = cell(xs[t:t + 1], h)  # bare tensor state in and out, like torch.nn.GRUCell
        torch.testing.assert_close(h[0], want[t])


@pytest.mark.parametrize("cls", [MinGRUCell, MinLSTMCell])
def test_cell_protocol_and_init(cls):
    cell = cls(5, 7, bias=False)
    assert cell.bias_ih is None and cell.state_sizes == (7,)
    assert cell.weight_ih.shape == (cell.num_gates * 7, 5)
    assert cell.weight_ih.abs().max() <= 1 / 5 ** 0.5  # nn.Linear's bound 1/sqrt(D)
    x = torch.randn(2, 5)
    torch.testing.assert_close(cell(x), cell(x, torch.zeros(2, 7)))  # zero state by default
    a, b = cell.coefficients(cell.project_input(x))
    torch.testing.assert_close(cell(x, torch.ones(2, 7)), a + b)  # h_t = a_t h_{t-1} + b_t
    with pytest.raises(ValueError, match="expects x of shape"):
        cell(torch.randn(2, 4))
    with pytest.raises(ValueError, match=">= 1"):
        cls(0, 3)


@pytest.mark.parametrize("layer_cls, cell_cls", [(MinGRU, MinGRUCell), (MinLSTM, MinLSTMCell)])
@pytest.mark.parametrize("backend", ["auto", "chunked", "log", "loop"])
def test_parallel_layer_equals_generic_loop_over_its_cell(layer_cls, cell_cls, backend):
    """The sequential twin: Recurrent(cell) steps the same cells one x_t at a time."""
    kw = {"num_layers": 2, "bidirectional": True, "merge": "sum", "batch_first": True}
    fast = layer_cls(3, 5, backend=backend, **kw).double()
    twin = Recurrent(lambda d: cell_cls(d, 5), input_size=3, **kw).double()
    twin.load_state_dict(fast.state_dict())
    x = torch.randn(3, 17, 3, dtype=f64, requires_grad=True)
    h0 = torch.randn(4, 3, 5, dtype=f64, requires_grad=True)
    lengths = torch.tensor([17, 5, 11])
    y, h = fast(x, h0, lengths=lengths)
    y2, h2 = twin(x, h0, lengths=lengths)
    torch.testing.assert_close(y, y2)
    torch.testing.assert_close(h, h2)
    g = torch.randn_like(y)
    grads = torch.autograd.grad((y * g).sum() + h.sum(), [x, h0, *fast.parameters()])
    grads2 = torch.autograd.grad((y2 * g).sum() + h2.sum(), [x, h0, *twin.parameters()])
    for a, b in zip(grads, grads2):
        torch.testing.assert_close(a, b)


def test_gradcheck_parallel_layer_float64():
    m = MinGRU(2, 3, num_layers=2, batch_first=True).double()
    x = torch.randn(2, 9, 2, dtype=f64, requires_grad=True)
    h0 = torch.randn(2, 2, 3, dtype=f64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, h0: m(x, h0, lengths=torch.tensor([9, 4])), (x, h0))
    m2 = MinLSTM(2, 3, bidirectional=True, backend="log", batch_first=True).double()
    h0b = torch.randn(2, 2, 3, dtype=f64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, h0: m2(x, h0), (x, h0b))
