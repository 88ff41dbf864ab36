"""A minGRU/minLSTM stack trained with the parallel scan learns the adding problem (small T)."""

import pytest
import torch
from torch import nn

from rnnkit.layers import MinGRU, MinLSTM


def adding_batch(B, T, gen):
    """Hochreiter & Schmidhuber's adding problem: x_t = (value, marker); two markers; y = sum of
    the two marked values. Predicting the mean (1.0) gives MSE 1/6."""
    values = torch.rand(B, T, generator=gen)
    marks = torch.zeros(B, T)
    first = torch.randint(0, T // 2, (B,), generator=gen)
    second = torch.randint(T // 2, T, (B,), generator=gen)
    marks[torch.arange(B), first] = 1.0
    marks[torch.arange(B), second] = 1.0
    return torch.stack([values, marks], dim=-1), (values * marks).sum(1, keepdim=True)


@pytest.mark.learning
@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
def test_adding_problem_loss_falls_clearly(cls):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    rnn = cls(2, 16, num_layers=2, batch_first=True)
    head = nn.Linear(16, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-2)
    x_val, y_val = adding_batch(256, 30, gen)

    def val_mse():
        with torch.no_grad():
            return float(((head(rnn(x_val)[0][:, -1]) - y_val) ** 2).mean())

    before = val_mse()
    for _ in range(400):
        x, y = adding_batch(32, 30, gen)
        loss = ((head(rnn(x)[0][:, -1]) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = val_mse()
    # the trivial baseline (always 1.0) has MSE 1/6 = 0.167; the trained stack must beat it 4x.
    # Seeds 0-3 all ended between 0.0016 and 0.009 here (after a plateau of 150-250 steps), under each
    # of defaults, OMP_NUM_THREADS=1, ATEN_CPU_CAPABILITY=default and =avx2.
    assert after < 0.04 and after < before / 4, (before, after)
