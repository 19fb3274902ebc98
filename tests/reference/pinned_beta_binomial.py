"""Reference values for pinned_rate's beta-binomial (issue 12), computed with the
standard library only (math.lgamma, a golden-section search, bisection): nothing of
the package or of scipy.

Two panels of tests/test_checks_balance.py (``_spread_panel``):

* SPREAD: eight towns, six months.  甲镇 finds 8 major hazards a month and rectifies
  all 48.  Seven peers find 10 a month (60 each) and rectify 50, 51, 52, 48, 54, 45
  and 57: rates 75–95%, wider than binomial noise.
* PINNED: eleven towns, twelve months.  甲镇 finds 3 a month and rectifies all 36.
  Ten peers find 5 a month (60 each) and rectify 48, 52, 50, 54, 49, 51, 53, 50,
  52, 51: about 85%, within binomial noise.  q is Tarone's BH (α = 0.05): the
  family is every unit whose P(all n) could reach α/K.

Each unit's peer rate ρ leaves the unit out: 甲's peers rectified 357 of 420
(ρ = 0.85); a peer's peers are the other six and 甲.  The concentration c of the
Beta(ρc, (1 − ρ)c) rates is fitted to the seven units below 100%, each by its
likelihood conditioned on r < n:
    log B(r + a, n − r + b) − log B(a, b) − log(1 − B(n + a, b) / B(a, b)),
maximised over log10 c by golden section on [−0.5, 6]; the 80% one-sided lower
bound of c is where the log-likelihood falls z²/2 = 0.8416212²/2 below its maximum
(bisection).  P(all 48 rectified) = Π_{k<48} (a + k) / (a + b + k).

    python tests/reference/pinned_beta_binomial.py
"""

import math

CASES = {"SPREAD": ([50, 51, 52, 48, 54, 45, 57], 60, 48),
         "PINNED": ([48, 52, 50, 54, 49, 51, 53, 50, 52, 51], 60, 36)}
PEERS, N_PEER, N_PINNED = CASES["SPREAD"]
Z80 = 0.8416212335729143       # the 0.8 quantile of the standard normal


def betaln(a, b):
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def units():
    """(n, r, ρ) of every unit below 100%, ρ of 甲, and (n, ρ) of every unit."""
    n = [N_PINNED] + [N_PEER] * len(PEERS)
    r = [N_PINNED] + PEERS
    rho = [(sum(r) - r[i]) / (sum(n) - n[i]) for i in range(len(n))]
    below = [(n[i], r[i], rho[i]) for i in range(len(n)) if r[i] < n[i]]
    return below, rho[0], list(zip(n, rho))


def loglik(log10_c, below):
    c = 10.0 ** log10_c
    total = 0.0
    for n, r, rho in below:
        a, b = rho * c, (1 - rho) * c
        base = betaln(a, b)
        p_all = math.exp(betaln(n + a, b) - base)
        total += betaln(r + a, n - r + b) - base - math.log(1 - p_all)
    return total


def golden_max(f, lo, hi, tol=1e-10):
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


def bisect(f, lo, hi, tol=1e-12):
    """The root of f on [lo, hi], f(lo) < 0 < f(hi)."""
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def p_all(n, rho, c):
    a, b = rho * c, (1 - rho) * c
    return math.prod((a + k) / (a + b + k) for k in range(n))


def tarone_q(p, p_min, alpha=0.05):
    """q of the first unit (the only one at 100%) under Tarone's BH."""
    m = len(p_min)
    k = next(k for k in range(1, m + 1) if sum(x <= alpha / k for x in p_min) <= k)
    family = sum(x <= alpha / k for x in p_min)
    return min(1.0, p * family)     # the smallest p of the family: rank 1


if __name__ == "__main__":
    for case, (PEERS, N_PEER, N_PINNED) in CASES.items():
        below, rho, every = units()
        f = lambda x: loglik(x, below)  # noqa: E731
        # the log-likelihood is unimodal here: checked on a grid of 0.01 first
        grid = [-0.5 + 0.01 * k for k in range(651)]
        k = max(range(len(grid)), key=lambda i: f(grid[i]))
        best = golden_max(f, grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)])
        c_mle = 10 ** best
        target = f(best) - Z80 ** 2 / 2
        c_low = 10 ** bisect(lambda x: f(x) - target, -0.5, best)
        p80 = p_all(N_PINNED, rho, c_low)
        print(f"{case}: rho = {rho!r}")
        print(f"  c_mle = {c_mle!r}  (10^6 is the edge of the search: binomial)")
        print(f"  c_80 = {c_low!r}")
        print(f"  binomial p = {rho ** N_PINNED!r}")
        print(f"  p_mle = {p_all(N_PINNED, rho, c_mle)!r}")
        print(f"  p_80 = {p80!r}")
        print(f"  q_80 = {tarone_q(p80, [p_all(n, r, c_low) for n, r in every])!r}")
