"""Successive halving of ``auto``'s treatment candidates (``model.halving_epochs``): every
candidate trains a few epochs, the best half goes on, and those end exactly as without halving,
so the choice among them is the one the full training would make; an interruption after the
halving resumes to the same forecasts."""

import json
import math

import pandas as pd

from rnnkit.apps.forecast import pipeline
from rnnkit.cli import main

ARGS = ["--time-col", "date", "--id-col", "store", "--target", "sales", "--horizon", "3", "--input-len", "12",
        "--preset", "tiny", "train.epochs=5", "train.progress=false", "train.tensorboard=false",
        "baselines.models=naive,seasonal_naive"]


def _transform(run):
    return json.loads((run / "report.json").read_text())["transform"]


def test_the_best_half_ends_as_without_halving_and_the_choice_follows(tmp_path, make_store_frame, capsys):
    data = tmp_path / "stores.csv"
    make_store_frame(n=72).to_csv(data, index=False)
    full, halved = tmp_path / "full", tmp_path / "halved"
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(full), *ARGS,
                 "model.halving_epochs=0"]) == 0
    capsys.readouterr()
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(halved), *ARGS,
                 "model.halving_epochs=2"]) == 0
    out = capsys.readouterr().out
    every, half = _transform(full), _transform(halved)
    names = list(every["scores"])
    assert "halving" not in every and len(names) == 7
    rung = half["halving"]
    assert rung["epochs"] == 2 and set(rung["scores"]) == set(names)
    going_on = sorted(rung["scores"], key=rung["scores"].get)[:max(3, math.ceil(len(names) / 2))]
    assert sorted(half["scores"]) == sorted(going_on) and sorted(rung["stopped"]) == sorted(set(names) - set(going_on))
    assert "halving after 2 epochs (model.halving_epochs)" in out
    for name in going_on:  # paused and continued: the same network as trained in one go
        assert half["scores"][name] == every["scores"][name], name
    expected = sorted(going_on, key=every["scores"].get)[:3]
    assert half["combined"] == expected
    if expected == every["combined"]:
        pd.testing.assert_frame_equal(pd.read_csv(full / "backtest_forecasts.csv"),
                                      pd.read_csv(halved / "backtest_forecasts.csv"))
    assert "Stopped after 2 epochs by the halving" in (halved / "report.md").read_text()


def test_an_interruption_after_the_halving_resumes_to_the_same_forecasts(tmp_path, make_store_frame, monkeypatch,
                                                                         capsys, interrupt_at):
    data = tmp_path / "stores.csv"
    make_store_frame(n=72).to_csv(data, index=False)
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(whole), *ARGS,
                 "model.halving_epochs=2"]) == 0

    finish = pipeline.NeuralForecaster.finish_fit
    monkeypatch.setattr(pipeline.NeuralForecaster, "finish_fit", interrupt_at(2, finish))
    capsys.readouterr()
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(cut), *ARGS,
                 "model.halving_epochs=2"]) == 130
    assert (cut / "candidates" / pipeline.HALVING_FILE).is_file()
    monkeypatch.setattr(pipeline.NeuralForecaster, "finish_fit", finish)
    assert main(["train", "forecast", "--resume", "--run-dir", str(cut)]) == 0
    out = capsys.readouterr().out
    assert "(before the interruption)" in out and out.count("(trained before the interruption)") == 1
    assert _transform(cut) == _transform(whole)
    pd.testing.assert_frame_equal(pd.read_csv(whole / "backtest_forecasts.csv"),
                                  pd.read_csv(cut / "backtest_forecasts.csv"))


def test_an_interruption_before_the_halving_resumes_with_the_candidates_that_had_ended(
        tmp_path, make_store_frame, monkeypatch, capsys, interrupt_at):
    """Early stopping ends the candidates before the halving epoch (no change counts as an
    improvement: every one stops after epoch 2); they are saved then, and a resume after an
    interruption in the halving's first round takes them from the run folder in both rounds."""
    data = tmp_path / "stores.csv"
    make_store_frame(n=72).to_csv(data, index=False)
    args = [*ARGS, "train.patience=1", "train.min_delta=1e9", "train.epochs=8", "model.halving_epochs=4"]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(whole), *args]) == 0
    ended_early = [k for k, v in _transform(whole)["halving"]["scores"].items() if k in _transform(whole)["scores"]
                   and v == _transform(whole)["scores"][k]]
    fit_member = pipeline._fit_member
    monkeypatch.setattr(pipeline, "_fit_member", interrupt_at(6, fit_member))
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(cut), *args]) == 130
    saved = [p.name for p in (cut / "candidates").iterdir() if (p / "candidate.json").is_file()]
    monkeypatch.setattr(pipeline, "_fit_member", fit_member)
    capsys.readouterr()
    assert main(["train", "forecast", "--resume", "--run-dir", str(cut)]) == 0
    assert capsys.readouterr().out.count("(trained before the interruption)") == len(saved)
    assert saved and ended_early  # the case this test is about happened
    assert _transform(cut) == _transform(whole)
    pd.testing.assert_frame_equal(pd.read_csv(whole / "backtest_forecasts.csv"),
                                  pd.read_csv(cut / "backtest_forecasts.csv"))
