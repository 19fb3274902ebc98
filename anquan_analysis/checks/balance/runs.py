"""The chance of a flat line: P(the longest run of equal positive figures among n
independent draws reaches L), exact, for the count laws ``repeated_value`` uses.

A union bound over the n − L + 1 places a run could start counts every sequence
with a run once per place its run could have started; the exact tail counts it once
and asks that a run begin where the figure before it differs, which takes the
bound's ~7 down to ~5 for a 6-month run in 12 months at a modest mean.  It is
computed by a recursion over the periods with one state per figure (``run_tail``):
O(n · K) for K figures, every distinct (mean, ratio, L, n) once."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from .._stats import nb_logpmf

# Cells (rows × figures) per chunk of the recursion: temporaries of a few MB.
_CHUNK_CELLS = 1 << 16


def run_tail(pmf, length: int, n: int) -> float:
    """P(some run of ``length`` or more equal positive values among ``n`` independent
    draws from ``pmf`` (``pmf[k]`` = P(X = k), k = 0, 1, …; the mass it leaves out
    is taken as values that never repeat)), exact.  One row of ``_tail_rows``."""
    p = np.asarray(pmf, dtype="float64")
    free = p[0] + max(0.0, 1.0 - p.sum())
    return float(_tail_rows(p[None, 1:], np.array([free]), np.array([length]),
                            np.array([n]))[0])


def _tail_rows(p, free, length, n) -> np.ndarray:
    """The tail of ``run_tail`` for each row of ``p`` (rows × positive figures, zero
    padded) with ``free`` the chance of a figure that never counts (0 and the
    figures outside the row's window), run lengths ``length`` and draws ``n``.

    F_m(k) = P(no run ≥ L in m draws, the m-th = k) obeys F_m = p_k·S_{m−1} −
    p_k^L·A_{m−L}(k), with S_m = Σ_k F_m(k) + the free state, A_j(k) = S_j − F_j(k)
    (A_0 = 1, A_{<0} = 0).  The first run to reach L starts at s with the figure
    before it different: the tail is Σ_{s=1}^{n−L+1} Σ_k p_k^L·A_{s−1}(k), a sum of
    positive terms, exact however small."""
    from ._series_loops import tail_rows  # numba loads on first use, not on import
    return tail_rows(np.ascontiguousarray(p, dtype=np.float64),
                     np.ascontiguousarray(free, dtype=np.float64),
                     np.ascontiguousarray(length, dtype=np.int64),
                     np.ascontiguousarray(n, dtype=np.int64))


def log_run_tail(mean, var_ratio, length, n, exact_sd: float = 30.0) -> np.ndarray:
    """log P(the longest run of equal positive figures among ``n`` independent draws
    is at least ``length``), X with mean ``mean`` and variance var_ratio·mean:
    Poisson at ratio 1, a negative binomial above, a normal discretised to the
    integers ≥ 0 below.  Exact (``_tail_rows``) on the integers within mean ± 9 sd
    (+12 sd and 10 above for the negative binomial's longer tail) where the standard
    deviation is at most ``exact_sd``; above it, where equal figures are rare, the
    union bound (n − L + 1)·(2πσ²)^(−(L−1)/2)/√L of the normal approximation."""
    mean, ratio, length, n = np.broadcast_arrays(
        *(np.asarray(a, dtype="float64") for a in (mean, var_ratio, length, n)))
    sd = np.sqrt(ratio * mean)
    out = np.full(mean.shape, np.nan)
    big = sd > exact_sd
    out[big] = (np.log(n[big] - length[big] + 1)
                - (length[big] - 1) / 2 * np.log(2 * np.pi * sd[big] ** 2)
                - 0.5 * np.log(length[big]))
    small = ~big & (mean > 0)  # a mean ≤ 0 has no count to draw from: NaN
    if not small.any():
        return out
    cols = [mean[small], ratio[small], length[small], n[small]]
    back = np.zeros(len(cols[0]), dtype=np.int64)
    for c in cols:  # hash each column, then the combination: no sort of float rows
        codes, uniq = pd.factorize(c)
        back = pd.factorize(back * len(uniq) + codes)[0]
    first = np.zeros(back.max() + 1, dtype=np.int64)
    first[back[::-1]] = np.arange(len(back) - 1, -1, -1)
    m, r, lv, nv = (c[first] for c in cols)
    s = np.sqrt(r * m)
    hi = np.ceil(m + np.where(r > 1.0, 12.0, 9.0) * s).astype(np.int64) + 10
    res = np.empty(len(m))
    # rows of similar width together, so that padding costs little
    order = np.argsort(hi, kind="stable")
    group = np.cumsum(hi[order] + 1) // _CHUNK_CELLS
    for rows in np.split(order, np.flatnonzero(np.diff(group)) + 1):
        res[rows] = _log_tail_chunk(m[rows], r[rows], lv[rows], nv[rows], hi[rows])
    out[small] = res[back]
    return out


def _log_tail_chunk(m, r, lv, nv, hi) -> np.ndarray:
    """log of the tail for rows sharing one grid 0 … max(hi) of figures."""
    k = np.arange(int(hi.max()) + 1, dtype="float64")[None, :]
    mm, rr = m[:, None], r[:, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pois = special.xlogy(k, mm) - special.gammaln(k + 1) - mm
        size = mm / (rr - 1.0)             # the negative binomial with variance r·m
        nb = nb_logpmf(k, mm, size)
        sd = np.sqrt(rr * mm)
        dens = -0.5 * ((k - mm) / sd) ** 2
        dens = np.where(np.abs(k - mm) <= 9 * sd + 1, dens, -np.inf)
        nrm = dens - special.logsumexp(dens, axis=1, keepdims=True)
    # a size beyond 1e8 is a Poisson to 1e-8 of the variance, and its log-gammas
    # would cancel to nothing: ratios a rounding error above 1 are Poisson
    logpmf = np.where((rr == 1.0) | (size > 1e8), pois, np.where(rr > 1.0, nb, nrm))
    logpmf = np.where(k <= hi[:, None], logpmf, -np.inf)
    p = np.exp(logpmf)
    free = p[:, 0] + np.maximum(0.0, 1.0 - p.sum(axis=1))
    with np.errstate(divide="ignore"):
        return np.log(_tail_rows(p[:, 1:], free, lv, nv))
