"""Scores for the vision pipelines and the baselines they are reported against.

- accuracy and the confusion matrix ``cm[true, predicted]`` (counts);
- corpus BLEU with sacrebleu (its default 13a tokenisation, 4-grams, brevity penalty; several
  references per image allowed) and exact caption match;
- baselines: the majority class, chance (1 / classes), the most frequent training caption, and
  the caption of the nearest training image in pixel space (Euclidean distance on the raw pixels).
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
import torch

__all__ = ["accuracy", "confusion_matrix", "corpus_bleu", "exact_match", "majority_baseline",
           "most_frequent_caption", "nearest_neighbour_captions"]


def accuracy(pred: Sequence[int], true: Sequence[int]) -> float:
    pred, true = np.asarray(pred), np.asarray(true)
    if pred.shape != true.shape or pred.size == 0:
        raise ValueError(f"accuracy needs two equal, non-empty label arrays, got {pred.shape} and {true.shape}")
    return float((pred == true).mean())


def confusion_matrix(pred: Sequence[int], true: Sequence[int], num_classes: int) -> np.ndarray:
    """``cm[i, j]`` = how many items of true class i were predicted as j."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(true), np.asarray(pred)), 1)
    return cm


def majority_baseline(train_labels: Sequence[int], test_labels: Sequence[int]) -> tuple[int, float]:
    """The most frequent training class and its accuracy on the test labels."""
    counts = Counter(int(x) for x in train_labels)
    top = min(counts, key=lambda k: (-counts[k], k))
    return top, accuracy([top] * len(test_labels), test_labels)


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """sacrebleu corpus BLEU (0-100); ``references[i]`` holds the references of hypothesis i."""
    from sacrebleu.metrics import BLEU

    if len(hypotheses) != len(references) or not hypotheses:
        raise ValueError(f"BLEU needs one reference list per hypothesis, got {len(hypotheses)} and {len(references)}")
    width = max(len(r) for r in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]
    return float(BLEU().corpus_score(list(hypotheses), streams).score)


def exact_match(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Fraction of hypotheses equal to one of their references."""
    return float(np.mean([h in refs for h, refs in zip(hypotheses, references)]))


def most_frequent_caption(train_captions: Sequence[Sequence[str]]) -> str:
    counts = Counter(c for refs in train_captions for c in refs)
    return min(counts, key=lambda c: (-counts[c], c))


def nearest_neighbour_captions(train_images: torch.Tensor, train_captions: Sequence[Sequence[str]],
                               test_images: torch.Tensor, chunk: int = 512) -> list[str]:
    """For each test image, the first caption of the closest training image (raw pixels, L2)."""
    a = train_images.flatten(1).float()
    out = []
    for start in range(0, test_images.shape[0], chunk):
        b = test_images[start:start + chunk].flatten(1).float()
        nearest = torch.cdist(b, a).argmin(dim=1)
        out += [train_captions[int(i)][0] for i in nearest]
    return out
