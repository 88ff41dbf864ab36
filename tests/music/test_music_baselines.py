"""Unigram and bigram baselines: hand-counted probabilities, smoothing chosen on validation."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.decoding import DecodingConfig
from rnnkit.apps.music.baselines import ALPHAS, LAMBDAS, EventNgram
from rnnkit.apps.music.events import REST, EventCodec

A, B, R = (60, 48), (62, 24), (REST, 48)
TRAIN = [[A, B, A], [A, A, R, B]]


def test_unigram_matches_hand_counts():
    codec = EventCodec.fit(TRAIN)  # pitches 60..62, durations 24, 48
    uni = EventNgram(codec, order=1).fit(TRAIN)._set(0.5, 0.0)
    # Token space: pitch-like ids (UNK, REST, 60, 61, 62) x duration-like ids (UNK, 24, 48) + END.
    assert uni.K == 5 * 3 + 1
    # Counts over predicted tokens: A x4, B x2, R x1, END x2 -> N = 9.
    p = lambda c: (c + 0.5) / (9 + 0.5 * uni.K)
    expected = [p(4), p(2), p(4), p(2)]  # A, B, A, END of the first piece
    assert uni.log_probs(TRAIN[0]).exp().tolist() == pytest.approx(expected)
    unseen = uni.log_probs([(61, 24)]).exp()[0]
    assert float(unseen) == pytest.approx(p(0))


def test_bigram_interpolates_and_rows_are_distributions():
    codec = EventCodec.fit(TRAIN)
    bi = EventNgram(codec, order=2).fit(TRAIN)._set(0.5, 0.6)
    assert torch.allclose(bi.table.sum(1), torch.ones(bi.K + 1, dtype=torch.float64))
    uni = EventNgram(codec, order=1).fit(TRAIN)._set(0.5, 0.0)
    a, b = bi.tokens([A])[1], bi.tokens([B])[1]
    # After A (seen 4 times as a context): A->B once, A->A once, A->END once, A->R once.
    assert float(bi.table[a, b]) == pytest.approx(0.6 * 1 / 4 + 0.4 * float(uni.table[0, b]))
    # An unseen context falls back to the unigram.
    unseen = bi.tokens([(61, 48)])[1]
    assert torch.allclose(bi.table[unseen], uni.table[0])
    # l = 0 is the unigram.
    assert bi._set(0.5, 0.0).nll(TRAIN) == pytest.approx(uni.nll(TRAIN))


def test_split_nll_adds_up_and_smoothing_is_chosen_on_validation(chorales):
    melodies = [m.transposed().events for m in chorales.melodies]
    train, val, test = melodies[:6], melodies[6:8], melodies[8:]
    codec = EventCodec.fit(train)
    bi = EventNgram(codec, 2).fit(train, val)
    by_alpha = {a: EventNgram(codec, 2).fit(train)._set(a, 0.0).nll(val) for a in ALPHAS}
    assert bi.alpha == min(by_alpha, key=by_alpha.get)
    by_lambda = {l: bi._set(bi.alpha, l).nll(val) for l in LAMBDAS}
    bi.fit(train, val)
    assert bi.lam == min(by_lambda, key=by_lambda.get)
    split = bi.split_nll(test)
    assert split["pitch"] + split["duration"] == pytest.approx(split["nll"]) == pytest.approx(bi.nll(test))
    assert split["pitch"] > 0 and split["duration"] > 0
    uni = EventNgram(codec, 1).fit(train, val)
    assert bi.nll(test) < uni.nll(test) < math.log(uni.K)


def test_bigram_sampling_is_seeded_follows_the_counts_and_avoids_unk():
    codec = EventCodec.fit(TRAIN)
    bi = EventNgram(codec, 2).fit(TRAIN)._set(0.01, 0.95)
    dec = DecodingConfig(strategy="sample", temperature=1.0, seed=3)
    one = bi.sample([A], 50, dec, dec.make_generator())
    assert one == bi.sample([A], 50, dec, dec.make_generator())
    assert set(one) <= {A, B, R, (60, 24), (61, 24), (61, 48), (62, 48), (REST, 24)}
    # In training a rest is always followed by B, so greedy decoding after a rest plays B.
    greedy = bi.sample([R], 5, DecodingConfig(strategy="greedy"))
    assert greedy[0] == B
