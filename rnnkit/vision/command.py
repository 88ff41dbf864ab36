"""What ``rnnkit video`` and ``rnnkit caption`` share: the train parser, training, printing results.

``train``: ``--preset NAME`` overrides first, then ``--data PATH`` (sets ``data.path``), then the
user's ``key=value`` overrides (resolved by :func:`rnnkit.commands._shared.train_from_args`);
``--print-config`` shows the result; the run folder defaults to ``runs/<task>-<timestamp>``.
"""

from __future__ import annotations

from rnnkit import config as C

__all__ = ["add_train_parser", "run_train", "print_metrics", "no_extra"]


def run_train(task, args, rest: list[str]) -> int:
    from rnnkit.commands._shared import train_from_args

    return train_from_args(task, args, C.parse_override_args(rest), report_line=True)


def add_train_parser(actions, task_name: str, data_help: str):
    t = actions.add_parser("train", help=f"train a {task_name} model; key=value arguments override the config")
    t.add_argument("--preset", default=None, help="named settings: demo (default), tiny, large, ...")
    t.add_argument("--data", default=None, help=data_help)
    t.add_argument("--run-dir", default=None, help=f"run folder (default runs/{task_name}-TIMESTAMP)")
    t.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
    t.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    return t


def print_metrics(metrics: dict) -> None:
    for k, v in metrics.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")


def no_extra(rest: list[str]) -> None:
    if rest:
        raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
