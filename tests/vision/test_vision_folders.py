"""The user's folders: what loads, and every bad input failing with the file named."""

import numpy as np
import pytest
import torch
from PIL import Image

from rnnkit.apps.vision.folders import load_caption_folder, load_video_folder, read_image
from rnnkit.apps.vision.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID, CaptionVocab


def _png(path, h=8, w=12, mode="L", value=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (h, w) if mode == "L" else (h, w, len(mode))
    arr = rng.integers(0, 256, size=shape, dtype=np.uint8) if value is None else np.full(shape, value, np.uint8)
    Image.fromarray(arr, mode=mode).save(path)
    return arr


def test_caption_folder_loads_pixels_and_references(tmp_path):
    a = _png(tmp_path / "a.png", seed=1)
    b = _png(tmp_path / "b.png", seed=2)
    (tmp_path / "captions.tsv").write_text(
        "# file\tcaption\n\na.png\tThree  one\nb.png\tfour\na.png\tthree ones\n", encoding="utf-8")
    data = load_caption_folder(tmp_path)
    assert data.names == ["a.png", "b.png"]
    assert data.captions == [["three one", "three ones"], ["four"]]
    assert data.images.shape == (2, 1, 8, 12) and data.images.dtype == torch.uint8
    assert np.array_equal(data.images[0, 0].numpy(), a) and np.array_equal(data.images[1, 0].numpy(), b)


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="has no captions.tsv"):
        load_caption_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match="has no labels.tsv"):
        load_video_folder(tmp_path)
    (tmp_path / "captions.tsv").write_text("# nothing yet\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lists no caption entries"):
        load_caption_folder(tmp_path)


def test_captions_file_naming_a_missing_image(tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "captions.tsv").write_text("a.png\tone\nghost.png\ttwo\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=r"captions.tsv:2: image 'ghost.png' not found"):
        load_caption_folder(tmp_path)


def test_malformed_caption_line_names_the_line(tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "captions.tsv").write_text("a.png\tone\na.png one\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"captions.tsv:2: expected 2 tab-separated fields"):
        load_caption_folder(tmp_path)


def test_image_of_wrong_size_or_channels_names_the_file(tmp_path):
    _png(tmp_path / "a.png")
    _png(tmp_path / "big.png", h=9)
    _png(tmp_path / "rgb.png", mode="RGB")
    (tmp_path / "captions.tsv").write_text("a.png\tone\nbig.png\ttwo\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"big.png: image of 12x9 pixels with 1 channel\(s\), but this "
                                         r"data set's images are 12x8 with 1 channel\(s\) \(as .*a.png\)"):
        load_caption_folder(tmp_path)
    (tmp_path / "captions.tsv").write_text("a.png\tone\nrgb.png\ttwo\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"rgb.png: image of 12x8 pixels with 3 channel"):
        load_caption_folder(tmp_path)


def test_unreadable_image_names_the_file(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match=r"bad.png: not a readable image"):
        read_image(tmp_path / "bad.png")


def _gif(path, frames):
    ims = [Image.fromarray(f, mode="L") for f in frames]
    ims[0].save(path, save_all=True, append_images=ims[1:], duration=50, loop=0)


def test_video_folder_reads_gifs_and_frame_folders_with_lengths(tmp_path):
    rng = np.random.default_rng(0)
    clip_a = [rng.integers(0, 256, (10, 12), dtype=np.uint8) for _ in range(5)]
    _gif(tmp_path / "a.gif", clip_a)
    (tmp_path / "b").mkdir()
    clip_b = [_png(tmp_path / "b" / f"{i:03d}.png", h=10, w=12, seed=10 + i) for i in range(3)]
    (tmp_path / "labels.tsv").write_text("a.gif\twave\tA man waves\nb\tjump\ta man jumps\n", encoding="utf-8")
    clips = load_video_folder(tmp_path)
    assert clips.label_names == ("jump", "wave") and clips.labels.tolist() == [1, 0]
    assert clips.lengths.tolist() == [5, 3] and clips.frames.shape == (2, 5, 1, 10, 12)
    assert clips.captions == ["a man waves", "a man jumps"]
    for t in range(3):
        assert np.array_equal(clips.frames[1, t, 0].numpy(), clip_b[t])
    assert torch.all(clips.frames[1, 3:] == 0)
    # GIF frames: the palette round trip keeps grey levels when every frame is grey
    assert np.abs(clips.frames[0, :, 0].numpy().astype(int) - np.stack(clip_a)).max() <= 1
    # max_frames subsamples evenly: frames 0, 2, 4 of the GIF
    short = load_video_folder(tmp_path, max_frames=3)
    assert short.frames.shape[1] == 3 and torch.equal(short.frames[0, 1], clips.frames[0, 2])


def test_video_folder_bad_inputs_name_the_file(tmp_path):
    (tmp_path / "b").mkdir()
    _png(tmp_path / "b" / "0.png", h=10, w=12)
    (tmp_path / "labels.tsv").write_text("b\tjump\nmissing.gif\twave\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=r"labels.tsv:2: clip 'missing.gif' not found"):
        load_video_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "labels.tsv").write_text("b\tjump\nempty\twave\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"empty: frame folder holds no images"):
        load_video_folder(tmp_path)
    (tmp_path / "c").mkdir()
    _png(tmp_path / "c" / "0.png", h=10, w=12)
    _png(tmp_path / "c" / "1.png", h=10, w=12, mode="RGB")
    (tmp_path / "labels.tsv").write_text("b\tjump\nc\twave\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"1.png: frame of 12x10 pixels with 3 channel"):
        load_video_folder(tmp_path)
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 64)
    (tmp_path / "labels.tsv").write_text("b\tjump\nbad.mp4\twave\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.mp4: cannot read the video"):
        load_video_folder(tmp_path)
    (tmp_path / "labels.tsv").write_text("b\tjump\ta caption\nb\twave\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"labels.tsv:2: no caption, but other lines have one"):
        load_video_folder(tmp_path)


def test_caption_vocab_batches_and_round_trips():
    vocab = CaptionVocab.from_captions(["three one four", "one five"])
    assert vocab.itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    seq, lengths = vocab.batch(["one four", "nine"])
    one, four = vocab.stoi["one"], vocab.stoi["four"]
    assert seq.tolist() == [[BOS_ID, one, four, EOS_ID], [BOS_ID, UNK_ID, EOS_ID, PAD_ID]]
    assert lengths.tolist() == [4, 3]
    assert vocab.decode([one, four, EOS_ID, one]) == "one four"
    assert CaptionVocab.from_dict(vocab.to_dict()).itos == vocab.itos
