"""Atomic writes and checkpoint files: failure leaves the old file, tied weights round-trip."""

import os

import pytest
import torch
from safetensors import safe_open
from torch import nn

from rnnkit.train import (
    atomic,
    atomic_path,
    atomic_write_bytes,
    atomic_write_json,
    checkpoint,
    load_checkpoint,
    save_checkpoint,
)


def test_atomic_write_replaces_whole_file(tmp_path):
    p = tmp_path / "f.txt"
    atomic_write_bytes(p, b"old")
    atomic_write_bytes(p, b"new contents")
    assert p.read_bytes() == b"new contents"
    assert os.listdir(tmp_path) == ["f.txt"]


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077, 0o277])
def test_atomic_writes_get_the_mode_a_plain_write_gets(tmp_path, umask):
    """0666 less the umask, as ``open(path, "w")`` and ``torch.save`` give (mkstemp's 0600 would
    hide a run folder's files from everyone but their owner)."""
    from rnnkit.config import save_json
    from rnnkit.data.word_vocab import write_text_atomic
    from rnnkit.train import TrainConfig

    old = os.umask(umask)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"x")
        save_checkpoint(tmp_path / "ck", {"w": torch.zeros(2)})
        save_json(TrainConfig(), tmp_path / "config.json")
        write_text_atomic(tmp_path / "vocab.json", "{}")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    assert (tmp_path / "plain.txt").stat().st_mode & 0o777 == expected
    assert (tmp_path / "ck").stat().st_mode & 0o777 == (0o777 & ~umask) | 0o700  # as mkdir gives
    for path in [tmp_path / "a.bin", tmp_path / "config.json", tmp_path / "vocab.json",
                 *(p for p in (tmp_path / "ck").iterdir() if p.is_file())]:
        assert path.stat().st_mode & 0o777 == expected, (path.name, oct(path.stat().st_mode & 0o777))


def test_writer_failing_midway_leaves_old_file_and_no_temp(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(p) as tmp:
        with open(tmp, "wb") as f:
            f.write(b"half of the new")
        raise RuntimeError("disk full")
    assert p.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_failed_fsync_leaves_old_file(tmp_path, monkeypatch):
    p = tmp_path / "cfg.json"
    atomic_write_json(p, {"a": 1})

    def broken_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write_json(p, {"a": 2})
    assert p.read_text().strip() == '{\n  "a": 1\n}'
    assert os.listdir(tmp_path) == ["cfg.json"]


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(11, 5)
        self.rnn = nn.GRU(5, 5, batch_first=True)
        self.out = nn.Linear(5, 11)
        self.out.weight = self.emb.weight  # weight tying

    def forward(self, tokens):
        h, _ = self.rnn(self.emb(tokens))
        return self.out(h)


def test_checkpoint_round_trip_with_tied_weights(tmp_path):
    torch.manual_seed(1)
    a = Tied()
    d = save_checkpoint(tmp_path / "ck", a, config={"hidden": 5}, state={"epoch": 3, "t": torch.arange(3)})
    with safe_open(str(d / "model.safetensors"), "pt") as f:
        stored = set(f.keys())
    assert len(stored & {"emb.weight", "out.weight"}) == 1  # the tie is stored once

    torch.manual_seed(2)
    b = Tied()
    ck = load_checkpoint(d, b)
    tokens = torch.randint(0, 11, (3, 7))
    assert torch.equal(a(tokens), b(tokens))
    assert b.out.weight is b.emb.weight
    assert ck.config == {"hidden": 5}
    assert ck.state["epoch"] == 3 and torch.equal(ck.state["t"], torch.arange(3))


def test_overlapping_views_are_stored_as_copies(tmp_path):
    base = torch.arange(12.0)
    sd = {"whole": base, "tail": base[4:], "strided": base.view(3, 4).t()}
    d = save_checkpoint(tmp_path / "ck", sd)
    w = load_checkpoint(d).weights
    for k, v in sd.items():
        assert torch.equal(w[k], v)


def test_failed_checkpoint_save_keeps_previous(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    old = {k: v.clone() for k, v in model.state_dict().items()}
    save_checkpoint(tmp_path / "latest", model, state={"epoch": 1})
    with torch.no_grad():
        model.weight.add_(1.0)

    def fail_midway(obj, path, *size_hint):
        with open(os.path.join(os.path.dirname(path), "trainer_state.pt"), "wb") as f:
            f.write(b"partial")
        raise OSError("no space left on device")

    monkeypatch.setattr(checkpoint, "atomic_torch_save", fail_midway)
    with pytest.raises(OSError, match="no space"):
        save_checkpoint(tmp_path / "latest", model, state={"epoch": 2})
    assert os.listdir(tmp_path) == ["latest"]  # no temporary directory left behind
    ck = load_checkpoint(tmp_path / "latest")
    assert ck.state["epoch"] == 1
    assert all(torch.equal(ck.weights[k], v) for k, v in old.items())


def test_crash_between_directory_renames_is_recovered(tmp_path):
    model = nn.Linear(3, 2)
    save_checkpoint(tmp_path / "latest", model, state={"epoch": 4})
    # The state atomic_replace_dir leaves if killed after moving the old copy aside.
    os.replace(tmp_path / "latest", tmp_path / "latest.old")
    assert load_checkpoint(tmp_path / "latest").state["epoch"] == 4
    save_checkpoint(tmp_path / "latest", model, state={"epoch": 5})
    assert sorted(os.listdir(tmp_path)) == ["latest"]
    assert load_checkpoint(tmp_path / "latest").state["epoch"] == 5


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nothing")
