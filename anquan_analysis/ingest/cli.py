"""``anquan ingest PATH... [--sheet NAME] [--output DIR]``: ingest, save, and print what
was read and what was not.  For a folder given, the headers it could not map are
drafted into the folder's ``列名对照.csv`` with a suggestion each (``header_map``),
for the analyst to accept."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import limits
from ..dataset import Dataset
from ..text import printable
from .core import ingest


def configure_parser(p: argparse.ArgumentParser) -> None:
    """``anquan ingest PATH... [--sheet NAME] [--output DIR]``."""
    from ..config import DATA_PROCESSED, DEFAULT_REPORT_DEADLINE_DAY
    p.add_argument("paths", nargs="+", help="CSV/XLSX files or folders of them")
    p.add_argument("--sheet", help="read only this sheet of each workbook")
    p.add_argument("--output", default=str(DATA_PROCESSED),
                   help=f"folder for panel.parquet, rejects.csv and side tables (default {DATA_PROCESSED})")
    p.add_argument("--aliases", default="default",
                   help="unit alias table, CSV with alias,unit (default: the table the data "
                        "folder's anquan.toml names as unit_aliases; data/raw/unit_aliases.csv "
                        "for the bundled sample; else none; 'none' for no table)")
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
    from ..provenance import build_provenance, write_provenance

    first = Path(args.paths[0])
    # no clock: the same files give the same bytes (the assessment stamps its own time)
    write_provenance(build_provenance(first if first.is_dir() else first.parent, ds.summary,
                                      read_at=""), args.output)
    for line in summary_lines(ds):
        print(line)
    for line in draft_mapping_lines(args.paths, ds.unknown_columns):
        print(line)
    print(printable(f"wrote {Path(args.output) / 'panel.parquet'} and rejects.csv"))
    return 0


def draft_mapping_lines(paths, unknown) -> list[str]:
    """For each folder among ``paths``: draft its unknown headers into its
    ``列名对照.csv`` (``header_map.update_mapping_draft``) and say so in one line."""
    from .header_map import MAPPING_FILE, update_mapping_draft

    lines = []
    for folder in (Path(p) for p in paths):
        if not folder.is_dir() or unknown.empty:
            continue
        inside = unknown[unknown["file"].map(lambda f: Path(f).parent == folder)]
        written, added = update_mapping_draft(folder, inside)
        if written is not None:
            lines.append(f"{written}: {added} unknown headers drafted with a suggestion each; "
                         "write 是 in 采用 to accept one (or another indicator's name in 指标, "
                         "or 不读), and it is applied on every later run")
        elif len(inside):
            lines.append(f"{folder / MAPPING_FILE}: lists every unknown header already; "
                         "accept a row by writing 是 in 采用")
    return [printable(line) for line in lines]


def _where(file, sheet) -> str:
    return Path(file).name + (f" [{sheet}]" if isinstance(sheet, str) and sheet else "")


def summary_lines(ds: Dataset) -> list[str]:
    """The lines ``anquan ingest`` prints, each safe for a terminal (``text.printable``:
    a control character in a file, sheet or unit name is shown escaped, not run).
    Skipped files and sheets get one line each; likely aliases are printed up to
    ``limits.PRINTED_ALIASES`` (all are in unit_aliases.csv)."""
    lines = []
    s = ds.summary
    for r in s.itertuples():
        where = _where(r.file, r.sheet)
        if r.note:
            lines.append(f"{where}: {r.note}")
            continue
        layout = getattr(r, "format", "")
        lines.append(f"{where} ({r.kind}): {r.rows_read} rows read, {r.rows_clean} clean "
                     f"({r.rows_empty} empty), {r.rows_rejected} rejected "
                     f"({r.rows_duplicate_identical} identical duplicates), "
                     f"{r.rows_totals} totals rows, {r.reject_records} reject records"
                     + (f"; read as {layout}" if isinstance(layout, str) and layout else ""))
    lines.append(f"total: {int(s['rows_read'].sum())} rows read, {int(s['rows_clean'].sum())} clean, "
                 f"{int(s['rows_rejected'].sum())} rejected; {len(ds.panel)} figures in the panel, "
                 f"{len(ds.rejects)} reject records")
    lines += alias_lines(ds.unit_aliases)
    lines += correction_lines(ds.rejects)
    for r in ds.unknown_columns.itertuples():
        lines.append(f"unknown column: {_where(r.file, r.sheet)} {r.column!r}: {r.reason}")
    rc = ds.reconciliation
    if len(rc):
        for r in rc[rc["status"] == "mismatch"].itertuples():
            more = ("; the total may include units not listed" if r.difference > 0
                    else "; the units listed sum to more than the total")
            lines.append(f"reconciliation mismatch: {_where(r.file, r.sheet)} row {r.row} "
                         f"{r.period} {r.indicator}: stated {r.stated:g}, units sum "
                         f"{r.sum_of_units:g}, difference {r.difference:g}{more}")
        for r in rc[rc["status"] == "no units"].itertuples():
            lines.append(f"reconciliation: {_where(r.file, r.sheet)} row {r.row} {r.period} "
                         f"{r.indicator}: stated {r.stated:g}; no unit listed gives it "
                         "(所列单位未报送分项)")
    return [printable(line) for line in lines]


def correction_lines(rejects) -> list[str]:
    """One line per report row superseded by a correction file, naming both rows."""
    from .corrections import SUPERSEDED

    hit = rejects[rejects["reason"].str.startswith(SUPERSEDED, na=False)]
    return [f"correction: {_where(r.file, r.sheet)} row {r.row} ({r.value}) "
            + r.reason[len(SUPERSEDED):].strip(" ()") for r in hit.itertuples()]


def alias_lines(table) -> list[str]:
    """The lines for the unit alias table: names cleaned of control characters,
    aliases applied, likely aliases (at most ``limits.PRINTED_ALIASES``), and what was
    left out."""
    lines, likely = [], 0
    for r in table.itertuples():
        if r.kind == "cleaned":
            lines.append(f"unit name cleaned: {r.name} → {r.unit!r} (control characters "
                         f"removed; {r.rows} rows)")
        elif r.kind == "applied":
            lines.append(f"unit alias applied: {r.name} → {r.unit} ({r.rows} rows)")
        elif r.kind == "likely":
            likely += 1
            if likely <= limits.PRINTED_ALIASES:
                lines.append(f"likely alias (not merged): {r.name!r} ~ {r.unit!r} ({r.distance} "
                             "edit); if they are one unit, add the pair to unit_aliases.csv")
        elif r.kind == "unlisted":
            lines.append(f"… and {r.rows:,} more likely aliases, not listed (at most "
                         f"{limits.MAX_ALIAS_PAIRS:,})")
        elif r.kind == "unexamined":
            lines.append(f"{r.rows:,} pairs of near-identical names not compared (such as "
                         f"{r.name!r}: numbered units, too many to pair out)")
    if likely > limits.PRINTED_ALIASES:
        lines.append(f"… {likely - limits.PRINTED_ALIASES:,} more likely aliases in "
                     "unit_aliases.csv")
    return lines
