"""The GRU's sequential part as fused Triton kernels, forward and backward (see README.md).

``gru_sequence_ref`` is its algorithm in plain torch (importable without triton);
``rnnkit.kernels.gru.op`` needs triton.
"""

from rnnkit.kernels.gru.reference import gru_sequence_ref

__all__ = ["gru_sequence_ref"]
