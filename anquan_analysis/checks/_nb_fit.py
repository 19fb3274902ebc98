"""The gamma–Poisson (negative binomial) mixture fit of the funnel's gamma model: the
rates of groups of units, one shape k, a broad contamination component, and the k the
tests use (``fit_nb_mixture``).  The distributions themselves are in ``_stats``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ._stats import CONTAMINATION_SHAPE, SHAPE_MAX, SHAPE_MIN, _nb_const, _nb_kernel

_SHAPE_GRID = 23  # points of log k on which fit_nb_mixture brackets k̂ (ratio ≈ 1.9)
# The prior mean of α = 1/k, the honest effect's squared coefficient of variation
# (fit_nb_mixture's Notes): exponential, median CV 0.42, 90 % of its mass below CV 0.76
ALPHA_PRIOR_MEAN = 0.25


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
                   max_contamination: float = 0.3,
                   alpha_prior_mean: float | None = ALPHA_PRIOR_MEAN) -> NBFit:
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
        coefficient of variation, its posterior median under its profile likelihood and
        an exponential prior on α in (0, 1/SHAPE_MIN] with mean ``alpha_prior_mean`` (see
        Notes); ≤ 0.5: k̂; above 0.5: the
        one-sided ``level`` profile-likelihood lower bound of k, the k below k̂ where
        2(ℓ(k̂) − ℓ_p(k)) = Φ⁻¹(level)² (0.708 at 0.8).
    broad_shape : float
        Shape of the contamination component NB(broad_shape, r·x).
    max_contamination : float
        Upper bound on the contamination weight π: above it the mixture is not
        identified in a group of small units, where any k fits once half of them are
        "contamination".
    alpha_prior_mean : float or None
        Mean of the exponential prior on α (``level`` None); None: a flat prior on α.

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
    benchmarks/funnel_models.py).  The posterior median of α = 1/k weighs every k by
    how well it fits: where the profile is sharp (150 units) it is k̂, where it is
    flat it is what the prior holds plausible (the posterior mean of α leans further
    towards broad spreads than its median and lost planted low reporters on the
    bundled city).  It is computed by trapezoids on the grid of log k that
    brackets k̂ and a finer one around k̂ (a prior density p(α) is p(α)·α·dlog α there).

    Why an exponential prior with mean 0.25 and not a flat one: where the counts are
    small the profile is flat over every k, the data say nothing about the spread,
    and the flat prior on α ∈ (0, 2] then puts the median at α ≈ 1 (k ≈ 1, a
    coefficient of variation of 100 %), which excuses a unit that found nothing: on
    the bundled city (50 units, a clipped gamma(6) effort, a few major hazards each)
    the profile varies by 0.7 log-likelihood units between k = 0.8 and k = 10⁶, the
    flat prior tested at k = 1.23 and left the four planted zero reporters (0 for
    nine months where about 17 were expected) at p ≈ 0.037, unnamed; with the prior
    it tests at k = 6.1.  The prior says what honest variation is plausible between
    units of one type once their enterprises are counted: median CV 0.42, 90 % below
    CV 0.76 (k = 1.7).  Where the counts say more, the profile dominates it (150
    units, gamma(2), rate 0.007: k tested 2.10 against 1.98 under the flat prior).
    The flat prior is ``alpha_prior_mean=None``.  What it changes: recall and false
    alarms of low_outlier and zero_report in benchmarks/funnel_models.py (``--rate``)
    and on the grid of issue 12, benchmarks/README.md.
    """
    o = np.asarray(observed, dtype=float)
    x = np.asarray(exposure, dtype=float)
    n = len(o)
    g = np.zeros(n, dtype=np.intp) if group is None else np.asarray(group, dtype=np.intp)
    # low_outlier and zero_report fit the same units: the second gets the first's fit
    key = (o.tobytes(), x.tobytes(), g.tobytes(), everyone, level, broad_shape,
           max_contamination, alpha_prior_mean, None if fixed_rate is None
           else np.asarray(fixed_rate, float).tobytes())
    if key in _FITS:
        return _FITS[key]
    fit = _fit_nb_mixture(o, x, g, everyone, fixed_rate, level, broad_shape,
                          max_contamination, alpha_prior_mean)
    if len(_FITS) >= 32:
        _FITS.pop(next(iter(_FITS)))
    _FITS[key] = fit
    return fit


_FITS: dict = {}  # the last fits of fit_nb_mixture (NBFit is frozen; callers only read it)


def _fit_nb_mixture(o, x, g, everyone, fixed_rate, level, broad_shape,
                    max_contamination, alpha_prior_mean) -> NBFit:
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
        # posterior median of α = 1/k, prior p(α): the density in log α is L·p(α)·α,
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
        if alpha_prior_mean is not None:
            dens = dens * np.exp(-alpha / alpha_prior_mean)
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
