"""Ledger benchmark: a national three-year hazard ledger in parquet to effective counts.

A ledger of ``--rows`` hazards (default 50 million: 50,000 units × 36 months, about
28 hazards per unit and month) is drawn by ``synth.make_ledger`` in parts of
``--part-rows`` and written as one parquet file per part (what one year's export or
one province's looks like).  Then, each in a fresh process so that its peak memory
is its own (VmHWM of that process), the same counts per unit × month × sector
(``effective.FLAGS``; deadline day 24, no campaign window) are computed by

  numpy, in memory   ``pd.read_parquet`` of the columns needed, ``effective_counts``
  numpy, streamed    ``effective_counts_parquet(files, batch_rows=…)``
  DuckDB             one SQL group-by over ``read_parquet`` of the files (all threads),
                     ordered like the package's table, fetched as Arrow
  Polars             the same as a lazy query, collected by the streaming engine

(DuckDB and Polars where installed: ``pip install -e '.[bench]'``).  Every engine's
row count and column totals are checked against the streamed numpy table.  Each
path is run on the first parts only (``--sizes``) as well, and its peak memory is
extrapolated linearly from the two largest sizes it ran to the ledger size at which
it would pass the machine's memory.

    python benchmarks/ledger.py                     # 50 M rows (≈3 minutes to draw)
    python benchmarks/ledger.py --rows 40000 --part-rows 10000 --units 300 --sizes 20000   # smoke
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS, TARGET_GB = 60.0, 6.0
PATHS = {
    "numpy-memory": "numpy, in memory (read_parquet + effective_counts)",
    "numpy-streamed": "numpy, streamed (effective_counts_parquet)",
    "duckdb": "DuckDB SQL on the parquet files",
    "polars": "Polars lazy query, streaming engine",
}
TOTALS = ["reported", "found", "found_dept", "found_enterprise", "rectified",
          "excluded_standard", "excluded_late", "rectified_undated"]


# ------------------------------------------------------------------- one path
def _peak_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


DUCKDB_SQL = """
WITH h AS (
  SELECT unit, coalesce(sector, '') AS sector, found_date::DATE AS found,
         reported_date::DATE AS reported, coalesce(source = 'dept', false) AS dept,
         coalesce(source = 'enterprise', false) AS enterprise,
         coalesce(meets_standard, true) AS meets,
         coalesce(status = 'rectified', false) AS done, rectified_date IS NULL AS undated
  FROM read_parquet({files})),
d AS (
  SELECT *, date_trunc('month', found) AS month,
         CASE WHEN day(found) > 24 THEN date_trunc('month', found) + INTERVAL 1 MONTH
              ELSE date_trunc('month', found) END + INTERVAL 23 DAY AS deadline
  FROM h),
e AS (
  SELECT *, reported IS NULL OR reported <= deadline AS in_time FROM d)
SELECT unit, strftime(month, '%Y-%m') AS period, sector,
       count(*) AS reported,
       count_if(meets AND in_time) AS found,
       count_if(meets AND in_time AND dept) AS found_dept,
       count_if(meets AND in_time AND enterprise) AS found_enterprise,
       count_if(meets AND in_time AND done) AS rectified,
       count_if(meets AND in_time AND done AND dept) AS rectified_dept,
       count_if(meets AND in_time AND done AND enterprise) AS rectified_enterprise,
       count_if(NOT meets) AS excluded_standard,
       count_if(meets AND NOT in_time) AS excluded_late,
       0 AS excluded_window,
       count_if(meets AND in_time AND done AND undated) AS rectified_undated
FROM e GROUP BY ALL ORDER BY unit, period, sector
"""


def _duckdb(files):
    import duckdb
    listed = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
    with duckdb.connect() as con:
        return con.sql(DUCKDB_SQL.format(files=listed)).fetch_arrow_table()


def _polars(files):
    import polars as pl
    found = pl.col("found_date").dt.date()
    month = found.dt.truncate("1mo")
    deadline = (pl.when(found.dt.day() > 24).then(month.dt.offset_by("1mo"))
                .otherwise(month).dt.offset_by("23d"))
    reported = pl.col("reported_date").dt.date()
    meets = pl.col("meets_standard").fill_null(True)
    in_time = reported.is_null() | (reported <= deadline)
    eff = meets & in_time
    dept = (pl.col("source").cast(pl.String) == "dept").fill_null(False)
    ent = (pl.col("source").cast(pl.String) == "enterprise").fill_null(False)
    done = eff & (pl.col("status").cast(pl.String) == "rectified").fill_null(False)
    aggs = [pl.len().alias("reported"), eff.sum().alias("found"),
            (eff & dept).sum().alias("found_dept"), (eff & ent).sum().alias("found_enterprise"),
            done.sum().alias("rectified"), (done & dept).sum().alias("rectified_dept"),
            (done & ent).sum().alias("rectified_enterprise"),
            (~meets).sum().alias("excluded_standard"),
            (meets & ~in_time).sum().alias("excluded_late"),
            pl.lit(0).alias("excluded_window"),
            (done & pl.col("rectified_date").is_null()).sum().alias("rectified_undated")]
    q = (pl.scan_parquet([str(f) for f in files])
         .with_columns(unit=pl.col("unit").cast(pl.String),
                       sector=pl.col("sector").cast(pl.String).fill_null(""),
                       period=month.dt.strftime("%Y-%m"))
         .group_by(["unit", "period", "sector"]).agg(aggs)
         .sort(["unit", "period", "sector"]))
    return q.collect(engine="streaming")


def run_one(path: str, files: list[str], batch_rows: int) -> dict:
    """Run one path in this process; its time, peak memory, rows and totals."""
    t0 = time.perf_counter()
    if path == "numpy-memory":
        import pandas as pd
        from anquan_analysis.effective import NEEDED, effective_counts
        ledger = pd.concat([pd.read_parquet(f, columns=NEEDED) for f in files],
                           ignore_index=True) if len(files) > 1 else \
            pd.read_parquet(files[0], columns=NEEDED)
        out = effective_counts(ledger)
        del ledger
        totals = {c: int(out[c].sum()) for c in TOTALS}
    elif path == "numpy-streamed":
        from anquan_analysis.effective import effective_counts_parquet
        out = effective_counts_parquet(files, batch_rows=batch_rows)
        totals = {c: int(out[c].sum()) for c in TOTALS}
    elif path == "duckdb":
        out = _duckdb(files)
        totals = {c: int(np.asarray(out[c]).sum()) for c in TOTALS}
    else:
        out = _polars(files)
        totals = {c: int(out[c].sum()) for c in TOTALS}
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak": _peak_bytes(), "rows": len(out), "totals": totals}


# ---------------------------------------------------------------------- driver
def installed(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is not None


def generate(workdir: Path, rows: int, part_rows: int, units: int, months: int,
             seed: int) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from anquan_analysis.synth import make_ledger
    files = []
    t0 = time.perf_counter()
    for k, first in enumerate(range(0, rows, part_rows)):
        part = make_ledger(min(part_rows, rows - first), units, months, seed=seed,
                           first_row=first)
        f = workdir / f"ledger-{k:03d}.parquet"
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), f)
        files.append(f)
    size = sum(f.stat().st_size for f in files)
    print(f"  generate (synth.make_ledger, {len(files)} parts)   {time.perf_counter() - t0:9.1f} s   "
          f"{size / 2**20:,.0f} MB of parquet", flush=True)
    return files


def measure(path: str, files: list[Path], batch_rows: int) -> dict:
    cmd = [sys.executable, __file__, "--one", path, "--batch-rows", str(batch_rows),
           "--files", json.dumps([str(f) for f in files])]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{path} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            return int(next(li for li in f if li.startswith("MemTotal")).split()[1]) * 1024
    except (OSError, StopIteration):
        return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--part-rows", type=int, default=5_000_000)
    ap.add_argument("--units", type=int, default=50_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--batch-rows", type=int, default=4_000_000)
    ap.add_argument("--sizes", default="5000000,10000000,20000000",
                    help="smaller ledgers (first parts) for the memory curve, comma-separated")
    ap.add_argument("--memory-max", type=int, default=20_000_000,
                    help="largest ledger the in-memory path is run on")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir")
    ap.add_argument("--one", choices=list(PATHS), help=argparse.SUPPRESS)
    ap.add_argument("--files", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, json.loads(args.files), args.batch_rows)))
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from scale import machine  # noqa: E402  (a sibling script)
    ram = machine_memory()
    print(f"machine: {machine()}")
    print(f"\n[ledger] {args.rows:,} hazards, {args.units:,} units, {args.months} months; "
          f"batches of {args.batch_rows:,} rows", flush=True)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s} | {args.rows})
    sizes = [s for s in sizes if s <= args.rows]
    results: dict[str, dict[int, dict]] = {p: {} for p in PATHS}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        files = generate(Path(tmp), args.rows, args.part_rows, args.units, args.months,
                         args.seed)
        for size in sizes:
            n_files = -(-size // args.part_rows)
            part = files[:n_files]
            n_rows = min(size, n_files * args.part_rows)
            reference = None
            for path, label in PATHS.items():
                module = {"duckdb": "duckdb", "polars": "polars"}.get(path)
                if module and not installed(module):
                    print(f"  [{n_rows:,} rows] {label:<52s} not installed", flush=True)
                    continue
                if path == "numpy-memory" and n_rows > args.memory_max:
                    print(f"  [{n_rows:,} rows] {label:<52s} not run (above --memory-max)")
                    continue
                r = measure(path, part, args.batch_rows)
                results[path][n_rows] = r
                print(f"  [{n_rows:,} rows] {label:<52s} {r['seconds']:8.2f} s   "
                      f"peak {r['peak'] / 2**30:5.2f} GB   {r['rows']:,} rows out", flush=True)
                if path == "numpy-streamed":
                    reference = r
                elif reference is not None and (r["rows"], r["totals"]) != (
                        reference["rows"], reference["totals"]):
                    raise AssertionError(f"{path} disagrees with the package at {n_rows:,} "
                                         f"rows: {r['rows']} {r['totals']} != "
                                         f"{reference['rows']} {reference['totals']}")
            print(f"  [{n_rows:,} rows] every path: the same {reference['rows']:,} rows and "
                  f"column totals", flush=True)

    print("\nSUMMARY")
    full = results["numpy-streamed"][max(results["numpy-streamed"])]
    ok = full["seconds"] <= TARGET_SECONDS and full["peak"] <= TARGET_GB * 2**30
    rows = max(results["numpy-streamed"])
    label = f"{rows / 1e6:g}M" if rows >= 1_000_000 else f"{rows:,}"
    print(f"FIGURE ledger {label} rows: {full['seconds']:.1f} s, peak {full['peak'] / 2**30:.2f} GB"
          f" | target ≤ {TARGET_SECONDS:g} s, ≤ {TARGET_GB:g} GB: {'met' if ok else 'MISSED'}")
    for path, label in PATHS.items():
        runs = results[path]
        if not runs:
            continue
        big = sorted(runs)[-2:]
        at = ", ".join(f"{n / 1e6:g}M {runs[n]['peak'] / 2**30:.2f} GB" for n in sorted(runs))
        if len(big) < 2:
            print(f"LIMIT {label}: one size measured ({at}); no extrapolation")
            continue
        (n0, n1), (p0, p1) = big, (runs[big[0]]["peak"], runs[big[1]]["peak"])
        slope = (p1 - p0) / (n1 - n0)
        if slope <= 0:
            print(f"LIMIT {label}: peak does not grow with the ledger ({at})")
            continue
        limit = n1 + (ram - p1) / slope
        print(f"LIMIT {label}: {slope * 1e6 / 2**20:,.0f} MB per million rows; would pass "
              f"{ram / 2**30:.1f} GB at about {limit / 1e6:,.0f} M rows (extrapolated from {at})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
