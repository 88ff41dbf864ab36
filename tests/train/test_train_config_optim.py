"""TrainConfig validation, weight-decay groups and learning-rate schedules."""

import json
import math

import pytest
import torch
from torch import nn

from rnnkit.train import Callback, TrainConfig, Trainer
from rnnkit.train.optim import LRFactor, param_groups


def test_config_round_trips_through_json():
    cfg = TrainConfig(epochs=3, betas=(0.8, 0.95), schedule="cosine")
    again = TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and again.betas == (0.8, 0.95)


@pytest.mark.parametrize(
    "kw, word",
    [({"schedule": "exp"}, "schedule"), ({"amp": "fp8"}, "amp"), ({"optimizer": "lion"}, "optimizer"),
     ({"mode": "up"}, "mode"), ({"lr": 0}, "lr"), ({"grad_clip": -1}, "grad_clip"), ({"device": "tpu"}, "device")],
)
def test_config_rejects_bad_values(kw, word):
    with pytest.raises(ValueError, match=word):
        TrainConfig(**kw)


def test_config_from_dict_rejects_unknown_fields():
    with pytest.raises(ValueError, match="unknown"):
        TrainConfig.from_dict({"epoch": 3})


def test_weight_decay_only_on_matrices():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.rnn = nn.GRU(4, 6, batch_first=True)
            self.norm = nn.LayerNorm(6)
            self.head = nn.Linear(6, 10)
            self.scale = nn.Parameter(torch.ones(()))
            self.frozen = nn.Parameter(torch.ones(3, 3), requires_grad=False)

    net = Net()
    decay, no_decay = param_groups(net, 0.1)
    names = {id(p): n for n, p in net.named_parameters()}
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert sorted(names[id(p)] for p in decay["params"]) == sorted(
        ["emb.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "head.weight"]
    )
    assert sorted(names[id(p)] for p in no_decay["params"]) == sorted(
        ["rnn.bias_ih_l0", "rnn.bias_hh_l0", "norm.weight", "norm.bias", "head.bias", "scale"]
    )


def test_bias_is_not_decayed_in_training(kit):
    # With zero gradient, AdamW changes a parameter only through weight decay.
    lin = nn.Linear(3, 1)
    with torch.no_grad():
        lin.weight.fill_(1.0)
        lin.bias.fill_(1.0)
    batches = [torch.zeros(2, 3)] * 3
    cfg = kit.quiet_config(epochs=1, lr=0.1, weight_decay=0.5)
    Trainer(lin, lambda m, b: (m(b) * 0).sum(), cfg).fit(batches)
    assert torch.all(lin.weight < 1.0)  # decayed: (1 - lr * wd) per step
    assert torch.allclose(lin.weight, torch.full_like(lin.weight, (1 - 0.05) ** 3))
    assert torch.equal(lin.bias, torch.ones(1))


def test_lr_factor_values():
    warm = LRFactor("constant", total_steps=0, warmup_steps=4)
    assert [warm(s) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    cos = LRFactor("cosine", total_steps=14, warmup_steps=4, min_lr_ratio=0.1)
    assert cos(4) == pytest.approx(1.0)
    assert cos(9) == pytest.approx(0.1 + 0.9 * 0.5)
    assert cos(14) == pytest.approx(0.1) and cos(100) == pytest.approx(0.1)
    lin = LRFactor("linear", total_steps=10, warmup_steps=0)
    assert [lin(s) for s in (0, 5, 10)] == pytest.approx([1.0, 0.5, 0.0])
    step = LRFactor("step", total_steps=0, warmup_steps=1, step_size=3, step_gamma=0.5)
    assert [step(s) for s in range(8)] == pytest.approx([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25])


class _LRTrace(Callback):
    def __init__(self):
        self.lrs = []

    def on_train_batch_start(self, trainer, batch):
        self.lrs.append(trainer.optimizer.param_groups[0]["lr"])


@pytest.mark.parametrize("schedule", ["constant", "cosine", "linear", "step"])
def test_trainer_applies_schedule_per_batch(kit, schedule):
    ds = kit.regression_data(n=16)
    batches = [(ds.tensors[0][i : i + 4], ds.tensors[1][i : i + 4]) for i in range(0, 16, 4)]
    cfg = kit.quiet_config(epochs=3, lr=0.01, schedule=schedule, warmup_steps=2, step_size=4, step_gamma=0.5)
    trace = _LRTrace()
    Trainer(nn.Linear(4, 1), kit.mse_loss, cfg, callbacks=[trace]).fit(batches)
    f = LRFactor(schedule, 12, 2, 0.0, 4, 0.5)
    assert trace.lrs == pytest.approx([0.01 * f(s) for s in range(12)])
    if schedule == "cosine":
        assert trace.lrs[-1] == pytest.approx(0.01 * (1 + math.cos(math.pi * 9 / 10)) / 2)


def test_cosine_needs_length_or_total_steps(kit):
    gen = (b for b in [(torch.zeros(2, 4), torch.zeros(2, 1))])
    with pytest.raises(ValueError, match="total_steps"):
        Trainer(nn.Linear(4, 1), kit.mse_loss, kit.quiet_config(schedule="cosine")).fit(gen)
