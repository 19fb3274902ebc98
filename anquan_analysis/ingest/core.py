"""``ingest()``: every file and sheet of the input → one validated ``Dataset``.

The steps, each a function of DataFrames:

1. read every sheet (``reading.read_inputs``): report rows and cells, exposure,
   ledger, rejects, unknown columns, one summary record per sheet;
2. remove control characters from unit names (``aliases.clean_unit_names``: reported
   as kind ``cleaned``), then replace unit aliases (``aliases.apply_unit_aliases``),
   before duplicates are looked for;
3. the reports (``assemble_reports``): duplicates, unreadable figures, totals
   reconciled against their units, 累计 converted to in-period figures, duplicates
   across forms, the panel, the rejects and the summary;
4. the side tables: exposure, ledger and its effective counts, unit aliases
   applied and likely, unknown columns.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from .. import ledger as ledger_mod
from ..aliases import (ALIAS_COLUMNS, aliases_of, apply_unit_aliases, clean_unit_names,
                       likely_aliases, load_unit_aliases)
from ..dataset import (CUMULATIVE_COLUMNS, EXPOSURE_COLUMNS, LEDGER_COLUMNS, LEDGER_COUNT_COLUMNS, REJECT_COLUMNS,
                       Dataset, empty_panel, empty_rejects)
from ._frames import concat_frames, reject_frame
from .cells import CELL_COLUMNS
from .cumulative import cumulative_to_period
from .duplicates import cross_form_duplicates, report_row_duplicates
from .headers import UNKNOWN_COLUMNS
from .reading import read_inputs
from .reconcile import empty_reconciliation, reconcile_totals
from .sheets import ROW_COLUMNS
from .summary import SUMMARY_COLUMNS, sheet_summary


def ingest(paths, *, sheet=None, deadline_day=24, campaign_start=None, campaign_end=None,
           aliases="default", skip_non_reports: bool = False) -> Dataset:
    """Read report, exposure and ledger tables into one validated ``Dataset``.

    ``paths``: files or folders (a folder means its .csv/.xlsx/.xls files, as
    ``reading.folder_files`` chooses them; a file of a folder that holds no report is
    skipped, as is any file with ``skip_non_reports``: each skipped file has a summary
    record with a note); ``sheet``: read only that sheet of each workbook.  ``deadline_day``, ``campaign_start`` and
    ``campaign_end`` go to ``ledger.effective_counts``.  ``aliases``: the unit alias
    table (a CSV path or a DataFrame with alias, unit), ``"default"`` for the table of
    the dataset the paths belong to (``aliases.dataset_alias_table``: the one their
    folder's anquan.toml names, the bundled one for the bundled sample, else none),
    None for none; aliases are replaced
    before duplicates are looked for, and near-duplicate names it does not cover are
    reported in ``Dataset.unit_aliases`` (kind ``likely``), never merged.
    Raises InputError for a missing, empty, unreadable or unsupported file, a file with
    a header and no data rows, a workbook whose only data are on hidden sheets, a sheet
    with no recognisable header, or a report sheet with no unit column, no indicator
    column or no period anywhere.  Empty and hidden sheets of a workbook, and sheets
    with no recognisable header in a workbook where other sheets have one, are skipped
    and noted in ``summary``.
    """
    alias_map = (aliases_of(paths) if isinstance(aliases, str) and aliases == "default"
                 else load_unit_aliases(aliases))
    parts = read_inputs(paths, sheet, skip_non_reports=skip_non_reports)

    rows, cleaned_rows = _clean_units(concat_frames([p.rows for p in parts], ROW_COLUMNS),
                                      ("unit", "parent"))
    rows, renamed_rows = _rename_units(rows, alias_map, ("unit", "parent"))
    cells = concat_frames([p.cells for p in parts], ["file", "sheet"] + CELL_COLUMNS)
    sheet_rejects = [r for p in parts for r in p.rejects]
    reports = assemble_reports(rows, cells, sheet_rejects, [p.summary for p in parts])

    exposure, cleaned_exposure = _clean_units(_stack([p.exposure for p in parts],
                                                     EXPOSURE_COLUMNS), ("unit",))
    exposure, renamed_exposure = _rename_units(exposure, alias_map, ("unit",))
    ledger, cleaned_ledger = _clean_units(_stack([p.ledger for p in parts], LEDGER_COLUMNS),
                                          ("unit",))
    ledger, renamed_ledger = _rename_units(ledger, alias_map, ("unit",))
    # A ledger sheet read, even with every row rejected, gets its (empty) counts.
    counts = (ledger_mod.effective_counts(ledger, deadline_day=deadline_day,
                                          campaign_start=campaign_start,
                                          campaign_end=campaign_end)
              if any(p.ledger is not None for p in parts)
              else pd.DataFrame(columns=LEDGER_COUNT_COLUMNS))
    names = pd.concat([reports.panel["unit"], *(t["unit"] for t in (exposure, ledger) if len(t))])
    unit_aliases = _unit_alias_table(cleaned_rows + cleaned_exposure + cleaned_ledger,
                                     renamed_rows + renamed_exposure + renamed_ledger, names)
    unknown = pd.DataFrame([u for p in parts for u in p.unknown], columns=UNKNOWN_COLUMNS)
    unknown = unknown.astype({c: "str" for c in UNKNOWN_COLUMNS if c != "score"}
                             | {"score": "float64"})

    # A CSV has no sheet: "" inside (group keys), missing outside.
    return Dataset(panel=_missing_sheet(reports.panel, "source_sheet"),
                   rejects=_missing_sheet(reports.rejects, "sheet"),
                   exposure=exposure, ledger=ledger, ledger_counts=counts,
                   reconciliation=_missing_sheet(reports.reconciliation, "sheet"),
                   unknown_columns=_missing_sheet(unknown, "sheet"),
                   summary=_missing_sheet(reports.summary, "sheet"),
                   unit_aliases=unit_aliases, cumulative=reports.cumulative)


class ReportTables(NamedTuple):
    """What the report sheets give: the panel, every reject, the reconciliation of
    totals rows, the summary of every sheet and the 累计 figures per period."""

    panel: pd.DataFrame
    rejects: pd.DataFrame
    reconciliation: pd.DataFrame
    summary: pd.DataFrame
    cumulative: pd.DataFrame = pd.DataFrame(columns=CUMULATIVE_COLUMNS)


def assemble_reports(rows: pd.DataFrame, cells: pd.DataFrame, sheet_rejects: list,
                     sheets: list[dict]) -> ReportTables:
    """The panel, rejects, reconciliation and summary from the report sheets' rows
    and cells (``sheets.report_sheet``), the rejects of every sheet and the summary
    record of every sheet.  Does not modify its inputs."""
    if rows.empty:  # only exposure or ledger sheets
        rej = concat_frames(sheet_rejects, REJECT_COLUMNS)
        rej = rej.astype({"row": "int64"}) if len(rej) else empty_rejects()
        return ReportTables(empty_panel(), rej.reset_index(drop=True), empty_reconciliation(),
                            pd.DataFrame(sheets, columns=SUMMARY_COLUMNS))
    rows, cells = _typed(rows, cells)
    rows_ok = rows[~rows["is_total"] & rows["reject"].isna()]
    cells_ok = cells[~cells["is_total"] & cells["reject"].isna()]
    dups, kept = report_row_duplicates(rows_ok, cells_ok)
    unreadable = kept[kept["error"].notna()]
    figures = kept[kept["error"].isna() & kept["value"].notna()]
    # Reconciliation uses the units' figures as typed, before 累计 conversion; a row
    # superseded by a correction still counts in its own sheet's 合计.
    sup = dups.loc[dups["superseded"], ["file", "sheet", "row"]] if len(dups) else dups
    old = cells_ok.merge(sup.astype({"row": "int64"}), on=["file", "sheet", "row"]) \
        if len(sup) else cells_ok.iloc[:0]
    old = old[old["error"].isna() & old["value"].notna()]
    reconciliation = reconcile_totals(rows, cells[cells["is_total"]],
                                      pd.concat([figures, old], ignore_index=True)
                                      if len(old) else figures)
    converted = cumulative_to_period(figures)
    fell = converted[converted["error"].notna()]
    cross, in_period = cross_form_duplicates(converted[converted["error"].isna()])
    panel = _panel(in_period)
    rejects = _all_rejects([concat_frames(sheet_rejects, REJECT_COLUMNS),
                            dups[REJECT_COLUMNS] if len(dups) else None,
                            _cell_rejects(unreadable), _cell_rejects(fell),
                            cross[REJECT_COLUMNS] if len(cross) else None])
    summary = sheet_summary(rows, panel, rejects, dups, sheets)
    return ReportTables(panel, rejects, reconciliation, summary, _cumulative_table(in_period))


def _cumulative_table(cells: pd.DataFrame) -> pd.DataFrame:
    """CUMULATIVE_COLUMNS: per period, the panel's figures typed as 累计 and those of
    them that were the first of their series (``cumulative.cumulative_to_period``)."""
    cum = cells.loc[cells["basis"].eq("cumulative").to_numpy(dtype=bool)]
    if cum.empty:
        return pd.DataFrame(columns=CUMULATIVE_COLUMNS)
    g = cum.groupby(cum["period"].astype("str"), sort=False)
    out = pd.DataFrame({"cells": g.size(), "first_cells": g["first_cumulative"].sum()})
    return (out.rename_axis("period").reset_index()
            .astype({"cells": "int64", "first_cells": "int64"})[CUMULATIVE_COLUMNS])


def _typed(rows: pd.DataFrame, cells: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows and cells in their dtypes, each cell with its row's unit, unit_type, parent,
    period, basis, seq, is_total, reject and form."""
    cells = cells.astype({c: "str" for c in ("file", "sheet", "column", "indicator", "text", "error")})
    rows = rows.astype({"file": "str", "sheet": "str"})
    cells = cells.astype({"row": "int64", "value": "float64", "approx": "bool"})
    rows = rows.astype({"row": "int64", "is_total": "bool"})
    info = rows[["file", "sheet", "row", "unit", "unit_type", "parent", "period", "basis", "seq",
                 "is_total", "reject", "form"]]
    cells = cells.merge(info, on=["file", "sheet", "row"], how="left", validate="many_to_one")
    return rows, cells


def _cell_rejects(cells: pd.DataFrame) -> pd.DataFrame:
    return reject_frame(cells, cells["column"], cells["text"], cells["error"])


def _all_rejects(frames: list) -> pd.DataFrame:
    """The reject frames as one REJECT_COLUMNS table (row int64, the rest str),
    sorted by file, sheet and row (stable: each row's records in the order given)."""
    rejects = concat_frames(frames, REJECT_COLUMNS)
    rejects = (rejects.astype({"row": "int64"}).astype(
        {c: "str" for c in REJECT_COLUMNS if c != "row"})
        if len(rejects) else empty_rejects())
    return rejects.sort_values(["file", "sheet", "row"], kind="stable").reset_index(drop=True)


def _panel(cells: pd.DataFrame) -> pd.DataFrame:
    """PANEL_COLUMNS from in-period cells, sorted by unit, period, indicator, source."""
    panel = pd.DataFrame({
        "unit": cells["unit"], "unit_type": cells["unit_type"], "parent": cells["parent"],
        "period": cells["period"], "indicator": cells["indicator"], "value": cells["value"],
        "approx": cells["approx"], "source_file": cells["file"], "source_sheet": cells["sheet"],
        "source_row": cells["row"]})
    return (panel.astype(empty_panel().dtypes.to_dict())
            .sort_values(["unit", "period", "indicator", "source_file", "source_row"], kind="stable")
            .reset_index(drop=True))


def _stack(frames: list, columns: list[str]) -> pd.DataFrame:
    """The frames read (None: the sheet had no such table) one after the other; with
    none, an empty table of ``columns``."""
    read = [f for f in frames if f is not None]
    return pd.concat(read, ignore_index=True) if read else pd.DataFrame(columns=columns)


def _rename_units(frame: pd.DataFrame, alias_map: dict[str, str],
                  columns: tuple[str, ...]) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """``frame`` with the aliases in ``columns`` replaced by their unit, and what was
    replaced (``aliases.apply_unit_aliases``: name, unit, rows; one frame per column).
    Does not modify ``frame``."""
    if not alias_map or frame.empty:
        return frame, []
    renamed = {}
    done = []
    for c in columns:
        if c in frame.columns:
            renamed[c], replaced = apply_unit_aliases(frame[c], alias_map)
            done.append(replaced)
    return frame.assign(**renamed), done


def _clean_units(frame: pd.DataFrame,
                 columns: tuple[str, ...]) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """``frame`` with control characters removed from the names in ``columns``, and
    what was cleaned (``aliases.clean_unit_names``: name, unit, rows; one frame per
    column).  Does not modify ``frame``."""
    if frame.empty:
        return frame, []
    cleaned, done = {}, []
    for c in columns:
        if c in frame.columns:
            cleaned[c], changed = clean_unit_names(frame[c])
            done.append(changed)
    return frame.assign(**cleaned), done


def _unit_alias_table(cleaned: list[pd.DataFrame], replaced: list[pd.DataFrame],
                      names: pd.Series) -> pd.DataFrame:
    """``ALIAS_COLUMNS``: the names cleaned of control characters (kind ``cleaned``)
    and replaced by the alias table (kind ``applied``), rows summed over every table,
    then the likely aliases among ``names`` that the table did not cover."""
    def summed(frames, kind):
        frames = [r for r in frames if len(r)]
        return (pd.concat(frames).groupby(["name", "unit"], as_index=False)["rows"].sum()
                .assign(kind=kind, distance=pd.NA) if frames else None)

    parts = [d for d in (summed(cleaned, "cleaned"), summed(replaced, "applied"),
                         likely_aliases(names)) if d is not None and len(d)]
    return (pd.concat(parts, ignore_index=True)[ALIAS_COLUMNS] if parts
            else pd.DataFrame(columns=ALIAS_COLUMNS))


def _missing_sheet(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """``table`` with "" in ``column`` (a CSV's sheet) as missing."""
    if column not in table.columns:
        return table
    return table.assign(**{column: table[column].astype("str").replace("", pd.NA)})
