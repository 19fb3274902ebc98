"""Every figure of the drafted 存在的主要问题 traces to a finding (issue 18, part 6):
``draft_figures.untraceable`` reads the draft as a reader does and recomputes each
figure from the findings; here on the bundled city's drafts, and on drafts mutated the
ways the issue saw them go wrong, which it must reject."""

from __future__ import annotations

import pandas as pd
import pytest

from anquan_analysis import assessment as A
from anquan_analysis import config
from anquan_analysis.draft import draft_problems
from anquan_analysis.findings import make_findings

from draft_figures import untraceable

PERIODS = [("2024Q2", "quarter"), ("2024Q3", "quarter"), ("2024-09", "month"),
           ("2024-12", "month")]


@pytest.fixture(scope="module")
def bundled():
    return A.read_data_dir(config.SYNTH_DIR, compact=True)


@pytest.fixture(scope="module")
def q3(bundled):
    a = A.assess_dataset(bundled, "2024Q3", "quarter")
    return a, draft_problems(a.findings, period=a.period, label=a.period_zh, unmet=a.unmet)


@pytest.mark.parametrize("period, level", PERIODS)
def test_every_figure_of_the_bundled_drafts_traces_to_a_finding(bundled, period, level):
    a = A.assess_dataset(bundled, period, level)
    draft = draft_problems(a.findings, period=a.period, label=a.period_zh, unmet=a.unmet)
    assert draft.startswith("一是")
    assert untraceable(draft, a.findings) == []


def test_the_quarter_draft_holds_the_figures_worked_out(q3):
    """The figures the checker traces, as the findings give them: 区应急局's 11 of 42
    self-reported (26.19 %) is written as 11项, never as a share."""
    a, draft = q3
    f = a.findings.set_index(["check", "unit"])
    own = f.loc[("low_self_report", "区应急局")]
    assert (own["observed"], round(own["expected"])) == (11, 19)
    assert "金竹镇、安平镇、区应急局截至9月底累计企业自查发现重大事故隐患分别为0项、0项、11项" in draft
    assert "区应急局【" not in draft and "11.0%" not in draft
    # the message's 88.37% (228 of 258) as the bulletins write a share: one decimal
    assert "两个行业领域合计占比88.4%" in draft and "88.37%" not in draft


@pytest.mark.parametrize("old, new", [
    # issue 18: a count written as a share
    ("分别为0项、0项、11项", "分别为0项、0项、11.0%"),
    ("分别为0项、0项、11项", "分别为0项、11项、0项"),                 # figures swapped
    ("分别应约21项、21项、10项、10项", "分别应约21项、21项、10项、12项"),  # an expectation
    ("各期均为100%", "各期均为90%"),                                  # a unit's share
    ("同类单位平均约为81%", "同类单位平均约为18%"),                     # the peers' share
    ("区住房城乡建委69.7%", "区住房城乡建委96.7%"),                     # a figure after a name
    ("工贸135项", "工贸153项"),                                        # a message's own figure
    ("合计占比88.4%", "合计占比88.3%"),                                # 88.37% rounded wrong
])
def test_a_mutated_draft_fails(q3, old, new):
    a, draft = q3
    assert old in draft
    bad = untraceable(draft.replace(old, new), a.findings)
    assert len(bad) >= 1, (old, new)


def test_a_unit_low_in_one_point_and_zero_in_another_fails():
    """Issue 18: one unit in 一 with 1项 and in 二 as "为0" (the draft before the
    quantity points were one): the 1 traces, the "0" does not."""
    f = make_findings(pd.DataFrame([
        dict(check="low_outlier", unit="区教委", period="2024Q3", indicator="major_hazards_found",
             observed=1, expected=14.1, severity="warning", message="区教委，截至2024Q3累计偏低。"),
    ]))
    low = "一是从排查数量上看，区教委截至9月底累计重大事故隐患排查数为1项，按监管企业数测算应约14项。"
    assert untraceable(low, f) == []
    zero = "二是从零报送情况上看，区教委重大事故隐患排查数连续3个季度报送为“0”。"
    assert untraceable(low + zero, f) == [
        "区教委: 报送为“0” but no zero_report finding of 0 (二是从零报送情况上看，区教委重大事故隐患"
        "排查数连续3个季度报送为“0”)".replace("(二是", "(")]
