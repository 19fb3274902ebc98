"""Workbooks that print: the layout shared by findings.xlsx and the per-unit problem
lists (``report.write_findings_xlsx``, ``report.write_unit_workbooks``).

Each sheet has a title row (and subtitle rows: the period, the source) above its
header; the header row is bold, repeated on every printed page and carries an
autofilter; the pages are A4 landscape, scaled to the width of one page (as many
pages tall as needed), with the page number and the source in the footer.  Text is
wrapped in columns of bounded width (wide characters count double); figures carry a
number format: whole numbers ``#,##0``, others ``#,##0.00``, shares ``0.0%`` (rows
marked as shares), p- and q-values ``0.000`` with ``<0.001`` below that.

XlsxWriter writes row by row (``constant_memory``): a province's findings run to ten
thousand rows.  Strings are never read as formulas, numbers or links; characters XML
cannot carry are dropped; the file is stamped by ``io.deterministic_xlsx`` so
that equal content gives equal bytes.
"""

from __future__ import annotations

import contextlib
import io
import math
import threading
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .io import XML_ILLEGAL, deterministic_xlsx, fixed_timestamp, stamped_member

P_FORMAT = '[<0.001]"<0.001";0.000'
INT_FORMAT = "#,##0"
DEC_FORMAT = "#,##0.00"
PCT_FORMAT = "0.0%"
MAX_WIDTH = 60
TEXT_WIDTH = 24      # a text column's width cap, unless the sheet names another
LINE_HEIGHT = 13.5   # points per line of 10-point text


@dataclass
class PrintSheet:
    """One worksheet: ``frame`` (display headers), its ``titles`` (the first is the
    title, the others subtitle lines), the rows whose figures are shares
    (``share_rows``, bool per row, or None), the columns holding p- or q-values,
    widths to use for some columns (characters), the columns whose figures are
    shares on every row, whether it gets an autofilter, and the lines of height
    each data row gets at least."""

    name: str
    frame: pd.DataFrame
    titles: list[str] = field(default_factory=list)
    share_rows: np.ndarray | None = None
    share_columns: tuple[str, ...] = ()
    p_columns: tuple[str, ...] = ()
    widths: dict = field(default_factory=dict)
    autofilter: bool = True
    min_lines: int = 1       # lines of height every data row gets (room to write by hand)


class _CharWidths(dict):
    """Each character's width (``display_width``), looked up once per character: a
    province's 问题清单 measure every cell of 669 workbooks, mostly the same few
    thousand characters."""

    def __missing__(self, ch: str) -> int:
        width = self[ch] = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        return width


_CHAR_WIDTHS = _CharWidths()


def display_width(text) -> int:
    """Columns a text takes in Excel: wide and full-width characters count two."""
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return len(s) if s.isascii() else sum(map(_CHAR_WIDTHS.__getitem__, s))


def column_width(header, values: pd.Series, cap: int = MAX_WIDTH) -> int:
    """The display width of the longest of ``header`` and ``values`` (floats as
    shown, to 4 significant digits), at most ``cap``: only the longest distinct
    texts are measured, and the scan stops at the cap (a findings sheet can hold ten
    thousand long messages)."""
    distinct = values.dropna().unique()
    if pd.api.types.is_float_dtype(values):
        distinct = [f"{v:,.4g}" for v in distinct]
    texts = pd.Series(distinct, dtype=object).astype(str)
    # a header wraps: its longest line counts, at most 8 characters wide
    best = min(display_width(header), 16)
    if texts.empty:
        return best
    lengths = texts.str.len().to_numpy()
    ascii_ = texts.str.isascii().to_numpy(dtype=bool)
    if ascii_.any():
        best = max(best, int(lengths[ascii_].max()))
    wide = texts.to_numpy(dtype=object)[~ascii_]
    wide_lengths = lengths[~ascii_]
    for i in np.argsort(-wide_lengths, kind="stable"):
        if 2 * wide_lengths[i] <= best or best >= cap:
            break
        best = max(best, display_width(wide[i]))
    return min(best, cap)


# Columns up to this many rows are measured and converted cell by cell in Python: a
# per-unit problem list has a few rows, and pandas' per-call cost is most of its time.
_SHORT = 200


def _short_column_width(header, cells: list, is_float: bool, cap: int) -> int:
    """``column_width`` of a short column given as Python values (None for missing):
    the same result, since the widest distinct text decides it (the scan there only
    stops early once no text left can be wider)."""
    best = min(display_width(header), 16)
    texts = {f"{v:,.4g}" if is_float else str(v) for v in cells if v is not None}
    if not texts:
        return best
    return min(max(best, max(display_width(t) for t in texts)), cap)


def _raw_cells(values: pd.Series) -> list:
    """A column as Python values, missing (None, NaN, NA, NaT) as None."""
    if len(values) <= _SHORT:
        return [None if pd.isna(v) else v for v in values.tolist()]
    return values.astype(object).where(values.notna(), None).tolist()


def _cells(values: pd.Series, raw: list | None = None) -> list:
    """A column as Python values: missing as None, text without the characters XML
    cannot carry (each distinct text cleaned once); ``raw``: ``_raw_cells(values)``
    when already made."""
    out = _raw_cells(values) if raw is None else raw
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return out
    clean = {v: XML_ILLEGAL.sub("", v) for v in set(out) if isinstance(v, str)}
    return [clean.get(v, v) if isinstance(v, str) else v for v in out]


class _Formats:
    """The workbook's cell formats, made once per combination."""

    def __init__(self, workbook):
        self.wb = workbook
        self.cache: dict = {}

    def get(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            self.cache[key] = self.wb.add_format({"font_size": 10, "valign": "top",
                                                  "border": 1, **props})
        return self.cache[key]


def write_workbook(sheets: list[PrintSheet], path, *, footer: str = "",
                   in_memory: bool = True) -> Path:
    """Write ``sheets`` as one workbook at ``path`` (not atomically: the caller
    writes to a temporary name).  ``footer``: the text left in every page's footer
    (the source), with the page number in the middle.  ``in_memory=False``: XlsxWriter
    keeps the parts in temporary files, as it does by default (the same bytes)."""
    import xlsxwriter

    path = Path(path)
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False})
    # The workbook's parts assembled in memory, not in a dozen temporary files each
    # (creating and deleting them cost 30-40 ms of wall time per workbook on ext4,
    # most of the per-unit lists' time).  Set after construction, because the option
    # given to the constructor also turns off constant_memory, whose inline strings
    # are part of these files' bytes; tests/test_report.py checks the bytes are the
    # same either way.
    workbook.in_memory = in_memory
    workbook.set_properties({"author": "anquan-analysis", "created": fixed_timestamp()})
    fmt = _Formats(workbook)
    title_fmt = workbook.add_format({"bold": True, "font_size": 14, "align": "center",
                                     "valign": "vcenter"})
    sub_fmt = workbook.add_format({"font_size": 10, "align": "left", "valign": "top",
                                   "text_wrap": True})
    head_fmt = fmt.get(bold=True, text_wrap=True, align="center", valign="vcenter",
                       bg_color="#E7E6E6")
    for spec in sheets:
        _write_sheet(workbook, spec, fmt, title_fmt, sub_fmt, head_fmt, footer)
    if in_memory:
        with _stamping_zip():
            workbook.close()
        path.write_bytes(buffer.getvalue())
    else:
        workbook.close()
        path.write_bytes(deterministic_xlsx(buffer.getvalue()))
    return path


class _StampedZip(zipfile.ZipFile):
    """The zip file XlsxWriter writes a workbook's parts into from memory, each part
    stamped as it is written the way ``io.deterministic_xlsx`` stamps a finished file
    (``io.stamped_member``): the same bytes without reading the file back and
    compressing every part a second time (a sixth of a per-unit list's time)."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        name = getattr(zinfo_or_arcname, "filename", zinfo_or_arcname)
        body = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        super().writestr(*stamped_member(name, body))


_ZIP_LOCK = threading.Lock()


@contextlib.contextmanager
def _stamping_zip():
    """XlsxWriter's ``Workbook.close`` writes through ``_StampedZip`` (its module's
    ``ZipFile``, swapped for the call, under a lock)."""
    import xlsxwriter.workbook as xw

    with _ZIP_LOCK:
        plain, xw.ZipFile = xw.ZipFile, _StampedZip
        try:
            yield
        finally:
            xw.ZipFile = plain


def _write_sheet(workbook, spec: PrintSheet, fmt: _Formats, title_fmt, sub_fmt, head_fmt,
                 footer: str) -> None:
    frame = spec.frame
    sheet = workbook.add_worksheet(spec.name)
    ncol = max(len(frame.columns), 1)
    series = [s for _, s in frame.items()]   # each column taken out once
    raw = [_raw_cells(s) for s in series]
    widths = []
    for col, s, cells in zip(frame.columns, series, raw):
        if col in spec.widths:
            widths.append(spec.widths[col] + 2)
            continue
        cap = TEXT_WIDTH if not pd.api.types.is_numeric_dtype(s.dtype) else 14
        width = (_short_column_width(col, cells, pd.api.types.is_float_dtype(s.dtype), cap)
                 if len(frame) <= _SHORT else column_width(col, s, cap))
        widths.append(max(width, 4) + 2)
    for j, w in enumerate(widths):
        sheet.set_column(j, j, w)
    # titles: merged across the table's width; long subtitles get the rows they need
    row = 0
    total_width = sum(widths) or 40
    for k, text in enumerate(spec.titles):
        text = XML_ILLEGAL.sub("", str(text))
        lines = max(1, math.ceil(display_width(text) / max(total_width, 1)))
        sheet.set_row(row, 24 if k == 0 else 15 * lines)
        if ncol > 1:
            sheet.merge_range(row, 0, row, ncol - 1, text, title_fmt if k == 0 else sub_fmt)
        else:
            sheet.write_string(row, 0, text, title_fmt if k == 0 else sub_fmt)
        row += 1
    header_row = row
    n = len(frame)
    numeric = [pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
               for s in series]
    columns = [_cells(s, cells) for s, cells in zip(series, raw)]
    share = spec.share_rows if spec.share_rows is not None else np.zeros(n, dtype=bool)
    text_fmt = fmt.get(text_wrap=True)
    text_cols = [j for j in range(len(frame.columns)) if not numeric[j]]
    # Neither Excel nor LibreOffice grows a row for wrapped text it did not lay out
    # itself: each row gets the height of its longest cell's lines.
    room = {j: max(widths[j] - 2, 1) for j in text_cols}
    header_lines = max((math.ceil(display_width(c) / max(widths[j] - 2, 1))
                        for j, c in enumerate(frame.columns)), default=1)
    sheet.set_row(header_row, LINE_HEIGHT * max(header_lines, 1) + 4)
    sheet.write_row(header_row, 0, [XML_ILLEGAL.sub("", str(c)) for c in frame.columns],
                    head_fmt)
    for i in range(n):
        r = header_row + 1 + i
        lines = max((math.ceil(display_width(columns[j][i]) / room[j]) for j in text_cols
                     if isinstance(columns[j][i], str)), default=1)
        lines = max(lines, spec.min_lines)
        if lines > 1:
            sheet.set_row(r, LINE_HEIGHT * min(lines, 30) + 3)
        for j, col in enumerate(frame.columns):
            v = columns[j][i]
            if v is None:
                sheet.write_blank(r, j, None, text_fmt)
            elif numeric[j] and isinstance(v, (int, float, np.integer, np.floating)):
                v = float(v)
                if math.isnan(v) or math.isinf(v):
                    sheet.write_blank(r, j, None, text_fmt)
                    continue
                if col in spec.p_columns:
                    f = fmt.get(num_format=P_FORMAT)
                elif col in spec.share_columns or (share[i] and col in _SHARE_FIGURES):
                    f = fmt.get(num_format=PCT_FORMAT)
                elif v == int(v) and abs(v) < 1e15:
                    f = fmt.get(num_format=INT_FORMAT)
                else:
                    f = fmt.get(num_format=DEC_FORMAT)
                sheet.write_number(r, j, v, f)
            else:
                sheet.write_string(r, j, str(v), text_fmt)
    sheet.freeze_panes(header_row + 1, 0)
    if spec.autofilter and len(frame.columns):
        sheet.autofilter(header_row, 0, header_row + max(n, 1), len(frame.columns) - 1)
    sheet.set_landscape()
    sheet.set_paper(9)                       # A4
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.repeat_rows(header_row)
    sheet.fit_to_pages(1, 0)                 # one page wide, as many tall as needed
    sheet.center_horizontally()
    foot = XML_ILLEGAL.sub("", footer).replace("&", "&&")[:80]
    sheet.set_footer(f"&L&8{foot}&R&8第 &P 页，共 &N 页")


# The figure columns that a share row shows as a percentage (findings' Chinese headers).
_SHARE_FIGURES = frozenset({"观测值", "期望值", "下限", "上限"})
