"""A forecast combination: the equal-weight mean of several trained forecasters' quantiles.

``model.transform=auto`` trains one forecaster per candidate treatment (see :mod:`.auto`) and
scores each on the validation windows. Picking the single best by a short validation span is
noisy: on a series whose last years differ from its validation span the pick can be the wrong one,
while the mean of the best few is rarely far from the best (forecast combination, Bates and
Granger 1969; the M4 competition's accurate methods were combinations). So ``model.combine = k``
(default 3) keeps the k best by validation MASE and forecasts with

    q_level(series, origin) = (1/k) sum_j q_level^(j)(series, origin)

on the data's scale (Vincentization: the mean of the members' quantiles, each member with its own
scaling, level and seasonal treatment). ``model.combine=1`` keeps only the best one. The
combination's interval is calibrated as one forecaster's is (:mod:`.intervals`).

With ``model.combine_intervals=mixture`` the interval ends are instead the quantiles of the
equal-weight mixture of the members' forecast distributions: each member's quantiles at G evenly
spaced levels ``(j + 1/2) / G`` stand for G equally likely draws, and the draws of all members are
pooled. The point forecast stays the mean of the members' medians. The mean of quantiles keeps
only the average member's own spread; the mixture adds the disagreement between the treatments,
which is model uncertainty the single members do not see (their training windows are in-sample).

In a run folder the best member's training files are the run's own (checkpoints, metrics.csv,
curves.png: written from memory after choosing, so it trains once); every other member's weights
and state are saved under ``treatments/<name>/``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .blend import GuideBlend
from .data import Series
from .intervals import Intervals
from .neural import NeuralForecaster

__all__ = ["Combination", "member_folder"]


def member_folder(name: str) -> str:
    """Where a combination member other than the first is saved in a run folder."""
    return f"treatments/{name}"


class Combination(GuideBlend, Intervals):
    """``members``: treatment name -> trained forecaster, best first; all forecast the same horizon."""

    def __init__(self, members: dict[str, NeuralForecaster], calibration=1.0):
        if not members:
            raise ValueError("a combination needs at least one member")
        self.members = dict(members)
        first = next(iter(self.members.values()))
        horizons = {nf.layout.horizon for nf in self.members.values()}
        if len(horizons) != 1:
            raise ValueError(f"the members of a combination forecast different horizons: {sorted(horizons)}")
        self.cfg = first.cfg
        # the layout whose look-back is the longest: what every origin needs before it
        self.layout = max((nf.layout for nf in self.members.values()), key=lambda lay: lay.lookback)
        self.encoder = first.encoder  # the same user covariates in every member (only ``future_scales`` is read)
        self.guide = first.guide  # for the report (every member fits its own, on the same data)
        self.calibration = calibration
        # the guide's share and the naive fallback are the combination's: its members forecast with their
        # networks alone (their ``_raw_quantiles``)
        self.blend, self.fixed_blend = first.blend, dict(first.fixed_blend)
        self.history_ends, self.blend_at_end = first.history_ends, first.blend_at_end
        self.fixed_sigmas, self.sigmas_at_end = dict(first.fixed_sigmas), first.sigmas_at_end
        self.season_length = first.season_length
        self.fallbacks: set[tuple[str, int]] = set()  # the combination's own (its members forecast alone)
        for nf in self.members.values():
            nf.blend = 0.0

    @property
    def name(self) -> str:
        first = next(iter(self.members.values()))
        label = self.blend_label()
        base = first.network_name[:-1] + label + ")" if label else first.network_name
        return (base[:-1] + f"; mean of {len(self.members)} treatments: {', '.join(self.members)})"
                if len(self.members) > 1 else base)

    @property
    def names(self) -> list[str]:
        return list(self.members)

    @property
    def nets(self) -> list:
        """Every member's networks, best member first."""
        return [net for nf in self.members.values() for net in nf.nets]

    @property
    def input_lens(self) -> list[int]:
        """The best member's input lengths (the members differ in treatment, not in window sizes)."""
        return next(iter(self.members.values())).input_lens

    def _raw_quantiles(self, series: Sequence[Series], origins: Sequence[int], levels: Sequence[float]) -> np.ndarray:
        """``(N, H, len(levels))`` on the data's scale: the mean of the members' quantiles, or with
        ``model.combine_intervals=mixture`` the mixture's (the median still the mean of medians),
        except with ``model.likelihood=quantile``, whose members know only their trained levels."""
        for s, o in zip(series, origins):
            if o < self.layout.lookback:
                raise ValueError(f"series {s.name!r}: forecasting from position {o} needs {self.layout.lookback} "
                                 f"points before it (the longest look-back of the combined treatments), and it has {o}")
        # a quantile (pinball) head has only its trained levels, not the whole distribution a mixture draws from
        mix = self.cfg.model.combine_intervals == "mixture" and self.cfg.model.likelihood != "quantile"
        if not mix or len(self.members) == 1:
            return np.mean([nf._raw_quantiles(series, origins, levels) for nf in self.members.values()], axis=0)
        return mixture_quantiles([nf._raw_quantiles(series, origins, [*GRID, 0.5]) for nf in self.members.values()],
                                 levels)


GRID = tuple((j + 0.5) / 200 for j in range(200))  # each member's quantile levels standing for its draws


def mixture_quantiles(members: Sequence[np.ndarray], levels: Sequence[float]) -> np.ndarray:
    """``(N, H, len(levels))``: the quantiles of the equal-weight mixture of the members, from each
    member's ``(N, H, len(GRID) + 1)`` quantiles at ``GRID`` and its median last. Level 0.5 is
    the mean of the members' medians; the other levels are at least as far from it as that."""
    pooled = np.concatenate([m[..., :-1] for m in members], axis=-1)
    out = np.moveaxis(np.quantile(pooled, list(levels), axis=-1), 0, -1)
    med = np.mean([m[..., -1] for m in members], axis=0)
    for j, lv in enumerate(levels):
        if lv < 0.5:
            out[..., j] = np.minimum(out[..., j], med)
        elif lv > 0.5:
            out[..., j] = np.maximum(out[..., j], med)
        else:
            out[..., j] = med
    return out
