"""Beam search for OneToMany: width 1 is greedy, a wide beam is exhaustive search, n-best is ranked."""

import itertools
import math

import pytest
import torch

from rnnkit.models import OneToMany
from rnnkit.apps.vision.beam import beam_search, length_penalty
from rnnkit.apps.vision.models import decode_captions
from rnnkit.apps.vision.vocab import BOS_ID, EOS_ID, PAD_ID

BOS, EOS = 0, 1


def _model(cell, V=7, seed=0):
    torch.manual_seed(seed)
    m = OneToMany(cond_size=5, vocab_size=V, hidden_size=8, cell=cell).double().eval()
    with torch.no_grad():
        m.head.weight.mul_(4)      # sharper distributions: beams diverge from greedy
        m.head.bias[EOS] += 0.7    # and EOS comes up often enough to end some rows early
    return m


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_beam_width_one_equals_greedy_generate(cell):
    """K = 1 against OneToMany.generate (an independent greedy loop), over many conditions."""
    model = _model(cell)
    c = torch.randn(40, 5, dtype=torch.float64) * 2
    greedy = model.generate(c, max_len=5, bos_id=BOS, eos_id=EOS)
    hyps = beam_search(model.step, model.initial_state(c), 40, BOS, EOS, max_len=5, beam_size=1)
    ended = 0
    for b in range(40):
        row = greedy[b].tolist()
        want = row[:row.index(EOS)] if EOS in row else row
        assert hyps[b][0].tokens == want
        assert hyps[b][0].finished == (EOS in row)
        ended += EOS in row
    assert 0 < ended < 40     # both endings (EOS, length limit) were exercised


def _exhaustive(model, c, V, max_len):
    """Every sequence of up to max_len tokens (ending in EOS, or max_len non-EOS tokens), scored."""
    out = []
    words = [v for v in range(V) if v != EOS]
    for n in range(max_len + 1):
        for seq in itertools.product(words, repeat=n):
            endings = [True] if n < max_len else [False]
            for ended in endings:
                toks = list(seq) + ([EOS] if ended else [])
                state, prev, lp = model.initial_state(c), BOS, 0.0
                for tok in toks:
                    logits, state = model.step(torch.tensor([prev]), state)
                    lp += float(torch.log_softmax(logits.detach(), -1)[0, tok])
                    prev = tok
                out.append((list(seq), lp, ended))
    return out


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_wide_beam_is_exhaustive_search(alpha):
    V, max_len = 4, 3
    model = _model("lstm", V=V, seed=3)
    c = torch.randn(3, 5, dtype=torch.float64) * 2
    hyps = beam_search(model.step, model.initial_state(c), 3, BOS, EOS, max_len, beam_size=64,
                       alpha=alpha, n_best=5)
    for b in range(3):
        everything = _exhaustive(model, c[b:b + 1], V, max_len)
        # BOS (0) is a normal token here (never=()); lengths: EOS counts as a token
        ranked = sorted(everything, key=lambda e: -e[1] / length_penalty(len(e[0]) + e[2], alpha))
        for h, (toks, lp, ended) in zip(hyps[b], ranked[:5]):
            assert h.tokens == toks and h.finished == ended
            assert math.isclose(h.logprob, lp, rel_tol=1e-9, abs_tol=1e-9)


def test_beam_beats_or_ties_greedy_and_respects_never():
    model = _model("lstm", V=9, seed=5)
    c = torch.randn(30, 5, dtype=torch.float64) * 2
    g = beam_search(model.step, model.initial_state(c), 30, BOS, EOS, 8, beam_size=1)
    b = beam_search(model.step, model.initial_state(c), 30, BOS, EOS, 8, beam_size=4, never=(2, 3))
    for x in b:
        assert not {2, 3} & set(x[0].tokens)
    b = beam_search(model.step, model.initial_state(c), 30, BOS, EOS, 8, beam_size=4)
    finished_both = [(x[0], y[0]) for x, y in zip(g, b) if x[0].finished and y[0].finished]
    assert all(y.logprob >= x.logprob - 1e-9 for x, y in finished_both)
    assert any(y.logprob > x.logprob + 1e-6 for x, y in finished_both)   # the beam found better ones


def test_decode_captions_greedy_and_beam_agree_at_width_one():
    torch.manual_seed(0)
    dec = OneToMany(6, 12, 10, padding_idx=PAD_ID).eval()
    with torch.no_grad():
        dec.head.bias[PAD_ID] = -50   # a trained decoder never predicts PAD or BOS
        dec.head.bias[BOS_ID] = -50
        dec.head.weight.mul_(3)
    z = torch.randn(25, 6)
    greedy = decode_captions(dec, z, 7, beam_size=1)
    hyps = beam_search(dec.step, dec.initial_state(z), 25, BOS_ID, EOS_ID, 7, 1, never=(PAD_ID, BOS_ID))
    assert greedy == [h[0].tokens for h in hyps]


def test_beam_bad_arguments():
    model = _model("gru")
    c = torch.randn(2, 5, dtype=torch.float64)
    with pytest.raises(ValueError, match="n_best"):
        beam_search(model.step, model.initial_state(c), 2, BOS, EOS, 5, beam_size=2, n_best=3)
    with pytest.raises(ValueError, match="eos_id"):
        beam_search(model.step, model.initial_state(c), 2, BOS, EOS, 5, never=(EOS,))


def test_a_row_stops_early_only_when_no_live_hypothesis_can_still_win():
    """With a strong length bonus (alpha = 2) a hypothesis still growing can beat one that already
    ended: EOS first scores -1.0, but A A A EOS scores about -1.16 / lp(4) = -0.52. Stopping as
    soon as the finished one beats the live ones' *current* score would return []; the search
    must bound a live hypothesis by its best possible completion, s / lp(max_len)."""
    A, B = 2, 3

    def step(tokens, pos):
        p = torch.full((tokens.shape[0], 4), 1e-6, dtype=torch.float64)
        for i, (tok, t) in enumerate(zip(tokens.tolist(), pos.tolist())):
            if t == 0:
                p[i, EOS], p[i, A] = math.exp(-1.0), math.exp(-1.1)
            elif tok == A:
                p[i, A if t < 3 else EOS] = 0.98
            p[i, B] = 1.0 - float(p[i].sum()) + p[i, B]  # the rest of the mass
        return p.log(), pos + 1

    pos = torch.zeros(1, dtype=torch.long)
    hyps = beam_search(step, pos, 1, BOS, EOS, max_len=5, beam_size=2, alpha=2.0, never=(BOS,), batch_dim=0)
    assert hyps[0][0].tokens == [A, A, A] and hyps[0][0].finished
    assert hyps[0][0].score == pytest.approx((-1.1 + 3 * math.log(0.98)) / length_penalty(4, 2.0))
