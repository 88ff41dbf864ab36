"""``rnnkit translate``: train, evaluate and use encoder-decoder translation models.

    rnnkit translate data [--rebuild]                      build/cache the built-in Bible corpus
    rnnkit translate train [--preset small|tiny|large] [--data PAIRS.tsv] [--run-dir DIR] [--resume]
                           [--print-config] [key=value ...]
    rnnkit translate evaluate RUN                          BLEU/chrF on the run's test split
    rnnkit translate text RUN [TEXT ...] [--file F|-] [--greedy] [--beam-size K]
                          [--length-penalty A] [--max-len N] [--no-repeat-ngram N]

``text`` translates its arguments, else the lines of ``--file`` (``-`` = stdin), else stdin; one
output line per input line (a blank input line gives a blank output line).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rnnkit import config as C

PRESET_HELP = "small (default: Bible verses <= 20 words, minutes on a CPU), tiny (seconds), large"


def register(subparsers) -> None:
    p = subparsers.add_parser("translate", help="encoder-decoder translation: train, evaluate, translate text",
                              description=__doc__, formatter_class=_raw())
    actions = p.add_subparsers(dest="action", required=True)

    d = actions.add_parser("data", help="extract, align and cache the English-Spanish Bible (needs diatheke)")
    d.add_argument("--rebuild", action="store_true", help="parse again even if the cache exists")

    t = actions.add_parser("train", help="train on a TSV of pairs or the built-in Bible; key=value overrides")
    t.add_argument("--preset", default=None, help=PRESET_HELP)
    t.add_argument("--data", default=None, help="TSV file of 'source<TAB>target' lines (sets data.path)")
    t.add_argument("--run-dir", default=None, help="run folder (default runs/translate-TIMESTAMP)")
    t.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
    t.add_argument("--print-config", action="store_true", help="print the resolved config and exit")

    e = actions.add_parser("evaluate", help="score a saved run on its test split")
    e.add_argument("run", help="run folder")

    x = actions.add_parser("text", aliases=["predict"], help="translate sentences with a saved run")
    x.add_argument("run", help="run folder")
    x.add_argument("text", nargs="*", help="sentences to translate (default: --file or stdin)")
    x.add_argument("--file", default=None, help="a UTF-8 file with one sentence per line ('-' = stdin)")
    x.add_argument("--greedy", action="store_true", help="greedy search instead of beam search")
    x.add_argument("--beam-size", type=int, default=None)
    x.add_argument("--length-penalty", type=float, default=None)
    x.add_argument("--max-len", type=int, default=None)
    x.add_argument("--no-repeat-ngram", type=int, default=None)
    p.set_defaults(func=handle)


def _raw():
    import argparse

    return argparse.RawDescriptionHelpFormatter


def handle(args, rest: list[str]) -> int:
    if args.action in ("text", "predict"):
        # argparse leaves sentences given after an option (`text RUN --greedy "a b"`) unparsed
        args.text = [*args.text, *(r for r in rest if not r.startswith("-"))]
        rest = [r for r in rest if r.startswith("-")]
    if args.action != "train" and rest:
        raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
    if args.action == "data":
        return _data(args)
    if args.action == "train":
        return _train(args, C.parse_override_args(rest))
    if args.action == "evaluate":
        return _evaluate(args)
    return _text(args)


def _data(args) -> int:
    from rnnkit.translation.data import bible_meta, load_bible

    corpus = load_bible(rebuild=args.rebuild)
    print(f"{len(corpus):,} verse pairs in {corpus.origin}")
    print(json.dumps(bible_meta(), indent=2))
    return 0


def _train(args, overrides: list[str]) -> int:
    from rnnkit.tasks.runs import default_run_dir
    from rnnkit.translation import pipeline as P

    cfg = P.default_config()
    if args.preset is not None:
        if args.preset not in P.PRESETS:
            raise C.ConfigError(f"unknown preset {args.preset!r}; available: {', '.join(P.PRESETS)}")
        cfg = C.apply_overrides(cfg, P.PRESETS[args.preset])
    if args.data is not None:
        overrides = [*overrides, f"data.path={args.data}"]
    cfg = C.apply_overrides(cfg, overrides)
    if args.print_config:
        print(json.dumps(C.to_dict(cfg), indent=2))
        return 0
    if args.resume and args.run_dir is None:
        raise C.ConfigError("--resume needs --run-dir naming the run to continue")
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir("translate")
    print(f"run folder: {run_dir}")
    result = P.train(cfg, run_dir, resume=args.resume)
    print("\n".join(P.summary_lines(result)))
    print(f"report: {run_dir / 'report.md'}")
    return 0


def _evaluate(args) -> int:
    from rnnkit.translation import pipeline as P

    result = P.evaluate(args.run)
    for name, s in result["scores"].items():
        print(f"{name}: BLEU {s['bleu']:.2f}  chrF {s['chrf']:.2f}")
    return 0


def _read_lines(name: str) -> list[str]:
    """Lines of a UTF-8 file or stdin; invalid UTF-8 is an error naming the line."""
    data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes() if Path(name).is_file() else None
    if data is None:
        raise FileNotFoundError(f"no such file: {name}")
    where = "<stdin>" if name == "-" else name
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    out = []
    for lineno, raw in enumerate(lines, start=1):
        try:
            out.append(raw.decode("utf-8").rstrip("\r").removeprefix("\ufeff" if lineno == 1 else ""))
        except UnicodeDecodeError as err:
            raise ValueError(f"{where}:{lineno}: not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1})") from None
    return out


def _text(args) -> int:
    from rnnkit.translation import pipeline as P

    lines = list(args.text) if args.text else _read_lines(args.file or "-")
    changes = {"strategy": "greedy" if args.greedy else None, "beam_size": args.beam_size,
               "length_penalty": args.length_penalty, "max_len": args.max_len,
               "no_repeat_ngram_size": args.no_repeat_ngram}
    changes = {k: v for k, v in changes.items() if v is not None}
    keep = [i for i, line in enumerate(lines) if line.strip()]
    translated = P.translate_texts(args.run, [lines[i] for i in keep], **changes) if keep else []
    out = [""] * len(lines)
    for i, t in zip(keep, translated):
        out[i] = t
    sys.stdout.write("".join(f"{line}\n" for line in out))
    return 0
