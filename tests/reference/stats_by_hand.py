"""Reference values for tests/test_checks_stats.py, worked out without the code under test.

Run: python tests/reference/stats_by_hand.py

- dispersion of z = (1, −1): the 10 % and 90 % quantiles of two points are −0.8 and 0.8
  (linear interpolation), so both z are clipped to ±0.8 and φ = 0.64; with s = (2, 2)
  the weights are 1/4, Σw − Σw²/Σw = 1/2 − (1/8)/(1/2) = 1/4 and
  τ² = (2·0.64 − 1)/(1/4) = 1.12 (with s = (1, 1): 0.28).
- winsor_consistency(0.1) = E[clip(Z, −c, c)²], here by numerical integration of the
  normal density (not the closed form the code uses).
- Exact Poisson limits at E = 0.5 (Garwood): χ²₀.₀₂₅(1)/2 and χ²₀.₉₇₅(3)/2, table values
  0.000982/2 and 9.348/2.
- exact_z(0, E) = Φ⁻¹(½·e^(−E)): E = 4 gives Φ⁻¹(0.0091578) = −2.359, E = 0.5 gives
  Φ⁻¹(0.30327) = −0.515.
- P(X = 0) with √θ ~ N(1, τ²), τ² = 1, E = 2: ∫ exp(−2·max(0, 1 + z)²) φ(z) dz, by
  numerical integration (not the Gauss–Hermite nodes the code uses).
"""

import math

from scipy import integrate, stats


def clipped_square(c):
    inside = integrate.quad(lambda z: z * z * stats.norm.pdf(z), -c, c)[0]
    return inside + 2 * c * c * stats.norm.sf(c)


def zero_chance(expected, tau2):
    tau = math.sqrt(tau2)
    f = lambda z: math.exp(-expected * max(0.0, 1 + tau * z) ** 2) * stats.norm.pdf(z)  # noqa: E731
    return integrate.quad(f, -12, 12, points=[-1 / tau], limit=200)[0]


if __name__ == "__main__":
    print("winsor_consistency(0.1) =", clipped_square(stats.norm.ppf(0.9)))
    print("exact_z(0, 4)   =", stats.norm.ppf(0.5 * math.exp(-4)))
    print("exact_z(0, 0.5) =", stats.norm.ppf(0.5 * math.exp(-0.5)))
    print("Garwood E=0.5   =", stats.chi2.ppf(0.025, 1) / 2, stats.chi2.ppf(0.975, 3) / 2)
    print("P(X=0 | E=2, tau2=1) =", zero_chance(2.0, 1.0))
    print("P(X=0 | E=2, tau2=0) =", math.exp(-2))
