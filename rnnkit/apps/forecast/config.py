"""Configuration of a forecasting run: data columns, windows, model, backtest, baselines, training.

Every field can be overridden from the command line by its dotted path (``window.horizon=24``,
``model.cell=gru``). Built-in datasets bring their own defaults (:data:`DATASET_DEFAULTS`), applied
before the user's preset and overrides; :data:`PRESETS` are named sets of overrides.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from rnnkit import config as C
from rnnkit.train import TrainConfig

__all__ = [
    "DATASET_DEFAULTS",
    "PRESETS",
    "TRANSFORMS",
    "BacktestConfig",
    "BaselineConfig",
    "DataConfig",
    "ForecastConfig",
    "ModelConfig",
    "WindowConfig",
    "check_config",
    "input_len_key",
    "max_input_len",
    "member_input_lens",
    "resolve_config",
]


# The level/trend/season treatments of ``model.transform`` (see :mod:`.auto`).
TRANSFORMS = ("level", "level_deseason", "level_log", "level_log_deseason", "seasonal", "seasonal_log", "guided")


@dataclass
class DataConfig:
    """Where the series come from and what each column means.

    dataset: built-in dataset (``sunspots``, ``elnino``, ``macrodata``), used when ``path`` is empty
        (``sunspots`` when neither is given); None for a user's file.
    path: the user's CSV, Excel or Parquet file.
    sheet: an Excel workbook's sheet (its name, or its number from 0); empty = the first sheet
        that holds a table (a workbook's "Contents" or "Notes" sheet before the data is passed over).
    time_col: the time column: dates (any format pandas parses) or integer steps.
    id_col: series identifier (long format: one row per series and time step); ``store,item``
        (columns joined by a comma) makes a series per pair, named ``store/item``. Without it every
        target column is its own series (wide format), sharing the covariate columns.
    target: one or more target columns.
    past_covariates: observed only up to the forecast origin (e.g. yesterday's temperature).
    future_covariates: known in advance over the horizon too (holidays, prices set ahead).
    static_covariates: constant per series (numbers, or categories that are one-hot encoded).
        For these four, None (``none`` on the command line) means: a built-in dataset's own
        columns, none for a user's file; an empty value (``data.past_covariates=``) means none.
    freq: pandas offset alias (``MS``, ``QS``, ``D`` ...) or an integer step; None = inferred.
    date_format: the time column's date format (``%d/%m/%Y``, ``%Y%m%d`` ...; pandas' ``format``);
        None = inferred. Numeric day/month dates whose order the data leaves open ask for it.
    aggregate: rows that are events (a sale per row, readings at irregular times) added up per
        period of ``freq``, which it needs: ``sum``, ``mean``, ``count``, ``min``, ``max`` or ``last``
        of each series' rows in the period, as pandas' ``resample`` bins them (a period without rows
        is 0 for ``sum`` and ``count``; see :mod:`.aggregate`); ``none`` (default): one row per
        series and time step.
    year: the year of times written without one (``Month`` and ``Day`` columns; a day of the year
        with hhmm clock times): 0 (default) reads them in 2000, a stand-in leap year the note names.
    missing: policy for gaps and missing target values *inside* a series: ``interpolate``
        (linear in time, each filled value counted in the report) or ``error``.
    calendar: add calendar features (month/quarter/day-of-week as sin/cos) as known-future
        covariates when the time column holds dates.
    season_length: seasonal period m for seasonal naive, ETS/ARIMA and the MASE scale (0 = from
        the frequency: 12 monthly, 4 quarterly, 7 daily, 24 hourly, 52 weekly, 1 otherwise).
    truncate: drop the last N points of every series first: backtest an earlier period, for
        choosing settings without looking at the reported test span.
    train_only: series of the data (ids in long format, target columns in wide format) that the
        RNN also trains on but that are not forecast, scored or given to the baselines: related
        series for one global model. Each is cut before the earliest first backtest origin of the
        scored series (nothing at or after it is used) and gives training windows only. For a
        built-in dataset, names of its extra series (``macrodata``: its other columns, see
        :mod:`.datasets`); None (``none``) = the dataset's default, none for a user's file.
    exclude: series of the data left out altogether (not trained on, forecast or scored). ``train``
        fills it in for a panel's series shorter than two seasons plus the horizon, which would
        otherwise stop the whole run, and says so; a saved run keeps it, so evaluate and predict
        leave out the same series (names not in a file are ignored).
    """

    dataset: str | None = None
    path: str | None = None
    sheet: str = ""
    time_col: str = "date"
    id_col: str | None = None
    target: tuple[str, ...] | None = None
    past_covariates: tuple[str, ...] | None = None
    future_covariates: tuple[str, ...] | None = None
    static_covariates: tuple[str, ...] | None = None
    freq: str | None = None
    date_format: str | None = None
    missing: Literal["interpolate", "error"] = "interpolate"
    aggregate: Literal["none", "sum", "mean", "count", "min", "max", "last"] = "none"
    year: int = 0
    calendar: bool = True
    season_length: int = 0
    truncate: int = 0
    train_only: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()


@dataclass
class WindowConfig:
    """input_len: L, steps the model reads before the origin; horizon: H, steps it forecasts.

    0 (the default for both) = derived from the data (see :mod:`.auto`): the horizon from the
    frequency (M4's: 18 monthly, 8 quarterly, 6 yearly, 13 weekly, 14 daily, 48 hourly), the input
    length from the horizon, the season and the length of the shortest series.
    partial: training windows whose horizon runs past the end of the training span keep the
    targets they have (the rest is masked in the loss), so short series give more windows; the
    validation windows likewise run up to the end of the history (direct decoder only).
    per_epoch: training windows read per epoch. A panel with more (fpp3's us_employment: 148
        series, 33,163 windows) reads a fresh random sample of this many each epoch (seeded
        by ``train.seed``), as global forecasters (N-BEATS, ES-RNN) train on sampled windows, so an
        epoch and early stopping's patience cost the same on a large panel as on a long series; 0 =
        all windows every epoch. The default, 6400 (100 batches of 64), leaves every built-in and
        benchmark series but us_employment whole.
    per_series: at most this many training windows per series each epoch (the sample is
        ``min(per_epoch, per_series x series)``; 0 = no such bound). A long single series would
        otherwise read up to ``per_epoch`` windows an epoch: 3,037 for the 3,177 months of R's
        sunspot.month, 47 batches, and each of the treatments ``auto`` tries trains for up to
        60 epochs of them. With the default, 1024 (16 batches of 64), a series' training costs
        at most that many windows an epoch, and every series of the benchmark panels but
        us_gasoline (1,201 windows) is read whole.
    min_per_epoch: with fewer training windows than this, an epoch reads this many, drawn with
        replacement, so a short series' epoch is several batches: early stopping's patience and the
        60 epochs then mean as many optimizer steps as on a long series (a 141-year series had 2
        batches an epoch and stopped after 40 steps, its best at step 16, before its network had
        learned more than the level). 0 (default) = every window once an epoch, however few. Tried
        at 512 on the development panel's ten single series with fewer windows than us_gasoline:
        mean MASE 1.100 against 1.096, better on four, worse on five (qgas 1.412 against 1.224),
        so not the default (docs/forecasting.md).
    """

    input_len: int = 0
    horizon: int = 0
    partial: bool = True
    per_epoch: int = 6400
    per_series: int = 1024
    min_per_epoch: int = 0


@dataclass
class ModelConfig:
    """The network and its output distribution.

    transform: how a window's level, trend and season are handled (see :mod:`.auto`): ``auto``
        (default) tries ``level``, ``level_deseason``, ``seasonal`` (relative to the seasonal naive
        forecast), ``level_log``, ``level_log_deseason`` and ``seasonal_log`` (the log ones for positive
        series, the seasonal ones with two seasons of history) and keeps the one with the
        lowest MASE on the validation windows (the report names it); ``none`` uses ``scaling``,
        ``local_level``, ``log_target`` and ``deseasonalize`` as set (the built-in datasets' tuned
        settings); a name forces that treatment.

    kind: ``sequence`` (many-to-many aligned RNN over the window) or ``one_to_one`` (one step in,
        the next step out, no carried state: the seed's "a price in, the next price out").
    decoder: ``direct`` (all H steps from one pass, the target masked over the horizon) or
        ``autoregressive`` (one-step model rolled out, feeding sampled values back).
    likelihood: ``gaussian`` / ``studentt`` (negative log-likelihood) or ``quantile`` (pinball loss
        at ``quantiles``, which must hold 0.5 and the interval's two ends); ``auto`` (default):
        ``quantile`` for intermittent data (at least half of the scored series' values before the
        first backtest origin exactly 0, none below), else ``gaussian`` (see
        :func:`.auto.resolve_likelihood`).
    scaling: per-series target scaling, ``standard`` (mean/std), ``robust`` (median/IQR), ``diff``
        (mean/mean absolute step, for trending series) or ``none``; fit on each series' training
        span and undone on every output.
    log_target: scale log y instead of y (exp on output; positive targets only): for series that
        grow exponentially (macro aggregates), whose steps then keep one size as the level rises.
    deseasonalize: also remove each series' seasonal profile of period ``data.season_length``
        (mean per phase over the training history) before the model sees it, and add it back.
    local_level: subtract the last observed (scaled) value from the window's targets, add it back
        on output; helps on trending series whose test span leaves the training range.
    level_alpha: with ``local_level``, the level subtracted is the simple exponential-smoothing
        level of the window's own input span with this smoothing constant (ES-RNN style, Smyl 2020):
        1 (default) = the last observed value; smaller = a smoother level over more of the window.
    window_scale: divide each window by its own spread, the mean absolute step of its input span
        (floored at :data:`.windows.SPREAD_FLOOR` of the series' scale), and multiply the outputs
        back: the network sees every window at one size, so a series whose recent steps are far
        smaller (or larger) than its history's is forecast at its recent size, not its history's.
    seasonal_diff: forecast relative to the seasonal naive forecast: the seasonal difference
        y_t - y_{t-m} (m = ``data.season_length`` >= 2) inside the window, and over the horizon the
        deviation from the last observed season repeated, added back on output (for H <= m, seasonal
        ARIMA's D = 1); an output of 0 is the seasonal naive forecast. Direct decoder only.
    guide: ``ets`` (default) or ``arima``: a hybrid. That statistical model (the baselines' search,
        fit per series on the training data) predicts every window row's target from the values
        before it and before the origin, and the prediction is one more input channel (see
        :mod:`.guide`); ``none``: a plain RNN.
    guide_refit: ``every_origin`` (default): the guide is searched and fit again at every origin
        from the training history's end on (backtest, predict), as the baselines are; ``once``:
        the fit on the training history serves every origin (faster; it can go stale).
    guide_blend: with a guide, its share w of the forecast: ``(1 - w)`` times the network's plus
        ``w`` times the guide's (every quantile moves by ``w (guide - network median)``, so the
        interval keeps its width). ``auto`` (default): per series and origin, the w of
        0, 0.25, .., 1 whose mix had the lowest error on the earlier backtest origins' steps
        observed before it (out of sample for both; 0 at the first origin), and for ``predict``
        the one chosen at the end of the data (see :mod:`.blend`); a number fixes w (0: the
        network's forecast alone).
    naive_fallback: a margin M (default 2; 0: off): at an origin where the forecast's error on
        the earlier origins' out-of-sample steps (with ``guide_blend=auto``, the best share's; with
        a share set, that share's; without a guide, the network's) was over M times the naive
        forecast's (seasonal naive with a season), the forecast is the naive one, with naive's own
        interval (see :mod:`.blend`).
    guide_base: ``ets`` or ``arima``: the network forecasts the deviation from that model's
        forecast, which is added back on output (an output of 0 is its forecast), and reads it as
        the guide channel; the ``guided`` treatment sets it. Direct decoder, not with
        ``seasonal_diff``; with ``guide`` set, the same model. ``none`` (default): no base.
    target_steps: also feed each step's change of the target (z_t - z_{t-1}) as an input feature.
    loss_on: ``horizon`` (the H forecast steps) or ``all`` (also the one-step-ahead outputs over
        the input span). Autoregressive models always train on all steps.
    samples: sample paths of an autoregressive roll-out (intervals are their quantiles).
    ensemble: train this many networks with seeds ``train.seed + i`` and average their forecast
        quantiles (steadier on short series; training time grows in proportion).
    ensemble_combine: ``mean`` averages the members' quantiles (Vincentization); ``mixture`` takes
        the quantiles of the equal-weight mixture of the members' forecast distributions (wider:
        it adds the spread between seeds to each member's own spread) for the interval ends, while
        the point forecast stays the mean of the members' medians.
    ensemble_input_lens: input lengths of the ensemble members (multi-window ensemble, as N-BEATS
        does): member i reads ``ensemble_input_lens[i % len]`` steps (seed ``train.seed + i``), so
        the members differ in look-back as well as in seed; they are combined as
        ``ensemble_combine`` says. Empty (default): every member reads ``window.input_len``, which
        the RNN then ignores when this is set. ``model.ensemble`` must be at least its length. The
        backtest needs history for the longest one.
    combine: with ``transform=auto``, forecast with the mean of the ``combine`` treatments with the
        lowest validation MASE (a forecast combination, see :mod:`.combination`; the run records
        them in ``combine_with``); 1 = the best treatment alone.
    halving_epochs: with ``transform=auto``, successive halving of the treatment candidates: each
        trains this many epochs, then only the ``max(combine, ceil(n / 2))`` of the n with the
        lowest validation MASE so far train on to the end (paused and continued, so they end as
        without halving); 0 (default) trains every candidate to the end. Faster (us_gasoline: 60 s
        instead of 80 s with 12) but not the default: the ``level`` treatments start slowly, and on
        El Nino with a level shift they scored 1.30 after 12 epochs and 0.57 at the end, the best
        of all, so halving at 12 stopped them and the forecast lost to seasonal naive
        (docs/forecasting.md, "Successive halving").
    combine_intervals: how a combination's interval ends are made: the quantiles of the
        ``mixture`` of the members' distributions (default; wider where the treatments disagree),
        or the ``mean`` of their quantiles; the point forecast is the mean of the members' medians
        either way. With ``likelihood=quantile`` always the mean: a quantile head knows only its
        trained levels, not the whole distribution a mixture draws from (so does ``ensemble_combine``).
    combine_with: the other treatments combined with ``transform`` (each trained as that treatment,
        saved under ``treatments/<name>/`` in the run folder); filled in by ``transform=auto``.
    """

    transform: Literal["auto", "none", "level", "level_deseason", "level_log", "level_log_deseason", "seasonal",
                       "seasonal_log", "guided"] = "auto"
    kind: Literal["sequence", "one_to_one"] = "sequence"
    cell: Literal["lstm", "gru", "rnn", "rnn_relu"] = "lstm"
    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.0
    decoder: Literal["direct", "autoregressive"] = "direct"
    likelihood: Literal["auto", "gaussian", "studentt", "quantile"] = "auto"
    quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
    scaling: Literal["standard", "robust", "diff", "none"] = "standard"
    log_target: bool = False
    deseasonalize: bool = False
    local_level: bool = False
    level_alpha: float = 1.0
    window_scale: bool = False
    seasonal_diff: bool = False
    target_steps: bool = False
    guide: Literal["none", "ets", "arima"] = "ets"
    guide_base: Literal["none", "ets", "arima"] = "none"
    guide_refit: Literal["every_origin", "once"] = "every_origin"
    guide_blend: float | Literal["auto"] = "auto"
    naive_fallback: float = 2.0
    loss_on: Literal["horizon", "all"] = "horizon"
    samples: int = 200
    ensemble: int = 1
    ensemble_combine: Literal["mean", "mixture"] = "mean"
    ensemble_input_lens: tuple[int, ...] = ()
    combine: int = 3
    halving_epochs: int = 0
    combine_intervals: Literal["mean", "mixture"] = "mixture"
    combine_with: tuple[str, ...] = ()


@dataclass
class BacktestConfig:
    """Rolling-origin evaluation.

    windows: number of forecast origins per series (0 = from the series' length, see :mod:`.auto`);
    stride: steps between origins (0 = half the horizon with automatic windows, else the horizon).
    The last origin's horizon ends at the series' last point; everything before the first origin
    is history for training (the RNN, scalers, baseline parameters).
    val_size: the last points of that history held out for early stopping and calibration (0 = a
        tenth of it, at least one horizon).
    interval: nominal coverage of the prediction interval (0.8 = 10% and 90% quantiles).
    calibrate: widen or narrow the RNN's intervals by one factor so that they reach the nominal
        coverage on the validation windows (split-conformal scaling; every validation origin with
        the horizon steps the history observes). Off by default: the validation windows also
        choose the early-stopping epoch and the treatments, so their errors are smaller than later
        ones and the factor comes out too small (on six development series, mean 80% coverage
        0.591 calibrated against 0.756 without).
    calibrate_per_step: with ``calibrate``, one factor per horizon step h = 1..H instead of one for
        all steps, each from that step's validation residuals (the error grows with the lead time).
    calibrate_window: with ``calibrate``, W > 0 makes the factor rolling: at each origin it comes
        from the series' own forecasts at the last W origins whose horizon is observed by then
        (instead of the validation windows once), so the intervals follow the recent size of the
        errors; 0 (default) = one fixed factor from the validation windows.
    interval_floor: without ``calibrate``, widen (never narrow) the RNN's interval at each horizon
        step until it reaches the nominal coverage on the training windows, the errors the network
        makes where it was fit (:meth:`.intervals.Intervals.training_floor`). On by default: on
        seeded random walks the network's 80% intervals covered 30-59% of the backtest's points
        without it and 64-96% with it; on the development series most steps need no widening.
    plot_windows: forecast windows drawn in forecasts.png.
    """

    windows: int = 0
    stride: int = 0
    val_size: int = 0
    interval: float = 0.8
    calibrate: bool = False
    calibrate_per_step: bool = False
    calibrate_window: int = 0
    interval_floor: bool = True
    plot_windows: int = 3


@dataclass
class BaselineConfig:
    """Baselines run on the same windows: ``naive``, ``seasonal_naive``, ``ets``, ``arima``, ``theta``.

    backend: ``auto`` (statsforecast's Naive, SeasonalNaive, AutoETS, AutoARIMA and AutoTheta when
        statsforecast is installed, else statsmodels), ``statsforecast`` or ``statsmodels``.
    refit: ``every_origin`` (default: each model is estimated again at every backtest origin on the
        series up to it, as statsforecast's cross-validation does) or ``once`` (estimated on the
        history before the first origin; later origins only run the fitted model over the newer
        observations). The report says which.
    max_p, max_q, max_d, max_season: bounds of the statsmodels fallback's searches. ETS:
    additive-error state-space exponential smoothing, trend none/additive/damped x season
    none/m (m <= max_season), chosen by AIC. ARIMA: d from KPSS tests (<= max_d), seasonal D from
    the seasonal-strength rule (m <= max_season), then a stepwise AIC search over
    (p, q) <= (max_p, max_q), seasonal (P, Q) <= (1, 1) and, when d + D <= 1, a constant (a drift
    in the differenced series when d + D = 1), as auto.arima does.
    ``max_season`` bounds statsforecast's AutoARIMA too: with a longer season (half-hours' 48,
    weeks' 52) it searches no seasonal AR or MA orders, seasonal differencing alone modelling the
    season, because a seasonal term at lag m makes the model's state at least m long, and each
    exact-likelihood evaluation far costlier (36 s a fit on 245 half-hours, against 0.4 s
    without). The report's model label says so.
    arima_search: how statsforecast's AutoARIMA searches its orders. ``auto`` (default): R's
        auto.arima rule, approximate for a series longer than 150 points or a season longer than 12
        (the candidates ranked by the conditional-sum-of-squares likelihood, the chosen one then fit
        by exact maximum likelihood; about 10x faster on a 700-point monthly series), exact
        otherwise; ``exact`` always (statsforecast's own default); ``approximate`` always.
    max_points: ETS, ARIMA and Theta see at most the last this many values before each origin
        (0 = all). Their fits slow down with the length (statsforecast's AutoTheta quadratically:
        12 s for 8,000 points, 196 s for 27,716 on one core, ten origins each), so without a bound a
        series of five-minute readings spends half an hour on one baseline. No series of the
        benchmark panels is that long; the report says when the bound cut a fit. The ETS guide's
        searches at the backtest origins and at ``predict`` read the same values (its filter runs
        from there), so the AutoETS baseline's fit there is the guide's search.
    arima_max_points: AutoARIMA with a season longer than 12 (hours in a day, half-hours, weeks)
        sees at most the last this many values (0 = as ``max_points``). Its fits cost far more per
        value than ETS's or Theta's: on a year of hourly electricity demand (season 24, ten origins,
        one core) 41 s a fit on 5,000 values, 12 s on 2,880 and 5.5 s on 1,440, with MASE 1.077,
        1.105 and 1.102. No series of the benchmark panels is that long.
    process: where the baselines' backtest runs during ``train``. ``auto`` (default): in a second
        process, beside the RNN's training, when ETS, ARIMA and Theta make at least 20 fits in all
        (one per model and backtest window) and the cores this process may use outnumber torch's
        threads (``rnnkit --threads 1`` on two cores);
        ``separate``: always there; ``same``: in the training process, after training. With the
        second process and ``refit=every_origin``, the training process takes the fits still open
        once the network is trained, so both cores work to the end. Either way the results are the
        same.
    """

    models: tuple[str, ...] = ("naive", "seasonal_naive", "ets", "arima", "theta")
    backend: Literal["auto", "statsforecast", "statsmodels"] = "auto"
    refit: Literal["every_origin", "once"] = "every_origin"
    max_p: int = 3
    max_q: int = 3
    max_d: int = 1
    max_season: int = 24
    arima_search: Literal["auto", "exact", "approximate"] = "auto"
    max_points: int = 5000
    arima_max_points: int = 2000
    process: Literal["auto", "separate", "same"] = "auto"


def _default_train() -> TrainConfig:
    return TrainConfig(epochs=60, lr=3e-3, weight_decay=1e-4, grad_clip=1.0, schedule="cosine",
                       min_lr_ratio=0.05, batch_size=64, patience=12, monitor="val_loss",
                       log_every=0, checkpoint_every=5, plot_every=0)


@dataclass
class ForecastConfig:
    data: DataConfig = field(default_factory=DataConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    backtest: BacktestConfig = field(default_factory=BacktestConfig)
    baselines: BaselineConfig = field(default_factory=BaselineConfig)
    train: TrainConfig = field(default_factory=_default_train)


# Settings for each built-in dataset. The horizon, backtest span and season come from the data
# (monthly: a year ahead; quarterly: a year ahead). The model settings were chosen by backtests of
# the period *before* the reported test span (data.truncate = that span), never on the test span
# itself; docs/forecasting.md lists the candidates and their scores.
DATASET_DEFAULTS: dict[str, list[str]] = {
    "sunspots": ["model.transform=none", "model.guide=none", "data.calendar=false", "data.season_length=132", "window.input_len=132",
                 "window.horizon=12", "backtest.windows=24", "backtest.val_size=240"],
    "elnino": ["model.transform=none", "window.input_len=96", "window.horizon=12", "backtest.windows=20", "backtest.stride=6",
               "backtest.val_size=72", "model.scaling=robust", "model.deseasonalize=true", "model.guide=arima",
               "model.guide_refit=once", "model.guide_blend=0",
               "model.ensemble=10", "model.ensemble_combine=mixture", "backtest.calibrate=true",
               "backtest.calibrate_window=48"],
    "macrodata": ["model.transform=none", "model.guide=none", "window.input_len=40", "window.horizon=4", "backtest.windows=20", "backtest.stride=2",
                  "backtest.val_size=24", "data.train_only=cpi,m1,pop,unemp,tbilrate", "model.log_target=true",
                  "model.local_level=true", "model.target_steps=true",
                  "model.likelihood=studentt", "model.ensemble=10", "model.ensemble_combine=mixture",
                  "backtest.calibrate=true", "backtest.calibrate_window=8"],
}

PRESETS: dict[str, list[str]] = {
    # Seconds: tests and smoke runs (few epochs, a small model; the small ARIMA grid bounds the
    # statsmodels fallback only: statsforecast's AutoARIMA, the default backend, searches its own).
    "tiny": ["model.hidden_size=16", "train.epochs=3", "train.patience=0", "backtest.windows=3",
             "baselines.max_p=1", "baselines.max_q=1", "model.samples=50", "train.checkpoint_every=0"],
}


def resolve_config(dataset: str | None = None, path: str | None = None, preset: str | None = None,
                   overrides: list[str] = ()) -> ForecastConfig:
    """Defaults, then the built-in dataset's settings, then ``preset``, then ``overrides``."""
    cfg = ForecastConfig()
    if path is not None:
        cfg.data.path = str(path)
    elif dataset is not None:
        if dataset not in DATASET_DEFAULTS:
            raise C.ConfigError(f"unknown dataset {dataset!r}; built-in: {', '.join(DATASET_DEFAULTS)}")
        cfg.data.dataset = dataset
    if cfg.data.path is None:
        cfg.data.dataset = cfg.data.dataset or "sunspots"
        cfg = C.apply_overrides(cfg, DATASET_DEFAULTS[cfg.data.dataset])
    if preset is not None:
        if preset not in PRESETS:
            raise C.ConfigError(f"unknown preset {preset!r}; available: {', '.join(PRESETS)}")
        cfg = C.apply_overrides(cfg, PRESETS[preset])
    cfg = C.apply_overrides(cfg, list(overrides))
    check_config(cfg)
    return cfg


def check_config(cfg: ForecastConfig) -> None:
    """Values that are the right type but cannot work together; each message names the key."""
    def need(ok: bool, msg: str) -> None:
        if not ok:
            raise C.ConfigError(msg)

    w, m, b = cfg.window, cfg.model, cfg.backtest
    need(w.input_len >= 0, f"window.input_len must be >= 1 (0 = from the data), got {w.input_len}")
    need(w.horizon >= 0, f"window.horizon must be >= 1 (0 = from the frequency), got {w.horizon}")
    need(m.hidden_size >= 1, f"model.hidden_size must be >= 1, got {m.hidden_size}")
    need(m.num_layers >= 1, f"model.num_layers must be >= 1, got {m.num_layers}")
    need(0.0 <= m.dropout < 1.0, f"model.dropout must be in [0, 1), got {m.dropout}")
    need(0.0 < b.interval < 1.0, f"backtest.interval must be in (0, 1), got {b.interval}")
    need(m.combine >= 1, f"model.combine must be >= 1 (1 = the best treatment alone), got {m.combine}")
    need(w.min_per_epoch >= 0, f"window.min_per_epoch must be >= 0 (0 = every window once), got {w.min_per_epoch}")
    need(m.halving_epochs >= 0, f"model.halving_epochs must be >= 0 (0 = no halving), got {m.halving_epochs}")
    bad = [t for t in m.combine_with if t not in TRANSFORMS or t == m.transform]
    need(not bad, f"model.combine_with takes treatments other than model.transform ({', '.join(TRANSFORMS)}), "
         f"got {bad}")
    need(not m.combine_with or m.transform in TRANSFORMS,
         f"model.combine_with needs a named model.transform (one of {', '.join(TRANSFORMS)}), got {m.transform!r}")
    need(b.windows >= 0, f"backtest.windows must be >= 1 (0 = from the data), got {b.windows}")
    need(b.stride >= 0, f"backtest.stride must be >= 0 (0 = horizon), got {b.stride}")
    need(b.val_size >= 0, f"backtest.val_size must be >= 0 (0 = auto), got {b.val_size}")
    need(b.calibrate_window >= 0, f"backtest.calibrate_window must be >= 0 (0 = a fixed factor), got "
         f"{b.calibrate_window}")
    need(b.calibrate or not b.calibrate_window, "backtest.calibrate_window needs backtest.calibrate=true")
    need(cfg.data.truncate >= 0, f"data.truncate must be >= 0, got {cfg.data.truncate}")
    need(cfg.data.year == 0 or 1678 <= cfg.data.year <= 2261,
         f"data.year must be 0 (a stand-in year) or a year 1678-2261, got {cfg.data.year}")
    need(cfg.data.aggregate == "none" or bool(cfg.data.freq),
         f"data.aggregate={cfg.data.aggregate} adds up the rows per period: give the period with --freq (h, D, W, MS ...)")
    need(cfg.data.season_length >= 0, f"data.season_length must be >= 0 (0 = from the frequency), "
         f"got {cfg.data.season_length}")
    need(m.samples >= 10, f"model.samples must be >= 10 sample paths, got {m.samples}")
    need(0.0 < m.level_alpha <= 1.0, f"model.level_alpha must be in (0, 1], got {m.level_alpha}")
    need(m.naive_fallback == 0 or m.naive_fallback >= 1,
         f"model.naive_fallback must be 0 (off) or a margin of at least 1, got {m.naive_fallback}")
    need(cfg.window.per_epoch >= 0, f"window.per_epoch must be >= 0 (0 = all windows), got {cfg.window.per_epoch}")
    need(cfg.window.per_series >= 0, f"window.per_series must be >= 0 (0 = no bound per series), got "
                                      f"{cfg.window.per_series}")
    need(m.guide_blend == "auto" or 0.0 <= m.guide_blend <= 1.0,
         f"model.guide_blend must be auto or in [0, 1], got {m.guide_blend}")
    need(m.ensemble >= 1, f"model.ensemble must be >= 1, got {m.ensemble}")
    lens = list(m.ensemble_input_lens)
    need(all(v >= 1 for v in lens), f"model.ensemble_input_lens must all be >= 1, got {lens}")
    need(m.ensemble >= len(lens), f"model.ensemble={m.ensemble} is fewer than the {len(lens)} input lengths of "
         f"model.ensemble_input_lens={lens}: every length needs a member (members cycle through them)")
    if m.seasonal_diff:
        need(m.decoder == "direct" and not m.target_steps,
             "model.seasonal_diff needs model.decoder=direct and model.target_steps=false")
    if m.guide_base != "none":
        need(m.guide in ("none", m.guide_base) and m.decoder == "direct" and not m.seasonal_diff,
             f"model.guide_base={m.guide_base} needs model.guide=none or the same model, model.decoder=direct and "
             f"model.seasonal_diff=false (got guide={m.guide}, decoder={m.decoder}, "
             f"seasonal_diff={str(m.seasonal_diff).lower()})")
    if m.kind == "one_to_one":
        need(m.decoder == "autoregressive",
             "model.kind=one_to_one reads one step and carries no state, so it forecasts by "
             "autoregressive roll-out: set model.decoder=autoregressive")
    if m.decoder == "autoregressive":
        need(m.likelihood != "quantile",
             "model.likelihood=quantile gives one-step quantiles that cannot be rolled out into "
             "multi-step intervals: use gaussian or studentt with model.decoder=autoregressive")
    if m.likelihood == "quantile":
        qs = list(m.quantiles)
        need(all(0.0 < q < 1.0 for q in qs), f"model.quantiles must lie in (0, 1), got {qs}")
        need(qs == sorted(set(qs)), f"model.quantiles must be increasing without repeats, got {qs}")
        lo, hi = round((1 - b.interval) / 2, 6), round((1 + b.interval) / 2, 6)
        for q in (0.5, lo, hi):
            need(any(abs(q - x) < 1e-9 for x in qs),
                 f"model.quantiles {qs} must include {q} (the median and the ends of the "
                 f"{b.interval:.0%} interval)")
    known = {"naive", "seasonal_naive", "ets", "arima", "theta"}
    bad = [x for x in cfg.baselines.models if x not in known]
    need(not bad, f"baselines.models: unknown {bad}; choose from {sorted(known)}")
    need(cfg.baselines.max_points == 0 or cfg.baselines.max_points >= 100,
         f"baselines.max_points must be 0 (all values) or at least 100, got {cfg.baselines.max_points}")
    need(cfg.baselines.arima_max_points == 0 or cfg.baselines.arima_max_points >= 100,
         f"baselines.arima_max_points must be 0 (as max_points) or at least 100, got "
         f"{cfg.baselines.arima_max_points}")


def member_input_lens(cfg: ForecastConfig) -> list[int]:
    """The input length of each ensemble member: ``model.ensemble_input_lens`` cycled over the
    ``model.ensemble`` members, or ``window.input_len`` for all of them."""
    lens = list(cfg.model.ensemble_input_lens) or [cfg.window.input_len]
    return [int(lens[i % len(lens)]) for i in range(cfg.model.ensemble)]


def guide_model(cfg: ForecastConfig) -> str:
    """The statistical model whose forecasts the windows carry: the base's (``model.guide_base``)
    when there is one, else ``model.guide``; ``none`` for a plain RNN."""
    return cfg.model.guide_base if cfg.model.guide_base != "none" else cfg.model.guide


def max_input_len(cfg: ForecastConfig) -> int:
    """The longest look-back of any member: what the data must hold before a forecast origin."""
    return max(member_input_lens(cfg))


def input_len_key(cfg: ForecastConfig) -> str:
    """The config key that sets the longest input length (for error messages)."""
    return "max(model.ensemble_input_lens)" if cfg.model.ensemble_input_lens else "window.input_len"


def replace(cfg: ForecastConfig, **sections) -> ForecastConfig:
    """A copy with whole sections replaced (``replace(cfg, window=WindowConfig(...))``)."""
    return dataclasses.replace(cfg, **sections)
