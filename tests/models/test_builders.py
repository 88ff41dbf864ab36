"""make_rnn maps names to the right recurrence; configs build the same models as the constructors."""

import dataclasses
import inspect

import pytest
import torch
from torch import nn

from rnnkit.cells import GRUCell
from rnnkit.config import from_dict, to_dict
from rnnkit.models import (ManyToMany, ManyToManyConfig, ManyToOne, ManyToOneConfig, OneToMany,
                           OneToManyConfig, OneToOne, OneToOneConfig, make_rnn)


@pytest.mark.parametrize("name, torch_cls, kwargs", [
    ("lstm", nn.LSTM, {}),
    ("gru", nn.GRU, {}),
    ("rnn", nn.RNN, {"nonlinearity": "tanh"}),
    ("rnn_tanh", nn.RNN, {"nonlinearity": "tanh"}),
    ("rnn_relu", nn.RNN, {"nonlinearity": "relu"}),
])
def test_make_rnn_computes_the_named_torch_recurrence(name, torch_cls, kwargs):
    ref = torch_cls(3, 5, num_layers=2, bidirectional=True, batch_first=True, **kwargs).double()
    ours = make_rnn(name, 3, 5, num_layers=2, bidirectional=True).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    torch.testing.assert_close(ours(x)[0], ref(x)[0])


def test_make_rnn_lstm_projection_and_custom_factory():
    ref = nn.LSTM(3, 6, proj_size=2, batch_first=True).double()
    ours = make_rnn("lstm", 3, 6, proj_size=2).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    torch.testing.assert_close(ours(x)[0], ref(x)[0])
    custom = make_rnn(lambda d: GRUCell(d, 4), 3, hidden_size=999, num_layers=2)
    gru = make_rnn("gru", 3, 4, num_layers=2)
    gru.load_state_dict(custom.state_dict())
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(custom(x)[0], gru(x)[0])
    assert custom.batch_first and gru.batch_first  # inside rnnkit's models: (B, T, D)


def test_make_rnn_rejects_bad_arguments():
    with pytest.raises(ValueError, match="cell must be one of"):
        make_rnn("transformer", 3, 4)
    with pytest.raises(ValueError, match="proj_size applies to cell='lstm' only"):
        make_rnn("gru", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="hidden_size must be >= 1"):
        make_rnn("gru", 3, 0)


CONFIGS = [
    (OneToOne, OneToOneConfig(input_size=3, hidden_size=5, num_outputs=2, cell="gru")),
    (OneToMany, OneToManyConfig(cond_size=3, vocab_size=7, hidden_size=5, num_layers=2)),
    (ManyToOne, ManyToOneConfig(hidden_size=5, num_outputs=2, vocab_size=9, pooling="attention")),
    (ManyToMany, ManyToManyConfig(hidden_size=5, vocab_size=9, tie_weights=True)),
]


@pytest.mark.parametrize("cls, cfg", CONFIGS, ids=lambda v: getattr(v, "__name__", ""))
def test_config_mirrors_constructor_and_builds_the_same_model(cls, cfg):
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    assert [f.name for f in dataclasses.fields(cfg)] == params
    again = from_dict(type(cfg), to_dict(cfg))          # survives the config round-trip
    torch.manual_seed(1)
    a = again.build()
    torch.manual_seed(1)
    b = cls(**dataclasses.asdict(cfg))
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        torch.testing.assert_close(sa[k], sb[k], rtol=0, atol=0)
