"""Exact upper tails of the beta-binomial, for tests/test_bb_tail.py.

P(X ≥ k), X ~ BetaBinomial(n, a, b), in rational arithmetic (fractions): with
rational a and b the pmf is C(n, j)·a^(j)·b^(n−j) / (a + b)^(n), x^(m) the rising
factorial x(x + 1)…(x + m − 1), so every tail is an exact fraction, converted to a
float only at the end.  Nothing here shares code with the package.  Run it to print
the table the test holds:

    python tests/reference/betabinom_tail.py
"""

from __future__ import annotations

from fractions import Fraction
from math import comb

CASES = [  # (k, n, a, b): far tails, the body, small shapes, k at 0 and past n
    (40, 40, Fraction(1, 2), Fraction(3, 2)),
    (30, 40, Fraction(2), Fraction(20)),
    (5, 50, Fraction(2), Fraction(20)),
    (30, 200, Fraction(3), Fraction(7)),
    (1, 10, Fraction(3, 10), Fraction(5)),
    (400, 1000, Fraction(7, 4), Fraction(9, 4)),
    (900, 1000, Fraction(7, 4), Fraction(9, 4)),
    (60, 300, Fraction(25, 2), Fraction(250)),
    (50, 100, Fraction(2), Fraction(200)),
    (25, 30, Fraction(3, 2), Fraction(60)),
    (0, 12, Fraction(1), Fraction(1)),
    (13, 12, Fraction(1), Fraction(1)),
]


def rising(x: Fraction, m: int) -> Fraction:
    out = Fraction(1)
    for i in range(m):
        out *= x + i
    return out


def upper_tail(k: int, n: int, a: Fraction, b: Fraction) -> Fraction:
    if k <= 0:
        return Fraction(1)
    total = sum((comb(n, j) * rising(a, j) * rising(b, n - j) for j in range(k, n + 1)),
                Fraction(0))
    return total / rising(a + b, n)


if __name__ == "__main__":
    for k, n, a, b in CASES:
        print(f"    ({k}, {n}, {float(a)!r}, {float(b)!r}, {float(upper_tail(k, n, a, b))!r}),")
