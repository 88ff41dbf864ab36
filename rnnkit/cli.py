"""The ``rnnkit`` command. Thin: parse -> config -> call the task.

    rnnkit train TASK [--preset NAME] [--data PATH] [--run-dir DIR] [--resume] [key=value ...]
    rnnkit evaluate RUN
    rnnkit generate RUN --prompt TEXT [--max-new-tokens N] [--strategy greedy|sample]
                        [--temperature T] [--top-k K] [--top-p P] [--seed S]
    rnnkit info
    rnnkit <application> ...     commands added by rnnkit/commands/ (see `rnnkit --help`)

Overrides name a config field by its dotted path and are type-checked: ``model.hidden_size=256``,
``--train.lr=3e-4`` or ``--train.epochs 5``. Unknown keys and wrong types are errors.
"""

from __future__ import annotations

import argparse
import errno
import logging
import sys

import torch

import rnnkit
from rnnkit import config as C
from rnnkit.train import RunFolderBusy, TrainingDiverged
from rnnkit.train.atomic import DiskFullError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rnnkit", description="Recurrent neural networks on real sequence problems.")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("-v", "--verbose", action="store_true", help="log backend choices and other details")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a task; extra key=value arguments override its config")
    t.add_argument("task", help="task name, e.g. textgen")
    t.add_argument("--preset", default=None, help="named settings of the task (e.g. demo, tiny, large)")
    t.add_argument("--data", default=None, help="your own data (sets data.path)")
    t.add_argument("--run-dir", default=None, help="run folder (default runs/TASK-TIMESTAMP)")
    t.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
    t.add_argument("--overwrite", action="store_true", help="train afresh into a run folder that already holds a run")
    t.add_argument("--print-config", action="store_true", help="print the resolved config and exit")

    e = sub.add_parser("evaluate", help="evaluate a saved run on its held-out split")
    e.add_argument("run", help="run folder")

    g = sub.add_parser("generate", help="generate from a saved run")
    g.add_argument("run", help="run folder")
    g.add_argument("--prompt", required=True)
    g.add_argument("--max-new-tokens", type=int, default=300)
    g.add_argument("--strategy", choices=["greedy", "sample"], default="sample")
    g.add_argument("--temperature", type=float, default=0.8)
    g.add_argument("--top-k", type=int, default=0)
    g.add_argument("--top-p", type=float, default=1.0)
    g.add_argument("--seed", type=int, default=0)

    sub.add_parser("info", help="versions, devices and available backends")
    for module in _command_modules():
        module.register(sub)
    return p


def _command_modules():
    """Application commands (``rnnkit forecast ...``) live in ``rnnkit/commands/<name>.py``.

    Each module has ``register(subparsers)``, which adds its parser and sets ``func=callable(args)``
    as the parser default; the callable returns the exit code.
    """
    import importlib
    import pkgutil

    import rnnkit.commands as commands

    names = [m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")]
    return [importlib.import_module(f"rnnkit.commands.{name}") for name in names]


def _cmd_train(args, overrides: list[str]) -> int:
    from rnnkit.commands._shared import train_from_args
    from rnnkit.tasks import get_task

    return train_from_args(get_task(args.task), args, overrides)


def _cmd_evaluate(args) -> int:
    from rnnkit.tasks import get_task
    from rnnkit.tasks.runs import read_run_info

    task = get_task(read_run_info(args.run)["task"])
    for k, v in task.evaluate(args.run).items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    return 0


def _cmd_generate(args) -> int:
    from rnnkit.decoding import DecodingConfig
    from rnnkit.tasks import get_task
    from rnnkit.tasks.runs import read_run_info

    task = get_task(read_run_info(args.run)["task"])
    if not hasattr(task, "generate"):
        raise C.ConfigError(f"task {task.NAME!r} does not generate")
    decoding = DecodingConfig(strategy=args.strategy, temperature=args.temperature, top_k=args.top_k,
                              top_p=args.top_p, max_new_tokens=args.max_new_tokens, seed=args.seed)
    print(task.generate(args.run, args.prompt, decoding))
    return 0


def _cmd_info() -> int:
    print(f"rnnkit {rnnkit.__version__}")
    print(f"torch {torch.__version__} (CPU threads: {torch.get_num_threads()})")
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            print(f"cuda:{i} {torch.cuda.get_device_name(i)}")
    else:
        print("cuda: not available")
    try:
        from rnnkit.kernels.dispatch import available_backends
        backends = ["auto", *available_backends()]
    except ImportError:
        backends = ["loop"]
    if "triton" in backends and not torch.cuda.is_available():
        backends[backends.index("triton")] = "triton (needs CUDA: not usable here)"
    print(f"backends: {', '.join(backends)}")
    try:
        import triton  # noqa: F401
        print(f"triton {triton.__version__}")
    except ImportError:
        print("triton: not installed")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args, rest = _parser().parse_known_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.command == "train":
            return _cmd_train(args, C.parse_override_args(rest))
        if hasattr(args, "func"):
            return args.func(args, rest)
        if rest:
            raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
        if args.command == "evaluate":
            return _cmd_evaluate(args)
        if args.command == "generate":
            return _cmd_generate(args)
        return _cmd_info()
    except (C.ConfigError, FileNotFoundError, ValueError, RunFolderBusy) as err:
        return _fail(args, "error", err, 2)
    except TrainingDiverged as err:
        return _fail(args, "training stopped", err, 3)
    except DiskFullError as err:
        return _fail(args, "error", err, 4)
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = f" writing {err.filename}" if err.filename else ""
        return _fail(args, "error", f"no space left on device{where}: free some space, then run again "
                     "(--resume continues a run; its checkpoints are written atomically and stay intact)", 4)


def _fail(args, what: str, err: BaseException, code: int) -> int:
    """One line on stderr (the traceback too with -v) and the exit code."""
    if args.verbose:
        import traceback

        traceback.print_exc()
    print(f"rnnkit: {what}: {err}", file=sys.stderr)
    return code

if __name__ == "__main__":
    raise SystemExit(main())
