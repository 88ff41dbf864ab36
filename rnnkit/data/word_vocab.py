"""Word-level vocabulary: text <-> token ids, with pad/unk/bos/eos, saved beside a run.

Shared by the text pipelines (classification, translation). The interface is the one
:class:`rnnkit.data.subword.SubwordTokenizer` has too, so a pipeline can take either::

    vocab = WordVocab.build(train_texts, min_freq=2, lowercase=True)
    ids = vocab.encode("A fine film.", add_eos=True)      # [.., .., .., .., 3]
    vocab.decode(ids)                                       # 'a fine film .'
    batch, lengths = vocab.encode_batch(["good", "not good at all"])   # (B, T), (B,)
    vocab.save(run_dir / "vocab.json"); WordVocab.load(run_dir / "vocab.json")

Ids: the special tokens come first, in the fixed order of :data:`SPECIALS` (pad 0, unk 1, bos 2,
eos 3), then the kept words by decreasing training frequency, ties broken alphabetically, so the
same texts and settings always give the same vocabulary.

Tokenisation (``tokenizer=``):

- ``"words"``: runs of letters/digits (with inner apostrophes, ``don't``) and single punctuation
  marks, ``\\w+(?:['’]\\w+)*|[^\\w\\s]``; whitespace is dropped.
- ``"whitespace"``: ``str.split()``.

``decode`` joins tokens with single spaces, so ``decode(encode(t)) == " ".join(tokenize(t))``
whenever every token of ``t`` is in the vocabulary; unknown words come back as ``<unk>``.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from rnnkit.train.atomic import atomic_write_text

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "SPECIALS",
    "TOKENIZERS",
    "UNK",
    "WordVocab",
    "pad_batch",
    "write_text_atomic",
]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
#: Special tokens, in id order: pad 0, unk 1, bos 2, eos 3 (the subword tokeniser uses the same ids).
SPECIALS = (PAD, UNK, BOS, EOS)

_WORDS = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
TOKENIZERS = ("words", "whitespace")


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``, so a
    reader never sees half a vocabulary."""
    atomic_write_text(path, text)


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int = 0,
              max_len: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Id lists -> ``(ids (B, T), lengths (B,))``, right-padded with ``pad_id``.

    ``max_len`` truncates each sequence to its first ``max_len`` ids. An empty sequence is an
    error (a recurrent model needs at least one step): callers decide how to handle empty texts.
    """
    if max_len is not None and max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    cut = [list(s[:max_len]) if max_len is not None else list(s) for s in seqs]
    for i, s in enumerate(cut):
        if not s:
            raise ValueError(f"sequence {i} of the batch is empty; every sequence needs >= 1 token")
    lengths = torch.tensor([len(s) for s in cut], dtype=torch.long)
    T = int(lengths.max()) if len(cut) else 0
    ids = torch.full((len(cut), T), pad_id, dtype=torch.long)
    for i, s in enumerate(cut):
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return ids, lengths


class WordVocab:
    """A word vocabulary with the special tokens of :data:`SPECIALS`.

    Args:
        words: the kept words in id order (ids start after the specials). Duplicates, empty
            strings and special tokens among them are errors.
        lowercase: lower-case text before tokenising (both when building and encoding).
        tokenizer: ``"words"`` or ``"whitespace"`` (see the module docstring).
    """

    kind = "word"

    def __init__(self, words: Iterable[str], *, lowercase: bool = False, tokenizer: str = "words"):
        words = list(words)
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {tokenizer!r}")
        bad = [w for w in words if not isinstance(w, str) or not w or w in SPECIALS]
        if bad:
            raise ValueError(f"WordVocab words must be non-empty strings other than {SPECIALS}, got {bad[:5]}")
        if len(set(words)) != len(words):
            dup = [w for w, n in Counter(words).items() if n > 1]
            raise ValueError(f"WordVocab words contain duplicates: {dup[:5]}")
        self.lowercase = bool(lowercase)
        self.tokenizer = tokenizer
        self.itos: list[str] = [*SPECIALS, *words]
        self.stoi: dict[str, int] = {s: i for i, s in enumerate(self.itos)}

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, texts: Iterable[str], min_freq: int = 1, max_size: int | None = None, *,
              lowercase: bool = False, tokenizer: str = "words") -> WordVocab:
        """Count the words of ``texts``; keep those seen at least ``min_freq`` times, the
        ``max_size`` most frequent at most (specials not counted); the rest encode to ``<unk>``."""
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        if max_size is not None and max_size < 0:
            raise ValueError(f"max_size must be >= 0 or None, got {max_size}")
        probe = cls([], lowercase=lowercase, tokenizer=tokenizer)
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(t for t in probe.tokenize(text) if t not in SPECIALS)
        kept = sorted((w for w, n in counts.items() if n >= min_freq), key=lambda w: (-counts[w], w))
        if max_size is not None:
            kept = kept[:max_size]
        return cls(kept, lowercase=lowercase, tokenizer=tokenizer)

    # ------------------------------------------------------------------ ids
    @property
    def pad_id(self) -> int:
        return 0

    @property
    def unk_id(self) -> int:
        return 1

    @property
    def bos_id(self) -> int:
        return 2

    @property
    def eos_id(self) -> int:
        return 3

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: str) -> bool:
        return word in self.stoi and word not in SPECIALS

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, WordVocab) and self.itos == other.itos
                and self.lowercase == other.lowercase and self.tokenizer == other.tokenizer)

    def __repr__(self) -> str:
        return f"WordVocab(size={len(self)}, lowercase={self.lowercase}, tokenizer={self.tokenizer!r})"

    # ------------------------------------------------------------------ text <-> ids
    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text`` (after lower-casing when the vocabulary does)."""
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
        if self.lowercase:
            text = text.lower()
        return text.split() if self.tokenizer == "whitespace" else _WORDS.findall(text)

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """``text`` -> ids; words not in the vocabulary become ``unk_id``."""
        ids = [self.stoi.get(t, 1) for t in self.tokenize(text)]
        return [2] * add_bos + ids + [3] * add_eos

    def encode_batch(self, texts: Sequence[str], add_bos: bool = False, add_eos: bool = False,
                     max_len: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Texts -> right-padded ``(ids (B, T), lengths (B,))``; see :func:`pad_batch`."""
        return pad_batch([self.encode(t, add_bos, add_eos) for t in texts], self.pad_id, max_len)

    def decode(self, ids: Sequence[int] | torch.Tensor, skip_special: bool = True) -> str:
        """Ids -> text, tokens joined by single spaces. ``skip_special`` drops pad/bos/eos
        (``<unk>`` stays visible: it marks a word that was lost)."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"decode expects 1-D ids (N,), got shape {tuple(ids.shape)}")
            ids = ids.tolist()
        n = len(self.itos)
        out = []
        for i in ids:
            if not 0 <= int(i) < n:
                raise ValueError(f"id {i} is out of range for a vocabulary of size {n}")
            if skip_special and int(i) in (0, 2, 3):
                continue
            out.append(self.itos[int(i)])
        return " ".join(out)

    def id_to_piece(self, i: int) -> str:
        return self.itos[i]

    def pieces(self, text: str) -> list[str]:
        """The tokens ``encode`` maps to ids, unknown ones shown as ``<unk>`` (for reports)."""
        return [t if t in self.stoi else UNK for t in self.tokenize(text)]

    # ------------------------------------------------------------------ save / load
    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "lowercase": self.lowercase, "tokenizer": self.tokenizer,
                "specials": list(SPECIALS), "words": self.itos[len(SPECIALS):]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WordVocab:
        if not isinstance(d, dict) or d.get("type") != cls.kind or "words" not in d:
            raise ValueError("not a saved WordVocab: expected a dict with type='word' and words")
        unknown = set(d) - {"type", "lowercase", "tokenizer", "specials", "words"}
        if unknown:
            raise ValueError(f"unknown WordVocab keys: {sorted(unknown)}")
        if tuple(d.get("specials", SPECIALS)) != SPECIALS:
            raise ValueError(f"saved WordVocab has specials {d['specials']}, expected {list(SPECIALS)}")
        return cls(d["words"], lowercase=d.get("lowercase", False), tokenizer=d.get("tokenizer", "words"))

    def save(self, path: str | os.PathLike) -> None:
        write_text_atomic(path, json.dumps(self.to_dict(), ensure_ascii=False))

    @classmethod
    def load(cls, path: str | os.PathLike) -> WordVocab:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no vocabulary file at {path}")
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
