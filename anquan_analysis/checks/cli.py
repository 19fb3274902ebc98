"""``anquan check PATH... [--exposure F] [--ledger F] [--period P] --output findings.csv``:
read the inputs as ``anquan ingest`` does (or a folder written by ``Dataset.save``),
run every check, write the findings (.csv: the findings table as it is; .xlsx: the
workbook ``anquan assess`` writes, ``report.write_findings_xlsx``) and print a count
per check and severity."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError

_OUTPUT_SUFFIXES = {".csv", ".xlsx"}


def configure_parser(p: argparse.ArgumentParser) -> None:
    """Arguments of ``anquan check``."""
    p.add_argument("paths", nargs="+",
                   help="report/ledger/exposure CSV or XLSX files, folders of them, or a "
                        "folder written by `anquan ingest` (holding panel.parquet)")
    p.add_argument("--exposure", action="append", default=[],
                   help="exposure table (监管企业数); may be repeated")
    p.add_argument("--ledger", action="append", default=[],
                   help="hazard ledger (隐患台账); may be repeated")
    p.add_argument("--period", help="assess this period (2024-09, 2024Q3 …); default: the whole panel")
    p.add_argument("--checks", help="comma-separated check ids (default: all)")
    p.add_argument("--sheet", help="read only this sheet of each workbook")
    p.add_argument("--output", required=True, help="findings file, .csv or .xlsx")


def load_dataset(paths, *, exposure=(), ledger=(), sheet=None):
    """A ``Dataset`` from a saved folder (panel.parquet inside) or from raw files via
    ``ingest.ingest``.  Raises InputError for a path that does not exist."""
    from ..dataset import Dataset
    paths = [Path(p) for p in paths]
    for p in [*paths, *map(Path, exposure), *map(Path, ledger)]:
        if not p.exists():
            raise InputError(p, "no such file or folder")
    saved = [p for p in paths if p.is_dir() and (p / "panel.parquet").exists()]
    if saved:
        if len(paths) > 1 or exposure or ledger:
            raise InputError(saved[0], "a saved dataset folder must be the only input")
        return Dataset.load(saved[0])
    from ..ingest import ingest
    return ingest([*paths, *map(Path, exposure), *map(Path, ledger)], sheet=sheet)


def run_command(args) -> int:
    """Load, run the checks, write the findings and print the counts."""
    from ..indicators import in_window
    from ..periods import parse_period
    from . import run_checks, summarise
    out = Path(args.output)
    if out.suffix not in _OUTPUT_SUFFIXES:
        raise InputError(out, "the findings file must end in .csv or .xlsx")
    period = None
    if args.period:
        try:
            period = parse_period(args.period)
        except ValueError as err:
            raise InputError("--period", str(err)) from None
    ds = load_dataset(args.paths, exposure=args.exposure, ledger=args.ledger, sheet=args.sheet)
    if ds.panel.empty:
        raise InputError(", ".join(map(str, args.paths)), "no unit-period figures were read")
    if period is not None and not in_window(ds.panel["period"], period).any():
        raise InputError("--period", f"{period} is before every period in the data")
    checks = [c.strip() for c in args.checks.split(",")] if args.checks else None
    findings = run_checks(ds, period=period, checks=checks)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".xlsx":
        # the workbook `anquan assess` writes: Chinese sheets, titles, print layout
        from ..provenance import build_provenance, load_provenance
        from ..report import write_findings_xlsx
        first = Path(args.paths[0])
        folder = first if first.is_dir() else first.parent
        prov = load_provenance(folder) or build_provenance(folder, ds.summary)
        write_findings_xlsx(findings, out, rejects=ds.rejects, period=period, provenance=prov)
    else:
        from ..io import write_table_atomic
        write_table_atomic(findings, out)
    counts = summarise(findings)
    for r in counts.itertuples():
        print(f"{r.check}: {r.alert} alert, {r.warning} warning, {r.info} info")
    print(f"total: {len(findings)} findings "
          f"({int((findings['severity'] == 'alert').sum())} alert, "
          f"{int((findings['severity'] == 'warning').sum())} warning); wrote {out}")
    return 0
