"""Levels that add up (issue 18, part 5): a quarter holds what its months found, every
period is judged on a fixed look-back that the report and the index name, half-years
and years are assessed, and a step is dated where it happened."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anquan_analysis.assessment import assess_dataset, available_periods, read_data_dir
from anquan_analysis.assessment.period import judged_span
from anquan_analysis.checks.steps import group_shift
from anquan_analysis.dataset import ANALYSIS_COLUMNS
from anquan_analysis.notebook_runs import plan_periods
from anquan_analysis.panel import Panel, look_back_span
from anquan_analysis.report import _judged_cell


CITY = "data/raw/synthetic_city"


def _long(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit", "unit_type", "parent", "period", "indicator",
                                       "value", "approx"])


# ------------------------------------------------------------------ look-back
def test_look_back_span_by_hand():
    ts = pd.Timestamp
    assert look_back_span("2024-09", 12) == (ts("2023-10-01"), ts("2024-09-30"))
    assert look_back_span("2024Q3", 6) == (ts("2024-04-01"), ts("2024-09-30"))
    assert look_back_span("2024H1", 6) == (ts("2024-01-01"), ts("2024-06-30"))
    assert look_back_span("2024-09", None) == (None, ts("2024-09-30"))
    with pytest.raises(ValueError, match="shorter than the period 2024Q3"):
        look_back_span("2024Q3", 2)


def test_panel_look_back_keeps_the_span_only():
    pv = Panel.build(_long([
        ("甲镇", "town", None, "2023-12", "drills", 1.0, False),
        ("甲镇", "town", None, "2024-01", "drills", 2.0, False),
        ("甲镇", "town", None, "2024-02", "drills", 3.0, False),
        ("甲镇", "town", None, "2024-03", "drills", 4.0, False),
        ("乙镇", "town", None, "2024Q1", "drills", 9.0, False),
    ]))
    assert sorted(pv.look_back("2024-03", 3).periods) == ["2024-01", "2024-02", "2024-03", "2024Q1"]
    # the quarter ends after February: not in February's look-back
    assert list(pv.look_back("2024-02", 2).periods) == ["2024-01", "2024-02"]
    assert list(pv.look_back("2024-02", None).periods) == ["2023-12", "2024-01", "2024-02"]


def test_judged_span_names_what_was_judged():
    months = [f"2024-{m:02d}" for m in range(1, 10)]
    pv = Panel.build(_long([("甲镇", "town", None, p, "drills", 1.0, False) for p in months]))
    s = judged_span(pv.look_back("2024-09", 12), "2024-09", 12)
    assert (s["first"], s["last"], s["months"], s["full"]) == ("2024-01", "2024-09", 9, False)
    assert s["text"] == ("判断依据：2024年1月—9月数据（9个月；回看期12个月，数据未满，"
                         "预警数不宜与数据已满的期间直接比较）")
    s = judged_span(pv.look_back("2024-09", 6), "2024-09", 6)
    assert (s["first"], s["months"], s["full"]) == ("2024-04", 6, True)
    assert s["text"] == "判断依据：2024年4月—9月数据（6个月，回看期6个月）"
    s = judged_span(pv.look_back("2024-09", None), "2024-09", None)
    assert s["text"] == "判断依据：2024年1月—9月数据（9个月，截至本期累计）"
    assert _judged_cell(s) == "<br><small>1—9月，9个月，累计</small>"
    assert _judged_cell(judged_span(pv.look_back("2024-09", 12), "2024-09", 12)) == \
        "<br><small>1—9月，9个月（未满12个月）</small>"
    assert _judged_cell({}) == ""


# --------------------------------------------------------- half-years and years
def _half_year_panel() -> Panel:
    rows = [("甲镇", "town", None, f"2024-{m:02d}", "drills", float(m), False)
            for m in range(1, 7)]                                     # 1..6: H1 = 21
    rows += [("乙镇", "town", None, "2024Q1", "drills", 9.0, False),  # a quarter, then months
             ("乙镇", "town", None, "2024-04", "drills", 2.0, False),
             ("乙镇", "town", None, "2024-05", "drills", 3.0, False),
             ("丙局", "department", None, "2024H1", "drills", 30.0, False),  # a half-year
             ("丙局", "department", None, "2024-07", "drills", 5.0, False)]
    return Panel.build(_long(rows))


def test_at_level_half_and_year_sum_what_lies_inside():
    pv = _half_year_panel()
    half = pv.at_level("half")
    assert list(half.periods) == ["2024H1", "2024H2"]
    u = {name: i for i, name in enumerate(half.units)}
    d = list(half.indicators).index("drills")
    assert half.values[u["甲镇"], d, 0] == 21 and np.isnan(half.values[u["甲镇"], d, 1])
    assert half.values[u["乙镇"], d, 0] == 9 + 2 + 3
    assert (half.values[u["丙局"], d, 0], half.values[u["丙局"], d, 1]) == (30, 5)
    # which months each figure covers: bit k is the period's k-th month
    assert half.months[u["甲镇"], d, 0] == 0b111111
    assert half.months[u["乙镇"], d, 0] == 0b011111      # Q1 (3 bits), April, May
    assert (half.months[u["丙局"], d, 0], half.months[u["丙局"], d, 1]) == (0b111111, 0b1)
    year = pv.at_level("year")
    assert list(year.periods) == ["2024"]
    assert [year.values[u[n], d, 0] for n in ("甲镇", "乙镇", "丙局")] == [21, 14, 35]
    assert year.months[u["丙局"], d, 0] == 0b1111111     # H1's six months and July
    # the quarter level is what it was: months summed, a quarter alone where no month
    q = pv.at_level("quarter")
    assert list(q.periods) == ["2024Q1", "2024Q2", "2024Q3"]
    assert q.values[u["甲镇"], d, 0] == 6 and q.values[u["甲镇"], d, 1] == 15
    assert q.months[u["乙镇"], d, 1] == 0b011 and q.months.dtype == np.uint8


def test_half_years_and_years_are_planned_from_their_written_forms():
    pv = _half_year_panel()
    assert available_periods(pv, "half") == ["2024H1", "2024H2"]
    assert available_periods(pv, "year") == ["2024"]
    assert plan_periods(pv, periods=["2024年上半年", "2024H2", "2024年", "2024"]) == [
        ("2024H1", "half"), ("2024H2", "half"), ("2024", "year"), ("2024", "year")]


# ------------------------------------------------------------ the bundled city
@pytest.fixture(scope="module")
def city():
    return read_data_dir(CITY, columns=ANALYSIS_COLUMNS)


def _keys(f: pd.DataFrame) -> set:
    return set(zip(f["check"], f["unit"].fillna(""), f["unit_type"].fillna(""),
                   f["indicator"].fillna("")))


def test_the_quarter_holds_every_unit_its_months_alerted(city):
    a = assess_dataset(city, "2024Q3", "quarter")
    quarter = a.findings
    months = {m: assess_dataset(city, m, "month").findings
              for m in ("2024-07", "2024-08", "2024-09")}
    alerted = set()
    for f in months.values():
        alerted |= set(f.loc[f["severity"] == "alert", "unit"].dropna())
    assert alerted, "the months of 2024Q3 raise alerts on the bundled city"
    assert alerted <= set(quarter["unit"].dropna())
    # every check-unit-indicator a month alerted on is in the quarter
    for f in months.values():
        assert _keys(f.loc[f["severity"] == "alert"]) <= _keys(quarter)
    # what the issue found missing, by construction of the city (truth.csv):
    # 石门镇's July surge, marked with its month
    surge = quarter.loc[(quarter["check"] == "surge") & (quarter["unit"] == "石门镇")]
    assert list(surge["period"]) == ["2024-07"]
    assert surge["message"].iloc[0].startswith("（2024年7月月度评估发现）石门镇，2024-07")
    # the pair copying rows (东山街道, 青石街道: April to July)
    copied = quarter.loc[quarter["check"] == "identical_values"]
    assert {"东山街道", "青石街道"} <= set(copied["unit"])
    # the district-wide jump of September (a group finding: no unit)
    shift = quarter.loc[quarter["check"] == "group_shift"]
    assert "" in set(shift["unit_type"].fillna("")) and shift["unit"].isna().all()
    # the draft dates it by its month, not by the quarter (truth.csv: 17 in July)
    from anquan_analysis.draft import draft_problems

    text = draft_problems(quarter, period=a.period, label=a.period_zh)
    assert "石门镇7月重大事故隐患排查数为17项" in text and "石门镇2024年第三季度" not in text
    # the months judged surge and group_shift: the quarter does not say 未作判断
    assert a.unmet.empty
    # one row per finding: a month's finding the quarter holds is not added again
    assert not quarter.duplicated(["check", "unit", "unit_type", "indicator", "period"]).any()


def test_a_half_year_is_assessed_on_its_months(city):
    a = assess_dataset(city, "2024H1", "half")
    raw = pd.read_csv(f"{CITY}/reports_clean.csv", encoding="utf-8-sig")
    h1 = raw.loc[raw["期间"].between("2024-01", "2024-06"), "重大事故隐患排查数"].sum()
    d = list(a.panel.indicators).index("major_hazards_found")
    assert list(a.panel.periods) == ["2024H1", "2024H2"]
    assert np.nansum(a.panel.values[:, d, 0]) == h1
    f = a.findings
    surges = set(zip(f.loc[f["check"] == "surge", "unit"], f.loc[f["check"] == "surge", "period"]))
    assert ("瑞源公司", "2024-06") in surges       # truth.csv: June, inside the half-year
    assert not any(p >= "2024-07" for _, p in surges)  # 石门镇's July is the second half's
    assert a.judged["first"] == "2024-01" and a.judged["last"] == "2024-06"


def test_a_short_look_back_judges_its_months_only(city):
    a = assess_dataset(city, "2024-12", "month", lookback=6)
    assert (a.judged["first"], a.judged["months"], a.judged["full"]) == ("2024-07", 6, True)
    rep = a.findings.loc[(a.findings["check"] == "repeated_value")
                         & (a.findings["unit"] == "北泉街道")]
    # truth.csv: 北泉街道 reports 30 trained persons every month; six months judged
    assert rep["message"].str.contains("2024-07至2024-12连续6期均为30人次").any()
    # the report's tables still read the whole year
    assert len(a.panel.periods) == 12


# ----------------------------------------------------------- a step's date
def _step_at_last_month() -> pd.DataFrame:
    months = [f"2024-{m:02d}" for m in range(1, 10)]
    rows = []
    for i in range(10):
        for k, p in enumerate(months):
            v = 8 if p == "2024-09" else (2 if (k + i) % 2 else 3)
            rows.append((f"单位{i}", "town", None, p, "major_hazards_found", float(v), False))
    return _long(rows)


def test_a_step_in_the_last_month_is_dated_there():
    # every unit finds 2 or 3 a month (totals 25 a month) and 8 in September: 80
    f = group_shift(_step_at_last_month(), period="2024-09", min_periods=8)
    every = f.loc[f["unit_type"].isna()]
    assert list(every["period"]) == ["2024-09"]


def test_the_september_report_dates_septembers_jump(city):
    f = assess_dataset(city, "2024-09", "month").findings
    shift = f.loc[(f["check"] == "group_shift") & f["unit_type"].isna()]
    assert list(shift["period"]) == ["2024-09"]


# ------------------------------------------------------------ the option
def test_the_look_back_is_an_option_of_the_settings_and_the_command_line(tmp_path):
    import shutil

    from anquan_analysis.assessment import run_assessment
    from anquan_analysis.errors import InputError
    from anquan_analysis.settings import read_settings, with_setting

    for name in ("reports_clean.csv", "exposure.csv", "ledger.csv"):
        shutil.copy(f"{CITY}/{name}", tmp_path / name)
    # `anquan assess --lookback 6` writes the setting over the office's file
    text = with_setting('lookback_months = 12\nscope = "全区"\n[thresholds.surge]\nalert = 0.01\n',
                        "lookback_months", 6)
    assert text == 'lookback_months = 6\nscope = "全区"\n[thresholds.surge]\nalert = 0.01\n'
    (tmp_path / "anquan.toml").write_text(text, encoding="utf-8")
    a = run_assessment(tmp_path, "2024-12", "month")
    assert (a.lookback, a.judged["first"], a.judged["months"]) == (6, "2024-07", 6)
    (tmp_path / "anquan.toml").write_text("lookback_months = 0\n", encoding="utf-8")
    a = run_assessment(tmp_path, "2024-03", "month")
    assert a.lookback is None and a.judged["text"].endswith("（3个月，截至本期累计）")
    (tmp_path / "anquan.toml").write_text("lookback_months = -1\n", encoding="utf-8")
    with pytest.raises(InputError, match="lookback_months"):
        read_settings(tmp_path / "anquan.toml")


def test_the_office_may_hold_the_single_unit_checks_to_one_error_rate(tmp_path):
    import shutil

    from anquan_analysis.assessment import run_assessment
    from anquan_analysis.checks.suite import SINGLE_UNIT
    from anquan_analysis.errors import InputError
    from anquan_analysis.settings import read_settings

    for name in ("reports_clean.csv", "exposure.csv", "ledger.csv"):
        shutil.copy(f"{CITY}/{name}", tmp_path / name)
    alone = run_assessment(tmp_path, "2024Q4", "quarter")
    (tmp_path / "anquan.toml").write_text("suite_level = true\n", encoding="utf-8")
    held = run_assessment(tmp_path, "2024Q4", "quarter")
    assert held.judged["text"].endswith("；针对单个单位的九项检查合并控制误报")
    assert not alone.judged["text"].endswith("合并控制误报")
    rank = {"info": 0, "warning": 1, "alert": 2}

    def flagged(a, own):
        f = a.findings
        f = f.loc[f["check"].isin(SINGLE_UNIT) == own]
        return f.loc[f["severity"].map(rank) > 0, ["check", "unit", "indicator"]]

    # the quarter and the months inside it judged alike: the suite names no unit the
    # checks alone did not, and fewer or as many; the other checks are untouched
    a1, h1 = flagged(alone, True), flagged(held, True)
    assert len(h1.merge(a1).drop_duplicates()) == len(h1.drop_duplicates()) <= len(a1)
    pd.testing.assert_frame_equal(flagged(held, False).reset_index(drop=True),
                                  flagged(alone, False).reset_index(drop=True))

    def alerts(a):
        f = a.findings
        return int((f["check"].isin(SINGLE_UNIT) & (f["severity"] == "alert")).sum())

    # the bundled city's anomalies are strong: every one still stands, two 预警 of
    # pinned_rate and round_number become 关注
    assert len(h1) == len(a1) and alerts(held) == alerts(alone) - 2
    (tmp_path / "anquan.toml").write_text('suite_level = "yes"\n', encoding="utf-8")
    with pytest.raises(InputError, match="suite_level"):
        read_settings(tmp_path / "anquan.toml")
