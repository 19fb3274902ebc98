"""XLSX workbooks -> raw text grids, each part streamed once, within a budget.

An XLSX file is a ZIP of XML parts.  This reader opens each part it needs once, as a
stream, and never holds a worksheet's XML in memory:

* **a budget for the whole archive**: before any part is parsed, the parts' declared
  sizes must fit (``limits``): one part may not inflate more than MAX_INFLATION times
  past INFLATION_FLOOR bytes, and all parts together not past min(MAX_XML_BYTES,
  max(INFLATION_FLOOR, MAX_INFLATION x the file's size)).  Python's zipfile never
  inflates a part past its declared size (the CRC check fails instead), and the bytes
  are counted again as they stream;
* **one pass per part**, through the standard library's C iterparse, every element
  dropped from the tree as soon as it has been read; nesting, elements per cell and
  quote characters per tag are bounded, so no structure can grow in memory.  A part
  that declares a DTD (``<!DOCTYPE``, ``<!ENTITY``: billion laughs, external files) is
  refused before the parser sees it: no workbook needs one, and without a DTD there
  is no entity to expand (defusedxml's parser, a pure-Python one, read worksheets
  at a third of the speed);
* **no sheet sized before it is read**: the ``<dimension>`` a file declares is ignored
  (a file may claim A1:XFD1048576; openpyxl's read-only mode parses a sheet without
  one whole, just to size it, at load, for every sheet); the limits are checked on the
  cells as they come;
* **a cell's cached value and its formula from the same pass**: a formula that was
  never calculated (no cached value) is read as its formula text, so that the number
  parser rejects that very cell;
* **numbers read with their format**: a date format gives a date; a format with fixed
  decimals shows its trailing zeros (2024.1 formatted ``0.00`` reads 2024.10, as it
  was typed); a non-integer number between 1900 and 2200 is noted in
  ``RawSheet.dotted_numbers``, because a period typed 2024.10 into a General cell is
  stored as 2024.1 and cannot be told from January.

Number-format tests and Excel serial dates are openpyxl's (``is_date_format``,
``from_excel``).
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache

from xml.etree.ElementTree import iterparse
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from . import limits
from .errors import InputError, one_line
from .raw_sheet import CellBudget, RawSheet, cell_text, is_dotted_number, size_error, sparse_grid

# What a damaged or hostile workbook raises while opened or parsed: a broken zip or a
# bad CRC, a missing part, malformed XML (ParseError is a SyntaxError), defusedxml's
# refusals (ValueError subclasses), a broken deflate stream, an encrypted or
# unsupported member, a bad number or index in a cell.
XLSX_ERRORS = (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, SyntaxError,
               zlib.error, NotImplementedError, RuntimeError, IndexError, OverflowError,
               TypeError, AttributeError)
# zh-CN built-in date formats (yyyy"年"m"月" ...), which openpyxl's table leaves out.
_CJK_DATE_IDS = set(range(27, 37)) | set(range(50, 59))
_REF = re.compile(r"([A-Za-z]{1,3})(\d{0,7})$")
_DECIMALS = re.compile(r"\.([0#?]+)")
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')


class _Refused(Exception):
    """A limit was passed; carries the reason."""


_LOCAL: dict[str, str] = {}


def _local(tag: str) -> str:
    """An element's name without its namespace (transitional and strict OOXML alike)."""
    name = _LOCAL.get(tag)
    if name is None:
        name = tag.rpartition("}")[2]
        if len(_LOCAL) < 1024:
            _LOCAL[tag] = name
    return name


class _Budget:
    """The bytes the workbook's parts may inflate to, checked on their declared sizes
    at once and counted again as they stream."""

    def __init__(self, path, z: zipfile.ZipFile, file_size: int):
        self.path = path
        infos = z.infolist()
        if len(infos) > limits.MAX_ZIP_MEMBERS:
            raise InputError(path, f"refused: {len(infos):,} parts in the workbook, past the "
                             f"limit of {limits.MAX_ZIP_MEMBERS:,}")
        total = 0
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.INFLATION_FLOOR and ratio > limits.MAX_INFLATION:
                raise InputError(path, f"refused as a possible zip bomb: {info.filename} inflates "
                                 f"from {info.compress_size:,} to {info.file_size:,} bytes "
                                 f"({ratio:.0f}:1, limit {limits.MAX_INFLATION}:1 above "
                                 f"{limits.INFLATION_FLOOR // 2**20} MB)")
            total += info.file_size
        self.limit = min(limits.MAX_XML_BYTES,
                         max(limits.INFLATION_FLOOR, limits.MAX_INFLATION * file_size))
        if total > self.limit:
            raise InputError(path, f"refused as a possible zip bomb: its {len(infos):,} parts "
                             f"inflate to {total:,} bytes in all, past the budget of "
                             f"{self.limit:,} bytes for a file of {file_size:,} bytes (at most "
                             f"{limits.MAX_INFLATION} times its size, "
                             f"{limits.MAX_XML_BYTES // 2**20} MB in all)")
        self.used = 0
        self.names = set(z.namelist())
        self.zip = z

    def open(self, name: str) -> "_Stream":
        return _Stream(self.zip.open(name), self, name)

    def spend(self, n: int, name: str) -> None:
        self.used += n
        if self.used > self.limit:
            raise _Refused(f"{name} inflates past the budget of {self.limit:,} bytes for the "
                           "whole workbook (a possible zip bomb)")


class _Stream:
    """A part as a file object for the XML parser: its bytes are charged to the
    budget, a DTD is refused, and a tag with more than MAX_QUOTES_PER_TAG quote characters (a start tag
    with millions of attributes, which the parser would hold whole) is refused.  A
    quote cannot follow '<' inside a tag's attribute values without a '>' first, and
    '<' cannot appear in them at all, so the quotes since the last '<' bound the
    attributes of the tag being read."""

    def __init__(self, raw, budget: _Budget, name: str):
        self.raw, self.budget, self.name = raw, budget, name
        self.quotes = 0
        self.tail = b""

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(1 << 16 if n is None or n < 0 else min(n, 1 << 16))
        self.budget.spend(len(data), self.name)
        seen = self.tail + data
        if b"<!DOCTYPE" in seen or b"<!ENTITY" in seen:
            raise _Refused(f"{self.name} declares a DTD (<!DOCTYPE or <!ENTITY): entities are "
                           "not allowed in a workbook (billion laughs, external files)")
        self.tail = data[-8:]
        last = data.rfind(b"<")
        if last < 0:
            self.quotes += data.count(b'"') + data.count(b"'")
        else:
            first = data.find(b"<")
            self.quotes += data.count(b'"', 0, first) + data.count(b"'", 0, first)
            self._check()
            self.quotes = data.count(b'"', last) + data.count(b"'", last)
        self._check()
        return data

    def _check(self) -> None:
        if self.quotes > limits.MAX_QUOTES_PER_TAG:
            raise _Refused(f"{self.name}: a tag with more than {limits.MAX_QUOTES_PER_TAG:,} "
                           "quote characters (malformed or hostile XML)")

    def close(self) -> None:
        self.raw.close()


def _events(stream: _Stream, records: set[str], starts: frozenset = frozenset()):
    """Parse a part, yielding ``("start", element, None)`` as an element named in
    ``starts`` begins (its attributes are read; its children may not be) and
    ``("record", element, parent local name)`` once an element named in ``records``
    is complete.  Every element leaves the tree as soon as it ends, except inside a
    record, which keeps at most MAX_ELEMENTS_PER_RECORD elements until it ends."""
    stack = []
    record = None
    inside = 0
    try:
        for event, el in iterparse(stream, events=("start", "end")):
            if event == "start":
                stack.append(el)
                if len(stack) > limits.MAX_XML_DEPTH:
                    raise _Refused(f"{stream.name}: elements nested more than "
                                   f"{limits.MAX_XML_DEPTH} deep")
                if record is not None:
                    inside += 1
                    if inside > limits.MAX_ELEMENTS_PER_RECORD:
                        raise _Refused(f"{stream.name}: more than "
                                       f"{limits.MAX_ELEMENTS_PER_RECORD:,} elements in one "
                                       f"<{_local(record.tag)}>")
                    continue
                name = _local(el.tag)
                if name in records:
                    record, inside = el, 0
                elif name in starts:
                    yield "start", el, None
                continue
            stack.pop()
            if record is not None:
                if el is not record:
                    continue
                record = None
                yield "record", el, _local(stack[-1].tag) if stack else ""
            if stack:
                stack[-1].remove(el)
    finally:
        stream.close()


def _part_events(budget: _Budget, name: str, records: set[str], starts=frozenset()):
    return _events(budget.open(name), records, frozenset(starts))


# ------------------------------------------------------------------ package parts
def _relationships(budget: _Budget, part: str) -> dict[str, tuple[str, str]]:
    """{id: (type's last word, target part)} of a part's relationships."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in budget.names:
        return {}
    out = {}
    for _, el, _ in _part_events(budget, rels, {"Relationship"}):
        if el.get("TargetMode") == "External" or not el.get("Target"):
            continue
        target = el.get("Target").replace("\\", "/")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(folder, target))
        out[el.get("Id")] = (el.get("Type", "").rpartition("/")[2], target)
        if len(out) > limits.MAX_ZIP_MEMBERS:
            raise _Refused(f"{rels}: more relationships than parts")
    return out


@dataclass(frozen=True)
class _SheetEntry:
    name: str
    part: str | None        # None: not a worksheet (a chart sheet, a dialog sheet)
    hidden: bool


def _workbook(budget: _Budget) -> tuple[list[_SheetEntry], dict, dt.datetime]:
    """The sheets in order, the workbook's relationships, and its date epoch."""
    root = _relationships(budget, "")
    office = [t for kind, t in root.values() if kind == "officeDocument"]
    part = office[0] if office else "xl/workbook.xml"
    rels = _relationships(budget, part)
    sheets, epoch = [], CALENDAR_WINDOWS_1900
    for _, el, _ in _part_events(budget, part, {"sheet", "workbookPr"}):
        if _local(el.tag) == "workbookPr":
            if el.get("date1904", "").lower() in ("1", "true"):
                epoch = CALENDAR_MAC_1904
            continue
        rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
        kind, target = rels.get(rid, ("", None))
        sheets.append(_SheetEntry(el.get("name", ""), target if kind == "worksheet" else None,
                                  el.get("state", "visible") != "visible"))
        if len(sheets) > limits.MAX_SHEETS:
            raise _Refused(f"more than {limits.MAX_SHEETS:,} sheets")
    return sheets, rels, epoch


def _rich_text(el) -> str:
    """The text of a shared or inline string: its ``t`` and the ``t`` of its runs,
    not the phonetic guide (``rPh``)."""
    parts = []
    for child in el:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts += [t.text or "" for t in child if _local(t.tag) == "t"]
    return "".join(parts)


def _shared_strings(budget: _Budget, rels: dict) -> list[str]:
    part = next((t for kind, t in rels.values() if kind == "sharedStrings"), None)
    if part is None or part not in budget.names:
        return []
    out = []
    for _, el, _ in _part_events(budget, part, {"si"}):
        out.append(_rich_text(el))
        if len(out) > limits.MAX_SHARED_STRINGS:
            raise _Refused(f"more than {limits.MAX_SHARED_STRINGS:,} shared strings")
    return out


@dataclass(frozen=True)
class _Format:
    is_date: bool
    decimals: int           # fixed decimals the format shows (0: none)


_GENERAL = _Format(False, 0)


def _format(code: str | None, fmt_id: int) -> _Format:
    if fmt_id in _CJK_DATE_IDS:
        return _Format(True, 0)
    if not code:
        return _GENERAL
    if is_date_format(code):
        return _Format(True, 0)
    m = _DECIMALS.search(_FORMAT_NOISE.sub("", code.split(";")[0]))
    return _Format(False, m.group(1).count("0") if m else 0)


def _styles(budget: _Budget, rels: dict) -> list[_Format]:
    """The number format of each cell format (``s`` of a cell) of the workbook."""
    part = next((t for kind, t in rels.values() if kind == "styles"), None)
    if part is None or part not in budget.names:
        return []
    codes: dict[int, str] = {}
    ids: list[int] = []
    for _, el, parent in _part_events(budget, part, {"numFmt", "xf"}):
        if _local(el.tag) == "numFmt":
            codes[int(el.get("numFmtId", "0"))] = el.get("formatCode", "")
        elif parent == "cellXfs":
            ids.append(int(el.get("numFmtId", "0")))
        if len(ids) + len(codes) > limits.MAX_CELL_FORMATS:
            raise _Refused(f"more than {limits.MAX_CELL_FORMATS:,} cell formats")
    known = {i: _format(codes.get(i, BUILTIN_FORMATS.get(i)), i) for i in set(ids)}
    return [known[i] for i in ids]


# -------------------------------------------------------------------- worksheets
@lru_cache(maxsize=4096)
def _column(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _number(v: str, fmt: _Format, epoch):
    """A numeric cell's value: a date under a date format, an int when whole, else
    its text to 15 significant digits (as Excel shows it) with the trailing zeros
    its format shows."""
    x = float(v)
    if not math.isfinite(x):
        return v
    if fmt.is_date:
        try:
            return from_excel(x, epoch)
        except (OverflowError, ValueError):
            pass
    if x.is_integer() and abs(x) < 1e15:
        return int(x)
    text = f"{x:.15g}"
    if fmt.decimals and "e" not in text:
        shown = len(text.partition(".")[2])
        if shown < fmt.decimals:
            text = (text if "." in text else text + ".") + "0" * (fmt.decimals - shown)
    return text


def _cell_value(c, sst: list[str], styles: list[_Format], epoch, masters: dict):
    """The value of a ``<c>`` element: its cached value by type, or ``=formula``
    when the formula has no cached value; None for a blank cell."""
    v = formula = inline = None
    for child in c:
        name = _local(child.tag)
        if name == "v":
            v = child.text
        elif name == "f":
            text, si = child.text or "", child.get("si")
            if child.get("t") == "shared" and si is not None:
                if text:
                    masters[si] = text
                else:
                    text = masters.get(si, "")
            formula = "=" + text
        elif name == "is":
            inline = _rich_text(child)
    t = c.get("t", "n")
    if t == "inlineStr":
        return inline
    if v is None or v == "":
        return formula
    if t == "s":
        i = int(v)
        if not 0 <= i < len(sst):
            raise IndexError(f"shared string {i} of {len(sst)}")
        return sst[i]
    if t in ("str", "e"):
        return v
    if t == "b":
        return v.strip() in ("1", "true")
    if t == "d":
        return dt.datetime.fromisoformat(v.strip().rstrip("Z"))
    s = int(c.get("s", "0"))
    return _number(v, styles[s] if 0 <= s < len(styles) else _GENERAL, epoch)


def _worksheet(budget: _Budget, path, entry: _SheetEntry, sst, styles, epoch,
               cells: CellBudget) -> RawSheet:
    """One worksheet, streamed (see the module docstring): its grid and dotted numbers.
    The loop is ``_events`` written out, as the worksheets are the bulk of a file."""
    rows: dict[int, tuple[list[int], list[str]]] = {}
    dotted = set()
    row_no, col, n_rows, width, filled = 0, -1, 0, 0, 0
    masters: dict[str, str] = {}
    stream = budget.open(entry.part)
    stack, cell, inside = [], None, 0
    tag_c = tag_row = None
    max_depth, max_inside = limits.MAX_XML_DEPTH, limits.MAX_ELEMENTS_PER_RECORD
    try:
        for event, el in iterparse(stream, events=("start", "end")):
            if event == "start":
                stack.append(el)
                if cell is not None:
                    inside += 1
                    if inside > max_inside:
                        raise _Refused(f"{entry.part}: more than {max_inside:,} elements in "
                                       "one cell")
                    continue
                if len(stack) > max_depth:
                    raise _Refused(f"{entry.part}: elements nested more than {max_depth} deep")
                tag = el.tag
                if tag_c is None:       # the root: its namespace names the cells and rows
                    ns = tag[:tag.index("}") + 1] if tag.startswith("{") else ""
                    tag_c, tag_row = ns + "c", ns + "row"
                elif tag == tag_c:
                    cell, inside = el, 0
                elif tag == tag_row:
                    r = el.get("r")
                    row_no = int(r) if r is not None else row_no + 1
                    col = -1
                continue
            stack.pop()
            if cell is not None:
                if el is not cell:
                    continue
                cell = None
                ref = el.get("r")
                row = row_no
                if ref:
                    m = _REF.match(ref)
                    if m is None:
                        raise ValueError(f"bad cell reference {ref[:20]!r}")
                    col = _column(m.group(1))
                    if m.group(2):
                        row = int(m.group(2))
                else:
                    col += 1
                value = _cell_value(el, sst, styles, epoch, masters)
                if value is not None:
                    text = value if isinstance(value, str) and value == value.strip() \
                        else cell_text(value)
                    if text:
                        if row > limits.MAX_ROWS or col >= limits.MAX_COLUMNS:
                            raise size_error(path, entry.name, row, col + 1)
                        filled += 1
                        if filled > cells.left:
                            raise cells.error(entry.name, row, col + 1)
                        entry_row = rows.get(row)
                        if entry_row is None:
                            entry_row = rows[row] = ([], [])
                        entry_row[0].append(col)
                        entry_row[1].append(text)
                        if row > n_rows:
                            n_rows = row
                        if col >= width:
                            width = col + 1
                        if isinstance(value, str) and el.get("t", "n") == "n" and _dotted(value):
                            dotted.add((row, col))
            if stack:
                stack[-1].remove(el)
    finally:
        stream.close()
    cells.charge(entry.name, n_rows, width)
    return RawSheet(str(path), entry.name, sparse_grid(rows, n_rows, width), hidden=entry.hidden,
                    dotted_numbers=frozenset(dotted))


def _dotted(text: str) -> bool:
    """True for the text of a non-integer number that reads like a dotted period."""
    try:
        return is_dotted_number(float(text))
    except ValueError:
        return False


def read_xlsx(path, fh, file_size: int, sheet: str | None) -> list[RawSheet]:
    """Every sheet of a workbook (or the one named) as a ``RawSheet``; ``fh`` is the
    file, opened and checked to be a regular file of ``file_size`` bytes.

    Raises InputError for a broken or hostile workbook (not a workbook, a zip bomb,
    entities in its XML, a sheet past the size limits), or a sheet name not in it."""
    try:
        with zipfile.ZipFile(fh) as z:
            budget = _Budget(path, z, file_size)
            sheets, rels, epoch = _workbook(budget)
            names = [s.name for s in sheets]
            if not sheets:
                raise KeyError("the workbook lists no sheets")
            if sheet is not None and sheet not in names:
                raise InputError(path, f"no sheet named {sheet!r}; sheets are {names}")
            wanted = [s for s in sheets if sheet is None or s.name == sheet]
            sst = _shared_strings(budget, rels)
            styles = _styles(budget, rels)
            cells = CellBudget(path)
            out = []
            for entry in wanted:
                if entry.part is None or entry.part not in budget.names:
                    if entry.part is not None:
                        raise KeyError(f"sheet {entry.name!r}: part {entry.part} is missing")
                    out.append(RawSheet(str(path), entry.name, sparse_grid({}, 0, 0),
                                        hidden=entry.hidden))
                    continue
                out.append(_worksheet(budget, path, entry, sst, styles, epoch, cells))
            return out
    except _Refused as err:
        raise InputError(path, f"refused: {err}") from None
    except XLSX_ERRORS as err:
        raise InputError(path, f"not a readable XLSX workbook ({one_line(err)})") from None
