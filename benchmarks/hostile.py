"""Hostile-input benchmark (issue 19): time and peak memory of ``anquan ingest`` on
inputs built to blow it up, each in a fresh process.

  [duplicates]  one unit and period N times with different figures (each copy a
                reject: the old pairwise code needed over 5 GB for 3,000), in files
                of at most 90,000 rows: N = 10,000, 100,000 and 1,000,000
  [units]       100,000 distinct unit names, 50 of them with a likely alias (the old
                alias matrix needed 2.8 GB and 48 s for 20,000); also the alias
                suggestions alone (``aliases.likely_aliases``)
  [case]        every file of tests/data/bad and every case its make_corpus.py builds
                at test time (GENERATED), plus two that are too slow for the tests:
                200 sheets without <dimension> at the limit of cells, and a hidden
                50 MB worksheet part without data inside the archive's budget

Each measurement runs ``anquan ingest`` (through ``cli.main``) in a child process and
reports its wall time, its outcome (exit status 0 or 2, first words of the error) and
its peak resident memory (VmHWM of the child: the interpreter and its imports
included).  The child runs under an address-space limit of 4 GB, so a regression
fails with MemoryError instead of taking the machine down.  The last line checks the
issue's promise: no input under 1 MB needs more than 1 GB.

    .venv/bin/python benchmarks/hostile.py            # full run (a few minutes)
    .venv/bin/python benchmarks/hostile.py --quick    # smoke sizes (tests/test_benchmarks_smoke.py)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "data" / "bad"
CHILD_ADDRESS_LIMIT = 4 * 2**30
ONE_MB, ONE_GB_MB = 2**20, 1024


def _make_corpus():
    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = module
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ the child side
def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(argv: list[str]) -> None:
    """Run one measurement and print it as JSON: ``ingest PATH...`` or ``aliases CSV``."""
    import contextlib
    import io

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_LIMIT, CHILD_ADDRESS_LIMIT))
    what, *paths = argv
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    extra = {}
    if what == "ingest":
        from anquan_analysis.cli import main
        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            code = main(["ingest", *paths, "--output", tmp, "--aliases", "none"])
    else:
        import pandas as pd

        from anquan_analysis.aliases import likely_aliases
        names = pd.read_csv(paths[0], encoding="utf-8")["单位"]
        t0 = time.perf_counter()
        table = likely_aliases(names)
        code = 0
        extra = table["kind"].value_counts().to_dict() | {
            k: int(table.loc[table["kind"] == k, "rows"].sum()) for k in ("unlisted", "unexamined")
            if (table["kind"] == k).any()}
    seconds = time.perf_counter() - t0
    printed = out.getvalue().splitlines()
    print(json.dumps({"code": code, "seconds": seconds, "peak_mb": _peak_mb(),
                      "error": err.getvalue().strip().splitlines()[:1],
                      "lines": len(printed), "total": [x for x in printed if x.startswith("total")],
                      "extra": extra}, ensure_ascii=False))


def measure(what: str, *paths) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", what, *map(str, paths)],
                          capture_output=True, text=True, cwd=ROOT, timeout=3600)
    if done.returncode != 0:
        return {"code": done.returncode, "seconds": float("nan"), "peak_mb": float("nan"),
                "error": [done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "?"],
                "lines": 0, "total": [], "extra": {}}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ building inputs
def duplicate_files(n: int, folder: Path) -> list[Path]:
    """One unit and period ``n`` times with different figures, 90,000 rows a file."""
    folder.mkdir(parents=True, exist_ok=True)
    files, per = [], 90_000
    for k, start in enumerate(range(0, n, per)):
        rows = "".join(f"区应急局,2024-04,{i}\n" for i in range(start, min(n, start + per)))
        path = folder / f"dup{k:02d}.csv"
        path.write_text("单位,期间,重大事故隐患排查数\n" + rows, encoding="utf-8")
        files.append(path)
    return files


def _padded(data: bytes, pad: int) -> bytes:
    """A workbook with an incompressible member of ``pad`` bytes (an image, say), so
    that the archive's budget (100 times its size) covers a large part."""
    import io
    import zipfile
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_STORED) as z:
        z.writestr("xl/media/image1.png", random.Random(19).randbytes(pad))
    return buf.getvalue()


def extra_cases(mc, quick: bool) -> list[tuple[str, str, object]]:
    """(name, what, builder(path)) of the cases measured here only."""
    rows, sheets = (100, 20) if quick else (850, 200)
    part = 5_000_000 if quick else 50_000_000
    return [
        (f"sheets_{sheets}x{rows}_no_dimension.xlsx",
         f"{sheets} sheets x {rows} rows without <dimension> ({sheets * (rows + 1) * 7:,} cells)",
         lambda p: p.write_bytes(mc.sheets_xlsx(sheets, rows))),
        (f"hidden_part_{part // 10**6}MB_blank.xlsx",
         f"a hidden {part // 10**6} MB worksheet part of styled blank cells, inside the budget",
         lambda p: p.write_bytes(_padded(mc.hidden_part_xlsx(part, cells=False),
                                         part // 90))),
    ]


# ------------------------------------------------------------------------ report
def machine() -> str:
    import numpy
    import pandas
    return (f"{os.cpu_count()} CPUs, Python {platform.python_version()}, pandas "
            f"{pandas.__version__}, numpy {numpy.__version__}; load average "
            f"{os.getloadavg()[0]:.1f}")


def _line(label: str, r: dict, note: str = "") -> str:
    outcome = "ok" if r["code"] == 0 else f"exit {r['code']}"
    if r["code"] != 0 and r["error"]:
        # "anquan ingest: error: PATH: reason" -> the reason's first words
        outcome += ": " + r["error"][0].split("error: ", 1)[-1].split(": ", 1)[-1][:70]
    return (f"{label:<58} {r['seconds']:8.2f} s   peak {r['peak_mb']:7.0f} MB   {outcome}"
            + (f"   {note}" if note else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke sizes, a few cases")
    ap.add_argument("--workdir", help="folder for the generated inputs (default: a temporary one)")
    ap.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    mc = _make_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        print(f"machine: {machine()}")
        print("each line: wall time, peak resident memory of a fresh process (VmHWM, "
              "interpreter included), outcome")

        sizes = (1_000, 10_000) if args.quick else (10_000, 100_000, 1_000_000)
        for n in sizes:
            files = duplicate_files(n, work / f"dup{n}")
            r = measure("ingest", *files)
            mb = sum(f.stat().st_size for f in files) / ONE_MB
            print(_line(f"[duplicates] {n:,} rows, {len(files)} file(s) ({mb:.1f} MB)", r,
                        r["total"][0] if r["total"] else ""))

        n_units = 10_000 if args.quick else 100_000
        units = work / f"units{n_units}.csv"
        units.write_bytes(mc.many_units_csv(n_units, 50))
        # two files: a sheet holds at most 100,000 rows (limits.MAX_ROWS)
        lines = units.read_text(encoding="utf-8").splitlines(keepends=True)
        halves = [work / f"units{n_units}_{k}.csv" for k in (1, 2)]
        mid = len(lines) // 2
        halves[0].write_text("".join(lines[:mid]), encoding="utf-8")
        halves[1].write_text(lines[0] + "".join(lines[mid:]), encoding="utf-8")
        r = measure("ingest", *halves)
        print(_line(f"[units] {n_units:,} distinct units, 2 files "
                    f"({units.stat().st_size / ONE_MB:.1f} MB)", r,
                    f"{r['lines']} lines printed"))
        r = measure("aliases", units)
        print(_line(f"[units] likely_aliases alone, {n_units:,} names", r,
                    ", ".join(f"{k} {v:,}" for k, v in sorted(r["extra"].items()))))

        cases = [(p.name, "", lambda path, p=p: None, p) for p in sorted(BAD.iterdir())
                 if p.name not in ("README.md", "make_corpus.py")]
        if args.quick:
            cases = cases[::12]
        built = [(g.name, g.what, g.build) for g in mc.GENERATED
                 if not args.quick or g.name in ("parts_150x10MB.xlsx", "fifo.csv")]
        built += extra_cases(mc, args.quick)
        for name, _, build in built:
            path = work / "cases" / name
            path.parent.mkdir(exist_ok=True)
            if not path.exists() and not path.is_symlink():
                build(path)
            cases.append((name, "", None, path))
        worst = (0.0, "")
        for name, _, _, path in cases:
            size = path.stat().st_size if path.is_file() else 0
            r = measure("ingest", path)
            print(_line(f"[case] {name} ({size:,} B)", r))
            if size < ONE_MB and r["peak_mb"] == r["peak_mb"] and r["peak_mb"] > worst[0]:
                worst = (r["peak_mb"], name)
        verdict = "met" if worst[0] <= ONE_GB_MB else "MISSED"
        print(f"FIGURE largest peak for an input under 1 MB: {worst[0]:.0f} MB ({worst[1]}) | "
              f"target ≤ {ONE_GB_MB} MB: {verdict}")


if __name__ == "__main__":
    main()
