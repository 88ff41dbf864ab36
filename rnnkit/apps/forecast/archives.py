"""Compressed data files: a table inside a ``.zip`` (as data portals package their downloads: the
World Bank's zip holds the data and two metadata files) or compressed alone (``.csv.gz``,
``.csv.bz2``, ``.csv.xz``, ``.xlsx`` is already a zip and is not one of these).

:func:`unpacked` writes the table to a temporary file with its own suffix, so the reader treats
it as any other file, and says which member of a zip was read.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["COMPRESSED", "unpacked"]

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
COMPRESSED = (*_OPENERS, ".zip")
# the members of a zip that can hold a table, in the order a table is looked for
_TABLES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".json", ".jsonl", ".ndjson")


@contextlib.contextmanager
def unpacked(path: Path) -> Iterator[tuple[Path, str | None]]:
    """``(file, note)``: the table of a compressed file, unpacked to a temporary file that is
    removed afterwards, and a note saying which member of a zip was read (None otherwise). A zip
    gives its one table, or the largest of several whose names do not start with ``Metadata``
    (the World Bank's ``Metadata_Country_...csv`` describe the data file beside them)."""
    suffix = path.suffix.lower()
    with tempfile.TemporaryDirectory(prefix="rnnkit-unpacked-") as tmp:
        if suffix in _OPENERS:
            inner = Path(path.stem)  # "sales.csv.gz" -> "sales.csv"
            target = Path(tmp) / ("table" + (inner.suffix or ".csv"))
            try:
                with _OPENERS[suffix](path, "rb") as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except (OSError, EOFError, lzma.LZMAError) as err:
                raise ValueError(f"{path}: not a readable {suffix[1:]} file ({err})") from None
            yield target, None
            return
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ValueError(f"{path}: not a readable zip file") from None
        with archive:
            members = [m for m in archive.infolist() if not m.is_dir()
                       and Path(m.filename).suffix.lower() in _TABLES and not Path(m.filename).name.startswith("._")]
            if not members:
                names = ", ".join(m.filename for m in archive.infolist()[:5]) or "nothing"
                raise ValueError(f"{path}: the zip holds no table (.csv, .tsv, .xlsx or .parquet); it holds {names}")
            data = [m for m in members if not Path(m.filename).name.lower().startswith("metadata")] or members
            member = max(data, key=lambda m: m.file_size)
            target = Path(tmp) / ("table" + Path(member.filename).suffix.lower())
            with archive.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        note = None
        if len(members) > 1:
            note = (f"{member.filename!r} was read from the zip, the largest of its {len(members)} tables "
                    f"that is not metadata")
        yield target, note
