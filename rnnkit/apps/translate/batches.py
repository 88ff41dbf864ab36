"""Batches of token-id pairs for the trainer: length-bucketed, seeded, reproducible per epoch.

A batch is ``(src (B, S), src_len (B,), tgt_in (B, T), tgt_out (B, T))``, right-padded with
``pad_id``: ``tgt_in = [BOS] + y`` and ``tgt_out = y + [EOS]``, so position t of the decoder
predicts ``tgt_out[:, t]`` from ``tgt_in[:, :t+1]``.

Bucketing: the pairs are shuffled, cut into pools of ``pool`` batches, each pool sorted by source
length and cut into batches, and the batch order shuffled again. Similar lengths share a batch,
so little compute goes to padding. The order depends only on ``(seed, epoch)``; the trainer calls
``sampler.set_epoch(epoch)`` before every epoch, so a resumed run sees the same batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

__all__ = ["PairBatches", "collate_pairs"]


def collate_pairs(src: Sequence[Sequence[int]], tgt: Sequence[Sequence[int]], pad_id: int, bos_id: int,
                  eos_id: int) -> tuple[torch.Tensor, ...]:
    """Token-id lists -> ``(src, src_len, tgt_in, tgt_out)`` padded tensors."""
    B = len(src)
    S = max(len(s) for s in src)
    T = max(len(t) for t in tgt) + 1
    src_t = torch.full((B, S), pad_id, dtype=torch.long)
    tgt_in = torch.full((B, T), pad_id, dtype=torch.long)
    tgt_out = torch.full((B, T), pad_id, dtype=torch.long)
    for i, (s, t) in enumerate(zip(src, tgt)):
        src_t[i, :len(s)] = torch.as_tensor(s, dtype=torch.long)
        tgt_in[i, :len(t) + 1] = torch.as_tensor([bos_id, *t], dtype=torch.long)
        tgt_out[i, :len(t) + 1] = torch.as_tensor([*t, eos_id], dtype=torch.long)
    src_len = torch.as_tensor([len(s) for s in src], dtype=torch.long)
    return src_t, src_len, tgt_in, tgt_out


class PairBatches:
    """Iterable of collated batches over encoded pairs (every source must have >= 1 token).

    ``shuffle=False`` keeps a fixed, length-sorted order (validation). ``sampler`` is this object
    itself, so the trainer finds ``set_epoch``.
    """

    def __init__(self, src_ids: Sequence[Sequence[int]], tgt_ids: Sequence[Sequence[int]], batch_size: int,
                 pad_id: int, bos_id: int, eos_id: int, shuffle: bool = True, seed: int = 0, pool: int = 50):
        if len(src_ids) != len(tgt_ids) or not src_ids:
            raise ValueError(f"need the same, non-zero number of sources and targets, got {len(src_ids)} and {len(tgt_ids)}")
        if any(len(s) == 0 for s in src_ids):
            raise ValueError("every source needs at least one token")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.src, self.tgt = list(src_ids), list(tgt_ids)
        self.batch_size, self.shuffle, self.seed, self.pool = int(batch_size), shuffle, int(seed), int(pool)
        self.ids = (pad_id, bos_id, eos_id)
        self.epoch = 0
        self.sampler = self

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return (len(self.src) + self.batch_size - 1) // self.batch_size

    def batch_indices(self) -> list[np.ndarray]:
        lengths = np.array([len(s) for s in self.src])
        if not self.shuffle:
            order = np.argsort(lengths, kind="stable")
            return [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.src))
        span = self.batch_size * self.pool
        batches = []
        for start in range(0, len(order), span):
            chunk = order[start:start + span]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches += [chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        for idx in self.batch_indices():
            yield collate_pairs([self.src[i] for i in idx], [self.tgt[i] for i in idx], *self.ids)
