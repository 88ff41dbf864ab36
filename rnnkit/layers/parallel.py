"""``MinGRU`` and ``MinLSTM``: recurrent layers trained over the whole sequence with a parallel scan.

Their cells' gates read only x_t (see :mod:`rnnkit.cells.min_rnn`), so for each layer and direction

    gi = x W_ih^T + b_ih                  one product for all T steps    (B, T, G)
    a, b = coefficients(gi)               elementwise                    (B, T, H)
    h_t = a_t * h_{t-1} + b_t             a parallel scan over T         (B, T, H)

replaces the T sequential steps of :class:`~rnnkit.layers.Recurrent`, and computes the same
function: ``Recurrent(MinGRUCell)`` and :meth:`step` are the sequential twins. Everything else is
as in every rnnkit layer: stacking, bidirectional with ``merge``, dropout between layers,
residual, ``lengths`` (padded steps hold the state, outputs zero there, the reverse direction
runs within each length) or a PackedSequence, unbatched input, torch's call contract
(``output, h_n = layer(input, hx=None)``, ``(T, B, D)`` unless ``batch_first=True``) and ``step()``.

``backend`` picks how the scan runs (the vocabulary of :mod:`rnnkit.kernels.dispatch`):

- ``auto``: ``triton`` on CUDA in fp32 and bf16 (measured faster there), ``chunked`` elsewhere;
- ``chunked``: the fast chunked pure-torch scan, :func:`rnnkit.kernels.scan.chunked_scan`;
- ``log``: the paper's log-space form, :func:`rnnkit.functional.scan.log_linear_scan`
  (logcumsumexp; float32 error grows with T, see docs/scan.md);
- ``loop``: the sequential loop :func:`rnnkit.functional.scan.linear_scan_ref` (``ref``, its old
  name, still works with a DeprecationWarning);
- ``triton``: the Triton scan kernels (CUDA; on CPU only under ``TRITON_INTERPRET=1``, for tests).

The loop over layers and directions is :class:`~rnnkit.layers.Recurrent`'s; these layers only
replace what runs one direction (:meth:`_ParallelRecurrent._direction_scan`). Without
``rnnkit/kernels`` (a fast path only), every backend runs ``loop``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.cells.min_rnn import MinGRUCell, MinLSTMCell
from rnnkit.functional import scan as FS
from rnnkit.layers.recurrent import DirectionScan, Recurrent
from rnnkit.layers.scan import run_direction

try:  # kernels/ holds fast paths only; without it the scan runs the functional loop.
    from rnnkit.kernels.scan import run_scan as _kernel_scan
except ModuleNotFoundError as err:  # pragma: no cover - exercised by deleting the folder (tests/scan)
    if err.name is None or not err.name.startswith("rnnkit.kernels"):
        raise
    _kernel_scan = None


def run_scan(a: Tensor, b: Tensor, h0: Tensor | None, lengths: Tensor | None, backend: str) -> Tensor:
    """The linear scan on the chosen ``backend`` (``loop``, ``chunked`` or ``triton``) through
    kernels/ when present, else the functional reference loop."""
    if _kernel_scan is not None:
        return _kernel_scan(a, b, h0, lengths, backend)
    return FS.linear_scan_ref(a, b, h0, lengths)


class _ParallelRecurrent(Recurrent):
    cell_class = MinGRUCell
    backend_kind = "scan layer"  # rnnkit.kernels.dispatch.ACCEPTS: auto, loop, chunked, log, triton

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 merge: str = "concat", residual: bool = False, backend: str = "auto",
                 max_len: int | None = None, check_finite: bool = True):
        if max_len is not None and max_len < 1:
            raise ValueError(f"max_len must be None or >= 1, got {max_len}")
        cls = self.cell_class
        super().__init__(lambda d: cls(d, hidden_size, bias=bias), input_size=input_size,
                         num_layers=num_layers, bidirectional=bidirectional, merge=merge,
                         dropout=dropout, residual=residual, batch_first=batch_first, backend=backend)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        self.max_len = max_len
        self.check_finite = bool(check_finite)

    def _check_input(self, x: Tensor) -> None:
        super()._check_input(x)
        T = x.shape[1]  # x is batch-first here, whatever the layout of the call
        if self.max_len is not None and T > self.max_len:
            raise ValueError(
                f"{type(self).__name__} got a sequence of {T} steps, more than max_len={self.max_len}: "
                f"the parallel scan keeps O(B*T*H) activations per layer; split the sequence (and "
                f"carry the returned state into the next call) or raise max_len")

    def _direction_scan(self, backend: str, state_given: bool) -> DirectionScan:
        """One layer, one direction as a parallel scan: ``x (B, T, D) -> (h (B, T, H), (final,))``.

        The gates read only x_t, so the input projection for all steps gives the coefficients of
        ``h_t = a_t h_{t-1} + b_t`` and one scan solves it (``log``: from their logs)."""

        def scan(cell, x: Tensor, state: tuple[Tensor], lengths: Tensor | None, reverse: bool = False):
            h0 = state[0] if state_given else None  # None lets the scan skip the zero state

            def body(x: Tensor, lengths: Tensor | None) -> tuple[Tensor, tuple[Tensor]]:
                gi = cell.project_input(x)
                if backend == "log":
                    h = FS.log_linear_scan(*cell.log_coefficients(gi), h0, lengths)
                else:
                    h = run_scan(*cell.coefficients(gi), h0, lengths, backend)
                final = FS.final_state(h, lengths)
                # NaN/inf anywhere in a valid step reaches the final state (NaN * 0 is NaN, and a
                # gate is never exactly 0 for a finite input), so this (B, H) check sees them all
                if self.check_finite and not bool(torch.isfinite(final).all()):
                    bad = int((~torch.isfinite(final)).reshape(final.shape[0], -1).any(1).sum())
                    raise ValueError(f"{type(self).__name__}: non-finite values in the recurrence: expected "
                                     f"finite states, got NaN or inf in the final state of {bad} of "
                                     f"{final.shape[0]} sequence(s) (NaN or inf in the input or the "
                                     f"weights, or gate pre-activations that overflow)")
                return h, (final,)

            return run_direction(cell, x, lengths, reverse, body)

        return scan

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}, " + super().extra_repr().split(", ", 1)[1]
        if self.max_len is not None:
            s += f", max_len={self.max_len}"
        return s


class MinGRU(_ParallelRecurrent):
    """minGRU layer (Feng et al. 2024), trained with a parallel scan::

        z_t = sigmoid(W_z x_t + b_z);  h~_t = g(W_h x_t + b_h)
        h_t = (1 - z_t) h_{t-1} + z_t h~_t          g(x) = x + 0.5 if x >= 0 else sigmoid(x)

    Args as :class:`rnnkit.GRU` (``input_size, hidden_size, num_layers, bias, batch_first,
    dropout, bidirectional, merge, residual``), plus ``backend`` (``auto | loop | chunked | log |
    triton``, see the module docstring), ``max_len`` (longest sequence accepted: a clear error instead of
    running out of memory) and ``check_finite`` (raise on NaN/inf gate pre-activations).
    State ``h (L * dirs, B, H)``; parameters ``weight_ih_l{k}[_reverse]``, ``bias_ih_l{k}``.
    """

    cell_class = MinGRUCell


class MinLSTM(_ParallelRecurrent):
    """minLSTM layer (Feng et al. 2024), trained with a parallel scan::

        f_t = sigmoid(W_f x_t + b_f);  i_t = sigmoid(W_i x_t + b_i);  h~_t = g(W_h x_t + b_h)
        f'_t = f_t / (f_t + i_t);  i'_t = i_t / (f_t + i_t)
        h_t = f'_t h_{t-1} + i'_t h~_t

    Arguments and state as :class:`MinGRU` (one state tensor h: there is no separate cell state).
    """

    cell_class = MinLSTMCell
