"""What every `... train` command does with its arguments, written once.

Used by ``rnnkit train TASK`` and by the application commands whose ``train`` action has the
usual options (``--preset``, ``--data``, ``--run-dir``, ``--resume``, ``--print-config``).
"""

from __future__ import annotations

import json
from pathlib import Path

from rnnkit import config as C


def task_config(task, preset: str | None, overrides: list[str]):
    """The task's default config, then its named preset, then the user's overrides."""
    cfg = task.default_config()
    if preset is not None:
        if preset not in task.PRESETS:
            raise C.ConfigError(f"unknown preset {preset!r} for {task.NAME}; available: {', '.join(task.PRESETS)}")
        cfg = C.apply_overrides(cfg, task.PRESETS[preset])
    return C.apply_overrides(cfg, overrides)


def train_from_args(task, args, overrides: list[str], report_line: bool = False) -> int:
    """Resolve the config from ``args`` and ``overrides``, train ``task``, print its summary."""
    from rnnkit.tasks.runs import default_run_dir

    if args.data is not None:
        overrides = [*overrides, f"data.path={args.data}"]
    cfg = task_config(task, args.preset, overrides)
    if args.print_config:
        print(json.dumps(C.to_dict(cfg), indent=2))
        return 0
    if args.resume and args.run_dir is None:
        raise C.ConfigError("--resume needs --run-dir naming the run to continue")
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir(task.NAME)
    print(f"run folder: {run_dir}")
    result = task.train(cfg, run_dir, resume=args.resume)
    print("\n".join(task.summary_lines(result)))
    if report_line:
        print(f"report: {run_dir / 'report.md'}")
    return 0
