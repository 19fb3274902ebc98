"""Issue 19, the report side: a period's outputs are swapped in whole (the old set or
the new set, never a mix), a failed or killed rerun leaves the old report marked stale
in index.html, a full disk leaves no complete-looking file, leftovers of killed runs
are cleaned at start, and only canonical periods become paths."""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from anquan_analysis import run_folders as rf
from anquan_analysis.dataset import PANEL_COLUMNS, Dataset
from anquan_analysis.notebook_runs import configure_parser, run_command, run_period
from anquan_analysis.report import write_index

ROOT = Path(__file__).resolve().parents[1]
TINY = pd.DataFrame([("甲镇", "town", "2024-01", "major_hazards_found", 2.0, False),
                     ("甲镇", "town", "2024-02", "major_hazards_found", 3.0, False)],
                    columns=["unit", "unit_type", "period", "indicator", "value", "approx"]
                    ).assign(parent=pd.NA, source_file="t.csv", source_sheet=pd.NA,
                             source_row=[2, 3])[PANEL_COLUMNS]
OFFICE_CSV = "单位,单位类型,期间,重大事故隐患排查数\n甲镇,镇街,2024-01,2\n甲镇,镇街,2024-02,3\n"

# The notebook does what the mode file says: write its outputs and succeed, fail, kill
# its own kernel after writing summary.json, or write and then wait (to be killed).
MODAL = '''
import json, os, time
from pathlib import Path
mode = Path(MODE_FILE).read_text().strip()
Path(output_dir, "summary.json").write_text(json.dumps(
    {"hazards_found": {"ok": 5, "fail": 6, "die": 7, "sleep": 8}[mode], "alerts_total": 0}))
Path(output_dir, "findings.xlsx").write_bytes(mode.encode())
if mode == "fail":
    raise ValueError("boom")
if mode == "die":
    os.kill(os.getpid(), 9)
if mode == "sleep":
    Path(output_dir, "started").write_text("1")
    time.sleep(300)
'''


def _notebook(path: Path, mode_file: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('period = "2024-01"\nlevel = "month"\ndata_dir = ""\n'
                                       'output_dir = ""\nthresholds = {}')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(MODAL.replace("MODE_FILE", repr(str(mode_file))))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def _assess(*argv) -> int:
    parser = argparse.ArgumentParser(prog="anquan assess")
    configure_parser(parser)
    return run_command(parser.parse_args(list(argv)))


@pytest.fixture
def setup(tmp_path):
    data = tmp_path / "data"
    Dataset(panel=TINY).save(data)
    mode = tmp_path / "mode.txt"
    nb = _notebook(tmp_path / "nb.ipynb", mode)
    out = tmp_path / "reports"

    def run(which: str, data_dir=data) -> int:
        mode.write_text(which)
        return _assess("--period", "2024-01", "--data", str(data_dir), "--output", str(out),
                       "--notebook", str(nb))
    return run, out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _hidden(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("how, error", [("fail", "ValueError: boom"), ("die", "DeadKernelError")])
def test_a_failed_rerun_keeps_the_old_set_and_the_index_says_stale(setup, capsys, how, error):
    run, out = setup
    assert run("ok") == 0
    old = _files(out / "2024-01")
    assert set(old) == {"assessment.ipynb", "assessment.html", "findings.xlsx", "summary.json",
                        "status.json"}
    assert run(how) == 1
    now = _files(out / "2024-01")
    # the old set is untouched: the failed run's summary.json and findings.xlsx (written
    # before it failed) never left its staging folder
    for name in ("assessment.ipynb", "assessment.html", "findings.xlsx", "summary.json"):
        assert now[name] == old[name], name
    status = json.loads(now["status.json"])
    assert status["status"] == "failed" and error in status["error"]
    assert ("assessment.failed.ipynb" in now) == (how == "fail")   # a dead kernel leaves none
    assert _hidden(out) == []
    index = (out / "index.html").read_text("utf-8")
    assert "过期" in index and "重新评估失败" in index and 'href="2024-01/assessment.html"' in index
    assert 'class="stale"' in index
    # the next good run replaces the whole folder: no failed notebook, no stale mark
    assert run("ok") == 0
    assert json.loads((out / "2024-01" / "status.json").read_text())["status"] == "ok"
    assert not (out / "2024-01" / "assessment.failed.ipynb").exists()
    assert "过期" not in (out / "index.html").read_text("utf-8")


def test_a_first_run_that_fails_is_marked_failed_without_a_report(setup):
    run, out = setup
    assert run("fail") == 1
    assert sorted(_files(out / "2024-01")) == ["assessment.failed.ipynb", "status.json"]
    index = (out / "index.html").read_text("utf-8")
    assert "失败" in index and "没有报告" in index and 'href="2024-01/assessment.html"' not in index
    assert 'href="2024-01/assessment.failed.ipynb"' in index


def test_a_killed_run_leaves_the_old_set_and_its_leftovers_are_cleaned(tmp_path, monkeypatch):
    """SIGKILL of ``anquan assess`` while the period's new outputs are half written:
    the period folder still holds the old set; the next run removes the staging folder
    and the temporary dataset folder of the killed process, and publishes its own."""
    psutil = pytest.importorskip("psutil")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "reports.csv").write_text(OFFICE_CSV, encoding="utf-8")
    mode = tmp_path / "mode.txt"
    nb = _notebook(tmp_path / "nb.ipynb", mode)
    out, tmp = tmp_path / "reports", tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp))
    argv = ["--period", "2024-01", "--data", str(raw), "--output", str(out), "--notebook", str(nb)]
    mode.write_text("ok")
    assert _assess(*argv) == 0
    old = _files(out / "2024-01")

    mode.write_text("sleep")
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "anquan_analysis.cli", "assess", *argv],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children = []
    try:
        deadline = time.time() + 240
        while not list(out.glob(".2024-01.staging-*/started")):
            assert time.time() < deadline and proc.poll() is None, "the run never started"
            time.sleep(0.5)
        children = psutil.Process(proc.pid).children(recursive=True)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for child in children:          # the kernel this run started, by its id
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
    assert _files(out / "2024-01") == old
    staging = list(out.glob(f".2024-01.staging-{proc.pid}-*"))
    assert len(staging) == 1 and (staging[0] / "summary.json").exists()
    leaked = list(tmp.glob(f"anquan-assess-{proc.pid}-*"))
    assert len(leaked) == 1

    mode.write_text("ok")
    assert _assess(*argv) == 0
    assert not staging[0].exists() and not leaked[0].exists()
    assert _hidden(out) == [] and list(tmp.glob("anquan-assess-*")) == []


def test_a_full_disk_leaves_no_complete_looking_file(tmp_path, monkeypatch):
    """papermill's save of the failed notebook is cut short by a full disk: nothing
    is published but the failure record; when even that cannot be written, nothing."""
    import papermill

    def full_disk(notebook, output, **kwargs):
        Path(output).write_text('{"cells": [{"cell_type": "code", "sou')   # truncated
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(papermill, "execute_notebook", full_disk)
    out = tmp_path / "reports"
    with pytest.raises(OSError):
        run_period("2024-01", "month", data_dir=tmp_path, output_dir=out)
    assert sorted(_files(out / "2024-01")) == ["status.json"]
    assert "No space left on device" in json.loads(
        (out / "2024-01" / "status.json").read_text())["error"]
    assert _hidden(out) == []

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rf, "write_status", no_space)
    with pytest.raises(OSError):
        run_period("2024-02", "month", data_dir=tmp_path, output_dir=out)
    assert list((out / "2024-02").iterdir()) == [] and _hidden(out) == []


def test_a_crafted_period_never_becomes_a_path(tmp_path, capsys):
    data = tmp_path / "data"
    Dataset(panel=TINY.assign(period="2024-01/../..")).save(data)
    out = tmp_path / "deep" / "reports"
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert _assess("--all", "--data", str(data), "--output", str(out)) == 2
    err = capsys.readouterr().err
    assert "'2024-01/../..' is not a canonical period" in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    for bad in ("../escape", "2024-01/../..", "2024-13", "2024-1"):
        with pytest.raises(ValueError, match="not a canonical period"):
            run_period(bad, "month", data_dir=data, output_dir=out)
    assert not out.exists()


def test_the_index_lists_only_canonical_period_folders(tmp_path):
    for name in ("2024-04", "..2024-04", "2024-4", ".2024-05.staging-1-x"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "assessment.html").write_text("<html></html>")
    html = (write_index(tmp_path)).read_text("utf-8")
    assert [line for line in html.splitlines() if "assessment.html" in line] == [
        '<tr class="ok"><td>2024-04</td><td></td><td></td><td title=""></td>'
        '<td><a href="2024-04/assessment.html">评估报告</a></td></tr>']


def test_stale_outputs_and_temp_folders_are_cleaned(tmp_path):
    dead = 2 ** 22 + 12345            # above any pid this machine hands out
    (tmp_path / f".2024-01.old-{dead}-ab").mkdir()                 # its period is missing
    (tmp_path / f".2024-01.old-{dead}-ab" / "assessment.html").write_text("old")
    (tmp_path / "2024-02").mkdir()
    (tmp_path / f".2024-02.old-{dead}-cd").mkdir()                 # the period is there
    (tmp_path / f".2024-03.staging-{dead}-ef").mkdir()
    (tmp_path / f".2024-03.staging-{os.getpid()}-gh").mkdir()      # a live run's: kept
    done = rf.clean_stale_outputs(tmp_path)
    assert len(done) == 3
    assert (tmp_path / "2024-01" / "assessment.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f".2024-03.staging-{os.getpid()}-gh", "2024-01", "2024-02"]

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    for name in (f"anquan-assess-{dead}-x", f"anquan-assess-{os.getpid()}-y", "anquan-assess-old",
                 "anquan-assess-new"):
        (tmp / name).mkdir()
    os.utime(tmp / "anquan-assess-old", (time.time() - 7 * 3600,) * 2)
    rf.clean_temp_folders(tmp)
    assert sorted(p.name for p in tmp.iterdir()) == [f"anquan-assess-{os.getpid()}-y",
                                                     "anquan-assess-new"]


@pytest.mark.parametrize("exchange", [True, False])
def test_publish_replaces_the_whole_folder(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(rf, "_exchange", lambda a, b: False)
    final = tmp_path / "2024-01"
    final.mkdir()
    for name in ("assessment.html", "assessment.failed.ipynb", "status.json"):
        (final / name).write_text("old " + name)
    stage = rf.staging_folder(tmp_path, "2024-01")
    (stage / "assessment.html").write_text("new")
    rf.publish(stage, final)
    assert _files(final) == {"assessment.html": b"new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024-01"]
