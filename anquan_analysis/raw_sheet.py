"""One sheet (or one CSV file) as a grid of text, the form every reader returns.

Every cell becomes a string (or None when blank), every row keeps the number that
Excel or a text editor shows for it, so that a rejection can name it.  The readers
(``csv_reader``, ``xlsx_reader``, ``tables`` for .xls) build grids here, within
``limits.MAX_CELLS`` for the whole file (``CellBudget``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import limits
from .errors import InputError


@dataclass
class RawSheet:
    """One sheet (or one CSV file) as text.

    cells           object DataFrame of str/None, columns 0..n-1, index = 1-based row numbers
    hidden          True for a hidden or very hidden worksheet
    bad_rows        {row number: reason} for rows that must be rejected whole, whatever
                    they hold: a line in another encoding than the file's, a last row cut
                    short (a half-written file)
    dotted_numbers  (row, column position) of cells that held a non-integer number between
                    1900 and 2200 (not a date): a period typed 2024.10 into such a cell is
                    stored as the number 2024.1, so its text may have lost a zero
    layout          for a text file, how it was read: encoding, delimiter, line ends
                    (``"GB18030, ';'-separated, CR line ends"``); "" for a workbook
    """

    file: str
    sheet: str | None
    cells: pd.DataFrame
    hidden: bool = False
    bad_rows: dict = field(default_factory=dict)
    dotted_numbers: frozenset = frozenset()
    layout: str = ""


def cell_text(value) -> str | None:
    """A cell's value as the text a person would read in it; None when blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d") if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    return text or None


def is_dotted_number(value: float) -> bool:
    """True for a non-integer number that reads like a dotted period (2024.1)."""
    return 1900 <= value < 2200 and not float(value).is_integer()


def size_error(path, sheet, n_rows: int, n_cols: int) -> InputError | None:
    """The error for data reaching row ``n_rows`` or column ``n_cols``, past the
    limits of a sheet (``limits.MAX_ROWS`` x ``limits.MAX_COLUMNS``); None within."""
    if n_rows <= limits.MAX_ROWS and n_cols <= limits.MAX_COLUMNS:
        return None
    what = f"row {n_rows}" if n_rows > limits.MAX_ROWS else f"column {n_cols}"
    return InputError(path, f"too large: data reach {what}, past the limit of {limits.MAX_ROWS} "
                      f"rows x {limits.MAX_COLUMNS} columns for a reporting table (split it, or "
                      "delete the stray cells far below or to the right)", sheet=sheet)


class CellBudget:
    """The cells one file may still spend on its grids (``limits.MAX_CELLS``): each
    sheet's used range, rows x columns, is charged before its grid is built."""

    def __init__(self, path):
        self.path = path
        self.left = limits.MAX_CELLS

    def charge(self, sheet, n_rows: int, n_cols: int) -> None:
        """Spend ``n_rows`` x ``n_cols``; InputError when the file goes past the limit."""
        self.left -= n_rows * n_cols
        if self.left < 0:
            raise self.error(sheet, n_rows, n_cols)

    def error(self, sheet, n_rows: int, n_cols: int) -> InputError:
        where = f"sheet {sheet!r} " if sheet is not None else ""
        return InputError(self.path, f"too large: {where}reaches row {n_rows:,} and column "
                          f"{n_cols:,}; the file's sheets hold more than {limits.MAX_CELLS:,} "
                          "cells (rows x columns up to the last filled cell), past the limit "
                          "for reporting tables (delete the stray cells far below or to the "
                          "right, or split the file)")


def dense_grid(rows: list[list], start_row: int = 1) -> pd.DataFrame:
    """Rows of values (of any length) as a grid of cell text, rows numbered from
    ``start_row``."""
    width = max((len(r) for r in rows), default=0)
    data = [[cell_text(v) for v in r] + [None] * (width - len(r)) for r in rows]
    frame = pd.DataFrame(data, columns=range(width), dtype=object)
    frame.index = range(start_row, start_row + len(frame))
    return frame


def sparse_grid(rows: dict[int, tuple[list[int], list[str]]], n_rows: int,
                width: int) -> pd.DataFrame:
    """{row number: (column positions, texts)} as a grid of ``n_rows`` x ``width``
    (rows numbered from 1, blank cells None)."""
    grid = np.full((n_rows, width), None, dtype=object)
    for r, (cols, texts) in rows.items():
        for c, t in zip(cols, texts):
            grid[r - 1, c] = t
    frame = pd.DataFrame(grid, columns=range(width), dtype=object)
    frame.index = range(1, n_rows + 1)
    return frame
