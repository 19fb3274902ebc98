"""repeated_value's exact run tail and its power on a mild flat line (issue 12).

The tail P(longest run of equal positive values among n draws ≥ L) is checked against
brute-force enumeration of every sequence; the check is run on a district of the
detection benchmark (``anquan_analysis.evaluation``, written apart from the checks)
with a 6-month flat line planted by hand at the unit's own mean."""

import itertools

import numpy as np
import pytest
from scipy import stats

from anquan_analysis.checks.balance import repeated_value
from anquan_analysis.checks.balance.runs import log_run_tail, run_tail
from anquan_analysis.evaluation.districts import make_district


def brute_tail(pmf, length, n):
    """Σ over every sequence of n values with a run of ≥ length equal positives."""
    total = 0.0
    for seq in itertools.product(range(len(pmf)), repeat=n):
        best, cur = 0, 0
        for t, v in enumerate(seq):
            cur = cur + 1 if t and v == seq[t - 1] else 1
            if v > 0:
                best = max(best, cur)
        if best >= length:
            total += float(np.prod([pmf[v] for v in seq]))
    return total


@pytest.mark.parametrize("pmf", [[0.2, 0.5, 0.3], [0.1, 0.25, 0.4, 0.25], [0.0, 0.6, 0.4]])
@pytest.mark.parametrize("length,n", [(2, 3), (3, 5), (2, 6), (4, 7), (5, 5), (6, 5)])
def test_run_tail_equals_enumeration(pmf, length, n):
    # fails on the union bound (n − L + 1)·Σ p_k^L: for [0.2, 0.5, 0.3], L 2 of 3
    # it gives 0.68 against the exact 0.528
    assert run_tail(pmf, length, n) == pytest.approx(brute_tail(pmf, length, n), rel=1e-12,
                                                     abs=1e-15)


def test_run_of_one_position_is_the_sum_of_powers():
    # L = n: one place to start, the tail is Σ_{k≥1} Poisson(k; 3)^6
    k = np.arange(1, 60)
    want = (stats.poisson.pmf(k, 3.0) ** 6).sum()
    assert np.exp(log_run_tail(3.0, 1.0, 6, 6)) == pytest.approx(want, rel=1e-9)


def test_log_run_tail_poisson_and_overdispersed():
    # Poisson(2), a run of 6 in 12: exact 4.435e-3 against the union bound's 5.75e-3
    pmf = stats.poisson.pmf(np.arange(40), 2.0)
    exact = run_tail(pmf, 6, 12)
    assert np.exp(log_run_tail(2.0, 1.0, 6, 12)) == pytest.approx(exact, rel=1e-9)
    assert exact == pytest.approx(4.4354e-3, rel=1e-4)
    # variance 1.8 × the mean: the negative binomial of size 2/0.8, p = size/(size + 2)
    size = 2.0 / 0.8
    nb = stats.nbinom.pmf(np.arange(200), size, size / (size + 2.0))
    assert np.exp(log_run_tail(2.0, 1.8, 6, 12)) == pytest.approx(run_tail(nb, 6, 12),
                                                                  rel=1e-9)
    # a ratio a rounding error above 1 is the Poisson (a negative binomial of size
    # 2e15 cancels its log-gammas to nonsense: 4.8e-9 against 1.1e-2 at mean 0.83)
    assert np.exp(log_run_tail(0.8333, 1.0 + 4e-16, 6, 12)) == pytest.approx(
        np.exp(log_run_tail(0.8333, 1.0, 6, 12)), rel=1e-9)


QUOTA_BOUND = ("units_inspected", "principal_training_sessions", "drill_enterprises",
               "drills", "safety_meetings")


# seed 2's planted line stays info (its q is above 0.05): mild recall is not 1; the
# honest half of the test holds there too (it failed on a negative binomial of size
# 2e15 flagging 3, 3, 3, 3, 3, 3 at quota 2 + Poisson(1.04) with p = 4.8e-9)
@pytest.mark.parametrize("seed,found", [(0, True), (1, True), (2, False)])
def test_planted_mild_flat_line_is_found_and_quota_units_are_not(seed, found):
    d = make_district(seed, n_units=30, overdispersion="gamma4", contamination=0.0,
                      strength="mild", plan=[], district_step=False)
    panel = d.panel
    honest = repeated_value(panel, exposure=d.exposure)
    flagged = honest[honest["severity"].isin(["warning", "alert"])]
    # honest units at a quota or floor (quota + Poisson, 1 + Poisson) stay unflagged
    assert not flagged["indicator"].isin(QUOTA_BOUND).any()
    # plant: the town with general hazards nearest 8 a month reports its own mean,
    # rounded, every month from July on
    gh = panel[panel["indicator"] == "general_hazards_found"]
    means = gh.groupby("unit")["value"].mean()
    unit = (means - 8.0).abs().idxmin()
    level = round(means[unit])
    late = (gh["unit"] == unit) & (gh["period"] >= "2024-07")
    planted = panel.copy()
    planted.loc[late[late].index, "value"] = float(level)
    f = repeated_value(planted, exposure=d.exposure)
    hit = f[(f["unit"] == unit) & (f["indicator"] == "general_hazards_found")]
    assert len(hit) == 1 and hit["statistic"].item() >= 6
    assert hit["period"].item() == "2024-12" and hit["observed"].item() == level
    assert (hit["severity"].item() in ("warning", "alert")) == found
