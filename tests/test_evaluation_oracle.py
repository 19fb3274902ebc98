"""The benchmark oracle (anquan_analysis/evaluation/oracle.py, effects.py) against values
worked out independently: closed forms and adaptive quadrature in
tests/reference/oracle_by_hand.py, and hand formulas with the districts' true
parameters for the oracle's p-values end to end."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
from scipy import stats

from anquan_analysis.evaluation.districts import TYPE_TABLE, make_district, month_weights
from anquan_analysis.evaluation.effects import (count_pmf, mixture_cdf, nb_residue_prob,
                                                pair_products, poisson_binomial_sf, unit_effect)
from anquan_analysis.evaluation.oracle import oracle_findings


# ------------------------------------------------- pieces, against tests/reference
@pytest.mark.parametrize("y,mu,effect,shape,expected", [
    (0, 13.2, "gamma4", None, 0.002925002069438964),      # 1a (4/17.2)^4
    (3, 13.2, "gamma4", None, 0.055573273435841605),      # 1b
    (0, 30.0, "gamma2", None, 0.00390625),                # 1c 1/256
    (5, 24.0, "gamma10", None, 0.0031060719001515355),    # 1d
    (0, 13.2, "gamma4", 120.0, 0.003072343176678369),     # 2a quad
    (3, 13.2, "gamma4", 120.0, 0.05745277319910696),      # 2b quad
    (0, 13.2, "lognormal", 120.0, 0.0034888455924708523), # 2c quad
])
def test_mixture_tail_against_reference(y, mu, effect, shape, expected):
    got = mixture_cdf([y], [mu], shape, unit_effect(effect))[0]
    assert got == pytest.approx(expected, rel=1e-7)


def test_poisson_binomial_tail_against_enumeration():
    p = np.array([0.1, 0.5, 0.3, 0.9, 0.25])
    assert poisson_binomial_sf(p, 3) == pytest.approx(0.29525, rel=1e-12)   # reference 3
    assert poisson_binomial_sf(p, 0) == 1.0 and poisson_binomial_sf(p, 6) == 0.0
    # broadcasting over rows, each with its own k
    both = poisson_binomial_sf(np.stack([p, np.full(5, 0.5)]), np.array([3, 5]))
    assert both == pytest.approx([0.29525, 1 / 32])


def test_agreement_chance_of_two_poissons_is_the_bessel_series():
    f = count_pmf(np.array([[1.3], [2.1]]), None, 80)       # [unit, month, k]
    assert pair_products(f)[0, 1, 0] == pytest.approx(0.2091239964728965, rel=1e-12)  # reference 4


def test_count_pmf_against_scipy_and_grid_moments():
    mean, shape = np.array([[0.0, 0.5, 3.0, 60.0]]), np.array([[2.0, 10.0, 5.0, 0.5]])
    want = stats.nbinom.pmf(np.arange(301), shape[..., None], (shape / (shape + mean))[..., None])
    assert np.abs(count_pmf(mean, shape, 300) - want).max() < 1e-14
    for spec, var in (("gamma2", 0.5), ("gamma10", 0.1), ("lognormal", math.expm1(0.36))):
        u, w = unit_effect(spec).grid()
        assert w.sum() == pytest.approx(1) and (u * w).sum() == pytest.approx(1, rel=1e-9)
        assert ((u - 1) ** 2 * w).sum() == pytest.approx(var, rel=1e-8)


@pytest.mark.parametrize("shape,mean,base", [(6.0, 58.0, 5), (3.0, 29.0, 50), (0.7, 4.0, 5)])
def test_residue_chance_against_a_direct_sum(shape, mean, base):
    p = shape / (shape + mean)
    k = np.arange(20000)
    pmf = stats.nbinom.pmf(k, shape, p)
    for r in (0, 1, base - 1):
        assert nb_residue_prob(shape, p, r, base) == pytest.approx(pmf[k % base == r].sum(),
                                                                   abs=1e-13)


# ------------------------------------------------------ the oracle, end to end
def _p(o, kind, unit, **where):
    rows = o.loc[(o["check"] == f"oracle:{kind}") & (o["unit"] == unit)]
    for col, val in where.items():
        rows = rows.loc[rows[col] == val]
    return rows["p_value"].min()


@pytest.fixture(scope="module")
def poisson_months():
    """Poisson months (no month noise) and a gamma(4) unit effect: closed forms hold."""
    return make_district(21, n_units=50, overdispersion="gamma4", month_shape=None,
                         strength="strong", district_step=False,
                         plan=[("zero_reporter", 1), ("pinned_rate", 1), ("surge", 1),
                               ("flat_line", 1), ("rule_break", 1), ("low_reporter", 1)])


def test_zero_and_low_reporter_p_values_are_the_negative_binomial_tails(poisson_months):
    d = poisson_months
    o = oracle_findings(d, kinds=["zero_reporter", "low_reporter"])
    for kind in ("zero_reporter", "low_reporter"):
        unit = d.truth.loc[d.truth["kind"] == kind, "unit"].iloc[0]
        row = d.units.set_index("unit").loc[unit]
        mu = row["enterprises"] * TYPE_TABLE.loc[row["unit_type"], "major_rate"] * 12
        rows = d.panel.query("unit == @unit and indicator == 'major_hazards_found'")
        y = int(rows["value"].sum())
        # NB(k = 4, p = k / (k + μ)) by hand: P(Y ≤ y)
        hand = sum(math.exp(math.lgamma(4 + j) - math.lgamma(4) - math.lgamma(j + 1)
                            + 4 * math.log(4 / (4 + mu)) + j * math.log(mu / (4 + mu)))
                   for j in range(y + 1))
        assert _p(o, kind, unit) == pytest.approx(hand, rel=1e-7)


def test_pinned_surge_flat_and_rule_p_values_by_hand(poisson_months):
    d = poisson_months
    o = oracle_findings(d, kinds=["pinned_rate", "surge", "flat_line", "rule_break"])
    units = d.params.units.set_index("unit")
    v = d.values
    unit_of = {k: d.truth.loc[d.truth["kind"] == k, "unit"].iloc[0] for k in
               ("pinned_rate", "surge", "flat_line", "rule_break")}
    # pinned: every one of N rectified, ρ ~ Beta(40, 10): B(40 + N, 10) / B(40, 10)
    i = list(units.index).index(unit_of["pinned_rate"])
    n = int(v["major_hazards_found"][i].sum() + v["general_hazards_found"][i].sum())
    hand = math.exp(math.lgamma(40 + n) + math.lgamma(50) - math.lgamma(40) - math.lgamma(50 + n))
    assert _p(o, "pinned_rate", unit_of["pinned_rate"]) == pytest.approx(hand, rel=1e-9)
    # surge: given the year total N, X_t is Binomial(N, s_t / 12) with Poisson months
    surge = d.truth.loc[d.truth["kind"] == "surge"].iloc[0]
    i, t = list(units.index).index(surge["unit"]), d.params.periods.index(surge["period"])
    x, n = int(v["major_hazards_found"][i, t]), int(v["major_hazards_found"][i].sum())
    q = month_weights(12)[t] / 12
    hand = sum(math.comb(n, j) * q ** j * (1 - q) ** (n - j) for j in range(x, n + 1))
    assert _p(o, "surge", surge["unit"], period=surge["period"]) == pytest.approx(hand, rel=1e-9)
    # flat line: Σ_k Π_t P(value_t = k)
    flat = d.truth.loc[d.truth["kind"] == "flat_line"].iloc[0]
    i, ind = list(units.index).index(flat["unit"]), flat["indicator"]
    row = units.iloc[i]
    def log_poisson(k, lam):
        return -lam + k * math.log(lam) - math.lgamma(k + 1)

    if ind == "units_inspected":
        lam = row["inspect_extra"]       # the quota only shifts the values
        hand = sum(math.exp(12 * log_poisson(k, lam)) for k in range(200))
    else:
        s = month_weights(12)
        hand = sum(math.exp(sum(log_poisson(k, row["general_mean"] * st) for st in s))
                   for k in range(300))
    assert _p(o, "flat_line", flat["unit"], indicator=ind) == pytest.approx(hand, rel=1e-7)
    # a broken rule: p = 0, an alert; every other unit p = 1
    r = o.loc[o["check"] == "oracle:rule_break"]
    assert set(r.loc[r["p_value"] == 0, "unit"]) == {unit_of["rule_break"]}
    assert (r.loc[r["unit"] == unit_of["rule_break"], "severity"] == "alert").all()
    assert (r.loc[r["unit"] != unit_of["rule_break"], "p_value"] == 1).all()


def test_oracle_finds_a_strong_group_and_copied_rows_and_nothing_in_the_twin():
    d = make_district(5, n_units=50, strength="strong", district_step=True,
                      plan=[("coordinated_group", 5), ("identical_rows", 2)])
    o = oracle_findings(d, kinds=["coordinated_group", "identical_rows"])
    flagged = o.loc[o["severity"] != "info"]
    for kind in ("coordinated_group", "identical_rows"):
        members = set(d.truth.loc[d.truth["kind"] == kind, "unit"])
        hits = flagged.loc[flagged["check"] == f"oracle:{kind}"]
        assert members <= set(hits["unit"])
        # every flagged pair of copied rows is the planted pair
        if kind == "identical_rows":
            assert set(hits["unit"]) == members and set(hits["partner"]) == members
    o0 = oracle_findings(d.null, kinds=["coordinated_group", "identical_rows"])
    assert (o0["severity"] == "info").all()
    # a pair test is one test: its two rows share p and q
    pair = o.loc[o["check"] == "oracle:coordinated_group"]
    assert len(pair) % 2 == 0 and pair["q_value"].max() <= 1


def test_oracle_rarely_flags_honest_units():
    """BH at 5 % per kind: on null twins the oracle flags well under 1 % of units."""
    flagged = units = 0
    for seed, od in product(range(3), ("gamma2", "lognormal")):
        d = make_district(seed, n_units=50, overdispersion=od).null
        o = oracle_findings(d)
        flagged += o.loc[(o["severity"] != "info") & o["unit"].notna(), "unit"].nunique()
        units += 50
    assert flagged / units <= 0.01


def test_bh_by_hand():
    """q_(i) = min over j ≥ i of p_(j)·m/j; NaN is not a test."""
    from anquan_analysis.evaluation.oracle import bh_adjust
    q = bh_adjust([0.01, 0.04, np.nan, 0.03, 0.5])
    # sorted 0.01, 0.03, 0.04, 0.5 (m = 4): 0.04, 0.06 → 0.0533, 0.0533, 0.5
    assert q[[0, 1, 3, 4]] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert np.isnan(q[2])
