"""The Elman RNN's sequential part as fused Triton kernels, forward and backward (see README.md).

``elman_sequence_ref`` is its algorithm in plain torch (importable without triton);
``rnnkit.kernels.elman.op`` needs triton.
"""

from rnnkit.kernels.elman.reference import elman_sequence_ref

__all__ = ["elman_sequence_ref"]
