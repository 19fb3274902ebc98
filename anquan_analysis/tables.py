"""Reading office files into raw grids of text, before any meaning is given to them.

Every cell becomes a string (or None when blank), every row keeps the number that
Excel or a text editor shows for it, so that a rejection can name it (``RawSheet``).

The file type is detected from the content, not the name (a workbook saved as .csv,
an HTML page saved as .xls): ZIP -> XLSX (``xlsx_reader``: streamed, within a budget),
OLE2 -> XLS (xlrd), otherwise text (``csv_reader``: decoded line by line, UTF-8,
UTF-16 with BOM or GB18030).  Only regular files are read: a FIFO, a device or a
socket is refused before it is opened for reading (a FIFO would wait for ever,
``/dev/zero`` would fill the memory), and a text or .xls file is read up to its size
limit, never past it.  Hostile files are refused cheaply and in one line: a sheet or a
file past the size limits (``limits``), a zip bomb, binary content.
"""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path
from typing import Callable

from . import limits
from .csv_reader import read_csv
from .errors import InputError, NotAReport, one_line
from .limits import INFLATION_FLOOR, MAX_COLUMNS, MAX_FILE_BYTES, MAX_INFLATION, MAX_ROWS  # noqa: F401
from .raw_sheet import CellBudget, RawSheet, cell_text, dense_grid, is_dotted_number, size_error
from .xlsx_reader import read_xlsx

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISDIR, "a folder"))

__all__ = ["CSV_SUFFIXES", "EXCEL_SUFFIXES", "RawSheet", "cell_text", "find_header_row",
           "not_a_regular_file", "read_raw", "sniff"]


def not_a_regular_file(mode: int) -> str | None:
    """What a file of ``mode`` (``os.stat``) is when it is not a regular file, as words
    for a message; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _FILE_KINDS if test(mode)), "not a regular file")


def _open_regular(path: Path):
    """``path`` opened for reading, after checking (on the file itself, following
    symbolic links) that it is a regular file; the check is repeated on the open
    descriptor, and the open does not wait (O_NONBLOCK), so a file swapped for a FIFO
    in between cannot hang the reader.  Returns (file object, size)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as err:
        raise InputError(path, f"cannot read: {err.strerror}") from None
    what = not_a_regular_file(st.st_mode)
    if what == "a folder":
        raise InputError(path, "is a folder, not a file")
    if what is not None:
        raise InputError(path, f"refused: {what}, not a file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        raise InputError(path, f"cannot read: {err.strerror}") from None
    st = os.fstat(fd)
    what = not_a_regular_file(st.st_mode)
    if what is not None:
        os.close(fd)
        raise InputError(path, f"refused: {what}, not a file")
    return os.fdopen(fd, "rb"), st.st_size


def _read_xls(path: Path, raw: bytes, sheet: str | None) -> list[RawSheet]:
    """Excel 97-2003 (BIFF) through xlrd: dates by their format, errors as their text."""
    import xlrd
    try:
        book = xlrd.open_workbook(file_contents=raw, on_demand=True)
    except (xlrd.XLRDError, ValueError, AssertionError, IndexError, KeyError,
            struct.error, EOFError) as err:
        raise InputError(path, f"not a readable XLS workbook ({one_line(err)})") from None
    try:
        names = book.sheet_names()
        if sheet is not None and sheet not in names:
            raise InputError(path, f"no sheet named {sheet!r}; sheets are {names}")
        out = []
        cells = CellBudget(path)
        for name in ([sheet] if sheet is not None else names):
            sh = book.sheet_by_name(name)
            err = size_error(path, name, sh.nrows, sh.ncols)
            if err is not None:
                raise err
            cells.charge(name, sh.nrows, sh.ncols)
            rows = [[_xls_value(c, book.datemode) for c in sh.row(r)] for r in range(sh.nrows)]
            dotted = frozenset((i + 1, j) for i, r in enumerate(rows) for j, v in enumerate(r)
                               if isinstance(v, float) and is_dotted_number(v))
            out.append(RawSheet(str(path), name, dense_grid(rows), hidden=sh.visibility != 0,
                                dotted_numbers=dotted))
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

    Raises InputError for a missing file, a folder, a FIFO, device or socket, an
    unsupported type, an HTML page or PDF, binary or undecodable content, a zip bomb,
    a sheet or file past the size limits, or an unreadable workbook.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXCEL_SUFFIXES | CSV_SUFFIXES and (path.exists() and not path.is_dir()):
        raise NotAReport(path, f"unsupported file type {suffix!r} (expected .csv, .xlsx or .xls)")
    fh, size = _open_regular(path)
    with fh:
        head = fh.read(4096)
        kind = sniff(head)
        if kind == "xlsx":
            fh.seek(0)
            return read_xlsx(path, fh, size, sheet)
        if kind == "html":
            raise NotAReport(path, "an HTML page, not a workbook (web systems often export HTML "
                             "named .xls): open it in Excel and save it as .xlsx")
        if kind == "pdf":
            raise NotAReport(path, "a PDF document, not a table")
        # read up to the limit and one byte more, whatever size the file system reports
        raw = head + fh.read(limits.MAX_FILE_BYTES + 1 - len(head))
        if len(raw) > limits.MAX_FILE_BYTES:
            raise InputError(path, f"too large for a reporting table (more than "
                             f"{limits.MAX_FILE_BYTES // 2**20} MB)")
    if kind == "xls":
        return _read_xls(path, raw, sheet)
    if suffix in EXCEL_SUFFIXES and raw.strip():
        # a workbook is unmistakable by its first bytes; text named .xlsx is a damaged file
        raise InputError(path, f"not a readable {suffix[1:].upper()} workbook (neither a ZIP nor "
                         "an OLE2 file: damaged, or text with the wrong extension)")
    return read_csv(path, raw)


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
