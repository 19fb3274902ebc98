"""The funnel's gamma–Poisson model and its FunnelPlotR option.

Reference figures: negative binomial tails, zero runs and limits worked out without
scipy in tests/reference/nb_tails_by_hand.py (exact fractions for a whole shape,
40-digit decimals otherwise); FunnelPlotR's own published Poisson limits
(tests/testthat/test-poisson_limits.R of nhs-r-community/FunnelPlotR), used as
published."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anquan_analysis.checks import _nb_fit as NB
from anquan_analysis.checks import _stats as S
from anquan_analysis.checks import outliers as O

# ------------------------------------------------------------------- NB statistics
# (O, E, k, P(X ≤ O)) from tests/reference/nb_tails_by_hand.py
BY_HAND = [(0, 10, 2, 1 / 36), (1, 10, 2, 2 / 27), (3, 10, 2, 763 / 3888),
           (0, 12, 4, 1 / 256), (2, 12, 4, 77 / 2048), (5, 20, 1, 21766121 / 85766121),
           (0, 7.5, 2.5, 0.031250000000000000), (4, 7.5, 2.5, 0.34248638153076172),
           (1, 30, 0.8, 0.095909418612771620), (10, 30, 6.3, 0.034619964302722778)]


def test_nb_tails_equal_the_hand_computed_values():
    o, e, k, want = (np.array(v, dtype=float) for v in zip(*BY_HAND))
    assert S.nb_cdf(o, e, k) == pytest.approx(want, rel=1e-12)
    # a fraction of a count is floored, a negative count has no mass, E ≤ 0 is NaN
    got = S.nb_cdf([3.7, -1.0, 2.0], [10.0, 10.0, 0.0], 2.0)
    assert got[0] == pytest.approx(763 / 3888, rel=1e-12) and got[1] == 0.0
    assert np.isnan(got[2])
    assert S.nb_zero_probability([10.0, 12.0], [2.0, 4.0]) == pytest.approx([1 / 36, 1 / 256])


def test_a_zero_run_shares_one_effect():
    # m = 10 over 12 periods, k = 2: (1 + 10/2)^−2 = 1/36, not the product of twelve
    # periods' own zero chances (1 + 10/24)^−24 = 0.000234…
    assert S.nb_zero_probability([10.0], 2.0)[0] == pytest.approx(1 / 36, rel=1e-14)
    per_period = np.prod(S.nb_zero_probability(np.full(12, 10 / 12), 2.0))
    assert per_period == pytest.approx(0.00023419401494640296, rel=1e-12)
    assert S.nb_zero_probability([6.0], 3.5)[0] == pytest.approx(0.030353273608797377,
                                                                  rel=1e-13)
    # the gamma Laplace transform, numerically: ∫ e^{−mθ} Gamma(θ; k, 1/k) dθ
    laplace = stats.gamma(3.5, scale=1 / 3.5).expect(lambda t: np.exp(-6.0 * t))
    assert laplace == pytest.approx(0.030353273608797377, rel=1e-8)


def test_nb_limits_by_hand_for_a_geometric_count():
    # k = 1: I_p(1, b) = 1 − (1 − p)^b, limits in closed form (reference script)
    lo, hi = S.nb_limits([39.0, 200.0, 1000.0], 1.0, level=0.95)
    assert lo == pytest.approx([0.0, 4.076209978052986, 24.330464779519808], abs=1e-9)
    assert hi == pytest.approx([145.7029556588368, 739.6187973471991, 3690.723586588102],
                               rel=1e-10)
    lo, hi = S.nb_limits([200.0, 1000.0], 1.0, level=0.998)
    assert lo == pytest.approx([0.0, 0.0010005004169932885], abs=1e-9)
    assert hi == pytest.approx([1385.0020623774312, 6911.208581263229], rel=1e-10)


@pytest.mark.parametrize("k", [0.7, 2.0, 4.0, 10.0, 1e5])
def test_nb_limits_are_the_exact_tests_boundaries(k):
    # a count lies below the lower limit exactly when P(X ≤ O) < α/2, and above the
    # upper one exactly when P(X ≥ O) < α/2: the plot draws what the test judges
    e = np.array([0.3, 1.0, 2.5, 7.0, 15.0, 40.0, 120.0])
    o = np.arange(0, 400, dtype=float)
    for level in (0.95, 0.998):
        tail = (1 - level) / 2
        lo, hi = S.nb_limits(e, k, level=level)
        for j in range(len(e)):
            cdf = S.nb_cdf(o, e[j], k)
            sf = 1 - S.nb_cdf(o - 1, e[j], k)
            np.testing.assert_array_equal(o < lo[j], cdf < tail)
            np.testing.assert_array_equal(o > hi[j], sf < tail)


def test_nb_logpmf_and_mid_z_are_scipys():
    o = np.array([0.0, 1.0, 5.0, 30.0])
    e = np.array([3.0, 3.0, 12.0, 12.0])
    for k in (0.3, 2.0, 50.0):
        p = k / (k + e)
        assert S.nb_logpmf(o, e, k) == pytest.approx(stats.nbinom.logpmf(o, k, p), rel=1e-12)
        mid = stats.nbinom.cdf(o - 1, k, p) + 0.5 * stats.nbinom.pmf(o, k, p)
        assert S.nb_mid_z(o, e, k) == pytest.approx(stats.norm.ppf(mid), rel=1e-12)


# ---------------------------------------------------------------------- the fit
def _peers(rng, n, k, rate=0.1, zeros=0.0, low=0.0):
    x = rng.integers(30, 400, n).astype(float)
    o = rng.poisson(rate * x * rng.gamma(k, 1 / k, n)).astype(float)
    bad = rng.permutation(n)
    o[bad[: int(zeros * n)]] = 0.0
    thin = bad[int(zeros * n): int((zeros + low) * n)]
    o[thin] = rng.binomial(o[thin].astype(int), 0.2)
    return o, x


@pytest.mark.parametrize("k", [2.0, 4.0, 10.0])
def test_fit_recovers_shape_and_rate_on_clean_peers(k):
    o, x = _peers(np.random.default_rng(int(k)), 3000, k)
    fit = NB.fit_nb_mixture(o, x)
    assert fit.shape_hat == pytest.approx(k, rel=0.15)
    assert fit.rate[0] == pytest.approx(0.1, rel=0.03)
    # with 3,000 units the profile is sharp: the posterior median of 1/k is 1/k̂
    assert fit.shape == pytest.approx(fit.shape_hat, rel=0.05)
    assert fit.contamination < 0.03


def test_low_and_zero_reporters_do_not_set_the_shape():
    rng = np.random.default_rng(7)
    o, x = _peers(rng, 3000, 4.0, zeros=0.08, low=0.07)
    fit = NB.fit_nb_mixture(o, x)
    assert fit.shape_hat == pytest.approx(4.0, rel=0.2)
    assert fit.rate[0] == pytest.approx(0.1, rel=0.1)
    assert 0.08 < fit.contamination < 0.3
    # the zeros of large units are believed to be contamination
    big_zero = (o == 0) & (0.1 * x > 30)
    assert big_zero.any() and (fit.weight[big_zero] < 0.01).all()
    # a method-of-moments shape on the same units is dragged far below 4
    r = o.sum() / x.sum()
    mom = ((r * x) ** 2).sum() / (((o - r * x) ** 2 - r * x).sum())
    assert mom < 2.5


def test_profile_lower_bound_and_its_level():
    o, x = _peers(np.random.default_rng(1), 40, 4.0)
    at50 = NB.fit_nb_mixture(o, x, level=0.5)
    at80 = NB.fit_nb_mixture(o, x, level=0.8)
    at95 = NB.fit_nb_mixture(o, x, level=0.95)
    assert at50.shape == at50.shape_hat == pytest.approx(at80.shape_hat, rel=1e-6)
    assert at95.shape < at80.shape < at80.shape_hat
    # the bound is where the profile log-likelihood has dropped by Φ⁻¹(0.8)²/2 from
    # its maximum, both by EM from the fit at k̂
    def profile(k):
        state = [at50.rate.copy(), at50.contamination]
        kw = dict(group=np.zeros(len(o), dtype=np.intp), everyone=None, fixed_mu=None,
                  c_main=S._nb_const(o, k), c_broad=S._nb_const(o, S.CONTAMINATION_SHAPE),
                  broad=S.CONTAMINATION_SHAPE, max_contamination=0.3)
        return NB._em(o, x, k, state, **kw)[0]

    drop = 2 * (profile(at80.shape_hat) - profile(at80.shape))
    assert drop == pytest.approx(stats.norm.ppf(0.8) ** 2, abs=0.01)


def test_leave_one_out_rate_by_hand():
    o, x = _peers(np.random.default_rng(3), 30, 4.0)
    fit = NB.fit_nb_mixture(o, x)
    a = fit.rate_weight
    assert (a * o).sum() / (a * x).sum() == pytest.approx(fit.rate[0], rel=1e-6)
    i = 5
    mask = np.arange(30) != i
    want = (a[mask] * o[mask]).sum() / (a[mask] * x[mask]).sum()
    assert fit.rate_without(o, x)[i] == pytest.approx(want, rel=1e-12)


# ------------------------------------------------------------------- the checks
def _city(seed=2, n=60, months=12, k=4.0):
    """Towns with gamma effects; T00 (the largest) reports nothing, T01 one hazard in
    January and nothing after."""
    rng = np.random.default_rng(seed)
    ent = np.r_[500, 400, rng.integers(40, 300, size=n - 2)].astype(float)
    theta = rng.gamma(k, 1 / k, n)
    counts = rng.poisson((0.01 * ent * theta)[:, None], (n, months)).astype(float)
    counts[0] = 0.0
    counts[1] = 0.0
    counts[1, 0] = 1.0
    units = [f"T{i:02d}" for i in range(n)]
    panel = pd.DataFrame({"unit": np.repeat(units, months), "unit_type": "town", "parent": None,
                          "period": np.tile([f"2024-{m + 1:02d}" for m in range(months)], n),
                          "indicator": "major_hazards_found", "value": counts.ravel()})
    exposure = pd.DataFrame({"unit": units, "sector": "", "enterprises": ent})
    return panel, exposure


def test_gamma_funnel_table_by_construction():
    panel, exposure = _city()
    before = panel.copy()
    ft = O.funnel_table(panel, exposure=exposure)
    pd.testing.assert_frame_equal(panel, before)
    assert (ft["model"] == "gamma").all() and ft["tau2"].isna().all()
    o = ft["observed"].to_numpy()
    x = ft["exposure"].to_numpy()
    fit = NB.fit_nb_mixture(o, x)
    k = fit.shape
    assert ft["shape"].to_numpy() == pytest.approx(np.full(len(ft), k))
    assert ft["expected"].to_numpy() == pytest.approx(fit.rate_without(o, x) * x, rel=1e-12)
    e = ft["expected"].to_numpy()
    assert ft["p_low"].to_numpy() == pytest.approx(stats.nbinom.cdf(o, k, k / (k + e)),
                                                   rel=1e-12)
    # below the 95% limit exactly when p_low < 0.025
    np.testing.assert_array_equal(o < ft["lower95"], ft["p_low"] < 0.025)
    np.testing.assert_array_equal(o < ft["lower998"], ft["p_low"] < 0.001)
    t00 = ft.set_index("unit").loc["T00"]
    assert t00["z"] < -3 and t00["p_low"] == pytest.approx((1 + t00["expected"] / k) ** -k)


def test_gamma_low_outlier_and_zero_report_find_the_planted_units():
    panel, exposure = _city()
    low = O.low_outlier(panel, exposure=exposure)
    flagged = low.loc[low["severity"] != "info"].set_index("unit")
    assert {"T00", "T01"} <= set(flagged.index)
    assert flagged.loc["T00", "severity"] == "alert"
    zero = O.zero_report(panel, exposure=exposure)
    z = zero.loc[zero["severity"] != "info"].set_index("unit")
    assert "T00" in z.index and z.loc["T00", "statistic"] == 12
    assert "T01" in z.index and z.loc["T01", "statistic"] == 11
    for msg in list(low["message"]) + list(zero["message"]):
        assert "p=" not in msg and "期望" not in msg and msg.count("。") == 1
    assert flagged.loc["T00", "message"] == (
        f"T00，2024-01至2024-12重大事故隐患排查数0项，按监管企业数测算应约"
        f"{flagged.loc['T00', 'expected']:.1f}项，显著偏低。")
    assert z.loc["T00", "message"].startswith(
        "T00，2024-01至2024-12连续12期重大事故隐患排查数报送为0，按监管企业数测算这段时间应约")


def test_without_exposure_the_message_names_the_peers():
    panel, _ = _city()
    f = O.low_outlier(panel)
    assert f["message"].str.contains("按同类镇街水平应约").all()


def test_models_and_rates_are_checked():
    panel, exposure = _city()
    with pytest.raises(ValueError, match="model must be one of"):
        O.low_outlier(panel, exposure=exposure, model="poisson")
    with pytest.raises(ValueError, match="rate must be one of"):
        O.funnel_table(panel, exposure=exposure, model="sqrt-normal", rate="fitted")
    # the gamma model with a rate set elsewhere: k fitted around those means
    ft = O.funnel_table(panel, exposure=exposure, rate="pooled")
    pooled = O.funnel_table(panel, exposure=exposure, model="sqrt-normal")
    assert ft["expected"].to_numpy() == pytest.approx(pooled["expected"].to_numpy())
    assert ft["shape"].notna().all()


# ----------------------------------------------------------------- FunnelPlotR
def test_funnelplotr_poisson_limits_are_its_published_ones():
    # FunnelPlotR tests/testthat/test-poisson_limits.R: limits for expected 15, 20, 30
    # (target 1); "99" is its 99.8% pair.  Units with O = E exactly give φ = 0, τ² = 0.
    ex = [15.0, 20.0, 30.0, 15.0, 20.0, 30.0]
    panel = pd.DataFrame({"unit": list("ABCDEF"), "unit_type": "town", "parent": None,
                          "period": "2024-06", "indicator": "major_hazards_found",
                          "value": ex})
    exposure = pd.DataFrame({"unit": list("ABCDEF"), "sector": "", "enterprises": ex})
    ft = O.funnel_table(panel, exposure=exposure, model="funnelplotr", min_peers=2).iloc[:3]
    assert (ft["tau2"] == 0).all() and ft["expected"].tolist() == [15.0, 20.0, 30.0]
    e = ft["expected"]
    assert (ft["lower95"] / e).round(7).tolist() == [0.5596924, 0.6108260, 0.6746958]
    assert (ft["upper95"] / e).round(6).tolist() == [1.649348, 1.544419, 1.427562]
    assert (ft["lower998"] / e).round(7).tolist() == [0.3862650, 0.4479107, 0.5289724]
    assert (ft["upper998"] / e).round(6).tolist() == [2.082907, 1.902094, 1.702771]


def test_funnelplotr_p_is_the_tail_of_its_limits():
    panel, exposure = _city()
    for months in (12, 1):  # overdispersed (τ² > 0) and, in one month, maybe not
        p = panel.loc[panel["period"] <= f"2024-{months:02d}"]
        ft = O.funnel_table(p, exposure=exposure, model="funnelplotr")
        np.testing.assert_array_equal(ft["observed"] < ft["lower95"], ft["p_low"] < 0.025)
        np.testing.assert_array_equal(ft["observed"] < ft["lower998"], ft["p_low"] < 0.001)
    assert (ft["model"] == "funnelplotr").all()


def test_funnel_plot_draws_the_tables_limits():
    import matplotlib.pyplot as plt

    from anquan_analysis import plots
    panel, exposure = _city()
    ft = O.funnel_table(panel, exposure=exposure)
    fig = plots.funnel_plot(ft)
    ax = fig.axes[0]
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    lower = dashed[0]
    xs, ys = lower.get_xdata(), lower.get_ydata()
    at = ft.dropna(subset=["expected"]).iloc[len(ft) // 2]
    # the 95% lower curve through this unit's E is its lower95 / E
    assert np.interp(at["expected"], xs, ys) == pytest.approx(
        at["lower95"] / at["expected"], rel=2e-2, abs=2e-3)
    plt.close(fig)


def test_shape_is_the_global_maximum_and_the_posterior_mean():
    """A district whose profile has its maximum near k = 2 and a ridge rising towards
    k = ∞ (tests/reference/nb_shape_by_hand.py: a dense grid of 2,000 values of 1/k
    gives k̂ = 2.113, ℓ = −164.79 there and −183.18 at k = 10⁶, and 1/med(α) = 1.950
    under a flat prior on α, 2.221 under the fit's exponential prior with mean 0.25).
    Brent's search alone ended on the ridge (k̂ ≈ 10⁶, every honest department with a
    third of its expected count at p < 10⁻¹⁰)."""
    import sys
    sys.path.insert(0, str(Path(__file__).parent / "reference"))
    from nb_shape_by_hand import GROUP, O, X

    at_hat = NB.fit_nb_mixture(O, X, group=GROUP, everyone=0, level=0.5)
    assert at_hat.shape_hat == pytest.approx(2.113, rel=0.01)
    fit = NB.fit_nb_mixture(O, X, group=GROUP, everyone=0)
    assert fit.shape_hat == at_hat.shape_hat
    assert fit.shape == pytest.approx(2.221, rel=0.01)
    flat = NB.fit_nb_mixture(O, X, group=GROUP, everyone=0, alpha_prior_mean=None)
    assert flat.shape == pytest.approx(1.950, rel=0.01)
