"""OneToOne is a sequence model run for one step."""

import pytest
import torch

from rnnkit.models import ManyToMany, OneToOne


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn", "rnn_relu"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_one_to_one_equals_many_to_many_on_one_step(cell, bidirectional):
    one = OneToOne(4, 6, 3, cell=cell, num_layers=2, bidirectional=bidirectional).double()
    many = ManyToMany(6, 3, input_size=4, cell=cell, num_layers=2,
                      bidirectional=bidirectional).double()
    many.load_state_dict(one.state_dict())           # same parameter names, strict
    x = torch.randn(5, 4, dtype=torch.float64)
    rows = 2 * (2 if bidirectional else 1)
    state = torch.randn(rows, 5, 6, dtype=torch.float64)
    if cell == "lstm":
        state = (state, torch.randn(rows, 5, 6, dtype=torch.float64))
    for s in (None, state):
        y1, s1 = one(x, state=s, return_state=True)
        yT, sT = many(x.unsqueeze(1), state=s, return_state=True)
        torch.testing.assert_close(y1, yT[:, 0])
        for a, b in zip(s1 if cell == "lstm" else (s1,), sT if cell == "lstm" else (sT,)):
            torch.testing.assert_close(a, b)


def test_one_to_one_state_carries_across_calls():
    """Calling it T times, feeding the state back, is a T-step sequence model."""
    one = OneToOne(3, 5, 2, cell="lstm").double()
    many = ManyToMany(5, 2, input_size=3, cell="lstm").double()
    many.load_state_dict(one.state_dict())
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    state, ys = None, []
    for t in range(6):
        y, state = one(x[:, t], state, return_state=True)
        ys.append(y)
    torch.testing.assert_close(torch.stack(ys, 1), many(x))


def test_one_to_one_rejects_bad_input():
    one = OneToOne(3, 5, 2)
    with pytest.raises(ValueError, match=r"float tensor \(B, D=3\).*shape \(2, 4, 3\)"):
        one(torch.randn(2, 4, 3))
    with pytest.raises(ValueError, match="expects 3 input features, got 4"):
        one(torch.randn(2, 4))
    with pytest.raises(ValueError, match="float tensor"):
        one(torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="num_outputs must be >= 1"):
        OneToOne(3, 5, 0)
