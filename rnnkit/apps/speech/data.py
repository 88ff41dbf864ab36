"""Transcribed audio: the manifest format, the alphabet, speaker splits, features and batches.

Manifest (a user's own data, and the built-in corpora alike)
    A folder holding ``transcripts.tsv``, or the path of a ``.tsv`` file. One utterance a line::

        wavs/0001.wav<TAB>three oh seven<TAB>alice
        clips/b.flac<TAB>go left

    column 1 the audio file (relative to the TSV's folder, or absolute; anything libsndfile
    reads: WAV, FLAC, OGG; ``.raw`` = headerless 16-bit mono PCM at the feature sample rate),
    column 2 the transcript, optional column 3 the speaker. Blank lines and lines starting with
    ``#`` are ignored. Transcripts are lower-cased and runs of white space become one space;
    every remaining character must be in the alphabet (default: space, apostrophe, a-z).

Bad input
    A corrupt or unreadable audio file, a missing file, an empty transcript or one with characters
    outside the alphabet is a :class:`BadUtterance`. With ``on_bad="error"`` (the default) the
    first one stops the run with a message naming the file (and the TSV line); with
    ``on_bad="skip"`` each is left out, counted and listed in the run's report. Nothing is
    dropped silently. A training utterance too short for its transcript under CTC (fewer output
    frames than labels plus repeated neighbours) is also a counted skip, never an error.

Splits
    With a speaker column the split is by speaker: a seeded draw of whole speakers goes to test
    and validation, so the test voices are never heard in training. Without one each utterance
    is drawn on its own (said so in the report).
"""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from rnnkit.apps.speech.features import (
    AudioError,
    LogMelConfig,
    load_audio,
    utterance_features,
)

__all__ = [
    "DEFAULT_ALPHABET",
    "Alphabet",
    "BadUtterance",
    "Example",
    "SpeechBatches",
    "Utterance",
    "collate",
    "ctc_min_frames",
    "load_examples",
    "normalize_transcript",
    "read_manifest",
    "split_by_speaker",
]

DEFAULT_ALPHABET = " '" + string.ascii_lowercase
MANIFEST_NAME = "transcripts.tsv"
FORMAT_HELP = (f"expected a folder holding {MANIFEST_NAME} (or a .tsv file) with lines "
               "`audio_file<TAB>transcript[<TAB>speaker]`")


class BadUtterance(ValueError):
    """One utterance cannot be used; the message names its file and the manifest line."""


class Alphabet:
    """CTC output symbols: the blank at id 0, then the characters in the given order (ids 1..)."""

    BLANK = 0

    def __init__(self, chars: str = DEFAULT_ALPHABET) -> None:
        if len(set(chars)) != len(chars) or not chars:
            raise ValueError(f"the alphabet must be non-empty with no repeated characters, got {chars!r}")
        self.chars = chars
        self.index = {c: i + 1 for i, c in enumerate(chars)}

    def __len__(self) -> int:
        return len(self.chars) + 1

    def __eq__(self, other) -> bool:
        return isinstance(other, Alphabet) and other.chars == self.chars

    def outside(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that are not in the alphabet, in order of appearance."""
        return list(dict.fromkeys(c for c in text if c not in self.index))

    def encode(self, text: str) -> list[int]:
        bad = self.outside(text)
        if bad:
            raise ValueError(f"characters {''.join(bad)!r} are not in the alphabet {self.chars!r}")
        return [self.index[c] for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.chars[i - 1] for i in ids if i != self.BLANK)

    def to_dict(self) -> dict:
        return {"type": "ctc_alphabet", "chars": self.chars}

    @classmethod
    def from_dict(cls, d: dict) -> Alphabet:
        if d.get("type") != "ctc_alphabet":
            raise ValueError("not a saved CTC alphabet")
        return cls(d["chars"])


def normalize_transcript(text: str) -> str:
    """Lower-case; every run of white space becomes one space; no leading or trailing space."""
    return " ".join(text.lower().split())


@dataclass
class Utterance:
    path: Path
    text: str
    speaker: str = ""
    where: str = ""  # "manifest.tsv:12", for messages

    @property
    def name(self) -> str:
        return f"{self.path} ({self.where})" if self.where else str(self.path)


def read_manifest(path: str | Path) -> list[Utterance]:
    """The utterances listed by a folder's ``transcripts.tsv`` or by a ``.tsv`` file.

    Raises FileNotFoundError for a missing path or a folder with no manifest (saying how many audio
    files it holds and the format expected), ValueError for a malformed line (naming it) or a
    manifest with no utterances. Audio files are not opened here.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder ({FORMAT_HELP})")
    tsv = path / MANIFEST_NAME if path.is_dir() else path
    if not tsv.is_file():
        audio = [p for p in path.rglob("*") if p.suffix.lower() in (".wav", ".flac", ".ogg", ".raw")]
        what = f"holds {len(audio)} audio files but no {MANIFEST_NAME}" if audio else "is empty of audio files and has no " + MANIFEST_NAME
        raise FileNotFoundError(f"{path} {what} ({FORMAT_HELP})")
    utts = []
    for n, line in enumerate(_read_utf8(tsv).splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.rstrip("\r\n").split("\t")
        if len(cols) not in (2, 3) or not cols[0].strip():
            raise ValueError(f"{tsv}:{n}: expected 2 or 3 tab-separated columns "
                             f"(audio_file, transcript[, speaker]), got {len(cols)}: {line[:80]!r}")
        audio = Path(cols[0].strip()).expanduser()
        utts.append(Utterance(audio if audio.is_absolute() else tsv.parent / audio, cols[1],
                              cols[2].strip() if len(cols) == 3 else "", f"{tsv.name}:{n}"))
    if not utts:
        raise ValueError(f"{tsv} lists no utterances ({FORMAT_HELP})")
    return utts


def _read_utf8(path: Path) -> str:
    """A UTF-8 text file; bytes that are not UTF-8 are a ValueError naming the file, line and column."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        col = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise ValueError(f"{path}:{line}: not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {col}); "
                         "re-save the file as UTF-8") from None


def split_by_speaker(utts: Sequence[Utterance], val_fraction: float, test_fraction: float,
                     seed: int = 0) -> tuple[list[Utterance], list[Utterance], list[Utterance], bool]:
    """(train, val, test, by_speaker). Whole speakers go to test, then validation, until each
    holds its fraction of the speakers (at least one each); without speaker labels, utterances."""
    if not (0 <= val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"need 0 <= val_fraction, 0 < test_fraction and their sum < 1, got {val_fraction}, {test_fraction}")
    by_speaker = all(u.speaker for u in utts)
    keys = sorted({u.speaker for u in utts}) if by_speaker else [str(i) for i in range(len(utts))]
    need = 2 + (val_fraction > 0)
    if len(keys) < need:
        unit = "speakers" if by_speaker else "utterances"
        raise ValueError(f"{len(keys)} {unit} cannot be split into train, validation and test (need >= {need})")
    order = [keys[i] for i in np.random.default_rng(seed).permutation(len(keys))]
    n_test = max(1, round(test_fraction * len(keys)))
    n_val = max(1, round(val_fraction * len(keys))) if val_fraction > 0 else 0
    n_val = min(n_val, len(keys) - n_test - 1)
    test_keys, val_keys = set(order[:n_test]), set(order[n_test:n_test + n_val])
    key = (lambda iu: iu[1].speaker) if by_speaker else (lambda iu: str(iu[0]))
    parts: tuple[list, list, list] = ([], [], [])
    for iu in enumerate(utts):
        k = key(iu)
        parts[2 if k in test_keys else 1 if k in val_keys else 0].append(iu[1])
    return parts[0], parts[1], parts[2], by_speaker


@dataclass
class Example:
    """One usable utterance: features ``(T, F)`` and CTC label ids ``(S,)``."""

    features: Tensor
    labels: Tensor
    text: str
    utterance: Utterance


def load_examples(utts: Sequence[Utterance], feat: LogMelConfig, alphabet: Alphabet,
                  on_bad: Literal["error", "skip"] = "error", progress: bool = False,
                  desc: str = "features") -> tuple[list[Example], list[tuple[str, str]]]:
    """Features and labels of every utterance; ``(examples, skipped)`` with ``skipped`` a list of
    ``(file, reason)``. With ``on_bad="error"`` the first bad utterance raises :class:`BadUtterance`."""
    if on_bad not in ("error", "skip"):
        raise ValueError(f"on_bad must be 'error' or 'skip', got {on_bad!r}")
    examples, skipped = [], []
    it = utts
    if progress:
        import sys

        from tqdm.auto import tqdm

        it = tqdm(utts, desc=desc, unit="utt", file=sys.stderr, dynamic_ncols=True, leave=False)
    for u in it:
        try:
            examples.append(_example(u, feat, alphabet))
        except BadUtterance as err:
            if on_bad == "error":
                raise BadUtterance(f"{err} (pass data.on_bad=skip to leave such utterances out, counted in the report)") from None
            skipped.append((str(u.path), str(err)))
    return examples, skipped


def _example(u: Utterance, feat: LogMelConfig, alphabet: Alphabet) -> Example:
    text = normalize_transcript(u.text)
    if not text:
        raise BadUtterance(f"{u.name}: empty transcript")
    bad = alphabet.outside(text)
    if bad:
        raise BadUtterance(f"{u.name}: transcript {text!r} has characters {''.join(bad)!r} outside the "
                           f"alphabet {alphabet.chars!r} (extend it with data.alphabet=...)")
    try:
        y = load_audio(u.path, feat.sample_rate, raw=u.path.suffix.lower() == ".raw")
    except AudioError as err:
        raise BadUtterance(f"{err}" + (f" ({u.where})" if u.where else "")) from None
    return Example(utterance_features(y, feat), torch.tensor(alphabet.encode(text), dtype=torch.long), text, u)


def ctc_min_frames(labels: Sequence[int]) -> int:
    """Fewest CTC input frames that can emit ``labels``: one per label, plus a blank between each
    pair of equal neighbours (``ll`` in "hello" needs ``l _ l``)."""
    labels = list(labels)
    return len(labels) + sum(a == b for a, b in itertools.pairwise(labels))


# ---------------------------------------------------------------------------------- batches
def collate(examples: Sequence[Example], index: Sequence[int]) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """``(features (B, T, F) zero-padded, lengths (B,), labels (B, S) zero-padded, label_lengths
    (B,), index (B,))``; zero is the mean of normalised features and the CTC blank."""
    feats = [examples[i].features for i in index]
    labels = [examples[i].labels for i in index]
    x = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)
    y = torch.nn.utils.rnn.pad_sequence(labels, batch_first=True)
    return (x, torch.tensor([f.shape[0] for f in feats]), y, torch.tensor([len(l) for l in labels]),
            torch.tensor(list(index)))


class SpeechBatches:
    """Batches of utterances of similar length, so little compute goes to padding.

    Each epoch: a seeded shuffle, cut into pools of ``pool`` batches; each pool sorted by length
    and cut into batches; the batch order shuffled. The order depends only on ``(seed, epoch)``
    (``set_epoch``), so a resumed run sees the same batches. ``shuffle=False`` gives batches in
    length order, the same every time (evaluation). ``sortagrad=True`` also uses length order in
    epoch 1 (Amodei et al., 2016, "SortaGrad"): short utterances first help CTC leave its
    all-blank plateau sooner.
    """

    def __init__(self, examples: Sequence[Example], batch_size: int, shuffle: bool = True, seed: int = 0,
                 pool: int = 50, sortagrad: bool = False) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not examples:
            raise ValueError("no utterances to batch")
        self.examples, self.batch_size, self.shuffle, self.seed, self.pool = examples, batch_size, shuffle, seed, pool
        self.sortagrad = sortagrad
        self.lengths = np.array([e.features.shape[0] for e in examples])
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return math.ceil(len(self.examples) / self.batch_size)

    def batch_indices(self) -> list[np.ndarray]:
        n, bs = len(self.examples), self.batch_size
        if not self.shuffle or (self.sortagrad and self.epoch <= 1):
            order = np.argsort(self.lengths, kind="stable")
            return [order[i:i + bs] for i in range(0, n, bs)]
        rng = np.random.default_rng([self.seed, self.epoch])
        perm = rng.permutation(n)
        batches = []
        for start in range(0, n, bs * self.pool):
            chunk = perm[start:start + bs * self.pool]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[i:i + bs] for i in range(0, len(chunk), bs)]
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        for idx in self.batch_indices():
            yield collate(self.examples, idx.tolist())


def filter_feasible(examples: Sequence[Example], out_lengths_fn) -> tuple[list[Example], list[tuple[str, str]]]:
    """Training examples CTC can align (``ctc_min_frames(labels) <= output frames``), and the
    others as counted skips ``(file, reason)``."""
    kept, skipped = [], []
    for e in examples:
        frames = int(out_lengths_fn(torch.tensor([e.features.shape[0]]))[0])
        need = ctc_min_frames(e.labels.tolist())
        if need <= frames:
            kept.append(e)
        else:
            reason = (f"{e.utterance.name}: {frames} output frames cannot align its {need} CTC labels "
                      f"({e.text!r}); too short or spoken too fast")
            skipped.append((str(e.utterance.path), reason))
    return kept, skipped
