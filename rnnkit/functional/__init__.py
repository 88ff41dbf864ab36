"""The maths of rnnkit as pure functions: one step of each cell. Single source of truth.

Every function here works on one time step. The input projection ``x_t @ W_ih^T + b_ih`` is kept
separate (:func:`input_projection`) so a layer can compute it for all T steps in one product and
leave only the sequential part to the step functions. :mod:`.scan` holds the reference linear
scans, :mod:`.masks` the length masks and per-sequence reversal of padded batches.
"""

from rnnkit.functional.masks import length_mask, reverse_padded
from rnnkit.functional.scan import linear_scan_ref, log_linear_scan
from rnnkit.functional.steps import (
    gru_step,
    input_projection,
    lstm_step,
    rnn_step,
)

__all__ = ["input_projection", "rnn_step", "lstm_step", "gru_step", "linear_scan_ref", "log_linear_scan",
           "length_mask", "reverse_padded"]
