"""rnnkit: recurrent neural networks on real sequence problems, on PyTorch.

    import rnnkit
    lstm = rnnkit.LSTM(input_size=8, hidden_size=32, num_layers=2, bidirectional=True)
    y, (h, c) = lstm(x)                     # torch.nn.LSTM's contract: x (T, B, 8) -> y (T, B, 64)
    y, (h, c) = lstm(x, lengths=lengths)    # rnnkit's extras are keywords
"""

__version__ = "0.1.0"

from rnnkit.cells import GRUCell, LSTMCell, RecurrentCell, RNNCell  # noqa: E402
from rnnkit.layers import GRU, LSTM, RNN, Recurrent  # noqa: E402
from rnnkit.models import ManyToMany, ManyToOne, OneToMany, OneToOne  # noqa: E402

__all__ = [
    "RNN", "LSTM", "GRU", "Recurrent", "RNNCell", "LSTMCell", "GRUCell", "RecurrentCell",
    "OneToOne", "OneToMany", "ManyToOne", "ManyToMany", "__version__",
]


def load(run_dir):
    """Reopen a trained run folder of any app: ``rnnkit.load("runs/x").predict(...)``.

    Returns a :class:`rnnkit.apps.loading.LoadedRun` (app, config, model in eval mode,
    preprocessing, ``predict``). Imported lazily: the library itself never imports the apps.
    """
    from rnnkit.apps.loading import load as _load

    return _load(run_dir)


__all__ += ["load"]
