"""``Recurrent`` holds rnnkit's only loop over layers and directions: MinGRU and MinLSTM hand it
their per-direction scan and nothing else, and equal a hand-written loop over that scan."""

import pytest
import torch

from rnnkit.functional import scan as FS
from rnnkit.layers import MinGRU, MinLSTM, Recurrent

f64 = torch.float64


def flip_within(x, lengths):
    """Each sequence reversed within its own length, by hand (padding stays at the end)."""
    out = x.clone()
    for i, n in enumerate(lengths.tolist()):
        out[i, :n] = x[i, :n].flip(0)
    return out


def hand_loop(m, x, h0, lengths):
    """Every layer, every direction written out: one sequential scan over the whole sequence."""
    dirs = 2 if m.bidirectional else 1
    layer_input, finals = x, []
    for layer in range(m.num_layers):
        outputs = []
        for d in range(dirs):
            cell = m.cells[layer * dirs + d]
            xi = flip_within(layer_input, lengths) if d else layer_input
            a, b = cell.coefficients(cell.project_input(xi))
            h = FS.linear_scan_ref(a, b, h0[layer * dirs + d], lengths)
            finals.append(torch.stack([h[i, n - 1] for i, n in enumerate(lengths.tolist())]))
            outputs.append(flip_within(h, lengths) if d else h)
        if dirs == 1:
            out = outputs[0]
        elif m.merge == "concat":
            out = torch.cat(outputs, dim=-1)
        else:
            assert m.merge == "sum"
            out = outputs[0] + outputs[1]
        if m.residual and out.shape[-1] == layer_input.shape[-1]:
            out = out + layer_input
        layer_input = out
    valid = (torch.arange(x.shape[1]) < lengths.unsqueeze(1)).unsqueeze(-1)
    return layer_input * valid, torch.stack(finals)


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
@pytest.mark.parametrize("backend", ["loop", "chunked", "log"])
@pytest.mark.parametrize("merge, residual", [("concat", False), ("sum", True)])
def test_layer_equals_hand_written_loop_over_its_scan(cls, backend, merge, residual):
    m = cls(4, 4, num_layers=3, bidirectional=True, merge=merge, residual=residual, backend=backend,
            batch_first=True).double()
    lengths = torch.tensor([9, 3, 1, 6])
    x = torch.randn(4, 9, 4, dtype=f64, requires_grad=True)
    h0 = torch.randn(6, 4, 4, dtype=f64, requires_grad=True)
    y, h = m(x, h0, lengths=lengths)
    y2, h2 = hand_loop(m, x, h0, lengths)
    torch.testing.assert_close(y, y2)
    torch.testing.assert_close(h, h2)
    g = torch.randn_like(y)
    grads = torch.autograd.grad((y * g).sum() + h.sum(), [x, h0, *m.parameters()])
    grads2 = torch.autograd.grad((y2 * g).sum() + h2.sum(), [x, h0, *m.parameters()])
    for a, b in zip(grads, grads2):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
def test_min_rnn_layers_have_no_loop_of_their_own(cls, monkeypatch):
    """Neither the layer nor its base class defines a forward or a layer loop; Recurrent's loop
    runs once per call, with the layer's per-direction scan."""
    own = cls.__mro__[: cls.__mro__.index(Recurrent)]
    for klass in own:
        assert "forward" not in vars(klass) and "_forward_loop" not in vars(klass), klass
    calls = []
    loop = Recurrent._forward_loop

    def counting(self, *args, **kwargs):
        calls.append(type(self))
        return loop(self, *args, **kwargs)

    monkeypatch.setattr(Recurrent, "_forward_loop", counting)
    cls(3, 4, num_layers=2, bidirectional=True)(torch.randn(2, 5, 3))
    assert calls == [cls]
