"""Host side of the split LSTM kernels (:mod:`.triton_split_fwd`, :mod:`.triton_rows_fwd`,
:mod:`.triton_split_bwd`, :mod:`.triton_rows_bwd`): buffers, arguments and launches. What fits,
and how a launch runs (one cooperative launch on CUDA, one per step under the interpreter), is
:mod:`rnnkit.kernels.persistent`. Each configuration's ``kind`` (``"split"`` or ``"rows"``) picks
its kernel; the two backwards take the same buffers, the rows one without zoneout.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.kernels.lstm.triton_rows_bwd import _lstm_rows_bwd_kernel
from rnnkit.kernels.lstm.triton_rows_fwd import _lstm_rows_fwd_kernel
from rnnkit.kernels.lstm.triton_split_bwd import _lstm_split_bwd_kernel
from rnnkit.kernels.lstm.triton_split_fwd import _lstm_split_fwd_kernel
from rnnkit.kernels.persistent import launch

FORWARD_KERNELS = {"split": _lstm_split_fwd_kernel, "rows": _lstm_rows_fwd_kernel}
BACKWARD_KERNELS = {"split": _lstm_split_bwd_kernel, "rows": _lstm_rows_bwd_kernel}


def split_forward(gi: Tensor, w: Tensor, h0: Tensor | None, c0: Tensor | None, lens: Tensor | None,
                  y: Tensor, h_n: Tensor, c_n: Tensor, gates: Tensor | None, cs: Tensor | None, cfg: dict,
                  hmask: Tensor | None = None, zone: tuple = (None, None), cc: Tensor | None = None) -> None:
    """Fills y ``(B, T, H)``, h_n, c_n ``(B, H)`` and, when training, the saved activations gates
    ``(B, T, 4H)`` and c_t ``(B, T, H)`` (fp32) for :func:`split_backward`. ``hmask`` ``(B, H)``
    fp32: the recurrent product reads ``h * hmask`` (variational recurrent dropout). ``zone``:
    zoneout keep-weights of h and c, each None or ``(B, T, H)`` fp32 (split layout only); ``cc``
    ``(B, T, H)`` fp32, when training with c zoned, receives the candidates c~_t."""
    B, T, G = gi.shape
    H = G // 4
    dev = gi.device
    h_state = h0.float().clone() if h0 is not None else torch.zeros(B, H, device=dev)
    c_state = c0.float().clone() if c0 is not None else torch.zeros(B, H, device=dev)
    hx = torch.empty(2, B, H, dtype=gi.dtype, device=dev)
    # h_{-1} as the product reads it: in the input dtype, times the mask
    hx[0] = (h_state if hmask is None else h_state * hmask).to(gi.dtype)
    bar = torch.zeros(cfg["grid"][1], dtype=torch.int32, device=dev)
    save = gates is not None
    args = (gi, w, hx, h_state, c_state, lens if lens is not None else gi, y,
            gates if save else gi, cs if save else gi, bar, B, T, H, 0, 0, hmask if hmask is not None else gi)
    zoned = {}
    if cfg["kind"] == "split":  # the rows forward has no zoneout: with it, lstm_sequence_forward chose split
        z_h, z_c = zone
        args += (z_h if z_h is not None else gi, z_c if z_c is not None else gi, cc if cc is not None else gi)
        zoned = {"HAS_ZONE_H": z_h is not None, "HAS_ZONE_C": z_c is not None}
    launch(FORWARD_KERNELS[cfg["kind"]], cfg["grid"], args, cfg, dev, T, 13,
           HAS_LEN=lens is not None, SAVE=save, HAS_HMASK=hmask is not None, **zoned)
    h_n.copy_(h_state)
    c_n.copy_(c_state)


def split_backward(gates: Tensor, cs: Tensor, c0: Tensor | None, w: Tensor, lens: Tensor | None, dy: Tensor,
                   dhn: Tensor | None, dcn: Tensor | None, dgates: Tensor, dh0: Tensor, dc0: Tensor,
                   cfg: dict, hmask: Tensor | None = None, zone: tuple = (None, None),
                   cc: Tensor | None = None):
    """Fills dgates ``(B, T, 4H)`` (= dL/dgi), dh0 and dc0 ``(B, H)``, all fp32, from the saved
    activations, dL/dy and dL/dh_n, dL/dc_n (None: zero); with zoneout the keep-weights of the
    forward and, when c is zoned, its candidates ``cc`` (split kernel only). ``cfg["kind"]``:
    the split or the rows backward. Returns :func:`rnnkit.kernels.persistent.launch`'s value."""
    B, T, H = cs.shape
    dev = cs.device
    dh0.copy_(dhn.float() if dhn is not None else torch.zeros(B, H, device=dev))  # the carries start
    dc0.copy_(dcn.float() if dcn is not None else torch.zeros(B, H, device=dev))  # as dL/dh_n, dL/dc_n
    dx = torch.empty(2, B, 4 * H, dtype=w.dtype, device=dev)
    bar = torch.zeros(cfg["grid"][1], dtype=torch.int32, device=dev)
    args = (gates, cs, c0 if c0 is not None else cs, w, lens if lens is not None else cs, dy, dx, dh0, dc0,
            dgates, bar, B, T, H, 0, 0, hmask if hmask is not None else cs)
    zoned = {}
    if cfg["kind"] == "split":
        args += tuple(z if z is not None else cs for z in (*zone, cc))
        zoned = {"HAS_ZONE_H": zone[0] is not None, "HAS_ZONE_C": zone[1] is not None}
    elif any(z is not None for z in zone):  # lstm_sequence_forward refuses zoneout with kernel="rows" before this
        raise ValueError("the rows backward has no zoneout: the split backward applies it")
    # T steps and one last iteration that only reads (dL/dh0 through W_hh)
    return launch(BACKWARD_KERNELS[cfg["kind"]], cfg["grid"], args, cfg, dev, T + 1, 14,
                  HAS_C0=c0 is not None, HAS_LEN=lens is not None, HAS_HMASK=hmask is not None, **zoned)
