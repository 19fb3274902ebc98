"""Detection and false alarms of matching_series and underdispersion on districts
built by construction (the figures quoted in the checks' docstrings, in
tests/test_checks_matching.py and in the issue-12 report).

Run: .venv/bin/python tests/reference/balance_null_districts.py [districts]

1. Planted groups (tests/test_checks_matching.py::planted_district): per indicator,
   how often the group is found with exactly its members; groups found that are
   not planted; the same districts with each member's months shuffled.
2. Null districts with floors and quotas (quota_district): districts with any
   warning from either check, period None and P = 2024-12.
3. The chance of agreement from each unit's own months (all of them, the
   agreeing ones included) against leave-one-out (the agreeing month left out),
   on honest districts of 40 units × 12 months: pairs with q < 0.05.
"""
import sys
from pathlib import Path

import numpy as np
from scipy import special, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_checks_matching import groups_of, planted_district, quota_district  # noqa: E402

from anquan_analysis.checks import balance  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50

# 1. planted groups
found = {}
extra = shuffled = 0
for seed in range(N):
    df, truth = planted_district(seed)
    groups = [g for g in groups_of(balance.matching_series(df)) if g[2] != "info"]
    for code, (members, _) in truth.items():
        found[code] = found.get(code, 0) + any(g[0] == code and g[1] == members for g in groups)
    extra += sum(g[1] != truth[g[0]][0] for g in groups)
    f = balance.matching_series(planted_district(seed, shuffle=True)[0])
    shuffled += (f["severity"] != "info").any()
print(f"planted groups found with exactly their members, of {N} districts: {found}")
print(f"groups found that were not planted: {extra}; shuffled districts with a warning: {shuffled}")

# 2. null districts with quotas
for fixed in (True, False):
    hits = {"matching_series": 0, "underdispersion": 0}
    for seed in range(N):
        df = quota_district(seed, fixed=fixed)
        for name in hits:
            check = getattr(balance, name)
            hits[name] += any((check(df, period=p)["severity"] != "info").any()
                              for p in (None, "2024-12"))
    print(f"quota districts (drill enterprises {'fixed' if fixed else 'Poisson'}), "
          f"districts with a warning of {N}: {hits}")


# 3. own months against leave-one-out, exact and ±1, Bonferroni over the two
def pair_p(x, leave_out):
    n_u, t = x.shape
    a, b = np.triu_indices(n_u, 1)
    xa, xb = x[a], x[b]
    zz = (xa == 0) & (xb == 0)
    n = t - zz.sum(1)
    out = []
    for tol in (0, 1):
        agree = ((np.abs(xa - xb) <= tol) & ~zz).sum(1)
        cross = np.abs(xa[:, :, None] - xb[:, None, :]) <= tol
        zero = (xa[:, :, None] == 0) & (xb[:, None, :] == 0)
        keep = ~zero & (~np.eye(t, dtype=bool) if leave_out else True)
        chance = (cross & keep).sum((1, 2)) / np.maximum(keep.sum((1, 2)), 1)
        out.append(np.where(agree > 0, special.betainc(np.maximum(agree, 1), n - agree + 1,
                                                        chance), 1.0))
    return np.where(n >= 6, np.minimum(1, 2 * np.minimum(*out)), 1.0)


honest = {
    "Poisson": lambda r: r.poisson(r.gamma(2, 2.5, 40)[:, None], (40, 12)),
    "gamma-Poisson": lambda r: r.poisson(r.gamma(2, 4, 40)[:, None] * r.gamma(2, .5, (40, 12))),
    "drills = enterprises + Poisson(2)": lambda r: r.integers(1, 8, 40)[:, None] + r.poisson(2, (40, 12)),
    "sessions = 1 + Poisson(0.5)": lambda r: 1 + r.poisson(0.5, (40, 12)),
}
for name, draw in honest.items():
    counts = []
    for leave_out in (False, True):
        k = 0
        for seed in range(min(N, 20)):
            p = pair_p(draw(np.random.default_rng(seed)).astype(float), leave_out)
            k += int((stats.false_discovery_control(p) < 0.05).sum())
        counts.append(k)
    print(f"{name}: pairs with q < 0.05 in {min(N, 20)} honest districts: own months "
          f"{counts[0]}, leave-one-out {counts[1]}")
