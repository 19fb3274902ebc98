"""The beta-binomial upper tail, compiled (numba): ``surge``'s test of millions of
unit-periods at national scale, where ``scipy.stats.betabinom.sf`` sums each tail
in Python-level calls (about 40 µs each).

``trends`` imports this module on first use, so that importing the package does not
load numba; the machine code is cached beside this file (``cache=True``)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _log_pmf(j, n, a, b):
    return (math.lgamma(n + 1.0) - math.lgamma(j + 1.0) - math.lgamma(n - j + 1.0)
            + math.lgamma(j + a) + math.lgamma(n - j + b) - math.lgamma(n + a + b)
            - math.lgamma(a) - math.lgamma(b) + math.lgamma(a + b))


@njit(cache=True, nogil=True)
def betabinom_sf(k, n, a, b):
    """P(X ≥ k) for X ~ BetaBinomial(n, a, b), elementwise (k and n whole numbers;
    NaN where n is not a whole number ≥ 0 or a, b are not positive, as scipy gives).

    The shorter side is summed term by term from its end nearest the mean, each term
    from the one before by the pmf's ratio (n − j)(j + a) / ((j + 1)(n − j − 1 + b)),
    and the sum stops once a term falls below 1e-18 of it past the mode: the upper
    tail directly where k lies above the mean (small p stay exact), one minus the
    lower tail below it."""
    out = np.empty(len(k))
    for e in range(len(k)):
        kk, nn, aa, bb = k[e], n[e], a[e], b[e]
        if not (nn >= 0 and nn == math.floor(nn) and aa > 0 and bb > 0) or np.isnan(kk):
            out[e] = np.nan
            continue
        if kk <= 0:
            out[e] = 1.0
            continue
        if kk > nn:
            out[e] = 0.0
            continue
        mean = nn * aa / (aa + bb)
        if kk >= mean:   # the upper tail: k, k + 1, …, n
            j = kk
            term = math.exp(_log_pmf(j, nn, aa, bb))
            total = term
            while j < nn:
                term *= (nn - j) * (j + aa) / ((j + 1.0) * (nn - j - 1.0 + bb))
                j += 1.0
                total += term
                if term < 1e-18 * total and j > mean:
                    break
            out[e] = min(total, 1.0)
        else:            # one minus the lower tail: k − 1, k − 2, …, 0
            j = kk - 1.0
            term = math.exp(_log_pmf(j, nn, aa, bb))
            total = term
            while j > 0:
                term *= j * (nn - j + bb) / ((nn - j + 1.0) * (j - 1.0 + aa))
                j -= 1.0
                total += term
                if term < 1e-18 * total and j < mean:
                    break
            out[e] = max(1.0 - total, 0.0)
    return out
