"""What ``rnnkit train APP`` does for every app, written once: the argument block, the config
(defaults, preset, ``--config`` file, the app's options, ``key=value`` overrides), resume, the run
folder's lock and history, data-parallel launch under torchrun; and ``rnnkit runs``.

Resume means "continue this run": the run's own saved config (and so its data source) comes back
from ``run.json`` and only the overrides on the command line change it. Keys that shape the model
or its vocabulary cannot change on resume (the checkpoint would not fit); the error names them.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any, Callable

from rnnkit import config as C
from rnnkit.train import distributed as D
from rnnkit.train.atomic import clean_stale_temporaries
from rnnkit.train.run_folder import (
    RUN_FILE,
    default_run_dir,
    discard_if_untrained,
    holds_a_run,
    read_run_info,
    record_run_event,
    untrained,
)
from rnnkit.train.run_lock import run_folder_lock

# Config keys under these prefixes shape the model or its vocabulary (or the data it was built
# from): a resumed run keeps them. A task may set its own ``RESUME_FIXED`` tuple.
RESUME_FIXED = ("model.", "data.")


def add_common_train_args(p, app: str) -> None:
    """The one train argument block, shared by every app."""
    p.add_argument("--preset", default=None, help="named settings of the app (listed below)")
    p.add_argument("--data", default=None, help="your own data (sets data.path)")
    p.add_argument("--config", default=None, metavar="FILE",
                   help="a JSON or TOML file of settings (nested tables or dotted keys); key=value overrides win")
    p.add_argument("--run-dir", default=None, help=f"run folder (default runs/{app}-TIMESTAMP)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --run-dir with its saved settings; key=value changes only those keys")
    p.add_argument("--overwrite", action="store_true", help="train afresh into a run folder that already holds a run")
    p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")


def config_epilog(entry) -> str:
    """Presets and every config key with its type and default, for ``rnnkit train APP --help``."""
    try:
        task = entry.task
        cfg = task.default_config()
    except ImportError as err:  # an optional dependency of the app is missing
        return f"(settings unavailable: {err})"
    flat = _flat(C.to_dict(cfg))
    hints = {k: C.type_name(t) for k, t in _leaf_types(type(cfg)).items()}
    lines = ["presets:"] + [f"  {name}: {' '.join(ov) or '(the defaults)'}" for name, ov in task.PRESETS.items()]
    lines += ["", "config keys (key=value on the command line):"]
    lines += [f"  {k} ({hints.get(k, '?')}) = {json.dumps(v)}" for k, v in flat.items()]
    return "\n".join(lines)


def _leaf_types(cls, prefix: str = "") -> dict[str, Any]:
    import dataclasses
    import typing

    out: dict[str, Any] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            out.update(_leaf_types(tp, f"{prefix}{f.name}."))
        else:
            out[prefix + f.name] = tp
    return out


def config_file_overrides(path: str | Path) -> list[str]:
    """``key=value`` overrides from a JSON or TOML file (nested tables or dotted keys)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--config {path}: no such file")
    text = path.read_bytes()
    try:
        if path.suffix.lower() == ".toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]
            data = tomllib.loads(text.decode("utf-8"))
        else:
            data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as err:
        raise C.ConfigError(f"--config {path}: not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'} ({err})") from None
    if not isinstance(data, dict):
        raise C.ConfigError(f"--config {path}: expected a table of settings, got {type(data).__name__}")

    def text_of(v: Any) -> str:
        if v is None:
            return "none"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (list, tuple)):
            return ",".join(text_of(x) for x in v)
        return str(v)

    return [f"{k}={text_of(v)}" for k, v in _flat(data).items()]


def task_config(task, preset: str | None, overrides: list[str]):
    """The task's default config, then its named preset, then the user's overrides."""
    cfg = task.default_config()
    if preset is not None:
        if preset not in task.PRESETS:
            raise C.ConfigError(f"unknown preset {preset!r} for {task.NAME}; available: {', '.join(task.PRESETS)}")
        cfg = C.apply_overrides(cfg, task.PRESETS[preset])
    return C.apply_overrides(cfg, overrides)


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v and all(isinstance(x, str) for x in v) and not k.endswith("_kwargs"):
            sub = _flat(v, f"{prefix}{k}.")
            out.update(sub if sub else {prefix + k: v})
        else:
            out[prefix + k] = v
    return out


def config_changes(old: Any, new: Any) -> dict[str, list[Any]]:
    """``{dotted key: [old value, new value]}`` for every leaf that differs."""
    a, b = _flat(C.to_dict(old)), _flat(C.to_dict(new))
    return {k: [a.get(k), b.get(k)] for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def resume_config(task, run_dir: Path, preset: str | None, overrides: list[str]) -> tuple[Any, dict[str, list[Any]]]:
    """The run's saved config with ``overrides`` applied, and what they changed."""
    if not (run_dir / RUN_FILE).is_file():
        raise C.ConfigError(f"--resume: {run_dir} holds no run ({RUN_FILE} is missing); "
                            f"start one without --resume, or name an existing run folder")
    info = read_run_info(run_dir)
    if info["task"] != task.NAME and info["task"] not in getattr(task, "OLD_NAMES", ()):
        raise C.ConfigError(f"--resume: {run_dir} is a {info['task']!r} run, not {task.NAME!r}")
    if preset is not None and preset != info.get("preset"):
        raise C.ConfigError(f"--resume: the run was made with preset {info.get('preset')!r}; a resumed run "
                            f"keeps its saved settings, so --preset {preset} cannot apply (drop it)")
    saved = C.from_dict(type(task.default_config()), info["config"])
    cfg = C.apply_overrides(saved, overrides)
    changed = config_changes(saved, cfg)
    fixed = getattr(task, "RESUME_FIXED", RESUME_FIXED)
    frozen = [k for k in changed if k.startswith(fixed)]
    if frozen:
        raise C.ConfigError(
            f"--resume cannot change {', '.join(frozen)}: the run's checkpoint was trained with "
            f"{', '.join(f'{k}={changed[k][0]!r}' for k in frozen)}. Only settings such as train.* can change "
            "on resume; start a new run (another --run-dir) to change these")
    return cfg, changed


def init_distributed_from_env() -> None:
    """Join the process group torchrun describes (WORLD_SIZE > 1): NCCL on GPUs, gloo on CPUs."""
    import torch
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)


def train_app(name: str, args, rest: list[str]) -> int:
    """``rnnkit train NAME ...``: the app's options and the user's overrides, then the one train action."""
    from rnnkit.apps import get_app

    entry = get_app(name)
    cli = entry.cli
    overrides = C.parse_override_args(rest)
    own = cli.train_overrides(args) if hasattr(cli, "train_overrides") else []
    from_file = config_file_overrides(args.config) if args.config else []
    if args.resume and from_file:
        raise C.ConfigError("--config applies to a new run; with --resume give the changes as key=value")
    init_distributed_from_env()
    if D.world_size() > 1 and not getattr(entry.task, "DISTRIBUTED", False):
        raise C.ConfigError(
            f"the {name} app does not train data-parallel yet: its batches are built by the app and are not "
            "sharded per process, so every process would train on the same data. Run it without torchrun")
    try:
        resolve = None
        if hasattr(cli, "resolve_config"):  # an app whose defaults depend on its options (forecast)
            def resolve():
                data = [f"data.path={args.data}"] if args.data is not None else []
                return cli.resolve_config(args, [*from_file, *own, *data, *overrides])
        return train_from_args(entry.task, args, overrides, report_line=True,
                               extra_overrides=[*from_file, *own], resolve=resolve)
    finally:
        if D.is_distributed():
            import torch.distributed as dist

            dist.destroy_process_group()


def list_runs(root: str | Path) -> list[dict[str, str]]:
    """Run folders under ``root`` (newest first): folder, app, date, headline metric."""
    from rnnkit.train.run_folder import RUN_FILE

    rows = []
    for info_path in sorted(Path(root).glob(f"*/{RUN_FILE}"), key=lambda p: p.stat().st_mtime, reverse=True):
        run = info_path.parent
        try:
            info = json.loads(info_path.read_text("utf-8"))
        except (OSError, ValueError):
            rows.append({"run": str(run), "app": "?", "date": "", "headline": f"{RUN_FILE} is damaged"})
            continue
        history = info.get("history") or [{}]
        date = history[0].get("time") or time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info_path.stat().st_mtime))
        rows.append({"run": str(run), "app": str(info.get("task", "?")), "date": date, "headline": _headline(run)})
    return rows


# Report keys that are an app's own headline figure, in order of preference; anything else that
# is a number and not a baseline's comes after them.
_HEADLINE_KEYS = ("test_bpc", "accuracy", "test_accuracy", "macro_f1", "wer", "bleu", "rnn_mase", "mase", "nll", "mse")
_BASELINE_WORDS = ("lzma", "baseline", "naive", "bigram", "unigram", "copy", "dictionary", "nearest")


def _numbers(d: Any, prefix: str = "", depth: int = 0) -> dict[str, float]:
    out: dict[str, float] = {}
    if isinstance(d, dict) and depth < 3:
        for k, v in d.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[prefix + str(k)] = float(v)
            else:
                out.update(_numbers(v, f"{prefix}{k}.", depth + 1))
    return out


def _headline(run: Path) -> str:
    """The run's headline figure from report.json (its own metric, not a baseline's)."""
    report = run / "report.json"
    if report.is_file():
        try:
            nums = _numbers(json.loads(report.read_text("utf-8")))
        except (OSError, ValueError):
            nums = {}
        own = {k: v for k, v in nums.items() if not any(w in k.lower() for w in _BASELINE_WORDS)}
        for key in _HEADLINE_KEYS:
            hit = next((k for k in own if k == key or k.endswith("." + key)), None)
            if hit is not None:
                return f"{hit} {own[hit]:.4g}"
    return "trained (no report yet)" if holds_a_run(run) else "no checkpoint"


def train_from_args(task, args, overrides: list[str], report_line: bool = False,
                    resolve: Callable[[], Any] | None = None, extra_overrides: list[str] = ()) -> int:
    """Resolve the config from ``args`` and ``overrides``, train ``task``, print its summary.

    ``resolve()`` builds a fresh run's config when the command has options beyond the usual
    (default: defaults, ``--preset``, then ``extra_overrides`` and ``overrides``).
    ``extra_overrides`` (such as ``data.path`` from ``--data``) also apply on resume.
    """
    data = [f"data.path={args.data}"] if getattr(args, "data", None) is not None else []
    overrides = [*extra_overrides, *data, *overrides]
    run_dir = Path(args.run_dir) if args.run_dir else None
    if args.resume:
        if run_dir is None:
            raise C.ConfigError("--resume needs --run-dir naming the run to continue")
        cfg, changed = resume_config(task, run_dir, args.preset, overrides)
    else:
        cfg, changed = (resolve() if resolve is not None else task_config(task, args.preset, overrides)), {}
    if args.print_config:
        print(json.dumps(C.to_dict(cfg), indent=2))
        return 0
    run_dir = run_dir or default_run_dir(task.NAME)
    args.run_dir = str(run_dir)  # for the hint after an interruption (rnnkit.cli)
    # Rank 0 alone writes the folder; it takes the lock before the first write (run.json).
    with run_folder_lock(run_dir if D.is_main() else None):
        if D.is_main():
            if not args.resume and holds_a_run(run_dir) and not getattr(args, "overwrite", False):
                raise C.ConfigError(
                    f"{run_dir} already holds a trained run: continue it with --resume, or choose another "
                    "--run-dir (--overwrite replaces it)")
            clean_stale_temporaries(run_dir)
            fresh = not args.resume and untrained(run_dir)  # nothing of an earlier run to keep
            record_run_event(run_dir, task.NAME, C.to_dict(cfg), action="resume" if args.resume else "train",
                             changed=changed, preset=args.preset, world_size=D.world_size())
        say = print if D.is_main() else (lambda *a, **k: None)  # rank 0 alone talks under torchrun
        say(f"run folder: {run_dir}")
        if args.resume:
            what = ", ".join(f"{k} {v[0]!r} -> {v[1]!r}" for k, v in changed.items()) or "nothing"
            say(f"resuming with the run's saved config; changed: {what}")
        overwrite = not args.resume and getattr(args, "overwrite", False) and holds_a_run(run_dir)
        if overwrite:
            say(f"--overwrite: the run in {run_dir} is replaced by this one")
        try:
            with warnings.catch_warnings():
                if overwrite:  # asked for and said above: the Trainer's warning would only repeat it
                    warnings.filterwarnings("ignore", message=".*already holds checkpoints", category=UserWarning)
                result = task.train(cfg, run_dir, resume=args.resume)
        except BaseException:
            if D.is_main() and fresh:  # refused before anything was written: leave no run behind
                discard_if_untrained(run_dir)
            raise
    say("\n".join(task.summary_lines(result)))
    if report_line:
        say(f"report: {run_dir / 'report.md'}")
    return 0
