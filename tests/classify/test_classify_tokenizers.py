"""Tokenisers: word vocabulary and sentencepiece subwords round-trip, save/load, special ids."""

import pytest
import torch

from rnnkit.data.subword import SubwordTokenizer, load_tokenizer
from rnnkit.data.word_vocab import SPECIALS, WordVocab, pad_batch

TEXTS = ["The film is a triumph.", "The film isn't a triumph; it's a mess.", "A mess, a triumph?",
         "Naïve, charming and un-showy.", "the the the film"]


def test_word_vocab_ids_are_deterministic_and_round_trip_known_words():
    vocab = WordVocab.build(TEXTS, min_freq=1, lowercase=True)
    assert vocab.itos[:4] == list(SPECIALS)
    assert (vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2, 3)
    # most frequent first, ties in code-point order: 'a', 'the' (5 each), then '.', 'film', 'triumph' (3)
    assert vocab.itos[4:9] == ["a", "the", ".", "film", "triumph"]
    assert WordVocab.build(list(reversed(TEXTS)), lowercase=True) == vocab
    text = "The film isn't a mess."
    ids = vocab.encode(text)
    assert vocab.unk_id not in ids
    assert vocab.tokenize(text) == ["the", "film", "isn't", "a", "mess", "."]
    assert vocab.decode(ids) == "the film isn't a mess ."
    assert vocab.encode(text, add_bos=True, add_eos=True) == [2, *ids, 3]
    assert vocab.decode([2, *ids, 3, 0]) == vocab.decode(ids)
    assert vocab.decode([2, *ids, 3], skip_special=False).split()[0] == "<bos>"


def test_word_vocab_min_freq_unknown_words_and_limits():
    vocab = WordVocab.build(TEXTS, min_freq=2, lowercase=True)
    assert "triumph" in vocab and "charming" not in vocab
    ids = vocab.encode("charming triumph")
    assert ids == [vocab.unk_id, vocab.stoi["triumph"]]
    assert vocab.decode(ids) == "<unk> triumph"
    assert vocab.pieces("charming triumph") == ["<unk>", "triumph"]
    assert len(WordVocab.build(TEXTS, max_size=3)) == 4 + 3
    with pytest.raises(ValueError, match="out of range"):
        vocab.decode([len(vocab)])
    with pytest.raises(ValueError, match="min_freq"):
        WordVocab.build(TEXTS, min_freq=0)
    with pytest.raises(ValueError, match="duplicates"):
        WordVocab(["a", "a"])


def test_word_vocab_save_load_and_batches(tmp_path):
    vocab = WordVocab.build(TEXTS, lowercase=False, tokenizer="whitespace")
    vocab.save(tmp_path / "v.json")
    again = load_tokenizer(tmp_path / "v.json")
    assert again == vocab and again.encode(TEXTS[1]) == vocab.encode(TEXTS[1])
    ids, lengths = again.encode_batch(["the film", "A mess, a triumph?"], add_eos=True)
    assert lengths.tolist() == [3, 5]
    assert ids[0].tolist() == [vocab.stoi["the"], vocab.stoi["film"], 3, 0, 0]
    ids, lengths = pad_batch([[5, 6, 7], [8]], max_len=2)
    assert ids.tolist() == [[5, 6], [8, 0]] and lengths.tolist() == [2, 1]
    with pytest.raises(ValueError, match="empty"):
        pad_batch([[1], []])


def test_subword_round_trips_training_text_and_reloads(tmp_path):
    # real-looking training text with accents, punctuation, double spaces and a tab
    train = [f"{t}  (take {i})\tok" for i, t in enumerate(TEXTS * 20)] + ["Café au lait — très bien!"]
    tok = SubwordTokenizer.train(train, vocab_size=320, normalization="identity")
    assert (tok.pad_id, tok.unk_id, tok.bos_id, tok.eos_id) == (0, 1, 2, 3)
    assert [tok.id_to_piece(i) for i in range(4)] == list(SPECIALS)
    for text in train:
        ids = tok.encode(text)
        assert tok.unk_id not in ids
        assert tok.decode(ids) == text
    # unseen characters fall back to bytes and still come back
    assert tok.decode(tok.encode("日本 ☃")) == "日本 ☃"
    assert tok.decode([2, *tok.encode("a film"), 3, 0]) == "a film"
    tok.save(tmp_path / "sp.model")
    again = load_tokenizer(tmp_path / "sp.model")
    assert again == tok and again.encode(train[3]) == tok.encode(train[3])
    # training is deterministic: the same texts give the same model
    assert SubwordTokenizer.train(train, vocab_size=320, normalization="identity") == tok
    ids, lengths = tok.encode_batch(["a film", "The film is a triumph."])
    assert ids.shape == (2, int(lengths.max())) and torch.equal(ids[0, lengths[0]:], torch.zeros_like(ids[0, lengths[0]:]))


def test_subword_case_folding_and_errors():
    tok = SubwordTokenizer.train(TEXTS * 10, vocab_size=300, normalization="nmt_nfkc_cf")
    assert tok.encode("THE FILM") == tok.encode("the film")
    with pytest.raises(ValueError, match="vocab_size"):
        SubwordTokenizer.train(TEXTS, vocab_size=100)
    with pytest.raises(ValueError, match="no text"):
        SubwordTokenizer.train(["", "  "], vocab_size=300)
    with pytest.raises(ValueError, match="expected a WordVocab"):
        load_tokenizer("vocab.txt")
