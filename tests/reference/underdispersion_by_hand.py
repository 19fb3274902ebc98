"""Reference values for the underdispersion test in tests/test_checks_balance.py:
one group of five towns worked with the standard library only, from the formulas
of the check's docstring, independently of its vectorised code.

Run: python tests/reference/underdispersion_by_hand.py

Months 1–6 are the past, 7–9 the recent periods (P = 2024-09, recent = 3):
    甲  4 6 5 7 3 5 | 5 5 6
    乙  8 6 9 7 10 8 | 6 5 6
    丙  2 4 3 1 5 3 | 5 6 5
    丁  6 5 7 6 4 8 | 6 5 6
    戊  3 5 4 6 2 4 | 5 6 6
"""
from math import erf, sqrt

rows = {"甲": [4, 6, 5, 7, 3, 5, 5, 5, 6], "乙": [8, 6, 9, 7, 10, 8, 6, 5, 6],
        "丙": [2, 4, 3, 1, 5, 3, 5, 6, 5], "丁": [6, 5, 7, 6, 4, 8, 6, 5, 6],
        "戊": [3, 5, 4, 6, 2, 4, 5, 6, 6]}
k, t_past = 3, 6
n = len(rows)
c = 1 - 1 / n
past = {u: v[:t_past] for u, v in rows.items()}
recent = {u: v[t_past:] for u, v in rows.items()}
mu = {u: sum(v) / t_past for u, v in past.items()}
var = {u: sum((x - mu[u]) ** 2 for x in v) / (t_past - 1) for u, v in past.items()}
m = {p: {u: sum((x - mu[u]) ** p for x in v) / t_past for u, v in past.items()} for p in (2, 3, 4)}
mu_bar = sum(mu.values()) / n
level = max(sum((mu[u] - mu_bar) ** 2 for u in rows) - c * sum(var.values()) / t_past, 0.0)
base = sum(sum(v) for v in past.values()) / t_past          # mean past total of the group

observed = expected = variance = level_scale = var_scale = 0.0
for j in range(k):
    r = {u: recent[u][j] for u in rows}
    f = sum(r.values()) / base
    s2 = min(f, f * f)
    mean_r = sum(r.values()) / n
    observed += sum((x - mean_r) ** 2 for x in r.values())
    expected += f * f * level + c * s2 * sum(var.values())
    level_scale += f * f
    var_scale += c * s2
    b = {u: f * (mu[u] - mu_bar) for u in rows}
    variance += (4 * s2 * sum(b[u] ** 2 * m[2][u] for u in rows)
                 + c * c * s2 * s2 * sum(m[4][u] - m[2][u] ** 2 for u in rows)
                 + 2 * s2 * s2 * (sum(m[2].values()) ** 2 - sum(x * x for x in m[2].values())) / n ** 2
                 + 4 * c * s2 ** 1.5 * sum(b[u] * m[3][u] for u in rows))
level_error = (4 * sum((mu[u] - mu_bar) ** 2 * var[u] for u in rows) / t_past
               + 2 * sum(var[u] ** 2 for u in rows) / t_past ** 2)
var_error = sum(max(m[4][u] - m[2][u] ** 2, 0.0) for u in rows) / t_past
variance += level_scale ** 2 * level_error + var_scale ** 2 * var_error
z = (observed - expected) / sqrt(variance)
p = 0.5 * (1 + erf(z / sqrt(2)))
print(f"observed variance per period = {observed / k / (n - 1)!r}")
print(f"expected variance per period = {expected / k / (n - 1)!r}")
print(f"z = {z!r}, p = Phi(z) = {p!r}")
