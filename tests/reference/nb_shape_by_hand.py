"""Reference figures for the gamma funnel's shape (tests/test_funnel_gamma.py,
``test_shape_is_the_global_maximum_and_the_posterior_mean``).

The district: 30 units of a district of the independent detection grid (general
hazards found, 30 units, gamma(2) unit effect, null twin), whose mixture profile
likelihood has its maximum near k = 2 and a ridge that rises slowly towards k = ∞.

This script evaluates the profile ℓ_p(k) of ``_nb_fit._em`` (each point fitted from the
same start: pooled group rates, π = 0.1) on a dense grid, 2,000 points uniform in
α = 1/k over (0, 2], independent of the coarse log-k grid and the Brent search in
``fit_nb_mixture``, and prints:

* the argmax of the dense profile (k̂ by brute force);
* the posterior median of α under a flat prior on α and under the exponential prior
  with mean 0.25 that the fit uses (plain trapezoid rule in α), and 1/med(α), the
  shape the funnel tests with.

Run: .venv/bin/python tests/reference/nb_shape_by_hand.py
Printed (2026-12-05): k̂ = 2.113 (dense grid argmax; ℓ −164.79 there, −183.18 at
k = 10⁶), 1/med(α) = 1.950.
"""

import numpy as np

from anquan_analysis.checks import _nb_fit as NB
from anquan_analysis.checks import _stats as S

O = np.array([69, 60, 769, 633, 22, 22, 368, 161, 110, 71, 156, 54, 156, 38, 51, 138, 42, 22,
              17, 112, 97, 126, 55, 90, 28, 56, 22, 46, 187, 100], float)
X = np.array([32, 31, 302, 255, 37, 17, 122, 101, 61, 228, 62, 53, 57, 106, 49, 183, 42, 90,
              20, 97, 45, 127, 10, 49, 14, 57, 49, 40, 26, 38], float)
T = ["town", "town"] + ["department"] * 9 + ["town"] * 11 + ["all", "town", "all"] \
    + ["town"] * 3 + ["all", "town"]
NAMES = ["all", "department", "town"]
GROUP = np.array([NAMES.index(t) for t in T])


def profile(k: float) -> float:
    state = [NB._group_rates(O, X, GROUP, 3, 0), 0.1]
    ll, _, _ = NB._em(O, X, k, state, group=GROUP, everyone=0, fixed_mu=None,
                     c_main=S._nb_const(O, k), c_broad=S._nb_const(O, S.CONTAMINATION_SHAPE),
                     broad=S.CONTAMINATION_SHAPE, max_contamination=0.3)
    return ll


def main() -> None:
    alpha = np.linspace(1e-6, 2.0, 2000)
    ll = np.array([profile(1 / a) for a in alpha])
    k_hat = 1 / alpha[np.argmax(ll)]
    print(f"k̂ (dense grid argmax) = {k_hat:.3f}; ℓ at k̂ = {ll.max():.2f}, "
          f"at k = 10⁶: {profile(1e6):.2f}")
    for label, prior in (("flat prior on α", np.ones_like(alpha)),
                         ("exponential prior on α, mean 0.25", np.exp(-alpha / 0.25))):
        dens = np.exp(ll - ll.max()) * prior
        cum = np.concatenate([[0.0], np.cumsum(np.diff(alpha) * (dens[1:] + dens[:-1]) / 2)])
        med_alpha = float(np.interp(0.5, cum / cum[-1], alpha))
        print(f"1/med(α) ({label}) = {1 / med_alpha:.3f}")


if __name__ == "__main__":
    main()
