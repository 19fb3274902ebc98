"""Scale benchmark: the package at province and national scale, measured against the floor.

One run generates (``synth.make_panel`` / ``synth.make_ledger``, seeded) a province
panel (1,500 units × 36 months × 40 indicators), a national panel (50,000 units,
≈72 million values) and a 5-million-row hazard ledger, and times on each scale:

  ingest       ``Dataset.load`` of the panel written as parquet (pyarrow): the columns
               the checks read, keys categorical (what an assessment loads)
  true floor   one pass over the integer codes: ``np.bincount`` of the combined code
               unit type × period × indicator, weighted by the value (the sum of
               every indicator by unit type and period); beside it, as peers, the
               same sums by a pandas group-by, DuckDB and Polars on the parquet file
               (the last two where installed, ``pip install -e '.[bench]'``)
  panel        ``panel.Panel.build(frame)``: the dense unit × indicator × period array
               every table and check reads (the assessment and ``run_checks`` build it once)
  indicators   the indicators module's main tables on that panel (``INDICATOR_STAGE``)
  <check>      every check on its own, on that panel, then each family's total
  run_checks   the whole suite from scratch (its own panel included),
               ``checks.run_checks(dataset, period=P)``

then the ledger to effective counts, and, on a slice of the national panel, a
straightforward per-unit loop implementation of ``low_outlier`` and
``repeated_value`` (``benchmarks/loop_reference.py``) against the library, with the
flagged units asserted equal.  P is the panel's last month: the notebook's case,
which reads the whole history up to P.

Memory: peak resident memory (VmHWM from /proc/self/status, reset before each stage
by writing 5 to /proc/self/clear_refs), reported as the stage's peak above the
resident memory just before the stage, and for the suite as the peak above the
process's memory before the panel was loaded (so it counts the panel itself).
The whole suite runs twice: in one process (``parallel=False``), and as it runs by
default, the checks shared with a forked child (``checks.BESIDE``): its CPU
seconds are added, and its own peak memory (its VmHWM above its VmRSS as its first check
starts, clear_refs reset there: the pages it allocates or copies on write, not those it
shares with this process) is added to this process's peak.
Where clear_refs is not writable, ru_maxrss (never reset) is used and said so.

    python benchmarks/scale.py                       # the full run (≈10 GB, minutes)
    python benchmarks/scale.py --units 200 --months 6 --ledger-rows 20000   # smoke
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loop_reference  # noqa: E402  (a sibling script, not part of the package)

from anquan_analysis.panel import Panel  # noqa: E402
from anquan_analysis import indicators as ind  # noqa: E402
from anquan_analysis.checks import CHECKS, run_checks  # noqa: E402
from anquan_analysis.dataset import ANALYSIS_COLUMNS, Dataset  # noqa: E402
from anquan_analysis.findings import CHECK_FAMILIES  # noqa: E402
from anquan_analysis.ledger import effective_counts  # noqa: E402
from anquan_analysis.synth import make_ledger, make_panel  # noqa: E402

TARGETS = {
    "suite_over_floor": 8.0,       # full check suite ≤ 8 × the true floor (national)
    "suite_seconds": 60.0,         # and ≤ 60 s
    "memory_over_panel": 3.0,      # peak memory ≤ 3 × the panel's in-memory size
    "loop_over_library": 50.0,     # library ≥ 50 × faster than the per-unit loop
    "ledger_seconds": 10.0,        # 5 million ledger rows to effective counts ≤ 10 s
}
FAMILIES = list(dict.fromkeys(CHECK_FAMILIES.values()))


# ----------------------------------------------------------------------- measuring
class Memory:
    """Peak resident memory per stage, from /proc/self/status."""

    def __init__(self):
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.resettable = True
        except OSError:
            self.resettable = False
        self.method = ("VmHWM reset per stage via /proc/self/clear_refs" if self.resettable
                       else "ru_maxrss (process peak, not reset per stage)")

    @staticmethod
    def _status(key: str) -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def rss(self) -> int:
        return self._status("VmRSS")

    def reset(self) -> None:
        if self.resettable:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")

    def peak(self) -> int:
        if self.resettable:
            return self._status("VmHWM")
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


MEM = Memory()


class Stage:
    """``with Stage(label) as s:`` times the block and measures its memory peak;
    afterwards s.seconds (wall), s.cpu (the process's CPU seconds, every thread), s.peak
    (bytes, process) and s.extra (above the RSS at entry).  On a shared machine the
    CPU seconds are the steadier figure: wall time also counts the waits for a core."""

    def __init__(self, label: str, report: bool = True):
        self.label, self.report = label, report

    def __enter__(self):
        gc.collect()
        MEM.reset()
        self.rss0 = MEM.rss()
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0
        self.peak = MEM.peak()
        self.extra = max(self.peak - self.rss0, 0)
        if self.report and exc[0] is None:
            figure(self.label, self.seconds, extra=self.extra, note=f"cpu {self.cpu:.3f} s")
        return False


@contextlib.contextmanager
def measured_in_child(path: Path):
    """While inside, the checks a forked child runs (``run_checks``' share, see
    ``checks.BESIDE``) write to ``path`` the child's own peak memory: its VmHWM above
    its VmRSS as its first check starts, /proc/self/clear_refs reset there, i.e. the
    pages it allocates or copies on write, not those it shares with this process.
    Nothing is written when no check runs in a child."""
    main = os.getpid()
    real = dict(CHECKS)
    start = {}                          # the child's pid → its VmRSS at its first check

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            pid = os.getpid()
            if pid == main:
                return fn(*args, **kwargs)
            if pid not in start:
                MEM.reset()
                start[pid] = MEM.rss()
            try:
                return fn(*args, **kwargs)
            finally:
                # -1: shared, but its own memory cannot be told from ru_maxrss
                path.write_text(str(max(MEM.peak() - start[pid], 0) if MEM.resettable else -1))
        return run

    CHECKS.update({c: wrap(fn) for c, fn in real.items()})
    try:
        yield
    finally:
        CHECKS.update(real)


def mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def figure(label: str, seconds: float, *, extra: int | None = None, note: str = "") -> None:
    mem = f"   peak +{mb(extra)}" if extra is not None else ""
    print(f"  {label:<40s} {seconds:9.3f} s{mem}{('   ' + note) if note else ''}", flush=True)


def ratio(label: str, value: float, target: str) -> None:
    print(f"RATIO {label:<46s} {value:9.1f} ×   target {target}", flush=True)


# ------------------------------------------------------------------------ the data
def exposure_for(panel: pd.DataFrame) -> pd.DataFrame:
    """Enterprises supervised per unit (sector ''), proportional to the unit's mean
    figure, so that exposure explains size as real exposure does."""
    mean = panel.groupby("unit", observed=True)["value"].mean()
    enterprises = np.maximum(np.round(100 * mean / mean.mean()), 1.0)
    return pd.DataFrame({"unit": mean.index.astype("str"), "sector": "",
                         "enterprises": enterprises.to_numpy(dtype="float64"),
                         "source_file": "synthetic",
                         "source_row": np.arange(2, len(mean) + 2, dtype=np.int64)})


def _codes(col: pd.Series) -> tuple[np.ndarray, int]:
    """A key column's integer codes (-1 where missing) and how many there are."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.array.codes, len(col.cat.categories)
    codes, names = pd.factorize(col)  # a text panel (--strings): numbered first
    return codes, len(names)


def floor(panel: pd.DataFrame, step: int = 1 << 20) -> np.ndarray:
    """The true floor: every indicator summed by unit type and period in one pass
    over the integer codes, ``np.bincount`` of the combined code
    (type × period × indicator) weighted by the value, a million rows at a time
    (the key and the float64 weights ``bincount`` makes stay in cache; on the
    whole panel at once they are 1.4 GB of new memory, three times slower).  Slot 0
    of the type axis holds the units without a type."""
    (ut, n_ut), (t, n_t), (i, n_i) = (_codes(panel[c]) for c in
                                      ("unit_type", "period", "indicator"))
    value = panel["value"].to_numpy()
    out = np.zeros((n_ut + 1) * n_t * n_i)
    for a in range(0, len(value), step):
        key = ut[a:a + step].astype(np.intp)
        key += 1
        key *= n_t
        key += t[a:a + step]
        key *= n_i
        key += i[a:a + step]
        out += np.bincount(key, weights=value[a:a + step], minlength=len(out))
    return out


def floor_pandas(panel: pd.DataFrame) -> pd.Series:
    """The same sums by a pandas three-key categorical group-by (the floor of the
    earlier rounds)."""
    return panel.groupby(["unit_type", "period", "indicator"], observed=True,
                         sort=False)["value"].sum()


SUMS_SQL = ("SELECT unit_type, period, indicator, sum(value) AS value "
            "FROM read_parquet('{path}') GROUP BY unit_type, period, indicator")


def floor_duckdb(path: Path):
    """The same sums by DuckDB, reading the parquet file (all its threads)."""
    import duckdb
    with duckdb.connect() as con:
        return con.sql(SUMS_SQL.format(path=str(path).replace("'", "''"))).fetchnumpy()


def floor_polars(path: Path):
    """The same sums by Polars: a lazy scan of the parquet file, group-by, collect."""
    import polars as pl
    return (pl.scan_parquet(path).group_by(["unit_type", "period", "indicator"])
            .agg(pl.col("value").sum()).collect())


def installed(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is not None


def peers(name: str, panel: pd.DataFrame, path: Path, total: float) -> dict:
    """The floor's sums by the engines a user would pick instead, each timed as a
    peer (DuckDB and Polars only where installed: ``pip install -e '.[bench]'``);
    each one's grand total is checked against the bincount's."""
    out = {}
    runs = (("pandas group-by (categorical, in memory)", "pandas", lambda: floor_pandas(panel)),
            ("DuckDB group-by on the parquet file", "duckdb", lambda: floor_duckdb(path)),
            ("Polars group-by on the parquet file", "polars", lambda: floor_polars(path)))
    for label, module, fn in runs:
        if not installed(module):
            print(f"  [{name}] peer: {label:<44s} not installed", flush=True)
            continue
        with Stage(f"[{name}] peer: {label}") as s:
            got = fn()
        sums = (got.to_numpy() if module == "pandas" else
                np.asarray(got["value"]) if module == "duckdb" else got["value"].to_numpy())
        if not np.isclose(float(np.sum(sums)), total, rtol=1e-6):
            raise AssertionError(f"{module}: total {np.sum(sums)} != bincount's {total}")
        out[module] = s.seconds
    return out


INDICATOR_STAGE = {
    "window_totals": lambda p, ex, P: ind.window_totals(p, ["major_hazards_found",
                                                          "major_hazards_rectified"], period=P),
    "rectification_rates": lambda p, ex, P: ind.rectification_rates(p),
    "self_report_share": lambda p, ex, P: ind.self_report_share(p),
    "exposure_rates": lambda p, ex, P: ind.exposure_rates(p, ex),
    "rank_within_type": lambda p, ex, P: ind.rank_within_type(p),
    "action_totals": lambda p, ex, P: ind.action_totals(p, P),
}


# ------------------------------------------------------------------------- stages
def run_scale(name: str, n_units: int, args, workdir: Path) -> dict:
    """Generate, write, ingest, floor, indicators, each check, run_checks on one scale.
    Returns the figures and the loaded dataset."""
    print(f"\n[{name}] {n_units:,} units × {args.months} months × {args.indicators} indicators",
          flush=True)
    with Stage(f"[{name}] generate (synth.make_panel)"):
        panel = make_panel(n_units, args.months, args.indicators, seed=args.seed)
        exposure = exposure_for(panel)
    size = int(panel.memory_usage(deep=True).sum())
    n_values = len(panel)
    period = str(panel["period"].cat.categories[-1]) if hasattr(panel["period"], "cat") \
        else sorted(panel["period"].unique())[-1]
    print(f"  panel: {n_values:,} values, {mb(size)} in memory; assessed period P = {period}")
    d = workdir / name
    with Stage(f"[{name}] write parquet (Dataset.save)"):
        Dataset(panel=panel, exposure=exposure).save(d)
    del panel, exposure
    gc.collect()
    base = MEM.rss()
    with Stage(f"[{name}] ingest from parquet (Dataset.load)") as s:
        # what an assessment reads: the analysis columns, keys as categoricals
        ds = Dataset.load(d, categorical=True, columns=ANALYSIS_COLUMNS)
        if args.strings:
            cat = [c for c, t in ds.panel.dtypes.items() if isinstance(t, pd.CategoricalDtype)]
            ds.panel = ds.panel.astype({c: "str" for c in cat})
    out = {"size": size, "values": n_values, "ingest": s.seconds, "period": period}
    panel, exposure = ds.panel, ds.exposure
    with Stage(f"[{name}] true floor (bincount type × period × ind.)") as s:
        sums = floor(panel)
    out["floor"], out["floor_cpu"] = s.seconds, s.cpu
    out["peers"] = peers(name, panel, d / "panel.parquet", float(sums.sum()))
    with Stage(f"[{name}] cube (Panel.build, shared by the tables and checks)") as s:
        pv = Panel.build(panel)
    out["cube"] = s.seconds
    print(f"  [{name}] cube {pv.shape[0]:,} × {pv.shape[1]} × {pv.shape[2]}, "
          f"{mb(pv.values.nbytes)}", flush=True)
    t_ind = 0.0
    for label, fn in INDICATOR_STAGE.items():  # on the panel, as the assessment reads them
        with Stage(f"[{name}] indicators: {label}") as s:
            fn(pv, exposure, period)
        t_ind += s.seconds
    figure(f"[{name}] indicators (total)", t_ind)  # on the built panel
    out["indicators"] = t_ind
    per_family = dict.fromkeys(FAMILIES, 0.0)
    for check_id, family in CHECK_FAMILIES.items():
        with Stage(f"[{name}] check {family}.{check_id}") as s:
            run_checks(ds, period=period, checks=[check_id], panel=pv)
        per_family[family] += s.seconds
        out.setdefault("checks", {})[check_id] = s.seconds
    del pv
    for family, seconds in per_family.items():
        figure(f"[{name}] family {family}", seconds)
    out["families"] = per_family
    gc.collect()
    with Stage(f"[{name}] run_checks (whole suite, one process)") as s:
        serial = run_checks(ds, period=period, parallel=False)
    out["serial"], out["serial_cpu"] = s.seconds, s.cpu
    del serial
    gc.collect()
    # as run by default: the checks shared with a forked child (checks.BESIDE) from
    # BESIDE_MIN_CELLS cells; its CPU seconds and its own memory are counted as well
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = Path(tempfile.mkdtemp()) / "child_own_bytes"
    with Stage(f"[{name}] run_checks (whole suite, as run by default)") as s, \
            measured_in_child(own):
        findings = run_checks(ds, period=period)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (kids.ru_utime + kids.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    out["suite"], out["suite_cpu"] = s.seconds, s.cpu + child_cpu
    out["suite_peak"] = s.peak - base  # includes the panel itself
    shared = own.exists()
    out["child_own"] = int(own.read_text()) if shared else 0
    print(f"  [{name}] run_checks: {len(findings):,} findings; "
          f"{'shared with a forked child, ' if shared else ''}"
          f"CPU {out['suite_cpu']:.2f} s (this process {s.cpu:.2f} s); peak memory above the "
          f"pre-load process {mb(out['suite_peak'])} = {out['suite_peak'] / size:.2f} × panel "
          f"({mb(size)})" + ("" if not shared else
                             f"; the child's own peak {mb(out['child_own'])}"
                             if out["child_own"] >= 0 else "; the child's own peak not measured"),
          flush=True)
    out["dataset"] = ds
    return out


def run_slice(ds: Dataset, n_slice: int, period: str) -> dict:
    """The per-unit loop against the library on the first ``n_slice`` units; asserts
    that both flag the same units."""
    units = ds.panel["unit"].drop_duplicates().sort_values().iloc[:n_slice]
    panel = ds.panel[ds.panel["unit"].isin(units)]
    if hasattr(panel["unit"], "cat"):
        panel = panel.assign(unit=panel["unit"].cat.remove_unused_categories())
    exposure = ds.exposure[ds.exposure["unit"].isin(units.astype("str"))]
    print(f"\n[slice] {len(units):,} units, {len(panel):,} values, period P = {period}")
    out = {}
    for check_id, loop in (
            ("low_outlier", lambda: loop_reference.low_outlier_loop(panel, exposure, period=period)),
            ("repeated_value", lambda: loop_reference.repeated_value_loop(panel, period=period))):
        with Stage(f"[slice] library {check_id}") as lib:
            # the loop reference is the sqrt-normal funnel (the model before issue 12) on
            # the one finding count it was written for (since issue 16 the check judges
            # every finding count, with one BH over them)
            found = CHECKS[check_id](panel, period=period, **(
                {"exposure": exposure, "model": "sqrt-normal",
                 "indicator": "major_hazards_found"} if check_id == "low_outlier" else {}))
        with Stage(f"[slice] per-unit loop {check_id}") as lp:
            ref = loop()
        try:
            loop_reference.assert_same(ref, found, check_id)
        except AssertionError as e:  # said, not fatal: the run's other figures still count
            print(f"  [slice] {check_id}: DISAGREE: {str(e)[:400]}", flush=True)
        else:
            print(f"  [slice] {check_id}: loop and library flag the same {len(ref)} "
                  f"(unit, indicator) pairs", flush=True)
        out[check_id] = (lp.seconds, lib.seconds)
    return out


def run_ledger(n_rows: int, n_units: int, n_months: int, seed: int) -> float:
    print(f"\n[ledger] {n_rows:,} hazards, {n_units:,} units, {n_months} months")
    with Stage("[ledger] generate (synth.make_ledger)"):
        ledger = make_ledger(n_rows, n_units, n_months, seed=seed)
    with Stage("[ledger] effective_counts") as s:
        counts = effective_counts(ledger)
    print(f"  [ledger] {len(counts):,} unit × month × sector rows")
    return s.seconds


def machine() -> str:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(next(li for li in open("/proc/meminfo") if li.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        mem = 0
    import os
    return f"{os.cpu_count()} CPUs ({cpu}), {mem / 2**20:.1f} GB RAM, Python {sys.version.split()[0]}, " \
           f"pandas {pd.__version__}, numpy {np.__version__}"


def load_average() -> str:
    """The machine's load average over 1, 5 and 15 minutes (other work included)."""
    import os
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=50_000, help="national units (50,000)")
    ap.add_argument("--province-units", type=int, default=1_500,
                    help="province units (1,500; capped at --units)")
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--indicators", type=int, default=40)
    ap.add_argument("--ledger-rows", type=int, default=5_000_000)
    ap.add_argument("--slice", type=int, default=1_000, help="units in the loop slice")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--strings", action="store_true",
                    help="convert the categorical panel columns to str after loading")
    ap.add_argument("--workdir", help="folder for the parquet files (default: a temp folder)")
    ap.add_argument("--share-from", type=int, default=None, metavar="CELLS",
                    help="run_checks shares its checks with a forked process from this many "
                         "panel cells (default: the package's checks.BESIDE_MIN_CELLS)")
    args = ap.parse_args(argv)
    if args.share_from is not None:
        import anquan_analysis.checks as checks_module
        checks_module.BESIDE_MIN_CELLS = args.share_from

    print(f"machine: {machine()}")
    print(f"memory: {MEM.method}")
    load0 = load_average()
    print(f"load average (1, 5, 15 min): {load0}")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        prov = run_scale("province", min(args.province_units, args.units), args, work)
        prov.pop("dataset")
        gc.collect()
        nat = run_scale("national", args.units, args, work)
        loops = run_slice(nat.pop("dataset"), min(args.slice, args.units), nat["period"])
    gc.collect()
    ledger_s = run_ledger(args.ledger_rows, args.units, args.months, args.seed)

    print("\nSUMMARY (measured | target)")
    print(f"load average at the end: {load_average()} (at the start: {load0})")
    for name, r in (("province", prov), ("national", nat)):
        print(f"FIGURE {name} ingest {r['ingest']:.2f} s | floor {r['floor']:.3f} s | "
              f"indicators {r['indicators']:.2f} s | cube {r['cube']:.2f} s | "
              f"run_checks {r['suite']:.2f} s | "
              f"peak {mb(r['suite_peak'])} for a {mb(r['size'])} panel")
        for module, label in (("pandas", "pandas group-by"), ("duckdb", "DuckDB"),
                              ("polars", "Polars")):
            if module in r["peers"]:
                ratio(f"{name}: {label} / true floor", r["peers"][module] / r["floor"], "none (a peer)")
            else:
                print(f"RATIO {name}: {label} / true floor   not installed", flush=True)
        target = f"≤ {TARGETS['suite_over_floor']:g}" + ("" if name == "national" else " (national)")
        ratio(f"{name}: run_checks / true floor", r["suite"] / r["floor"], target)
        ratio(f"{name}: the same in CPU seconds", r["suite_cpu"] / r["floor_cpu"], target)
        ratio(f"{name}: run_checks in one process / floor", r["serial"] / r["floor"], target)
    rest = nat["serial"] - nat["checks"]["matching_series"]
    print(f"FIGURE national run_checks less matching_series' own stage {rest:.1f} s = "
          f"{rest / nat['floor']:.1f} × the true floor (matching_series "
          f"{nat['checks']['matching_series']:.1f} s)")
    ratio("national: peak memory / panel size", nat["suite_peak"] / nat["size"],
          f"≤ {TARGETS['memory_over_panel']:g} ×")
    if nat["child_own"] > 0:
        ratio("national: the same with the child's own added",
              (nat["suite_peak"] + nat["child_own"]) / nat["size"],
              f"≤ {TARGETS['memory_over_panel']:g} ×")
    print(f"FIGURE national run_checks {nat['suite']:.1f} s | target ≤ {TARGETS['suite_seconds']:g} s")
    for check_id, (lp, lib) in loops.items():
        ratio(f"slice: loop / library, {check_id}", lp / lib,
              f"≥ {TARGETS['loop_over_library']:g} ×")
    print(f"FIGURE ledger {args.ledger_rows:,} rows to effective counts {ledger_s:.2f} s | "
          f"target ≤ {TARGETS['ledger_seconds']:g} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
