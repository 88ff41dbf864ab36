"""The four input/output shapes as ready modules, and the recurrent stack they share.

========== ====================================== ==================================
module     input -> output                         typical task
========== ====================================== ==================================
OneToOne   x (B, D) -> y (B, O)                    one-step baseline, state update
OneToMany  c (B, C) -> tokens (B, T)               captioning, conditioned generation
ManyToOne  x (B, T[, D]) -> y (B, O)               sentiment, activity recognition
ManyToMany x (B, T[, D]) -> y (B, T, O) (aligned)  tagging, language models
========== ====================================== ==================================

Shape letters and examples: docs/shapes.md. Encoder-decoder (unaligned) models with attention: rnnkit.models.seq2seq.
"""

from rnnkit.models.builders import CELLS, make_rnn
from rnnkit.models.embedding_dropout import EmbeddingDropout, embedding_dropout
from rnnkit.models.inputs import SequenceInput
from rnnkit.models.many_to_many import ManyToMany, ManyToManyConfig
from rnnkit.models.many_to_one import ManyToOne, ManyToOneConfig
from rnnkit.models.one_to_many import OneToMany, OneToManyConfig
from rnnkit.models.one_to_one import OneToOne, OneToOneConfig
from rnnkit.models.pooling import POOLINGS, AdditiveAttentionPool

__all__ = [
    "make_rnn", "CELLS", "SequenceInput", "EmbeddingDropout", "embedding_dropout", "POOLINGS", "AdditiveAttentionPool",
    "OneToOne", "OneToOneConfig", "OneToMany", "OneToManyConfig",
    "ManyToOne", "ManyToOneConfig", "ManyToMany", "ManyToManyConfig",
]
