"""Truncated BPTT: chunking, state carried across chunks, gradients cut at chunk boundaries."""

import pytest
import torch
from torch import nn

from rnnkit.train import Callback, Trainer
from rnnkit.train.batches import split_time


def test_split_time_chunks_dim1_and_passes_small_tensors_whole():
    x, y, lengths = torch.randn(2, 7, 3), torch.randn(2, 7), torch.tensor([7, 5])
    chunks = split_time({"x": x, "y": y, "lengths": lengths, "name": "b"}, 3)
    assert [c["x"].shape[1] for c in chunks] == [3, 3, 1]
    assert torch.equal(torch.cat([c["x"] for c in chunks], 1), x)
    assert torch.equal(torch.cat([c["y"] for c in chunks], 1), y)
    assert all(c["lengths"] is lengths and c["name"] == "b" for c in chunks)
    with pytest.raises(ValueError, match="one time length"):
        split_time((torch.zeros(2, 4), torch.zeros(2, 5)), 2)


class Linear1(nn.Module):
    """h_t = a * h_{t-1} + x_t, a scalar recurrence whose gradients are easy to write by hand."""

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(0.9))

    def run(self, x, h):
        hs = []
        for t in range(x.shape[1]):
            h = self.a * h + x[:, t]
            hs.append(h)
        return torch.stack(hs, 1), h


def _graph_size(t):
    seen, stack = set(), [t.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        stack.extend(f for f, _ in fn.next_functions)
    return len(seen)


class Recorder:
    """A TBPTT objective that records what the trainer hands it."""

    def __init__(self, carry=True):
        self.carry = carry
        self.incoming, self.outgoing, self.a_values, self.graph_sizes = [], [], [], []

    def __call__(self, model, chunk, state):
        x, target = chunk
        self.incoming.append(state)
        self.a_values.append(model.a.item())
        h0 = state if (state is not None and self.carry) else torch.zeros(x.shape[0])
        hs, h = model.run(x, h0)
        loss = ((hs - target) ** 2).mean()
        self.graph_sizes.append(_graph_size(loss))
        self.outgoing.append(h)
        return loss, {}, h


class _Grads(Callback):
    def __init__(self):
        self.grads = []

    def on_before_optimizer_step(self, trainer):
        self.grads.append(trainer.model.a.grad.item())


def _data(T=12):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, T, generator=g)
    return [(x, torch.zeros(3, T))]


def test_state_is_carried_detached_and_gradient_stops_at_chunk(kit):
    rec, grads = Recorder(), _Grads()
    model = Linear1()
    Trainer(model, rec, kit.quiet_config(epochs=1, tbptt_steps=4, lr=0.01), callbacks=[grads]).fit(_data())

    assert len(rec.incoming) == 3 and rec.incoming[0] is None
    for k in (1, 2):
        state = rec.incoming[k]
        assert torch.equal(state, rec.outgoing[k - 1].detach())  # carried...
        assert state.grad_fn is None and not state.requires_grad  # ...and detached
    # The gradient of each chunk is that of the chunk alone, with its start state a constant.
    x = _data()[0][0]
    for k in range(3):
        a = torch.tensor(rec.a_values[k], requires_grad=True)
        h = rec.incoming[k] if rec.incoming[k] is not None else torch.zeros(3)
        hs = []
        for t in range(4 * k, 4 * k + 4):
            h = a * h + x[:, t]
            hs.append(h)
        (torch.stack(hs, 1) ** 2).mean().backward()
        assert grads.grads[k] == pytest.approx(a.grad.item(), rel=1e-6)


def test_graph_stays_bounded_over_many_chunks(kit):
    rec = Recorder()
    Trainer(Linear1(), rec, kit.quiet_config(epochs=1, tbptt_steps=3, lr=0.01)).fit(_data(T=30))
    assert len(rec.graph_sizes) == 10
    assert len(set(rec.graph_sizes)) == 1  # chunk 10's graph is no bigger than chunk 1's


def test_carrying_state_changes_training(kit):
    carried, reset = Linear1(), Linear1()
    Trainer(carried, Recorder(carry=True), kit.quiet_config(epochs=2, tbptt_steps=4)).fit(_data())
    Trainer(reset, Recorder(carry=False), kit.quiet_config(epochs=2, tbptt_steps=4)).fit(_data())
    assert abs(carried.a.item() - reset.a.item()) > 1e-4


def test_evaluate_carries_state_and_weights_chunks_by_length(kit):
    model = Linear1()
    data = _data(T=10)  # chunks of 4, 4, 2
    trainer = Trainer(model, Recorder(), kit.quiet_config(tbptt_steps=4))
    x, target = data[0]
    with torch.no_grad():
        hs, _ = model.run(x, torch.zeros(3))
        full = ((hs - target) ** 2).mean().item()
    assert trainer.evaluate(data)["loss"] == pytest.approx(full, rel=1e-6)


def test_tbptt_objective_must_return_state(kit):
    trainer = Trainer(Linear1(), lambda m, c, s: (m.a * c[0].sum(), {}), kit.quiet_config(epochs=1, tbptt_steps=4))
    with pytest.raises(TypeError, match="new_state"):
        trainer.fit(_data())


def test_tuple_state_of_an_lstm(kit):
    torch.manual_seed(0)
    lstm = nn.LSTM(2, 5, batch_first=True)
    seen = []

    def loss_fn(model, chunk, state):
        out, state = model(chunk, state)
        seen.append(state)
        return out.pow(2).mean(), {}, state

    Trainer(lstm, loss_fn, kit.quiet_config(epochs=1, tbptt_steps=3)).fit([torch.randn(2, 9, 2)])
    assert len(seen) == 3 and all(isinstance(s, tuple) and len(s) == 2 for s in seen)
