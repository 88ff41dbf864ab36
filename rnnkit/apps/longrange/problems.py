"""The long-range problems as training objectives: seeded batch streams, loss, metric, baseline.

A :class:`Problem` bundles what a sweep needs for one (task, T): how to draw training batches,
the fixed test set, the output head's shape, ``loss_fn(model, batch) -> (loss, metrics)`` for
:class:`rnnkit.train.Trainer`, and the trivial baseline of its metric:

========== ======= ===================================================== ==========================
task       T       metric (test set)                                      trivial baseline
========== ======= ===================================================== ==========================
adding     any     MSE of the sum                                         1/6 (always predict 1.0)
copy       any     cross-entropy (nats) on the K recall steps; accuracy  ln S (uniform guess), 1/S
smnist     784     accuracy over 10 classes                               majority class of test set
psmnist    784     accuracy, pixels in one fixed seeded order             majority class of test set
========== ======= ===================================================== ==========================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.apps.longrange import data as LR

TASKS = ("adding", "copy", "smnist", "psmnist")
DIGIT_LENGTH = 784


class SeededBatches:
    """``n_batches`` batches ``draw(batch_size, seed_i)``; batch i is the same on every pass."""

    def __init__(self, draw: Callable[[int, int], tuple[Tensor, Tensor]], n_batches: int, batch_size: int, seed: int):
        self.draw, self.n_batches, self.batch_size, self.seed = draw, n_batches, batch_size, seed

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for i in range(self.n_batches):
            yield self.draw(self.batch_size, self.seed * 1_000_003 + i)


class ShuffledBatches:
    """``n_batches`` minibatches cycling through a fixed training set in seeded shuffled passes."""

    def __init__(self, x: Tensor, y: Tensor, n_batches: int, batch_size: int, seed: int):
        self.x, self.y, self.n_batches, self.batch_size, self.seed = x, y, n_batches, batch_size, seed

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        gen = torch.Generator().manual_seed(self.seed)
        order, pos = torch.randperm(len(self.y), generator=gen), 0
        for _ in range(self.n_batches):
            if pos + self.batch_size > len(order):
                order, pos = torch.randperm(len(self.y), generator=gen), 0
            idx = order[pos:pos + self.batch_size]
            pos += self.batch_size
            yield self.x[idx], self.y[idx]


def _split(x: Tensor, y: Tensor, batch_size: int) -> list[tuple[Tensor, Tensor]]:
    return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(y), batch_size)]


@dataclass
class Problem:
    """One (task, T). ``readout``: ``"last"`` scores the final step, an int K the last K steps."""

    task: str
    length: int
    input_size: int
    num_outputs: int
    readout: object
    train_batches: object
    test_batches: list
    loss_fn: Callable
    metric: str            # the metric reported in the table (a key of loss_fn's metrics)
    higher_is_better: bool
    baseline: float
    baseline_note: str


def mse_loss(model, batch):
    """Adding problem: ``y_hat (B,)`` against the sum; metric ``mse``."""
    x, y = batch
    loss = F.mse_loss(model(x).squeeze(-1), y)
    return loss, {"mse": loss.detach()}


def recall_loss(model, batch):
    """Copy memory: logits ``(B, K, S)`` over symbols 1..S (class = symbol - 1); CE and accuracy."""
    x, y = batch
    logits = model(x)
    target = y - 1
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
    acc = (logits.argmax(-1) == target).float().mean()
    return loss, {"ce": loss.detach(), "acc": acc}


def class_loss(model, batch):
    """Sequential digits: logits ``(B, 10)``; CE and accuracy."""
    x, y = batch
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    return loss, {"acc": (logits.argmax(-1) == y).float().mean()}


def make_problem(task: str, length: int, *, steps: int, batch_size: int, test_size: int, seed: int,
                 n_symbols: int = 8, copy_len: int = 10, perm_seed: int = 0) -> Problem:
    """Build one problem. Training and test data come from disjoint seeds derived from ``seed``,
    ``task`` and ``length``, so every cell of a sweep sees the same batches."""
    if task not in TASKS:
        raise ValueError(f"unknown long-range task {task!r}; choose from {', '.join(TASKS)}")
    base = seed * 7919 + TASKS.index(task) * 104_729 + length
    if task == "adding":
        x, y = LR.adding_problem(test_size, length, seed=10**9 + base)
        return Problem(task, length, 2, 1, "last",
                       SeededBatches(lambda n, s: LR.adding_problem(n, length, s), steps, batch_size, base),
                       _split(x, y, 256), mse_loss, "mse", False, LR.ADDING_BASELINE_MSE,
                       "MSE of always predicting 1.0")
    if task == "copy":
        def draw(n, s):
            return LR.copy_memory(n, length, s, n_symbols, copy_len)
        x, y = draw(test_size, 10**9 + base)
        return Problem(task, length, n_symbols + 2, n_symbols, copy_len,
                       SeededBatches(draw, steps, batch_size, base), _split(x, y, 256), recall_loss,
                       "ce", False, LR.copy_baseline_ce(n_symbols),
                       f"CE of a uniform guess over {n_symbols} symbols (nats)")
    (xtr, ytr), (xte, yte) = LR.sequential_digits(permuted=task == "psmnist", perm_seed=perm_seed,
                                                  split_seed=seed)
    majority = float(torch.bincount(yte, minlength=10).max()) / len(yte)
    return Problem(task, DIGIT_LENGTH, 1, 10, "last", ShuffledBatches(xtr, ytr, steps, batch_size, base),
                   _split(xte, yte, 250), class_loss, "acc", True, majority,
                   "accuracy of the test set's majority class")
