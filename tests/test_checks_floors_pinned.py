"""repeated_value at a mandated minimum and pinned_rate's beta-binomial (issue 12).
Hand-computed figures come from tests/reference/heaping_by_hand.py,
tests/reference/repeated_floor_by_hand.py,
tests/reference/pinned_beta_binomial.py and tests/reference/pinned_fitted_mean.py
(standard library only)."""

import numpy as np
import pandas as pd
import pytest

from anquan_analysis.checks import balance
from anquan_analysis.checks.balance.floors import mandated_minimum
from anquan_analysis.checks.balance.rate_spread import (all_rectified_chance,
                                                        all_rectified_jointly,
                                                        rate_concentration, rate_means)
from anquan_analysis.panel import as_panel

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


def panel(rows):
    """rows: (unit, unit_type, period, indicator, value)."""
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    return df.assign(parent="示范区", approx=False, value=df["value"].astype(float))


# ------------------------------------------------------------- repeated_value floor

def _meetings():
    """Eight towns' safety meetings: five hold the mandated one every month, two one
    plus a few, 甲镇 reports 7 every month."""
    series = {f"镇{u}": [1] * 12 for u in range(1, 6)}
    series["镇6"] = [1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1]
    series["镇7"] = [1, 1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 1]
    series["甲镇"] = [7] * 12
    return panel([(u, "town", m, "safety_meetings", v)
                  for u, vals in series.items() for m, v in zip(MONTHS, vals)])


def test_mandated_minimum_read_from_the_peers():
    # smallest figures: 1 in seven of eight towns; 78 of the 96 positive figures are
    # 1; no figure below it: the floor is 1, for 甲镇 too.
    cube = as_panel(_meetings()).series(None)
    floor = mandated_minimum(cube, slice(None))
    assert floor.shape == (8, 1) and (floor == 1.0).all()
    # a small count piles up at 1 but is 0 in a third of the months: no floor
    rng = np.random.default_rng(0)
    poisson = panel([(f"镇{u}", "town", m, "safety_meetings", rng.poisson(1.0))
                     for u in range(8) for m in MONTHS])
    assert np.isnan(mandated_minimum(as_panel(poisson).series(None), slice(None))).all()


def test_flat_line_at_the_mandated_minimum_is_not_flagged_and_at_seven_it_is():
    f = balance.repeated_value(_meetings())
    assert list(f["unit"]) == ["甲镇"] and f["observed"].item() == 7
    # p = Σ_y Poisson(y; 7 − 1)^12 (above the floor of 1 the figures are 1 plus a
    # count), one start position; BH over the 8 series and the 8 runs at the floor
    # (tests/reference/repeated_floor_by_hand.py)
    assert f["p_value"].item() == pytest.approx(6.710234740370588e-10, rel=1e-6)
    assert f["q_value"].item() == pytest.approx(1.073637558459294e-08, rel=1e-6)
    # without the floor the five towns at 1 are flat lines at Poisson(1) odds
    old = balance.repeated_value(_meetings(), mandated_minimum=False)
    assert set(old["unit"]) == {"甲镇", "镇1", "镇2", "镇3", "镇4", "镇5"}
    assert old.loc[old["unit"] == "镇1", "p_value"].item() == pytest.approx(
        6.145712407994896e-06, rel=1e-6)


def test_the_run_at_nine_is_judged_apart_from_the_run_at_the_floor():
    # 甲镇 holds the mandated one for seven months, then 9 for five: the run at 9 is
    # tested as 1 plus a count of mean 10/3 (outside the run only 1s, at the floor: no
    # ratio of its own; the peers' median (s² − m)/m² is −1, below 0: Poisson); p is
    # the exact chance of a run of 5 in 12 draws, 0.00714 (the union bound over 8
    # start positions gave 0.0087; tests/reference/repeated_floor_by_hand.py); the
    # longer run at the floor by the floor model (its peers rise above 1 in a fifth
    # of their months, with a wide spread, k = 0.21: p = 1).  Neither is flagged
    # among 16 tests; a run ending in a month at the floor is judged at the floor.
    rows = [r for r in _meetings().itertuples(index=False) if r.unit != "甲镇"]
    extra = panel([("甲镇", "town", m, "safety_meetings", v)
                   for m, v in zip(MONTHS, [1] * 7 + [9] * 5)])
    df = pd.concat([pd.DataFrame(rows), extra], ignore_index=True)
    f = balance.repeated_value(df, info_p=1.0)
    jia = f[f["unit"] == "甲镇"].set_index("observed")
    assert jia.loc[9.0, "statistic"] == 5 and jia.loc[9.0, "period"] == "2024-12"
    assert jia.loc[9.0, "p_value"] == pytest.approx(0.0071366093027638005, rel=1e-6)
    assert list(jia.index) == [9.0]      # p = 1 at the floor: not even an info row
    assert (f["severity"] == "info").all()
    at_p = balance.repeated_value(df, period="2024-07", info_p=1.0)
    assert (at_p["observed"] == 1).all() and (at_p["severity"] == "info").all()
    old = balance.repeated_value(df, period="2024-07", info_p=1.0, mandated_minimum=False)
    assert old.loc[old["unit"] == "甲镇", "statistic"].item() == 7


# ----------------------------------------------------------- pinned_rate spread

def _spread_panel(peers, n_peer_month, n_pinned_month, months):
    """甲镇 rectifies every hazard (n_pinned_month a month); peer k finds
    n_peer_month a month and rectifies peers[k] over the months (one more in the
    first months)."""
    rows = []
    for m in MONTHS[:months]:
        rows += [("甲镇", "town", m, "major_hazards_found", n_pinned_month),
                 ("甲镇", "town", m, "major_hazards_rectified", n_pinned_month)]
    for k, total in enumerate(peers):
        base, extra = divmod(total, months)
        for t, m in enumerate(MONTHS[:months]):
            rows += [(f"镇{k}", "town", m, "major_hazards_found", n_peer_month),
                     (f"镇{k}", "town", m, "major_hazards_rectified", base + (t < extra))]
    return panel(rows)


SPREAD = ([50, 51, 52, 48, 54, 45, 57], 10, 8, 6)
PINNED = ([48, 52, 50, 54, 49, 51, 53, 50, 52, 51], 5, 3, 12)


def test_pinned_beta_binomial_spread_by_hand():
    # Peers at 75–95% (beyond binomial noise): μ and c fitted to the seven below
    # 100% (tests/reference/pinned_fitted_mean.py: μ = 0.8501946, c = 72.33); the
    # binomial keeps the peers' pooled rate, 357 of 420.
    df = _spread_panel(*SPREAD)
    mle = balance.pinned_rate(df, info_p=1.0)
    plain = balance.pinned_rate(df, model="binomial", info_p=1.0)
    for f, rho, p in ((mle, 0.8501945251429579, 0.002735183111299293),
                      (plain, 0.85, 0.0004093628563497563)):
        assert list(f["unit"]) == ["甲镇"] and f["statistic"].item() == 48
        assert f["expected"].item() == pytest.approx(rho, rel=1e-6)
        assert f["p_value"].item() == pytest.approx(p, rel=1e-4)
    assert "按同类单位整改率85.0%及单位间差异计" in mle["message"].item()
    assert "按同类单位整改率85.0%计" in plain["message"].item()
    # the 80% bound widens the spread: a larger p
    low = balance.pinned_rate(df, spread_level=0.8, info_p=1.0)
    assert low["p_value"].item() > 3 * mle["p_value"].item()


def test_rate_means_by_hand_and_not_set_by_the_pinned():
    n = np.array([48] + [60] * 7, dtype=float)
    r = np.array([48, 50, 51, 52, 48, 54, 45, 57], dtype=float)
    mu, c = rate_means(n, r, np.zeros(8, dtype=int), level=None)
    assert mu == pytest.approx(np.full(8, 0.8501945251429579), rel=1e-6)
    assert c == pytest.approx(72.32774541637758, rel=1e-6)
    # every unit 300 times: the same maximum (the log-likelihood 300 times over),
    # found from a sample of every 6th unit of the 2,100 below 100% (issue 15)
    mu_k, c_k = rate_means(np.repeat(n, 300), np.repeat(r, 300), np.zeros(2400, dtype=int),
                           level=None)
    assert mu_k[0] == pytest.approx(mu[0], rel=1e-9) and c_k == pytest.approx(c, rel=1e-7)
    # large units at 100% in the same group change neither (they are not fitted) ...
    mu2, c2 = rate_means(np.append(n, [461, 300]), np.append(r, [461, 300]),
                         np.zeros(10, dtype=int), level=None)
    assert mu2[0] == pytest.approx(mu[0], rel=1e-9) and c2 == pytest.approx(c, rel=1e-6)
    # ... while the pooled rate rises from 85% to 93%
    assert (r[1:].sum() + 761) / (n[1:].sum() + 761) > 0.93
    # a group with fewer than five units below 100% takes every unit's mean
    group = np.array([0] * 8 + [1, 1])
    mu3, _ = rate_means(np.append(n, [50, 50]), np.append(r, [20, 25]), group, level=None)
    assert mu3[8] == mu3[9] and mu3[8] < mu3[0]
    assert np.isnan(rate_means(n[:5], r[:5], np.zeros(5, dtype=int))[0]).all()


def test_all_rectified_jointly_by_construction_and_by_hand():
    # one pair: exactly the beta-binomial P(all n)
    for n, rho, c in ((1, 0.85, 50.0), (43, 0.83, 50.0), (1271, 0.74, 20.0), (5, 0.5, 0.5)):
        got = all_rectified_jointly([[n, 0]], [[rho, 0.5]], [c, 10.0])[0]
        assert got == pytest.approx(all_rectified_chance(n, rho, c), rel=1e-3)
    # two pairs with the same Beta: one rate for both, E[ρ^50] = B(90, 10) / B(40, 10)
    same = all_rectified_jointly([[30, 20]], [[0.8, 0.8]], [50.0, 50.0])[0]
    assert same == pytest.approx(0.0005274841534096085, rel=1e-4)
    # Beta(40, 10) × 30 and Beta(20, 20) × 5 (tests/reference/pinned_fitted_mean.py)
    mixed = all_rectified_jointly([[30, 5]], [[0.8, 0.5]], [50.0, 40.0])[0]
    assert mixed == pytest.approx(0.0005577435172539278, rel=1e-3)
    # binomial pairs: the rates are fixed, ρ₁^n₁ ρ₂^n₂; no hazard: 1
    assert all_rectified_jointly([[10, 4], [0, 0]], [[0.8, 0.5], [0.8, 0.5]],
                                 [np.inf, np.inf]) == pytest.approx([0.8 ** 10 * 0.5 ** 4, 1.0])
    # an upper bound: never below the product of the pairs' own chances
    assert mixed >= all_rectified_chance(30, 0.8, 50.0) * all_rectified_chance(5, 0.5, 40.0)


def test_a_unit_at_100_percent_on_two_pairs_is_judged_on_both_in_one_row():
    # 甲镇 rectifies all its major (3 a month) and general (4 a month) hazards; peers
    # rectify about 85% of each.  Together the evidence is hundreds of times stronger
    # than either pair's alone, in one row that names both.
    rows = []
    peers = [48, 52, 50, 54, 49, 51, 53, 50, 52, 51]
    for code, per_month in (("major_hazards", 3), ("general_hazards", 4)):
        for m in MONTHS:
            rows += [("甲镇", "town", m, f"{code}_found", per_month),
                     ("甲镇", "town", m, f"{code}_rectified", per_month)]
        for k, total in enumerate(peers):
            base, extra = divmod(total, 12)
            for t, m in enumerate(MONTHS):
                rows += [(f"镇{k}", "town", m, f"{code}_found", 5),
                         (f"镇{k}", "town", m, f"{code}_rectified", base + (t < extra))]
    df = panel(rows)
    f = balance.pinned_rate(df)
    assert list(f["unit"]) == ["甲镇"] and f["severity"].item() in ("warning", "alert")
    assert f["q_value"].item() == pytest.approx(11 * f["p_value"].item(), rel=1e-9)
    assert f["statistic"].item() == 36 + 48
    assert f["indicator"].item() == "general_hazards_rectified"
    assert "一般隐患排查数48项、重大事故隐患排查数36项" in f["message"].item()
    # binomial peers (c = ∞): the bound is ρ^84, ρ the peers' fitted 85.00087%
    assert f["p_value"].item() == pytest.approx(0.8500087363733431 ** 84, rel=1e-4)
    alone = [balance.pinned_rate(df, pairs=((c + "_found", c + "_rectified"),))
             for c in ("major_hazards", "general_hazards")]
    assert all(a["p_value"].item() > 300 * f["p_value"].item() for a in alone)


def test_rate_concentration_by_hand_and_robust_to_the_pinned():
    n = np.array([48] + [60] * 7, dtype=float)
    r = np.array([48, 50, 51, 52, 48, 54, 45, 57], dtype=float)
    rho = np.array([(r.sum() - r[i]) / (n.sum() - n[i]) for i in range(8)])
    assert rate_concentration(n, r, rho, level=None) == pytest.approx(39.06751591602078, rel=1e-5)
    assert rate_concentration(n, r, rho) == pytest.approx(18.426462623198276, rel=1e-5)
    # more units at 100% leave the fit unchanged (they are not in it) ...
    more = rate_concentration(np.append(n, [200, 300]), np.append(r, [200, 300]),
                              np.append(rho, [0.85, 0.85]), level=None)
    assert more == pytest.approx(39.06751591602078, rel=1e-5)
    # ... and fewer than five units below 100% give the binomial
    assert rate_concentration(n[:5], r[:5], rho[:5]) == np.inf
    assert all_rectified_chance([10], [0.8], np.inf)[0] == pytest.approx(0.8 ** 10)


def test_pinned_unit_among_peers_at_85_percent_is_flagged():
    # 36 of 36 rectified among ten peers at about 85% (within binomial noise): the
    # spread's profile rises to its edge (binomial), μ = 0.8500087 fitted to the
    # ten conditioned on r < n, p = μ^36, and the Tarone family is all eleven
    # units: q = 11 p (tests/reference/pinned_fitted_mean.py).
    f = balance.pinned_rate(_spread_panel(*PINNED))
    assert list(f["unit"]) == ["甲镇"] and f["severity"].item() == "warning"
    assert f["p_value"].item() == pytest.approx(0.002879002345340895, rel=1e-5)
    assert f["q_value"].item() == pytest.approx(0.03166902579874985, rel=1e-5)


def _honest_city(seed, units=30):
    """Towns rectifying at rates uniform between 70% and 100%, 2–8 hazards a month."""
    rng = np.random.default_rng(10_000 + seed)
    rates, lam = rng.uniform(0.70, 1.00, units), rng.uniform(2, 8, units)
    rows = []
    for u in range(units):
        for m in MONTHS:
            found = rng.poisson(lam[u])
            rows += [(f"镇{u:02d}", "town", m, "major_hazards_found", found),
                     (f"镇{u:02d}", "town", m, "major_hazards_rectified",
                      rng.binomial(found, rates[u]))]
    return panel(rows)


def test_honest_peers_spread_70_to_100_percent_are_not_flagged():
    # 20 cities × 30 honest towns.  Some towns truly rectify 99% or more and show
    # 100% over 60–100 hazards (rates uniform up to 100%, not a Beta): the binomial,
    # which takes every town to rectify at the peers' 85%, flags them (about 4% of
    # towns, 80% of cities over 200 seeds, benchmarks/balance_changes.py).  The
    # beta-binomial with the spread's 80% bound flags at most 1% of the 600 towns
    # (the target for units in cities with nothing injected); the default,
    # the maximum-likelihood spread, flags 8 (1.3%: the price of matching the
    # oracle where rates are Beta, see pinned_rate's Notes), under half the
    # binomial's (20).
    new = low = old = 0
    for seed in range(20):
        df = _honest_city(seed)
        new += int((balance.pinned_rate(df)["severity"] != "info").sum())
        low += int((balance.pinned_rate(df, spread_level=0.8)["severity"] != "info").sum())
        old += int((balance.pinned_rate(df, model="binomial")["severity"] != "info").sum())
    assert low <= 6 and new <= 8
    assert old > 12 and new < old / 2 and low < old / 3
