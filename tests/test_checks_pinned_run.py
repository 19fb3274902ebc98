"""pinned_rate's trailing run (issue 12): a unit at 100% in its latest periods only,
tested against its own earlier periods (``checks/balance/pinned_tail.py``).

The tails are checked against the product form of the beta-binomial,
P(n of n | a, b) = Π_{i<n} (a + i) / (a + b + i), written out here."""

import math

import numpy as np
import pandas as pd
import pytest

from anquan_analysis.checks import balance
from anquan_analysis.checks.balance.pinned_tail import (joint_run_chance, run_chance,
                                                        trailing_runs)
from anquan_analysis.checks.balance.rate_spread import rate_means

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
# ten towns finding 10 general hazards a month and rectifying 75–95% over the year
PEERS = [90, 110, 96, 104, 100, 108, 92, 102, 114, 98]


def _all_of(n, a, b):
    """P(all n rectified) for a Beta(a, b) rate, as a product."""
    return math.prod((a + i) / (a + b + i) for i in range(int(n)))


def _series(unit, rectified, found=None):
    found = [10] * 12 if found is None else found
    return [row for m, f, r in zip(MONTHS, found, rectified) for row in
            ((unit, "town", m, "general_hazards_found", f),
             (unit, "town", m, "general_hazards_rectified", r))]


def _town_panel(**units):
    """The ten peers and ``units`` (name -> monthly rectified of 10 found)."""
    rows = []
    for k, total in enumerate(PEERS):
        base, extra = divmod(total, 12)
        rows += _series(f"镇{k}", [base + (t < extra) for t in range(12)])
    for name, rect in units.items():
        rows += _series(name, rect)
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    return df.assign(parent="示范区", approx=False, value=df["value"].astype(float))


def test_run_chance_by_hand():
    # Beta(40, 10) rates (mean 80%): 28 of 35 rectified before, then 41 of 41.  The
    # posterior Beta(68, 17) gives P = Π (68 + i) / (85 + i), i < 41.
    p = run_chance(41, 35, 28, 0.8, 50.0)
    assert p == pytest.approx(_all_of(41, 68, 17), rel=1e-10)
    assert p == pytest.approx(6.393778456101625e-04, rel=1e-9)
    # the unit's own earlier rate moves it: 34 of 35 before, Beta(74, 11), 15 times larger
    assert run_chance(41, 35, 34, 0.8, 50.0) == pytest.approx(_all_of(41, 74, 11), rel=1e-10)
    assert run_chance(41, 35, 34, 0.8, 50.0) > 15 * p
    # nothing before: the whole-window chance, B(40 + n, 10) / B(40, 10)
    assert run_chance(41, 0, 0, 0.8, 50.0) == pytest.approx(_all_of(41, 40, 10), rel=1e-10)
    # binomial (c infinite): ρⁿ whatever came before; a peer rate of 100%: 1
    assert run_chance(10, 35, 28, 0.8, np.inf) == pytest.approx(0.8 ** 10)
    assert run_chance(10, 35, 28, 1.0, 50.0) == 1.0


def test_trailing_runs_found_and_dated():
    nan = np.nan
    f = np.array([[10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10],
                  [10, 10, 10, 10, 10, 10, 10, 0, 10, nan, 10, 10],
                  [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10],
                  [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10]], dtype=float)
    r = np.array([[8, 8, 8, 8, 8, 8, 10, 10, 10, 10, 10, 10],
                  [8, 8, 8, 8, 8, 9, 10, 0, 10, 10, 10, 10],    # month 10 not reported
                  [10] * 12,                                      # 100% throughout
                  [8] * 10 + [10, 10]], dtype=float)              # a run of two
    runs = trailing_runs(f, r)
    assert list(runs["tested"]) == [True, True, False, False]
    assert list(runs["first"][:2]) == [6, 6] and list(runs["end"][:2]) == [11, 11]
    # the second unit: a month with nothing found neither breaks nor counts, a
    # month not reported is skipped; the run spans 7 reported months, 4 with hazards
    assert list(runs["periods"][:2]) == [6, 5]
    assert list(runs["n"][:2]) == [60, 40] and list(runs["n0"][:2]) == [60, 60]
    assert list(runs["r0"][:2]) == [48, 49]
    # windows scanned: 12 and 10 months with hazards less the 3 of the shortest run
    assert list(runs["windows"][:2]) == [9, 7]
    # ending at a given period: it must itself be at 100%
    at_9 = trailing_runs(f, r, t_end=8)
    assert list(at_9["tested"]) == [True, False, False, False]
    assert at_9["n"][0] == 30 and at_9["end"][0] == 8
    assert not trailing_runs(f, r, t_end=4)["tested"].any()


def test_a_unit_at_100_percent_in_its_last_six_months_is_found_and_dated():
    # 甲镇 rectifies 8 of 10 a month for six months, then 10 of 10 for six: 108 of
    # 120, 90% over the year, which the whole-window test cannot see.  Its run of 60
    # is judged against its own 48 of 60 before (Beta(μc + 48, (1 − μ)c + 12)),
    # times the 9 windows scanned; the family is the 11 units that could show a run.
    df = _town_panel(甲镇=[8] * 6 + [10] * 6)
    f = balance.pinned_rate(df)
    assert list(f["unit"]) == ["甲镇"] and f["severity"].item() == "warning"
    assert f["statistic"].item() == 60 and f["observed"].item() == 1.0
    assert f["indicator"].item() == "general_hazards_rectified"
    n = np.full(11, 120.0)
    mu, c = rate_means(n, np.array(PEERS + [108], dtype=float), np.zeros(11, dtype=int),
                       level=None)
    p = 9 * _all_of(60, mu[-1] * c + 48, (1 - mu[-1]) * c + 12)
    assert f["expected"].item() == pytest.approx(mu[-1], rel=1e-9)
    assert f["p_value"].item() == pytest.approx(p, rel=1e-8)
    assert f["q_value"].item() == pytest.approx(11 * p, rel=1e-8)
    assert f["message"].item().startswith(
        "甲镇自2024年7月起至2024年12月连续6个月整改率均为100%（一般隐患排查数60项，全部整改），"
        "此前一般隐患排查数60项、整改48项（80.0%）；按本单位此前整改率及同类单位整改率85.0%")
    # without the run test, nothing
    assert balance.pinned_rate(df, min_run_periods=None).empty


def test_an_honest_high_rate_unit_is_not_flagged():
    # 乙镇 rectifies 48 of 50 in its first five months (96%), then 70 of 70: its own
    # rate explains the run (p about 0.24).  Its earlier months make the run three
    # times likelier than the peers' spread alone would; had it rectified 80% then
    # (40 of 50), three hundred times less likely (c about 23 here).
    df = _town_panel(乙镇=[10, 9, 10, 10, 9] + [10] * 7)
    f = balance.pinned_rate(df, info_p=1.0)
    assert list(f["unit"]) == ["乙镇"] and f["severity"].item() == "info"
    assert f["p_value"].item() > 0.2 and f["statistic"].item() == 70
    rho, c = f["expected"].item(), 23.0
    own = run_chance(70, 50, 48, rho, c)
    assert own > 3 * run_chance(70, 0, 0, rho, c) and own > 300 * run_chance(70, 50, 40, rho, c)
    assert balance.pinned_rate(df).empty


def test_a_run_ends_at_the_assessed_period():
    # assessed at 2024-10 the run is four months (7–10); at 2024-06 there is none
    df = _town_panel(甲镇=[8] * 6 + [10] * 6)
    f = balance.pinned_rate(df, period="2024-10", info_p=1.0)
    row = f[f["unit"] == "甲镇"]
    assert row["statistic"].item() == 40 and row["period"].item() == "2024-10"
    assert "自2024年7月起至2024年10月连续4个月" in row["message"].item()
    assert "甲镇" not in set(balance.pinned_rate(df, period="2024-06", info_p=1.0)["unit"])


def test_joint_run_chance_by_construction():
    # one pair with hazards in the run: exactly run_chance
    one = joint_run_chance([[41, 0]], [[35, 5]], [[28, 4]], [[0.8, 0.7]], [50.0, 30.0])[0]
    assert one == pytest.approx(_all_of(41, 68, 17), rel=1e-12)
    # two pairs with the same posterior Beta(68, 17): the bound is one rate for both,
    # P(all 41 + 9) = Π (68 + i) / (85 + i), i < 50 (the grid's error below 1e-3)
    same = joint_run_chance([[41, 9]], [[35, 35]], [[28, 28]], [[0.8, 0.8]], [50.0, 50.0])[0]
    assert same == pytest.approx(_all_of(50, 68, 17), rel=1e-3)
    # never below the product of the pairs' own chances (independent rates)
    assert same >= _all_of(41, 68, 17) * _all_of(9, 68, 17)


def test_a_run_on_major_and_general_hazards_is_one_test():
    # 甲镇 also finds 2 major hazards a month, like its peers, rectifying 1 of 2 in its first six
    # months and both in its last six: one row for the unit, naming both, p the
    # comonotone bound times the 9 windows, the indicator that of general hazards
    # (more hazards in the run)
    df = _town_panel(甲镇=[8] * 6 + [10] * 6)
    # the peers find 2 a month too and rectify 17–22 of their 24
    rect = {f"镇{k}": [2] * (tot - 12) + [1] * (24 - tot)
            for k, tot in enumerate([19, 20, 18, 21, 19, 20, 17, 22, 19, 20])}
    rect["甲镇"] = [1] * 6 + [2] * 6
    major = pd.DataFrame([(u, "town", m, code, v) for u, r in rect.items()
                          for m, x in zip(MONTHS, r)
                          for code, v in (("major_hazards_found", 2),
                                          ("major_hazards_rectified", x))],
                         columns=["unit", "unit_type", "period", "indicator", "value"])
    df = pd.concat([df, major.assign(parent="示范区", approx=False,
                                     value=major["value"].astype(float))], ignore_index=True)
    f = balance.pinned_rate(df, info_p=1.0)
    row = f[f["message"].str.contains("连续")]
    assert list(row["unit"]) == ["甲镇"] and row["statistic"].item() == 72
    assert row["indicator"].item() == "general_hazards_rectified"
    assert ("（一般隐患排查数60项、重大事故隐患排查数12项，全部整改），此前一般隐患排查数60项、"
            "整改48项（80.0%），重大事故隐患排查数12项、整改6项（50.0%）") in row["message"].item()
    alone = balance.pinned_rate(_town_panel(甲镇=[8] * 6 + [10] * 6))
    assert row["p_value"].item() < alone["p_value"].item() / 10


def test_a_pair_the_unit_is_not_tested_on_does_not_enter_its_run():
    # 甲镇 finds 2 major hazards all year (August, November, both rectified): below
    # min_found = 5, it is not tested on that pair over the window, so its run is
    # judged on general hazards alone, exactly as without the major hazards
    df = _town_panel(甲镇=[8] * 6 + [10] * 6)
    found = {f"镇{k}": [2] * 12 for k in range(10)}
    rect = {f"镇{k}": [2] * 9 + [1] * 3 for k in range(10)}
    found["甲镇"] = rect["甲镇"] = [0] * 7 + [1, 0, 0, 1, 0]
    major = pd.DataFrame([(u, "town", m, code, float(v)) for u in found
                          for m, f, r in zip(MONTHS, found[u], rect[u])
                          for code, v in (("major_hazards_found", f),
                                          ("major_hazards_rectified", r))],
                         columns=["unit", "unit_type", "period", "indicator", "value"])
    df = pd.concat([df, major.assign(parent="示范区", approx=False)], ignore_index=True)
    f = balance.pinned_rate(df, min_found=5, info_p=1.0)
    row = f[f["message"].str.contains("连续")]
    alone = balance.pinned_rate(_town_panel(甲镇=[8] * 6 + [10] * 6), min_found=5)
    assert list(row["unit"]) == ["甲镇"] and row["statistic"].item() == 60
    assert row["p_value"].item() == pytest.approx(alone["p_value"].item(), rel=1e-12)
    assert "重大事故隐患" not in row["message"].item()
