"""The scale benchmark cannot rot: a tiny run of benchmarks/scale.py prints every
figure and ratio, and the per-unit loop reference it times agrees with the library.

No timing is asserted here (timings belong to the benchmark's own output)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anquan_analysis import forked
from anquan_analysis.checks.balance import repeated_value
from anquan_analysis.checks.outliers import low_outlier
from anquan_analysis.findings import CHECK_FAMILIES
from anquan_analysis.synth import make_city

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))
import loop_reference  # noqa: E402

NUMBER = r"[\d,]+(?:\.\d+)?"


@pytest.fixture(scope="module")
def smoke_output(tmp_path_factory) -> str:
    cmd = [sys.executable, str(BENCH / "scale.py"), "--units", "200", "--province-units", "100",
           "--months", "6", "--ledger-rows", "20000", "--slice", "120",
           "--workdir", str(tmp_path_factory.mktemp("scale")), "--share-from", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _figure(out: str, label: str) -> float:
    m = re.search(re.escape(label) + r"\s+(" + NUMBER + r") s", out)
    assert m, f"no figure {label!r} in the benchmark output"
    return float(m.group(1).replace(",", ""))


def test_every_stage_printed_with_a_time_and_memory(smoke_output):
    labels = ["ingest from parquet (Dataset.load)", "true floor (bincount type × period × ind.)",
              "peer: pandas group-by (categorical, in memory)",
              "indicators (total)", "run_checks (whole suite, one process)",
              "run_checks (whole suite, as run by default)"]
    labels += [f"check {family}.{check}" for check, family in CHECK_FAMILIES.items()]
    labels += [f"family {family}" for family in set(CHECK_FAMILIES.values())]
    for scale in ("province", "national"):
        for label in labels:
            assert _figure(smoke_output, f"[{scale}] {label}") >= 0
    # --share-from 1: the default run shares the checks with a forked child, measured
    if forked.can_fork() and forked.cpus_available() >= 2:
        for scale in ("province", "national"):
            assert re.search(rf"\[{scale}\] run_checks: [\d,]+ findings; shared with a forked "
                             r"child, CPU " + NUMBER + r" s \(this process " + NUMBER + r" s\);"
                             r".*; the child's own peak (" + NUMBER + " MB|not measured)",
                             smoke_output)
    for how in ("one process", "as run by default"):
        assert re.search(r"\[national\] run_checks \(whole suite, " + how + r"\)\s+" + NUMBER
                         + r" s\s+peak \+" + NUMBER + " MB", smoke_output)
    for label in ("[ledger] effective_counts", "[slice] library low_outlier",
                  "[slice] per-unit loop low_outlier", "[slice] library repeated_value",
                  "[slice] per-unit loop repeated_value"):
        assert _figure(smoke_output, label) >= 0
    assert "200 units × 6 months × 40 indicators" in smoke_output
    assert "48,000 values" in smoke_output           # 200 × 6 × 40
    assert "20,000 hazards" in smoke_output


def test_every_ratio_and_target_printed(smoke_output):
    ratios = ["province: run_checks / true floor", "national: run_checks / true floor",
              "national: run_checks in one process / floor",
              "national: peak memory / panel size", "slice: loop / library, low_outlier",
              "slice: loop / library, repeated_value"]
    for label in ratios:
        m = re.search(r"RATIO " + re.escape(label) + r"\s+(-?" + NUMBER + r") ×\s+target (.+)",
                      smoke_output)
        assert m, f"no ratio {label!r}"
        # a 1 MB smoke panel's peak above the process before it was read is within the
        # allocator's noise and may come out below 0; the times may not
        assert float(m.group(1).replace(",", "")) > 0 or "memory" in label
        assert re.search(r"[≤≥] " + NUMBER, m.group(2))
    assert re.search(r"RATIO national: run_checks / true floor\s+" + NUMBER + r" ×\s+target ≤ 8$",
                     smoke_output, re.M)
    # DuckDB and Polars are optional (the bench extra): timed where installed, else said
    assert re.search(r"RATIO national: pandas group-by / true floor\s+" + NUMBER
                     + r" ×\s+target none \(a peer\)", smoke_output)
    for engine in ("DuckDB", "Polars"):
        assert re.search(rf"RATIO national: {engine} / true floor\s+(" + NUMBER
                         + r" ×\s+target none \(a peer\)|not installed)", smoke_output)
    assert re.search(r"FIGURE national run_checks " + NUMBER + r" s \| target ≤ 60 s", smoke_output)
    assert re.search(r"FIGURE ledger 20,000 rows to effective counts " + NUMBER
                     + r" s \| target ≤ 10 s", smoke_output)
    assert re.search(r"machine: \d+ CPUs", smoke_output)


def test_benchmark_asserted_loop_equals_library(smoke_output):
    for check in ("low_outlier", "repeated_value"):
        assert re.search(rf"\[slice\] {check}: loop and library flag the same \d+", smoke_output)


@pytest.fixture(scope="module")
def city():
    return make_city(seed=3, n_units=60, n_months=12)


@pytest.mark.parametrize("period", [None, "2024-10"])
def test_loop_reference_low_outlier_equals_library(city, period):
    loop = loop_reference.low_outlier_loop(city.panel, city.exposure, period=period)
    lib = low_outlier(city.panel, exposure=city.exposure, period=period, model="sqrt-normal",
                      indicator="major_hazards_found")  # the loop judges major hazards
    loop_reference.assert_same(loop, lib, "low_outlier")
    # the injected low outliers are flagged by both (not a vacuous equality)
    injected = set(city.truth.loc[city.truth["kind"] == "low_outlier", "unit"])
    assert injected and injected <= set(loop["unit"])


@pytest.mark.parametrize("period", [None, "2024-10"])
def test_loop_reference_repeated_value_equals_library(city, period):
    loop = loop_reference.repeated_value_loop(city.panel, period=period)
    lib = repeated_value(city.panel, period=period)
    loop_reference.assert_same(loop, lib, "repeated_value")
    if period is None:
        injected = set(city.truth.loc[city.truth["kind"] == "repeated_value", "unit"])
        assert injected and injected <= set(loop["unit"])


def test_loop_reference_repeated_value_equals_library_on_every_run(city):
    # every run down to p = 1 (info rows too), so the discretised normal (φ < 1),
    # Poisson and negative binomial (φ > 1) nulls of the variance ratio shrunk
    # towards the peers' are all compared; a series may give two rows (away from its
    # floor and at it), matched by their p-values
    key = ["unit", "indicator", "p_value"]
    loop = loop_reference.repeated_value_loop(city.panel, info_p=1.0)
    lib = loop_reference.library_flags(repeated_value(city.panel, info_p=1.0))
    loop, lib = (d.sort_values(key).reset_index(drop=True) for d in (loop, lib))
    assert len(loop) > 50 and (loop["severity"] == "info").sum() > 40
    assert list(zip(loop["unit"], loop["indicator"], loop["severity"])) == list(
        zip(lib["unit"], lib["indicator"], lib["severity"]))
    assert np.allclose(loop["p_value"], lib["p_value"], rtol=1e-9, atol=0)


def test_assert_same_detects_a_difference(city):
    lib = low_outlier(city.panel, exposure=city.exposure, model="sqrt-normal",
                      indicator="major_hazards_found")
    loop = loop_reference.low_outlier_loop(city.panel, city.exposure)
    with pytest.raises(AssertionError, match="disagree"):
        loop_reference.assert_same(loop.iloc[1:], lib, "low_outlier")
    shifted = loop.assign(p_value=loop["p_value"] * 1.01)
    with pytest.raises(AssertionError, match="p-values differ"):
        loop_reference.assert_same(shifted, lib, "low_outlier")


def test_notebook_benchmark_runs_and_prints_its_ratio():
    cmd = [sys.executable, str(BENCH / "notebook.py"), "--units", "30", "--months", "3",
           "--ledger-rows", "500", "--repeat", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "province: 30 units × 3 months × 40 indicators, 500 ledger rows; period 2024-03" in out
    for label in ("papermill, empty notebook", "anquan assess --period 2024-03"):
        assert _figure(out, label) > 0
    assert re.search(r"kernel: \d+ cells " + NUMBER + " s", out)
    m = re.search(r"RATIO assessment / empty notebook\s+(" + NUMBER + r") ×\s+target ≤ 3 × "
                  r"\(≤ " + NUMBER + r" s\): (met|MISSED)", out)
    assert m and float(m.group(1)) > 0


def test_hostile_benchmark_prints_every_case_with_time_and_memory():
    """benchmarks/hostile.py --quick: every line has a time and a peak, the duplicate
    rows are all rejected (one reason per group), and the last line is the 1 GB check
    over the inputs under 1 MB."""
    done = subprocess.run([sys.executable, str(BENCH / "hostile.py"), "--quick"],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    line = r"\s+" + NUMBER + r" s\s+peak\s+" + NUMBER + r" MB\s+(ok|exit 2: .+)"
    for n in ("1,000", "10,000"):
        m = re.search(rf"\[duplicates\] {n} rows, 1 file\(s\) .*" + line, out)
        assert m and m.group(1).startswith("ok"), out
        count = n.replace(",", "")
        assert f"total: {count} rows read, 0 clean, {count} rejected" in out
    assert re.search(r"\[units\] 10,000 distinct units, 2 files .*" + line, out)
    assert re.search(r"\[units\] likely_aliases alone, 10,000 names .*likely 50", out)
    cases = re.findall(r"^\[case\] (\S+) \(" + NUMBER + r" B\)" + line, out, flags=re.M)
    names = [c[0] for c in cases]
    assert {"parts_150x10MB.xlsx", "fifo.csv", "sheets_20x100_no_dimension.xlsx",
            "hidden_part_5MB_blank.xlsx"} <= set(names) and len(names) >= 10
    outcome = dict(cases)
    assert outcome["fifo.csv"].startswith("exit 2: refused: a FIFO")
    assert outcome["parts_150x10MB.xlsx"].startswith("exit 2: refused as a possible zip bomb")
    assert outcome["hidden_part_5MB_blank.xlsx"] == "ok"
    assert re.search(r"FIGURE largest peak for an input under 1 MB: " + NUMBER
                     + r" MB \(\S+\) \| target ≤ 1024 MB: (met|MISSED)", out)


def test_detection_grid_quick_prints_every_cell_kind_and_target():
    """benchmarks/detection.py --quick: two cells of the grid, checks beside the oracle."""
    done = subprocess.run([sys.executable, str(BENCH / "detection.py"), "--quick"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"machine: \d+ CPUs", out)
    assert "cannot detect at all" in out and "own check is not in the package yet" in out
    assert re.search(r"\[1/2\]  50 gamma4 +20% strong: \d+ districts", out)
    assert re.search(r"\[2/2\]  30 lognormal +10% mild: \d+ districts", out)
    header = next(line for line in out.splitlines() if line.split()[:2] == ["cell", "districts"])
    for col in ("group", "low", "zero", "surge", "self", "ident", "flat", "digit", "round",
                "pinned", "rule", "step", "clean FA", "null FA"):
        assert col in header
    # every cell line: recall as checks/oracle, false alarms as checks/oracle
    rows = [line for line in out.splitlines() if re.match(r"\s+\d+ (gamma|lognormal)", line)]
    assert len(rows) == 2
    for line in rows:
        assert len(re.findall(r"\d\.\d\d/\d\.\d\d", line)) >= 10
        assert len(re.findall(r"\d+\.\d%/\d+\.\d%", line)) == 2
    targets = re.findall(r"^TARGET (.+): (met|MISSED) in \d+/1 strong cells", out, re.M)
    names = {t[0] for t in targets}
    assert {"clean units flagged ≤ 3 %", "null-city units flagged ≤ 1 %",
            "coordinated_group recall ≥ 0.9", "pinned_rate recall ≥ 0.95 × oracle"} <= names
    assert "strong cells pooled by district size" in out
    missed = len(re.findall(r"^    MISSED ", out, re.M))
    assert re.search(rf"^targets missed: {missed} of \d+; beyond chance \(BH q < 0.05\): \d+$",
                     out, re.M)
    assert len(re.findall(r"^    (BEYOND CHANCE|within chance)  ", out, re.M)) == missed
    assert re.search(r"FIGURE detection grid: 2 cells, \d+ districts", out)


def test_ledger_benchmark_prints_every_path_the_figure_and_the_limits(tmp_path):
    """benchmarks/ledger.py at a smoke size: every path prints a time and a peak (or
    "not installed"), they agree with the package (the script asserts it), and the
    FIGURE and LIMIT lines are printed."""
    cmd = [sys.executable, str(BENCH / "ledger.py"), "--rows", "30000", "--part-rows", "10000",
           "--units", "200", "--sizes", "10000", "--workdir", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for rows in ("10,000", "30,000"):
        for label in ("numpy, in memory", "numpy, streamed", "DuckDB SQL", "Polars lazy query"):
            assert re.search(rf"\[{rows} rows\] {re.escape(label)}.*(" + NUMBER
                             + r" s\s+peak\s+" + NUMBER + " GB|not installed)", out), (rows, label)
        assert re.search(rf"\[{rows} rows\] every path: the same [\d,]+ rows", out)
    assert re.search(r"FIGURE ledger 30,000 rows: " + NUMBER + r" s, peak " + NUMBER
                     + r" GB \| target ≤ 60 s, ≤ 6 GB: (met|MISSED)", out)
    assert re.search(r"LIMIT numpy, streamed \(effective_counts_parquet\): ", out)


def test_assess_all_benchmark_runs_both_modes_and_prints_its_ratios():
    """benchmarks/assess_all.py on two periods: both modes, the kernel start, the
    ratios, and the reports' byte-identical files the same in both modes."""
    cmd = [sys.executable, str(BENCH / "assess_all.py"), "--period", "2024-01",
           "--period", "2024-02"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for mode in ("per-period", "reused"):
        assert re.search(rf"{mode}\s+2 periods: wall\s+{NUMBER} s\s+CPU\s+{NUMBER} s\s+cells", out)
    assert re.search(r"one kernel start \(with the notebook's imports\): " + NUMBER + " s", out)
    assert re.search(r"RATIO reused / per-period: wall " + NUMBER + r" ×, CPU " + NUMBER, out)
    assert re.search(r"RATIO reused wall / \(cells \+ one kernel start\)\s+" + NUMBER
                     + r" ×\s+target ≤ 1.2 ×", out)
    m = re.search(r"SAME (\d+)/(\d+) files byte-identical", out)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) >= 8
