"""fit / evaluate / predict behaviour: learning, early stopping, clipping, NaN, protocol errors."""

import math
import os

import pytest
import torch
from torch import nn

from rnnkit.train import Callback, NonFiniteLossError, Trainer, load_checkpoint


class _Snapshots(Callback):
    """Weights at the end of every epoch."""

    def __init__(self):
        self.weights = {}

    def on_epoch_end(self, trainer, epoch, record):
        self.weights[epoch] = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


@pytest.mark.learning
def test_overfits_one_small_batch(kit):
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(3, 32, batch_first=True)
            self.head = nn.Linear(32, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    x = torch.randn(8, 10, 3)
    y = x.sum(dim=(1, 2)).unsqueeze(1) / 5
    trainer = Trainer(Net(), kit.mse_loss, kit.quiet_config(epochs=150, lr=1e-2, weight_decay=0.0))
    first = trainer.evaluate([(x, y)])["loss"]
    history = trainer.fit([(x, y)])
    # measured (4 seeds x 4 rounding settings): before 0.60-2.7, after 1.6e-8 to 1.1e-7
    assert first > 0.3
    assert history[-1]["train_loss"] < 2e-3
    assert trainer.evaluate([(x, y)])["loss"] < 2e-3


class Scalar(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))


def _scalar_loss(model, target):
    return ((model.w - target) ** 2).mean()


def test_early_stopping_restores_best_epoch(kit, tmp_path):
    # Training pulls w from 0 towards 1; validation wants 0.3, so it improves, then worsens.
    train = [torch.ones(4, 1)]
    val = [torch.full((4, 1), 0.3)]
    snaps = _Snapshots()
    cfg = kit.quiet_config(epochs=20, lr=0.1, patience=2, monitor="val_loss", mode="min")
    trainer = Trainer(Scalar(), _scalar_loss, cfg, run_dir=tmp_path, callbacks=[snaps])
    history = trainer.fit(train, val)

    val_losses = [r["val_loss"] for r in history]
    best = 1 + val_losses.index(min(val_losses))
    assert best == 3 and len(history) == best + 2  # stopped after `patience` worse epochs
    assert val_losses[3] > val_losses[2] and val_losses[4] > val_losses[3]
    assert "early stopping" in trainer.stop_reason
    assert torch.equal(trainer.model.w, snaps.weights[best]["w"])
    assert not torch.equal(snaps.weights[len(history)]["w"], snaps.weights[best]["w"])
    ck = load_checkpoint(tmp_path / "checkpoints" / "best")
    assert ck.state["epoch"] == best and torch.equal(ck.weights["w"], snaps.weights[best]["w"])
    assert load_checkpoint(tmp_path / "checkpoints" / "latest").state["epoch"] == len(history)


def test_max_mode_and_missing_monitor(kit):
    val = [torch.full((4, 1), 0.3)]
    cfg = kit.quiet_config(epochs=3, lr=0.1, patience=1, monitor="val_score", mode="max")
    with pytest.raises(KeyError, match="val_score"):
        Trainer(Scalar(), _scalar_loss, cfg).fit([torch.ones(4, 1)], val)

    def with_score(model, target):
        loss = _scalar_loss(model, target)
        return loss, {"score": -loss}

    snaps = _Snapshots()
    trainer = Trainer(Scalar(), with_score, cfg, callbacks=[snaps])
    history = trainer.fit([torch.ones(4, 1)] * 1, val)
    assert history[0]["val_score"] == pytest.approx(-history[0]["val_loss"])
    assert trainer.best.best == max(r["val_score"] for r in history)


class _GradNorms(Callback):
    def __init__(self):
        self.norms = []

    def on_before_optimizer_step(self, trainer):
        grads = [p.grad for p in trainer.model.parameters() if p.grad is not None]
        self.norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))


@pytest.mark.parametrize("clip", [0.0, 0.5])
def test_gradient_clipping_bounds_total_norm(kit, clip):
    ds = kit.regression_data()
    big = [(x * 50, y * 50) for x, y in kit.shuffled_loader(ds)]
    probe = _GradNorms()
    trainer = Trainer(kit.mlp(), kit.mse_loss, kit.quiet_config(epochs=2, grad_clip=clip), callbacks=[probe])
    history = trainer.fit(big)
    if clip:
        assert all(r["train_grad_norm"] > 2.0 for r in history)  # logged norm is the pre-clip one
        assert min(probe.norms) == pytest.approx(clip, rel=1e-5)
        assert max(probe.norms) == pytest.approx(clip, rel=1e-5)
    else:
        assert min(probe.norms) > 2.0  # the same gradients, unclipped, are large
        assert "train_grad_norm" not in history[0]


def test_evaluate_weights_batches_by_size(kit):
    batches = [torch.ones(3, 2), torch.full((1, 2), 5.0)]

    def loss_fn(model, b):
        return b.mean(), {"double": torch.tensor(2.0) * b.mean(), "plain": 1.0}

    trainer = Trainer(nn.Linear(2, 1), loss_fn, kit.quiet_config())
    out = trainer.evaluate(batches)
    assert out == {"loss": pytest.approx(2.0), "double": pytest.approx(4.0), "plain": 1.0}
    custom = Trainer(nn.Linear(2, 1), loss_fn, kit.quiet_config(), batch_size_fn=lambda b: 1)
    assert custom.evaluate(batches)["loss"] == pytest.approx(3.0)


def test_predict_concatenates_outputs(kit):
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    ds = kit.regression_data(n=10)
    loader = torch.utils.data.DataLoader(ds, batch_size=4)
    trainer = Trainer(model, kit.mse_loss, kit.quiet_config())
    model.train()
    out = trainer.predict(loader)
    x = ds.tensors[0]
    assert torch.allclose(out, model(x), atol=1e-6, rtol=0)
    assert model.training  # predict restores the mode
    pair = trainer.predict(loader, fn=lambda m, b: (m(b[0]), {"y": b[1]}))
    assert torch.allclose(pair[0], model(x), atol=1e-6, rtol=0) and torch.equal(pair[1]["y"], ds.tensors[1])
    # A map-style Dataset is batched by the trainer itself, in order.
    assert torch.allclose(trainer.predict(ds), model(x), atol=1e-6, rtol=0)


def test_fit_on_dataset_uses_config_batch_size(kit):
    sizes = []

    def loss_fn(model, batch):
        sizes.append(len(batch[0]))
        return kit.mse_loss(model, batch)

    Trainer(kit.mlp(), loss_fn, kit.quiet_config(epochs=1, batch_size=16)).fit(kit.regression_data(n=40))
    assert sizes == [16, 16, 8]


def test_nan_loss_stops_and_keeps_last_good_checkpoint(kit, tmp_path):
    calls = {"n": 0}

    def loss_fn(model, batch):
        calls["n"] += 1
        loss, metrics = kit.mse_loss(model, batch)
        return (loss * math.nan if calls["n"] == 7 else loss), metrics

    snaps = _Snapshots()
    loader = kit.shuffled_loader(kit.regression_data(n=40), batch_size=8)  # 5 batches per epoch
    trainer = Trainer(kit.mlp(), loss_fn, kit.quiet_config(epochs=4), run_dir=tmp_path, callbacks=[snaps])
    with pytest.raises(NonFiniteLossError, match=r"epoch 2, step 7") as info:
        trainer.fit(loader)
    assert info.value.epoch == 2 and info.value.step == 7
    assert info.value.checkpoint == tmp_path / "checkpoints" / "latest"
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())  # bad step not applied
    ck = load_checkpoint(tmp_path / "checkpoints" / "latest")
    assert ck.state["epoch"] == 1 and ck.state["step"] == 5
    assert all(torch.equal(ck.weights[k], v) for k, v in snaps.weights[1].items())
    assert os.listdir(tmp_path / "checkpoints") == ["latest"]  # no temporary leftovers


def test_inf_loss_without_run_dir(kit):
    trainer = Trainer(nn.Linear(2, 1), lambda m, b: m(b).sum() * math.inf, kit.quiet_config(epochs=1))
    with pytest.raises(NonFiniteLossError, match="no checkpoint was written"):
        trainer.fit([torch.ones(2, 2)])


def test_callback_can_stop_training(kit):
    class StopAfter(Callback):
        def on_epoch_end(self, trainer, epoch, record):
            if epoch == 2:
                trainer.stop_training = True

    history = Trainer(kit.mlp(), kit.mse_loss, kit.quiet_config(epochs=10), callbacks=[StopAfter()]).fit(
        kit.shuffled_loader(kit.regression_data())
    )
    assert [r["epoch"] for r in history] == [1, 2]


def test_loss_fn_return_type_is_checked(kit):
    trainer = Trainer(nn.Linear(2, 1), lambda m, b: [m(b).sum()], kit.quiet_config(epochs=1))
    with pytest.raises(TypeError, match="loss tensor or"):
        trainer.fit([torch.ones(2, 2)])


def test_bf16_on_cpu_warns_and_trains_in_float32(kit):
    dtypes = []

    def loss_fn(model, batch):
        out = model(batch[0])
        dtypes.append(out.dtype)
        return nn.functional.mse_loss(out, batch[1])

    with pytest.warns(UserWarning, match="CUDA"):
        trainer = Trainer(kit.mlp(), loss_fn, kit.quiet_config(epochs=1, amp="bf16"))
    trainer.fit(kit.shuffled_loader(kit.regression_data()))
    assert set(dtypes) == {torch.float32}


def test_resume_flags(kit, tmp_path):
    cfg = kit.quiet_config(epochs=1)
    with pytest.raises(ValueError, match="run_dir"):
        Trainer(kit.mlp(), kit.mse_loss, cfg).fit([], resume=True)
    with pytest.raises(FileNotFoundError, match="resume_from"):
        Trainer(kit.mlp(), kit.mse_loss, cfg).fit([], resume_from=tmp_path / "nope")
    # resume=True on an empty run folder simply starts fresh.
    history = Trainer(kit.mlp(), kit.mse_loss, cfg, run_dir=tmp_path).fit(
        kit.shuffled_loader(kit.regression_data()), resume=True
    )
    assert len(history) == 1
    with pytest.warns(UserWarning, match="overwrites"):
        Trainer(kit.mlp(), kit.mse_loss, cfg, run_dir=tmp_path).fit(kit.shuffled_loader(kit.regression_data()))


def test_second_fit_continues_with_more_epochs(kit):
    loader = kit.shuffled_loader(kit.regression_data())
    cfg = kit.quiet_config(epochs=2, schedule="linear", total_steps=20)
    trainer = Trainer(kit.mlp(), kit.mse_loss, cfg)
    trainer.fit(loader)
    assert trainer.fit(loader) == trainer.history and trainer.epoch == 2  # already finished
    trainer.config.epochs = 4
    history = trainer.fit(loader)
    assert [r["epoch"] for r in history] == [1, 2, 3, 4] and trainer.step == 20
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)  # schedule kept its place


def test_epoch_bar_is_one_bar_that_ends_where_training_stopped(kit, capsys):
    """``EpochBar``: one bar over the fit's epochs with the monitored metric; early stopping ends it
    at the epoch training stopped at, and a run without it is the same run."""
    from rnnkit.train import EpochBar

    ds, val = kit.regression_data(n=24), kit.regression_data(n=8, seed=1)

    def run(callbacks):
        cfg = kit.quiet_config(epochs=40, lr=0.5, patience=2, min_delta=1.0)  # stops within a few epochs
        trainer = Trainer(kit.mlp(seed=0), kit.mse_loss, cfg, callbacks=callbacks)
        return trainer, trainer.fit(kit.shuffled_loader(ds, seed=2), val)

    with_bar, history = run([EpochBar("candidate 1/1")])
    err = capsys.readouterr().err
    assert with_bar.epoch < 10 and with_bar.stop_training
    assert "candidate 1/1:" in err and f" {with_bar.epoch}/40 " in err and "val_loss=" in err
    assert f" {with_bar.epoch + 1}/40 " not in err
    assert run([])[1] == history
