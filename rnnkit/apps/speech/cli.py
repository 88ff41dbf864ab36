"""Speech from the command line: train a CTC speech recogniser, evaluate it, transcribe audio files.

    rnnkit train speech [--preset demo|tiny|large|words] [--data FOLDER_OR_TSV] [--run-dir DIR]
                        [--resume] [--print-config] [key=value ...]
    rnnkit evaluate RUN [--beam-width K]
    rnnkit predict RUN FILE... [--beam-width K] [--reference TSV]
    rnnkit speech synth [key=value ...]        generate (or find) the built-in corpus; print its folder

Without ``--data`` the run synthesises the built-in digit corpus with espeak-ng
(``apt-get install -y espeak-ng``) once and caches it under ``~/.cache/rnnkit/speech``. Your own
data: a folder with ``transcripts.tsv`` whose lines are ``audio_file<TAB>transcript[<TAB>speaker]``.
``predict`` prints ``file<TAB>text`` lines (greedy decoding, or prefix beam search with
``--beam-width``); ``.raw`` files are read as 16-bit mono PCM at the model's sample rate.
"""

from __future__ import annotations

from pathlib import Path

from rnnkit import config as C

__all__ = ["TOOLS", "add_evaluate_args", "add_predict_args", "evaluate", "predict"]


def add_evaluate_args(e) -> None:
    e.add_argument("--beam-width", type=int, default=None, help="prefix beam width (default: the run's)")


def evaluate(args) -> int:
    from rnnkit.apps.speech.pipeline import evaluate as evaluate_run

    for k, v in evaluate_run(args.run, beam_width=args.beam_width).items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    return 0


def add_predict_args(r) -> None:
    r.add_argument("files", nargs="+", help="audio files (WAV, FLAC, OGG; .raw = 16-bit mono PCM)")
    r.add_argument("--beam-width", type=int, default=0, help="prefix beam search of this width (0 = greedy)")
    r.add_argument("--reference", default=None,
                   help="a TSV `file<TAB>transcript` of the same files: also print WER and CER")


def predict(args) -> int:
    return _transcribe(args)


def _synth_tool(args, rest: list[str]) -> int:
    return _synth(C.parse_override_args(rest))


TOOLS = {"synth": ("generate the built-in corpus (synth.* overrides) and print its folder", lambda p: None, _synth_tool)}


def _config(preset: str | None, overrides: list[str]):
    from rnnkit.apps.actions import task_config
    from rnnkit.apps.speech import pipeline as task

    return task_config(task, preset, overrides)


def _synth(overrides: list[str]) -> int:
    from rnnkit.apps.speech.synth import synthesize_corpus

    bad = [o for o in overrides if not o.startswith("synth.")]
    if bad:
        raise C.ConfigError(f"`rnnkit speech synth` takes only synth.* overrides, got {' '.join(bad)}")
    folder = synthesize_corpus(_config(None, overrides).synth)
    print(folder)
    return 0


def _transcribe(args) -> int:
    from rnnkit.apps.speech.data import normalize_transcript, read_manifest
    from rnnkit.apps.speech.pipeline import transcribe
    from rnnkit.apps.speech.report import error_rates

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
