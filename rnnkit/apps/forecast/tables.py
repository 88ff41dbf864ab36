"""Reading a user's file into a table: CSV (separator sniffed, European decimal commas), Excel
(the sheet that holds the table), Parquet or JSON, also zipped or compressed (:mod:`.archives`);
title lines above the header and rows describing the columns under it passed over; times across
the columns turned into rows (:mod:`.layout`), and so are a year per row with the months across
the columns (:mod:`.month_columns`); a folder of such files read as one table (:mod:`.folders`).
What the columns mean and how their values are written is :mod:`.data`'s and :mod:`.writings`'
business.

What was passed over goes to the table's ``attrs["notes"]``, which :func:`.datasets.load_series`
puts first among the run's data notes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rnnkit.data.workbooks import read_workbook

from .archives import COMPRESSED, unpacked
from .folders import data_files, stack_files
from .layout import times_across_columns
from .month_columns import months_across_columns
from .writings import header_row, holds_value

__all__ = ["read_table"]


def read_table(path: str | Path, sheet: str = "") -> pd.DataFrame:
    """A CSV (``.csv``, ``.tsv``, ``.txt``), Parquet (``.parquet``, ``.pq``), Excel (``.xlsx``) or
    JSON (``.json``, ``.jsonl``) file as a DataFrame, also compressed (``.csv.gz``, ``.bz2``,
    ``.xz``) or in a ``.zip`` (:mod:`.archives`). A CSV's separator is sniffed (comma, semicolon, tab or bar); with
    semicolons, decimal commas are read as numbers when that makes more columns numeric. Lines of
    a title or a source above the header are passed over (:func:`.writings.header_row`); an Excel
    workbook gives its ``sheet`` (name or number), by default its first sheet holding a table. A
    table whose times run across its columns is turned into long format (:mod:`.layout`), and so
    is a year per row with the months across the columns (:mod:`.month_columns`). What was passed
    over or turned is in ``table.attrs["notes"]``. A folder, or a pattern such as ``sales/*.csv``,
    is its files one under the other, each file's rows named by the file (:mod:`.folders`)."""
    path = Path(path)
    files = data_files(path)
    if files is not None:
        return stack_files(path, files, lambda f: read_table(f, sheet))
    if path.suffix.lower() in COMPRESSED and path.is_file():
        with unpacked(path) as (inner, which):
            try:
                table = _read_file(inner, sheet)
            except ValueError as err:  # name the user's file, not the temporary one
                raise ValueError(str(err).replace(str(inner), str(path))) from None
        table.attrs["notes"] = [n for n in (which,) if n] + list(table.attrs.get("notes", []))
    else:
        table = _read_file(path, sheet)
    notes = list(table.attrs.get("notes", []))
    table, described = _without_description_rows(table)
    table, turned = times_across_columns(table)
    if turned is None:
        table, turned = months_across_columns(table)
    table.attrs["notes"] = notes + [n for n in (described, turned) if n]
    return table


# at most this many rows between a header and the data may describe the columns (the ABS writes 9)
_DESCRIPTION_ROWS = 12


def _without_description_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The table without the rows under its header that describe the columns instead of holding
    data, and a note; the table unchanged and None when there are none. Such a row is named in the
    first column ("Unit", "Series Type", ... "Series ID", as the Australian Bureau of Statistics
    writes them), or has an empty first cell and only words elsewhere (a units row under
    ``date,sales``: ``,USD``); the rest of the first column holds values (dates) all the way
    down, at least two data rows for each description row."""
    if table.shape[1] < 2 or len(table) < 3:
        return table, None
    first = table.iloc[:, 0]
    # the head decides whether there are description rows at all; the column below is read only
    # then, once per distinct cell (reading every cell of a 50,000-row log took 20 s)
    head = first.iloc[:_DESCRIPTION_ROWS + 1].map(holds_value).to_numpy()
    k = int(head.argmax()) if head.any() else 0
    if not 1 <= k <= _DESCRIPTION_ROWS or len(table) - k < 2 * k or not _all_values(first.iloc[k:]):
        return table, None
    labels = []
    for _, row in table.iloc[:k].iterrows():
        cells = [c for c in row.iloc[1:] if pd.notna(c) and str(c).strip()]
        if pd.notna(row.iloc[0]) and str(row.iloc[0]).strip():
            labels.append(str(row.iloc[0]).strip())
        elif cells and not any(holds_value(c) for c in cells):
            labels.append(str(cells[0]).strip())  # a units row: named by its first word
        else:  # an empty first cell beside values is a missing value at the start of the data
            return table, None
    body = table.iloc[k:].reset_index(drop=True).infer_objects()
    for c in body.columns:  # numbers that shared a column with the descriptions were read as text
        if body[c].dtype == object:
            numbers = pd.to_numeric(body[c], errors="coerce")
            if numbers.notna().sum() == body[c].notna().sum():
                body[c] = numbers
    if str(body.columns[0]).startswith("Unnamed:"):  # the ABS leaves the dates' header cell empty
        body = body.rename(columns={body.columns[0]: "date"})
    note = (f"the {k} row(s) under the header describe the columns ({', '.join(map(repr, labels[:4]))}"
            f"{' ...' if len(labels) > 4 else ''}), not data: passed over")
    return body, note


def _all_values(cells: pd.Series) -> bool:
    """Whether every cell holds a value (:func:`.writings.holds_value`), each distinct cell read once."""
    try:
        distinct = pd.unique(cells)
    except TypeError:  # unhashable cells (lists from a JSON file)
        distinct = cells
    return all(holds_value(c) for c in distinct)


def _read_file(path: Path, sheet: str) -> pd.DataFrame:
    """The file's table as written (see :func:`read_table`)."""
    if not path.is_file():
        raise FileNotFoundError(f"no such data file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(path, sheet)
    if suffix == ".xls":
        raise ValueError(f"{path}: the old Excel format (.xls) is not read; save the sheet as .xlsx or .csv")
    if suffix in (".json", ".jsonl", ".ndjson"):
        return _read_json(path, lines=suffix != ".json")
    if suffix not in (".csv", ".txt", ".tsv"):
        raise ValueError(f"{path}: unknown file type {suffix!r}; give a .csv, .tsv, .xlsx, .parquet or .json file "
                         "(or one in a .zip, or compressed: .csv.gz)")
    try:
        sep = "\t" if suffix == ".tsv" else _sniff_separator(path)
        skip, title = _title_lines(path, sep)
        table = pd.read_csv(path, sep=sep, skiprows=skip)
        if sep == ";":  # the European spreadsheet CSV, whose decimals may be commas (3,14)
            commas = pd.read_csv(path, sep=sep, decimal=",", skiprows=skip)
            numeric = [t.select_dtypes("number").shape[1] for t in (table, commas)]
            table = commas if numeric[1] > numeric[0] else table
        # "date, value" (a space after each comma) names a column " value": strip the names;
        # ",," rows (a spreadsheet's blank rows below the data) hold nothing: dropped
        table = table.rename(columns=lambda c: c.strip() if isinstance(c, str) else c).dropna(how="all")
        if skip:
            table.attrs["notes"] = [f"the file's first {skip} line(s), above the header, were passed over "
                                    f"(they begin {title!r})"]
        return table
    except UnicodeDecodeError:
        raw = path.read_bytes()  # pandas decodes in chunks: find the byte's place in the whole file
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw.count(b"\n", 0, err.start) + 1
            col = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
            raise ValueError(f"{path}:{line}: not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {col}); "
                             "re-save the file as UTF-8") from None
        raise
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the file is empty (expected a header line naming the columns)") from None
    except pd.errors.ParserError as err:
        raise ValueError(f"{path}: not a readable {suffix[1:].upper()} table ({err})") from None


def _title_lines(path: Path, sep: str) -> tuple[int, str]:
    """How many lines above a CSV's header to pass over (a title, a source line), and the first."""
    import csv
    import itertools

    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        rows = list(itertools.islice(csv.reader(f, delimiter=sep), 60))
    skip = header_row(rows)
    first = next((sep.join(c for c in r if c.strip()) for r in rows[:skip] if any(c.strip() for c in r)), "")
    return skip, first


def _read_excel(path: Path, sheet: str = "") -> pd.DataFrame:
    """A sheet of an Excel workbook (openpyxl reads it): ``sheet`` (its name or number), else the
    first that holds a table (a header row of two or more names, values below it); the header may
    sit below a title or a block of notes. What was passed over goes to ``attrs["notes"]``."""
    grids = read_workbook(path, lambda: pd.read_excel(path, sheet_name=None, header=None))
    names = list(grids)
    if sheet != "":
        key = names[int(sheet)] if str(sheet).isdigit() and int(sheet) < len(names) else str(sheet)
        if key not in grids:
            raise ValueError(f"{path}: no sheet {sheet!r}; its sheets are {', '.join(map(repr, names))} "
                             "(data.sheet takes a name or a number from 0)")
        picks = [key]
    else:
        picks = [n for n in names if _holds_table(grids[n])] or names[:1]
    name = picks[0]
    grid = grids[name].dropna(how="all")
    rows = grid.to_numpy(dtype=object).tolist()
    h = header_row(rows)
    # the table is the grid below its header row (read once); a column with neither a name nor a
    # value below the header (a table that starts in column B, a title's column) is left out
    header, body = grid.iloc[h] if len(grid) else pd.Series(dtype=object), grid.iloc[h + 1:]
    keep = [c for c in grid.columns if pd.notna(header.get(c)) or body[c].notna().any()]
    columns = [_cell_name(header[c]) if pd.notna(header[c]) else f"Unnamed: {i}" for i, c in enumerate(keep)]
    columns = [n if columns[:i].count(n) == 0 else f"{n}.{columns[:i].count(n)}" for i, n in enumerate(columns)]
    table = pd.DataFrame(body[keep].to_numpy(dtype=object), columns=columns).infer_objects()
    notes = []
    if name != names[0]:
        notes.append(f"sheet {name!r} of the workbook was read, the first holding a table (data.sheet names "
                     "another)" if sheet == "" else f"sheet {name!r} of the workbook was read (data.sheet)")
    if h:
        first = next((str(c) for r in rows[:h] for c in r if pd.notna(c) and str(c).strip()), "")
        notes.append(f"the sheet's first {h} non-empty row(s), above the header, were passed over "
                     f"(they begin {first!r})")
    table.attrs["notes"] = notes
    return table


def _read_json(path: Path, lines: bool) -> pd.DataFrame:
    """A JSON table as web APIs return one: a list of records (``[{"date": ..., "value": ...}]``),
    an object of columns (``{"date": [...], "value": [...]}``), or one record per line (``.jsonl``,
    ``.ndjson``). Dates stay text for the reader (pandas would turn whole numbers into dates)."""
    import json

    try:
        if lines:
            return pd.read_json(path, lines=True, convert_dates=False)
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not readable JSON ({str(err).splitlines()[0]})") from None
    if isinstance(data, dict):  # {"count": 5, "observations": [...]}, as many APIs wrap their records
        wrapped = [v for v in data.values() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
        data = wrapped[0] if len(wrapped) == 1 else data
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return pd.DataFrame.from_records(data)
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        try:
            return pd.DataFrame(data)
        except ValueError:
            raise ValueError(f"{path}: the JSON object's lists are of different lengths; give a table (a list "
                             "of records, or an object of equally long columns)") from None
    raise ValueError(f"{path}: the JSON holds no table; give a list of records ([{{\"date\": ..., \"value\": "
                     "...}, ...]) or an object of columns ({\"date\": [...], \"value\": [...]})")


def _cell_name(cell) -> str:
    """A header cell as a column name: a whole number as written in the sheet (a year, ``1981``,
    comes out of a column of numbers as ``1981.0``)."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _holds_table(grid: pd.DataFrame) -> bool:
    """A sheet with a header row of two or more names and values below it."""
    rows = grid.dropna(how="all").dropna(axis=1, how="all").to_numpy(dtype=object).tolist()
    if len(rows) < 2:
        return False
    h = header_row(rows)
    named = [c for c in rows[h] if pd.notna(c) and str(c).strip()]
    # values right below the header, or below the rows that describe its columns
    return len(named) >= 2 and any(holds_value(c) for row in rows[h + 1:h + 2 + _DESCRIPTION_ROWS] for c in row)


def _sniff_separator(path: Path) -> str:
    """The field separator of a CSV: comma, semicolon, tab or bar, as Python's csv.Sniffer reads the
    first lines (a comma when it cannot tell, e.g. a file of one column)."""
    import csv

    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        head = f.read(64 * 1024)
    head = head[:head.rfind("\n") + 1] or head  # whole lines only
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","
