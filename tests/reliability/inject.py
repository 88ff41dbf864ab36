"""Fault injection for the reliability suite, installed inside a real ``rnnkit`` process.

``python inject.py SPEC rnnkit-args...`` installs SPEC, then runs the ``rnnkit`` command line.
SPEC is ``ACTION:WHERE:K`` (comma-separated for several): at the K-th call (1-based) of WHERE,

- ``kill``   SIGKILL this process (the OS, not Python, ends it: no cleanup runs);
- ``enospc`` raise ``OSError(ENOSPC)``, as a full disk would.

WHERE is ``weights`` (safetensors' writer: half the file is written first), ``state``
(``trainer_state.pt``: a partial file first), ``swap`` (the checkpoint folder swap, between its
two renames) or ``step`` (the end of a training batch; K is the batch number, from 1).
"""

from __future__ import annotations

import errno
import os
import signal
import sys


def _fault(action: str) -> None:
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(errno.ENOSPC, "No space left on device")


def install(spec: str) -> None:
    import rnnkit.train.checkpoint as ckpt
    from rnnkit.train import Callback, Trainer

    for item in filter(None, spec.split(",")):
        action, where, k = item.split(":")
        k = int(k)
        calls = {"n": 0}

        def hit(calls=calls, k=k) -> bool:
            calls["n"] += 1
            return calls["n"] == k

        if where == "weights":
            real = ckpt.save_file

            def save_file(tensors, filename, metadata=None, real=real, hit=hit, action=action):
                if hit():
                    real(tensors, filename, metadata=metadata)
                    size = os.path.getsize(filename)
                    with open(filename, "r+b") as f:
                        f.truncate(size // 2)
                    _fault(action)
                return real(tensors, filename, metadata=metadata)

            ckpt.save_file = save_file
        elif where == "state":
            real_save = ckpt.atomic_torch_save

            def atomic_torch_save(obj, path, *rest, real=real_save, hit=hit, action=action):
                if hit():
                    with open(path, "wb") as f:
                        f.write(b"partial")
                    _fault(action)
                return real(obj, path, *rest)

            ckpt.atomic_torch_save = atomic_torch_save
        elif where == "swap":
            real_swap = ckpt.atomic_replace_dir

            def atomic_replace_dir(src, dst, real=real_swap, hit=hit, action=action):
                if hit():
                    from pathlib import Path

                    dst = Path(dst)
                    if dst.exists():
                        os.replace(dst, dst.with_name(dst.name + ".old"))
                    _fault(action)
                return real(src, dst)

            ckpt.atomic_replace_dir = atomic_replace_dir
        elif where == "step":
            real_init = Trainer.__init__

            class _AtStep(Callback):
                def on_train_batch_end(self, trainer, metrics, k=k, action=action):
                    if trainer.step == k:
                        _fault(action)

            def __init__(self, *a, real=real_init, **kw):
                real(self, *a, **kw)
                self.callbacks.append(_AtStep())

            Trainer.__init__ = __init__
        else:
            raise SystemExit(f"inject.py: unknown place {where!r}")


if __name__ == "__main__":
    install(sys.argv[1])
    from rnnkit.cli import main

    raise SystemExit(main(sys.argv[2:]))
