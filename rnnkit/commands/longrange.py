"""``rnnkit longrange``: the long-range evidence (sweep table) and the TBPTT memory demonstration.

    rnnkit longrange run [--tasks adding,copy,smnist,psmnist] [--lengths 100,1000]
                         [--cells lstm,gru,rnn,mingru,minlstm] [--steps 60] [--preset tiny|adding|long]
                         [--run-dir DIR] [--resume] [key=value ...]
    rnnkit longrange table RUN
    rnnkit longrange tbptt [--lengths 10000,40000,160000] [--tbptt 50] [--full-up-to 40000] [--rss]
                           [--out DIR]

``run`` is ``rnnkit train longrange`` with flags for the sweep's axes (``--tasks`` is
``data.tasks=...``); it writes report.md, report.json and longrange.png to the run folder.
``tbptt`` trains a char LM over streams of growing length with truncated BPTT (and, up to
``--full-up-to``, with full BPTT) and writes tbptt.md / tbptt.json with the autograd bytes saved
per update (and, with ``--rss``, each run's peak RSS measured in a fresh process).
"""

from __future__ import annotations

import json
from pathlib import Path

from rnnkit import config as C

_SHORTCUTS = {"tasks": "data.tasks", "lengths": "data.lengths", "cells": "model.cells", "steps": "train.steps"}


def register(subparsers) -> None:
    p = subparsers.add_parser("longrange", help="long-range tasks across cells and T; TBPTT memory on long streams",
                              description=__doc__.split("\n\n")[0])
    actions = p.add_subparsers(dest="action", required=True)
    r = actions.add_parser("run", help="train every cell on every (task, T) and write the table and figure")
    r.add_argument("--tasks", default=None, help="comma separated: adding, copy, smnist, psmnist")
    r.add_argument("--lengths", default=None, help="T of adding and copy, comma separated (e.g. 100,1000,5000)")
    r.add_argument("--cells", default=None, help="comma separated: lstm, gru, rnn, mingru, minlstm")
    r.add_argument("--steps", default=None, help="training minibatches per run")
    r.add_argument("--preset", default=None, help="named settings (tiny, adding, long)")
    r.add_argument("--run-dir", default=None, help="run folder (default runs/longrange-TIMESTAMP)")
    r.add_argument("--resume", action="store_true", help="keep the finished runs of --run-dir, train the rest")
    t = actions.add_parser("table", help="print the table of a finished sweep")
    t.add_argument("run", help="run folder")
    m = actions.add_parser("tbptt", help="saved-activation bytes per update against stream length")
    m.add_argument("--lengths", default="10000,40000,160000", help="stream lengths in characters")
    m.add_argument("--tbptt", type=int, default=50, help="truncation length k")
    m.add_argument("--full-up-to", type=int, default=40000, help="also run full BPTT for streams up to this length")
    m.add_argument("--hidden-size", type=int, default=32)
    m.add_argument("--rss", action="store_true", help="run each in a fresh process and record its peak RSS")
    m.add_argument("--out", default=None, help="folder for tbptt.md/tbptt.json (default runs/tbptt-TIMESTAMP)")
    p.set_defaults(func=run)


def _ints(text: str, name: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{name} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise ValueError(f"{name} must be positive integers, got {text!r}")
    return values


def run(args, rest: list[str]) -> int:
    overrides = C.parse_override_args(rest)
    if args.action == "run":
        return _run(args, overrides)
    if overrides:
        raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
    if args.action == "table":
        report = Path(args.run) / "report.json"
        if not report.is_file():
            raise FileNotFoundError(f"{report} is missing: run `rnnkit longrange run --run-dir {args.run}` first")
        print("\n".join(json.loads(report.read_text("utf-8"))["table"]))
        return 0
    return _tbptt(args)


def _run(args, overrides: list[str]) -> int:
    from rnnkit.tasks import longrange
    from rnnkit.tasks.runs import default_run_dir

    cfg = longrange.default_config()
    if args.preset is not None:
        if args.preset not in longrange.PRESETS:
            raise C.ConfigError(f"unknown preset {args.preset!r}; available: {', '.join(longrange.PRESETS)}")
        cfg = C.apply_overrides(cfg, longrange.PRESETS[args.preset])
    flags = [f"{key}={getattr(args, flag)}" for flag, key in _SHORTCUTS.items() if getattr(args, flag) is not None]
    cfg = C.apply_overrides(cfg, flags + overrides)
    if args.resume and args.run_dir is None:
        raise C.ConfigError("--resume needs --run-dir naming the sweep to continue")
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir(longrange.NAME)
    print(f"run folder: {run_dir}")
    result = longrange.train(cfg, run_dir, resume=args.resume)
    print("\n".join(longrange.summary_lines(result)))
    return 0


def _tbptt(args) -> int:
    from rnnkit.tasks.longrange import tbptt
    from rnnkit.tasks.runs import default_run_dir
    from rnnkit.train import atomic_write_json, atomic_write_text

    if args.tbptt < 1:
        raise ValueError(f"--tbptt must be >= 1, got {args.tbptt}")
    out = Path(args.out) if args.out else default_run_dir("tbptt")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in _ints(args.lengths, "--lengths"):
        for k in [args.tbptt] + ([0] if n <= args.full_up_to else []):
            if args.rss:
                row = tbptt.peak_rss(n, k, hidden_size=args.hidden_size)
            else:
                row = tbptt.train_stream(n, k, hidden_size=args.hidden_size)
                row.pop("saved_bytes")
            rows.append(row)
            print("\n".join(tbptt.table_lines([row])[2:]), flush=True)
    lines = tbptt.table_lines(rows)
    atomic_write_json(out / "tbptt.json", rows)
    atomic_write_text(out / "tbptt.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written: {out / 'tbptt.md'}")
    return 0
