"""Helpers for the regularisation tests (the `reg` fixture): pinned masks, a hand loop, a probe cell."""

import torch
from torch import nn

from rnnkit.cells.base import as_state_tuple
from rnnkit.cells.regularized import CellWrapper, WeightDrop


class MaskBank:
    """Masks that depend on (draw number since the sequence began, sequence id), not on the batch.

    ``pin(wrapper)`` makes a wrapper draw its per-row masks from here: row r of a batch gets the
    rows of sequence ``ids[r]``. So a padded batch and each sequence run alone see the same masks,
    which makes "padded equals alone" testable in training mode.
    """

    def __init__(self, seed: int, max_ids: int = 8):
        self.seed, self.max_ids = seed, max_ids
        self.ids = torch.arange(max_ids)
        self._cache: dict = {}
        self.k = 0

    def _uniform(self, key, shape):
        if key not in self._cache:
            g = torch.Generator().manual_seed(hash((self.seed, key)) % (2**31))
            self._cache[key] = torch.rand((self.max_ids, *shape), generator=g, dtype=torch.float64)
        return self._cache[key]

    def pin_all(self, module: nn.Module) -> None:
        """Pin every wrapper inside ``module`` (a layer, a model or a cell)."""
        for m in module.modules():
            if isinstance(m, CellWrapper):
                self.pin(m)

    def pin(self, wrapper: CellWrapper) -> None:
        bank = self
        per_row = not isinstance(wrapper, WeightDrop)  # weight-drop masks are shared by all rows
        counter = {"k": 0}
        original = wrapper.begin_sequence

        def begin_sequence(batch_size, device, dtype):
            counter["k"] = 0
            original(batch_size, device, dtype)

        def rows(shape):
            counter["k"] += 1
            if not per_row:
                return bank._uniform((id(wrapper), counter["k"], tuple(shape)), shape)[0]
            u = bank._uniform((id(wrapper), counter["k"], tuple(shape[1:])), shape[1:])
            return u[bank.ids]

        def sample_keep(shape, p, device, dtype):
            return ((rows(shape) >= p).to(dtype) / (1 - p)).to(device)

        def sample_bernoulli(shape, p, device):
            return (rows(shape) < p).to(device)

        wrapper.begin_sequence = begin_sequence
        wrapper.sample_keep = sample_keep
        wrapper.sample_bernoulli = sample_bernoulli


def hand_loop(step, x, state):
    """Apply ``step(x_t, state) -> state`` over ``x (B, T, D)``; outputs are state[0] per step."""
    outs = []
    for t in range(x.shape[1]):
        state = as_state_tuple(step(x[:, t], state))
        outs.append(state[0])
    return torch.stack(outs, 1), state


class ProbeCell(nn.Module):
    """A protocol-only user cell that records what it receives; its new h is all ones.

    So at step t > 0 the recorded h is exactly the recurrent mask times ones.
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight = nn.Parameter(torch.zeros(hidden_size, input_size))  # unused; makes it a module with params
        self.seen_x, self.seen_h = [], []

    def forward(self, x, state):
        (h,) = as_state_tuple(state)
        self.seen_x.append(x.detach().clone())
        self.seen_h.append(h.detach().clone())
        return torch.ones_like(h) + 0 * (x @ self.weight.t())
