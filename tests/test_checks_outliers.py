"""Funnel plot, low outliers and zero reporters.  Reference figures: the six-unit
example worked by hand in tests/reference/funnel_by_hand.py."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anquan_analysis import indicators as I
from anquan_analysis.checks import _stats as S
from anquan_analysis.checks import _funnel as FN
from anquan_analysis.checks import outliers as O

X = [100, 200, 50, 400, 150, 100]
OBS = [4, 12, 0, 30, 3, 11]
UNITS = list("ABCDEF")


def _six():
    panel = pd.DataFrame({"unit": UNITS, "unit_type": "town", "parent": None, "period": "2024-06",
                          "indicator": "major_hazards_found", "value": np.array(OBS, float)})
    exposure = pd.DataFrame({"unit": UNITS, "sector": "", "enterprises": X})
    return panel, exposure


def test_funnel_like_funnelplotr_by_hand():
    panel, exposure = _six()
    before = panel.copy()
    ft = O.funnel_table(panel, exposure=exposure, model="funnelplotr",
                        min_peers=2).set_index("unit")
    # FunnelPlotR's settings are the sqrt-normal model's with the unit in its rate,
    # 2(√O − √E) and 10% winsorising: the same φ, τ² and limits
    same = O.funnel_table(panel, exposure=exposure, model="sqrt-normal", leave_one_out=False,
                          z_method="sqrt", winsor=0.1, min_peers=2).set_index("unit")
    cols = ["expected", "phi", "tau2", "lower95", "upper95", "lower998", "upper998", "z"]
    pd.testing.assert_frame_equal(ft[cols], same[cols])
    assert list(ft["expected"]) == pytest.approx([6, 12, 3, 24, 9, 6], abs=1e-12)
    # reference: phi = 19.6656…/6, tau2 = (nφ − 5)/(240 − 14112/240)
    assert ft["phi"].iloc[0] == pytest.approx(3.277590920866333, abs=1e-9)
    assert ft["tau2"].iloc[0] == pytest.approx(0.08093568170639073, abs=1e-9)
    assert list(ft["lower95"]) == pytest.approx(
        [0.5905443763463109, 1.685222570683146, 0.126844132768815, 3.987495741491455,
         1.1263539615924054, 0.5905443763463109], abs=1e-9)
    assert list(ft["upper95"]) == pytest.approx(
        [17.06111809479963, 31.697372961261678, 9.65935180797769, 60.85696591205114,
         24.390775039952985, 17.06111809479963], abs=1e-9)
    assert list(ft["lower998"]) == pytest.approx(
        [0.0, 0.0024118728731577794, 0.0, 0.10451599773064846, 0.0, 0.0], abs=1e-9)
    assert ft.loc["D", "upper998"] == pytest.approx(89.76936460817657, abs=1e-9)
    pd.testing.assert_frame_equal(panel, before)


def test_sqrt_normal_defaults_by_hand():
    panel, exposure = _six()
    ft = O.funnel_table(panel, exposure=exposure, model="sqrt-normal",
                        min_peers=2).set_index("unit")
    # leave-one-out: E_C = 50 × 60/950
    assert ft.loc["C", "expected"] == pytest.approx(3.1578947368421053, abs=1e-12)
    assert ft["phi"].iloc[0] == pytest.approx(2.9726287916728658, abs=1e-9)
    assert ft["tau2"].iloc[0] == pytest.approx(0.07265937431398117, abs=1e-9)
    # P(0 | E, τ²) by quadrature in the reference script (scipy's expect)
    assert ft.loc["C", "p_low"] == pytest.approx(0.09504674822027588, abs=1e-6)


def test_exact_limits_and_zero_probability_without_overdispersion():
    lo, hi = S.funnel_limits([6.0], 0.0, level=0.95)
    assert lo[0] == pytest.approx(2.201894253490851, abs=1e-9)
    assert hi[0] == pytest.approx(13.059474022518685, abs=1e-9)
    lo, hi = S.funnel_limits([6.0], 0.0, level=0.998)
    assert lo[0] == pytest.approx(1.1071046602556396, abs=1e-9)
    assert S.zero_probability([3.0])[0] == pytest.approx(np.exp(-3.0))
    assert S.count_cdf([2.0], [4.0])[0] == pytest.approx(stats.poisson.cdf(2, 4.0))
    # a unit effect makes a low count less surprising
    assert S.count_cdf([0.0], [10.0], 0.05)[0] > np.exp(-10.0)


def test_winsor_consistency_factor():
    # E[clip(Z, ±1.2816)²] = 0.8 − 2·1.2816·φ(1.2816) + 0.2·1.2816² (module docstring)
    c = stats.norm.ppf(0.9)
    assert S.winsor_consistency(0.1) == pytest.approx(0.8 - 2 * c * stats.norm.pdf(c) + 0.2 * c * c)
    assert S.winsor_consistency(0.1) == pytest.approx(0.6787, abs=1e-4)
    assert S.winsor_consistency(0.2) == pytest.approx(0.4121, abs=1e-4)
    z, s = [-2.0, -1.0, 0.0, 0.5, 1.0, 3.0], [0.1] * 6
    phi, _ = S.dispersion(z, s, winsor=0.2)
    phi_c, tau2_c = S.dispersion(z, s, winsor=0.2, consistent=True)
    assert phi_c == pytest.approx(phi / S.winsor_consistency(0.2))
    assert tau2_c == pytest.approx((6 * phi_c - 5) / (600 - 6 * 100 ** 2 / 600))


def test_dispersion_needs_two_values_and_exact_z_of_a_zero():
    assert S.dispersion([1.0], [0.5]) == (pytest.approx(np.nan, nan_ok=True), 0.0)
    # a 0 against E = 4 is worth Φ⁻¹(½·e⁻⁴), not 2(√0 − √4) = −4
    assert S.exact_z([0.0], [4.0])[0] == pytest.approx(stats.norm.ppf(0.5 * np.exp(-4.0)))


def _district(seed=3, n=40, months=6):
    """Towns with enterprises and Poisson hazards at 0.01/enterprise/month; T00 and
    T01 are the largest and find nothing (T01 from month 3 only)."""
    rng = np.random.default_rng(seed)
    ent = np.r_[600, 500, rng.integers(60, 300, size=n - 2)]
    rows = []
    for i in range(n):
        for m in range(months):
            v = rng.poisson(ent[i] * 0.01 * rng.gamma(20, 1 / 20))
            if i == 0 or (i == 1 and m >= 2):
                v = 0
            rows.append((f"T{i:02d}", "town", f"2024-{m + 1:02d}", v))
    panel = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "value"]).assign(
        indicator="major_hazards_found", parent=None)
    exposure = pd.DataFrame({"unit": [f"T{i:02d}" for i in range(n)], "sector": "",
                             "enterprises": ent})
    return panel, exposure


def test_low_outlier_finds_the_silent_large_unit():
    panel, exposure = _district()
    f = O.low_outlier(panel, exposure=exposure)
    flagged = f.loc[f["severity"] != "info"]
    assert "T00" in set(flagged["unit"])
    row = flagged.set_index("unit").loc["T00"]
    assert row["observed"] == 0 and row["expected"] > 20 and row["q_value"] < 0.01
    assert row["severity"] == "alert" and row["check"] == "low_outlier"
    assert "T00" in row["message"] and "显著偏低" in row["message"]
    assert set(flagged["unit"]) <= {"T00", "T01"}


@pytest.mark.parametrize("model", ["gamma", "sqrt-normal"])
def test_zero_report_run_of_zero_months(model):
    panel, exposure = _district()
    f = O.zero_report(panel, exposure=exposure, model=model).set_index("unit")
    assert f.loc["T00", "statistic"] == 6 and f.loc["T00", "severity"] == "alert"
    assert f.loc["T01", "statistic"] == 4 and f.loc["T01", "period"] == "2024-06"
    assert f.loc["T01", "severity"] in ("warning", "alert")
    assert "连续4期" in f.loc["T01", "message"]
    # the whole window at 0: p is exactly P(X = 0) over the window
    ft = O.funnel_table(panel, exposure=exposure, model=model).set_index("unit")
    e = ft.loc["T00", "expected"]
    whole = (S.nb_zero_probability([e], ft.loc["T00", "shape"]) if model == "gamma"
             else S.zero_probability([e], ft.loc["T00", "tau2"]))
    assert f.loc["T00", "p_value"] == pytest.approx(whole[0], rel=1e-9)


def test_period_windows():
    panel, exposure = _district()
    cum = O.funnel_table(panel, exposure=exposure, period="2024-03").set_index("unit")
    one = O.funnel_table(panel, exposure=exposure, period="2024-03",
                         cumulative=False).set_index("unit")
    t02 = panel.loc[panel["unit"] == "T02"].set_index("period")["value"]
    assert cum.loc["T02", "observed"] == t02.iloc[:3].sum()
    assert one.loc["T02", "observed"] == t02.iloc[2]


def test_without_exposure_the_peer_median_is_expected():
    """Without exposure every unit weighs 1: the pooled rate is the peers' mean (10),
    which D's 30 drives; the default is their median, (4 + 11) / 2 = 7.5 (issue 16)."""
    panel, _ = _six()
    ft = O.funnel_table(panel, min_peers=2, model="sqrt-normal",
                        leave_one_out=False).set_index("unit")
    assert ft["expected"].tolist() == pytest.approx([7.5] * 6)
    mean = O.funnel_table(panel, min_peers=2, model="sqrt-normal", leave_one_out=False,
                          rate="pooled").set_index("unit")
    assert mean["expected"].tolist() == pytest.approx([10.0] * 6)
    gamma = O.funnel_table(panel, min_peers=2).set_index("unit")
    assert gamma["expected"].tolist() == pytest.approx([7.5] * 6)


def test_missing_column_is_named():
    panel, exposure = _six()
    with pytest.raises(ValueError, match="unit_type"):
        O.low_outlier(panel.drop(columns="unit_type"), exposure=exposure)


# ------------------------------------------------------------ national-scale code paths
def _mixed():
    """Rows not grouped by unit, a type missing on B's first row (then town, later
    dept), a blank figure, a quarterly row, and D reporting only units_inspected."""
    rows = [("B", None, "2024-01", "major_hazards_found", 2.0),
            ("A", "town", "2024-01", "major_hazards_found", 1.0),
            ("B", "town", "2024-02", "major_hazards_found", 3.0),
            ("A", "town", "2024-02", "units_inspected", 5.0),
            ("C", "soe", "2024Q1", "major_hazards_found", 4.0),
            ("A", "town", "2024-03", "major_hazards_found", np.nan),
            ("B", "department", "2024-03", "units_inspected", 7.0),
            ("D", "town", "2024-02", "units_inspected", 1.0)]
    return pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"]) \
        .assign(parent=None)


@pytest.mark.parametrize("form", ["str", "categorical"])
def test_window_sums_by_hand(form):
    from anquan_analysis.dataset import compact_panel
    panel = _mixed() if form == "str" else compact_panel(_mixed())
    before = panel.copy()
    codes = ["major_hazards_found", "units_inspected"]
    w = I.window_sums(panel, codes, period="2024-02").set_index("unit")
    # ≤ Feb: C's quarter ends in March; B's March row is outside; D has no hazards row
    assert list(w.index) == ["A", "B", "D"]
    assert list(w["unit_type"]) == ["town", "town", "town"]  # B: first type it has
    assert w["major_hazards_found"].tolist()[:2] == [1.0, 5.0]
    assert np.isnan(w.loc["D", "major_hazards_found"]) and np.isnan(w.loc["B", "units_inspected"])
    w = I.window_sums(panel, codes, period="2024-03").set_index("unit")
    assert w["major_hazards_found"].tolist()[:3] == [1.0, 5.0, 4.0]  # A's blank counts 0
    assert w.loc["B", "units_inspected"] == 7.0
    one = I.window_sums(panel, codes, period="2024Q1", cumulative=False).set_index("unit")
    assert one["major_hazards_found"].tolist()[:3] == [1.0, 5.0, 4.0]
    assert I.window_sums(panel, codes, period="2024-01")["unit"].tolist() == ["A", "B"]
    pd.testing.assert_frame_equal(panel, before)


def test_window_sums_equal_window_totals_in_any_row_order():
    from anquan_analysis.dataset import compact_panel
    from anquan_analysis.indicators import window_totals
    panel, _ = _district()
    panel = panel.assign(indicator=np.where(np.arange(len(panel)) % 3 == 0, "units_inspected",
                                            "major_hazards_found"))
    shuffled = panel.sample(frac=1.0, random_state=1)
    codes = ["major_hazards_found", "units_inspected"]
    for period in (None, "2024-04"):
        ref = window_totals(panel, codes, period=period)[["unit", "unit_type"] + codes]
        for p in (panel, shuffled, compact_panel(shuffled)):
            got = I.window_sums(p, codes, period=period)
            pd.testing.assert_frame_equal(got, ref, check_dtype=False)


def test_low_outlier_and_zero_report_same_on_shuffled_unsorted_categorical_panel():
    from anquan_analysis.dataset import compact_panel
    panel, exposure = _district()
    # a missing type on T00's first row: its type comes from its next row
    panel.loc[panel.index[0], "unit_type"] = None
    mixed = compact_panel(panel.sample(frac=1.0, random_state=2))
    # categories in no sorted order, with an unused one
    mixed["unit"] = mixed["unit"].cat.set_categories(
        list(reversed(mixed["unit"].cat.categories)) + ["ZZ"])
    for check in (O.low_outlier, O.zero_report):
        a = check(panel, exposure=exposure)
        b = check(mixed, exposure=exposure)
        pd.testing.assert_frame_equal(a, b)
        assert a.set_index("unit").loc["T00", "unit_type"] == "town"


def test_count_cdf_is_scipys_poisson_cdf():
    o = np.array([-1.0, 0.0, 0.0, 2.0, 2.7, 40.0, 3.0])
    e = np.array([2.0, 0.5, 4.0, 4.0, 4.0, 35.0, np.nan])
    w = S.GH_W.sum()
    got = S.count_cdf(o, e, 0.0)
    assert got[0] == 0.0 and np.isnan(got[-1])
    assert got[:-1] == pytest.approx(stats.poisson.cdf(np.floor(o[:-1]), e[:-1]) * w, rel=1e-15)
    # with a unit effect: the quadrature average, node by node
    mu = 4.0 * np.clip(1 + np.sqrt(0.2) * S.GH_X, 0, None) ** 2
    assert S.count_cdf(2.0, 4.0, 0.2) == pytest.approx(
        (stats.poisson.cdf(2, mu) * S.GH_W).sum(), rel=1e-15)


def test_zero_run_probability_equals_zero_probability():
    rng = np.random.default_rng(0)
    e_win = rng.uniform(0.0, 30.0, (6, 12))
    e_win[0, :2] = 0.0  # no expectation: NaN, as zero_probability gives
    tau2 = np.array([0.0, 0.0, 0.05, 0.05, 0.4, 2.0])
    ref = S.zero_probability(e_win, tau2[:, None])
    got = FN._zero_run_probability(e_win, tau2)
    assert np.isnan(got[0, :2]).all() and np.isnan(ref[0, :2]).all()
    assert got[1] == pytest.approx(np.exp(-e_win[1]), rel=1e-13)
    np.testing.assert_allclose(got, ref, rtol=1e-13)
