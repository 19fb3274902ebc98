"""Heaping per indicator (last_digit) and on round numbers (round_number), issue 12.
Hand-computed figures come from tests/reference/heaping_by_hand.py (standard library
only); the rest is known by construction."""

import math

import numpy as np
import pandas as pd
import pytest

from anquan_analysis.checks import CHECKS, balance
from anquan_analysis.checks.balance.digits import heap_share
from anquan_analysis.checks.balance.multiples import multiple_chance
from anquan_analysis.checks.balance.rounding import span_zh
from anquan_analysis.findings import CHECK_FAMILIES, CHECK_ZH, FINDINGS_COLUMNS
from anquan_analysis.synth import make_city

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
PERSONS = [350, 400, 400, 450, 350, 400, 500, 400, 450, 350, 400, 450]
PERSONS_TRUE = [337, 412, 389, 455, 362, 398, 487, 411, 446, 353, 402, 441]
INSPECTED = [61, 73, 58, 65, 71, 64, 69, 57, 63, 72, 68, 60]


def panel(rows):
    """rows: (unit, unit_type, period, indicator, value)."""
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    return df.assign(parent="示范区", approx=False, value=df["value"].astype(float))


def one_unit(persons):
    return panel([("区应急局", "department", m, ind, v)
                  for ind, vals in (("worker_training_persons", persons),
                                    ("units_inspected", INSPECTED))
                  for m, v in zip(MONTHS, vals)])


# ----------------------------------------------------------------------- last_digit

def test_last_digit_names_the_rounded_indicator_by_hand():
    # Three tests adjusted together: the unit pooled (14 of 24 end in 0/5, chance
    # 0.2 each), persons (12 of 12, sd 47 > 25 so 0.2) and inspected (2 of 12).
    f = balance.last_digit(one_unit(PERSONS), info_p=1.0)
    own = f[f["indicator"] == "worker_training_persons"]
    assert own["statistic"].item() == 12 and own["observed"].item() == 1.0
    assert own["p_value"].item() == pytest.approx(0.2 ** 12, rel=1e-12)
    assert own["q_value"].item() == pytest.approx(1.2288000000000007e-08, rel=1e-9)
    assert own["severity"].item() == "alert"
    assert own["message"].item().startswith("区应急局从业人员安全技能培训人次报送的12个不小于10的数值中")
    pooled = f[f["indicator"].isna()]
    assert pooled["statistic"].item() == 14 and pooled["expected"].item() == pytest.approx(0.2)
    assert pooled["p_value"].item() == pytest.approx(4.1167066565420365e-05, rel=1e-9)
    assert pooled["q_value"].item() == pytest.approx(6.175059984813054e-05, rel=1e-9)
    insp = f[f["indicator"] == "units_inspected"]
    assert insp["p_value"].item() == pytest.approx(0.7251220930574073, rel=1e-6)


def test_last_digit_same_values_unrounded_are_not_found():
    assert balance.last_digit(one_unit(PERSONS_TRUE)).empty


def test_last_digit_one_rounded_indicator_not_diluted_by_the_others():
    # 30 towns, eleven honest indicators each (wide Poisson figures); 甲镇 rounds its
    # persons trained to 50 in 12 of 12 months.  Pooled over 132 figures the twelve
    # round ones barely move 甲镇's share; on their own they give p = 0.2^12.
    rng = np.random.default_rng(7)
    inds = ["units_inspected", "general_hazards_found", "general_hazards_rectified",
            "principal_training_persons", "standard_publicity_persons",
            "assistance_visits", "assisted_enterprises", "elevators_inspected",
            "drill_participants", "law_enforcement_inspections", "covert_inspections"]
    rows = []
    for u in range(30):
        name = "甲镇" if u == 0 else f"镇{u:02d}"
        for t, m in enumerate(MONTHS):
            for k, ind in enumerate(inds):
                rows.append((name, "town", m, ind, rng.poisson(200 + 40 * k)))
            persons = rng.poisson(420)
            rows.append((name, "town", m, "worker_training_persons",
                         50 * round(persons / 50) if u == 0 else persons))
    f = balance.last_digit(panel(rows))
    flagged = f[f["severity"] != "info"]
    assert set(zip(flagged["unit"], flagged["indicator"])) == {("甲镇", "worker_training_persons")}
    assert flagged["p_value"].item() == pytest.approx(0.2 ** 12, rel=1e-12)
    # the old pooled test alone does not find it
    pooled_only = balance.last_digit(panel(rows), min_series_n=10 ** 6)
    assert (pooled_only["severity"] == "info").all()


def test_heap_share_and_multiple_chance_agree_on_fives():
    means = np.array([11.9, 40.0, 180.0, 9.99, 25.0])
    vars_ = np.array([8.5, 45.0, 200.0, 1.0, 30.0])
    assert multiple_chance(means, vars_, 10, 5) == pytest.approx(
        heap_share(means, vars_, 10, flat_sd=1e9), rel=1e-6)


# --------------------------------------------------------------------- round_number

def test_round_number_registered_in_the_balance_family():
    assert list(CHECKS).index("round_number") == list(CHECKS).index("last_digit") + 1
    assert CHECK_FAMILIES["round_number"] == "balance" and CHECK_ZH["round_number"] == "整数凑数"


def test_round_number_rounded_indicator_by_hand():
    # persons: 12 of 12 multiples of 50, chance 0.02 (mean 408, sd 47: flat on 50s),
    # p = 3 × 0.02^12; inspected has one multiple of 10 (p = 1).  BH over the two.
    f = balance.round_number(one_unit(PERSONS))
    assert list(f["indicator"]) == ["worker_training_persons"]
    row = f.iloc[0]
    assert row["statistic"] == 12 and row["observed"] == 1.0
    assert row["expected"] == pytest.approx(0.020000000585473354, rel=1e-6)
    assert row["p_value"] == pytest.approx(1.228800431657864e-20, rel=1e-5)
    assert row["q_value"] == pytest.approx(2.457600863315728e-20, rel=1e-5)
    assert row["severity"] == "alert" and row["family"] == "balance"
    assert row["message"] == "区应急局2024年1—12月从业人员安全技能培训人次12个数值均为50的整数倍，疑似估报凑数"
    assert "p=" not in row["message"]


def test_round_number_same_values_unrounded_are_not_found():
    assert balance.round_number(one_unit(PERSONS_TRUE), info_p=1.0).empty


def test_round_number_small_values_are_round_by_themselves():
    # 乙镇's drills about 11 (five 10s among eleven figures ≥ 10) and sessions about
    # 16 (10, 20, 30, 10 among ten): the chance of a multiple of 10 is 0.175 and
    # 0.116 there, p = 3 × 0.0297 and 3 × 0.0213 (q 0.089): nothing to report.
    # With the integers' 1/10 the two would be flagged (q 0.017 and 0.038).
    rows = [("乙镇", "town", m, "drills", v)
            for m, v in zip(MONTHS, [10, 11, 10, 13, 12, 10, 9, 10, 14, 11, 10, 12])]
    rows += [("乙镇", "town", m, "principal_training_sessions", v)
             for m, v in zip(MONTHS, [8, 10, 20, 12, 30, 15, 10, 22, 9, 18, 26, 14])]
    f = balance.round_number(panel(rows), info_p=1.0)
    drills = f[f["indicator"] == "drills"]
    assert drills["expected"].item() == pytest.approx(0.17474725444559436, rel=1e-6)
    assert drills["p_value"].item() == pytest.approx(3 * 0.029663852602184276, rel=1e-5)
    sessions = f[f["indicator"] == "principal_training_sessions"]
    assert sessions["expected"].item() == pytest.approx(0.115876444430132, rel=1e-6)
    assert sessions["p_value"].item() == pytest.approx(3 * 0.021262446856778434, rel=1e-5)
    assert (f["severity"] == "info").all()
    assert balance.round_number(panel(rows)).empty


def test_round_number_message_when_only_some_figures_are_round():
    vals = [350, 400, 412, 450, 350, 398, 500, 400, 446, 350, 400, 3]
    rows = [("丙局", "department", m, "worker_training_persons", v) for m, v in zip(MONTHS, vals)]
    f = balance.round_number(panel(rows))
    assert f["indicator"].item() == "worker_training_persons" and f["statistic"].item() == 8
    assert f["message"].item().startswith(
        "丙局2024年1—12月从业人员安全技能培训人次不小于10的11个数值中有8个为50的整数倍（按其数值范围约应有")


def test_multiple_chance_equals_the_direct_sum():
    def direct(mean, var, cut, m):
        s = max(math.sqrt(max(var, mean)), 0.5)
        w = [(v, math.exp(-0.5 * ((v - mean) / s) ** 2))
             for v in range(cut, int(mean + 60 * s) + 10 * m)]
        return sum(x for v, x in w if v % m == 0) / sum(x for _, x in w)
    cases = [(12.0, 12.0, 10), (37.0, 36.0, 50), (50.0, 50.0, 50), (400.0, 40000.0, 50),
             (30.0, 300.0, 100), (900.0, 2500.0, 100), (15.0, 64.0, 10), (3.0, 40.0, 10)]
    for mean, var, m in cases:
        got = multiple_chance([mean], [var], 10, m)[0]
        assert got == pytest.approx(direct(mean, var, 10, m), rel=1e-6), (mean, var, m)


def test_span_zh():
    assert span_zh("2024-01", "2024-12") == "2024年1—12月"
    assert span_zh("2024-11", "2025-02") == "2024年11月—2025年2月"
    assert span_zh("2024Q1", "2024Q3") == "2024年第一季度—2024年第三季度"
    assert span_zh("2024-04", "2024-04") == "2024年4月"


def test_round_number_schema_period_no_mutation_and_missing_column():
    city = make_city(0)
    before = city.panel.copy()
    f = balance.round_number(city.panel, period="2024-10")
    assert list(f.columns) == FINDINGS_COLUMNS
    assert set(f["period"].dropna()) <= {"2024-10"}
    with pytest.raises(ValueError, match="value"):
        balance.round_number(city.panel.drop(columns="value"))
    pd.testing.assert_frame_equal(city.panel, before)


@pytest.mark.parametrize("seed", [1, 3])
def test_round_number_on_the_synthetic_city(seed):
    # Units that round every figure to 5 (last_digit's injection) have half their
    # figures on multiples of 10; clean units, and cities with nothing injected,
    # give nothing.  Flat lines at a multiple of 10 (repeated_value's) are found
    # too: 12 of 12 figures on a multiple of 10 is what they are.
    city = make_city(seed)
    f = balance.round_number(city.panel)
    flagged = set(f.loc[f["severity"] != "info", "unit"])
    rounded = set(city.truth.loc[city.truth["kind"] == "last_digit", "unit"])
    flat = set(city.truth.loc[city.truth["kind"] == "repeated_value", "unit"])
    assert rounded <= flagged and flagged <= rounded | flat
    quiet = make_city(seed, inject=False)
    assert (balance.round_number(quiet.panel)["severity"] == "info").all()
