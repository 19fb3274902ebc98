"""identical_values: two units reporting the same vector of figures in one period.

See the package docstring for the conventions every balance check follows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ... import catalogue
from scipy import special, stats
from ...panel import as_panel
from ...findings import empty_findings, severity_from_q
from .common import finish
from .._wording import p_text
from .._stats import bh_of_smallest


# ----------------------------------------------------------------- identical_values


def tie_chance(ma, va, mb, vb, count) -> np.ndarray:
    """Chance that two independent figures with these means and variances are equal.
    Counts: the larger of the Poisson value Σ_k Pois(k;a)Pois(k;b) =
    exp(−(√a−√b)²)·I0e(2√ab) and a normal one, P(|X_a − X_b| < ½) with variances
    floored at the mean (so a steady unit is not treated as a noisy one).  Measured
    figures (万元 …, two decimals): the normal one with resolution 0.005; an unknown
    variance counts as CV 1."""
    ma, mb = np.asarray(ma, float), np.asarray(mb, float)
    count = np.asarray(count, bool)
    va = np.where(np.isnan(va), np.where(count, ma, ma ** 2), va)
    vb = np.where(np.isnan(vb), np.where(count, mb, mb ** 2), vb)
    va, vb = np.where(count, np.maximum(va, ma), va), np.where(count, np.maximum(vb, mb), vb)
    pois = np.exp(-(np.sqrt(ma) - np.sqrt(mb)) ** 2) * special.ive(0, 2 * np.sqrt(ma * mb))
    r = np.where(count, 0.5, 0.005)
    d = np.abs(ma - mb)
    s = np.sqrt(va + vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(s > 0, stats.norm.cdf((d + r) / s) - stats.norm.cdf((d - r) / s),
                        (d < r).astype(float))
    return np.where(count, np.maximum(pois, norm), norm)


def _rule_components() -> dict[str, str]:
    """Indicator → a representative of its group of indicators linked by the
    catalogue's rules (found, rectified and their parts; sessions and persons;
    drills and drill enterprises; penalties and fines …).  Ties inside a group are
    not independent evidence."""
    parent: dict[str, str] = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for rule in catalogue.RULES.itertuples(index=False):  # the rule catalogue, not units
        if rule.kind == "monotone":
            continue
        for code in rule.lhs:
            parent[root(code)] = root(rule.rhs)
    return {code: root(code) for code in parent}


_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd, 2⁶⁴/φ: spreads each step over all bits
_BLOCK = 4096  # units per block: a block's unit × period arrays stay in cache


def _filled(x: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Figures as compared: −1 where not reported (values are never negative, as
    the long-frame hash this replaces had it) and −0.0 read as 0.0."""
    out = np.where(missing, -1.0, x)
    out += 0.0
    return out


def _row_hashes(values: np.ndarray, window: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each unit and period of ``window``: a 64-bit hash of the unit's row of
    figures over the indicators, the number reported and the number above 0 (each
    [unit, period]).  Blocks of units, each a pass over the indicators, so no
    temporary is larger than a block's unit × period array."""
    n_u, n_i, _ = values.shape
    n_w = len(range(*window.indices(values.shape[2])))
    h = np.zeros((n_u, n_w), dtype=np.uint64)
    miss = np.zeros((n_u, n_w), dtype=np.int32)
    nz = np.zeros((n_u, n_w), dtype=np.int32)
    shift = np.uint64(32)
    for lo in range(0, n_u, _BLOCK):  # blocks of units, for the cache, not one per unit
        hb, mb, nzb = h[lo:lo + _BLOCK], miss[lo:lo + _BLOCK], nz[lo:lo + _BLOCK]
        for i in range(n_i):  # the indicator axis (≤ 40)
            x = values[lo:lo + _BLOCK, i, window]
            missing = np.isnan(x)
            mb += missing
            nzb += x > 0
            # xor in the figure's bits, multiply, fold the high half down: every
            # bit of every figure reaches the low bits (multiplication alone only
            # carries bits upwards, and small whole numbers vary only in high bits)
            hb ^= _filled(x, missing).view(np.uint64)
            hb *= _MUL
            hb ^= hb >> shift
    return h, n_i - miss, nz


def _ties(values: np.ndarray, window: slice, eligible: np.ndarray, h: np.ndarray,
          k: np.ndarray):
    """Groups of eligible (unit, period) cells with exactly equal rows and equal
    numbers reported: the cells' unit, period position (on the cube's axis) and
    group id, sorted by group then unit.  Hashes only nominate candidates; the rows
    are compared exactly, so a hash collision never makes a tie."""
    n_w = h.shape[1]
    cell = np.flatnonzero(eligible)
    cu, ct = np.divmod(cell, n_w)
    # the period folded into the hash: one sort brings each period's equal rows together
    ch = (h.ravel()[cell] ^ ct.astype(np.uint64)) * _MUL
    order = np.argsort(ch)
    cu, ct, ch = cu[order], ct[order], ch[order]
    same = ch[1:] == ch[:-1]
    cand = np.zeros(len(cell), dtype=bool)
    cand[1:] |= same
    cand[:-1] |= same
    cu, ct = cu[cand], ct[cand]
    empty = np.zeros(0, dtype=np.int64)
    if not len(cu):
        return empty, empty, empty
    t_axis = np.arange(values.shape[2])[window][ct]
    x = values[cu, :, t_axis]  # [candidate, indicator]
    key = np.column_stack([ct.astype(float), k[cu, ct].astype(float),
                           _filled(x, np.isnan(x))])
    _, grp, size = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    grp = grp.ravel()
    keep = size[grp] >= 2
    cu, ct, grp = cu[keep], t_axis[keep], grp[keep]
    order = np.lexsort((cu, grp))
    return cu[order], ct[order], grp[order]


def _pairs_within(grp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (a, b), a < b, of every pair of members of the same group, for
    members sorted by group."""
    n = len(grp)
    if not n:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
    ends = np.r_[starts[1:], n]
    end_of = np.repeat(ends, ends - starts)
    later = end_of - np.arange(n) - 1  # members after each one in its group
    a = np.repeat(np.arange(n), later)
    first = np.cumsum(later) - later  # where each member's run of partners starts
    b = a + 1 + (np.arange(len(a)) - np.repeat(first, later))
    return a, b


def _unit_moments(values: np.ndarray, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance (ddof 1; NaN with fewer than two figures) of each of
    ``units``' series per indicator over the cube's periods (the window up to P),
    reported figures only: what a group-by of the long frame on unit × indicator
    gives.  [len(units), indicator] each."""
    sub = values[units]
    n = (~np.isnan(sub)).sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.nansum(sub, axis=2) / n
        dev = np.nansum((sub - mean[:, :, None]) ** 2, axis=2)
        var = np.where(n > 1, dev / (n - 1), np.nan)
    return mean, var


def identical_values(panel, *, period=None,
                     min_indicators: int = 5, min_nonzero: int = 5, info_p: float = 1e-4,
                     alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """Units that report exactly the same figures as another unit in the same period.

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures.  Not modified.
    period : str, optional
        Report on this period (each unit's own level is estimated from its periods of
        P's frequency up to P); None: every period.
    min_indicators : int
        Two units tie only when they report the same set of at least this many
        indicators with equal values on every one.
    min_nonzero : int
        ... of which at least this many above 0.
    info_p : float
        Rows with a raw p below this are returned as ``info`` when not significant.
    alert, warning : float
        Severity from the Benjamini–Hochberg q-value.

    Returns
    -------
    Findings, one row per tied unit and period: observed = the number of indicators
    tied, statistic = −log10 of the pair's chance, p_value = that chance (the
    smallest over the unit's partners), q_value its BH value over all pairs of
    eligible units.

    Notes
    -----
    Null model: each unit's figure on an indicator is an independent draw around that
    unit's own mean over the periods (up to P), Poisson or normal with the unit's own
    variance (``tie_chance``), so a pair ties with probability Π_j c_j over the
    indicators tied at a value above 0 (shared zeros are not evidence: idle small
    units share them, and a zero total forces zero parts).  Indicators linked by a
    catalogue rule (found and rectified, sessions and persons …) are not independent:
    each such group contributes only its smallest c_j.  Using each unit's own level
    matters: two small units tie on small figures far more often than the spread of
    all peers suggests.  BH runs over *all* pairs of eligible units in the period(s),
    tied or not.  Ties are found by hashing each unit's row of figures and confirmed
    by comparing the rows exactly.
    """
    cube = as_panel(panel).series(period)
    n_u, n_i, n_t = cube.shape
    if period is not None:
        t_p = cube.period_index(period)
        window = slice(0, 0) if t_p is None else slice(t_p, t_p + 1)
    else:
        window = slice(0, n_t)
    if window.stop <= window.start or not n_u or not n_i:
        return empty_findings()
    values = cube.values
    h, k, nz = _row_hashes(values, window)
    # A unit that reported nothing in a period has no row there at all.
    eligible = (k >= max(min_indicators, 1)) & (nz >= min_nonzero)
    n_elig = eligible.sum(axis=0).astype(np.int64)
    n_tests = int((n_elig * (n_elig - 1) // 2).sum())
    cu, ct, grp = _ties(values, window, eligible, h, k)
    del h, nz, eligible
    ia, ib = _pairs_within(grp)
    if not len(ia):
        return empty_findings()
    ua, ub, pt = cu[ia], cu[ib], ct[ia]
    # The indicators of the tied vector (the same for both units), each with its
    # chance.  Shared zeros carry no evidence: small units are idle on most
    # indicators, and a zero total forces zero parts (rectified, by source,
    # persons), so zeros would be counted many times over.
    tied_row = values[ua, :, pt]  # [pair, indicator]
    pos = tied_row > 0
    pair_units, inv = np.unique(np.concatenate([ua, ub]), return_inverse=True)
    mean, var = _unit_moments(values, pair_units)
    ma, mb = inv[:len(ua)], inv[len(ua):]
    pi, ji = np.nonzero(pos)
    chance = tie_chance(mean[ma[pi], ji], var[ma[pi], ji], mean[mb[pi], ji], var[mb[pi], ji],
                         cube.count_indicators()[ji])
    lp = np.full(pos.shape, np.inf)
    lp[pi, ji] = np.log(np.clip(chance, 1e-300, 1.0))
    # Within a group of rule-linked indicators only the strongest tie counts (a valid
    # bound: tying on all of them is no likelier than tying on one); groups multiply.
    # +inf marks an indicator not tied above 0; a NaN chance is skipped as a
    # group-by skips it.
    # Groups are summed in the order of their names with compensated (Kahan)
    # summation, as the pandas group-by this replaces did, so that p-values (and the
    # order of rows with nearly equal ones) follow it to rounding.
    groups = _rule_components()
    gid = pd.factorize(np.array([groups.get(c, c) for c in cube.indicators], dtype=object),
                       sort=True)[0]
    logp, comp = np.zeros(len(ua)), np.zeros(len(ua))
    for g in np.unique(gid):  # a loop over the catalogue's indicator groups
        m = np.fmin.reduce(lp[:, gid == g], axis=1)
        y = np.where(np.isfinite(m), m, 0.0) - comp
        t = logp + y
        comp = (t - logp) - y
        logp = t
    keep = pos.any(axis=1)  # a pair tied only on zeros has no chance to report
    ua, ub, pt, logp = ua[keep], ub[keep], pt[keep], logp[keep]
    if not len(ua):
        return empty_findings()
    p = np.exp(logp)
    q = bh_of_smallest(p, n_tests)
    # Each unit of a pair gets a row naming its partners: sorted by period, unit and
    # partner (name order is axis order), one row per run of period and unit.
    unit, partner = np.concatenate([ua, ub]), np.concatenate([ub, ua])
    t2, p2, q2 = np.concatenate([pt, pt]), np.concatenate([p, p]), np.concatenate([q, q])
    order = np.lexsort((partner, unit, t2))
    unit, partner, t2, p2, q2 = unit[order], partner[order], t2[order], p2[order], q2[order]
    starts = np.flatnonzero(np.r_[True, (unit[1:] != unit[:-1]) | (t2[1:] != t2[:-1])])
    ends = np.r_[starts[1:], len(unit)]
    p_row = np.minimum.reduceat(p2, starts)
    q_row = np.minimum.reduceat(q2, starts)
    # Only rows that finish keeps are turned into text.
    shown = np.flatnonzero((severity_from_q(q_row, alert=alert, warning=warning) != "info")
                           | (p_row < info_p))
    if not len(shown):
        return empty_findings()
    names = cube.units
    r_unit, r_t = unit[starts[shown]], t2[starts[shown]]
    partners = ["、".join(names[partner[s:e]]) for s, e in zip(starts[shown], ends[shown])]
    out = pd.DataFrame({"period": pd.array(cube.periods[r_t], dtype="str"),
                        "unit": pd.array(names[r_unit], dtype="str"),
                        "observed": k[r_unit, r_t - window.start].astype(np.int64),
                        "p_value": p_row[shown], "q_value": q_row[shown],
                        "partners": pd.array(partners, dtype="str")})
    out["unit_type"] = pd.array(cube.unit_type[r_unit], dtype="str")
    out["statistic"] = -np.log10(out["p_value"].clip(lower=1e-300))
    out["message"] = (out["unit"] + out["period"] + "报送的" + out["observed"].astype(int).astype(str)
                      + "项指标数据与" + out["partners"] + "完全相同，按两单位各自的常态随机雷同的概率约为"
                      + out["p_value"].map(p_text))
    return finish(out.drop(columns="partners"), "identical_values", info_p=info_p,
                   alert=alert, warning=warning)
