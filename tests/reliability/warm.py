"""``python ARGS`` as a fork of a warm interpreter: the reliability suite's processes, 5 s cheaper each.

A fresh ``python -m rnnkit`` spends about 3 s importing torch and, when it trains, 2 s more
importing ``torch._dynamo`` (AdamW's constructor pulls it in): most of a tiny run's life. This
suite starts some seventy of them. So each pytest process keeps one server that imported torch,
``torch._dynamo``, ``rnnkit.cli`` and the apps once, and forks it per command:

    client --request--> server --fork--> waiter --fork--> runner (the command)
           <---pid------------------------ waiter
           <---wait status---------------- waiter

The runner is a real process that returns from the server's loop to the top of this script and
runs the command there with ``runpy``, as ``python`` would: its own pid (tests kill it or let it
kill itself), its own stdin (``/dev/null``), stdout and stderr (files the client reads), working
folder, environment, ``sys.argv`` and ``sys.path[0]``; ``SystemExit``, an uncaught exception and
interpreter shutdown (threads joined, ``atexit`` run, streams flushed) behave as in a fresh
interpreter. The waiter reports the runner's wait status, so a SIGKILL reads as ``-9`` as from
``subprocess.run``. What differs from a fresh interpreter is only what was imported before the
fork; Python's and numpy's random generators are reseeded in the runner, as a fresh start seeds
them (torch's generator has not been touched before the fork, so it starts as in a fresh process).

Forking is safe only while the server has one thread; it checks ``/proc/self/task`` before every
fork and, if torch or an import ever started a thread, answers so and the command runs in a fresh
process instead (test_warm.py fails then, as it checks that its runs were forked). Environment variables read at import (torch's ``OMP_NUM_THREADS``,
``ATEN_CPU_CAPABILITY`` ...) are fixed at the server's start, so there is one server per
environment, ignoring only the ``RNNKIT_*`` variables (read when rnnkit runs) and pytest's
``PYTEST_CURRENT_TEST``. ``RNNKIT_TEST_WARM=0`` makes every command a fresh process.
"""

from __future__ import annotations

import atexit
import json
import locale
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

_PRELOAD = ("torch", "torch._dynamo", "rnnkit.cli")
# Every app's modules but forecast's: its pandas/pyarrow start jemalloc's background thread, after
# which no fork is safe. A forecast command imports them in the runner, as a fresh process would.
_APPS_NOT_PRELOADED = ("forecast",)
_PER_RUN_VARIABLES = ("PYTEST_CURRENT_TEST",)  # and every RNNKIT_* variable


# ------------------------------------------------------------------------------ the client


class _Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="rnnkit-warm-"))
        self.address = str(self.folder / "socket")
        # stdin stays a pipe the server watches: when this process ends, the server does too.
        self.proc = subprocess.Popen([sys.executable, __file__, self.address], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.ready = self.proc.stdout.readline().decode().strip() == "ready"

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for p in self.folder.iterdir():
            p.unlink()
        self.folder.rmdir()


_servers: dict[tuple, _Server] = {}
_servers_lock = threading.Lock()


def _key(env: dict[str, str]) -> tuple:
    return tuple(sorted((k, v) for k, v in env.items()
                        if not k.startswith("RNNKIT_") and k not in _PER_RUN_VARIABLES))


def _server(env: dict[str, str]) -> _Server | None:
    if os.environ.get("RNNKIT_TEST_WARM", "1") == "0" or not Path("/proc/self/task").is_dir():
        return None  # asked not to, or no way to count the server's threads
    with _servers_lock:
        server = _servers.get(_key(env))
        if server is None:
            server = _servers[_key(env)] = _Server(env)
        return server if server.ready else None


@atexit.register
def _close_servers() -> None:
    for server in _servers.values():
        server.close()


def _text(data: bytes) -> str:
    """As ``subprocess.run(..., text=True)`` decodes: the locale's encoding, universal newlines."""
    return data.decode(locale.getpreferredencoding(False)).replace("\r\n", "\n").replace("\r", "\n")


def run(args: list[str], *, env: dict[str, str], cwd: str | os.PathLike | None = None,
        timeout: float | None = None) -> subprocess.CompletedProcess:
    """``subprocess.run([sys.executable, *args], capture_output=True, text=True, ...)``, forked from
    a warm server when one can serve it (``args`` is ``-m MODULE ...`` or ``SCRIPT.py ...``)."""
    runnable = args[:1] == ["-m"] or args[0].endswith(".py")
    server = _server(env) if runnable else None
    if server is None:
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd,
                              timeout=timeout, check=False)
    with tempfile.TemporaryDirectory(prefix="rnnkit-warm-run-") as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        request = {"args": list(args), "env": env, "cwd": os.fspath(cwd or os.getcwd()),
                   "stdout": str(out), "stderr": str(err)}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(server.address)
            conn.sendall(json.dumps(request).encode() + b"\n")
            reply = conn.makefile("r")
            pid = int(reply.readline())
            if pid < 0:  # the server had a second thread: it cannot fork safely
                return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                                      cwd=cwd, timeout=timeout, check=False)
            conn.settimeout(timeout)
            try:
                status = int(reply.readline())
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired([sys.executable, *args], timeout) from None
        return subprocess.CompletedProcess([sys.executable, *args], os.waitstatus_to_exitcode(status),
                                           _text(out.read_bytes()), _text(err.read_bytes()))


# ------------------------------------------------------------------------------ the server


def _one_thread() -> bool:
    return len(os.listdir("/proc/self/task")) == 1


def _serve(address: str) -> dict:
    """Accept requests until stdin closes; returns only in a runner, with its request."""
    for module in _PRELOAD:
        __import__(module)
    from rnnkit.apps.registry import APPS

    for app in APPS:
        if app.name not in _APPS_NOT_PRELOADED:
            app.task, app.cli  # noqa: B018 (importing them is the point)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(16)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # waiters are reaped by the kernel
    print("ready", flush=True)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is sys.stdin:  # the client's end closed: it is gone
                raise SystemExit(0)
            conn, _ = listener.accept()
            if not _one_thread():
                conn.sendall(b"-1\n")
                conn.close()
                continue
            if os.fork() == 0:  # the waiter
                selector.close()
                listener.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                request = json.loads(conn.makefile("r").readline())
                runner = os.fork()
                if runner == 0:
                    conn.close()
                    return request
                try:
                    conn.sendall(f"{runner}\n".encode())
                    _, status = os.waitpid(runner, 0)
                    conn.sendall(f"{status}\n".encode())
                finally:  # a client gone after a timeout has nothing left to hear
                    os._exit(0)
            conn.close()


def _become(request: dict) -> None:
    """Turn this fork into ``python ARGS`` started in the request's folder and environment."""
    import random

    import numpy as np

    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        sys.stdout.flush(), sys.stderr.flush()
        f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(f, fd)
        os.close(f)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    random.seed()
    np.random.seed()


if __name__ == "__main__":
    _request = _serve(sys.argv[1])
    _become(_request)
    _args = _request["args"]
    import runpy

    if _args[0] == "-m":
        sys.argv = [_args[1], *_args[2:]]  # run_module puts the module's file in argv[0]
        sys.path[0] = os.getcwd()
        runpy.run_module(_args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(_args)
        sys.path[0] = str(Path(_args[0]).resolve().parent)
        runpy.run_path(_args[0], run_name="__main__")
