"""repeated_value's minimum rule (issue 12): a figure repeated at the indicator's
mandated minimum for the unit is judged by how often units of that size rise above it,
not as a Poisson count; a flat line above the minimum is still found.

Every figure here is worked out apart from the package by
tests/reference/repeated_floor_by_hand.py (standard library only),
whose docstring restates the rule.  Each test names the mutant it fails on."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anquan_analysis.checks import balance, run_checks
from anquan_analysis.checks.balance.floors import mandated_minimum
from anquan_analysis.dataset import Dataset
from anquan_analysis.panel import as_panel

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]

# the QUOTA and SIZE districts of the reference script, read from it (one copy)
sys.path.insert(0, str(Path(__file__).parent / "reference"))
from repeated_floor_by_hand import QUOTA, QUOTA_E, SIZE, SIZE_E  # noqa: E402


def panel(series, indicator):
    rows = [(u, "town", m, indicator, float(v))
            for u, vals in series.items() for m, v in zip(MONTHS, vals)]
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    return df.assign(parent="示范区", approx=False)


def exposure(sizes):
    return pd.DataFrame({"unit": list(sizes), "sector": "",
                         "enterprises": [float(v) for v in sizes.values()],
                         "source_file": "x.csv", "source_row": np.arange(len(sizes)) + 2})


def flagged(f):
    return set(f.loc[f["severity"].isin(["warning", "alert"]), "unit"])


def row(f, unit, observed):
    hit = f[(f["unit"] == unit) & (f["observed"] == observed)]
    assert len(hit) == 1, f
    return hit.iloc[0]


# ---------------------------------------------------------------- quota per enterprise

def test_a_quota_per_enterprise_is_read_from_the_smallest_figures():
    # Nine of ten towns have their smallest figure at ⌈e/12⌉ (c = 0.0795, the
    # midpoint of [5/66, 1/12]); a constant matches two.  Mutant: the proportional
    # quota left out (or read with ⌊·⌋) gives NaN (or e/12 − 1) here.
    cube = as_panel(panel(QUOTA, "units_inspected")).series(None)
    e = np.array([QUOTA_E[u] for u in cube.units], dtype=float)
    floor = mandated_minimum(cube, slice(None), enterprises=e)[:, 0]
    assert list(floor) == [float(np.ceil(x / 12)) for x in e]
    # without the enterprises no figure is the smallest of half the towns: no floor
    assert np.isnan(mandated_minimum(cube, slice(None))).all()


def test_an_honest_unit_at_its_quota_is_not_flagged_and_a_flat_line_above_it_is():
    df, ex = panel(QUOTA, "units_inspected"), exposure(QUOTA_E)
    f = balance.repeated_value(df, exposure=ex, info_p=1.0)
    assert flagged(f) == {"镇H"}
    h = row(f, "镇H", 9)
    # 9 = the quota 6 + a count of mean 3.  Nothing outside the run: its variance
    # ratio is the peers', 1 + 3/k with 1/k = 0.75 the median of the ten towns'
    # (s² − m)/m² above their quotas, φ = 3.25: a negative binomial (size 4/3);
    # L = T = 12, so p = Σ_y NB(y)^12 (Poisson(3): 3.26e-08, the mutant "peers
    # ignored").  BH over 10 series + 10 floors.
    assert h["p_value"] == pytest.approx(2.6689771198371666e-09, rel=1e-6)
    assert h["q_value"] == pytest.approx(5.3379542396743336e-08, rel=1e-6)
    assert h["severity"] == "alert"
    # 镇G at its quota all year: (1 + 12·ρ·18/k)^−k, ρ = 0.015926 a month per
    # enterprise, k = 1.687 (w = enterprises explains the excess better than w = 1)
    g = row(f, "镇G", 2)
    assert g["p_value"] == pytest.approx(0.15331031372460632, rel=1e-6)
    assert g["severity"] == "info"


def test_the_honest_quota_is_flagged_when_the_rule_is_removed_or_blind_to_size():
    # Mutants: the rule switched off, or the exposure not used: 镇G at 2 is then a
    # Poisson(2) count flat for a year, p = Σ_k Poisson(k; 2)^12.
    df, ex = panel(QUOTA, "units_inspected"), exposure(QUOTA_E)
    for f in (balance.repeated_value(df), balance.repeated_value(
            df, exposure=ex, mandated_minimum=False)):
        assert flagged(f) == {"镇G", "镇H"}
        assert row(f, "镇G", 2)["p_value"] == pytest.approx(3.1045109607480914e-07, rel=1e-6)


def test_run_checks_gives_repeated_value_the_exposure():
    df, ex = panel(QUOTA, "units_inspected"), exposure(QUOTA_E)
    got = run_checks(Dataset(panel=df, exposure=ex), checks=["repeated_value"])
    assert set(got["unit"]) == {"镇H"}
    assert got["p_value"].item() == pytest.approx(2.6689771198371666e-09, rel=1e-6)


# ------------------------------------------------------------ size at a constant floor

def test_a_large_unit_at_the_floor_is_found_and_a_small_one_is_not():
    # Floor 1 (6 of 10 towns; the proportional quota matches no more).  ρ = 0.049
    # drills a month per enterprise, k = 2.515.  大镇 (100 enterprises) at 1 all
    # year: (1 + 12·4.909/2.515)^−2.515 = 3.2e-4, q = 20·p; 镇2 (10): 0.048.
    # Mutant: size ignored (w = 1: ρ = 2.7, k = 0.64) gives 大镇 p = 0.08.
    df, ex = panel(SIZE, "drill_enterprises"), exposure(SIZE_E)
    f = balance.repeated_value(df, exposure=ex, info_p=1.0)
    assert flagged(f) == {"大镇"}
    big = row(f, "大镇", 1)
    assert big["p_value"] == pytest.approx(0.0003233363064002279, rel=1e-6)
    assert big["q_value"] == pytest.approx(0.006466726128004558, rel=1e-6)
    small = row(f, "镇2", 1)
    assert small["p_value"] == pytest.approx(0.04808576438329017, rel=1e-6)
    assert "最低要求" in big["message"]


# ------------------------------------------------------------------- meetings, no size

def test_meetings_at_the_one_a_month_minimum():
    # Floor 1 (7 of 8 towns); ρ = 0.823, k = 0.179 (w = 1: no enterprises).
    # Mutant: the count model for runs above the floor not shifted gives 甲镇
    # Σ Poisson(k; 7)^12 = 2.8e-10 instead of Σ Poisson(y; 6)^12 = 6.7e-10.
    meetings = {**{f"镇{u}": [1] * 12 for u in range(1, 6)},
                "镇6": [1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1],
                "镇7": [1, 1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 1], "甲镇": [7] * 12}
    f = balance.repeated_value(panel(meetings, "safety_meetings"), info_p=1.0)
    assert flagged(f) == {"甲镇"}
    assert row(f, "甲镇", 7)["p_value"] == pytest.approx(6.710234740370588e-10, rel=1e-6)
    assert row(f, "甲镇", 7)["q_value"] == pytest.approx(1.073637558459294e-08, rel=1e-6)
    assert row(f, "镇1", 1)["p_value"] == pytest.approx(0.4857208833488457, rel=1e-6)
