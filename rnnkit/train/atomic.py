"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every writer goes to a temporary file in the *same directory* (so the final rename never crosses
a filesystem), flushes and fsyncs it, then ``os.replace``-s it over the target and fsyncs the
directory so the rename itself survives a power loss. If anything fails the temporary file is
removed and the target is untouched.

Other packages reuse these helpers for their outputs (reports, vocabularies, exported models).

A full disk is reported as :class:`DiskFullError`, one sentence naming the folder, the space the
write needed and the space left; the temporary file is removed and the old target stays. torch's
own writer reports a full disk as a C++ stream error (``RuntimeError: ... iostream error``), so a
failed write also counts as a full disk when the folder's free space is below what it needed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "DiskFullError",
    "atomic_path",
    "atomic_replace_dir",
    "atomic_torch_save",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "clean_stale_temporaries",
    "fsync_dir",
    "new_temporary",
]

# Temporary names made here: ``.<stem>.<random>.tmp<suffix>`` (files) and, by
# ``save_checkpoint``, ``.<name>.tmp-<random>`` (directories).
_TMP_MARK = ".tmp"


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


class DiskFullError(OSError):
    """No space left on the device while writing a run folder; the previous files are intact."""

    def __init__(self, path: str | os.PathLike, needed: int | None = None) -> None:
        folder = Path(path).parent
        try:
            free = _mb(shutil.disk_usage(folder).free)
        except OSError:
            free = "unknown"
        need = f"about {_mb(needed)} needed, " if needed else ""
        super().__init__(
            errno.ENOSPC,
            f"no space left on device writing {Path(path).name} in {folder} ({need}{free} free); "
            "the previous files there are intact: free some space, then run again (--resume continues a run)",
        )
        self.path, self.needed = Path(path), needed

    def __str__(self) -> str:  # the message alone, without OSError's "[Errno 28]" prefix
        return self.strerror


def _is_disk_full(err: BaseException, folder: Path, needed: int | None) -> bool:
    if isinstance(err, DiskFullError):
        return False  # already translated
    if isinstance(err, OSError):
        return err.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(err, RuntimeError):  # torch.save's C++ writer
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            return False
        return free < max(needed or 0, 1 << 16)
    return False


def clean_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove temporary files and folders left in ``folder`` (recursively) by a killed writer.

    Call it only while holding the folder's run lock: then no live writer owns them. Returns
    what was removed.
    """
    removed: list[Path] = []
    root = Path(folder)
    if not root.is_dir():
        return removed
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*filenames, *dirnames]:
            if name.startswith(".") and _TMP_MARK in name:
                path = Path(dirpath) / name
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                    dirnames.remove(name)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                removed.append(path)
    return removed


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


def new_temporary(folder: str | os.PathLike, prefix: str, suffix: str = "", *,
                  directory: bool = False) -> tuple[str, int]:
    """Create an empty file (or folder) ``folder/prefix<random>suffix``; return its path and mode.

    Unlike ``tempfile.mkstemp``/``mkdtemp`` (mode 0600/0700: only the owner may read), it gets
    the mode a plain ``open(path, "w")`` or ``mkdir`` gives: 0666/0777 less the process's umask
    (0644/0755 with the usual umask 022), so whoever may read the runs folder can read what rnnkit
    writes there, as with the files torch writes. Some writers (safetensors) replace the file with
    one of mode 0600: :func:`atomic_path` puts the mode returned here back before the rename.
    While it is written the owner may always read and write it (and enter the folder), whatever
    the umask."""
    for _ in range(100):
        name = os.path.join(folder, f"{prefix}{secrets.token_hex(6)}{suffix}")
        try:
            if directory:
                os.mkdir(name, 0o777)
            else:
                os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        mode = stat.S_IMODE(os.stat(name).st_mode)
        owner = 0o700 if directory else 0o600
        if mode & owner != owner:
            os.chmod(name, mode | owner)
        return name, mode
    raise FileExistsError(errno.EEXIST, f"no free temporary name in {folder}")


def _fsync_file(path: str) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, size_hint: int | None = None) -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success it atomically becomes ``path``.

    For writers that want a file name rather than a file object (``safetensors.torch.save_file``,
    ``torch.save``, ``Figure.savefig``). The temporary name keeps the suffix so that tools that
    infer a format from the extension still work. ``size_hint`` (bytes) goes into the message of
    a :class:`DiskFullError`.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp, mode = new_temporary(path.parent, prefix=f".{path.stem}.", suffix=f"{_TMP_MARK}{path.suffix}")
    except OSError as err:
        if _is_disk_full(err, path.parent, size_hint):
            raise DiskFullError(path, size_hint) from None
        raise
    try:
        yield tmp
        _fsync_file(tmp)
        os.chmod(tmp, mode)  # the writer may have made a file of its own (safetensors: 0600)
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if _is_disk_full(err, path.parent, size_hint):
            raise DiskFullError(path, size_hint) from None
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path, len(data)) as tmp, open(tmp, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int = 2) -> None:
    """Write ``obj`` as pretty JSON atomically (keys sorted so diffs between runs are readable)."""
    atomic_write_text(path, json.dumps(obj, indent=indent, sort_keys=True, default=str) + "\n")


def atomic_torch_save(obj: Any, path: str | os.PathLike, size_hint: int | None = None) -> None:
    """``torch.save`` atomically."""
    with atomic_path(path, size_hint) as tmp:
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
