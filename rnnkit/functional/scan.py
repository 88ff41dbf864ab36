"""The linear recurrence ``h_t = a_t * h_{t-1} + b_t`` and the minGRU/minLSTM maps that feed it.

Shapes: a, b, h ``(B, T, D)`` (batch-first, elementwise in D); h0 ``(B, D)``; lengths ``(B,)``.
Everything here is plain torch and differentiable by autograd; it is the single source of truth
that the fast scan in :mod:`rnnkit.kernels.scan` is checked against.

Padding: with ``lengths``, steps ``t >= lengths[b]`` do not advance the recurrence (they act as
``a_t = 1, b_t = 0``), and their outputs are zero. :func:`final_state` reads the state after each
sequence's last valid step.

Two ways to compute the same h:

- :func:`linear_scan_ref`: the sequential loop, T steps. Exact for any real a, b (the oracle).
- :func:`log_linear_scan`: Feng et al. (2024) "Were RNNs All We Needed?", section 3 / appendix: in
  log space the scan becomes two cumulative ops, parallel over T::

      a*_t = sum_{s<=t} log a_s                       (cumsum)
      h_t  = exp(a*_t + logcumsumexp_{s<=t}(log b_s - a*_s)) + exp(a*_t) * h0

  It applies when every a_t > 0 and b_t > 0 (given as logs, so gates near 0 and 1 are exact;
  h0 may have any sign: it enters linearly). Cost: in float32 the two large terms a*_t and the
  logcumsumexp cancel, so the relative error grows like eps * |a*_t|, i.e. with T and with how
  fast the gates forget (see docs/scan.md). Use float64 or the chunked scan for long sequences.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


# ---------------------------------------------------------------------------------------------
# checks and padding
def check_scan_inputs(a: Tensor, b: Tensor, h0: Tensor | None = None, lengths: Tensor | None = None,
                      names: tuple[str, str] = ("a", "b")) -> None:
    """Raise ValueError unless ``a, b (B, T, D)`` match, h0 is ``(B, D)`` and lengths ``(B,)``."""
    na, nb = names
    if a.dim() != 3 or b.dim() != 3:
        raise ValueError(f"{na} and {nb} must have shape (batch, time, features), got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape != b.shape:
        raise ValueError(f"{na} and {nb} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if not (a.is_floating_point() and b.is_floating_point()) or a.dtype != b.dtype:
        raise ValueError(f"{na} and {nb} must be floating point of one dtype, got {a.dtype} and {b.dtype}")
    B, T, D = a.shape
    if T == 0 or B == 0:
        raise ValueError(f"the scan got an empty input of shape {tuple(a.shape)}")
    if h0 is not None and tuple(h0.shape) != (B, D):
        raise ValueError(f"h0 must have shape (batch, features) = {(B, D)}, got {tuple(h0.shape)}")
    if lengths is not None:
        if lengths.dim() != 1 or lengths.shape[0] != B:
            raise ValueError(f"lengths must have shape ({B},), got {tuple(lengths.shape)}")
        if lengths.is_floating_point() or lengths.dtype == torch.bool:
            raise ValueError(f"lengths must be integers, got dtype {lengths.dtype}")
        lo, hi = int(lengths.min()), int(lengths.max())
        if lo < 1 or hi > T:
            raise ValueError(f"lengths must be in [1, T={T}], got values from {lo} to {hi}")


def valid_mask(lengths: Tensor | None, steps: int, device=None) -> Tensor | None:
    """``(B, T, 1)`` boolean mask, True where ``t < lengths[b]``; None when nothing is padded."""
    if lengths is None or int(lengths.min()) >= steps:
        return None
    t = torch.arange(steps, device=device if device is not None else lengths.device)
    return (t.unsqueeze(0) < lengths.to(t.device).unsqueeze(1)).unsqueeze(-1)


def hold_padded(a: Tensor, b: Tensor, mask: Tensor | None, hold_a: float = 1.0,
                hold_b: float = 0.0) -> tuple[Tensor, Tensor]:
    """Make padded steps identities: ``a_t = hold_a`` (1, or 0 in log space), ``b_t = hold_b``."""
    if mask is None:
        return a, b
    a = torch.where(mask, a, torch.full((), hold_a, dtype=a.dtype, device=a.device))
    b = torch.where(mask, b, torch.full((), hold_b, dtype=b.dtype, device=b.device))
    return a, b


def zero_padded(h: Tensor, mask: Tensor | None) -> Tensor:
    """Outputs are zero at padded steps."""
    return h if mask is None else h * mask.to(h.dtype)


def final_state(h: Tensor, lengths: Tensor | None = None) -> Tensor:
    """The state after each sequence's last valid step: ``h[b, lengths[b] - 1]``, ``(B, D)``."""
    if lengths is None:
        return h[:, -1]
    index = (lengths.to(h.device, torch.long) - 1).view(-1, 1, 1).expand(-1, 1, h.shape[-1])
    return h.gather(1, index).squeeze(1)


# ---------------------------------------------------------------------------------------------
# the two scans
def linear_scan_ref(a: Tensor, b: Tensor, h0: Tensor | None = None,
                    lengths: Tensor | None = None) -> Tensor:
    """The sequential loop ``h_t = a_t * h_{t-1} + b_t``, ``h_{-1} = h0`` (zeros if None).

    a, b ``(B, T, D)``; h0 ``(B, D)``; lengths ``(B,)`` -> h ``(B, T, D)``, zero at padded steps.
    """
    check_scan_inputs(a, b, h0, lengths)
    mask = valid_mask(lengths, a.shape[1], a.device)
    a, b = hold_padded(a, b, mask)
    h = torch.zeros_like(b[:, 0]) if h0 is None else h0.to(b.dtype)
    outputs = []
    # unbind, not a[:, t]: T slices would each back-propagate a zero tensor of the full size.
    for a_t, b_t in zip(a.unbind(1), b.unbind(1)):
        h = a_t * h + b_t
        outputs.append(h)
    return zero_padded(torch.stack(outputs, dim=1), mask)


def log_linear_scan(log_a: Tensor, log_b: Tensor, h0: Tensor | None = None,
                    lengths: Tensor | None = None) -> Tensor:
    """The same recurrence from ``log a_t`` and ``log b_t`` (a, b > 0), parallel over T.

    ``h_t = exp(a*_t + logcumsumexp_{s<=t}(log b_s - a*_s)) + exp(a*_t) h0``, ``a*_t = cumsum log a``
    (Feng et al. 2024, the log-space minGRU/minLSTM scan). ``log_b = -inf`` means b = 0.
    log_a, log_b ``(B, T, D)``; h0 ``(B, D)`` any sign; lengths ``(B,)`` -> h ``(B, T, D)``.
    """
    check_scan_inputs(log_a, log_b, h0, lengths, names=("log_a", "log_b"))
    mask = valid_mask(lengths, log_a.shape[1], log_a.device)
    log_a, log_b = hold_padded(log_a, log_b, mask, hold_a=0.0, hold_b=float("-inf"))
    a_star = torch.cumsum(log_a, dim=1)
    h = torch.exp(a_star + torch.logcumsumexp(log_b - a_star, dim=1))
    if h0 is not None:
        h = h + torch.exp(a_star) * h0.to(h.dtype).unsqueeze(1)
    return zero_padded(h, mask)


# ---------------------------------------------------------------------------------------------
# minGRU and minLSTM (Feng et al. 2024): gate pre-activations -> scan coefficients (a, b)
class _G(torch.autograd.Function):
    """g with a one-pass derivative: g'(x) = 1 for x >= 0, sigmoid(x) (1 - sigmoid(x)) below.
    (torch.where's generic backward costs about twice as much; gradcheck in tests/scan.)"""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        s = torch.sigmoid(x)
        ctx.save_for_backward(x, s)
        # x + 0.5 >= sigmoid(x) exactly when x >= 0 (equal at 0; the difference is monotone),
        # so the maximum is g without a comparison mask
        return torch.maximum(x + 0.5, s)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        x, s = ctx.saved_tensors
        d = s * (1 - s)
        d.masked_fill_(x >= 0, 1.0)
        return grad * d


def g_activation(x: Tensor) -> Tensor:
    """``g(x) = x + 0.5`` for x >= 0, ``sigmoid(x)`` below: positive, continuous, linear growth."""
    return _G.apply(x)


def log_g_activation(x: Tensor) -> Tensor:
    """``log g(x)`` without forming g: ``log(x + 0.5)`` for x >= 0, ``-softplus(-x)`` below."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


def mingru_coefficients(gi: Tensor) -> tuple[Tensor, Tensor]:
    """minGRU: ``gi = [k_z, k_h]`` ``(..., 2H)`` (the input projection) -> ``(a, b)`` ``(..., H)``::

        z_t = sigmoid(k_z);  h~_t = g(k_h)
        h_t = (1 - z_t) * h_{t-1} + z_t * h~_t   ->   a_t = 1 - z_t = sigmoid(-k_z),  b_t = z_t * h~_t
    """
    k_z, k_h = gi.chunk(2, dim=-1)
    return torch.sigmoid(-k_z), torch.sigmoid(k_z) * g_activation(k_h)


def mingru_log_coefficients(gi: Tensor) -> tuple[Tensor, Tensor]:
    """``(log a, log b)`` of :func:`mingru_coefficients`, exact for gates near 0 and 1:
    ``log(1 - z) = -softplus(k_z)``, ``log z = -softplus(-k_z)``."""
    k_z, k_h = gi.chunk(2, dim=-1)
    return -F.softplus(k_z), -F.softplus(-k_z) + log_g_activation(k_h)


def minlstm_coefficients(gi: Tensor) -> tuple[Tensor, Tensor]:
    """minLSTM: ``gi = [k_f, k_i, k_h]`` ``(..., 3H)`` -> ``(a, b)`` ``(..., H)``::

        f_t = sigmoid(k_f);  i_t = sigmoid(k_i);  h~_t = g(k_h)
        f'_t = f_t / (f_t + i_t);  i'_t = i_t / (f_t + i_t)          (so f' + i' = 1)
        h_t = f'_t * h_{t-1} + i'_t * h~_t   ->   a_t = f'_t,  b_t = i'_t * h~_t

    With d = softplus(-k_f) - softplus(-k_i) = log i - log f: f' = sigmoid(-d), i' = sigmoid(d).
    """
    k_f, k_i, k_h = gi.chunk(3, dim=-1)
    d = F.softplus(-k_f) - F.softplus(-k_i)
    return torch.sigmoid(-d), torch.sigmoid(d) * g_activation(k_h)


def minlstm_log_coefficients(gi: Tensor) -> tuple[Tensor, Tensor]:
    """``(log a, log b)`` of :func:`minlstm_coefficients`: ``log f' = -softplus(d)``,
    ``log i' = -softplus(-d)``."""
    k_f, k_i, k_h = gi.chunk(3, dim=-1)
    d = F.softplus(-k_f) - F.softplus(-k_i)
    return -F.softplus(d), -F.softplus(-d) + log_g_activation(k_h)


def linear_step(a_t: Tensor, b_t: Tensor, h: Tensor) -> Tensor:
    """One step of the recurrence, ``(B, D)`` each: ``h_t = a_t * h_{t-1} + b_t``."""
    return torch.addcmul(b_t, a_t, h)
