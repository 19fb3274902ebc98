"""Every section table of the report, on a hand-made district whose figures are worked
out by hand in the comments: a table that swaps 本期 and 上期, or sums the wrong
units, fails here."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from anquan_analysis import assessment as A
from anquan_analysis.dataset import LEDGER_COUNT_COLUMNS, REJECT_COLUMNS, Dataset
from anquan_analysis.findings import CHECK_FAMILIES, empty_findings, make_findings
from anquan_analysis.panel import as_panel

MONTHS = ["2024-01", "2024-02", "2024-03"]
FIGURES = {  # unit: (type, {indicator: Jan, Feb, Mar})
    "甲镇": ("town", {"major_hazards_found": (2, 3, 5), "major_hazards_rectified": (1, 3, 4),
                      "major_hazards_found_dept": (2, 2, 4),
                      "major_hazards_found_enterprise": (0, 1, 1),
                      "principal_training_sessions": (1, 1, 2)}),
    "乙镇": ("town", {"major_hazards_found": (1, 0, 4), "major_hazards_rectified": (1, 0, 3),
                      "major_hazards_found_dept": (1, 0, 3),
                      "major_hazards_found_enterprise": (0, 0, 1),
                      "principal_training_sessions": (0, 1, 1)}),
    "丙局": ("department", {"major_hazards_found": (0, 2, 6),
                            "major_hazards_rectified": (0, 2, 6),
                            "major_hazards_found_dept": (0, 2, 5),
                            "major_hazards_found_enterprise": (0, 0, 1),
                            "fines": (None, None, 1.5)}),
}


def _dataset() -> Dataset:
    rows = [(u, t, m, ind, float(v)) for u, (t, figs) in FIGURES.items()
            for ind, vals in figs.items() for m, v in zip(MONTHS, vals) if v is not None]
    panel = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    panel = panel.assign(parent="区", approx=False, source_file="t.csv", source_sheet=None,
                         source_row=range(2, len(panel) + 2))
    exposure = pd.DataFrame({"unit": ["甲镇", "乙镇", "丙局"], "sector": "",
                             "enterprises": [100.0, 50.0, 200.0]})
    ledger = pd.DataFrame([("甲镇", "2024-03", "工贸", 3), ("甲镇", "2024-03", "建筑施工", 2),
                           ("乙镇", "2024-03", "工贸", 4), ("丙局", "2024-03", "消防", 6)],
                          columns=["unit", "period", "sector", "found"])
    ledger = ledger.reindex(columns=LEDGER_COUNT_COLUMNS, fill_value=0)
    rejects = pd.DataFrame([("a.csv", None, 3, "x", "?", "数值无法识别"),
                            ("a.csv", None, 4, "x", "?", "数值无法识别"),
                            ("/in/b.xlsx", "S", 7, "y", "", "缺少单位")], columns=REJECT_COLUMNS)
    return Dataset(panel=panel, exposure=exposure, ledger_counts=ledger, rejects=rejects)


@pytest.fixture(scope="module")
def march():
    return A.assess_dataset(_dataset(), "2024-03", "month")


def test_progress_table_this_period_last_period_and_to_date(march):
    t = A.progress_table(march).set_index("指标")
    # found: Mar 5+4+6 = 15, Feb 3+0+2 = 5, Jan–Mar 10+5+8 = 23
    assert t.loc["重大事故隐患排查数", ["本期", "上期", "增减", "增幅(%)", "累计"]].tolist() == \
        [15, 5, 10, 200.0, 23]
    # rectified: Mar 4+3+6 = 13, Feb 3+0+2 = 5, Jan–Mar 8+4+8 = 20
    assert t.loc["重大事故隐患整改数", ["本期", "上期", "增减", "增幅(%)", "累计"]].tolist() == \
        [13, 5, 8, 160.0, 20]
    assert t.loc["企业自查发现重大事故隐患", ["本期", "上期", "累计"]].tolist() == [3, 1, 4]
    # sessions: Mar 2+1, Feb 1+1, Jan–Mar 4+2; growth 50 %
    assert t.loc["主要负责人安全教育培训场次", ["本期", "上期", "增幅(%)", "累计"]].tolist() == \
        [3, 2, 50.0, 6]
    fines = t.loc["罚款"]
    assert fines["本期"] == 1.5 and np.isnan(fines["上期"]) and fines["累计"] == 1.5
    assert t.loc["重大事故隐患排查数", "计量单位"] == "项"


def test_progress_table_of_a_quarter_has_no_previous_quarter():
    q = A.assess_dataset(_dataset(), "2024Q1", "quarter")
    t = A.progress_table(q).set_index("指标")
    assert t.loc["重大事故隐患排查数", "本期"] == 23 and np.isnan(t.loc["重大事故隐患排查数", "上期"])
    assert t.loc["重大事故隐患排查数", "累计"] == 23


def test_ranking_table_expected_counts_from_the_other_units_rate():
    # the report's funnel follows low_outlier's options: here the pooled rate of the
    # other units (model sqrt-normal), which can be worked by hand
    march = A.assess_dataset(_dataset(), "2024-03", "month",
                             thresholds={"low_outlier": {"model": "sqrt-normal"}})
    assert (march.funnel["model"] == "sqrt-normal").all()
    r = A.ranking_table(march).set_index("单位")
    # to date: 甲 10, 乙 5, 丙 8 with 100, 50, 200 enterprises; every unit's peers are all
    # the others (no type has 5 units): 甲 13/250·100 = 5.2, 乙 18/300·50 = 3, 丙 15/150·200 = 20
    assert r["排查数"].tolist() == [10, 5, 8]
    assert r["期望值"].tolist() == [5.2, 3.0, 20.0]
    assert r["实际/期望"].tolist() == [1.92, 1.67, 0.4]
    assert r["排名"].tolist() == [1, 2, 3]
    assert r["按数量排名"].tolist() == [1, 3, 2]
    assert r["单位类型"].tolist() == ["镇街", "镇街", "部门"]
    assert r["监管企业数"].tolist() == [100.0, 50.0, 200.0]


def test_source_table_by_unit_type_and_in_total(march):
    s = A.source_table(march).set_index("单位类型")
    # March: towns 4+3 by departments, 1+1 by enterprises; 丙局 5 and 1
    assert s.loc["镇街", ["部门检查发现", "企业自查发现", "合计", "企业自查占比(%)"]].tolist() == \
        [7, 2, 9, 22.22]
    assert s.loc["部门", ["部门检查发现", "企业自查发现", "合计", "企业自查占比(%)"]].tolist() == \
        [5, 1, 6, 16.67]
    assert s.loc["合计", ["部门检查发现", "企业自查发现", "合计", "企业自查占比(%)"]].tolist() == \
        [12, 3, 15, 20.0]


def test_sector_tables_shares_zeros_and_concentration(march):
    t = A.sector_table(march).set_index("sector")
    assert t.loc[["工贸", "消防", "建筑施工"], "found"].tolist() == [7, 6, 2]
    assert t.loc[["工贸", "消防", "建筑施工"], "share"].round(4).tolist() == [0.4667, 0.4, 0.1333]
    assert t["found"].sum() == 15 and (t.drop(index=["工贸", "消防", "建筑施工"])["found"] == 0).all()
    s = A.sector_summary(march).iloc[0]
    assert s["重大事故隐患合计"] == 15 and s["占比最高的两个行业领域"] == "工贸、消防"
    assert s["两者合计占比(%)"] == 86.7
    assert s["集中度HHI"] == round((7 ** 2 + 6 ** 2 + 2 ** 2) / 15 ** 2, 3)   # 0.396
    assert "工贸" not in s["为0的行业领域"] and "矿山" in s["为0的行业领域"]


def test_rejects_table_counts_rows_per_file_and_reason(march):
    r = A.rejects_table(march)
    assert r.values.tolist() == [["a.csv", "数值无法识别", 2], ["b.xlsx", "缺少单位", 1]]


def test_headline_and_summary(march):
    f = march.findings
    alerts, warnings = int((f["severity"] == "alert").sum()), int((f["severity"] == "warning").sum())
    assert A.headline(march) == (
        "2024年3月，3个单位报送调度数据，共排查重大事故隐患15项（上期5项，增加10项），整改13项。"
        f"各项检查共发现预警{alerts}条、关注{warnings}条，详见以下各节及附表。")
    s = A.summary(march)
    assert (s["units_reporting"], s["hazards_found"], s["months"]) == (3, 15.0, ["2024-03"])
    assert s["findings_total"] == len(f) and s["alerts_total"] == alerts


def test_findings_table_filters_by_family_and_check(march):
    rows = pd.DataFrame([dict(check="zero_report", unit="乙镇", severity="alert", message="m1"),
                         dict(check="surge", unit="甲镇", severity="warning", message="m2"),
                         dict(check="low_outlier", unit="丙局", severity="info", message="m3")])
    a = A.Assessment(dataset=march.dataset, panel=march.panel, period="2024-03", level="month",
                     findings=make_findings(rows), funnel=march.funnel)
    assert A.findings_table(a, family="outliers")["单位"].tolist() == ["乙镇", "丙局"]
    assert A.findings_table(a, checks=["surge"])["说明"].tolist() == ["m2"]


# ------------------------------------------------------------------ at the edges
@pytest.fixture(scope="module")
def february():
    return A.assess_dataset(_dataset(), "2024-02", "month")


def test_progress_table_of_a_period_that_is_not_the_last(february):
    t = A.progress_table(february)
    assert list(t.columns) == ["行动", "指标", "计量单位", "本期", "上期", "增减", "增幅(%)", "累计"]
    t = t.set_index("指标")
    cols = ["本期", "上期", "增减", "增幅(%)", "累计"]
    # found: Feb 3+0+2 = 5 against Jan 2+1+0 = 3: +2, 66.7 %; to date 8 (not March's 23)
    assert t.loc["重大事故隐患排查数", cols].tolist() == [5, 3, 2, 66.7, 8]
    # sessions: Feb 1+1 = 2 against Jan 1+0 = 1: +100 %
    assert t.loc["主要负责人安全教育培训场次", cols].tolist() == [2, 1, 1, 100.0, 3]
    # self-reported: Feb 1 against Jan 0: no growth rate on 0
    row = t.loc["企业自查发现重大事故隐患", cols]
    assert row[["本期", "上期", "增减", "累计"]].tolist() == [1, 0, 1, 1] and np.isnan(row["增幅(%)"])




def test_ranking_table_ties_and_a_unit_without_expectation(march):
    funnel = pd.DataFrame({
        "unit": ["丁", "丙", "乙", "甲"], "unit_type": ["town", "department", "town", "town"],
        "observed": [10.0, 10.0, 6.0, 10.0], "exposure": [np.nan, 80.0, 40.0, 100.0],
        "expected": [np.nan, 12.25, 3.0, 5.2345], "ratio": [np.nan, 0.8163, 2.0, 1.9104],
        "z": [np.nan, -0.5, 1.234, 1.234]})
    r = A.ranking_table(replace(march, funnel=funnel))
    assert list(r.columns) == ["排名", "单位", "单位类型", "排查数", "监管企业数", "期望值",
                               "实际/期望", "偏离度z", "按数量排名"]
    # by z, then by count: 甲 and 乙 tie on z (both rank 1, 甲 first with more hazards);
    # 丁 has no expectation: unranked, last
    assert r["单位"].tolist() == ["甲", "乙", "丙", "丁"]
    assert r["排名"].tolist()[:3] == [1, 1, 3] and pd.isna(r["排名"].iloc[3])
    assert r["按数量排名"].tolist() == [1, 4, 1, 1]  # 10, 6, 10, 10: the three 10s share 1
    assert r["期望值"].tolist()[:3] == [5.2, 3.0, 12.2]
    assert r["偏离度z"].tolist()[:3] == [1.23, 1.23, -0.5]
    assert r["实际/期望"].tolist()[:3] == [1.91, 2.0, 0.82]


def test_findings_table_is_indexed_from_zero(march):
    rows = pd.DataFrame([dict(check="surge", unit="甲镇", severity="warning", message="m1"),
                         dict(check="zero_report", unit="乙镇", severity="alert", message="m2")])
    a = A.Assessment(dataset=march.dataset, panel=march.panel, period="2024-03", level="month",
                     findings=make_findings(rows), funnel=march.funnel)
    t = A.findings_table(a, family="outliers")
    assert list(t.index) == [0] and "index" not in t.columns and t["说明"].tolist() == ["m2"]


def test_sector_tables_of_a_period_without_ledger_counts(february):
    t = A.sector_table(february)
    assert list(t.columns) == ["sector", "found", "share"] and len(t) == 0
    assert t["found"].dtype == "float64" and t["share"].dtype == "float64"
    assert A.sector_summary(february).empty


def test_a_unit_without_type_is_other_in_the_source_table_and_untyped_in_the_ranking():
    ds = _dataset()
    extra = pd.DataFrame({"unit": "戊站", "unit_type": None, "period": "2024-03",
                          "indicator": ["major_hazards_found", "major_hazards_found_dept",
                                        "major_hazards_found_enterprise"],
                          "value": [1.0, 1.0, 0.0], "parent": "区"})
    ds.panel = pd.concat([ds.panel, extra], ignore_index=True)
    ds.exposure = pd.concat([ds.exposure, pd.DataFrame({"unit": ["戊站"], "sector": [""],
                                                        "enterprises": [10.0]})])
    a = A.assess_dataset(ds, "2024-03", "month")
    s = A.source_table(a)
    assert s["单位类型"].tolist() == ["部门", "镇街", "其他", "合计"]  # never "nan"
    s = s.set_index("单位类型")
    cols = ["部门检查发现", "企业自查发现", "合计", "企业自查占比(%)"]
    # 戊站: 1 found by departments, none self-reported: 0 %
    assert s.loc["其他", cols].tolist() == [1, 0, 1, 0.0]
    # total: 7+5+1 by departments, 3 by enterprises, 16 in all: 18.75 %
    assert s.loc["合计", cols].tolist() == [13, 3, 16, 18.75]
    r = A.ranking_table(a).set_index("单位")
    assert r.loc["戊站", "单位类型"] == "" and r.loc["甲镇", "单位类型"] == "镇街"


def test_rejects_table_without_rejects_and_with_a_reason_missing(march):
    for none in (None, march.dataset.rejects.iloc[:0]):
        empty = A.rejects_table(replace(march, dataset=replace(march.dataset, rejects=none)))
        assert list(empty.columns) == ["文件", "原因", "行数"] and len(empty) == 0
    rejects = pd.concat([march.dataset.rejects, march.dataset.rejects.iloc[[2]].assign(reason=None)],
                        ignore_index=True)
    r = A.rejects_table(replace(march, dataset=replace(march.dataset, rejects=rejects)))
    assert list(r.columns) == ["文件", "原因", "行数"]
    # every reject is counted, the one without a reason too
    assert r["行数"].sum() == 4 and r["行数"].tolist() == [2, 1, 1]


def _small(findings=None):
    """A and B: found Jan 5 (A), Feb 2 (A) and 4 (B); A rectified 1 in February."""
    frame = pd.DataFrame([("A", "town", "2024-01", "major_hazards_found", 5.0),
                          ("A", "town", "2024-02", "major_hazards_found", 2.0),
                          ("A", "town", "2024-02", "major_hazards_rectified", 1.0),
                          ("B", "town", "2024-02", "major_hazards_found", 4.0)],
                         columns=["unit", "unit_type", "period", "indicator", "value"])
    f = empty_findings() if findings is None else make_findings(pd.DataFrame(findings))
    return A.Assessment(dataset=Dataset(panel=frame), panel=as_panel(frame), period="2024-02",
                        level="month", findings=f, funnel=pd.DataFrame())


def test_reporting_units_and_period_totals_of_other_periods():
    a = _small()
    assert A.sections.reporting_units(a).tolist() == [True, True]
    # January: only A reported
    assert A.sections.reporting_units(a, "2024-01").tolist() == [True, False]
    none = A.sections.reporting_units(a, "2023-12")
    assert none.dtype == bool and none.tolist() == [False, False]
    total = A.sections.period_total
    assert total(a, "major_hazards_found") == 6 and total(a, "major_hazards_found", "2024-01") == 5
    # the first indicator of the panel (major_hazards_found sorts first) is a figure too
    assert a.panel.indicators[0] == "major_hazards_found"
    # no figure of it in January, no such period, no such indicator: NaN, not 0
    assert np.isnan(total(a, "major_hazards_rectified", "2024-01"))
    assert np.isnan(total(a, "major_hazards_found", "2023-12"))
    assert np.isnan(total(a, "drills"))


def test_headline_with_a_decrease_and_the_count_of_alerts_and_warnings():
    a = _small([dict(check="zero_report", unit="A", severity="alert", message="m"),
                dict(check="surge", unit="B", severity="warning", message="m"),
                dict(check="surge", unit="A", severity="warning", message="m"),
                dict(check="low_outlier", unit="B", severity="info", message="m")])
    # February 2 + 4 = 6 against January's 5: up 1; one alert, two warnings
    assert A.headline(a) == (
        "2024年2月，2个单位报送调度数据，共排查重大事故隐患6项（上期5项，增加1项），整改1项。"
        "各项检查共发现预警1条、关注2条，详见以下各节及附表。")
    frame = a.panel.to_frame()
    frame.loc[frame["period"] == "2024-01", "value"] = 9.0
    down = replace(a, panel=as_panel(frame))
    assert "（上期9项，减少3项）" in A.headline(down)  # 6 against 9


def test_summary_counts_every_check_and_the_alerts():
    a = _small([dict(check="zero_report", unit="A", severity="alert", message="m"),
                dict(check="low_outlier", unit="B", severity="alert", message="m"),
                dict(check="low_outlier", unit="A", severity="info", message="m"),
                dict(check="not_reported", unit="C", severity="warning", message="m")])
    s = A.summary(a)
    assert list(s) == ["period", "period_zh", "level", "months", "units_reporting",
                       "key_indicator", "hazards_found", "not_judged", "findings_total",
                       "alerts_total", "findings_per_check", "alerts_per_check", "thresholds",
                       "key_indicator_total", "bundled_data", "provenance", "generated"]
    assert (s["period"], s["period_zh"], s["level"], s["months"]) == (
        "2024-02", "2024年2月", "month", ["2024-02"])
    assert (s["units_reporting"], s["hazards_found"], s["findings_total"], s["alerts_total"]) == \
        (2, 6.0, 4, 2)
    # every check of the catalogue, 0 where it found nothing, and the reporting check
    every = sorted(set(CHECK_FAMILIES) | {"not_reported"})
    assert list(s["findings_per_check"]) == every and list(s["alerts_per_check"]) == every
    assert {k: v for k, v in s["findings_per_check"].items() if v} == {
        "zero_report": 1, "low_outlier": 2, "not_reported": 1}
    assert {k: v for k, v in s["alerts_per_check"].items() if v} == {
        "zero_report": 1, "low_outlier": 1}
    assert s["thresholds"] == {}


def _heatmap_assessment():
    """Found in January and February: 甲 9+9 = 18, 乙 1+1 = 2, 丙 5+6 = 11, 丁 4+4 = 8;
    戊 only drills; 己 only in March (after the period assessed)."""
    rows = [(u, "town", p, "major_hazards_found", float(v))
            for u, vals in (("甲", (9, 9)), ("乙", (1, 1)), ("丙", (5, 6)), ("丁", (4, 4)))
            for p, v in zip(("2024-01", "2024-02"), vals)]
    rows += [("戊", "town", "2024-02", "drills", 3.0),
             ("己", "town", "2024-03", "major_hazards_found", 50.0)]
    frame = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    findings = make_findings(pd.DataFrame([
        dict(check="identical_values", unit="丙", severity="info", message="m"),
        dict(check="repeated_value", unit="乙", severity="warning", message="m"),
        dict(check="pinned_rate", unit="丁", severity="alert", message="m"),
        dict(check="last_digit", unit="乙", severity="warning", message="m"),
        dict(check="benford", unit=None, severity="alert", message="m"),      # no unit
        dict(check="low_outlier", unit="甲", severity="alert", message="m"),  # outliers
    ]))
    return A.Assessment(dataset=Dataset(panel=frame), panel=as_panel(frame), period="2024-02",
                        level="month", findings=findings, funnel=pd.DataFrame())


def test_heatmap_units_flagged_by_severity_then_by_total_to_date():
    a = _heatmap_assessment()
    # balance findings with a unit, most severe first (丁 alert, 乙 warning, 丙 info);
    # then the largest totals to February of the others: 甲 18 (己's 50 is in March,
    # 戊 has no hazard figure)
    assert A.heatmap_units(a) == (["丁", "乙", "丙", "甲"], ["丁", "乙", "丙"])
    assert A.heatmap_units(a, max_units=2) == (["丁", "乙"], ["丁", "乙"])
    assert A.heatmap_units(a, family="outliers") == (["甲", "丙", "丁", "乙"], ["甲"])
    assert A.heatmap_units(a, indicator="drills") == (["丁", "乙", "丙", "戊"], ["丁", "乙", "丙"])


def test_top_unit_is_the_first_unit_named_by_a_check():
    a = _heatmap_assessment()
    assert A.top_unit(a, "repeated_value") == "乙" and A.top_unit(a, "pinned_rate") == "丁"
    assert A.top_unit(a, "benford") is None and A.top_unit(a, "surge") is None


def test_history_stops_at_the_period_assessed():
    a = _heatmap_assessment()
    h = A.history(a, "major_hazards_found")
    assert list(h.columns) == ["unit", "unit_type", "parent", "period", "indicator", "value",
                               "approx"]
    assert list(h.index) == list(range(8)) and set(h["period"]) == {"2024-01", "2024-02"}
    assert h["value"].sum() == 39.0   # 18 + 2 + 11 + 8; 己's March 50 left out
    every = A.history(a)
    assert len(every) == 9 and every.loc[every["indicator"] == "drills", "unit"].tolist() == ["戊"]
    january = replace(a, period="2024-01")
    assert A.history(january)["value"].sum() == 19.0   # 9 + 1 + 5 + 4


def test_heatmap_units_keep_the_table_order_within_a_severity_and_names_within_a_total():
    # 24 units U00…U23 found i mod 3 in February; the first 18 flagged by balance
    # findings, alert and warning in turn
    units = [f"U{i:02d}" for i in range(24)]
    frame = pd.DataFrame({"unit": units, "unit_type": "town", "period": "2024-02",
                          "indicator": "major_hazards_found",
                          "value": [float(i % 3) for i in range(24)]})
    findings = make_findings(pd.DataFrame([
        dict(check="repeated_value", unit=u, severity=("alert", "warning")[i % 2], message="m")
        for i, u in enumerate(units[:18])]))
    a = A.Assessment(dataset=Dataset(panel=frame), panel=as_panel(frame), period="2024-02",
                     level="month", findings=findings, funnel=pd.DataFrame())
    rows, flagged = A.heatmap_units(a)
    # the alerts in the table's order, then the warnings in the table's order
    assert flagged == units[0:18:2] + units[1:18:2]
    # the others by total (U20 and U23: 2; U19, U22: 1; U18, U21: 0), ties by name
    assert rows == flagged + ["U20", "U23", "U19", "U22", "U18", "U21"]
