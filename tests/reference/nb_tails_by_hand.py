"""Negative binomial tails, zero runs and funnel limits worked out without scipy, for
tests/test_funnel_gamma.py.  Run: python tests/reference/nb_tails_by_hand.py

The gamma model: a count X is Poisson(E·θ) with θ ~ Gamma(k, 1/k), so X is negative
binomial with mean E and shape k:

    P(X = 0)     = (k / (k + E))^k = (1 + E/k)^(−k)
    P(X = x + 1) = P(X = x) · (x + k)/(x + 1) · E/(k + E)

For a whole k the pmf is C(x + k − 1, x) p^k (1 − p)^x with p = k/(k + E), and with a
rational E every term is a fraction: exact.  For a fractional k the recursion is
run in 40-digit decimals.

A run of periods sharing one θ is all zero with chance E_θ[exp(−mθ)] = (1 + m/k)^(−k),
m the run's total mean (the Laplace transform of the gamma density); the product of
the periods' own zero probabilities, ∏ (1 + m_t/k)^(−k), treats each period as
having its own θ and is smaller.

Limits for k = 1 (geometric, p = 1/(1 + E)): I_p(1, b) = 1 − (1 − p)^b, so the
count c with P(X ≤ c) = α/2 on the continuous scale is c = ln(1 − α/2)/ln(1 − p) − 1
and the upper limit b = ln(α/2)/ln(1 − p).
"""

from __future__ import annotations

import math
from decimal import Decimal, getcontext
from fractions import Fraction

getcontext().prec = 40


def nb_pmf_exact(x: int, e: Fraction, k: int) -> Fraction:
    """C(x + k − 1, x) p^k (1 − p)^x with p = k/(k + E), whole k."""
    p = Fraction(k) / (k + e)
    return math.comb(x + k - 1, x) * p ** k * (1 - p) ** x


def nb_cdf_exact(c: int, e: Fraction, k: int) -> Fraction:
    return sum((nb_pmf_exact(x, e, k) for x in range(c + 1)), Fraction(0))


def nb_cdf_decimal(c: int, e: Decimal, k: Decimal) -> Decimal:
    """P(X ≤ c) by the recursion, fractional k."""
    term = (1 + e / k) ** (-k)       # P(X = 0)
    total = term
    for x in range(c):
        term = term * (x + k) / (x + 1) * e / (k + e)
        total += term
    return total


if __name__ == "__main__":
    print("whole k, exact fractions")
    for c, e, k in [(0, Fraction(10), 2), (1, Fraction(10), 2), (3, Fraction(10), 2),
                    (0, Fraction(12), 4), (2, Fraction(12), 4), (5, Fraction(20), 1)]:
        v = nb_cdf_exact(c, e, k)
        print(f"  P(X ≤ {c} | E={e}, k={k}) = {v} = {float(v)!r}")
    print("fractional k, 40-digit decimals")
    for c, e, k in [(0, "7.5", "2.5"), (4, "7.5", "2.5"), (1, "30", "0.8"), (10, "30", "6.3")]:
        v = nb_cdf_decimal(c, Decimal(e), Decimal(k))
        print(f"  P(X ≤ {c} | E={e}, k={k}) = {v:.17g}")
    print("zero runs: one θ for the run against a θ per period")
    m, k = Fraction(10), 2
    shared = (1 + m / k) ** -k
    per_period = (1 + m / 12 / k) ** (-k * 12)
    print(f"  m=10 over 12 periods, k=2: shared {shared} = {float(shared)!r}; "
          f"product of 12 periods {float(per_period)!r}")
    m, k = Decimal(6), Decimal("3.5")
    print(f"  m=6, k=3.5: {(1 + m / k) ** (-k):.17g}")
    print("funnel limits, k = 1 (geometric)")
    for e in (39.0, 200.0, 1000.0):
        q = e / (1 + e)            # 1 − p
        for level in (0.95, 0.998):
            a = 1 - level
            lower = max(0.0, math.log(1 - a / 2) / math.log(q) - 1)
            upper = math.log(a / 2) / math.log(q)
            print(f"  E={e}, level {level}: lower {lower!r} upper {upper!r}")
