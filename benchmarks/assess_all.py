"""``anquan assess --all`` with one kernel reused across periods against one kernel per
period (``--kernel-per-period``), in one run: wall and CPU seconds of each, the
notebooks' own cell time, one kernel start, and whether the reports are the same.

Each mode runs the command once as a subprocess (``python -m anquan_analysis.cli``,
this checkout's package first on the path, inherited by the kernels), with
``SOURCE_DATE_EPOCH`` set so that the outputs' stamped times agree.  CPU seconds are
those of the command and its children (the kernels included).  The cell time is the
sum of papermill's per-cell durations over the executed notebooks, the work of the
assessment itself; one kernel start is measured here, from launch until the kernel
has loaded the notebook's imports and answers (``kernels.start_kernel``).  Target
(issue 15, item 5): the reused run's wall ≤ 1.2 × (its cell time + one kernel start).

The reports are compared file by file: findings.xlsx, bulletin.docx, summary.json,
问题清单/ and index.html must be byte-identical; the executed notebook, its HTML and
status.json carry times and random ids (compared after masking by
``tests/test_kernel_reuse.py``, not here).

    python benchmarks/assess_all.py                          # the bundled data, all 16 periods
    python benchmarks/assess_all.py --period 2024-01 --period 2024-02   # quick (the smoke test)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET = 1.2
TEXTS_WITH_TIMES = ("assessment.ipynb", "assessment.html", "status.json")


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def assess(data: str, out: Path, periods: list[str], per_period: bool) -> tuple[float, float]:
    """Wall and CPU seconds of one ``anquan assess`` run; a failure stops the benchmark."""
    which = [a for p in periods for a in ("--period", p)] if periods else ["--all"]
    cmd = [sys.executable, "-m", "anquan_analysis.cli", "assess", *which, "--data", data,
           "--output", str(out), *(["--kernel-per-period"] if per_period else [])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "SOURCE_DATE_EPOCH": "1714521600"}
    t0, c0 = time.perf_counter(), _children_cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return wall, cpu


def cell_seconds(out: Path) -> tuple[int, float]:
    """Executed notebooks under ``out`` and the sum of their cells' durations."""
    total, n = 0.0, 0
    for path in sorted(out.glob("*/assessment.ipynb")):
        nb = nbformat.read(path, as_version=4)
        total += sum(c.metadata.get("papermill", {}).get("duration") or 0.0 for c in nb.cells)
        n += 1
    return n, total


def kernel_start_seconds() -> float:
    """One kernel started as ``anquan assess`` starts it, until it has run its
    preload and answers a request."""
    from jupyter_core.utils import run_sync

    from anquan_analysis.kernels import shutdown_kernel, start_kernel
    from anquan_analysis.notebook_runs import NOTEBOOK

    t0 = time.perf_counter()
    km = start_kernel(NOTEBOOK)
    if km is None:
        raise SystemExit("no kernel could be started")
    kc = km.client()
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=120)
        run_sync(kc.execute_interactive)("pass", timeout=120)
        seconds = time.perf_counter() - t0
    finally:
        kc.stop_channels()
        shutdown_kernel(km)
    return seconds


def differing(a: Path, b: Path) -> tuple[int, list[str]]:
    """Files compared byte for byte (those without times) and the names that differ."""
    names = sorted({str(p.relative_to(a)) for p in a.rglob("*") if p.is_file()}
                   | {str(p.relative_to(b)) for p in b.rglob("*") if p.is_file()})
    names = [n for n in names if not n.endswith(TEXTS_WITH_TIMES)]
    bad = [n for n in names if not ((a / n).is_file() and (b / n).is_file()
                                    and (a / n).read_bytes() == (b / n).read_bytes())]
    return len(names), bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "raw" / "synthetic_city"))
    ap.add_argument("--period", action="append", default=[],
                    help="periods to assess (repeatable; default: every period, --all)")
    args = ap.parse_args(argv)
    print(f"machine: nproc {os.cpu_count()}, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} (at the start)", flush=True)
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("per-period", "reused"):
            out = Path(tmp) / mode
            wall, cpu = assess(args.data, out, args.period, per_period=mode == "per-period")
            n, cells = cell_seconds(out)
            figures[mode] = (wall, cpu, cells)
            print(f"  {mode:<10} {n} periods: wall {wall:7.1f} s   CPU {cpu:7.1f} s   "
                  f"cells {cells:6.1f} s ({cells / max(n, 1):.2f} s a period)", flush=True)
        start = kernel_start_seconds()
        compared, bad = differing(Path(tmp) / "per-period", Path(tmp) / "reused")
    print(f"  one kernel start (with the notebook's imports): {start:.2f} s")
    print(f"  load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    (pw, pc, _), (rw, rc, rcells) = figures["per-period"], figures["reused"]
    print(f"RATIO reused / per-period: wall {rw / pw:.2f} ×, CPU {rc / pc:.2f} ×")
    r = rw / (rcells + start)
    print(f"RATIO reused wall / (cells + one kernel start) {r:6.2f} ×   target ≤ {TARGET:g} × "
          f"({rw:.1f} s / ({rcells:.1f} + {start:.1f}) s): {'met' if r <= TARGET else 'MISSED'}")
    print(f"SAME {compared - len(bad)}/{compared} files byte-identical (findings.xlsx, "
          f"bulletin.docx, summary.json, 问题清单/, index.html)"
          + (f"; DIFFER: {', '.join(bad[:10])}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
