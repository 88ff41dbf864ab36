"""Caption words <-> ids, and the padded ``(BOS, words..., EOS)`` batches a decoder trains on.

Ids: ``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<eos>`` 3 (the order rnnkit's text vocabularies use),
then the training captions' words in sorted order, so the same captions
give the same ids. Captions are lower-cased and split on whitespace.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import torch

__all__ = ["CaptionVocab", "PAD_ID", "UNK_ID", "BOS_ID", "EOS_ID"]

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
_SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")


class CaptionVocab:
    def __init__(self, words: Sequence[str]):
        words = [w for w in words if w not in _SPECIALS]
        if len(set(words)) != len(words):
            raise ValueError("CaptionVocab words contain duplicates")
        self.itos = list(_SPECIALS) + list(words)
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def from_captions(cls, captions: Iterable[str]) -> "CaptionVocab":
        words = sorted({w for c in captions for w in c.lower().split()})
        if not words:
            raise ValueError("cannot build a caption vocabulary from empty captions")
        return cls(words)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, caption: str) -> list[int]:
        """Word ids, unknown words as ``<unk>``; no BOS/EOS."""
        return [self.stoi.get(w, UNK_ID) for w in caption.lower().split()]

    def decode(self, ids: Iterable[int]) -> str:
        """Ids -> caption; stops at EOS, drops pad and BOS."""
        words = []
        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if i not in (PAD_ID, BOS_ID):
                words.append(self.itos[i])
        return " ".join(words)

    def batch(self, captions: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, T + 2)`` rows ``BOS w_1 .. w_n EOS`` padded with 0, and lengths ``n + 2`` ``(B,)``.

        A decoder reads ``seq[:, :-1]`` and is scored on ``seq[:, 1:]`` (pad ignored).
        """
        rows = [[BOS_ID, *self.encode(c), EOS_ID] for c in captions]
        T = max(len(r) for r in rows)
        out = torch.full((len(rows), T), PAD_ID, dtype=torch.long)
        for i, r in enumerate(rows):
            out[i, :len(r)] = torch.tensor(r)
        return out, torch.tensor([len(r) for r in rows])

    def to_dict(self) -> dict:
        return {"words": self.itos[len(_SPECIALS):]}

    @classmethod
    def from_dict(cls, d: dict) -> "CaptionVocab":
        return cls(d["words"])
