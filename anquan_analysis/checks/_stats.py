"""The statistics the checks share: Poisson and gamma-Poisson tails, the funnel's
dispersion and limits, and Benjamini–Hochberg adjustment (the gamma–Poisson mixture fit: ``_nb_fit``).  Plain functions of arrays;
nothing here reads a panel.

References: Spiegelhalter (2005) "Handling over-dispersion of performance indicators";
the FunnelPlotR package (Hastings); Benjamini & Hochberg (1995); Tarone (1990) and
Gilbert (2005) for discrete tests.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats


def winsor_consistency(winsor: float) -> float:
    """E[clip(Z, −c, c)²] for Z standard normal and c its 1 − ``winsor`` quantile:
    (1 − 2w) − 2cφ(c) + 2wc².  Winsorising shrinks mean(z²) by this factor even when
    the z are exactly N(0, 1) (0.68 at w = 0.1, 0.41 at w = 0.2)."""
    if winsor <= 0:
        return 1.0
    c = stats.norm.ppf(1 - winsor)
    return float((1 - 2 * winsor) - 2 * c * stats.norm.pdf(c) + 2 * winsor * c * c)


# median of the χ²₁ law: median(z²) of N(0, 1) scores
CHI2_1_MEDIAN = float(stats.chi2.ppf(0.5, 1))


def dispersion(z, s, *, winsor: float = 0.1, consistent: bool = False,
               robust: bool = False) -> tuple[float, float]:
    """(φ, τ²) from z-scores and their standard errors: z winsorised at the
    ``winsor`` and ``1 − winsor`` quantiles, φ = mean(z²),
    τ² = max(0, (nφ − (n−1)) / (Σw − Σw²/Σw)), w = 1/s².  NaN z are left out;
    (NaN, 0) with fewer than 2 values.  ``consistent=False`` is FunnelPlotR's φ;
    with ``consistent=True`` φ is divided by ``winsor_consistency(winsor)``, so that
    it is 1 on average for z that are N(0, 1): the winsorised φ alone is biased
    low, which sets τ² to 0 under real overdispersion (at w = 0.2, until the true
    φ exceeds 2.4) and makes the tests anti-conservative.  ``robust=True`` ignores
    ``winsor``: φ = median(z²) / 0.4549 (the median of χ²₁), consistent for N(0, 1)
    scores and unmoved by up to half of the z being anomalous, where the winsorised
    φ of a small group is set by the one clipped extreme (five units, one at 0 of 30:
    its clipped z alone doubles φ)."""
    z = np.asarray(z, dtype=float)
    s = np.asarray(s, dtype=float)
    ok = np.isfinite(z) & np.isfinite(s) & (s > 0)
    z, s = z[ok], s[ok]
    n = len(z)
    if n < 2:
        return float("nan"), 0.0
    if robust:
        phi = float(np.median(z ** 2)) / CHI2_1_MEDIAN
    else:
        lo, hi = np.quantile(z, [winsor, 1 - winsor])
        zw = np.clip(z, lo, hi)
        phi = float(np.mean(zw ** 2))
        if consistent:
            phi /= winsor_consistency(winsor)
    w = 1.0 / s ** 2
    denom = w.sum() - (w ** 2).sum() / w.sum()
    tau2 = max(0.0, (n * phi - (n - 1)) / denom) if denom > 0 else 0.0
    return phi, float(tau2)


def funnel_limits(expected, tau2=0.0, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper funnel limits on the count scale for expected counts ``E`` at
    two-sided ``level``: exact Poisson (chi-square form) when τ² = 0, else the
    overdispersed square-root-scale limits ``E·(1 ± z √(1/(4E) + τ²))²`` (the lower
    one 0 where ``1 − z√…`` is negative)."""
    e = np.asarray(expected, dtype=float)
    tau2 = np.broadcast_to(np.asarray(tau2, dtype=float), e.shape)
    alpha = 1 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        lo_exact = stats.chi2.ppf(alpha / 2, 2 * e) / 2
        hi_exact = stats.chi2.ppf(1 - alpha / 2, 2 * (e + 1)) / 2
        zq = stats.norm.ppf(1 - alpha / 2)
        half = zq * np.sqrt(1 / (4 * e) + tau2)
        lo_od = e * np.clip(1 - half, 0, None) ** 2
        hi_od = e * (1 + half) ** 2
    od = tau2 > 0
    lower = np.where(od, lo_od, lo_exact)
    upper = np.where(od, hi_od, hi_exact)
    bad = ~(e > 0)
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


# Gauss–Hermite nodes for averaging over a standard normal unit effect.
GH_X, GH_W = np.polynomial.hermite_e.hermegauss(48)
GH_W = GH_W / GH_W.sum()


def effect_multiplier(tau2) -> np.ndarray:
    """Multipliers θ_k = max(0, 1 + τ z_k)² of the expected count at the quadrature
    nodes z_k: the random effect of the funnel's model, additive on the square-root
    scale (√θ ~ N(1, τ²)).  Shape tau2.shape + (nodes,)."""
    tau = np.sqrt(np.asarray(tau2, dtype=float))[..., None]
    return np.clip(1.0 + tau * GH_X, 0.0, None) ** 2


def poisson_cdf(k, mu) -> np.ndarray:
    """P(X ≤ k) for X Poisson(mu), ``k`` already whole: the ``special.pdtr`` that
    ``stats.poisson.cdf`` calls (same values), without its per-call argument
    handling, which costs as much again; 0 for k < 0 and NaN for a bad μ as there."""
    k = np.asarray(k, dtype=float)
    with np.errstate(invalid="ignore"):
        p = special.pdtr(np.maximum(k, 0.0), mu)
    return np.where((k < 0) & (np.asarray(mu) >= 0), 0.0, p)


def count_cdf(observed, expected, tau2=0.0) -> np.ndarray:
    """P(X ≤ O) for X Poisson(E·θ), θ the unit effect of the funnel model (√θ normal
    with mean 1 and variance τ²; θ = 1 when τ² = 0), averaged over θ by Gauss–Hermite
    quadrature.  Exact Poisson for τ² = 0, so small counts and zeros are judged
    exactly.  NaN where E is not positive."""
    o, e, tau2 = np.broadcast_arrays(np.asarray(observed, dtype=float),
                                     np.asarray(expected, dtype=float),
                                     np.asarray(tau2, dtype=float))
    shape = o.shape
    k, e, tau2 = np.floor(o).ravel(), e.ravel(), tau2.ravel()
    p = np.empty(k.shape)
    flat = tau2 == 0
    with np.errstate(invalid="ignore"):
        # τ² = 0: θ = 1 at every node, so one Poisson cdf per value, spread over the
        # nodes as before (the same products and sum, so the same bits)
        p[flat] = (poisson_cdf(k[flat], e[flat])[:, None] * GH_W).sum(axis=-1)
        rest = ~flat
        mu = e[rest][:, None] * effect_multiplier(tau2[rest])
        p[rest] = (poisson_cdf(k[rest][:, None], mu) * GH_W).sum(axis=-1)
    e = e.reshape(shape)
    return np.where(e > 0, np.clip(p.reshape(shape), 0.0, 1.0), np.nan)


def zero_probability(expected, tau2=0.0) -> np.ndarray:
    """P(X = 0) under the same model as ``count_cdf``: E[exp(−E·θ)]."""
    return count_cdf(np.zeros(np.shape(expected)), expected, tau2)


def exact_z(observed, expected) -> np.ndarray:
    """The normal score of the exact Poisson mid-p value, Φ⁻¹(P(X < O) + ½P(X = O)),
    X ~ Poisson(E).  Close to 2(√O − √E) for large counts, but a 0 against a small
    E scores what it is worth (O = 0, E = 4: −2.36, not −4), so that zeros from
    small units do not inflate the dispersion estimate."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    with np.errstate(invalid="ignore"):
        mid = poisson_cdf(np.floor(o - 1), e) + 0.5 * stats.poisson.pmf(o, e)
    return np.where(e > 0, stats.norm.ppf(mid), np.nan)


def bh_adjust(p_values) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN p-values stay NaN and
    do not count as tests."""
    p = np.asarray(p_values, dtype="float64")
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(np.clip(p[ok], 0.0, 1.0), method="bh")
    return q


def bh_of_smallest(p: np.ndarray, n_tests: int) -> np.ndarray:
    """Benjamini–Hochberg q-values of ``p`` when they are the smallest of ``n_tests``
    tests whose other p-values are 1 (tests with nothing to report).  Equal to
    ``findings.bh_adjust`` on the padded vector, without building it."""
    p = np.asarray(p, dtype="float64")
    if p.size == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n_tests / np.arange(1, p.size + 1)
    q_sorted = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    q = np.empty_like(q_sorted)
    q[order] = q_sorted
    return q


def tarone_bh(p: np.ndarray, p_min: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """BH q-values for discrete tests, over Tarone's family only: with K the smallest
    integer such that at most K tests can reach p ≤ alpha/K (their smallest
    achievable p-value ``p_min``), tests that cannot are left out of the count
    (Tarone 1990; Gilbert 2005) and get q = 1.  A unit with three hazards cannot
    show 100% rectification to be improbable, so it should not dilute the others."""
    p, p_min = np.asarray(p, float), np.asarray(p_min, float)
    q = np.ones(p.shape)
    if p.size == 0:
        return q
    srt = np.sort(p_min)
    ks = np.arange(1, p.size + 1)
    m_k = np.searchsorted(srt, alpha / ks, side="right")
    k = int(ks[np.argmax(m_k <= ks)]) if (m_k <= ks).any() else p.size
    family = p_min <= alpha / k
    if family.any():
        q[family] = bh_adjust(p[family])
    return q


# ------------------------------------------------------------- gamma–Poisson (NB)
# The gamma model's unit effect θ ~ Gamma(k, 1/k) (mean 1, variance 1/k) makes a
# count with mean E negative binomial: P(X = x) = Γ(x+k)/(Γ(k) x!) p^k (1−p)^x with
# p = k/(k+E), variance E + E²/k.  scipy's nbinom(n=k, p) is this distribution.
SHAPE_MIN, SHAPE_MAX = 0.5, 1e6
CONTAMINATION_SHAPE = 0.3


def _nb_p(expected, shape) -> np.ndarray:
    return np.asarray(shape, float) / (np.asarray(shape, float) + np.asarray(expected, float))


def nb_cdf(observed, expected, shape) -> np.ndarray:
    """P(X ≤ O) for X negative binomial with mean E and shape k (``stats.nbinom``
    with n = k, p = k/(k + E)); O is floored, O < 0 gives 0, NaN where E is not
    positive."""
    o, e, k = np.broadcast_arrays(np.floor(np.asarray(observed, dtype=float)),
                                  np.asarray(expected, dtype=float),
                                  np.asarray(shape, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = stats.nbinom.cdf(o, k, _nb_p(e, k))
    return np.where(e > 0, np.clip(p, 0.0, 1.0), np.nan)


def nb_zero_probability(expected, shape) -> np.ndarray:
    """P(X = 0) = (1 + E/k)^(−k) for X negative binomial with mean E and shape k.
    For a run of periods whose counts share one gamma effect, E is the run's total
    mean: the chance that the whole run is 0 is E_θ[exp(−Eθ)] = (1 + E/k)^(−k), not
    the product of the periods' own zero probabilities.  NaN where E ≤ 0."""
    e = np.asarray(expected, dtype=float)
    k = np.asarray(shape, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.exp(-k * np.log1p(e / k))
    return np.where(e > 0, p, np.nan)


def nb_mid_z(observed, expected, shape) -> np.ndarray:
    """Normal score of the NB mid-p value, Φ⁻¹(P(X < O) + ½P(X = O)): the gamma
    model's z-score (negative below what peers predict), NaN where E ≤ 0."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    k = np.asarray(shape, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = _nb_p(e, k)
        mid = stats.nbinom.cdf(o - 1, k, p) + 0.5 * stats.nbinom.pmf(o, k, p)
        z = stats.norm.ppf(mid)
    return np.where(e > 0, z, np.nan)


def nb_limits(expected, shape, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper funnel limits on the count scale for a negative binomial count
    with mean E and shape k at two-sided ``level``: the boundaries of the exact test.

    P(X ≤ c) = I_p(k, c + 1) (the regularised incomplete beta, p = k/(k+E)) is
    continuous and increasing in c, so with c_lo solving I_p(k, c_lo + 1) = α/2 a
    count O lies below the lower limit exactly when P(X ≤ O) < α/2, and with c_hi
    solving I_p(k, c_hi + 1) = 1 − α/2 it lies above the upper limit c_hi + 1
    exactly when P(X ≥ O) < α/2 (``special.btdtrib`` inverts I in its second
    argument).  The curve through the integer steps is smooth, so the plot draws
    what the test judges.  The lower limit is 0 where P(X = 0) ≥ α/2 (no count is
    low enough); NaN where E ≤ 0."""
    e = np.asarray(expected, dtype=float)
    k = np.broadcast_to(np.asarray(shape, dtype=float), e.shape)
    alpha = 1 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        p = _nb_p(e, k)
        lower = np.clip(special.btdtrib(k, alpha / 2, p) - 1.0, 0.0, None)
        upper = special.btdtrib(k, 1 - alpha / 2, p)
    bad = ~(e > 0)
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


def nb_logpmf(observed, expected, shape) -> np.ndarray:
    """log P(X = O) for X negative binomial with mean E and shape k; equal to
    ``stats.nbinom.logpmf(O, k, k/(k+E))`` (written out so that the fit below can
    keep the Γ terms, which do not change with E, between iterations)."""
    o, e, k = (np.asarray(v, dtype=float) for v in (observed, expected, shape))
    return _nb_const(o, k) + _nb_kernel(o, e, k)


def _nb_const(o, k):
    return special.gammaln(o + k) - special.gammaln(k) - special.gammaln(o + 1)


def _nb_kernel(o, e, k):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -k * np.log1p(e / k) + special.xlogy(o, e / (k + e))
