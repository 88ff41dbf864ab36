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

The work is a list of tasks: one per backtest window (every baseline refit on the series up to
that origin, and the guide's search there), then one per further origin of the guide's searches.
Each task is taken by the first process to claim it (a claim file created exclusively). The
second process claims them from the start; when the network is trained, the first process claims
the ones still open too (:meth:`BaselineJob.result`), so both cores work until the end instead of
one waiting for the other: on a long series the baselines take longer than training (R's
sunspot.month, 3,177 months: about 66 s of fits beside 43 s of training). With
``baselines.refit=once`` the first process does not help (each process would fit every model once).

The results are the same as in one process: the same functions on the same values, put together
in the one-process order (a test compares the two runs' reports, and one compares the job's
results, with and without the first process helping, to the baselines' backtest in one process).
The guide takes the searches only when its model, season, backend and bounds are the ones the job
searched with (:meth:`.guide.Guide.preload`); any search missing is made where it is needed, as
before. If the second process fails, its error is raised in the first (an error in the first
process's own share is raised as it is); if it dies without a word (killed), the baselines are fit
again in the first process.

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

import pandas as pd

from .backtest import BacktestPlan, history_set, run_backtest
from .baselines import _bar, make_baselines
from .config import BaselineConfig
from .data import SeriesSet
from .guide import Guide, search_start

__all__ = ["PROCESSES", "BaselineJob", "guide_origins", "merge_pieces", "use_second_process", "work_tasks"]

PROCESSES = ("auto", "separate", "same")
# The second process ends with os._exit once main has written its result: the first waits for that
# exit, and the interpreter's ordinary teardown of the modules torch and statsforecast load took
# 1.3-1.9 s on this project's 2-core machine, with nothing left to clean up (its files are the
# first process's). An error still raises out of main and exits the ordinary way, its traceback on stderr.
ENTRY = ("import os, sys; from rnnkit.apps.forecast.background import main; code = main(sys.argv[1]); "
         "sys.stdout.flush(); sys.stderr.flush(); os._exit(code)")
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


def work_tasks(plan: BacktestPlan, pairs) -> list[tuple[int, int, bool]]:
    """The second process's work as tasks ``(series index, origin, window)``: each backtest window
    (``window`` true: every baseline refit there, and the guide's search there when ``pairs`` holds
    it), in the backtest's order, then the guide's other search origins (``window`` false)."""
    windows = [(i, o) for i, origins in enumerate(plan.origins) for o in origins]
    have = set(windows)
    return [(i, o, True) for i, o in windows] + [(i, o, False) for i, o in pairs if (i, o) not in have]


class _Worker:
    """Runs tasks of :func:`work_tasks` (in either process), each into a piece of the result.

    A statsforecast ETS guide searches exactly as the AutoETS baseline does where both use the
    same season (up to ``baselines.max_season``), so at the backtest origins the baseline's fit
    is taken as the guide's search (``from_fit``) instead of searching twice: on El Nino the
    second process's work took 23 s instead of 29 s (one search left of eleven; timed by running
    it in one process, 2026-12-06)."""

    def __init__(self, sset: SeriesSet, plan: BacktestPlan, season: int, cfg: BaselineConfig, level: float,
                 guide: tuple | None, pairs, tick):
        self.sset, self.plan, self.level, self.tick = sset, plan, level, tick
        self.guide_at = set(pairs)
        self.signature, self.searcher = Guide.searcher(*guide, cfg) if guide is not None else (None, None)
        self.max_points = cfg.max_points
        self._taken: dict[tuple, tuple] = {}  # the guide's searches taken from AutoETS's fits
        share = getattr(self.searcher, "from_fit", None)
        self.baselines = make_baselines(cfg.models, season, cfg, echo=lambda *a: None)
        for b in self.baselines:
            b.tick = tick
            if cfg.refit == "once":
                b.fit(history_set(sset, plan.first))
            elif share is not None and getattr(b, "kind", None) == "ets":
                b.on_fit = lambda s, o, fitted, start: self._take(share, s, o, fitted, start)

    def _take(self, share, s, o, fitted, start: int) -> None:
        """Keep the AutoETS baseline's fit on ``y[start:o]`` as the guide's search at ``o`` when
        the guide's search there reads the same values."""
        if start != search_start(o, self.max_points):
            return
        got = share(fitted, o - start)
        if got is not None:
            self._taken[Guide.refit_key(s, o)] = got

    def run(self, task: tuple[int, int, bool]) -> dict:
        """``{"frames": baseline -> its backtest rows, "labels": baseline -> its model there,
        "refits": the guide's search}`` of one task."""
        from .baselines import _one_blas_thread

        i, o, window = task
        s = self.sset.series[i]
        out = {"frames": {}, "labels": {}, "refits": {}}
        if window:
            one = BacktestPlan(self.plan.horizon, [[o] if j == i else [] for j in range(len(self.sset.series))])
            for b in self.baselines:
                out["frames"][b.name] = run_backtest(self.sset, one, [b], self.level)
                out["labels"][b.name] = b.describe().get(s.name)
        if self.searcher is not None and (i, o) in self.guide_at:
            key = Guide.refit_key(s, o)
            got = self._taken.pop(key, None)
            if got is None:
                with _one_blas_thread():
                    got = self.searcher.search(s.target[search_start(o, self.max_points):o])
            out["refits"][key] = got
            self.tick()
        return out


def merge_pieces(sset: SeriesSet, models: Sequence[str], tasks, pieces: dict[int, dict]) -> tuple:
    """The tasks' pieces (task index -> :meth:`_Worker.run`'s result) put together as one process
    makes them: ``(rows, described, refits)``. Rows in the backtest's order (baseline, series,
    origin); each baseline's model per series is the one fit at the series' last origin."""
    frames, last, refits = {}, {}, {}
    for k, (i, _, window) in enumerate(tasks):
        piece = pieces[k]
        refits.update(piece["refits"])
        if window:
            for name, frame in piece["frames"].items():
                frames.setdefault(name, []).append(frame)
            for name, label in piece["labels"].items():
                last[(name, i)] = label  # tasks go forward in time per series: the last one stays
    rows = pd.concat([f for name in models for f in frames.get(name, [])], ignore_index=True) if frames else None
    described = {}
    for name in models:
        for i, s in enumerate(sset.series):
            label = last.get((name, i))
            if label is not None:
                described.setdefault(name, []).append(f"{s.name}: {label}" if len(sset.series) > 1 else label)
    return rows, described, refits


def _claim(folder: Path, k: int) -> bool:
    """Whether this process takes task ``k`` (the first to create its claim file does)."""
    try:
        os.close(os.open(folder / f"claim-{k}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def main(folder: str) -> int:
    """The second process: reads ``job.pkl`` from ``folder``, runs the tasks it claims, writes the
    count of its finished fits to ``progress`` as it goes and its tasks' pieces to ``result.pkl``;
    an error goes to stderr (exit 1)."""
    folder = Path(folder)
    job = pickle.loads((folder / "job.pkl").read_bytes())
    done = [0]

    def tick():
        done[0] += 1
        _write_atomic(folder / "progress", str(done[0]).encode())

    tasks = job.pop("tasks")
    worker = _Worker(**job, tick=tick)
    pieces = {k: worker.run(task) for k, task in enumerate(tasks) if _claim(folder, k)}
    _write_atomic(folder / "result.pkl", pickle.dumps({"pieces": pieces, "signature": worker.signature},
                                                      protocol=pickle.HIGHEST_PROTOCOL))
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
        self.tasks = work_tasks(plan, self.pairs)
        self.job = {"sset": sset, "plan": plan, "season": season, "cfg": cfg, "level": level, "guide": guide,
                    "pairs": self.pairs}
        self.shared = cfg.refit == "every_origin"  # fit once: only the second process fits (see above)
        self.helped = 0  # tasks this process took (for tests and timing)
        self.folder = Path(tempfile.mkdtemp(prefix="rnnkit-baselines-"))
        (self.folder / "job.pkl").write_bytes(pickle.dumps({**self.job, "tasks": self.tasks},
                                                           protocol=pickle.HIGHEST_PROTOCOL))
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

    def result(self, progress: bool = False, assist: bool = True):
        """Wait for the work, taking the open tasks in this process too (``assist`` and refit at
        every origin), with a progress bar; see the class docstring for what comes back."""
        mine, done_here = {}, [0]
        try:
            desc = "baselines (both processes)" if assist and self.shared else "baselines (second process)"
            with _bar(self.total, desc, progress) as bar:

                def tick():
                    done_here[0] += 1
                    bar.update(max(self._done() + done_here[0] - bar.n, 0))

                if assist and self.shared:
                    worker = _Worker(**self.job, tick=tick)
                    for k, task in enumerate(self.tasks):
                        if self.process.poll() is not None:  # ended: finished, failed or killed
                            break
                        if _claim(self.folder, k):
                            mine[k] = worker.run(task)
                            self.helped += 1
                while self.process.poll() is None:
                    bar.update(max(self._done() + done_here[0] - bar.n, 0))
                    time.sleep(0.25)
            code = self.process.returncode
            if code == 0 and (self.folder / "result.pkl").is_file():
                got = pickle.loads((self.folder / "result.pkl").read_bytes())
                pieces = {**got["pieces"], **mine}
                if len(pieces) != len(self.tasks):  # every task is claimed before the second process ends
                    raise RuntimeError(f"the baselines' tasks came back incomplete ({len(pieces)} of {len(self.tasks)})")
                rows, described, refits = merge_pieces(self.job["sset"], self.job["cfg"].models, self.tasks, pieces)
                return rows, described, refits, got["signature"]
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
