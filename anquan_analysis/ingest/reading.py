"""Which files and sheets are read, and as what.

Each sheet (or CSV file) is classified by its header row, found below any title rows:

* **hazard ledger** (has 隐患编号 and a date/status column) → ``ledger.parse_ledger_sheet``;
* **exposure** (单位 + 监管企业数, optional 行业领域) → ``exposure.exposure_sheet``;
* **long reports** (单位, 期间, 指标, 数值) → one figure per row;
* otherwise **wide reports** (单位, 期间, 口径, one column per indicator).

Empty and hidden sheets of a workbook, and sheets with no recognisable header in a
workbook where other sheets have one, are skipped with a note in the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import ledger as ledger_mod
from ..errors import InputError
from ..tables import CSV_SUFFIXES, EXCEL_SUFFIXES, RawSheet, find_header_row, read_raw
from .exposure import exposure_sheet
from .headers import EXPECTED_HEADERS, HEADER_ALIASES, header_labels, is_known, map_columns
from .sheets import report_sheet


@dataclass(frozen=True)
class SheetPart:
    """What one sheet gave.

    summary    its summary record: file, sheet, kind (``reports``, ``long``,
               ``exposure``, ``ledger``, or "" for a skipped sheet), header_row, and
               the counts or the note where already known
    rows       report rows (``sheets.report_sheet``), or None
    cells      report cells, or None
    exposure   exposure rows (``exposure.exposure_sheet``), or None
    ledger     ledger rows (LEDGER_COLUMNS), or None
    rejects    REJECT_COLUMNS frames
    unknown    unknown-column records (``headers.UNKNOWN_COLUMNS``)
    data_rows  rows below the header that hold data (0 for a skipped sheet)
    seq_used   input-order numbers given to its rows
    """

    summary: dict
    rows: pd.DataFrame | None = None
    cells: pd.DataFrame | None = None
    exposure: pd.DataFrame | None = None
    ledger: pd.DataFrame | None = None
    rejects: tuple = ()
    unknown: tuple = ()
    data_rows: int = 0
    seq_used: int = 0

    @property
    def skipped(self) -> bool:
        return self.summary["kind"] == ""


def expand_paths(paths) -> list[Path]:
    """The files to read: each path, or a folder's .csv/.xlsx/.xls files in name order
    (lock files ``~$…`` and hidden files left out).  Raises InputError for a folder
    without such files and ValueError for no paths at all."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.suffix.lower() in EXCEL_SUFFIXES | CSV_SUFFIXES
                           and not f.name.startswith(("~$", ".")))
            if not files:
                raise InputError(p, "folder holds no .csv or .xlsx file")
            out += files
        else:
            out.append(p)
    if not out:
        raise ValueError("ingest: no input paths given")
    return out


def read_inputs(paths, sheet: str | None = None) -> list[SheetPart]:
    """Every sheet of every file of ``paths`` (``expand_paths``), in input order; per
    file, the sheets read, then the skipped ones.  ``sheet``: read only that sheet of
    each workbook.  Raises InputError as ``read_file``."""
    parts: list[SheetPart] = []
    seq = 0
    for path in expand_paths(paths):
        file_parts = read_file(path, sheet, seq)
        seq += sum(p.seq_used for p in file_parts)
        parts += file_parts
    return parts


def read_file(path: Path, sheet: str | None, seq0: int) -> list[SheetPart]:
    """The sheets of one file, read, then skipped; its rows numbered from ``seq0``.

    Raises InputError for a missing, empty, unreadable or unsupported file, a file
    with a header and no data rows, a workbook whose only data are on hidden sheets,
    a file with no recognisable header, or a report sheet with no unit column, no
    indicator column or no period anywhere."""
    sheets = read_raw(path, sheet)
    parts = []
    seq = seq0
    for raw in sheets:
        part = read_sheet(raw, sheet, seq)
        seq += part.seq_used
        parts.append(part)
    used = [p for p in parts if not p.skipped]
    notes = [p.summary for p in parts if p.skipped]
    if not used:
        if all(n["note"].startswith("empty") for n in notes):
            what = "file is empty" if len(sheets) <= 1 and sheet is None else (
                f"sheet {sheet!r} is empty" if sheet else "every sheet is empty")
            raise InputError(path, what)
        hidden = [n["sheet"] for n in notes if n["note"].startswith("hidden")]
        if hidden:
            raise InputError(path, "the only sheets with data are hidden ("
                             + ", ".join(hidden) + "); unhide one or name it with --sheet")
        raise InputError(path, "no recognisable header in the first 20 rows; " + EXPECTED_HEADERS,
                         sheet=sheet)
    if sum(p.data_rows for p in used) == 0:
        raise InputError(path, "a header but no data rows below it", sheet=sheet)
    return used + [p for p in parts if p.skipped]


def _skipped(raw: RawSheet, note: str) -> SheetPart:
    return SheetPart({"file": raw.file, "sheet": raw.sheet, "kind": "", "note": note})


def read_sheet(raw: RawSheet, sheet: str | None, seq0: int) -> SheetPart:
    """One sheet, classified by its header and read as a ledger, an exposure table or
    reports; or skipped (empty, hidden unless asked for by name, no header)."""
    if raw.cells.size == 0 or not raw.cells.notna().to_numpy().any():
        return _skipped(raw, "empty sheet, skipped")
    if raw.hidden and sheet is None:
        return _skipped(raw, "hidden sheet, skipped")
    h = find_header_row(raw, is_known)
    if h is None:
        return _skipped(raw, "no recognisable header, skipped")
    base = {"file": raw.file, "sheet": raw.sheet}
    labels, h_last = header_labels(raw, h)
    if ledger_mod.is_ledger_header(labels):
        rows, rej = ledger_mod.parse_ledger_sheet(raw, h)
        n_rej = rej["row"].nunique() if len(rej) else 0
        return SheetPart({**base, "kind": "ledger", "header_row": h,
                          "rows_read": len(rows) + n_rej, "rows_clean": len(rows),
                          "rows_empty": 0, "rows_rejected": n_rej,
                          "rows_duplicate_identical": 0, "rows_totals": 0,
                          "reject_records": len(rej), "note": ""},
                         ledger=rows, rejects=(rej,), data_rows=len(rows) + n_rej)
    roles, unknown = map_columns(labels, raw.file, raw.sheet)
    if "unit" not in roles:
        raise InputError(raw.file, "no unit column (expected one of "
                         + ", ".join(HEADER_ALIASES["unit"]) + ")", sheet=raw.sheet)
    if "enterprises" in roles:
        exp, rej, stats = exposure_sheet(raw, h_last, roles, seq0)
        return SheetPart({**base, "kind": "exposure", "header_row": h, **stats,
                          "reject_records": int(sum(len(r) for r in rej)), "note": ""},
                         exposure=exp, rejects=tuple(rej), unknown=tuple(unknown),
                         data_rows=stats["rows_read"], seq_used=stats["rows_read"])
    long_form = "indicator_name" in roles and "value" in roles
    if not long_form and not roles["indicators"]:
        raise InputError(raw.file, "no indicator column recognised; " + EXPECTED_HEADERS,
                         sheet=raw.sheet)
    rows, cells, rej = report_sheet(raw, h_last, roles, seq0, long_form)
    return SheetPart({**base, "kind": "long" if long_form else "reports", "header_row": h},
                     rows=rows, cells=cells, rejects=tuple(rej), unknown=tuple(unknown),
                     data_rows=len(rows), seq_used=len(rows))
