"""``MinGRU`` and ``MinLSTM``: recurrent layers trained over the whole sequence with a parallel scan.

Their cells' gates read only x_t (see :mod:`rnnkit.cells.min_rnn`), so for each layer and direction

    gi = x W_ih^T + b_ih                  one product for all T steps    (B, T, G)
    a, b = coefficients(gi)               elementwise                    (B, T, H)
    h_t = a_t * h_{t-1} + b_t             a parallel scan over T         (B, T, H)

replaces the T sequential steps of :class:`~rnnkit.layers.Recurrent`, and computes the same
function: ``Recurrent(MinGRUCell)`` and :meth:`step` are the sequential twins. Everything else is
as in every rnnkit layer: stacking, bidirectional with ``merge``, dropout between layers,
residual, ``lengths`` (padded steps hold the state, outputs zero there, the reverse direction
runs within each length), an initial state ``(L * dirs, B, H)``, ``return_state`` and ``step()``.

``backend`` picks how the scan runs:

- ``chunked`` (and ``auto``): :func:`rnnkit.kernels.scan.scan`, the fast chunked pure-torch scan;
- ``log``: the paper's log-space form, :func:`rnnkit.functional.scan.log_linear_scan`
  (logcumsumexp; float32 error grows with T, see docs/scan.md);
- ``ref``: the sequential loop :func:`rnnkit.functional.scan.linear_scan_ref`.

Without ``rnnkit/kernels`` (a fast path only), ``auto`` runs ``ref``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.cells.base import begin_sequence
from rnnkit.cells.min_rnn import MinGRUCell, MinLSTMCell
from rnnkit.functional import scan as FS
from rnnkit.layers.padding import reverse_padded
from rnnkit.layers.recurrent import Recurrent

try:  # kernels/ holds fast paths only; without it the scan runs the functional loop.
    from rnnkit.kernels.scan import scan as _kernel_scan
except ImportError:  # pragma: no cover - exercised by deleting the folder (tests/scan)
    _kernel_scan = None

SCAN_BACKENDS = ("auto", "chunked", "log", "ref")


def run_scan(a: Tensor, b: Tensor, h0: Tensor | None, lengths: Tensor | None, backend: str) -> Tensor:
    """The linear scan through kernels/ when present, else the functional reference."""
    if _kernel_scan is not None:
        return _kernel_scan(a, b, h0, lengths, backend=backend)
    if backend == "chunked":
        raise RuntimeError("backend 'chunked' needs rnnkit.kernels.scan, which is not installed")
    return FS.linear_scan_ref(a, b, h0, lengths)


class _ParallelRecurrent(Recurrent):
    cell_class = MinGRUCell

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = True, dropout: float = 0.0, bidirectional: bool = False,
                 merge: str = "concat", residual: bool = False, backend: str = "auto",
                 max_len: int | None = None, check_finite: bool = True):
        if backend not in SCAN_BACKENDS:
            raise ValueError(f"backend must be one of {SCAN_BACKENDS}, got {backend!r}")
        if max_len is not None and max_len < 1:
            raise ValueError(f"max_len must be None or >= 1, got {max_len}")
        cls = self.cell_class
        super().__init__(lambda d: cls(d, hidden_size, bias=bias), input_size=input_size,
                         num_layers=num_layers, bidirectional=bidirectional, merge=merge,
                         dropout=dropout, residual=residual, batch_first=batch_first, backend="loop")
        self.backend = backend  # the scan backend; Recurrent's own dispatch is not used here
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        self.max_len = max_len
        self.check_finite = bool(check_finite)

    def forward(self, x: Tensor, state: Tensor | Sequence[Tensor] | None = None,
                lengths: Tensor | Sequence[int] | None = None, return_state: bool = False):
        """Run the stack over ``x`` ``(B, T, D)``. Returns the output ``(B, T, O)``, and the final
        state ``(L * dirs, B, H)`` if ``return_state``. See :meth:`Recurrent.forward`."""
        self._check_input(x)
        if not self.batch_first:
            x = x.transpose(0, 1)
        B, T, _ = x.shape
        if self.max_len is not None and T > self.max_len:
            raise ValueError(
                f"{type(self).__name__} got a sequence of {T} steps, more than max_len={self.max_len}: "
                f"the parallel scan keeps O(B*T*H) activations per layer; split the sequence (and "
                f"carry the state with return_state) or raise max_len")
        if lengths is not None:
            lengths = self._check_lengths(lengths, B, T, x.device)
        (h0_all,) = self._check_state(state, B, x)

        layer_input, finals = x, []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                idx = layer * self.num_directions + direction
                out, fin = self._scan_direction(self.cells[idx], layer_input, h0_all[idx], lengths,
                                                reverse=direction == 1, initial_given=state is not None)
                outputs.append(out)
                finals.append(fin)
            out = self._merge(outputs)
            if self.residual and out.shape[-1] == layer_input.shape[-1]:
                out = out + layer_input
            if self.dropout and self.training and layer < self.num_layers - 1:
                out = F.dropout(out, self.dropout, training=True)
            layer_input = out
        if lengths is not None and self.residual:
            # residual sums carry the (possibly non-zero) padded inputs: zero them again
            layer_input = FS.zero_padded(layer_input, FS.valid_mask(lengths, T, x.device))
        out = layer_input if self.batch_first else layer_input.transpose(0, 1)
        return (out, torch.stack(finals)) if return_state else out

    def _scan_direction(self, cell, x: Tensor, h0: Tensor, lengths: Tensor | None, reverse: bool,
                        initial_given: bool) -> tuple[Tensor, Tensor]:
        """One layer, one direction: ``x (B, T, D) -> (h (B, T, H), final (B, H))``."""
        B, T, _ = x.shape
        if reverse:
            x = reverse_padded(x, lengths)
        # after the per-sequence reversal padding sits at the end: skip steps past the longest
        steps = T if lengths is None else int(lengths.max())
        begin_sequence(cell, B, x.device, x.dtype)  # the cell protocol's per-sequence hook
        gi = cell.project_input(x[:, :steps])
        run_lengths = None if lengths is None or int(lengths.min()) >= steps else lengths
        h0_arg = h0 if initial_given else None  # None lets the scan skip the zero state
        if self.backend == "log":
            log_a, log_b = cell.log_coefficients(gi)
            h = FS.log_linear_scan(log_a, log_b, h0_arg, run_lengths)
        else:
            a, b = cell.coefficients(gi)
            h = run_scan(a, b, h0_arg, run_lengths, self.backend)
        final = FS.final_state(h, lengths)
        # NaN/inf anywhere in a valid step reaches the final state (NaN * 0 is NaN, and a gate is
        # never exactly 0 for a finite input), so this (B, H) check sees them all, cheaply
        if self.check_finite and not bool(torch.isfinite(final).all()):
            raise ValueError(f"{type(self).__name__}: non-finite values in the recurrence (NaN or inf "
                             f"in the input or the weights, or gate pre-activations that overflow)")
        if steps < T:
            h = torch.cat([h, h.new_zeros(B, T - steps, h.shape[-1])], dim=1)
        if reverse:
            h = reverse_padded(h, lengths)
        return h, final

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
    dropout, bidirectional, merge, residual``), plus ``backend`` (``auto | chunked | log | ref``,
    see the module docstring), ``max_len`` (longest sequence accepted: a clear error instead of
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
