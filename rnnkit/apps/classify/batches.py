"""Encoded texts as a Dataset, padded batches with lengths, and the training objective.

A batch is ``(ids (B, T), lengths (B,), y (B,))``: ids right-padded with the tokeniser's pad id
(0), T the longest text of the batch, ``y`` class ids. The model reads only ``t < lengths[b]``
(packed on the fused path), so padding never changes a prediction.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from rnnkit.data.word_vocab import pad_batch

__all__ = ["EncodedTexts", "classification_loss", "collate", "encode_texts"]


def encode_texts(tok, texts: Sequence[str], max_len: int) -> tuple[list[list[int]], int]:
    """Token ids of each text, cut to ``max_len``; also how many texts were cut.

    A text that tokenises to nothing (possible only for exotic input) becomes one ``<unk>``, so
    every row still gets a prediction.
    """
    out, cut = [], 0
    for t in texts:
        ids = tok.encode(t) or [tok.unk_id]
        if len(ids) > max_len:
            ids, cut = ids[:max_len], cut + 1
        out.append(ids)
    return out, cut


class EncodedTexts(Dataset):
    """``(ids, label)`` pairs; labels may be ``None`` (prediction only: the batch then has y = -1)."""

    def __init__(self, ids: Sequence[Sequence[int]], labels: Sequence[int] | None = None):
        if labels is not None and len(labels) != len(ids):
            raise ValueError(f"{len(ids)} texts but {len(labels)} labels")
        self.ids = [list(s) for s in ids]
        self.labels = list(labels) if labels is not None else [-1] * len(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int):
        return self.ids[i], self.labels[i]


def collate(items) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ids, lengths = pad_batch([s for s, _ in items], pad_id=0)
    return ids, lengths, torch.tensor([y for _, y in items], dtype=torch.long)


def classification_loss(model, batch):
    """Mean cross-entropy of the logits ``(B, K)`` against ``y (B,)``, with batch accuracy."""
    ids, lengths, y = batch
    logits = model(ids, lengths)
    loss = F.cross_entropy(logits, y)
    return loss, {"acc": (logits.argmax(-1) == y).float().mean()}
