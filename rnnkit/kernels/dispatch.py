"""Every backend rule of rnnkit, for recurrent layers and for the linear scan, in one vocabulary.

The names (:data:`BACKENDS`):

- ``auto``: the rules below pick one of the others.
- ``loop``: the plain-torch sequential path: rnnkit's time loop over any cell (input projection for
  all steps in one product), or the sequential linear scan
  :func:`rnnkit.functional.scan.linear_scan_ref`. The reference every other backend is checked
  against, and what runs when this folder is deleted.
- ``native``: torch's fused op (cuDNN / ATen), only where it computes exactly the layer.
- ``chunked``: the chunked linear scan in plain torch (:func:`rnnkit.kernels.scan.chunked_scan`).
- ``log``: the log-space linear scan in plain torch (:func:`rnnkit.functional.scan.log_linear_scan`,
  Feng et al. 2024); min-RNN layers only (it needs the logs of the coefficients, which the layer
  computes stably from its gate pre-activations).
- ``triton``: rnnkit's Triton kernels: the fused Elman RNN, LSTM and GRU (rnnkit/kernels/elman,
  lstm, gru) for layers of plain RNN (tanh or relu), LSTM or GRU cells, bare or wrapped in
  VariationalDropout and/or Zoneout, and the Triton linear scan (rnnkit/kernels/scan). CUDA tensors, or CPU
  tensors under ``TRITON_INTERPRET=1`` for tests.

Who takes which name (:data:`ACCEPTS`): layers over cells (``Recurrent``, ``RNN``, ``LSTM``,
``GRU``) take ``auto | loop | native | triton``; the min-RNN layers (``MinGRU``, ``MinLSTM``)
``auto | loop | chunked | log | triton``; the scan function
(:func:`rnnkit.kernels.scan.scan`) ``auto | loop | chunked | triton``. Old names still work,
with a DeprecationWarning: :data:`DEPRECATED_ALIASES` (``ref`` -> ``loop``). Any other name raises
a one-line ValueError that lists the valid ones.

What ``auto`` picks:

- layers over cells, on CUDA: ``triton`` where it fits for bare LSTM layers in bf16 and bare GRU
  layers in fp16 and bf16 (the measured reasons, per card and size, are in docs/kernels.md); the
  LSTM never in fp16 (cuDNN keeps its recurrent weights on chip in fp16 and was faster there) and
  neither cell in fp32 (exact-fp32 products have no tensor cores; with torch's TF32 switch on the
  fused fp32 products are TF32, but that path is untimed against cuDNN, so fp32 stays on cuDNN
  either way: docs/kernels.md). The Elman RNN's kernel has not been timed on a GPU yet: ``auto``
  never takes it, nor the LayerNorm LSTM/GRU kernels (rnnkit/kernels/lstm/ln_op.py; no GPU timing
  yet: ``backend="triton"`` only), nor the head-wise (block-diagonal) LSTM and GRU
  kernels (rnnkit/kernels/{lstm,gru}/headwise.py; untimed on a GPU: ``backend="triton"`` only). Otherwise, on
  any device, ``native`` where it is exact, else ``loop``.
- the linear scan and the min-RNN layers: ``triton`` on CUDA in fp32 and bf16 when triton imports,
  the dtypes where it passed its GPU tests and was timed faster than ``chunked`` (docs/kernels.md);
  fp16 and fp64 were not timed and stay ``chunked``; ``chunked`` everywhere else. The interpreter is
  for tests: ``auto`` never takes it. Only the device and the dtype matter (not lengths or h0).
  Inside ``triton`` the path is ``triton_scan(chunk="auto")``'s (``pick_chunk``) with the
  three-pass carry: the two-pass kernels (``carry="fused"``) are opt-in until timed on a GPU.

An explicit request is strict: a backend that cannot run raises :class:`BackendUnavailable`,
never a silent fallback, so tests pin the path they mean to test. The choice is logged once per
caller, backend, reason, device and dtype on the ``rnnkit.dispatch`` logger.
"""

from __future__ import annotations

import logging
import os
import warnings

import torch
from torch import Tensor

from rnnkit.cells.builtin import GRUCell, LSTMCell
from rnnkit.kernels import fused_layer as fused
from rnnkit.kernels import native

# the one vocabulary
BACKENDS = ("auto", "loop", "native", "chunked", "log", "triton")
# old names, still accepted with a DeprecationWarning: old -> new
DEPRECATED_ALIASES = {"ref": "loop"}

# the callers, and the names each takes
LAYER = "layer"  # Recurrent over any cell: RNN, LSTM, GRU, user cells
SCAN_LAYER = "scan layer"  # MinGRU, MinLSTM: per direction one linear scan
SCAN = "linear scan"  # rnnkit.kernels.scan.scan(a, b, ...)
ACCEPTS = {
    LAYER: ("auto", "loop", "native", "triton"),
    SCAN_LAYER: ("auto", "loop", "chunked", "log", "triton"),
    SCAN: ("auto", "loop", "chunked", "triton"),
}

# where auto takes the fused layer kernels, by cell: measured on an H200 (docs/kernels.md). The LayerNorm
# cells are absent on purpose: their kernels are untimed on a GPU, so auto never takes them.
AUTO_TRITON_DTYPES = {LSTMCell: (torch.bfloat16,), GRUCell: (torch.float16, torch.bfloat16)}
# where auto takes the Triton scan (on CUDA): the dtypes timed against chunked on an H200
AUTO_TRITON_SCAN_DTYPES = (torch.float32, torch.bfloat16)
# what the Triton scan computes (fp64 for gradcheck)
TRITON_SCAN_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

log = logging.getLogger("rnnkit.dispatch")
_logged: set[tuple] = set()
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # rnnkit/


class BackendUnavailable(RuntimeError, ValueError):
    """The requested backend cannot compute this layer or scan on this input. A RuntimeError for
    layers (as before) and a ValueError for the scan function (as before): both catch it."""


def available_backends() -> list[str]:
    """The backends this installation has (``auto`` aside); ``triton`` only when it imports."""
    return ["native", "loop", "chunked", "log"] + (["triton"] if fused.triton_importable() else [])


def _stacklevel() -> int:
    """The stack level of the first frame outside rnnkit and torch.nn, for warnings."""
    import sys

    level, frame = 1, sys._getframe(1)
    torch_nn = os.path.dirname(os.path.abspath(torch.nn.__file__)) + os.sep
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not (path.startswith(_PACKAGE_DIR) or path.startswith(torch_nn)):
            return level
        frame, level = frame.f_back, level + 1
    return 1


def backend_name(name: str, caller: str = LAYER, owner: str | None = None) -> str:
    """``name`` in the one vocabulary: a deprecated alias is mapped (with a DeprecationWarning);
    a name that ``caller`` (:data:`LAYER`, :data:`SCAN_LAYER`, :data:`SCAN`) does not take raises
    a one-line ValueError listing the names it takes."""
    if caller not in ACCEPTS:
        raise ValueError(f"caller must be one of {tuple(ACCEPTS)}, got {caller!r}")
    if isinstance(name, str) and name in DEPRECATED_ALIASES:
        new = DEPRECATED_ALIASES[name]
        warnings.warn(f"backend {name!r} is deprecated, use {new!r} (the same backend)",
                      DeprecationWarning, stacklevel=_stacklevel())
        name = new
    valid = ACCEPTS[caller]
    if name not in valid:
        who = owner or caller
        raise ValueError(f"backend must be one of {valid} for {who}, got {name!r}")
    return name


def auto_takes_triton(layer, dtype: torch.dtype) -> bool:
    """The measured rule of ``auto`` on CUDA (docs/kernels.md): bare LSTM layers in bf16 and bare
    GRU layers in fp16/bf16 go to the fused Triton kernels (where they fit); wrapped cells and the
    Elman RNN (not yet timed on a GPU) only on request."""
    return fused.plain(layer) and dtype in AUTO_TRITON_DTYPES.get(fused.cell_kind(layer), ())


def auto_scan_takes_triton(dtype: torch.dtype) -> bool:
    """The measured rule of ``auto`` for the linear scan on CUDA: the Triton scan in fp32 and bf16
    (timed against chunked on an H200, docs/kernels.md), chunked in other dtypes."""
    return dtype in AUTO_TRITON_SCAN_DTYPES


def scan_triton_unsupported(t: Tensor) -> str | None:
    """Why the Triton linear scan cannot run on tensors like ``t``; None when it can."""
    if t.dtype not in TRITON_SCAN_DTYPES:
        return f"dtype {t.dtype} (the Triton scan takes fp16, bf16, fp32 or fp64)"
    return fused.triton_unavailable(t)


def _choose_cell_layer(layer, requested: str, x: Tensor) -> tuple[str, str]:
    if requested == "loop":
        return "loop", "requested"
    if requested == "triton":
        why_not = fused.unsupported_reason(layer, x)
        if why_not is not None:
            raise BackendUnavailable(f"backend 'triton' cannot run {type(layer).__name__}: {why_not}")
        return "triton", "requested"
    if (requested == "auto" and x.device.type == "cuda" and auto_takes_triton(layer, x.dtype)
            and fused.unsupported_reason(layer, x) is None):
        return "triton", "fused Triton kernel (cuDNN is slower in this dtype)"
    why_not = native.unsupported_reason(layer, x)
    if why_not is None:
        return "native", "torch fused op computes this layer exactly"
    if requested == "native":
        raise BackendUnavailable(f"backend 'native' cannot run {type(layer).__name__}: {why_not}")
    return "loop", why_not


def _choose_scan(requested: str, t: Tensor, who: str) -> tuple[str, str]:
    if requested == "triton":
        why_not = scan_triton_unsupported(t)
        if why_not is not None:
            runs_here = tuple(n for n in ACCEPTS[SCAN] if n != "triton")
            raise BackendUnavailable(f"backend 'triton' cannot run {who}: {why_not}; the scan backend "
                                     f"must be one of {runs_here} on {t.device.type}")
        return "triton", "requested"
    if requested != "auto":
        return requested, "requested"
    if t.device.type == "cuda" and auto_scan_takes_triton(t.dtype) and scan_triton_unsupported(t) is None:
        return "triton", "the Triton scan (faster than chunked on CUDA in this dtype)"
    return "chunked", "the chunked torch scan (Triton only on CUDA in fp32/bf16 with triton installed)"


def _log_once(who: str, t: Tensor, chosen: str, reason: str) -> None:
    if torch.compiler.is_compiling():  # logging inside a traced graph would break it
        return
    key = (who, chosen, reason, t.device.type, t.dtype)
    if key not in _logged:
        _logged.add(key)
        log.info("%s on %s/%s: backend=%s (%s)", who, t.device.type, t.dtype, chosen, reason)


def choose_backend(layer, requested: str, x: Tensor) -> str:
    """The backend that will run ``layer`` on ``x`` ``(B, T, D)``; raises when ``requested``
    cannot. The layer's ``backend_kind`` (:data:`LAYER` by default, :data:`SCAN_LAYER` for the
    min-RNN layers) says which rules apply."""
    caller = getattr(layer, "backend_kind", LAYER)
    who = type(layer).__name__
    requested = backend_name(requested, caller, who)
    if caller == SCAN_LAYER:
        chosen, reason = _choose_scan(requested, x, who)
    else:
        chosen, reason = _choose_cell_layer(layer, requested, x)
    _log_once(who, x, chosen, reason)
    return chosen


def choose_scan_backend(requested: str, a: Tensor) -> str:
    """The backend that will run the linear scan on ``a`` ``(B, T, D)``; raises when
    ``requested`` cannot."""
    name = backend_name(requested, SCAN, "the linear scan")
    chosen, _ = _choose_scan(name, a, "the linear scan")
    _log_once("linear scan", a, chosen, f"requested {name}")
    return chosen
