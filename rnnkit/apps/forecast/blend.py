"""The forecast shared between the network and its guide (``model.guide_blend``).

With a guide (the statistical model whose forecast the network reads, :mod:`.guide`) the
forecast from origin o can be the mix

    f_w(o) = (1 - w) m(o) + w g(o),       m: the network's median, g: the guide's forecast (H,)

and every quantile of the network moves by ``w (g - m)``, so the interval keeps its width. A fixed
``w`` in [0, 1] is one setting; ``auto`` (the default) chooses w per series and origin from the
errors the two made out of sample, before o:

    w(o) = argmin over w in GRID of  mean |y_t - f_w(o')_t|   over the earlier origins
           o' = o - stride, o - 2 stride, ... >= e  and their steps t < o

where ``e`` is the end of the RNN's training history (the first backtest origin; the network
neither trained on nor was chosen by anything at or after it) and ``stride`` the backtest's
(``backtest.stride``), so the earlier origins are the backtest's own. A tie goes to the smaller
share; with no such step observed yet (the first backtest origin) w = 0: the network's forecast
alone. The choice reads only ``y[:o]``. A series unseen in training has no record: it takes the
mean of the run's shares at the end of its data (below), 0 when there are none.

Why not choose w on the validation windows: the network stopped early and the treatments were
ranked on them, so the network looks better there than it is later: on the development panel's
nine series the validation choice was w = 0 on seven, while on six of the nine a share above 0
scored best in the backtest. Why a choice at all: no single w serves every series. The same
trained runs of the development panel backtested with a fixed w (``benchmarks/forecast_blend.py``)
gave a mean MASE of 1.174 with w = 0, 1.111 with 0.5 and 1.113 with 1 (the guide alone, which is
the AutoETS baseline); ``auto`` gave 1.066. A fixed 0.5 lost to seasonal naive on the level-shift
test series (the guide follows a new level more slowly than the
network, which reads each window relative to its last value); ``auto`` keeps the network there.

**The naive fallback** (``model.naive_fallback``, a margin M, default 2; 0 turns it off). Where
even the best share's error (with a share set, ``model.guide_blend=w``, that share's; without a
guide, the network's own) over those same earlier steps is more than M times the error of the
naive forecast (seasonal naive with a season m > 1: the last observed season repeated; the plain
naive one, the last observed value, without), the series has left everything the network and the
guide learnt, and the forecast from o is the naive one (its share is written :data:`NAIVE`). On
the dslabs panel of yearly disease counts by US state, measles after the vaccine: each model's
forecast from the first origin (1994) ran on the epidemic years' trend, thousands of cases a
year, where the last years had had 0 to 10, and the best share at the next origin was still
hundreds of times naive's error; the fallback takes naive's forecast there.

At the first origin no earlier origin is out of sample; there the network's errors on its
validation span (the last ``backtest.val_size`` origins before the training history's end, its
steps before the end) are set against naive's from the same origins, and the share stays 0 (with
a share set, that mix is judged) unless they call for the fallback. The validation span flatters
the network (it stopped early and its treatment was ranked there), so this errs toward keeping it.

The fallback's interval is naive's own, the textbook one (Hyndman and Athanasopoulos,
*Forecasting: Principles and Practice*, 3rd ed., section 5.5) fit on the recent span:

    quantile q at step h = n(o)_h + Phi^-1(q) sigma sqrt(k_h + 1),
    k_h = floor((h - 1) / m) with a season m > 1, h - 1 without,
    sigma^2 = mean of (y_t - y_{t-m})^2 over t in [v, o)        (:func:`naive_sigma`)

where v is the start of the validation span (``backtest.val_size`` points before ``e``), so the
span holds the validation points and everything observed since; the network's interval factors
(calibration, floor) leave it alone. Why not the network's interval: its width follows the
network's scale (the mean absolute step of the whole training history), not the series' recent
errors: on the disease panel it ran to thousands of cases around a forecast of 0. Why not the
network's scaled by naive's error over its own on the steps that chose naive (session 29's
rule): those are the steps where naive did well, and on the development panel's
aus_accommodation four such quarters made Northern Territory's interval a twentieth of the
network's; seven of the next eight quarters fell outside it.

``predict`` refits the network on all the data, so no origin is out of sample for it any more:
it uses, per series, the share ``auto`` chose at the end of the data with the backtest model
(saved with the run: ``blend_at_end``, which ``predict`` makes ``fixed_blend``); a series unseen in
training gets the mean of those shares.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .backtest import val_size_for
from .data import Series
from .intervals import EarlierForecasts

__all__ = ["GRID", "NAIVE", "GuideBlend", "naive_forecast", "naive_quantiles", "naive_sigma", "share_label"]

GRID = (0.0, 0.25, 0.5, 0.75, 1.0)  # the guide's shares ``auto`` chooses from
NAIVE = -1.0  # the "share" that stands for the naive fallback (saved with the run as the shares are)


def share_label(w: float) -> str:
    """A share as the terminal and the report write it: ``0.25``, or ``naive`` for :data:`NAIVE`."""
    return "naive" if w == NAIVE else f"{w:g}"


def naive_forecast(s: Series, o: int, horizon: int, season_length: int) -> np.ndarray:
    """``(horizon,)``: the naive forecast of ``s`` from origin ``o``, reading only ``y[:o]``: with a
    season m > 1 and a whole season before o, the last observed season repeated (a missing value
    there: the last observed value); else the last observed value."""
    seen = s.target[:o]
    finite = np.flatnonzero(np.isfinite(seen))
    if not len(finite):
        return np.full(horizon, np.nan)
    last = float(seen[finite[-1]])
    m = int(season_length)
    if m < 2 or o < m:
        return np.full(horizon, last)
    out = seen[o - m + np.arange(horizon) % m].astype(np.float64)
    return np.where(np.isfinite(out), out, last)


def naive_sigma(s: Series, o: int, start: int, season_length: int) -> float:
    """The root mean square of the naive forecast's one-season errors ``y_t - y_{t-m}`` (m = 1
    without a season) over ``t`` in ``[start, o)``, missing values left out; reads only ``y[:o]``.
    NaN when no error is observed."""
    m = max(int(season_length), 1)
    t = np.arange(max(start, m), o)
    e = s.target[t] - s.target[t - m]
    e = e[np.isfinite(e)]
    return float(np.sqrt(np.mean(e ** 2))) if len(e) else float("nan")


def naive_quantiles(s: Series, o: int, horizon: int, season_length: int, sigma: float,
                    levels: Sequence[float]) -> np.ndarray:
    """``(horizon, len(levels))``: the naive forecast from ``o`` and its Gaussian quantiles, the
    spread ``sigma sqrt(k_h + 1)`` at step h (the module docstring)."""
    from scipy.stats import norm

    h = np.arange(1, horizon + 1)
    k = (h - 1) // season_length if season_length > 1 else h - 1
    return naive_forecast(s, o, horizon, season_length)[:, None] + np.outer(sigma * np.sqrt(k + 1), norm.ppf(levels))


class GuideBlend:
    """Mixin for a quantile forecaster with a guide. Provides ``quantiles`` from the class's
    ``_raw_quantiles(series, origins, levels)`` (the network's own, on the data's scale). Needs
    ``cfg``, ``layout``, ``encoder`` (its ``future_scales``), ``guide`` (or None), ``blend`` (a
    share in [0, 1] or ``"auto"``), ``history_ends`` (series -> length of the training history),
    ``fixed_blend`` (series -> share: set by ``predict``, it overrides ``auto``) and
    ``blend_at_end`` (a saved run's shares at the end of its data, which ``predict`` fixes), and
    ``fixed_sigmas`` (series -> the fallback's sigma, fixed by ``predict`` as the shares are)
    and ``fallbacks`` (a set it adds to: every (series name, origin) whose forecast ``auto`` handed
    to the naive fallback, for the report)."""

    def blend_label(self) -> str:
        """What the model's name says about the blend ('' when the network forecasts alone)."""
        if self.guide is None or not self.blend:
            return ""
        g = self.guide.name.upper()
        return f", {g} share auto" if self.blend == "auto" else f", {self.blend:g} of the forecast from {g}"

    def quantiles(self, series: Sequence[Series], origins: Sequence[int], levels: Sequence[float]) -> np.ndarray:
        """``(N, H, len(levels))`` forecast quantiles on the data's scale (before calibration): the
        network's, each moved by ``w (g - m)`` with w from :meth:`blend_weights`; under the naive
        fallback, naive's own (:func:`naive_quantiles`; see the module docstring)."""
        return self.quantiles_and_own(series, origins, levels)[0]

    def quantiles_and_own(self, series: Sequence[Series], origins: Sequence[int],
                          levels: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`quantiles`, and ``(N,)`` which of them are naive's own interval (the fallback's
        with a sigma), which the network's interval factors (calibration, floor) must not touch."""
        w, sigma = self.blend_choices(series, origins)
        own = (w == NAIVE) & np.isfinite(sigma)
        if not w.any():
            return self._raw_quantiles(series, origins, levels), own
        levels = list(levels)
        at = levels.index(0.5) if 0.5 in levels else len(levels)
        q = self._raw_quantiles(series, origins, levels if at < len(levels) else [*levels, 0.5])
        med = q[..., at].copy()
        shift = np.zeros_like(med)
        mixed, fall = w > 0, w == NAIVE
        if mixed.any():
            shift[mixed] = w[mixed, None] * (self.guide_forecasts(
                [s for s, k in zip(series, mixed) if k], [o for o, k in zip(origins, mixed) if k]) - med[mixed])
        q = q + shift[..., None]
        m, H = self.season_length, self.layout.horizon
        for i in np.flatnonzero(fall):  # naive's forecast and interval
            if np.isfinite(sigma[i]):
                q[i] = naive_quantiles(series[i], origins[i], H, m, sigma[i], [*levels, 0.5][:q.shape[-1]])
            else:  # no recent error observed (a saved run without one): the network's interval around naive
                q[i] += (naive_forecast(series[i], origins[i], H, m) - q[i, :, at])[:, None]
        return q[..., :len(levels)], own

    def naive_forecasts(self, series: Sequence[Series], origins: Sequence[int]) -> np.ndarray:
        """``(N, H)``: the naive fallback's forecast from each origin (:func:`naive_forecast`)."""
        H = self.layout.horizon
        return np.stack([naive_forecast(s, o, H, self.season_length) for s, o in zip(series, origins)])

    def guide_forecasts(self, series: Sequence[Series], origins: Sequence[int]) -> np.ndarray:
        """``(N, H)``: the guide's forecast from each origin (data scale)."""
        H, L = self.layout.horizon, self.layout.input_len
        return np.stack([self.guide.path(s, o, L, H)[L - 1:] for s, o in zip(series, origins)])

    def blend_weights(self, series: Sequence[Series], origins: Sequence[int]) -> np.ndarray:
        """``(N,)``: the guide's share of each forecast, or :data:`NAIVE` where the naive fallback
        takes it (see the module docstring)."""
        return self.blend_choices(series, origins)[0]

    def blend_choices(self, series: Sequence[Series], origins: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(shares (N,), sigmas (N,))``: :meth:`blend_weights`, and for a forecast the naive
        fallback takes, the spread of its interval (:func:`naive_sigma`; NaN elsewhere)."""
        n = len(origins)
        sigmas = np.full(n, np.nan)
        margin = float(self.cfg.model.naive_fallback)
        alone = self.guide is None or not self.blend  # the network's forecast alone: share 0
        if not margin and alone:
            return np.zeros(n), sigmas
        if not margin and self.blend != "auto":
            return np.full(n, float(self.blend)), sigmas
        # the shares to choose from: auto's grid, else the one share set (the fallback still applies)
        grid = (0.0,) if alone else GRID if self.blend == "auto" else (float(self.blend),)
        H = self.layout.horizon
        stride = self.cfg.backtest.stride or H
        known = self.fixed_blend or self.blend_at_end  # a series unseen in training: the mean of the known ones
        shares = [v for v in known.values() if v != NAIVE]
        fallback = grid[0] if len(grid) == 1 else float(np.mean(shares)) if shares else 0.0
        earlier, plans = EarlierForecasts(), []
        for s, o in zip(series, origins):
            if s.name in self.fixed_blend:
                plans.append(float(self.fixed_blend[s.name]))
                sigmas[len(plans) - 1] = self.fixed_sigmas.get(s.name, np.nan)
                continue
            end = self.history_ends.get(s.name)
            if end is None:  # unseen in training: no out-of-sample record
                plans.append(fallback)
                continue
            # with known-future covariates an earlier forecast needs them over its whole horizon: at
            # the end of the data (o = its length) an origin less than H back has none past the end
            last = len(s.times) - H if self.encoder.future_scales else o
            starts = [r for r in range(o - stride, end - 1, -stride) if self.layout.lookback <= r <= last]
            on_validation = not starts and margin > 0
            if on_validation:  # no earlier backtest origin: only the fallback, judged on the validation span
                val_start = end - val_size_for(end, H, self.cfg.backtest.val_size)
                starts = list(range(max(val_start, self.layout.lookback), min(o, end, last + 1)))
            plans.append((s, o, end, [(earlier.add(s, r), r) for r in starts], on_validation))
        if earlier.views:  # targets come from each view itself, only the steps before the origin
            m = self._raw_quantiles(earlier.views, earlier.starts, [0.5])[..., 0]
            g = m if alone else self.guide_forecasts(earlier.views, earlier.starts)
            naive = self.naive_forecasts(earlier.views, earlier.starts)
        out = np.full(n, grid[0])  # nothing observed out of sample yet: the network alone, or the share set
        for i, plan in enumerate(plans):
            if not isinstance(plan, tuple):
                out[i] = plan
                continue
            s, o, end, rows, on_validation = plan
            err_m, err_g, err_n = [], [], []
            for j, r in rows:
                y = s.target[r:min(o, r + H)]
                seen = np.isfinite(y)
                err_m.append((y - m[j, :len(y)])[seen])
                err_g.append((y - g[j, :len(y)])[seen])
                err_n.append((y - naive[j, :len(y)])[seen])
            if not rows or not sum(len(e) for e in err_m):
                continue
            naive_mae = np.mean(np.abs(np.concatenate(err_n)))
            y_m = np.concatenate(err_m)  # y - m
            y_g = np.concatenate(err_g)  # y - g
            # on the validation span ``auto`` keeps the network alone (share 0); only the fallback is chosen there
            choices = (0.0,) if on_validation and len(grid) > 1 else grid
            # y - f_w = (1 - w)(y - m) + w (y - g)
            mae = [np.mean(np.abs((1 - w) * y_m + w * y_g)) for w in choices]
            out[i] = choices[int(np.argmin(mae))]
            if margin and min(mae) > margin * naive_mae:
                out[i], sigmas[i] = NAIVE, self._fallback_sigma(s, o, end)
        # what the report counts: every (series, origin) whose forecast was handed to naive
        self.fallbacks.update(
            (p[0].name, int(p[1])) for p, w in zip(plans, out) if isinstance(p, tuple) and w == NAIVE)
        return out, sigmas

    def _fallback_sigma(self, s: Series, o: int, end: int) -> float:
        """The spread of the fallback's interval from ``o``: :func:`naive_sigma` from the start of
        the validation span (``end``: the training history's end)."""
        start = end - val_size_for(end, self.layout.horizon, self.cfg.backtest.val_size)
        return naive_sigma(s, o, start, self.season_length)
