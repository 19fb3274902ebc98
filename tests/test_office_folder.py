"""Issue 18: an office's own folder as it really is (``office_folder.make_office_folder``:
three monthly workbooks typed as an office types them, an exposure workbook, a contact
list, a notice, a PDF, a note, a lock file and a 修正版 file).  Headers that learn,
rules judged only where both sides were reported, a cluttered folder, defaults that
cannot mix offices, a workbook that prints."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from anquan_analysis import config
from anquan_analysis.cli import main
from anquan_analysis.errors import InputError
from anquan_analysis.ingest import ingest
from anquan_analysis.ingest.corrections import SUPERSEDED, file_precedence, supersedes
from anquan_analysis.ingest.header_map import (MAPPING_FILE, load_header_map, read_mapping_file,
                                               suggest_indicator)
from anquan_analysis.ingest.headers import column_role, map_columns

from office_folder import CORRECTED_UNIT, CORRECTION_FILE, make_office_folder


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    d = tmp_path_factory.mktemp("office18")
    made = make_office_folder(d)
    return d, made


def _accept_all(folder: Path) -> None:
    table = read_mapping_file(folder / MAPPING_FILE)
    table["采用"] = "是"
    (folder / MAPPING_FILE).write_text("\ufeff" + table.to_csv(index=False), encoding="utf-8")


# ------------------------------------------------------------------ header mapping
@pytest.mark.parametrize("label, unit, code", [
    ("应急演练企业（家）", "家", "drill_enterprises"),
    ("主要负责人培训", "人次", "principal_training_persons"),   # the unit picks 人次 over 场
    ("主要负责人培训", "场", "principal_training_sessions"),
    ("企业自查上报数", None, "major_hazards_found_enterprise"),
])
def test_suggestions_use_the_bracketed_unit(label, unit, code):
    hit = suggest_indicator(label, unit)
    assert hit is not None and hit[0] == code and hit[1] >= 60


@pytest.mark.parametrize("label", ["联络员", "职务", "手机", "巡查里程"])
def test_nothing_is_suggested_for_a_contact_lists_headers(label):
    assert suggest_indicator(label) is None


def test_office_headers_map_without_a_guess():
    # 其中 (of which) is not part of the name; a label whose unit does not fit reads
    # as the label joined with its unit (主要负责人培训 + 人次 is an alias)
    assert column_role("其中：部门检查发现（项）") == ("indicator", "major_hazards_found_dept")
    roles, unknown = map_columns(["单位名称", "主要负责人培训（场）", "主要负责人培训（人次）",
                                  "应急演练企业（家）"], "f.xlsx", "s")
    assert roles["indicators"]["principal_training_sessions"][0] == 1
    assert roles["indicators"]["principal_training_persons"][0] == 2
    assert [u["column"] for u in unknown] == ["应急演练企业（家）"]
    assert unknown[0]["suggestion"] == "drill_enterprises"
    assert "did you mean 开展应急逃生演练企业?" in unknown[0]["reason"]


def test_mapping_is_drafted_accepted_and_applied(office, tmp_path, capsys):
    src, _ = office
    d = tmp_path / "data"
    shutil.copytree(src, d)
    assert main(["ingest", str(d), "--output", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "1 unknown headers drafted" in out
    draft = read_mapping_file(d / MAPPING_FILE)
    assert draft[["列名", "指标", "指标代码", "采用"]].values.tolist() == [
        ["应急演练企业（家）", "开展应急逃生演练企业", "drill_enterprises", None]]
    assert load_header_map(d) == {}                     # a draft is not applied
    _accept_all(d)
    ds = ingest(d)
    assert ds.unknown_columns.empty
    # every unit's July figure of the column is read, as typed in the bundled data
    july = made_months(office)["2024-07"].set_index("单位")["开展应急逃生演练企业"].astype(float)
    got = ds.panel[(ds.panel["period"] == "2024-07")
                   & (ds.panel["indicator"] == "drill_enterprises")].set_index("unit")["value"]
    assert got.sort_index().tolist() == july.sort_index().tolist()
    # a second run drafts nothing new and keeps the analyst's 是
    assert main(["ingest", str(d), "--output", str(tmp_path / "out")]) == 0
    assert read_mapping_file(d / MAPPING_FILE)["采用"].tolist() == ["是"]


def made_months(office):
    return office[1]["months"]


def test_an_accepted_row_naming_no_indicator_is_an_error(tmp_path, write_csv):
    (tmp_path / MAPPING_FILE).write_text("列名,指标,采用\n应急演练企业,演练人数总计,是\n",
                                         encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_header_map(tmp_path)
    assert err.value.row == 2 and err.value.column == "指标"


# --------------------------------------------------------------------- corrections
def test_the_correction_supersedes_the_row_and_names_both(office):
    d, made = office
    ds = ingest(d)
    corrected = made["corrected"].iloc[0]
    p = ds.panel[(ds.panel["unit"] == CORRECTED_UNIT) & (ds.panel["period"] == "2024-09")]
    figures = dict(zip(p["indicator"], p["value"]))
    assert figures["major_hazards_found"] == float(corrected["重大事故隐患排查数"])
    assert set(p["source_file"].map(lambda f: Path(f).name)) == {CORRECTION_FILE}
    rej = ds.rejects[ds.rejects["reason"].str.startswith(SUPERSEDED)]
    assert len(rej) == 1 and Path(rej["file"].iloc[0]).name == "2024年9月调度表.xlsx"
    assert CORRECTION_FILE in rej["reason"].iloc[0]
    # the original sheet's 合计 still adds up: the superseded row counts in its own sheet
    assert not (ds.reconciliation["status"] == "mismatch").any()


def test_a_real_conflict_between_files_stays_a_reject_naming_both(write_csv):
    a = write_csv("甲镇报表.csv", "单位,期间,重大事故隐患排查数\n甲镇,2024-09,3\n")
    b = write_csv("乙镇报表.csv", "单位,期间,重大事故隐患排查数\n甲镇,2024-09,5\n")
    ds = ingest([a, b], aliases=None)
    assert ds.panel.empty and len(ds.rejects) == 2
    reason = ds.rejects["reason"].iloc[0]
    assert "file 甲镇报表.csv row 2" in reason and "file 乙镇报表.csv row 2" in reason


@pytest.mark.parametrize("later, earlier", [
    ("2024年9月调度表（区应急局修正版）.xlsx", "2024年9月调度表.xlsx"),
    ("9月更正.xlsx", "9月调度表.xlsx"),                    # marked wins whatever the name
    ("调度表_v2.xlsx", "调度表.xlsx"),
    ("调度表20241009.xlsx", "调度表2024-10-08.xlsx"),
])
def test_which_file_supersedes(later, earlier):
    assert supersedes(later, earlier) and not supersedes(earlier, later)


def test_unrelated_names_supersede_nothing():
    assert not supersedes("甲镇9月.xlsx", "乙镇9月.xlsx")
    assert file_precedence("调度表_v2.xlsx") == (False, "调度表", (0, 0, 0, 2))


# --------------------------------------------------- rules and the coverage matrix
def _quarter_frame(enterprise_months):
    rows = []
    for m, (dept, ent, total) in zip(("2024-07", "2024-08", "2024-09"),
                                     [(3, 1, 4), (2, 2, 4), (5, 0, 5)]):
        rows += [("甲镇", m, "major_hazards_found_dept", dept),
                 ("甲镇", m, "major_hazards_found", total)]
        if m in enterprise_months:
            rows.append(("甲镇", m, "major_hazards_found_enterprise", ent))
    return pd.DataFrame(rows, columns=["unit", "period", "indicator", "value"])


def test_a_quarter_compares_only_figures_of_the_same_months():
    from anquan_analysis.checks.consistency import rule_violation
    from anquan_analysis.panel import Panel

    # the enterprise part missing in August: the quarter's parts (10 + 1) against 13
    # would be a false break; the months differ, so the rule is not judged
    q = Panel.build(_quarter_frame({"2024-07", "2024-09"})).at_level("quarter")
    assert q.months[0, :, 0].tolist() == [0b111, 0b111, 0b101]   # found, dept, enterprise
    assert rule_violation(q, period="2024Q3").empty
    # every month reported and the sum wrong in July: a break, at month and quarter
    wrong = _quarter_frame({"2024-07", "2024-08", "2024-09"})
    wrong.loc[wrong["indicator"].eq("major_hazards_found") & wrong["period"].eq("2024-07"),
              "value"] = 6
    q = Panel.build(wrong).at_level("quarter")
    f = rule_violation(q, period="2024Q3")
    assert f["observed"].tolist() == [13.0] and f["expected"].tolist() == [15.0]


def test_coverage_matrix_shows_the_missing_month(office):
    from anquan_analysis.assessment.quality import coverage_table

    ds = ingest(office[0])
    gaps = coverage_table(ds, "2024Q3", gaps_only=True)
    assert gaps["indicator"].tolist() == ["major_hazards_found_enterprise"]
    assert gaps[["2024-07", "2024-08", "2024-09"]].values.tolist() == [[50, 0, 50]]
    assert gaps["未报月份"].tolist() == ["2024-08"]


# ------------------------------------------------------------------ options
def test_thresholds_and_key_indicator_from_the_command_line():
    from anquan_analysis.assessment import merge_thresholds
    from anquan_analysis.settings import check_key_indicator, thresholds_from_args

    cli = thresholds_from_args(["low_outlier.alert=0.05", "not_reported.alert_after=3",
                                "low_outlier.model=sqrt-normal"])
    assert cli == {"low_outlier": {"alert": 0.05, "model": "sqrt-normal"},
                   "not_reported": {"alert_after": 3}}
    merged = merge_thresholds({"low_outlier": {"alert": 0.01, "warning": 0.1}}, cli)
    assert merged["low_outlier"] == {"alert": 0.05, "warning": 0.1, "model": "sqrt-normal"}
    assert check_key_indicator("一般隐患排查数") == "general_hazards_found"
    for bad in (["low_outlier.alrt=1"], ["nosuch.alert=1"], ["low_outlier=1"]):
        with pytest.raises(InputError):
            thresholds_from_args(bad)
    with pytest.raises(InputError):
        check_key_indicator("隐患总数")


def test_defaults_never_mix_offices(office):
    from anquan_analysis.provenance import default_folders, is_bundled

    data, out, notes = default_folders(None, None)
    assert Path(data) == config.SYNTH_DIR and Path(out) == config.REPORTS
    assert any("示范数据" in n for n in notes) and is_bundled(data)
    data, out, notes = default_folders(str(office[0]), None)
    assert out == office[0] / "reports" and not is_bundled(data)
    assert not any("示范数据" in n for n in notes)


# ------------------------------------------------- the whole run, and what prints
@pytest.fixture(scope="module")
def assessed(office, tmp_path_factory):
    """``anquan assess --period 2024Q3`` on the office's folder after the drafted
    mapping is accepted, with no --output."""
    import contextlib
    import io

    d = tmp_path_factory.mktemp("assessed") / "data"
    shutil.copytree(office[0], d)
    assert main(["ingest", str(d), "--output", str(d.parent / "ingested")]) == 0
    _accept_all(d)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["assess", "--data", str(d), "--period", "2024Q3",
                     "--threshold", "low_outlier.alert=0.01"])
    return d, code, err.getvalue()


def test_assess_on_the_office_folder(assessed, office):
    d, code, err = assessed
    assert code == 0
    for name in office[1]["skipped"]:
        assert f"{name}: " in err, name
    assert "superseded by the correction in " + CORRECTION_FILE in err
    assert "unknown column" not in err
    out = d / "reports" / "2024Q3"                     # beside the data
    record = json.loads((out / "summary.json").read_text("utf-8"))
    # no rule break from a missing column: only 长岭镇's (121 sessions, 1 person in
    # September, planted in the bundled city) remains
    assert record["findings_per_check"]["rule_violation"] == 1
    prov = record["provenance"]
    assert prov["data_folder"] == str(d.resolve()) and not prov["bundled"]
    files = {f["file"]: f for f in prov["files"]}
    sept = files["2024年9月调度表.xlsx"]
    assert sept["sha256"] == hashlib.sha256((d / "2024年9月调度表.xlsx").read_bytes()).hexdigest()
    assert (sept["rows_read"], sept["rows_clean"], sept["rows_rejected"]) == (50, 49, 1)
    assert files["~$2024年9月调度表.xlsx"]["note"].startswith("Excel lock file")
    assert record["generated"] and record["key_indicator"] == "major_hazards_found"
    html = (out / "assessment.html").read_text("utf-8")
    assert 'id="provenance"' in html and sept["sha256"] in html and "demo-banner" not in html
    wb = openpyxl.load_workbook(out / "findings.xlsx")
    assert wb.sheetnames[-1] == "数据来源"
    shas = {c.value for row in wb["数据来源"].iter_rows() for c in row}
    assert sept["sha256"] in shas
    assert ">data</td>" in (d / "reports" / "index.html").read_text("utf-8")  # the index names it
    lists = sorted(p.name for p in (out / "问题清单").iterdir())
    flagged = pd.read_excel(out / "findings.xlsx", sheet_name=None, header=2,
                            engine="openpyxl")
    units = {u for name, t in flagged.items() if "严重程度" in t.columns
             for u, s in zip(t["单位"], t["严重程度"])
             if s in ("预警", "关注") and isinstance(u, str)}  # a district-wide row goes to no unit
    assert lists == sorted(f"{u}.xlsx" for u in units)


def test_findings_workbook_prints(assessed):
    d = assessed[0]
    wb = openpyxl.load_workbook(d / "reports" / "2024Q3" / "findings.xlsx")
    ws = wb["末位与零报送"]
    assert ws["A1"].value.startswith("2024年第三季度调度数据评估")
    assert "数据来源：data" in ws["A2"].value
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    # one page wide (1 is the default, which XlsxWriter leaves out), as many tall as needed
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$3:$3" and ws.auto_filter.ref.startswith("A3:")
    header = [c.value for c in ws[3]]
    p_col = header.index("p值")
    formats = {ws.cell(row=r, column=p_col + 1).number_format for r in range(4, ws.max_row + 1)}
    assert formats == {'[<0.001]"<0.001";0.000'}
    unit_list = openpyxl.load_workbook(next((d / "reports" / "2024Q3" / "问题清单").iterdir()))
    us = unit_list.active
    assert [c.value for c in us[4]][-1] == "核实反馈"
    assert us.page_setup.orientation == "landscape"


def test_bundled_data_is_said_and_marked(tmp_path):
    from anquan_analysis.report import notebook_to_html
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 评估")])
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, str(path))
    prov = {"data_folder": str(config.SYNTH_DIR), "bundled": True, "package_version": "x",
            "read_at": "", "files": []}
    html = notebook_to_html(path, tmp_path / "a.html", provenance=prov).read_text("utf-8")
    assert "demo-banner" in html and "demo-watermark" in html and "示范数据" in html
    assert html.index("demo-banner") < html.index("评估")
