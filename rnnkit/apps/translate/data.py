"""Sentence pairs for translation: any TSV file, or the built-in English-Spanish Bible.

TSV format (the common one of Tatoeba/Anki exports): one pair per line, ``source<TAB>target``,
UTF-8. Columns after the second are ignored, except that a third column, when present, is kept
as the pair's reference (the Bible cache stores "Genesis 1:1" there). Rules, so that nothing is
lost silently:

- a line that is not valid UTF-8 is an error naming the file, line and byte;
- a non-empty line without a tab is an error naming the file and line;
- blank lines, and lines whose source or target is empty, are skipped and counted
  (:attr:`PairCorpus.skipped`); the counts are printed and written to the run report.

Whitespace inside a sentence is collapsed to single spaces; a UTF-8 byte-order mark is dropped.

Built-in corpus: the King James Version and the Reina-Valera 1909 from Debian's SWORD modules
(``engKJV2006eb``, ``spaRV1909eb``), read with ``diatheke`` and aligned by verse reference. The
aligned pairs are parsed once and cached as a TSV under ``~/.cache/rnnkit/bible/`` (or
``$RNNKIT_CACHE_DIR/bible/``); the parse is deterministic, and its count and SHA-256 go to a
``.json`` beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnkit.data.cache import cache_root
from rnnkit.train import atomic_write_json, atomic_write_text

__all__ = [
    "BIBLE_INSTALL",
    "BIBLE_MODULES",
    "PairCorpus",
    "align_verses",
    "cache_root",
    "load_bible",
    "parse_diatheke",
    "read_tsv",
    "split_indices",
]

BIBLE_MODULES = ("engKJV2006eb", "spaRV1909eb")
BIBLE_PACKAGES = "diatheke sword-text-kjv sword-text-sparv"
BIBLE_INSTALL = f"apt-get update && apt-get install -y {BIBLE_PACKAGES}"
BIBLE_RANGE = "Gen 1:1-Rev 22:21"
BIBLE_FILE = "kjv-rv1909.tsv"


@dataclass
class PairCorpus:
    """Aligned sentences: ``sources[i]`` translates to ``targets[i]``; ``refs[i]`` says where it came from."""

    sources: list[str]
    targets: list[str]
    refs: list[str]
    origin: str
    skipped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, index: Sequence[int]) -> PairCorpus:
        return PairCorpus([self.sources[i] for i in index], [self.targets[i] for i in index],
                          [self.refs[i] for i in index], self.origin, dict(self.skipped))


def _clean(text: str) -> str:
    return " ".join(text.split())


def read_tsv(path: str | os.PathLike) -> PairCorpus:
    """Read ``source<TAB>target[<TAB>reference...]`` lines; see the module docstring for the rules."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such TSV file: {path}")
    sources, targets, refs = [], [], []
    skipped = {"blank line": 0, "empty source or target": 0}
    data = path.read_bytes()
    lines = data.split(b"\n")
    if data.endswith(b"\n"):  # the piece after the final newline is not a line
        lines.pop()
    for lineno, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(
                f"{path}:{lineno}: not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1}); "
                f"convert the file to UTF-8, e.g. `iconv -f latin1 -t utf-8`"
            ) from None
        if lineno == 1:
            line = line.removeprefix("\ufeff")
        line = line.rstrip("\r")
        if not line.strip():
            skipped["blank line"] += 1
            continue
        if "\t" not in line:
            raise ValueError(f"{path}:{lineno}: no tab; expected 'source<TAB>target', got {line[:80]!r}")
        cols = line.split("\t")
        src, tgt = _clean(cols[0]), _clean(cols[1])
        if not src or not tgt:
            skipped["empty source or target"] += 1
            continue
        sources.append(src)
        targets.append(tgt)
        refs.append(_clean(cols[2]) if len(cols) > 2 and cols[2].strip() else f"line {lineno}")
    if not sources:
        raise ValueError(f"{path}: no sentence pairs (expected lines 'source<TAB>target')")
    return PairCorpus(sources, targets, refs, str(path), {k: v for k, v in skipped.items() if v})


# ---------------------------------------------------------------------------------- the Bible
# "Genesis 1:1: In the beginning ..."; books may be "I Samuel", "Song of Solomon", "Revelation of John".
_VERSE = re.compile(r"^\s*(?P<book>[A-Za-z0-9][A-Za-z0-9 ]*?) (?P<ch>\d+):(?P<v>\d+):(?P<text>.*)$")
_STRONGS = re.compile(r"<[GH]\d+>")  # Strong's numbers left in a few RV1909 verses
_PILCROW = "\u00b6"  # KJV paragraph marks: layout, not text
#: Bumped whenever the parse changes, so an older cache is rebuilt.
CACHE_VERSION = 2


def parse_diatheke(text: str) -> dict[str, str]:
    """``diatheke -f plain`` output -> {"Book ch:v": verse text}, in the order read.

    Lines that are not verses (psalm titles, which diatheke repeats before every verse of a
    psalm, and the closing "(module)" line) are ignored; Strong's numbers and paragraph marks (¶)
    are removed.
    """
    verses: dict[str, str] = {}
    for line in text.splitlines():
        m = _VERSE.match(line)
        if m is None:
            continue
        ref = f"{m['book']} {m['ch']}:{m['v']}"
        if ref in verses:
            raise ValueError(f"diatheke output has verse {ref} twice")
        verses[ref] = _clean(_STRONGS.sub(" ", m["text"]).replace(_PILCROW, " "))
    return verses


def align_verses(src: dict[str, str], tgt: dict[str, str]) -> tuple[PairCorpus, dict[str, int]]:
    """Pairs of verses present and non-empty in both, in the source's order; and what was dropped."""
    pairs = [(ref, s, tgt[ref]) for ref, s in src.items() if s and tgt.get(ref)]
    dropped = {"empty or missing in English": sum(1 for r, t in tgt.items() if t and not src.get(r)),
               "empty or missing in Spanish": sum(1 for r, s in src.items() if s and not tgt.get(r))}
    corpus = PairCorpus([p[1] for p in pairs], [p[2] for p in pairs], [p[0] for p in pairs], "bible")
    return corpus, dropped


def _missing_bible(why: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"the built-in Bible corpus needs Debian's SWORD modules ({why}); install them with "
        f"`{BIBLE_INSTALL}` (as root), or give your own TSV of sentence pairs with --data FILE"
    )


def _diatheke(module: str) -> str:
    exe = shutil.which("diatheke")
    if exe is None:
        raise _missing_bible("the diatheke program is not installed")
    listing = subprocess.run([exe, "-b", "system", "-k", "modulelist"], capture_output=True, text=True, check=True)
    if module not in listing.stdout:
        raise _missing_bible(f"module {module} is not installed")
    out = subprocess.run([exe, "-b", module, "-f", "plain", "-k", BIBLE_RANGE], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def build_bible_cache(path: Path) -> dict:
    """Extract both modules with diatheke, align by reference, write the TSV and its .json; -> meta."""
    en, es = (parse_diatheke(_diatheke(m)) for m in BIBLE_MODULES)
    corpus, dropped = align_verses(en, es)
    lines = [f"{s}\t{t}\t{r}\n" for s, t, r in zip(corpus.sources, corpus.targets, corpus.refs)]
    text = "".join(lines)
    meta = {"version": CACHE_VERSION, "pairs": len(corpus), "english_verses": len(en), "spanish_verses": len(es), "dropped": dropped,
            "modules": list(BIBLE_MODULES), "range": BIBLE_RANGE,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    atomic_write_json(path.with_suffix(".json"), meta)
    return meta


def load_bible(cache_dir: str | os.PathLike | None = None, rebuild: bool = False) -> PairCorpus:
    """The KJV/RV1909 verse pairs (English source, Spanish target), built on first use and cached."""
    path = Path(cache_dir) / BIBLE_FILE if cache_dir else cache_root() / "bible" / BIBLE_FILE
    if rebuild or not path.is_file() or bible_meta(path.parent).get("version") != CACHE_VERSION:
        build_bible_cache(path)
    corpus = read_tsv(path)
    corpus.origin = f"bible ({path})"
    return corpus


def bible_meta(cache_dir: str | os.PathLike | None = None) -> dict:
    path = Path(cache_dir) / BIBLE_FILE if cache_dir else cache_root() / "bible" / BIBLE_FILE
    meta_path = path.with_suffix(".json")
    return json.loads(meta_path.read_text("utf-8")) if meta_path.is_file() else {}


# ---------------------------------------------------------------------------------- splits
def split_indices(n: int, val_fraction: float, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """A seeded random partition of ``range(n)`` into train/validation/test index arrays (each sorted).

    The partition depends only on ``(n, fractions, seed)``, so a later length filter keeps every
    pair in the split it was drawn into.
    """
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction and test_fraction must be in (0, 1) with a sum < 1, got {val_fraction}, {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test, n_val = max(1, round(n * test_fraction)), max(1, round(n * val_fraction))
    if n_test + n_val >= n:
        raise ValueError(f"{n} pairs are too few for validation and test splits")
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return np.sort(train), np.sort(val), np.sort(test)
