"""Tests of the balance (data credibility) checks.  Hand-computed figures come from
tests/reference/balance_reference_values.py (closed forms, standard library only)."""

import numpy as np
import pandas as pd
import pytest

from anquan_analysis.checks import balance
from anquan_analysis.findings import FINDINGS_COLUMNS, bh_adjust
from anquan_analysis.synth import make_city

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


def panel(rows):
    """rows: (unit, unit_type, period, indicator, value)."""
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    return df.assign(parent="示范区", approx=False, value=df["value"].astype(float))


# ------------------------------------------------------------------ underdispersion

def test_underdispersion_group_statistic_by_hand():
    p = panel([(f"{k}镇", "town", "2024-04", "units_inspected", v)
               for k, v in zip("甲乙丙丁戊", [10, 11, 9, 10, 10])])
    f = balance.underdispersion(p)
    assert len(f) == 5 and set(f["check"]) == {"underdispersion"}
    assert f["statistic"].iloc[0] == pytest.approx(0.2)
    assert f["p_value"].iloc[0] == pytest.approx(0.004678840160444397, rel=1e-9)
    assert set(f["severity"]) == {"alert"}
    assert f.loc[f["unit"] == "乙镇", "observed"].item() == 11
    assert f["expected"].iloc[0] == pytest.approx(10.0)
    assert "保持平衡" in f["message"].iloc[0] and "χ²=0.2" in f["message"].iloc[0]


def test_underdispersion_skips_small_means_and_spread_groups():
    small = panel([(f"{k}镇", "town", "2024-04", "units_inspected", v)
                   for k, v in zip("甲乙丙丁戊", [2, 2, 2, 2, 2])])
    assert balance.underdispersion(small).empty          # mean 2 < min_mean 5
    spread = panel([(f"{k}镇", "town", "2024-04", "units_inspected", v)
                    for k, v in zip("甲乙丙丁戊", [3, 30, 9, 17, 50])])
    assert balance.underdispersion(spread).empty


def test_underdispersion_pair_test_by_hand():
    a, b = [20] * 6, [21, 19, 20, 20, 21, 19]
    rows = [("甲镇", "town", MONTHS[t], "units_inspected", a[t]) for t in range(6)]
    rows += [("乙镇", "town", MONTHS[t], "units_inspected", b[t]) for t in range(6)]
    f = balance.underdispersion(panel(rows))
    assert sorted(f["unit"]) == ["乙镇", "甲镇"]
    assert f["statistic"].iloc[0] == pytest.approx(0.10006253908692933)
    assert f["p_value"].iloc[0] == pytest.approx(2.01046969371399e-05, rel=1e-9)
    assert f["period"].isna().all()                       # pooled over periods
    assert "甲镇与乙镇" in f.loc[f["unit"] == "甲镇", "message"].item()


# ----------------------------------------------------------------- identical_values

def test_tie_chance_poisson_by_hand():
    c = balance._tie_chance([1.0], [1.0], [1.0], [1.0], [True])
    assert c[0] == pytest.approx(0.30850832255367105, rel=1e-9)


def test_identical_values_finds_copied_row_only():
    rng = np.random.default_rng(3)
    inds = ["units_inspected", "general_hazards_found", "general_hazards_rectified",
            "principal_training_sessions", "principal_training_persons", "drills"]
    rows = [(f"U{u}", "town", m, ind, rng.poisson(30)) for u in range(8) for m in MONTHS[:6]
            for ind in inds]
    p = panel(rows)
    copied = p.loc[(p["unit"] == "U1") & (p["period"] == "2024-03"), ["indicator", "value"]]
    mask = (p["unit"] == "U2") & (p["period"] == "2024-03")
    p.loc[mask, "value"] = p.loc[mask, "indicator"].map(copied.set_index("indicator")["value"])
    f = balance.identical_values(p)
    flagged = f[f["severity"] != "info"]
    assert sorted(flagged["unit"]) == ["U1", "U2"]
    assert set(flagged["period"]) == {"2024-03"} and set(flagged["observed"]) == {6.0}
    assert "与U2完全相同" in flagged.loc[flagged["unit"] == "U1", "message"].item()


# ------------------------------------------------------------------- repeated_value

def test_repeated_value_run_chance_by_hand():
    rows = [("甲局", "department", m, "worker_training_persons", 4) for m in MONTHS[:6]]
    rows += [("乙局", "department", m, "worker_training_persons", v)
             for m, v in zip(MONTHS[:6], [3, 5, 4, 6, 2, 4])]
    f = balance.repeated_value(panel(rows), info_p=1.0)
    assert list(f["unit"]) == ["甲局"]
    assert f["p_value"].item() == pytest.approx(0.00013715972981272778, rel=1e-6)
    assert f["statistic"].item() == 6 and f["observed"].item() == 4
    assert f["period"].item() == "2024-06"
    assert "2024-01至2024-06连续6期均为4" in f["message"].item()


def test_repeated_value_period_restricts_to_runs_ending_there():
    vals = [7, 7, 7, 7, 3, 9]
    rows = [("甲局", "department", m, "drills", v) for m, v in zip(MONTHS[:6], vals)]
    assert balance.repeated_value(panel(rows), period="2024-06", info_p=1.0).empty
    f = balance.repeated_value(panel(rows), period="2024-04", info_p=1.0)
    assert list(f["period"]) == ["2024-04"] and f["statistic"].item() == 4


# ----------------------------------------------------------------------- last_digit

def test_last_digit_binomial_tail_by_hand():
    # 20 figures spread far wider than 25, 12 of them ending in 0 or 5.
    heaped = [100, 205, 310, 415, 520, 625, 730, 835, 940, 150, 260, 370]
    other = [101, 203, 307, 419, 521, 634, 748, 862]
    rows = [("甲镇", "town", f"{2023 + i // 12}-{i % 12 + 1:02d}", "units_inspected", v)
            for i, v in enumerate(heaped + other)]
    f = balance.last_digit(panel(rows), info_p=1.0)
    assert f["statistic"].item() == 12 and f["expected"].item() == pytest.approx(0.2)
    assert f["p_value"].item() == pytest.approx(0.00010172876515704845, rel=1e-9)
    assert f["observed"].item() == pytest.approx(0.6)


def test_heap_share_accounts_for_the_cut_at_ten():
    narrow, wide_ = balance._heap_share([11.0, 500.0], [11.0, 10000.0], 10)
    assert narrow > 0.25 and wide_ == pytest.approx(0.2)


# -------------------------------------------------------------------------- benford

def test_first_digit():
    assert list(balance.first_digit([1, 9.99, 10, 0.5, 123, 1000])) == [1, 9, 1, 5, 1, 1]


# ---------------------------------------------------------------------- pinned_rate

def test_pinned_rate_binomial_tail_by_hand():
    rows = []
    for m in MONTHS[:5]:
        rows += [("甲镇", "town", m, "major_hazards_found", 2), ("甲镇", "town", m, "major_hazards_rectified", 2)]
        rows += [("乙镇", "town", m, "major_hazards_found", 10), ("乙镇", "town", m, "major_hazards_rectified", 8)]
        rows += [("丙镇", "town", m, "major_hazards_found", 10), ("丙镇", "town", m, "major_hazards_rectified", 8)]
    f = balance.pinned_rate(panel(rows), info_p=1.0)
    assert list(f["unit"]) == ["甲镇"]
    assert f["expected"].item() == pytest.approx(0.8)
    assert f["p_value"].item() == pytest.approx(0.10737418240000006, rel=1e-12)
    assert f["statistic"].item() == 10 and f["severity"].item() == "info"
    assert "全部整改的概率为0.11" in f["message"].item()


def test_tarone_family_and_padded_bh():
    q = balance._tarone_bh(np.array([0.001, 1.0, 1.0]), np.array([0.001, 0.001, 0.5]))
    assert q[2] == 1.0 and q[0] == pytest.approx(0.002)   # family of the first two only
    p = np.array([0.001, 0.02, 0.04])
    padded = bh_adjust(np.concatenate([p, np.ones(7)]))[:3]
    assert np.allclose(balance._bh_of(p, 10), padded)


# --------------------------------------------------------------------- conventions

def test_schema_no_mutation_and_missing_column():
    city = make_city(0)
    before = city.panel.copy()
    for fn in (balance.underdispersion, balance.identical_values, balance.repeated_value,
               balance.last_digit, balance.benford, balance.pinned_rate):
        f = fn(city.panel, period="2024-10")
        assert list(f.columns) == FINDINGS_COLUMNS
        assert set(f["period"].dropna()) <= {"2024-10"}
        with pytest.raises(ValueError, match="value"):
            fn(city.panel.drop(columns="value"))
    pd.testing.assert_frame_equal(city.panel, before)


# --------------------------------------------------------------------- synthetic city

KINDS = {"underdispersion": balance.underdispersion, "identical_values": balance.identical_values,
         "pinned_rate": balance.pinned_rate,
         "repeated_value": balance.repeated_value, "last_digit": balance.last_digit,
         "benford": balance.benford}


@pytest.mark.parametrize("seed", [1, 3])
def test_synthetic_city_recall_and_false_alarms(seed):
    city = make_city(seed)
    clean = set(city.units["unit"]) - set(city.truth["unit"])
    for kind, fn in KINDS.items():
        f = fn(city.panel)
        flagged = set(f.loc[f["severity"] != "info", "unit"])
        assert set(city.truth.loc[city.truth["kind"] == kind, "unit"]) <= flagged, kind
        assert not flagged & clean, kind
    quiet = make_city(seed, inject=False)
    for fn in KINDS.values():
        f = fn(quiet.panel)
        assert (f["severity"] == "info").all()
