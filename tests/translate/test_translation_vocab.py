"""Shared and separate subword vocabularies trained on the training pairs round-trip their text."""

import pytest

from rnnkit.apps.translate.data import PairCorpus
from rnnkit.apps.translate.pipeline import (
    TranslationVocabConfig,
    build_model,
    default_config,
    train_tokenizers,
)


def _corpus(kit):
    pairs = kit.number_pairs()
    return PairCorpus([a for a, _ in pairs], [b for _, b in pairs], [str(i) for i in range(len(pairs))], "numbers")


@pytest.mark.parametrize("shared", [True, False])
def test_vocabularies_round_trip(kit, shared):
    corpus = _corpus(kit)
    src_tok, tgt_tok = train_tokenizers(corpus, TranslationVocabConfig(shared=shared, size=300))
    assert (src_tok is tgt_tok) == shared
    for s, t in zip(corpus.sources, corpus.targets):
        assert src_tok.decode(src_tok.encode(s)) == s and tgt_tok.decode(tgt_tok.encode(t)) == t
    assert (src_tok.pad_id, src_tok.bos_id, src_tok.eos_id) == (0, 2, 3)
    # byte fallback: a character never seen in training still round-trips
    assert tgt_tok.decode(tgt_tok.encode("cincuenta y ñ€")) == "cincuenta y ñ€"
    cfg = default_config()
    cfg.vocab.shared = shared
    cfg.model.share_embeddings = True
    if shared:
        model = build_model(cfg, src_tok, tgt_tok)
        assert model.encoder.inputs.embed.weight is model.decoder.embed.weight
    else:
        with pytest.raises(ValueError, match="share_embeddings=true needs vocab.shared=true"):
            build_model(cfg, src_tok, tgt_tok)


def test_a_vocabulary_smaller_than_its_fixed_pieces_is_refused_naming_the_key():
    """vocab.size counts the 4 specials and 256 byte pieces: below 261 the CLI says so in one line
    naming vocab.size (it used to fail inside sentencepiece's trainer with `vocab_size`)."""
    from rnnkit.cli import main

    with pytest.raises(ValueError, match=r"vocab.size must be >= 261 .* got 60"):
        TranslationVocabConfig(size=60)
    assert main(["train", "translate", "--preset", "tiny", "--print-config", "vocab.size=60"]) == 2
