"""The baselines' backtest in a second process while the RNN trains (``baselines.process``).

The baselines (statsforecast's AutoETS, AutoARIMA, AutoTheta ... refit at every backtest origin)
and the guide's searches at the backtest origins (:mod:`.guide`: the statistical model searched
again on ``y[:o]``) do not depend on the network, and on one core they take as long as its training
on a long series (El Nino, 732 months: about 30 s of searches beside 40 s of training). With
``torch`` on one thread (``rnnkit --threads 1``) a second core sits idle, so :class:`BaselineJob`
runs them there, in a process started with ``spawn`` (no fork of a process holding torch's thread
pools), and the backtest takes its results when the network is trained.

The results are the same as in one process: the same functions on the same values (a test
compares the two runs' reports). The guide takes the searches only when its model, season,
backend and bounds are the ones the job searched with (:meth:`.guide.Guide.preload`); any search
missing is made where it is needed, as before. If the second process fails, its error is raised in
the first; if it dies without a word (killed), the baselines are fit again in the first process.

``auto`` (the default) uses the second process when the baselines include a searched model (ETS,
ARIMA or Theta; naive ones take milliseconds) and the cores this process may use outnumber torch's
threads; ``separate`` always, ``same`` never.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
import traceback
from collections.abc import Sequence

from .backtest import BacktestPlan, history_set, run_backtest
from .baselines import _bar, make_baselines
from .config import BaselineConfig
from .data import SeriesSet
from .guide import Guide

__all__ = ["PROCESSES", "BaselineJob", "guide_origins", "use_second_process"]

PROCESSES = ("auto", "separate", "same")
SEARCHED = ("ets", "arima", "theta")  # baselines with a model search (the others take milliseconds)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def use_second_process(setting: str, models: Sequence[str], torch_threads: int) -> bool:
    """Whether the baselines run in a second process (see the module docstring)."""
    if setting not in PROCESSES:
        raise ValueError(f"baselines.process must be one of {PROCESSES}, got {setting!r}")
    if setting != "auto":
        return setting == "separate"
    return any(m in SEARCHED for m in models) and _cores() > torch_threads


def guide_origins(sset: SeriesSet, plan: BacktestPlan, stride: int) -> list[tuple[int, int]]:
    """``(series index, origin)`` of the guide's searches after training: every backtest origin, and
    the origins ``T - stride, T - 2 stride, ...`` (not before the first backtest origin) whose
    forecasts choose the guide's share at the end of the data (:mod:`.blend`)."""
    pairs = []
    for i, (s, origins) in enumerate(zip(sset.series, plan.origins)):
        at_end = range(s.length - stride, origins[0] - 1, -stride)
        pairs += [(i, o) for o in sorted(set(origins) | set(at_end))]
    return pairs


def _work(sset: SeriesSet, plan: BacktestPlan, season: int, cfg: BaselineConfig, level: float,
          guide: tuple | None, pairs, counter, out) -> None:
    """The second process: the guide's searches, then the baselines' backtest; puts
    ``("ok", rows, described, refits, signature)`` or ``("error", text)`` on ``out``."""
    try:
        from .baselines import _one_blas_thread

        def tick():
            with counter.get_lock():
                counter.value += 1

        refits, signature = {}, None
        if guide is not None:
            signature, searcher = Guide.searcher(*guide, cfg)
            with _one_blas_thread():
                for i, o in pairs:
                    s = sset.series[i]
                    refits[Guide.refit_key(s, o)] = searcher.search(s.target[:o])
                    tick()
        baselines = make_baselines(cfg.models, season, cfg, echo=lambda *a: None)
        for b in baselines:
            b.tick = tick
            if cfg.refit == "once":
                b.fit(history_set(sset, plan.first))
        rows = run_backtest(sset, plan, baselines, level) if baselines else None
        described = {}
        for b in baselines:
            for name, label in b.describe().items():
                described.setdefault(b.name, []).append(f"{name}: {label}" if len(sset.series) > 1 else label)
        out.put(("ok", rows, described, refits, signature))
    except BaseException:  # noqa: BLE001 - everything goes back to the first process, which raises it
        out.put(("error", traceback.format_exc()))


class BaselineJob:
    """The baselines' backtest (and the guide's searches) running in a second process.

    ``guide``: ``(model name, season length)`` of the guide the network will have, or None.
    :meth:`result` waits for it with a progress bar and returns ``(rows, described, refits,
    signature)``: the baselines' backtest rows (None without baselines), their models per series
    (baseline -> list of labels), the guide's searches and their signature (:meth:`.guide.Guide.preload`);
    or None when the process died and the caller must fit the baselines itself.
    """

    def __init__(self, sset: SeriesSet, plan: BacktestPlan, season: int, cfg: BaselineConfig, level: float,
                 stride: int, guide: tuple | None = None):
        ctx = mp.get_context("spawn")
        self.pairs = guide_origins(sset, plan, stride) if guide is not None else []
        self.total = len(self.pairs) + len(cfg.models) * sum(len(o) for o in plan.origins)  # for the bar
        self.counter = ctx.Value("i", 0)
        self._out = ctx.Queue()
        self.process = ctx.Process(target=_work, daemon=True, name="rnnkit-baselines",
                                   args=(sset, plan, season, cfg, level, guide, self.pairs, self.counter, self._out))
        self.process.start()

    def result(self, progress: bool = False):
        with _bar(self.total, "baselines (second process)", progress) as bar:
            while True:
                bar.update(self.counter.value - bar.n)
                try:
                    got = self._out.get(timeout=0.25)
                    break
                except queue.Empty:
                    if not self.process.is_alive():
                        time.sleep(0.5)  # a last message may still be in the pipe
                        try:
                            got = self._out.get(timeout=1.0)
                            break
                        except queue.Empty:
                            return None
        self.process.join(timeout=10)
        if got[0] == "error":
            raise RuntimeError("the baselines' second process failed (baselines.process=same fits them in this "
                               f"process):\n{got[1]}")
        return got[1:]

    def stop(self) -> None:
        """End the second process (the run stopped before it needed the results)."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)
