"""Text corpora for language modelling: loading, splitting and batching.

Loading gives one str; a vocabulary (rnnkit.data.vocab) turns it into a 1-D id stream of N
tokens; the batchers here cut that stream into (input, target) pairs where the target is the
input shifted by one step:

* ``LMStreamDataset`` / ``make_lm_batches``: the classic stateful scheme. The stream is cut into B
  parallel streams, (B, N // B), and consecutive chunks of T steps follow each other in time, so
  a model can carry its hidden state from one batch to the next (truncated BPTT).
* ``RandomWindowDataset``: independent windows of T + 1 tokens, for shuffled, stateless training.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Iterator, Sequence, TypeVar

import torch
from torch.utils.data import Dataset

__all__ = [
    "BUILTIN_CORPORA",
    "load_builtin_corpus",
    "load_text",
    "split_corpus",
    "batchify",
    "LMStreamDataset",
    "make_lm_batches",
    "RandomWindowDataset",
]

S = TypeVar("S")


# ----------------------------------------------------------------------------------------------
# Loading


def _pydoc_corpus() -> str:
    # CPython's own documentation text ships with every Python install (about 465k characters).
    from pydoc_data.topics import topics

    # Sorted keys make the text identical from run to run; every topic ends in a newline, so the
    # extra "\n" leaves a blank line between topics.
    return "\n".join(topics[k] for k in sorted(topics))


BUILTIN_CORPORA = {"pydoc": _pydoc_corpus}


def load_builtin_corpus(name: str = "pydoc") -> str:
    """A corpus that needs no download. ``"pydoc"``: CPython's documentation topics
    (``pydoc_data.topics``), joined in sorted key order."""
    try:
        loader = BUILTIN_CORPORA[name]
    except KeyError:
        raise ValueError(f"unknown built-in corpus {name!r}; available: "
                         f"{', '.join(sorted(BUILTIN_CORPORA))} (or pass a path to your own "
                         f"text file or folder)") from None
    return loader()


def _read_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        # utf-8-sig drops a byte-order mark that some editors write at the start.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bad = data[e.start:e.start + 4]
        raise ValueError(
            f"{path}: not valid UTF-8 at byte offset {e.start} (bytes {bad!r}: {e.reason}). "
            f"Convert the file to UTF-8 first, e.g. `iconv -f latin1 -t utf-8 {path.name}`"
        ) from None
    # Windows line endings would otherwise add a '\r' token before every newline.
    return text.replace("\r\n", "\n")


def _text_files(folder: Path) -> list[Path]:
    """*.txt files under ``folder``, recursively, in sorted relative-path order; hidden files and
    folders (a name starting with '.') are skipped."""
    files = []
    for p in folder.rglob("*.txt"):
        rel = p.relative_to(folder)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            files.append(p)
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def load_text(path: str | os.PathLike) -> str:
    """Read a UTF-8 text file, or every ``*.txt`` file under a folder (recursively, sorted).

    Files in a folder are concatenated in sorted path order, with a newline added after any
    file that does not end in one. Windows line endings become '\\n'; a UTF-8 byte-order mark
    is dropped.

    Raises FileNotFoundError for a missing path; ValueError for an empty file, a folder with no
    text files or only empty ones, and bytes that are not UTF-8 (naming file and byte offset).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"text path does not exist: {path}")
    if path.is_file():
        text = _read_utf8(path)
        if not text:
            raise ValueError(f"text file is empty: {path}")
        return text
    files = _text_files(path)
    if not files:
        raise ValueError(f"folder {path} has no *.txt files (searched recursively); "
                         f"point at a file or put the corpus in .txt files")
    parts = []
    for f in files:
        t = _read_utf8(f)
        if t and not t.endswith("\n"):
            t += "\n"  # so the last line of one file does not run into the next file
        parts.append(t)
    text = "".join(parts)
    if not text:
        raise ValueError(f"all {len(files)} text files under {path} are empty")
    return text


# ----------------------------------------------------------------------------------------------
# Splitting


def split_corpus(text: S, val_fraction: float = 0.05, test_fraction: float = 0.05
                 ) -> tuple[S, S, S]:
    """Contiguous split: train first, then validation, then test. Deterministic.

    Works on anything sliceable with a length (str, list, 1-D tensor). The validation and test
    parts get ``floor(n * fraction)`` items each; train gets the rest. A fraction that is > 0 but
    would give an empty part is an error (the text is too short for it).
    """
    for name, frac in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 <= frac < 1:
            raise ValueError(f"{name} must be in [0, 1), got {frac}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got "
                         f"{val_fraction} + {test_fraction}")
    n = len(text)
    n_val = math.floor(n * val_fraction)
    n_test = math.floor(n * test_fraction)
    for name, frac, k in (("validation", val_fraction, n_val), ("test", test_fraction, n_test)):
        if frac > 0 and k == 0:
            raise ValueError(f"a text of {n} items is too short for a {name} fraction of {frac}")
    n_train = n - n_val - n_test
    if n_train <= 0:
        raise ValueError(f"a text of {n} items leaves nothing for training")
    return text[:n_train], text[n_train:n_train + n_val], text[n_train + n_val:]


# ----------------------------------------------------------------------------------------------
# Batching


def _as_ids(ids: torch.Tensor | Sequence[int]) -> torch.Tensor:
    t = torch.as_tensor(ids)
    if t.dim() != 1:
        raise ValueError(f"ids must be a 1-D stream (N,), got shape {tuple(t.shape)}")
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"ids must be integers, got {t.dtype}")
    return t.long()


def batchify(ids: torch.Tensor | Sequence[int], batch_size: int) -> torch.Tensor:
    """Cut a stream of N ids into ``batch_size`` contiguous streams: (N,) -> (B, N // B).

    Row b is ids[b * n : (b + 1) * n] with n = N // B; the last N % B ids are dropped.
    """
    ids = _as_ids(ids)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = ids.numel() // batch_size
    return ids[: n * batch_size].view(batch_size, n)


class LMStreamDataset(Dataset):
    """Stateful language-model batches over B parallel streams.

    ids: (N,) token ids. The stream becomes ``streams`` of shape (B, n), n = N // B (the last
    N % B ids are dropped). Item i is ``(x, y)``, both (B, T_i): x = streams[:, i*T : i*T + T_i]
    and y = the same columns shifted one step right. Each stream's last id is only a target, so
    the items cover all n - 1 (input, target) steps; T_i = T except that the last item is
    shorter when T does not divide n - 1 (dropped instead when ``drop_last``).

    Items are in time order, so the hidden state after item i is the right start for item i + 1
    (detach it between items for truncated BPTT). Use with ``DataLoader(ds, batch_size=None)``,
    or just iterate.
    """

    def __init__(self, ids: torch.Tensor | Sequence[int], batch_size: int, seq_len: int,
                 drop_last: bool = False):
        if seq_len < 1:
            raise ValueError(f"seq_len must be >= 1, got {seq_len}")
        self.streams = batchify(ids, batch_size)
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.drop_last = drop_last
        steps = self.streams.shape[1] - 1  # (input, target) steps per stream
        if steps < 1:
            raise ValueError(f"a stream of {_as_ids(ids).numel()} ids is too short for "
                             f"batch_size={batch_size}: each of the B streams needs >= 2 ids")
        self._len = steps // seq_len if drop_last else math.ceil(steps / seq_len)
        if self._len == 0:
            raise ValueError(f"with drop_last, each stream has {steps} steps, fewer than "
                             f"seq_len={seq_len}: no full batch")

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"batch {i} out of range for {self._len} batches")
        start = i * self.seq_len
        stop = min(start + self.seq_len, self.streams.shape[1] - 1)
        return self.streams[:, start:stop], self.streams[:, start + 1:stop + 1]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for i in range(self._len):
            yield self[i]


def make_lm_batches(ids: torch.Tensor | Sequence[int], batch_size: int, seq_len: int,
                    drop_last: bool = False) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """All batches of ``LMStreamDataset(ids, batch_size, seq_len, drop_last)`` as a list of
    (x, y) pairs, each (B, T_i), in time order."""
    return list(LMStreamDataset(ids, batch_size, seq_len, drop_last))


class RandomWindowDataset(Dataset):
    """Independent windows for shuffled training: item i is (x, y), both (T,), with
    x = ids[s : s + T], y = ids[s + 1 : s + T + 1] and s = i * stride.

    Every start s with s + T + 1 <= N that is a multiple of ``stride`` is an item, so
    len = (N - T - 1) // stride + 1. Use with ``DataLoader(ds, batch_size=B, shuffle=True)`` to get
    (B, T) batches.
    """

    def __init__(self, ids: torch.Tensor | Sequence[int], seq_len: int, stride: int = 1):
        self.ids = _as_ids(ids)
        if seq_len < 1:
            raise ValueError(f"seq_len must be >= 1, got {seq_len}")
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        if self.ids.numel() < seq_len + 1:
            raise ValueError(f"a stream of {self.ids.numel()} ids is too short for seq_len="
                             f"{seq_len}: a window needs seq_len + 1 ids")
        self.seq_len = seq_len
        self.stride = stride
        self._len = (self.ids.numel() - seq_len - 1) // stride + 1

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"window {i} out of range for {self._len} windows")
        s = i * self.stride
        return self.ids[s:s + self.seq_len], self.ids[s + 1:s + self.seq_len + 1]
