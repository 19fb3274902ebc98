"""Tests of the balance (data credibility) checks.  Hand-computed figures come from
tests/reference/balance_reference_values.py (closed forms, standard library only)."""

import functools

import numpy as np
import pandas as pd
import pytest

from anquan_analysis.checks import balance
from anquan_analysis.checks._stats import bh_adjust, bh_of_smallest, tarone_bh
from anquan_analysis.checks.balance.digits import heap_share
from anquan_analysis.checks.balance.identical import tie_chance
from anquan_analysis.findings import FINDINGS_COLUMNS
from anquan_analysis.synth import make_city

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


def panel(rows):
    """rows: (unit, unit_type, period, indicator, value)."""
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    return df.assign(parent="示范区", approx=False, value=df["value"].astype(float))


# ------------------------------------------------------------------ underdispersion
# Issue 12 replaced the Poisson null (a left-tail Pearson χ² per group and period,
# pooled, and neighbour pairs) with each member's own past: the old tests of the
# χ² by hand, of exposure weights, of pooling and of the pair test are gone with
# it; pairs are matching_series's (tests/test_checks_matching.py).

CONVERGING = {"甲": [4, 6, 5, 7, 3, 5, 5, 5, 6], "乙": [8, 6, 9, 7, 10, 8, 6, 5, 6],
              "丙": [2, 4, 3, 1, 5, 3, 5, 6, 5], "丁": [6, 5, 7, 6, 4, 8, 6, 5, 6],
              "戊": [3, 5, 4, 6, 2, 4, 5, 6, 6]}


def test_underdispersion_by_hand():
    # tests/reference/underdispersion_by_hand.py: five towns, months 1–6 their past,
    # 7–9 (P = 2024-09) drawn to 5 or 6 each.
    p = panel([(f"{u}镇", "town", MONTHS[t], "units_inspected", v)
               for u, vs in CONVERGING.items() for t, v in enumerate(vs)])
    f = balance.underdispersion(p, period="2024-09", info_p=1.0)
    assert len(f) == 1 and f["unit"].isna().all()           # the group, named once
    row = f.iloc[0]
    assert row["observed"] == pytest.approx(0.26666666666666666, rel=1e-12)
    assert row["expected"] == pytest.approx(5.94475673898751, rel=1e-10)
    assert row["statistic"] == pytest.approx(-2.6497325884571987, rel=1e-10)
    assert row["p_value"] == pytest.approx(0.004027775143105483, rel=1e-9)
    assert row["severity"] == "alert" and row["period"] == "2024-09"
    assert row["unit_type"] == "town" and row["indicator"] == "units_inspected"
    assert row["message"] == ("示范区所属镇街（丁镇、丙镇、乙镇、戊镇、甲镇5个）2024年7—9月部门检查"
                              "生产经营单位彼此差距仅为按各自此前6个月波动推算的4%，明显收窄，"
                              "疑似相互“保持平衡”")
    # Up to August the past is five months: below min_periods (6), nothing tested.
    assert balance.underdispersion(p, period="2024-08", info_p=1.0).empty


def _district(seed, n=20, months=12, push=1.0, converge=False):
    """Honest towns (Poisson around gamma levels, mean 6); optionally every town ×
    ``push`` in the last 3 months, or all drawn within ±1 of the median there."""
    rng = np.random.default_rng(seed)
    f = np.where(np.arange(months) >= months - 3, push, 1.0)
    x = rng.poisson(rng.gamma(2, 3, n)[:, None] * f, (n, months)).astype(float)
    if converge:
        agreed = np.round(np.median(x[:, -3:], axis=0))
        x[:, -3:] = np.maximum(agreed + rng.integers(-1, 2, (n, 3)), 0)
    return panel([(f"{u:02d}镇", "town", MONTHS[t], "units_inspected", x[u, t])
                  for u in range(n) for t in range(months)])


def test_underdispersion_finds_a_group_drawn_together_not_a_push():
    for seed in range(3):
        f = balance.underdispersion(_district(seed, converge=True), period="2024-12")
        assert len(f) == 1 and f["severity"].iloc[0] == "alert"
        assert "2024年10—12月" in f["message"].iloc[0] and "等20个）" in f["message"].iloc[0]
        # Everyone ×2.5 in October–December (巴南's September): the level moves,
        # the members' spread with it; not tightening.
        assert balance.underdispersion(_district(seed, push=2.5), period="2024-12").empty
        assert balance.underdispersion(_district(seed, push=0.4), period="2024-12").empty
        assert balance.underdispersion(_district(seed), period="2024-12").empty


def test_underdispersion_period_none_tests_every_end_and_groups_by_parent():
    p = _district(0, converge=True)
    f = balance.underdispersion(p)
    assert "2024-12" in set(f["period"])
    assert set(f["period"]) <= {m for m in MONTHS[8:]}     # 6 past + 3 recent at least
    # Two districts of 10 towns: each its own group (group_by unit type and parent).
    two = p.assign(parent=np.where(p["unit"] < "10镇", "甲区", "乙区"))
    f2 = balance.underdispersion(two, period="2024-12")
    assert set(f2["message"].str[:2]) == {"甲区", "乙区"}
    assert balance.underdispersion(two, period="2024-12", min_units=11).empty
    # Units without a type are in no group.
    assert balance.underdispersion(p.assign(unit_type=""), period="2024-12").empty


# ----------------------------------------------------------------- identical_values

def test_tie_chance_poisson_by_hand():
    c = tie_chance([1.0], [1.0], [1.0], [1.0], [True])
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
    # one indicator: tested once, as that indicator (named)
    assert f["indicator"].item() == "units_inspected"
    assert f["statistic"].item() == 12 and f["expected"].item() == pytest.approx(0.2)
    assert f["p_value"].item() == pytest.approx(0.00010172876515704845, rel=1e-9)
    assert f["observed"].item() == pytest.approx(0.6)


def test_heap_share_accounts_for_the_cut_at_ten():
    narrow, wide_ = heap_share([11.0, 500.0], [11.0, 10000.0], 10)
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
    f = balance.pinned_rate(panel(rows), model="binomial", info_p=1.0)
    assert list(f["unit"]) == ["甲镇"]
    assert f["expected"].item() == pytest.approx(0.8)
    assert f["p_value"].item() == pytest.approx(0.10737418240000006, rel=1e-12)
    assert f["statistic"].item() == 10 and f["severity"].item() == "info"
    assert "全部整改的概率为0.11" in f["message"].item()


def test_tarone_family_and_padded_bh():
    q = tarone_bh(np.array([0.001, 1.0, 1.0]), np.array([0.001, 0.001, 0.5]))
    assert q[2] == 1.0 and q[0] == pytest.approx(0.002)   # family of the first two only
    p = np.array([0.001, 0.02, 0.04])
    padded = bh_adjust(np.concatenate([p, np.ones(7)]))[:3]
    assert np.allclose(bh_of_smallest(p, 10), padded)


# --------------------------------------------------------------------- conventions

def test_schema_no_mutation_and_missing_column():
    city = make_city(0)
    before = city.panel.copy()
    for fn in (balance.underdispersion, balance.matching_series, balance.identical_values,
               balance.repeated_value, balance.last_digit, balance.benford, balance.pinned_rate):
        f = fn(city.panel, period="2024-10")
        assert list(f.columns) == FINDINGS_COLUMNS
        assert set(f["period"].dropna()) <= {"2024-10"}
        with pytest.raises(ValueError, match="value"):
            fn(city.panel.drop(columns="value"))
    pd.testing.assert_frame_equal(city.panel, before)


# --------------------------------------------------------------------- synthetic city

# synth's coordinated towns agree a figure within ±1 all year (truth kind
# matching_series; underdispersion names groups only, with no unit, and needs a
# tightening against the group's own past).
# The synthetic city's pinned units found 45–51 hazards among peers whose honest
# rates spread over 68–93%: under the city's own model all of them rectified is a
# one-in-500 event, which the binomial (ρⁿ ≈ 1e-5) finds and the default
# beta-binomial, with the spread at its 80% bound (p ≈ 0.04), mostly does not.
KINDS = {"matching_series": balance.matching_series, "identical_values": balance.identical_values,
         "pinned_rate": functools.partial(balance.pinned_rate, model="binomial"),
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
    # No group of the city draws together in its last months.
    assert (balance.underdispersion(city.panel)["severity"] == "info").all()
    quiet = make_city(seed, inject=False)
    for fn in list(KINDS.values()) + [balance.underdispersion]:
        f = fn(quiet.panel)
        assert (f["severity"] == "info").all()
    # the default never flags a clean unit either
    f = balance.pinned_rate(city.panel)
    assert not set(f.loc[f["severity"] != "info", "unit"]) & clean


# ------------------------------------------------- identical_values / pinned_rate on the cube

def _tie_panel():
    """Six units × six months × seven indicators of Poisson(30) figures (investment in
    万元, two decimals); in 2024-03 U3 and U4 copy U1's row, whose drills are 0."""
    rng = np.random.default_rng(11)
    inds = ["units_inspected", "general_hazards_found", "general_hazards_rectified",
            "elevators_inspected", "safety_meetings", "drills", "investment"]
    vals = {(u, m, i): (round(rng.uniform(10, 90), 2) if i == "investment"
                        else float(rng.poisson(30)))
            for u in range(6) for m in MONTHS[:6] for i in inds}
    for i in inds:
        vals[(1, "2024-03", i)] = 0.0 if i == "drills" else vals[(1, "2024-03", i)]
        vals[(3, "2024-03", i)] = vals[(4, "2024-03", i)] = vals[(1, "2024-03", i)]
    return vals, inds


def test_identical_cube_three_way_tie_by_hand():
    vals, inds = _tie_panel()
    p = panel([(f"U{u}", "town", m, i, v) for (u, m, i), v in vals.items()])
    f = balance.identical_values(p, info_p=1.0)
    assert sorted(zip(f["unit"], f["period"])) == [("U1", "2024-03"), ("U3", "2024-03"),
                                                   ("U4", "2024-03")]
    assert set(f["observed"]) == {7.0}

    def moments(u, i):
        s = np.array([vals[(u, m, i)] for m in MONTHS[:6]])
        return s.mean(), s.var(ddof=1)

    def pair_p(a, b):
        # drills tie at 0: no evidence; found and rectified are one rule group (min)
        c = {}
        for i in ["units_inspected", "general_hazards_found", "general_hazards_rectified",
                  "elevators_inspected", "safety_meetings", "investment"]:
            (ma, va), (mb, vb) = moments(a, i), moments(b, i)
            c[i] = tie_chance([ma], [va], [mb], [vb], [i != "investment"])[0]
        hazards = min(c.pop("general_hazards_found"), c.pop("general_hazards_rectified"))
        return hazards * np.prod(list(c.values()))

    p13, p14, p34 = pair_p(1, 3), pair_p(1, 4), pair_p(3, 4)
    # BH over all pairs of eligible units: 6 months × C(6, 2) = 90 tests
    srt = np.sort([p13, p14, p34])
    q_sorted = np.minimum(1.0, np.minimum.accumulate((srt * 90 / np.arange(1, 4))[::-1])[::-1])
    q_of = dict(zip(srt, q_sorted))
    row = f.set_index("unit")
    for unit, mine in (("U1", (p13, p14)), ("U3", (p13, p34)), ("U4", (p14, p34))):
        assert row.loc[unit, "p_value"] == pytest.approx(min(mine), rel=1e-9)
        assert row.loc[unit, "q_value"] == pytest.approx(min(q_of[x] for x in mine), rel=1e-9)
        assert row.loc[unit, "statistic"] == pytest.approx(-np.log10(min(mine)), rel=1e-9)
    assert "U12024-03报送的7项指标数据与U3、U4完全相同" in row.loc["U1", "message"]
    assert "与U1、U3完全相同" in row.loc["U4", "message"]


def test_identical_cube_blank_is_not_zero_and_period_counts_its_pairs():
    vals, inds = _tie_panel()
    rows = [(f"U{u}", "town", m, i, v) for (u, m, i), v in vals.items()
            if not (u in (3, 4) and m == "2024-03")]
    # U3 copies U1 but leaves drills blank (6 reported, not 7): no tie with U1.
    # U4 copies U1 with drills written as −0.0: the same figure, a tie.
    rows += [("U3", "town", "2024-03", i, vals[(1, "2024-03", i)]) for i in inds if i != "drills"]
    rows += [("U4", "town", "2024-03", i, -0.0 if i == "drills" else vals[(1, "2024-03", i)])
             for i in inds]
    p = panel(rows)
    from anquan_analysis.dataset import compact_panel
    for form in (p, compact_panel(p)):
        every = balance.identical_values(form, info_p=1.0)
        at_p = balance.identical_values(form, period="2024-03", info_p=1.0)
        assert sorted(every["unit"]) == sorted(at_p["unit"]) == ["U1", "U4"]
        assert set(every["observed"]) == {7.0} and "与U4完全相同" in every["message"].iloc[0]
        # one pair: q = p × tests; all six months' pairs (90), or P's alone (15)
        # (p differs: with P the units' moments come from January–March only)
        for f, tests in ((every, 90), (at_p, 15)):
            assert f["p_value"].iloc[0] < 1e-6
            assert f["q_value"].iloc[0] == pytest.approx(tests * f["p_value"].iloc[0], rel=1e-12)


def _pinned_panel(skip_last=False):
    """Five towns × four months, 5 major hazards found a month each; rectified a month:
    甲 5 5 5 5 (20 of 20), 乙 4 4 4 4, 丙 5 4 5 4, 丁 3 4 3 4, 戊 5 4 4 4."""
    rect = {"甲镇": [5, 5, 5, 5], "乙镇": [4, 4, 4, 4], "丙镇": [5, 4, 5, 4],
            "丁镇": [3, 4, 3, 4], "戊镇": [5, 4, 4, 4]}
    rows = []
    for u, rs in rect.items():
        for m, r in zip(MONTHS[:4], rs):
            rows.append((u, "town", m, "major_hazards_found", 5))
            if not (skip_last and u == "甲镇" and m == MONTHS[3]):
                rows.append((u, "town", m, "major_hazards_rectified", r))
    return panel(rows)


def test_pinned_cube_binomial_by_hand():
    # 甲's peers found 80 (60 without the largest other, ≥ 50) and rectified
    # 16 + 18 + 14 + 17 = 65: ρ = 0.8125.  Four peers below 100% are too few to
    # estimate the spread between units: the default is then the binomial too.
    rho = 65 / 80
    for f in (balance.pinned_rate(_pinned_panel(), info_p=1.0, model="binomial"),
              balance.pinned_rate(_pinned_panel(), info_p=1.0)):
        assert list(f["unit"]) == ["甲镇"] and f["indicator"].item() == "major_hazards_rectified"
        assert f["expected"].item() == pytest.approx(rho, rel=1e-12)
        assert f["statistic"].item() == 20 and f["observed"].item() == 1.0
        assert f["p_value"].item() == pytest.approx(rho ** 20, rel=1e-9)
    assert "甲镇2024-01至2024-04重大事故隐患排查数20项、整改20项" in f["message"].item()
    with pytest.raises(ValueError, match="model"):
        balance.pinned_rate(_pinned_panel(), model="poisson")


def test_pinned_cube_span_and_period_use_months_with_both_figures():
    # 甲 leaves rectified blank in April: pooled over January–March (15 of 15), and
    # not reported for April, which was not at 100% (no figure).
    p = _pinned_panel(skip_last=True)
    f = balance.pinned_rate(p, model="binomial", info_p=1.0)
    assert list(f["unit"]) == ["甲镇"] and f["statistic"].item() == 15
    assert "甲镇2024-01至2024-03重大事故隐患排查数15项、整改15项" in f["message"].item()
    assert f["p_value"].item() == pytest.approx((65 / 80) ** 15, rel=1e-9)
    assert balance.pinned_rate(p, period=MONTHS[3], info_p=1.0).empty
    at_march = balance.pinned_rate(p, period=MONTHS[2], model="binomial", info_p=1.0)
    assert list(at_march["period"]) == [MONTHS[2]]
    # up to March the peers found 60 (45 without the largest): all other units' rate
    rho = (12 + 14 + 10 + 13) / 60
    assert at_march["expected"].item() == pytest.approx(rho, rel=1e-12)


# ------------------------------------------- repeated_value / digits on the cube

def _poisson_run_sum(mean, length):
    """Σ_{k≥1} Poisson(k; mean)^length, summed directly."""
    import math
    return sum(math.exp(length * (k * math.log(mean) - mean - math.lgamma(k + 1)))
               for k in range(1, 400))


def test_repeated_cube_frequencies_are_separate_series():
    # The same unit and indicator reported monthly (no run) and quarterly (5 four
    # times): the quarters are a series of their own, T = L = 4, Poisson(5).
    months = [("甲局", "department", m, "drills", v)
              for m, v in zip(MONTHS, [3, 8, 1, 6, 4, 9, 2, 7, 5, 3, 6, 8])]
    quarters = [("甲局", "department", f"2024Q{k}", "drills", 5) for k in range(1, 5)]
    f = balance.repeated_value(panel(months + quarters), info_p=1.0)
    assert list(f["period"]) == ["2024Q4"] and f["statistic"].item() == 4
    assert "2024Q1至2024Q4连续4期均为5" in f["message"].item()
    assert f["p_value"].item() == pytest.approx(_poisson_run_sum(5.0, 4), rel=1e-9)
    assert f["expected"].item() == 5.0


def test_repeated_cube_gap_and_fraction_break_runs():
    # 7, 7, 7, (April missing), 7.5, 1, 15, 3: the missing month and the fraction
    # end the run at March; the fraction is not a figure of the series (T = 6).
    # Outside the run 1, 15, 3 vary more than Poisson: variance/mean 57.33/6.33 =
    # 9.05 on 2 degrees of freedom, shrunk towards the peers' 1 (one unit: no peers)
    # worth 10 figures, φ = (2·9.05 + 10)/12 = 2.342: a negative binomial with the
    # series mean 40/6, and p the exact chance of a run of three equal positive
    # figures among 6 draws (tests/reference/repeated_floor_by_hand.py, gap()).
    # Mutants: Poisson (φ = 1) with the union bound 4·Σ_k P(k)^3 gave 0.056.
    vals = {0: 7, 1: 7, 2: 7, 4: 7.5, 5: 1, 6: 15, 7: 3}
    rows = [("甲局", "department", MONTHS[t], "drills", v) for t, v in vals.items()]
    f = balance.repeated_value(panel(rows), info_p=1.0)
    assert f["statistic"].item() == 3 and f["period"].item() == "2024-03"
    assert f["expected"].item() == pytest.approx(40 / 6)
    assert f["p_value"].item() == pytest.approx(0.026067026149777874, rel=1e-9)
    assert 4 * _poisson_run_sum(40 / 6, 3) == pytest.approx(0.056083580729829254, rel=1e-9)


def _direct_heap_share(mean, var, cut):
    """The discretised normal's chance of a multiple of 5 at or above ``cut``,
    summed term by term far beyond the mean."""
    import math
    s = max(math.sqrt(max(var, mean)), 0.5)
    w = [(v, math.exp(-0.5 * ((v - mean) / s) ** 2)) for v in range(cut, int(mean + 40 * s) + 50)]
    return sum(x for v, x in w if v % 5 == 0) / sum(x for _, x in w)


def test_digits_cube_heap_share_equals_the_direct_sum():
    means = [11.9, 3.0, 40.0, 180.0, 600.0, 9.99]
    vars_ = [8.5, 20.0, 45.0, 200.0, 610.0, 1.0]
    got = heap_share(means, vars_, 10)
    for g, m, v in zip(got, means, vars_):
        assert g == pytest.approx(_direct_heap_share(m, v, 10), rel=1e-10)
    got = heap_share([25.0, 60.0], [30.0, 400.0], 20.5)   # the cut at 21
    assert got[0] == pytest.approx(_direct_heap_share(25.0, 30.0, 21), rel=1e-10)
    assert got[1] == pytest.approx(_direct_heap_share(60.0, 400.0, 21), rel=1e-10)


def test_digits_equal_figures_count_once_whatever_the_row_order():
    # drills (narrow, about 12: heaping share above 0.2) and units_inspected (wide:
    # 0.2) report the same figure in six months.  The figure counted is that of the
    # first indicator by code (drills), with its own series' chance, in whatever
    # order the report lists them: a finding does not depend on how a file is sorted.
    a = [10, 12, 15, 11, 10, 13, 12, 10, 14, 11, 15, 10]
    b = [10, 12, 400, 700, 10, 250, 900, 10, 500, 11, 300, 10]
    e_a = _direct_heap_share(np.mean(a), np.var(a, ddof=1), 10)
    assert e_a > 0.24

    def rows(first_a):
        out = []
        for t in range(12):
            pair = [("drills", a[t]), ("units_inspected", b[t])]
            if not first_a(t):
                pair.reverse()
            out += [("甲镇", "town", MONTHS[t], ind, v) for ind, v in pair]
        return out

    # six of the 24 figures repeat one of their report: 18 counted, 12 of drills
    cases = {"a first": lambda t: True, "b first": lambda t: False, "mixed": lambda t: t < 6}
    for name, first_a in cases.items():
        f = balance.last_digit(panel(rows(first_a)), info_p=1.0)
        f = f[f["indicator"].isna()]   # the pooled test (each indicator has its own)
        # ending in 0 or 5: 10; 15, 400; 700; 10; 250; 900; 10; 500; 15, 300; 10
        assert f["statistic"].item() == 12, name
        assert f["expected"].item() == pytest.approx((12 * e_a + 6 * 0.2) / 18, rel=1e-9), name
        assert "18个不小于10的数值" in f["message"].item(), name


def test_digits_cube_benford_chi2_by_hand():
    # 60 figures ≥ 10 spanning 10–9000 with first digits counted by hand; a figure
    # below 10 and an approximate one are not tested.
    import math
    from scipy import stats
    counts = [20, 10, 8, 6, 5, 4, 3, 2, 2]
    figures = [d * 10 ** (1 + j % 3) + j % 7 for d, c in enumerate(counts, 1) for j in range(c)]
    periods = [f"{2022 + t // 12}-{t % 12 + 1:02d}" for t in range(31)]
    cells = [(p, ind) for p in periods for ind in ("drills", "fines")]
    rows = [("甲镇", "town", p, ind, v) for (p, ind), v in zip(cells, figures + [5, 7000])]
    df = panel(rows)
    df.loc[df.index[-1], "approx"] = True
    f = balance.benford(df, scale_check=False, mad_threshold=0.0, info_p=1.0)
    benf = [math.log10(1 + 1 / d) for d in range(1, 10)]
    chi2 = sum((c - 60 * p) ** 2 / (60 * p) for c, p in zip(counts, benf))
    mad = sum(abs(c / 60 - p) for c, p in zip(counts, benf)) / 9
    assert f["expected"].item() == 60
    assert f["statistic"].item() == pytest.approx(chi2, rel=1e-12)
    assert f["observed"].item() == pytest.approx(mad, rel=1e-12)
    assert f["p_value"].item() == pytest.approx(stats.chi2.sf(chi2, 8), rel=1e-9)
    assert "首位为1的最多" in f["message"].item()
