"""Reference values for tests/test_checks_balance.py, computed with the standard
library only (closed forms), independently of the scipy code under test.

Run: python tests/reference/balance_reference_values.py
"""
import math

# underdispersion: one group of 5 units, figures 10, 11, 9, 10, 10; mean 10.
obs = [10, 11, 9, 10, 10]
mean = sum(obs) / len(obs)
x2 = sum((o - mean) ** 2 / mean for o in obs)
# χ² with 4 df: CDF(x) = 1 − e^(−x/2)(1 + x/2).
p4 = 1 - math.exp(-x2 / 2) * (1 + x2 / 2)
print(f"group X2 = {x2!r}, left-tail p (df 4) = {p4!r}")

# underdispersion, pair test: a = 20 ×6, b = 21, 19, 20, 20, 21, 19.
a = [20] * 6
b = [21, 19, 20, 20, 21, 19]
x2p = sum((i - j) ** 2 / (i + j) for i, j in zip(a, b))
# χ² with 6 df: CDF(x) = 1 − e^(−x/2)(1 + x/2 + x²/8).
p6 = 1 - math.exp(-x2p / 2) * (1 + x2p / 2 + x2p ** 2 / 8)
print(f"pair X2 = {x2p!r}, left-tail p (df 6) = {p6!r}")

# pinned_rate: 10 of 10 rectified, peers' rate 0.8.
print(f"0.8**10 = {0.8 ** 10!r}")


def pois(k, mu):
    return math.exp(-mu) * mu ** k / math.factorial(k)


# repeated_value: six periods all equal to 4 (mean 4): p = 1 · Σ_{k≥1} Pois(k;4)^6.
print(f"run chance = {sum(pois(k, 4.0) ** 6 for k in range(1, 80))!r}")
# identical_values: two Poisson(1) figures coincide with chance Σ Pois(k;1)².
print(f"tie chance mu=1 = {sum(pois(k, 1.0) ** 2 for k in range(0, 60))!r}")
# last_digit: 12 of 20 figures end in 0/5, chance 0.2 each: P(K ≥ 12).
print(f"binomial tail = {sum(math.comb(20, k) * 0.2 ** k * 0.8 ** (20 - k) for k in range(12, 21))!r}")
