"""Notebook benchmark: ``anquan assess --period P`` on a province-scale panel against
papermill running an empty notebook (the kernel start floor).

The province (default 1,500 units × 36 months × 40 indicators, ``synth.make_panel``,
seeded) is written the way an office sends it: wide 调度表 CSVs (单位, 单位类型,
上级, 期间, one column per indicator), an exposure CSV (单位, 监管企业数) and a hazard
ledger CSV (``synth.make_ledger``).  A table larger than one file may be
(``limits.MAX_CELLS`` cells, ``limits.MAX_ROWS`` rows: issue 19) is split into
several files by whole months, as an office sends a province's reports month by month
or year by year: the default province's 36 months are two files of 18 months.

Input (``--input``, printed on the first line of the results):

* ``dataset`` (default): the office files are ingested once with ``anquan ingest …
  --output dataset/`` (timed and printed, not part of the ratio), and every
  assessment reads that folder (panel.parquet and side tables), as an office that
  receives a month's reports ingests them once and then assesses;
* ``csv``: every assessment is given the office files and ingests them itself.

Both commands run as subprocesses, so each figure includes Python start-up, imports
and the kernel start; the assessment also includes reading the data, the checks, the
plots, findings.xlsx and the HTML export.  The two commands alternate, ``--repeat``
times each, so that load from other processes falls on both alike; the medians are
compared with the target (assessment ≤ 3 × the empty notebook).  The last run's
notebook cell durations (papermill metadata) are printed to show where the kernel's
time goes.

    python benchmarks/notebook.py                          # province scale, from parquet
    python benchmarks/notebook.py --input csv              # ingest inside each assessment
    python benchmarks/notebook.py --units 200 --months 6   # quick
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd

from anquan_analysis import limits
from anquan_analysis.synth import make_ledger, make_panel

TARGET = 3.0  # assessment ≤ 3 × the empty-notebook floor
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
_TYPE_ZH = {"town": "镇街", "department": "部门", "soe": "国有公司"}


def write_split(table: pd.DataFrame, data: Path, stem: str, months: pd.Series) -> None:
    """``table`` as ``stem``.csv, or as ``stem``_1.csv, ``stem``_2.csv … when one file
    would pass the ingest limits (cells and rows, read now as ingest reads them): each
    file holds whole months (``months``, one label per row) in time order."""
    per_file = min(limits.MAX_CELLS // table.shape[1] - 1, limits.MAX_ROWS - 1)
    if len(table) <= per_file:
        table.to_csv(data / f"{stem}.csv", index=False)
        return
    counts = months.value_counts(sort=False).sort_index()
    if counts.max() > per_file:
        raise SystemExit(f"one month of {stem} has {counts.max():,} rows, more than one "
                         f"file may hold ({per_file:,}): choose fewer units")
    part, rows, groups = 1, 0, []
    for month, n in counts.items():
        if rows + n > per_file:
            table[months.isin(groups).to_numpy()].to_csv(data / f"{stem}_{part}.csv", index=False)
            part, rows, groups = part + 1, 0, []
        rows, groups = rows + n, groups + [month]
    table[months.isin(groups).to_numpy()].to_csv(data / f"{stem}_{part}.csv", index=False)


def write_province(data: Path, n_units: int, n_months: int, n_indicators: int,
                   ledger_rows: int, seed: int) -> str:
    """The three office files in ``data``; returns the last month (the period assessed)."""
    panel = make_panel(n_units, n_months, n_indicators, seed=seed, value_dtype="float64")
    wide = panel.pivot_table(index=["unit", "unit_type", "parent", "period"], columns="indicator",
                             values="value", aggfunc="sum", observed=True)
    wide.columns = [str(c) for c in wide.columns]
    wide = wide.reset_index()
    table = pd.DataFrame({"单位": wide["unit"].astype("str"),
                          "单位类型": wide["unit_type"].astype("str").map(_TYPE_ZH),
                          "上级": wide["parent"].astype("str"),
                          "期间": wide["period"].astype("str")})
    table = pd.concat([table, wide.drop(columns=["unit", "unit_type", "parent", "period"])
                       .astype("int64")], axis=1)
    write_split(table, data, "reports", table["期间"])
    mean = panel.groupby("unit", observed=True)["value"].mean()
    pd.DataFrame({"单位": mean.index.astype("str"),
                  "监管企业数": np.maximum(np.round(100 * mean / mean.mean()), 1).astype(int)}
                 ).to_csv(data / "exposure.csv", index=False)
    ledger = make_ledger(ledger_rows, n_units, n_months, seed=seed)
    zh = {"dept": "部门检查", "enterprise": "企业自查", "rectified": "已整改",
          "in_progress": "整改中", "open": "未整改"}
    found = ledger["found_date"].dt.strftime("%Y-%m-%d")
    write_split(pd.DataFrame({
        "隐患编号": ledger["hazard_id"], "单位": ledger["unit"].astype("str"),
        "行业领域": ledger["sector"].astype("str"),
        "发现日期": found,
        "报送日期": ledger["reported_date"].dt.strftime("%Y-%m-%d"),
        "发现方式": ledger["source"].astype("str").map(zh),
        "是否符合判定标准": np.where(ledger["meets_standard"].to_numpy(dtype=bool), "是", "否"),
        "整改状态": ledger["status"].astype("str").map(zh),
        "整改完成日期": ledger["rectified_date"].dt.strftime("%Y-%m-%d"),
    }), data, "ledger", found.str[:7])
    return str(panel["period"].cat.categories[-1])


def empty_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds of one run of ``cmd`` and the CPU seconds of it and its children
    (the kernel included); a failure stops the benchmark."""
    t0, c0 = time.perf_counter(), _children_cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    seconds, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return seconds, cpu


def cell_times(path: Path, top: int = 6) -> list[str]:
    """Lines naming the kernel's total cell time and the slowest cells of an executed
    notebook (papermill records each cell's duration in its metadata)."""
    nb = nbformat.read(path, as_version=4)
    cells = [(c.metadata.get("papermill", {}).get("duration") or 0.0,
              (c.source.splitlines() or [""])[0][:60])
             for c in nb.cells if c.cell_type == "code"]
    total = sum(d for d, _ in cells)
    lines = [f"  kernel: {len(cells)} cells {total:.2f} s (papermill duration "
             f"{nb.metadata.get('papermill', {}).get('duration') or 0:.2f} s); slowest:"]
    for d, first in sorted(cells, reverse=True)[:top]:
        lines.append(f"    {d:6.2f} s  {first}")
    return lines


def _runs(times: list[tuple[float, float]]) -> str:
    return ", ".join(f"{wall:.2f}" for wall, _ in times)


def _median(times: list[tuple[float, float]], which: int) -> float:
    """Median wall (``which`` 0) or CPU (1) seconds."""
    return statistics.median(t[which] for t in times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    ap.add_argument("--units", type=int, default=1_500)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--indicators", type=int, default=40)
    ap.add_argument("--ledger-rows", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--input", choices=("dataset", "csv"), default="dataset",
                    help="assess an ingested dataset folder (default) or the office CSV files")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data, out = tmp / "data", tmp / "reports"
        data.mkdir()
        period = write_province(data, args.units, args.months, args.indicators,
                                args.ledger_rows, args.seed)
        print(f"province: {args.units:,} units × {args.months} months × {args.indicators} "
              f"indicators, {args.ledger_rows:,} ledger rows; period {period}", flush=True)
        if args.input == "dataset":
            source = tmp / "dataset"
            seconds, _ = run([str(BIN / "anquan"), "ingest", str(data), "--output", str(source)])
            print(f"input: ingested dataset folder (panel.parquet + side tables), written once "
                  f"by `anquan ingest` in {seconds:.2f} s (not in the ratio)", flush=True)
        else:
            source = data
            print("input: office CSV files (调度表, 监管对象, 隐患台账); every assessment "
                  "ingests them", flush=True)
        empty = tmp / "empty.ipynb"
        empty_notebook(empty)
        floor_cmd = [str(BIN / "papermill"), "--kernel", "python3", "--no-progress-bar",
                     str(empty), str(tmp / "empty.out.ipynb")]
        assess_cmd = [str(BIN / "anquan"), "assess", "--period", period, "--data", str(source),
                      "--output", str(out)]
        floor, assess = [], []
        for _ in range(args.repeat):  # alternating, so that outside load falls on both
            floor.append(run(floor_cmd))
            assess.append(run(assess_cmd))
        if not (out / period / "assessment.html").exists():
            raise SystemExit("anquan assess wrote no assessment.html")
        print(f"  papermill, empty notebook        {_median(floor, 0):8.2f} s "
              f"(runs: {_runs(floor)}; CPU {_median(floor, 1):.2f} s)")
        print(f"  anquan assess --period {period}   {_median(assess, 0):8.2f} s "
              f"(runs: {_runs(assess)}; CPU {_median(assess, 1):.2f} s)")
        for line in cell_times(out / period / "assessment.ipynb"):
            print(line)
    r = _median(assess, 0) / _median(floor, 0)
    print(f"RATIO assessment / empty notebook {r:9.2f} ×   target ≤ {TARGET:g} × "
          f"(≤ {TARGET * _median(floor, 0):.1f} s): {'met' if r <= TARGET else 'MISSED'}; CPU "
          f"{_median(assess, 1) / _median(floor, 1):.1f} ×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
