"""Surges after pressure: one unit jumping far above its own history (``surge``) and a
whole group stepping up or down after a date (``group_shift``).

巴南 2023: "9月单月增加重大事故隐患43个，是5-8月3个月累计排查重大事故隐患个数（69个）的
62.3%", right after the district head's meeting.  A step of the whole group is
``group_shift``; a unit that jumps while its peers do not is ``surge``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..catalogue import indicator_name, indicator_unit, unit_type_name
from ..dataset import require_columns
from ..findings import empty_findings, make_findings, severity_from_q
from ..panel import as_panel
from ..periods import window
from ._stats import bh_adjust
from ._wording import fmt

# Indicators counted as events (hazards, accidents): Poisson limits; others use XmR.
_EVENT_UNITS = {"项", "处", "起"}
# XmR: 3-sigma limits with sigma = mean moving range / d2 (d2 = 1.128 for n = 2).
_D2 = 1.128
_D2_MEDIAN = 0.954  # median moving range ÷ this estimates sigma (Wheeler)


def _unit_period_matrix(panel, indicator: str, period):
    """Units × periods of ``indicator`` over the window up to ``period`` (of any
    frequency, nested as ``periods.nested``; NaN where not reported), for the units
    and periods with a figure of it: the matrix, the units' positions on the panel's
    unit axis, and the periods (time order)."""
    figs, periods = panel.figures([indicator], period, cumulative=True)
    x = figs[:, 0, :]
    has = ~np.isnan(x)
    u = np.flatnonzero(has.any(axis=1))
    t = np.flatnonzero(has.any(axis=0))
    return x[u][:, t], u, [str(p) for p in periods[t]]


def _test_columns(months, period, min_history: int) -> np.ndarray:
    """Which periods are tested: all when ``period`` is None, else those inside
    ``period`` with at least ``min_history`` periods before them."""
    idx = np.arange(len(months))
    ok = idx >= (min_history if period is not None else 0)
    return ok & window(months, period, cumulative=False)


def _poisson_surge(x: np.ndarray, peer_tot: np.ndarray, baseline: str, *, both_sides: bool,
                   test: np.ndarray | None = None):
    """Conditional (binomial) test of each value against the unit's other periods,
    for every unit × period at once.  Under H0 the unit's count in period m is
    Poisson with mean c·G_m (G_m: its peers' total without it, ``baseline='group'``;
    or 1, ``'own'``); given the total N of the reference periods plus the tested one,
    the tested count is Binomial(N, G_t / (ΣG_ref + G_t)).  Reference: the earlier
    periods, or with ``both_sides`` every other period.  Returns expected, p (upper
    tail; NaN where not testable, and outside ``test`` when given: the binomial
    tail is the costly part, so it is computed only where it will be used)."""
    obs = ~np.isnan(x)
    g = peer_tot if baseline == "group" else np.ones_like(x)
    if baseline not in ("group", "own"):
        raise ValueError(f"baseline must be 'group' or 'own', got {baseline!r}")
    # a period where the peers found nothing still gets a little weight
    g = np.where(obs, g + 0.5, 0.0)
    xs = np.where(obs, x, 0.0)
    if both_sides:
        s_hist = xs.sum(axis=1, keepdims=True) - xs
        g_hist = g.sum(axis=1, keepdims=True) - g
    else:
        s_hist = np.cumsum(xs, axis=1) - xs
        g_hist = np.cumsum(g, axis=1) - g
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = s_hist * g / g_hist
    ok = obs & (g_hist > 0)
    if test is not None:
        ok &= test
    p = np.full(x.shape, np.nan)
    gt, gh = g[ok], g_hist[ok]
    p[ok] = stats.binom.sf(xs[ok] - 1, s_hist[ok] + xs[ok], gt / (gh + gt))
    return expected, p


def _reference_total(x: np.ndarray, period) -> np.ndarray:
    """Each unit-period's total of the tested and reference periods (every period
    without ``period``, else the period and those before it)."""
    xs = np.nan_to_num(x)
    if period is None:
        return np.broadcast_to(xs.sum(axis=1, keepdims=True), xs.shape)
    return np.cumsum(xs, axis=1)


def _xmr_surge(x: np.ndarray, test: np.ndarray | None = None):
    """XmR (individuals) chart on the unit's own history: centre the mean of the
    earlier values, sigma the mean moving range of consecutive earlier values ÷ 1.128;
    statistic (x − centre)/sigma, p its normal upper tail (only where ``test`` when
    given).  Returns expected, upper, statistic, p."""
    obs = ~np.isnan(x)
    xs = np.where(obs, x, 0.0)
    n_hist = np.cumsum(obs, axis=1) - obs
    mean = (np.cumsum(xs, axis=1) - xs) / np.where(n_hist > 0, n_hist, np.nan)
    mr = np.abs(np.diff(x, axis=1))
    mr_ok = ~np.isnan(mr)
    mr0 = np.where(mr_ok, mr, 0.0)
    # moving ranges strictly before the tested period t: those ending at t-1 or earlier,
    # i.e. mr[:, j] with j <= t-2 (mr[:, j] compares periods j and j+1)
    pad = np.zeros((len(x), 2))
    mr_sum = np.concatenate([pad, np.cumsum(mr0, axis=1)], axis=1)[:, :x.shape[1]]
    mr_n = np.concatenate([pad, np.cumsum(mr_ok, axis=1)], axis=1)[:, :x.shape[1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = (mr_sum / mr_n) / _D2
        stat = (x - mean) / sigma
        ok = obs & (sigma > 0)
    if test is not None:
        ok &= test
    p = np.full(x.shape, np.nan)
    p[ok] = stats.norm.sf(stat[ok])
    return mean, mean + 3 * sigma, stat, p


def _read(panel, indicator, what):
    if isinstance(panel, pd.DataFrame):
        require_columns(panel, ["unit", "unit_type", "period", "indicator", "value"], what)
    return as_panel(panel, [indicator])


def surge(panel, *, period=None,
          indicator: str = "major_hazards_found", method: str = "auto", baseline: str = "group",
          min_history: int = 3, min_total: float = 10, min_count: float = 3,
          min_ratio: float = 2.0,
          alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """A unit's figure in a period far above its own history (突击上报).

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures.  Not modified.
    period : str, optional
        Test the periods inside ``period`` against the earlier ones; None: every
        period against every other (a retrospective review).
    indicator : str
        The indicator followed (default 重大事故隐患排查数).
    method : {"auto", "poisson", "xmr"}
        ``poisson`` for event counts (项/处/起; what ``auto`` picks for them), ``xmr``
        (an individuals chart) for other indicators.
    baseline : {"group", "own"}
        Poisson only: the unit's share of all other units' total (a step of the
        whole group is then not a unit's surge, see ``group_shift``), or a constant
        mean of its own.
    min_history : int
        A tested period needs at least this many earlier periods.
    min_total : float
        Poisson only: test units with at least this many counts over the tested and
        reference periods.
    min_count, min_ratio : float
        Poisson only: report a period only when its figure is at least ``min_count``
        and ``min_ratio`` × expected (an increase worth an analyst's time).
    alert, warning : float
        Severity from the Benjamini–Hochberg q-value over every tested unit-period;
        a row is returned when q < ``warning``.

    Returns
    -------
    Findings, one row per unit and period: observed = the figure, expected = what
    the unit's history predicts, upper = the 99.9 % limit (poisson) or the 3σ limit
    (xmr), statistic = observed/expected (poisson) or the chart's z (xmr).

    Notes
    -----
    ``poisson``: the unit's counts are Poisson with a constant share of the total of
    all other units (or a constant mean); given the total N of the reference
    periods plus the tested one, the tested count is Binomial(N, G_t / (ΣG_ref +
    G_t)), G the other units' totals: the exact conditional test.  ``xmr``: the
    statistic (x − mean)/σ̂ of the earlier values, σ̂ = mean moving range ÷ 1.128,
    against the normal upper tail.
    """
    pv = _read(panel, indicator, "surge")
    x, u, months = _unit_period_matrix(pv, indicator, period)
    if len(months) <= min_history:
        return empty_findings()
    if method == "auto":
        method = "poisson" if indicator_unit(indicator) in _EVENT_UNITS else "xmr"
    if method not in ("poisson", "xmr"):
        raise ValueError(f"method must be 'auto', 'poisson' or 'xmr', got {method!r}")
    test = np.broadcast_to(_test_columns(months, period, min_history)[None, :], x.shape)
    if method == "poisson":
        # units with few hazards in all (reference + tested) cannot show a surge; the
        # conditional test is given that total, so leaving them out keeps it valid
        test = test & (_reference_total(x, period) >= min_total)
        # the district's other units: a unit type's own total is too small and noisy
        # a month-to-month yardstick (a few departments finding 0–2 hazards a month)
        x0 = np.nan_to_num(x)
        peer_tot = x0.sum(axis=0, keepdims=True) - x0
        expected, p = _poisson_surge(x, peer_tot, baseline, both_sides=period is None,
                                     test=test)
        upper = stat = None  # only on the reported cells, below
    else:
        expected, upper, stat, p = _xmr_surge(x, test=test)
    tested = ~np.isnan(p)
    q = np.full(p.shape, np.nan)
    q[tested] = bh_adjust(p[tested])
    with np.errstate(invalid="ignore"):
        keep = tested & (q < warning)
        if method == "poisson":
            keep &= (x >= min_count) & ((x >= min_ratio * expected) | (expected == 0))
    r, c = np.nonzero(keep)
    if not len(r):
        return empty_findings()
    obs_rc, exp_rc = x[r, c], expected[r, c]
    if method == "poisson":
        with np.errstate(divide="ignore", invalid="ignore"):
            upper_rc = stats.chi2.ppf(0.999, 2 * (exp_rc + 1)) / 2
            stat_rc = obs_rc / exp_rc
    else:
        upper_rc, stat_rc = upper[r, c], stat[r, c]
    name, unit = indicator_name(indicator), indicator_unit(indicator)
    f = pd.DataFrame({
        "check": "surge", "unit": pv.units[u[r]], "unit_type": pv.unit_type[u[r]],
        "period": np.array(months, dtype=object)[c],
        "indicator": indicator, "observed": obs_rc, "expected": exp_rc,
        "lower": np.nan, "upper": upper_rc, "statistic": stat_rc, "p_value": p[r, c],
        "q_value": q[r, c], "severity": severity_from_q(q[r, c], alert=alert, warning=warning),
    })
    basis = "按此前各期水平及同类单位走势" if method == "poisson" and baseline == "group" \
        else "按此前各期水平"
    f["message"] = (f["unit"] + "，" + f["period"] + name + fmt(f["observed"]) + unit
                    + f"，{basis}应约" + fmt(f["expected"], ".1f") + unit
                    + "，突增明显（p=" + fmt(f["p_value"], "p") + "），需核实是否集中突击上报。")
    return make_findings(f)


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
