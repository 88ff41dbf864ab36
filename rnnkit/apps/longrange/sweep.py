"""The long-range sweep: every (task, T) x every cell, trained the same way, scored on a test set.

Each run trains :class:`~rnnkit.apps.longrange.model.LongRangeModel` for ``train.steps``
minibatches with :class:`rnnkit.train.Trainer` (AdamW, gradient clipping), then measures the
task's metric on its fixed test set and the wall time of training. All cells of one (task, T)
see the same batches and start from the same seed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnnkit import config as C
from rnnkit.layers import init_forget_bias
from rnnkit.apps.longrange.model import CELLS, LongRangeModel
from rnnkit.apps.longrange.problems import DIGIT_LENGTH, TASKS, Problem, make_problem
from rnnkit.train.run_folder import read_run_info, write_run_info
from rnnkit.train import (
    TrainConfig,
    Trainer,
    atomic_write_json,
    load_weights,
    save_weights,
)

NAME = "longrange"


@dataclass
class LongRangeDataConfig:
    """tasks: from adding, copy, smnist, psmnist. lengths: T of adding and copy (the digit tasks
    are always T = 784). copy: ``n_symbols`` S and ``copy_len`` K. test_size: adding/copy test
    sequences (digits: 1,000 of the 5,000 held out). perm_seed: the fixed pixel permutation."""

    tasks: list[str] = field(default_factory=lambda: ["adding", "copy", "smnist", "psmnist"])
    lengths: list[int] = field(default_factory=lambda: [100, 1000])
    n_symbols: int = 8
    copy_len: int = 10
    test_size: int = 512
    seed: int = 0
    perm_seed: int = 0


@dataclass
class LongRangeModelConfig:
    """forget_bias: the LSTM's initial forget-gate bias (``rnnkit.layers.init_forget_bias``);
    0 keeps torch's initialisation. Only the ``lstm`` cell has one."""

    cells: list[str] = field(default_factory=lambda: list(CELLS))
    hidden_size: int = 32
    num_layers: int = 1
    forget_bias: float = 0.0


@dataclass
class LongRangeTrainConfig:
    steps: int = 60
    batch_size: int = 32
    lr: float = 1e-2
    grad_clip: float = 1.0
    seed: int = 0


@dataclass
class LongRangeConfig:
    data: LongRangeDataConfig = field(default_factory=LongRangeDataConfig)
    model: LongRangeModelConfig = field(default_factory=LongRangeModelConfig)
    train: LongRangeTrainConfig = field(default_factory=LongRangeTrainConfig)


PRESETS: dict[str, list[str]] = {
    # The sweep recorded in docs/long_sequences.md: 30 runs, 23 minutes of training in all on a
    # shared 2-core machine (load ~13); T = 1,000 runs take most of it.
    "default": [],
    # The adding problem with 5x the steps: enough for gated cells to learn it at short T.
    "adding": ["data.tasks=adding", "data.lengths=30,100,300,1000", "train.steps=300"],
    # T = 5,000 for adding and copy: each step costs ~5x a T = 1,000 step (measured 0.5-2.8 s per
    # step at T = 1,000 for the sequential cells under load), so this takes 1-2 hours here.
    "long": ["data.tasks=adding,copy", "data.lengths=1000,5000"],
    # Seconds: tests and smoke runs.
    "tiny": ["data.tasks=adding,copy", "data.lengths=30,60", "data.copy_len=3", "data.test_size=64",
             "model.hidden_size=8", "train.steps=3", "train.batch_size=8"],
}


def default_config() -> LongRangeConfig:
    return LongRangeConfig()


def check_config(cfg: LongRangeConfig) -> None:
    bad = [t for t in cfg.data.tasks if t not in TASKS]
    if bad or not cfg.data.tasks:
        raise C.ConfigError(f"data.tasks must be a non-empty list from {', '.join(TASKS)}; got {cfg.data.tasks}")
    bad = [c for c in cfg.model.cells if c not in CELLS]
    if bad or not cfg.model.cells:
        raise C.ConfigError(f"model.cells must be a non-empty list from {', '.join(CELLS)}; got {cfg.model.cells}")
    if {"adding", "copy"} & set(cfg.data.tasks):
        if not cfg.data.lengths or min(cfg.data.lengths) < 2:
            raise C.ConfigError(f"data.lengths must be a non-empty list of T >= 2; got {cfg.data.lengths}")
        if "copy" in cfg.data.tasks and min(cfg.data.lengths) <= 2 * cfg.data.copy_len:
            raise C.ConfigError(f"copy memory needs every T > 2 * data.copy_len = {2 * cfg.data.copy_len}; "
                                f"got lengths {cfg.data.lengths}")
    for name in ("steps", "batch_size"):
        if getattr(cfg.train, name) < 1:
            raise C.ConfigError(f"train.{name} must be >= 1")
    if cfg.model.hidden_size < 1 or cfg.data.test_size < 1:
        raise C.ConfigError("model.hidden_size and data.test_size must be >= 1")


def grid(cfg: LongRangeConfig) -> list[tuple[str, int]]:
    """(task, T) pairs in order; the digit tasks once each at T = 784."""
    out = []
    for task in cfg.data.tasks:
        out += [(task, DIGIT_LENGTH)] if task in ("smnist", "psmnist") else [(task, T) for T in cfg.data.lengths]
    return out


def problem(cfg: LongRangeConfig, task: str, length: int) -> Problem:
    d = cfg.data
    return make_problem(task, length, steps=cfg.train.steps, batch_size=cfg.train.batch_size,
                        test_size=d.test_size, seed=d.seed, n_symbols=d.n_symbols, copy_len=d.copy_len,
                        perm_seed=d.perm_seed)


def build_model(cfg: LongRangeConfig, cell: str, prob: Problem) -> LongRangeModel:
    model = LongRangeModel(cell, prob.input_size, cfg.model.hidden_size, prob.num_outputs, prob.readout,
                           cfg.model.num_layers)
    if cell == "lstm" and cfg.model.forget_bias != 0.0:
        init_forget_bias(model.rnn, cfg.model.forget_bias)  # touches no RNG: other cells' runs are unchanged
    return model


def _trainer(model, prob: Problem, cfg: LongRangeConfig) -> Trainer:
    t = cfg.train
    tcfg = TrainConfig(epochs=1, lr=t.lr, weight_decay=0.0, grad_clip=t.grad_clip, seed=t.seed, device="cpu",
                       patience=0, log_every=0, checkpoint_every=0, plots=False, progress=False, tensorboard=False)
    return Trainer(model, prob.loss_fn, tcfg)


def run_one(cfg: LongRangeConfig, task: str, length: int, cell: str, weights_dir: Path | None = None) -> dict:
    """Train one cell on one (task, T); the test metric, its baseline and the training wall time."""
    prob = problem(cfg, task, length)
    torch.manual_seed(cfg.train.seed)
    model = build_model(cfg, cell, prob)
    trainer = _trainer(model, prob, cfg)
    start = time.perf_counter()
    history = trainer.fit(prob.train_batches)
    seconds = time.perf_counter() - start
    test = trainer.evaluate(prob.test_batches)
    if weights_dir is not None:
        save_weights(weights_dir / f"{task}-T{length}-{cell}.safetensors", model.state_dict())
    value = float(test[prob.metric])
    beats = value > prob.baseline if prob.higher_is_better else value < prob.baseline
    return {"task": task, "T": length, "cell": cell, "metric": prob.metric, "value": value,
            "baseline": prob.baseline, "baseline_note": prob.baseline_note,
            "higher_is_better": prob.higher_is_better, "beats_baseline": bool(beats),
            "test": {k: float(v) for k, v in test.items()}, "train_loss": float(history[-1]["train_loss"]),
            "seconds": seconds, "steps": cfg.train.steps,
            "parameters": sum(p.numel() for p in model.parameters())}


def train(cfg: LongRangeConfig, run_dir: Path, resume: bool = False, echo=print) -> dict:
    """Run the sweep; write ``report.md``, ``report.json``, ``longrange.png`` and each model's weights.

    With ``resume`` the runs already listed in ``results/`` are kept and the rest are trained.
    """
    from rnnkit.apps.longrange.report import write_report

    check_config(cfg)
    run_dir = Path(run_dir)
    write_run_info(run_dir, NAME, C.to_dict(cfg))
    (run_dir / "results").mkdir(parents=True, exist_ok=True)
    rows = []
    for task, length in grid(cfg):
        for cell in cfg.model.cells:
            done = run_dir / "results" / f"{task}-T{length}-{cell}.json"
            if resume and done.is_file():
                rows.append(json.loads(done.read_text("utf-8")))
                continue
            row = run_one(cfg, task, length, cell, weights_dir=run_dir / "models")
            atomic_write_json(done, row)
            rows.append(row)
            echo(f"[{task} T={length} {cell}] test {row['metric']} {row['value']:.4f} "
                 f"(baseline {row['baseline']:.4f}) in {row['seconds']:.1f} s")
    return write_report(cfg, rows, run_dir)


def evaluate(run_dir: str | Path) -> dict:
    """Reload every saved model of a sweep and measure its test metric again."""
    info = read_run_info(run_dir)
    if info["task"] != NAME:
        raise ValueError(f"{run_dir} is a {info['task']!r} run, not {NAME!r}")
    cfg = C.from_dict(LongRangeConfig, info["config"])
    out = {}
    for task, length in grid(cfg):
        prob = problem(cfg, task, length)
        for cell in cfg.model.cells:
            path = Path(run_dir) / "models" / f"{task}-T{length}-{cell}.safetensors"
            if not path.is_file():
                continue
            model = build_model(cfg, cell, prob)
            model.load_state_dict(load_weights(path))
            out[f"{task}_T{length}_{cell}_{prob.metric}"] = float(_trainer(model, prob, cfg).evaluate(prob.test_batches)[prob.metric])
    if not out:
        raise FileNotFoundError(f"{run_dir} holds no trained models (models/*.safetensors)")
    return out
