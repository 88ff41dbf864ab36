"""Sequence layers: ``Recurrent`` scans any cell; ``RNN``/``LSTM``/``GRU`` are the built-in stacks."""

from rnnkit.layers.builtin import GRU, LSTM, RNN
from rnnkit.layers.padding import length_mask, reverse_padded
from rnnkit.layers.parallel import MinGRU, MinLSTM
from rnnkit.layers.recurrent import MERGE_MODES, Recurrent

__all__ = ["Recurrent", "RNN", "LSTM", "GRU", "MinGRU", "MinLSTM", "MERGE_MODES", "length_mask", "reverse_padded"]
