"""Surges of one unit and steps of the whole group."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anquan_analysis.checks import steps as S
from anquan_analysis.checks import trends as T


def _panel(series: dict, unit_type="town", indicator="major_hazards_found", start="2024-01"):
    periods = [str(p) for p in pd.period_range(start, periods=len(next(iter(series.values()))),
                                               freq="M")]
    rows = [(u, unit_type, p, indicator, float(v)) for u, vals in series.items()
            for p, v in zip(periods, vals)]
    return pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"]) \
        .assign(parent=None)


def test_longest_run_tail_matches_enumeration():
    def brute(n, length):
        hits = 0
        for seq in itertools.product([0, 1], repeat=n):
            runs = [len(list(g)) for _, g in itertools.groupby(seq)]
            hits += max(runs) >= length
        return hits / 2 ** n
    for n, length in [(5, 2), (8, 3), (10, 4), (12, 6), (3, 4)]:
        assert S.longest_run_tail(n, length) == pytest.approx(brute(n, length))


def test_anhoej_rules_by_hand():
    a = S.anhoej(range(1, 13))     # a trend: 6 below the median 6.5, then 6 above
    assert (a["n"], a["longest_run"], a["crossings"]) == (12, 6, 1)
    assert a["run_limit"] == 7                        # round(log2 12 + 3) = round(6.58)
    assert a["crossings_limit"] == 3                  # qbinom(0.05, 11, 0.5)
    assert a["signal"] and a["p_cross"] == pytest.approx(stats.binom.cdf(1, 11, 0.5))
    b = S.anhoej([1, 3, 1, 3, 1, 3, 1, 3])
    assert b["crossings"] == 7 and not b["signal"]


def test_step_test_finds_the_step():
    st = S.step_test([20, 22, 18, 21, 19, 20, 23, 21, 50, 52, 49, 55])
    assert st["step"] == 8 and st["before"] == pytest.approx(20.5) and st["after"] == 51.5
    assert st["p"] < 0.001


def test_surge_against_history_and_peers():
    rng = np.random.default_rng(0)
    series = {f"T{i:02d}": rng.poisson(3, size=12) for i in range(12)}
    series["T00"] = np.array([3, 2, 4, 3, 3, 2, 3, 19, 3, 2, 4, 3])
    p = _panel(series)
    f = T.surge(p, overdispersed=False)
    assert list(f["unit"]) == ["T00"] and list(f["period"]) == ["2024-08"]
    row = f.iloc[0]
    # conditional binomial: 19 of 51 hazards in the month carrying G_t/ΣG of the weight
    others = p.loc[p["unit"] != "T00"].groupby("period")["value"].sum().to_numpy() + 0.5
    pi = others[7] / others.sum()
    assert row["p_value"] == pytest.approx(stats.binom.sf(18, 51, pi))
    assert row["expected"] == pytest.approx(32 * others[7] / (others.sum() - others[7]))
    assert row["severity"] == "alert" and "突增" in row["message"]
    # by default the beta-binomial: the peers' totals known to their Poisson noise
    # (ν = 1) and the units' spread κ beyond it, read from the other units
    x = np.array([series[u] for u in sorted(series)], float)
    g = x.sum(axis=0) - x + 0.5
    kappa = T.month_spread(x, g)[0]
    scale = 1 + g[0].mean() * kappa
    d = T.surge(p).iloc[0]
    assert d["p_value"] == pytest.approx(
        stats.betabinom.sf(18, 51, others[7] / scale, (others.sum() - others[7]) / scale))
    assert d["p_value"] > row["p_value"] and d["severity"] == "alert"
    # assessed as of September: the history before it is used, August not tested
    assert T.surge(p, period="2024-09").empty
    assert list(T.surge(p, period="2024-08")["unit"]) == ["T00"]


def _gamma_months(seed, shape=10.0):
    """30 honest units, 10 finding about 30 major hazards a month and 20 about 4,
    each month's rate a Gamma(shape) draw around the unit's mean (κ = 1/shape)."""
    rng = np.random.default_rng(seed)
    mu = np.r_[np.full(10, 30.0), np.full(20, 4.0)]
    return rng.poisson(rng.gamma(shape, mu[:, None] / shape, size=(30, 12)))


@pytest.mark.parametrize("seed", [0, 1, 4])
def test_overdispersed_honest_units_are_not_surges(seed):
    # months vary as Gamma(10) (κ = 0.1): the binomial calls it a surge in the large
    # units (3–10 of them on these seeds), the beta-binomial in none
    y = _gamma_months(seed)
    p = _panel({f"U{i:02d}": y[i] for i in range(30)})
    assert len(T.surge(p, overdispersed=False)) >= 3
    assert T.surge(p).empty
    x = y.astype(float)
    kappa = T.month_spread(x, x.sum(axis=0) - x + 0.5)
    assert 0.05 <= kappa.min() <= kappa.max() <= 0.2


@pytest.mark.parametrize("seed", [0, 1, 4])
def test_planted_surge_is_found_under_overdispersion(seed):
    y = _gamma_months(seed)
    y[15, 8] += 25                      # a unit finding about 4 a month reports 25 more
    f = T.surge(_panel({f"U{i:02d}": y[i] for i in range(30)}))
    assert list(zip(f["unit"], f["period"])) == [("U15", "2024-09")]


def test_month_spread_leaves_the_tested_unit_out():
    # the others' quantile: a unit with a huge month never widens its own null
    y = _gamma_months(0).astype(float)
    y[3, 5] += 200
    kappa = T.month_spread(y, y.sum(axis=0) - y + 0.5)
    assert kappa[3] == kappa.min()
    # fewer than 10 units with 2 a month on average: no spread read (κ = 0)
    small = y[:9]
    assert (T.month_spread(small, small.sum(axis=0) - small + 0.5) == 0).all()


def test_group_step_is_not_a_unit_surge():
    rng = np.random.default_rng(1)
    series = {f"T{i:02d}": np.r_[rng.poisson(2, 8), rng.poisson(6, 4)] for i in range(12)}
    p = _panel(series)
    assert T.surge(p).empty
    g = S.group_shift(p)
    row = g.loc[g["unit_type"].isna()].iloc[0]
    assert row["period"] == "2024-09" and row["severity"] in ("warning", "alert")
    assert row["observed"] > 2 * row["expected"] and pd.isna(row["unit"])
    assert "2024-09" in row["message"]


def test_group_shift_quiet_on_a_stable_series():
    rng = np.random.default_rng(2)
    p = _panel({f"T{i:02d}": rng.poisson(4, 12) for i in range(10)})
    g = S.group_shift(p)
    assert (g["severity"] != "alert").all() and (g["severity"] != "warning").all()


def test_xmr_for_measured_indicators():
    rng = np.random.default_rng(3)
    series = {f"T{i:02d}": rng.normal(50, 5, 10).round(2) for i in range(6)}
    series["T00"] = np.array([50, 52, 49, 51, 50, 48, 51, 50, 95, 50], float)
    p = _panel(series, indicator="investment")
    f = T.surge(p, indicator="investment")
    assert list(f["unit"]) == ["T00"] and list(f["period"]) == ["2024-09"]
    # XmR by hand for T00 at 2024-09, as of then (history before it)
    h = series["T00"][:8]
    sigma = np.abs(np.diff(h)).mean() / 1.128
    g = T.surge(p, indicator="investment", period="2024-09").iloc[0]
    assert g["expected"] == pytest.approx(h.mean())
    assert g["statistic"] == pytest.approx((95 - h.mean()) / sigma)


def test_surge_and_group_shift_same_on_categorical_panel_with_missing_types():
    # T00 surges in 2024-08; T01's first rows have no unit type (its later ones say
    # town), T02 has none at all: the unit type is the first one given, as
    # units_of gives it, and a unit without one counts only in the all-units series.
    rng = np.random.default_rng(4)
    series = {f"T{i:02d}": rng.poisson(3, size=12) for i in range(8)}
    series["T00"] = np.array([3, 2, 4, 3, 3, 2, 3, 19, 3, 2, 4, 3])
    series["T01"] = np.array([3, 2, 4, 3, 3, 2, 3, 21, 3, 2, 4, 3])
    p = _panel(series)
    p.loc[(p["unit"] == "T01") & (p["period"] < "2024-03"), "unit_type"] = None
    p.loc[p["unit"] == "T02", "unit_type"] = None
    cat = p.astype({c: "category" for c in ("unit", "unit_type", "period", "indicator")})
    f = T.surge(p, overdispersed=False)
    assert list(f["unit"]) == ["T00", "T01"] and list(f["unit_type"]) == ["town", "town"]
    pd.testing.assert_frame_equal(f, T.surge(cat, overdispersed=False))
    pd.testing.assert_frame_equal(T.surge(p), T.surge(cat))
    g = S.group_shift(p, min_periods=8, min_peers=1)
    pd.testing.assert_frame_equal(g, S.group_shift(cat, min_periods=8, min_peers=1))


def test_group_series_are_sums_by_type_and_month():
    # two types of five units each: the town total steps from 10 to 40 after month 6,
    # the departments stay at 5; the all-units series is their sum
    rows = []
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    for u in range(5):
        for t, m in enumerate(months):
            rows.append((f"T{u}", "town", m, "major_hazards_found", 2.0 if t < 6 else 8.0))
            rows.append((f"D{u}", "department", m, "major_hazards_found", 1.0))
    p = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    g = S.group_shift(p.sample(frac=1.0, random_state=0)).set_index("unit_type", drop=False)
    town = g.loc[g["unit_type"] == "town"].iloc[0]
    assert (town["period"], town["expected"], town["observed"]) == ("2024-07", 10.0, 40.0)
    every = g.loc[g["unit_type"].isna()].iloc[0]
    assert (every["period"], every["expected"], every["observed"]) == ("2024-07", 15.0, 45.0)
    assert "department" not in set(g["unit_type"].dropna())   # a flat series: no step


@pytest.mark.parametrize("t", [4, 7, 10, 11])
def test_a_planted_step_is_dated_its_month_and_a_flat_history_is_quiet(t):
    # ten units alternating 2 and 3 (a total of 25 every month); from month t on
    # every unit finds 6 more: the total is 25 before and 85 from t on
    months = 12
    series = {f"T{i:02d}": [(2 if (m + i) % 2 else 3) + (6 if m >= t else 0)
                            for m in range(months)] for i in range(10)}
    g = S.group_shift(_panel(series))
    every = g.loc[g["unit_type"].isna()].iloc[0]
    assert every["period"] == f"2024-{t + 1:02d}"
    assert (every["expected"], every["observed"]) == (25.0, 85.0)
    assert every["severity"] == "alert"
    # the split's binomial tail by hand: 85·(12 − t) of the total after t, share (12 − t)/12
    n_after = months - t
    a, total = 85 * n_after, 25 * t + 85 * n_after
    p_split = stats.binom.sf(a - 1, total, n_after / months)
    assert every["p_value"] == pytest.approx(min(1.0, 9 * p_split))  # 9 splits: 3..11
    flat = {u: [2 if (m + int(u[1:])) % 2 else 3 for m in range(months)] for u in series}
    assert S.group_shift(_panel(flat)).empty


def test_count_step_by_hand():
    # 20 a month for six months, then 40: the split at 6, Poisson (no moving range
    # above 0 within the segments)
    st = S.count_step([20] * 6 + [40] * 2)
    assert (st["step"], st["before"], st["after"], st["phi"]) == (6, 20.0, 40.0, 1.0)
    assert st["p"] == pytest.approx(5 * stats.binom.sf(79, 200, 2 / 8))
    # a step down is not a step up
    assert S.count_step([40] * 6 + [20] * 2)["p"] == 1.0


def _thirty_towns(seed, step):
    """Thirty towns of gamma(4)-distributed size, general hazards Poisson(10·μ) and
    major ones Poisson(μ), × 1.5 from October when ``step``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(30):
        mu = rng.gamma(4, 1.0)
        for t in range(12):
            p = f"2024-{t + 1:02d}"
            lift = 1.5 if step and t >= 9 else 1.0
            rows.append((f"镇{i:02d}", "town", p, "general_hazards_found",
                         float(rng.poisson(10 * mu))))
            rows.append((f"镇{i:02d}", "town", p, "major_hazards_found",
                         float(rng.poisson(mu * lift))))
    return pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])


def test_a_step_after_a_month_high_by_chance_is_dated_its_month():
    # a district where September's total (137) is high by chance before the step
    # from October (161, 173, 156): the single most likely split is September's,
    # the month by which the step has most probably begun is October
    d = _thirty_towns(41, step=True)
    major = d.loc[d["indicator"] == "major_hazards_found"].groupby("period")["value"].sum()
    assert major.tolist()[7:] == [113, 137, 161, 173, 156]
    f = S.group_shift(d)
    assert f.loc[f["unit_type"].isna(), "period"].tolist() == ["2024-10"]
    assert S.count_step(major.to_numpy(), date_level=None)["step"] == 8
    # the same towns without the step: nothing
    assert S.group_shift(_thirty_towns(41, step=False)).empty
