"""Opening a user's Excel workbook, with the two errors every app gives the same way: openpyxl
missing, and a file that is no readable workbook (damaged, or another format named ``.xlsx``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["read_workbook"]

T = TypeVar("T")


def read_workbook(path: str | Path, read: Callable[[], T]) -> T:
    """``read()`` (openpyxl's or pandas' reading of ``path``), its failures as one-line errors."""
    try:
        import openpyxl  # noqa: F401 (pandas reads .xlsx through it too)
    except ImportError:
        raise ValueError(f"{path}: reading Excel files needs openpyxl (pip install openpyxl), or save the sheet "
                         "as .csv") from None
    try:
        return read()
    except Exception as err:  # noqa: BLE001 (a damaged or mislabelled file: zipfile's, openpyxl's, pandas' errors)
        raise ValueError(f"{path}: not a readable Excel workbook ({type(err).__name__}: {err})") from None
