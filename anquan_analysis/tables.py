"""Reading office files into raw grids of text, before any meaning is given to them.

Every cell becomes a string (or None when blank), every row keeps the number that
Excel or a text editor shows for it, so that a rejection can name it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from .errors import InputError

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


@dataclass
class RawSheet:
    """One sheet (or one CSV file) as text.

    cells: object DataFrame of str/None, columns 0..n-1, index = 1-based row numbers.
    hidden: True for a hidden or very hidden worksheet.
    """

    file: str
    sheet: str | None
    cells: pd.DataFrame
    hidden: bool = False


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


def _grid(rows: list[list], start_row: int = 1) -> pd.DataFrame:
    width = max((len(r) for r in rows), default=0)
    data = [[cell_text(v) for v in r] + [None] * (width - len(r)) for r in rows]
    frame = pd.DataFrame(data, columns=range(width), dtype=object)
    frame.index = range(start_row, start_row + len(frame))
    return frame


def decode_bytes(raw: bytes, file: str) -> str:
    """Text of a CSV file: UTF-8 (with or without BOM) first, then the detected
    encoding (GBK/GB18030 from Chinese Windows), never a silent replacement."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes
        best = from_bytes(raw).best()
        if best is not None and best.encoding:
            enc = "gb18030" if best.encoding.lower().replace("-", "") in {"gbk", "gb2312", "gb18030", "hz"} else best.encoding
            return raw.decode(enc)
    except (UnicodeDecodeError, LookupError):
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as err:
        raise InputError(file, f"cannot decode text (not UTF-8 or GB18030): {err.reason} at byte {err.start}") from None


def _read_csv(path: Path) -> list[RawSheet]:
    text = decode_bytes(path.read_bytes(), str(path))
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return [RawSheet(str(path), None, _grid(rows))]


def _read_xlsx(path: Path, sheet: str | None) -> list[RawSheet]:
    import openpyxl
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise InputError(path, f"not a readable XLSX workbook ({type(err).__name__}: {err})") from None
    try:
        names = wb.sheetnames
        if sheet is not None and sheet not in names:
            raise InputError(path, f"no sheet named {sheet!r}; sheets are {names}")
        out = []
        for name in ([sheet] if sheet is not None else names):
            ws = wb[name]
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            out.append(RawSheet(str(path), name, _grid(rows),
                                hidden=getattr(ws, "sheet_state", "visible") != "visible"))
        return out
    finally:
        wb.close()


def read_raw(path, sheet: str | None = None) -> list[RawSheet]:
    """Every sheet of an XLSX workbook (or the one named), or the one grid of a CSV.

    Raises InputError for a missing file, an unsupported type or an unreadable file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _read_xlsx(path, sheet)
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    raise InputError(path, f"unsupported file type {suffix!r} (expected .csv or .xlsx)")


def find_header_row(raw: RawSheet, is_known: Callable[[str], bool], *, max_scan: int = 20,
                    min_hits: int = 2) -> int | None:
    """The row number of the header: the first of the top ``max_scan`` rows in which
    at least ``min_hits`` cells are recognised by ``is_known`` (title rows above it
    are skipped); None when no row qualifies."""
    best, best_hits = None, 0
    for row_no, row in raw.cells.head(max_scan).iterrows():
        hits = sum(1 for v in row if v is not None and is_known(v))
        if hits >= min_hits and hits > best_hits:
            best, best_hits = row_no, hits
    return best
