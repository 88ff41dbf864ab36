"""Long-range from the command line: the long-range evidence (sweep table) and the TBPTT memory demonstration.

    rnnkit train longrange [--tasks adding,copy,smnist,psmnist] [--lengths 100,1000]
                           [--cells lstm,gru,rnn,mingru,minlstm] [--steps 60] [--preset tiny|adding|long]
                           [--run-dir DIR] [--resume] [key=value ...]
    rnnkit longrange table RUN
    rnnkit longrange tbptt [--lengths 10000,40000,160000] [--tbptt 50] [--full-up-to 40000] [--rss]
                           [--out DIR]

``train`` has flags for the sweep's axes (``--tasks`` is ``data.tasks=...``); it writes report.md, report.json and longrange.png to the run folder.
``tbptt`` trains a char LM over streams of growing length with truncated BPTT (and, up to
``--full-up-to``, with full BPTT) and writes tbptt.md / tbptt.json with the autograd bytes saved
per update (and, with ``--rss``, each run's peak RSS measured in a fresh process).
"""

from __future__ import annotations

import json
from pathlib import Path

from rnnkit import config as C

_SHORTCUTS = {"tasks": "data.tasks", "lengths": "data.lengths", "cells": "model.cells", "steps": "train.steps"}


def add_train_args(r) -> None:
    r.add_argument("--tasks", default=None, help="comma separated: adding, copy, smnist, psmnist")
    r.add_argument("--lengths", default=None, help="T of adding and copy, comma separated (e.g. 100,1000,5000)")
    r.add_argument("--cells", default=None, help="comma separated: lstm, gru, rnn, mingru, minlstm")
    r.add_argument("--steps", default=None, help="training minibatches per run")


def train_overrides(args) -> list[str]:
    return [f"{key}={getattr(args, flag)}" for flag, key in _SHORTCUTS.items() if getattr(args, flag, None) is not None]


def _table_args(t) -> None:
    t.add_argument("run", help="run folder")


def _table(args, rest: list[str]) -> int:
    if rest:
        raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
    report = Path(args.run) / "report.json"
    if not report.is_file():
        raise FileNotFoundError(f"{report} is missing: run `rnnkit train longrange --run-dir {args.run}` first")
    print("\n".join(json.loads(report.read_text("utf-8"))["table"]))
    return 0


def _tbptt_args(m) -> None:
    m.add_argument("--lengths", default="10000,40000,160000", help="stream lengths in characters")
    m.add_argument("--tbptt", type=int, default=50, help="truncation length k")
    m.add_argument("--full-up-to", type=int, default=40000, help="also run full BPTT for streams up to this length")
    m.add_argument("--hidden-size", type=int, default=32)
    m.add_argument("--rss", action="store_true", help="run each in a fresh process and record its peak RSS")
    m.add_argument("--out", default=None, help="folder for tbptt.md/tbptt.json (default runs/tbptt-TIMESTAMP)")


def _tbptt_tool(args, rest: list[str]) -> int:
    if rest:
        raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
    return _tbptt(args)


TOOLS = {
    "table": ("print the table of a finished sweep", _table_args, _table),
    "tbptt": ("saved-activation bytes per update against stream length", _tbptt_args, _tbptt_tool),
}


def _ints(text: str, name: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{name} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise ValueError(f"{name} must be positive integers, got {text!r}")
    return values


def _tbptt(args) -> int:
    from rnnkit.apps.longrange import tbptt
    from rnnkit.train.run_folder import default_run_dir
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
