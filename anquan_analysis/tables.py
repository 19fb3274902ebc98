"""Reading office files into raw grids of text, before any meaning is given to them.

Every cell becomes a string (or None when blank), every row keeps the number that
Excel or a text editor shows for it, so that a rejection can name it.

The file type is detected from the content, not the name (a workbook saved as .csv,
an HTML page saved as .xls): ZIP → XLSX, OLE2 → XLS (xlrd), otherwise text, decoded
as UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (which contains GBK).
Hostile files are refused cheaply and in one line: a sheet larger than
``MAX_ROWS`` × ``MAX_COLUMNS``, a workbook member that inflates more than
``MAX_INFLATION`` times past ``INFLATION_FLOOR`` bytes (a zip bomb), binary content.
A formula whose cached value is missing (the workbook was never recalculated) is read
as its formula text, so that the number parser rejects that very cell.  openpyxl
parses XLSX through defusedxml when it is installed (it is a dependency).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from .errors import InputError

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}

# Office reporting tables are small; anything past these is a broken or hostile file.
MAX_ROWS = 100_000
MAX_COLUMNS = 1_000
# A worksheet's XML normally deflates 5-20 times; a zip bomb, hundreds of times.
MAX_INFLATION = 100
INFLATION_FLOOR = 10 * 2**20
MAX_FILE_BYTES = 64 * 2**20        # text and .xls files, read whole into memory

# What a damaged or hostile workbook raises while opened or parsed: a broken zip, a
# missing part, malformed XML (ParseError is a SyntaxError), defusedxml's refusals
# (ValueError subclasses), a truncated stream.
_XLSX_ERRORS = (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, SyntaxError,
                TypeError, AttributeError, IndexError)
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


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
    """Text of a CSV file: a byte-order mark decides (UTF-8, UTF-16); otherwise UTF-8,
    then GB18030 (a superset of GBK and GB2312, what Excel on Chinese Windows saves),
    then the encoding charset-normalizer detects; never a silent replacement.
    Raises InputError for binary content (NUL bytes) or undecodable text."""
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError as err:
                raise InputError(file, f"cannot decode text as {enc} despite its byte-order "
                                 f"mark: {err.reason} at byte {err.start}") from None
    if b"\x00" in raw:
        raise InputError(file, "binary content (NUL bytes), not a text table: a damaged file "
                         "or not a CSV at all")
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            pass
    try:
        from charset_normalizer import from_bytes
        best = from_bytes(raw).best()
        if best is not None and best.encoding:
            return raw.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        pass
    raise InputError(file, "cannot decode text (not UTF-8, UTF-16 or GB18030): binary or "
                     "damaged content")


def _read_csv(path: Path, raw: bytes) -> list[RawSheet]:
    text = decode_bytes(raw, str(path))
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    rows = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(row)
            _check_size(path, None, len(rows), len(row))
    except csv.Error as err:
        raise InputError(path, f"not a readable CSV table: {err}", row=len(rows) + 1) from None
    return [RawSheet(str(path), None, _grid(rows))]


def _why(err: BaseException) -> str:
    """An exception on one line, naming its root cause (openpyxl wraps defusedxml's
    EntitiesForbidden in a ValueError of three lines)."""
    root = err
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__
    first = " ".join(str(err).split())[:160]
    if root is err:
        return f"{type(err).__name__}: {first}"
    return f"{type(err).__name__}: {first}; cause {type(root).__name__}: " \
        + " ".join(str(root).split())[:160]


def _check_size(path, sheet, n_rows: int, n_cols: int) -> None:
    if n_rows > MAX_ROWS or n_cols > MAX_COLUMNS:
        what = f"row {n_rows}" if n_rows > MAX_ROWS else f"column {n_cols}"
        raise InputError(path, f"too large: data reach {what}, past the limit of {MAX_ROWS} rows "
                         f"x {MAX_COLUMNS} columns for a reporting table (split it, or delete "
                         "the stray cells far below or to the right)", sheet=sheet)


def _check_inflation(path: Path) -> None:
    """Refuse a workbook whose members would inflate like a zip bomb, before parsing."""
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > INFLATION_FLOOR and ratio > MAX_INFLATION:
                raise InputError(path, f"refused as a possible zip bomb: {info.filename} inflates "
                                 f"from {info.compress_size:,} to {info.file_size:,} bytes "
                                 f"({ratio:.0f}:1, limit {MAX_INFLATION}:1 above "
                                 f"{INFLATION_FLOOR // 2**20} MB)")


def _sheet_rows(path, name, ws) -> list[list]:
    """A read-only sheet's rows, refusing it once data pass the size limits (the
    declared dimension is ignored: a file may claim A1:XFD1048576)."""
    ws.reset_dimensions()
    rows = []
    for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
        width = len(row)
        while width and row[width - 1] is None:
            width -= 1
        if width:
            _check_size(path, name, r, width)
        if r <= MAX_ROWS:
            rows.append(list(row[:width]))
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _uncached_formulas(path: Path, names: list[str]) -> dict[str, dict[tuple[int, int], str]]:
    """Per sheet, {(row, column index): formula} of formula cells; read only for sheets
    whose XML has formulas, and only used where the cached value is missing."""
    import openpyxl
    with zipfile.ZipFile(path) as z:
        has_f = any(n.startswith("xl/worksheets/") and b"<f" in z.read(n)
                    for n in z.namelist())
    if not has_f:
        return {}
    fh = open(path, "rb")
    wb = openpyxl.load_workbook(fh, read_only=True, data_only=False)
    try:
        out = {}
        for name in names:
            ws = wb[name]
            ws.reset_dimensions()
            found = {}
            for r, row in enumerate(ws.iter_rows(max_row=MAX_ROWS, max_col=MAX_COLUMNS,
                                                 values_only=True), start=1):
                for j, v in enumerate(row):
                    if isinstance(v, str) and v.startswith("="):
                        found[(r, j)] = v
            out[name] = found
        return out
    finally:
        wb.close()
        fh.close()


def _read_xlsx(path: Path, sheet: str | None) -> list[RawSheet]:
    import openpyxl
    # a file object, so that the name's extension does not matter (content decides)
    fh = open(path, "rb")
    try:
        _check_inflation(path)
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except _XLSX_ERRORS as err:
        fh.close()
        raise InputError(path, f"not a readable XLSX workbook ({_why(err)})") from None
    try:
        names = wb.sheetnames
        if sheet is not None and sheet not in names:
            raise InputError(path, f"no sheet named {sheet!r}; sheets are {names}")
        wanted = [sheet] if sheet is not None else names
        grids = {}
        for name in wanted:
            ws = wb[name]
            grids[name] = (_sheet_rows(path, name, ws),
                           getattr(ws, "sheet_state", "visible") != "visible")
    except _XLSX_ERRORS as err:
        raise InputError(path, f"not a readable XLSX workbook ({_why(err)})") from None
    finally:
        wb.close()
        fh.close()
    try:
        formulas = _uncached_formulas(path, wanted)
    except _XLSX_ERRORS as err:
        raise InputError(path, f"not a readable XLSX workbook ({_why(err)})") from None
    out = []
    for name, (rows, hidden) in grids.items():
        for (r, j), f in formulas.get(name, {}).items():
            # a formula with no cached value: keep its text so the cell is rejected by name
            if r <= len(rows) and j < len(rows[r - 1]) and rows[r - 1][j] is None:
                rows[r - 1][j] = f
            elif r > len(rows) or j >= len(rows[r - 1]):
                while len(rows) < r:
                    rows.append([])
                rows[r - 1] += [None] * (j + 1 - len(rows[r - 1]))
                rows[r - 1][j] = f
        out.append(RawSheet(str(path), name, _grid(rows), hidden=hidden))
    return out


def _read_xls(path: Path, raw: bytes, sheet: str | None) -> list[RawSheet]:
    """Excel 97-2003 (BIFF) through xlrd: dates by their format, errors as their text."""
    import xlrd
    try:
        book = xlrd.open_workbook(file_contents=raw, on_demand=True)
    except (xlrd.XLRDError, ValueError, AssertionError, IndexError, KeyError,
            struct.error, EOFError) as err:
        raise InputError(path, f"not a readable XLS workbook ({_why(err)})") from None
    try:
        names = book.sheet_names()
        if sheet is not None and sheet not in names:
            raise InputError(path, f"no sheet named {sheet!r}; sheets are {names}")
        out = []
        for name in ([sheet] if sheet is not None else names):
            sh = book.sheet_by_name(name)
            _check_size(path, name, sh.nrows, sh.ncols)
            rows = [[_xls_value(c, book.datemode) for c in sh.row(r)] for r in range(sh.nrows)]
            out.append(RawSheet(str(path), name, _grid(rows), hidden=sh.visibility != 0))
        return out
    finally:
        book.release_resources()


def _xls_value(cell, datemode):
    import xlrd
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(cell.value, datemode)
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return cell.value
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    return cell.value


def sniff(raw: bytes) -> str:
    """What a file is from its first bytes: ``xlsx`` (a ZIP), ``xls`` (OLE2), ``html``,
    ``pdf`` or ``text``."""
    if raw.startswith(_ZIP_MAGIC):
        return "xlsx"
    if raw.startswith(_OLE_MAGIC):
        return "xls"
    head = raw[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) and b"<t" in head:
        return "html"
    if head.startswith(b"%pdf"):
        return "pdf"
    return "text"


def read_raw(path, sheet: str | None = None) -> list[RawSheet]:
    """Every sheet of a workbook (or the one named), or the one grid of a CSV; the
    type is detected from the content (see ``sniff``), the name only has to be one of
    ``EXCEL_SUFFIXES`` or ``CSV_SUFFIXES``.

    Raises InputError for a missing file, an unsupported type, an HTML page or PDF,
    binary or undecodable content, a zip bomb, a sheet past the size limits, or an
    unreadable workbook.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix not in EXCEL_SUFFIXES | CSV_SUFFIXES:
        raise InputError(path, f"unsupported file type {suffix!r} (expected .csv, .xlsx or .xls)")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    kind = sniff(head)
    if kind == "xlsx":
        return _read_xlsx(path, sheet)
    if kind == "html":
        raise InputError(path, "an HTML page, not a workbook (web systems often export HTML "
                         "named .xls): open it in Excel and save it as .xlsx")
    if kind == "pdf":
        raise InputError(path, "a PDF document, not a table")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(path, f"too large for a reporting table ({size:,} bytes, limit "
                         f"{MAX_FILE_BYTES // 2**20} MB)")
    raw = path.read_bytes()
    if kind == "xls":
        return _read_xls(path, raw, sheet)
    if suffix in EXCEL_SUFFIXES and raw.strip():
        # a workbook is unmistakable by its first bytes; text named .xlsx is a damaged file
        raise InputError(path, f"not a readable {suffix[1:].upper()} workbook (neither a ZIP nor "
                         "an OLE2 file: damaged, or text with the wrong extension)")
    return _read_csv(path, raw)


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
