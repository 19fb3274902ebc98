"""The 简报 that opens the report (issue 18, part 6), on a hand-made district whose
figures are worked out in the comments; the labels 本期 / 累计; how tables show text,
percentages and p-values; 提示 rows kept out of the main tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anquan_analysis import assessment as A
from anquan_analysis.dataset import Dataset

# unit: (type, {month: (found, rectified)}); rectified not given in 2023
FIGURES = {
    "甲镇": ("town", {"2023-03": (4, None), "2024-02": (3, 3), "2024-03": (5, 4)}),
    "乙镇": ("town", {"2023-03": (2, None), "2024-02": (0, 0), "2024-03": (4, 3)}),
    "丙局": ("department", {"2023-03": (2, None), "2024-02": (2, 2), "2024-03": (6, 6)}),
    "丁局": ("department", {"2024-02": (0, 0), "2024-03": (0, 0)}),
}


def _dataset() -> Dataset:
    rows = []
    for unit, (kind, months) in FIGURES.items():
        for month, (found, rect) in months.items():
            rows.append((unit, kind, month, "major_hazards_found", float(found)))
            if rect is not None:
                rows.append((unit, kind, month, "major_hazards_rectified", float(rect)))
    panel = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    panel = panel.assign(parent="区", approx=False, source_file="t.csv", source_sheet=None,
                         source_row=range(2, len(panel) + 2))
    exposure = pd.DataFrame({"unit": list(FIGURES), "sector": "",
                             "enterprises": [100.0, 50.0, 200.0, 80.0]})
    return Dataset(panel=panel, exposure=exposure)


@pytest.fixture(scope="module")
def march():
    return A.assess_dataset(_dataset(), "2024-03", "month")


def test_labels_say_the_period_and_the_window(march):
    assert A.label(march, "本期") == "本期（2024年3月）"
    # the data begin in March 2023: the campaign to date runs across the year
    assert A.label(march, "累计") == "累计（2023年3月—2024年3月）"
    feb = A.assess_dataset(_dataset().__class__(panel=_dataset().panel.query(
        "period >= '2024-01'")), "2024-03", "month")
    assert A.window_text(feb) == "2—3月"
    with pytest.raises(ValueError, match="本期 or 累计"):
        A.label(march, "上期")


def test_totals_with_month_on_month_and_year_on_year(march):
    t = A.brief_totals(march).set_index("指标")
    assert list(t.columns) == ["计量单位", "本期", "上期", "环比(%)", "去年同期", "同比(%)",
                               "累计（2023年3月—2024年3月）"]
    # found: Mar 2024 5+4+6+0 = 15; Feb 3+0+2+0 = 5 (+200 %); Mar 2023 4+2+2 = 8
    # (+87.5 %); to date 8 + 5 + 15 = 28
    assert t.loc["重大事故隐患排查数", ["本期", "上期", "环比(%)", "去年同期", "同比(%)"]].tolist() \
        == [15, 5, 200.0, 8, 87.5]
    assert t.loc["重大事故隐患排查数", "累计（2023年3月—2024年3月）"] == 28
    # rectified: 13 against 5 (+160 %); no figure in March 2023: no 同比, not 0
    rect = t.loc["重大事故隐患整改数"]
    assert (rect["本期"], rect["上期"], rect["环比(%)"]) == (13, 5, 160.0)
    assert np.isnan(rect["去年同期"]) and np.isnan(rect["同比(%)"])
    assert A.totals_note(march) == "上期为2024年2月，去年同期为2023年3月。"


def test_without_last_year_there_is_no_yoy_column_and_the_note_says_so():
    ds = _dataset()
    a = A.assess_dataset(Dataset(panel=ds.panel.query("period >= '2024-01'"),
                                 exposure=ds.exposure), "2024-03", "month")
    assert "同比(%)" not in A.brief_totals(a).columns
    assert A.totals_note(a) == "上期为2024年2月；数据中没有2023年3月（去年同期）的数据，未计算同比。"


def test_ranking_as_the_bulletins_list_it_beside_the_adjusted_one(march):
    assert A.unit_counts(march, cumulative=False).to_dict() == {
        "丙局": 6, "甲镇": 5, "乙镇": 4, "丁局": 0}
    # to date: 甲镇 4+3+5 = 12, 丙局 2+2+6 = 10, 乙镇 2+0+4 = 6, 丁局 0
    assert A.unit_counts(march, cumulative=True).to_dict() == {
        "甲镇": 12, "丙局": 10, "乙镇": 6, "丁局": 0}
    assert A.ranking_sentence(march) == (
        "以重大事故隐患排查数作对比，本期排名靠前的丙局6项、甲镇5项、乙镇4项，为0的有丁局。")
    r = A.brief_ranking(march)
    cum = "累计（2023年3月—2024年3月）"
    assert r["位次"].tolist() == ["第1位", "第2位", "倒数第2位", "倒数第1位"]
    assert r["按数量·本期"].tolist() == ["丙局 6项", "甲镇 5项", "乙镇 4项", "丁局 0项"]
    assert r[f"按数量·{cum}"].tolist() == ["甲镇 12项", "丙局 10项", "乙镇 6项", "丁局 0项"]
    adjusted = r[f"按监管企业数校正·{cum}"]
    assert adjusted.str.contains("应约").all()


def test_units_tied_at_the_bottom_are_one_cell(march):
    ds = _dataset()
    extra = pd.DataFrame([("戊局", "department", m, "major_hazards_found", 0.0)
                          for m in ("2024-02", "2024-03")],
                         columns=["unit", "unit_type", "period", "indicator", "value"])
    panel = pd.concat([ds.panel, extra.assign(parent="区", approx=False, source_file="t.csv",
                                              source_sheet=None, source_row=99)],
                      ignore_index=True)
    a = A.assess_dataset(Dataset(panel=panel, exposure=ds.exposure), "2024-03", "month")
    r = A.brief_ranking(a)
    assert r["按数量·本期"].tolist() == ["丙局 6项", "甲镇 5项", "乙镇 4项", "丁局等2个单位 0项"]
    assert A.ranking_sentence(a).endswith("为0的有丁局、戊局。")


def test_not_reported_from_the_roster(march):
    assert A.not_reported_text(march) == "数据文件夹中没有单位名册（单位名册.csv），无法判断未报送的单位。"
    roster = pd.DataFrame({"unit": [*FIGURES, "戊镇"],
                           "unit_type": ["town", "town", "department", "department", "town"]})
    a = A.assess_dataset(_dataset(), "2024-03", "month", roster=roster)
    assert A.not_reported_text(a) == "本期未报送调度数据的单位1个：戊镇。"
    a = A.assess_dataset(_dataset(), "2024-03", "month", roster=roster.iloc[:4])
    assert A.not_reported_text(a) == "单位名册所列4个单位本期均已报送。"


def test_problem_points_are_the_draft_paragraph_by_paragraph(march):
    from anquan_analysis.draft import draft_problems

    points = A.problem_points(march)
    whole = draft_problems(march.findings, period=march.period, label=march.period_zh,
                           unmet=march.unmet)
    assert "".join(points) == whole


def test_table_style_aligns_text_and_writes_percentages_and_p_values():
    t = pd.DataFrame({"单位": ["区住房城乡建委", "甲镇"], "说明": ["很长的一句说明" * 4, "短"],
                      "增幅(%)": [25.0, 60.9], "p值": [0.0004, 0.0421], "本期": [7.0, 12.0]})
    html = A.table_style(t, caption="本期（2024年第三季度）").to_html()
    assert ">25.0<" in html and ">60.9<" in html and ">25<" not in html
    assert ">&lt;0.001<" in html and ">0.042<" in html
    assert ">7<" in html and ">12<" in html
    assert "本期（2024年第三季度）</caption>" in html
    css = html[:html.index("</style>")]
    assert css.count("text-align: left") == 3          # 单位, 说明 and the caption
    assert "white-space: nowrap" in css and "min-width: 16em" in css
    assert A.p_text(0.0009) == "<0.001" and A.p_text(0.5) == "0.500"


def test_main_tables_leave_info_rows_and_p_values_to_the_appendix():
    from anquan_analysis.findings import make_findings
    from anquan_analysis.panel import as_panel

    frame = _dataset().panel
    f = make_findings(pd.DataFrame([
        dict(check="low_outlier", unit="乙镇", period="2024-03", indicator="major_hazards_found",
             observed=4, expected=9.0, p_value=0.004, q_value=0.01, severity="warning",
             message="乙镇，截至2024-03累计偏低（p=0.004），应约为9项，p=5.7e-04。"),
        dict(check="low_outlier", unit="丁局", period="2024-03", indicator="major_hazards_found",
             observed=0, expected=1.0, p_value=0.4, q_value=0.6, severity="info",
             message="丁局，偏低。"),
    ]))
    a = A.Assessment(dataset=Dataset(panel=frame), panel=as_panel(frame), period="2024-03",
                     level="month", findings=f, funnel=pd.DataFrame())
    table, n_info = A.main_findings_table(a, family="outliers")
    assert n_info == 1 and table["单位"].tolist() == ["乙镇"]
    assert not {"p值", "q值", "统计量"} & set(table.columns)
    assert table["说明"].tolist() == ["乙镇，截至2024-03累计偏低，应约为9项。"]
    assert len(A.findings_table(a)) == 2 and "p值" in A.findings_table(a).columns


def test_reconciliation_puts_what_disagrees_first_and_shows_no_negative_zero():
    from anquan_analysis.panel import as_panel

    frame = _dataset().panel
    rc = pd.DataFrame([
        ("/d/7月.xlsx", "S", 54, "2024-03", "fines", 0.3, 0.1 + 0.2, 0.3 - (0.1 + 0.2), "ok"),
        ("/d/7月.xlsx", "S", 54, "2024-03", "major_hazards_found", 16.0, 15.0, 1.0, "mismatch"),
        ("/d/7月.xlsx", "S", 54, "2024-03", "major_hazards_rectified", 13.0, 13.0, 0.0, "ok"),
    ], columns=["file", "sheet", "row", "period", "indicator", "stated", "sum_of_units",
                "difference", "status"])
    assert rc["difference"].iloc[0] < 0       # floating point: 0.3 - (0.1 + 0.2) is -5.6e-17
    a = A.Assessment(dataset=Dataset(panel=frame, reconciliation=rc), panel=as_panel(frame),
                     period="2024-03", level="month", findings=march_findings(),
                     funnel=pd.DataFrame())
    t = A.reconciliation_table(a)
    assert t["指标"].tolist() == ["重大事故隐患排查数", "罚款", "重大事故隐患整改数"]
    assert t["差额"].tolist() == [1.0, 0.0, 0.0]
    assert str(np.copysign(1, t["差额"].iloc[1])) == "1.0"   # +0, never -0.00


def march_findings():
    from anquan_analysis.findings import empty_findings

    return empty_findings()
