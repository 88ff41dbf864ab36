"""The two pipelines end to end on tiny settings: they train, their loss falls, the CLI works."""

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from rnnkit import config as C
from rnnkit.cli import main
from rnnkit.apps.caption import task as caption_task
from rnnkit.apps.video import task as video_task
from rnnkit.apps.vision.models import VideoModel


def _epoch_losses(run_dir, split):
    with open(run_dir / "metrics.csv", newline="") as f:
        return [float(r["loss"]) for r in csv.DictReader(f) if r["split"] == split]


@pytest.mark.learning
def test_tiny_video_task_trains_loss_falls_and_reports(tmp_path):
    cfg = C.apply_overrides(video_task.default_config(),
                            video_task.PRESETS["tiny"] + ["train.epochs=3", "train.progress=false"])
    run = tmp_path / "video"
    result = video_task.train(cfg, run, echo=lambda *a: None)
    train_loss = _epoch_losses(run, "train")
    # untrained the loss would not fall; measured last/first 0.74-0.76 (4 seeds x 4 rounding settings)
    assert len(train_loss) == 3 and train_loss[-1] < 0.85 * train_loss[0]
    for name in ("report.md", "report.json", "confusion.png", "frames.png", "predictions.tsv", "curves.png"):
        assert (run / name).is_file(), name
    assert np.array(result["confusion"]).sum() == result["test_clips"]
    assert result["chance"] == pytest.approx(1 / 7)
    assert "caption_bleu_beam" in result and "digit_accuracy" in result
    # the saved run evaluates to the same figures
    again = video_task.evaluate(run)
    assert again["accuracy"] == result["accuracy"] and again["caption_bleu_greedy"] == result["caption_bleu_greedy"]


@pytest.mark.learning
def test_tiny_caption_task_trains_loss_falls_and_reports(tmp_path):
    cfg = C.apply_overrides(caption_task.default_config(),
                            caption_task.PRESETS["tiny"] + ["train.epochs=3", "train.progress=false"])
    run = tmp_path / "caption"
    result = caption_task.train(cfg, run, echo=lambda *a: None)
    train_loss = _epoch_losses(run, "train")
    assert train_loss[-1] < 0.9 * train_loss[0]  # measured 0.83-0.84 (4 seeds x 4 rounding settings)
    for name in ("report.md", "examples.png", "predictions.tsv"):
        assert (run / name).is_file(), name
    assert 0 <= result["bleu_greedy"] <= 100 and "bleu_nearest_image" in result
    assert caption_task.evaluate(run)["bleu_beam"] == result["bleu_beam"]


def test_video_model_padded_clip_equals_clip_alone():
    torch.manual_seed(0)
    model = VideoModel(1, (16, 16), num_classes=3, channels=(4,), frame_features=8, hidden_size=8,
                       embed_size=8).eval()
    clips = torch.randint(0, 256, (2, 6, 1, 16, 16), dtype=torch.uint8)
    clips[1, 4:] = 0
    motion, _, _ = model(clips, torch.tensor([6, 4]))
    alone, _, _ = model(clips[1:, :4])
    torch.testing.assert_close(motion[1:], alone, rtol=1e-5, atol=1e-6)


def _write_caption_folder(folder, n=24):
    rng = np.random.default_rng(0)
    words = ["dark", "light"]
    lines = []
    for i in range(n):
        k = i % 2
        arr = rng.integers(0, 60, (10, 14), dtype=np.uint8) + (180 if k else 0)
        Image.fromarray(arr.astype(np.uint8), mode="L").save(folder / f"im{i}.png")
        lines.append(f"im{i}.png\ta {words[k]} square")
    (folder / "captions.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_caption_cli_on_a_user_folder(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    _write_caption_folder(data)
    run = tmp_path / "run"
    code = main(["caption", "train", "--preset", "tiny", "--data", str(data), "--run-dir", str(run),
                 "train.epochs=2", "train.progress=false"])
    assert code == 0 and (run / "report.md").is_file()
    capsys.readouterr()
    assert main(["caption", "predict", str(run), str(data / "im0.png"), "--beam-size", "2"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(str(data / "im0.png") + "\t")
    # an image of the wrong size: exit code 2 and the file named
    Image.fromarray(np.zeros((5, 5), np.uint8), mode="L").save(tmp_path / "small.png")
    assert main(["caption", "predict", str(run), str(tmp_path / "small.png")]) == 2
    assert "small.png: image of 5x5 pixels" in capsys.readouterr().err


def test_video_cli_train_evaluate_predict(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["video", "train", "--preset", "tiny", "--run-dir", str(run), "train.epochs=1",
                 "train.progress=false", "data.train_clips=48"]) == 0
    assert main(["video", "evaluate", str(run)]) == 0
    assert "accuracy:" in capsys.readouterr().out
    # a built-in test clip written out as a GIF and as a frame folder predicts like the clip itself
    cfg, meta, vocab, model = video_task.load_run(run)
    _, _, test, _ = video_task.load_data(cfg.data)
    frames = test.frames[0, :, 0].numpy()
    ims = [Image.fromarray(f, mode="L") for f in frames]
    ims[0].save(tmp_path / "c.gif", save_all=True, append_images=ims[1:], duration=50)
    (tmp_path / "c").mkdir()
    for t, im in enumerate(ims):
        im.save(tmp_path / "c" / f"{t:02d}.png")
    assert main(["video", "predict", str(run), str(tmp_path / "c"), str(tmp_path / "c.gif")]) == 0
    out = [ln.split("\t") for ln in capsys.readouterr().out.strip().splitlines()]
    direct = video_task.predict_clips(model, test.frames[:1], test.lengths[:1], vocab, cfg.decode)
    assert out[0][1] == meta["label_names"][direct["motion"][0]]
    assert out[0][4] == direct["beam"][0]
    assert out[1][1] == out[0][1]   # the GIF holds the same grey frames
    assert main(["video", "predict", str(run), str(tmp_path / "nothing.gif")]) == 2
    assert "clip not found" in capsys.readouterr().err


def test_video_task_trains_on_a_folder_of_gifs_and_frame_folders(tmp_path):
    """Two activities drawn by hand: a bar sliding right (GIFs) or down (frame folders)."""
    data = tmp_path / "clips"
    data.mkdir()
    lines = []
    for i in range(12):
        frames = []
        for t in range(5):
            f = np.zeros((12, 12), np.uint8)
            if i % 2 == 0:
                f[:, 2 * t:2 * t + 2] = 255
            else:
                f[2 * t:2 * t + 2, :] = 255
            frames.append(f)
        ims = [Image.fromarray(f, mode="L") for f in frames]
        if i % 3:
            ims[0].save(data / f"c{i}.gif", save_all=True, append_images=ims[1:], duration=50)
            name = f"c{i}.gif"
        else:
            (data / f"c{i}").mkdir()
            for t, im in enumerate(ims[: 3 + i % 3]):   # frame folders of 3 to 5 frames
                im.save(data / f"c{i}" / f"{t}.png")
            name = f"c{i}"
        lines.append(f"{name}\t{'right' if i % 2 == 0 else 'down'}")
    (data / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = C.apply_overrides(video_task.default_config(), video_task.PRESETS["tiny"] + [
        f"data.path={data}", "train.epochs=2", "train.progress=false", "data.val_fraction=0.2",
        "data.test_fraction=0.3"])
    result = video_task.train(cfg, tmp_path / "run", echo=lambda *a: None)
    assert result["classes"] == ["down", "right"] and result["test_clips"] == 4
    assert "digit_accuracy" not in result and "caption_bleu_greedy" not in result
    assert (tmp_path / "run" / "frames.png").is_file()
