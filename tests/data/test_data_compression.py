import math
import random

import pytest

from rnnkit.data.compression import compressed_bits, lzma_bpc, lzma_conditional_bpc
from rnnkit.data.text import load_builtin_corpus


def test_repetitive_text_conditional_below_standalone():
    rng = random.Random(0)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    train = " ".join(rng.choice(words) for _ in range(4000))
    heldout = train[1000:5000]  # seen verbatim in training: nearly free given the train text
    alone = lzma_bpc(heldout)
    given = lzma_conditional_bpc(train, heldout)
    assert given < alone / 5
    assert 0 <= given < 0.2


def test_random_text_near_log2_alphabet():
    rng = random.Random(1)
    for alphabet in ("ab", "abcdefghijklmnop"):
        text = "".join(rng.choice(alphabet) for _ in range(40000))
        bpc = lzma_bpc(text)
        h = math.log2(len(alphabet))  # the entropy: no compressor can do better on average
        assert h * 0.98 < bpc < h * 1.35, (alphabet, bpc)
        # a fresh random text gains nothing from the first
        other = "".join(rng.choice(alphabet) for _ in range(20000))
        cond = lzma_conditional_bpc(text, other)
        assert h * 0.98 < cond < h * 1.35, (alphabet, cond)


def test_counts_characters_not_bytes():
    text = "é" * 10 + "x" * 10  # 20 characters, 30 UTF-8 bytes
    assert lzma_bpc(text) == compressed_bits(text.encode("utf-8")) / 20


def test_real_corpus_conditional_helps():
    text = load_builtin_corpus()[:120000]
    train, heldout = text[:100000], text[100000:]
    assert lzma_conditional_bpc(train, heldout) < lzma_bpc(heldout) < 4.0


def test_empty_errors():
    with pytest.raises(ValueError, match="non-empty"):
        lzma_bpc("")
    with pytest.raises(ValueError, match="non-empty held-out"):
        lzma_conditional_bpc("abc", "")
