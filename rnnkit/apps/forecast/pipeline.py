"""Forecasting runs end to end: ``train`` (fit + backtest + report), ``evaluate`` and ``predict``.

    cfg = resolve_config("sunspots")                  # or resolve_config(path="sales.csv", overrides=[...])
    result = train(cfg, Path("runs/sunspots"))        # RNN vs baselines, report in the run folder
    evaluate("runs/sunspots")                         # the backtest again, from the saved model
    predict("runs/sunspots")                          # the next H steps after the data, with intervals

A run folder holds run.json (task and resolved config), forecast_state.json (encoder, layout,
calibration), the trainer's files (checkpoints/, metrics.csv, curves.png) and the report.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit import config as C
from rnnkit.train import EpochBar, atomic_write_json
from rnnkit.train.atomic import atomic_path
from rnnkit.train.checkpoint import save_weights
from rnnkit.train.run_folder import load_model_weights, read_run_info, write_run_info

from .auto import (
    candidates,
    default_horizon,
    resolve_likelihood,
    resolve_sizes,
    transform_overrides,
)
from .background import BaselineJob, use_second_process
from .backtest import (
    check_lengths,
    history_set,
    plan_backtest,
    run_backtest,
    split_train_only,
    training_set,
    val_size_for,
)
from .baselines import LONG_SEASON, fit_bound, make_baselines
from .blend import NAIVE, share_label
from .combination import Combination, member_folder
from .compare import compare_to_baselines
from .config import (
    PRESETS,
    ForecastConfig,
    check_config,
    guide_model,
    input_len_key,
    max_input_len,
    resolve_config,
)
from .data import SeriesSet, fmt_time, future_times, read_table, season_length_for
from .datasets import load_series
from .features import Encoder
from .grid import day_too_long_words
from .guide import Guide
from .intervals import floor_words
from .metrics import mase_scale, summarize
from .neural import NeuralForecaster
from .report import (
    baselines_far_misses,
    comparison_table,
    describe_comparison,
    fallback_sentence,
    far_misses,
    far_misses_sentence,
    markdown_table,
    plot_future,
    write_report,
)
from .seasonality import with_found_season
from .sessions import Session
from .windows import Layout

__all__ = ["PRESETS", "backtest", "evaluate", "load_run", "predict", "summary_lines", "train"]

NAME = "forecast"


def default_config() -> ForecastConfig:
    """The built-in default dataset's settings (``rnnkit train forecast`` with no options)."""
    return resolve_config()
STATE_FILE = "forecast_state.json"
CANDIDATES = "candidates"  # run_dir/candidates/<treatment>: the finished candidates of an unfinished choice
SCORE_FILE = "candidate.json"
HALVING_FILE = "halving.json"  # run_dir/candidates/: the scores of the halving epoch, for resume
SHOWN_NOTES = 3  # data notes printed at the start of a run (all of them are in the report)


def _describe(cfg: ForecastConfig) -> str:
    return cfg.data.path or f"built-in {cfg.data.dataset}"


def _scored(cfg: ForecastConfig, sset: SeriesSet) -> tuple[SeriesSet, list]:
    """(the series that are forecast and scored, the training-only series): ``load_series`` marks
    the training-only ones (``data.train_only``) in ``sset.train_only``."""
    return split_train_only(sset, sset.train_only)


def _prepare(cfg: ForecastConfig, sset: SeriesSet | None = None):
    """The scored series, the backtest plan, their history (baselines) and the RNN's training set
    (that history plus the training-only series cut before the first origin), after every check."""
    sset = sset if sset is not None else load_series(cfg.data)
    sset, extra = _scored(cfg, sset)
    H, K = cfg.window.horizon, cfg.backtest.windows
    stride = cfg.backtest.stride or H
    L, key = max_input_len(cfg), input_len_key(cfg)  # the longest member's look-back
    partial = cfg.window.partial and cfg.model.decoder == "direct"
    check_lengths(sset, L, H, K, stride, cfg.backtest.val_size, input_key=key, partial=partial)
    plan = plan_backtest(sset, H, K, stride)
    history = history_set(sset, plan.first)
    firsts = [s.times[o] for s, o in zip(sset.series, plan.first)]
    train_set = training_set(history, extra, firsts, L, H, cfg.backtest.val_size, input_key=key)
    return sset, plan, history, stride, train_set


def _season(cfg: ForecastConfig, sset: SeriesSet) -> int:
    return cfg.data.season_length or season_length_for(sset.freq)


def data_fingerprint(sset: SeriesSet) -> str:
    """A hash of every number and timestamp of the series (and their names and static values)."""
    h = hashlib.sha256(str(sset.freq).encode())
    for s in sset.series:
        h.update(f"{s.name}|{sorted(s.static.items())}|{s.length}".encode())
        h.update(np.asarray(s.times.astype(str)).astype("U").tobytes())
        for a in (s.target, s.past, s.future):
            h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()


def backtest(cfg: ForecastConfig, nf: NeuralForecaster, sset: SeriesSet, echo=print,
             baseline_rows: pd.DataFrame | None = None, job: BaselineJob | None = None):
    """RNN and baselines on the same origins: (forecasts, per-series, overall, baseline
    descriptions, the RNN against each baseline by the Diebold-Mariano test).

    ``baseline_rows``: the baselines' forecasts of an earlier backtest of the same data, reused
    instead of fitting the baselines again (they do not depend on the RNN). ``job``: the baselines
    (and the guide's searches) running in a second process since training began (:mod:`.background`).
    """
    sset, plan, history, stride, _ = _prepare(cfg, sset)
    m = _season(cfg, sset)
    described = {}
    if job is not None:
        got = job.result(cfg.train.progress)
        if got is None:
            echo("baselines: the second process ended without results; fitting them in this one")
        else:
            baseline_rows, described, refits, signature = got
            if nf.guide is not None:
                nf.guide.preload(refits, signature)
    baselines = [] if baseline_rows is not None else make_baselines(cfg.baselines.models, m, cfg.baselines, echo,
                                                                     progress=cfg.train.progress)
    if baselines:
        echo(f"baselines: {', '.join(b.name for b in baselines)} ({_baseline_backend(baselines)}), "
             f"{_refit_words(cfg.baselines.refit, bounded_points(cfg, sset), bounded_arima_points(cfg, sset))}")
    for b in baselines:
        if cfg.baselines.refit == "once":
            t = time.perf_counter()
            b.fit(history)
            echo(f"baseline {b.name}: fit in {time.perf_counter() - t:.1f} s")
    if nf.guide is not None:  # its refits at every origin: a bar while they run (a panel takes minutes)
        nf.guide.progress = cfg.train.progress
    forecasts = run_backtest(sset, plan, [nf, *baselines], cfg.backtest.interval, echo=echo)
    if baseline_rows is not None:  # read back from CSV: dates as text; give them the live rows' types
        kinds = {c: forecasts[c].dtype for c in ("origin", "time")}
        forecasts = pd.concat([forecasts, baseline_rows.astype(kinds)], ignore_index=True)
    scales = {s.name: mase_scale(h.target, m) for s, h in zip(sset.series, history.series)}
    per, overall = summarize(forecasts, scales)
    for b in baselines:
        for series, label in b.describe().items():
            described.setdefault(b.name, []).append(f"{series}: {label}" if len(sset.series) > 1 else label)
    comparisons = compare_to_baselines(forecasts, scales, cfg.window.horizon, stride)
    return forecasts, per, overall, {k: "; ".join(v) for k, v in described.items()}, comparisons


def _baseline_backend(baselines) -> str:
    from .baselines import SFModel

    return "statsforecast" if any(isinstance(b, SFModel) for b in baselines) else "statsmodels"


def _refit_words(refit: str, bounded: int = 0, arima_bounded: int = 0) -> str:
    """How the baselines are fit; ``bounded``: the ``baselines.max_points`` that cuts some fit (0
    none); ``arima_bounded``: the ``baselines.arima_max_points`` that cuts AutoARIMA's (0 none)."""
    how = ("refit at every backtest origin (baselines.refit=every_origin)" if refit == "every_origin"
           else "fit once on the history before the first origin (baselines.refit=once)")
    if bounded:
        how += (f"; ETS, ARIMA and Theta on the last {bounded:,} values before each origin (baselines.max_points, "
                "0 reads all: their fits slow down with the length, AutoTheta's with its square)")
    if arima_bounded:
        how += (f"; AutoARIMA, whose season is longer than {LONG_SEASON}, on the last {arima_bounded:,} "
                "(baselines.arima_max_points, 0 = as max_points: its fits cost the most per value)")
    return how


def bounded_points(cfg: ForecastConfig, sset: SeriesSet) -> int:
    """``baselines.max_points`` when it cuts the history of some scored series at its last
    backtest origin (the longest history any baseline fit sees), else 0 (also when none of the
    bounded models, ETS, ARIMA and Theta, is a baseline)."""
    cap = cfg.baselines.max_points
    if not {"ets", "arima", "theta"} & set(cfg.baselines.models):
        return 0
    longest = max((s.length - cfg.window.horizon for s in sset.series if s.name not in sset.train_only), default=0)
    return cap if cap and longest > cap else 0


def bounded_arima_points(cfg: ForecastConfig, sset: SeriesSet) -> int:
    """``baselines.arima_max_points`` when it cuts AutoARIMA's history of some scored series at its
    last backtest origin below what ``baselines.max_points`` leaves (a season longer than
    ``LONG_SEASON``), else 0."""
    b = cfg.baselines
    if "arima" not in b.models:
        return 0
    bound = fit_bound("arima", _season(cfg, sset), b.max_points, b.arima_max_points)
    if not bound or bound == b.max_points:
        return 0
    longest = max((s.length - cfg.window.horizon for s in sset.series if s.name not in sset.train_only), default=0)
    return bound if longest > bound else 0


def train(cfg: ForecastConfig, run_dir: Path, resume: bool = False, echo=print) -> dict:
    """Train the RNN on the history before the first origin, backtest it against the baselines,
    write the report; returns the result dictionary (also report.json)."""
    check_config(cfg)
    run_dir = Path(run_dir)
    loaded = load_series(cfg.data)
    cfg, season = with_found_season(cfg, loaded)
    cfg, loaded = _leave_out_too_short(cfg, loaded, echo)
    cfg, said = resolve_sizes(cfg, _scored(cfg, loaded)[0])
    if season is not None:
        loaded.notes.insert(0, season.describe())
    elif isinstance(loaded.freq, (int, np.integer)) and not cfg.data.season_length:
        said.append("season: none found in the integer steps' changes before the first backtest origin "
                    "(data.season_length=N gives the series one)")
    elif not cfg.data.season_length and (words := day_too_long_words(loaded.freq)):
        said.append(words)
    sset, plan, history, stride, train_set = _prepare(cfg, loaded)
    cfg, why = resolve_likelihood(cfg, history)
    if why:
        said.append(why)
    echo(f"data: {_describe(cfg)}: {len(sset.series)} series, {sum(s.length for s in sset.series):,} points, "
         f"frequency {sset.freq}" + (" in a daily session" if isinstance(sset.freq, Session) else "")
         + (f"; {len(sset.notes)} data note(s) in the report" if sset.notes else ""))
    # how the file was read (dates from whole numbers, renamed columns, interpolated gaps) shows
    # in the terminal too: a misread file is seen before its forecasts are trusted
    for note in sset.notes[:SHOWN_NOTES]:
        echo(f"note: {note}")
    if len(sset.notes) > SHOWN_NOTES:
        echo(f"note: ... and {len(sset.notes) - SHOWN_NOTES} more in the report")
    for line in said:
        echo(line)
    _check_not_constant(history, echo)
    if train_set.train_only:
        echo(f"training-only series (not scored), cut before the first origin: {', '.join(train_set.train_only)}")
    job = _start_baselines(cfg, sset, plan, stride, echo)
    try:
        return _train(cfg, run_dir, resume, echo, sset, history, stride, train_set, job)
    finally:
        if job is not None:
            job.stop()


def _leave_out_too_short(cfg: ForecastConfig, loaded: SeriesSet, echo=print) -> tuple[ForecastConfig, SeriesSet]:
    """A panel's scored series shorter than two seasons plus the horizon (and than the input plus
    the horizon, when the input length is given), or too short alone for one backtest window with
    its validation span and two training origins, would stop the whole run
    (:func:`.auto.resolve_sizes`, whose sizes follow the shortest series): they are left out
    (``data.exclude``), with a line naming them, when others remain; a single series, or a panel
    of none long enough, keeps the error that says what would work."""
    scored, _ = _scored(cfg, loaded)
    m = cfg.data.season_length or season_length_for(loaded.freq)
    H = cfg.window.horizon or default_horizon(loaded.freq)
    need = max(2 * m + H, max_input_len(cfg) + H)
    short = [s for s in scored.series if s.length < need]
    no_window = [s for s in scored.series if s.length >= need and not _fits_alone(cfg, scored, s)]
    if not short + no_window or len(short + no_window) == len(scored.series):
        return cfg, loaded
    names = tuple(s.name for s in short + no_window)
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, exclude=(*cfg.data.exclude, *names)))
    if short:
        echo(f"note: {len(short)} of {len(scored.series)} series have fewer than the {need} points the horizon {H} "
             f"and season {m} need, and are left out (data.exclude): {_named(short)}")
    if no_window:
        echo(f"note: {len(no_window)} of {len(scored.series)} series are too short for one backtest window with "
             f"horizon {H}, a validation span and two training origins, and are left out (data.exclude): "
             f"{_named(no_window)}")
    return cfg, load_series(cfg.data)


def _fits_alone(cfg: ForecastConfig, sset: SeriesSet, s) -> bool:
    """Whether the sizes derived from series ``s`` alone leave it a backtest it can train for."""
    try:
        resolve_sizes(cfg, dataclasses.replace(sset, series=[s]))
    except ValueError:
        return False
    return True


def _named(series) -> str:
    """The first five series' names and lengths, and how many more."""
    return ", ".join(f"{s.name!r} ({s.length})" for s in series[:5]) + (
        f" and {len(series) - 5} more" if len(series) > 5 else "")


def _check_not_constant(history: SeriesSet, echo=print) -> None:
    """A series constant before its first backtest origin has no MASE scale (its seasonal naive
    errors are all 0): an error when every scored series is, else a line naming them (their MASE
    is left out of the means)."""
    flat = [s for s in history.series if s.name not in history.train_only and np.ptp(s.target) == 0]
    scored = [s for s in history.series if s.name not in history.train_only]
    if flat and len(flat) == len(scored):
        s = flat[0]
        raise ValueError(f"series {s.name!r} is constant ({s.target[0]:g}) in all {s.length} points before the first "
                         "backtest origin" + (" (and so is every other series)" if len(scored) > 1 else "")
                         + ": there is no variation to learn or to scale the errors by (MASE)")
    if flat:
        names = ", ".join(repr(s.name) for s in flat[:5]) + (f" and {len(flat) - 5} more" if len(flat) > 5 else "")
        echo(f"note: {len(flat)} series constant before the first backtest origin ({names}): their MASE is undefined "
             "and left out of the means")


def _start_baselines(cfg: ForecastConfig, sset: SeriesSet, plan, stride: int, echo=print) -> BaselineJob | None:
    """The baselines' backtest in a second process while the RNN trains, when ``baselines.process``
    asks for it (:mod:`.background`); None otherwise."""
    import torch

    windows = sum(len(o) for o in plan.origins)
    if not use_second_process(cfg.baselines.process, cfg.baselines.models, torch.get_num_threads(), windows):
        return None
    guide = guide_model(cfg)
    searched = (guide, _season(cfg, sset)) if guide != "none" and cfg.model.guide_refit == "every_origin" else None
    try:
        job = BaselineJob(sset, plan, _season(cfg, sset), cfg.baselines, cfg.backtest.interval, stride, guide=searched)
    except OSError as e:  # no temporary folder or no interpreter to start: the baselines wait for training
        echo(f"baselines: no second process ({e}); they are fit after training, in this process")
        return None
    how = _refit_words(cfg.baselines.refit, bounded_points(cfg, sset), bounded_arima_points(cfg, sset))
    echo(f"baselines: {', '.join(cfg.baselines.models)}, {how}, in a second process "
         f"while the RNN trains{', then in both' if cfg.baselines.refit == 'every_origin' else ''} "
         f"({torch.get_num_threads()} torch thread(s); baselines.process={cfg.baselines.process})")
    return job


def _train(cfg: ForecastConfig, run_dir: Path, resume: bool, echo, sset: SeriesSet, history: SeriesSet, stride: int,
           train_set: SeriesSet, job: BaselineJob | None) -> dict:
    """:func:`train` once the data is prepared (and the baselines' second process started, when
    ``job``): choose the treatment, train, backtest, write the report."""
    t0 = time.perf_counter()
    cfg, choice, trained = choose_transform(cfg, train_set, echo, run_dir=run_dir, resume=resume)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run_info(run_dir, NAME, C.to_dict(cfg))
    if cfg.model.transform in trained and not (resume and _has_checkpoints(run_dir)):
        best = trained[cfg.model.transform]  # trained while choosing: its run folder files copied, not trained again
        shutil.copytree(run_dir / CANDIDATES / cfg.model.transform, run_dir, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(SCORE_FILE, STATE_FILE))
        if cfg.train.plots:  # candidates are saved without them: only the chosen one's is kept
            best.draw_curves(run_dir)
        epochs = best.epochs
    else:  # a fixed treatment, or --resume of a run that had begun training its best in the folder
        shared = next((f.guide for f in trained.values() if f.guide is not None), None)  # the guide fits run once
        best = NeuralForecaster.create(cfg, train_set, echo=echo, guide=shared)
        epochs = best.fit(train_set, run_dir=run_dir, resume=resume, echo=echo)
    others = {}
    for name in cfg.model.combine_with:  # trained while choosing, else saved by the run being resumed, else now
        folder = run_dir / member_folder(name)
        if name in trained:
            others[name] = trained[name]
        elif resume and (folder / STATE_FILE).is_file():
            others[name] = _load_forecaster(member_config(cfg, name), folder)[0]
        else:
            others[name] = _fit_member(member_config(cfg, name), train_set, folder, guide=best.guide)
    nf = Combination({cfg.model.transform: best, **others}) if others else best
    if others:
        echo(f"forecast: the mean of {len(others) + 1} treatments ({', '.join([cfg.model.transform, *others])}; "
             "model.combine=1 keeps only the best)")
    train_seconds = time.perf_counter() - t0
    if cfg.backtest.calibrate and cfg.backtest.calibrate_window:
        echo(f"interval calibration: rolling, from the last {cfg.backtest.calibrate_window} observed origins")
    elif cfg.backtest.calibrate:
        nf.calibration = nf.calibrate(history, cfg.backtest.interval, cfg.backtest.calibrate_per_step)
        echo(f"interval calibration factor(s) on the validation windows: {_fmt_factors(nf.calibration)}")
    elif cfg.backtest.interval_floor:
        nf.calibration = nf.training_floor(history, cfg.backtest.interval)
        echo(floor_words(nf.calibration, cfg.backtest.interval))
    for name, member in others.items():
        _save_state(run_dir / member_folder(name), member, _season(cfg, sset))
        for i, net in enumerate(member.nets):
            _save_member_weights(run_dir / member_folder(name), i, net)
    _save_state(run_dir, best, _season(cfg, sset), calibration=nf.calibration)
    shutil.rmtree(run_dir / CANDIDATES, ignore_errors=True)  # the chosen ones are saved above; scores in the report
    forecasts, per, overall, described, comparisons = backtest(cfg, nf, sset, echo=echo, job=job)
    blend, sigmas = _blend_at_end(nf, sset, echo)
    if blend:  # the shares predict uses after refitting on all the data
        _save_state(run_dir, best, _season(cfg, sset), calibration=nf.calibration, blend_at_end=blend,
                    fallback_sigmas=sigmas)
    result = _result(cfg, sset, stride, overall, per, described, nf)
    result["comparisons"] = comparisons
    result["transform"] = choice
    # the shares chosen at the end, for the report: only where ``auto`` chose them (else only the fallback did)
    chosen = nf.guide is not None and nf.blend == "auto"
    result["guide_blend"] = {"setting": cfg.model.guide_blend, "at_end": blend if chosen else {}}
    result.update(epochs=epochs, train_seconds=train_seconds, train_only=list(train_set.train_only))
    write_report(run_dir, result, sset, forecasts, per, overall, cfg.backtest.interval, cfg.backtest.plot_windows)
    return result


def validation_mase(nf: NeuralForecaster, cfg: ForecastConfig, history: SeriesSet) -> float:
    """Mean over the scored series of the MASE of the median forecast at every validation origin
    (the last ``backtest.val_size`` points of each history; partial horizons at its end)."""
    m = _season(cfg, history)
    H = cfg.window.horizon
    scores = []
    for s in history.series:
        if s.name in history.train_only:
            continue
        n = s.length
        start = max(n - val_size_for(n, H, cfg.backtest.val_size), nf.layout.lookback)
        # known-future covariates of the user end with the history: full horizons only
        last = n - H + 1 if nf.encoder.future_scales else n
        origins = list(range(max(min(start, last - 1), nf.layout.lookback), last))
        if not origins:
            continue
        q = nf.quantiles([s] * len(origins), origins, [0.5])[..., 0]
        err = [np.abs(s.target[o:o + H] - q[i, :n - o]) for i, o in enumerate(origins)]
        scale = mase_scale(s.target[:start], m)
        scores.append(float(np.mean(np.concatenate(err))) / scale if scale > 0 else np.nan)
    return float(np.nanmean(scores)) if scores else float("nan")


def member_config(cfg: ForecastConfig, name: str) -> ForecastConfig:
    """The config of one treatment of a run (a combination member, or a candidate of ``auto``)."""
    return C.apply_overrides(cfg, transform_overrides(name, cfg.model.guide) + [
        f"model.transform={name}", "model.combine_with=", "train.progress=false", "train.tensorboard=false"])


def _has_checkpoints(run_dir: Path) -> bool:
    """Whether training has written a checkpoint in ``run_dir`` (what ``--resume`` continues)."""
    return any((run_dir / "checkpoints" / name).exists() for name in ("latest", "best"))


def _fit_member(cfg: ForecastConfig, train_set: SeriesSet, folder: Path | None, guide=None,
                remember: bool = False, echo=None, bar: str = "", pause_after: int | None = None) -> NeuralForecaster:
    """One treatment trained from scratch (in ``folder`` with its checkpoints, or in memory);
    ``guide``: another treatment's guide fit on the same ``train_set`` (reused when it fits);
    ``remember``: in memory, keep what ``save_training`` needs to write its run folder later;
    ``bar``: the label of one progress bar over its epochs (none when empty); ``pause_after``: see
    :meth:`NeuralForecaster.fit`."""
    nf = NeuralForecaster.create(cfg, train_set, guide=guide)
    nf.fit(train_set, run_dir=folder, echo=echo or (lambda *a: None), remember=remember,
           callbacks=[EpochBar(bar)] if bar else (), pause_after=pause_after)
    return nf


def choose_transform(cfg: ForecastConfig, train_set: SeriesSet, echo=print, run_dir: Path | None = None,
                     resume: bool = False) -> tuple[ForecastConfig, dict, dict]:
    """``model.transform=auto``: train one model per candidate treatment on the training windows and
    score each by its validation MASE. Returns the config with the best treatment as
    ``model.transform`` and the next best ``model.combine - 1`` as ``model.combine_with``, what was
    tried (name -> validation MASE; empty when nothing was chosen), and the trained candidates that
    are combined, the best included (name -> forecaster).

    Successive halving (``model.halving_epochs=E``, Jamieson and Talwalkar 2016): every candidate
    first trains E epochs and is scored with its best weights so far; only the
    ``max(model.combine, ceil(n / 2))`` lowest go on to the end (a candidate that early stopping
    ended by then keeps its score and its place in that ranking). Training is paused, not
    restarted, so a candidate that goes on ends exactly as without halving: the choice differs
    only where the treatment chosen without it scored among the worst half after E epochs.

    With ``run_dir``, each candidate is trained in memory and then written to
    ``run_dir/candidates/<name>`` (the run folder files its training would have left but its
    curves.png, which :func:`train` draws for the chosen one only; its state; and last its score),
    and the halving's scores to ``run_dir/candidates/halving.json``, so an
    interrupted choice loses at most the candidate in training: ``resume`` takes the finished
    ones and the halving's ranking from there (a candidate that went on is trained again from its
    start, which ends as the paused one would have). :func:`train` copies the best's files into the
    run folder, saves the others it combines, and removes the candidates."""
    t = cfg.model.transform
    if t == "none":
        return cfg, {}, {}
    if t != "auto":
        return C.apply_overrides(cfg, transform_overrides(t, cfg.model.guide)), {"chosen": t, "scores": {}}, {}
    names = candidates(cfg, train_set)
    if len(names) == 1:
        echo(f"transform: {names[0]} (the only candidate for this data)")
        return (C.apply_overrides(cfg, transform_overrides(names[0], cfg.model.guide) + [f"model.transform={names[0]}"]),
                {"chosen": names[0], "scores": {}}, {})
    folders = {name: run_dir / CANDIDATES / name if run_dir is not None else None for name in names}
    keep = max(cfg.model.combine, math.ceil(len(names) / 2))
    rung = cfg.model.halving_epochs if keep < len(names) and cfg.model.halving_epochs < cfg.train.epochs else 0
    halving_file = run_dir / CANDIDATES / HALVING_FILE if run_dir is not None else None
    chooser = _Candidates(cfg, train_set, names, folders, echo, resume)
    at_rung: dict[str, float] = {}
    if rung:
        if resume and halving_file is not None and halving_file.is_file():
            at_rung = json.loads(halving_file.read_text(encoding="utf-8"))["scores"]
            at_rung = {k: float("nan") if v is None else float(v) for k, v in at_rung.items()}
            echo(f"transform candidates after {rung} epochs: " + _said(at_rung) + " (before the interruption)")
        else:
            for name in names:
                at_rung[name] = chooser.train(name, pause_after=rung)
            if halving_file is not None:
                atomic_write_json(halving_file, {"epochs": rung, "scores": {
                    k: None if not np.isfinite(v) else v for k, v in at_rung.items()}})
        going_on = _ranked(at_rung)[:keep]
        for name in names:
            if name not in going_on:
                chooser.fitted.pop(name, None)  # its weights, optimizer and trainers are not needed again
        echo(f"halving after {rung} epochs (model.halving_epochs): {', '.join(going_on)} train on; "
             + ", ".join(k for k in names if k not in going_on) + " stop")
    else:
        going_on = names
    scores = {name: chooser.train(name) for name in going_on}
    ranked = _ranked(scores)
    best, rest = ranked[0], ranked[1:cfg.model.combine]
    echo(f"transform: {best} (lowest validation MASE of {', '.join(going_on)})"
         + (f", combined with {', '.join(rest)} (model.combine={cfg.model.combine})" if rest else ""))
    chosen = C.apply_overrides(cfg, transform_overrides(best, cfg.model.guide) + [
        f"model.transform={best}", f"model.combine_with={','.join(rest)}"])
    tried = {"chosen": best, "combined": [best, *rest], "scores": scores}
    if at_rung:
        tried["halving"] = {"epochs": rung, "scores": at_rung, "stopped": [k for k in names if k not in going_on]}
    return chosen, tried, {k: chooser.fitted[k] for k in [best, *rest]}


def _ranked(scores: dict[str, float]) -> list[str]:
    """Names by score, lowest first; NaN scores only when no score is finite (then the first)."""
    ranked = sorted(scores, key=lambda k: np.nan_to_num(scores[k], nan=np.inf))
    return [k for k in ranked if np.isfinite(scores[k])] or ranked[:1]


def _said(scores: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in scores.items())


class _Candidates:
    """The treatment candidates of one choice: trained (or paused, or taken from a saved
    candidate's folder on ``resume``), scored, and saved when finished."""

    def __init__(self, cfg, train_set, names, folders, echo, resume):
        self.cfg, self.train_set, self.names, self.folders = cfg, train_set, names, folders
        self.echo, self.resume = echo, resume
        self.fitted: dict[str, NeuralForecaster] = {}
        self.final: dict[str, float] = {}  # the scores of the candidates trained to their end
        self.guide = None  # the first candidate's guide, fit once and shared

    def train(self, name: str, pause_after: int | None = None) -> float:
        """Train ``name`` (on from its pause, if paused) for ``pause_after`` epochs or to its end;
        its validation MASE with its best weights so far."""
        cfg, i, n = self.cfg, self.names.index(name), len(self.names)
        # one bar per treatment over its epochs, not the trainer's bar per epoch (7 x 60 lines); the
        # run's TensorBoard setting, for the events save_training writes when this one is the best
        c = C.apply_overrides(member_config(cfg, name), [f"train.tensorboard={str(cfg.train.tensorboard).lower()}"])
        folder = self.folders[name]
        t0 = time.perf_counter()
        if name not in self.fitted and self.resume and folder is not None and (folder / SCORE_FILE).is_file():
            saved = json.loads((folder / SCORE_FILE).read_text(encoding="utf-8"))
            self.fitted[name] = _load_forecaster(c, folder)[0]
            self.fitted[name].epochs = saved["epochs"]
            self.guide = self.guide or self.fitted[name].guide
            score = self.final[name] = (float("nan") if saved["validation_mase"] is None
                                        else float(saved["validation_mase"]))
            self.echo(f"transform candidate {i + 1}/{n} {name}: validation MASE {score:.3f} "
                      "(trained before the interruption)")
            return score
        bar = f"treatment {i + 1}/{n} {name}" if cfg.train.progress else ""
        nf = self.fitted.get(name)
        if nf is None:
            said = self.echo if i == 0 else None  # the same windows for every treatment: said once
            nf = self.fitted[name] = _fit_member(c, self.train_set, None, guide=self.guide, remember=True, echo=said,
                                                 bar=bar, pause_after=pause_after)
            self.guide = self.guide or nf.guide
        elif nf.paused:
            nf.finish_fit(echo=lambda *a: None)
        elif name in self.final:  # early stopping ended it before the halving epoch
            return self.final[name]
        score = validation_mase(nf, c, self.train_set)
        if nf.paused:
            self.echo(f"transform candidate {i + 1}/{n} {name}: validation MASE {score:.3f} after {pause_after} "
                      f"epochs ({time.perf_counter() - t0:.0f} s)")
            return score
        self.final[name] = score
        if folder is not None:
            _save_candidate(folder, nf, score, _season(cfg, self.train_set))
        self.echo(f"transform candidate {i + 1}/{n} {name}: validation MASE {score:.3f} "
                  f"({time.perf_counter() - t0:.0f} s{', ' + str(nf.epochs[0]) + ' epochs' if nf.epochs else ''})")
        return score


def _save_candidate(folder: Path, nf: NeuralForecaster, score: float, season_length: int) -> None:
    """A treatment candidate trained in memory, written where an interrupted choice finds it: its
    run folder files (checkpoints, metrics; no curves), its state, and last its score (the mark
    that it is complete; a folder without one is trained again)."""
    shutil.rmtree(folder, ignore_errors=True)  # a candidate the interruption caught half written
    nf.save_training(folder, plots=False)  # 0.3-0.5 s a plot; the chosen one's is drawn in the run folder
    _save_state(folder, nf, season_length)
    atomic_write_json(folder / SCORE_FILE, {"validation_mase": None if not np.isfinite(score) else score,
                                            "epochs": nf.epochs})


def _blend_at_end(nf, sset: SeriesSet, echo=print) -> tuple[dict[str, float], dict[str, float]]:
    """With ``model.guide_blend=auto``: each series' share of the guide chosen from the backtest's
    forecasts (the one ``auto`` takes at the end of the data, see :mod:`.blend`), and for the
    series the naive fallback takes, the spread of naive's interval (:func:`.blend.naive_sigma`;
    left out where none was observed). With a share set, or no guide, the same with that share
    (0 without a guide) where the fallback does not take the series; empty with neither ``auto``
    nor the fallback."""
    auto = nf.guide is not None and nf.blend == "auto"
    if not auto and not nf.cfg.model.naive_fallback:
        return {}, {}
    w, sigma = nf.blend_choices(sset.series, [s.length for s in sset.series])
    shares = {s.name: float(v) for s, v in zip(sset.series, w)}
    sigmas = {s.name: float(f) for s, v, f in zip(sset.series, w, sigma) if v == NAIVE and np.isfinite(f)}
    fell = int(np.sum(w == NAIVE))
    naive_words = (f"naive: {fell} series whose earlier forecasts were over {nf.cfg.model.naive_fallback:g} times the "
                   "naive forecast's error take the naive forecast (model.naive_fallback=0 turns it off)")
    if not auto:  # a share set (or no guide): only the fallback was chosen
        if fell:
            echo(f"forecast: {naive_words}; predict keeps it")
        return shares, sigmas
    mixed = w[w != NAIVE]
    said = (share_label(w[0]) if len(w) == 1 else
            (f"mean {np.mean(mixed):.2f} over {len(mixed)} series" if len(mixed) else f"{len(w)} series")
            + " (" + ", ".join(f"{share_label(g)}: {int(np.sum(w == g))}" for g in sorted(set(w.tolist()))) + ")")
    echo(f"forecast: the guide's ({nf.guide.name.upper()}) share, chosen by the backtest's errors, at the end of the "
         f"data: {said} (predict uses it; model.guide_blend=W fixes it)" + (f"; {naive_words}" if fell else ""))
    return shares, sigmas


def _fmt_factors(k) -> str:
    return ", ".join(f"{v:.3f}" for v in k) if isinstance(k, list) else f"{k:.3f}"


def _backtest_fallbacks(nf, sset: SeriesSet) -> dict[str, list[str]]:
    """Series -> the times of the backtest origins whose forecast the naive fallback took (see
    :mod:`.blend`): those from the end of the training history up to, not at, the data's end."""
    fell: dict[str, list[str]] = {}
    ends, series = nf.history_ends, {s.name: s for s in sset.series}
    for name, o in sorted(nf.fallbacks):
        if name in ends and name in series and ends[name] <= o < series[name].length:
            fell.setdefault(name, []).append(fmt_time(series[name].times[o]))
    return fell


def _result(cfg, sset, stride, overall, per, described, nf) -> dict:
    rows = overall.to_dict(orient="records")
    rnn = rows[0]
    baselines = rows[1:]
    return {
        "data": _describe(cfg), "series": sset.names, "horizon": cfg.window.horizon,
        "input_len": ("/".join(map(str, nf.input_lens)) + " (ensemble members)" if cfg.model.ensemble_input_lens
                      else cfg.window.input_len),
        "windows": cfg.backtest.windows, "stride": stride,
        "season_length": _season(cfg, sset), "interval": cfg.backtest.interval,
        "overall": rows, "per_series": per.to_dict(orient="records"),
        "model": nf.name, "rnn_mase": rnn["MASE"], "rnn_coverage": rnn["coverage"],
        "best_baseline": min(baselines, key=lambda r: r["MASE"])["model"] if baselines else None,
        "best_baseline_mase": min((r["MASE"] for r in baselines), default=float("nan")),
        "rnn_lowest_mase": all(rnn["MASE"] < r["MASE"] for r in baselines),
        "far_misses": far_misses(per, rnn["model"]), "far_misses_baselines": baselines_far_misses(per, rnn["model"]),
        "naive_fallbacks": _backtest_fallbacks(nf, sset),
        "baseline_models": described, "notes": list(sset.notes), "calibration": nf.calibration,
        "calibration_window": cfg.backtest.calibrate_window if cfg.backtest.calibrate else 0,
        "calibrated": bool(cfg.backtest.calibrate), "baseline_refit": cfg.baselines.refit,
        "interval_floor": bool(cfg.backtest.interval_floor),
        "baseline_max_points": bounded_points(cfg, sset),
        "baseline_arima_max_points": bounded_arima_points(cfg, sset),
        "guide_models": nf.guide.describe() if nf.guide is not None else {},
        "parameters": sum(p.numel() for net in nf.nets for p in net.parameters()), "epochs": [],
        "train_seconds": 0.0,
        "data_fingerprint": data_fingerprint(sset),
    }


# ---------------------------------------------------------------------------------- run folders
def _save_state(run_dir: Path, nf: NeuralForecaster, season_length: int, calibration=None,
                blend_at_end: dict | None = None, fallback_sigmas: dict | None = None) -> None:
    """``calibration``: the run's interval factor(s) when ``nf`` is one member of a combination;
    ``blend_at_end``: the guide's share per series that ``predict`` uses (``model.guide_blend=auto``);
    ``fallback_sigmas``: the spread of the naive fallback's interval for the series it takes."""
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / STATE_FILE, {"encoder": nf.encoder.to_dict(), "layout": nf.layout.to_dict(),
                                             "member_input_lens": nf.input_lens,
                                             "guide": nf.guide.to_dict() if nf.guide is not None else None,
                                             "calibration": nf.calibration if calibration is None else calibration,
                                             "season_length": season_length, "history_ends": nf.history_ends,
                                             "blend_at_end": blend_at_end or {},
                                             "fallback_sigma_at_end": fallback_sigmas or {}})


def _save_member_weights(folder: Path, i: int, net) -> None:
    """A combination member's network i (trained in memory while choosing the treatment) as its
    folder's best checkpoint, where :func:`load_model_weights` reads it."""
    path = NeuralForecaster.member_dir(folder, i) / "checkpoints" / "best" / "model.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_weights(path, net.state_dict())


def _load_forecaster(cfg: ForecastConfig, folder: Path) -> tuple[NeuralForecaster, dict]:
    path = folder / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the run did not finish training")
    state = json.loads(path.read_text(encoding="utf-8"))
    layout = Layout(**state["layout"])
    # each member's own input length (runs saved before multi-window ensembles: all the layout's)
    lens = state.get("member_input_lens") or [layout.input_len] * cfg.model.ensemble
    guide = Guide.from_dict(state["guide"], cfg.baselines) if state.get("guide") else None
    nf = NeuralForecaster(cfg, Encoder.from_dict(state["encoder"]), layout, state["calibration"], input_lens=lens,
                          guide=guide)
    nf.history_ends = {k: int(v) for k, v in state.get("history_ends", {}).items()}
    nf.season_length = int(state.get("season_length") or nf.season_length)
    nf.blend_at_end = {k: float(v) for k, v in state.get("blend_at_end", {}).items()}
    # (runs saved before this rule kept a width factor, "fallback_widths_at_end": not read; their
    # fallback keeps the network's interval width around the naive forecast)
    nf.sigmas_at_end = {k: float(v) for k, v in state.get("fallback_sigma_at_end", {}).items()}
    for i, net in enumerate(nf.nets):
        load_model_weights(net, nf.member_dir(folder, i))
        net.eval()
    return nf, state


def load_run(run_dir: str | Path) -> tuple[ForecastConfig, NeuralForecaster]:
    """The config and the trained forecaster of a run folder (best weights)."""
    info = read_run_info(run_dir)
    if info["task"] != NAME:
        raise ValueError(f"{run_dir} is a {info['task']!r} run, not a forecast run")
    cfg = C.from_dict(ForecastConfig, info["config"])
    best, state = _load_forecaster(cfg, Path(run_dir))
    if not cfg.model.combine_with:
        return cfg, best
    members = {cfg.model.transform: best}
    for name in cfg.model.combine_with:
        members[name] = _load_forecaster(member_config(cfg, name), Path(run_dir) / member_folder(name))[0]
    return cfg, Combination(members, calibration=state["calibration"])


def evaluate(run_dir: str | Path, refit_baselines: bool = False, echo=print) -> dict:
    """The backtest of a saved run again (same data, same origins): the overall table.

    The RNN forecasts again from its saved weights. The baselines' stored forecasts are reused
    when the data has not changed since training (same fingerprint), else they are fit again;
    ``refit_baselines`` always fits them again.
    """
    cfg, nf = load_run(run_dir)
    sset, _ = _scored(cfg, load_series(cfg.data))
    rows = None
    report, stored = Path(run_dir) / "report.json", Path(run_dir) / "backtest_forecasts.csv"
    if not refit_baselines and report.is_file() and stored.is_file():
        if json.loads(report.read_text(encoding="utf-8")).get("data_fingerprint") == data_fingerprint(sset):
            table = pd.read_csv(stored)
            rows = table[table["model"] != nf.name]
            echo("baselines: forecasts reused from the run (the data is unchanged)")
        else:
            echo("baselines: the data changed since training; fitting them again")
    _, per, overall, _, comparisons = backtest(cfg, nf, sset, echo=echo, baseline_rows=rows)
    misses = far_misses(per, nf.name)
    said = far_misses_sentence(misses, len(sset.series), baselines=baselines_far_misses(per, nf.name))
    fell = _backtest_fallbacks(nf, sset)
    if fell:
        said = (said + "\n\n" if said else "") + fallback_sentence(fell, len(sset.series), cfg.backtest.windows)
    return {"overall": overall.to_dict(orient="records"), "per_series": per.to_dict(orient="records"),
            "comparisons": comparisons, "far_misses": misses, "naive_fallbacks": fell,
            "table": markdown_table(overall, cfg.backtest.interval) + "\n\n" + comparison_table(comparisons)
            + (f"\n\n{said}" if said else "")}


def refit_on_all(cfg: ForecastConfig, nf: NeuralForecaster, sset: SeriesSet, echo=print) -> NeuralForecaster:
    """The run's configuration trained again on every series up to its end (the scaling, the
    guide and the network all refit; early stopping on the last ``backtest.val_size`` points, as
    in training); the interval factors are the run's, or with ``backtest.interval_floor`` (and no
    ``calibrate``) the refit network's own floor from its training windows, all the data."""
    full = dataclasses.replace(sset, series=[dataclasses.replace(s, future=s.future[:s.length],
                                                                 times=s.times[:s.length]) for s in sset.series])
    t0 = time.perf_counter()
    bar = cfg.train.progress  # one bar per member over its epochs, instead of the trainer's per epoch
    if isinstance(nf, Combination):  # every member refit, each with its own treatment
        members, guide = {}, None
        for i, (name, m) in enumerate(nf.members.items()):
            quiet = C.apply_overrides(m.cfg, ["train.progress=false"])  # the best's is the run's own config
            members[name] = _fit_member(quiet, full, None, guide=guide,
                                        bar=f"refit {i + 1}/{len(nf.members)} {name}" if bar else "")
            guide = guide or members[name].guide
        new = Combination(members)
    else:  # the run's own config: the trainer's bars, as in training
        new = _fit_member(cfg, full, None)
    new.calibration = nf.calibration
    new.fixed_blend = dict(nf.blend_at_end)  # no origin is out of sample for the refit network
    new.fixed_sigmas = dict(nf.sigmas_at_end)
    echo(f"predict: refit on every series up to its end in {time.perf_counter() - t0:.0f} s "
         "(--use-backtest-model skips this)")
    if cfg.backtest.interval_floor and not cfg.backtest.calibrate:  # the refit network's own floor
        new.calibration = new.training_floor(full, cfg.backtest.interval)
        echo(floor_words(new.calibration, cfg.backtest.interval, "predict: "))
    return new


def predict(run_dir: str | Path, data: str | Path | None = None, future: str | Path | None = None,
            output: str | Path | None = None, use_backtest_model: bool = False, echo=print) -> pd.DataFrame:
    """Forecast the ``horizon`` steps after the end of every series, with the run's interval.

    By default the run's configuration is first trained again on the data up to its end
    (:func:`refit_on_all`), so the forecast has seen the backtest span too; ``use_backtest_model``
    forecasts with the saved model, trained before the first backtest origin.

    ``data``: a file with the same columns as the training data (default: the run's own data).
    ``future``: rows after the data's end holding the known-future covariates (time, id and
    covariate columns; the target may be absent). Returns (and writes to ``output`` as CSV, with a
    picture of it beside, the same name ending in ``.png``) one row per series and step: series,
    time, point, lo, hi.
    """
    cfg, nf = load_run(run_dir)
    dcfg = cfg.data
    dcfg = dataclasses.replace(cfg.data, truncate=0, path=str(data) if data is not None else cfg.data.path)
    if future is None:
        sset = load_series(dcfg)
    else:
        if not dcfg.path:
            raise ValueError("--future needs the data as a file (--data PATH)")
        rows = read_table(future)
        for c in dcfg.target or ():
            if c not in rows.columns:
                rows[c] = np.nan  # future rows: no target yet
        with tempfile.TemporaryDirectory() as tmp:
            merged = Path(tmp) / "data_and_future.csv"
            pd.concat([read_table(dcfg.path, dcfg.sheet), rows], ignore_index=True).to_csv(merged, index=False)
            sset = load_series(dataclasses.replace(dcfg, path=str(merged)))
    if not use_backtest_model:
        nf = refit_on_all(cfg, nf, sset, echo)
    sset, _ = _scored(cfg, sset)  # training-only series are not forecast
    H = nf.layout.horizon
    series = list(sset.series)
    origins = [s.length for s in series]
    frames = []
    for s, (point, lo, hi) in zip(series, nf.forecast(series, origins, H, cfg.backtest.interval)):
        frames.append(pd.DataFrame({"series": s.name, "time": future_times(s.times[s.length - 1], sset.freq, H),
                                    "point": point, "lo": lo, "hi": hi}))
    out = pd.concat(frames, ignore_index=True)
    if output is not None:
        with atomic_path(Path(output)) as tmp:
            out.to_csv(tmp, index=False)
        plot_future(plot_path(output), sset, out, cfg.backtest.interval)
    return out


def plot_path(output: str | Path) -> Path:
    """Where ``predict`` draws the forecasts written to ``output``: the same name ending in ``.png``
    (``next.csv`` -> ``next.png``; an output that is itself a ``.png`` gets ``_plot.png``)."""
    p = Path(output)
    return p.with_suffix(".png") if p.suffix.lower() != ".png" else p.with_name(p.stem + "_plot.png")


def summary_lines(result: dict) -> list[str]:
    overall = pd.DataFrame(result["overall"])
    goal = "yes" if result["rnn_lowest_mase"] else "no"
    lines = [
        markdown_table(overall, result["interval"]), "",
        (f"RNN lowest MASE: {goal} (RNN {result['rnn_mase']:.3f}, best baseline {result['best_baseline']} "
         f"{result['best_baseline_mase']:.3f}); RNN {result['interval']:.0%} interval coverage "
         f"{result['rnn_coverage']:.3f}"),
    ]
    for c in result.get("comparisons", []):
        if c["b"] == result["best_baseline"]:
            lines.append(f"RNN against {c['b']}: {describe_comparison(c)}")
    if result.get("far_misses"):
        lines.append(far_misses_sentence(result["far_misses"], len(result["series"]),
                                         baselines=result.get("far_misses_baselines")))
    if result.get("naive_fallbacks"):
        lines.append(fallback_sentence(result["naive_fallbacks"], len(result["series"]), result.get("windows")))
    return lines
