"""matching_series: groups of units whose figures agree with one another, period
after period, more often than each unit's own figures allow.

巴南's bulletin: towns "打听其他镇街数据上报情况，意图与其他镇街‘保持平衡’".  Units
that agree their figures report the same number (or nearly) in the same months;
each unit's own figures over the window say how often that happens by chance.
See the package docstring for the conventions every balance check follows, and
``agreement`` for the pair statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import catalogue
from ...findings import empty_findings, make_findings, severity_from_q
from ...panel import as_panel
from .._stats import bh_adjust, bh_of_smallest
from .._wording import figure
from .agreement import (PairAgreement, against_series, binomial_tail, consensus_series,
                        group_tolerance, pairs_within, tail_lower_bound)
from .groups import count_word, join_pairs, names_label, period_list, period_span
from .joint import joint_groups, poisson_laws, steadiness

_PAIR_COLUMNS = ("freq", "ind", "a", "b", "tol", "n", "equal", "near", "chance_equal",
                 "chance_near", "p_equal", "p_near", "p", "p_screen", "screen_only")
# Pairs × figures held at once when the floored chances are computed.
_LAW_BLOCK = 1 << 22
# A pair is screened at the floor only if its own months are matched at this p.
_MONTHS_SCREEN = 0.3


def matching_series(panel, *, period=None, group_by=("unit_type",), indicators=None,
                    min_periods: int = 6, min_agree: int = 3, rel_tol: float = 0.01,
                    recent: int = 3, max_group_units: int = 1500, info_p: float = 1e-4,
                    screen_p: float = 0.01, alert: float = 0.01,
                    warning: float = 0.05) -> pd.DataFrame:
    """Groups of units of one type whose figures of an indicator agree in many of
    the same periods: each pair tested against the units' own figures, the
    significant pairs joined into groups.

    Parameters
    ----------
    panel : DataFrame or Panel
        Long frame (unit, unit_type, parent, period, indicator, value) or a
        ``panel.Panel``.  Not modified.
    period : str, optional
        Report on P: the window is the periods of P's frequency up to P, and a
        group is reported only if it agrees at P or in one of the ``recent`` − 1
        periods before it.  None: every period of the panel, each frequency a
        window of its own.
    group_by : tuple of str
        Columns whose values make a peer group (default the unit type; units
        without a type are in no group).  Only units of one group are paired.
    indicators : list of str, optional
        Count indicators to test (default all of the panel's; 万元 and 公里
        figures are never tested).
    min_periods : int
        A pair is tested when both units reported in at least this many periods
        of the window that are not 0 for both.
    min_agree : int
        A group is reported only if its members agree in at least this many periods.
    rel_tol : float
        Near agreement is within ± max(1, ⌊rel_tol × the group's typical figure⌋)
        (the median over its units of each unit's median figure above 0): ±1 for
        figures below 200 at the default 1 %, a relative band for large figures
        such as persons trained, where ±1 would ask for an exactness nobody keeps.
    recent : int
        With ``period``, how many periods ending at P may show the agreement.
    max_group_units : int
        A peer group with more units is split by ``parent`` (the number of pairs
        grows with the square of a group's size; a national panel's towns are
        not one another's peers).
    screen_p : float
        Pairs with p < min(screen_p, 1/N) (N the peers tested on the indicator)
        are joined into cliques that are tested as whole groups (``joint``);
        0 turns that off.
    info_p, alert, warning : float
        Reporting thresholds (package docstring).

    Returns
    -------
    DataFrame of ``findings.FINDINGS_COLUMNS``.  Per group, one row with ``unit``
    blank naming every member in its message, then one row per member.  All rows
    of a group carry the same figures: ``observed`` the periods in which all
    members agree (equal figures; for a near group all within a band of
    2 × tolerance, the message giving the largest difference in those periods),
    ``expected`` the agreeing periods its weakest pair would show by chance
    (N × the pair's chance), ``statistic`` that pair's agreeing periods,
    ``p_value`` and ``q_value`` that pair's (the group holds together at that q;
    severity comes from it for every row), ``period`` P or blank.  A group found
    as a whole (Notes) carries its joint test's figures instead.

    Notes
    -----
    Null model, per pair of units (a, b) of one group and one indicator: the two
    units' figures are independent, each drawn period by period from the unit's
    own distribution over the window.  The chance that they agree in a period in
    which they are not both 0 is Σₖ f_a(k)·f_b(k) (near: k and k' within the
    tolerance), from each unit's empirical distribution over its reported
    periods with the pairs of zeros removed (``agreement.PairAgreement``; why the
    agreeing periods stay in: ``agreement``'s docstring); the number of agreeing
    periods among the N periods both reported and not both 0 is then
    Binomial(N, chance), and p = P(X ≥ agreeing periods).  Each pair is tested
    for equal and for near figures, and p is the smaller of the two doubled
    (Bonferroni).  A unit with a quota or a floor (sessions = 1 + Poisson) agrees
    often with its like by chance, and its own distribution says so: steadiness
    is not evidence.  Periods in which both report 0 are left out, not modelled:
    idle small units share zeros.

    Benjamini–Hochberg runs over every pair tested (N ≥ ``min_periods``) of every
    indicator, group and frequency.  Exact tails are computed only for pairs
    whose p may fall below max(``warning``, ``info_p``) (a lower bound of the
    tail, ``agreement.tail_lower_bound``, rules the others out), the others
    counting as p = 1: q-values below that level are exact, those above it
    upper bounds.  Pairs with q < ``warning`` are joined into groups
    (``groups.join_pairs``), and each group is completed with the units of its
    peer group that agree with its consensus (the rounded median of its members'
    figures), each such (group, unit) a test of the same kind with its own
    Benjamini–Hochberg step; a unit within ±1 of an agreed figure is within ±1
    of another such unit in only about 7 periods of 9, so some of its pairs miss
    where its agreement with the consensus does not.  Pairs with p < ``info_p``
    but q ≥ ``warning`` among units in no such group make groups of their own,
    reported as information.

    Groups whose pairs are each too weak for that threshold but which agree as
    a whole (``joint``): among the units in no group so far, the pairs with
    p < min(``screen_p``, 1/N) (N the units of the peer group tested on the
    indicator) are joined into maximal cliques of three or more, and each clique
    is tested as one group.  Null model, per group of k units: independent
    units, each drawing its figure in a period from its own figures over the
    window, as for a pair; the chance that all k are equal in a period is
    Σ_v Π_i f_i(v) (near: all within ± tolerance of one another), the periods
    with all k at 0 left out, and the tail over the N periods all reported is
    binomial; for equal figures the permutation bound (each unit's figures
    shuffled over those periods, ``joint.permutation_bound``) is used where
    it is smaller.  Second null, the contrast: k units drawn, period by period,
    from the other peers' figures of that period (Poisson-binomial tail over
    the periods); each of equal and near keeps the larger of its two tails, so
    a district-wide movement that makes every unit alike in some months is not
    a group (``joint``'s docstring).  p is 2 × the smaller tail (equal or near), and q is p
    adjusted for every group of every size the scan could have picked:
    p × (k − 1)(k − 2) × Σ_c C(N_c, k) over the (window, indicator, peer group)
    cells c (``joint.scan_factor``), so that an honest district shows such a
    group at q < α with chance at most α.  Members are dropped one at a time while that
    lowers q.  The figures of such a group's rows are its joint test's
    (``statistic`` the periods all agree, ``expected`` N × the chance).

    Groups held at a floor (hazards found only, ``catalogue.FINDING_COUNTS``):
    units whose own figures barely vary (1 in ten of twelve months) agree by
    chance under their own figures however many they are.  Hazards found are
    events counted, which vary at least as much as Poisson; a unit steadier than
    that (index of dispersion in the lower 5 % tail) is, for the screen and the
    group test, drawn from Poisson at its own mean instead (``joint.own_laws``):
    the pairs with that p < the screen also make cliques, and their groups are
    tested with it.  Steadiness alone is no coordination (the same figures in
    shuffled months are as steady), so such a group is kept only if its months
    are also matched beyond its members' shuffles (the own-figures test without
    the floor), that p adjusted for every group of steady units sharing their
    most frequent figure in one cell (``joint.joint_groups``); q is the larger
    of the two.  Where both the clique as a whole and its floored subgroup hold
    (q < ``warning``), the group that names more units is reported: seven towns
    within ±1 of one another every month, four of them steady, are the seven.  A
    group whose agreed figure never changes (1 every month) or changes in one month
    only has no such evidence: it is not found.  Sessions, drills and
    enterprises (quotas and stocks) are never floored.

    Agreement that comes from a shared movement of the whole district (a push in
    one month) also raises agreement between similar units; against each pair's
    own spread it is weak unless the units are steady and alike.
    """
    pv = as_panel(panel)
    cube = pv.series(period)
    chosen = cube.count_indicators()
    if indicators is not None:
        chosen &= pd.Index(cube.indicators).isin(list(indicators))
    ind_idx = np.flatnonzero(chosen)
    if not len(ind_idx) or not len(cube.units) or not len(cube.periods):
        return empty_findings()
    gid = _peer_groups(cube, tuple(group_by), max_group_units)
    windows = _windows(cube, period)
    keep_p = max(warning, info_p)
    floor_ind = {int(i) for i in ind_idx if cube.indicators[i] in catalogue.FINDING_COUNTS}
    found, n_tests, eligible, floored = [], 0, {}, {}
    for w, t in enumerate(windows):
        for i in ind_idx:
            rows, m, g, steady = _pair_tests(cube.values[:, i, t], gid, min_periods, rel_tol,
                                             keep_p, floor=i in floor_ind)
            eligible[(w, i)] = g
            if steady is not None:     # the steady units' modes: the floor's scan
                floored[(w, i)] = _modes(cube.values[:, i, t], steady & (g >= 0))
            n_tests += m
            if len(rows["p"]):
                rows.update(freq=np.full(len(rows["p"]), w), ind=np.full(len(rows["p"]), i))
                found.append(rows)
    if not found:
        return empty_findings()
    pairs = pd.DataFrame({k: np.concatenate([f[k] for f in found]) for k in _PAIR_COLUMNS})
    tested = ~pairs["screen_only"].to_numpy(dtype=bool)
    pairs["q"] = 1.0
    pairs.loc[tested, "q"] = bh_of_smallest(pairs.loc[tested, "p"].to_numpy(), n_tests)
    edges = pairs.loc[((pairs["q"] < warning) | (pairs["p"] < info_p))
                      & (pairs[["equal", "near"]].max(axis=1) >= min_agree)]
    joint = dict(pairs=pairs, eligible=eligible, screen_p=min(screen_p, keep_p),
                 floored=floored)
    rows = _group_rows(edges.reset_index(drop=True), cube, windows, gid, period, joint,
                       min_periods=min_periods, min_agree=min_agree, recent=recent,
                       warning=warning)
    if rows.empty:
        return empty_findings()
    rows["severity"] = severity_from_q(rows["q_value"], alert=alert, warning=warning)
    rows = rows.loc[(rows["severity"] != "info") | (rows["p_value"] < info_p)]
    rows = rows.sort_values(["q_value", "p_value", "_group", "_member", "unit"],
                            kind="stable", na_position="first")
    return make_findings(rows.drop(columns=["_group", "_member"]).assign(check="matching_series"))


# ------------------------------------------------------------------------ pairs

def _peer_groups(cube, group_by, max_group_units) -> np.ndarray:
    """Group id per unit (−1: no group): the ``group_by`` cells, units without a
    type left out, cells above ``max_group_units`` split by parent."""
    gid, _ = cube.unit_groups(group_by)
    gid = gid.astype(np.intp)
    if "unit_type" in group_by:
        gid[cube.unit_type == ""] = -1
    if not (gid >= 0).any():  # no unit with a type: no peer group
        return gid
    size = np.bincount(gid[gid >= 0], minlength=int(gid.max()) + 1 if len(gid) else 0)
    big = (gid >= 0) & (size[np.maximum(gid, 0)] > max_group_units)
    if big.any() and "parent" not in group_by:
        fine, _ = cube.unit_groups(group_by + ("parent",))
        gid = np.where(big, len(size) + fine, gid)
    used = np.unique(gid[gid >= 0])
    return np.where(gid >= 0, np.searchsorted(used, gid), -1)


def _windows(cube, period) -> list[np.ndarray]:
    """The period positions of each window: P's frequency up to P (the cube), or
    with ``period=None`` one window per frequency."""
    if period is not None:
        return [np.arange(len(cube.periods))]
    return [np.flatnonzero(cube.period_freq == f) for f in pd.unique(cube.period_freq)]


def _pair_tests(values, gid, min_periods, rel_tol, keep_p, floor=False):
    """Every pair of one indicator's units × periods ``values``: the number tested
    (N ≥ min_periods) and the columns of those with p ≤ ``keep_p`` (the others
    cannot change a q-value below it).  Units with fewer than ``min_periods``
    figures, or none above 0, are in no pair; a pair that never agrees within
    the tolerance has p = 1 and is only counted; and per unit whether it is
    steadier than Poisson (None without ``floor``).  With ``floor``, also the pairs
    whose p with each unit never steadier than Poisson (``_floored_p``) is at
    most ``keep_p``: ``p_screen`` the smaller of the two p-values, ``screen_only``
    for a pair kept only for it (its own p above ``keep_p``, not a test of BH:
    it only lets the joint scan look at its units)."""
    reported = ~np.isnan(values)
    positive = (values > 0).any(axis=1)
    g = np.where((reported.sum(axis=1) >= min_periods) & positive, gid, -1)
    a, b = pairs_within(g)
    if not len(a):
        return {k: np.zeros(0) for k in _PAIR_COLUMNS}, 0, g, None
    tol = group_tolerance(values, g, int(g.max()) + 1, rel_tol)
    agreement = PairAgreement(values, g, tol, pairs=(a, b))
    m = int((agreement.periods(a, b) >= min_periods).sum())
    a, b = agreement.candidates()
    n, equal, near, ch_eq, ch_near = agreement.counts(a, b)
    # Pairs whose two tails are surely above keep_p / 2 cannot be kept: no exact tail.
    k = np.flatnonzero((n >= min_periods) & (near >= 1))
    k = k[(tail_lower_bound(equal[k], n[k], ch_eq[k]) < keep_p / 2)
          | (tail_lower_bound(near[k], n[k], ch_near[k]) < keep_p / 2)]
    p_all = np.ones(len(a))
    p_eq, p_near = np.ones(len(a)), np.ones(len(a))
    p_eq[k] = binomial_tail(equal[k], n[k], ch_eq[k])
    p_near[k] = binomial_tail(near[k], n[k], ch_near[k])
    p_all[k] = np.minimum(1.0, 2.0 * np.minimum(p_eq[k], p_near[k]))
    p_screen = p_all.copy()
    steady = steadiness(np.where((g >= 0)[:, None], values, np.nan)) if floor else None
    if steady is not None:
        f, p_f = _floored_p(steady, (a, b), (n, equal, near, ch_eq, ch_near), tol[g[a]],
                            min_periods, keep_p)
        p_screen[f] = np.minimum(p_screen[f], p_f)
    s = np.flatnonzero((p_all <= keep_p) | (p_screen <= keep_p))
    only = p_all[s] > keep_p
    cols = {"a": a[s], "b": b[s], "tol": tol[g[a[s]]], "n": n[s], "equal": equal[s],
            "near": near[s], "chance_equal": ch_eq[s], "chance_near": ch_near[s],
            "p_equal": np.where(only, 1.0, p_eq[s]), "p_near": np.where(only, 1.0, p_near[s]),
            "p": np.where(only, 1.0, p_all[s]), "p_screen": p_screen[s], "screen_only": only}
    return cols, m, g, (steady[1] if steady is not None else None)


def _modes(values, steady) -> np.ndarray:
    """Per unit, its most frequent figure over the window (the smallest of a tie)
    where ``steady``, else NaN."""
    out = np.full(len(values), np.nan)
    rows = np.flatnonzero(steady)
    if not len(rows):
        return out
    x = values[rows]
    # each figure's count in its row (NaN counts nothing), then the commonest, the
    # smallest on a tie: the most counted, the smallest figure first
    count = (x[:, :, None] == x[:, None, :]).sum(axis=2)
    key = np.where(np.isnan(x), -1, count)
    best = np.lexsort((x, -key), axis=1)[:, 0]
    out[rows] = x[np.arange(len(rows)), best]
    return out


def _floored_p(steady, pairs, counts, tol, min_periods, keep_p):
    """``steady`` = ``joint.steadiness`` of the units.  For the pairs (a, b) of two
    units steadier than Poisson at their means whose
    months are matched at least loosely (their own p, ``counts`` = N, equal,
    near and the own chances of ``PairAgreement.counts``, below
    ``_MONTHS_SCREEN``) in N ≥ ``min_periods``: their positions and their p
    (2 × the smaller tail, as a pair's) with the chances from ``joint.own_laws``
    (each unit never steadier than Poisson), both 0 left out.  Pairs whose tails
    surely exceed ``keep_p`` / 2 get p = 1.  The months' screen only keeps the
    cliques tested at the floor few (a national panel's rounded figures make
    many units steady): a group held at a floor is kept only if its months are
    matched (``joint.joint_groups``), and each pair of one that agrees in every
    month shows it."""
    a, b = pairs
    n, equal, near, own_eq, own_near = counts
    mean, steady, top = steady
    k = np.flatnonzero(steady[a] & steady[b] & (n >= min_periods) & (near >= 1))
    k = k[(tail_lower_bound(equal[k], n[k], own_eq[k]) < _MONTHS_SCREEN / 2)
          | (tail_lower_bound(near[k], n[k], own_near[k]) < _MONTHS_SCREEN / 2)]
    own = 2.0 * np.minimum(binomial_tail(equal[k], n[k], own_eq[k]),
                           binomial_tail(near[k], n[k], own_near[k]))
    k = k[own < _MONTHS_SCREEN]
    if not len(k):
        return k, np.zeros(0)
    # the Poisson laws (``joint.own_laws``'s, on its grid) of these pairs' units only
    rows = np.unique(np.concatenate([a[k], b[k]]))
    at_row = np.full(len(steady), -1)
    at_row[rows] = np.arange(len(rows))
    law = poisson_laws(mean[rows], top)
    a, b = at_row[a], at_row[b]
    width = law.shape[1]
    cum = np.cumsum(law, axis=1)
    ch_eq, ch_near = np.empty(len(k)), np.empty(len(k))
    cols = np.arange(width)
    for t in np.unique(tol[k]):   # one tolerance per peer group: a handful
        at = np.flatnonzero(tol[k] == t)
        hi = cum[:, np.minimum(cols + int(t), width - 1)]
        lo_col = cols - int(t) - 1
        band = hi - np.where(lo_col >= 0, cum[:, np.maximum(lo_col, 0)], 0.0)
        step = max(1, _LAW_BLOCK // width)
        for start in range(0, len(at), step):   # blocks of pairs × figures
            j = at[start:start + step]
            ua, ub = a[k[j]], b[k[j]]
            zero = law[ua, 0] * law[ub, 0]
            eq = (law[ua] * law[ub]).sum(axis=1)
            nr = (law[ua] * band[ub]).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                ch_eq[j] = np.where(zero < 1, (eq - zero) / (1 - zero), 1.0)
                ch_near[j] = np.where(zero < 1, (nr - zero) / (1 - zero), 1.0)
    ch_eq, ch_near = np.clip(ch_eq, 0, 1), np.clip(ch_near, 0, 1)
    p = np.ones(len(k))
    e, r, m = equal[k], near[k], n[k]
    go = ((tail_lower_bound(e, m, ch_eq) < keep_p / 2)
          | (tail_lower_bound(r, m, ch_near) < keep_p / 2))
    p[go] = np.minimum(1.0, 2.0 * np.minimum(binomial_tail(e[go], m[go], ch_eq[go]),
                                             binomial_tail(r[go], m[go], ch_near[go])))
    return k, p


# ----------------------------------------------------------------------- groups

def _group_rows(edges, cube, windows, gid, period, joint, *, min_periods, min_agree,
                recent, warning) -> pd.DataFrame:
    """The findings rows of the groups the edges make (see ``matching_series``):
    groups joined from the pairs with q < ``warning``, and the groups of weaker
    pairs among the other units that hold together as a whole
    (``joint.joint_groups``, from ``joint``'s pairs, peers and screen), the
    former completed with the units that agree with a group's consensus
    (``_complete``; done for the latter too, it added only honest towns agreeing
    with a mild group's figure in the detection grid, no member), overlapping
    ones merged (``_distinct``); then, as information only, groups of the
    remaining pairs (p < info_p) among units in no such group."""
    n_u, n_i = len(cube.units), len(cube.indicators)
    edges = edges.assign(_a=(edges["freq"] * n_i + edges["ind"]) * n_u + edges["a"],
                         _b=(edges["freq"] * n_i + edges["ind"]) * n_u + edges["b"])
    strong = edges["q"].to_numpy() < warning
    found = _joined(edges.loc[strong].reset_index(drop=True), n_u, n_i)
    _complete(found, cube, windows, gid, min_periods=min_periods, min_agree=min_agree,
              warning=warning)
    if joint["screen_p"] > 0:
        taken = np.array([(g["w"] * n_i + g["i"]) * n_u + u for g in found for u in g["units"]],
                         dtype=np.int64)
        found += joint_groups(joint["pairs"], lambda w, i: cube.values[:, i, windows[w]],
                              joint["eligible"], taken, n_units=n_u, n_indicators=n_i,
                              screen_p=joint["screen_p"], min_agree=min_agree, warning=warning,
                              floored=joint["floored"])
    found = _distinct(found)
    taken = np.array([(g["w"] * n_i + g["i"]) * n_u + u for g in found for u in g["units"]],
                     dtype=np.int64)
    weak = edges.loc[~strong & ~edges["_a"].isin(taken) & ~edges["_b"].isin(taken)]
    found += _distinct(_joined(weak.reset_index(drop=True), n_u, n_i))
    out = []
    for k, g in enumerate(found):
        row = _describe(cube, g["units"], g["i"], windows[g["w"]], g["inner"], g["weakest"],
                        min_agree=min_agree, recent=recent if period is not None else None)
        if row is None:
            continue
        row.update(_group=k, indicator=cube.indicators[g["i"]],
                   period=period if period is not None else np.nan)
        out.append(pd.DataFrame([dict(row, unit=np.nan, _member=0)]))
        names = cube.units[g["units"]]
        out.append(pd.DataFrame([dict(row, unit=u, _member=1,
                                      message=_member_message(u, names, row))
                                 for u in names]))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _joined(edges, n_u, n_i) -> list[dict]:
    """The groups ``groups.join_pairs`` makes of the edges, with their window,
    indicator, units (positions on the cube's axis), edges and weakest edge."""
    out = []
    for members, inner, weakest in join_pairs(edges["_a"].to_numpy(), edges["_b"].to_numpy(),
                                              edges["q"].to_numpy()):
        w, i = divmod(int(members[0]) // n_u, n_i)
        out.append({"w": w, "i": i, "units": np.sort(members % n_u),
                    "inner": edges.iloc[inner], "weakest": edges.iloc[weakest]})
    return out


def _complete(found, cube, windows, gid, *, min_periods, min_agree, warning):
    """Add to each group the units of its peer group that agree with the group's
    consensus (the rounded median of its members' figures, period by period).

    A member whose figures lie within ±1 of the agreed figure differs from another
    such member by up to 2, so it agrees within ±1 with each of them in only
    about 7 of 9 periods: some of its pairs fall short of significance where its
    agreement with the consensus does not.  Each (group, unit) is a test like a
    pair's, the consensus standing for the other unit; Benjamini–Hochberg runs
    over all of them.  The consensus is made without the unit, whose pairs with
    the members were not significant: its test is, if anything, conservative."""
    tests = []
    for k, g in enumerate(found):  # one iteration per group (a handful)
        x = cube.values[:, g["i"], windows[g["w"]]]
        eligible = ((~np.isnan(x)).sum(axis=1) >= min_periods) & (x > 0).any(axis=1)
        cand = np.setdiff1d(np.flatnonzero(eligible & (gid == gid[g["units"][0]])), g["units"])
        if not len(cand):
            continue
        n, equal, near, ch_eq, ch_near = against_series(
            x, cand, consensus_series(x, g["units"]), _tolerance(g["inner"]))
        p = np.minimum(1.0, 2.0 * np.minimum(binomial_tail(equal, n, ch_eq),
                                             binomial_tail(near, n, ch_near)))
        tested = n >= min_periods
        tests.append((k, cand[tested], p[tested], np.maximum(equal, near)[tested]))
    if not tests:
        return
    q = bh_adjust(np.concatenate([t[2] for t in tests]))
    at = 0
    for k, cand, p, agree in tests:
        joins = cand[(q[at:at + len(p)] < warning) & (agree >= min_agree)]
        at += len(p)
        found[k]["units"] = np.union1d(found[k]["units"], joins)


def _distinct(found):
    """The groups, merged where two of one indicator and window share at least
    half of the smaller one's members (the cliques of one component that its
    completion did not make equal); a merged group holds together at the larger
    of the two bottleneck q-values."""
    keep = []
    for g in found:
        g = dict(g)
        merged = True
        while merged:
            merged = False
            for j, h in enumerate(keep):
                shared = len(np.intersect1d(h["units"], g["units"]))
                if ((h["w"], h["i"]) == (g["w"], g["i"])
                        and 2 * shared >= min(len(h["units"]), len(g["units"]))):
                    del keep[j]
                    weakest = max((h["weakest"], g["weakest"]), key=lambda e: e["q"])
                    g = {"w": g["w"], "i": g["i"], "units": np.union1d(h["units"], g["units"]),
                         "inner": pd.concat([h["inner"], g["inner"]]), "weakest": weakest}
                    merged = True
                    break
        keep.append(g)
    return keep


def _describe(cube, units, i, t, inner, weakest, *, min_agree, recent):
    """A group's figures and sentence, or None when its members agree in fewer
    than ``min_agree`` periods together (or, with ``recent``, not lately)."""
    x = cube.values[units][:, i, t]
    periods = cube.periods[t]
    unit_type = cube.unit_type[units[0]]
    tol = _tolerance(inner)
    filled = np.nan_to_num(x)
    together = ~np.isnan(x).any(axis=0) & (filled != 0).any(axis=0)
    spread = filled.max(axis=0) - filled.min(axis=0)  # read only where ``together``
    exact_votes = (inner["p_equal"] <= inner["p_near"]).mean()
    same = together & (spread == 0)
    close = together & (spread <= 2 * tol)
    exact = exact_votes >= 0.5 and same.sum() >= min_agree
    agree = same if exact else close
    if agree.sum() < min_agree or (recent is not None and not agree[-recent:].any()):
        return None
    w_exact = weakest["p_equal"] <= weakest["p_near"]
    chance = weakest["chance_equal"] if w_exact else weakest["chance_near"]
    type_word = catalogue.unit_type_name(unit_type) or "单位"
    ind_name = catalogue.indicator_name(cube.indicators[i])
    how = "完全相同" if exact else f"彼此相差不超过{figure(spread[agree].max())}"
    months = period_list(periods[agree], with_year=periods[0][:4] != periods[-1][:4])
    others = period_list(periods[~agree], with_year=periods[0][:4] != periods[-1][:4])
    note = ("" if agree.all() else f"（{others}除外）" if (~agree).sum() <= 3
            else f"（{months}）")
    when = f"{period_span(periods)}中有{int(agree.sum())}{count_word(periods)}"
    names = cube.units[units]
    who = names_label(names) + ("等" if len(names) > 2 else "") + f"{len(names)}个{type_word}"
    return {
        "unit_type": unit_type, "observed": float(agree.sum()),
        "expected": float(weakest["n"] * chance),
        "statistic": float(weakest["equal"] if w_exact else weakest["near"]),
        "p_value": float(weakest["p"]), "q_value": float(weakest["q"]),
        "message": f"{who}{when}{ind_name}{how}{note}，疑似相互“保持平衡”",
        "_when": when, "_how": f"{ind_name}{how}{note}", "_type_word": type_word,
    }


def _tolerance(inner) -> float:
    """The near tolerance of a group's pairs (one per indicator and peer group)."""
    return float(inner["tol"].max())


def _member_message(unit, names, row) -> str:
    others = [n for n in names if n != unit]
    who = names_label(others) + (f"等{len(others)}个{row['_type_word']}" if len(others) > 1
                                 else "")
    return f"{unit}与{who}{row['_when']}{row['_how']}，疑似相互“保持平衡”"
