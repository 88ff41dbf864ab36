"""LZMA baselines in bits per character (BPC), to put a language model's figure in context.

A character model that cannot beat a general-purpose compressor has learnt little. Two figures:

* ``lzma_bpc(text)``: the held-out text compressed alone.
* ``lzma_conditional_bpc(train, heldout)``: the extra bits the held-out text costs when the
  compressor has already seen the training text, the fair comparison for a model trained on it.

Choices (fixed so the numbers are comparable between runs):

* Format: FORMAT_RAW with one LZMA2 filter. Raw output has no container (the .xz format adds
  about 60 bytes of header, index and CRC), so the figure measures the model, not the wrapper.
* Preset: 9 | PRESET_EXTREME, the strongest setting. Its dictionary is 64 MiB, so the conditional
  figure is exact only while train + held-out fit in 64 MiB of UTF-8; beyond that lzma forgets
  the start of the training text and the figure is pessimistic.
* Bits are counted on the compressed size of the UTF-8 bytes, divided by the number of
  characters (not bytes), matching a character-level model's per-character loss.
"""

from __future__ import annotations

import lzma

__all__ = ["LZMA_FILTERS", "compressed_bits", "lzma_bpc", "lzma_conditional_bpc"]

LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]


def compressed_bits(data: bytes) -> int:
    """Size in bits of ``data`` compressed with raw LZMA2 at preset 9 | PRESET_EXTREME."""
    return 8 * len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=LZMA_FILTERS))


def lzma_bpc(text: str) -> float:
    """Bits per character of ``text`` compressed on its own."""
    if not text:
        raise ValueError("lzma_bpc needs a non-empty text")
    return compressed_bits(text.encode("utf-8")) / len(text)


def lzma_conditional_bpc(train_text: str, heldout_text: str) -> float:
    """Bits per held-out character given the training text:
    (size(train + heldout) - size(train)) * 8 / len(heldout), sizes in compressed bytes.

    Compresses the training text twice (alone and with the held-out text), so it costs about
    two passes over the corpus: a few seconds per MB of text.
    """
    if not heldout_text:
        raise ValueError("lzma_conditional_bpc needs a non-empty held-out text")
    train = train_text.encode("utf-8")
    both = train + heldout_text.encode("utf-8")
    return (compressed_bits(both) - compressed_bits(train)) / len(heldout_text)
