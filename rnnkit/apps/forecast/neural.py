"""The RNN as a forecaster: encode, window, train with :class:`rnnkit.train.Trainer`, forecast.

One global model for all series. Training windows come from each series' history before the
first backtest origin, minus the last ``val_size`` points, which give the validation windows
(early stopping, best weights, optional interval calibration). Every window has equal weight.

``model.ensemble = N`` trains N networks that differ only in their seed (initial weights and data
order) and averages their forecast quantiles, q = (1/N) sum_i q_i (Vincentization): on short
series the spread between seeds is as large as the gaps between models, and the average is both
steadier and more accurate than a typical member. With ``model.ensemble_input_lens`` the members
also differ in look-back (a multi-window ensemble, as in N-BEATS): member i reads its own input
length, trains on the windows of that length and forecasts from them; ``self.layout`` is the
longest member's layout (what every origin needs before it), ``self.layouts[i]`` member i's. The
members' forecasts are combined on the target's (scaled) level, each with its own window level.

Forecasts come back on the data's scale: quantiles in window space (see :mod:`.models`), plus
the window's level, through the series' inverse scale ``y = z s + c`` (increasing, so quantiles
stay quantiles). Intervals and their calibration: :mod:`.intervals`.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from rnnkit import config as C
from rnnkit.train import Trainer
from rnnkit.train.metrics_log import read_metrics
from rnnkit.train.plots import plot_curves

from .auto import resolve_likelihood
from .backtest import val_size_for
from .blend import GuideBlend
from .config import ForecastConfig, guide_model, member_input_lens
from .data import Series, SeriesSet, season_length_for
from .features import Encoder
from .guide import Guide
from .intervals import Intervals
from .losses import make_likelihood
from .models import ForecastNet, forecast_quantiles
from .windows import Layout, build_windows, training_origins

__all__ = ["NeuralForecaster"]


def epoch_loader(data: TensorDataset, batch_size: int, per_epoch: int, generator: torch.Generator,
                 at_least: int = 0) -> DataLoader:
    """Shuffled training batches; with ``0 < per_epoch < len(data)`` each epoch reads a fresh
    sample of ``per_epoch`` windows (the first ``per_epoch`` of a new permutation); with
    ``len(data) < at_least`` it reads ``at_least`` windows drawn with replacement. Otherwise the
    batches are exactly those of ``DataLoader(data, shuffle=True, generator=generator)``: the
    loader draws its workers' base seed from ``generator`` too, so it must be passed to both."""
    if 0 < len(data) < at_least:
        sampler = RandomSampler(data, replacement=True, num_samples=at_least, generator=generator)
        return DataLoader(data, batch_size=batch_size, sampler=sampler, generator=generator)
    n = per_epoch if 0 < per_epoch < len(data) else None
    sampler = RandomSampler(data, num_samples=n, generator=generator)
    return DataLoader(data, batch_size=batch_size, sampler=sampler, generator=generator)


def windows_per_epoch(cfg: ForecastConfig, n_series: int) -> int:
    """The training windows one epoch reads: ``window.per_epoch``, bounded by
    ``window.per_series`` per series of the training set (0 = no bound: every window)."""
    per_epoch, per_series = cfg.window.per_epoch, cfg.window.per_series
    if per_series and n_series:
        bound = per_series * n_series
        return min(per_epoch, bound) if per_epoch else bound
    return per_epoch


class NeuralForecaster(GuideBlend, Intervals):
    """The trained network plus everything needed to apply it to new data (encoder, layout)."""

    def __init__(self, cfg: ForecastConfig, encoder: Encoder, layout: Layout, calibration=1.0,
                 input_lens: Sequence[int] | None = None, guide: Guide | None = None):
        """``layout``: the longest member's; ``input_lens``: each member's input length (default: from
        ``cfg``, see :func:`.config.member_input_lens`; a saved run passes its stored ones);
        ``guide``: the fitted statistical model of a hybrid (``model.guide``), else None.
        ``model.likelihood=auto`` reads the data (:meth:`create`); built without it, the Gaussian."""
        if cfg.model.likelihood == "auto":
            cfg = C.apply_overrides(cfg, ["model.likelihood=gaussian"])
        self.cfg, self.encoder, self.layout, self.guide = cfg, encoder, layout, guide
        if layout.guide != (guide is not None):
            raise ValueError(f"the layout {'has' if layout.guide else 'has no'} guide channel but the forecaster "
                             f"was given {'a' if guide is not None else 'no'} guide")
        m = cfg.model
        self.input_lens = [int(v) for v in (input_lens if input_lens is not None else member_input_lens(cfg))]
        if len(self.input_lens) != m.ensemble or max(self.input_lens) != layout.input_len:
            raise ValueError(f"member input lengths {self.input_lens} do not fit model.ensemble={m.ensemble} "
                             f"and the layout's (longest) input length {layout.input_len}")
        self.layouts = [dataclasses.replace(layout, input_len=n) for n in self.input_lens]
        self.likelihood = make_likelihood(m.likelihood, m.quantiles)
        self.nets = [self._new_net(cfg.train.seed + i) for i in range(m.ensemble)]
        # one factor, or one per horizon step (backtest.calibrate_per_step)
        self.calibration = ([float(v) for v in calibration] if isinstance(calibration, (list, tuple, np.ndarray))
                            else float(calibration))
        kind = "one-to-one" if m.kind == "one_to_one" else m.decoder
        self.network_name = f"rnnkit {m.cell.upper()} ({kind}, {m.likelihood})"
        if m.ensemble_input_lens:
            self.network_name = self.network_name[:-1] + f", inputs {'/'.join(map(str, sorted(set(self.input_lens))))})"
        if guide is not None:
            self.network_name = self.network_name[:-1] + f", guided by {guide.name.upper()})"
        # the guide's share of the forecast (see :mod:`.blend`)
        self.blend = (m.guide_blend if m.guide_blend == "auto" else float(m.guide_blend)) if guide is not None else 0.0
        self.history_ends: dict[str, int] = {}  # series -> length of the training history (set by ``create``)
        self.fixed_blend: dict[str, float] = {}  # series -> the guide's share, overriding ``auto`` (``predict``)
        # the naive fallback's season (:mod:`.blend`): the guide's, else the data's (set by ``create``, or a saved run's)
        self.season_length = guide.season_length if guide is not None else max(int(cfg.data.season_length), 1)
        self.blend_at_end: dict[str, float] = {}  # a saved run's shares at the end of its data
        # the spread of the naive fallback's interval, per series it takes: fixed by ``predict`` (as
        # ``fixed_blend``) from a saved run's ``sigmas_at_end``
        self.fixed_sigmas: dict[str, float] = {}
        self.sigmas_at_end: dict[str, float] = {}
        self.fallbacks: set[tuple[str, int]] = set()  # (series, origin) the naive fallback took
        self.epochs: list[int] = []  # the epochs each member trained (set by ``fit``)
        self._trainers: list = []  # with ``fit(remember=True)``: the trainers ``save_training`` writes out
        self._runs: list = []  # (trainer, train loader, val loader) per member while a fit is paused
        self._remember = False

    @property
    def name(self) -> str:
        """The model's name in tables: the network, its guide and the guide's share of the forecast."""
        label = self.blend_label()
        return self.network_name[:-1] + label + ")" if label else self.network_name

    def _new_net(self, seed: int) -> ForecastNet:
        m = self.cfg.model
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # each member's initial weights
            return ForecastNet(self.layout.n_features, self.likelihood.n_params, m.kind, m.cell, m.hidden_size,
                               m.num_layers, m.dropout)

    @property
    def net(self) -> ForecastNet:
        """The first (or only) network."""
        return self.nets[0]

    @staticmethod
    def member_dir(run_dir: Path, i: int) -> Path:
        """Member 0 trains in the run folder itself, member i > 0 in ``members/<i>``."""
        return Path(run_dir) if i == 0 else Path(run_dir) / "members" / str(i)

    @classmethod
    def create(cls, cfg: ForecastConfig, history: SeriesSet, echo=None, guide: Guide | None = None) -> NeuralForecaster:
        """Fit the encoder (and the guide of a hybrid) on ``history`` and build an untrained network
        for its features. ``guide``: a guide already fit on this same history (another treatment's,
        so the statistical fits run once per run), used when it is the model ``cfg`` asks for."""
        cfg = resolve_likelihood(cfg, history)[0]  # auto, when not resolved by the pipeline already
        m = (cfg.data.season_length or season_length_for(history.freq)) if cfg.model.deseasonalize else 0
        enc = Encoder.fit(history, cfg.model.scaling, cfg.data.calendar, m if m > 1 else 0, cfg.model.log_target)
        lag = 0
        if cfg.model.seasonal_diff:
            lag = cfg.data.season_length or season_length_for(history.freq)
            if lag < 2:
                raise ValueError(f"model.seasonal_diff needs a season length >= 2, got {lag}")
        layout = Layout(max(member_input_lens(cfg)), cfg.window.horizon, enc.n_past, enc.n_future, enc.n_static,
                        autoregressive=cfg.model.decoder == "autoregressive", local_level=cfg.model.local_level,
                        target_steps=cfg.model.target_steps, level_alpha=cfg.model.level_alpha, seasonal_lag=lag,
                        window_scale=cfg.model.window_scale,
                        guide=guide_model(cfg) != "none", guide_base=cfg.model.guide_base != "none")
        if not layout.guide:
            guide = None
        elif guide is not None and guide.name == guide_model(cfg) and all(s.name in guide.fits for s in history.series):
            pass
        else:
            season = cfg.data.season_length or season_length_for(history.freq)
            # fit before the validation span, so that validation sees the guide out of sample
            ends = {s.name: s.length - val_size_for(s.length, cfg.window.horizon, cfg.backtest.val_size)
                    for s in history.series}
            guide = Guide(guide_model(cfg), season, cfg.baselines,
                          refit=cfg.model.guide_refit == "every_origin").fit(history, ends=ends, echo=echo)
        nf = cls(cfg, enc, layout, guide=guide)
        nf.history_ends = {s.name: s.length for s in history.series}
        nf.season_length = cfg.data.season_length or season_length_for(history.freq)
        return nf

    def guide_rows(self, series: Sequence[Series], pairs, layout: Layout) -> list[np.ndarray] | None:
        """The guide channel of each ``(series index, origin)`` pair in scaled target space (row k
        stands for the target at o - L + 1 + k), or None without a guide. With a log target the
        guide's values are floored at half the smallest observed value (the log needs y > 0)."""
        if self.guide is None:
            return None
        out = []
        for (i, o), path in zip(pairs, self.guide.paths(series, pairs, layout.input_len, layout.horizon)):
            s = series[i]
            if self.encoder.log_target:
                path = np.maximum(path, 0.5 * np.min(s.target[:o]))
            out.append(self.encoder.target_scale(s).transform(path, start=o - layout.input_len + 1))
        return out

    # ------------------------------------------------------------------ training
    def split_windows(self, history: SeriesSet, layout: Layout | None = None):
        """(train, validation) windows of ``layout`` (default: ``self.layout``): validation targets lie
        in the last ``val_size`` points. The validation origins are the same for every member (those
        with room for the longest input before them); training origins start where ``layout``'s
        input fits."""
        lay = layout if layout is not None else self.layout
        partial = self.partial
        arrays = [self.encoder.encode(s, extra=lay.horizon if partial else 0) for s in history.series]
        if partial:  # rows past a series' end only feed outputs whose targets are masked: unknown -> 0
            for a in arrays:
                a.future = np.nan_to_num(a.future, nan=0.0)
        train_pairs, val_pairs, train_ends, val_ends = [], [], [], []
        for i, s in enumerate(history.series):
            n = s.length
            val_start = n - val_size_for(n, lay.horizon, self.cfg.backtest.val_size)
            if partial:  # every origin with at least one target before the validation span
                origins = range(lay.lookback, val_start)
            else:
                origins = training_origins(val_start, lay)
            train_pairs += [(i, o) for o in origins]
            train_ends += [val_start] * len(origins)
            if s.name in history.train_only:
                continue  # training-only series (data.train_only): their last val_size points are left out,
                #           and the validation windows (early stopping, calibration) are the scored series'
            vo = range(max(val_start, self.layout.lookback), n if partial else n - lay.horizon + 1)
            val_pairs += [(i, o) for o in vo]
            val_ends += [n] * len(vo)
        if not train_pairs:
            need = (f"{lay.input_len} + {lay.seasonal_lag} (the input and the season before it, which the seasonal "
                    f"treatments read)" if lay.seasonal_lag else f"{lay.input_len}")
            raise ValueError(f"no training window fits before the validation span: each needs {need} points before "
                             "its origin; lower window.input_len, backtest.val_size or backtest.windows")
        series = history.series
        return (build_windows(arrays, train_pairs, lay, with_targets=True,
                              guide=self.guide_rows(series, train_pairs, lay), ends=train_ends if partial else None),
                build_windows(arrays, val_pairs, lay, with_targets=True,
                              guide=self.guide_rows(series, val_pairs, lay), ends=val_ends if partial else None))

    @property
    def partial(self) -> bool:
        """Partial windows (``window.partial``): training windows whose horizon runs into the
        validation span keep their earlier targets (the rest is masked); direct decoder only."""
        return bool(self.cfg.window.partial) and not self.layout.autoregressive

    def loss_fn(self, model, batch):
        """Mean NLL (or pinball loss) over the horizon rows (all rows for loss_on=all / autoregressive)."""
        x, y = batch
        params = model(x)
        if self.cfg.model.loss_on == "horizon" and not self.layout.autoregressive:
            params, y = params[:, -self.layout.horizon:], y[:, -self.layout.horizon:]
        ok = ~torch.isnan(y)  # partial windows: targets past their end are NaN
        yz = torch.where(ok, y, torch.zeros_like(y))
        w = ok.to(params.dtype)
        loss = (self.likelihood.loss(params, yz) * w).sum() / w.sum().clamp_min(1.0)
        with torch.no_grad():
            H = self.layout.horizon
            med = self.likelihood.quantiles(params[:, -H:].detach(), [0.5])[..., 0]
            wh = w[:, -H:]
            mae = ((med - yz[:, -H:]).abs() * wh).sum() / wh.sum().clamp_min(1.0)
        return loss, {"mae_scaled": mae}

    def fit(self, history: SeriesSet, run_dir: Path | None = None, resume: bool = False, echo=print,
            remember: bool = False, callbacks: Sequence = (), pause_after: int | None = None) -> list[int]:
        """Train every member with :class:`rnnkit.train.Trainer`; returns the epochs each one ran
        (also kept as ``epochs``). ``remember`` (in memory, ``run_dir=None``): keep the checkpoints
        a run folder would get, so :meth:`save_training` can write one later without training again.
        ``callbacks``: given to every member's trainer. ``pause_after=E``: every member stops after
        epoch E with its best weights so far (:attr:`paused` tells whether any has epochs left);
        :meth:`finish_fit` goes on to the end, as one uninterrupted ``fit`` would have."""
        windows = {}
        for n, lay in zip(self.input_lens, self.layouts):
            if n not in windows:
                windows[n] = self.split_windows(history, lay)
                train, val = windows[n]
                echo(f"training windows: {len(train)}, validation windows: {len(val)} "
                     f"(input {n}, horizon {lay.horizon}, {lay.n_features} features)")
        self._runs = []
        for i, net in enumerate(self.nets):
            train, val = windows[self.input_lens[i]]
            tcfg = dataclasses.replace(self.cfg.train, seed=self.cfg.train.seed + i)
            g = torch.Generator().manual_seed(tcfg.seed)
            train_loader = epoch_loader(TensorDataset(train.inputs, train.targets), tcfg.batch_size,
                                        windows_per_epoch(self.cfg, len(history.series)), g,
                                        at_least=self.cfg.window.min_per_epoch)
            val_loader = DataLoader(TensorDataset(val.inputs, val.targets), batch_size=512)
            member_dir = self.member_dir(run_dir, i) if run_dir is not None else None
            cdict = C.to_dict(self.cfg)
            if self.cfg.model.ensemble_input_lens:
                cdict["window"]["input_len"] = self.input_lens[i]  # this member's own look-back
            trainer = Trainer(net, self.loss_fn, tcfg, run_dir=member_dir, config_dict=cdict,
                              remember_checkpoints=remember and run_dir is None, callbacks=list(callbacks))
            self._runs.append((trainer, train_loader, val_loader))
        self._remember = remember and run_dir is None
        return self._train_members(echo, resume=resume, pause_after=pause_after)

    @property
    def paused(self) -> bool:
        """Whether a ``fit(pause_after=E)`` left a member with epochs to train (see :meth:`finish_fit`)."""
        return any(trainer.paused for trainer, _, _ in self._runs)

    def finish_fit(self, echo=print) -> list[int]:
        """Train the members of a paused :meth:`fit` to the end; their weights then equal those of
        one uninterrupted ``fit``. Returns the epochs each one ran."""
        if not self.paused:
            return self.epochs
        return self._train_members(echo)

    def _train_members(self, echo, resume: bool = False, pause_after: int | None = None) -> list[int]:
        epochs = []
        for i, (trainer, train_loader, val_loader) in enumerate(self._runs):
            if len(self._runs) > 1 and trainer.epoch == 0:
                echo(f"ensemble member {i + 1}/{len(self._runs)}"
                     + (f" (input {self.input_lens[i]})" if self.cfg.model.ensemble_input_lens else ""))
            trainer.fit(train_loader, val_loader, resume=resume, pause_after=pause_after)
            if trainer.paused and trainer.config.restore_best and trainer.best_weights is not None:
                # forecasts in the pause come from the best epoch so far, as after a finished fit;
                # the trainer keeps its own (latest) weights to go on from
                net = copy.deepcopy(trainer.model)
                net.load_state_dict(trainer.best_weights)
                self.nets[i] = net.eval()
            else:
                self.nets[i] = trainer.model.cpu().eval()
            epochs.append(trainer.epoch)
        self.epochs = epochs
        self._trainers = [t for t, _, _ in self._runs] if self._remember else []
        if not self.paused:
            self._runs = []
        return epochs

    def save_training(self, run_dir: Path, plots: bool = True) -> None:
        """Write the run folder (checkpoints, metrics.csv, curves.png; each ensemble member in
        :meth:`member_dir`) that training in ``run_dir`` would have left, for a forecaster fit in
        memory with ``remember=True``: the same files, and ``--resume`` continues from them.
        ``plots=False`` leaves out curves.png (:meth:`draw_curves` draws it later)."""
        if not self._trainers:
            raise RuntimeError("save_training needs a forecaster fit in memory with remember=True")
        for i, trainer in enumerate(self._trainers):
            trainer.save_run(self.member_dir(run_dir, i), plots=plots and trainer.config.plots)
        self._trainers = []

    def draw_curves(self, run_dir: Path) -> None:
        """curves.png of each member from its metrics.csv in ``run_dir`` (where it has one)."""
        for i in range(len(self.nets)):
            folder = self.member_dir(run_dir, i)
            if (folder / "metrics.csv").is_file():
                plot_curves(read_metrics(folder / "metrics.csv")[1], folder / "curves.png")

    # ------------------------------------------------------------------ forecasting
    def _check_future(self, s: Series, arrays, origin: int) -> None:
        n_user = len(self.encoder.future_scales)
        if not n_user:
            return
        lo, hi = origin - self.layout.input_len + 1, origin + self.layout.horizon
        block = arrays.future[lo:hi, :n_user]
        bad = np.argwhere(np.isnan(block))
        if len(bad):
            row, col = bad[0]
            raise ValueError(
                f"known-future covariate {self.encoder.future_names[col]!r} has no value at step {lo + row} "
                f"of series {s.name!r} (needed to forecast {self.layout.horizon} steps from position {origin}); "
                "give the future rows in the data file (target left empty) or with --future FILE")

    def _raw_quantiles(self, series: Sequence[Series], origins: Sequence[int],
                       levels: Sequence[float]) -> np.ndarray:
        """``(N, H, len(levels))``: the network's own quantiles on the data's scale."""
        lay = self.layout
        # each series is encoded once, and its origins share it: many origins of one series (the
        # interval floor's training windows) are then one guide filter pass, not one per origin
        arrays, pairs, encoded, at = [], [], [], {}
        key = ("the longest ensemble member's input length (model.ensemble_input_lens)="
               if self.cfg.model.ensemble_input_lens else "window.input_len=")
        for s, o in zip(series, origins):
            if o < lay.lookback:
                raise ValueError(f"series {s.name!r}: forecasting from position {o} needs {key}"
                                 f"{lay.input_len}" + (f" + season {lay.seasonal_lag}" if lay.seasonal_lag else "")
                                 + f" points before it, and it has {o}")
            # the calendar must reach o + H; encode extends it from the series' values (s.length),
            # which may end before its times (a series whose last values are missing)
            extra = max(0, o + lay.horizon - s.length)
            if (id(s), extra) not in at:
                at[id(s), extra] = len(arrays)
                arrays.append(self.encoder.encode(s, extra=extra))
                encoded.append(s)
            i = at[id(s), extra]
            self._check_future(s, arrays[i], o)
            pairs.append((i, o))
        lens = self.input_lens[:len(self.nets)]
        if len(set(lens)) > 1:
            q = self._multi_window_quantiles(encoded, arrays, pairs, levels)
            scales = [self.encoder.target_scale(s) for s in series]
            return np.stack([sc.inverse(qi, start=o) for sc, qi, o in zip(scales, q, origins)])
        w = build_windows(arrays, pairs, self.layouts[0], with_targets=False,
                          guide=self.guide_rows(encoded, pairs, self.layouts[0]))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.cfg.train.seed)  # repeatable sample paths
            if self._mixes() and len(self.nets) > 1:
                q = self._mixture_quantiles(w.inputs, levels)
            else:
                q = torch.stack([forecast_quantiles(net, self.likelihood, w.inputs, lay, levels,
                                                    self.cfg.model.samples) for net in self.nets]).mean(0)
        q = q.double().numpy() * w.spread[:, None, None] + w.level[:, None, None] + w.base[:, :, None]
        scales = [self.encoder.target_scale(s) for s in series]
        return np.stack([sc.inverse(qi, start=o) for sc, qi, o in zip(scales, q, origins)])

    def _multi_window_quantiles(self, series, arrays, pairs, levels: Sequence[float]) -> np.ndarray:
        """``(N, H, len(levels))`` quantiles in scaled target space (window level and seasonal base
        added) of an ensemble whose members read different input lengths: each member forecasts
        from its own windows, its quantiles are scaled by its own window spread and moved to the
        target's level by its own window level, then they are combined (mean of quantiles, or the
        mixture) in float64."""
        windows = {}
        for n, lay in zip(self.input_lens, self.layouts):
            if n not in windows:
                windows[n] = build_windows(arrays, pairs, lay, with_targets=False,
                                           guide=self.guide_rows(series, pairs, lay))
        members = []
        for net, n, lay in zip(self.nets, self.input_lens, self.layouts):
            w = windows[n]
            shift = torch.from_numpy(w.level[:, None] + w.base)  # (B, H), float64
            members.append((net, w.inputs, lay, shift, torch.from_numpy(w.spread)))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.cfg.train.seed)  # repeatable sample paths
            if self._mixes():
                q = self._mixture_quantiles(None, levels, members=members)
            else:
                q = torch.stack([forecast_quantiles(net, self.likelihood, x, lay, levels, self.cfg.model.samples)
                                 .double() * spread[:, None, None] + shift[..., None]
                                 for net, x, lay, shift, spread in members]).mean(0)
        return q.numpy()

    def _mixes(self) -> bool:
        """Whether the ensemble's quantiles are its mixture's (``model.ensemble_combine``): not with
        ``model.likelihood=quantile``, whose networks know only their trained levels (the mean then)."""
        return self.cfg.model.ensemble_combine == "mixture" and self.cfg.model.likelihood != "quantile"

    def _mixture_quantiles(self, x: torch.Tensor | None, levels: Sequence[float], grid: int = 200,
                           members=None) -> torch.Tensor:
        """Quantiles of the equal-weight mixture of the members' forecasts: each member's quantiles
        at ``grid`` evenly spaced levels ((j + 0.5) / grid) stand for equally likely draws from it;
        the mixture's quantiles are those of all members' draws pooled.

        ``members``: ``(net, inputs, layout, shift (B, H), spread (B,))`` per member, each member's
        quantiles times its window ``spread`` and moved by its ``shift`` (float64) before pooling
        (members of different input lengths); default: every net on ``x`` with ``self.layout``, as
        they come (one layout: the caller scales and shifts the pooled quantiles)."""
        fine = [(j + 0.5) / grid for j in range(grid)]
        if members is None:
            members = [(net, x, self.layout, None, None) for net in self.nets]

        def member_q(net, xi, lay, shift, spread, lv):
            qi = forecast_quantiles(net, self.likelihood, xi, lay, lv, self.cfg.model.samples)
            return qi if shift is None else qi.double() * spread[:, None, None] + shift[..., None]

        pooled = torch.cat([member_q(*mb, fine) for mb in members], dim=-1)  # (B, H, members * grid)
        q = torch.tensor(list(levels), dtype=pooled.dtype)
        out = torch.quantile(pooled, q, dim=-1).permute(1, 2, 0)
        # the point forecast (level 0.5) stays the mean of the members' medians: the mixture widens
        # the interval, it does not move the forecast
        for j, lv in enumerate(levels):
            if abs(lv - 0.5) < 1e-12:
                med = torch.stack([member_q(*mb, [0.5])[..., 0] for mb in members]).mean(0)
                out[..., j] = med
                lower = [k for k, v in enumerate(levels) if v < 0.5]
                upper = [k for k, v in enumerate(levels) if v > 0.5]
                for k in lower:
                    out[..., k] = torch.minimum(out[..., k], med)
                for k in upper:
                    out[..., k] = torch.maximum(out[..., k], med)
        return out
