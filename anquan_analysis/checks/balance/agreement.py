"""Pairs of units whose figures agree period by period, and the chance of it.

The pair statistics behind ``matching_series``, for one indicator at a time on a
units × periods matrix (NaN = not reported), vectorised over every pair of units
of every peer group at once, a chunk of pairs at a time:

* **agreement counts** (``same_period_counts``): the periods both reported, not
  both 0 (N), those with equal figures and those within ± the group's tolerance;
* **agreement chance** (``cross_period_chance``): the share of all pairs of
  periods (s, t), one of each unit's own reported periods, not both 0, in which
  the two figures agree.  It is each unit's own distribution of figures over the
  window, Σₖ f_a(k)·f_b(k) (for ± tol: Σₖ f_a(k)·F_b[k−tol, k+tol]) with both
  zeros left out, computed from cumulative counts over the group's distinct
  figures, never from a rate pooled over units;
* **tail** (``binomial_tail``): P(Bin(N, p) ≥ A).

Why the units' own periods all count, the agreeing ones included: that share is
the expected agreement when each unit's months are reshuffled (the permutation
mean), so the test asks whether the months are matched more than a reshuffle of
each unit's own figures would match them.  Leaving the agreeing periods out
(leave-one-out) gives a figure that occurs once in each series and agrees a
chance of 0, so that two honest units sharing one unusual figure become
"impossible"; simulated honest districts (Poisson, gamma-Poisson, quota and
floor indicators) then flag hundreds of pairs, against none this way.  The price
is some power: a shared figure raises its own chance by about (1 − Σf²)/T.
"""

from __future__ import annotations

import numpy as np
from scipy import special

# Pairs per chunk: the per-chunk arrays are pairs × periods, a few tens of MB.
PAIR_CHUNK = 1 << 16


def pairs_within(gid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of units with the same group id (ids < 0 are in no group).

    Parameters
    ----------
    gid : numpy.ndarray of int
        Group id per unit.

    Returns
    -------
    (a, b) : arrays of unit positions, a < b, sorted by group then a then b.
    """
    units = np.flatnonzero(gid >= 0)
    units = units[np.argsort(gid[units], kind="stable")]
    g = gid[units]
    n = len(units)
    if n < 2:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], n]
    later = np.repeat(ends, ends - starts) - np.arange(n) - 1  # partners after each
    first = np.repeat(np.arange(n), later)
    offset = np.arange(len(first)) - np.repeat(np.cumsum(later) - later, later)
    return units[first], units[first + 1 + offset]


def binomial_tail(agree, n, p) -> np.ndarray:
    """P(X ≥ agree) for X ~ Binomial(n, p), elementwise; 1 where agree ≤ 0.

    Parameters
    ----------
    agree, n : array of int
        Successes observed and trials (agree ≤ n).
    p : array of float
        Chance of a success in each trial.

    Returns
    -------
    numpy.ndarray of float: the upper tail, via the regularised incomplete beta
    I_p(agree, n − agree + 1).
    """
    agree, n, p = np.broadcast_arrays(np.asarray(agree, float), np.asarray(n, float),
                                      np.clip(np.asarray(p, float), 0.0, 1.0))
    out = np.ones(agree.shape)
    pos = agree > 0
    out[pos] = special.betainc(agree[pos], n[pos] - agree[pos] + 1.0, p[pos])
    return out


def group_tolerance(values: np.ndarray, gid: np.ndarray, n_groups: int,
                    rel_tol: float) -> np.ndarray:
    """The ± tolerance of each group: max(1, ⌊rel_tol × the median over its units
    of each unit's median figure above 0⌋).  One per group, so that agreement
    within it is one band over the group's figures; a unit's median, so that a
    few large months do not set it."""
    positive = np.where(values > 0, values, np.nan)
    level = np.full(len(values), np.nan)
    some = ~np.isnan(positive).all(axis=1)
    level[some] = np.nanmedian(positive[some], axis=1)
    tol = np.ones(n_groups)
    ok = (gid >= 0) & ~np.isnan(level)
    if ok.any():
        order = np.lexsort((level[ok], gid[ok]))
        g, lv = gid[ok][order], level[ok][order]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        sizes = np.diff(np.r_[starts, len(g)])
        mid = lv[starts + (sizes - 1) // 2] / 2 + lv[starts + sizes // 2] / 2
        tol[g[starts]] = np.maximum(1.0, np.floor(rel_tol * mid))
    return tol


class CrossTable:
    """Cumulative counts of each unit's figures over its group's distinct figures,
    and, per unit and period, where the figure and its ± tolerance band start and
    end on that axis: what ``cross_period_chance`` looks up.

    Built once per indicator for the units in a group (gid ≥ 0)."""

    def __init__(self, values: np.ndarray, gid: np.ndarray, tol: np.ndarray):
        n_u, n_t = values.shape
        seen = ~np.isnan(values) & (gid >= 0)[:, None]
        u_idx, t_idx = np.nonzero(seen)
        v = values[u_idx, t_idx]
        g = gid[u_idx]
        # One sorted axis of (group, figure) keys; a group's figures are a run of it.
        keys = np.unique(np.stack([g.astype(np.float64), v]), axis=1)
        kg, kv = keys
        g_start = np.searchsorted(kg, np.arange(int(gid.max()) + 2 if len(gid) else 1))
        width = np.zeros(n_u, dtype=np.int64)  # axis length + 1 per unit (its row)
        member = gid >= 0
        width[member] = g_start[gid[member] + 1] - g_start[gid[member]] + 1
        self.offset = np.cumsum(width) - width
        # Local position of every (group, figure) key inside its group.
        local = np.arange(len(kg)) - g_start[kg.astype(np.intp)]
        pos = local[self._search(kg, kv, g, v, "left")]
        counts = np.zeros(int(width.sum()) + 1, dtype=np.int32)
        np.add.at(counts, self.offset[u_idx] + pos + 1, 1)
        # Cumulative over the flat array: differences within a row are the row's
        # cumulative counts (the rows' starting values cancel).
        self.cum = np.cumsum(counts, dtype=np.int32)
        # Per unit and period: [lo, hi) of the exact figure and of its ± tol band,
        # as positions on the group's axis (0, 0 where the unit did not report).
        self.eq_lo = np.zeros((n_u, n_t), dtype=np.int32)
        self.eq_hi = np.zeros((n_u, n_t), dtype=np.int32)
        self.near_lo = np.zeros((n_u, n_t), dtype=np.int32)
        self.near_hi = np.zeros((n_u, n_t), dtype=np.int32)
        # Row position j + 1 holds the count of local figure j: cum[row + hi] −
        # cum[row + lo] counts the figures lo .. hi − 1.
        self.eq_lo[u_idx, t_idx] = pos
        self.eq_hi[u_idx, t_idx] = pos + 1
        band = tol[g]
        first = g_start[g]
        lo = self._search(kg, kv, g, v - band, "left") - first
        hi = self._search(kg, kv, g, v + band, "right") - first
        self.near_lo[u_idx, t_idx] = lo
        self.near_hi[u_idx, t_idx] = hi
        self.n_reported = seen.sum(axis=1)
        self.n_zero = (seen & (values == 0)).sum(axis=1)

    @staticmethod
    def _search(kg, kv, g, v, side):
        """Position in the sorted (group, figure) keys of (g, v): keys are sorted by
        group then figure, so search the figure inside the group's own run."""
        # Shift each group's figures to its own band of the real line: groups are
        # whole numbers, figures are spread over [0, span) after subtracting the
        # smallest, so (group × span + figure − low) is sorted like the keys.
        low = min(float(kv.min()), float(v.min())) if len(v) else 0.0
        span = max(float(kv.max()), float(v.max())) - low + 1.0 if len(v) else 1.0
        ref = kg * span + (kv - low)
        q = g * span + np.clip(v - low, -0.5, span - 0.5)
        return np.searchsorted(ref, q, side=side)

    def count(self, a: np.ndarray, b: np.ndarray, near: bool) -> np.ndarray:
        """Per pair: the number of (s, t), s a period of unit a and t one of unit b,
        both reported, whose figures are equal (``near``: within the tolerance)."""
        lo = self.near_lo if near else self.eq_lo
        hi = self.near_hi if near else self.eq_hi
        base = self.offset[b][:, None]
        return (self.cum[base + hi[a]] - self.cum[base + lo[a]]).sum(axis=1, dtype=np.int64)


def cross_period_chance(table: CrossTable, a: np.ndarray, b: np.ndarray,
                        near: bool) -> np.ndarray:
    """Chance that the figures of units a and b agree in a period, not both 0,
    from each unit's own figures over the window (see the module docstring):
    (K − Z)/(M − Z) with K the pairs of periods (s, t) whose figures agree, Z those
    where both are 0 and M all pairs; 1 where every pair of periods is (0, 0)."""
    k = table.count(a, b, near).astype(np.float64)
    zero = table.n_zero[a].astype(np.float64) * table.n_zero[b]
    m = table.n_reported[a].astype(np.float64) * table.n_reported[b]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = (k - zero) / (m - zero)
    return np.where(m > zero, p, 1.0)


def same_period_counts(values: np.ndarray, a: np.ndarray, b: np.ndarray,
                       tol: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair (a, b): N, the periods both reported and not both 0; the periods
    among them with equal figures; and those within ± ``tol`` (one per pair)."""
    va, vb = values[a], values[b]
    diff = np.abs(va - vb)  # NaN where either did not report: every test is False
    both_zero = ((va == 0) & (vb == 0)).sum(axis=1)
    both = (~np.isnan(diff)).sum(axis=1)
    equal = (diff == 0).sum(axis=1) - both_zero
    near = (diff <= tol[:, None]).sum(axis=1) - both_zero
    return both - both_zero, equal, near


def consensus_series(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """The figure a group agreed, period by period: the median of its members'
    figures rounded to a whole number (NaN where fewer than half reported)."""
    x = values[members]
    reported = (~np.isnan(x)).sum(axis=0)
    out = np.full(values.shape[1], np.nan)
    ok = reported * 2 >= len(members)
    if ok.any():
        out[ok] = np.round(np.nanmedian(x[:, ok], axis=0))
    return out


def against_series(values: np.ndarray, units: np.ndarray, series: np.ndarray,
                   tol: float):
    """Each of ``units`` against one series (a group's consensus), as a pair:
    N, equal and near periods (``same_period_counts``) and the two chances of
    agreement from the unit's own figures and the series' own
    (``cross_period_chance``).  Returns (n, equal, near, chance_equal, chance_near)."""
    x = values[units]
    s = series[None, :]
    diff = np.abs(x - s)
    both_zero = ((x == 0) & (s == 0)).sum(axis=1)
    n = (~np.isnan(diff)).sum(axis=1) - both_zero
    equal = (diff == 0).sum(axis=1) - both_zero
    near = (diff <= tol).sum(axis=1) - both_zero
    sv = series[~np.isnan(series)]
    cross = np.abs(x[:, :, None] - sv[None, None, :])  # units × periods × series figures
    zero = (x == 0).sum(axis=1) * float((sv == 0).sum())
    m = (~np.isnan(x)).sum(axis=1) * float(len(sv))
    chances = []
    for band in (0.0, tol):
        k = (cross <= band).sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            chances.append(np.where(m > zero, (k - zero) / (m - zero), 1.0))
    return n, equal, near, chances[0], chances[1]
