"""What ``rnnkit video`` and ``rnnkit caption`` share: the train action and printing results.

``train``: ``--preset NAME`` overrides first, then ``--data PATH`` (sets ``data.path``), then the
user's ``key=value`` overrides; ``--print-config`` shows the result; the run folder defaults to
``runs/<task>-<timestamp>``.
"""

from __future__ import annotations

import json
from pathlib import Path

from rnnkit import config as C

__all__ = ["add_train_parser", "run_train", "print_metrics", "no_extra"]


def add_train_parser(actions, task_name: str, data_help: str):
    t = actions.add_parser("train", help=f"train a {task_name} model; key=value arguments override the config")
    t.add_argument("--preset", default=None, help="named settings: demo (default), tiny, large, ...")
    t.add_argument("--data", default=None, help=data_help)
    t.add_argument("--run-dir", default=None, help=f"run folder (default runs/{task_name}-TIMESTAMP)")
    t.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
    t.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    return t


def run_train(task, args, rest: list[str]) -> int:
    from rnnkit.tasks.runs import default_run_dir

    overrides = C.parse_override_args(rest)
    cfg = task.default_config()
    if args.preset is not None:
        if args.preset not in task.PRESETS:
            raise C.ConfigError(f"unknown preset {args.preset!r} for {task.NAME}; available: {', '.join(task.PRESETS)}")
        cfg = C.apply_overrides(cfg, task.PRESETS[args.preset])
    if args.data is not None:
        overrides = [*overrides, f"data.path={args.data}"]
    cfg = C.apply_overrides(cfg, overrides)
    if args.print_config:
        print(json.dumps(C.to_dict(cfg), indent=2))
        return 0
    if args.resume and args.run_dir is None:
        raise C.ConfigError("--resume needs --run-dir naming the run to continue")
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir(task.NAME)
    print(f"run folder: {run_dir}")
    result = task.train(cfg, run_dir, resume=args.resume)
    print("\n".join(task.summary_lines(result)))
    print(f"report: {run_dir / 'report.md'}")
    return 0


def print_metrics(metrics: dict) -> None:
    for k, v in metrics.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")


def no_extra(rest: list[str]) -> None:
    if rest:
        raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
