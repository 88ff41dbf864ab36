"""Every wrapper with every layer feature: stacking, bidirectional, lengths, step(); never native."""

import pytest
import torch

import rnnkit
from rnnkit.cells import (
    GRUCell,
    LayerNormLSTMCell,
    LSTMCell,
    VariationalDropout,
    WeightDrop,
    Zoneout,
)
from rnnkit.cells.base import as_state_tuple
from rnnkit.kernels.dispatch import BackendUnavailable, choose_backend

D, H, B, T = 3, 5, 4, 6
LENGTHS = [T, 2, 5, 1]

WRAPS = {
    "variational": lambda c: VariationalDropout(c, p_in=0.3, p_h=0.4),
    "zoneout": lambda c: Zoneout(c, 0.3),
    "weightdrop": lambda c: WeightDrop(c, 0.5),
    "all": lambda c: WeightDrop(Zoneout(VariationalDropout(c, 0.2, 0.3), 0.2), 0.4),
}
CELLS = {"lstm": LSTMCell, "gru": GRUCell, "lnlstm": LayerNormLSTMCell}


def _layer(wrap, cell, **kw):
    return rnnkit.Recurrent(lambda d: WRAPS[wrap](CELLS[cell](d, H)), input_size=D, num_layers=2, **kw, batch_first=True).double()


def _assert_state_rows(s_all, s_b, b):
    for a, c in zip(as_state_tuple(s_all), as_state_tuple(s_b)):
        torch.testing.assert_close(a[:, b:b + 1], c)


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("wrap", list(WRAPS))
def test_bidirectional_padded_batch_equals_each_sequence_alone(wrap, cell, training, reg):
    """In training the masks are pinned per sequence (MaskBank), so the comparison is exact."""
    layer = _layer(wrap, cell, bidirectional=True).train(training)
    bank = reg.MaskBank(seed=1, max_ids=B)
    bank.pin_all(layer)
    x = torch.randn(B, T, D, dtype=torch.double)
    y, s = layer(x, lengths=torch.tensor(LENGTHS))
    for b, n in enumerate(LENGTHS):
        bank.ids = torch.tensor([b])
        y_b, s_b = layer(x[b:b + 1, :n])
        torch.testing.assert_close(y[b:b + 1, :n], y_b)
        assert torch.count_nonzero(y[b, n:]) == 0
        _assert_state_rows(s, s_b, b)
    if training and wrap != "weightdrop":  # per-sequence randomness is really on: unpinned rows differ
        bank.ids = torch.tensor([0])
        assert not torch.allclose(layer(x[1:2, :LENGTHS[1]])[0], y[1:2, :LENGTHS[1]])


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("wrap", list(WRAPS))
def test_step_equals_forward(wrap, cell, reg):
    layer = _layer(wrap, cell)
    x = torch.randn(B, T, D, dtype=torch.double)
    # eval: deterministic
    layer.eval()
    full, final = layer(x)
    state = None
    for t in range(T):
        y_t, state = layer.step(x[:, t], state)
        torch.testing.assert_close(y_t, full[:, t])
    for a, c in zip(as_state_tuple(final), as_state_tuple(state)):
        torch.testing.assert_close(a, c)
    # train: the stream keeps the masks drawn at its first step (pinned so both runs draw the same)
    layer.train()
    bank = reg.MaskBank(seed=2, max_ids=B)
    bank.pin_all(layer)
    full, _ = layer(x)
    state = None
    for t in range(T):
        y_t, state = layer.step(x[:, t], state)
        torch.testing.assert_close(y_t, full[:, t])


@pytest.mark.parametrize("wrap", ["variational", "weightdrop"])
def test_step_equals_forward_in_training_with_the_same_seed(wrap):
    """No pinning: seeding alone suffices, because masks are drawn once when the stream starts."""
    layer = _layer(wrap, "lstm").train()
    x = torch.randn(B, T, D, dtype=torch.double)
    torch.manual_seed(5)
    full, _ = layer(x)
    torch.manual_seed(5)
    state = None
    for t in range(T):
        y_t, state = layer.step(x[:, t], state)
        torch.testing.assert_close(y_t, full[:, t])
    torch.manual_seed(6)
    assert not torch.allclose(layer(x)[0], full)


@pytest.mark.parametrize("wrap", list(WRAPS))
def test_wrapped_builtin_cells_never_go_to_the_native_op(wrap):
    layer = rnnkit.Recurrent(lambda d: WRAPS[wrap](LSTMCell(d, H)), input_size=D, batch_first=True)
    x = torch.randn(B, T, D)
    assert choose_backend(layer, "auto", x) == "loop"
    with pytest.raises(BackendUnavailable, match="no fused torch op"):
        rnnkit.Recurrent(WRAPS[wrap](LSTMCell(D, H)), backend="native", batch_first=True)(x)


def test_state_dict_round_trip_and_fresh_copies():
    """Layer copies of a wrapped instance get their own parameters; weights reload exactly."""
    layer = rnnkit.Recurrent(WRAPS["all"](LSTMCell(D, H)), num_layers=1, bidirectional=True, batch_first=True).double().eval()
    c0, c1 = layer.cells
    assert not torch.equal(c0.cell.cell.cell.weight_hh, c1.cell.cell.cell.weight_hh)
    assert c1._targets[0][0] is c1.cell.cell.cell  # the copy drops the copy's weight, not the original's
    other = rnnkit.Recurrent(WRAPS["all"](LSTMCell(D, H)), num_layers=1, bidirectional=True, batch_first=True).double().eval()
    other.load_state_dict(layer.state_dict())
    x = torch.randn(B, T, D, dtype=torch.double)
    torch.testing.assert_close(other(x)[0], layer(x)[0])
    assert "cell.cell.cell.weight_hh_l0_reverse" in layer.state_dict()


def test_a_stream_keeps_its_masks_and_any_other_state_starts_a_new_one():
    """step() continues a stream only from the state it returned; an encoder's or a detached state
    (or None) starts a new one, as a new forward would."""
    wrapped = VariationalDropout(LSTMCell(D, H), p_in=0.5, p_h=0.5)
    layer = rnnkit.Recurrent(wrapped, batch_first=True).train()
    x = torch.randn(B, D)
    _, state = layer.step(x, None)
    masks = wrapped._mask_in
    _, state = layer.step(x, state)
    assert wrapped._mask_in is masks  # continued
    _, state = layer.step(x, tuple(s.detach() for s in state))
    assert wrapped._mask_in is not masks  # a detached state is a new stream
    masks = wrapped._mask_in
    _, _ = layer.step(x, tuple(torch.zeros_like(s) for s in state))  # e.g. an encoder's final state
    assert wrapped._mask_in is not masks
