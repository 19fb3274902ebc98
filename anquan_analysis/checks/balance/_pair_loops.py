"""The compiled loops behind ``agreement.PairAgreement`` (numba): pair by pair of
units, the periods in which their figures agree, and the pairs of periods (s, t),
one of each unit's own, in which they do.

A pair costs one pass over its periods and one merge of the two units' sorted
distinct figures, so that the national panel's millions of pairs cost no
temporaries of pairs × periods.  ``agreement`` imports this module on first use,
so that importing the package does not load numba; the machine code is cached
beside this file (``cache=True``): only the first call on a machine compiles.

Conventions of every function: ``values`` is units × periods, float64, NaN where
a unit reported nothing; a unit with ``gid < 0`` counts as having reported
nothing; ``tol`` is each unit's ± tolerance (its group's); near means
|x − y| ≤ tol, equal x == y (NaN equals nothing)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def unit_figures(ordered, gid):
    """Each unit's distinct figures, ascending, with the periods of each, from
    its figures sorted (``ordered``: each row of ``values`` sorted, NaN last;
    numpy's sort of all rows at once is several times faster than a sort per row
    here).

    Returns
    -------
    start : int64 (units + 1,)
        Unit u's figures are ``figures[start[u]:start[u + 1]]``.
    figures : float64
    total : int64 (len(figures) + 1,)
        Running count of periods: the periods of a run of figures i … j − 1 are
        ``total[j] − total[i]``.
    reported, zero : int64 (units,)
        The periods each unit reported, and those it reported 0.
    """
    n_u, n_t = ordered.shape
    start = np.zeros(n_u + 1, np.int64)
    # written only up to the distinct figures (a few per unit): untouched pages
    # of these cost nothing
    figures = np.empty(n_u * n_t, np.float64)
    total = np.empty(n_u * n_t + 1, np.int64)
    total[0] = 0
    reported = np.zeros(n_u, np.int64)
    zero = np.zeros(n_u, np.int64)
    at = 0
    for u in range(n_u):
        start[u] = at
        if gid[u] < 0:
            continue
        k = z = 0
        for t in range(n_t):
            x = ordered[u, t]
            if np.isnan(x):
                break
            k += 1
            z += x == 0
            if t == 0 or x != ordered[u, t - 1]:
                figures[at] = x
                at += 1
                total[at] = total[at - 1]
            total[at] += 1
        reported[u], zero[u] = k, z
    start[n_u] = at
    return start, figures[:at].copy(), total[:at + 1].copy(), reported, zero


@njit(cache=True, nogil=True)
def positive_medians(ordered):
    """The median of each row's figures above 0, NaN for a row without one, from
    the rows sorted (NaN last): those figures are one run after the ones ≤ 0.
    The median of an even run is (lo + hi) / 2."""
    n_u, n_t = ordered.shape
    out = np.full(n_u, np.nan)
    for u in range(n_u):
        low = top = 0
        for t in range(n_t):
            x = ordered[u, t]
            low += x <= 0
            top += x == x
        k = top - low
        if k > 0:
            out[u] = (ordered[u, low + (k - 1) // 2] + ordered[u, low + k // 2]) / 2
    return out


@njit(cache=True, nogil=True)
def same_period(values, gid, tol, a, b):
    """Per pair (a[j], b[j]): the periods both reported, those both 0, those with
    equal figures and those within ± tol (the last two with the periods both 0)."""
    n_t = values.shape[1]
    m = len(a)
    both = np.zeros(m, np.int64)
    both_zero = np.zeros(m, np.int64)
    equal = np.zeros(m, np.int64)
    near = np.zeros(m, np.int64)
    for j in range(m):
        u, v = a[j], b[j]
        if gid[u] < 0 or gid[v] < 0:
            continue
        band = tol[u]
        nb = nz = ne = nn = 0
        # no branch in the loop (NaN compares False): it runs as vector code
        for t in range(n_t):
            x = values[u, t]
            y = values[v, t]
            nb += (x == x) & (y == y)
            ne += x == y
            nz += (x == 0) & (y == 0)
            nn += abs(x - y) <= band
        both[j], both_zero[j], equal[j], near[j] = nb, nz, ne, nn
    return both, both_zero, equal, near


@njit(cache=True, nogil=True)
def cross_period(start, figures, total, tol, a, b):
    """Per pair: the pairs of periods (s, t), s reported by a and t by b, whose
    figures are equal, Σₖ f_a(k)·f_b(k), and those within ± tol,
    Σₖ f_a(k)·F_b[k − tol, k + tol] (as counts of periods, not shares).

    One merge of the two units' sorted figures: a pointer for the equal figure
    and a window [lo, hi) of b's figures within the tolerance, all moving
    forward only as a's figures rise."""
    m = len(a)
    equal = np.zeros(m, np.float64)
    near = np.zeros(m, np.float64)
    for j in range(m):
        u, v = a[j], b[j]
        band = tol[u]
        first, stop = start[v], start[v + 1]
        lo = hi = at = first
        ne = nn = 0
        for i in range(start[u], start[u + 1]):
            x = figures[i]
            c = total[i + 1] - total[i]
            # x − y > tol and y − x ≤ tol are |x − y| ≤ tol exactly, and each is
            # monotone in y: the window is one run of b's figures
            while lo < stop and x - figures[lo] > band:
                lo += 1
            hi = max(hi, lo)
            while hi < stop and figures[hi] - x <= band:
                hi += 1
            nn += c * (total[hi] - total[lo])
            while at < stop and figures[at] < x:
                at += 1
            if at < stop and figures[at] == x:
                ne += c * (total[at + 1] - total[at])
        equal[j], near[j] = ne, nn
    return equal, near
