"""Every bad input listed in the issues before "trustworthy runs" (issue 14), through the real
``rnnkit`` command line: a clear one-line error (no traceback unless ``-v``), exit code 2, and a
run folder left intact; or, where the issue allowed it, a documented skip that is counted and
reported. The layer checks of the Python API are at the end.

What "intact" means here:

- a fresh training refused, for its data or for a setting (unknown key, wrong type, a dropout
  outside [0, 1)), leaves no folder at all: no run.json claiming a run that never trained, no
  checkpoint, no vocabulary, no temporary file; the folder trains afterwards;
- a bad file given to ``evaluate``/``predict`` of a trained run leaves the run folder byte-identical,
  and the run still evaluates or predicts afterwards.

Cost: the refused fresh trainings run ``rnnkit``'s ``main`` in this process, as ``python -m
rnnkit`` does (each is refused before any work; a process each spent 3 s importing torch, 32
of them); the trained runs and the bad files given to them are real processes, as are the
one-line errors of the other reliability tests. The trainings run two at a time from a
module-scoped pool (this suite's budget is two cores); each test waits for its own.
The table in docs/reliability.md ("Bad inputs from the earlier issues") quotes these messages.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
import warm
from procs import env, one_line_error, snapshot

ROOT = Path(__file__).resolve().parents[2]
QUIET = ("train.progress=false", "train.tensorboard=false", "train.plots=false")
TINY = ("--preset", "tiny", *QUIET)


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m rnnkit ARGS`` from this checkout, in its own process (one torch thread; forked
    from a warm interpreter, see warm.py)."""
    return warm.run(["-m", "rnnkit", *args], timeout=timeout, cwd=ROOT, env=env(PYTHONPATH=str(ROOT)))


def main_here(*args: str) -> subprocess.CompletedProcess:
    """``rnnkit.cli.main(ARGS)`` in this process, its stdout, stderr and exit code as a process's."""
    from rnnkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's own errors
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    return subprocess.CompletedProcess(["rnnkit", *args], code, out.getvalue(), err.getvalue())


def missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def show(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-2000:]}\n--- stderr\n{proc.stderr[-3000:]}"


# ------------------------------------------------------------------------------------- files
def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def corpus_text(n: int = 20000) -> str:
    from pydoc_data.topics import topics

    return "\n".join(topics[k] for k in sorted(topics))[:n]


def with_latin1_byte(text: str, line: int) -> bytes:
    """``text`` as UTF-8 with a Latin-1 'é' (byte 0xe9, not UTF-8) at the end of line ``line``."""
    lines = text.encode("utf-8").split(b"\n")
    lines[line - 1] += b" caf\xe9"
    return b"\n".join(lines)


def forecast_csv(d: Path, n: int = 60, cell: tuple[int, str, str] | None = None, name: str = "data.csv") -> None:
    """``n`` daily points from 2020-01-01 (columns date, value); ``cell``: (row, column, text) to
    put in place of one value."""
    import pandas as pd

    t = pd.date_range("2020-01-01", periods=n, freq="D")
    df = pd.DataFrame({"date": t.strftime("%Y-%m-%d"), "value": np.sin(np.arange(n) / 3) + 0.05 * np.arange(n)})
    if cell is not None:
        df = df.astype(object)
        df.loc[cell[0], cell[1]] = cell[2]
    d.mkdir(parents=True, exist_ok=True)
    df.to_csv(d / name, index=False)


def reviews(n: int = 120) -> list[tuple[str, str]]:
    rng = np.random.default_rng(0)
    good, bad = ["great", "lovely", "moving", "superb"], ["dull", "awful", "boring", "weak"]
    return [(f"a {rng.choice(good if i % 2 == 0 else bad)} film number {i}", "pos" if i % 2 == 0 else "neg")
            for i in range(n)]


def reviews_tsv(rows=None, header: str = "text\tlabel", no_tab: int | None = None) -> str:
    """A labelled TSV; ``no_tab``: the file line (1-based) whose tab becomes a space."""
    lines = [header, *(f"{t}\t{lab}" for t, lab in (rows or reviews()))]
    if no_tab is not None:
        lines[no_tab - 1] = lines[no_tab - 1].replace("\t", " ")
    return "\n".join(lines) + "\n"


def pairs(n: int = 100) -> list[str]:
    rng = np.random.default_rng(1)
    en = ["the", "dog", "cat", "eats", "sees", "house", "big", "small", "red", "runs"]
    es = ["el", "perro", "gato", "come", "ve", "casa", "grande", "pequeño", "rojo", "corre"]
    out = []
    for _ in range(n):
        idx = rng.integers(0, 10, size=int(rng.integers(2, 6)))
        out.append(" ".join(en[j] for j in idx) + "\t" + " ".join(es[j] for j in idx))
    return out


def wav(path: Path, hz: float, seconds: float = 0.5) -> None:
    import soundfile as sf

    t = np.arange(int(16000 * seconds)) / 16000
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32), 16000)


CORRUPT_WAV = b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk"  # a RIFF header and then nothing usable


def speech_folder(d: Path, corrupt: int | None = None, oov: int | None = None) -> Path:
    """12 tone 'utterances' saying one/two/three; line ``corrupt`` (1-based) names a corrupt WAV,
    line ``oov`` a transcript with characters outside the alphabet."""
    lines = []
    for i in range(12):
        word, hz = [("one", 440), ("two", 660), ("three", 880)][i % 3]
        wav(d / f"u{i:02d}.wav", hz)
        lines.append(f"u{i:02d}.wav\t{word}")
    if corrupt is not None:
        (d / f"u{corrupt - 1:02d}.wav").write_bytes(CORRUPT_WAV)
    if oov is not None:
        lines[oov - 1] = f"u{oov - 1:02d}.wav\tfour 4ever!"
    write_text(d / "transcripts.tsv", "\n".join(lines) + "\n")
    return d


def png(path: Path, h: int = 12, w: int = 12, channels: int = 1, seed: int = 0) -> None:
    from PIL import Image

    a = (np.random.default_rng(seed).random((h, w, channels)) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a[:, :, 0] if channels == 1 else a).save(path)


def caption_folder(d: Path) -> Path:
    """24 grey 12x12 images captioned 'a dark square' / 'a bright square'."""
    lines = []
    for i in range(24):
        png(d / f"i{i:02d}.png", seed=i)
        lines.append(f"i{i:02d}.png\ta {'bright' if i % 2 else 'dark'} square")
    write_text(d / "captions.tsv", "\n".join(lines) + "\n")
    return d


def midi_folder(d: Path, corrupt: str | None = None) -> Path:
    from rnnkit.apps.music.midi_io import write_midi

    d.mkdir(parents=True, exist_ok=True)
    for i in range(10):
        write_midi([(60 + ((i + k) * 5) % 12, 12) for k in range(24)], d / f"m{i}.mid")
    if corrupt:
        (d / corrupt).write_bytes(CORRUPT_MIDI)
    return d


def video_folder(d: Path, rgb: tuple[int, int]) -> Path:
    """Four clips (folders of three grey 10x10 frames) labelled up/down; frame ``rgb`` = (clip,
    frame) is RGB instead."""
    for c in range(4):
        for t in range(3):
            png(d / f"c{c}/f{t}.png", h=10, w=10, channels=3 if (c, t) == rgb else 1)
    write_text(d / "labels.tsv", "".join(f"c{c}\t{'up' if c % 2 else 'down'}\n" for c in range(4)))
    return d


CORRUPT_MIDI = b"MThd\x00\x00\x00\x06\x00\x01garbage"  # a MIDI header cut short


# ------------------------------------------------------------------------------------- runs
# The trained runs that evaluate/predict cases need, and whose training shows a documented skip:
# app -> (what to write into the data folder d, the train arguments after `rnnkit train APP`,
# the modules the app needs).
def _classify_data(d: Path) -> None:
    rows = reviews_tsv().splitlines()
    # a blank line (line 11) and a row whose text is only spaces (line 12): both counted skips
    write_text(d / "reviews.tsv", "\n".join([*rows[:10], "", "   \tpos", *rows[10:]]) + "\n")


def _translate_data(d: Path) -> None:
    p = pairs()
    # a blank line, a pair without a target, a pair without a source: all counted skips
    write_text(d / "pairs.tsv", "\n".join([*p[:20], "", "the dog\t", "\tel perro", *p[20:]]) + "\n")


TRAININGS: dict[str, tuple[Callable[[Path], None], tuple[str, ...], tuple[str, ...]]] = {
    "classify": (_classify_data, ("--data", "{d}/reviews.tsv", *TINY), ("sklearn",)),
    "translate": (_translate_data, ("--data", "{d}/pairs.tsv", *TINY, "heatmaps=0"), ("sentencepiece", "sacrebleu")),
    "speech": (lambda d: speech_folder(d / "clips", corrupt=4, oov=5),
               ("--data", "{d}/clips", *TINY, "real_speech=false", "data.on_bad=skip"), ("soundfile", "librosa", "jiwer")),
    "caption": (lambda d: caption_folder(d / "images"), ("--data", "{d}/images", *TINY), ("PIL", "sacrebleu")),
    "music": (lambda d: midi_folder(d / "midi", corrupt="m3.mid"), ("--data", "{d}/midi", *TINY), ("mido",)),
}


# ------------------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Bad:
    """A fresh ``rnnkit train`` on a bad input. ``argv`` and ``needles`` may hold ``{d}``, the
    case's folder; ``make(d)`` writes the files there. ``config``: refused by the config, before
    any run folder exists."""

    id: str
    make: Callable[[Path], None]
    argv: tuple[str, ...]
    needles: tuple[str, ...]
    needs: tuple[str, ...] = ()
    config: bool = False
    verbose: bool = False

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True)
class BadOnRun:
    """A bad file given to ``evaluate``/``predict`` of a trained run (``{run}``), then a command
    that must still work (``good``, whose stdout holds ``good_out``)."""

    id: str
    app: str
    make: Callable[[Path], None]
    argv: tuple[str, ...]
    needles: tuple[str, ...]
    good: tuple[str, ...]
    good_out: str

    def __str__(self) -> str:
        return self.id


def _nothing(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)


def _corpus(d: Path) -> None:
    write_text(d / "corpus.txt", corpus_text(4000))


def _empty_folder(d: Path) -> None:
    (d / "empty").mkdir(parents=True, exist_ok=True)


def _latin_corpus(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "latin.txt").write_bytes(b"plain text, then one Latin-1 byte: caf\xe9\nmore text\n")


FORECAST = ("--time-col", "date", "--target", "value", *TINY)
TEXTGEN = ("train", "textgen", "--data", "{d}/corpus.txt", *TINY)

FRESH: list[Bad] = [
    # --- core (issue 2): the corpus file, config keys and types; issue 6: a dropout outside [0, 1)
    Bad("textgen-missing-corpus", _nothing, ("train", "textgen", "--data", "{d}/nope.txt", *TINY),
        ("text path does not exist", "{d}/nope.txt")),
    Bad("textgen-empty-corpus", lambda d: write_text(d / "empty.txt", ""),
        ("train", "textgen", "--data", "{d}/empty.txt", *TINY), ("text file is empty", "{d}/empty.txt")),
    Bad("textgen-non-utf8-corpus", _latin_corpus, ("train", "textgen", "--data", "{d}/latin.txt", *TINY),
        ("{d}/latin.txt: not valid UTF-8 at byte offset 38",)),
    Bad("textgen-non-utf8-corpus-verbose", _latin_corpus,
        ("-v", "train", "textgen", "--data", "{d}/latin.txt", *TINY), ("{d}/latin.txt: not valid UTF-8",),
        verbose=True),
    Bad("unknown-config-key", _corpus, (*TEXTGEN, "model.hiden_size=64"),
        ("unknown config key 'model.hiden_size'", "Did you mean 'model.hidden_size'?"), config=True),
    Bad("wrong-type-for-a-key", _corpus, (*TEXTGEN, "model.hidden_size=big"),
        ("model.hidden_size expects int, got 'big'",), config=True),
    Bad("dropout-outside-0-1", _corpus, (*TEXTGEN, "model.dropout=1.5"),
        ("model.dropout='1.5' rejected", "must be in [0, 1), got 1.5"), config=True),
    # --- forecasting (issue 3)
    Bad("forecast-missing-time-column", lambda d: forecast_csv(d),
        ("train", "forecast", "--data", "{d}/data.csv", "--time-col", "when", "--target", "value", *TINY),
        ("time column 'when' is not in the data", "columns are: date, value"), needs=("pandas", "statsforecast")),
    Bad("forecast-unparseable-date", lambda d: forecast_csv(d, cell=(7, "date", "2020-13-45")),
        ("train", "forecast", "--data", "{d}/data.csv", *FORECAST),
        ("time column 'date'", "cannot parse '2020-13-45' (row 7)"), needs=("pandas", "statsforecast")),
    Bad("forecast-non-numeric-target", lambda d: forecast_csv(d, cell=(9, "value", "n/a-ish")),
        ("train", "forecast", "--data", "{d}/data.csv", *FORECAST),
        ("target column 'value' must be numeric", "'n/a-ish' in row 9"), needs=("pandas", "statsforecast")),
    Bad("forecast-horizon-longer-than-the-series", lambda d: forecast_csv(d),
        ("train", "forecast", "--data", "{d}/data.csv", *FORECAST, "--horizon", "100"),
        ("window.horizon=100 is longer than series 'value' (60 points)",), needs=("pandas", "statsforecast")),
    Bad("forecast-fewer-points-than-input-plus-horizon", lambda d: forecast_csv(d, n=12),
        ("train", "forecast", "--data", "{d}/data.csv", *FORECAST, "--horizon", "7", "--input-len", "14"),
        ("series 'value' has 12 points", "window.input_len + window.horizon = 14 + 7 = 21"),
        needs=("pandas", "statsforecast")),
    Bad("forecast-duplicated-timestamps", lambda d: forecast_csv(d, cell=(5, "date", "2020-01-05")),
        ("train", "forecast", "--data", "{d}/data.csv", *FORECAST),
        ("duplicated timestamp 2020-01-05 in time column 'date'", "rows 4 and 5"), needs=("pandas", "statsforecast")),
    Bad("forecast-non-utf8-csv", lambda d: (forecast_csv(d, name="ok.csv"), (d / "data.csv").write_bytes(
        with_latin1_byte((d / "ok.csv").read_text(), 9))),
        ("train", "forecast", "--data", "{d}/data.csv", *FORECAST), ("{d}/data.csv:9: not valid UTF-8",),
        needs=("pandas", "statsforecast")),
    Bad("forecast-empty-csv", lambda d: write_text(d / "data.csv", ""),
        ("train", "forecast", "--data", "{d}/data.csv", *FORECAST), ("{d}/data.csv: the file is empty",),
        needs=("pandas", "statsforecast")),
    # --- language (issue 4): classify and translate files
    Bad("classify-missing-column", lambda d: write_text(d / "r.tsv", reviews_tsv(header="text\tsentiment")),
        ("train", "classify", "--data", "{d}/r.tsv", *TINY),
        ("{d}/r.tsv:1: no column 'label'", "columns: ['text', 'sentiment']", "--label-column"), needs=("sklearn",)),
    Bad("classify-tsv-line-without-a-tab", lambda d: write_text(d / "r.tsv", reviews_tsv(no_tab=6)),
        ("train", "classify", "--data", "{d}/r.tsv", *TINY),
        ("{d}/r.tsv:6: expected 2 fields like the header, got 1", "no tab between the fields?"), needs=("sklearn",)),
    Bad("classify-non-utf8", lambda d: (d.mkdir(parents=True, exist_ok=True), (d / "r.tsv").write_bytes(with_latin1_byte(reviews_tsv(), 3))),
        ("train", "classify", "--data", "{d}/r.tsv", *TINY), ("{d}/r.tsv:3: not valid utf-8 (byte 0xe9",),
        needs=("sklearn",)),
    Bad("translate-line-without-a-tab",
        lambda d: write_text(d / "p.tsv", "\n".join([*pairs()[:7], "the dog el perro", *pairs()[7:]]) + "\n"),
        ("train", "translate", "--data", "{d}/p.tsv", *TINY), ("{d}/p.tsv:8: no tab", "'the dog el perro'"),
        needs=("sentencepiece",)),
    Bad("translate-non-utf8", lambda d: (d.mkdir(parents=True, exist_ok=True), (d / "p.tsv").write_bytes(with_latin1_byte("\n".join(pairs()), 2))),
        ("train", "translate", "--data", "{d}/p.tsv", *TINY), ("{d}/p.tsv:2: not valid UTF-8 (byte 0xe9",),
        needs=("sentencepiece",)),
    # --- speech, video, caption, music (issue 5)
    # (line 1 is the first utterance the training reads: it fails before any features are computed)
    Bad("speech-corrupt-wav", lambda d: speech_folder(d / "clips", corrupt=1),
        ("train", "speech", "--data", "{d}/clips", *TINY, "real_speech=false"),
        ("{d}/clips/u00.wav: cannot read audio", "(transcripts.tsv:1)", "data.on_bad=skip"), needs=("soundfile", "librosa")),
    Bad("speech-transcript-outside-the-alphabet", lambda d: speech_folder(d / "clips", oov=1),
        ("train", "speech", "--data", "{d}/clips", *TINY, "real_speech=false"),
        ("{d}/clips/u00.wav (transcripts.tsv:1)", "characters '4!' outside the alphabet"),
        needs=("soundfile", "librosa")),
    Bad("speech-empty-folder", _empty_folder, ("train", "speech", "--data", "{d}/empty", *TINY),
        ("{d}/empty is empty of audio files and has no transcripts.tsv",), needs=("soundfile", "librosa")),
    Bad("speech-non-utf8-transcripts",
        lambda d: (speech_folder(d / "clips"), (d / "clips/transcripts.tsv").write_bytes(
            with_latin1_byte((d / "clips/transcripts.tsv").read_text(), 2))),
        ("train", "speech", "--data", "{d}/clips", *TINY), ("{d}/clips/transcripts.tsv:2: not valid UTF-8",),
        needs=("soundfile", "librosa")),
    Bad("caption-image-of-the-wrong-size", lambda d: (caption_folder(d / "images"), png(d / "images/i05.png", w=16)),
        ("train", "caption", "--data", "{d}/images", *TINY),
        ("{d}/images/i05.png: image of 16x12 pixels with 1 channel(s)", "images are 12x12 with 1 channel(s)"),
        needs=("PIL",)),
    Bad("caption-image-with-other-channels", lambda d: (caption_folder(d / "images"), png(d / "images/i07.png", channels=3)),
        ("train", "caption", "--data", "{d}/images", *TINY),
        ("{d}/images/i07.png: image of 12x12 pixels with 3 channel(s)", "12x12 with 1 channel(s)"), needs=("PIL",)),
    Bad("caption-empty-folder", _empty_folder, ("train", "caption", "--data", "{d}/empty", *TINY),
        ("{d}/empty has no captions.tsv (found: nothing)",), needs=("PIL",)),
    Bad("caption-non-utf8-captions",
        lambda d: (caption_folder(d / "images"), (d / "images/captions.tsv").write_bytes(
            with_latin1_byte((d / "images/captions.tsv").read_text(), 3))),
        ("train", "caption", "--data", "{d}/images", *TINY), ("{d}/images/captions.tsv:3: not valid UTF-8",),
        needs=("PIL",)),
    Bad("video-frame-with-other-channels", lambda d: video_folder(d / "clips", rgb=(2, 1)),
        ("train", "video", "--data", "{d}/clips", *TINY),
        ("{d}/clips/c2/f1.png: frame of 10x10 pixels with 3 channel(s)", "frames are 10x10 with 1 channel(s)"),
        needs=("PIL",)),
    Bad("video-empty-folder", _empty_folder, ("train", "video", "--data", "{d}/empty", *TINY),
        ("{d}/empty has no labels.tsv (found: nothing)",), needs=("PIL",)),
    Bad("music-corrupt-midi", lambda d: (d.mkdir(parents=True, exist_ok=True), (d / "bad.mid").write_bytes(CORRUPT_MIDI)),
        ("train", "music", "--data", "{d}/bad.mid", *TINY),
        ("{d}/bad.mid: not a readable MIDI file (EOFError: the file ends before its data does: truncated?)",),
        needs=("mido",)),
    Bad("music-empty-folder", _empty_folder, ("train", "music", "--data", "{d}/empty", *TINY),
        ("no MIDI files (.mid/.midi) in folder {d}/empty",), needs=("mido",)),
]

ON_RUN: list[BadOnRun] = [
    BadOnRun("classify-evaluate-labels-unseen-in-training", "classify",
             lambda d: write_text(d / "new.tsv", "text\tlabel\na great film\tpos\nan odd film\tmeh\n"
                                                 "a dull film\tneg\nstrange\tweird\n"),
             ("evaluate", "{run}", "--data", "{d}/new.tsv"),
             ("2 row(s) have labels not seen in training ['meh', 'weird']", "{d}/new.tsv:3: 'meh'",
              "{d}/new.tsv:5: 'weird'", "The model knows only ['neg', 'pos']"),
             ("evaluate", "{run}"), "accuracy:"),
    BadOnRun("classify-evaluate-non-utf8", "classify",
             lambda d: (d / "new.tsv").write_bytes(with_latin1_byte(reviews_tsv(reviews(6)), 4)),
             ("evaluate", "{run}", "--data", "{d}/new.tsv"), ("{d}/new.tsv:4: not valid utf-8 (byte 0xe9",),
             ("evaluate", "{run}"), "accuracy:"),
    BadOnRun("translate-predict-non-utf8", "translate",
             lambda d: (d / "in.txt").write_bytes(b"the dog\nthe caf\xe9\n"),
             ("predict", "{run}", "--file", "{d}/in.txt"), ("{d}/in.txt:2: not valid UTF-8 (byte 0xe9 at column 8)",),
             ("predict", "{run}", "the dog"), ""),
    BadOnRun("speech-predict-corrupt-wav", "speech",
             lambda d: ((d / "bad.wav").write_bytes(CORRUPT_WAV), wav(d / "ok.wav", 440)),
             ("predict", "{run}", "{d}/bad.wav"), ("{d}/bad.wav: cannot read audio",),
             ("predict", "{run}", "{d}/ok.wav"), "ok.wav\t"),
    BadOnRun("caption-predict-image-of-the-wrong-size", "caption",
             lambda d: (png(d / "wide.png", w=16), png(d / "ok.png")),
             ("predict", "{run}", "{d}/wide.png"),
             ("{d}/wide.png: image of 16x12 pixels with 1 channel(s)", "images are 12x12 with 1 channel(s)"),
             ("predict", "{run}", "{d}/ok.png"), "ok.png\t"),
    BadOnRun("music-predict-corrupt-midi-primer", "music", lambda d: (d / "bad.mid").write_bytes(CORRUPT_MIDI),
             ("predict", "{run}", "--prime-midi", "{d}/bad.mid", "--out", "{d}/out.mid"),
             ("{d}/bad.mid: not a readable MIDI file",),
             ("predict", "{run}", "--out", "{d}/ok.mid"), "generated"),
]


@dataclass(frozen=True)
class Skip:
    """A bad row the issue allowed to be skipped: the training's own output counts it, and so
    does its report."""

    app: str
    stdout: tuple[str, ...]
    report: Callable[[dict], object]  # the part of report.json that must equal ``expected``
    expected: object

    def __str__(self) -> str:
        return self.app


SKIPS = [
    Skip("classify", ("skipped 1 blank_line (line 11); 1 empty_text (line 12)",),
         lambda r: next(iter(r["data"]["skipped"].values())), {"blank_line": 1, "empty_text": 1}),
    Skip("translate", ("skipped while reading: {{'blank line': 1, 'empty source or target': 2}}",),
         lambda r: r["data"]["skipped"], {"blank line": 1, "empty source or target": 2}),
    Skip("speech", ("2 skipped (listed in the report)",),
         lambda r: sorted(Path(f).name for part in r["skipped"].values() for f, _ in part), ["u03.wav", "u04.wav"]),
    Skip("music", ("skipping {d}/midi/m3.mid: not a readable MIDI file", "skipped 1 unreadable file(s)"),
         lambda r: [Path(f).name for f, _ in r["data"]["skipped"]], ["m3.mid"]),
]


# ------------------------------------------------------------------------------------- the pool
def _fill(items: tuple[str, ...], **where: Path) -> list[str]:
    return [s.format(**{k: str(v) for k, v in where.items()}) for s in items]


@pytest.fixture(scope="module")
def jobs(request, tmp_path_factory):
    """Start every process the selected tests of this module need, two at a time: the trainings
    first (the slowest), then the fresh-run cases. -> {app or case id: (its folder, a Future of
    its process; of ``_train``'s pair for an app)}."""
    items = [item for item in request.session.items if item.module is request.module]
    selected = [item.callspec.params for item in items if hasattr(item, "callspec")]
    apps = {p["case"].app for p in selected if isinstance(p.get("case"), BadOnRun)}
    apps |= {p["skip"].app for p in selected if "skip" in p}
    if any(item.originalname == "test_the_folder_of_a_refused_training_trains_afterwards" for item in items):
        apps.add("classify")
    fresh = [p["case"] for p in selected if isinstance(p.get("case"), Bad)]
    pool = ThreadPoolExecutor(max_workers=2)
    out: dict[str, tuple[Path, Future]] = {}
    try:
        for app in sorted(apps, key=list(TRAININGS).index):
            make, args, needs = TRAININGS[app]
            if missing(*needs):
                continue
            d = tmp_path_factory.mktemp(f"train-{app}")
            make(d)
            out[app] = (d, pool.submit(_train, app, args, d))
        for case in fresh:  # run by their tests, in this process (see the module docstring)
            if missing(*case.needs):
                continue
            d = tmp_path_factory.mktemp(case.id)
            case.make(d)
            out[case.id] = (d, None)
        yield out
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _train(app: str, args: tuple[str, ...], d: Path) -> tuple[subprocess.CompletedProcess | None, subprocess.CompletedProcess]:
    """The app's tiny training into ``d/run``; for classify, after a training into the same folder
    that was refused for its data (a file that does not exist): (refused, trained)."""
    refused = None
    if app == "classify":
        refused = cli("train", app, "--data", str(d / "nope.tsv"), *TINY, "--run-dir", str(d / "run"))
    return refused, cli("train", app, *_fill(args, d=d), "--run-dir", str(d / "run"))


def trained(jobs, app: str) -> tuple[Path, subprocess.CompletedProcess]:
    if app not in jobs:
        pytest.skip(f"the {app} app needs {', '.join(missing(*TRAININGS[app][2]))}")
    d, future = jobs[app]
    _, proc = future.result()
    assert proc.returncode == 0, f"the tiny {app} training failed\n{show(proc)}"
    return d, proc


# ------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("case", FRESH, ids=str)
def test_a_bad_input_to_a_fresh_training_is_one_line_and_exit_2(case, jobs):
    if case.id not in jobs:
        pytest.skip(f"needs {', '.join(missing(*case.needs))}")
    d, _ = jobs[case.id]
    proc = main_here(*_fill(case.argv, d=d), "--run-dir", str(d / "run"))
    assert proc.returncode == 2, show(proc)
    needles = _fill(case.needles, d=d)
    if case.verbose:  # -v: the traceback, then the same one line last
        assert "Traceback (most recent call last)" in proc.stderr, show(proc)
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("rnnkit: error: ") and all(n in last for n in needles), show(proc)
    else:
        one_line_error(proc, *needles)
    run = d / "run"
    assert not run.exists(), (f"a refused training left {run}: "
                              f"{sorted(p.relative_to(run).as_posix() for p in run.rglob('*'))}")


def test_the_folder_of_a_refused_training_trains_afterwards(jobs):
    """The classify run of this module was first refused into its folder (a missing file)."""
    if "classify" not in jobs:
        pytest.skip(f"the classify app needs {', '.join(missing(*TRAININGS['classify'][2]))}")
    d, future = jobs["classify"]
    refused, good = future.result()
    assert refused.returncode == 2, show(refused)
    one_line_error(refused, f"no such data file: {d / 'nope.tsv'}")
    assert good.returncode == 0, show(good)
    run = d / "run"
    assert (run / "checkpoints").is_dir() and (run / "report.json").is_file()
    info = json.loads((run / "run.json").read_text("utf-8"))
    assert [h["action"] for h in info["history"]] == ["train"], "the refused attempt is not the run's history"


@pytest.mark.parametrize("skip", SKIPS, ids=str)
def test_a_documented_skip_is_counted_and_reported(skip, jobs):
    d, proc = trained(jobs, skip.app)
    for needle in _fill(skip.stdout, d=d):
        assert needle in proc.stdout, show(proc)
    report = json.loads((d / "run" / "report.json").read_text("utf-8"))
    assert skip.report(report) == skip.expected


@pytest.mark.parametrize("case", ON_RUN, ids=str)
def test_a_bad_file_for_a_trained_run_is_one_line_and_leaves_the_run_working(case, jobs, tmp_path):
    d, _ = trained(jobs, case.app)
    run = d / "run"
    case.make(tmp_path)
    before = snapshot(run)
    proc = cli(*_fill(case.argv, run=run, d=tmp_path))
    assert proc.returncode == 2, show(proc)
    one_line_error(proc, *_fill(case.needles, d=tmp_path))
    assert snapshot(run) == before, "the run folder changed"
    good = cli(*_fill(case.good, run=run, d=tmp_path))
    assert good.returncode == 0 and case.good_out in good.stdout, show(good)


# ------------------------------------------------------------------------------------- Python API
def _api_cases():
    import rnnkit
    from rnnkit.cells.regularized import VariationalDropout
    from rnnkit.layers.parallel import MinGRU, MinLSTM

    lstm = rnnkit.LSTM(4, 8, batch_first=True)
    x = torch.randn(2, 3, 4)
    return [
        ("input-of-rank-4", lambda: lstm(torch.randn(2, 3, 4, 5)),
         ("expects input of rank 3 (batch, time, features)", "got rank 4 with shape (2, 3, 4, 5)")),
        ("input-of-rank-1", lambda: lstm(torch.randn(4)), ("expects input of rank 3", "got rank 1")),
        ("wrong-feature-size", lambda: lstm(torch.randn(2, 3, 5)), ("expects 4 input features, got 5",)),
        ("lengths-longer-than-T", lambda: lstm(x, lengths=torch.tensor([4, 2])),
         ("lengths must be in [1, T=3]", "got values from 2 to 4")),
        ("lengths-below-1", lambda: lstm(x, lengths=torch.tensor([0, 2])),
         ("lengths must be in [1, T=3]", "got values from 0 to 2")),
        ("state-of-another-batch-size", lambda: lstm(x, (torch.zeros(1, 3, 8), torch.zeros(1, 3, 8))),
         ("= (1, 2, 8), got (1, 3, 8)", "batch sizes of input and state differ")),
        ("gru-state-of-another-batch-size", lambda: rnnkit.GRU(4, 8, batch_first=True)(x, torch.zeros(1, 5, 8)),
         ("= (1, 2, 8), got (1, 5, 8)",)),
        ("layer-dropout-1", lambda: rnnkit.LSTM(4, 8, num_layers=2, dropout=1.0), ("dropout must be in [0, 1), got 1.0",)),
        ("layer-dropout-negative", lambda: rnnkit.GRU(4, 8, num_layers=2, dropout=-0.1),
         ("dropout must be in [0, 1), got -0.1",)),
        ("one-layer-model-dropout-1.5", lambda: rnnkit.ManyToMany(8, vocab_size=10, dropout=1.5),
         ("dropout must be in [0, 1), got 1.5",)),
        ("variational-dropout-1", lambda: VariationalDropout(rnnkit.LSTMCell(4, 8), p_h=1.0),
         ("p_h must be a probability in [0, 1), got 1.0",)),
        ("scan-longer-than-max-len", lambda: MinGRU(4, 8, batch_first=True, max_len=10)(torch.randn(2, 11, 4)),
         ("got a sequence of 11 steps, more than max_len=10",)),
        ("non-finite-gates-mingru", lambda: MinGRU(4, 8, batch_first=True)(torch.full((2, 3, 4), float("nan"))),
         ("expected finite states, got NaN or inf in the final state of 2 of 2 sequence(s)",)),
        ("non-finite-gates-minlstm", lambda: MinLSTM(4, 8, batch_first=True)(torch.full((2, 3, 4), float("inf"))),
         ("expected finite states, got NaN or inf",)),
    ]


API_IDS = [c[0] for c in _api_cases()]


@pytest.mark.parametrize("name", API_IDS)
def test_the_python_api_says_what_it_expected_and_what_came(name):
    _, call, needles = next(c for c in _api_cases() if c[0] == name)
    with pytest.raises(ValueError) as err:
        call()
    assert "\n" not in str(err.value)
    for needle in needles:
        assert needle in str(err.value), str(err.value)
