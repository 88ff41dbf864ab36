"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every writer goes to a temporary file in the *same directory* (so the final rename never crosses
a filesystem), flushes and fsyncs it, then ``os.replace``-s it over the target and fsyncs the
directory so the rename itself survives a power loss. If anything fails the temporary file is
removed and the target is untouched.

Other packages reuse these helpers for their outputs (reports, vocabularies, exported models).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "atomic_path",
    "atomic_replace_dir",
    "atomic_torch_save",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "fsync_dir",
]


def fsync_dir(path: str | os.PathLike) -> None:
    """fsync a directory so that renames inside it are durable (no-op where unsupported)."""
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: str) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success it atomically becomes ``path``.

    For writers that want a file name rather than a file object (``safetensors.torch.save_file``,
    ``torch.save``, ``Figure.savefig``). The temporary name keeps the suffix so that tools that
    infer a format from the extension still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int = 2) -> None:
    """Write ``obj`` as pretty JSON atomically (keys sorted so diffs between runs are readable)."""
    atomic_write_text(path, json.dumps(obj, indent=indent, sort_keys=True, default=str) + "\n")


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` atomically."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def atomic_replace_dir(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Move the finished directory ``src`` to ``dst``, replacing any old ``dst``.

    POSIX cannot rename a directory over a non-empty one, so this takes two renames:
    ``dst -> dst.old``, ``src -> dst``, then deletes ``dst.old``. A crash between the two renames
    leaves ``dst.old`` complete; :func:`resolve_dir` (used by checkpoint loading) falls back to it.
    """
    src, dst = Path(src), Path(dst)
    old = dst.with_name(dst.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if dst.exists():
        os.replace(dst, old)
    os.replace(src, dst)
    fsync_dir(dst.parent)
    if old.exists():
        shutil.rmtree(old)


def resolve_dir(path: str | os.PathLike) -> Path:
    """``path`` if it exists, else the ``.old`` copy left by an interrupted :func:`atomic_replace_dir`."""
    path = Path(path)
    old = path.with_name(path.name + ".old")
    if not path.exists() and old.exists():
        return old
    return path
