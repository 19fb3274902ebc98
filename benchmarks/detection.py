"""Detection of the checks on districts written apart from them, beside an oracle.

The grid (issue 12, item 5): cells of units (30, 50, 150) × between-unit
overdispersion (gamma shape 2, 4, 10; lognormal σ 0.6) × share of anomalous units
(10 %, 20 %) × strength (strong, mild).  Each cell runs benchmark districts
(``anquan_analysis.evaluation.districts``) until every kind has been planted
``--per-kind`` times; each district has a null twin with nothing planted.  The checks
are called only through ``checks.run_checks``; the oracle
(``anquan_analysis.evaluation.oracle``) tests each kind with the true generating
parameters, BH at the checks' level; both are scored by ``evaluation.score``.

    .venv/bin/python benchmarks/detection.py             # the grid (~15 min on 2 cores)
    .venv/bin/python benchmarks/detection.py --quick     # 2 cells, 1 planting a kind
    .venv/bin/python benchmarks/detection.py --units 50 --strength strong
    .venv/bin/python benchmarks/detection.py --checks pinned_rate   # one check's recall and flags

Printed: which kinds the package's checks can detect at all; one line per cell with
recall per kind as ``checks/oracle`` and the shares of clean units and of null-twin
units flagged (warning or alert) as ``checks/oracle``; the targets of issue 12 for the
strong cells as met/MISSED lines, and for each missed one whether it is beyond chance
(``evaluation.shortfall``); the clean units flagged per check; recall pooled by
strength.  Targets are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anquan_analysis.evaluation.districts import KINDS, KIND_ZH  # noqa: E402
from anquan_analysis.evaluation.grid import (AXES, SHORT, cell_row, detector_status,  # noqa: E402
                                             grid_cells, recall_table, run_cell, targets)
from anquan_analysis.evaluation.shortfall import pooled as pooled_by_size  # noqa: E402
from anquan_analysis.evaluation.shortfall import shortfalls, summary_lines  # noqa: E402


def _machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        mem = f", {kb / 1024 ** 2:.1f} GB RAM"
    except OSError:
        pass
    import numpy
    import scipy
    return (f"machine: {os.cpu_count()} CPUs{mem}, Python {platform.python_version()}, "
            f"pandas {pd.__version__}, numpy {numpy.__version__}, scipy {scipy.__version__}; "
            f"{dt.date.today().isoformat()}")


def _status_lines() -> list[str]:
    st = detector_status()
    lines = ["kind                  detectors (present in the package / not yet)"]
    for r in st.itertuples():
        lines.append(f"  {r.kind:<21} {r.present or '—'}"
                     + (f"   [not yet: {r.absent}]" if r.absent else ""))
    none = st.loc[st["present"] == "", "kind"].tolist()
    lines.append("kinds the current checks cannot detect at all (no detector present): "
                 + ("、".join(none) if none else "none"))
    own = st.loc[~st["own_present"]]
    lines.append("kinds whose own check is not in the package yet (found, if at all, only "
                 "through other checks' findings): "
                 + ("、".join(f"{r.kind} ({r.own})" for r in own.itertuples()) or "none"))
    return lines


def _target_summary(results) -> list[str]:
    rows = []
    for res in results:
        for name, met, fig in targets(res):
            rows.append((name, res.cell.label.strip(), met, fig))
    if not rows:
        return ["no strong cell run: no targets"]
    df = pd.DataFrame(rows, columns=["target", "cell", "met", "figures"])
    out = []
    for name, g in df.groupby("target", sort=False):
        missed = g.loc[~g["met"]]
        if missed.empty:
            out.append(f"TARGET {name}: met in {len(g)}/{len(g)} strong cells")
        else:
            out.append(f"TARGET {name}: MISSED in {len(missed)}/{len(g)} strong cells")
        for r in missed.itertuples():
            out.append(f"    MISSED {r.cell}: {r.figures}")
    return out


def _pooled(results) -> pd.DataFrame:
    frames = []
    for res in results:
        rt = recall_table(res)[["planted", "checks", "oracle"]]
        frames.append(rt.assign(strength=res.cell.strength).reset_index())
    cols = ["planted", "checks", "oracle"]
    df = pd.concat(frames).groupby(["strength", "kind"], sort=False)[cols].sum()
    df["recall"] = (df["checks"] / df["planted"]).round(2)
    df["oracle_recall"] = (df["oracle"] / df["planted"]).round(2)
    return df


def tidy_rows(result) -> pd.DataFrame:
    """One row per kind of one cell: the cell's axes, districts, planted, found by the
    checks and by the oracle, both recalls, and the cell's false alarms (clean units
    and null-twin units flagged by the checks and by the oracle, counts and shares;
    the same on every row of the cell)."""
    c, cell = result.counts, result.cell
    rt = recall_table(result)
    return pd.DataFrame({
        "cell": cell.label.strip(), "units": cell.n_units,
        "overdispersion": cell.overdispersion, "contamination": cell.contamination,
        "strength": cell.strength, "districts": result.cities, "kind": list(KINDS),
        "kind_zh": [KIND_ZH[k] for k in KINDS],
        "planted": rt["planted"].fillna(0).astype(int).to_numpy(),
        "found": rt["checks"].fillna(0).astype(int).to_numpy(),
        "oracle_found": rt["oracle"].fillna(0).astype(int).to_numpy(),
        "recall": rt["recall"].to_numpy(), "oracle_recall": rt["oracle_recall"].to_numpy(),
        "clean_units": c["clean"], "clean_flagged": c["clean_checks"],
        "clean_flagged_oracle": c["clean_oracle"],
        "clean_fa": c["clean_checks"] / max(c["clean"], 1),
        "clean_fa_oracle": c["clean_oracle"] / max(c["clean"], 1),
        "null_units": c["null"], "null_flagged": c["null_checks"],
        "null_flagged_oracle": c["null_oracle"],
        "null_fa": c["null_checks"] / max(c["null"], 1),
        "null_fa_oracle": c["null_oracle"] / max(c["null"], 1),
    })


def by_check_rows(result) -> pd.DataFrame:
    """Per check that flagged any unit in one cell: clean units and null-twin units
    it flagged (warning or alert)."""
    both = pd.DataFrame({"clean_flagged": result.clean_by_check,
                         "null_flagged": result.null_by_check}).fillna(0).astype(int)
    return both.rename_axis("check").reset_index().assign(cell=result.cell.label.strip())[
        ["cell", "check", "clean_flagged", "null_flagged"]]


def write_output(results, path: Path, note: str = "") -> None:
    """The tidy per-cell, per-kind table (``tidy_rows``) to ``path`` and the clean and
    null units flagged per check and cell (``by_check_rows``) beside it
    (``<stem>_by_check.csv``) and every strong cell's targets with their exact tests
    (``<stem>_shortfalls.csv``, ``evaluation.shortfall``); ``note`` (e.g. the commit
    that produced them) is a column of all three."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tidy = pd.concat([tidy_rows(r) for r in results], ignore_index=True)
    checks = pd.concat([by_check_rows(r) for r in results], ignore_index=True)
    tidy.assign(source=note).to_csv(path, index=False)
    shortfalls(results).assign(source=note).to_csv(
        path.with_name(path.stem + "_shortfalls.csv"), index=False)
    checks.assign(source=note).to_csv(path.with_name(path.stem + "_by_check.csv"), index=False)


def _only(checks):
    """``run_checks`` restricted to ``checks`` (None: every check)."""
    if not checks:
        return None
    from anquan_analysis.checks import run_checks

    def run(dataset, period=None, **kw):
        return run_checks(dataset, period=period, checks=list(checks), **kw)
    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 cells, 1 planting a kind")
    parser.add_argument("--per-kind", type=int, default=None,
                        help="plantings of each kind per cell (default 4; quick 1)")
    parser.add_argument("--units", type=int, nargs="+", choices=AXES["units"])
    parser.add_argument("--overdispersion", nargs="+", choices=AXES["overdispersion"])
    parser.add_argument("--contamination", type=float, nargs="+", choices=AXES["contamination"])
    parser.add_argument("--strength", nargs="+", choices=AXES["strength"])
    parser.add_argument("--seed0", type=int, default=0)
    parser.add_argument("--checks", nargs="+", help="run only these check ids (recall and "
                        "false alarms of those checks alone; the same districts)")
    parser.add_argument("--csv", help="write the per-cell table and every target line here")
    parser.add_argument("--output", help="write the tidy per-cell, per-kind table here (e.g. "
                        "benchmarks/results/detection_grid.csv) and the flags per check beside it")
    parser.add_argument("--note", default="", help="a note stored with --output (e.g. the "
                        "commit that produced it)")
    parser.add_argument("--suite-level", action="store_true",
                        help="run_checks(suite_level=True): the single-unit checks held to one "
                        "error rate, and the oracle's single-unit kinds alike")
    args = parser.parse_args(argv)
    per_kind = args.per_kind or (1 if args.quick else 4)
    cells = grid_cells(quick=args.quick)
    for axis, attr in (("units", "n_units"), ("overdispersion", "overdispersion"),
                       ("contamination", "contamination"), ("strength", "strength")):
        keep = getattr(args, axis)
        if keep:
            cells = [c for c in cells if getattr(c, attr) in keep]
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    print(_machine())
    print(f"cells: {len(cells)}; each until every kind is planted {per_kind} time(s) "
          f"(at least {2 if args.quick else 3} districts), each district with its null twin")
    print("\n".join(_status_lines()))
    if args.suite_level:
        print("suite level: the single-unit checks held to one error rate "
              "(run_checks(suite_level=True)), the oracle's single-unit kinds alike")
        args.note = (args.note + " " if args.note else "") + "[suite_level]"
    print()
    t0 = time.perf_counter()
    results = []
    for i, cell in enumerate(cells, 1):
        res = run_cell(cell, per_kind=per_kind, min_cities=2 if args.quick else 3,
                       seed0=args.seed0, run_checks=_only(args.checks),
                       suite_level=args.suite_level)
        results.append(res)
        print(f"[{i}/{len(cells)}] {cell.label}: {res.cities} districts, {res.seconds:.1f} s"
              + (f"  ({'; '.join(res.notes)})" if res.notes else ""), flush=True)
    total = time.perf_counter() - t0

    table = pd.DataFrame([cell_row(r) for r in results])
    print("\nrecall per kind (checks/oracle) and units flagged (checks/oracle); "
          "columns: " + ", ".join(f"{SHORT[k]} = {k} ({KIND_ZH[k]})" for k in KINDS))
    print(table.to_string(index=False))

    print()
    print("\n".join(_target_summary(results)))
    print("\nthe missed targets against chance (evaluation.shortfall: McNemar's exact test "
          "against the oracle on the same planted units, binomial tails against 0.9 and "
          "the false-alarm limits; BH over every target):")
    print("\n".join(summary_lines(shortfalls(results))))
    pool = pooled_by_size(results)
    if len(pool):
        print("\nstrong cells pooled by district size (McNemar's exact p against the oracle; "
              "for the null twins, the binomial tail against 1 %):")
        print(pool.to_string(index=False, float_format=lambda v: f"{v:.3g}"))

    clean = pd.concat([r.clean_by_check for r in results]).groupby(level=0).sum()
    null = pd.concat([r.null_by_check for r in results]).groupby(level=0).sum()
    n_clean = sum(r.counts["clean"] for r in results)
    n_null = sum(r.counts["null"] for r in results)
    by_check = pd.DataFrame({"clean units flagged": clean, "null-twin units flagged": null}) \
        .fillna(0).astype(int).sort_values("clean units flagged", ascending=False)
    print(f"\nunits flagged by each check, all cells (clean units {n_clean}, null-twin units "
          f"{n_null}):")
    print(by_check.to_string())
    null_d = sum(r.counts["null_district_checks"] for r in results)
    null_do = sum(r.counts["null_district_oracle"] for r in results)
    n_cities = sum(r.counts["null_cities"] for r in results)
    print(f"null twins with a district-wide alarm (group_shift): {null_d}/{n_cities}; "
          f"oracle {null_do}/{n_cities}")

    pooled = _pooled(results)
    print("\nrecall pooled over the cells, by strength:")
    print(pooled.to_string())
    zero = [k for k in KINDS if k in pooled.index.get_level_values("kind")
            and pooled.xs(k, level="kind")["checks"].sum() == 0]
    print("kinds the current checks detected in no cell: " + ("、".join(zero) or "none"))
    print(f"\nFIGURE detection grid: {len(cells)} cells, "
          f"{sum(r.cities for r in results)} districts (+ as many null twins) in {total:.1f} s")
    if args.output:
        write_output(results, Path(args.output), args.note)
    if args.csv:
        rows = [(r.cell.label.strip(), n, m, f) for r in results for n, m, f in targets(r)]
        out = Path(args.csv)
        table.to_csv(out, index=False)
        pd.DataFrame(rows, columns=["cell", "target", "met", "figures"]).to_csv(
            out.with_name(out.stem + "_targets.csv"), index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
