"""underdispersion: a peer group whose figures have drawn closer together than its
members' own variability allows: a group tighter than its own past.

See the package docstring for the conventions every balance check follows.  Pairs
and coordinated subgroups of units are ``matching_series``'s: this check looks at a
whole group (units of one ``group_by`` cell) at once, and names it once."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ... import catalogue
from ...findings import empty_findings, make_findings, severity_from_q
from ...panel import as_panel
from .._stats import bh_adjust
from .groups import names_label, period_span


def underdispersion(panel, *, period=None, group_by=("unit_type", "parent"),
                    indicators=None, min_units: int = 5, min_periods: int = 6,
                    min_mean: float = 1.0, recent: int = 3, info_p: float = 1e-4,
                    alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """Peer groups whose figures in the recent periods are closer together than
    each member's own past figures allow.

    Parameters
    ----------
    panel : DataFrame or Panel
        Long frame (unit, unit_type, parent, period, indicator, value) or a
        ``panel.Panel``.  Not modified.
    period : str, optional
        Test the ``recent`` periods ending at P against the periods of P's
        frequency before them.  None: every end period of the panel that has
        ``min_periods`` periods before its recent ones, each frequency apart.
    group_by : tuple of str
        Columns whose values make a group (default unit type and parent: the
        towns of one district).  Units without a type are in no group.
    indicators : list of str, optional
        Count indicators to test (default all of the panel's count indicators).
    min_units : int
        Smallest group tested: units with a figure in every period of the window.
    min_periods : int
        Past periods needed before the recent ones.
    min_mean : float
        Smallest mean figure (over the group's past) tested.
    recent : int
        Periods compared with the past, ending at P.
    info_p, alert, warning : float
        Reporting thresholds (package docstring).

    Returns
    -------
    DataFrame of ``findings.FINDINGS_COLUMNS``, one row per group, indicator and
    end period: ``unit`` blank (the members named in the message), ``unit_type``
    the group's type, ``period`` the end of the recent periods, ``observed`` the
    variance between the members' figures per recent period, ``expected`` that
    variance as the members' own past gives it, ``statistic`` the z-score,
    ``p_value`` its left tail, ``q_value`` Benjamini–Hochberg over every test.

    Notes
    -----
    Null model: in each recent period every member's figure is an independent
    draw from its own past figures, scaled to the group's level in that period.
    The group's level is f_t = the members' total in period t over their mean
    total in the past periods, so that a district-wide push (巴南's September) or
    a seasonal dip moves every expectation with it and is not read as
    tightening.  A draw keeps the member's past mean × f_t and its past spread,
    scaled by min(f_t, f_t²): counts whose level rises by f vary f times more if
    Poisson and f² times more if the rise multiplies each figure, and the smaller
    of the two keeps the test conservative.  The statistic is the sum over the
    recent periods of Σ_u (x_ut − x̄_t)², whose mean and variance follow from each
    member's past mean, variance and third and fourth central moments (a
    quadratic form in independent draws; the spread of the past means is taken
    net of their own sampling noise); z = (observed − mean)/sd and p = Φ(z),
    small when the recent figures sit closer together than those draws would.

    A unit with a quota or a floor (drills = drill enterprises + a few; sessions =
    1 + Poisson) is steady in its past as in its present, so steadiness alone is
    not evidence; what is, is a group whose members, each varying as before,
    suddenly report figures close to one another's.  A group that has agreed its
    figures all along has no past to contrast with: its pairs are tested by
    ``matching_series``.  The normal tail is conservative in the left tail of a
    sum of squares; simulated honest groups (Poisson, gamma-Poisson, floors and
    quotas, a ×2.5 push, a 60 % dip; 5–40 units, 12 and 36 months) give p < 0.01
    in at most 0.7 % of tests and p < 0.001 in none of 2,100
    (tests/reference/underdispersion_calibration.py).
    """
    cube = as_panel(panel).series(period)
    chosen = cube.count_indicators()
    if indicators is not None:
        chosen &= pd.Index(cube.indicators).isin(list(indicators))
    ind_idx = np.flatnonzero(chosen)
    if not len(ind_idx) or not len(cube.units) or not len(cube.periods):
        return empty_findings()
    cell, keys = cube.unit_groups(tuple(group_by))
    if "unit_type" in group_by:
        cell = np.where(cube.unit_type == "", -1, cell)
    n_cells = len(keys)
    windows = ([np.arange(len(cube.periods))] if period is not None else
               [np.flatnonzero(cube.period_freq == f) for f in pd.unique(cube.period_freq)])
    tests = []
    for w, t in enumerate(windows):
        ends = [len(t) - 1] if period is not None else range(min_periods + recent - 1, len(t))
        for i in ind_idx:  # loops over indicators and end periods; cells vectorised
            x = cube.values[:, i, t]
            for e in ends:
                tests.append(_tests(x[:, :e + 1], cell, n_cells, recent=recent,
                                    min_units=min_units, min_periods=min_periods,
                                    min_mean=min_mean, where=(w, i, e)))
    tests = [d for d in tests if d is not None and len(d["z"])]
    if not tests:
        return empty_findings()
    found = pd.DataFrame({k: np.concatenate([d[k] for d in tests]) for k in tests[0]})
    found["p_value"] = stats.norm.cdf(found["z"])
    found["q_value"] = bh_adjust(found["p_value"].to_numpy())
    found["severity"] = severity_from_q(found["q_value"], alert=alert, warning=warning)
    found = found.loc[(found["severity"] != "info") | (found["p_value"] < info_p)]
    if found.empty:
        return empty_findings()
    return _rows(found, cube, windows, cell, keys, group_by, recent)


def _tests(x, cell, n_cells, *, recent, min_units, min_periods, min_mean, where):
    """The tests of every cell for one indicator and one end period (the last
    column of ``x``, units × periods up to it): z, observed and expected variance
    per recent period, members' count, cell and ``where`` (window, indicator, end)."""
    k = recent
    n_past = x.shape[1] - k
    if n_past < max(min_periods, 2):
        return None
    from ._series_loops import past_moments  # numba loads on first use
    full, *moments = past_moments(x, n_past)
    member = (cell >= 0) & full
    cid = cell[member]
    rec = x[member, n_past:]
    n = np.bincount(cid, minlength=n_cells).astype(np.float64)

    def total(w):
        return np.bincount(cid, weights=w, minlength=n_cells)

    # the past's mean, sample variance (the mean's term) and central moments
    mu, var, m2, m3, m4 = (m[member] for m in moments)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = 1.0 - 1.0 / n
        mu_bar = total(mu) / n
        # Spread of the members' levels, net of the noise of each past mean.
        level = np.maximum(total(mu ** 2) - total(mu) ** 2 / n - c * total(var) / n_past, 0.0)
        base = total(mu * n_past) / n_past             # the group's mean past total
        centred = mu - mu_bar[cid]
        observed = expected = variance = 0.0
        level_scale = var_scale = 0.0
        for j in range(k):
            r = rec[:, j]
            f = total(r) / base
            s2 = np.minimum(f, f * f)                   # spread scale: Poisson or multiplied
            observed = observed + total(r * r) - total(r) ** 2 / n
            expected = expected + f * f * level + c * s2 * total(var)
            level_scale, var_scale = level_scale + f * f, var_scale + c * s2
            b = f[cid] * centred
            variance = variance + (4 * s2 * total(b * b * m2)
                                   + c * c * s2 * s2 * (total(m4) - total(m2 * m2))
                                   + 2 * s2 * s2 * (total(m2) ** 2 - total(m2 * m2)) / (n * n)
                                   + 4 * c * s2 ** 1.5 * total(b * m3))
        # The expectation is itself estimated from n_past periods: its error adds
        # to the observed sum's (the recent and past periods are disjoint).
        level_error = (4 * total(centred ** 2 * var) / n_past
                       + 2 * total(var * var) / (n_past * n_past))
        var_error = total(np.maximum(m4 - m2 * m2, 0.0)) / n_past
        variance = variance + level_scale ** 2 * level_error + var_scale ** 2 * var_error
        z = (observed - expected) / np.sqrt(variance)
    ok = np.flatnonzero((n >= min_units) & (mu_bar >= min_mean) & (variance > 0)
                        & np.isfinite(z))
    w, i, e = where
    return {"z": z[ok], "observed": observed[ok] / k / (n[ok] - 1),
            "expected": expected[ok] / k / (n[ok] - 1), "cell": ok,
            "n": n[ok].astype(np.int64), "w": np.full(len(ok), w),
            "ind": np.full(len(ok), i), "end": np.full(len(ok), e), "n_past": np.full(len(ok), n_past)}


def _rows(found, cube, windows, cell, keys, group_by, recent) -> pd.DataFrame:
    """Findings rows with their messages (members listed once per group)."""
    out = []
    for r in found.itertuples(index=False):  # one per reported group: a handful
        t = windows[int(r.w)]
        periods = cube.periods[t][:int(r.end) + 1]
        x = cube.values[:, int(r.ind), t][:, :int(r.end) + 1]
        members = np.flatnonzero((cell == r.cell) & ~np.isnan(x).any(axis=1))
        key = keys.iloc[int(r.cell)]
        type_word = catalogue.unit_type_name(str(key.get("unit_type", ""))) or "单位"
        parent = str(key.get("parent", "")) if "parent" in group_by else ""
        where = f"{parent}所属{type_word}" if parent else type_word
        names = cube.units[members]
        who = f"{where}（{names_label(names)}{'等' if len(names) > 10 else ''}{len(names)}个）"
        span = period_span(periods[-recent:])
        share = r.observed / r.expected if r.expected > 0 else 0.0
        ind = catalogue.indicator_name(cube.indicators[int(r.ind)])
        message = (f"{who}{span}{ind}彼此差距仅为按各自此前{int(r.n_past)}"
                   f"{'个月' if periods[-1][4:5] == '-' else '期'}波动推算的{share:.0%}，"
                   f"明显收窄，疑似相互“保持平衡”")
        out.append({"unit_type": str(key.get("unit_type", "")), "period": periods[-1],
                    "indicator": cube.indicators[int(r.ind)], "observed": r.observed,
                    "expected": r.expected, "statistic": r.z, "p_value": r.p_value,
                    "q_value": r.q_value, "severity": r.severity, "message": message})
    rows = pd.DataFrame(out).assign(check="underdispersion")
    rows = rows.sort_values(["q_value", "p_value", "period", "indicator"], kind="stable")
    return make_findings(rows)

