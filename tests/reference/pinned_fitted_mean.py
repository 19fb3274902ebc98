"""Reference values for pinned_rate's fitted mean and spread (``rate_spread.rate_means``)
and for the joint bound over pairs (``rate_spread.all_rectified_jointly``), computed
with the standard library only (math.lgamma, nested golden-section searches, a
midpoint rule on a fine grid): nothing of the package or of scipy.

SPREAD panel (tests/test_checks_floors_pinned.py ``_spread_panel``): 甲镇 rectifies all
48 of its major hazards; seven peers find 60 each and rectify 50, 51, 52, 48, 54, 45,
57.  The mean μ and the concentration c of the Beta(μc, (1 − μ)c) rates are fitted
to the seven units below 100% by their likelihood conditioned on r < n,
    log B(r + a, n − r + b) − log B(a, b) − log(1 − B(n + a, b) / B(a, b)),
maximised over logit μ (inner golden section) and log10 c (outer golden section).
P(all 48 rectified) = B(a + 48, b) / B(a, b).

Joint bound: two pairs with the same Beta(40, 10) rates, 30 and 20 hazards: the
comonotone integral ∫ Q(u)^30 Q(u)^20 du is E[ρ^50] = B(90, 10) / B(40, 10)
(one rate for both pairs); and for Beta(40, 10) and Beta(20, 20) with 30 and 5
hazards, the integral by a midpoint rule in x = Q₁(u) (Q₂(F₁(x)) by bisection on
the regularised incomplete beta, itself a midpoint rule of the density).

    python tests/reference/pinned_fitted_mean.py
"""

import math

PEERS, N_PEER, N_PINNED = [50, 51, 52, 48, 54, 45, 57], 60, 48


def betaln(a, b):
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def golden_max(f, lo, hi, tol=1e-9):
    g = (math.sqrt(5) - 1) / 2
    x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
    f1, f2 = f(x1), f(x2)
    while hi - lo > tol:
        if f1 < f2:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + g * (hi - lo)
            f2 = f(x2)
        else:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - g * (hi - lo)
            f1 = f(x1)
    return (lo + hi) / 2


def loglik(x, log10_c):
    mu, c = 1 / (1 + math.exp(-x)), 10.0 ** log10_c
    a, b = mu * c, (1 - mu) * c
    base = betaln(a, b)
    total = 0.0
    for r in PEERS:
        p_all = math.exp(betaln(N_PEER + a, b) - base)
        total += betaln(r + a, N_PEER - r + b) - base - math.log(1 - p_all)
    return total


def profile(log10_c):
    x = golden_max(lambda x: loglik(x, log10_c), -12, 12)
    return loglik(x, log10_c), x


def all_rectified(n, a, b):
    return math.exp(betaln(a + n, b) - betaln(a, b))


def beta_cdf(x, a, b, steps=20000):
    """Regularised incomplete beta by a midpoint rule of the density."""
    h = x / steps
    lb = betaln(a, b)
    return sum(math.exp((a - 1) * math.log((k + 0.5) * h) + (b - 1) * math.log(1 - (k + 0.5) * h)
                        - lb) for k in range(steps)) * h


def main():
    log10_c = golden_max(lambda v: profile(v)[0], -0.5, 6.0)
    ll, x = profile(log10_c)
    mu, c = 1 / (1 + math.exp(-x)), 10.0 ** log10_c
    print(f"SPREAD: mu = {mu!r}, c = {c!r}")
    print(f"  P(all 48) = {all_rectified(N_PINNED, mu * c, (1 - mu) * c)!r}")
    # PINNED: ten peers of 60 hazards at about 85%, within binomial noise: the
    # profile of c rises to its upper edge (binomial), where the conditional
    # likelihood of μ is Σ r log μ + (n − r) log(1 − μ) − log(1 − μⁿ)
    peers = [48, 52, 50, 54, 49, 51, 53, 50, 52, 51]
    binom = golden_max(lambda m: sum(r * math.log(m) + (60 - r) * math.log(1 - m)
                                     - math.log(1 - m ** 60) for r in peers), 0.5, 0.99)
    print(f"PINNED: mu = {binom!r}, P(all 36) = {binom ** 36!r}, q = 11 p = {11 * binom ** 36!r}")
    print(f"joint, one Beta(40, 10): {all_rectified(50, 40, 10)!r}")
    # Beta(40, 10) with 30 hazards, Beta(20, 20) with 5: ∫ x^30 · Q2(F1(x))^5 dF1(x)
    lb1 = betaln(40, 10)
    steps, total, cdf1 = 4000, 0.0, 0.0
    grid_cdf2 = [(k / 400, beta_cdf(k / 400, 20, 20, 2000)) for k in range(1, 400)]
    for k in range(steps):
        xm = (k + 0.5) / steps
        dens = math.exp(39 * math.log(xm) + 9 * math.log(1 - xm) - lb1)
        u = cdf1 + dens / steps / 2
        cdf1 += dens / steps
        # Q2(u) by linear interpolation in the tabulated cdf of Beta(20, 20)
        lo = (0.0, 0.0)
        q2 = 1.0
        for xx, cc in grid_cdf2:
            if cc >= u:
                q2 = lo[0] + (xx - lo[0]) * (u - lo[1]) / (cc - lo[1])
                break
            lo = (xx, cc)
        total += xm ** 30 * q2 ** 5 * dens / steps
    print(f"joint, Beta(40, 10) x 30 and Beta(20, 20) x 5: {total!r}")


if __name__ == "__main__":
    main()
