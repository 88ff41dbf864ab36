"""CTC decoding on hand-built posteriors: known answers, brute force over all paths, ctc_loss."""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnkit.apps.speech.ctc_decode import (
    collapse,
    decode_batch,
    greedy_decode,
    prefix_beam_search,
)

BLANK = 0


def _frames(rows, symbols):
    """Rows of {symbol: prob} (the rest of the mass spread evenly) -> (T, V) log-probs."""
    V = len(symbols)
    out = np.zeros((len(rows), V))
    for t, row in enumerate(rows):
        rest = (1.0 - sum(row.values())) / max(V - len(row), 1)
        for k, s in enumerate(symbols):
            out[t, k] = row.get(s, rest)
    return torch.tensor(np.log(out))


def _brute_force(log_probs):
    """{label tuple: log P(label)} by summing every one of the V^T paths."""
    lp = log_probs.numpy()
    T, V = lp.shape
    probs = {}
    for path in itertools.product(range(V), repeat=T):
        p = math.exp(sum(lp[t, k] for t, k in enumerate(path)))
        label = tuple(collapse(path, BLANK))
        probs[label] = probs.get(label, 0.0) + p
    return {k: math.log(v) for k, v in probs.items()}


def test_collapse_merges_repeats_then_drops_blanks():
    assert collapse([1, 1, 0, 1, 2, 2, 0, 0, 3]) == [1, 1, 2, 3]
    assert collapse([0, 0, 0]) == []


def test_hello_known_answer_greedy_and_beam():
    symbols = ["_", "h", "e", "l", "o"]
    spelled = ["h", "h", "_", "e", "l", "l", "_", "l", "o", "o", "_"]
    lp = _frames([{s: 0.9} for s in spelled], symbols)
    word = lambda ids: "".join(symbols[i] for i in ids)
    assert word(greedy_decode(lp)) == "hello"
    for width in (1, 2, 8):
        assert word(prefix_beam_search(lp, beam_width=width)[0][0]) == "hello"


def test_beam_finds_the_label_that_greedy_misses():
    # Best path is "" (0.6 * 0.6 = 0.36); "a" has three paths: a_, _a, aa = 0.64.
    lp = _frames([{"_": 0.6, "a": 0.4}, {"_": 0.6, "a": 0.4}], ["_", "a"])
    assert greedy_decode(lp) == []
    (ids, score), = prefix_beam_search(lp, beam_width=2, prune=None)
    assert ids == [1]
    assert score == pytest.approx(math.log(0.64), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_unbounded_beam_is_exact_against_brute_force_and_ctc_loss(seed):
    g = torch.Generator().manual_seed(seed)
    T, V = 5, 3
    lp = torch.log_softmax(torch.randn(T, V, generator=g, dtype=torch.float64) * 1.5, dim=-1)
    exact = _brute_force(lp)
    ranked = sorted(exact.items(), key=lambda kv: -kv[1])
    nbest = prefix_beam_search(lp, beam_width=10_000, prune=None, nbest=4)
    for (ids, score), (label, logp) in zip(nbest, ranked):
        assert tuple(ids) == label
        assert score == pytest.approx(logp, abs=1e-9)
    # The score is log P(label | x), which is -ctc_loss of that label.
    ids = nbest[0][0]
    if ids:
        loss = F.ctc_loss(lp[:, None, :], torch.tensor([ids]), torch.tensor([T]), torch.tensor([len(ids)]),
                          blank=BLANK, reduction="sum")
        assert nbest[0][1] == pytest.approx(-float(loss), abs=1e-9)


def _peaky(g, T, V, floor=0.9):
    """Random posteriors whose best symbol has probability >= floor at every frame."""
    best = torch.randint(0, V, (T,), generator=g)
    rest = torch.rand(T, V, generator=g)
    rest[torch.arange(T), best] = 0
    top = floor + (1 - floor) * torch.rand(T, generator=g)
    probs = rest / rest.sum(1, keepdim=True) * (1 - top)[:, None]
    probs[torch.arange(T), best] = top
    return probs.log().double()


def test_beam_width_one_equals_greedy_on_peaky_posteriors():
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        T, V = int(torch.randint(1, 40, (1,), generator=g)), int(torch.randint(2, 7, (1,), generator=g))
        lp = _peaky(g, T, V)
        assert prefix_beam_search(lp, beam_width=1)[0][0] == greedy_decode(lp)
        assert prefix_beam_search(lp, beam_width=1, prune=None)[0][0] == greedy_decode(lp)


def test_beam_width_one_merges_paths_where_greedy_does_not():
    # Documented difference: frames a, (_ .51 | a .49), (a .6 | _ .4). Best path a _ a -> "aa"
    # (0.306); prefix "a" sums a a a, a a _, a _ _ ... = 0.694, and width 1 keeps it.
    lp = _frames([{"a": 1.0 - 1e-12, "_": 1e-12}, {"_": 0.51, "a": 0.49}, {"a": 0.6, "_": 0.4}], ["_", "a"])
    assert greedy_decode(lp) == [1, 1]
    (ids, score), = prefix_beam_search(lp, beam_width=1, prune=None)
    assert ids == [1]
    assert score == pytest.approx(math.log(0.694), abs=1e-6)


def test_pruning_keeps_the_answer_on_peaky_posteriors():
    g = torch.Generator().manual_seed(1)
    for _ in range(50):
        lp = _peaky(g, 30, 8, floor=0.7)
        assert prefix_beam_search(lp, 4, prune=1e-3)[0][0] == prefix_beam_search(lp, 4, prune=None)[0][0]


def test_decode_batch_reads_each_utterance_within_its_length():
    symbols = ["_", "a", "b"]
    one = _frames([{"a": 0.9}, {"_": 0.9}, {"b": 0.9}, {"a": 0.9}], symbols)
    two = _frames([{"b": 0.9}, {"b": 0.9}, {"a": 0.9}, {"a": 0.9}], symbols)
    batch = torch.stack([one, two]).float()
    lengths = torch.tensor([3, 4])
    assert decode_batch(batch, lengths, "greedy") == [[1, 2], [2, 1]]
    assert decode_batch(batch, lengths, "beam", beam_width=3) == [[1, 2], [2, 1]]
    with pytest.raises(ValueError, match="greedy' or 'beam"):
        decode_batch(batch, lengths, "viterbi")
    with pytest.raises(ValueError, match="beam_width"):
        prefix_beam_search(one, beam_width=0)
