"""The LSTM's sequential part as a fused Triton kernel (forward only, for inference; see README.md).

``lstm_sequence_ref`` is its algorithm in plain torch (importable without triton);
``rnnkit.kernels.lstm.op`` needs triton.
"""

from rnnkit.kernels.lstm.reference import lstm_sequence_ref

__all__ = ["lstm_sequence_ref"]
