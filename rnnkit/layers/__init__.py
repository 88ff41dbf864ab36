"""Sequence layers: ``Recurrent`` scans any cell; ``RNN``/``LSTM``/``GRU`` are the built-in stacks."""

from rnnkit.layers.builtin import GRU, LSTM, RNN, to_torch
from rnnkit.layers.init import init_forget_bias
from rnnkit.functional.masks import length_mask, reverse_padded
from rnnkit.layers.parallel import MinGRU, MinLSTM
from rnnkit.layers.recurrent import MERGE_MODES, Recurrent

__all__ = [
           "GRU",
           "LSTM",
           "MERGE_MODES",
           "RNN",
           "MinGRU",
           "MinLSTM",
           "Recurrent",
           "init_forget_bias",
           "length_mask",
           "reverse_padded",
           "to_torch",
]
