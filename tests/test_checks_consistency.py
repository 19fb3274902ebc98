"""Tests of the arithmetic-rule check, on rows built to break each rule."""

import pandas as pd
import pytest

from anquan_analysis import catalogue
from anquan_analysis.checks.consistency import rule_violation
from anquan_analysis.findings import FINDINGS_COLUMNS
from anquan_analysis.synth import make_city


def panel(rows):
    """rows: (unit, period, indicator, value[, approx])."""
    rows = [r if len(r) == 5 else (*r, False) for r in rows]
    df = pd.DataFrame(rows, columns=["unit", "period", "indicator", "value", "approx"])
    return df.assign(unit_type="town", value=df["value"].astype(float))


def test_rectified_above_found_is_an_alert_with_figures():
    f = rule_violation(panel([("甲镇", "2024-04", "major_hazards_found", 10),
                              ("甲镇", "2024-04", "major_hazards_rectified", 12)]))
    assert len(f) == 1
    row = f.iloc[0]
    assert (row["check"], row["family"], row["severity"]) == ("rule_violation", "consistency", "alert")
    assert (row["unit"], row["period"], row["indicator"]) == ("甲镇", "2024-04", "major_hazards_rectified")
    assert (row["observed"], row["expected"], row["upper"], row["statistic"]) == (12, 10, 10, 2)
    assert pd.isna(row["p_value"])
    assert row["message"].startswith("甲镇2024-04重大事故隐患整改数(12)超过重大事故隐患排查数(10)")


def test_parts_must_add_up_to_the_total():
    full = rule_violation(panel([("甲镇", "2024-04", "major_hazards_found", 10),
                                 ("甲镇", "2024-04", "major_hazards_found_dept", 6),
                                 ("甲镇", "2024-04", "major_hazards_found_enterprise", 3)]))
    assert list(full["indicator"]) == ["major_hazards_found"]
    assert (full["observed"].item(), full["expected"].item()) == (9, 10)
    assert "之和(9)不等于重大事故隐患排查数(10)" in full["message"].item()
    # One part missing: only a part already above the total proves an error.
    partial_ok = rule_violation(panel([("乙镇", "2024-04", "major_hazards_found", 10),
                                       ("乙镇", "2024-04", "major_hazards_found_dept", 7)]))
    assert partial_ok.empty
    partial_bad = rule_violation(panel([("乙镇", "2024-04", "major_hazards_found", 10),
                                        ("乙镇", "2024-04", "major_hazards_found_dept", 12)]))
    assert "已报的" in partial_bad["message"].item() and partial_bad["severity"].item() == "alert"


def test_persons_fewer_than_sessions_and_approximate_figures():
    exact = rule_violation(panel([("甲镇", "2024-04", "principal_training_sessions", 30),
                                  ("甲镇", "2024-04", "principal_training_persons", 20)]))
    assert exact["severity"].item() == "alert"
    assert "主要负责人培训人次不应少于场次" in exact["message"].item()
    approx = rule_violation(panel([("甲镇", "2024-04", "principal_training_sessions", 30),
                                   ("甲镇", "2024-04", "principal_training_persons", 20, True)]))
    assert approx["severity"].item() == "warning"


def test_drills_fines_and_deaths():
    f = rule_violation(panel([("甲镇", "2024-04", "drill_enterprises", 5),
                              ("甲镇", "2024-04", "drills", 4),
                              ("甲镇", "2024-04", "fines", 2.5), ("甲镇", "2024-04", "penalties", 0),
                              ("甲镇", "2024-04", "deaths", 1), ("甲镇", "2024-04", "accidents", 0)]))
    assert sorted(f["indicator"]) == ["deaths", "drill_enterprises", "fines"]
    assert set(f["severity"]) == {"alert"}
    assert "报送罚款(2.5)但行政处罚为0" in f.loc[f["indicator"] == "fines", "message"].item()
    # A missing figure is not a zero.
    assert rule_violation(panel([("甲镇", "2024-04", "fines", 2.5)])).empty


def test_rows_that_keep_every_rule_give_nothing():
    rows = [("甲镇", "2024-04", c, v) for c, v in [
        ("major_hazards_found", 10), ("major_hazards_rectified", 10),
        ("major_hazards_found_dept", 7), ("major_hazards_found_enterprise", 3),
        ("principal_training_sessions", 2), ("principal_training_persons", 2),
        ("drill_enterprises", 3), ("drills", 3), ("fines", 0), ("penalties", 0)]]
    assert rule_violation(panel(rows)).empty


def test_measured_figures_get_a_rounding_tolerance():
    rules = pd.DataFrame([{"rule": "fines_le_investment", "kind": "le", "lhs": ("fines",),
                           "rhs": "investment", "description_zh": "测试"}])
    near = rule_violation(panel([("甲镇", "2024-04", "fines", 100.5),
                                 ("甲镇", "2024-04", "investment", 100)]), rules=rules)
    far = rule_violation(panel([("甲镇", "2024-04", "fines", 110),
                                ("甲镇", "2024-04", "investment", 100)]), rules=rules)
    assert near["severity"].item() == "warning" and far["severity"].item() == "alert"


def test_cumulative_never_decreases_within_a_year():
    p = panel([("甲镇", "2024-02", "drills", 1)])
    cum = pd.DataFrame([("甲镇", "2024-01", "drills", 5.0), ("甲镇", "2024-02", "drills", 4.0),
                        ("甲镇", "2024-03", "drills", 6.0), ("甲镇", "2025-01", "drills", 1.0)],
                       columns=["unit", "period", "indicator", "value"])
    f = rule_violation(p, cumulative_panel=cum)
    assert list(f["period"]) == ["2024-02"]               # the January restart is fine
    assert (f["observed"].item(), f["expected"].item()) == (4, 5)
    assert "累计应急逃生演练次数(4)比2024-01(5)减少" in f["message"].item()
    assert rule_violation(p, cumulative_panel=cum, period="2024-03").empty
    assert rule_violation(p).empty                         # no cumulative figures: not checked


def test_period_filter_schema_and_inputs_untouched():
    p = panel([("甲镇", m, c, v) for m in ("2024-03", "2024-04")
               for c, v in [("major_hazards_found", 1), ("major_hazards_rectified", 3)]])
    before = p.copy()
    f = rule_violation(p, period="2024-04")
    assert list(f.columns) == FINDINGS_COLUMNS and list(f["period"]) == ["2024-04"]
    assert f["unit_type"].item() == "town"
    pd.testing.assert_frame_equal(p, before)
    with pytest.raises(ValueError, match="indicator"):
        rule_violation(p.drop(columns="indicator"))


def test_every_catalogue_rule_kind_is_handled():
    assert set(catalogue.RULES["kind"]) == {"le", "sum", "requires", "monotone"}


@pytest.mark.parametrize("seed", [0, 5])
def test_synthetic_city(seed):
    city = make_city(seed)
    f = rule_violation(city.panel)
    truth = city.truth[city.truth["kind"] == "rule_violation"]
    found = set(zip(f["unit"], f["period"]))
    assert set(zip(truth["unit"], truth["period"])) <= found
    assert found <= set(zip(truth["unit"], truth["period"]))   # nothing else
    assert rule_violation(make_city(seed, inject=False).panel).empty


def test_categorical_float32_panel_same_findings_and_first_row_type():
    # float32 figures, categorical columns, shuffled rows: the same findings as the
    # str panel; 乙镇's first row has no unit type, so its type is its first known one
    rows = [("甲镇", "2024-04", "major_hazards_found", 10), ("甲镇", "2024-04", "major_hazards_rectified", 12),
            ("乙镇", "2024-04", "major_hazards_found", 9), ("乙镇", "2024-04", "major_hazards_found_dept", 6),
            ("乙镇", "2024-04", "major_hazards_found_enterprise", 4),
            ("乙镇", "2024-03", "fines", 2.5), ("乙镇", "2024-03", "penalties", 0),
            ("甲镇", "2024-03", "principal_training_sessions", 30),
            ("甲镇", "2024-03", "principal_training_persons", 20, True)]
    p = panel(rows)
    p.loc[0, "unit_type"] = "county"           # 甲镇's first row
    p.loc[2, "unit_type"] = None               # 乙镇's first row
    f = rule_violation(p)
    assert list(zip(f["period"], f["unit"], f["indicator"])) == [
        ("2024-03", "乙镇", "fines"), ("2024-03", "甲镇", "principal_training_sessions"),
        ("2024-04", "乙镇", "major_hazards_found"), ("2024-04", "甲镇", "major_hazards_rectified")]
    assert f["unit_type"].tolist() == ["town", "county", "town", "county"]
    assert f["severity"].tolist() == ["alert", "warning", "alert", "alert"]
    assert "之和(10)不等于重大事故隐患排查数(9)" in f["message"].iloc[2]
    cat = p.sample(frac=1.0, random_state=1)
    cat = pd.concat([p.iloc[[0, 2]], cat[~cat.index.isin([0, 2])]])  # first rows stay first
    cat = cat.astype({"unit": "category", "period": "category", "indicator": "category",
                      "unit_type": "category", "value": "float32"})
    pd.testing.assert_frame_equal(f, rule_violation(cat))
    g = rule_violation(cat, period="2024-04")
    pd.testing.assert_frame_equal(g, f.iloc[2:].reset_index(drop=True))
