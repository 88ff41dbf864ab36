"""model.forget_bias reaches the LSTM of a long-range run and leaves every other cell alone."""

import torch

from rnnkit.apps.longrange.problems import make_problem
from rnnkit.apps.longrange.sweep import LongRangeConfig, build_model


def _build(cell, forget_bias):
    cfg = LongRangeConfig()
    cfg.model.hidden_size = 6
    cfg.model.forget_bias = forget_bias
    prob = make_problem("adding", 12, steps=1, batch_size=2, test_size=4, seed=0)
    torch.manual_seed(0)
    return build_model(cfg, cell, prob)


def test_lstm_gets_the_bias_and_nothing_else_moves():
    plain, biased = _build("lstm", 0.0), _build("lstm", 1.0)
    H = 6
    for (name, p), (_, q) in zip(plain.named_parameters(), biased.named_parameters(), strict=True):
        if "bias_ih" in name:
            assert torch.all(q[H:2 * H] == 1.0)
            assert torch.equal(p[:H], q[:H]) and torch.equal(p[2 * H:], q[2 * H:])
        elif "bias_hh" in name:
            assert torch.all(q[H:2 * H] == 0.0)
        else:
            assert torch.equal(p, q), name


def test_other_cells_are_unchanged():
    for cell in ("gru", "rnn", "mingru", "minlstm"):
        a, b = _build(cell, 0.0), _build(cell, 1.0)
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            assert torch.equal(p, q), cell
