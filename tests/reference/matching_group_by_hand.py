"""Reference values for tests/test_checks_matching_joint.py: one group of five towns
worked by hand, with the standard library only (exact fractions and whole
numbers), independently of joint.py's sweep over figures, its polynomial and
scipy's incomplete beta.

Run: python tests/reference/matching_group_by_hand.py

Fifteen towns, twelve months of major hazards found.  甲镇 … 戊镇 report the same
figure every month: 2, except 4 in March, July and October.  Ten other towns
report 10k + 10 + (month mod 3) for k = 0 … 9: never within ±1 of any other town.

Pairs (what matching_series tested before the joint scan): each of the 10 pairs
of the five agrees in 12 of 12 months; each town's own figures are 2 nine times
and 4 three times, so a month agrees with chance (9·9 + 3·3)/(12·12) = 5/8, for
equal figures and within ±1 alike (2 and 4 are 2 apart).  p = 2 × (5/8)¹².  The
105 pairs of the 15 towns are tested (each has 12 months, none both 0); the 95
others never agree (p = 1).  Benjamini–Hochberg: the 10 tied pairs get
q = p × 105/10 > 0.05, so no pair is significant and p > 1e-4 (no information row
either): pairs alone report nothing.

The group (joint.py): the 10 pairs have p < min(0.01, 1/15) and make one clique
of five.  All five equal in a month: Σ_v Π_i f_i(v) = (3/4)⁵ + (1/4)⁵; within ±1
the same.  Binomial tail of 12 of 12: chance¹².  Permutation bound, exact here
(12 of 12): each of the other four towns' shuffles must give back the first
town's order, one of 12!/(9!·3!) = 220 orders: 220⁻⁴.  p = 2 × min(binomial of
equal, bound, binomial of near).  q = p × (5 − 1)(5 − 2) × C(15, 5): one cell
(window, indicator, peer group) of 15 towns.
Dropping one member: q of four = 2 × 220⁻³ × C(15, 4) × 3·2 is larger, so all five
stay.  Against the ten other towns (the contrast with the peers): in each month
they report ten different figures, none within ±1 of another, so five drawn
from them are all equal (or within ±1) with chance 10 × (1/10)⁵ = 10⁻⁴, and
twelve such months have chance 10⁻⁴⁸: far below the tail from the towns' own
figures, which is the one kept.
"""
from fractions import Fraction
from math import comb, factorial

group = [2, 2, 4, 2, 2, 2, 4, 2, 2, 4, 2, 2]
n_towns, k, n = 15, 5, 12

# pairs
pair_chance = Fraction(group.count(2) ** 2 + group.count(4) ** 2, n * n)
pair_p = 2 * pair_chance ** n
tests = comb(n_towns, 2)
pair_q = pair_p * tests / comb(k, 2)          # BH: 10 tied p-values, the rest p = 1
print(f"pair chance = {pair_chance}, pair p = {float(pair_p)!r}, BH q = {float(pair_q)!r}"
      f" (> 0.05: {pair_q > Fraction(5, 100)}); screen min(0.01, 1/15) passed: "
      f"{pair_p < Fraction(1, 100)}")

# the group of five
f2, f4 = Fraction(group.count(2), n), Fraction(group.count(4), n)
chance = f2 ** k + f4 ** k
binomial = chance ** n
orders = factorial(n) // (factorial(group.count(2)) * factorial(group.count(4)))
bound = Fraction(1, orders ** (k - 1))
p = 2 * min(binomial, bound)
q = p * comb(n_towns, k) * (k - 1) * (k - 2) * 1
q4 = 2 * min((f2 ** 4 + f4 ** 4) ** n, Fraction(1, orders ** 3)) * comb(n_towns, 4) * 3 * 2
print(f"group chance = {chance} = {float(chance)!r}; expected = N x chance = {float(n * chance)!r}")
print(f"binomial = {float(binomial)!r}, orders = {orders}, permutation bound = {float(bound)!r}")
print(f"group p = {float(p)!r}, q = {float(q)!r}; q of four = {float(q4)!r}")
peer = 10 * Fraction(1, 10) ** k
print(f"peer chance a month = {peer}, twelve months = {float(peer ** n)!r} (< p: {peer ** n < p})")
