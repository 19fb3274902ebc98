"""Reference values for tests/test_checks_balance.py, computed with the standard
library only (closed forms), independently of the scipy code under test.

Run: python tests/reference/balance_reference_values.py
"""
import math

# underdispersion and matching_series: tests/reference/underdispersion_by_hand.py and
# tests/reference/matching_pair_by_hand.py (issue 12 replaced the Poisson χ² tests).

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
