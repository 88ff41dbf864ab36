"""Reusable data pieces: vocabularies, text corpora and LM batching, compression baselines.

Import from the submodules (``rnnkit.data.vocab``, ``rnnkit.data.text``,
``rnnkit.data.compression``); the most used names are re-exported here.
"""

from rnnkit.data.compression import lzma_bpc, lzma_conditional_bpc
from rnnkit.data.text import (
    LMStreamDataset,
    RandomWindowDataset,
    load_builtin_corpus,
    load_text,
    make_lm_batches,
    split_corpus,
)
from rnnkit.data.vocab import CharVocab

__all__ = [
    "CharVocab",
    "LMStreamDataset",
    "RandomWindowDataset",
    "load_builtin_corpus",
    "load_text",
    "lzma_bpc",
    "lzma_conditional_bpc",
    "make_lm_batches",
    "split_corpus",
]
