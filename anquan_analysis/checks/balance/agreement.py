"""Pairs of units whose figures agree period by period, and the chance of it.

The pair statistics behind ``matching_series``, for one indicator at a time on a
units × periods matrix (NaN = not reported), for every pair of units of every
peer group at once (``PairAgreement``):

* **agreement counts**: the periods both reported, not both 0 (N), those with
  equal figures and those within ± the group's tolerance;
* **agreement chance**: the share of all pairs of periods (s, t), one of each
  unit's own reported periods, not both 0, in which the two figures agree.  It
  is each unit's own distribution of figures over the window, Σₖ f_a(k)·f_b(k)
  (for ± tol: Σₖ f_a(k)·F_b[k−tol, k+tol]) with both zeros left out, never a
  rate pooled over units;
* **tail** (``binomial_tail``): P(Bin(N, p) ≥ A).

Why the units' own periods all count, the agreeing ones included: that share is
the expected agreement when each unit's months are reshuffled (the permutation
mean), so the test asks whether the months are matched more than a reshuffle of
each unit's own figures would match them.  Leaving the agreeing periods out
(leave-one-out) gives a figure that occurs once in each series and agrees a
chance of 0, so that two honest units sharing one unusual figure become
"impossible": in 20 simulated honest districts of 40 units × 12 months each
(Poisson, gamma-Poisson, drills = enterprises + Poisson(2)) leave-one-out gives
47 to 79 pairs with q < 0.05, this way none
(tests/reference/balance_null_districts.py).  The price is some power: a shared
figure raises its own chance by about (1 − Σf²)/T.
"""

from __future__ import annotations

import numpy as np
from scipy import special


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


def tail_lower_bound(agree, n, p) -> np.ndarray:
    """A lower bound of P(Bin(n, p) ≥ agree), cheap enough for every pair: 1/2 at
    or below ⌊np⌋ (a binomial's median is at least ⌊np⌋), above it
    exp(−n·D(agree/n ‖ p)) / √(2n) (Ash 1990, with 8k(1 − k/n) ≤ 2n), where D is
    the Kullback–Leibler divergence between Bernoullis.  Used to skip the exact
    tail of pairs that cannot reach a threshold."""
    agree, n, p = np.broadcast_arrays(np.asarray(agree, float), np.asarray(n, float),
                                      np.clip(np.asarray(p, float), 1e-300, 1.0))
    out = np.full(agree.shape, 0.5)
    up = np.flatnonzero(agree > np.floor(n * p))
    k, m, q = agree[up], n[up], p[up]
    frac = k / m
    with np.errstate(divide="ignore", invalid="ignore"):
        d = frac * np.log(frac / q)
        rest = frac < 1.0
        d[rest] += (1.0 - frac[rest]) * np.log((1.0 - frac[rest]) / (1.0 - q[rest]))
        bound = np.exp(-m * d) / np.sqrt(2.0 * m)
    out[up] = np.where(np.isfinite(bound), bound, 0.0)
    return out


def group_tolerance(values: np.ndarray, gid: np.ndarray, n_groups: int,
                    rel_tol: float) -> np.ndarray:
    """The ± tolerance of each group: max(1, ⌊rel_tol × the median over its units
    of each unit's median figure above 0⌋).  One per group, so that agreement
    within it is one band over the group's figures; a unit's median, so that a
    few large months do not set it."""
    level = _loops().positive_medians(np.sort(values, axis=1))
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


class PairAgreement:
    """Agreement between every two units of a group, one indicator: built once
    from the units × periods figures, read for the pairs asked.

    Pair by pair in compiled loops (``_pair_loops``): the same-period counts in
    one pass over the two units' periods; the cross-period counts in one merge
    of the two units' distinct figures (sorted, with the periods of each, made
    once per unit), a window of the other unit's figures sliding along for
    agreement within the tolerance.  Only the pairs that agree within it in some
    period (``candidates``) are ever merged.

    Parameters
    ----------
    values : numpy.ndarray, shape (units, periods)
        Figures, NaN where not reported.  Not modified.
    gid : numpy.ndarray of int
        Group per unit; units with gid < 0 are in no pair.
    tol : numpy.ndarray of float
        Tolerance of each group (``group_tolerance``).
    pairs : (a, b), optional
        The pairs of units to search for candidates (default ``pairs_within(gid)``).
    """

    def __init__(self, values: np.ndarray, gid: np.ndarray, tol: np.ndarray, pairs=None):
        loops = _loops()
        self._values = np.ascontiguousarray(values, dtype=np.float64)
        self._gid = np.ascontiguousarray(gid, dtype=np.int64)
        # each unit's tolerance (its group's): one read per pair in the loops
        self._tol = np.ascontiguousarray(tol, dtype=np.float64)[np.maximum(self._gid, 0)]
        self.n_units = len(self._values)
        (self._start, self._figures, self._total, self.n_reported,
         self.n_zero) = loops.unit_figures(np.sort(self._values, axis=1), self._gid)
        a, b = _as_pairs(*(pairs if pairs is not None else pairs_within(gid)))
        same = loops.same_period(self._values, self._gid, self._tol, a, b)
        some = np.flatnonzero(same[3] > 0)
        some = some[np.argsort(a[some] * self.n_units + b[some])]  # by key a × units + b
        # Kept for the pairs asked again (matching_series asks N of all of them, then
        # the counts of the candidates), so that no pair's periods are read twice.
        self._searched = (a, b, same[0] - same[1])
        self._candidates = (a[some], b[some], tuple(x[some] for x in same))

    def periods(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Per pair, N: the periods both reported and not both 0."""
        a, b = _as_pairs(a, b)
        if _same_pairs((a, b), self._searched):
            return self._searched[2].copy()
        both, both_zero, _, _ = _loops().same_period(self._values, self._gid, self._tol, a, b)
        return both - both_zero

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """The pairs (a < b, sorted by a then b) whose figures are within the
        tolerance in at least one period (both 0 included): no other pair has an
        agreement to test."""
        return self._candidates[0].copy(), self._candidates[1].copy()

    def counts(self, a: np.ndarray, b: np.ndarray):
        """Per pair (a < b, of one group): N; the periods with equal figures and
        those within the tolerance (both 0 left out); the chance of equal and of
        near figures in a period, (K − Z)/(M − Z) with K the pairs of periods
        (s, t), one reported by each unit, whose figures agree, Z those where both
        are 0 and M all of them (1 where every such pair is (0, 0))."""
        loops = _loops()
        a, b = _as_pairs(a, b)
        if _same_pairs((a, b), self._candidates):
            both, both_zero, equal, near = self._candidates[2]
        else:
            both, both_zero, equal, near = loops.same_period(self._values, self._gid,
                                                             self._tol, a, b)
        cross = loops.cross_period(self._start, self._figures, self._total, self._tol, a, b)
        zero = self.n_zero[a].astype(np.float64) * self.n_zero[b]
        m = self.n_reported[a].astype(np.float64) * self.n_reported[b]
        chances = []
        for k in cross:
            with np.errstate(invalid="ignore", divide="ignore"):
                chances.append(np.where(m > zero, (k - zero) / (m - zero), 1.0))
        return (both - both_zero, equal - both_zero, near - both_zero,
                chances[0], chances[1])


def _loops():
    """The compiled loops, imported on first use: numba loads in about a second."""
    from . import _pair_loops
    return _pair_loops


def _same_pairs(asked, known) -> bool:
    """Whether the pairs asked are those of ``known`` (its first two arrays), in order."""
    return (len(asked[0]) == len(known[0]) and np.array_equal(asked[0], known[0])
            and np.array_equal(asked[1], known[1]))


def _as_pairs(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Unit positions as int64 arrays, one type for the compiled loops."""
    return (np.ascontiguousarray(a, dtype=np.int64), np.ascontiguousarray(b, dtype=np.int64))


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
