"""Tests of matching_series (coordinated groups: units that agree their figures) and
of the null districts with quota and floor indicators, where neither it nor
underdispersion may raise a warning.  The pair worked by hand is in
tests/reference/matching_pair_by_hand.py."""

import numpy as np
import pandas as pd
import pytest

from anquan_analysis.checks import balance
from anquan_analysis.checks.balance.agreement import (PairAgreement, binomial_tail,
                                                      pairs_within, tail_lower_bound)
from anquan_analysis.checks.balance.groups import join_pairs, period_list, period_span
from anquan_analysis.findings import FINDINGS_COLUMNS

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


def frame(rows):
    """rows: (unit, unit_type, parent, period, indicator, value)."""
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "parent", "period", "indicator", "value"])
    return df.assign(approx=False, value=df["value"].astype(float))


def planted_district(seed, shuffle=False, n=40):
    """40 towns × 12 months, three indicators of honest Poisson-gamma figures, and
    three planted groups of 5 towns: on major hazards the same figure in 12 of 12
    months; on units inspected figures within ±1 of one another (the agreed figure
    + 0 or 1) in 9 of 12; on general hazards the same figure in 8 of 12.  The agreed
    figure is the median of the members' own honest figures that month.  With
    ``shuffle`` each member's months are then shuffled: the same figures, the
    same distributions, no agreement left."""
    rng = np.random.default_rng(seed)
    names = [f"{k:02d}镇" for k in range(n)]
    figures = {"major_hazards_found": rng.poisson(rng.gamma(3, 2, n)[:, None], (n, 12)),
               "units_inspected": rng.poisson(rng.gamma(4, 15, n)[:, None], (n, 12)),
               "general_hazards_found": rng.poisson(rng.gamma(4, 5, n)[:, None], (n, 12))}
    plan = {"major_hazards_found": (range(0, 5), 12, 1),
            "units_inspected": (range(5, 10), 9, 2),
            "general_hazards_found": (range(10, 15), 8, 1)}
    truth = {}
    for code, (members, k, spread) in plan.items():
        x, members = figures[code], list(members)
        agreed = np.round(np.median(x[members], axis=0))
        months = np.sort(rng.choice(12, k, replace=False))
        x[np.ix_(members, months)] = agreed[months] + rng.integers(0, spread, (len(members), k))
        if shuffle:
            for u in members:
                x[u] = rng.permutation(x[u])
        truth[code] = ({names[u] for u in members}, [MONTHS[t] for t in months])
    rows = [(names[u], "town", "示范区", MONTHS[t], code, x[u, t])
            for code, x in figures.items() for u in range(n) for t in range(12)]
    return frame(rows), truth


def groups_of(findings):
    """(indicator, members, severity, message) of each group: a row with a blank
    unit followed by its members' rows."""
    out = []
    for r in findings.itertuples():
        if not isinstance(r.unit, str):
            out.append((r.indicator, set(), r.severity, r.message))
        else:
            out[-1][1].add(r.unit)
    return out


# ------------------------------------------------------------------ one pair by hand

def test_pair_by_hand():
    # tests/reference/matching_pair_by_hand.py: N = 9 (month 5 is 0 for both), 5
    # equal months, 8 within ±1; chances 13/98 and 3/7 from each town's own ten
    # figures; p = 2 × min(P(Bin(9, 13/98) ≥ 5), P(Bin(9, 3/7) ≥ 8)).
    a = [3, 5, 2, 4, 0, 3, 1, 0, 2, 4]
    b = [3, 5, 1, 4, 0, 3, 2, 1, 2, 6]
    df = frame([(u, "town", "示范区", MONTHS[t], "major_hazards_found", v[t])
                for u, v in (("甲镇", a), ("乙镇", b)) for t in range(10)])
    f = balance.matching_series(df)
    assert list(f.columns) == FINDINGS_COLUMNS
    assert f["unit"].isna().tolist() == [True, False, False]
    assert sorted(f["unit"].dropna()) == ["乙镇", "甲镇"]
    row = f.iloc[0]
    assert row["p_value"] == pytest.approx(0.0064960924446886975, rel=1e-10)
    assert row["q_value"] == pytest.approx(0.0064960924446886975, rel=1e-10)  # one pair tested
    assert row["severity"] == "alert"
    assert row["observed"] == 5 and row["statistic"] == 5
    assert row["expected"] == pytest.approx(9 * 13 / 98, rel=1e-12)
    assert row["message"] == ("乙镇、甲镇2个镇街2024年1—10月中有5个月重大事故隐患排查数完全相同"
                              "（1—2、4、6、9月），疑似相互“保持平衡”")
    assert f.iloc[1]["message"].startswith("乙镇与甲镇2024年1—10月中有5个月")
    assert (f["q_value"] == row["q_value"]).all()           # members carry the group's q
    assert f["period"].isna().all()


def test_binomial_tail_and_its_lower_bound():
    assert binomial_tail(5, 9, 13 / 98) == pytest.approx(0.0032480462223443488, rel=1e-12)
    assert binomial_tail(8, 9, 3 / 7) == pytest.approx(0.006340920156158531, rel=1e-12)
    assert binomial_tail(0, 9, 0.3) == 1.0
    rng = np.random.default_rng(3)
    n = rng.integers(1, 40, 5000)
    k = np.minimum(rng.integers(0, 41, 5000), n)
    p = rng.random(5000) ** 3
    assert (tail_lower_bound(k, n, p) <= binomial_tail(k, n, p) * (1 + 1e-9)).all()


def test_pair_counts_equal_a_direct_count():
    # The sparse products and bitsets against the definition, pair by pair: three
    # groups (tolerance 1, 2, 3), gaps, zeros, units in no group.
    rng = np.random.default_rng(1)
    values = rng.poisson(rng.gamma(2, 3, 40)[:, None], (40, 14)).astype(float)
    values[rng.random(values.shape) < 0.1] = np.nan
    gid = rng.integers(-1, 3, 40)
    tol = np.array([1.0, 2.0, 3.0])
    a, b = pairs_within(gid)
    assert (gid[a] == gid[b]).all() and (a < b).all() and (gid[a] >= 0).all()
    assert len(a) == sum(c * (c - 1) // 2 for c in np.bincount(gid[gid >= 0]))
    n, equal, near, ch_eq, ch_near = PairAgreement(values, gid, tol).counts(a, b)
    for j in range(len(a)):
        x, y, t = values[a[j]], values[b[j]], tol[gid[a[j]]]
        ok = ~np.isnan(x) & ~np.isnan(y) & ~((x == 0) & (y == 0))
        assert (n[j], equal[j], near[j]) == (ok.sum(), (ok & (x == y)).sum(),
                                             (ok & (np.abs(x - y) <= t)).sum())
        xs, ys = x[~np.isnan(x)], y[~np.isnan(y)]
        zero = (xs == 0).sum() * (ys == 0).sum()
        for band, got in ((0, ch_eq[j]), (t, ch_near[j])):
            k = (np.abs(xs[:, None] - ys[None, :]) <= band).sum()
            assert got == pytest.approx((k - zero) / (len(xs) * len(ys) - zero), rel=1e-12)


def test_candidates_are_the_pairs_near_in_some_period_and_their_counts_are_kept():
    # Units 0-2 in group 0 (tolerance 1), unit 3 in group 1, unit 4 in none.
    # 0 and 1 are within 1 in period 1 only (3 vs 4) and both 0 in period 0;
    # 0 and 2 never within 1, not even both 0 (2 reported nothing in period 0);
    # 1 and 2 equal in period 2 (7).  Pairs asked in the build's order and in
    # another order give the same figures (the build's are kept, others counted).
    nan = np.nan
    values = np.array([[0, 3, 10, 20],
                       [0, 4, 7, 30],
                       [nan, 6, 7, 40],
                       [0, 0, 0, 0],
                       [0, 3, 10, 20]], dtype=float)
    gid = np.array([0, 0, 0, 1, -1])
    agreement = PairAgreement(values, gid, np.array([1.0, 1.0]))
    a, b = agreement.candidates()
    assert (a.tolist(), b.tolist()) == ([0, 1], [1, 2])
    kept = agreement.counts(a, b)
    # N: 0-1 reported together 4 periods, one both 0; 1-2 three periods
    assert kept[0].tolist() == [3, 3] and kept[1].tolist() == [0, 1]
    assert kept[2].tolist() == [1, 1]
    counted = agreement.counts(a[::-1], b[::-1])
    for x, y in zip(kept, counted):
        assert x.tolist() == y[::-1].tolist()
    pa, pb = pairs_within(gid)
    assert agreement.periods(pa, pb).tolist() == [3, 3, 3]
    assert agreement.periods(pa[::-1], pb[::-1]).tolist() == [3, 3, 3]
    # chance of equal figures for 0-1: of 4 × 4 pairs of periods, one (0, 0) is
    # both 0 and none other equal: 0 / 15; near: (3, 4) only: 1 / 15
    assert kept[3][0] == 0.0 and kept[4][0] == pytest.approx(1 / 15)


# ------------------------------------------------------------- planted and null groups

@pytest.mark.parametrize("seed", range(5))
def test_planted_groups_are_found_with_exactly_their_members(seed):
    df, truth = planted_district(seed)
    f = balance.matching_series(df)
    groups = [g for g in groups_of(f) if g[2] != "info"]
    for code, (members, months) in truth.items():
        hits = [g for g in groups if g[0] == code and g[1] & members]
        assert len(hits) == 1 and hits[0][1] == members, code
    # Benjamini–Hochberg at 5 % over ~30 true pairs admits a false pair now and
    # then (6 in 50 districts): at most one such group per district.
    planted = [m for m, _ in truth.values()]
    assert sum(g[1] not in planted for g in groups) <= 1
    exact = [g for g in groups if g[0] == "major_hazards_found" and g[1] == truth["major_hazards_found"][0]]
    assert "中有12个月重大事故隐患排查数完全相同，疑似相互“保持平衡”" in exact[0][3]


def test_partial_groups_name_their_months():
    df, truth = planted_district(2)
    f = balance.matching_series(df)
    groups = {g[0]: g for g in groups_of(f) if g[1] == truth[g[0]][0]}
    # Nine months within ±1 of one another; the three others are named as exceptions.
    missing = sorted(set(MONTHS) - set(truth["units_inspected"][1]))
    assert groups["units_inspected"][3] == (
        "05镇、06镇、07镇、08镇、09镇等5个镇街2024年1—12月中有9个月部门检查生产经营单位彼此"
        f"相差不超过1（{period_list(missing, with_year=False)}除外），疑似相互“保持平衡”")
    assert missing == ["2024-01", "2024-03", "2024-12"]
    # Eight equal months: listed.
    months = period_list(truth["general_hazards_found"][1], with_year=False)
    assert months == "1—6、10、12月"
    assert groups["general_hazards_found"][3] == (
        f"10镇、11镇、12镇、13镇、14镇等5个镇街2024年1—12月中有8个月一般隐患排查数完全相同"
        f"（{months}），疑似相互“保持平衡”")


@pytest.mark.parametrize("seed", range(5))
def test_same_figures_with_shuffled_months_give_no_group(seed):
    # The planted members keep every figure (identical marginal distributions within
    # each group) but their months are shuffled: nothing at warning level.  Over 50
    # districts none was flagged.
    df, _ = planted_district(seed, shuffle=True)
    f = balance.matching_series(df)
    assert (f["severity"] == "info").all()


def quota_district(seed, n=40, fixed=True):
    """An honest district: drills = drill enterprises + Poisson(2) (the drill
    enterprises a fixed count per town, or Poisson around it each month), principal
    training sessions = 1 + Poisson(0.5), major hazards Poisson(gamma)."""
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 12, n)
    ent = np.repeat(size[:, None], 12, axis=1) if fixed else rng.poisson(size[:, None], (n, 12))
    figures = {"drill_enterprises": ent, "drills": ent + rng.poisson(2, (n, 12)),
               "principal_training_sessions": 1 + rng.poisson(0.5, (n, 12)),
               "major_hazards_found": rng.poisson(rng.gamma(2, 2, n)[:, None], (n, 12))}
    return frame([(f"{u:02d}镇", "town", "示范区", MONTHS[t], code, x[u, t])
                  for code, x in figures.items() for u in range(n) for t in range(12)])


def test_quota_null_districts_raise_no_warning():
    # Floors and quotas make every town steady and alike; each town's own figures
    # say how often steady towns agree, so neither check may call it balancing.
    # Bound: Benjamini–Hochberg at 5 % under the global null gives a district a
    # warning with probability at most 0.05, so 20 districts should see one at
    # most now and then; both checks being conservative, none was seen in 100
    # (50 seeds × 2 kinds of floor, tests/reference/balance_null_districts.py).
    flagged = 0
    for seed in range(10):
        for fixed in (True, False):
            df = quota_district(seed, fixed=fixed)
            for check in (balance.matching_series, balance.underdispersion):
                flagged += (check(df)["severity"] != "info").any()
                flagged += (check(df, period="2024-12")["severity"] != "info").any()
    assert flagged <= 1


# --------------------------------------------------------------------- options

def test_period_needs_agreement_at_p_or_just_before():
    # Five towns agree in months 1–8 only; honest figures after.
    rng = np.random.default_rng(5)
    x = rng.poisson(rng.gamma(3, 2, 30)[:, None], (30, 12)).astype(float)
    x[:5, :8] = np.round(np.median(x[:5, :8], axis=0))
    df = frame([(f"{u:02d}镇", "town", "示范区", MONTHS[t], "major_hazards_found", x[u, t])
                for u in range(30) for t in range(12)])
    agree_after = [t for t in range(8, 12) if len(set(x[:5, t])) == 1 and x[0, t] > 0]
    assert not agree_after                                 # by construction of this seed
    assert balance.matching_series(df, period="2024-12").empty      # not in Oct–Dec
    f = balance.matching_series(df, period="2024-08")
    assert set(f["period"]) == {"2024-08"}
    assert set(f["unit"].dropna()) == {f"{u:02d}镇" for u in range(5)}
    assert "2024年1—8月中有8个月" in f["message"].iloc[0]
    late = balance.matching_series(df, period="2024-12", recent=5)   # August is recent
    assert set(late["unit"].dropna()) == {f"{u:02d}镇" for u in range(5)}


def test_large_groups_split_by_parent_and_type_and_indicator_options():
    # 甲镇 (district A) and 乙镇 (district B) agree; the other towns are honest.
    rng = np.random.default_rng(2)
    x = rng.poisson(rng.gamma(3, 3, 12)[:, None], (12, 12)).astype(float)
    x[1] = x[0]
    names = ["甲镇", "乙镇"] + [f"{k:02d}镇" for k in range(10)]
    rows = [(names[u], "town", "A区" if u % 2 == 0 else "B区", MONTHS[t], "drills", x[u, t])
            for u in range(12) for t in range(12)]
    rows += [("丙局", "", "A区", MONTHS[t], "drills", x[0, t]) for t in range(12)]  # no type
    df = frame(rows)
    assert set(balance.matching_series(df)["unit"].dropna()) == {"甲镇", "乙镇"}
    assert balance.matching_series(df, max_group_units=8).empty     # split: not peers
    assert balance.matching_series(df, indicators=["major_hazards_found"]).empty
    before = df.copy()
    balance.matching_series(df)
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(ValueError, match="value"):
        balance.matching_series(df.drop(columns="value"))


def test_large_figures_agree_within_a_relative_band():
    # Persons trained in the thousands: four towns report within 10 of one another
    # each month, never equal; the band is ±⌊1 % × the group's typical figure⌋ = ±9,
    # and the message gives the largest difference seen.
    rng = np.random.default_rng(4)
    x = rng.poisson(rng.gamma(20, 50, 25)[:, None], (25, 12)).astype(float)
    agreed = rng.integers(700, 1300, 12)
    x[:4] = agreed + np.array([[0], [3], [7], [10]])
    df = frame([(f"{u:02d}镇", "town", "示范区", MONTHS[t], "worker_training_persons", x[u, t])
                for u in range(25) for t in range(12)])
    f = balance.matching_series(df)
    assert set(f["unit"].dropna()) == {"00镇", "01镇", "02镇", "03镇"}
    assert "中有12个月从业人员安全技能培训人次彼此相差不超过10，" in f["message"].iloc[0]


# ------------------------------------------------------------------- joining pairs

def test_join_pairs_keeps_dense_components_and_splits_chains():
    # 1–2–3 with 1–3: a triangle; 10–11–12–13–14: a chain, split into its pairs.
    a = np.array([1, 2, 1, 10, 11, 12, 13])
    b = np.array([2, 3, 3, 11, 12, 13, 14])
    q = np.array([0.01, 0.02, 0.03, 0.001, 0.002, 0.003, 0.004])
    groups = join_pairs(a, b, q)
    members = sorted(tuple(g[0]) for g in groups)
    assert members == [(1, 2, 3), (10, 11), (11, 12), (12, 13), (13, 14)]
    tri = [g for g in groups if tuple(g[0]) == (1, 2, 3)][0]
    assert q[tri[2]] == 0.02   # the triangle holds together at 0.02 (1–2 and 2–3)
    # A five-member group missing 4 of its 10 pairs is kept whole (diameter 2).
    a = np.array([0, 0, 0, 1, 2, 3])
    b = np.array([1, 2, 3, 2, 4, 4])
    assert [tuple(g[0]) for g in join_pairs(a, b, np.full(6, 0.01))] == [(0, 1, 2, 3, 4)]


def test_period_wording():
    assert period_span(MONTHS) == "2024年1—12月"
    assert period_span(["2023-11", "2023-12", "2024-01"]) == "2023年11月—2024年1月"
    assert period_span(["2024Q1", "2024Q2", "2024Q4"]) == "2024年第1—4季度"
    assert period_list(["2024-02", "2024-03", "2024-07"]) == "2024年2—3、7月"
    assert period_list(["2024-02", "2024-03", "2024-07"], with_year=False) == "2—3、7月"
    assert period_list(["2023-12", "2024-01", "2024-02"]) == "2023年12月、2024年1—2月"
    assert period_list(["2024Q1", "2024Q3"]) == "2024年第1、3季度"
