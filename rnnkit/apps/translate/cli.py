"""``rnnkit translate``: train, evaluate and use encoder-decoder translation models.

    rnnkit translate data [--rebuild]                      build/cache the built-in Bible corpus
    rnnkit train translate [--preset small|tiny|large] [--data PAIRS.tsv] [--run-dir DIR] [--resume]
                           [--print-config] [key=value ...]
    rnnkit evaluate RUN                                    BLEU/chrF on the run's test split
    rnnkit predict RUN [TEXT ...] [--file F|-] [--greedy] [--beam-size K]
                          [--length-penalty A] [--max-len N] [--no-repeat-ngram N]

``predict`` translates its arguments, else the lines of ``--file`` (``-`` = stdin), else stdin; one
output line per input line (a blank input line gives a blank output line).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rnnkit import config as C

PRESET_HELP = "small (default: Bible verses <= 20 words, minutes on a CPU), tiny (seconds), large"


def add_predict_args(x) -> None:
    x.add_argument("text", nargs="*", help="sentences to translate (default: --file or stdin)")
    x.add_argument("--file", default=None, help="a UTF-8 file with one sentence per line ('-' = stdin)")
    x.add_argument("--greedy", action="store_true", help="greedy search instead of beam search")
    x.add_argument("--beam-size", type=int, default=None)
    x.add_argument("--length-penalty", type=float, default=None)
    x.add_argument("--max-len", type=int, default=None)
    x.add_argument("--no-repeat-ngram", type=int, default=None)


def predict(args, rest: list[str]) -> int:
    # argparse leaves sentences given after an option (`predict RUN --greedy "a b"`) unparsed
    args.text = [*args.text, *(r for r in rest if not r.startswith("-"))]
    unknown = [r for r in rest if r.startswith("-")]
    if unknown:
        raise C.ConfigError(f"unexpected arguments: {' '.join(unknown)}")
    return _text(args)


predict.takes_rest = True


def evaluate(args) -> int:
    return _evaluate(args)


def _data_args(d) -> None:
    d.add_argument("--rebuild", action="store_true", help="parse again even if the cache exists")


def _data_tool(args, rest: list[str]) -> int:
    if rest:
        raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
    return _data(args)


TOOLS = {"data": ("extract, align and cache the English-Spanish Bible (needs diatheke)", _data_args, _data_tool)}


def _data(args) -> int:
    from rnnkit.apps.translate.data import bible_meta, load_bible

    corpus = load_bible(rebuild=args.rebuild)
    print(f"{len(corpus):,} verse pairs in {corpus.origin}")
    print(json.dumps(bible_meta(), indent=2))
    return 0


def _evaluate(args) -> int:
    from rnnkit.apps.translate import pipeline as P

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
    from rnnkit.apps.translate import pipeline as P

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
