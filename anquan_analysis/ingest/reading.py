"""Which files and sheets are read, and as what.

Each sheet (or CSV file) is classified by its header row, found below any title rows:

* **hazard ledger** (has 隐患编号 and a date/status column) → ``ledger.parse_ledger_sheet``;
* **exposure** (单位 + 监管企业数, optional 行业领域) → ``exposure.exposure_sheet``;
* **long reports** (单位, 期间, 指标, 数值) → one figure per row;
* otherwise **wide reports** (单位, 期间, 口径, one column per indicator).

Empty and hidden sheets of a workbook, and sheets with no recognisable header in a
workbook where other sheets have one, are skipped with a note in the summary.

A folder is read as an office keeps it (``folder_files``, the one rule that
``assessment.folder.data_files`` applies too): lock files, hidden and temporary files,
files that are not tables, special files and links out of the folder are skipped, and
the office's own files beside its reports (the roster 单位名册, the column mapping
列名对照.csv, anquan.toml, report_dates.csv: each read by its own reader) are not read
as reports, and a file of the folder that turns out to hold no report
(``errors.NotAReport``: a contact list, a README.txt, a memo, an empty file) is
skipped too; each skipped file gets one line (a summary record with a note).  A file
named on its own is an error instead.

Headers are read with the office's accepted column mapping (``header_map``:
``列名对照.csv`` in each file's folder).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from .. import ledger as ledger_mod
from ..dataset import REJECT_COLUMNS
from ..errors import InputError, NotAReport
from ..tables import (CSV_SUFFIXES, EXCEL_SUFFIXES, RawSheet, find_header_row, not_a_regular_file,
                      read_raw)
from .exposure import exposure_sheet
from .header_map import MAPPING_FILE, load_header_map
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


INPUT_SUFFIXES = EXCEL_SUFFIXES | CSV_SUFFIXES


def office_files() -> dict[str, str]:
    """{lower-case file name: why it is not read as reports} for the office's own
    files that sit beside its reports, each read by its own reader."""
    from ..roster import REPORT_DATES_FILE, ROSTER_FILES

    out = {name.lower(): "the roster of units (单位名册), read as the roster, not as reports"
           for name in ROSTER_FILES}
    out[MAPPING_FILE] = "the office's column mapping (列名对照), applied to the headers"
    out[REPORT_DATES_FILE] = "the reports' dates kept by `anquan assess`, not reports"
    return out


def skip_reason(path: Path, folder: Path) -> str | None:
    """Why a file found in ``folder`` is not read, as the note of its one line; None
    when it is read as a possible report.  Lock files (Excel's ``~$…``,
    LibreOffice's ``.~lock.…#``), hidden files, temporary and backup files, the
    office's own files (``office_files``), files whose extension is not a table's
    (a notice .docx, a PDF, a note .txt), FIFOs, devices and sockets, and symbolic
    links to anything outside the folder are skipped."""
    name = path.name
    if name.lower() in office_files():
        return office_files()[name.lower()]
    if name.startswith("~$"):
        return "Excel lock file (~$), skipped"
    if name.startswith(".~lock.") or name.endswith("#"):
        return "LibreOffice lock file, skipped"
    if name.startswith("."):
        return "hidden file, skipped"
    if name.endswith("~") or path.suffix.lower() in (".tmp", ".bak", ".swp"):
        return "temporary or backup file, skipped"
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "broken symbolic link, skipped"
        if not target.is_relative_to(folder.resolve()):
            return f"refused: a symbolic link to {target}, outside the folder"
    try:
        what = not_a_regular_file(os.stat(path).st_mode)
    except OSError as err:
        return f"cannot read ({err.strerror}), skipped"
    if what is not None:
        return f"refused: {what}, not a file"
    if path.suffix.lower() not in INPUT_SUFFIXES:
        return f"not a table file ({path.suffix or 'no extension'}), skipped"
    return None


def folder_files(folder) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(the files of ``folder`` to read, in name order; the others, each with why it is
    skipped: ``skip_reason``).  Sub-folders are not entered."""
    folder = Path(folder)
    read, skipped = [], []
    for f in sorted(folder.iterdir()):
        if f.is_dir() and not f.is_symlink():
            continue
        why = skip_reason(f, folder)
        if why is None:
            read.append(f)
        else:
            skipped.append((f, why))
    return read, skipped


def expand_paths(paths) -> list[tuple[Path, str | None, bool]]:
    """The files to read: (path, None, from a folder) for each path given and each file
    that ``folder_files`` reads from a folder given, and (path, why, True) for each
    file of a folder that it skips.  Raises InputError for a folder without a file to
    read and ValueError for no paths at all."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            files, skipped = folder_files(p)
            if not files:
                raise InputError(p, "folder holds no .csv or .xlsx file"
                                 + (f" ({len(skipped)} other files skipped)" if skipped else ""))
            out += [(f, None, True) for f in files] + [(f, why, True) for f, why in skipped]
        else:
            out.append((p, None, False))
    if not out:
        raise ValueError("ingest: no input paths given")
    return out


def read_inputs(paths, sheet: str | None = None, *, skip_non_reports: bool = False,
                header_maps: bool = True) -> list[SheetPart]:
    """Every sheet of every file of ``paths`` (``expand_paths``), in input order; per
    file, the sheets read, then the skipped ones; then one record per file skipped.
    A file of a folder (or any file, with ``skip_non_reports``) that holds no report
    (``errors.NotAReport``) is skipped with its reason.  With ``header_maps``, each
    file's headers are read with the accepted mapping of its folder
    (``header_map.load_header_map``).  Raises InputError as ``read_file``, for an
    accepted mapping row naming no indicator, or when every file was skipped."""
    parts: list[SheetPart] = []
    skipped: list[SheetPart] = []
    seq = 0
    maps: dict[Path, dict] = {}
    for path, why, from_folder in expand_paths(paths):
        if why is None:
            folder = path.parent
            if header_maps and folder not in maps:
                maps[folder] = load_header_map(folder)
            try:
                file_parts = read_file(path, sheet, seq, maps.get(folder))
            except NotAReport as err:
                if not (from_folder or skip_non_reports):
                    raise
                # one line: the reason's first clause (the list of what a header
                # should hold is for a file named on its own)
                why = f"not a report ({err.reason.split(';')[0]}), skipped"
            else:
                seq += sum(p.seq_used for p in file_parts)
                parts += file_parts
                continue
        skipped.append(SheetPart({"file": str(path), "sheet": pd.NA, "kind": "", "note": why}))
    if not parts:
        raise InputError(", ".join(sorted({str(Path(p.summary["file"]).parent)
                                           for p in skipped})) or "input",
                         "no report in the files given: " + "; ".join(
                             f"{Path(p.summary['file']).name}: {p.summary['note']}"
                             for p in skipped[:5]) + (" …" if len(skipped) > 5 else ""))
    return parts + skipped


def read_file(path: Path, sheet: str | None, seq0: int,
              mapping: dict | None = None) -> list[SheetPart]:
    """The sheets of one file, read, then skipped; its rows numbered from ``seq0``;
    headers read with ``mapping`` (``headers.column_role``).

    Raises InputError for a missing, empty, unreadable or unsupported file, a file
    with a header and no data rows, a workbook whose only data are on hidden sheets,
    a file with no recognisable header, or a report sheet with no unit column, no
    indicator column or no period anywhere."""
    sheets = read_raw(path, sheet)
    parts = []
    seq = seq0
    for raw in sheets:
        part = read_sheet(raw, sheet, seq, mapping)
        seq += part.seq_used
        parts.append(part)
    used = [p for p in parts if not p.skipped]
    notes = [p.summary for p in parts if p.skipped]
    if not used:
        if all(n["note"].startswith("empty") for n in notes):
            what = "file is empty" if len(sheets) <= 1 and sheet is None else (
                f"sheet {sheet!r} is empty" if sheet else "every sheet is empty")
            raise NotAReport(path, what)
        hidden = [n["sheet"] for n in notes if n["note"].startswith("hidden")]
        if hidden:
            raise InputError(path, "the only sheets with data are hidden ("
                             + ", ".join(hidden) + "); unhide one or name it with --sheet")
        raise NotAReport(path, "no recognisable header in the first 20 rows; " + EXPECTED_HEADERS
                         + _as_read(sheets[0]), sheet=sheet)
    if sum(p.data_rows for p in used) == 0:
        raise NotAReport(path, "a header but no data rows below it", sheet=sheet)
    return used + [p for p in parts if p.skipped]


def _as_read(raw: RawSheet) -> str:
    """How a text file was read, for a message about its header: encoding, delimiter
    and line ends (a semicolon-separated file read with commas has no header)."""
    return f" (read as {raw.layout})" if raw.layout else ""


def _bad_rows(raw: RawSheet, h: int) -> tuple[RawSheet, pd.DataFrame]:
    """For an exposure or ledger sheet: ``raw`` with the rows of ``raw.bad_rows``
    below the header blanked (so that its parser skips them), and one reject per such
    row.  InputError when the header row itself is one of them."""
    bad = {r: why for r, why in raw.bad_rows.items() if r >= h}
    if h in bad:
        raise InputError(raw.file, bad[h], sheet=raw.sheet, row=h)
    if not bad:
        return raw, pd.DataFrame(columns=REJECT_COLUMNS)
    cells = raw.cells.copy()
    rows = sorted(bad)
    values = [",".join(v for v in cells.loc[r] if v is not None)[:200] for r in rows]
    cells.loc[rows] = None
    rejects = pd.DataFrame({"file": raw.file, "sheet": raw.sheet, "row": rows,
                            "column": "(整行)", "value": values,
                            "reason": [bad[r] for r in rows]})[REJECT_COLUMNS]
    return replace(raw, cells=cells), rejects


def _skipped(raw: RawSheet, note: str) -> SheetPart:
    return SheetPart({"file": raw.file, "sheet": raw.sheet, "kind": "", "note": note,
                      "format": raw.layout})


def read_sheet(raw: RawSheet, sheet: str | None, seq0: int,
               mapping: dict | None = None) -> SheetPart:
    """One sheet, classified by its header and read as a ledger, an exposure table or
    reports; or skipped (empty, hidden unless asked for by name, no header).
    ``mapping``: the office's accepted header mapping (``headers.column_role``)."""
    if raw.cells.size == 0 or not raw.cells.notna().to_numpy().any():
        return _skipped(raw, "empty sheet, skipped")
    if raw.hidden and sheet is None:
        return _skipped(raw, "hidden sheet, skipped")
    h = find_header_row(raw, (lambda v: is_known(v, mapping)) if mapping else is_known)
    if h is None:
        return _skipped(raw, "no recognisable header, skipped")
    base = {"file": raw.file, "sheet": raw.sheet, "format": raw.layout}
    labels, h_last = header_labels(raw, h, mapping)
    if ledger_mod.is_ledger_header(labels):
        clean, bad = _bad_rows(raw, h)
        rows, rej = ledger_mod.parse_ledger_sheet(clean, h)
        n_rej = (rej["row"].nunique() if len(rej) else 0) + len(bad)
        return SheetPart({**base, "kind": "ledger", "header_row": h,
                          "rows_read": len(rows) + n_rej, "rows_clean": len(rows),
                          "rows_empty": 0, "rows_rejected": n_rej,
                          "rows_duplicate_identical": 0, "rows_totals": 0,
                          "reject_records": len(rej) + len(bad), "note": ""},
                         ledger=rows, rejects=(rej, bad), data_rows=len(rows) + n_rej)
    roles, unknown = map_columns(labels, raw.file, raw.sheet, mapping)
    if "unit" not in roles:
        raise InputError(raw.file, "no unit column (expected one of "
                         + ", ".join(HEADER_ALIASES["unit"]) + ")" + _as_read(raw),
                         sheet=raw.sheet)
    if "enterprises" in roles:
        clean, bad = _bad_rows(raw, h_last)
        exp, rej, stats = exposure_sheet(clean, h_last, roles, seq0)
        stats = {**stats, "rows_read": stats["rows_read"] + len(bad),
                 "rows_rejected": stats["rows_rejected"] + len(bad)}
        rej = [*rej, bad]
        return SheetPart({**base, "kind": "exposure", "header_row": h, **stats,
                          "reject_records": int(sum(len(r) for r in rej)), "note": ""},
                         exposure=exp, rejects=tuple(rej), unknown=tuple(unknown),
                         data_rows=stats["rows_read"], seq_used=stats["rows_read"])
    long_form = "indicator_name" in roles and "value" in roles
    if not long_form and not roles["indicators"]:
        raise NotAReport(raw.file, "no indicator column recognised; " + EXPECTED_HEADERS
                         + _as_read(raw), sheet=raw.sheet)
    rows, cells, rej = report_sheet(raw, h_last, roles, seq0, long_form)
    return SheetPart({**base, "kind": "long" if long_form else "reports", "header_row": h},
                     rows=rows, cells=cells, rejects=tuple(rej), unknown=tuple(unknown),
                     data_rows=len(rows), seq_used=len(rows))
