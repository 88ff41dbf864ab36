"""Subword tokeniser: a sentencepiece model trained on the training split, kept in the run folder.

Same interface as :class:`rnnkit.data.word_vocab.WordVocab` (``tokenize``/``pieces``, ``encode``,
``encode_batch``, ``decode``, ``pad_id``/``unk_id``/``bos_id``/``eos_id``, ``len``, ``save``/``load``)
and the same special ids (pad 0, unk 1, bos 2, eos 3), so a pipeline takes either::

    tok = SubwordTokenizer.train(train_texts, vocab_size=4000)     # unigram LM by default
    tok.encode("A fine film.")        # ids of '▁A', '▁fine', '▁film', '.'
    tok.save(run_dir / "subword.model"); SubwordTokenizer.load(run_dir / "subword.model")

Why these trainer settings:

- ``byte_fallback=True``: a character never seen in training becomes its UTF-8 bytes
  (``<0xE2>`` ...) instead of ``<unk>``, so nothing is lost and decoding restores it.
- ``normalization="identity"`` (default) with extra whitespace kept: ``decode(encode(t)) == t``
  exactly, for any ``t``. ``"nmt_nfkc"`` applies NFKC and collapses whitespace, ``"nmt_nfkc_cf"``
  also case-folds; both are stored inside the model file, so a reloaded model encodes the same.
- ``hard_vocab_limit=False``: a small corpus yields a smaller vocabulary instead of an error.
- One thread: sentencepiece's training is then deterministic (same texts, same model bytes).

The model file is self-contained: ``load`` needs nothing else.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

from rnnkit.data.word_vocab import SPECIALS, UNK, WordVocab, pad_batch

__all__ = ["MODEL_TYPES", "NORMALIZATIONS", "SubwordTokenizer", "load_tokenizer"]

NORMALIZATIONS = ("identity", "nmt_nfkc", "nmt_nfkc_cf")
MODEL_TYPES = ("unigram", "bpe")
_INSTALL = "pip install sentencepiece  (or: pip install 'rnnkit[language]')"


def _spm():
    try:
        import sentencepiece
    except ImportError as err:  # optional dependency: say how to get it
        raise ImportError(f"subword tokenisation needs sentencepiece: {_INSTALL}") from err
    return sentencepiece


class SubwordTokenizer:
    """A trained sentencepiece model behind rnnkit's tokeniser interface.

    Build one with :meth:`train` (from texts) or :meth:`load` / :meth:`from_bytes` (a saved model).
    """

    kind = "subword"

    def __init__(self, model_bytes: bytes):
        spm = _spm()
        self.model_bytes = bytes(model_bytes)
        self.sp = spm.SentencePieceProcessor(model_proto=self.model_bytes)
        got = tuple(self.sp.id_to_piece(i) for i in range(4))
        ids = (self.sp.pad_id(), self.sp.unk_id(), self.sp.bos_id(), self.sp.eos_id())
        if ids != (0, 1, 2, 3):
            raise ValueError(f"sentencepiece model has special ids pad/unk/bos/eos = {ids}; rnnkit "
                             f"expects 0/1/2/3 (pieces {got}): train it with SubwordTokenizer.train")

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 4000, model_type: str = "unigram",
              normalization: str = "identity", character_coverage: float = 1.0,
              byte_fallback: bool = True) -> SubwordTokenizer:
        """Train on ``texts`` (one sentence or document each; empty ones are ignored).

        ``vocab_size`` includes the 4 specials (and the 256 byte pieces with ``byte_fallback``);
        it is an upper bound on small corpora.
        """
        if model_type not in MODEL_TYPES:
            raise ValueError(f"model_type must be one of {MODEL_TYPES}, got {model_type!r}")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
        floor = 4 + (256 if byte_fallback else 0) + 1
        if vocab_size < floor:
            raise ValueError(f"vocab_size must be >= {floor} with byte_fallback={byte_fallback}, got {vocab_size}")
        texts = [t for t in texts if t and t.strip()]
        if not texts:
            raise ValueError("cannot train a subword model on no text")
        out = io.BytesIO()
        _spm().SentencePieceTrainer.train(
            sentence_iterator=iter(texts), model_writer=out, vocab_size=int(vocab_size),
            model_type=model_type, pad_id=0, unk_id=1, bos_id=2, eos_id=3,
            pad_piece=SPECIALS[0], unk_piece=SPECIALS[1], bos_piece=SPECIALS[2], eos_piece=SPECIALS[3],
            byte_fallback=byte_fallback, normalization_rule_name=normalization,
            remove_extra_whitespaces=normalization != "identity", character_coverage=character_coverage,
            hard_vocab_limit=False, num_threads=1, minloglevel=2,
            # long single "sentences" (whole reviews) must not be dropped silently
            max_sentence_length=1 << 20,
        )
        return cls(out.getvalue())

    # ------------------------------------------------------------------ ids
    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    def __len__(self) -> int:
        return int(self.sp.get_piece_size())

    def __eq__(self, other) -> bool:
        return isinstance(other, SubwordTokenizer) and self.model_bytes == other.model_bytes

    def __repr__(self) -> str:
        return f"SubwordTokenizer(size={len(self)})"

    # ------------------------------------------------------------------ text <-> ids
    def tokenize(self, text: str) -> list[str]:
        """The pieces of ``text`` (``'▁'`` marks a preceding space)."""
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
        return list(self.sp.encode(text, out_type=str))

    def pieces(self, text: str) -> list[str]:
        """One readable piece per id of ``encode(text)`` (for reports)."""
        return [self.sp.id_to_piece(i) if i != self.unk_id else UNK for i in self.encode(text)]

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
        return [2] * add_bos + list(self.sp.encode(text)) + [3] * add_eos

    def encode_batch(self, texts: Sequence[str], add_bos: bool = False, add_eos: bool = False,
                     max_len: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Texts -> right-padded ``(ids (B, T), lengths (B,))``; see :func:`pad_batch`."""
        return pad_batch([self.encode(t, add_bos, add_eos) for t in texts], self.pad_id, max_len)

    def decode(self, ids: Sequence[int] | torch.Tensor, skip_special: bool = True) -> str:
        """Ids -> text. pad/bos/eos are always dropped (sentencepiece has no text for them)."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"decode expects 1-D ids (N,), got shape {tuple(ids.shape)}")
            ids = ids.tolist()
        n = len(self)
        ids = [int(i) for i in ids]
        for i in ids:
            if not 0 <= i < n:
                raise ValueError(f"id {i} is out of range for a vocabulary of size {n}")
        return self.sp.decode([i for i in ids if i not in (0, 2, 3)])

    def id_to_piece(self, i: int) -> str:
        return self.sp.id_to_piece(int(i))

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike) -> None:
        """Write the sentencepiece model file (atomically)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(self.model_bytes)
        os.replace(tmp, path)

    @classmethod
    def from_bytes(cls, data: bytes) -> SubwordTokenizer:
        return cls(data)

    @classmethod
    def load(cls, path: str | os.PathLike) -> SubwordTokenizer:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no sentencepiece model at {path}")
        return cls(path.read_bytes())


def load_tokenizer(path: str | os.PathLike) -> WordVocab | SubwordTokenizer:
    """A saved tokeniser by its file: ``*.json`` a :class:`WordVocab`, ``*.model`` a subword one."""
    path = Path(path)
    if path.suffix == ".model":
        return SubwordTokenizer.load(path)
    if path.suffix == ".json":
        return WordVocab.load(path)
    raise ValueError(f"{path}: expected a WordVocab .json or a sentencepiece .model file")
