"""Issue 15, item 5: ``anquan assess`` runs every period in one kernel, reset between
periods.  The reports are those of one kernel per period (``--kernel-per-period``),
byte for byte but for papermill's clock in the executed notebook; nothing a period
leaves in the kernel (names, figures, rcParams, working folder, warnings already
shown, execution count) reaches the next; a period that kills its kernel or fails
gets the next period a new one.  No timing is asserted: benchmarks/assess_all.py."""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import tiny_notebook

from anquan_analysis import config
from anquan_analysis.dataset import PANEL_COLUMNS, Dataset
from anquan_analysis.notebook_runs import configure_parser, run_command

TINY = pd.DataFrame([("甲镇", "town", f"2024-0{m}", "major_hazards_found", float(m), False)
                     for m in (1, 2, 3)],
                    columns=["unit", "unit_type", "period", "indicator", "value", "approx"]
                    ).assign(parent=pd.NA, source_file="t.csv", source_sheet=pd.NA,
                             source_row=[2, 3, 4])[PANEL_COLUMNS]


def _assess(*argv) -> int:
    parser = argparse.ArgumentParser(prog="anquan assess")
    configure_parser(parser)
    return run_command(parser.parse_args(list(argv)))


# What differs between any two runs, whichever the kernels: times (papermill's and
# nbclient's in the executed notebook; status.json's), the random names of the staging
# folder and of the run's dataset folder, the output folder, the random id of
# papermill's parameters cell, the random ids pandas gives styled tables (T_xxxxx) and
# the addresses in their plain-text reprs (<… at 0x…>).
MASKS = [(re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"), "TIME"),
         (re.compile(r'"duration": [0-9.e-]+'), '"duration": D'),
         (re.compile(r"\.staging-\d+-\w+"), ".staging"),
         (re.compile(r"anquan-assess-\d+-\w+"), "anquan-assess"),
         (re.compile(r'"id": "[0-9a-f-]+"|cell-id=[0-9a-f-]+'), "ID"),
         (re.compile(r"T_[0-9a-f]{5}"), "T_#"),
         (re.compile(r" at 0x[0-9a-f]+>"), " at 0x#>")]


def _masked(text: str, out: Path) -> str:
    text = text.replace(str(out), "OUT")
    for pattern, repl in MASKS:
        text = pattern.sub(repl, text)
    return text


def _report_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory):
    """Three periods of the bundled data (a quarter, then two months of it: what the
    quarter loaded, drew and cached is in the kernel when the months run), assessed
    in one reused kernel and with one kernel per period, the clock of the outputs
    fixed (``SOURCE_DATE_EPOCH``, which the kernels inherit)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", "1714521600")
    root = tmp_path_factory.mktemp("reuse")
    periods = ["2024Q1", "2024-02", "2024-03"]
    try:
        for mode in ("reused", "per-period"):
            argv = [a for p in periods for a in ("--period", p)]
            argv += ["--data", str(config.SYNTH_DIR), "--output", str(root / mode)]
            assert _assess(*argv, *(["--kernel-per-period"] if mode == "per-period" else [])) == 0
    finally:
        mp.undo()
    return root / "reused", root / "per-period", periods


def test_reused_and_per_period_kernels_write_the_same_reports(both_ways):
    reused, per_period, periods = both_ways
    a, b = _report_files(reused), _report_files(per_period)
    assert sorted(a) == sorted(b)
    for p in periods:
        assert {f"{p}/{name}" for name in ("assessment.ipynb", "assessment.html", "findings.xlsx",
                                           "bulletin.docx", "summary.json", "status.json")} <= set(a)
    differ = sorted(name for name in a if a[name] != b[name])
    # the workbooks, the bulletins, summary.json and the index: the same bytes
    assert [n for n in differ if not n.endswith(("assessment.ipynb", "assessment.html",
                                                   "status.json"))] == []
    for name in differ:
        assert (_masked(a[name].decode("utf-8"), reused)
                == _masked(b[name].decode("utf-8"), per_period)), name


def test_each_reused_period_counts_its_cells_from_one(both_ways):
    reused, _, periods = both_ways
    for p in periods:
        nb = nbformat.read(reused / p / "assessment.ipynb", as_version=4)
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1)), p


# -------------------------------------------------- what a period leaves behind
LEAKY_MODULE = '''
import warnings

def warn():
    warnings.warn("shown once per place", UserWarning)
'''

# Records the state it finds (summary.json), then leaves litter of every kind.
LITTERING = '''
names = sorted(k for k in get_ipython().user_ns
               if not k.startswith("_") and k not in get_ipython().user_ns_hidden)
import json, os, sys
from pathlib import Path
import matplotlib
import matplotlib.pyplot as plt
import leaky
ip = get_ipython()
found = {"names": names, "figures": plt.get_fignums(), "cwd": os.getcwd(),
         "linewidth": matplotlib.rcParams["lines.linewidth"],
         "count": ip.execution_count, "pid": os.getpid(),
         "preloaded": "anquan_analysis.checks" in sys.modules}
Path(output_dir, "summary.json").write_text(json.dumps(found))
leaky.warn()
leftover = 1
plt.figure()
matplotlib.rcParams["lines.linewidth"] = 9.0
os.chdir("/")
if period == "2024-01":
    os.kill(os.getpid(), 9)     # the first period kills its kernel
'''


@pytest.mark.parametrize("mode", ["reused", "per-period"])
def test_no_period_sees_what_the_one_before_left(tmp_path, mode, capsys):
    data = tmp_path / "data"
    Dataset(panel=TINY).save(data)
    (tmp_path / "leaky.py").write_text(LEAKY_MODULE)
    nb = tiny_notebook(tmp_path / "nb.ipynb", LITTERING)
    out = tmp_path / "reports"
    argv = ["--period", "2024-01", "--period", "2024-02", "--period", "2024-03",
            "--data", str(data), "--output", str(out), "--notebook", str(nb)]
    assert _assess(*argv, *(["--kernel-per-period"] if mode == "per-period" else [])) == 1
    assert "FAILED 2024-01: DeadKernelError" in capsys.readouterr().err
    found = {p: json.loads((out / p / "summary.json").read_text()) for p in ("2024-02", "2024-03")}
    first = found["2024-02"]
    # what a new kernel looks like: the parameters only, no figure, the kernel's own
    # rcParams and folder, the cells counted from 1 (IPython counts the running cell
    # as the next: the parameters, papermill's, then this one)
    assert first["names"] == ["data_dir", "level", "output_dir", "period", "thresholds"]
    assert (first["figures"], first["linewidth"], first["count"]) == ([], 1.5, 4)
    assert first["cwd"] == str(tmp_path) and first["preloaded"] is True
    # …and so does the second period's, though the first littered and, reused, it is
    # the same kernel (2024-01's died: 2024-02 was given a new one)
    pids = found["2024-02"].pop("pid"), found["2024-03"].pop("pid")
    assert found["2024-03"] == found["2024-02"]
    assert (pids[0] == pids[1]) == (mode == "reused")
    # the warning shown in 2024-02 is shown again in 2024-03
    for p in ("2024-02", "2024-03"):
        outputs = nbformat.read(out / p / "assessment.ipynb", as_version=4).cells[-1].outputs
        assert any(o.output_type == "stream" and o.name == "stderr" and "shown once per place"
                   in o.text for o in outputs), p


def test_a_reset_that_fails_gets_a_new_kernel(tmp_path, monkeypatch):
    import anquan_analysis.notebook_runs as NR

    def broken(km, **kw):
        raise RuntimeError("no reply")

    monkeypatch.setattr(NR, "reset_kernel", broken)
    data = tmp_path / "data"
    Dataset(panel=TINY).save(data)
    (tmp_path / "leaky.py").write_text(LEAKY_MODULE)
    nb = tiny_notebook(tmp_path / "nb.ipynb", LITTERING.replace('"2024-01"', '"never"'))
    out = tmp_path / "reports"
    assert _assess("--period", "2024-02", "--period", "2024-03", "--data", str(data),
                   "--output", str(out), "--notebook", str(nb)) == 0
    found = [json.loads((out / p / "summary.json").read_text()) for p in ("2024-02", "2024-03")]
    assert found[0]["pid"] != found[1]["pid"]
    assert found[1]["names"] == found[0]["names"] and found[1]["figures"] == []


def test_relative_folders_hold_while_an_export_overlaps_the_next_notebook(tmp_path, monkeypatch):
    # `make assess` passes --output reports: papermill runs each notebook in the
    # notebook's own folder by changing the process's working folder, and the thread
    # exporting the period before resolved "reports/…" there (FileNotFoundError for
    # the periods whose export overlapped the next notebook).  The export waits and
    # the notebook sleeps, so that every export runs inside the next period's run.
    import anquan_analysis.report as report

    export = report.notebook_to_html

    def late_export(*args, **kw):
        time.sleep(0.8)
        return export(*args, **kw)

    monkeypatch.setattr(report, "notebook_to_html", late_export)
    data = tmp_path / "data"
    Dataset(panel=TINY).save(data)
    (tmp_path / "nb").mkdir()
    nb = tiny_notebook(tmp_path / "nb" / "nb.ipynb", "import time\ntime.sleep(1.5)")
    monkeypatch.chdir(tmp_path)
    assert _assess("--period", "2024-01", "--period", "2024-02", "--period", "2024-03",
                   "--data", "data", "--output", "reports", "--notebook", str(nb)) == 0
    for p in ("2024-01", "2024-02", "2024-03"):
        assert (tmp_path / "reports" / p / "assessment.html").is_file(), p
    assert not (tmp_path / "nb" / "reports").exists()
