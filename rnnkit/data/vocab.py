"""Character vocabulary: text <-> LongTensor of ids, saved beside a run so it decodes the same.

Ids are assigned deterministically: the unknown token (if any) is id 0, then the kept characters
in code-point order. So the same text and settings always give the same vocabulary.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import torch

__all__ = ["CharVocab", "DEFAULT_UNK"]

# U+FFFD REPLACEMENT CHARACTER: one character, so decode() of any ids is still a plain string
# whose length equals the number of ids.
DEFAULT_UNK = "\ufffd"


class CharVocab:
    """A character-level vocabulary.

    tokens: the characters to keep, in id order (id = position, after the unknown token).
    unk: the unknown token, or None for a closed vocabulary (encoding an unseen character is then
        an error). It gets id 0 when present.
    """

    def __init__(self, tokens: Iterable[str], unk: Optional[str] = DEFAULT_UNK):
        chars = list(tokens)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"CharVocab tokens must be single characters, got {c!r}")
        if unk is not None:
            if not isinstance(unk, str) or not unk:
                raise ValueError(f"unk must be a non-empty string or None, got {unk!r}")
            # A kept character equal to unk would give two ids for one string.
            chars = [c for c in chars if c != unk]
        if len(set(chars)) != len(chars):
            raise ValueError("CharVocab tokens contain duplicates")
        self.unk = unk
        self.itos: list[str] = ([unk] if unk is not None else []) + chars
        self.stoi: dict[str, int] = {s: i for i, s in enumerate(self.itos)}
        self.unk_id: Optional[int] = 0 if unk is not None else None
        # Sorted code points -> ids, for vectorised encoding of long texts.
        cps = np.array([ord(c) for c in chars], dtype=np.int64)
        order = np.argsort(cps)
        offset = 1 if unk is not None else 0
        self._cps = cps[order]
        self._ids = (order + offset).astype(np.int64)

    @classmethod
    def from_text(cls, text: str, min_freq: int = 1, unk: Optional[str] = DEFAULT_UNK
                  ) -> "CharVocab":
        """Build from a corpus: keep characters seen at least ``min_freq`` times, in code-point
        order; rarer ones will encode to ``unk``."""
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        if not text:
            raise ValueError("cannot build a vocabulary from empty text")
        counts = Counter(text)
        kept = sorted(c for c, n in counts.items() if n >= min_freq)
        if unk is None and len(kept) < len(counts):
            raise ValueError(f"min_freq={min_freq} drops {len(counts) - len(kept)} characters but "
                             f"unk is None, so they could not be encoded; give an unk token")
        return cls(kept, unk=unk)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, char: str) -> bool:
        return char in self.stoi and char != self.unk

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, CharVocab) and self.itos == other.itos and self.unk == other.unk

    def __repr__(self) -> str:
        return f"CharVocab(size={len(self)}, unk={self.unk!r})"

    def encode(self, text: str) -> torch.Tensor:
        """str of N characters -> (N,) LongTensor of ids. Unseen characters become ``unk_id``
        (ValueError naming the first one when the vocabulary has no unk)."""
        if not isinstance(text, str):
            raise TypeError(f"encode expects str, got {type(text).__name__}")
        if not text:
            return torch.zeros(0, dtype=torch.long)
        # UTF-32 gives one fixed-width code point per character: a vectorised lookup, ~100x
        # faster than a Python loop on a corpus of a few million characters.
        raw = text.encode("utf-32-le", "surrogatepass")
        cps = np.frombuffer(raw, dtype="<u4").astype(np.int64)
        if len(self._cps):
            # searchsorted gives where each code point would go; clipping keeps the index valid,
            # and equality then tells whether it is really there.
            pos = np.minimum(np.searchsorted(self._cps, cps), len(self._cps) - 1)
            found = self._cps[pos] == cps
            ids = self._ids[pos].copy()
        else:
            found = np.zeros(len(cps), dtype=bool)
            ids = np.zeros(len(cps), dtype=np.int64)
        if not found.all():
            if self.unk_id is None:
                i = int(np.argmin(found))
                raise ValueError(f"character {text[i]!r} (U+{ord(text[i]):04X}) at position {i} "
                                 f"is not in the vocabulary, which has no unk token")
            ids[~found] = self.unk_id
        return torch.from_numpy(ids)

    def decode(self, ids: torch.Tensor | Sequence[int]) -> str:
        """(N,) ids (tensor or sequence of ints) -> str."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"decode expects a 1-D id tensor (N,), got {tuple(ids.shape)}")
            ids = ids.tolist()
        n = len(self.itos)
        out = []
        for i in ids:
            if not 0 <= i < n:
                raise ValueError(f"id {i} is out of range for a vocabulary of size {n}")
            out.append(self.itos[i])
        return "".join(out)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description; ``CharVocab.from_dict`` rebuilds the identical vocabulary."""
        chars = self.itos[1:] if self.unk is not None else self.itos
        return {"type": "char", "unk": self.unk, "tokens": list(chars)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CharVocab":
        if not isinstance(d, dict) or d.get("type") != "char" or "tokens" not in d:
            raise ValueError("not a saved CharVocab: expected a dict with type='char' and tokens")
        unknown = set(d) - {"type", "unk", "tokens"}
        if unknown:
            raise ValueError(f"unknown CharVocab keys: {sorted(unknown)}")
        vocab = cls(d["tokens"], unk=d.get("unk"))
        if vocab.to_dict()["tokens"] != list(d["tokens"]):  # unk was listed among the tokens
            raise ValueError("saved CharVocab lists its unk token among the tokens")
        return vocab
