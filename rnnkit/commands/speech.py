"""``rnnkit speech``: train a CTC speech recogniser, evaluate it, transcribe audio files.

    rnnkit speech train [--preset demo|tiny|large|words] [--data FOLDER_OR_TSV] [--run-dir DIR]
                        [--resume] [--print-config] [key=value ...]
    rnnkit speech evaluate RUN [--beam-width K]
    rnnkit speech transcribe RUN FILE... [--beam-width K] [--reference TSV]
    rnnkit speech synth [key=value ...]        generate (or find) the built-in corpus; print its folder

Without ``--data`` the run synthesises the built-in digit corpus with espeak-ng
(``apt-get install -y espeak-ng``) once and caches it under ``~/.cache/rnnkit/speech``. Your own
data: a folder with ``transcripts.tsv`` whose lines are ``audio_file<TAB>transcript[<TAB>speaker]``.
``transcribe`` prints ``file<TAB>text`` lines (greedy decoding, or prefix beam search with
``--beam-width``); ``.raw`` files are read as 16-bit mono PCM at the model's sample rate.
"""

from __future__ import annotations

from pathlib import Path

from rnnkit import config as C

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser("speech", help="speech recognition: conv + biGRU + CTC on log-mel features",
                              description=__doc__.split("\n\n")[0])
    actions = p.add_subparsers(dest="speech_action", required=True)

    t = actions.add_parser("train", help="train on the espeak-ng digits or --data; writes a report with WER/CER")
    t.add_argument("--preset", default=None, help="demo (default settings), tiny (seconds), large, words")
    t.add_argument("--data", default=None, help="a folder with transcripts.tsv, or a .tsv file (sets data.path)")
    t.add_argument("--run-dir", default=None, help="run folder (default runs/speech-TIMESTAMP)")
    t.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
    t.add_argument("--print-config", action="store_true", help="print the resolved config and exit")

    e = actions.add_parser("evaluate", help="test-set WER and CER of a run (greedy and prefix beam)")
    e.add_argument("run", help="run folder")
    e.add_argument("--beam-width", type=int, default=None, help="prefix beam width (default: the run's)")

    r = actions.add_parser("transcribe", help="transcribe audio files with a trained run")
    r.add_argument("run", help="run folder")
    r.add_argument("files", nargs="+", help="audio files (WAV, FLAC, OGG; .raw = 16-bit mono PCM)")
    r.add_argument("--beam-width", type=int, default=0, help="prefix beam search of this width (0 = greedy)")
    r.add_argument("--reference", default=None,
                   help="a TSV `file<TAB>transcript` of the same files: also print WER and CER")

    actions.add_parser("synth", help="generate the built-in corpus (synth.* overrides) and print its folder")
    p.set_defaults(func=_run)


def _run(args, rest: list[str]) -> int:
    if args.speech_action == "train":
        return _train(args, C.parse_override_args(rest))
    if args.speech_action == "synth":
        return _synth(C.parse_override_args(rest))
    if rest:
        raise C.ConfigError(f"unexpected arguments: {' '.join(rest)}")
    if args.speech_action == "evaluate":
        from rnnkit.speech.pipeline import evaluate

        for k, v in evaluate(args.run, beam_width=args.beam_width).items():
            print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
        return 0
    return _transcribe(args)


def _config(preset: str | None, overrides: list[str]):
    from rnnkit.commands._shared import task_config
    from rnnkit.speech import pipeline as task

    return task_config(task, preset, overrides)


def _train(args, overrides: list[str]) -> int:
    from rnnkit.commands._shared import train_from_args
    from rnnkit.speech import pipeline as task

    return train_from_args(task, args, overrides, report_line=True)


def _synth(overrides: list[str]) -> int:
    from rnnkit.speech.synth import synthesize_corpus

    bad = [o for o in overrides if not o.startswith("synth.")]
    if bad:
        raise C.ConfigError(f"`rnnkit speech synth` takes only synth.* overrides, got {' '.join(bad)}")
    folder = synthesize_corpus(_config(None, overrides).synth)
    print(folder)
    return 0


def _transcribe(args) -> int:
    from rnnkit.speech.data import normalize_transcript, read_manifest
    from rnnkit.speech.pipeline import transcribe
    from rnnkit.speech.report import error_rates

    method = "beam" if args.beam_width else "greedy"
    results = transcribe(args.run, args.files, method=method, beam_width=args.beam_width or None)
    for f, text in results:
        print(f"{f}\t{text}")
    if args.reference:
        refs = {u.path.resolve(): normalize_transcript(u.text) for u in read_manifest(args.reference)}
        missing = [f for f, _ in results if Path(f).resolve() not in refs]
        if missing:
            raise ValueError(f"{args.reference} has no transcript for {', '.join(missing)}")
        r = error_rates([refs[Path(f).resolve()] for f, _ in results], [t for _, t in results])
        print(f"WER {100 * r['wer']:.2f}%  CER {100 * r['cer']:.2f}%  ({r['utterances']} files)")
    return 0
