"""checks/_stats.py at its edges: the guards (E ≤ 0, n = 2, a zero denominator, a
negative count, a missing figure) that mutation testing found no test reaching.

Reference values: tests/reference/stats_by_hand.py (and its docstring for the ones
done by hand)."""

import warnings

import numpy as np
import pytest

from anquan_analysis.checks import _stats as S


def test_winsor_consistency_is_one_without_winsorising_and_068_at_ten_percent():
    assert S.winsor_consistency(0.0) == 1.0
    # E[clip(Z, ±1.2816)²] by numerical integration (reference script)
    assert S.winsor_consistency(0.1) == pytest.approx(0.6786545589528747, rel=1e-9)


def test_dispersion_of_two_values_by_hand():
    # both z clipped to ±0.8: φ = 0.64; weights 1/4: denominator 1/4, τ² = 0.28/0.25
    phi, tau2 = S.dispersion([1.0, -1.0], [2.0, 2.0])
    assert phi == pytest.approx(0.64, rel=1e-12) and tau2 == pytest.approx(1.12, rel=1e-12)
    assert S.dispersion([1.0, -1.0], [1.0, 1.0])[1] == pytest.approx(0.28, rel=1e-12)
    phi, tau2 = S.dispersion([1.0], [1.0])
    assert np.isnan(phi) and tau2 == 0.0


def test_dispersion_leaves_out_missing_z_and_zero_or_missing_standard_errors():
    want = S.dispersion([1.0, -1.0], [2.0, 2.0])
    assert S.dispersion([1.0, np.nan, -1.0], [2.0, 2.0, 2.0]) == want
    assert S.dispersion([1.0, 5.0, -1.0], [2.0, 0.0, 2.0]) == want
    assert S.dispersion([1.0, 5.0, -1.0], [2.0, np.nan, 2.0]) == want
    # a missing z given as None (an object column) is left out too
    assert S.dispersion([1.0, None, -1.0], [2.0, 2.0, 2.0]) == want
    assert S.dispersion([1.0, 5.0, -1.0], [2.0, None, 2.0]) == want


def test_dispersion_is_zero_when_one_unit_holds_all_the_weight():
    # w = (1e20, 1): Σw − Σw²/Σw is 0 in floating point; τ² is 0, not inf
    phi, tau2 = S.dispersion([3.0, -3.0], [1e-10, 1.0])
    assert phi == pytest.approx(5.76, rel=1e-12) and tau2 == 0.0


def test_exact_poisson_limits_at_half_a_count_and_nan_where_nothing_is_expected():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # E = 0 is a NaN, not a division warning
        lo, hi = S.funnel_limits([0.5, 0.0, -1.0])
    # Garwood: χ²₀.₀₂₅(1)/2 = 0.000982/2, χ²₀.₉₇₅(3)/2 = 9.348/2
    assert lo[0] == pytest.approx(0.000491, rel=1e-3) and hi[0] == pytest.approx(4.674, rel=1e-3)
    assert lo.dtype == float and hi.dtype == float
    assert np.isnan(lo[1:]).all() and np.isnan(hi[1:]).all()
    # an expected count missing as None (an object column) has no limits either
    lo, hi = S.funnel_limits([None, 0.5])
    assert np.isnan(lo[0]) and np.isnan(hi[0]) and hi[1] == pytest.approx(4.674, rel=1e-3)


def test_effect_multiplier_is_one_plus_tau_z_squared_at_each_node():
    theta = S.effect_multiplier(0.25)
    assert theta == pytest.approx(np.clip(1 + 0.5 * S.GH_X, 0, None) ** 2, rel=1e-15)
    assert theta[-1] > theta[0]  # the last node is the largest z


def test_poisson_cdf_below_zero_is_zero_also_for_a_zero_mean():
    assert S.poisson_cdf(-1.0, 0.0) == 0.0 and S.poisson_cdf(-1.0, 0.5) == 0.0
    assert S.poisson_cdf(0.0, 0.0) == 1.0


def test_count_cdf_at_tau2_one_is_the_mixture_not_the_poisson():
    # P(X = 0), √θ ~ N(1, 1), E = 2: 0.3603 by integration (reference script); the
    # 48 Gauss–Hermite nodes land within 1e-3 (the kink at θ = 0); Poisson: e⁻² = 0.135
    assert S.count_cdf(0.0, 2.0, 1.0) == pytest.approx(0.36029661580004946, abs=1e-3)
    assert S.zero_probability(2.0, 1.0) == S.count_cdf(0.0, 2.0, 1.0)
    assert S.count_cdf(0.0, 2.0, 0.0) == pytest.approx(np.exp(-2.0), rel=1e-12)


def test_count_cdf_and_exact_z_of_a_missing_figure_are_nan():
    # a figure missing as None (an object column) gives NaN, not a TypeError
    assert np.isnan(S.count_cdf([None, 1.0], [2.0, 2.0])[0])
    assert np.isnan(S.count_cdf([1.0], [None])[0])
    assert np.isnan(S.count_cdf([1.0], [2.0], [None])[0])
    assert np.isnan(S.exact_z([None, 0.0], [4.0, 4.0])[0])
    assert np.isnan(S.exact_z([0.0], [None])[0])


def test_exact_z_of_a_zero_by_hand_and_nan_where_nothing_is_expected():
    # Φ⁻¹(½e^(−E)): −2.359 at E = 4 (the docstring's example), −0.515 at E = 0.5
    z = S.exact_z([0.0, 0.0, 0.0], [4.0, 0.5, 0.0])
    assert z[:2] == pytest.approx([-2.3591745411622607, -0.515031998812217], rel=1e-9)
    assert z.dtype == float and np.isnan(z[2])


# ------------------------------------------------------------- gamma–Poisson (NB)

def test_nb_zero_probability_by_hand_and_nan_where_nothing_is_expected():
    # (1 + E/k)^(−k): E = 2, k = 2 gives 1/4
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # E ≤ 0 is a NaN, not a log1p(−1) warning
        p = S.nb_zero_probability([2.0, 0.0, -2.0, -3.0], 2.0)
    assert p[0] == pytest.approx(0.25, rel=1e-12)
    assert p.dtype == float and np.isnan(p[1:]).all()
    assert np.isnan(S.nb_zero_probability([None], 2.0)[0])
    assert np.isnan(S.nb_zero_probability([2.0], [None])[0])


def test_nb_mid_z_of_a_zero_by_hand_and_nan_where_nothing_is_expected():
    # O = 0, E = 0.5, k = 2: P(X = 0) = (2/2.5)² = 0.64, mid-p 0.32, Φ⁻¹(0.32) = −0.4677
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = S.nb_mid_z([0.0, 0.0, 0.0], [0.5, 0.0, -2.0], 2.0)
    assert z[0] == pytest.approx(-0.46769879911450823, rel=1e-9)
    assert z.dtype == float and np.isnan(z[1:]).all()
    for o, e, k in [([None], [0.5], 2.0), ([0.0], [None], 2.0), ([0.0], [0.5], [None])]:
        assert np.isnan(S.nb_mid_z(o, e, k)[0])


def test_nb_limits_at_the_default_level_for_a_geometric_count():
    # k = 1: I_p(1, b) = 1 − q^b, q = E/(1 + E), so b = ln(1 − P)/ln q; the lower
    # limit is b(0.025) − 1, the upper b(0.975).  E = 40: 0.0253 and 149.39.
    q = np.log(40 / 41)
    lo, hi = S.nb_limits([40.0, None], 1.0)
    assert lo[0] == pytest.approx(np.log(0.975) / q - 1, rel=1e-9)
    assert hi[0] == pytest.approx(np.log(0.025) / q, rel=1e-9)
    assert np.isnan(lo[1]) and np.isnan(hi[1])
    lo, hi = S.nb_limits([40.0], [None])
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_nb_logpmf_of_a_missing_count_is_nan():
    # log P(X = 0) = −k·log(1 + E/k): E = 2, k = 2 gives log(1/4)
    got = S.nb_logpmf([0.0, None], [2.0, 2.0], [2.0, 2.0])
    assert got[0] == pytest.approx(np.log(0.25), rel=1e-12) and np.isnan(got[1])


def test_nb_cdf_and_limits_are_nan_where_nothing_is_expected_or_a_figure_is_missing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # k/(k + E) at E = −k is a NaN, not a warning
        cdf = S.nb_cdf([1.0, 1.0, 1.0], [0.0, -2.0, -3.0], 2.0)
        lo, hi = S.nb_limits([0.0, -2.0, -3.0], 2.0)
    assert cdf.dtype == float and np.isnan(cdf).all()
    assert lo.dtype == float and np.isnan(lo).all() and np.isnan(hi).all()
    for o, e, k in [([None], [10.0], 2.0), ([1.0], [None], 2.0), ([1.0], [10.0], [None])]:
        assert np.isnan(S.nb_cdf(o, e, k)[0])
