"""Fast paths only. Deleting this folder must leave every feature working, more slowly.

``dispatch`` picks the backend of a layer; ``native`` runs torch's own fused RNN ops
(``torch._VF.lstm/gru/rnn_*``: cuDNN on CUDA, oneDNN/ATen on CPU) with rnnkit's parameters.
"""
