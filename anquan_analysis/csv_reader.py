"""Text tables (CSV, TSV, Excel's "Unicode text") -> a raw text grid, decoded line by line.

**Encoding.**  A byte-order mark decides (UTF-8, UTF-16).  Otherwise every line is
decoded on its own, strictly, as UTF-8 and as GB18030 (a superset of GBK and GB2312,
what Excel on Chinese Windows saves): the file's encoding is the one most of its
non-ASCII lines are valid in (UTF-8 wins where a line is valid in both).  A line valid
only in the other encoding (a UTF-8 line pasted into a GBK file, or the reverse) is
decoded in its own encoding, so that its text shows in the reject, and its row is
rejected (``RawSheet.bad_rows``); it is never read as mojibake.  A line valid in
neither is rejected the same way.  When no line is valid in either encoding, the
encoding charset-normalizer detects is tried for the whole file; otherwise the file
is refused.

**Layout.**  The delimiter is ``,``, tab, ``;`` or ``|``, whichever the first lines
hold most; line ends may be LF, CRLF or a lone CR (old Mac Excel), even mixed.  Both
are named in ``RawSheet.layout`` and in the errors about a file's header.

**A half-written file.**  When the file ends without a line end and its last row has
fewer fields than the rows above (a save or a download cut short), that row is
rejected, not read with blanks.
"""

from __future__ import annotations

import csv
import io
import re

from .errors import InputError, NotAReport
from .raw_sheet import CellBudget, RawSheet, dense_grid, size_error

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_LINE = re.compile(rb"\r\n|\r|\n")
DELIMITERS = {",": "comma-separated (,)", "\t": "tab-separated", ";": "semicolon-separated (;)",
              "|": "pipe-separated (|)"}
_OTHER = {"UTF-8": "GB18030/GBK", "GB18030": "UTF-8"}


def line_ends(text) -> str:
    """The newline convention of a text (str or bytes): ``LF``, ``CRLF``, ``CR`` (old
    Mac) or ``mixed``, as words for a message."""
    cr, lf = ("\r", "\n") if isinstance(text, str) else (b"\r", b"\n")
    crlf = text.count(cr + lf)
    kinds = [name for name, n in (("CRLF", crlf), ("LF", text.count(lf) - crlf),
                                  ("CR (old Mac)", text.count(cr) - crlf)) if n]
    if not kinds:
        return "no line ends"
    return f"{kinds[0]} line ends" if len(kinds) == 1 else "mixed line ends (" + ", ".join(kinds) + ")"


def decode_lines(raw: bytes, file: str) -> tuple[str, dict[int, str], str]:
    """The text of a file, the lines that must be rejected ({1-based line number:
    reason}) and the encoding's name.  Raises InputError for binary content (NUL
    bytes), a byte-order mark the content does not follow, or text in no encoding
    read here."""
    if raw.startswith(_UTF16_BOMS):
        try:
            return raw.decode("utf-16"), {}, "UTF-16"
        except UnicodeDecodeError as err:
            raise InputError(file, "cannot decode text as UTF-16 despite its byte-order "
                             f"mark: {err.reason} at byte {err.start}") from None
    if b"\x00" in raw:
        raise NotAReport(file, "binary content (NUL bytes), not a text table: a damaged file "
                         "or not a CSV at all")
    bom = raw.startswith(_UTF8_BOM)
    raw = raw[len(_UTF8_BOM):] if bom else raw
    try:
        return raw.decode("utf-8"), {}, "UTF-8 (with BOM)" if bom else "UTF-8"
    except UnicodeDecodeError:
        pass
    parts = _LINE.split(raw)
    ends = _LINE.findall(raw) + [b""]
    kinds = [_line_kind(p) for p in parts]
    n_utf8, n_gb = kinds.count("UTF-8"), kinds.count("GB18030")
    if n_utf8 == 0 and n_gb == 0 and not bom:
        return _detected(raw, file), {}, "detected"
    first = next((k for k in kinds if k in _OTHER), "UTF-8")
    enc = "UTF-8" if bom or n_utf8 > n_gb or (n_utf8 == n_gb and first == "UTF-8") else "GB18030"
    lines, bad = [], {}
    for i, (p, k) in enumerate(zip(parts, kinds), start=1):
        if k in ("ascii", enc):
            lines.append(p.decode("ascii" if k == "ascii" else enc.lower()))
            continue
        if k in _OTHER:
            lines.append(p.decode(k.lower()))
            bad[i] = (f"第{i}行的编码与文件不一致 (line {i} is {k} text in a "
                      f"{'GB18030/GBK' if enc == 'GB18030' else 'UTF-8'} file: pasted from "
                      "another file; retype it, or save the whole file again in one encoding)")
        else:
            lines.append(p.decode(enc.lower(), errors="replace"))
            cut = i == len(parts) and not ends[i - 1]
            bad[i] = (f"第{i}行无法解码 (line {i} is neither UTF-8 nor GB18030 text"
                      + (": the file ends in the middle of a character, cut short)" if cut
                         else ")"))
    text = "".join(line + end.decode("ascii") for line, end in zip(lines, ends))
    return text, bad, "GB18030 (GBK)" if enc == "GB18030" else (
        "UTF-8 (with BOM)" if bom else "UTF-8")


def _line_kind(line: bytes) -> str:
    if line.isascii():
        return "ascii"
    for enc in ("UTF-8", "GB18030"):
        try:
            line.decode(enc.lower())
            return enc
        except UnicodeDecodeError:
            pass
    return "neither"


def _detected(raw: bytes, file: str) -> str:
    try:
        from charset_normalizer import from_bytes
        best = from_bytes(raw).best()
        if best is not None and best.encoding:
            return raw.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        pass
    raise NotAReport(file, "cannot decode text (not UTF-8, UTF-16 or GB18030): binary or "
                     "damaged content")


def sniff_delimiter(text: str) -> str:
    """The delimiter the first 50 lines hold most of (',' on a tie)."""
    head = "\n".join(text[:65536].splitlines()[:50])
    counts = {d: head.count(d) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


def read_csv(path, raw: bytes) -> list[RawSheet]:
    """The one grid of a text file (see the module docstring).  Raises InputError as
    ``decode_lines``, for a table past the size limits, or for text the csv module
    cannot split."""
    file = str(path)
    text, bad_lines, encoding = decode_lines(raw, file)
    delimiter = sniff_delimiter(text)
    layout = f"{encoding}, {DELIMITERS[delimiter]}, {line_ends(text)}"
    rows, spans = [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    last_line = width = 0
    cells = CellBudget(path)
    try:
        for row in reader:
            rows.append(row)
            spans.append((last_line + 1, reader.line_num))
            last_line = reader.line_num
            width = max(width, len(row))
            err = size_error(path, None, len(rows), len(row))
            if err is not None:
                raise err
            if len(rows) * width > cells.left:      # refused as soon as it is known
                raise cells.error(None, len(rows), width)
    except csv.Error as err:
        raise InputError(path, f"not a readable CSV table ({layout}): {err}",
                         row=len(rows) + 1) from None
    cells.charge(None, len(rows), width)
    bad_rows = {}
    for k, (first, last) in enumerate(spans, start=1):
        reason = next((bad_lines[i] for i in range(first, last + 1) if i in bad_lines), None)
        if reason is not None:
            bad_rows[k] = reason
    if len(rows) >= 2 and not text.endswith(("\n", "\r")) and len(rows[-1]) < max(
            len(r) for r in rows[:-1]) and any(f.strip() for f in rows[-1]):
        k = len(rows)
        bad_rows.setdefault(k, f"最后一行不完整 (the last row is truncated: the file ends in the "
                            f"middle of row {k}, with {len(rows[-1])} of "
                            f"{max(len(r) for r in rows[:-1])} fields and no line end; a save "
                            "or download was cut short)")
    return [RawSheet(file, None, dense_grid(rows), bad_rows=bad_rows, layout=layout)]


