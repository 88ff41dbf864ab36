"""The overfitting study end to end on tiny settings: every variant trains on the real corpus,
early stopping restores the best epoch, the table, figure and reopened checkpoints agree."""

import csv
import json

import pytest
import torch

from rnnkit import config as C
from rnnkit.cells import LayerNormLSTMCell, VariationalDropout, WeightDrop, Zoneout
from rnnkit.cli import main
from rnnkit.models import EmbeddingDropout
from rnnkit.apps.overfit import task as overfit

TINY = ["--preset", "tiny", "data.train_chars=1500", "data.val_chars=600", "data.test_chars=300",
        "train.epochs=4", "train.lr=0.02", "train.plots=true"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "overfit"
    assert main(["train", "overfit", "--run-dir", str(run), *TINY]) == 0
    return run


def test_every_variant_restores_its_best_epoch(study):
    report = json.loads((study / "report.json").read_text())
    assert [r["variant"] for r in report["rows"]] == list(overfit.VARIANTS)
    for r in report["rows"]:
        # the epoch log of the trainer, read independently of the report
        with open(study / "variants" / r["variant"] / "metrics.csv", newline="") as f:
            vals = {int(row["epoch"]): float(row["loss"]) for row in csv.DictReader(f) if row["split"] == "val"}
        best_epoch = min(vals, key=vals.get)
        assert r["best_epoch"] == best_epoch and len(vals) == r["epochs_run"]
        assert r["best_val_loss"] == pytest.approx(vals[best_epoch], rel=1e-6)
        assert r["restored_val_loss"] == pytest.approx(r["best_val_loss"], rel=1e-6, abs=1e-6)
        assert r["epochs_run"] == 4 or r["best_epoch"] == r["epochs_run"] - 1  # patience 1 stops one epoch late
    assert report["all_restored"]
    for name in ("report.md", "overfit.png", "run.json", "vocab.json"):
        assert (study / name).stat().st_size > 0
    table = (study / "report.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == len(overfit.VARIANTS) + 1  # header + one row per variant


def test_reopened_checkpoints_reproduce_the_test_figures(study):
    report = json.loads((study / "report.json").read_text())
    again = overfit.evaluate(study)
    for r in report["rows"]:
        assert again[f"{r['variant']}_test_bpc"] == pytest.approx(r["test_bpc"], rel=1e-9)


def test_variant_models_hold_the_regularisers_and_are_deterministic_in_eval():
    cfg = C.apply_overrides(overfit.default_config(), overfit.PRESETS["tiny"])
    awd = overfit.build_model("awd", cfg, 20)
    cell = awd.rnn.cells[0]
    assert isinstance(cell, WeightDrop) and isinstance(cell.cell, VariationalDropout) and cell.cell.p_h == 0
    assert isinstance(awd.inputs.embed, EmbeddingDropout)
    assert isinstance(overfit.build_model("zoneout", cfg, 20).rnn.cells[0], Zoneout)
    assert isinstance(overfit.build_model("layernorm", cfg, 20).rnn.cells[0], LayerNormLSTMCell)
    ids = torch.randint(0, 20, (2, 9))
    awd.eval()
    torch.testing.assert_close(awd(ids), awd(ids))
    awd.train()
    assert not torch.allclose(awd(ids), awd(ids))


def test_bad_settings_are_refused():
    with pytest.raises(C.ConfigError, match="variants"):
        overfit.check_config(C.apply_overrides(overfit.default_config(), ["variants=plain,dropconnect"]))
    with pytest.raises(C.ConfigError, match="patience"):
        overfit.check_config(C.apply_overrides(overfit.default_config(), ["train.patience=0"]))
    assert main(["train", "overfit", "--preset", "tiny", "reg.p_h=1.0", "variants=variational",
                 "--run-dir", "/nonexistent/never-written"]) == 2
