"""The combination of treatments: the mean of the members' quantiles, or the mixture's quantiles
(model.combine_intervals=mixture), checked against distributions whose quantiles are known."""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from rnnkit.apps.forecast.combination import GRID, mixture_quantiles


def _member(mu: float, sd: float, shape=(3, 2)) -> np.ndarray:
    """A member forecasting N(mu, sd^2) at every (series, step): its quantiles at GRID, then its median."""
    q = stats.norm.ppf([*GRID, 0.5], loc=mu, scale=sd)
    return np.broadcast_to(q, (*shape, len(q))).copy()


def test_mixture_of_two_members_matches_the_mixture_distribution():
    members = [_member(0.0, 1.0), _member(4.0, 1.0)]
    got = mixture_quantiles(members, [0.1, 0.5, 0.9])
    def mix_cdf(x):
        return 0.5 * (stats.norm.cdf(x, 0, 1) + stats.norm.cdf(x, 4, 1))

    lo, hi = got[0, 0, 0], got[0, 0, 2]
    # 200 draws per member stand for each distribution: the mixture's CDF at the ends is within 1/200 of nominal
    assert mix_cdf(lo) == pytest.approx(0.1, abs=0.006) and mix_cdf(hi) == pytest.approx(0.9, abs=0.006)
    assert got[..., 1] == pytest.approx(2.0)  # the point forecast: the mean of the medians
    mean_of_quantiles = np.mean([stats.norm.ppf([0.1, 0.9], m, 1) for m in (0, 4)], axis=0)
    assert hi - lo > mean_of_quantiles[1] - mean_of_quantiles[0] + 2.0  # the disagreement widens it


def test_agreeing_members_give_their_own_interval_and_ends_never_cross_the_median():
    same = mixture_quantiles([_member(1.0, 2.0), _member(1.0, 2.0)], [0.1, 0.5, 0.9])
    np.testing.assert_allclose(same[0, 0], stats.norm.ppf([0.1, 0.5, 0.9], 1.0, 2.0), atol=0.03)
    # a narrow member far off and a wide one: the median (mean of medians) stays inside the interval
    odd = mixture_quantiles([_member(0.0, 0.01), _member(10.0, 0.01)], [0.25, 0.5, 0.75])
    assert (odd[..., 0] <= odd[..., 1]).all() and (odd[..., 1] <= odd[..., 2]).all()


class _Fixed:
    """A member forecasting N(mu, 1) at every step (what Combination reads of a forecaster)."""

    def __init__(self, mu: float, cfg):
        from rnnkit.apps.forecast.windows import Layout

        self.mu, self.cfg, self.layout, self.encoder, self.guide = mu, cfg, Layout(4, 2), None, None
        self.name, self.nets = "rnnkit LSTM (direct, gaussian)", []
        self.network_name, self.blend, self.fixed_blend, self.history_ends, self.blend_at_end = self.name, 0.0, {}, {}, {}
        self.fixed_sigmas, self.sigmas_at_end, self.fallbacks = {}, {}, set()
        self.season_length = 1

    def _raw_quantiles(self, series, origins, levels):
        return np.broadcast_to(stats.norm.ppf(list(levels), self.mu, 1.0), (len(origins), 2, len(levels))).copy()


@pytest.mark.parametrize("how", ["mean", "mixture"])
def test_the_combination_uses_the_configured_interval_rule(how):
    from rnnkit import config as C
    from rnnkit.apps.forecast.combination import Combination
    from rnnkit.apps.forecast.config import ForecastConfig

    cfg = C.apply_overrides(ForecastConfig(), [f"model.combine_intervals={how}"])
    combo = Combination({"a": _Fixed(0.0, cfg), "b": _Fixed(4.0, cfg)})
    unseen = SimpleNamespace(name="s")  # no training history: no record for the naive fallback either
    q = combo.quantiles([unseen] * 3, [10, 11, 12], [0.1, 0.5, 0.9])
    assert q.shape == (3, 2, 3) and q[..., 1] == pytest.approx(2.0)
    width = q[0, 0, 2] - q[0, 0, 0]
    own = 2 * stats.norm.ppf(0.9)  # each member's own 80% width
    # the 80% interval of 0.5 N(0, 1) + 0.5 N(4, 1), solved from its CDF: 5.683
    assert width == (pytest.approx(own) if how == "mean" else pytest.approx(5.683, abs=0.05))
