"""anquan_analysis.audit: each kind of claim, sentence by sentence, once with numbers that
agree and once with numbers that do not; the shapes that once gave false contradictions
(issue 16: enterprises divided as a rate, 整改指令书 and 停产整顿 read as rectified
hazards); and the finders' independence of their order.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from anquan_analysis.audit import audit, core, extract_figures, read_text
from anquan_analysis.audit.document import Document

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "data" / "raw" / "seeds"
INSAMPLE = REPO / "tests" / "data" / "audit_insample" / "docs"


# ---------------------------------------------------------------- sentences: audit, each form

def _only(text, claim_type):
    c = audit(text)
    c = c[c["claim_type"] == claim_type]
    assert len(c) == 1, audit(text)
    return c.iloc[0]


@pytest.mark.parametrize("rate, status", [("98.5", "verified"), ("97.5", "contradicted")])
def test_rate(rate, status):
    c = _only(f"共排查各类隐患526处，整改完成518处，整改完成率{rate}%。", "rate")
    assert c["status"] == status
    assert c["computed"] == pytest.approx(518 / 526 * 100)


@pytest.mark.parametrize("rate, status, note", [("96.7", "unverifiable", "29"),
                                                ("95.0", "contradicted", "没有任何整数")])
def test_rate_without_numerator_is_checked_for_feasibility(rate, status, note):
    c = _only(f"对30个一般隐患立行立改，整改率达{rate}%。", "rate")
    assert c["status"] == status and note in c["explanation"]


@pytest.mark.parametrize("share, status", [("8.86", "verified"), ("9.86", "contradicted")])
def test_labelled_share(share, status):
    c = _only(f"排查重大事故隐患79项，其中部门检查发现72项，企业自查发现7项，企业自查上报占比仅为{share}%。",
              "share")
    assert c["status"] == status
    assert c["computed"] == pytest.approx(7 / 79 * 100)


def test_bracket_shares_agree_on_the_stated_total():
    c = audit("全区共排查重大事故隐患200个。重大事故隐患分布不平衡，建筑施工【50个，占比25.0%】和工贸"
              "【60个，30.0%】两个行业领域。")
    assert c.loc[c["claim_type"] == "share", "status"].tolist() == ["verified", "verified"]


def test_bracket_shares_on_a_wrong_total_name_the_right_one():
    c = audit("全区共排查重大事故隐患199个。重大事故隐患分布不平衡，建筑施工【50个，占比25.0%】和工贸"
              "【60个，30.0%】两个行业领域。")
    shares = c[c["claim_type"] == "share"]
    assert shares["status"].tolist() == ["contradicted", "contradicted"]
    assert all("合计 200" in e for e in shares["explanation"])


@pytest.mark.parametrize("pct, status", [("62.3", "verified"), ("60.3", "contradicted")])
def test_ratio(pct, status):
    c = _only(f"9月新增重大事故隐患43个，是5-8月累计排查重大事故隐患（69个）的{pct}%。", "ratio")
    assert c["status"] == status
    assert c["computed"] == pytest.approx(43 / 69 * 100)


@pytest.mark.parametrize("pct, status", [("35.3", "verified"), ("30", "contradicted")])
def test_yoy_with_both_years(pct, status):
    c = _only(f"全区发生生产安全事故11起，去年同期17起，同比下降{pct}%。", "yoy")
    assert c["status"] == status
    assert c["computed"] == pytest.approx((11 - 17) / 17 * 100)


def test_yoy_without_last_year_is_unverifiable():
    c = _only("全区发生生产安全事故11起，同比下降35.3%。", "yoy")
    assert c["status"] == "unverifiable" and "17.0" in c["explanation"]


@pytest.mark.parametrize("total, status", [(79, "verified"), (80, "contradicted")])
def test_parts_against_total(total, status):
    c = _only(f"排查重大事故隐患{total}项，其中部门检查发现72项，企业自查发现7项。", "parts_sum")
    assert (c["status"], c["stated"], c["computed"]) == (status, total, 79)


@pytest.mark.parametrize("total, status", [(231, "verified"), (10, "contradicted")])
def test_uncatalogued_part_not_above_total(total, status):
    c = _only(f"发现隐患{total}项，其中重大隐患14项。", "part_le_total")
    assert c["status"] == status


@pytest.mark.parametrize("avg, status", [("3.1", "verified"), ("3.5", "contradicted")])
def test_average(avg, status):
    c = _only(f"全区50个单位共排查重大事故隐患156个，平均每个单位{avg}个。", "average")
    assert c["status"] == status
    assert c["computed"] == pytest.approx(3.12)


@pytest.mark.parametrize("last, status", [(12, "verified"), (9, "contradicted")])
def test_comparison_against_listed_units(last, status):
    c = _only(f"3个单位排查重大隐患数量超过10个，分别是区应急局【46个】、区住房城乡建委【24个】、"
              f"巴源公司【{last}个】。", "comparison")
    assert c["status"] == status
    if status == "contradicted":
        assert "巴源公司" in c["explanation"]


@pytest.mark.parametrize("count, status", [("两", "verified"), ("三", "contradicted")])
def test_list_against_stated_count(count, status):
    c = _only(f"建筑施工【52个】和工贸【72个】{count}个行业领域的重大事故隐患较多。", "list_count")
    assert c["status"] == status and c["computed"] == 2


@pytest.mark.parametrize("rectified, status", [(30, "verified"), (45, "contradicted")])
def test_catalogue_rule_rectified_not_above_found(rectified, status):
    c = _only(f"发现重大事故隐患40处，已整改{rectified}处。", "rule")
    assert c["status"] == status


def test_audit_validates_figures_and_leaves_them_alone():
    text = "排查重大事故隐患79项，其中部门检查发现72项，企业自查发现7项。"
    figs = extract_figures(text)
    before = figs.copy()
    audit(text, figs)
    pd.testing.assert_frame_equal(figs, before)
    with pytest.raises(ValueError, match="indicator"):
        audit(text, figs.drop(columns="indicator"))




# ---------------------------------------------------------------- lists of units against totals

def _one(text, claim_type):
    c = audit(text)
    c = c[c["claim_type"] == claim_type]
    assert len(c) == 1, audit(text)[["claim_type", "status", "explanation"]]
    return c.iloc[0]


def test_list_after_qizhong_sums_to_its_total():
    c = _one("全市共排查重大事故隐患20项。其中，甲县12项、乙县8项。", "enumeration")
    assert (c["status"], c["stated"], c["computed"]) == ("verified", 20, 20)
    assert "所列2个单位（甲县、乙县）重大事故隐患排查数合计20" in c["explanation"]


def test_list_above_its_total_is_contradicted_with_the_difference():
    c = _one("全市共排查重大事故隐患20项，分别是甲县12项、乙县9项。", "enumeration")
    assert (c["status"], c["computed"]) == ("contradicted", 21)
    assert c["explanation"].endswith("合计21，与所述总数20相差1")


def test_list_above_its_total_with_a_group_of_units_is_a_discrepancy():
    c = _one("全市共排查重大事故隐患20项，分别是甲县12项、乙县6项、市直3项。", "enumeration")
    assert c["status"] == "discrepancy"
    assert "“市直”是一组单位" in c["explanation"] and "重复计入" in c["explanation"]


def test_list_above_a_total_of_another_section_is_a_discrepancy():
    c = _one("一、总体情况\n本月全市排查重大事故隐患20项。\n二、各县情况\n以重大事故隐患数量作对比，"
             "甲县12项、乙县9项。", "enumeration")
    assert c["status"] == "discrepancy" and "口径或期间不同" in c["explanation"]


@pytest.mark.parametrize("text, status, words", [
    # a count of units equal to the number listed: the list is the whole
    ("全市2个县共排查重大事故隐患20项，分别是甲县12项、乙县6项。", "contradicted", "已全部列出"),
    # nothing says whether the list is whole: the total may hold units not listed
    ("全市共排查重大事故隐患20项，分别是甲县12项、乙县6项。", "discrepancy", "总数可能包括未列出的单位"),
    # a ranking lists only some units
    ("全市共排查重大事故隐患20项。以重大事故隐患数量作对比，排名靠前的甲县12项、乙县6项。",
     "verified", "未列出的合计2"),
])
def test_list_below_its_total(text, status, words):
    c = _one(text, "enumeration")
    assert c["status"] == status and words in c["explanation"], c["explanation"]


def test_units_named_at_zero_join_the_list():
    c = _one("全区共排查上报隐患3处。其中甲镇上报隐患3处，乙镇、丙镇、丁局上报当月无隐患。",
             "enumeration")
    assert (c["status"], c["computed"]) == ("verified", 3)
    assert "所列4个单位（甲镇、乙镇、丙镇、丁局）" in c["explanation"]


@pytest.mark.parametrize("bottom, status", [(1, "verified"), (4, "contradicted")])
def test_ranking_top_against_bottom(bottom, status):
    c = _one(f"全市共排查重大事故隐患30项。以重大事故隐患数量作对比，排名靠前的甲县3项、乙县2项，"
             f"相对靠后的丙县{bottom}项。", "ranking")
    assert c["status"] == status
    assert "排名靠前的2个单位最少2" in c["explanation"]


def test_ranked_unit_with_another_figure_elsewhere_is_a_discrepancy():
    c = audit("全市共排查重大事故隐患30项。以重大事故隐患数量作对比，排名靠前的甲县12项、乙县9项。"
              "甲县共排查重大事故隐患10项。")
    ranking = c[c["claim_type"] == "ranking"].iloc[0]
    assert ranking["status"] == "discrepancy"
    assert "甲县在排名中为12，文中另处为10" in ranking["explanation"]
    # the list counts 甲县 once, with its ranked figure
    assert c.loc[c["claim_type"] == "enumeration", "computed"].tolist() == [21]


def test_total_at_the_precision_written():
    c = _one("全省排查重大事故隐患2.35万项，其中部门检查发现1.2万项，企业自查发现1.15万项。",
             "parts_sum")
    assert (c["status"], c["precision"]) == ("verified", 100)


# ---------------------------------------------------------------- remainders, changes, rates

@pytest.mark.parametrize("rest, status", [(10, "verified"), (12, "contradicted")])
def test_remainder(rest, status):
    c = _one(f"挂牌重大隐患630家，已整改620家；余{rest}家未到整改期限。", "remainder")
    assert (c["status"], c["computed"]) == (status, 10)


@pytest.mark.parametrize("pct, status", [("17.77", "verified"), ("17.78", "verified"),
                                         ("17.9", "contradicted")])
def test_change_after_its_difference_and_cut_figures(pct, status):
    # 37 this year, 8 fewer: 45 last year; 8/45 = 17.777…, cut to 17.77 or rounded to 17.78
    c = _one(f"全市共发生事故37起，与去年同期相比，事故起数减少8起，下降{pct}%。", "yoy")
    assert c["status"] == status
    assert c["computed"] == pytest.approx(-8 / 45 * 100)
    assert ("舍去尾数" in c["explanation"]) == (pct == "17.77")


def test_differences_after_last_year_are_not_last_years_figures():
    # 减少4起 after 去年同期 is a difference; taking it for last year's count accused the
    # text (20 vs 4: +400%) where it is right (4 / 24 = 16.7%)
    c = _one("全市发生事故20起，比去年同期减少4起，同比下降16.7%。", "yoy")
    assert c["status"] == "unverifiable" and "增减数" in c["explanation"]


def test_on_time_rate_is_not_a_rectification_rate():
    c = audit("全市挂牌重大隐患630家，已整改620家，总体整改率98.4%；按期整改率100%。")
    assert c["status"].tolist() == ["verified", "unverifiable"]
    assert "到期应整改" in c["explanation"].iloc[1]


# ---------------------------------------------------------------- issue 16: the two old shapes

SICHUAN = ("全省开展安全生产隐患排查治理的生产经营单位98250家,共排查一般隐患141911项,已整改137354项,"
           "整改率97.28%。其中,参与排查治理的煤矿、非煤矿山等工矿企业43158家,一般隐患整改率为96.61%,"
           "交通运输等重点行业领域企业55092家,一般隐患整改率为96.93%。")


def test_a_rate_is_never_computed_on_enterprises():
    c = audit(SICHUAN)
    assert not ((c["computed"] - 55092 / 43158 * 100).abs() < 1).any()
    by_stated = c.set_index("stated")
    for rate in (96.61, 96.93):
        assert by_stated.loc[rate, "status"] == "unverifiable"
        assert "不是隐患数" in by_stated.loc[rate, "explanation"]
    # the one rate with hazards on both sides is checked, and does not hold: 96.79%
    assert by_stated.loc[97.28, "status"] == "contradicted"
    assert by_stated.loc[97.28, "computed"] == pytest.approx(137354 / 141911 * 100)


CHENGDE = ("煤矿方面:检查企业2个,发现一般隐患1条、限期整改一般隐患1条、下达整改指令书2份、"
           "停产整顿煤矿企业6个。")


def test_orders_documents_and_suspensions_are_not_rectified_hazards():
    figs = extract_figures(CHENGDE)
    code = dict(zip(figs["raw"], figs["indicator"]))
    assert code["2份"] == ""                          # 整改指令书: documents
    assert code["6个"] == "suspensions"               # 停产整顿: enterprises
    assert figs["indicator"].tolist() == ["units_inspected", "general_hazards_found", "", "",
                                          "suspensions"]   # 限期整改一般隐患1条: ordered, not found
    # no false contradiction of rectified against found; the one contradiction is the
    # true one, 6 suspended of the 2 inspected (the catalogue's rule, issue 16)
    c = audit(CHENGDE)
    assert c[["claim_type", "stated", "computed", "status"]].values.tolist() == [
        ["rule", 6.0, 2.0, "contradicted"]]
    assert c["explanation"].iloc[0] == "责令停产整顿的企业数不应超过检查的生产经营单位数：6 > 2"


@pytest.mark.parametrize("words, status", [("已整改隐患70条", "discrepancy"),
                                           ("已整改70条", "contradicted")])
def test_rectified_above_found(words, status):
    # 已整改隐患70条 names no kind of hazard: it may count hazards found before
    c = _one(f"非煤矿山方面:检查企业8家,发现一般隐患32条、{words}。", "rule")
    assert c["status"] == status


# ---------------------------------------------------------------- the finders' order

@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")) + sorted(INSAMPLE.glob("*.txt")),
                         ids=lambda p: p.name[:3])
def test_finders_give_the_same_claims_in_any_order(path, monkeypatch):
    text = read_text(path)
    figs = extract_figures(text)
    before = audit(text, figs)
    monkeypatch.setattr(core, "FINDERS", dict(reversed(list(core.FINDERS.items()))))
    pd.testing.assert_frame_equal(audit(text, figs), before)
    # each finder reads the document alone: the union of their claims is the audit's
    doc = Document(text, figs)
    alone = sum(len(f(doc)) for f in core.FINDERS.values())
    assert alone >= len(before)
