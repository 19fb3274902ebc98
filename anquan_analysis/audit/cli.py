"""``anquan audit PATH... [--output DIR] [--to-table OUT]``: figures, claims and unit tables
of bulletins; a folder is audited document by document with one summary across them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .core import audit
from .extract import extract_figures
from .panel import figures_to_panel, lists_to_table
from .reading import SUFFIXES, read_text

SUMMARY_COLUMNS = ["source_file", "figures", "with_indicator", "claims", "verified",
                   "contradicted", "discrepancy", "unverifiable"]


def documents(paths) -> list[Path]:
    """The files to audit: each file as given, and every bulletin file inside each
    folder (sorted by name).  Raises ``InputError`` for a missing path or an empty folder."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES)
            if not found:
                raise InputError(p, "文件夹中没有可审核的通报 (no .txt/.md/.docx/.pdf/.html file)")
            out += found
        elif p.exists():
            out.append(p)
        else:
            raise InputError(p, "文件不存在 (file not found)")
    return out


def summary_row(name: str, figures: pd.DataFrame, claims: pd.DataFrame) -> dict:
    """Counts of one document's figures and claims by status (SUMMARY_COLUMNS)."""
    status = claims["status"].value_counts() if len(claims) else pd.Series(dtype="int64")
    coded = int((figures["indicator"] != "").sum()) if len(figures) else 0
    return {"source_file": name, "figures": len(figures), "with_indicator": coded,
            "claims": len(claims), **{s: int(status.get(s, 0)) for s in
                                      ("verified", "contradicted", "discrepancy", "unverifiable")}}


def report_lines(name: str, figures: pd.DataFrame, claims: pd.DataFrame) -> list[str]:
    """The short terminal report of one bulletin: counts, then every contradicted,
    discrepant and unverifiable claim with its explanation."""
    s = summary_row(name, figures, claims)
    lines = [f"{name}: {s['figures']} figures ({s['with_indicator']} with an indicator); "
             f"{s['claims']} claims: {s['verified']} verified, {s['contradicted']} contradicted, "
             f"{s['discrepancy']} discrepancies, {s['unverifiable']} unverifiable"]
    for label in ("contradicted", "discrepancy", "unverifiable"):
        for r in claims.loc[claims["status"] == label].itertuples() if len(claims) else []:
            lines.append(f"  [{label}] {r.claim_type}: {r.statement[:40]} → {r.explanation}")
    return lines


def summary_lines(summary: pd.DataFrame) -> list[str]:
    """One line across all documents (printed after the per-document reports)."""
    t = summary[SUMMARY_COLUMNS[1:]].sum()
    flagged = summary.loc[(summary["contradicted"] + summary["discrepancy"]) > 0, "source_file"]
    return [f"{len(summary)} documents: {t['figures']} figures, {t['claims']} claims: "
            f"{t['verified']} verified, {t['contradicted']} contradicted, "
            f"{t['discrepancy']} discrepancies, {t['unverifiable']} unverifiable"
            + (f"; to read: {', '.join(flagged)}" if len(flagged) else "")]


def configure_parser(p: argparse.ArgumentParser) -> None:
    """``anquan audit PATH... [--output DIR] [--format csv|xlsx] [--issuer NAME --period P]
    [--to-table OUT [--basis 当期|累计] [--parent NAME]]``."""
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="bulletins (.txt, .docx, .pdf with a text layer, .html) or folders of them")
    p.add_argument("--output", help="folder for figures, audit and summary tables (none: report only)")
    p.add_argument("--format", choices=("csv", "xlsx"), default="csv", help="table format")
    p.add_argument("--issuer", help="area that issued the bulletins (e.g. 巴南区): with --period, "
                                    "also write panel.<format> in the ingest's long format")
    p.add_argument("--period", help="period the figures cover (2024-04, 2024Q2, 2024年上半年)")
    p.add_argument("--to-table", metavar="OUT",
                   help="write the units each bulletin lists as the ingest's wide table: a .csv "
                        "or .xlsx file for one bulletin, a folder (one CSV each) for several")
    p.add_argument("--basis", choices=("当期", "累计"),
                   help="口径 of --to-table (default: 累计 when the text says 截至 or 累计)")
    p.add_argument("--parent", help="上级 of the units in --to-table (e.g. the issuing city)")


def run_command(args) -> int:
    """Read, extract and audit every document; print the reports and the summary; write
    the tables asked for.  Returns 0; unreadable files raise ``InputError`` (exit 2)."""
    from ..io import write_table_atomic
    paths = documents(args.paths)
    all_figs, all_claims, rows, lines = [], [], [], []
    for path in paths:
        text = read_text(path)
        figs = extract_figures(text)
        claims = audit(text, figs)
        lines += report_lines(path.name, figs, claims)
        rows.append(summary_row(path.name, figs, claims))
        all_figs.append(figs.assign(source_file=path.name))
        all_claims.append(claims.assign(source_file=path.name))
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    if len(paths) > 1:
        lines += summary_lines(summary)
    for line in lines:
        print(line)
    written = []
    if args.output:
        out = Path(args.output)
        figures = pd.concat(all_figs, ignore_index=True)
        written += [write_table_atomic(figures, out / f"figures.{args.format}"),
                    write_table_atomic(pd.concat(all_claims, ignore_index=True),
                                       out / f"audit.{args.format}"),
                    write_table_atomic(summary, out / f"summary.{args.format}")]
        if args.issuer and args.period:
            panel = figures_to_panel(figures, issuer=args.issuer, period=args.period)
            written.append(write_table_atomic(panel, out / f"panel.{args.format}"))
    if args.to_table:
        written += _write_tables(paths, args, write_table_atomic)
    if written:
        print("wrote " + ", ".join(str(w) for w in written))
    return 0


def _write_tables(paths: list[Path], args, write) -> list:
    target = Path(args.to_table)
    single = len(paths) == 1 and target.suffix.lower() in (".csv", ".xlsx")
    out = []
    for path in paths:
        try:
            table, notes = lists_to_table(read_text(path), period=args.period, basis=args.basis,
                                          parent=args.parent)
        except ValueError as err:
            raise InputError(path, str(err)) from err
        if len(table) == 0:
            print(f"{path.name}: 文中未列出单位的数据，未生成表格 (no unit lists)")
            continue
        for note in notes:
            print(f"{path.name}: {note}")
        dest = target if single else target / f"{path.stem}.csv"
        out.append(write(table, dest))
    return out
