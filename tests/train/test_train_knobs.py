"""The trainer's knobs: optimizer choice, gradient accumulation, fp16 with a GradScaler, and
``Trainer.state_dict`` / ``load_state_dict`` as the contract of a trainer's state."""

import importlib.util
import io
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

import rnnkit
from rnnkit.train import Callback, NonFiniteLossError, TrainConfig, Trainer

HERE = Path(__file__).parent

OPTIMIZERS = {
    "adamw": ({"optimizer": "adamw"}, lambda g: torch.optim.AdamW(g, lr=0.05, betas=(0.8, 0.95), eps=1e-7)),
    "adam": ({"optimizer": "adam"}, lambda g: torch.optim.Adam(g, lr=0.05, betas=(0.8, 0.95), eps=1e-7)),
    "sgd": ({"optimizer": "sgd"}, lambda g: torch.optim.SGD(g, lr=0.05)),
    "sgd-momentum": ({"optimizer": "sgd", "momentum": 0.9}, lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9)),
    "sgd-nesterov": ({"optimizer": "sgd", "momentum": 0.9, "nesterov": True},
                     lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9, nesterov=True)),
}


class _StepCount(Callback):
    def __init__(self):
        self.steps = 0

    def on_before_optimizer_step(self, trainer):
        self.steps += 1


class _StopAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, trainer, epoch, record):
        trainer.stop_training = epoch == self.epoch


def _batches(ds, batch_size):
    return list(DataLoader(ds, batch_size=batch_size, shuffle=False))


# ---------------------------------------------------------------------------- configuration
@pytest.mark.parametrize(
    "kw, message",
    [({"optimizer": "lion"}, "train.optimizer must be one of"),
     ({"momentum": -0.1}, "train.momentum"), ({"momentum": 1.0}, "train.momentum"),
     ({"momentum": float("nan")}, "train.momentum"),
     ({"optimizer": "sgd", "nesterov": True}, "train.nesterov needs train.momentum"),
     ({"grad_accum_steps": 0}, "train.grad_accum_steps"), ({"grad_accum_steps": 1.5}, "train.grad_accum_steps"),
     ({"amp": "fp8"}, "train.amp must be one of")],
)
def test_config_rejects_bad_knobs_naming_the_key(kw, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kw)


def test_new_knobs_round_trip_through_the_config_dict():
    cfg = TrainConfig(optimizer="sgd", momentum=0.9, nesterov=True, grad_accum_steps=4, amp="fp16")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


# ---------------------------------------------------------------------------- optimizers
@pytest.mark.learning
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_trains(kit, name):
    kw, _ = OPTIMIZERS[name]
    cfg = kit.quiet_config(epochs=15, lr=0.02, weight_decay=0.01, **kw)
    history = Trainer(kit.mlp(), kit.mse_loss, cfg).fit(_batches(kit.regression_data(n=32), 8))
    # measured last/first 0.008-0.067 (sgd the slowest; seeds 0-2, seed 0 under all 4 rounding settings)
    assert history[-1]["train_loss"] < 0.3 * history[0]["train_loss"], name


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_trainer_steps_like_the_torch_optimizer_by_hand(kit, name):
    """Two steps equal torch's own optimizer over the same groups (decay only on matrices)."""
    kw, make = OPTIMIZERS[name]
    batches = _batches(kit.regression_data(n=16), 8)
    cfg = kit.quiet_config(epochs=1, lr=0.05, weight_decay=0.1, betas=(0.8, 0.95), eps=1e-7, **kw)
    trainer = Trainer(kit.mlp(seed=1), kit.mse_loss, cfg)
    assert type(trainer.optimizer) is type(make([torch.zeros(1, requires_grad=True)]))
    trainer.fit(batches)

    model = kit.mlp(seed=1)
    matrices = [p for p in model.parameters() if p.dim() >= 2]
    vectors = [p for p in model.parameters() if p.dim() < 2]
    opt = make([{"params": matrices, "weight_decay": 0.1}, {"params": vectors, "weight_decay": 0.0}])
    for batch in batches:
        opt.zero_grad()
        kit.mse_loss(model, batch)[0].backward()
        opt.step()
    for (k, a), b in zip(model.state_dict().items(), trainer.model.state_dict().values()):
        assert torch.equal(a, b), k


# ---------------------------------------------------------------------------- accumulation
@pytest.mark.parametrize("batch_size", [4, 8])  # 8: 5 batches an epoch, the last group is short
def test_accumulating_k_batches_equals_one_batch_k_times_larger(kit, batch_size):
    ds = kit.regression_data(n=40)
    base = dict(epochs=3, lr=0.05, optimizer="sgd", momentum=0.9, weight_decay=0.1, grad_clip=0.5,
                schedule="cosine", warmup_steps=2)
    runs = {}
    for k in (1, 2):
        counter = _StepCount()
        trainer = Trainer(kit.mlp(seed=2), kit.mse_loss, kit.quiet_config(grad_accum_steps=k, **base),
                          callbacks=[counter])
        history = trainer.fit(_batches(ds, batch_size if k == 2 else 2 * batch_size))
        runs[k] = (trainer, history, counter.steps)
    (one, h1, s1), (two, h2, s2) = runs[1], runs[2]
    per_epoch = math.ceil(40 / (2 * batch_size))
    assert s1 == s2 == 3 * per_epoch  # one optimizer step per group, the short one included
    assert one.scheduler.last_epoch == two.scheduler.last_epoch == 3 * per_epoch
    assert two.step == 3 * math.ceil(40 / batch_size)  # step still counts batches
    for (name, a), b in zip(one.model.state_dict().items(), two.model.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=name)
    moved = any(not torch.equal(v, kit.mlp(seed=2).state_dict()[k]) for k, v in one.model.state_dict().items())
    assert moved
    for r1, r2 in zip(h1, h2):
        assert r1.keys() == r2.keys() and r1["lr"] == pytest.approx(r2["lr"], rel=1e-12)
        for key in ("train_loss", "train_mae", "train_grad_norm"):
            assert r2[key] == pytest.approx(r1[key], rel=1e-5), key


class _PerStep(nn.Module):
    """No recurrence: truncating BPTT changes nothing, so TBPTT must equal the whole sequence."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(4)
        self.lin = nn.Linear(3, 1)

    def forward(self, x):
        return self.lin(x)


def test_tbptt_accumulates_whole_batches_with_chunks_weighted_by_length(kit):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(12, 7, 3, generator=g), torch.randn(12, 7, 1, generator=g)
    batches = [(x[i:i + 4], y[i:i + 4]) for i in range(0, 12, 4)]  # 3 batches: groups of 2 and 1

    def whole(model, batch):
        return nn.functional.mse_loss(model(batch[0]), batch[1])

    def chunked(model, chunk, state):
        return nn.functional.mse_loss(model(chunk[0]), chunk[1]), {}, None

    base = dict(epochs=2, lr=0.1, optimizer="sgd", momentum=0.5, grad_accum_steps=2)
    counter = _StepCount()
    tb = Trainer(_PerStep(), chunked, kit.quiet_config(tbptt_steps=3, **base), callbacks=[counter])  # chunks 3, 3, 1
    tb.fit(batches)
    ref = Trainer(_PerStep(), whole, kit.quiet_config(**base))
    ref.fit(batches)
    assert counter.steps == 4  # per epoch: after batch 2 and after batch 3, not after each chunk
    for a, b in zip(ref.model.parameters(), tb.model.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)


def test_a_stop_inside_a_group_still_steps_on_its_batches(kit):
    class StopAfter(Callback):
        def on_train_batch_end(self, trainer, metrics):
            trainer.stop_training = trainer.step == 3

    ds = kit.regression_data(n=24)
    counter = _StepCount()
    cfg = kit.quiet_config(epochs=1, lr=0.05, optimizer="sgd", grad_accum_steps=2)
    stopped = Trainer(kit.mlp(), kit.mse_loss, cfg, callbacks=[StopAfter(), counter])
    stopped.fit(_batches(ds, 4))
    assert stopped.step == 3 and counter.steps == 2 and stopped.scheduler.last_epoch == 2
    ref = Trainer(kit.mlp(), kit.mse_loss, kit.quiet_config(epochs=1, lr=0.05, optimizer="sgd"))
    ref.fit(_batches(torch.utils.data.TensorDataset(*(t[:12] for t in ds.tensors)), 8))  # batches 8, 4
    for a, b in zip(ref.model.parameters(), stopped.model.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)


def _ddp_worker(tmp_path, rank, world, accum):
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(Path(rnnkit.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [sys.executable, str(HERE / "ddp_worker.py"), str(rank), str(world), str(tmp_path / "pg_init"),
         str(tmp_path), str(accum)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_ddp_with_accumulation_equals_one_process_on_the_global_batch(tmp_path):
    """2 gloo ranks x 2 accumulated batches of 2 == 1 process with batches of 8 (no_sync inside)."""
    procs = [_ddp_worker(tmp_path, r, 2, 2) for r in range(2)]
    logs = []
    for p in procs:
        try:
            logs.append(p.communicate(timeout=90)[0])
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
    assert all(p.returncode == 0 for p in procs), "\n".join(logs)
    sys.path.insert(0, str(HERE))  # the worker imports _trainkit as a sibling
    try:
        spec = importlib.util.spec_from_file_location("rnnkit_tests_ddp_worker_knobs", HERE / "ddp_worker.py")
        worker = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(worker)
    finally:
        sys.path.remove(str(HERE))
    ref_model, ref_history, _ = worker.train(0, 1, str(tmp_path / "single"))  # k=1, batch 8
    got = torch.load(tmp_path / "result.pt", weights_only=True)
    assert got["wrapped"] == "DistributedDataParallel" and got["accum"] == 2
    for k, v in ref_model.state_dict().items():
        torch.testing.assert_close(got["weights"][k], v, atol=1e-6, rtol=0)
    for a, b in zip(got["history"], ref_history):
        assert a.keys() == b.keys() and a["step"] == 2 * b["step"]  # step counts (micro-)batches
        for key in a.keys() - {"step"}:  # all-reduced: rank 0 reports the global averages
            assert abs(a[key] - b[key]) <= 1e-6 * max(1.0, abs(b[key])), key


# ---------------------------------------------------------------------------- state_dict
def _noisy_run(kit, callbacks=(), loader_seed=5, init_seed=0, restore_best=True, **kw):
    cfg = kit.quiet_config(epochs=4, lr=0.03, optimizer="sgd", momentum=0.9, nesterov=True, grad_accum_steps=2,
                           schedule="cosine", warmup_steps=2, grad_clip=1.0, restore_best=restore_best, **kw)
    trainer = Trainer(kit.mlp(seed=init_seed, dropout=0.3), kit.mse_loss, cfg, callbacks=list(callbacks))
    loader = kit.shuffled_loader(kit.regression_data(n=36), batch_size=8, seed=loader_seed)
    return trainer, loader


def test_state_dict_round_trip_continues_bit_for_bit(kit):
    val = kit.regression_data(n=12, seed=1)
    full, loader = _noisy_run(kit)
    full_history = full.fit(loader, val)

    # Stopped after epoch 2 (restore_best off, so its model holds epoch 2's weights).
    part, loader = _noisy_run(kit, callbacks=[_StopAt(2)], restore_best=False)
    part.fit(loader, val)
    buf = io.BytesIO()
    torch.save({"model": part.model.state_dict(), "trainer": part.state_dict()}, buf)
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)  # only tensors and plain values
    assert saved["trainer"]["epoch"] == 2 and saved["trainer"]["best_weights"] is not None
    torch.manual_seed(1234)  # the loaded state, not this, decides the random streams

    resumed, loader = _noisy_run(kit, loader_seed=99, init_seed=7)
    resumed.model.load_state_dict(saved["model"])
    resumed.load_state_dict(saved["trainer"])
    history = resumed.fit(loader, val)

    assert history == full_history
    for (k, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), k  # the best epoch's weights, restored at the end of both fits
    for a, b in zip(full.optimizer.state_dict()["state"].values(), resumed.optimizer.state_dict()["state"].values()):
        assert torch.equal(a["momentum_buffer"], b["momentum_buffer"])
    assert full.scheduler.state_dict() == resumed.scheduler.state_dict()


def test_state_dict_holds_the_documented_keys(kit):
    trainer, loader = _noisy_run(kit)
    trainer.fit(loader)
    state = trainer.state_dict()
    assert set(state) == {"format", "epoch", "step", "optimizer", "scheduler", "scaler", "rng", "loader_rng", "best",
                          "best_weights", "callbacks", "history", "start_loss", "above_start", "skipped_steps",
                          "config"}
    assert state["epoch"] == 4 and state["step"] == 20 and state["scaler"] is None
    assert state["scheduler"]["last_epoch"] == 12 and len(state["loader_rng"]) == 1
    assert state["config"]["grad_accum_steps"] == 2


def test_a_foreign_state_format_is_refused(kit):
    trainer, _ = _noisy_run(kit)
    state = trainer.state_dict()
    state["format"] = 99
    with pytest.raises(ValueError, match="format 99"):
        trainer.load_state_dict(state)


# ---------------------------------------------------------------------------- fp16 / GradScaler
def test_fp16_on_cpu_warns_and_trains_in_float32(kit):
    batches = _batches(kit.regression_data(n=16), 8)
    with pytest.warns(UserWarning, match="amp='fp16' needs a CUDA device"):
        half = Trainer(kit.mlp(), kit.mse_loss, kit.quiet_config(epochs=2, amp="fp16"))
    assert half.scaler is None
    half.fit(batches)
    plain = Trainer(kit.mlp(), kit.mse_loss, kit.quiet_config(epochs=2))
    plain.fit(batches)
    for a, b in zip(plain.model.parameters(), half.model.parameters()):
        assert b.dtype == torch.float32 and torch.equal(a, b)


def _scaled_run(kit, run_dir, init_scale, callbacks=(), **kw):
    """The scaler path of amp='fp16' on CPU: the same code, with a CPU GradScaler put in."""
    cfg = kit.quiet_config(epochs=4, lr=0.02, grad_clip=1.0, **kw)
    trainer = Trainer(kit.mlp(dropout=0.2), lambda m, b: 1e3 * kit.mse_loss(m, b)[0], cfg, run_dir=run_dir,
                      callbacks=list(callbacks))
    trainer.scaler = torch.amp.GradScaler("cpu", init_scale=init_scale, growth_interval=3)
    return trainer


class _Crash(Callback):
    def on_train_batch_start(self, trainer, batch):
        if trainer.step == 13:
            raise KeyboardInterrupt("simulated crash")


@pytest.mark.learning
def test_scaler_skips_overflowing_steps_without_stopping_and_resumes_exactly(kit, tmp_path):
    ds = kit.regression_data(n=40)
    skipped = []

    class Norms(Callback):
        def on_train_batch_end(self, trainer, metrics):
            skipped.append("grad_norm" not in metrics)

    full = _scaled_run(kit, tmp_path / "full", 2.0**120, callbacks=[Norms()])
    history = full.fit(kit.shuffled_loader(ds))
    assert skipped[0] and not all(skipped)  # the first steps overflowed and were skipped, then it trained
    assert full.scaler.get_scale() < 2.0**120
    assert history[-1]["train_loss"] < history[0]["train_loss"]  # measured 0.11-0.19 of the first (seeds 0-2)
    assert all(math.isfinite(r["train_grad_norm"]) for r in history)  # skipped steps leave it out
    state = torch.load(tmp_path / "full" / "checkpoints" / "latest" / "trainer_state.pt", weights_only=True)
    assert state["scaler"]["scale"] == full.scaler.get_scale()
    assert state["scaler"]["growth_interval"] == 3

    with pytest.raises(KeyboardInterrupt):
        _scaled_run(kit, tmp_path / "cut", 2.0**120, callbacks=[_Crash()]).fit(kit.shuffled_loader(ds))
    resumed = _scaled_run(kit, tmp_path / "cut", 1.0)  # the checkpoint's scale replaces this one
    again = resumed.fit(kit.shuffled_loader(ds, seed=7), resume=True)
    assert again == history and resumed.scaler.get_scale() == full.scaler.get_scale()
    for a, b in zip(full.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)


def test_scaled_steps_that_are_always_skipped_stop_after_divergence_steps(kit):
    def nan_grad(model, batch):  # a finite loss whose gradient is NaN: d sqrt(x)/dx at 0 is inf, x 0
        loss = kit.mse_loss(model, batch)[0]
        return loss + 0.0 * torch.sqrt(0.0 * model[0].weight.sum())

    trainer = Trainer(kit.mlp(), nan_grad, kit.quiet_config(epochs=3, divergence_steps=4))
    trainer.scaler = torch.amp.GradScaler("cpu", init_scale=8.0)
    with pytest.raises(NonFiniteLossError, match="4 optimizer steps in a row, all skipped by the fp16 GradScaler"):
        trainer.fit(_batches(kit.regression_data(n=48), 8))
    assert trainer.step == 3  # stopped in the 4th batch's step, before it was counted

    plain = Trainer(kit.mlp(), nan_grad, kit.quiet_config(epochs=3))
    with pytest.raises(NonFiniteLossError, match="non-finite gradient norm"):
        plain.fit(_batches(kit.regression_data(n=48), 8))
    assert plain.step == 0  # without a scaler the first one stops


@pytest.mark.learning
@pytest.mark.gpu
def test_fp16_on_cuda_trains_with_a_grad_scaler_and_checkpoints_it(kit, tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.rnn = nn.LSTM(4, 32, batch_first=True)
            self.head = nn.Linear(32, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 12, 4, generator=g)
    y = x.sum(dim=(1, 2)).unsqueeze(1) / 6
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    cfg = kit.quiet_config(epochs=40, lr=1e-2, amp="fp16", device="cuda", grad_clip=1.0, grad_accum_steps=2,
                           divergence_steps=50)
    trainer = Trainer(Net(), kit.mse_loss, cfg, run_dir=tmp_path / "run")
    assert isinstance(trainer.scaler, torch.amp.GradScaler) and trainer.scaler.is_enabled()
    trainer.scaler = torch.amp.GradScaler("cuda", init_scale=2.0**26, growth_interval=1000)  # first steps overflow
    seen = []

    class Dtype(Callback):
        def on_before_optimizer_step(self, trainer):
            seen.append(trainer.model.head.weight.grad.dtype)

    trainer.callbacks.append(Dtype())
    history = trainer.fit(batches)
    assert history[-1]["train_loss"] < 0.3 * history[0]["train_loss"]
    assert trainer.scaler.get_scale() < 2.0**26 and set(seen) == {torch.float32}
    state = torch.load(tmp_path / "run" / "checkpoints" / "latest" / "trainer_state.pt", weights_only=True)
    assert state["scaler"]["scale"] == trainer.scaler.get_scale()

    class Scale(Callback):
        def on_fit_start(self, trainer):
            self.scale = trainer.scaler.get_scale()

    probe = Scale()
    more = Trainer(Net(), kit.mse_loss, TrainConfig(**{**cfg.to_dict(), "epochs": 41}), run_dir=tmp_path / "run",
                   callbacks=[probe])
    more.fit(batches, resume=True)
    assert more.epoch == 41 and probe.scale == state["scaler"]["scale"]
    assert more.scaler.state_dict()["growth_interval"] == 1000
