"""The baselines' backtest in a second process while the RNN trains (``baselines.process``).

The baselines (statsforecast's AutoETS, AutoARIMA, AutoTheta ... refit at every backtest origin)
and the guide's searches at the backtest origins (:mod:`.guide`: the statistical model searched
again on ``y[:o]``) do not depend on the network, and on one core they take as long as its training
on a long series (El Nino, 732 months: about 30 s of searches beside 40 s of training). With
``torch`` on one thread (``rnnkit --threads 1``) a second core sits idle, so :class:`BaselineJob`
runs them there and the backtest takes their results when the network is trained. The second
process is a fresh interpreter running :func:`main` on a folder, not a
``multiprocessing`` child: no fork of a process holding torch's thread pools, and no re-import of
the user's main script (which ``spawn`` does, running a script's top level again when it has no
``if __name__ == "__main__"`` guard, ``python -m rnnkit`` included). The job and its results travel
as pickles in a temporary folder that only this run uses; the progress as a count in a file.

The results are the same as in one process: the same functions on the same values (a test
compares the two runs' reports). The guide takes the searches only when its model, season,
backend and bounds are the ones the job searched with (:meth:`.guide.Guide.preload`); any search
missing is made where it is needed, as before. If the second process fails, its error is raised in
the first; if it dies without a word (killed), the baselines are fit again in the first process.

``auto`` (the default) uses the second process when the baselines make at least ``MIN_FITS`` (20)
searches, one per searched model (ETS, ARIMA, Theta; the naive ones take milliseconds) and backtest
window (a single series' default 10 origins with the default baselines make 30), and the cores this
process may use outnumber torch's threads; ``separate`` always, ``same`` never.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .backtest import BacktestPlan, history_set, run_backtest
from .baselines import _bar, make_baselines
from .config import BaselineConfig
from .data import SeriesSet
from .guide import Guide

__all__ = ["PROCESSES", "BaselineJob", "guide_origins", "use_second_process"]

PROCESSES = ("auto", "separate", "same")
ENTRY = "import sys; from rnnkit.apps.forecast.background import main; raise SystemExit(main(sys.argv[1]))"
SEARCHED = ("ets", "arima", "theta")  # baselines with a model search (the others take milliseconds)
# Fewer searched fits than this take about as long as the second interpreter's start (about 3 s of
# imports): then the baselines stay in the training process.
MIN_FITS = 20


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def use_second_process(setting: str, models: Sequence[str], torch_threads: int, windows: int) -> bool:
    """Whether the baselines run in a second process (see the module docstring); ``windows``: the
    backtest's (series, origin) pairs, each one fit of every searched baseline."""
    if setting not in PROCESSES:
        raise ValueError(f"baselines.process must be one of {PROCESSES}, got {setting!r}")
    if setting != "auto":
        return setting == "separate"
    searched_fits = windows * sum(m in SEARCHED for m in models)
    return searched_fits >= MIN_FITS and _cores() > torch_threads


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
          guide: tuple | None, pairs, tick) -> tuple:
    """The second process's work: the baselines' backtest, then the guide's searches. Returns
    ``(rows, described, refits, signature)`` (see :meth:`BaselineJob.result`).

    A statsforecast ETS guide searches exactly as the AutoETS baseline does where both use the
    same season (up to ``baselines.max_season``), so at the backtest origins the baseline's fits
    are taken as the guide's searches (``from_fit``) instead of searching twice: on El Nino the
    second process's work took 23 s instead of 29 s (one search left of eleven; timed by calling
    this function in one process, 2026-12-06)."""
    from .baselines import _one_blas_thread

    refits, signature, searcher = {}, None, None
    if guide is not None:
        signature, searcher = Guide.searcher(*guide, cfg)
    share = getattr(searcher, "from_fit", None)

    def take(s, o, fitted):
        got = share(fitted, o)
        if got is not None:
            refits[Guide.refit_key(s, o)] = got

    baselines = make_baselines(cfg.models, season, cfg, echo=lambda *a: None)
    for b in baselines:
        b.tick = tick
        if cfg.refit == "once":
            b.fit(history_set(sset, plan.first))
        elif share is not None and getattr(b, "kind", None) == "ets":
            b.on_fit = take
    rows = run_backtest(sset, plan, baselines, level) if baselines else None
    if searcher is not None:
        with _one_blas_thread():
            for i, o in pairs:
                s = sset.series[i]
                key = Guide.refit_key(s, o)
                if key not in refits:
                    refits[key] = searcher.search(s.target[:o])
                tick()
    described = {}
    for b in baselines:
        for name, label in b.describe().items():
            described.setdefault(b.name, []).append(f"{name}: {label}" if len(sset.series) > 1 else label)
    return rows, described, refits, signature


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def main(folder: str) -> int:
    """The second process: reads ``job.pkl`` from ``folder``, writes the count of finished fits to
    ``progress`` as it goes and the results to ``result.pkl``; an error goes to stderr (exit 1)."""
    folder = Path(folder)
    job = pickle.loads((folder / "job.pkl").read_bytes())
    done = [0]

    def tick():
        done[0] += 1
        _write_atomic(folder / "progress", str(done[0]).encode())

    result = _work(**job, tick=tick)
    _write_atomic(folder / "result.pkl", pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


class BaselineJob:
    """The baselines' backtest (and the guide's searches) running in a second process.

    ``guide``: ``(model name, season length)`` of the guide the network will have, or None.
    :meth:`result` waits for it with a progress bar and returns ``(rows, described, refits,
    signature)``: the baselines' backtest rows (None without baselines), their models per series
    (baseline -> list of labels), the guide's searches and their signature (:meth:`.guide.Guide.preload`);
    or None when the process died without a word (killed) and the caller must fit the baselines itself.
    """

    def __init__(self, sset: SeriesSet, plan: BacktestPlan, season: int, cfg: BaselineConfig, level: float,
                 stride: int, guide: tuple | None = None):
        self.pairs = guide_origins(sset, plan, stride) if guide is not None else []
        self.total = len(self.pairs) + len(cfg.models) * sum(len(o) for o in plan.origins)  # for the bar
        self.folder = Path(tempfile.mkdtemp(prefix="rnnkit-baselines-"))
        job = {"sset": sset, "plan": plan, "season": season, "cfg": cfg, "level": level, "guide": guide,
               "pairs": self.pairs}
        (self.folder / "job.pkl").write_bytes(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
        env = dict(os.environ)  # the same rnnkit as this process, wherever it was imported from
        root = str(Path(__file__).resolve().parents[3])
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        # stderr to a file: a pipe nobody reads could fill and stall the second process (closed by stop)
        self._stderr = open(self.folder / "stderr.txt", "wb")  # noqa: SIM115
        try:
            self.process = subprocess.Popen([sys.executable, "-c", ENTRY, str(self.folder)],
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=self._stderr, env=env)
        except OSError:  # no interpreter to start: leave nothing behind
            self._stderr.close()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def _done(self) -> int:
        try:
            return int((self.folder / "progress").read_text() or 0)
        except (OSError, ValueError):
            return 0

    def result(self, progress: bool = False):
        try:
            with _bar(self.total, "baselines (second process)", progress) as bar:
                while self.process.poll() is None:
                    bar.update(max(self._done() - bar.n, 0))
                    time.sleep(0.25)
            code = self.process.returncode
            if code == 0 and (self.folder / "result.pkl").is_file():
                return pickle.loads((self.folder / "result.pkl").read_bytes())
            if code > 0:
                self._stderr.flush()
                said = (self.folder / "stderr.txt").read_text(errors="replace").strip()
                raise RuntimeError("the baselines' second process failed (baselines.process=same fits them in this "
                                   f"process):\n{said[-4000:]}")
            return None  # killed by a signal
        finally:
            self.stop()

    def stop(self) -> None:
        """End the second process if it still runs and remove its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()
        shutil.rmtree(self.folder, ignore_errors=True)
