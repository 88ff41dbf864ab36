"""Backend choice for recurrent layers: ``"auto" | "native" | "loop"``.

- ``native``: torch's fused op (cuDNN / ATen), only where it computes exactly the layer.
- ``loop``: rnnkit's own time loop (any cell), input projection done for all steps in one product.
- ``auto``: native where it is exact, else loop.

An explicit request is strict: a backend that cannot run raises :class:`BackendUnavailable`,
never a silent fallback, so tests pin the path they mean to test. The choice is logged once per
layer type, backend, reason, device and dtype on the ``rnnkit.dispatch`` logger.
"""

from __future__ import annotations

import logging

from torch import Tensor

from rnnkit.kernels import native

BACKENDS = ("auto", "native", "loop")
log = logging.getLogger("rnnkit.dispatch")
_logged: set[tuple] = set()


class BackendUnavailable(RuntimeError):
    """The requested backend cannot compute this layer on this input."""


def available_backends() -> list[str]:
    return ["native", "loop"]


def choose_backend(layer, requested: str, x: Tensor) -> str:
    """The backend that will run ``layer`` on ``x``; raises when ``requested`` cannot."""
    if requested not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {requested!r}")
    if requested == "loop":
        chosen, reason = "loop", "requested"
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
