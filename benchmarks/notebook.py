"""Notebook benchmark: ``anquan assess --period P`` on a province-scale panel against
papermill running an empty notebook (the kernel start floor).

The province (default 1,500 units × 36 months × 40 indicators, ``synth.make_panel``,
seeded) is written the way an office sends it: a wide 调度表 CSV (单位, 单位类型,
上级, 期间, one column per indicator), an exposure CSV (单位, 监管企业数) and a hazard
ledger CSV (``synth.make_ledger``).  Both commands run as subprocesses, so each
figure includes Python start-up, imports and the kernel start; the assessment also
includes ingest of the CSVs, the checks, the plots and the HTML export.  Each is run
``--repeat`` times and the median is reported.

    python benchmarks/notebook.py                          # province scale
    python benchmarks/notebook.py --units 200 --months 6   # quick
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd

from anquan_analysis.synth import make_ledger, make_panel

TARGET = 3.0  # assessment ≤ 3 × the empty-notebook floor
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
_TYPE_ZH = {"town": "镇街", "department": "部门", "soe": "国有公司"}


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
    table.to_csv(data / "reports.csv", index=False)
    mean = panel.groupby("unit", observed=True)["value"].mean()
    pd.DataFrame({"单位": mean.index.astype("str"),
                  "监管企业数": np.maximum(np.round(100 * mean / mean.mean()), 1).astype(int)}
                 ).to_csv(data / "exposure.csv", index=False)
    ledger = make_ledger(ledger_rows, n_units, n_months, seed=seed)
    zh = {"dept": "部门检查", "enterprise": "企业自查", "rectified": "已整改",
          "in_progress": "整改中", "open": "未整改"}
    pd.DataFrame({
        "隐患编号": ledger["hazard_id"], "单位": ledger["unit"].astype("str"),
        "行业领域": ledger["sector"].astype("str"),
        "发现日期": ledger["found_date"].dt.strftime("%Y-%m-%d"),
        "报送日期": ledger["reported_date"].dt.strftime("%Y-%m-%d"),
        "发现方式": ledger["source"].astype("str").map(zh),
        "是否符合判定标准": np.where(ledger["meets_standard"].to_numpy(dtype=bool), "是", "否"),
        "整改状态": ledger["status"].astype("str").map(zh),
        "整改完成日期": ledger["rectified_date"].dt.strftime("%Y-%m-%d"),
    }).to_csv(data / "ledger.csv", index=False)
    return str(panel["period"].cat.categories[-1])


def empty_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def timed(cmd: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=1_500)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--indicators", type=int, default=40)
    ap.add_argument("--ledger-rows", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data, out = tmp / "data", tmp / "reports"
        data.mkdir()
        period = write_province(data, args.units, args.months, args.indicators,
                                args.ledger_rows, args.seed)
        print(f"province: {args.units:,} units × {args.months} months × {args.indicators} "
              f"indicators, {args.ledger_rows:,} ledger rows; period {period}", flush=True)
        empty = tmp / "empty.ipynb"
        empty_notebook(empty)
        floor = timed([str(BIN / "papermill"), "--kernel", "python3", "--no-progress-bar",
                       str(empty), str(tmp / "empty.out.ipynb")], args.repeat)
        print(f"  papermill, empty notebook        {statistics.median(floor):8.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in floor)})", flush=True)
        assess = timed([str(BIN / "anquan"), "assess", "--period", period, "--data", str(data),
                        "--output", str(out)], args.repeat)
        print(f"  anquan assess --period {period}   {statistics.median(assess):8.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in assess)})", flush=True)
        if not (out / period / "assessment.html").exists():
            raise SystemExit("anquan assess wrote no assessment.html")
    r = statistics.median(assess) / statistics.median(floor)
    print(f"RATIO assessment / empty notebook {r:9.1f} ×   target ≤ {TARGET:g} ×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
