"""The baselines in a second process (``baselines.process``, rnnkit/apps/forecast/background.py):
the same report as in one process, the guide's searches taken only from a matching search, the
second process's errors raised in the first, and a fallback when it dies."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast import pipeline, resolve_config
from rnnkit.apps.forecast.background import (
    BaselineJob,
    guide_origins,
    use_second_process,
)
from rnnkit.apps.forecast.backtest import plan_backtest
from rnnkit.apps.forecast.config import BaselineConfig
from rnnkit.apps.forecast.data import build_series
from rnnkit.apps.forecast.guide import Guide, search_start

pytest.importorskip("statsforecast")


def _quarterly(tmp_path):
    """US real consumption times a quarterly pattern (statsmodels' macrodata), 120 quarters."""
    import statsmodels.api as sm

    d = sm.datasets.macrodata.load_pandas().data.iloc[:120]
    y = d["realcons"].to_numpy(float) * (1 + 0.05 * np.array([1.0, -0.5, 0.3, -0.8]))[np.arange(120) % 4]
    frame = pd.DataFrame({"date": pd.date_range("1959-01-01", periods=120, freq="QS"), "value": y})
    path = tmp_path / "q.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_the_rule_for_a_second_process(monkeypatch):
    import rnnkit.apps.forecast.background as bg

    monkeypatch.setattr(bg, "_cores", lambda: 2)
    assert use_second_process("auto", ("naive", "ets"), torch_threads=1, windows=20)
    assert not use_second_process("auto", ("naive", "ets"), torch_threads=2, windows=20)  # no core left free
    assert not use_second_process("auto", ("naive", "seasonal_naive"), torch_threads=1, windows=100)  # all quick
    assert not use_second_process("auto", ("ets", "arima", "theta"), torch_threads=1, windows=6)  # 18 fits: quick
    assert use_second_process("auto", ("ets", "arima", "theta"), torch_threads=1, windows=7)  # 21
    assert use_second_process("separate", ("naive",), torch_threads=8, windows=1)
    assert not use_second_process("same", ("arima",), torch_threads=1, windows=100)
    with pytest.raises(ValueError, match="baselines.process"):
        use_second_process("both", ("arima",), 1, 10)


def test_a_second_process_gives_the_same_report(tmp_path, monkeypatch):
    """One run with the baselines and the guide's searches in a second process, one with everything in
    the first: every figure of the report is the same (only the training time differs), and with the
    second process the first one searched the guide only for training."""
    path, _ = _quarterly(tmp_path)
    reports, searches = {}, {}
    search = Guide._search

    def counted(self, y):
        searches[where] = searches.get(where, 0) + 1
        return search(self, y)

    monkeypatch.setattr(Guide, "_search", counted)  # in this process only (the second one is spawned)
    for where in ("separate", "same"):
        cfg = resolve_config(path=path, preset="tiny", overrides=[
            "data.target=value", "train.progress=false", "train.tensorboard=false", "model.transform=level",
            "baselines.models=naive,ets,theta", f"baselines.process={where}"])
        said = []
        result = pipeline.train(cfg, tmp_path / f"run-{where}", echo=said.append)
        assert any("second process" in line for line in said) == (where == "separate"), said
        reports[where] = json.loads((tmp_path / f"run-{where}" / "report.json").read_text())
        assert result["baseline_models"]["ets"]  # the labels come back from the second process too
    assert searches["separate"] == 1 and searches["same"] > 1, searches  # the training fit; + the origins'
    a, b = reports["separate"], reports["same"]
    assert a.keys() == b.keys()
    assert {k for k in a if a[k] != b[k]} <= {"train_seconds"}
    forecasts = [pd.read_csv(tmp_path / f"run-{w}" / "backtest_forecasts.csv") for w in ("separate", "same")]
    pd.testing.assert_frame_equal(*forecasts)


def test_the_guide_takes_only_searches_made_as_it_would_make_them(tmp_path):
    _, frame = _quarterly(tmp_path)
    sset = build_series(frame, time_col="date", target=["value"], freq="QS")
    s = sset.series[0]
    cfg = BaselineConfig()
    signature, searcher = Guide.searcher("ets", 4, cfg)
    fake = (searcher.search(s.target[:80])[0], np.zeros(3))
    key = Guide.refit_key(s, 100)
    guide = Guide("ets", 4, cfg)
    assert guide.preload({key: fake}, ("ets", 12, *signature[2:])) == 0  # another season: not taken
    assert guide.preload({key: fake}, signature) == 1
    assert guide._refits[key] is fake
    plan = plan_backtest(sset, 8, 3, 4)  # origins 104, 108, 112; the share at the end reads 116, 112, 108, 104
    assert [o for _, o in guide_origins(sset, plan, 4)] == [104, 108, 112, 116]


def test_an_error_in_the_second_process_is_raised_in_the_first(tmp_path):
    _, frame = _quarterly(tmp_path)
    sset = build_series(frame, time_col="date", target=["value"], freq="QS")
    plan = plan_backtest(sset, 8, 2, 4)
    job = BaselineJob(sset, plan, 4, BaselineConfig(models=("naive", "bogus")), 0.8, 4)
    with pytest.raises(RuntimeError, match="unknown baseline 'bogus'"):
        job.result(assist=False)
    job = BaselineJob(sset, plan, 4, BaselineConfig(models=("naive", "bogus")), 0.8, 4)
    with pytest.raises(ValueError, match="unknown baseline 'bogus'"):  # met first in this process's own share
        job.result()
    assert job.process.poll() is not None and not job.folder.exists()  # the second process ended, folder gone


def test_a_second_process_that_dies_leaves_the_baselines_to_the_first(tmp_path):
    _, frame = _quarterly(tmp_path)
    sset = build_series(frame, time_col="date", target=["value"], freq="QS")
    plan = plan_backtest(sset, 8, 2, 4)
    job = BaselineJob(sset, plan, 4, BaselineConfig(models=("arima",)), 0.8, 4, guide=("ets", 4))
    job.process.kill()
    assert job.result() is None


def test_a_script_without_a_main_guard_runs_once(tmp_path):
    """The second process is a fresh interpreter, not a ``multiprocessing`` spawn, which would import
    the user's script again and run its top level (here: append to a file, then train) a second time."""
    path, _ = _quarterly(tmp_path)
    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent(f"""
        import torch
        from rnnkit.apps.forecast import pipeline, resolve_config
        with open({str(tmp_path / "ran.txt")!r}, "a") as f:
            f.write("top level ran\\n")
        torch.set_num_threads(1)
        cfg = resolve_config(path={str(path)!r}, preset="tiny", overrides=[
            "data.target=value", "train.progress=false", "train.tensorboard=false", "model.transform=level",
            "baselines.models=naive,ets", "baselines.process=separate"])
        said = []
        pipeline.train(cfg, {str(tmp_path / "run")!r}, echo=said.append)
        assert any("second process" in line for line in said), said
        assert not any("without results" in line for line in said), said
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "ran.txt").read_text() == "top level ran\n"


def test_without_a_second_process_the_baselines_wait_for_training(tmp_path, monkeypatch):
    """A machine where the second process cannot start (here: no interpreter to run): a message, the
    baselines fit in the training process, and no temporary folder left behind."""
    import rnnkit.apps.forecast.background as bg

    def no_interpreter(*a, **k):
        raise OSError("no such interpreter")

    made = []
    mkdtemp = bg.tempfile.mkdtemp
    monkeypatch.setattr(bg.subprocess, "Popen", no_interpreter)
    monkeypatch.setattr(bg.tempfile, "mkdtemp", lambda **k: made.append(mkdtemp(**k)) or made[-1])
    path, _ = _quarterly(tmp_path)
    cfg = resolve_config(path=path, preset="tiny", overrides=[
        "data.target=value", "train.progress=false", "train.tensorboard=false", "model.transform=level",
        "baselines.models=naive,ets", "baselines.process=separate"])
    said = []
    result = pipeline.train(cfg, tmp_path / "run", echo=said.append)
    assert any("no second process (no such interpreter)" in line for line in said), said
    assert {r["model"] for r in result["overall"]} >= {"naive", "ets"}
    assert made and not any(Path(f).exists() for f in made)


def test_the_guides_search_taken_from_the_autoets_baselines_fit_is_its_own():
    """The second process takes the AutoETS baseline's fit at an origin as the ETS guide's search
    there (``from_fit``): it equals the guide's own search on the same values, and it is refused
    where the two would search different models (a season above ``baselines.max_season``, which
    the guide leaves out and the baseline keeps)."""
    import statsmodels.api as sm

    from rnnkit.apps.forecast.baselines import SFModel

    y = sm.datasets.elnino.load_pandas().data.drop(columns="YEAR").to_numpy(float).ravel()[:300]
    cfg = BaselineConfig()
    _, searcher = Guide.searcher("ets", 12, cfg)
    fitted = SFModel("ets", 12)._fit(y)
    (spec, params), (own_spec, own_params) = searcher.from_fit(fitted, len(y)), searcher.search(y)
    assert spec == own_spec and spec[1] == 12
    np.testing.assert_array_equal(params, own_params)
    # the signature holds the bound: searches made under another max_points are not taken
    assert Guide.searcher("ets", 12, BaselineConfig(max_points=100))[0] != Guide.searcher("ets", 12, cfg)[0]
    _, weekly = Guide.searcher("ets", 52, cfg)  # 52 > max_season = 24: the guide searches without a season
    assert weekly.from_fit(SFModel("ets", 52)._fit(y), len(y)) is None
    assert weekly.from_fit(SFModel("ets", 1)._fit(y), len(y)) is not None  # both without a season


def _two_series(tmp_path):
    _, frame = _quarterly(tmp_path)
    frame = frame.assign(other=frame["value"].to_numpy()[::-1] * 0.5 + np.arange(len(frame)))
    return build_series(frame, time_col="date", target=["value", "other"], freq="QS")


# AutoARIMA's approximate search where the sharing of work is compared: the comparison is of the
# same fits made in one or two processes, and the exact search on 120 quarters took about 5 s of
# each case's 25-30 s (the exact search is statsforecast's own, compared in test_forecast_baselines.py)
ARIMA_SEARCH = "approximate"


def _in_one_process(sset, plan, models, pairs, max_points=5000):
    """What the job computes, made the plain way: the baselines' backtest, their models, the guide's
    searches."""
    from rnnkit.apps.forecast.backtest import run_backtest
    from rnnkit.apps.forecast.baselines import make_baselines

    cfg = BaselineConfig(models=models, max_points=max_points, arima_search=ARIMA_SEARCH)
    baselines = make_baselines(models, 4, cfg, echo=lambda *a: None)
    rows = run_backtest(sset, plan, baselines, 0.8)
    described = {}
    for b in baselines:
        for name, label in b.describe().items():
            described.setdefault(b.name, []).append(f"{name}: {label}")
    _, searcher = Guide.searcher("ets", 4, cfg)
    refits = {Guide.refit_key(sset.series[i], o): searcher.search(sset.series[i].target[search_start(o, max_points):o])
              for i, o in pairs}
    return rows, described, refits


@pytest.mark.parametrize("assist,max_points", [(False, 5000), (True, 100)])
def test_the_work_shared_by_both_processes_equals_one_process(tmp_path, monkeypatch, assist, max_points):
    """The second process alone, or both processes claiming the tasks (the first one waits until the
    second has started, so each takes some): the rows, the models named and the guide's searches
    equal those made in one process, in the same order; also where ``baselines.max_points`` cuts
    the fits and the guide's searches (the 120 quarters' origins lie past 100)."""
    import time

    import rnnkit.apps.forecast.background as bg

    sset = _two_series(tmp_path)
    plan = plan_backtest(sset, 8, 4, 4)
    models = ("naive", "ets", "arima", "theta")
    job = BaselineJob(sset, plan, 4, BaselineConfig(models=models, max_points=max_points, arima_search=ARIMA_SEARCH),
                      0.8, 4, guide=("ets", 4))
    run = bg._Worker.run

    def after_the_second_started(self, task):  # patched in this process only
        deadline = time.time() + 300
        while job._done() < 1 and time.time() < deadline:
            time.sleep(0.05)
        return run(self, task)

    monkeypatch.setattr(bg._Worker, "run", after_the_second_started)
    rows, described, refits, signature = job.result(assist=assist)
    if assist:
        assert 0 < job.helped < len(job.tasks), (job.helped, len(job.tasks))
    else:
        assert job.helped == 0
    ref_rows, ref_described, ref_refits = _in_one_process(sset, plan, models, job.pairs, max_points)
    pd.testing.assert_frame_equal(rows, ref_rows)
    assert described == ref_described
    assert refits.keys() == ref_refits.keys()
    for key, (spec, params) in refits.items():
        assert spec == ref_refits[key][0]
        np.testing.assert_array_equal(params, ref_refits[key][1])
    assert signature == Guide.searcher("ets", 4, BaselineConfig(models=models, max_points=max_points))[0]


@pytest.mark.parametrize("max_points", [5000, 100])
def test_the_guide_takes_the_autoets_fit_also_where_max_points_cuts_it(tmp_path, max_points):
    """At every backtest window the guide's search is the AutoETS baseline's fit on the same
    values, cut by ``baselines.max_points`` or not: the worker searches only at the guide's other
    origins (before the cut was shared, every cut window searched twice)."""
    import rnnkit.apps.forecast.background as bg

    sset = _two_series(tmp_path)
    plan = plan_backtest(sset, 8, 4, 4)
    pairs = bg.guide_origins(sset, plan, 4)
    worker = bg._Worker(sset, plan, 4, BaselineConfig(models=("naive", "ets"), max_points=max_points), 0.8,
                        ("ets", 4), pairs, tick=lambda: None)
    searched = []
    own = worker.searcher.search
    worker.searcher.search = lambda y: searched.append(len(y)) or own(y)
    tasks = bg.work_tasks(plan, pairs)
    for task in tasks:
        worker.run(task)
    others = [(i, o) for i, o, window in tasks if not window]
    assert len(searched) == len(others) and others  # the windows took AutoETS's fits
    assert searched == [o - search_start(o, max_points) for _, o in others]
    assert max_points == 5000 or all(n == max_points for n in searched)
