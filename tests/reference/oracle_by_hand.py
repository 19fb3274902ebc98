"""Reference values for the benchmark oracle (anquan_analysis/evaluation), worked out
without it: closed forms in plain Python (math.lgamma, math.comb, series), and where no
closed form exists scipy.integrate.quad, an adaptive rule on the linear scale, against
the oracle's trapezoid rule in log u.  The numbers printed are asserted in
tests/test_evaluation_oracle.py.  Run: python tests/reference/oracle_by_hand.py
"""

import itertools
import math

from scipy import integrate, stats


def nb_pmf(y, k, mu):
    """Gamma(k, mean 1) mixture of Poisson(u·mu): negative binomial, by hand."""
    return math.exp(math.lgamma(k + y) - math.lgamma(k) - math.lgamma(y + 1)
                    + k * math.log(k / (k + mu)) + y * math.log(mu / (k + mu)))


# 1. gamma unit effect, Poisson months: the marginal is NB(k, k/(k+mu)) in closed form
print("1a P(Y=0 | k=4, mu=13.2) =", repr((4 / 17.2) ** 4))
print("1b P(Y<=3 | k=4, mu=13.2) =", repr(sum(nb_pmf(y, 4, 13.2) for y in range(4))))
print("1c P(Y=0 | k=2, mu=30) =", repr((2 / 32) ** 2))            # 1/256
print("1d P(Y<=5 | k=10, mu=24) =", repr(sum(nb_pmf(y, 10, 24) for y in range(6))))


# 2. month noise too: Y | u ~ NB(shape 120, mean u·13.2); u ~ Gamma(4) or lognormal(0.6)
def nb_cdf_given_u(y, u, shape=120.0, mu=13.2):
    return stats.nbinom.cdf(y, shape, shape / (shape + u * mu))


def by_quad(y, density):
    val, _ = integrate.quad(lambda u: nb_cdf_given_u(y, u) * density(u), 0, math.inf,
                            epsabs=0, epsrel=1e-10, limit=500, points=None)
    return val


gamma4 = stats.gamma(4, scale=0.25).pdf
lognorm = stats.lognorm(0.6, scale=math.exp(-0.18)).pdf
print("2a P(Y=0 | NB(120, u*13.2), u~Gamma(4)) =", repr(by_quad(0, gamma4)))
print("2b P(Y<=3 | same) =", repr(by_quad(3, gamma4)))
print("2c P(Y=0 | NB(120, u*13.2), u~lognormal(0.6)) =", repr(by_quad(0, lognorm)))

# 3. Poisson-binomial tail by enumeration of the 2^5 outcomes
p = [0.1, 0.5, 0.3, 0.9, 0.25]
tail = 0.0
for outcome in itertools.product([0, 1], repeat=len(p)):
    if sum(outcome) >= 3:
        tail += math.prod(pi if o else 1 - pi for pi, o in zip(p, outcome))
print("3 P(X>=3), p =", p, ":", repr(tail))

# 4. P(X = Y), X ~ Poisson(1.3), Y ~ Poisson(2.1): e^-(a+b) I0(2 sqrt(ab)), by its series
a, b = 1.3, 2.1
print("4 P(X=Y) =", repr(math.exp(-(a + b)) * sum((a * b) ** k / math.factorial(k) ** 2
                                                   for k in range(60))))

# 5. all of N hazards rectified when the rate is Beta(40, 10): B(40 + N, 10) / B(40, 10)
for n in (19, 60, 120):
    lb = (math.lgamma(40 + n) + math.lgamma(50)) - (math.lgamma(40) + math.lgamma(50 + n))
    print(f"5 E[rho^{n}], rho~Beta(40,10) =", repr(math.exp(lb)))

# 6. a binomial upper tail: P(X >= 9), X ~ Binomial(20, 1/12)
print("6 P(Bin(20, 1/12) >= 9) =",
      repr(sum(math.comb(20, j) * (1 / 12) ** j * (11 / 12) ** (20 - j) for j in range(9, 21))))
