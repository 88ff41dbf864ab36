"""neuralforecast's LSTM and NHITS as rnnkit forecasters: the peers of ``forecast_panel.py --peers``.

:class:`NeuralForecastPeer` follows rnnkit's ``Forecaster`` protocol
(``rnnkit.apps.forecast.backtest``): ``fit(history)`` trains ONE global model on every series of
the history before the first backtest origin (the data rnnkit's RNN trains on), once;
``forecast(series, origins, horizon, level)`` then runs that model at every origin on each
series cut at the origin (``target[:origin]``; the backtest hides the rest as NaN anyway), so no
value at or after an origin reaches it. Nothing is refit between origins, as for rnnkit.

Settings: neuralforecast's defaults for each model (architecture, ``max_steps=1000``,
learning rate, batch sizes, scaler, ``random_seed=1``), except what the task fixes:

* ``h`` = the benchmark's horizon;
* ``input_size``: NHITS has no default; it gets ``2 * h``, the choice of neuralforecast's
  quickstart (which fits exactly these two models). LSTM keeps its default ``-1``, which
  neuralforecast turns into ``3 * h``;
* ``loss = MQLoss(level=[80])``: neuralforecast's documented way to get prediction intervals
  from a model in one training run (its probabilistic-forecasting tutorials). It trains the
  quantiles 0.1, 0.5 and 0.9 with the pinball loss; the default loss, MAE, is the pinball loss
  of the median alone, so the point forecast (the median) is trained as by default. A
  quantile crossing (lo > median or median > hi at some step) is repaired by sorting the three
  values (monotone rearrangement); :attr:`NeuralForecastPeer.crossings` counts the steps where
  that happened.
* Lightning's progress bar, logger, checkpoints and model summary off; CPU, one device.

Needs neuralforecast, which rnnkit does not depend on: ``make bench-forecast-setup`` installs
it into its own virtual environment (benchmarks/README.md).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from rnnkit.apps.forecast.data import Series, SeriesSet

__all__ = ["PEERS", "NeuralForecastPeer", "make_peers"]

PEERS = {"lstm": "LSTM", "nhits": "NHITS"}  # --peers name -> neuralforecast model class
_TRAINER = {"accelerator": "cpu", "devices": 1, "enable_progress_bar": False, "enable_model_summary": False,
            "logger": False, "enable_checkpointing": False}


def _quiet() -> None:
    warnings.filterwarnings("ignore", module=r"(pytorch_)?lightning.*")
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*")
    # "Input size too small. Automatically setting input size to 3 * horizon": LSTM's default -1
    warnings.filterwarnings("ignore", module=r"neuralforecast.*")
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric", "neuralforecast"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _frame(pieces: Sequence[tuple[str, np.ndarray]]) -> pd.DataFrame:
    """neuralforecast's long format: unique_id, ds (integer steps 0..n-1), y."""
    return pd.concat([pd.DataFrame({"unique_id": uid, "ds": np.arange(len(y), dtype=np.int64),
                                    "y": np.asarray(y, dtype=np.float64)}) for uid, y in pieces],
                     ignore_index=True)


class NeuralForecastPeer:
    """One neuralforecast model (``kind``: ``lstm`` or ``nhits``) trained once, globally, on the
    history; forecasts at every origin from the series cut there. See the module docstring."""

    def __init__(self, kind: str, horizon: int, level: float = 0.8, max_steps: int | None = None,
                 seed: int = 1):
        if kind not in PEERS:
            raise ValueError(f"unknown peer {kind!r}; choose from {', '.join(PEERS)}")
        self.kind, self.horizon, self.level, self.seed = kind, int(horizon), float(level), int(seed)
        self.max_steps = max_steps  # None: the model's default (1000)
        self.name = f"nf_{kind}"
        self.nf = None
        self.crossings = 0
        self.fit_seconds = 0.0

    @property
    def _pct(self) -> int:
        pct = round(100 * self.level)
        if abs(pct - 100 * self.level) > 1e-9 or not 0 < pct < 100:
            raise ValueError(f"level {self.level} is not a whole percentage between 0 and 100")
        return pct

    def model(self):
        """The neuralforecast model with the settings of the module docstring."""
        import neuralforecast.models as nfm
        from neuralforecast.losses.pytorch import MQLoss

        kw = dict(h=self.horizon, loss=MQLoss(level=[self._pct]), random_seed=self.seed, alias=self.name,
                  **_TRAINER)
        if self.kind == "nhits":
            kw["input_size"] = 2 * self.horizon
        if self.max_steps is not None:
            kw["max_steps"] = int(self.max_steps)
        return getattr(nfm, PEERS[self.kind])(**kw)

    def describe(self) -> str:
        m = self.nf.models[0] if self.nf is not None else self.model()
        hp = dict(getattr(m, "hparams", {}))
        return (f"neuralforecast {PEERS[self.kind]}: h={m.h}, input_size={m.input_size}, max_steps={m.max_steps}, "
                f"MQLoss(level=[{self._pct}]), scaler {hp.get('scaler_type', '?')}, seed {self.seed}")

    def fit(self, history: SeriesSet) -> NeuralForecastPeer:
        """Train once on every series of ``history`` (each cut before its first backtest origin)."""
        import time

        from neuralforecast import NeuralForecast

        _quiet()
        df = _frame([(str(i), s.target) for i, s in enumerate(history.series)])
        if df["y"].isna().any():
            raise ValueError(f"{self.name}: the training history has missing target values")
        t0 = time.perf_counter()
        self.nf = NeuralForecast(models=[self.model()], freq=1)
        self.nf.fit(df=df)
        self.fit_seconds = time.perf_counter() - t0
        return self

    def forecast(self, series: Sequence[Series], origins: Sequence[int], horizon: int,
                 level: float) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(point, lo, hi) for each (series, origin) from ``series[i].target[:origins[i]]`` only."""
        if self.nf is None:
            raise RuntimeError(f"{self.name}: call fit(history) before forecast")
        if horizon != self.horizon or abs(level - self.level) > 1e-12:
            raise ValueError(f"{self.name} was trained for horizon {self.horizon} and level {self.level}, "
                             f"asked for {horizon} and {level}")
        _quiet()
        # one predict call per group of (series, origin) pairs with distinct series names (in a
        # backtest: one call per origin index, all series at once)
        groups: list[list[int]] = []
        for i, s in enumerate(series):
            for g in groups:
                if all(series[j].name != s.name for j in g):
                    g.append(i)
                    break
            else:
                groups.append([i])
        out: list = [None] * len(series)
        cols = [f"{self.name}-median", f"{self.name}-lo-{self._pct}", f"{self.name}-hi-{self._pct}"]
        for g in groups:
            pred = self.nf.predict(df=_frame([(str(j), series[j].target[:origins[j]]) for j in g]))
            pred = pred.reset_index() if "unique_id" not in pred.columns else pred
            for j in g:
                rows = pred[pred["unique_id"].astype(str) == str(j)].sort_values("ds")
                q = rows[cols].to_numpy(np.float64)  # (h, [median, lo, hi])
                if q.shape != (horizon, 3):
                    raise ValueError(f"{self.name}: expected {horizon} forecast rows for series "
                                     f"{series[j].name!r}, got {q.shape[0]}")
                lo, mid, hi = np.sort(q[:, [1, 0, 2]], axis=1).T
                self.crossings += int(np.sum((q[:, 1] > q[:, 0]) | (q[:, 0] > q[:, 2])))
                out[j] = (mid, lo, hi)
        return out


def make_peers(names: Sequence[str], horizon: int, level: float, max_steps: int | None = None,
               seed: int = 1) -> list[NeuralForecastPeer]:
    """The peers named in ``--peers`` (``lstm``, ``nhits``)."""
    return [NeuralForecastPeer(n.strip().lower(), horizon, level, max_steps, seed) for n in names if n.strip()]
