"""The run folder: config.json, command.txt, metrics.csv, curves.png, TensorBoard, progress bar."""

import csv
import json
import shlex
import sys

import pytest

from rnnkit.train import Trainer


def test_run_folder_contents(kit, tmp_path, capsys):
    ds = kit.regression_data(n=24)
    cfg = kit.quiet_config(epochs=2, log_every=1, progress=True, tensorboard=True, plots=True, plot_every=1)
    trainer = Trainer(
        kit.mlp(), kit.mse_loss, cfg, run_dir=tmp_path, config_dict={"task": "demo", "hidden": 16},
        tokens_fn=lambda batch: batch[0].numel(),
    )
    history = trainer.fit(kit.shuffled_loader(ds, batch_size=8), [ds.tensors])

    resolved = json.loads((tmp_path / "config.json").read_text())
    assert resolved["caller"] == {"task": "demo", "hidden": 16}
    assert resolved["train"]["epochs"] == 2 and resolved["train"]["log_every"] == 1
    assert (tmp_path / "command.txt").read_text() == shlex.join(sys.argv) + "\n"
    ck_config = json.loads((tmp_path / "checkpoints" / "latest" / "config.json").read_text())
    assert ck_config == resolved

    with open(tmp_path / "metrics.csv") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames[:4] == ["epoch", "step", "split", "loss"]
        rows = list(reader)
    assert [r["split"] for r in rows].count("train_step") == 6
    for epoch in (1, 2):
        train = next(r for r in rows if r["split"] == "train" and r["epoch"] == str(epoch))
        val = next(r for r in rows if r["split"] == "val" and r["epoch"] == str(epoch))
        assert float(train["loss"]) == history[epoch - 1]["train_loss"]
        assert float(train["mae"]) == history[epoch - 1]["train_mae"]
        assert float(val["loss"]) == history[epoch - 1]["val_loss"]
        assert float(train["tokens_per_s"]) > 0 and float(train["lr"]) == cfg.lr

    png = (tmp_path / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (events,) = (tmp_path / "tensorboard").iterdir()
    acc = EventAccumulator(str(events.parent))
    acc.Reload()
    assert {"train/loss", "val/loss", "train_step/loss", "train/tokens_per_s"} <= set(acc.Tags()["scalars"])
    assert [e.value for e in acc.Scalars("val/loss")] == pytest.approx([r["val_loss"] for r in history])

    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "tok/s" in err and "loss=" in err


@pytest.mark.parametrize("plot_every,epochs,drawn_after", [(1, 3, [1, 2, 3]), (2, 3, [2, 3]), (0, 2, [2])])
def test_curves_are_drawn_every_plot_every_epochs_and_once_more_only_for_new_rows(
        kit, tmp_path, monkeypatch, plot_every, epochs, drawn_after):
    """A plot costs 0.3-0.5 s: the end of fit draws curves.png only when the last epoch did not."""
    import rnnkit.train.trainer as trainer_module

    drawn = []

    def record(rows, path):
        drawn.append(max(r["epoch"] for r in rows if r["split"] == "train"))
        return plot_curves(rows, path)

    plot_curves = trainer_module.plot_curves
    monkeypatch.setattr(trainer_module, "plot_curves", record)
    ds = kit.regression_data(n=16)
    cfg = kit.quiet_config(epochs=epochs, plots=True, plot_every=plot_every)
    Trainer(kit.mlp(), kit.mse_loss, cfg, run_dir=tmp_path).fit(kit.shuffled_loader(ds, batch_size=8), [ds.tensors])
    assert drawn == drawn_after
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_items_per_second_without_tokens_fn(kit, tmp_path, capsys):
    cfg = kit.quiet_config(epochs=1, progress=True)
    Trainer(kit.mlp(), kit.mse_loss, cfg, run_dir=tmp_path).fit(kit.shuffled_loader(kit.regression_data()))
    assert "items/s" in capsys.readouterr().err
    with open(tmp_path / "metrics.csv") as f:
        (row,) = list(csv.DictReader(f))
    assert row["split"] == "train" and float(row["items_per_s"]) > 0
    assert not (tmp_path / "curves.png").exists()  # plots=False
    assert not (tmp_path / "tensorboard").exists()  # tensorboard=False


def test_no_run_dir_writes_nothing(kit, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = kit.quiet_config(epochs=1, plots=True, tensorboard=True, log_every=1)
    Trainer(kit.mlp(), kit.mse_loss, cfg).fit(kit.shuffled_loader(kit.regression_data()))
    assert list(tmp_path.iterdir()) == []


def test_progress_off_prints_nothing(kit, capsys):
    Trainer(kit.mlp(), kit.mse_loss, kit.quiet_config(epochs=1)).fit(kit.shuffled_loader(kit.regression_data()))
    assert capsys.readouterr().err == ""
