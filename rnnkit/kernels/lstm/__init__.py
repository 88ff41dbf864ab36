"""The LSTM's sequential part as fused Triton kernels, forward and backward (see README.md).

``lstm_sequence_ref`` is its algorithm in plain torch (importable without triton);
``rnnkit.kernels.lstm.op`` needs triton; ``layer`` (the ``backend="triton"`` of recurrent layers)
imports it only when it runs.
"""

from rnnkit.kernels.lstm.reference import lstm_sequence_ref

__all__ = ["lstm_sequence_ref"]
