"""What the report says when the data lack something (issue 16), each case built by
hand as an office would type it, and the exact sentence the report prints: no
exposure, one period, no key indicator, blanks, a 合计 row with a split, the first
累计 period; and the pieces behind them (the checks' needs, findings over every finding
count, ingest's findings, aliases that belong to a dataset)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anquan_analysis import assessment as A
from anquan_analysis import config
from anquan_analysis.aliases import (dataset_alias_table, default_alias_table, likely_aliases,
                                     more_than_affixes)
from anquan_analysis.checks import NEEDS, CHECKS, unmet_needs, unmet_text
from anquan_analysis.checks import balance, outliers
from anquan_analysis.checks._stats import bh_adjust
from anquan_analysis.draft import draft_problems, key_problems
from anquan_analysis.errors import InputError
from anquan_analysis.ingest import ingest
from anquan_analysis.ingest_findings import ingest_findings

HEAD = "单位,单位类型,上级,期间,口径"
ONE_PERIOD = "突击上报需至少4期数据（截至本期仅1期）；整体阶跃需至少8期数据（截至本期仅1期），本节从略。"
NO_EXPOSURE = "按同类单位平均水平比较（未提供监管企业数）"


def _assess(tmp_path, text: str, period: str, level: str = "month", files=None):
    """Write ``text`` as reports.csv (and ``files``: {name: text}) in a data folder
    and assess ``period`` as ``anquan assess`` does."""
    folder = tmp_path / "data"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reports.csv").write_text(text, encoding="utf-8")
    for name, body in (files or {}).items():
        (folder / name).write_text(body, encoding="utf-8")
    return A.run_assessment(folder, period, level)


# eight departments, one of them far above the rest (巴南's 区应急局), one month
DEPARTMENTS = [("区应急局", 46), ("区住建委", 3), ("区交通局", 3), ("区水利局", 2), ("区林业局", 2),
               ("区商务委", 2), ("区教委", 1), ("区民政局", 0)]


def _departments(big: int = 46) -> str:
    rows = [f"{u},部门,某区,2024-05,当期,{big if u == '区应急局' else n}" for u, n in DEPARTMENTS]
    return "\n".join([f"{HEAD},重大事故隐患排查数"] + rows) + "\n"


# ------------------------------------------------------------------- no exposure
def test_no_exposure_compares_with_the_peers_median_and_says_so(tmp_path):
    a = _assess(tmp_path, _departments(), "2024-05")
    assert not a.has_exposure
    assert A.ranking_intro(a).startswith(NO_EXPOSURE + "：各单位的期望重大事故隐患排查数取同类单位的中位数")
    assert "监管企业数" not in A.ranking_table(a).columns
    # the median of 0, 1, 2, 2, 2, 3, 3, 46 is 2 for every department (by hand), not the
    # mean 7.4 that 区应急局's 46 sets
    assert a.funnel["expected"].tolist() == pytest.approx([2.0] * 8)
    assert A.ranking_title(a) == "与同类单位中位水平比较的排名（前10位与后10位）"


def test_no_exposure_one_dominant_unit_does_not_move_the_others(tmp_path):
    one = _assess(tmp_path / "a", _departments(46), "2024-05")
    big = _assess(tmp_path / "b", _departments(460), "2024-05")
    assert one.funnel["expected"].tolist() == big.funnel["expected"].tolist()


def test_with_exposure_the_ranking_rests_on_enterprises(tmp_path):
    exposure = "单位,监管企业数\n" + "\n".join(f"{u},{10 + i}" for i, (u, _) in enumerate(DEPARTMENTS))
    a = _assess(tmp_path, _departments(), "2024-05", files={"exposure.csv": exposure + "\n"})
    assert a.has_exposure and A.ranking_intro(a).startswith("按监管企业数推算各单位的期望重大事故隐患排查数")
    assert "监管企业数" in A.ranking_table(a).columns


# -------------------------------------------------------------------- one period
def test_one_period_says_what_needs_history(tmp_path):
    text = (f"{HEAD},重大事故隐患排查数,重大事故隐患整改数\n"
            + "".join(f"单位{i},镇街,某区,2024-05,当期,{n},{n if i < 3 else n - 1}\n"
                      for i, n in enumerate([20, 12, 15, 9, 14, 11])))
    a = _assess(tmp_path, text, "2024-05")
    assert A.section_note(a, "trends") == ONE_PERIOD
    assert A.section_note(a, "balance") == (
        "数据过于均衡、数据相互一致需至少6期数据（截至本期仅1期）；逐月数据不变需至少3期数据（截至本期仅1期），"
        "未作判断。")
    draft = draft_problems(a.findings, period=a.period, label=a.period_zh, unmet=a.unmet)
    assert draft.endswith("突击上报需至少4期数据（截至本期仅1期）；整体阶跃需至少8期数据（截至本期仅1期）；"
                          "数据过于均衡、数据相互一致需至少6期数据（截至本期仅1期）；逐月数据不变需至少3期数据"
                          "（截至本期仅1期），未作判断。")
    assert "长期" not in draft and "未发现突击上报" not in draft and "各期" not in draft
    assert key_problems(a.findings, period=a.period, unmet=a.unmet) == \
        "本期调度数据已开展的各项检查未发现需要重点关注的问题。"
    # a rectification rate pinned in one period is "为100%", never 长期 or 各期
    pinned = balance.pinned_rate(a.panel, period="2024-05", info_p=1.0, model="binomial")
    for m in pinned["message"]:
        assert "整改率为100%" in m and "各期" not in m and "至" not in m.split("重大")[0]


def test_the_draft_never_says_long_term(tmp_path):
    from anquan_analysis.findings import CHECK_ZH

    assert "长期" not in "".join(CHECK_ZH.values())


# ------------------------------------------------------------- no key indicator
def test_no_finding_count_at_all(tmp_path):
    text = (f"{HEAD},生产安全事故,死亡人数\n甲区,县区,某市,2020-07,累计,4,3\n"
            "乙区,县区,某市,2020-07,累计,0,0\n合计,,某市,2020-07,累计,4,3\n")
    a = _assess(tmp_path, text, "2020-07")
    assert a.key_indicator is None and a.funnel.empty
    missing = "本期数据未包含重大事故隐患排查数、一般隐患排查数、火灾隐患排查数，本节从略。"
    assert A.section_note(a, "ranking") == missing
    assert A.section_note(a, "outliers") == "排查数显著偏低、零报送：" + missing
    assert A.headline(a).startswith(
        "2020年1—7月累计，2个单位报送调度数据（本期数据未包含重大事故隐患排查数、一般隐患排查数、"
        "火灾隐患排查数）。")
    assert A.heatmap_units(a) == ([], [])


def test_the_settings_name_a_key_indicator_the_data_lack(tmp_path):
    text = (f"{HEAD},一般隐患排查数\n" + "".join(f"单位{i},镇街,某区,2024-05,当期,{n}\n"
                                              for i, n in enumerate([3, 0, 5, 2, 0, 4])))
    a = _assess(tmp_path, text, "2024-05",
                files={"anquan.toml": 'key_indicator = "重大事故隐患排查数"\n'})
    assert a.key_indicator == "major_hazards_found"
    assert A.section_note(a, "ranking") == "本期数据未包含重大事故隐患排查数，本节从略。"
    # without the setting the key comes from the data: general hazards
    b = _assess(tmp_path / "plain", text, "2024-05")
    assert b.key_indicator == "general_hazards_found" and A.section_note(b, "ranking") is None
    assert A.headline(b).startswith("2024年5月，6个单位报送调度数据，共排查一般隐患14项。")


# ------------------------------------------------------------------------ blanks
BLANKS = (f"{HEAD},重大事故隐患排查数,部门检查发现重大事故隐患,企业自查发现重大事故隐患,重大事故隐患整改数\n"
          "甲镇,镇街,某区,2024-05,当期,4,3,1,4\n"
          "乙镇,镇街,某区,2024-05,当期,5,,,\n"
          "丙镇,镇街,某区,2024-05,当期,2,2,0,1\n"
          "合计,,某区,2024-05,当期,11,5,1,\n")


def test_blanks_are_not_zeros_in_shares_rates_and_reconciliation(tmp_path):
    a = _assess(tmp_path, BLANKS, "2024-05")
    src = A.source_table(a).set_index("单位类型")
    # 乙镇 gives no split: the share is over 甲镇 and 丙镇, 1 of 6 (not 1 of 11)
    assert src.loc["合计", ["部门检查发现", "企业自查发现", "合计"]].tolist() == [5, 1, 11]
    assert src.loc["合计", "企业自查占比(%)"] == pytest.approx(16.67)
    rates = A.district_rates(a).set_index(["指标", "来源"])
    # rectified 4 + 1 over the units that give both: found 4 + 2 (乙镇's blank is not 0 rectified)
    assert rates.loc[("重大事故隐患整改率", "各单位之和"), ["分子", "分母"]].tolist() == [5, 6]
    rc = A.reconciliation_table(a).set_index("指标")
    assert rc["说明"].tolist() == ["一致", "一致", "一致"]


def test_a_part_no_unit_gives_is_said_so(tmp_path):
    text = (f"{HEAD},重大事故隐患排查数,部门检查发现重大事故隐患,企业自查发现重大事故隐患\n"
            "甲县,县区,某市,2024-06,当期,10,,\n乙县,县区,某市,2024-06,当期,0,,\n"
            "合计,,某市,2024-06,当期,79,72,7\n")
    a = _assess(tmp_path, text, "2024-06")
    rc = A.reconciliation_table(a)
    assert rc[["指标", "合计行", "说明"]].values.tolist() == [
        ["重大事故隐患排查数", 79, "合计与所列单位之和相差69项，合计可能包含表中未列出的单位，不一定是差错"],
        ["部门检查发现重大事故隐患", 72, "所列单位未报送分项"],
        ["企业自查发现重大事故隐患", 7, "所列单位未报送分项"]]
    assert rc["所列单位之和"].isna().tolist() == [False, True, True]  # blank, not 0
    # the 合计 row's split is the district's figure: 7 / 79 = 8.86 %
    src = A.source_table(a)
    assert src.iloc[-1].tolist() == ["合计（合计行）", 72, 7, 79, pytest.approx(8.86)]
    assert src.loc[src["单位类型"] == "合计", "企业自查占比(%)"].isna().all()
    rates = A.district_rates(a)
    assert rates.values.tolist() == [["企业自查占比", 7, 79, 8.86, "合计行"]]
    # a total larger than its units may count units not listed: info, not an error
    f = a.findings.loc[a.findings["check"] == "total_mismatch"]
    assert f["severity"].tolist() == ["info"]
    assert f["message"].iloc[0] == ("reports.csv第4行重大事故隐患排查数合计79项，所列单位之和10项，"
                                    "合计与所列单位之和相差69项，合计可能包含表中未列出的单位，不一定是差错。")
    assert A.headline(a).startswith("2024年6月，2个单位报送调度数据，共排查重大事故隐患10项（合计行79项）。")


def test_units_above_their_total_are_a_warning_in_the_draft(tmp_path):
    text = (f"{HEAD},重大事故隐患排查数\n甲县,县区,某市,2024-06,当期,331\n乙县,县区,某市,2024-06,当期,300\n"
            "合计,,某市,2024-06,当期,630\n")
    a = _assess(tmp_path, text, "2024-06")
    f = a.findings.loc[a.findings["check"] == "total_mismatch"].iloc[0]
    assert (f["severity"], f["observed"], f["expected"], f["statistic"]) == ("warning", 630, 631, -1)
    draft = draft_problems(a.findings, period=a.period, label=a.period_zh, unmet=a.unmet)
    assert ("从数据质量上看，reports.csv第4行重大事故隐患排查数合计630项，所列单位之和631项，合计与所列"
            "单位之和相差1项，所列单位之和多于合计，需核实是否重复统计或合计有误。") in draft


# ----------------------------------------------------------- the first 累计 period
def test_a_first_cumulative_period_is_labelled_and_warned(tmp_path):
    text = (f"{HEAD},重大事故隐患排查数\n甲县,县区,某市,2024-06,累计,10\n乙县,县区,某市,2024-06,累计,3\n")
    a = _assess(tmp_path, text, "2024-06")
    assert a.period_zh == "2024年1—6月累计"
    assert A.period_note(a) == ("本期数据口径为累计（2024年1—6月累计），且为第一期累计数，无法分出当期数："
                                "以下各节均按累计数评估，不与各月当期数比较。")
    f = a.findings.loc[a.findings["check"] == "cumulative_start"]
    assert f["severity"].tolist() == ["info"] and f["observed"].tolist() == [2]
    q = A.run_assessment(tmp_path / "data", "2024Q2", "quarter")
    assert q.period_zh == "2024年1—6月累计"


def test_a_cumulative_series_from_january_is_its_own_months(tmp_path):
    text = (f"{HEAD},重大事故隐患排查数\n甲县,县区,某市,2024-01,累计,2\n甲县,县区,某市,2024-02,累计,5\n")
    a = _assess(tmp_path, text, "2024-02")
    assert a.period_zh == "2024年2月" and A.period_note(a) == ""
    assert a.dataset.cumulative[["period", "cells", "first_cells"]].values.tolist() == [
        ["2024-01", 1, 0], ["2024-02", 1, 0]]


# ------------------------------------------------------------------- the checks
def test_every_check_states_its_needs():
    assert set(NEEDS) == set(CHECKS)


def test_unmet_needs_follow_the_options(tmp_path):
    a = _assess(tmp_path, _departments(), "2024-05")
    unmet = unmet_needs(a.panel, "2024-05").set_index("check")
    assert unmet.loc["surge", ["need", "required", "available"]].tolist() == ["periods", "4", "1"]
    assert unmet.loc["sector_concentration", "message"] == "本期数据未包含隐患台账"
    assert unmet.loc["pinned_rate", "need"] == "indicator"
    assert "low_outlier" not in unmet.index and "rule_violation" not in unmet.index
    loose = unmet_needs(a.panel, "2024-05", surge={"min_history": 0}).set_index("check")
    assert "surge" not in loose.index
    assert unmet_text(unmet.reset_index(), ["surge", "group_shift"]) == (
        "突击上报需至少4期数据（截至本期仅1期）；整体阶跃需至少8期数据（截至本期仅1期）")


def _two_counts() -> pd.DataFrame:
    rows = []
    for i in range(12):
        rows.append((f"镇{i:02d}", "town", "2024-05", "major_hazards_found", [9, 0, 8, 10, 7, 11, 9, 12, 8, 10, 9, 1][i]))
        rows.append((f"镇{i:02d}", "town", "2024-05", "general_hazards_found", [90, 80, 3, 100, 85, 95, 88, 0, 92, 97, 90, 86][i]))
    return pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])


def test_low_outlier_judges_every_finding_count_with_one_bh():
    panel = _two_counts()
    both = outliers.low_outlier(panel, info_p=1.0, warning=1.0)
    assert set(both["indicator"]) == {"major_hazards_found", "general_hazards_found"}
    one = {c: outliers.low_outlier(panel, indicator=c, info_p=1.0, warning=1.0)
           for c in ("major_hazards_found", "general_hazards_found")}
    # the p-values are each indicator's own; q is BH over the tested units of both
    p = pd.concat([one[c]["p_value"] for c in one], ignore_index=True)
    assert sorted(both["p_value"]) == pytest.approx(sorted(p))
    assert sorted(both["q_value"]) == pytest.approx(sorted(bh_adjust(p.to_numpy())))
    assert outliers.low_outlier(panel, indicator=["major_hazards_found"],
                                info_p=1.0, warning=1.0)["p_value"].tolist() == \
        one["major_hazards_found"]["p_value"].tolist()


def test_pinned_rate_when_every_unit_is_at_100_percent():
    rows = [(f"单位{i}", "county", "2023-12", code, n)
            for i, n in enumerate([32069, 21981, 43774, 922])
            for code in ("general_hazards_found", "general_hazards_rectified")]
    f = balance.pinned_rate(pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator",
                                                        "value"]), period="2023-12")
    assert len(f) == 1 and pd.isna(f["unit"].iloc[0])
    assert (f["severity"].iloc[0], f["statistic"].iloc[0]) == ("warning", 4)
    assert f["message"].iloc[0] == ("全部4个单位2023-12一般隐患排查数共98746项，一般隐患整改数98746项，"
                                    "每个单位的整改率均为100%，没有整改率低于100%的单位可作比较，"
                                    "需核实整改是否真实到位。")


def test_zero_report_group_row_only_where_units_cannot_be_judged():
    rows = [(f"单位{i}", "department", "2020-10", "general_hazards_found", v)
            for i, v in enumerate([1, 7] + [0] * 6)]
    panel = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    f = outliers.zero_report(panel, period="2020-10")
    group = f.loc[f["unit"].isna()]
    assert group["message"].tolist() == ["8个单位中6个2020-10一般隐患排查数报送为0，仅单位0、单位1"
                                         "2个单位报送了一般隐患排查数。"]
    assert (f.loc[f["unit"].notna(), "severity"] == "info").all()
    assert f.loc[f["unit"].notna(), "message"].iloc[0].endswith("，同类单位一般水平亦为0，未作比较。")
    exposure = pd.DataFrame({"unit": [f"单位{i}" for i in range(8)], "sector": "",
                             "enterprises": 10.0})
    judged = outliers.zero_report(panel, period="2020-10", exposure=exposure)
    assert judged["unit"].notna().all()  # with exposure each unit is judged on its own


# -------------------------------------------------------------- ingest's findings
def test_rejected_rows_become_findings(tmp_path):
    (tmp_path / "r.csv").write_text(f"{HEAD},重大事故隐患排查数\n甲镇,镇街,某区,2024-05,当期,-3\n"
                                    "乙镇,镇街,某区,2024-05,当期,2\n", encoding="utf-8")
    ds = ingest(tmp_path / "r.csv", aliases=None)
    f = ingest_findings(ds, "2024-05")
    rej = f.loc[f["check"] == "rejected_rows"]
    assert rej["severity"].tolist() == ["warning"] and rej["observed"].tolist() == [1]
    assert rej["message"].iloc[0].startswith("r.csv第2行有1处数据未读入：")
    assert set(f["family"]) == {"consistency"}


# ---------------------------------------------------------------------- aliases
def test_the_bundled_aliases_belong_to_the_bundled_sample(tmp_path):
    assert dataset_alias_table(config.SYNTH_DIR) == default_alias_table()
    assert dataset_alias_table(tmp_path) is None
    (tmp_path / "r.csv").write_text(f"{HEAD},一般隐患排查数\n区人社局,部门,大通区,2020-10,当期,0\n"
                                    "区卫健委,部门,大通区,2020-10,当期,0\n", encoding="utf-8")
    ds = ingest(tmp_path / "r.csv")  # aliases="default": the dataset's, here none
    assert sorted(ds.panel["unit"]) == ["区人社局", "区卫健委"]
    (tmp_path / "别名.csv").write_text("alias,unit\n区人社局,区人力资源和社会保障局\n", encoding="utf-8")
    (tmp_path / "anquan.toml").write_text('unit_aliases = "别名.csv"\n', encoding="utf-8")
    ds = ingest(tmp_path / "r.csv")
    assert sorted(ds.panel["unit"]) == ["区人力资源和社会保障局", "区卫健委"]
    # the office's alias table is not read as a report
    assert [f.name for f in A.data_files(tmp_path)] == ["r.csv"]
    (tmp_path / "anquan.toml").write_text('unit_aliases = "无.csv"\n', encoding="utf-8")
    with pytest.raises(InputError, match="unit_aliases '无.csv'"):
        ingest(tmp_path / "r.csv")


def test_near_duplicates_need_more_than_shared_generic_words():
    got = likely_aliases(["区民政局", "区财政局", "巴源公司", "巴滨公司", "应急局", "区应急局",
                          "东温泉镇", "东温全镇"])
    pairs = set(zip(got["name"], got["unit"]))
    assert pairs == {("应急局", "区应急局"), ("东温全镇", "东温泉镇")}
    assert not more_than_affixes("区民政局", "区财政局")
    assert more_than_affixes("区规划和自然资源局", "区规划和自然资原局")


# ------------------------------------------------------------------ the 通报
def test_the_bulletin_says_the_label_and_the_basis(tmp_path):
    import docx

    from anquan_analysis.bulletin_docx import bulletin_from_assessment

    text = (f"{HEAD},重大事故隐患排查数\n" + "".join(
        f"单位{i},县区,某市,2024-06,累计,{n}\n" for i, n in enumerate([10, 9, 1, 1, 0, 3])))
    a = _assess(tmp_path, text, "2024-06")
    path = bulletin_from_assessment(a, tmp_path / "bulletin.docx")
    paras = [p.text for p in docx.Document(str(path)).paragraphs]
    assert any(p.startswith("2024年1—6月累计，共有6个单位报送调度数据。") for p in paras)
    assert any("说明：“测算应约”为按同类单位平均水平比较（未提供监管企业数），取同类单位中位数的"
               "截至6月底累计数" in p for p in paras)
    assert not any("本单位监管企业数" in p for p in paras)
