"""Self-report share and sector concentration."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anquan_analysis.checks import sectors as S


def _sources(found_ent: dict, unit_type="county", period="2024Q2"):
    rows = []
    for unit, (dept, ent) in found_ent.items():
        rows += [(unit, unit_type, period, "major_hazards_found_dept", float(dept)),
                 (unit, unit_type, period, "major_hazards_found_enterprise", float(ent))]
    return pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"]) \
        .assign(parent=None)


def test_guilin_overall_share_is_stated():
    # 桂林 2024H1: 72 found by departments, 7 self-reported = 8.86%
    p = _sources({"灵川县": (40, 5), "兴安县": (20, 2), "龙胜县": (12, 0)})
    f = S.low_self_report(p)
    total = f.loc[f["unit"].isna()].iloc[0]
    assert total["observed"] == 7 and total["statistic"] == pytest.approx(7 / 79)
    assert total["severity"] == "info" and "8.86%" in total["message"]


def test_self_report_share_binomial_by_hand():
    # five counties, four at exactly 30%: almost no variation beyond the binomial
    p = _sources({"A": (14, 6), "B": (21, 9), "C": (7, 3), "D": (28, 12), "E": (30, 0)})
    t = S.self_report_table(p).set_index("unit")
    assert t.loc["E", "expected_share"] == pytest.approx(30 / 100)   # peers without E
    assert t.loc["A", "expected_share"] == pytest.approx(24 / 110)
    # φ = median(z²)/χ²₁ median, z the normal scores of each unit's binomial mid-p
    # against the group's median share, 30%: A…D are at it exactly (A: 6 of 20, mid-p
    # P(X < 6) + ½P(X = 6) for X ~ Bin(20, 0.3)), E far below; φ < (n−1)/n, so τ² = 0
    # and E is judged by the binomial itself
    k, n = t["enterprise"], t["found"]
    z = stats.norm.ppf(stats.binom.cdf(k - 1, n, 0.3) + 0.5 * stats.binom.pmf(k, n, 0.3))
    assert t.loc["E", "phi"] == pytest.approx(np.median(z ** 2) / stats.chi2.ppf(0.5, 1))
    assert t.loc["E", "phi"] < 4 / 5 and t.loc["E", "tau2"] == 0
    binom = stats.binom.cdf(0, 30, 0.3)                              # 2.25e-5
    assert t.loc["E", "p_low"] == pytest.approx(binom, rel=1e-9)
    f = S.low_self_report(p)
    row = f.set_index("unit").loc["E"]
    assert row["severity"] in ("warning", "alert") and row["observed"] == 0
    assert "0.00%" in row["message"] and "30.00%" in row["message"]
    assert set(f["unit"].dropna()) == {"E"}


def test_self_report_from_ledger_counts_when_panel_has_none():
    panel = pd.DataFrame({"unit": ["A", "B"], "unit_type": "town", "parent": None,
                          "period": "2024-01", "indicator": "drills", "value": [1.0, 2.0]})
    lc = pd.DataFrame({"unit": ["A", "B"], "period": "2024-01", "sector": "工贸",
                       "reported": [10, 10], "found": [10, 10], "found_dept": [10, 6],
                       "found_enterprise": [0, 4], "rectified": 0, "rectified_dept": 0,
                       "rectified_enterprise": 0})
    t = S.self_report_table(panel, ledger_counts=lc).set_index("unit")
    assert t.loc["A", "found"] == 10 and t.loc["B", "share"] == pytest.approx(0.4)


def _ledger(unit_sector_found):
    return pd.DataFrame([(u, "2024-03", s, f) for u, s, f in unit_sector_found],
                        columns=["unit", "period", "sector", "found"])


def test_sector_concentration_group_row():
    panel = pd.DataFrame({"unit": ["A", "B"], "unit_type": "town", "parent": None,
                          "period": "2024-03", "indicator": "major_hazards_found",
                          "value": [80.0, 75.0]})
    lc = _ledger([("A", "建筑施工", 30), ("A", "工贸", 40), ("A", "消防", 10),
                  ("B", "建筑施工", 22), ("B", "工贸", 32), ("B", "危险化学品", 21)])
    exposure = pd.DataFrame({"unit": ["A"] * 5 + ["B"] * 3,
                             "sector": ["", "建筑施工", "工贸", "消防", "养老", "", "工贸", "危险化学品"],
                             "enterprises": [300, 60, 60, 60, 120, 200, 100, 100]})
    f = S.sector_concentration(panel, exposure=exposure, ledger_counts=lc)
    assert len(f) == 1 and pd.isna(f["unit"].iloc[0])
    row = f.iloc[0]
    assert row["observed"] == pytest.approx(124 / 155)                # 巴南's 80%
    assert "工贸72项、建筑施工52项" in row["message"] and "80.00%" in row["message"]
    # 养老: 120 of 500 enterprises, 0 of 155 hazards: significantly low
    assert "养老（0项" in row["message"] and row["severity"] in ("warning", "alert")
    funnel = S.sector_funnel(pd.Series({"建筑施工": 52, "工贸": 72, "消防": 10,
                                        "危险化学品": 21, "养老": 0}),
                             pd.Series({"建筑施工": 60, "工贸": 160, "消防": 60,
                                        "危险化学品": 100, "养老": 120}))
    assert funnel.set_index("sector").loc["养老", "expected"] == pytest.approx(155 * 120 / 500)


def test_sector_concentration_needs_the_ledger():
    panel = pd.DataFrame({"unit": ["A"], "unit_type": "town", "parent": None,
                          "period": "2024-03", "indicator": "major_hazards_found", "value": [1.0]})
    assert S.sector_concentration(panel).empty


def test_per_unit_concentration_multinomial():
    units = [f"T{i}" for i in range(8)]
    rows = []
    for u in units[1:]:
        rows += [(u, "工贸", 4), (u, "建筑施工", 3), (u, "消防", 3), (u, "商贸", 2)]
    rows += [("T0", "工贸", 12)]
    lc = _ledger(rows)
    panel = pd.DataFrame({"unit": units, "unit_type": "town", "parent": None,
                          "period": "2024-03", "indicator": "major_hazards_found", "value": 12.0})
    f = S.sector_concentration(panel, ledger_counts=lc, per_unit=True)
    unit_rows = f.loc[f["unit"].notna()].set_index("unit")
    assert list(unit_rows.index) == ["T0"]
    # P(all 12 in one sector) under the peers' mix (4,3,3,2)/12 ≈ Σ p^12: tiny
    assert unit_rows.loc["T0", "observed"] == 1.0 and unit_rows.loc["T0", "p_value"] < 0.001


def test_group_row_counts_only_named_sectors_in_the_window():
    # blank and missing sectors and the month after the window are left out:
    # 工贸 30 + 5, 建筑施工 20, 消防 5 → top two 55 of 60
    lc = pd.DataFrame({
        "unit": ["A", "A", "B", "B", "B", "A", "B"],
        "period": ["2024-02", "2024-03", "2024-03", "2024-03", "2024-03", "2024-04", "2024-02"],
        "sector": ["工贸", "建筑施工", "工贸", "", None, "消防", "消防"],
        "found": [30, 20, 5, 50, 50, 100, 5]})
    panel = pd.DataFrame({"unit": ["A", "B"], "unit_type": "town", "parent": None,
                          "period": "2024-03", "indicator": "major_hazards_found",
                          "value": [1.0, 1.0]})
    f = S.sector_concentration(panel, ledger_counts=lc, period="2024-03")
    row = f.iloc[0]
    assert row["observed"] == pytest.approx(55 / 60)
    assert row["statistic"] == pytest.approx((35 ** 2 + 20 ** 2 + 5 ** 2) / 60 ** 2)
    assert "工贸35项、建筑施工20项" in row["message"] and row["message"].startswith("截至2024-03累计")


def test_per_unit_simulation_in_blocks_equals_one_draw(monkeypatch):
    # drawn a few simulations at a time, the p-values and mean HHI are those of one
    # n_sim × units multinomial call with the same seed
    import numpy as np
    n = np.array([12, 7, 30])
    pi = np.array([[0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.4, 0.4, 0.2]])
    hhi = np.array([0.5, 0.4, 0.36])
    sim = np.random.default_rng(3).multinomial(n, pi, size=(500, 3))
    sim_hhi = ((sim / n[None, :, None]) ** 2).sum(axis=2)
    monkeypatch.setattr(S, "_SIM_CELLS", 20)     # blocks of two simulations
    hits, mean = S._simulated_hhi(n, pi, 500, 3, hhi)
    assert hits.tolist() == (sim_hhi >= hhi - 1e-12).sum(axis=0).tolist()
    assert mean.tolist() == sim_hhi.mean(axis=0).tolist()
