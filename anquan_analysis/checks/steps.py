"""A whole group stepping up after a date (``group_shift``), and the step and run
tests behind it.

巴南 2023: "9月单月增加重大事故隐患43个，是5-8月3个月累计排查重大事故隐患个数（69个）的
62.3%", right after the district head's meeting: the group's monthly total steps up.
A single unit's jump is ``trends.surge``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..catalogue import indicator_name, indicator_unit, unit_type_name
from ..findings import empty_findings, make_findings, severity_from_q
from ._stats import bh_adjust
from ._wording import fmt
from .trends import _D2_MEDIAN, _EVENT_UNITS, _read, _unit_period_matrix


# --------------------------------------------------------------------------- Anhøj rules
def longest_run_tail(n: int, length: int) -> float:
    """P(the longest run of equal outcomes in ``n`` fair coin tosses ≥ ``length``),
    exact, by a recursion over the current run length."""
    if length <= 1:
        return 1.0 if n >= 1 else 0.0
    if length > n:
        return 0.0
    # state: current run length 1..length-1 (no run of `length` yet)
    probs = np.zeros(length)
    probs[1] = 1.0
    for _ in range(n - 1):
        new = np.zeros(length)
        new[1] = probs[1:].sum() * 0.5          # the next toss differs
        new[2:] = probs[1:-1] * 0.5             # the next toss continues the run
        probs = new
    return float(1.0 - probs[1:].sum())


def anhoej(values) -> dict:
    """Anhøj's run rules on a series against its median: number of useful points n
    (not on the median), longest run on one side, number of crossings, and the
    signal limits: a run longer than round(log2 n + 3), or fewer crossings than the
    5th percentile of Binomial(n − 1, 0.5).  Also two p-values for a series with no
    shift (signs as fair coin tosses): P(longest run ≥ observed), P(crossings ≤
    observed)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    med = np.median(v) if len(v) else np.nan
    side = np.sign(v - med)
    side = side[side != 0]
    n = len(side)
    if n < 2:
        return {"n": n, "median": med, "longest_run": n, "crossings": 0, "run_limit": np.nan,
                "crossings_limit": np.nan, "signal": False, "p_run": np.nan, "p_cross": np.nan}
    change = np.flatnonzero(side[1:] != side[:-1])
    crossings = len(change)
    bounds = np.concatenate([[0], change + 1, [n]])
    longest = int(np.diff(bounds).max())
    run_limit = int(round(np.log2(n) + 3))
    cross_limit = int(stats.binom.ppf(0.05, n - 1, 0.5))
    return {
        "n": n, "median": med, "longest_run": longest, "crossings": crossings,
        "run_limit": run_limit, "crossings_limit": cross_limit,
        "signal": bool(longest > run_limit or crossings < cross_limit),
        "p_run": longest_run_tail(n, longest), "p_cross": float(stats.binom.cdf(crossings, n - 1, 0.5)),
    }


def step_test(values, *, min_segment: int = 2) -> dict:
    """The best single step in a series and its significance.  The split maximising
    the Poisson likelihood ratio for counts, else the between-means sum of squares
    (segments of at least ``min_segment`` points);
    statistic |mean after − mean before| / (σ̂ √(1/n₁ + 1/n₂)), σ̂ the median moving
    range within the two segments ÷ 0.954 (so neither the step itself nor one spiky
    month inflates it);
    p two-sided from Student's t with as many degrees of freedom as moving ranges,
    times the number of candidate splits (Bonferroni).  Keys: step (index of the
    first point after it), before, after, statistic, p."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    k = np.arange(min_segment, n - min_segment + 1)
    if len(k) == 0:
        return {"step": 0, "before": np.nan, "after": np.nan, "statistic": np.nan, "p": np.nan}
    c = np.cumsum(v)
    before = c[k - 1] / k
    after = (c[-1] - c[k - 1]) / (n - k)
    if (v >= 0).all() and c[-1] > 0:
        # counts: the split with the largest Poisson likelihood ratio (variance grows
        # with the level, so a plain sum of squares favours splits in the high part)
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = np.nan_to_num(c[k - 1] * np.log(before)) \
                + np.nan_to_num((c[-1] - c[k - 1]) * np.log(after))
        i = int(np.argmax(ll))
    else:
        i = int(np.argmax(k * (n - k) * (after - before) ** 2))
    split = int(k[i])
    mr = np.abs(np.diff(v))
    within = np.delete(mr, split - 1)  # the moving range straddling the step
    # the median moving range (÷ 0.954) is not thrown by one spiky month
    sigma = np.median(within) / _D2_MEDIAN if len(within) else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = abs(after[i] - before[i]) / (sigma * np.sqrt(1 / split + 1 / (n - split)))
    p = min(1.0, len(k) * 2 * stats.t.sf(stat, df=max(len(within), 1))) if sigma > 0 else np.nan
    return {"step": split, "before": float(before[i]), "after": float(after[i]),
            "statistic": float(stat), "p": p}


def count_step(values, *, min_before: int = 3) -> dict:
    """The best step up in a series of counts whose segment after the step runs to the
    end (one period at least, so a step in the last period is found and dated there),
    and its significance.

    Parameters
    ----------
    values : array-like
        Counts, one per period, in time order (no missing period).
    min_before : int
        Periods the segment before a step needs at least.

    Returns
    -------
    dict with step (index of the first period after it), before and after (the
    segments' means), statistic (the quasi-Poisson z of the chosen split), phi (the
    dispersion used) and p.

    Notes
    -----
    Null model: the counts are Poisson with one mean, or overdispersed about it with
    variance φ × mean.  For a split with k periods before it and L after, given the
    total N the count after the step is Binomial(N, L / (k + L)) (the exact
    conditional test).  φ is estimated from the variation within the two segments
    (Pearson's χ² ÷ its n − 2 degrees of freedom); when φ > 1 the split is also
    tested by z = (A − N·π)/√(φ·N·π(1 − π)) against Student's t with n − 2 degrees of
    freedom (the estimated φ's own uncertainty), and the larger p is kept, so the
    test is never less strict than Poisson's.  One-sided: only a step up is tested.
    The split is the one with the largest Poisson likelihood ratio among the steps
    up; p = the smallest split p × the number of splits (Bonferroni).
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    k = np.arange(max(min_before, 1), n)
    out = {"step": 0, "before": np.nan, "after": np.nan, "statistic": np.nan,
           "phi": np.nan, "p": np.nan}
    if len(k) == 0 or n < 3 or np.isnan(v).any() or (v < 0).any() or v.sum() <= 0:
        return out
    c = np.cumsum(v)
    n_b, n_a = k, n - k
    s_b, s_a = c[k - 1], c[-1] - c[k - 1]
    total = s_b + s_a
    m_b, m_a = s_b / n_b, s_a / n_a
    mr = np.abs(np.diff(v))
    level = (v[1:] + v[:-1]) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        # the moving ranges within the two segments (not the one straddling the
        # step): their median ÷ 0.954 is σ, not thrown by one unit's surge in the
        # history nor by a slow season, as Pearson's χ² about the means would be
        phi = np.array([(np.median(np.delete(mr, j - 1)) / _D2_MEDIAN) ** 2
                        / max(np.delete(level, j - 1).mean(), 1e-12) for j in k])
        share = n_a / n
        up = m_a > m_b
        p = np.ones(len(k))
        p[up] = stats.binom.sf(s_a[up] - 1, total[up], share[up])
        z = (s_a - total * share) / np.sqrt(np.maximum(phi, 1.0) * total * share * (1 - share))
        over = up & (phi > 1)
        # a median of moving ranges carries about half the information of n − 2
        # squared deviations: half the degrees of freedom
        p[over] = np.maximum(p[over], stats.t.sf(z[over], df=max(1.0, (n - 2) / 2)))
        # the likelihood ratio of a step at k against none (Poisson); steps up only
        ll = (np.nan_to_num(s_a * np.log(m_a)) + np.nan_to_num(s_b * np.log(m_b))
              - total * np.log(total / n))
    ll = np.where(up, ll, -np.inf)
    if not up.any():
        i = 0
    else:
        i = int(np.argmax(ll))
    return {"step": int(k[i]), "before": float(m_b[i]), "after": float(m_a[i]),
            "statistic": float(z[i]), "phi": float(max(phi[i], 1.0)),
            "p": float(min(1.0, len(k) * p.min()))}


def group_shift(panel, *, period=None,
                indicator: str = "major_hazards_found", min_periods: int = 8, min_peers: int = 5,
                min_before: int = 3,
                alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """A whole group's step after a date (a district-wide jump, 巴南's September).

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures.  Not modified.
    period : str, optional
        Use every period up to ``period`` (all when None); a step is dated where it
        begins, the assessed period itself included.
    indicator : str
        The indicator followed (default 重大事故隐患排查数).
    min_periods : int
        Needs at least this many periods.
    min_peers : int
        A unit type is a group of its own when it has at least this many units;
        all units together are always a group.
    min_before : int
        Periods a step needs before it (its history).
    alert, warning : float
        Severity from the Benjamini–Hochberg q-value across the groups.

    Returns
    -------
    Findings, one row per group whose run rules signal or whose q < ``warning`` (a
    signal with q ≥ ``warning`` is ``info``); unit blank, unit_type the group
    (blank for all units), period = the first period after the best step,
    observed/expected = the mean after/before it, statistic = the step test's
    statistic (counts: the quasi-Poisson z; other indicators: ``step_test``'s).

    Notes
    -----
    Counts (项/处/起): the best step up of the group's monthly total, the segment
    after it one period or more (``count_step``: the binomial split of the counts
    given their total, with the overdispersion the group's own history shows); p is
    its p.  Other indicators: the best single step of ``step_test`` (segments of two
    periods at least).  Anhøj's run rules (a run longer than round(log2 n + 3), or
    fewer crossings than the 5th percentile of Binomial(n − 1, 0.5); Anhøj 2015)
    are reported beside it: a signal alone is an ``info`` row (a season, a drift),
    not evidence of a step.
    """
    pv = _read(panel, indicator, "group_shift")
    x, u, months = _unit_period_matrix(pv, indicator, period)
    if len(months) < min_periods:
        return empty_findings()
    # groups: the unit's type ('' where it has none: never a group of its own)
    types = pv.peer_type()[u]
    labels = sorted(set(types) - {""})
    size = {g: int((types == g).sum()) for g in labels}
    keep = [g for g in labels if size[g] >= min_peers]
    x0 = np.nan_to_num(x)
    counts = indicator_unit(indicator) in _EVENT_UNITS

    def total(m):
        """Monthly total of the units in ``m`` (NaN in a month none of them reported)."""
        return np.where(np.isnan(x[m]).all(axis=0), np.nan, x0[m].sum(axis=0))

    members = [types == g for g in keep] + [np.ones(len(u), bool)]
    rows = []
    for g, m in zip(keep + ["all"], members):  # one row per group (≤ 5), not per unit
        v = total(m)
        a = anhoej(v)
        # a month no unit of the group reported is left out, not read as zero
        seen = np.flatnonzero(~np.isnan(v))
        st = (count_step(v[seen], min_before=min_before) if counts
              else step_test(v[seen]))
        rows.append({"group": g, **a, "p": st["p"], "step": months[seen[st["step"]]],
                     "before": st["before"], "after": st["after"],
                     "z": st["statistic"], "n_before": int(st["step"]),
                     "n_after": len(seen) - int(st["step"])})
    r = pd.DataFrame(rows)
    r["q"] = bh_adjust(r["p"])
    r = r.loc[r["signal"] | (r["q"] < warning)]
    if r.empty:
        return empty_findings()
    name, unit = indicator_name(indicator), indicator_unit(indicator)
    label = r["group"].map(lambda g: "全部单位" if g == "all" else unit_type_name(g))
    direction = np.where(r["after"] >= r["before"], "升至", "降至")
    with np.errstate(divide="ignore", invalid="ignore"):
        times = r["after"] / r["before"]
    # one month after the step: the bulletins' own way, 9月单月…是此前月均的几倍
    single = (r["n_after"] == 1) & (r["after"] > r["before"]) & (r["before"] > 0)
    change = pd.Series(np.where(
        single,
        r["step"] + "单月" + fmt(r["after"]) + unit + "，为此前" + r["n_before"].astype(str)
        + "期月均" + fmt(r["before"], ".1f") + unit + "的" + fmt(times, ".1f") + "倍",
        "自" + r["step"] + "起由月均" + fmt(r["before"], ".1f") + unit + direction
        + fmt(r["after"], ".1f") + unit), index=r.index, dtype="str")
    # the run rules need two points off the median (a flat history has none)
    runs = pd.Series([f"，中位线同侧最长连续{a.longest_run}期（上限{a.run_limit:.0f}）、穿越中位线"
                      f"{a.crossings}次（下限{a.crossings_limit:.0f}）" if a.n >= 2 else ""
                      for a in r.itertuples()], index=r.index, dtype="str")
    msg = (label + f"{name}月度合计" + change + runs + pd.Series(np.where(r["q"] < warning, "，存在整体阶跃", "，提示可能存在整体变化（未达显著）"),
                              index=r.index, dtype="str")
           + "（p=" + fmt(r["p"], "p") + "）。")
    sev = severity_from_q(r["q"], alert=alert, warning=warning)
    return make_findings(pd.DataFrame({
        "check": "group_shift", "unit": np.nan,
        "unit_type": r["group"].where(r["group"] != "all"), "period": r["step"],
        "indicator": indicator, "observed": r["after"], "expected": r["before"],
        "lower": np.nan, "upper": np.nan, "statistic": r["z"],
        "p_value": r["p"], "q_value": r["q"], "severity": sev, "message": msg,
    }))
