"""The statistics the checks share: Poisson and gamma-Poisson tails, the funnel's
dispersion and limits, and Benjamini–Hochberg adjustment.  Plain functions of arrays;
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


def dispersion(z, s, *, winsor: float = 0.1, consistent: bool = False) -> tuple[float, float]:
    """(φ, τ²) from z-scores and their standard errors: z winsorised at the
    ``winsor`` and ``1 − winsor`` quantiles, φ = mean(z²),
    τ² = max(0, (nφ − (n−1)) / (Σw − Σw²/Σw)), w = 1/s².  NaN z are left out;
    (NaN, 0) with fewer than 2 values.  ``consistent=False`` is FunnelPlotR's φ;
    with ``consistent=True`` φ is divided by ``winsor_consistency(winsor)``, so that
    it is 1 on average for z that are N(0, 1): the winsorised φ alone is biased
    low, which sets τ² to 0 under real overdispersion (at w = 0.2, until the true
    φ exceeds 2.4) and makes the tests anti-conservative."""
    z = np.asarray(z, dtype=float)
    s = np.asarray(s, dtype=float)
    ok = np.isfinite(z) & np.isfinite(s) & (s > 0)
    z, s = z[ok], s[ok]
    n = len(z)
    if n < 2:
        return float("nan"), 0.0
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
