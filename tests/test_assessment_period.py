"""The period model of the assessment (``assessment.period``): which periods exist at a
level, the checks of a requested period, the ledger counts brought to the level, and
``assess_dataset`` handing the level's panel, the period, the thresholds, the roster
and the report dates to what it runs.  Small hand-made district; the figures are
worked out in the comments."""

from __future__ import annotations

import pandas as pd
import pytest

from anquan_analysis import assessment as A
from anquan_analysis.dataset import LEDGER_COUNT_COLUMNS, Dataset
from anquan_analysis.panel import as_panel
from anquan_analysis.roster import REPORT_DATE_COLUMNS, ROSTER_COLUMNS
from anquan_analysis.settings import Settings

MONTHS = ["2024-01", "2024-02", "2024-03"]
FOUND = {"甲镇": ("town", (2, 3, 5)), "乙镇": ("town", (1, 0, 4)),
         "丙局": ("department", (0, 2, 6))}


def _dataset() -> Dataset:
    """Three units reporting monthly; 丁公司 gives only a figure for the whole quarter
    (6), which a month assessment cannot place and a quarter assessment counts."""
    rows = [(u, t, m, "major_hazards_found", float(v)) for u, (t, vals) in FOUND.items()
            for m, v in zip(MONTHS, vals)]
    rows.append(("丁公司", "soe", "2024Q1", "major_hazards_found", 6.0))
    panel = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    exposure = pd.DataFrame({"unit": ["甲镇", "乙镇", "丙局", "丁公司"], "sector": "",
                             "enterprises": [100.0, 50.0, 200.0, 60.0]})
    ledger = pd.DataFrame([("甲镇", "2024-01", "工贸", 2), ("甲镇", "2024-02", "工贸", 1),
                           ("甲镇", "2024-03", "建筑施工", 3), ("乙镇", "2024-03", "消防", 4)],
                          columns=["unit", "period", "sector", "found"])
    ledger = ledger.reindex(columns=LEDGER_COUNT_COLUMNS, fill_value=0)
    return Dataset(panel=panel, exposure=exposure, ledger_counts=ledger)


# ------------------------------------------------------------------ periods
@pytest.mark.parametrize("form", ["frame", "panel", "list"])
def test_available_periods_at_each_level(form):
    periods = ["2024-02", "2024-01", "2024Q1", "2024H1", "2024-04", "2024Q3"]
    frame = pd.DataFrame({"unit": "A", "period": periods, "indicator": "drills", "value": 1.0})
    data = {"frame": frame, "panel": as_panel(frame), "list": periods}[form]
    assert A.available_periods(data, "month") == ["2024-01", "2024-02", "2024-04"]
    # months and quarters give their quarter (2024Q3 has no month); a half-year is
    # no quarter
    assert A.available_periods(data, "quarter") == ["2024Q1", "2024Q2", "2024Q3"]
    # half-years and years take everything finer inside them (issue 18)
    assert A.available_periods(data, "half") == ["2024H1", "2024H2"]
    assert A.available_periods(data, "year") == ["2024"]
    with pytest.raises(ValueError, match="level"):
        A.available_periods(data, "decade")


def test_available_periods_of_a_frame_skip_a_missing_period():
    frame = pd.DataFrame({"period": ["2024-03", None]})
    assert A.available_periods(frame, "month") == ["2024-03"]


def test_require_period_names_the_right_level_and_the_periods_with_data():
    data = ["2024-01", "2024-02", "2024-04"]
    A.require_period(data, "2024-02", "month")  # present: nothing raised
    with pytest.raises(ValueError, match="use level='quarter'"):
        A.require_period(data, "2024Q1", "month")
    with pytest.raises(ValueError, match="use level='month'"):
        A.require_period(data, "2024-01", "quarter")
    with pytest.raises(A.PeriodNotFound, match="2024-05.*2024-01、2024-02、2024-04"):
        A.require_period(data, "2024-05", "month")
    with pytest.raises(A.PeriodNotFound, match="periods with data: （无）$"):
        A.require_period(["2024H1"], "2024-05", "month")
    A.require_period(data, "2024", "year")  # a year is a level (issue 18)
    with pytest.raises(ValueError, match="use level='year'"):
        A.require_period(data, "2024", "half")
    with pytest.raises(ValueError, match="level"):
        A.require_period(data, "2024", "decade")


# ------------------------------------------------------------- ledger counts
def test_ledger_counts_to_level_without_counts():
    for none in (None, pd.DataFrame(columns=LEDGER_COUNT_COLUMNS)):
        out = A.ledger_counts_to_level(none, "quarter")
        assert list(out.columns) == LEDGER_COUNT_COLUMNS and len(out) == 0


def test_ledger_counts_to_level_sums_months_into_quarters_and_keeps_a_blank_sector():
    counts = pd.DataFrame([("甲镇", "2024-01", "工贸", 2), ("甲镇", "2024-02", "工贸", 1),
                           ("甲镇", "2024-03", None, 4), ("甲镇", "2024-03", None, 1),
                           ("甲镇", "2024-04", "工贸", 5), ("甲镇", "2024Q2", "消防", 7),
                           ("乙镇", "2024H1", "工贸", 9)],
                          columns=["unit", "period", "sector", "found"])
    counts = counts.reindex(columns=LEDGER_COUNT_COLUMNS, fill_value=1)
    q = A.ledger_counts_to_level(counts, "quarter")
    assert list(q.columns) == LEDGER_COUNT_COLUMNS
    got = {(r.unit, r.period, r.sector if isinstance(r.sector, str) else None): (r.found, r.reported)
           for r in q.itertuples()}
    # 工贸 in Q1: 2 + 1 (each row reported 1: 2 rows); the rows without a sector are
    # a group of their own, 4 + 1; Q2: April's 5 and the quarter's own 7; a half-year
    # is not a quarter
    assert got == {("甲镇", "2024Q1", "工贸"): (3, 2), ("甲镇", "2024Q1", None): (5, 2),
                   ("甲镇", "2024Q2", "工贸"): (5, 1), ("甲镇", "2024Q2", "消防"): (7, 1)}
    m = A.ledger_counts_to_level(counts.iloc[:4], "month")
    got = {(r.period, r.sector if isinstance(r.sector, str) else None): r.found
           for r in m.itertuples()}
    assert got == {("2024-01", "工贸"): 2, ("2024-02", "工贸"): 1, ("2024-03", None): 5}
    with pytest.raises(ValueError, match="level"):
        A.ledger_counts_to_level(counts, "decade")


# ------------------------------------------------------------ assess_dataset
POOLED = {"low_outlier": {"model": "sqrt-normal"}}  # the other units' pooled rate: by hand


def test_a_quarter_assessment_reads_the_quarter_everywhere():
    # zero_report tested at the fitted k̂ (Poisson here): three units cannot tell the
    # default tested shape from a spread broad enough to excuse anything (p = 0.18);
    # at k̂ January's 0 against 4.0 has p = e^−4 = 0.018
    opts = {"low_outlier": {"alert": 0.001, "model": "sqrt-normal"},
            "zero_report": {"shape_level": 0.5}}
    a = A.assess_dataset(_dataset(), "2024Q1", "quarter", opts)
    assert (a.period, a.level, a.period_zh) == ("2024Q1", "quarter", "2024年第一季度")
    assert a.thresholds == opts
    assert a.panel.periods.tolist() == ["2024Q1"]
    # the quarter's totals: 甲 2+3+5, 乙 1+0+4, 丙 0+2+6, and 丁's own figure
    f = a.funnel.set_index("unit")
    assert f.loc[["甲镇", "乙镇", "丙局", "丁公司"], "observed"].tolist() == [10, 5, 8, 6]
    # expected from the other units' rate × exposure: 甲 (5+8+6)/(50+200+60)·100,
    # 丙 (10+5+6)/(100+50+60)·200 = 20
    assert f.loc["甲镇", "expected"] == pytest.approx(19 / 310 * 100)
    assert f.loc["丙局", "expected"] == pytest.approx(20.0)
    # the ledger counts summed to the quarter: 甲 工贸 2 + 1
    led = a.dataset.ledger_counts.set_index(["unit", "sector"])
    assert set(led["period"]) == {"2024Q1"} and led.loc[("甲镇", "工贸"), "found"] == 3
    # the quarter's findings: 丙局's 8 against 20 expected, and the sectors; and what
    # January's report found (issue 18: the union), dated January: 丙局 0 where the
    # others' January rate gives (2 + 1) / (100 + 50) · 200 = 4.0
    assert a.findings[["check", "unit", "period", "severity"]].fillna("").values.tolist() == [
        ["low_outlier", "丙局", "2024Q1", "warning"], ["zero_report", "丙局", "2024-01", "warning"],
        ["sector_concentration", "", "2024Q1", "info"]]
    assert a.findings.loc[1, "message"].startswith("（2024年1月月度评估发现）丙局，2024-01")
    assert "应约4.0项" in a.findings.loc[1, "message"]


def test_a_month_assessment_leaves_out_a_figure_for_a_whole_quarter():
    a = A.assess_dataset(_dataset(), "2024-03", "month", POOLED)
    # 丁公司's quarter is no month: not in the funnel, and not in the others' rate
    f = a.funnel.set_index("unit")
    assert sorted(f.index) == sorted(["甲镇", "乙镇", "丙局"])
    assert f.loc["甲镇", "expected"] == pytest.approx((5 + 8) / 250 * 100)  # 5.2
    # with 丁's 6 counted, 丙局 (8 against 20) would be a low outlier; without it only
    # the sectors' info row remains
    assert a.findings[["check", "period", "severity"]].values.tolist() == [
        ["sector_concentration", "2024-03", "info"]]


def test_the_funnel_and_the_checks_stop_at_the_period_assessed():
    a = A.assess_dataset(_dataset(), "2024-02", "month")
    # to February: 甲 2+3, 乙 1+0, 丙 0+2
    f = a.funnel.set_index("unit")
    assert f.loc[["甲镇", "乙镇", "丙局"], "observed"].tolist() == [5, 1, 2]
    # the ledger to February: 甲's 2 + 1 in 工贸, all in one sector
    assert a.findings[["check", "period", "observed"]].values.tolist() == [
        ["sector_concentration", "2024-02", 1.0]]
    assert "工贸3项" in a.findings["message"].iloc[0]


def test_the_thresholds_reach_the_checks():
    top2 = {**POOLED, "sector_concentration": {"top2_info": 1.01}}  # 7 of 7 in two < 101 %
    plain = A.assess_dataset(_dataset(), "2024-03", "month", POOLED)
    high = A.assess_dataset(_dataset(), "2024-03", "month", top2)
    assert plain.findings["check"].tolist() == ["sector_concentration"]
    assert len(high.findings) == 0 and high.thresholds == top2


def _roster():
    units = [("甲镇", "town"), ("乙镇", "town"), ("丙局", "department"), ("戊站", "department")]
    return pd.DataFrame([(u, t, None, "名册.xlsx", k + 2) for k, (u, t) in enumerate(units)],
                        columns=ROSTER_COLUMNS)


def _report_dates():
    # 甲镇's March report dated 28 March: due on the 24th, 4 days late
    return pd.DataFrame([("甲镇", "2024-03", pd.Timestamp("2024-03-28"), "3月28日", "a.xlsx",
                          None, 2)], columns=REPORT_DATE_COLUMNS)


def _reporting(a):
    f = a.findings.loc[a.findings["family"] == "reporting"]
    return f[["check", "unit", "severity", "observed"]].values.tolist()


def test_the_roster_and_report_dates_add_reporting_findings():
    a = A.assess_dataset(_dataset(), "2024-03", "month", roster=_roster(),
                         report_dates=_report_dates())
    # 戊站 is on the roster and sent nothing in January, February or March: 3 months,
    # an alert from 2 on; 甲镇 4 days late
    assert sorted(_reporting(a)) == [["late_report", "甲镇", "warning", 4.0],
                                     ["not_reported", "戊站", "alert", 3.0]]
    assert a.roster is not None and len(a.roster) == 4
    # the options of the reporting checks go to them, not to the other checks
    b = A.assess_dataset(_dataset(), "2024-03", "month",
                         {"not_reported": {"alert_after": 4}, "late_report": {"deadline_day": 29}},
                         roster=_roster(), report_dates=_report_dates())
    assert _reporting(b) == [["not_reported", "戊站", "warning", 3.0]]
    # a roster alone: who did not report; report dates alone: who reported late;
    # neither (or no dates): no reporting finding
    assert _reporting(A.assess_dataset(_dataset(), "2024-03", "month", roster=_roster())) == [
        ["not_reported", "戊站", "alert", 3.0]]
    assert _reporting(A.assess_dataset(_dataset(), "2024-03", "month",
                                       report_dates=_report_dates().iloc[:0])) == []
    assert _reporting(A.assess_dataset(_dataset(), "2024-03", "month",
                                       report_dates=_report_dates())) == [
        ["late_report", "甲镇", "warning", 4.0]]


def test_the_office_settings_set_the_report_deadline_unless_a_threshold_does():
    late = A.assess_dataset(_dataset(), "2024-03", "month", report_dates=_report_dates(),
                            settings=Settings(report_deadline_day=26))
    assert _reporting(late) == [["late_report", "甲镇", "warning", 2.0]]  # 28 against 26
    assert late.settings.report_deadline_day == 26
    next_month = A.assess_dataset(_dataset(), "2024-03", "month", report_dates=_report_dates(),
                                  settings=Settings(report_deadline_months_after=1))
    assert _reporting(next_month) == []  # due 24 April
    override = A.assess_dataset(_dataset(), "2024-03", "month",
                                {"late_report": {"deadline_day": 20}},
                                report_dates=_report_dates(),
                                settings=Settings(report_deadline_day=30))
    assert _reporting(override) == [["late_report", "甲镇", "warning", 8.0]]


def test_assess_dataset_refuses_a_period_without_data():
    with pytest.raises(A.PeriodNotFound, match="2024-01、2024-02、2024-03"):
        A.assess_dataset(_dataset(), "2024-04", "month")
