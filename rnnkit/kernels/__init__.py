"""Fast paths only. Deleting this folder must leave every feature working, more slowly.

``dispatch`` holds every backend rule of rnnkit, for recurrent layers and the linear scan, in one
vocabulary (``auto | loop | native | chunked | log | triton``); ``native`` runs torch's own fused
RNN ops (``torch._VF.lstm/gru/rnn_*``: cuDNN on CUDA, oneDNN/ATen on CPU) with rnnkit's
parameters; ``fused_layer``, ``lstm``, ``gru`` and ``scan`` are rnnkit's own kernels.
"""
