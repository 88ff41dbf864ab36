import json

import pytest
import torch

from rnnkit.data.text import load_builtin_corpus
from rnnkit.data.vocab import DEFAULT_UNK, CharVocab


def test_round_trip_and_deterministic_ids():
    text = "hello, wörld! ünïcode ✓\n\ttabs"
    v = CharVocab.from_text(text)
    assert len(v) == len(set(text)) + 1  # + unk
    assert v.unk_id == 0 and v.itos[0] == DEFAULT_UNK
    assert v.itos[1:] == sorted(set(text))  # code-point order
    ids = v.encode(text)
    assert ids.dtype == torch.long and ids.shape == (len(text),)
    assert v.decode(ids) == text
    assert v.decode(ids.tolist()) == text
    assert CharVocab.from_text(text) == v  # same text, same vocabulary


def test_encode_matches_python_lookup_on_real_corpus():
    text = load_builtin_corpus("pydoc")[:50000]
    v = CharVocab.from_text(text[:20000], min_freq=2)
    fast = v.encode(text)
    slow = torch.tensor([v.stoi.get(c, v.unk_id) for c in text])
    assert torch.equal(fast, slow)
    assert (fast == v.unk_id).any()  # characters rare in the first part map to unk


def test_min_freq_and_unknown_chars():
    v = CharVocab.from_text("aaabbc", min_freq=2)
    assert v.itos == [DEFAULT_UNK, "a", "b"]
    assert "c" not in v and "a" in v and DEFAULT_UNK not in v
    assert v.encode("abcz").tolist() == [1, 2, 0, 0]
    assert v.decode(v.encode("abcz")) == "ab" + DEFAULT_UNK * 2


def test_custom_unk_and_closed_vocabulary():
    v = CharVocab.from_text("abc", unk="?")
    assert v.encode("a?d").tolist() == [1, 0, 0]  # '?' itself is the unk token
    closed = CharVocab.from_text("abc", unk=None)
    assert len(closed) == 3 and closed.encode("cab").tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match=r"'d' \(U\+0064\) at position 2 is not in the vocab"):
        closed.encode("abd")
    with pytest.raises(ValueError, match="unk is None"):
        CharVocab.from_text("aab", min_freq=2, unk=None)


def test_save_load_round_trip_via_json():
    text = "the quick brown fox\njumps over ∑ the lazy dog"
    for unk in (DEFAULT_UNK, "<unk>", None):
        v = CharVocab.from_text(text, unk=unk)
        loaded = CharVocab.from_dict(json.loads(json.dumps(v.to_dict())))
        assert loaded == v and loaded.itos == v.itos
        assert torch.equal(loaded.encode(text), v.encode(text))
        assert loaded.decode(v.encode(text)) == text


def test_errors():
    v = CharVocab.from_text("ab")
    with pytest.raises(ValueError, match="id 3 is out of range for a vocabulary of size 3"):
        v.decode([0, 3])
    with pytest.raises(ValueError, match="1-D"):
        v.decode(torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="empty text"):
        CharVocab.from_text("")
    with pytest.raises(ValueError, match="min_freq"):
        CharVocab.from_text("a", min_freq=0)
    with pytest.raises(ValueError, match="single characters"):
        CharVocab(["ab"])
    with pytest.raises(ValueError, match="not a saved CharVocab"):
        CharVocab.from_dict({"tokens": ["a"]})
    with pytest.raises(ValueError, match="unknown CharVocab keys"):
        CharVocab.from_dict({"type": "char", "tokens": ["a"], "extra": 1})
    assert v.encode("").shape == (0,)
