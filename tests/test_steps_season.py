"""group_shift against a season: the months weighted by the season general hazards
show (``season_weights``), and φ read off the units' own month-to-month variation."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anquan_analysis.checks import steps as S

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
# a summer high, a new-year low: ±15 % about the year's mean, highest in July
SEASON = 1 + 0.15 * np.cos(2 * np.pi * (np.arange(1, 13) - 7) / 12)


def _district(step_from=None, units=20):
    """Twenty towns: general hazards round(50·s_t) and major ones round(5·s_t) + (−1, 0
    or +1 by unit), × 1.6 from month ``step_from`` (0-based) on when given."""
    rows = []
    for i in range(units):
        for t, p in enumerate(MONTHS):
            lift = 1.6 if step_from is not None and t >= step_from else 1.0
            rows.append((f"镇{i:02d}", "town", p, "general_hazards_found",
                         float(round(50 * SEASON[t]))))
            rows.append((f"镇{i:02d}", "town", p, "major_hazards_found",
                         float(round(5 * SEASON[t] * lift) + (i % 3 - 1))))
    return pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])


def test_a_season_alone_is_not_a_step():
    d = _district()
    # the totals: 79 in January, 119 in July, 79 in December, general hazards alike
    major = d.loc[d["indicator"] == "major_hazards_found"].groupby("period")["value"].sum()
    assert major.tolist() == [79, 79, 99, 99, 99, 119, 119, 119, 99, 99, 99, 79]
    assert S.group_shift(d).empty
    # without the season the spring's rise reads as a step (what the null twins of
    # the detection grid showed: 27 of 240 alarms)
    raw = S.group_shift(d, reference=None)
    every = raw.loc[raw["unit_type"].isna()].iloc[0]
    # the rise spreads over March to July: by May it has most probably begun
    assert every["period"] == "2024-05" and every["severity"] == "warning"


@pytest.mark.parametrize("t", [7, 8, 9, 10])
def test_a_step_into_the_autumn_is_dated_its_month(t):
    # +60 % from August … November, the months of the benchmark's district step
    f = S.group_shift(_district(step_from=t))
    every = f.loc[f["unit_type"].isna()].iloc[0]
    assert every["period"] == MONTHS[t] and every["severity"] == "alert"


def test_without_the_season_a_november_step_is_most_likely_in_the_summer():
    # the season falls as the step comes: the raw totals' single most likely split is
    # June's, but the posterior over the splits has not reached 70 % before November
    d = _district(step_from=10)
    major = d.loc[d["indicator"] == "major_hazards_found"].groupby("period")["value"].sum()
    assert S.count_step(major.to_numpy(), date_level=None)["step"] == 5
    raw = S.group_shift(d, reference=None)
    every = raw.loc[raw["unit_type"].isna()].iloc[0]
    assert every["period"] == "2024-11"
    # observed/expected: the months from November on against the ten before
    assert every["observed"] == pytest.approx(major.iloc[10:].mean())
    assert every["expected"] == pytest.approx(major.iloc[:10].mean())


def _dated_by_hand(v, level=0.7):
    """The split (index of the first period after it) where the posterior over the
    splits up, exp(LR / φ) with a flat prior, first reaches ``level`` summed in time
    order: LR from Poisson log-probabilities of the segments at their means, φ per
    split from the median moving range within the segments (count_step's Notes)."""
    v = np.asarray(v, float)
    n = len(v)
    mr, lev = np.abs(np.diff(v)), (v[1:] + v[:-1]) / 2
    lq = []
    for k in range(3, n):
        b, a = v[:k], v[k:]
        lr = (stats.poisson.logpmf(b, b.mean()).sum() + stats.poisson.logpmf(a, a.mean()).sum()
              - stats.poisson.logpmf(v, v.mean()).sum())
        keep = np.arange(n - 1) != k - 1
        phi = max((np.median(mr[keep]) / 0.954) ** 2 / lev[keep].mean(), 1.0)
        lq.append(lr / phi if a.mean() > b.mean() else -np.inf)
    post = np.exp(np.array(lq) - max(lq))
    return 3 + int(np.argmax(np.cumsum(post / post.sum()) >= level))


@pytest.mark.parametrize("v, likeliest, dated", [
    # no moving range within the segments (φ = 1): posteriors 0.645, 0.301, 0.042,
    # 0.012 over the splits at 3 … 6; April is likeliest, May reaches 70 %
    ([10, 10, 10, 16, 20, 20, 20], 3, 4),
    # 0.067, 0.515, 0.376, …: May likeliest, June reaches 70 %
    ([10, 10, 10, 10, 15, 20, 20, 20], 4, 5),
    # noisy (φ 1.3 to 2.3 by split): April likeliest; the posterior ÷ φ reaches 70 %
    # in June, the plain likelihood ratio's in May
    ([14, 5, 8, 14, 15, 25, 28, 14, 19, 15], 3, 5),
])
def test_the_step_is_dated_where_its_posterior_reaches_70_percent(v, likeliest, dated):
    assert _dated_by_hand(v) == dated
    st = S.count_step(v)
    assert st["step"] == dated
    assert S.count_step(v, date_level=None)["step"] == likeliest
    # the test does not depend on the date: p is the smallest split's, Bonferroni
    assert st["p"] == S.count_step(v, date_level=None)["p"]
    assert (st["before"], st["after"]) == (pytest.approx(np.mean(v[:dated])),
                                           pytest.approx(np.mean(v[dated:])))


def test_a_step_into_the_autumn_is_found_and_dated():
    # +60 % from October, while the season falls from 1.075 (September) to 0.87
    f = S.group_shift(_district(step_from=9))
    every = f.loc[f["unit_type"].isna()].iloc[0]
    assert every["period"] == "2024-10" and every["severity"] == "alert"
    # observed/expected are the figures as reported: 437/3 after, 911/9 before
    assert every["observed"] == pytest.approx(437 / 3)
    assert every["expected"] == pytest.approx(911 / 9)
    assert "自2024-10起由月均101.2项升至145.7项" in every["message"]
    assert "（按一般隐患排查数的月度走势扣除季节因素后为此前的1.6倍）" in every["message"]


def test_season_weights_recover_a_wave_and_leave_none_flat():
    wave = np.exp(0.15 * np.cos(2 * np.pi * (np.arange(1, 13) - 7) / 12))
    w = S.season_weights(200 * wave, MONTHS)
    # a wave without noise: the fit is exact and nothing is shrunk
    np.testing.assert_allclose(w, wave / wave.mean(), rtol=1e-12)
    # no wave at all: flat weights (the James–Stein factor is 0)
    np.testing.assert_allclose(S.season_weights(np.full(12, 80.0), MONTHS), np.ones(12))
    # quarters are not calendar months; a zero total gives no log
    assert S.season_weights(np.full(4, 80.0), ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]) is None
    assert S.season_weights(np.r_[0.0, np.full(11, 80.0)], MONTHS) is None


def test_count_step_with_weights_by_hand():
    # 10 a month for four months, then 30 in two months weighing 1.5 each: the
    # weights scaled to mean 1 (× 6/7), the months are 70/6 and 70/3 (no moving range
    # within a segment: Poisson)
    v, w = [10, 10, 10, 10, 30, 30], [1, 1, 1, 1, 1.5, 1.5]
    st = S.count_step(v, weights=w)
    assert (st["step"], st["phi"]) == (4, 1.0)
    assert (st["before"], st["after"]) == (pytest.approx(70 / 6), pytest.approx(70 / 3))
    # the count after the split given the total 100 is Binomial(100, W_a / W): splits
    # at 3, 4, 5 (weights after 4, 3 and 1.5 of 7), Bonferroni over the three
    tails = [stats.binom.sf(69, 100, 4 / 7), stats.binom.sf(59, 100, 3 / 7),
             stats.binom.sf(29, 100, 1.5 / 7)]
    assert st["p"] == pytest.approx(3 * min(tails))
    # the same rise where the weights rise alike is no step
    assert S.count_step([10, 10, 10, 20, 20, 20], weights=[1, 1, 1, 2, 2, 2])["p"] == 1.0


def test_phi_from_the_units_unless_they_move_together():
    # ten units alternating 2 and 12, five of them in each phase: the total is 70
    # every month (no variation of its own), each unit's half squared moving range is
    # 50, so the total's variance is 500 and φ = 500 / 70
    parts = np.array([[2, 12] * 6 if i < 5 else [12, 2] * 6 for i in range(10)], float)
    total = parts.sum(axis=0)
    st = S.count_step(total, parts=parts)
    assert st["phi"] == pytest.approx(500 / 70)
    # Satterthwaite: ten equal parts of 11 × 2/3 degrees of freedom each
    assert st["df"] == pytest.approx(10 * 11 * 2 / 3)
    # the same units in one phase: the total swings 20 ↔ 120, more than independent
    # units allow (F test), so the total's own φ stands with its (12 − 2)/2 df
    together = np.array([[2, 12] * 6] * 10, float)
    st = S.count_step(together.sum(axis=0), parts=together)
    alone = S.count_step(together.sum(axis=0))
    assert (st["phi"], st["df"]) == (alone["phi"], alone["df"]) == (
        pytest.approx((100 / 0.954) ** 2 / 70), 5.0)
