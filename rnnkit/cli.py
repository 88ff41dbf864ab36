"""The ``rnnkit`` command. Thin: parse -> config -> the application's code. One grammar for every app:

    rnnkit train APP [--preset NAME] [--data PATH] [--config FILE] [--run-dir DIR] [--resume]
                     [--overwrite] [--print-config] [APP OPTIONS] [key=value ...]
    rnnkit evaluate RUN [APP OPTIONS]
    rnnkit predict RUN [APP INPUTS]      (alias: generate)
    rnnkit runs [ROOT]                   run folders with their app, date and headline metric
    rnnkit info                          versions, devices, backends
    rnnkit APP TOOL ...                  an app's own tools (e.g. `rnnkit speech synth`)

``rnnkit train APP --help`` lists the app's presets and every config key with its type and default.
Overrides name a config field by its dotted path and are type-checked: ``model.hidden_size=256``,
``--train.lr=3e-4`` or ``--train.epochs 5``. Unknown keys and wrong types are errors.
Under ``torchrun --nproc_per_node N -m rnnkit train APP ...`` the run is one data-parallel run.

The old forms (``rnnkit forecast train``, ``rnnkit classify predict RUN`` ...) still work for one
release and print the new form.
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

# Verbs whose code lives in a module of its own (add_<verb>_args(parser), <verb>(args) -> int),
# imported only when that verb is used: their optional dependencies stay optional.
_MODULE_VERBS = {
    "export": ("rnnkit.apps.export.cli", "export a run's model with its state as inputs/outputs (ONNX or torch.export)",
               "rnnkit[export]"),
    "serve": ("rnnkit.apps.serve.cli", "serve runs over HTTP: JSON endpoints and a web page per app",
              "rnnkit[serve]"),
}

# `rnnkit APP ACTION` (the grammar of rnnkit 0.1) -> the verb that does it now
_LEGACY_ACTIONS = {"train": "train", "run": "train", "evaluate": "evaluate", "predict": "predict",
                   "generate": "predict", "transcribe": "predict", "text": "predict"}


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    from rnnkit.apps import registry
    from rnnkit.apps.actions import add_common_train_args, config_epilog

    p = argparse.ArgumentParser(prog="rnnkit", description="Recurrent neural networks on real sequence problems.",
                                epilog="apps: " + ", ".join(registry.app_names()))
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("-v", "--verbose", action="store_true", help="log backend choices; show tracebacks of errors")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train an app; extra key=value arguments override its config")
    apps = t.add_subparsers(dest="app", required=True, metavar="APP")
    wanted = argv[argv.index("train") + 1] if "train" in argv[:-1] else None
    for entry in registry.APPS:
        full = entry.name == wanted  # only the app being trained is imported (its --help lists its keys)
        a = apps.add_parser(entry.name, help=entry.help, description=entry.help,
                            epilog=config_epilog(entry) if full and ("-h" in argv or "--help" in argv) else None,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        add_common_train_args(a, entry.name)
        if full and hasattr(entry.cli, "add_train_args"):
            entry.cli.add_train_args(a)  # an ImportError here names the missing optional package

    for verb, what in (("evaluate", "evaluate a saved run on its held-out data"),
                       ("predict", "use a saved run on new inputs (the app's own options follow RUN)"),
                       ("generate", "the same as predict")):
        v = sub.add_parser(verb, help=what, add_help=False)
        v.add_argument("run", nargs="?", help="run folder")
        # train names its folder with --run-dir: the same words work here (`predict forecast --run-dir R`)
        v.add_argument("--run-dir", dest="run_dir_option", default=None, help=argparse.SUPPRESS)
        v.add_argument("-h", "--help", action="store_true")
    for verb, (module, what, extra) in _MODULE_VERBS.items():
        v = sub.add_parser(verb, help=what, description=what)
        if argv[:1] == [verb] or (len(argv) > 1 and argv[0] in ("-v", "--verbose") and argv[1] == verb):
            mod = _verb_module(verb)
            if mod is not None:
                getattr(mod, f"add_{verb}_args")(v)
    r = sub.add_parser("runs", help="list run folders: app, date, headline metric")
    r.add_argument("root", nargs="?", default="runs", help="folder holding run folders (default: runs)")
    sub.add_parser("info", help="versions, devices and available backends")
    # An app's tools are imported only for `rnnkit APP TOOL` and for the top-level help: importing every
    # app (the forecast app pulls in pandas and statsmodels) cost each command seconds of start-up.
    first = next((a for a in argv if not a.startswith("-")), None)
    for entry in registry.APPS:
        if first is not None and first != entry.name:
            continue
        try:
            tools = getattr(entry.cli, "TOOLS", {})
        except ImportError:  # an optional dependency of this app is missing: its tools say so when called
            continue
        if tools:
            tp = sub.add_parser(entry.name, help=f"{entry.name} tools: {', '.join(tools)}")
            tsub = tp.add_subparsers(dest="tool", required=True)
            for name, (help_, add_args, _run) in tools.items():
                add_args(tsub.add_parser(name, help=help_))
    return p


def _verb_module(verb: str):
    import importlib

    module = _MODULE_VERBS[verb][0]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name and (err.name == module or module.startswith(err.name + ".")):
            return None  # this rnnkit has no such verb
        raise C.ConfigError(f"rnnkit {verb} needs {err.name}: pip install '{_MODULE_VERBS[verb][2]}'") from None


def _run_verb(verb: str, args, rest: list[str]) -> int:
    """``evaluate``/``predict RUN ...``: the run's app parses the rest of the line."""
    from pathlib import Path

    from rnnkit.apps import get_app, registry
    from rnnkit.train.run_folder import read_run_info

    if args.run_dir_option is not None:
        app_named = args.run in registry.app_names() and not Path(args.run).is_dir()
        if args.run is not None and not app_named and args.run != args.run_dir_option:
            raise C.ConfigError(f"two run folders given: {args.run} and --run-dir {args.run_dir_option}; give one")
        args.run = args.run_dir_option  # `rnnkit predict forecast --run-dir R`: the app is the run's own
    if args.run is None:
        if args.help:
            print(f"usage: rnnkit {verb} RUN [options of the run's app]; `rnnkit {verb} RUN --help` lists them")
            return 0
        raise C.ConfigError(f"{verb} needs a run folder: rnnkit {verb} RUN")
    entry = get_app(read_run_info(args.run)["task"])
    cli = entry.cli
    adder = getattr(cli, f"add_{verb}_args", None)
    handler = getattr(cli, verb, None)
    if handler is None and verb == "evaluate":
        handler = _evaluate_generic(entry)
    if handler is None:
        raise C.ConfigError(f"the {entry.name} app has no {verb} command")
    p = argparse.ArgumentParser(prog=f"rnnkit {verb} RUN", description=f"{verb} with a saved {entry.name} run")
    p.add_argument("run", help="run folder")
    if adder is not None:
        adder(p)
    argv = [args.run, *rest, *(["--help"] if args.help else [])]
    parsed, extra = p.parse_known_args(argv)
    return handler(parsed, extra) if getattr(handler, "takes_rest", False) else _no_rest(handler, parsed, extra)


def _evaluate_generic(entry):
    def evaluate(args) -> int:
        for k, v in entry.task.evaluate(args.run).items():
            print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
        return 0

    return evaluate


def _no_rest(handler, parsed, extra: list[str]) -> int:
    if extra:
        raise C.ConfigError(f"unexpected arguments: {' '.join(extra)}")
    return handler(parsed)


def _cmd_runs(root: str) -> int:
    from rnnkit.apps.actions import list_runs

    rows = list_runs(root)
    if not rows:
        print(f"no run folders under {root}")
        return 0
    width = max(len(r["run"]) for r in rows)
    for r in rows:
        print(f"{r['run']:<{width}}  {r['app']:<10} {r['date']:<19}  {r['headline']}")
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


def _legacy(argv: list[str]) -> list[str]:
    """``rnnkit APP ACTION ...`` of rnnkit 0.1 -> the new form, with a note on stderr."""
    from rnnkit.apps import registry

    if len(argv) < 2 or registry.resolve_app(argv[0]) is None or argv[1] not in _LEGACY_ACTIONS:
        return argv
    entry = registry.resolve_app(argv[0])
    if argv[1] in getattr(entry.cli, "TOOLS", {}):
        return argv
    verb = _LEGACY_ACTIONS[argv[1]]
    new = ["train", entry.name, *argv[2:]] if verb == "train" else [verb, *argv[2:]]
    print(f"rnnkit: note: `rnnkit {argv[0]} {argv[1]}` is now `rnnkit {' '.join(new[:2])}`; "
          "the old form goes away in the next release", file=sys.stderr)
    return new


def _split_globals(argv: list[str]) -> tuple[list[str], list[str]]:
    """Global options (-v, --threads N) may come anywhere; pull them to the front."""
    front, rest, i = [], [], 0
    while i < len(argv):
        a = argv[i]
        if a in ("-v", "--verbose"):
            front.append(a)
        elif a == "--threads" and i + 1 < len(argv):
            front += [a, argv[i + 1]]
            i += 1
        elif a.startswith("--threads="):
            front.append(a)
        else:
            rest.append(a)
        i += 1
    return front, rest


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    front, argv = _split_globals(argv)
    argv = front + _legacy(argv)
    args, rest = _parser(argv).parse_known_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.command == "train":
            from rnnkit.apps.actions import train_app

            return train_app(args.app, args, rest)
        if args.command in _MODULE_VERBS:
            mod = _verb_module(args.command)
            if mod is None:
                raise C.ConfigError(f"rnnkit {args.command} is not available in this version")
            if rest:
                raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
            return getattr(mod, args.command)(args)
        if args.command in ("evaluate", "predict", "generate"):
            return _run_verb("predict" if args.command == "generate" else args.command, args, rest)
        if hasattr(args, "tool"):
            from rnnkit.apps import get_app

            return get_app(args.command).cli.TOOLS[args.tool][2](args, rest)
        if rest:
            raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
        if args.command == "runs":
            return _cmd_runs(args.root)
        return _cmd_info()
    except (C.ConfigError, FileNotFoundError, ValueError, RunFolderBusy) as err:
        return _fail(args, "error", err, 2)
    except KeyboardInterrupt:  # Ctrl-C: one line, and how to continue where a run can be continued
        run_dir = getattr(args, "run_dir", None) if args.command == "train" else None
        from rnnkit.train.run_folder import holds_a_run

        hint = (f"; continue with: rnnkit train {args.app} --resume --run-dir {run_dir}"
                if run_dir and holds_a_run(run_dir) else "")
        print(f"rnnkit: interrupted{hint}", file=sys.stderr)
        return 130
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
