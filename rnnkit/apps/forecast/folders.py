"""A folder of data files, one series (or one panel) per file, read as one table: a stock per file
(``prices/AAPL.csv``, ``prices/MSFT.csv``), a store's or a sensor's export each, as downloads and
loggers leave them. ``--data prices`` (the folder) or ``--data 'prices/*.csv'`` (a pattern) reads
every table file in it (``.csv``, ``.tsv``, ``.txt``, ``.xlsx``, ``.parquet``, ``.json``, also
compressed), each as a single file is read, puts their rows one under the other and adds a column
``series`` holding each file's name without its suffix (``file`` where the tables have a ``series``
column already), which the role finder then takes as the series id. The files must have the
same columns; hidden files (``.DS_Store``) are passed over.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .archives import COMPRESSED

__all__ = ["data_files", "stack_files"]

_TABLE_FILES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq", ".json", ".jsonl", ".ndjson")
_PATTERN = set("*?[")


def _stem(path: Path) -> str:
    """The file's name without its suffixes: ``AAPL.csv.gz`` is ``AAPL``."""
    name = path.name
    if path.suffix.lower() in COMPRESSED:
        name = Path(name).stem
    return Path(name).stem


def _is_table(path: Path) -> bool:
    suffix = Path(path.stem).suffix.lower() if path.suffix.lower() in COMPRESSED else path.suffix.lower()
    tables = suffix in _TABLE_FILES or path.suffix.lower() == ".zip"
    return path.is_file() and not path.name.startswith(".") and tables


def data_files(path: str | Path) -> list[Path] | None:
    """The table files a folder or a glob pattern (``sales/*.csv``) names, sorted by name; None when
    ``path`` is neither (a single file, or nothing). A folder or pattern without one is an error."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if _is_table(p))
    elif _PATTERN & set(path.name) and path.parent.is_dir():
        files = sorted(p for p in path.parent.glob(path.name) if _is_table(p))
    else:
        return None
    if not files:
        raise FileNotFoundError(f"{path}: no data files in it (.csv, .tsv, .xlsx, .parquet or .json, also "
                                "compressed)")
    return files


def stack_files(path: str | Path, files: list[Path], read: Callable[[Path], pd.DataFrame]) -> pd.DataFrame:
    """The tables of ``files`` (each read by ``read``) one under the other with their file's name in
    a column (see the module doc); the note in ``attrs["notes"]`` with the first file's own."""
    tables = [read(f) for f in files]
    columns = list(tables[0].columns)
    for f, t in zip(files[1:], tables[1:]):
        if set(t.columns) != set(columns):
            raise ValueError(f"{f}: its columns ({', '.join(map(str, t.columns))}) differ from those of "
                             f"{files[0].name} "
                             f"({', '.join(map(str, columns))}); the files of a folder are read as one table, so they "
                             "need the same columns")
    name = "file" if "series" in columns else "series"
    if name in columns:
        raise ValueError(f"{path}: the files already have columns 'series' and 'file'; give one file")
    stems = [_stem(f) for f in files]
    table = pd.concat([t[columns].assign(**{name: s}) for t, s in zip(tables, stems)], ignore_index=True)
    shown = ", ".join(stems[:4]) + (" ..." if len(stems) > 4 else "")
    note = (f"{len(files)} file(s) of {path} read as one table, each file's rows named by the file in column "
            f"{name!r} ({shown})")
    table.attrs["notes"] = [note, *tables[0].attrs.get("notes", [])]
    return table
