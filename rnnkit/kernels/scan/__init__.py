"""The linear recurrence ``h_t = a_t * h_{t-1} + b_t`` as a fast op (see README.md).

``scan`` dispatches; ``chunked_scan`` is the fast pure-torch path; ``chunked_scan_reference``
its algorithm in plain out-of-place torch.
"""

from rnnkit.kernels.scan.dispatch import BACKENDS, scan
from rnnkit.kernels.scan.op import DEFAULT_CHUNK, ChunkedScan, chunked_scan
from rnnkit.kernels.scan.reference import chunked_scan_reference

__all__ = ["BACKENDS", "DEFAULT_CHUNK", "ChunkedScan", "chunked_scan", "chunked_scan_reference", "scan"]
