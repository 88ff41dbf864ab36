"""Variational dropout, zoneout and weight-drop: where the masks live, what they do, eval behaviour."""

import pytest
import torch
import torch.nn.functional as F

import rnnkit
from rnnkit.cells import (
    GRUCell,
    LayerNormGRUCell,
    LSTMCell,
    RNNCell,
    VariationalDropout,
    WeightDrop,
    Zoneout,
)
from rnnkit.functional import gru_step, lstm_step

D, H, B, T = 4, 6, 5, 7


# ------------------------------------------------------------------ variational dropout
def test_variational_masks_fixed_over_time_and_new_per_sequence(reg):
    """The probe records x~_t and h~_{t-1}: equal at every t of a forward, different across rows and forwards."""
    probe = reg.ProbeCell(D, H)
    layer = rnnkit.Recurrent(VariationalDropout(probe, p_in=0.5, p_h=0.5), batch_first=True).train()
    x = torch.ones(B, T, D)

    def masks():
        probe.seen_x.clear(), probe.seen_h.clear()
        layer(x)
        xs, hs = torch.stack(probe.seen_x), torch.stack(probe.seen_h[1:])  # h_{-1} = 0 carries no mask
        return xs, hs

    xs, hs = masks()
    for seen in (xs, hs):
        assert torch.equal(seen, seen[:1].expand_as(seen)), "mask changed within a sequence"
        assert set(seen.unique().tolist()) == {0.0, 2.0}  # inverted scaling 1 / (1 - p)
        assert all(not torch.equal(seen[0, 0], seen[0, b]) for b in range(1, B)), "rows share a mask"
    xs2, hs2 = masks()
    assert not torch.equal(xs[0], xs2[0]) and not torch.equal(hs[0], hs2[0]), "mask reused across forwards"
    # eval: identity
    layer.eval()
    xs3, hs3 = masks()
    assert torch.equal(xs3, torch.ones_like(xs3)) and torch.equal(hs3, torch.ones_like(hs3))


def _lstm_ref(cell, x, m_x, m_h):
    h = c = torch.zeros(x.shape[0], H, dtype=x.dtype)
    outs = []
    for t in range(x.shape[1]):
        gi = F.linear(x[:, t] * m_x, cell.weight_ih, cell.bias_ih)
        h, c = lstm_step(gi, h * m_h, c, cell.weight_hh, cell.bias_hh)
        outs.append(h)
    return torch.stack(outs, 1)


def _gru_ref(cell, x, m_x, m_h):
    """Gal & Ghahramani for the GRU: h dropped inside the product, not in z * h_{t-1}."""
    h = torch.zeros(x.shape[0], H, dtype=x.dtype)
    outs = []
    for t in range(x.shape[1]):
        gi = F.linear(x[:, t] * m_x, cell.weight_ih, cell.bias_ih)
        r_i, z_i, n_i = gi.chunk(3, -1)
        r_h, z_h, n_h = F.linear(h * m_h, cell.weight_hh, cell.bias_hh).chunk(3, -1)
        r, z = torch.sigmoid(r_i + r_h), torch.sigmoid(z_i + z_h)
        n = torch.tanh(n_i + r * n_h)
        h = (1 - z) * n + z * h
        outs.append(h)
    return torch.stack(outs, 1)


@pytest.mark.parametrize("cls,ref", [(LSTMCell, _lstm_ref), (GRUCell, _gru_ref)])
def test_variational_training_pass_equals_masked_hand_loop(cls, ref):
    wrapped = VariationalDropout(cls(D, H).double(), p_in=0.3, p_h=0.4)
    x = torch.randn(B, T, D, dtype=torch.double)
    y, _ = rnnkit.Recurrent(wrapped, batch_first=True)(x)
    expected = ref(wrapped.cell, x, wrapped._mask_in, wrapped._mask_h)
    torch.testing.assert_close(y, expected, rtol=1e-12, atol=1e-12)


def test_gru_hand_loop_without_masks_is_the_plain_gru():
    """Guards the oracle above: with masks of ones it is rnnkit's GRU step."""
    cell = GRUCell(D, H).double()
    x = torch.randn(B, T, D, dtype=torch.double)
    ones = torch.ones(B, D, dtype=torch.double), torch.ones(B, H, dtype=torch.double)
    torch.testing.assert_close(_gru_ref(cell, x, *ones), rnnkit.Recurrent(cell, batch_first=True)(x)[0])
    h = torch.zeros(B, H, dtype=torch.double)
    gi = cell.project_input(x[:, 0])
    torch.testing.assert_close(gru_step(gi, h, cell.weight_hh, cell.bias_hh), cell.step_projected(gi, (h,))[0])


def test_layernorm_gru_drops_h_only_inside_the_product():
    cell = LayerNormGRUCell(D, H).double()
    wrapped = VariationalDropout(cell, p_h=0.5).train()
    h = torch.randn(B, H, dtype=torch.double)
    x = torch.randn(B, D, dtype=torch.double)
    wrapped.begin_sequence(B, h.device, h.dtype)
    m = wrapped._mask_h
    got = wrapped(x, h)
    expected = cell.step_projected_rec(cell.project_input(x), (h,), h * m)[0]
    torch.testing.assert_close(got, expected)
    assert not torch.allclose(got, cell(x, h * m))  # dropping h in the carry too would differ


# ------------------------------------------------------------------ zoneout
def test_zoneout_training_keeps_old_or_takes_new_per_unit_and_step():
    cell = LSTMCell(D, H)
    z = Zoneout(cell, p=(0.3, 0.6)).train()
    x, h, c = torch.randn(64, D), torch.randn(64, H), torch.randn(64, H)
    new_h, new_c = cell(x, (h, c))
    fractions = []
    for _ in range(2):
        zh, zc = z(x, (h, c))
        for got, old, new in ((zh, h, new_h), (zc, c, new_c)):
            kept = got == old
            assert torch.all(kept | (got == new)), "zoneout must pick the old or the new value, per unit"
            fractions.append(kept.float().mean().item())
    assert abs(fractions[0] - 0.3) < 0.06 and abs(fractions[1] - 0.6) < 0.06
    assert fractions[0] != fractions[2]  # a new draw each step


def test_zoneout_eval_is_the_expectation():
    cell = GRUCell(D, H).double()
    z = Zoneout(cell, p=0.25).eval()
    x = torch.randn(B, T, D, dtype=torch.double)
    h = torch.zeros(B, H, dtype=torch.double)
    outs = []
    for t in range(T):
        h = 0.25 * h + 0.75 * cell(x[:, t], h)
        outs.append(h)
    torch.testing.assert_close(rnnkit.Recurrent(z, batch_first=True)(x)[0], torch.stack(outs, 1))


# ------------------------------------------------------------------ weight-drop
def test_weight_drop_one_mask_per_forward_shared_by_steps_and_rows():
    cell = LSTMCell(D, H).double()
    wd = WeightDrop(cell, p=0.5).train()
    layer = rnnkit.Recurrent(wd, batch_first=True)
    x = torch.randn(B, T, D, dtype=torch.double)
    y1, _ = layer(x)
    m1 = wd._masks[0]
    assert m1.shape == cell.weight_hh.shape and set(m1.unique().tolist()) == {0.0, 2.0}
    # the whole forward used W_hh * M for every step and every row
    h = c = torch.zeros(B, H, dtype=torch.double)
    outs = []
    for t in range(T):
        h, c = lstm_step(cell.project_input(x[:, t]), h, c, cell.weight_hh * m1, cell.bias_hh)
        outs.append(h)
    torch.testing.assert_close(y1, torch.stack(outs, 1), rtol=1e-12, atol=1e-12)
    y2, _ = layer(x)
    assert not torch.equal(wd._masks[0], m1) and not torch.allclose(y1, y2)
    # the parameter stays registered (same key, same tensor) and receives the masked gradient
    assert "cell.weight_hh" in wd.state_dict() and "weight_hh" not in cell.__dict__
    y2.sum().backward()
    g = cell.weight_hh.grad
    assert torch.all(g[wd._masks[0] == 0] == 0) and torch.count_nonzero(g) > 0


def test_weight_drop_eval_identity_and_refreshes_after_an_optimizer_step():
    cell = RNNCell(D, H).double()
    wd = WeightDrop(cell, p=0.4)
    x = torch.randn(B, T, D, dtype=torch.double)
    torch.testing.assert_close(rnnkit.Recurrent(wd, batch_first=True).eval()(x)[0], rnnkit.Recurrent(cell, batch_first=True).eval()(x)[0])
    wd.train()
    wd.begin_sequence(B, x.device, x.dtype)
    h = torch.zeros(B, H, dtype=torch.double)
    before = wd.step_projected(cell.project_input(x[:, 0]), (h + 1,))[0]
    with torch.no_grad():
        cell.weight_hh.mul_(2.0)  # as an optimizer step would: in place
    after = wd.step_projected(cell.project_input(x[:, 0]), (h + 1,))[0]
    expected = torch.tanh(cell.project_input(x[:, 0]) + F.linear(h + 1, cell.weight_hh * wd._masks[0], cell.bias_hh))
    torch.testing.assert_close(after, expected)
    assert not torch.allclose(before, after)


def test_weight_drop_finds_weights_through_wrappers_and_names_bad_ones():
    inner = LSTMCell(D, H)
    wd = WeightDrop(VariationalDropout(inner, 0.1, 0.1), p=0.3)
    assert wd._targets[0][0] is inner
    wd2 = WeightDrop(LSTMCell(D, H), p=0.3, weights=("weight_hh", "weight_ih"))
    assert len(wd2._targets) == 2
    with pytest.raises(ValueError, match="no parameter 'weight_xx'"):
        WeightDrop(LSTMCell(D, H), p=0.3, weights="weight_xx")


# ------------------------------------------------------------------ all wrappers: eval, errors
WRAPS = {
    "variational": lambda c: VariationalDropout(c, 0.3, 0.3),
    "zoneout": lambda c: Zoneout(c, 0.2),
    "weightdrop": lambda c: WeightDrop(c, 0.5),
    "stacked": lambda c: WeightDrop(Zoneout(VariationalDropout(c, 0.2, 0.2), 0.1), 0.3),
}


@pytest.mark.parametrize("wrap", ["variational", "weightdrop"])
def test_dropout_wrappers_are_the_identity_in_eval(wrap):
    cell = LSTMCell(D, H).double()
    x = torch.randn(B, T, D, dtype=torch.double)
    torch.testing.assert_close(rnnkit.Recurrent(WRAPS[wrap](cell), batch_first=True).eval()(x)[0], rnnkit.Recurrent(cell, batch_first=True)(x)[0])


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan"), True, "0.5"])
def test_probabilities_outside_0_1_are_refused(bad):
    for make in (lambda: VariationalDropout(LSTMCell(D, H), p_in=bad), lambda: VariationalDropout(LSTMCell(D, H), p_h=bad),
                 lambda: Zoneout(LSTMCell(D, H), bad), lambda: WeightDrop(LSTMCell(D, H), bad)):
        with pytest.raises(ValueError, match=r"\[0, 1\)"):
            make()
    with pytest.raises(ValueError, match="one per state tensor"):
        Zoneout(LSTMCell(D, H), (0.1, 0.2, 0.3))
