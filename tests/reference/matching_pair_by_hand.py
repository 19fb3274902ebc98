"""Reference values for tests/test_checks_matching.py: one pair of towns worked by
hand, with the standard library only (exact fractions), independently of the
sparse products and scipy's incomplete beta under test.

Run: python tests/reference/matching_pair_by_hand.py

甲镇 and 乙镇 over ten months (major hazards found):
    甲  3 5 2 4 0 3 1 0 2 4
    乙  3 5 1 4 0 3 2 1 2 6
Month 5 is 0 for both: left out, so N = 9.  Equal figures in months 1, 2, 4, 6, 9
(5 of 9); within ±1 also months 3, 7, 8 (8 of 9).

Chance of agreement in a month, from each town's own ten figures, pairs of
zeros removed: K = Σ_k h_甲(k)·h_乙(k) (near: h_乙(k−1) + h_乙(k) + h_乙(k+1)),
Z = h_甲(0)·h_乙(0) = 2·1, M = 10·10, chance = (K − Z)/(M − Z).
"""
from fractions import Fraction
from math import comb

a = [3, 5, 2, 4, 0, 3, 1, 0, 2, 4]
b = [3, 5, 1, 4, 0, 3, 2, 1, 2, 6]
months = [(x, y) for x, y in zip(a, b) if not (x == 0 and y == 0)]
n = len(months)
equal = sum(x == y for x, y in months)
near = sum(abs(x - y) <= 1 for x, y in months)


def chance(tol):
    k = sum(abs(x - y) <= tol for x in a for y in b)
    z = a.count(0) * b.count(0)
    return Fraction(k - z, len(a) * len(b) - z)


def tail(agree, trials, p):
    return sum(comb(trials, j) * p ** j * (1 - p) ** (trials - j) for j in range(agree, trials + 1))


c_eq, c_near = chance(0), chance(1)
p_eq, p_near = tail(equal, n, c_eq), tail(near, n, c_near)
p = min(Fraction(1), 2 * min(p_eq, p_near))
print(f"N = {n}, equal = {equal}, near = {near}")
print(f"chance equal = {c_eq} = {float(c_eq)!r}, chance near = {c_near} = {float(c_near)!r}")
print(f"P(Bin({n}, {c_eq}) >= {equal}) = {float(p_eq)!r}")
print(f"P(Bin({n}, {c_near}) >= {near}) = {float(p_near)!r}")
print(f"pair p = 2 x min = {float(p)!r}; expected equal months N x chance = {float(n * c_eq)!r}")
