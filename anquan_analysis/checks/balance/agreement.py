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
from scipy import sparse, special


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
    level = _row_medians(np.where(values > 0, values, np.nan))
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

    The counts are value-indexed: a unit's figures are a sparse matrix over its
    group's distinct figures (H: how often the unit reported each figure; G:
    which figure it reported in each period), so that the pairs of units sharing
    a figure come out of sparse products (H·Hᵀ, G·Gᵀ, and for agreement within
    the tolerance the same through a band matrix over the figures), at a cost
    that grows with the number of agreeing pairs, not with all pairs × periods.
    Periods reported by both, and periods both 0, are counted on bitsets.

    Parameters
    ----------
    values : numpy.ndarray, shape (units, periods)
        Figures, NaN where not reported.  Not modified.
    gid : numpy.ndarray of int
        Group per unit; units with gid < 0 are in no pair.
    tol : numpy.ndarray of float
        Tolerance of each group (``group_tolerance``).
    """

    def __init__(self, values: np.ndarray, gid: np.ndarray, tol: np.ndarray, pairs=None):
        n_u, n_t = values.shape
        seen = ~np.isnan(values) & (gid >= 0)[:, None]
        u, t = np.nonzero(seen)
        v = values[u, t]
        g = gid[u]
        # The groups' distinct figures: one axis of (group, figure) keys.
        key, key_g, key_v = _figure_keys(g, v, len(tol))
        n_k = len(key_g)
        lo, hi = _band(key_g, key_v, tol)   # per key: its band [lo, hi) of keys
        cell_key = np.full((n_u, n_t), -1, dtype=np.int64)
        cell_key[u, t] = key
        hist = _histograms(cell_key, n_k)
        # H·B: each unit's figures spread over their bands, B[k, j] = 1 for the keys j
        # in k's band; from the summed H, so a repeated figure is spread once.
        hist_band = hist @ _rows_matrix(hi - lo, _ranges(lo, hi), n_k)
        self.n_units = n_u
        self.cross_equal = _upper(hist @ hist.T, n_u)
        self.cross_near = _upper(hist @ hist_band.T, n_u)
        # Same-period agreement only ever concerns the pairs of one group: compared
        # pair by pair on the figures (a near b: |a − b| ≤ the group's tolerance, the
        # same test as b's key band).
        self.same_equal, self.same_near = _same_period(
            np.where(seen, values, np.nan), tol[np.maximum(gid, 0)],
            pairs if pairs is not None else pairs_within(gid))
        zero = seen & (values == 0)
        self.reported_bits, self.zero_bits = _bits(seen), _bits(zero)
        self.n_reported = seen.sum(axis=1)
        self.n_zero = zero.sum(axis=1)

    def periods(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Per pair, N: the periods both reported and not both 0."""
        return _common(self.reported_bits, a, b) - _common(self.zero_bits, a, b)

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """The pairs (a < b) whose figures are within the tolerance in at least one
        period (both 0 included): no other pair has an agreement to test."""
        a, b = np.divmod(self.same_near[0], self.n_units)
        return a.astype(np.intp), b.astype(np.intp)

    def counts(self, a: np.ndarray, b: np.ndarray):
        """Per pair (a < b): N; the periods with equal figures and those within the
        tolerance (both 0 left out); the chance of equal and of near figures in a
        period, (K − Z)/(M − Z) with K the pairs of periods (s, t), one reported by
        each unit, whose figures agree, Z those where both are 0 and M all of them
        (1 where every such pair is (0, 0))."""
        both_zero = _common(self.zero_bits, a, b)
        n = _common(self.reported_bits, a, b) - both_zero
        key = a.astype(np.int64) * self.n_units + b
        equal = _lookup(self.same_equal, key).astype(np.int64) - both_zero
        near = _lookup(self.same_near, key).astype(np.int64) - both_zero
        zero = self.n_zero[a].astype(np.float64) * self.n_zero[b]
        m = self.n_reported[a].astype(np.float64) * self.n_reported[b]
        chances = []
        for cross in (self.cross_equal, self.cross_near):
            k = _lookup(cross, key)
            with np.errstate(invalid="ignore", divide="ignore"):
                chances.append(np.where(m > zero, (k - zero) / (m - zero), 1.0))
        return n, equal, near, chances[0], chances[1]


def _band(key_g, key_v, tol) -> tuple[np.ndarray, np.ndarray]:
    """For each (group, figure) key (sorted by group, then figure), the keys of
    its group whose figures differ from it by at most the group's tolerance:
    [lo, hi) on the key axis."""
    if not len(key_g):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    span = 2.0 * (float(np.abs(key_v).max()) + float(tol.max()) + 1.0)
    line = key_g * span + key_v  # the keys on one line, groups far apart, in key order
    return (np.searchsorted(line, line - tol[key_g], side="left"),
            np.searchsorted(line, line + tol[key_g], side="right"))


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """lo[0] … hi[0] − 1, lo[1] … hi[1] − 1, … as one array."""
    width = hi - lo
    return np.arange(int(width.sum())) - np.repeat(np.cumsum(width) - width - lo, width)


def _figure_keys(g, v, n_groups):
    """Number the distinct (group, figure) pairs in (group, figure) order: each
    value's key, and each key's group and figure.  Whole figures of moderate size
    (counts: nearly always) are numbered by a presence table instead of a sort."""
    if not len(v):
        return np.zeros(0, np.int64), np.zeros(0, np.intp), np.zeros(0)
    top = float(v.max())
    if v.min() >= 0 and top < 1e6 and n_groups * (top + 1) <= 1 << 26 \
            and np.array_equal(v, np.floor(v)):
        width = int(top) + 1
        code = g.astype(np.int64) * width + v.astype(np.int64)
        present = np.zeros(n_groups * width, dtype=bool)
        present[code] = True
        taken = np.flatnonzero(present)
        number = np.empty(len(present), dtype=np.int64)  # read only where present
        number[taken] = np.arange(len(taken))
        return number[code], taken // width, (taken % width).astype(np.float64)
    span = 2.0 * (float(np.abs(v).max()) + 1.0)
    order = np.argsort(g * span + v, kind="stable")  # ties share a key: any order
    go, vo = g[order], v[order]
    new = np.r_[True, (go[1:] != go[:-1]) | (vo[1:] != vo[:-1])]
    key = np.empty(len(v), dtype=np.int64)
    key[order] = np.cumsum(new) - 1
    return key, go[new], vo[new]


def _histograms(cell_key, n_keys):
    """H: per unit (row), how many periods it reported each key, as a CSR matrix
    with sorted, distinct columns (``cell_key``: units × periods, −1 where none)."""
    s = np.sort(cell_key, axis=1)
    start = np.ones(s.shape, dtype=bool)
    start[:, 1:] = s[:, 1:] != s[:, :-1]
    flat = start.ravel()
    run = np.cumsum(flat) - 1
    count = np.bincount(run).astype(np.float32)
    run_key = s.ravel()[flat]
    keep = run_key >= 0
    per_row = np.bincount(np.repeat(np.arange(len(s)), start.sum(axis=1))[keep],
                          minlength=len(s))
    indptr = np.r_[0, np.cumsum(per_row)].astype(np.int64)
    return sparse.csr_matrix((count[keep], run_key[keep], indptr),
                             shape=(len(s), n_keys))


def _same_period(values, tol, pairs, block: int = 1 << 20):
    """For the pairs (a, b) given (a < b, one group each): the periods in which
    both reported the same figure, and those in which they are within ± the
    group's tolerance (``tol`` per unit), as tables (sorted keys a × units + b,
    counts) of the pairs with a count above 0.  ``values``: units × periods, NaN
    where a unit reported nothing (or is in no group)."""
    n_u = len(values)
    a, b = pairs
    key = a.astype(np.int64) * n_u + b
    order = np.argsort(key)
    a, b, key = a[order], b[order], key[order]
    # whole figures below 2^24 compare exactly as float32: half the bytes gathered
    figures = values[~np.isnan(values)]
    if np.abs(figures).max(initial=0.0) < 1 << 24 and np.array_equal(figures, np.floor(figures)):
        values = values.astype(np.float32)
    equal = np.zeros(len(a), dtype=np.int64)
    near = np.zeros(len(a), dtype=np.int64)
    step = max(1, block // max(1, values.shape[1]))
    for s in range(0, len(a), step):  # pairs × periods temporaries of ``block`` cells
        va, vb = values[a[s:s + step]], values[b[s:s + step]]
        equal[s:s + step] = np.count_nonzero(va == vb, axis=1)   # NaN equals nothing
        diff = np.abs(va - vb)
        near[s:s + step] = np.count_nonzero(diff <= tol[a[s:s + step], None], axis=1)
    tables = []
    for count in (equal, near):
        some = count > 0
        tables.append((key[some], count[some].astype(np.float64)))
    return tables


def _row_medians(x: np.ndarray) -> np.ndarray:
    """``np.nanmedian`` of each row (NaN for a row without a number), by one sort."""
    s = np.sort(x, axis=1)  # NaN sorts last
    c = np.count_nonzero(~np.isnan(s), axis=1)
    r = np.arange(len(s))
    out = np.full(len(s), np.nan)
    some = c > 0
    if some.any():
        r, c = r[some], c[some]
        out[some] = (s[r, (c - 1) // 2] + s[r, c // 2]) / 2
    return out


def _rows_matrix(per_row: np.ndarray, columns: np.ndarray, n_cols: int):
    """A CSR matrix of ones with ``per_row[i]`` entries in row i, at ``columns``
    (given row after row); repeated entries count as their sum."""
    indptr = np.r_[0, np.cumsum(per_row)].astype(np.int64)
    return sparse.csr_matrix((np.ones(len(columns), dtype=np.float32),
                              columns.astype(np.int64), indptr),
                             shape=(len(per_row), n_cols))


def _bits(mask: np.ndarray) -> np.ndarray:
    """Each row of a boolean units × periods mask as 64-bit words."""
    packed = np.packbits(mask, axis=1, bitorder="little")
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    return np.ascontiguousarray(packed).view(np.uint64)


def _common(bits: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair, the periods set in both units' bits."""
    return np.bitwise_count(bits[a] & bits[b]).sum(axis=1, dtype=np.int64)


def _upper(product, n_u) -> tuple[np.ndarray, np.ndarray]:
    """The entries above the diagonal of a sparse units × units product: sorted
    keys (row × units + column) and their values (whole counts)."""
    coo = product.tocoo()
    above = coo.row < coo.col
    key = coo.row[above].astype(np.int64) * n_u + coo.col[above]
    count = np.rint(coo.data[above]).astype(np.int64)
    # One sort of key and count packed in an int64 (counts are at most periods²,
    # keys below units²): about twice as fast as argsort and two gathers.
    bits = max(int(count.max()).bit_length(), 1) if len(count) else 1
    packed = np.sort((key << bits) | count)
    return packed >> bits, (packed & ((1 << bits) - 1)).astype(np.float64)


def _lookup(table, key) -> np.ndarray:
    """The values of ``table`` (sorted keys, values) at ``key``; 0 where absent."""
    keys, vals = table
    if not len(keys):
        return np.zeros(len(key))
    pos = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
    return np.where(keys[pos] == key, vals[pos], 0.0)


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
