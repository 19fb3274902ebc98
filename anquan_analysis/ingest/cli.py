"""``anquan ingest PATH... [--sheet NAME] [--output DIR]``: ingest, save, and print what
was read and what was not."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..dataset import Dataset
from .core import ingest


def configure_parser(p: argparse.ArgumentParser) -> None:
    """``anquan ingest PATH... [--sheet NAME] [--output DIR]``."""
    from ..config import DATA_PROCESSED, DEFAULT_REPORT_DEADLINE_DAY
    p.add_argument("paths", nargs="+", help="CSV/XLSX files or folders of them")
    p.add_argument("--sheet", help="read only this sheet of each workbook")
    p.add_argument("--output", default=str(DATA_PROCESSED),
                   help=f"folder for panel.parquet, rejects.csv and side tables (default {DATA_PROCESSED})")
    p.add_argument("--aliases", default="default",
                   help="unit alias table, CSV with alias,unit (default: data/raw/unit_aliases.csv "
                        "when present; 'none' for no table)")
    p.add_argument("--deadline-day", type=int, default=DEFAULT_REPORT_DEADLINE_DAY,
                   help="hazards must be reported by this day of the month (ledger)")
    p.add_argument("--campaign-start", help="first day of the campaign window (ledger), YYYY-MM-DD")
    p.add_argument("--campaign-end", help="last day of the campaign window (ledger), YYYY-MM-DD")


def run_command(args) -> int:
    """Ingest, save, and print one line per file and sheet, totals, unknown columns and
    reconciliation mismatches."""
    aliases = None if args.aliases.lower() in ("none", "") else args.aliases
    ds = ingest(args.paths, sheet=args.sheet, deadline_day=args.deadline_day,
                campaign_start=args.campaign_start, campaign_end=args.campaign_end,
                aliases=aliases)
    ds.save(args.output)
    for line in summary_lines(ds):
        print(line)
    print(f"wrote {Path(args.output) / 'panel.parquet'} and rejects.csv")
    return 0


def summary_lines(ds: Dataset) -> list[str]:
    """The lines ``anquan ingest`` prints."""
    lines = []
    s = ds.summary
    for r in s.itertuples():
        where = Path(r.file).name + (f" [{r.sheet}]" if isinstance(r.sheet, str) and r.sheet else "")
        if r.note:
            lines.append(f"{where}: {r.note}")
            continue
        lines.append(f"{where} ({r.kind}): {r.rows_read} rows read, {r.rows_clean} clean "
                     f"({r.rows_empty} empty), {r.rows_rejected} rejected "
                     f"({r.rows_duplicate_identical} identical duplicates), "
                     f"{r.rows_totals} totals rows, {r.reject_records} reject records")
    lines.append(f"total: {int(s['rows_read'].sum())} rows read, {int(s['rows_clean'].sum())} clean, "
                 f"{int(s['rows_rejected'].sum())} rejected; {len(ds.panel)} figures in the panel, "
                 f"{len(ds.rejects)} reject records")
    for r in ds.unit_aliases.itertuples():
        if r.kind == "applied":
            lines.append(f"unit alias applied: {r.name} → {r.unit} ({r.rows} rows)")
        else:
            lines.append(f"likely alias (not merged): {r.name!r} ~ {r.unit!r} ({r.distance} edit); "
                         "if they are one unit, add the pair to unit_aliases.csv")
    for r in ds.unknown_columns.itertuples():
        sheet = f" [{r.sheet}]" if isinstance(r.sheet, str) and r.sheet else ""
        lines.append(f"unknown column: {Path(r.file).name}{sheet} {r.column!r}: {r.reason}")
    rc = ds.reconciliation
    if len(rc):
        for r in rc[rc["status"] == "mismatch"].itertuples():
            sheet = f" [{r.sheet}]" if isinstance(r.sheet, str) and r.sheet else ""
            lines.append(f"reconciliation mismatch: {Path(r.file).name}{sheet} row {r.row} "
                         f"{r.period} {r.indicator}: stated {r.stated:g}, units sum "
                         f"{r.sum_of_units:g}, difference {r.difference:g}")
    return lines
