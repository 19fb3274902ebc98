"""`anquan assess` and the assessment notebook: levels, periods, the papermill run on
the bundled data (its recorded figures against the library's own), the HTML report,
carrying on past a failing period."""

import argparse
import json
import re

import nbformat
import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import tiny_notebook

from anquan_analysis import assessment as A
from anquan_analysis import config
from anquan_analysis.notebook_runs import configure_parser, plan_periods, run_command, run_period
from anquan_analysis.dataset import PANEL_COLUMNS, Dataset, compact_panel
from anquan_analysis.panel import as_panel
from anquan_analysis.findings import CHECK_FAMILIES, FAMILY_ZH

SECTIONS = ["评估简报", "未报送单位", "存在的主要问题（草稿）", "一、总体进展", "二、排名",
            "三、末位与零报送", "四、数据可信度", "五、突击上报", "六、行业领域", "七、来源结构",
            "八、数据质量", "九、附表"]


def _panel(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value", "approx"])
    return df.assign(parent=pd.NA, source_file="t.csv", source_sheet=pd.NA,
                     source_row=range(2, len(df) + 2))[PANEL_COLUMNS]


TINY = _panel([
    ("甲镇", "town", "2024-01", "major_hazards_found", 2.0, False),
    ("甲镇", "town", "2024-02", "major_hazards_found", 3.0, True),
    ("甲镇", "town", "2024-04", "major_hazards_found", 5.0, False),
    ("乙局", "department", "2024-03", "major_hazards_found", 1.0, False),
    ("乙局", "department", "2024Q2", "major_hazards_found", 4.0, False),
])


# ------------------------------------------------------------------------- levels
def test_quarter_level_sums_months_and_keeps_quarterly_rows():
    q = as_panel(TINY).at_level("quarter").to_frame()
    assert q[["unit", "period", "value", "approx"]].values.tolist() == [
        ["乙局", "2024Q1", 1.0, False], ["乙局", "2024Q2", 4.0, False],
        ["甲镇", "2024Q1", 5.0, True], ["甲镇", "2024Q2", 5.0, False]]
    assert TINY["period"].tolist()[0] == "2024-01"  # input untouched


def test_quarter_level_counts_a_unit_that_gave_months_and_the_quarter_once():
    both = pd.concat([TINY, _panel([("甲镇", "town", "2024Q1", "major_hazards_found", 9.0,
                                     False)])], ignore_index=True)
    q = as_panel(both).at_level("quarter").to_frame().set_index(["unit", "period"])["value"]
    assert q[("甲镇", "2024Q1")] == 5.0  # its months, not 5 + 9
    assert q[("乙局", "2024Q2")] == 4.0  # a quarter without months counts


def test_month_level_keeps_only_months():
    m = as_panel(TINY).at_level("month")
    assert m.periods.tolist() == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert A.available_periods(TINY, "quarter") == ["2024Q1", "2024Q2"]
    with pytest.raises(ValueError, match="level"):
        as_panel(TINY).at_level("decade")  # a year is a level (issue 18)


def test_a_period_without_data_names_the_periods_that_exist():
    with pytest.raises(A.PeriodNotFound, match="2024-01、2024-02、2024-03、2024-04"):
        A.require_period(TINY, "2024-07", "month")
    with pytest.raises(ValueError, match="not a month"):
        A.require_period(TINY, "2024Q1", "month")


def test_plan_all_runs_quarters_then_months():
    assert plan_periods(TINY) == [("2024Q1", "quarter"), ("2024Q2", "quarter"),
                                  ("2024-01", "month"), ("2024-02", "month"),
                                  ("2024-03", "month"), ("2024-04", "month")]
    assert plan_periods(TINY, periods=["2024年二季度", "2024-03"]) == [
        ("2024Q2", "quarter"), ("2024-03", "month")]
    with pytest.raises(A.PeriodNotFound):
        plan_periods(TINY, periods=["2023-12"])


def test_data_files_skip_the_answer_key_and_the_messy_copy(tmp_path):
    for name in ("reports_clean.csv", "reports_messy.xlsx", "exposure.csv", "ledger.csv",
                 "truth.csv", "README.md", "单位名册.csv", "anquan.toml", "report_dates.csv"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in A.data_files(tmp_path)] == ["exposure.csv", "ledger.csv",
                                                       "reports_clean.csv"]
    (tmp_path / "reports_clean.csv").unlink()
    assert "reports_messy.xlsx" in [p.name for p in A.data_files(tmp_path)]


# ------------------------------------------------------- CLI: failures carry on
def main(argv) -> int:
    """``anquan assess …`` through this module's own parser (cli.main builds every
    sub-command's parser, which would tie this test to the other modules)."""
    parser = argparse.ArgumentParser(prog="anquan assess")
    configure_parser(parser)
    return run_command(parser.parse_args(argv[1:]))


FAILING_NOTEBOOK = '''
from pathlib import Path
if period == "2024-02":
    raise ValueError("boom")
Path(output_dir, "summary.json").write_text('{"hazards_found": 5, "alerts_total": 0}')
print("ok", period)
'''


def test_the_command_line_ends_with_the_status_and_every_line_written(tmp_path):
    """``anquan assess`` from the command line ends its process without the
    interpreter's teardown (cli._exit): the exit status, the lines on stdout and stderr
    (pipes: buffered) and the reports are all there."""
    import os
    import subprocess
    import sys

    data = tmp_path / "data"
    Dataset(panel=TINY).save(data)
    nb = tiny_notebook(tmp_path / "nb.ipynb", FAILING_NOTEBOOK)
    out = tmp_path / "reports"
    root = str(config.ROOT)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered pipes
    env["PYTHONPATH"] = root + os.pathsep + os.environ.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-m", "anquan_analysis.cli", "assess", "--period", "2024-02",
         "--period", "2024-01", "--data", str(data), "--output", str(out), "--notebook",
         str(nb)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 1
    assert "assessed 1/2 periods" in done.stdout
    assert "FAILED 2024-02: ValueError: boom" in done.stderr
    assert (out / "2024-01" / "assessment.html").is_file()
    assert (out / "index.html").is_file()


def test_assess_carries_on_past_a_failing_period(tmp_path, capsys):
    data = tmp_path / "data"
    Dataset(panel=TINY).save(data)
    nb = tiny_notebook(tmp_path / "nb.ipynb", FAILING_NOTEBOOK)
    out = tmp_path / "reports"
    status = main(["assess", "--period", "2024-02", "--period", "2024-01", "--data", str(data),
                   "--output", str(out), "--notebook", str(nb)])
    assert status == 1
    err = capsys.readouterr().err
    assert "FAILED 2024-02: ValueError: boom" in err
    assert (out / "2024-01" / "assessment.ipynb").is_file()
    assert (out / "2024-01" / "assessment.html").is_file()
    assert not (out / "2024-02" / "assessment.ipynb").exists()
    assert (out / "2024-02" / "assessment.failed.ipynb").is_file()
    index = (out / "index.html").read_text("utf-8")
    assert re.findall(r'href="([^"/]+)/assessment.html"', index) == ["2024-01"]
    assert not list(out.rglob("*.tmp"))


def test_assess_unknown_period_lists_the_periods(tmp_path, capsys):
    data = tmp_path / "data"
    Dataset(panel=TINY).save(data)
    status = main(["assess", "--period", "2030-01", "--data", str(data),
                   "--output", str(tmp_path / "r")])
    assert status == 2
    err = capsys.readouterr().err
    assert "2030-01" in err and "2024-01、2024-02、2024-03、2024-04" in err
    assert not (tmp_path / "r").exists()


def test_the_kernel_started_first_is_shut_down_when_the_request_is_invalid(tmp_path,
                                                                           monkeypatch):
    import anquan_analysis.notebook_runs as AS

    started, stopped = [], []
    monkeypatch.setattr(AS, "start_kernel", lambda nb=None: started.append(object()) or started[-1])
    monkeypatch.setattr(AS, "shutdown_kernel", lambda km, **kw: stopped.append(km))
    data = tmp_path / "data"
    Dataset(panel=TINY).save(data)
    assert main(["assess", "--period", "2030-01", "--data", str(data),
                 "--output", str(tmp_path / "r")]) == 2
    assert len(started) == 1 and stopped == started


# ------------------------------------------------ the notebook on the bundled data
@pytest.fixture(scope="module")
def bundled():
    return A.read_data_dir(config.SYNTH_DIR)


@pytest.fixture(scope="module")
def quarter_report(tmp_path_factory, bundled):
    out = tmp_path_factory.mktemp("reports")
    period = A.available_periods(bundled.panel, "quarter")[1]
    run_period(period, "quarter", data_dir=config.SYNTH_DIR, output_dir=out)
    return period, out / period


def test_notebook_records_the_library_figures(quarter_report, bundled):
    period, folder = quarter_report
    recorded = json.loads((folder / "summary.json").read_text("utf-8"))
    expected = A.summary(A.assess_dataset(bundled, period, "quarter"))
    assert recorded["period"] == period and recorded["level"] == "quarter"
    assert recorded["hazards_found"] == pytest.approx(expected["hazards_found"])
    # the hazards found in the quarter, straight from the monthly panel
    months = bundled.panel.loc[bundled.panel["period"].isin(recorded["months"])
                               & (bundled.panel["indicator"] == "major_hazards_found")]
    assert len(recorded["months"]) == 3
    assert recorded["hazards_found"] == pytest.approx(months["value"].sum())
    assert recorded["alerts_per_check"] == expected["alerts_per_check"]
    assert recorded["findings_per_check"] == expected["findings_per_check"]
    assert set(recorded["alerts_per_check"]) >= set(CHECK_FAMILIES)
    assert recorded["draft"].startswith("一是") or recorded["draft"].startswith("本期")
    assert (folder / "bulletin.docx").is_file()


def test_html_report_shows_every_section_with_figures(quarter_report):
    _, folder = quarter_report
    html = (folder / "assessment.html").read_text("utf-8")
    positions = [html.find(s) for s in SECTIONS]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    assert len(re.findall(r'<img[^>]*src="data:image/png;base64,', html)) >= 4
    assert "run_assessment" not in html  # code hidden
    assert "Traceback" not in html and "An Exception was encountered" not in html
    assert re.findall(r'(?:src|href)="https?://', html) == []


def test_executed_notebook_and_findings_workbook(quarter_report):
    period, folder = quarter_report
    nb = nbformat.read(folder / "assessment.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and f'period = "{period}"' in injected[0].source
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    wb = openpyxl.load_workbook(folder / "findings.xlsx")
    assert wb.sheetnames[:1 + len(FAMILY_ZH)] == ["汇总", *FAMILY_ZH.values()]
    recorded = json.loads((folder / "summary.json").read_text("utf-8"))
    total_rows = sum(wb[name].max_row - 3 for name in FAMILY_ZH.values())  # title, subtitle, header
    assert total_rows == recorded["findings_total"]


# ------------------------------------------------------- methods: detection rates
def test_score_checks_detection_and_false_alarm_rates():
    from anquan_analysis.evaluation import score_checks
    from anquan_analysis.findings import make_findings

    truth = pd.DataFrame({"kind": ["low_outlier", "low_outlier", "group_shift", "surge"],
                          "unit": ["A", "B", "", "C"], "period": ["", "", "2024-09", "2024-05"],
                          "indicator": "major_hazards_found", "note": ""})
    findings = make_findings(pd.DataFrame([
        dict(check="low_outlier", unit="A", severity="alert", message="m"),
        dict(check="low_outlier", unit="A", period="2024-02", severity="warning", message="m"),
        dict(check="low_outlier", unit="D", severity="warning", message="m"),
        dict(check="low_outlier", unit="B", severity="info", message="m"),
        dict(check="group_shift", severity="warning", message="m"),
        dict(check="surge", unit="E", severity="alert", message="m"),
    ]))
    s = score_checks(findings, truth, ["A", "B", "C", "D", "E", "F"]).set_index("check")
    # clean units: D, E, F
    lo = s.loc["low_outlier"]
    assert (lo.injected, lo.detected, lo.false_alarms, lo.clean_units) == (2, 1, 1, 3)
    assert lo.detection_rate == pytest.approx(0.5)
    assert lo.false_alarm_rate == pytest.approx(1 / 3)
    assert lo.missed == "B"
    assert (s.loc["group_shift", "injected"], s.loc["group_shift", "detected"]) == (1, 1)
    su = s.loc["surge"]
    assert (su.injected, su.detected, su.false_alarms, su.missed) == (1, 0, 1, "C")
    assert np.isnan(s.loc["zero_report", "detection_rate"])
    assert s.loc["zero_report", "false_alarms"] == 0
    assert set(s.index) == set(CHECK_FAMILIES)
    # with info counted, B is detected too
    s2 = score_checks(findings, truth, ["A", "B", "C", "D", "E", "F"], min_severity="info")
    assert s2.set_index("check").loc["low_outlier", "detected"] == 2


def test_text_from_the_data_is_escaped():
    out = A.text_html("一是<script>alert(1)</script>单位", heading="2024年<b>")
    assert out == ("<h2>2024年&lt;b&gt;</h2>"
                   "<p>一是&lt;script&gt;alert(1)&lt;/script&gt;单位</p>")


def test_ledger_counts_sum_to_quarters():
    from anquan_analysis.dataset import LEDGER_COUNT_COLUMNS

    counts = pd.DataFrame({"unit": ["甲", "甲", "甲", "乙"],
                           "period": ["2024-01", "2024-03", "2024-04", "2024-02"],
                           "sector": ["工贸", "工贸", "工贸", "消防"]})
    for col in LEDGER_COUNT_COLUMNS[3:]:
        counts[col] = [1, 2, 4, 8]
    q = A.ledger_counts_to_level(counts[LEDGER_COUNT_COLUMNS], "quarter")
    assert q[["unit", "period", "sector", "found"]].values.tolist() == [
        ["甲", "2024Q1", "工贸", 3], ["甲", "2024Q2", "工贸", 4], ["乙", "2024Q1", "消防", 8]]


# ------------------------------------------- data folders: raw files or a dataset
OFFICE_CSV = ("单位,单位类型,上级,期间,重大事故隐患排查数\n"
              "甲镇,镇街,巴南区,2024-01,2\n甲镇,镇街,巴南区,2024-02,3\n"
              "乙局,部门,巴南区,2024-01,1\n乙局,部门,巴南区,2024-02,7\n")


def test_a_dataset_folder_reads_compact_with_the_same_figures(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "reports.csv").write_text(OFFICE_CSV, encoding="utf-8")
    ds = A.read_data_dir(raw)
    ds.save(tmp_path / "dataset")
    compact = A.read_data_dir(tmp_path / "dataset", compact=True)
    assert isinstance(compact.panel["unit"].dtype, pd.CategoricalDtype)
    assert isinstance(A.read_data_dir(raw, compact=True).panel["period"].dtype,
                      pd.CategoricalDtype)
    as_text = compact.panel.astype({c: "str" for c in ("unit", "period", "indicator")})
    key = ["unit", "period", "indicator"]
    assert (as_text.set_index(key)["value"].sort_index().to_dict()
            == ds.panel.set_index(key)["value"].sort_index().to_dict()
            == {("乙局", "2024-01", "major_hazards_found"): 1.0,
                ("乙局", "2024-02", "major_hazards_found"): 7.0,
                ("甲镇", "2024-01", "major_hazards_found"): 2.0,
                ("甲镇", "2024-02", "major_hazards_found"): 3.0})
    # planning reads the distinct periods only, the same from either folder
    assert A.read_periods(tmp_path / "dataset").tolist() == ["2024-01", "2024-02"]
    assert sorted(A.read_periods(raw)) == ["2024-01", "2024-02"]


RECORDING_NOTEBOOK = '''
import json, sys
from pathlib import Path
from anquan_analysis.assessment import read_data_dir
ds = read_data_dir(data_dir, compact=True)
cur = ds.panel.loc[ds.panel["period"] == period]
Path(output_dir, "summary.json").write_text(json.dumps({
    "hazards_found": float(cur["value"].sum()), "alerts_total": 0,
    "dataset": Path(data_dir, "panel.parquet").is_file(),
    "preloaded": "anquan_analysis.plots" in sys.modules and "anquan_analysis" not in dir()}))
'''


def _recording_notebook(path):
    nb = nbformat.read(tiny_notebook(path, FAILING_NOTEBOOK), as_version=4)
    nb.cells[1].source = RECORDING_NOTEBOOK
    nbformat.write(nb, path)
    return path


def test_assess_office_files_ingests_once_and_gives_the_notebook_a_dataset(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "reports.csv").write_text(OFFICE_CSV, encoding="utf-8")
    nb = _recording_notebook(tmp_path / "nb.ipynb")
    out = tmp_path / "reports"
    status = main(["assess", "--period", "2024-02", "--data", str(raw), "--output", str(out),
                   "--notebook", str(nb)])
    assert status == 0
    recorded = json.loads((out / "2024-02" / "summary.json").read_text("utf-8"))
    # 2024-02: 甲镇 3 + 乙局 7, read by the notebook from the dataset ingested for the run,
    # in a kernel that had loaded the package before the first cell and bound no name
    assert recorded == {"hazards_found": 10.0, "alerts_total": 0, "dataset": True,
                        "preloaded": True}


def test_a_kernel_given_to_run_period_is_shut_down(tmp_path):
    from anquan_analysis.notebook_runs import start_kernel

    data = tmp_path / "data"
    Dataset(panel=TINY).save(data)
    nb = _recording_notebook(tmp_path / "nb.ipynb")
    km = start_kernel(nb)
    assert km is not None and km.has_kernel
    run_period("2024-04", "month", data_dir=data, output_dir=tmp_path / "r", notebook=nb,
               kernel=km)
    assert not km.has_kernel
    recorded = json.loads((tmp_path / "r" / "2024-04" / "summary.json").read_text("utf-8"))
    assert recorded["hazards_found"] == 5.0 and recorded["dataset"] is True  # 甲镇 in 2024-04


def test_heatmap_rows_are_the_flagged_units_then_the_largest():
    from anquan_analysis.findings import make_findings

    rows = [(u, "town", p, "major_hazards_found", v, False)
            for u, vals in (("甲", (9, 9)), ("乙", (1, 1)), ("丙", (5, 6)), ("丁", (4, 4)))
            for p, v in zip(("2024-01", "2024-02"), vals)]
    panel = _panel(rows)
    findings = make_findings(pd.DataFrame([
        dict(check="repeated_value", unit="乙", severity="warning", message="m"),
        dict(check="pinned_rate", unit="丁", severity="alert", message="m"),
        dict(check="low_outlier", unit="甲", severity="alert", message="m"),  # not this family
    ]))
    a = A.Assessment(dataset=Dataset(panel=panel), panel=as_panel(panel), period="2024-02",
                     level="month", findings=findings, funnel=pd.DataFrame())
    # balance findings, most severe first (丁 alert, 乙 warning), then by total: 甲 18, 丙 11
    assert A.heatmap_units(a, max_units=3) == (["丁", "乙", "甲"], ["丁", "乙"])
    assert A.heatmap_units(a, max_units=10) == (["丁", "乙", "甲", "丙"], ["丁", "乙"])
    assert A.heatmap_units(a, max_units=1) == (["丁"], ["丁"])
    assert A.history(a, "major_hazards_found")["value"].sum() == 39.0


@pytest.mark.parametrize("categorical", [False, True])
def test_headline_figures_by_hand(categorical):
    # 甲镇 + 乙局 in 2024-02: found 3 + 4 = 7, rectified 2 + 3 = 5; in 2024-01 found 1 + 2 = 3
    panel = _panel([
        ("甲镇", "town", "2024-01", "major_hazards_found", 1.0, False),
        ("乙局", "department", "2024-01", "major_hazards_found", 2.0, False),
        ("甲镇", "town", "2024-02", "major_hazards_found", 3.0, False),
        ("乙局", "department", "2024-02", "major_hazards_found", 4.0, False),
        ("甲镇", "town", "2024-02", "major_hazards_rectified", 2.0, False),
        ("乙局", "department", "2024-02", "major_hazards_rectified", 3.0, False),
        ("乙局", "department", "2024-02", "drills", 9.0, False),
    ])
    if categorical:
        panel = compact_panel(panel)
    a = A.assess_dataset(Dataset(panel=panel), "2024-02", "month")
    text = A.headline(a)
    assert text.startswith("2024年2月，2个单位报送调度数据，共排查重大事故隐患7项（上期3项，增加4项），整改5项。")
    n_alert = int((a.findings["severity"] == "alert").sum())
    assert f"预警{n_alert}条" in text


def test_a_started_kernel_has_loaded_the_notebook_modules_and_bound_nothing(tmp_path):
    # exec_lines errors are only logged by the kernel, so look inside it
    from jupyter_core.utils import run_sync

    from anquan_analysis.notebook_runs import shutdown_kernel, start_kernel

    km = start_kernel(_recording_notebook(tmp_path / "nb.ipynb"))
    assert km is not None
    kc = km.client()
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=60)
        out = []
        run_sync(kc.execute_interactive)(
            "import sys; print(sorted(m for m in sys.modules if m.startswith("
            "'anquan_analysis.checks.') and m.count('.') == 2 and '._' not in m)); "
            "print(sorted(k for k in globals() if not k.startswith('_') and k not in "
            "('In', 'Out', 'get_ipython', 'exit', 'quit', 'open', 'sys')))",
            output_hook=lambda msg: out.append(msg["content"].get("text", "")), timeout=60)
    finally:
        kc.stop_channels()
        shutdown_kernel(km)
    # the modules that hold the checks (a family's, or trends' steps.py)
    from anquan_analysis.checks import CHECKS
    families = sorted({".".join(fn.__module__.split(".")[:3]) for fn in CHECKS.values()})
    assert {f"anquan_analysis.checks.{f}" for f in CHECK_FAMILIES.values()} <= set(families)
    assert "".join(out).splitlines() == [repr(families), "[]"]
