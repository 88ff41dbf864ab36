"""What every `... train` command does with its arguments, written once.

Used by ``rnnkit train APP`` and by the application commands whose ``train`` action has the
usual options (``--preset``, ``--data``, ``--run-dir``, ``--resume``, ``--print-config``).

Resume means "continue this run": the run's own saved config (and so its data source) comes back
from ``run.json`` and only the overrides on the command line change it. Keys that shape the model
or its vocabulary cannot change on resume (the checkpoint would not fit); the error names them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from rnnkit import config as C
from rnnkit.train import distributed as D
from rnnkit.train.atomic import clean_stale_temporaries
from rnnkit.train.run_folder import RUN_FILE, default_run_dir, holds_a_run, read_run_info, record_run_event
from rnnkit.train.run_lock import run_folder_lock

# Config keys under these prefixes shape the model or its vocabulary (or the data it was built
# from): a resumed run keeps them. A task may set its own ``RESUME_FIXED`` tuple.
RESUME_FIXED = ("model.", "data.")


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
        if isinstance(v, dict) and v and all(isinstance(x, str) for x in v):
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
    if info["task"] != task.NAME:
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
    # Rank 0 alone writes the folder; it takes the lock before the first write (run.json).
    with run_folder_lock(run_dir if D.is_main() else None):
        if D.is_main():
            if not args.resume and holds_a_run(run_dir) and not getattr(args, "overwrite", False):
                raise C.ConfigError(
                    f"{run_dir} already holds a trained run: continue it with --resume, or choose another "
                    "--run-dir (--overwrite replaces it)")
            clean_stale_temporaries(run_dir)
            record_run_event(run_dir, task.NAME, C.to_dict(cfg), action="resume" if args.resume else "train",
                             changed=changed, preset=args.preset, world_size=D.world_size())
        print(f"run folder: {run_dir}")
        if args.resume:
            what = ", ".join(f"{k} {v[0]!r} -> {v[1]!r}" for k, v in changed.items()) or "nothing"
            print(f"resuming with the run's saved config; changed: {what}")
        result = task.train(cfg, run_dir, resume=args.resume)
    print("\n".join(task.summary_lines(result)))
    if report_line:
        print(f"report: {run_dir / 'report.md'}")
    return 0
