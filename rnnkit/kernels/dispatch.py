"""Backend choice for recurrent layers: ``"auto" | "native" | "loop" | "triton"``.

- ``native``: torch's fused op (cuDNN / ATen), only where it computes exactly the layer.
- ``loop``: rnnkit's own time loop (any cell), input projection done for all steps in one product.
- ``triton``: rnnkit's fused Triton LSTM and GRU (rnnkit/kernels/lstm, rnnkit/kernels/gru), plain
  LSTM or GRU cells on CUDA tensors (or on CPU under ``TRITON_INTERPRET=1``, for tests), where the
  kernels fit the shape; cells may be wrapped in VariationalDropout (the recurrent mask is fused;
  its speed is not measured yet, so such layers run it on request only).
- ``auto``: on CUDA, ``triton`` where it fits for bare LSTM layers in bf16 (cuDNN keeps the
  recurrent weights on chip only in fp16: in bf16 the fused kernel was 1.7-5.6x faster forward
  and 1.8-3.7x forward+backward on an H200, docs/kernels.md) and bare GRU layers in fp16 and bf16
  (2.8-5.8x forward, 2.6-5.8x forward+backward at every size measured); the LSTM never in fp16
  (cuDNN was up to 2.8x faster, at B=16, H=768/1024 forward) and neither cell in fp32 (exact-fp32
  products without tensor cores: 13-18x slower than cuDNN at B=64, H=512); else native where
  it is exact, else loop.

An explicit request is strict: a backend that cannot run raises :class:`BackendUnavailable`,
never a silent fallback, so tests pin the path they mean to test. The choice is logged once per
layer type, backend, reason, device and dtype on the ``rnnkit.dispatch`` logger.
"""

from __future__ import annotations

import logging

import torch
from torch import Tensor

from rnnkit.cells.builtin import GRUCell, LSTMCell
from rnnkit.kernels import fused_layer as fused
from rnnkit.kernels import native

BACKENDS = ("auto", "native", "loop", "triton")
# where auto takes the fused kernels, by cell: measured on an H200 (docs/kernels.md)
AUTO_TRITON_DTYPES = {LSTMCell: (torch.bfloat16,), GRUCell: (torch.float16, torch.bfloat16)}
log = logging.getLogger("rnnkit.dispatch")
_logged: set[tuple] = set()


class BackendUnavailable(RuntimeError):
    """The requested backend cannot compute this layer on this input."""


def available_backends() -> list[str]:
    return ["native", "loop"] + (["triton"] if fused.triton_importable() else [])


def auto_takes_triton(layer, dtype: torch.dtype) -> bool:
    """The measured rule of ``auto`` on CUDA (docs/kernels.md): bare LSTM layers in bf16 and bare
    GRU layers in fp16/bf16 go to the fused Triton kernels (where they fit); wrapped cells only on
    request."""
    return fused.plain(layer) and dtype in AUTO_TRITON_DTYPES.get(fused.cell_kind(layer), ())


def choose_backend(layer, requested: str, x: Tensor) -> str:
    """The backend that will run ``layer`` on ``x``; raises when ``requested`` cannot."""
    if requested not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {requested!r}")
    if requested == "loop":
        chosen, reason = "loop", "requested"
    elif requested == "triton":
        why_not = fused.unsupported_reason(layer, x)
        if why_not is not None:
            raise BackendUnavailable(f"backend 'triton' cannot run {type(layer).__name__}: {why_not}")
        chosen, reason = "triton", "requested"
    elif (requested == "auto" and x.device.type == "cuda" and auto_takes_triton(layer, x.dtype)
          and fused.unsupported_reason(layer, x) is None):
        chosen, reason = "triton", "fused Triton kernel (cuDNN is slower in this dtype)"
    else:
        why_not = native.unsupported_reason(layer, x)
        if why_not is None:
            chosen, reason = "native", "torch fused op computes this layer exactly"
        elif requested == "native":
            raise BackendUnavailable(f"backend 'native' cannot run {type(layer).__name__}: {why_not}")
        else:
            chosen, reason = "loop", why_not
    key = (type(layer).__name__, chosen, reason, x.device.type, x.dtype)
    if key not in _logged:
        _logged.add(key)
        log.info("%s on %s/%s: backend=%s (%s)", key[0], x.device.type, x.dtype, chosen, reason)
    return chosen
