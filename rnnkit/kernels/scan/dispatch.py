"""``scan(a, b, h0, lengths, backend)``: the one entry point of the linear recurrence.

Backends:

- ``chunked``: :func:`rnnkit.kernels.scan.op.chunked_scan`, the fast pure-torch scan (CPU, GPU).
- ``ref``: :func:`rnnkit.functional.linear_scan_ref`, the sequential loop (the oracle).
- ``triton``: :func:`rnnkit.kernels.scan.triton_op.triton_scan`, the Triton kernels (CUDA; on CPU
  only under ``TRITON_INTERPRET=1``, for tests), lengths handled inside the kernel.
- ``auto``: ``chunked`` everywhere for now. The Triton kernels pass their parity tests under the
  interpreter but have not yet been compiled or checked on a GPU; ``auto`` switches to them once
  ``pytest -m gpu tests/kernels_triton`` has passed on a card (docs/kernels.md).

An explicit request is strict (an unknown backend raises, never a silent fallback). The choice
is logged once per backend, device and dtype on the ``rnnkit.dispatch`` logger.
"""

from __future__ import annotations

import logging

from torch import Tensor

from rnnkit.functional import scan as FS
from rnnkit.kernels.scan.op import DEFAULT_CHUNK, chunked_scan

BACKENDS = ("auto", "ref", "chunked")  # the backends that run on every device
# "triton" is accepted too, but only where it can run (CUDA, or the interpreter for tests)
TRITON = "triton"
log = logging.getLogger("rnnkit.dispatch")
_logged: set[tuple] = set()


def _triton_available() -> bool:
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def choose_scan_backend(requested: str, a: Tensor) -> str:
    if requested not in BACKENDS + (TRITON,):
        raise ValueError(f"scan backend must be one of {BACKENDS + (TRITON,)}, got {requested!r}")
    if requested == "auto":
        chosen = "chunked"  # not "triton" until its GPU tests have run (see the module docstring)
    else:
        chosen = requested
    if requested == TRITON:
        if not _triton_available():
            raise ValueError(f"scan backend must be one of {BACKENDS} here: 'triton' needs the "
                             "triton package (pip install triton)")
        from rnnkit.kernels.scan.triton_op import interpreter_on
        if a.device.type != "cuda" and not interpreter_on():
            raise ValueError(f"scan backend must be one of {BACKENDS} on {a.device.type}: 'triton' "
                             "needs CUDA tensors (or TRITON_INTERPRET=1 set before triton is "
                             "imported, for tests)")
    key = (chosen, requested, a.device.type, a.dtype)
    if key not in _logged:
        _logged.add(key)
        log.info("linear scan on %s/%s: backend=%s (requested %s)", a.device.type, a.dtype, chosen, requested)
    return chosen


def scan(a: Tensor, b: Tensor, h0: Tensor | None = None, lengths: Tensor | None = None,
         backend: str = "auto", chunk: int = DEFAULT_CHUNK) -> Tensor:
    """``h_t = a_t * h_{t-1} + b_t``. a, b ``(B, T, D)``; h0 ``(B, D)`` or None (zeros);
    lengths ``(B,)`` or None -> h ``(B, T, D)``.

    With lengths, padded steps hold the state (a = 1, b = 0) and their outputs are zero; use
    :func:`rnnkit.functional.scan.final_state` for the state after each last valid step.
    """
    chosen = choose_scan_backend(backend, a)
    FS.check_scan_inputs(a, b, h0, lengths)
    if chosen == "ref":
        return FS.linear_scan_ref(a, b, h0, lengths)
    if chosen == "triton":
        from rnnkit.kernels.scan.triton_op import triton_scan
        return triton_scan(a, b, h0, lengths)[0]
    mask = FS.valid_mask(lengths, a.shape[1], a.device)
    a, b = FS.hold_padded(a, b, mask)
    return FS.zero_padded(chunked_scan(a, b, h0, chunk), mask)
