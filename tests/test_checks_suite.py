"""suite: one error rate for the single-unit checks (Benjamini & Bogomolov's two
stages).  Reference values by hand, and against a brute force over levels written
here from the procedure's definition, not from suite_q's formula."""

import numpy as np
import pandas as pd
import pytest

from anquan_analysis.checks import run_checks
from anquan_analysis.checks.suite import SINGLE_UNIT, suite_level, suite_q
from anquan_analysis.dataset import Dataset
from anquan_analysis.findings import make_findings
from anquan_analysis.synth import make_city


def _brute(q, family, families, grid=np.linspace(1e-4, 1, 20_000)):
    """Smallest α of the grid at which each finding is rejected: select families by BH
    on their Simes p (a family's smallest q) at α, R of m; reject q ≤ α·R/m inside."""
    m = len(families)
    simes = np.array([min([x for x, f in zip(q, family) if f == fam], default=1.0)
                      for fam in families])
    out = []
    for x, f in zip(q, family):
        hit = np.nan
        for a in grid:
            order = np.sort(simes)
            k = np.flatnonzero(order <= a * np.arange(1, m + 1) / m)
            r = k.max() + 1 if len(k) else 0
            chosen = simes <= (order[r - 1] if r else -1)
            if r and chosen[families.index(f)] and x <= a * r / m:
                hit = a
                break
        out.append(hit)
    return np.array(out)


def test_suite_q_by_hand():
    # Simes: A 0.001, B 0.02, C none (1); family q: 0.003, 0.03, 1
    q = np.array([0.001, 0.03, 0.02])
    fam = np.array(["A", "A", "B"], dtype=object)
    got = suite_q(q, fam, ["A", "B", "C"])
    # A 0.001: max(0.003, 0.001·3/1); A 0.03: max(0.03, 0.03·3/2) = 0.045;
    # B 0.02: max(0.03, 0.02·3/2)
    assert got == pytest.approx([0.003, 0.045, 0.03])
    assert _brute(q, fam, ["A", "B", "C"]) == pytest.approx(got, abs=1e-4)


def test_suite_q_against_the_procedure_on_random_families():
    rng = np.random.default_rng(5)
    families = [f"F{i}" for i in range(7)]
    q = np.round(rng.uniform(0, 0.12, 14) ** 2 * 10, 4)
    fam = np.array(rng.choice(families[:5], 14), dtype=object)   # two with none
    got = suite_q(q, fam, families)
    brute = _brute(q, fam, families)
    rejected = ~np.isnan(brute)
    assert got[rejected] == pytest.approx(brute[rejected], abs=1e-4)
    assert (got[~rejected] >= 1 - 1e-4).all()       # never rejected below α = 1
    assert (got >= q - 1e-12).all()                   # never below the check's own q


def _row(check, unit, q, severity, message="m"):
    return {"check": check, "unit": unit, "unit_type": "town", "period": "2024-12",
            "indicator": "major_hazards_found", "observed": 0.0, "expected": 1.0,
            "lower": np.nan, "upper": np.nan, "statistic": 0.0, "p_value": q / 10,
            "q_value": q, "severity": severity, "message": message}


def test_a_lone_weak_finding_among_nine_checks_falls_to_info_and_says_so():
    f = make_findings(pd.DataFrame([
        _row("low_outlier", "甲镇", 0.04, "warning", "甲镇，2024年12月…应约3.0项，显著偏低。"),
        _row("surge", "乙镇", 0.0005, "alert"),
        _row("benford", "丙镇", 0.001, "info"),              # held back by its MAD
        _row("rule_violation", "丁镇", np.nan, "alert"),
    ]))
    before = f.copy()
    out = suite_level(f, list(SINGLE_UNIT))
    pd.testing.assert_frame_equal(f, before)                # not modified
    lo = out.loc[out["check"] == "low_outlier"].iloc[0]
    # Simes: surge 0.0005, benford 0.001, low_outlier 0.04, six with none (m = 9):
    # family q 0.0045, 0.0045, 0.12 → low_outlier is not selected at 0.05
    assert lo["severity"] == "info"
    assert lo["q_value"] == pytest.approx(0.12)              # max(0.12, 0.04·9/3)
    assert lo["message"].endswith("，偏低但经多重检验校正后不显著。")
    s = out.loc[out["check"] == "surge"].iloc[0]
    assert s["q_value"] == pytest.approx(0.0045)             # max(0.0045, 0.0005·9/2)
    assert s["severity"] == "alert"
    assert out.loc[out["check"] == "benford", "severity"].item() == "info"
    pd.testing.assert_frame_equal(out.loc[out["check"] == "rule_violation"],
                                  before.loc[before["check"] == "rule_violation"])


@pytest.fixture(scope="module")
def city():
    c = make_city(seed=0)
    return c, Dataset(panel=c.panel, exposure=c.exposure, ledger=c.ledger)


def test_run_checks_suite_level_only_ever_softens_the_single_unit_checks(city):
    c, ds = city
    alone = run_checks(ds)
    held = run_checks(ds, suite_level=True)
    key = ["check", "unit", "period", "indicator", "p_value"]
    both = alone.merge(held, on=key, suffixes=("", "_suite"), validate="one_to_one")
    assert len(both) == len(alone) == len(held)
    rank = {"info": 0, "warning": 1, "alert": 2}
    mine = both["check"].isin(SINGLE_UNIT) & both["q_value"].notna()
    assert (both.loc[mine, "q_value_suite"] >= both.loc[mine, "q_value"] - 1e-12).all()
    assert (both["severity_suite"].map(rank) <= both["severity"].map(rank)).all()
    assert (both.loc[mine, "q_value_suite"] > both.loc[mine, "q_value"]).any()
    others = both.loc[~mine]
    assert (others["severity_suite"] == others["severity"]).all()
    # the city's planted zero reporters are strong enough to stand for the suite
    zero = set(c.truth.loc[c.truth["kind"] == "zero_report", "unit"])
    flagged = set(held.loc[(held["check"] == "zero_report")
                           & (held["severity"] != "info"), "unit"])
    assert zero and zero <= flagged
