"""Digit strips for image captioning: 1-4 real handwritten digits in a row, captioned in words.

A strip is one grey image ``(1, S, W)`` with ``W = max_digits * S + max_digits * (S // 4)``: k
digits (k uniform in 1..max_digits, each digit uniform in 0-9, each image drawn from the pool)
placed left to right with random gaps of 0 to S // 4 pixels and a random left margin, so a digit's
position in the strip does not give away its place in the caption. The caption is the digits'
words: ``"three one four"``.

Strips come from ``numpy.random.default_rng([seed, split])``: a seed gives the same strips bit for
bit. Held-out strips use held-out digit images (see :func:`rnnkit.apps.vision.digits.split_digits`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnkit.apps.vision.digits import DIGIT_WORDS, DigitImages

__all__ = ["ImageCaptions", "make_digit_strips", "strip_width"]


@dataclass
class ImageCaptions:
    """images ``(N, C, H, W)`` uint8; captions: for each image its reference captions (>= 1);
    names: an id per image (the file name for the user's images)."""

    images: torch.Tensor
    captions: list[list[str]]
    names: list[str]

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, index) -> "ImageCaptions":
        idx = [int(i) for i in index]
        return ImageCaptions(self.images[torch.as_tensor(idx, dtype=torch.long)],
                             [self.captions[i] for i in idx], [self.names[i] for i in idx])


def strip_width(digit_size: int, max_digits: int) -> int:
    return max_digits * digit_size + max_digits * (digit_size // 4)


def make_digit_strips(pool: DigitImages, n: int, seed: int, max_digits: int = 4, noise: float = 0.0,
                      split: int = 0) -> ImageCaptions:
    """``n`` strips of 1..``max_digits`` digits from ``pool`` (images ``(N, S, S)`` in [0, 1])."""
    if n < 1:
        raise ValueError(f"the number of strips must be >= 1, got {n}")
    if not 1 <= max_digits <= 8:
        raise ValueError(f"max_digits must be in 1..8, got {max_digits}")
    if len(pool) == 0:
        raise ValueError("the digit pool is empty")
    rng = np.random.default_rng([int(seed), int(split)])
    S = pool.images.shape[-1]
    W = strip_width(S, max_digits)
    max_gap = S // 4
    by_digit = [np.flatnonzero(pool.labels == d) for d in range(10)]
    missing = [d for d in range(10) if len(by_digit[d]) == 0]
    if missing:
        raise ValueError(f"the digit pool has no image of digit(s) {missing}")
    out = np.zeros((n, 1, S, W), dtype=np.float32)
    captions: list[list[str]] = []
    for i in range(n):
        k = int(rng.integers(1, max_digits + 1))
        digits = rng.integers(0, 10, size=k)
        gaps = rng.integers(0, max_gap + 1, size=k)
        x = int(rng.integers(0, W - (k * S + int(gaps[1:].sum())) + 1))  # left margin
        for j, d in enumerate(digits):
            if j:
                x += int(gaps[j])
            img = pool.images[by_digit[d][int(rng.integers(0, len(by_digit[d])))]]
            out[i, 0, :, x:x + S] = np.maximum(out[i, 0, :, x:x + S], img)
            x += S
        captions.append([" ".join(DIGIT_WORDS[d] for d in digits)])
    if noise > 0:
        out += rng.standard_normal(out.shape, dtype=np.float32) * noise
    images = torch.from_numpy((np.clip(out, 0, 1) * 255).round().astype(np.uint8))
    return ImageCaptions(images, captions, [f"strip{i:05d}" for i in range(n)])
