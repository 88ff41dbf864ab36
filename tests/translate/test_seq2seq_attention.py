"""Attention: weights are a distribution over the valid source positions, and the scores are the
published formulas (checked against a float64 computation written out here)."""

import pytest
import torch

from rnnkit.layers import length_mask
from rnnkit.models.seq2seq import ATTENTIONS, Attention


def _manual(att: Attention, q, m, mask):
    """The formulas of attention.py in float64, one query row and one source position at a time."""
    q, m = q.double(), m.double()
    B, S = mask.shape
    weights = torch.zeros(B, S, dtype=torch.float64)
    for b in range(B):
        e = torch.full((S,), float("-inf"), dtype=torch.float64)
        for s in range(S):
            if not mask[b, s]:
                continue
            if att.kind == "dot":
                e[s] = q[b] @ m[b, s]
            elif att.kind == "general":
                e[s] = q[b] @ (att.W_a.weight.double() @ m[b, s])
            else:
                hidden = att.W_q.weight.double() @ q[b] + att.W_m.weight.double() @ m[b, s] + att.W_m.bias.double()
                e[s] = att.v.weight.double()[0] @ torch.tanh(hidden)
        weights[b] = torch.softmax(e, dim=0)
    return weights, torch.einsum("bs,bsm->bm", weights, m)


@pytest.mark.parametrize("kind", ATTENTIONS)
def test_weights_sum_to_one_and_respect_the_mask(kind):
    torch.manual_seed(0)
    Q = M = 6
    att = Attention(kind, Q, M)
    lengths = torch.tensor([5, 2, 1, 4])
    mask = length_mask(lengths, 5)
    m = torch.randn(4, 5, M)
    q = torch.randn(4, Q)
    ctx, w = att(q, m, mask)
    assert torch.allclose(w.sum(-1), torch.ones(4), atol=1e-6)
    assert torch.all(w[~mask] == 0)  # exactly zero on padding
    assert torch.all(w[mask] > 0)
    ref_w, ref_ctx = _manual(att, q, m, mask)
    torch.testing.assert_close(w.double(), ref_w, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(ctx.double(), ref_ctx, atol=1e-5, rtol=1e-5)
    # Whatever sits in the padded positions changes nothing.
    m2 = m.clone()
    m2[~mask] = 1e3 * torch.randn(int((~mask).sum()), M)
    ctx2, w2 = att(q, m2, mask)
    assert torch.equal(w2, w) and torch.allclose(ctx2, ctx, atol=1e-6)


@pytest.mark.parametrize("kind", ATTENTIONS)
def test_many_queries_at_once_equal_one_at_a_time(kind):
    torch.manual_seed(1)
    att = Attention(kind, 6, 6)
    mask = length_mask(torch.tensor([3, 6]), 6)
    m, q = torch.randn(2, 6, 6), torch.randn(2, 4, 6)
    ctx, w = att(q, m, mask, keys=att.keys(m))
    for t in range(4):
        c_t, w_t = att(q[:, t], m, mask)
        torch.testing.assert_close(w[:, t], w_t)
        torch.testing.assert_close(ctx[:, t], c_t)
    assert torch.allclose(w.sum(-1), torch.ones(2, 4), atol=1e-6)


def test_bad_configurations_fail_clearly():
    with pytest.raises(ValueError, match="dot attention needs query_size == memory_size"):
        Attention("dot", 4, 8)
    with pytest.raises(ValueError, match="attention must be one of"):
        Attention("cosine", 4, 4)
    att = Attention("general", 4, 8)
    with pytest.raises(ValueError, match="mask must be"):
        att(torch.randn(2, 4), torch.randn(2, 3, 8), torch.ones(2, 4, dtype=torch.bool))
