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
from ..dataset import require_columns
from ..panel import as_panel
from .trends import _D2_MEDIAN, _EVENT_UNITS, _unit_period_matrix


def _read(panel, codes):
    if isinstance(panel, pd.DataFrame):
        require_columns(panel, ["unit", "unit_type", "period", "indicator", "value"], "group_shift")
    return as_panel(panel, codes)


def counts_of(indicator) -> bool:
    """Whether ``indicator`` is a count of events (项/处/起)."""
    return indicator_unit(indicator) in _EVENT_UNITS


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


# a step is dated at the first split by which it has begun with this posterior
DATE_LEVEL = 0.7


def _parts_phi(parts, w, k, level):
    """φ of a total from its parts' own month-to-month variation, per split ``k``,
    and its degrees of freedom.

    The parts (units × periods, summing to the total) adjusted by the weights; half
    each part's squared moving range estimates its variance, their sum over the
    parts the total's when the parts vary independently (the moving range
    straddling the split left out).  Degrees of freedom: Satterthwaite's, two
    thirds of a part's moving ranges each (von Neumann's efficiency)."""
    y = np.asarray(parts, dtype=float) / w
    sq = np.diff(y, axis=1) ** 2 / 2
    var_t = np.nansum(sq, axis=0)                      # per moving range
    n_mr = len(var_t)
    mask = np.ones((len(k), n_mr), bool)
    mask[np.arange(len(k)), k - 1] = False
    var_k = (mask * var_t).sum(axis=1) / (n_mr - 1)
    lev_k = (mask * level).sum(axis=1) / (n_mr - 1)
    phi = var_k / np.maximum(lev_k, 1e-12)
    m = (~np.isnan(sq)).sum(axis=1) * 2 / 3
    # a unit with no two months in a row has no moving range: no share of the df
    s2 = np.nansum(sq, axis=1) / np.maximum(m * 3 / 2, 1)
    ok = (m > 0) & (s2 > 0)
    df = (s2[ok].sum() ** 2 / (s2[ok] ** 2 / m[ok]).sum()) if ok.any() else 1.0
    return phi, max(float(df), 1.0)


def _dated_split(ll, phi, level):
    """Index of the first split by which the step has begun with posterior ``level``.

    Each split's posterior, flat prior over the splits up, is proportional to its
    quasi-likelihood ratio exp(ll / φ); the splits are summed in time order and the
    first whose running sum reaches ``level`` is taken."""
    lq = ll / phi
    post = np.exp(lq - lq.max())
    cum = np.cumsum(post / post.sum())
    return int(min(np.searchsorted(cum, level - 1e-12), len(cum) - 1))


def count_step(values, *, min_before: int = 3, weights=None, parts=None,
               date_level: float | None = DATE_LEVEL) -> dict:
    """The best step up in a series of counts whose segment after the step runs to the
    end (one period at least, so a step in the last period is found and dated there),
    and its significance.

    Parameters
    ----------
    values : array-like
        Counts, one per period, in time order (no missing period).
    min_before : int
        Periods the segment before a step needs at least.
    weights : array-like, optional
        Each period's expected share of the work under no step (a season read off
        another indicator, ``group_shift``); all equal when None.  Positive, any scale.
    parts : array-like, optional
        The units' counts (units × periods, NaN where one did not report) whose sums
        are ``values``: φ is then read off their own variation as well (see Notes).
    date_level : float or None
        The step is dated at the first split by which it has begun with this
        posterior (see Notes); None dates it at the most likely split.

    Returns
    -------
    dict with step (index of the first period after it), before and after (the
    segments' means of the counts ÷ the weights), statistic (the quasi-Poisson z of
    the dated split), phi (the dispersion used), df (its degrees of freedom) and p.

    Notes
    -----
    Null model: the counts are Poisson with mean λ·w_t (w the weights), or
    overdispersed about it with variance φ × mean.  For a split with the weights W_b
    before it and W_a after, given the total N the count after the step is
    Binomial(N, W_a / (W_b + W_a)) (the exact conditional test; L / n with equal
    weights).  φ is estimated from the variation of the counts ÷ the weights within
    the two segments: the median moving range of the total (÷ 0.954, squared, ÷ the
    level), with (n − 2)/2 degrees of freedom (a median of moving ranges carries about
    half the information of n − 2 squared deviations).  With ``parts``, the units'
    own moving ranges estimate the same variance with many more degrees of freedom
    (``_parts_phi``), and stand unless the total varies more than they allow (F test
    at 5 %: months moving together beyond the weights, which only the total shows).
    When φ > 1 the split is also tested by z = (A − N·π)/√(φ·N·π(1 − π)) against
    Student's t with φ's degrees of freedom, and the larger p is kept, so the test is
    never less strict than Poisson's.  One-sided: only a step up is tested; p = the
    smallest split p × the number of splits (Bonferroni), whatever the date.

    The date: each split up has the posterior exp(LR / φ) normalised over the splits
    up (flat prior, LR the Poisson log likelihood ratio against no step, φ as above),
    and the step is dated at the first split at which these posteriors, summed in
    time order, reach ``date_level`` (0.7).  The single most likely split dates a
    step a month early whenever the month before it is high by chance, which in a
    district of 30 towns is common; the date from the posterior's 70 % point keeps
    the most likely split when it is clear and otherwise names the month by which
    the step has most probably begun.  It is the Bayes date when naming a month of
    the step too early (honest months called part of it) costs 0.7 / 0.3 ≈ 2.3
    times as much as naming it a month late.
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    k = np.arange(max(min_before, 1), n)
    out = {"step": 0, "before": np.nan, "after": np.nan, "statistic": np.nan,
           "phi": np.nan, "df": np.nan, "p": np.nan}
    if len(k) == 0 or n < 3 or np.isnan(v).any() or (v < 0).any() or v.sum() <= 0:
        return out
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != v.shape or not (np.isfinite(w) & (w > 0)).all():
        raise ValueError("count_step: weights must be positive, one per value")
    w = w / w.mean()
    c, cw = np.cumsum(v), np.cumsum(w)
    n_b, n_a = cw[k - 1], cw[-1] - cw[k - 1]
    s_b, s_a = c[k - 1], c[-1] - c[k - 1]
    total = s_b + s_a
    m_b, m_a = s_b / n_b, s_a / n_a
    y = v / w                       # the counts with the season taken out
    mr = np.abs(np.diff(y))
    level = (y[1:] + y[:-1]) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        # the moving ranges within the two segments (not the one straddling the
        # step): their median ÷ 0.954 is σ, not thrown by one unit's surge in the
        # history nor by a slow season, as Pearson's χ² about the means would be
        phi = np.array([(np.median(np.delete(mr, j - 1)) / _D2_MEDIAN) ** 2
                        / max(np.delete(level, j - 1).mean(), 1e-12) for j in k])
        df = np.full(len(k), max(1.0, (n - 2) / 2))
        if parts is not None:
            phi_u, df_u = _parts_phi(parts, w, k, level)
            # the total varying more than its units do (F test): the months move
            # together beyond the season, and the total's own estimate stands
            together = stats.f.sf(phi / np.maximum(phi_u, 1e-12), df, df_u) < 0.05
            phi = np.where(together, phi, phi_u)
            df = np.where(together, df, df_u)
        share = n_a / cw[-1]
        up = m_a > m_b
        p = np.ones(len(k))
        p[up] = stats.binom.sf(s_a[up] - 1, total[up], share[up])
        z = (s_a - total * share) / np.sqrt(np.maximum(phi, 1.0) * total * share * (1 - share))
        over = up & (phi > 1)
        p[over] = np.maximum(p[over], stats.t.sf(z[over], df=df[over]))
        # the likelihood ratio of a step at k against none (Poisson); steps up only
        ll = (np.nan_to_num(s_a * np.log(m_a)) + np.nan_to_num(s_b * np.log(m_b))
              - total * np.log(total / cw[-1]))
    ll = np.where(up, ll, -np.inf)
    if not up.any():
        i = 0
    elif date_level is None:
        i = int(np.argmax(ll))
    else:
        i = _dated_split(ll, np.maximum(phi, 1.0), date_level)
    return {"step": int(k[i]), "before": float(m_b[i]), "after": float(m_a[i]),
            "statistic": float(z[i]), "phi": float(max(phi[i], 1.0)), "df": float(df[i]),
            "p": float(min(1.0, len(k) * p.min()))}


# the indicator whose months stand for another's season: the same inspections find
# general and major hazards, so a month of more inspections (a summer, a campaign
# month) raises both; a step of major hazards alone does not move general ones
SEASON_OF = {"major_hazards_found": "general_hazards_found",
             "major_hazards_found_dept": "general_hazards_found",
             "major_hazards_found_enterprise": "general_hazards_found"}
_MIN_REFERENCE = 20     # a reference's monthly mean below this is mostly Poisson noise


def season_weights(ref, months):
    """Month weights (mean 1) from a reference series: a yearly wave fitted to it.

    Parameters
    ----------
    ref : array-like
        The reference's monthly totals, positive.
    months : list of str
        Their months (``2024-01``), in time order.

    Returns
    -------
    ndarray or None
        exp(b₁ cos 2πm/12 + b₂ sin 2πm/12) scaled to mean 1 (m the calendar month),
        the wave fitted to log ``ref`` by least squares, its amplitude shrunk by the
        positive-part James–Stein factor 1 − (its noise ÷ its square): a reference
        whose months wander without a wave gives flat weights.  None when a period is
        not a calendar month or a total is not positive.
    """
    ref = np.asarray(ref, dtype=float)
    if len(ref) < 4 or not all(len(m) == 7 and m[4] == "-" for m in months) \
            or not (ref > 0).all():
        return None
    t = np.array([int(m[5:7]) for m in months], float)
    X = np.column_stack([np.ones(len(t)), np.cos(2 * np.pi * t / 12),
                         np.sin(2 * np.pi * t / 12)])
    y = np.log(ref)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    s2 = ((y - X @ beta) ** 2).sum() / max(len(t) - 3, 1)
    noise = s2 * np.trace(np.linalg.pinv(X.T @ X)[1:, 1:])
    amp2 = beta[1] ** 2 + beta[2] ** 2
    shrink = max(0.0, 1 - noise / amp2) if amp2 > 0 else 0.0
    f = np.exp(shrink * (X[:, 1:] @ beta[1:]))
    return f / f.mean()


def group_shift(panel, *, period=None,
                indicator: str = "major_hazards_found", reference="auto",
                min_periods: int = 8, min_peers: int = 5,
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
    reference : str or None
        The indicator whose months give the season (``season_weights``): "auto"
        takes ``SEASON_OF`` (general hazards for major ones), None none.
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
    observed/expected = the mean after/before it (as reported), statistic = the
    step test's statistic (counts: the quasi-Poisson z; other indicators:
    ``step_test``'s).

    Notes
    -----
    Counts (项/处/起): the best step up of the group's monthly total, the segment
    after it one period or more (``count_step``: the binomial split of the counts
    given their total, with the overdispersion the group's units show month to
    month); p is its p.  Twelve months hold no last year to tell a season from a
    step, so the months are weighted by the season the reference shows over the same
    unit-months (a yearly wave fitted to it, ``season_weights``), when each of them
    reported it and it averages at least 20 a month: a summer's rise found in general
    hazards as well is no step of major ones, and a step into the autumn's low is not
    hidden by it.  The message then gives the step after the season as well.  Other indicators: the best single step of ``step_test`` (segments of two
    periods at least).  Anhøj's run rules (a run longer than round(log2 n + 3), or
    fewer crossings than the 5th percentile of Binomial(n − 1, 0.5); Anhøj 2015)
    are reported beside it: a signal alone is an ``info`` row (a season, a drift),
    not evidence of a step.
    """
    ref_code = SEASON_OF.get(indicator) if reference == "auto" else reference
    counts = counts_of(indicator)
    if not (counts and ref_code and counts_of(ref_code)):
        ref_code = None             # a season is read off counts, for counts
    pv = _read(panel, [indicator] + ([ref_code] if ref_code else []))
    x, u, months = _unit_period_matrix(pv, indicator, period)
    if len(months) < min_periods:
        return empty_findings()
    ref = None
    if ref_code:
        figs, per = pv.figures([indicator, ref_code], period)
        ref = figs[u][:, 1][:, np.isin(per.astype(str), months)]
    # groups: the unit's type ('' where it has none: never a group of its own)
    types = pv.peer_type()[u]
    labels = sorted(set(types) - {""})
    size = {g: int((types == g).sum()) for g in labels}
    keep = [g for g in labels if size[g] >= min_peers]
    x0 = np.nan_to_num(x)

    def total(m):
        """Monthly total of the units in ``m`` (NaN in a month none of them reported)."""
        return np.where(np.isnan(x[m]).all(axis=0), np.nan, x0[m].sum(axis=0))

    def season(m, seen):
        """The group's month weights from the reference over the same unit-months,
        or None (no reference, a unit-month without it, or too small)."""
        if ref is None:
            return None
        xr, rr = x[m][:, seen], ref[m][:, seen]
        if np.isnan(rr[~np.isnan(xr)]).any():
            return None
        r = np.nansum(np.where(np.isnan(xr), 0.0, rr), axis=0)
        if r.mean() < _MIN_REFERENCE:
            return None
        return season_weights(r, [months[i] for i in seen])

    members = [types == g for g in keep] + [np.ones(len(u), bool)]
    rows = []
    for g, m in zip(keep + ["all"], members):  # one row per group (≤ 5), not per unit
        v = total(m)
        # a month no unit of the group reported is left out, not read as zero
        seen = np.flatnonzero(~np.isnan(v))
        w = season(m, seen) if counts else None
        # the run rules on the months with the season taken out: a season is no signal
        a = anhoej(v[seen] if w is None else v[seen] / w)
        st = (count_step(v[seen], min_before=min_before, weights=w, parts=x[m][:, seen])
              if counts else step_test(v[seen]))
        k = int(st["step"])
        rows.append({"group": g, **a, "p": st["p"], "step": months[seen[k]],
                     # the figures as reported; the season's account is in the message
                     "before": v[seen][:k].mean() if w is not None else st["before"],
                     "after": v[seen][k:].mean() if w is not None else st["after"],
                     "ratio": st["after"] / st["before"] if w is not None and st["before"] > 0
                     else np.nan,
                     "z": st["statistic"], "n_before": k, "n_after": len(seen) - k})
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
    # the step after the season is taken out, as the analyst would check it
    adjusted = pd.Series(np.where(
        r["ratio"].notna(),
        "（按" + (indicator_name(ref_code) if ref_code else "") + "的月度走势扣除季节因素后为此前的"
        + fmt(r["ratio"], ".1f") + "倍）", ""), index=r.index, dtype="str")
    # the p-value is in the table, not the sentence (the director reads the words)
    verdict = pd.Series(np.where(r["q"] < warning, "，存在整体阶跃。",
                                 "，提示可能存在整体变化（未达显著）。"),
                        index=r.index, dtype="str")
    msg = label + f"{name}月度合计" + change + adjusted + runs + verdict
    sev = severity_from_q(r["q"], alert=alert, warning=warning)
    return make_findings(pd.DataFrame({
        "check": "group_shift", "unit": np.nan,
        "unit_type": r["group"].where(r["group"] != "all"), "period": r["step"],
        "indicator": indicator, "observed": r["after"], "expected": r["before"],
        "lower": np.nan, "upper": np.nan, "statistic": r["z"],
        "p_value": r["p"], "q_value": r["q"], "severity": sev, "message": msg,
    }))
