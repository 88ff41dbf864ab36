"""Exact resume: a run interrupted mid-epoch and resumed equals the uninterrupted run bit for bit."""

import csv

import numpy as np
import pytest
import torch
from torch import nn

from rnnkit.train import Callback, Trainer


class Crash(Callback):
    """Simulates a kill in the middle of an epoch (after some steps were taken and logged)."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch, self.seen = epoch, batch, 0

    def on_epoch_start(self, trainer, epoch):
        self.current, self.seen = epoch, 0

    def on_train_batch_start(self, trainer, batch):
        self.seen += 1
        if self.current == self.epoch and self.seen == self.batch:
            raise KeyboardInterrupt("simulated crash")


def _noisy_loss(model, batch):
    # numpy noise and dropout: resume must restore the numpy and torch global RNGs too.
    x, y = batch
    x = x + 0.05 * torch.from_numpy(np.random.standard_normal(x.shape).astype(np.float32))
    pred = model(x)
    return nn.functional.mse_loss(pred, y), {"mae": (pred - y).abs().mean()}


def _rows(path):
    with open(path) as f:
        return [(r["epoch"], r["step"], r["split"], r["loss"]) for r in csv.DictReader(f)]


def _run(kit, run_dir, loader_seed, init_seed, callbacks=(), resume=False):
    ds = kit.regression_data(n=40)
    val = kit.regression_data(n=12, seed=1)
    cfg = kit.quiet_config(
        epochs=5, lr=0.02, schedule="cosine", warmup_steps=3, grad_clip=1.0, weight_decay=0.1,
        restore_best=False, log_every=2,
    )
    model = kit.mlp(seed=init_seed, dropout=0.3)
    trainer = Trainer(model, _noisy_loss, cfg, run_dir=run_dir, callbacks=list(callbacks))
    history = trainer.fit(kit.shuffled_loader(ds, batch_size=8, seed=loader_seed), val, resume=resume)
    return trainer, history


def test_resume_after_crash_is_bit_exact(kit, tmp_path):
    full, full_history = _run(kit, tmp_path / "full", loader_seed=123, init_seed=0)

    with pytest.raises(KeyboardInterrupt):
        _run(kit, tmp_path / "cut", loader_seed=123, init_seed=0, callbacks=[Crash(epoch=3, batch=4)])
    # A new process: different initial weights and a differently seeded loader; all state comes
    # from checkpoints/latest (end of epoch 2).
    resumed, history = _run(kit, tmp_path / "cut", loader_seed=999, init_seed=7, resume=True)

    assert [r["epoch"] for r in history] == [1, 2, 3, 4, 5]
    assert history == full_history  # every epoch's train/val metrics and lr, exactly
    for (k, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), k
    for a, b in zip(full.optimizer.state_dict()["state"].values(), resumed.optimizer.state_dict()["state"].values()):
        assert torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])
    # The rows the crashed run logged during epoch 3 were dropped, not duplicated.
    assert _rows(tmp_path / "cut" / "metrics.csv") == _rows(tmp_path / "full" / "metrics.csv")
    assert "resumed at epoch 2" in (tmp_path / "cut" / "command.txt").read_text()


def test_resume_of_finished_run_does_nothing_more(kit, tmp_path):
    _, first = _run(kit, tmp_path, loader_seed=1, init_seed=0)
    trainer, again = _run(kit, tmp_path, loader_seed=1, init_seed=3, resume=True)
    assert again == first and trainer.step == 25


def test_resume_from_checkpoint_restores_early_stopping_state(kit, tmp_path):
    class Stop(Callback):
        def on_epoch_end(self, trainer, epoch, record):
            trainer.stop_training = epoch == 3

    class Probe(Callback):
        def on_fit_start(self, trainer):
            self.es = dict(trainer.callbacks[-1].state_dict())

    ds = kit.regression_data(n=16)
    val = [tuple(t + 1.0 for t in ds.tensors)]  # a shifted validation set: some epochs are bad
    cfg = kit.quiet_config(epochs=6, lr=0.05, patience=5)
    first = Trainer(kit.mlp(), kit.mse_loss, cfg, run_dir=tmp_path / "a", callbacks=[Stop()])
    first.fit(kit.shuffled_loader(ds), val)
    saved = first.callbacks[-1].state_dict()
    assert saved["best"] is not None

    probe = Probe()
    second = Trainer(kit.mlp(seed=5), kit.mse_loss, cfg, run_dir=tmp_path / "b", callbacks=[probe])
    second.fit(kit.shuffled_loader(ds), val, resume_from=tmp_path / "a" / "checkpoints" / "latest")
    assert probe.es == saved  # EarlyStopping state came back (the Stop callback had none)
    assert second.epoch == 6 and [r["epoch"] for r in second.history] == list(range(1, 7))

    third = Trainer(kit.mlp(), kit.mse_loss, kit.quiet_config(epochs=6, lr=0.05), run_dir=tmp_path / "c")
    with pytest.warns(UserWarning, match="EarlyStopping"):
        third.fit(kit.shuffled_loader(ds), val, resume_from=tmp_path / "a" / "checkpoints" / "latest")


def _saved_folder(kit, run_dir, remember, epochs=5, resume=False, patience=0):
    """A run with early stopping and best-weight restore, trained in ``run_dir`` or (``remember``)
    in memory and written there afterwards by ``save_run``."""
    ds, val = kit.regression_data(n=40), kit.regression_data(n=12, seed=1)
    cfg = kit.quiet_config(epochs=epochs, lr=0.05, schedule="cosine", weight_decay=0.1, restore_best=True,
                           patience=patience, checkpoint_every=2, plots=True)
    trainer = Trainer(kit.mlp(seed=0, dropout=0.3), _noisy_loss, cfg, run_dir=None if remember else run_dir,
                      remember_checkpoints=remember)
    history = trainer.fit(kit.shuffled_loader(ds, batch_size=8, seed=5), val, resume=resume)
    if remember:
        trainer.save_run(run_dir)
    return trainer, history


def test_save_run_writes_the_folder_a_run_trained_there_would_have(kit, tmp_path):
    """Trained in memory then ``save_run``: the same checkpoints (weights and state), metrics and
    run files as training in the folder; resuming either with more epochs gives the same run."""
    from rnnkit.train.checkpoint import load_state, load_weights

    _, h_direct = _saved_folder(kit, tmp_path / "direct", remember=False, epochs=6, patience=50)
    mem, h_mem = _saved_folder(kit, tmp_path / "memory", remember=True, epochs=6, patience=50)
    assert h_mem == h_direct
    best_epoch = mem.best.state_dict()["best_epoch"]
    assert best_epoch < 6  # the best is not the last epoch: latest and best differ (noise and lr 0.05)
    for name in ("latest", "best"):
        a, b = (load_weights(d / "checkpoints" / name / "model.safetensors") for d in (tmp_path / "direct",
                                                                                        tmp_path / "memory"))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
        sa, sb = (load_state(d / "checkpoints" / name / "trainer_state.pt") for d in (tmp_path / "direct",
                                                                                      tmp_path / "memory"))
        assert sa["epoch"] == sb["epoch"] == (6 if name == "latest" else best_epoch)
        assert sa["history"] == sb["history"] and sa["best"] == sb["best"]
        for x, y in zip(sa["optimizer"]["state"].values(), sb["optimizer"]["state"].values()):
            assert torch.equal(x["exp_avg_sq"], y["exp_avg_sq"]), name
    assert _rows(tmp_path / "memory" / "metrics.csv") == _rows(tmp_path / "direct" / "metrics.csv")
    for f in ("config.json", "command.txt", "curves.png"):
        assert (tmp_path / "memory" / f).is_file(), f
    # continued for 3 more epochs from each folder: the same run
    more = [_saved_folder(kit, tmp_path / d, remember=False, epochs=9, patience=50, resume=True)
            for d in ("direct", "memory")]
    assert more[0][1] == more[1][1] and len(more[0][1]) == 9
    for (k, a), b in zip(more[0][0].model.state_dict().items(), more[1][0].model.state_dict().values()):
        assert torch.equal(a, b), k


def test_save_run_needs_remembered_checkpoints(kit, tmp_path):
    trainer = Trainer(kit.mlp(), kit.mse_loss, kit.quiet_config(epochs=1), remember_checkpoints=True)
    with pytest.raises(RuntimeError, match="remember_checkpoints=True"):
        trainer.save_run(tmp_path / "run")


def _paused_pair(kit, restore_best=True):
    """A trainer of the resume tests' model and noisy loss (numpy noise, dropout), with its loaders."""
    ds, val = kit.regression_data(n=40), kit.regression_data(n=12, seed=1)
    cfg = kit.quiet_config(epochs=5, lr=0.02, schedule="cosine", warmup_steps=3, grad_clip=1.0, weight_decay=0.1,
                           restore_best=restore_best, seed=3)
    trainer = Trainer(kit.mlp(seed=0, dropout=0.3), _noisy_loss, cfg)
    return trainer, kit.shuffled_loader(ds, batch_size=8, seed=123), val


def test_a_paused_fit_goes_on_as_one_fit_would_even_after_other_training(kit):
    """Successive halving trains several models a few epochs each, then continues the best: the
    continued fit must equal the uninterrupted one, although the other trainings moved the global
    RNGs (dropout and the loss's numpy noise draw from them)."""
    full, loader, val = _paused_pair(kit)
    full_history = full.fit(loader, val)

    paused, loader, val = _paused_pair(kit)
    paused.fit(loader, val, pause_after=2)
    assert paused.paused and paused.epoch == 2 and [r["epoch"] for r in paused.history] == [1, 2]
    at_pause = {k: v.clone() for k, v in paused.model.state_dict().items()}
    other, other_loader, other_val = _paused_pair(kit)  # another model trained in between
    other.fit(other_loader, other_val, pause_after=1)
    torch.randn(7), np.random.standard_normal(3)
    # the latest weights, not the best, stay in the model while it waits
    assert all(torch.equal(at_pause[k], v) for k, v in paused.model.state_dict().items())

    history = paused.fit(loader, val)
    assert not paused.paused and history == full_history
    for (k, a), b in zip(full.model.state_dict().items(), paused.model.state_dict().values()):
        assert torch.equal(a, b), k


def test_pause_after_must_leave_an_epoch(kit):
    trainer, loader, val = _paused_pair(kit)
    with pytest.raises(ValueError, match="pause_after must be >= 1"):
        trainer.fit(loader, val, pause_after=0)
    trainer.fit(loader, val, pause_after=9)  # beyond the epochs: an ordinary fit
    assert not trainer.paused and trainer.epoch == 5
