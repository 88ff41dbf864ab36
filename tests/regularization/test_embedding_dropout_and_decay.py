"""Embedding dropout drops whole words; weight decay reaches only the right parameters."""

import pytest
import torch

from rnnkit.cells import LayerNormLSTMCell, LSTMCell, VariationalDropout, WeightDrop
from rnnkit.models import EmbeddingDropout, ManyToMany, embedding_dropout
from rnnkit.train.optim import param_groups

V, E = 50, 8


def test_rows_are_dropped_whole_and_consistently_across_the_batch():
    emb = EmbeddingDropout(V, E, p=0.5).train()
    ids = torch.arange(V).repeat(3, 1)  # every word three times, in three rows
    out = emb(ids)
    zero = (out == 0).all(-1)  # (3, V): a dropped word is zero in every feature
    assert torch.equal(zero, zero[:1].expand_as(zero)), "a word must be dropped everywhere in the batch"
    kept = ~zero[0]
    torch.testing.assert_close(out[0, kept], emb.weight[kept] * 2.0)  # 1 / (1 - p)
    assert 10 < int(kept.sum()) < 40
    assert not torch.equal(emb(ids)[0] == 0, out[0] == 0)  # a new mask each forward
    emb.eval()
    torch.testing.assert_close(emb(ids), torch.nn.functional.embedding(ids, emb.weight))


def test_functional_matches_module_and_padding_stays_zero():
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    w = torch.randn(V, E)
    ids = torch.randint(0, V, (4, 9))
    assert torch.equal(embedding_dropout(ids, w, 0.3, generator=g1), embedding_dropout(ids, w, 0.3, generator=g2))
    emb = EmbeddingDropout(V, E, p=0.3, padding_idx=0).train()
    assert torch.count_nonzero(emb(torch.zeros(2, 3, dtype=torch.long))) == 0
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        EmbeddingDropout(V, E, p=1.0)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        embedding_dropout(ids, w, -0.2)


def test_from_embedding_keeps_weight_ties_and_state_dict_keys():
    lm = ManyToMany(E, vocab_size=V, tie_weights=True)
    keys = set(lm.state_dict())
    lm.inputs.embed = EmbeddingDropout.from_embedding(lm.inputs.embed, p=0.2)
    assert lm.head.weight is lm.inputs.embed.weight
    assert set(lm.state_dict()) == keys
    ids = torch.randint(0, V, (2, 5))
    lm.eval()
    before = lm(ids)
    lm.train()
    lm(ids).sum().backward()
    assert lm.inputs.embed.weight.grad is not None
    lm.eval()
    torch.testing.assert_close(lm(ids), before)


def test_weight_decay_groups_with_every_regulariser():
    """Matrices decay (the weight-drop raw W_hh and the embedding included); LN gains/shifts, biases do not."""
    lm = ManyToMany(12, vocab_size=V, embed_size=E,
                    cell=lambda d: WeightDrop(VariationalDropout(LayerNormLSTMCell(d, 12), 0.2, 0.2), 0.5))
    lm.inputs.embed = EmbeddingDropout.from_embedding(lm.inputs.embed, p=0.1)
    decay, no_decay = param_groups(lm, 0.1)
    names = {id(p): n for n, p in lm.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    kept = {names[id(p)] for p in no_decay["params"]}
    assert decayed == {"inputs.embed.weight", "rnn.cells.0.cell.cell.weight_ih", "rnn.cells.0.cell.cell.weight_hh",
                       "head.weight"}
    assert {"rnn.cells.0.cell.cell.gamma_ih", "rnn.cells.0.cell.cell.gamma_hh", "rnn.cells.0.cell.cell.gamma_c",
            "rnn.cells.0.cell.cell.beta_c", "rnn.cells.0.cell.cell.bias_ih", "head.bias"} == kept
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    # a wrapper adds no parameter and none is listed twice
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(lm.parameters()))
    plain = ManyToMany(12, vocab_size=V, embed_size=E, cell=lambda d: LSTMCell(d, 12))
    assert sum(p.numel() for p in plain.rnn.parameters()) == sum(
        p.numel() for p in ManyToMany(12, vocab_size=V, embed_size=E,
                                      cell=lambda d: WeightDrop(LSTMCell(d, 12), 0.5)).rnn.parameters())
