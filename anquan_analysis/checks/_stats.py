"""The statistics the checks share: Poisson and gamma-Poisson tails, the funnel's
dispersion and limits, and Benjamini–Hochberg adjustment.  Plain functions of arrays;
nothing here reads a panel.

References: Spiegelhalter (2005) "Handling over-dispersion of performance indicators";
the FunnelPlotR package (Hastings); Benjamini & Hochberg (1995); Tarone (1990) and
Gilbert (2005) for discrete tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats


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
_SHAPE_GRID = 23  # points of log k on which fit_nb_mixture brackets k̂ (ratio ≈ 1.9)
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


@dataclass(frozen=True)
class NBFit:
    """The gamma–Poisson fit of a set of units (``fit_nb_mixture``).

    rate : per rate group, the rate per unit of exposure (NaN when the means were
        given, see ``fixed_rate``);
    shape : the shape k the tests use (``fit_nb_mixture``'s ``level``);
    shape_hat : the maximum-likelihood k;
    contamination : the weight π of the broad component;
    weight : per unit, the posterior chance of belonging to the NB(k) component;
    rate_weight : per unit, its weight a in its group's r = Σ a·O / Σ a·x;
    group, everyone : the rate groups the fit was given.
    """

    rate: np.ndarray
    shape: float
    shape_hat: float
    contamination: float
    weight: np.ndarray
    rate_weight: np.ndarray
    group: np.ndarray
    everyone: int | None

    def rate_without(self, observed, exposure) -> np.ndarray:
        """Each unit's leave-one-out rate: its group's r with the unit's own term taken
        out of the weighted estimating equation (weights frozen at the fit), so that a
        unit that dominates a small group does not set its own norm."""
        a, g = self.rate_weight, self.group
        ao, ax = a * np.asarray(observed, float), a * np.asarray(exposure, float)
        n_g = len(self.rate)
        num = np.bincount(g, weights=ao, minlength=n_g)
        den = np.bincount(g, weights=ax, minlength=n_g)
        if self.everyone is not None:
            num[self.everyone], den[self.everyone] = ao.sum(), ax.sum()
        num, den = num[g] - ao, den[g] - ax
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)


def _group_rates(ao, ax, group, n_groups, everyone):
    """r per group = Σ a·O / Σ a·x over the group's units (over every unit for the
    group ``everyone``); NaN for a group without weight."""
    num = np.bincount(group, weights=ao, minlength=n_groups)
    den = np.bincount(group, weights=ax, minlength=n_groups)
    if everyone is not None:
        num[everyone], den[everyone] = ao.sum(), ax.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _best_contamination(log_ratio, low: float, high: float) -> float:
    """The π in [low, high] that maximises Σ log((1 − π)·f_i + π·g_i) for the
    components' densities f and g, given as log(g/f): the derivative
    Σ u/(1 + π·u), u = g/f − 1, falls with π (the log-likelihood is concave), so its
    root is found by Brent's method on a handful of vector sums."""
    u = np.expm1(np.clip(log_ratio, -700.0, 700.0))

    def slope(pi):
        return float(np.sum(u / (1.0 + pi * u)))

    if slope(low) <= 0:
        return low
    if slope(high) >= 0:
        return high
    return optimize.brentq(slope, low, high, xtol=1e-10)


def _em(o, x, k, state, *, group, everyone, fixed_mu, c_main, c_broad, broad,
        max_contamination, tol=1e-10, max_iter=500):
    """Fit the mixture (1 − π)·NB(k, r_g·x) + π·NB(broad, r_g·x) at a fixed k, from
    and into ``state`` (rates per group, π), by EM in which π is set to its best
    value given the current rates (a one-dimensional concave problem, solved
    exactly: plain EM creeps towards π ≈ 0 on clean data), then each rate by one
    fixed-point step of the main component's score equation, r_g = Σ a·O / Σ a·x
    with a = w·k/(k + r_g·x), w the unit's posterior weight in the NB(k) component:
    only the units the fit believes set the rate, so low reporters, which the broad
    component absorbs, do not pull it down.  Returns (log-likelihood, w, a)."""
    r, pi = state
    ll_old = -np.inf
    n_groups = len(r)
    for _ in range(max_iter):
        mu = fixed_mu if fixed_mu is not None else r[group] * x
        lm = c_main + _nb_kernel(o, mu, k)
        lb = c_broad + _nb_kernel(o, mu, broad)
        pi = _best_contamination(lb - lm, 1e-6, max_contamination)
        tot = np.logaddexp(np.log1p(-pi) + lm, np.log(pi) + lb)
        ll = float(tot.sum())
        w = np.exp(np.log1p(-pi) + lm - tot)
        a = w * k / (k + mu)
        if fixed_mu is None:
            new = _group_rates(a * o, a * x, group, n_groups, everyone)
            r = np.where(np.isfinite(new), new, r)
        if abs(ll - ll_old) < tol * (1.0 + abs(ll)):
            break
        ll_old = ll
    state[:] = [r, pi]
    return ll, w, a


def fit_nb_mixture(observed, exposure, *, group=None, everyone: int | None = None,
                   fixed_rate=None, level: float | None = None,
                   broad_shape: float = CONTAMINATION_SHAPE,
                   max_contamination: float = 0.3) -> NBFit:
    """Fit the rates of groups of units and one gamma shape k robustly, and the k to
    test with.

    Parameters
    ----------
    observed, exposure : array-like
        Counts O and exposures x (x > 0, finite) of the units.
    group : array of int, optional
        Each unit's rate group (0 … G−1, e.g. its peer group); None: one group.
    everyone : int, optional
        A group whose rate is fitted over every unit, not its own members (the
        funnel's "all units" peers, for types with too few units of their own).
    fixed_rate : array-like, optional
        Per-unit rates when the rate is set elsewhere (means r_i·x_i held fixed, only
        k and π fitted); None fits the group rates.
    level : float, optional
        The shape tested.  None (the default): 1/med(α), α = 1/k the effect's squared
        coefficient of variation, its posterior median under its profile likelihood and a flat
        prior on α in (0, 1/SHAPE_MIN] (see Notes); ≤ 0.5: k̂; above 0.5: the
        one-sided ``level`` profile-likelihood lower bound of k, the k below k̂ where
        2(ℓ(k̂) − ℓ_p(k)) = Φ⁻¹(level)² (0.708 at 0.8).
    broad_shape : float
        Shape of the contamination component NB(broad_shape, r·x).
    max_contamination : float
        Upper bound on the contamination weight π: above it the mixture is not
        identified in a group of small units, where any k fits once half of them are
        "contamination".

    Returns
    -------
    NBFit

    Notes
    -----
    Model: each count is drawn from (1 − π)·NB(k, r_g·x) + π·NB(0.3, r_g·x): honest
    units with a gamma effect of shape k, one k for all groups, and a broad component
    with the same mean that absorbs low, zero and very high reporters, so that they
    set neither k nor the rates.  Rates and π by EM at each k (π solved exactly in
    each step); k̂ by maximising the profile likelihood over log k in [SHAPE_MIN,
    SHAPE_MAX]: bracketed on a grid of 23 values of log k, each fitted from the same
    start, then bounded Brent inside the bracket (the profile is not unimodal); a
    lower bound, when asked for, by Brent's root on
    the profile, every evaluation started from the fit at k̂.  One k for all unit
    types lets the types with many small units, which say little about k, borrow it
    from the others.

    Why neither k̂ nor a lower bound by default: π and k trade off (a broader main
    component needs less contamination), so the profile is flat, and with 30 units
    it often rises slowly all the way to k = ∞ (a Poisson component for the units
    near the rate, the broad one for the rest).  Testing at k̂ then judges honest
    units against a spread far narrower than theirs: on the independent grid of
    issue 12 (30 towns, gamma(2) effect) k̂ = 20 where the truth is 2, and honest
    units with a third of their expected count got p ≈ 10⁻⁸.  The 80% lower bound
    is too cautious where k is well determined (about half an oracle's recall on
    benchmarks/funnel_models.py).  The posterior median of α = 1/k under a flat prior
    on α weighs every k by how well it fits: where the profile is sharp (150 units)
    it is k̂, where it is flat it leans towards the broader spreads the data cannot
    exclude (the mean leans further: on the bundled city, 120 units with a clipped
    gamma(6) effort, k̂ = 6.5, median 5.0, mean 4.5, and the mean lost two of its
    planted low reporters).  It is computed by trapezoids on the grid of log k that
    brackets k̂ and a finer one around k̂ (a flat prior on α is α·dlog α there).
    Where it changes the verdicts: the grid of issue 12, benchmarks/README.md.
    """
    o = np.asarray(observed, dtype=float)
    x = np.asarray(exposure, dtype=float)
    n = len(o)
    g = np.zeros(n, dtype=np.intp) if group is None else np.asarray(group, dtype=np.intp)
    # low_outlier and zero_report fit the same units: the second gets the first's fit
    key = (o.tobytes(), x.tobytes(), g.tobytes(), everyone, level, broad_shape,
           max_contamination, None if fixed_rate is None
           else np.asarray(fixed_rate, float).tobytes())
    if key in _FITS:
        return _FITS[key]
    fit = _fit_nb_mixture(o, x, g, everyone, fixed_rate, level, broad_shape,
                          max_contamination)
    if len(_FITS) >= 32:
        _FITS.pop(next(iter(_FITS)))
    _FITS[key] = fit
    return fit


_FITS: dict = {}  # the last fits of fit_nb_mixture (NBFit is frozen; callers only read it)


def _fit_nb_mixture(o, x, g, everyone, fixed_rate, level, broad_shape,
                    max_contamination) -> NBFit:
    n = len(o)
    n_groups = int(g.max()) + 1 if n else 1
    if everyone is not None:
        n_groups = max(n_groups, everyone + 1)
    fixed_mu = None if fixed_rate is None else np.asarray(fixed_rate, float) * x
    r0 = _group_rates(o, x, g, n_groups, everyone)
    total = o.sum() / x.sum() if n and x.sum() > 0 else np.nan
    r0 = np.where(np.isfinite(r0) & (r0 > 0), r0, total)
    if n < 2 or not (total > 0):
        return NBFit(r0 if fixed_rate is None else np.full(n_groups, np.nan), SHAPE_MIN,
                     np.nan, 0.0, np.ones(n), np.ones(n) if fixed_rate is None else np.zeros(n),
                     g, everyone)
    c_broad = _nb_const(o, broad_shape)
    state = [r0, min(0.1, max_contamination)]
    kw = dict(group=g, everyone=everyone, fixed_mu=fixed_mu, c_broad=c_broad,
              broad=broad_shape, max_contamination=max_contamination)

    def profile(log_k, start=None):
        """ℓ_p(k): the EM from ``start`` (or where the last one ended, which is
        faster while Brent's search moves in small steps)."""
        if start is not None:
            state[:] = [start[0].copy(), start[1]]
        k = float(np.exp(log_k))
        ll, w, a = _em(o, x, k, state, c_main=_nb_const(o, k), **kw)
        return (ll if np.isfinite(ll) else -np.inf), w, a

    bounds = (np.log(SHAPE_MIN), np.log(SHAPE_MAX))
    # The profile of a mixture is not unimodal: besides the maximum at the honest
    # spread it has a ridge towards k = ∞, where a Poisson component fits the few
    # units near the rate and the broad one takes the rest (30 towns with a gamma(2)
    # effect: ℓ = −164.8 at k = 2, −183.2 at k = 10⁶, and Brent's search from the
    # middle of the interval climbed the ridge).  So the maximum is bracketed on a
    # grid of log k, every point fitted from the same start, then refined inside
    # its bracket.
    start0 = [state[0].copy(), state[1]]
    grid = np.linspace(bounds[0], bounds[1], _SHAPE_GRID)
    lls = np.array([profile(t, start0)[0] for t in grid])
    i = int(np.argmax(lls))
    lo_b, hi_b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    profile(grid[i], start0)
    at_grid = [state[0].copy(), state[1]]
    best = optimize.minimize_scalar(lambda t: -profile(t, at_grid)[0], bounds=(lo_b, hi_b),
                                    method="bounded", options={"xatol": 1e-2})
    log_hat = float(best.x) if -best.fun >= lls[i] else float(grid[i])
    # the bound is searched from one start, the fit at k̂, so that the profile is one
    # function of k and not of the order in which Brent's method asks for it
    profile(log_hat)
    at_hat = [state[0].copy(), state[1]]
    ll_hat = profile(log_hat, at_hat)[0]
    if level is None:
        # posterior median of α = 1/k, flat prior on α: the density in log α is L·α,
        # integrated by trapezoids over the coarse grid and a fine one around k̂ (with
        # thousands of units the profile is too sharp for the coarse grid alone)
        fine = log_hat + np.linspace(-0.6, 0.6, 9)
        fine = fine[(fine > bounds[0]) & (fine < bounds[1])]
        pts = np.concatenate([grid, fine])
        ll_pts = np.concatenate([lls, [profile(t, at_hat)[0] for t in fine]])
        order = np.argsort(pts)
        pts, ll_pts = pts[order], ll_pts[order]
        alpha = np.exp(-pts)
        dens = np.exp(ll_pts - ll_pts.max()) * alpha
        cum = np.concatenate([[0.0], np.cumsum(np.diff(pts) * (dens[1:] + dens[:-1]) / 2)])
        # the posterior median of α is that of log k: where its distribution function,
        # by trapezoids over the points in increasing log k, reaches one half
        log_mean = float(np.interp(0.5, cum / cum[-1], pts))
    drop = 0.0 if level is None else stats.norm.ppf(level) ** 2 / 2
    gap = lambda t: ll_hat - profile(t, at_hat)[0] - drop  # noqa: E731
    if level is None:
        log_lo = float(np.clip(log_mean, *bounds))
    elif drop <= 0:  # level ≤ 0.5: k̂ itself
        log_lo = log_hat
    elif log_hat - bounds[0] < 1e-3 or gap(bounds[0]) <= 0:
        log_lo = bounds[0]
    else:
        log_lo = optimize.brentq(gap, bounds[0], log_hat, xtol=2e-3)
    _, w, a = profile(log_lo, at_hat)
    return NBFit(rate=state[0] if fixed_rate is None else np.full(n_groups, np.nan),
                 shape=float(np.exp(log_lo)), shape_hat=float(np.exp(log_hat)),
                 contamination=state[1], weight=w, rate_weight=a, group=g, everyone=everyone)
