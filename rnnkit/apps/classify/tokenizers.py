"""Tokeniser choice for text classification: word vocabulary or sentencepiece subwords.

Both are trained on the training split only (validation and test text never shapes the
vocabulary) and saved in the run folder, ``vocab.json`` or ``subword.model``, so a reloaded run
encodes exactly as the trained one did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rnnkit.data.subword import SubwordTokenizer
from rnnkit.data.word_vocab import WordVocab

__all__ = ["FILES", "TokenizerConfig", "build_tokenizer", "load_tokenizer", "save_tokenizer"]

FILES = {"word": "vocab.json", "subword": "subword.model"}


@dataclass
class TokenizerConfig:
    """kind: ``word`` (regex words + punctuation) or ``subword`` (sentencepiece).

    Word: ``lowercase``, ``min_freq`` (rarer training words become ``<unk>``), ``max_size``
    (0 = no limit). Subword: ``vocab_size`` (an upper bound), ``model_type``, ``normalization``
    (``nmt_nfkc_cf`` case-folds, like ``lowercase`` for words; ``identity`` keeps text exact).
    """

    kind: Literal["word", "subword"] = "word"
    lowercase: bool = True
    min_freq: int = 2
    max_size: int = 0
    vocab_size: int = 4000
    model_type: Literal["unigram", "bpe"] = "unigram"
    normalization: Literal["identity", "nmt_nfkc", "nmt_nfkc_cf"] = "nmt_nfkc_cf"


def build_tokenizer(cfg: TokenizerConfig, train_texts: Sequence[str]) -> WordVocab | SubwordTokenizer:
    if cfg.kind == "word":
        return WordVocab.build(train_texts, min_freq=cfg.min_freq, max_size=cfg.max_size or None,
                               lowercase=cfg.lowercase)
    if cfg.kind == "subword":
        return SubwordTokenizer.train(train_texts, vocab_size=cfg.vocab_size, model_type=cfg.model_type,
                                      normalization=cfg.normalization)
    raise ValueError(f"tokenizer.kind must be 'word' or 'subword', got {cfg.kind!r}")


def save_tokenizer(tok: WordVocab | SubwordTokenizer, run_dir: Path) -> Path:
    path = Path(run_dir) / FILES[tok.kind]
    tok.save(path)
    return path


def load_tokenizer(cfg: TokenizerConfig, run_dir: Path) -> WordVocab | SubwordTokenizer:
    path = Path(run_dir) / FILES[cfg.kind]
    return WordVocab.load(path) if cfg.kind == "word" else SubwordTokenizer.load(path)
