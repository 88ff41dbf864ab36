"""The linear recurrence ``h_t = a_t * h_{t-1} + b_t`` as a fast op (see README.md).

``scan`` dispatches (:mod:`rnnkit.kernels.dispatch`) and runs; ``run_scan`` runs one chosen
backend; ``chunked_scan`` is the fast pure-torch path; ``chunked_scan_reference`` its algorithm in
plain out-of-place torch. ``BACKENDS``: the scan backends that run on every device.
"""

from rnnkit.kernels.scan.op import DEFAULT_CHUNK, ChunkedScan, chunked_scan, run_scan, scan
from rnnkit.kernels.scan.reference import chunked_scan_reference

BACKENDS = ("auto", "loop", "chunked")  # and "triton" where it can run (CUDA, or the interpreter)

__all__ = ["BACKENDS", "DEFAULT_CHUNK", "ChunkedScan", "chunked_scan", "chunked_scan_reference", "run_scan",
           "scan"]
