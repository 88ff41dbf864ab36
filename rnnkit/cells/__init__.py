"""nn.Module cells: own their parameters and init; forward is one step through rnnkit.functional."""

from rnnkit.cells.base import RecurrentCell, as_state_tuple, cell_output_size, cell_state_sizes
from rnnkit.cells.builtin import GRUCell, LSTMCell, RNNCell
from rnnkit.cells.headwise import HeadwiseGRUCell, HeadwiseLSTMCell
from rnnkit.cells.layernorm import LayerNormGRUCell, LayerNormLSTMCell
from rnnkit.cells.min_rnn import MinGRUCell, MinLSTMCell
from rnnkit.cells.regularized import CellWrapper, VariationalDropout, WeightDrop, Zoneout

__all__ = [
    "RecurrentCell",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "HeadwiseLSTMCell",
    "HeadwiseGRUCell",
    "MinGRUCell",
    "MinLSTMCell",
    "LayerNormLSTMCell",
    "LayerNormGRUCell",
    "CellWrapper",
    "VariationalDropout",
    "Zoneout",
    "WeightDrop",
    "as_state_tuple",
    "cell_state_sizes",
    "cell_output_size",
]
