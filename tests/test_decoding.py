import math

import pytest
import torch

from rnnkit.decoding import DecodingConfig, make_generator, sample_next, top_k_filter, top_p_filter

N_DRAWS = 20000


def _draws(logits_row, n=N_DRAWS, seed=0, **kw):
    """Sample n tokens from one row of logits in a single batched call; returns counts (V,)."""
    logits = logits_row.unsqueeze(0).expand(n, -1)
    ids = sample_next(logits, "sample", generator=make_generator(seed), **kw)
    assert ids.shape == (n,) and ids.dtype == torch.long
    return torch.bincount(ids, minlength=logits_row.numel()).double()


def _chi2(counts, probs):
    """Pearson's statistic over the cells with non-zero expected count; all others must be 0."""
    expected = probs.double() * counts.sum()
    live = expected > 0
    assert counts[~live].sum() == 0, "a token with zero probability was drawn"
    return (((counts - expected) ** 2)[live] / expected[live]).sum().item(), int(live.sum()) - 1


def _assert_matches(counts, probs):
    stat, dof = _chi2(counts, probs)
    # the 99.99% quantile of chi2 is below dof + 4.5 * sqrt(2 * dof) + 10 for these dof
    assert stat < dof + 4.5 * math.sqrt(2 * dof) + 10, (stat, dof)


LOGITS = torch.tensor([1.0, 2.5, -0.5, 0.3, 2.0, -1.5])


def test_greedy_is_argmax():
    logits = torch.randn(7, 11)
    assert torch.equal(sample_next(logits, "greedy"), logits.argmax(-1))
    # temperature and filters cannot change the argmax
    assert torch.equal(sample_next(logits, "greedy", temperature=5.0, top_k=2, top_p=0.3),
                       logits.argmax(-1))


def test_top_k_1_equals_greedy():
    logits = torch.randn(64, 30)
    got = sample_next(logits, "sample", top_k=1, generator=make_generator(1))
    assert torch.equal(got, logits.argmax(-1))


def test_top_k_never_samples_outside_k_largest():
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(5000, 20, generator=g)
    k = 4
    ids = sample_next(logits, "sample", top_k=k, temperature=3.0, generator=make_generator(5))
    allowed = logits.topk(k, dim=-1).indices
    assert (allowed == ids.unsqueeze(-1)).any(-1).all()
    # and it does use more than one of the k
    assert len(set(ids[:200].tolist())) > 1


def test_top_k_filter_exact_count_with_ties_and_no_ops():
    logits = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    out = top_k_filter(logits, 2)
    assert torch.isfinite(out).sum() == 2
    assert top_k_filter(logits, 0) is logits and top_k_filter(logits, 4) is logits
    # renormalised frequencies under top-k match the truncated softmax
    counts = _draws(LOGITS, top_k=3)
    keep = LOGITS.topk(3).indices
    p = torch.zeros(6)
    p[keep] = torch.softmax(LOGITS[keep], -1)
    _assert_matches(counts, p)


# A hand-built distribution (probabilities 0.5, 0.25, 0.15, 0.07, 0.03) in a shuffled order.
PROBS = torch.tensor([0.07, 0.5, 0.03, 0.15, 0.25])
RANKED = [1, 4, 3, 0, 2]  # token ids from most to least likely


@pytest.mark.parametrize("p,n_keep", [(0.3, 1), (0.6, 2), (0.8, 3), (0.95, 4), (0.99, 5),
                                      (1.0, 5), (1e-6, 1)])
def test_top_p_keeps_exactly_the_nucleus(p, n_keep):
    logits = PROBS.log().unsqueeze(0).repeat(3, 1)
    out = top_p_filter(logits, p)
    kept = torch.isfinite(out[0]).nonzero().flatten().tolist()
    assert sorted(kept) == sorted(RANKED[:n_keep])
    assert torch.equal(out[torch.isfinite(out)], logits[torch.isfinite(out)])  # kept ones unchanged


def test_top_p_sampling_frequencies():
    counts = _draws(PROBS.log(), top_p=0.8)
    p = torch.where(torch.tensor([i in RANKED[:3] for i in range(5)]), PROBS, 0.0)
    _assert_matches(counts, p / p.sum())


def test_top_p_always_keeps_one_token_per_row():
    logits = torch.randn(100, 50) * 10
    out = top_p_filter(logits, 1e-9)
    assert torch.equal(torch.isfinite(out).sum(-1), torch.ones(100, dtype=torch.long))
    assert torch.equal(out.argmax(-1), logits.argmax(-1))


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_sample_frequencies_match_tempered_softmax(temperature):
    counts = _draws(LOGITS, temperature=temperature, seed=11)
    _assert_matches(counts, torch.softmax(LOGITS / temperature, -1))


def test_low_temperature_approaches_greedy():
    counts = _draws(LOGITS, temperature=0.01)
    assert counts[LOGITS.argmax()] == N_DRAWS
    # and the fraction of argmax draws rises as temperature falls
    fracs = [_draws(LOGITS, n=4000, temperature=t)[LOGITS.argmax()].item() / 4000
             for t in (2.0, 1.0, 0.5, 0.2)]
    assert fracs == sorted(fracs) and fracs[-1] > 0.9


def test_high_temperature_flattens():
    counts = _draws(LOGITS, temperature=100.0)
    _assert_matches(counts, torch.softmax(LOGITS / 100.0, -1))
    freq = counts / counts.sum()
    assert (freq - 1 / 6).abs().max() < 0.02

    def entropy(c):
        q = c / c.sum()
        return -(q[q > 0] * q[q > 0].log()).sum().item()

    ents = [entropy(_draws(LOGITS, n=4000, temperature=t)) for t in (0.3, 1.0, 3.0, 30.0)]
    assert ents == sorted(ents)


def test_same_seed_same_samples_different_seed_differs():
    logits = torch.randn(256, 40)
    a = sample_next(logits, "sample", generator=make_generator(123))
    b = sample_next(logits, "sample", generator=make_generator(123))
    c = sample_next(logits, "sample", generator=make_generator(124))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_decoding_config_sample_and_seed():
    cfg = DecodingConfig(strategy="sample", temperature=0.7, top_k=5, top_p=0.9, seed=7)
    logits = torch.randn(32, 25)
    a = cfg.sample(logits, cfg.make_generator())
    b = sample_next(logits, "sample", 0.7, 5, 0.9, generator=make_generator(7))
    assert torch.equal(a, b)
    assert DecodingConfig(seed=None).make_generator() is None
    assert torch.equal(DecodingConfig(strategy="greedy").sample(logits), logits.argmax(-1))


def test_decoding_config_works_with_overrides():
    from rnnkit.config import apply_overrides

    cfg = apply_overrides(DecodingConfig(), ["strategy=greedy", "top_p=0.5", "seed=3"])
    assert cfg == DecodingConfig(strategy="greedy", top_p=0.5, seed=3)


@pytest.mark.parametrize("kw,match", [
    (dict(temperature=0.0), "temperature must be > 0"),
    (dict(temperature=-1.0), "temperature must be > 0"),
    (dict(temperature=float("nan")), "temperature must be > 0"),
    (dict(top_p=0.0), r"top_p must be in \(0, 1\]"),
    (dict(top_p=1.5), r"top_p must be in \(0, 1\]"),
    (dict(top_k=-1), "top_k must be an int >= 0"),
    (dict(top_k=2.5), "top_k must be an int >= 0"),
    (dict(strategy="beam"), "strategy must be one of"),
])
def test_argument_validation(kw, match):
    args = dict(strategy="sample")
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        sample_next(torch.zeros(2, 3), **args)
    with pytest.raises(ValueError, match=match):
        DecodingConfig(**args)


def test_logits_shape_validation():
    with pytest.raises(ValueError, match=r"\(B, V\) tensor"):
        sample_next(torch.zeros(3), "greedy")
    with pytest.raises(ValueError, match=r"\(B, V\) tensor"):
        top_k_filter(torch.zeros(2, 3, 4), 1)


def test_inputs_not_modified_and_half_precision():
    logits = torch.randn(4, 9).half()
    before = logits.clone()
    ids = sample_next(logits, "sample", temperature=0.8, top_k=3, top_p=0.9,
                      generator=make_generator(0))
    assert torch.equal(logits, before)
    assert (logits.float().topk(3, -1).indices == ids[:, None]).any(-1).all()
