"""rnnkit: recurrent neural networks on real sequence problems, on PyTorch."""

__version__ = "0.1.0"
