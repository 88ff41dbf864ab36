"""One training process per run folder: a lock that ``Trainer.fit`` holds while it writes there.

Two processes given the same ``--run-dir`` would overwrite each other's checkpoints, and the
atomic folder swap of one can fail against the other's half-written one (``OSError: Directory
not empty``). So ``fit`` takes an exclusive ``flock`` on ``run_dir/.lock`` (rank 0 only: the
other ranks of a data-parallel run write nothing there) and a second process gets a clear
:class:`RunFolderBusy` naming the holder. The operating system drops the lock when its process
dies, so a crashed run never leaves the folder locked; the small ``.lock`` file stays (deleting
it would race with the next locker). Where ``fcntl`` does not exist (Windows) there is no lock.

The lock is re-entrant within one process: the CLI takes it before the application writes its
first file (``run.json``, the vocabulary), and the Trainer's own ``fit`` inside that block then
finds it already held instead of locking itself out (``flock`` locks belong to an open file, so a
second ``open`` + ``flock`` in the same process would be refused).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ["LOCK_FILE", "RunFolderBusy", "holds_run_folder_lock", "run_folder_lock"]

LOCK_FILE = ".lock"

# resolved run folder -> how many nested ``run_folder_lock`` blocks of this process hold it
_held: dict[str, int] = {}


def _key(run_dir: Path) -> str:
    return os.path.realpath(run_dir)


def holds_run_folder_lock(run_dir: str | Path) -> bool:
    """True when this process holds ``run_dir``'s lock (only then may it write there)."""
    return fcntl is None or _held.get(_key(Path(run_dir)), 0) > 0


class RunFolderBusy(RuntimeError):
    """Another live process is training into this run folder."""


@contextlib.contextmanager
def run_folder_lock(run_dir: str | Path | None) -> Iterator[None]:
    """Hold the run folder's lock for the ``with`` block; no-op for ``run_dir=None``."""
    if run_dir is None or fcntl is None:
        yield
        return
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    key = _key(run_dir)
    if _held.get(key, 0) > 0:  # already ours: nest
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise RunFolderBusy(
                f"run folder {run_dir} is in use by {holder}: two trainings in one folder would overwrite "
                "each other's checkpoints. Give this run another --run-dir, or let that one finish first "
                "(--resume then continues it)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} (since {time.strftime('%Y-%m-%d %H:%M:%S')})"
                  .encode(), 0)
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
    finally:
        os.close(fd)  # closing the only descriptor of the lock drops it
