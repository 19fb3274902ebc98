"""Compiled loops over each unit's series (numba) behind ``repeated_value``: the
passes of ``floors`` over the figures (``whole_stats``, ``count_below``,
``excess_over``), one (unit, indicator) series at a time with no temporaries the
size of the panel, and the exact run tail of ``runs`` (``tail_rows``).

Conventions of the passes: ``values`` is units × indicators × periods (float64),
``cols`` the periods read (int64 positions), ``is_count`` per indicator; a figure
*counts* when its indicator is a count and it is a whole number ≥ 0 (NaN and ±inf
never do), as ``(x − ⌊x⌋) == 0 and x ≥ 0`` says.

The callers import this module on first use, so that importing the package does
not load numba; the machine code is cached beside this file (``cache=True``): only
the first call on a machine compiles."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def tail_rows(p, free, length, n):
    """P(some run of ``length[r]`` or more equal positive figures among ``n[r]``
    draws) for each row r of ``p`` (rows × positive figures 1, 2, …, zero padded;
    ``free[r]`` the chance of a figure that never counts).  The recursion of
    ``runs._tail_rows``'s docstring, row by row: F_m(k) = p_k·S_{m−1} −
    p_k^L·A_{m−L}(k), S_m = Σ_k F_m(k) + free·S_{m−1}, A_j(k) = S_j − F_j(k), and
    the tail Σ_{s=1}^{n−L+1} Σ_k p_k^L·A_{s−1}(k)."""
    n_rows, n_k = p.shape
    out = np.empty(n_rows)
    n_max = 0
    for r in range(n_rows):
        n_max = max(n_max, n[r])
    S = np.empty(n_max + 1)
    F = np.empty((n_max + 1, n_k))
    pl = np.empty(n_k)
    for r in range(n_rows):
        L, N = length[r], n[r]
        for k in range(n_k):
            pl[k] = p[r, k] ** L
        S[0] = 1.0
        F[0, :] = 0.0
        tail = 0.0
        for m in range(1, N + 1):
            if m <= N - L + 1:  # the first run of L starting at m uses A_{m−1}
                acc = 0.0
                for k in range(n_k):
                    acc += pl[k] * (S[m - 1] - F[m - 1, k])
                tail += acc
            lag = m - L
            total = 0.0
            for k in range(n_k):
                back = S[lag] - F[lag, k] if lag >= 0 else 0.0
                f = p[r, k] * S[m - 1] - pl[k] * back
                if f < 0.0:
                    f = 0.0
                F[m, k] = f
                total += f
            S[m] = total + free[r] * S[m - 1]
        out[r] = min(tail, 1.0)
    return out


@njit(cache=True, nogil=True)
def whole_stats(values, cols, is_count):
    """Per (unit, indicator): the smallest positive counting figure (inf where
    none), the positive counting figures, and all counting figures (0 included)."""
    n_u, n_i = values.shape[0], values.shape[1]
    low = np.full((n_u, n_i), np.inf)
    n_pos = np.zeros((n_u, n_i), np.int64)
    n_whole = np.zeros((n_u, n_i), np.int64)
    for u in range(n_u):
        for i in range(n_i):
            if not is_count[i]:
                continue
            lo, pos, whole = np.inf, 0, 0
            for t in cols:
                x = values[u, i, t]
                if x - np.floor(x) == 0.0 and x >= 0.0:
                    whole += 1
                    if x > 0.0:
                        pos += 1
                        if x < lo:
                            lo = x
            low[u, i], n_pos[u, i], n_whole[u, i] = lo, pos, whole
    return low, n_pos, n_whole


@njit(cache=True, nogil=True)
def count_below(values, cols, is_count, bound):
    """Per (unit, indicator): the counting figures below ``bound[unit, indicator]``
    (none where the bound is NaN)."""
    n_u, n_i = values.shape[0], values.shape[1]
    out = np.zeros((n_u, n_i), np.int64)
    for u in range(n_u):
        for i in range(n_i):
            b = bound[u, i]
            if not is_count[i] or np.isnan(b):
                continue
            c = 0
            for t in cols:
                x = values[u, i, t]
                if x - np.floor(x) == 0.0 and x >= 0.0 and x < b:
                    c += 1
            out[u, i] = c
    return out


@njit(cache=True, nogil=True)
def excess_over(values, cols, is_count, floor):
    """Per (unit, indicator) with a ``floor`` F (not NaN): Σ max(x − F, 0) over the
    counting figures x, and how many they are; 0 and 0 where F is NaN."""
    n_u, n_i = values.shape[0], values.shape[1]
    excess = np.zeros((n_u, n_i))
    count = np.zeros((n_u, n_i))
    for u in range(n_u):
        for i in range(n_i):
            f = floor[u, i]
            if not is_count[i] or np.isnan(f):
                continue
            s, c = 0.0, 0
            for t in cols:
                x = values[u, i, t]
                if x - np.floor(x) == 0.0 and x >= 0.0:
                    c += 1
                    if x > f:
                        s += x - f
            excess[u, i], count[u, i] = s, c
    return excess, count


@njit(cache=True, nogil=True)
def past_moments(x, n_past):
    """Per unit (row of ``x``, units × periods): whether it reported every period
    (no NaN), and over its first ``n_past`` periods the mean, the sample variance and
    the second, third and fourth central moments (divided by n_past); zeros for a
    unit with a gap.  ``underdispersion``'s members and their past."""
    n_u, n_t = x.shape
    full = np.zeros(n_u, np.bool_)
    mu = np.zeros(n_u)
    var = np.zeros(n_u)
    m2 = np.zeros(n_u)
    m3 = np.zeros(n_u)
    m4 = np.zeros(n_u)
    for u in range(n_u):
        ok = True
        for t in range(n_t):
            if np.isnan(x[u, t]):
                ok = False
                break
        if not ok:
            continue
        full[u] = True
        s = 0.0
        for t in range(n_past):
            s += x[u, t]
        m = s / n_past
        s2 = s3 = s4 = 0.0
        for t in range(n_past):
            d = x[u, t] - m
            d2 = d * d
            s2 += d2
            s3 += d2 * d
            s4 += d2 * d2
        mu[u], var[u] = m, s2 / (n_past - 1)
        m2[u], m3[u], m4[u] = s2 / n_past, s3 / n_past, s4 / n_past
    return full, mu, var, m2, m3, m4


@njit(cache=True, nogil=True)
def multiple_stats(values, is_count, approx, has_approx, min_value, lcm, moduli):
    """Per series (unit, indicator) with a counting figure ≥ ``min_value`` (not
    approximate where ``has_approx``): its unit and indicator, those figures' count
    and, per modulus, how many are multiples of it; the periods reported, their mean
    and sample variance (two passes); the first and last period reported.
    ``multiples.series_stats`` computed."""
    n_u, n_i, n_t = values.shape
    n_m = len(moduli)
    # which remainders by the lcm are multiples of each modulus: a table (for an lcm
    # up to 2^20), so that a figure costs one remainder whatever the moduli
    span = np.int64(lcm)
    use_table = span <= (1 << 20)
    table = np.zeros((span if use_table else 0, n_m), np.int64)
    for rest in range(table.shape[0]):
        for j in range(n_m):
            if rest % moduli[j] == 0:
                table[rest, j] = 1
    size = 0
    for u in range(n_u):
        for i in range(n_i):
            if not is_count[i]:
                continue
            for t in range(n_t):
                x = values[u, i, t]
                if (x >= min_value and x - np.floor(x) == 0.0
                        and not (has_approx and approx[u, i, t])):
                    size += 1
                    break
    uu = np.empty(size, np.int64)
    ii = np.empty(size, np.int64)
    n = np.zeros(size, np.int64)
    k = np.zeros((size, n_m), np.int64)
    n_rep = np.zeros(size, np.int64)
    mean = np.empty(size)
    var = np.empty(size)
    first = np.zeros(size, np.int64)
    last = np.zeros(size, np.int64)
    r = 0
    for u in range(n_u):
        for i in range(n_i):
            if not is_count[i]:
                continue
            c = 0
            for t in range(n_t):
                x = values[u, i, t]
                if (x >= min_value and x - np.floor(x) == 0.0
                        and not (has_approx and approx[u, i, t])):
                    c += 1
                    rest = np.int64(np.fmod(x, lcm))
                    for j in range(n_m):
                        if use_table:
                            k[r, j] += table[rest, j]
                        elif rest % moduli[j] == 0:
                            k[r, j] += 1
            if c == 0:
                continue
            uu[r], ii[r], n[r] = u, i, c
            s, rep, f, l = 0.0, 0, -1, 0
            for t in range(n_t):
                x = values[u, i, t]
                if not np.isnan(x):
                    s += x
                    rep += 1
                    if f < 0:
                        f = t
                    l = t
            m = s / rep
            ss = 0.0
            for t in range(n_t):
                x = values[u, i, t]
                if not np.isnan(x):
                    ss += (x - m) * (x - m)
            n_rep[r], mean[r], first[r], last[r] = rep, m, f, l
            var[r] = ss / (rep - 1) if rep > 1 else np.nan
            r += 1
    return uu, ii, n, k, n_rep, mean, var, first, last


@njit(cache=True, nogil=True)
def first_of_equal(values, is_count, approx, has_approx, min_value):
    """``last_digit``'s pooled figures: in each report (unit, period), the counting
    figures ≥ ``min_value`` (not approximate where ``has_approx``), a figure equal to
    one of an earlier indicator of the same report counted once, for that earlier
    one.  Returns per unit the figures counted and those ending in 0 or 5, and per
    (unit, indicator) the figures counted for it."""
    n_u, n_i, n_t = values.shape
    n_fig = np.zeros(n_u, np.int64)
    n_heap = np.zeros(n_u, np.int64)
    counted = np.zeros((n_u, n_i), np.int64)
    seen = np.empty(n_i)
    for u in range(n_u):
        for t in range(n_t):
            d = 0
            for i in range(n_i):
                if not is_count[i]:
                    continue
                x = values[u, i, t]
                if not (x >= min_value and x - np.floor(x) == 0.0):
                    continue
                if has_approx and approx[u, i, t]:
                    continue
                new = True
                for j in range(d):
                    if seen[j] == x:
                        new = False
                        break
                if not new:
                    continue
                seen[d] = x
                d += 1
                n_fig[u] += 1
                counted[u, i] += 1
                if np.fmod(x, 5.0) == 0.0:
                    n_heap[u] += 1
    return n_fig, n_heap, counted
