"""Greedy and beam search: beam width 1 is greedy, batching changes nothing, a wide beam finds the
exact best sequence (brute force over all of them), limits and n-gram blocking hold."""

import itertools

import pytest
import torch

from rnnkit.models.seq2seq import (
    SearchConfig,
    beam_search,
    greedy_search,
    length_penalty,
)

KINDS = [("bahdanau", True), ("dot", False), ("general", True)]


def _decode(model, src, lengths, search, n_best=1):
    return model.translate(src, lengths, search, n_best=n_best)


@pytest.mark.parametrize("ngram", [0, 2])
def test_beam_width_one_is_greedy_on_varied_lengths(kit, ngram):
    """The scripted decoder ends its hypotheses with EOS at many different steps."""
    dec = kit.ScriptedDecoder()
    state = dec.init_state(torch.arange(40))
    limits = torch.randint(3, 16, (40,), generator=torch.Generator().manual_seed(0))
    greedy = greedy_search(dec, state, None, kit.BOS, kit.EOS, limits, kit.PAD, ngram)
    beam = beam_search(dec, state, None, kit.BOS, kit.EOS, limits, 1, 1.0, kit.PAD, ngram)
    for g, (b,) in zip(greedy, beam):
        assert g.tokens == b.tokens and g.finished == b.finished and abs(g.logprob - b.logprob) < 1e-5
    ended = {len(g.tokens) for g in greedy if g.finished}
    assert len(ended) >= 4 and any(not g.finished for g in greedy)  # EOS at many steps, and some cut off


@pytest.mark.parametrize("attention,feeding", KINDS)
@pytest.mark.parametrize("ngram", [0, 2])
def test_beam_width_one_is_greedy(kit, attention, feeding, ngram):
    model = kit.make_model(attention, feeding)
    src, lengths = kit.random_batch(B=6, S=7, seed=3)
    cfg = SearchConfig(max_len=15, max_len_a=1.0, max_len_b=3, no_repeat_ngram_size=ngram, length_penalty=1.0)
    greedy = _decode(model, src, lengths, cfg.replace(strategy="greedy"))
    beam = _decode(model, src, lengths, cfg.replace(strategy="beam", beam_size=1))
    for g, b in zip(greedy, beam):
        assert g[0].tokens == b[0].tokens and g[0].finished == b[0].finished
        assert abs(g[0].logprob - b[0].logprob) < 1e-4
        torch.testing.assert_close(g[0].attention, b[0].attention)


def test_batched_beam_equals_one_by_one_on_varied_lengths(kit):
    dec = kit.ScriptedDecoder(seed=1)
    seeds = torch.arange(10)
    limits = torch.randint(3, 16, (10,), generator=torch.Generator().manual_seed(1))
    together = beam_search(dec, dec.init_state(seeds), None, kit.BOS, kit.EOS, limits, 4, 1.0, kit.PAD, 0, n_best=4)
    for b in range(10):
        alone = beam_search(dec, dec.init_state(seeds[b:b + 1]), None, kit.BOS, kit.EOS, limits[b:b + 1], 4, 1.0,
                            kit.PAD, 0, n_best=4)[0]
        assert [h.tokens for h in alone] == [h.tokens for h in together[b]]
        assert [h.score for h in alone] == [h.score for h in together[b]]


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_batched_decoding_equals_one_by_one(kit, strategy):
    model = kit.make_model("bahdanau", True, cell="lstm")
    src, lengths = kit.random_batch(B=5, S=8, seed=4)
    cfg = SearchConfig(strategy=strategy, beam_size=4, max_len=20, max_len_a=1.5, max_len_b=2, no_repeat_ngram_size=3)
    together = _decode(model, src, lengths, cfg, n_best=1)
    for b in range(5):
        n = int(lengths[b])
        alone = _decode(model, src[b:b + 1, :n], lengths[b:b + 1], cfg)[0]
        assert alone[0].tokens == together[b][0].tokens
        assert abs(alone[0].score - together[b][0].score) < 1e-4
        torch.testing.assert_close(alone[0].attention[:, :n], together[b][0].attention[:, :n], atol=1e-5, rtol=1e-4)
        assert torch.all(together[b][0].attention[:, n:] == 0)


def _sequence_logprob(model, src, lengths, tokens, eos):
    """log p of ``tokens`` (+ EOS if ``eos``) by one teacher-forced pass: an independent path."""
    seq = tokens + ([model.eos_id] if eos else [])
    tgt_in = torch.tensor([[model.bos_id] + seq[:-1]])
    with torch.no_grad():
        logp = torch.log_softmax(model(src, lengths, tgt_in), dim=-1)[0]
    return float(sum(logp[t, tok] for t, tok in enumerate(seq)))


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_wide_beam_finds_the_exact_best_sequence(kit, alpha):
    """V = 6 with PAD, BOS and EOS leaves 3 free tokens; with at most 3 steps there are
    1 + 3 + 9 hypotheses ending in EOS and 27 cut at the limit: a beam of 40 keeps them all."""
    model = kit.make_model("general", True, V=6, eos_bias=0.5, scale=2.0, seed=5)
    src, lengths = kit.random_batch(B=1, S=5, seed=6)
    free = [1, 4, 5]
    candidates = []
    for n in range(3):
        candidates += [(list(seq), True) for seq in itertools.product(free, repeat=n)]
    candidates += [(list(seq), False) for seq in itertools.product(free, repeat=3)]
    scored = sorted(((_sequence_logprob(model, src, lengths, seq, eos) / length_penalty(len(seq) + eos, alpha), seq)
                     for seq, eos in candidates), reverse=True)
    state, bank = model.start(src, lengths)
    hyps = beam_search(model.decoder, state, bank, model.bos_id, model.eos_id, torch.tensor([3]), beam_size=40,
                       length_penalty_alpha=alpha, pad_id=model.pad_id, n_best=5)[0]
    assert [h.tokens for h in hyps] == [seq for _, seq in scored[:5]]
    assert [round(h.score, 4) for h in hyps] == [round(s, 4) for s, _ in scored[:5]]


def test_length_limits_and_ngram_blocking(kit):
    model = kit.make_model("dot", False, eos_bias=-20.0)  # EOS never wins: every row runs to its limit
    src, lengths = kit.random_batch(B=4, S=6, seed=7)
    for strategy in ("greedy", "beam"):
        cfg = SearchConfig(strategy=strategy, beam_size=3, max_len=9, max_len_a=1.0, max_len_b=1)
        plain = _decode(model, src, lengths, cfg)
        limits = torch.clamp(lengths + 1, max=9)
        assert [len(h[0].tokens) for h in plain] == limits.tolist()
        assert not any(h[0].finished for h in plain)

        def repeats(tokens, n):
            grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
            return len(grams) - len(set(grams))

        assert sum(repeats(h[0].tokens, 2) for h in plain) > 0  # a random decoder repeats itself ...
        blocked = _decode(model, src, lengths, cfg.replace(no_repeat_ngram_size=2))
        assert all(repeats(h[0].tokens, 2) == 0 for h in blocked)  # ... unless told not to
        for h in plain + blocked:
            assert not {model.pad_id, model.bos_id, model.eos_id} & set(h[0].tokens)


def test_greedy_and_beam_reject_bad_arguments(kit):
    model = kit.make_model()
    state, bank = model.start(*kit.random_batch(B=2))
    with pytest.raises(ValueError, match="max_lens"):
        greedy_search(model.decoder, state, bank, 2, 3, torch.tensor([4, 0]))
    with pytest.raises(ValueError, match="eos_id must differ"):
        greedy_search(model.decoder, state, bank, 3, 3, torch.tensor([4, 4]))
    with pytest.raises(ValueError, match="n_best"):
        beam_search(model.decoder, state, bank, 2, 3, torch.tensor([4, 4]), beam_size=2, n_best=3)
    with pytest.raises(ValueError, match="strategy"):
        SearchConfig(strategy="sample")


def test_blocking_that_runs_out_of_tokens_ends_with_eos(kit):
    """V = 5 leaves two free tokens (1 and 4), so at most 4 distinct bigrams: 2-gram blocking runs
    out of moves within 5 tokens and EOS, however unlikely, is the only way left."""
    model = kit.make_model("general", False, V=5, eos_bias=-30.0)
    src, lengths = kit.random_batch(B=3, S=4, seed=8)
    for strategy in ("greedy", "beam"):
        cfg = SearchConfig(strategy=strategy, beam_size=2, max_len=12, max_len_a=0.0, max_len_b=12,
                           no_repeat_ngram_size=2)
        hyps = model.translate(src, lengths, cfg)
        for (h,) in hyps:
            grams = list(zip(h.tokens, h.tokens[1:]))
            assert h.finished and len(h.tokens) <= 5 and len(grams) == len(set(grams))
