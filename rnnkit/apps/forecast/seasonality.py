"""The season of series whose times carry no calendar (integer steps), found in the data.

A file whose time column holds row numbers or step counts (``t = 1, 2, ...``; R's ``ts`` written
without its attributes; a sensor's sample index) says nothing of a season, and ``season_length_for``
gives 1: no seasonal treatment, no seasonal baseline. Quarterly or monthly data written that way
lose their season. So when ``data.season_length`` is left at 0 and the times are integer steps,
the season is looked for in the series' changes ``d_t = y_t - y_{t-1}`` (the change removes a
trend or a level that wanders; a season stays in it) before the first backtest origin (nothing
after it is read):

    r(k) = sum_t (d_t - mean d)(d_{t+k} - mean d) / sum_t (d_t - mean d)^2    (autocorrelation)

pooled over the series of a panel (the mean of the series' r(k), weighted by their number of
changes n_i). The season is the lag m >= 3 (a lag of 2 is what an alternating, negatively
autocorrelated series shows) with the largest ``r(m) + r(2 m)`` among the lags where

* r(m) is a local peak (``r(m) >= r(m - 1)``, ``r(m) >= r(m + 1)``),
* ``r(m) >= max(0.45, 3 / sqrt(n))`` (n = the changes read; the second bound keeps chance
  correlations of a short series out), and
* ``r(2 m) >= 0.35``: a season repeats, so the pattern one season back is there two seasons back
  too; a cycle of varying length (sunspots' 9-14 years, the lynx trappings' 10) loses it.

m is at most a quarter of the changes of the shortest series read (two seasons fit twice) and at
most :data:`.grid.MAX_DAY_STEPS` (the bound that keeps seasonal fits affordable). The thresholds
were set on the development series written as integer steps (those of
``benchmarks/forecast_panel.py --panel dev`` and ``--panel yearly_dev``, and the first 40 of fpp3's
us_employment): every one without a season (realgdp, sunspots, lynx, LakeHuron, nhtemp,
discoveries, guinearice, wmurders, airmiles) is left without one, and 33 of the 49 seasonal ones
get their calendar season, 13 none and three a half season (docs/forecasting.md, "A season found
in integer steps"). Simulated white noise,
random walks and AR(1) series (a scratch run of 300 each at 30-1,000 points) were given a season
in at most 1%; a test checks 40 of each at 40, 120 and 600 points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rnnkit import config as C

from .auto import resolve_sizes
from .config import ForecastConfig
from .data import SeriesSet
from .grid import MAX_DAY_STEPS

__all__ = ["FoundSeason", "changes_autocorrelation", "find_season", "with_found_season"]

MIN_SEASON = 3  # lag 2 is an alternating series' (AR with a negative coefficient), not a season
PEAK = 0.45  # r(m) at least this ...
Z = 3.0  # ... and at least Z / sqrt(n), n the changes read
AGAIN = 0.35  # r(2 m) at least this: the pattern repeats


@dataclass(frozen=True)
class FoundSeason:
    """A season found by :func:`find_season`: ``r_one`` = r(m), ``r_two`` = r(2 m), over
    ``changes`` changes of ``series`` series."""

    season: int
    r_one: float
    r_two: float
    changes: int
    series: int

    def describe(self) -> str:
        where = f"{self.series} series' " if self.series > 1 else ""
        return (f"season {self.season}, found in the data: the {where}changes before the first backtest origin "
                f"correlate {self.r_one:.2f} with those {self.season} steps before and {self.r_two:.2f} with those "
                f"{2 * self.season} steps before (the times are integer steps, which name no season; "
                f"data.season_length=1 turns this off, =N sets another)")


def changes_autocorrelation(y: np.ndarray, max_lag: int) -> np.ndarray:
    """``r(0..max_lag)`` of the changes of ``y`` (missing values dropped first); ``r(0) = 1``.
    A series without variation in its changes gives zeros past lag 0."""
    y = np.asarray(y, dtype=np.float64)
    d = np.diff(y[np.isfinite(y)])
    d = d - d.mean()
    n = len(d)
    power = np.fft.rfft(d, 2 * n)  # zero-padded: the circular products are the linear ones
    acov = np.fft.irfft(power * np.conj(power), 2 * n)[: max_lag + 1]
    out = np.zeros(max_lag + 1)
    out[0] = 1.0
    if acov[0] > 0:
        out[: len(acov)] = acov / acov[0]
    return out


def find_season(histories: Sequence[np.ndarray], max_season: int = MAX_DAY_STEPS) -> FoundSeason | None:
    """The season of ``histories`` (each series' values before its first backtest origin) by the
    rule of the module docstring, or None when no lag passes it."""
    lengths = [int(np.isfinite(np.asarray(y, dtype=np.float64)).sum()) - 1 for y in histories]
    used = [(y, n) for y, n in zip(histories, lengths) if n // 4 >= MIN_SEASON]
    if not used:
        return None
    top = min(min(n // 4 for _, n in used), max_season)
    total = sum(n for _, n in used)
    r = sum(n * changes_autocorrelation(y, 2 * top + 1) for y, n in used) / total
    floor = max(PEAK, Z / np.sqrt(total))
    score = {k: r[k] + r[2 * k] for k in range(MIN_SEASON, top + 1)
             if r[k] >= r[k - 1] and r[k] >= r[k + 1] and r[k] >= floor and r[2 * k] >= AGAIN}
    if not score:
        return None
    m = max(score, key=score.get)
    return FoundSeason(m, float(r[m]), float(r[2 * m]), total, len(used))


def with_found_season(cfg: ForecastConfig, sset: SeriesSet) -> tuple[ForecastConfig, FoundSeason | None]:
    """``cfg`` with ``data.season_length`` set to the season of ``sset``'s scored series found by
    :func:`find_season`, and what was found; ``cfg`` unchanged (and None) when the season is given,
    the times are dates, or no season is found. Reads each series before its first backtest origin
    as the sizes with no season place it: a season can only make the backtest shorter (its history
    holds at least two seasons), so that origin is never later than the run's. The season leaves
    every scored series its two seasons plus the horizon, so none becomes too short."""
    if cfg.data.season_length or not isinstance(sset.freq, (int, np.integer)):
        return cfg, None
    scored = replace(sset, series=[s for s in sset.series if s.name not in sset.train_only])
    try:
        sized, _ = resolve_sizes(C.apply_overrides(cfg, ["data.season_length=1"]), scored)
    except ValueError:  # too short for any backtest: the run's own error says what would fit
        return cfg, None
    H, K = sized.window.horizon, sized.backtest.windows
    stride = sized.backtest.stride or H
    ends = [s.length - H - (K - 1) * stride for s in scored.series]
    bound = min(MAX_DAY_STEPS, (min(s.length for s in scored.series) - H) // 2)
    found = find_season([s.target[:e] for s, e in zip(scored.series, ends) if e > 1], max_season=bound)
    if found is None:
        return cfg, None
    return C.apply_overrides(cfg, [f"data.season_length={found.season}"]), found
