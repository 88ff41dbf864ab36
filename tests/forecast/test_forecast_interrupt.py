"""Ctrl-C while ``auto`` trains its treatment candidates: the finished candidates are in the run
folder, ``--resume`` trains only the rest, and the run ends with the same forecasts as one that was
never interrupted."""

import pandas as pd

from rnnkit.apps.forecast import pipeline
from rnnkit.cli import main

ARGS = ["--time-col", "date", "--id-col", "store", "--target", "sales", "--horizon", "3", "--input-len", "12",
        "--preset", "tiny", "train.progress=false", "train.tensorboard=false", "baselines.models=naive,seasonal_naive"]


def test_an_interrupted_choice_resumes_to_the_same_forecasts(tmp_path, make_store_frame, monkeypatch, capsys,
                                                             interrupt_at):
    data = tmp_path / "stores.csv"
    make_store_frame(n=72).to_csv(data, index=False)
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(whole), *ARGS]) == 0

    fit_member = pipeline._fit_member
    monkeypatch.setattr(pipeline, "_fit_member", interrupt_at(3, fit_member))
    capsys.readouterr()
    assert main(["train", "forecast", "--data", str(data), "--run-dir", str(cut), *ARGS]) == 130
    err = capsys.readouterr().err
    assert f"rnnkit: interrupted; continue with: rnnkit train forecast --resume --run-dir {cut}" in err
    assert "Traceback" not in err
    done = sorted(p.name for p in (cut / "candidates").iterdir() if (p / "candidate.json").is_file())
    assert len(done) == 2

    monkeypatch.setattr(pipeline, "_fit_member", fit_member)
    trained = []
    monkeypatch.setattr(pipeline, "_fit_member", lambda *a, **k: trained.append(1) or fit_member(*a, **k))
    assert main(["train", "forecast", "--resume", "--run-dir", str(cut)]) == 0
    out = capsys.readouterr().out
    assert out.count("(trained before the interruption)") == 2
    assert len(trained) == out.count("transform candidate") - 2  # the finished two were not trained again
    assert not (cut / "candidates").exists()  # the chosen ones are saved in the run; the rest removed
    a = pd.read_csv(whole / "backtest_forecasts.csv")
    b = pd.read_csv(cut / "backtest_forecasts.csv")
    pd.testing.assert_frame_equal(a, b)
    assert (cut / "checkpoints" / "best" / "model.safetensors").is_file() and (cut / "metrics.csv").is_file()
