"""The roster of units (roster.py): reading it (GBK, title rows, unit types, aliases,
errors naming file, row and column), 未报送 with its streak, names not on the roster
with their likely roster name, 迟报 from the reports' 报送日期, and the whole of it
through ``assessment.run_assessment`` and ``anquan assess`` on an office's folder."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import LATE, MISSING_MONTH, ROSTER_EXTRA, ROSTER_RENAMED, UNREADABLE

from anquan_analysis import assessment as A
from anquan_analysis.dataset import PANEL_COLUMNS
from anquan_analysis.errors import InputError
from anquan_analysis.findings import FINDINGS_COLUMNS
from anquan_analysis.roster import (REPORT_DATE_COLUMNS, copy_office_files, late_reports,
                                    not_reported, read_report_dates, read_roster,
                                    report_deadline, reporting_findings, unlisted_units)


def _panel(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "period"])
    return df.assign(parent=None, indicator="major_hazards_found", value=1.0, approx=False,
                     source_file="t.csv", source_sheet=None, source_row=2)[PANEL_COLUMNS]


PANEL = _panel([("甲镇", "town", "2024-07"), ("甲镇", "town", "2024-08"), ("甲镇", "town", "2024-09"),
                ("乙镇", "town", "2024-07"), ("乙镇", "town", "2024-08"),
                ("丙局", "department", "2024-07"),
                ("区应急局", "department", "2024-09")])
ROSTER = pd.DataFrame({"unit": ["甲镇", "乙镇", "丙局", "丁办", "区应急管理局"],
                       "unit_type": ["town", "town", "department", "department", "department"]})


# ------------------------------------------------------------------------ reading
def test_read_roster_gbk_with_a_title_row_types_and_aliases(write_csv):
    path = write_csv("单位名册.csv", "XX区安委会成员单位名册\n单位,单位类型,上级\n"
                     "甲镇,镇,示范区\n应急局,部门,\n巴源公司,区属国有公司,\n合计,,\n",
                     encoding="gbk")
    r = read_roster(path, aliases={"应急局": "区应急局"})
    assert r[["unit", "unit_type"]].values.tolist() == [
        ["甲镇", "town"], ["区应急局", "department"], ["巴源公司", "soe"]]
    assert r["parent"].iloc[0] == "示范区" and r["parent"].iloc[1:].isna().all()
    assert r["source_row"].tolist() == [3, 4, 5]


def test_read_roster_errors_name_file_row_and_column(write_csv):
    bad_type = write_csv("a.csv", "单位,单位类型\n甲镇,镇街\n乙镇,乡政府办\n")
    with pytest.raises(InputError, match=r"a.csv, row 3, column '单位类型': unknown unit type '乡政府办'"):
        read_roster(bad_type, aliases={})
    twice = write_csv("b.csv", "单位,单位类型\n甲镇,镇街\n 甲镇,镇街\n")
    with pytest.raises(InputError, match=r"b.csv, row 3, column '单位': '甲镇' is listed twice"):
        read_roster(twice, aliases={})
    no_unit = write_csv("c.csv", "名称,类型\n甲镇,镇街\n")
    with pytest.raises(InputError, match="c.csv: no 单位 column"):
        read_roster(no_unit, aliases={})


# ------------------------------------------------------------------ not reported
def test_not_reported_streak_and_severity():
    f = not_reported(PANEL, ROSTER, "2024-09")
    assert list(f.columns) == FINDINGS_COLUMNS
    got = f[["unit", "observed", "severity"]].values.tolist()
    # 乙镇 missed September only; 丙局 August and September; 丁办 and 区应急管理局 all three
    assert got == [["乙镇", 1.0, "warning"], ["丙局", 2.0, "alert"], ["丁办", 3.0, "alert"],
                   ["区应急管理局", 3.0, "alert"]]
    assert f["message"].iloc[1] == "丙局2024年9月未报送调度数据（已连续2个月未报送）。"
    assert f["message"].iloc[0] == "乙镇2024年9月未报送调度数据。"
    assert (f["family"] == "reporting").all()
    assert not_reported(PANEL, ROSTER, "2024-09", alert_after=3)["severity"].tolist() == [
        "warning", "warning", "alert", "alert"]
    assert not_reported(PANEL, ROSTER, "2024-07")["unit"].tolist() == ["丁办", "区应急管理局"]
    assert not_reported(PANEL, ROSTER, "2024-10").empty  # a period without data


def test_unlisted_units_with_their_likely_roster_name():
    t = unlisted_units(PANEL, ROSTER)
    # two edits from 区应急管理局, and not inside it: no suggestion (aliases.likely_aliases)
    assert t[["unit", "rows"]].values.tolist() == [["区应急局", 1]] and t["likely"].isna().all()
    roster = ROSTER.replace({"区应急管理局": "区应急局局"})  # one edit away
    t = unlisted_units(PANEL, roster, "2024-09")
    assert t[["unit", "unit_type", "rows", "likely", "distance"]].values.tolist() == [
        ["区应急局", "department", 1, "区应急局局", 1]]
    assert unlisted_units(PANEL, roster, "2024-08").empty
    # the roster name the data probably writes otherwise is no 未报送 alert but a name to check
    f = reporting_findings(PANEL, "2024-09", roster=roster)
    row = f.loc[(f["check"] == "not_reported") & (f["unit"] == "区应急局局")].iloc[0]
    assert row["severity"] == "info" and "“区应急局”疑为同一单位" in row["message"]
    row = f.loc[f["check"] == "unlisted_unit"].iloc[0]
    assert row["message"] == "“区应急局”不在单位名册中（名册中有“区应急局局”，疑为同一单位），请核对单位名称或补入名册。"


# ------------------------------------------------------------------ late reports
def test_deadline_of_a_period():
    assert report_deadline("2024-09") == pd.Timestamp("2024-09-24")
    assert report_deadline("2024Q3") == pd.Timestamp("2024-09-24")
    assert report_deadline("2024-02", day=31) == pd.Timestamp("2024-02-29")
    assert report_deadline("2024-12", day=5, months_after=1) == pd.Timestamp("2025-01-05")


def test_report_dates_read_from_the_raw_reports_and_late_ones_found(write_csv):
    path = write_csv("r.csv", "单位,期间,报送日期,重大事故隐患排查数\n甲镇,2024-08,2024-08-20,1\n"
                              "甲镇,2024-09,2024年9月27日,2\n乙镇,2024-09,45558,0\n"
                              "丙局,2024-09,九月底,0\n合计,2024-09,2024-09-30,3\n")
    d = read_report_dates([path])
    assert list(d.columns) == REPORT_DATE_COLUMNS
    assert d[["unit", "period", "row"]].values.tolist() == [
        ["甲镇", "2024-08", 2], ["甲镇", "2024-09", 3], ["乙镇", "2024-09", 4], ["丙局", "2024-09", 5]]
    assert d["reported_date"].tolist()[:3] == [pd.Timestamp("2024-08-20"),
                                               pd.Timestamp("2024-09-27"),
                                               pd.Timestamp("2024-09-23")]  # Excel serial 45558: 45292 is 2024-01-01
    assert pd.isna(d["reported_date"].iloc[3])
    f = late_reports(d, "2024Q3")
    assert f[["unit", "observed", "severity"]].values.tolist()[0] == ["甲镇", 3.0, "warning"]
    assert f["message"].iloc[0] == "甲镇2024年9月调度数据于9月27日报送（规定时限为9月24日前），迟报3天。"
    assert f["message"].iloc[1] == "丙局的报送日期“九月底”无法识别（r.csv 第5行），未能判断是否迟报。"
    assert f["severity"].iloc[1] == "info"
    assert late_reports(d, "2024-08").empty
    assert late_reports(d, "2024-09", deadline_day=28).loc[lambda x: x.severity == "warning"].empty


# ------------------------------------------------------------ an office's folder
def test_office_folder_through_run_assessment(office_m9, office_q3):
    a = office_m9
    f = a.findings.loc[a.findings["family"] == "reporting"]
    by = {(r.check, r.unit): r for r in f.itertuples()}
    for unit in ROSTER_EXTRA:
        assert by[("not_reported", unit)].severity == "alert"       # nine months in a row
    assert by[("not_reported", MISSING_MONTH[0])].severity == "warning"  # September only
    assert by[("not_reported", ROSTER_RENAMED[1])].severity == "info"
    assert by[("unlisted_unit", ROSTER_RENAMED[0])].severity == "info"
    assert by[("late_report", LATE[0])].observed == 4.0
    assert ("late_report", UNREADABLE[0]) not in by  # an August date: not this month's
    assert a.settings.issuer == "示范区安全生产委员会办公室" and len(a.roster) == 52
    assert a.thresholds == {"not_reported": {"alert_after": 2}}  # from anquan.toml
    q = office_q3.findings
    assert ("late_report", UNREADABLE[0]) in {(r.check, r.unit) for r in q.itertuples()}
    assert MISSING_MONTH[0] not in set(q.loc[q["check"] == "not_reported", "unit"])


def test_copy_office_files_beside_an_ingested_dataset(office_dir, office_m9, tmp_path):
    written = sorted(p.name for p in copy_office_files(office_dir, tmp_path))
    assert written == ["anquan.toml", "report_dates.csv", "单位名册.csv"]
    ds = A.read_data_dir(office_dir)
    ds.save(tmp_path)
    a = A.run_assessment(tmp_path, "2024-09", "month")
    b = office_m9
    cols = ["check", "unit", "severity", "message"]
    rep = a.findings.loc[a.findings["family"] == "reporting", cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        rep, b.findings.loc[b.findings["family"] == "reporting", cols].reset_index(drop=True))


def test_anquan_assess_writes_the_bulletin_with_the_roster(office_dir, tmp_path):
    import argparse

    import docx

    from anquan_analysis.notebook_runs import configure_parser, run_command

    p = argparse.ArgumentParser()
    configure_parser(p)
    args = p.parse_args(["--period", "2024Q3", "--data", str(office_dir), "--output",
                         str(tmp_path)])
    assert run_command(args) == 0
    doc = docx.Document(str(tmp_path / "2024Q3" / "bulletin.docx"))
    text = "".join(p.text for p in doc.paragraphs)
    assert f"{'、'.join(ROSTER_EXTRA)}2024年第三季度未报送调度数据" in text
    assert "示安委办〔2024〕18号" in text
