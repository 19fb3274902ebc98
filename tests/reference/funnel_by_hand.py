"""Funnel limits, φ and τ² for a six-unit example, worked step by step without
anquan_analysis (plain Python + scipy's distribution functions), as FunnelPlotR does
for a standardised ratio (Spiegelhalter 2005).  The numbers printed are asserted in
tests/test_checks_outliers.py.  Run: python tests/reference/funnel_by_hand.py

Units (all towns): enterprises X and hazards found O over the window.
"""

import math

from scipy import stats

X = [100, 200, 50, 400, 150, 100]
O = [4, 12, 0, 30, 3, 11]


def quantile7(values, p):
    """R's default quantile (type 7): linear interpolation at h = (n − 1)p."""
    v = sorted(values)
    h = (len(v) - 1) * p
    lo = math.floor(h)
    return v[lo] + (h - lo) * (v[min(lo + 1, len(v) - 1)] - v[lo])


def tau2_of(z, E, winsor):
    lo, hi = quantile7(z, winsor), quantile7(z, 1 - winsor)
    zw = [min(max(x, lo), hi) for x in z]
    n = len(z)
    phi = sum(x * x for x in zw) / n
    w = [4 * e for e in E]                       # w = 1/s², s = 1/(2√E)
    sw, sw2 = sum(w), sum(x * x for x in w)
    return phi, max(0.0, (n * phi - (n - 1)) / (sw - sw2 / sw))


# --- 1. FunnelPlotR's way: pooled rate, z = 2(√O − √E), winsorised at 10%/90% -------
rate = sum(O) / sum(X)                           # 60 / 1000 = 0.06
E = [x * rate for x in X]                        # 6, 12, 3, 24, 9, 6
z = [2 * (math.sqrt(o) - math.sqrt(e)) for o, e in zip(O, E)]
phi, tau2 = tau2_of(z, E, 0.1)
print("1. pooled rate", rate, "E", E)
print("   z", z)
print("   phi", repr(phi), "tau2", repr(tau2))
for level in (0.95, 0.998):
    zq = stats.norm.ppf(1 - (1 - level) / 2)
    lower = [e * max(0.0, 1 - zq * math.sqrt(1 / (4 * e) + tau2)) ** 2 for e in E]
    upper = [e * (1 + zq * math.sqrt(1 / (4 * e) + tau2)) ** 2 for e in E]
    print(f"   overdispersed {level}: lower", [repr(v) for v in lower])
    print(f"   overdispersed {level}: upper", [repr(v) for v in upper])
# exact Poisson limits (what the funnel shows when τ² = 0)
for level in (0.95, 0.998):
    a = 1 - level
    print(f"   exact Poisson {level} at E=6: lower", repr(stats.chi2.ppf(a / 2, 12) / 2),
          "upper", repr(stats.chi2.ppf(1 - a / 2, 14) / 2))

# --- 2. The package's defaults: leave-one-out rate, exact mid-p z, winsor 20% -------
E2 = [x * (sum(O) - o) / (sum(X) - x) for x, o in zip(X, O)]
mid = [stats.poisson.cdf(o - 1, e) + 0.5 * stats.poisson.pmf(o, e) for o, e in zip(O, E2)]
z2 = [stats.norm.ppf(m) for m in mid]
phi2, tau22 = tau2_of(z2, E2, 0.2)
print("2. leave-one-out E", [repr(v) for v in E2])
print("   exact z", [repr(v) for v in z2])
print("   phi", repr(phi2), "tau2", repr(tau22))
# p_low of unit 3 (O = 0): E[exp(−E·θ)], √θ ~ N(1, τ²) truncated at 0, by quadrature
e3 = E2[2]
tau = math.sqrt(tau22)
p3 = stats.norm.expect(lambda u: math.exp(-e3 * max(0.0, 1 + tau * u) ** 2))
print("   p_low unit 3 (O=0)", repr(p3), "plain Poisson", repr(math.exp(-e3)))
