"""Baselines: IBM model 1 recovers a word dictionary from sentence pairs alone; the EM update is
the textbook one (checked by hand on two pairs); copy is the identity."""

import pytest

from rnnkit.apps.translate.baselines import (
    WordDictionary,
    copy_baseline,
    detokenize,
    words,
)


def test_ibm1_recovers_the_number_words(kit):
    pairs = kit.number_pairs()
    d = WordDictionary.learn([a for a, _ in pairs], [b for _, b in pairs], iterations=10)
    assert d.table == {"zero": "cero", "one": "uno", "two": "dos", "three": "tres", "four": "cuatro",
                       "five": "cinco", "six": "seis", "seven": "siete", "eight": "ocho", "nine": "nueve",
                       "twenty": "veinte", "thirty": "treinta", "forty": "cuarenta", "fifty": "cincuenta"}
    # word by word, source order kept, unknown words copied, a capital restored, punctuation attached
    assert d.translate(["Forty two, please."]) == ["Cuarenta dos, please."]


def test_ibm1_em_matches_a_hand_computation():
    """Two pairs: (a b | x y), (a | x). Uniform t; after one EM iteration, by hand:
    pair 1: each f is shared 1/3 by NULL, a, b; pair 2: x shared 1/2 by NULL, a.
    counts: a->x 1/3+1/2, a->y 1/3; b->x 1/3, b->y 1/3."""
    d1 = WordDictionary.learn(["a b", "a"], ["x y", "x"], iterations=1)
    assert d1.table["a"] == "x"  # 5/6 vs 1/3
    d = WordDictionary.learn(["a b", "a"], ["x y", "x"], iterations=20)
    assert d.table == {"a": "x", "b": "y"}  # EM pulls b towards y once a explains x


def test_words_and_detokenize_round_trip():
    text = "¿Quién descubrirá la delantera? Y dijo Dios: Sea la luz; y fué la luz."
    assert detokenize(words(text)) == text
    assert words("don't stop") == ["don't", "stop"]
    assert copy_baseline(["a b", "c"]) == ["a b", "c"]
    with pytest.raises(ValueError):
        WordDictionary.learn(["a"], [])
