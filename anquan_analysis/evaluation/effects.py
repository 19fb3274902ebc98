"""Between-unit effects and the count distributions of the benchmark districts.

Written apart from ``synth`` and from the checks (issue 12): these are the generating
laws of ``districts.py`` and the exact distributions the oracle (``oracle.py``) uses.

A unit's monthly count of an indicator with month-to-month noise is Poisson given a
rate λ, and λ is gamma with shape ``m·s_t`` and scale ``θ`` (``m`` the month shape,
``s_t`` the month's weight, ``θ = μ/m`` for a unit whose monthly mean is ``μ`` at
weight 1).  Given the unit, the count is negative binomial; because the scale is the
same in every month, a sum of months is again negative binomial with shape
``m·Σs_t``, and the split of a unit's total over months is Dirichlet-multinomial
(both used by the oracle).  ``month_shape=None`` means plain Poisson months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats


@dataclass(frozen=True)
class UnitEffect:
    """A multiplicative unit effect with mean 1: ``gamma`` with shape ``shape`` (scale
    1/shape, variance 1/shape) or ``lognormal`` with log-sd ``sigma`` (log-mean
    −σ²/2, variance e^{σ²} − 1)."""

    law: str
    shape: float = math.nan
    sigma: float = math.nan

    def __post_init__(self):
        if self.law == "gamma" and not self.shape > 0:
            raise ValueError(f"gamma unit effect needs shape > 0, got {self.shape}")
        if self.law == "lognormal" and not self.sigma > 0:
            raise ValueError(f"lognormal unit effect needs sigma > 0, got {self.sigma}")
        if self.law not in ("gamma", "lognormal"):
            raise ValueError(f"unknown unit-effect law {self.law!r} (gamma, lognormal)")

    @property
    def label(self) -> str:
        if self.law == "gamma":
            return f"gamma{self.shape:g}"
        return "lognormal" if self.sigma == LOGNORMAL_SIGMA else f"lognormal{self.sigma:g}"

    @property
    def variance(self) -> float:
        if self.law == "gamma":
            return 1.0 / self.shape
        return math.expm1(self.sigma ** 2)

    def _frozen(self):
        if self.law == "gamma":
            return stats.gamma(self.shape, scale=1.0 / self.shape)
        return stats.lognorm(self.sigma, scale=math.exp(-self.sigma ** 2 / 2))

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent effects."""
        if self.law == "gamma":
            return rng.gamma(self.shape, 1.0 / self.shape, size=n)
        return np.exp(rng.normal(-self.sigma ** 2 / 2, self.sigma, size=n))

    def grid(self, points: int = 801, tail: float = 1e-15) -> tuple[np.ndarray, np.ndarray]:
        """Nodes ``u`` and weights summing to 1 for E[h(u)] = Σ w·h(u).

        The trapezoid rule on an even grid in log u between the ``tail`` and
        1 − ``tail`` quantiles.  In log u the integrand density·u is smooth and decays
        at both ends, where the trapezoid rule converges faster than any power of the
        step; the mass left outside is 2·``tail``.  It keeps the near-zero effects
        that carry the tail of a run of zeros (a Gauss rule with few nodes does not).
        """
        dist = self._frozen()
        lo, hi = np.log(dist.ppf(tail)), np.log(dist.isf(tail))
        logu = np.linspace(lo, hi, points)
        u = np.exp(logu)
        w = dist.pdf(u) * u
        w[[0, -1]] *= 0.5
        return u, w / w.sum()


LOGNORMAL_SIGMA = 0.6


def unit_effect(spec) -> UnitEffect:
    """The unit effect named by a grid label: ``gamma2``, ``gamma4``, ``gamma10``
    (any ``gammaK``), ``lognormal`` (σ = 0.6) or ``lognormalS``; a UnitEffect is
    returned as it is."""
    if isinstance(spec, UnitEffect):
        return spec
    text = str(spec)
    if text.startswith("gamma"):
        return UnitEffect("gamma", shape=float(text[5:]))
    if text.startswith("lognormal"):
        rest = text[len("lognormal"):]
        return UnitEffect("lognormal", sigma=float(rest) if rest else LOGNORMAL_SIGMA)
    raise ValueError(f"unknown overdispersion {spec!r}: gammaK or lognormal[σ]")


# ------------------------------------------------------------------ count laws
def nb_p(mean, shape):
    """scipy's ``p`` of a negative binomial with this mean and shape (n)."""
    mean, shape = np.asarray(mean, float), np.asarray(shape, float)
    return shape / (shape + mean)


def count_pmf(mean, shape, kmax: int) -> np.ndarray:
    """P(Y = k), k = 0..kmax, along a new last axis, for Y negative binomial with this
    mean and shape (Poisson where ``shape`` is None or infinite).  ``mean`` and
    ``shape`` broadcast."""
    mean = np.asarray(mean, float)[..., None]
    k = np.arange(kmax + 1)
    # closed forms through log-gamma: scipy.stats' argument checks cost more than the
    # arithmetic on the oracle's [unit, month, k] arrays
    if shape is None or np.all(np.isinf(shape)):
        with np.errstate(divide="ignore", invalid="ignore"):
            logp = special.xlogy(k, mean) - mean - special.gammaln(k + 1)
        return np.where(mean > 0, np.exp(logp), (k == 0).astype(float))
    shape = np.asarray(shape, float)[..., None]
    p = nb_p(mean, shape)
    logp = (special.gammaln(k + shape) - special.gammaln(shape) - special.gammaln(k + 1)
            + shape * np.log(p) + special.xlog1py(k, -p))
    return np.exp(logp)


def count_cdf(y, mean, shape) -> np.ndarray:
    """P(Y ≤ y) for the same law as ``count_pmf``; arguments broadcast."""
    if shape is None:
        return stats.poisson.cdf(y, mean)
    shape = np.asarray(shape, float)
    return np.where(np.isinf(shape), stats.poisson.cdf(y, mean),
                    stats.nbinom.cdf(y, np.where(np.isinf(shape), 1.0, shape),
                                     nb_p(mean, np.where(np.isinf(shape), 1.0, shape))))


def mixture_cdf(y, base_mean, total_shape, effect: UnitEffect) -> np.ndarray:
    """P(Y ≤ y) per unit when Y | u is negative binomial with mean u·``base_mean`` and
    shape ``total_shape`` (Poisson if None) and u follows ``effect``: the marginal law of
    a unit's count over a window when its effect is not known.  ``y`` and
    ``base_mean`` are per unit; integrated on ``UnitEffect.grid``."""
    u, w = effect.grid()
    mean = np.asarray(base_mean, float)[:, None] * u[None, :]
    shape = None if total_shape is None else np.full(mean.shape, float(total_shape))
    return np.clip(count_cdf(np.asarray(y)[:, None], mean, shape) @ w, 0.0, 1.0)


def poisson_binomial_sf(p: np.ndarray, k) -> np.ndarray:
    """P(X ≥ k) for X the number of successes of independent trials with success
    probabilities ``p`` along the last axis; ``k`` broadcasts against ``p[..., 0]``.
    Exact, by the recursion over trials of the distribution of the count."""
    p = np.clip(np.asarray(p, float), 0.0, 1.0)
    n = p.shape[-1]
    dist = np.zeros(p.shape[:-1] + (n + 1,))
    dist[..., 0] = 1.0
    for t in range(n):
        pt = p[..., t][..., None]
        shifted = np.concatenate([np.zeros(dist.shape[:-1] + (1,)), dist[..., :-1]], axis=-1)
        dist = dist * (1 - pt) + shifted * pt
    # P(X >= k): reverse cumulative sum, index k (k > n gives 0, k <= 0 gives 1)
    tail = np.concatenate([np.cumsum(dist[..., ::-1], axis=-1)[..., ::-1],
                           np.zeros(dist.shape[:-1] + (1,))], axis=-1)
    kk = np.clip(np.asarray(k, int), 0, n + 1)
    kk = np.broadcast_to(kk, tail.shape[:-1])
    return np.take_along_axis(tail, kk[..., None], axis=-1)[..., 0].clip(0.0, 1.0)


def nb_residue_prob(shape, p, residue, base: int) -> np.ndarray:
    """P(X ≡ residue (mod base)) for X negative binomial (scipy's n = ``shape``, p),
    exactly, by the discrete Fourier transform of the probability generating function
    G(z) = (p / (1 − (1 − p)·z))ⁿ at the base-th roots of unity:
    P = (1/base)·Σ_j ω^(−j·residue)·G(ω^j), ω = e^(2πi/base).  Arguments broadcast."""
    shape, p = np.asarray(shape, float)[..., None], np.asarray(p, float)[..., None]
    residue = np.asarray(residue)[..., None]
    j = np.arange(base)
    w = np.exp(2j * np.pi * j / base)
    # principal branch: Re(1 − (1 − p)ω) > 0, so the power is continuous in p
    g = np.exp(shape * (np.log(p) - np.log(1 - (1 - p) * w)))
    out = (np.exp(-2j * np.pi * j * residue / base) * g).sum(axis=-1).real / base
    return np.clip(out, 0.0, 1.0)


def pair_products(f: np.ndarray, g: np.ndarray | None = None) -> np.ndarray:
    """[a, b, t] = Σ_k f[a, t, k]·g[b, t, k] (g defaults to f), as one batched matrix
    product per month."""
    g = f if g is None else g
    return np.matmul(f.transpose(1, 0, 2), g.transpose(1, 2, 0)).transpose(1, 2, 0)
