"""The spread of rectification rates between units, estimated so that the units under
test do not set it: a beta-binomial fitted to the units *below* 100%, conditioned on
their being below 100%."""

from __future__ import annotations

import numpy as np
from scipy import optimize, special, stats

# The concentration c = a + b of the units' Beta(ρc, (1 − ρ)c) rates is searched
# over 10^-0.5 … 10^6: below, the rates are all but 0 or 1; above, binomial.
_LOG10_C = np.arange(-0.5, 6.0001, 0.1)


def all_rectified_chance(n, rho, conc) -> np.ndarray:
    """P(all n rectified) when a unit's rate is Beta(ρc, (1 − ρ)c):
    B(ρc + n, (1 − ρ)c) / B(ρc, (1 − ρ)c); ρⁿ (binomial) where c is infinite and 1
    where ρ = 1."""
    n, rho = np.broadcast_arrays(np.asarray(n, dtype="float64"),
                                 np.asarray(rho, dtype="float64"))
    if not np.isfinite(conc):
        return rho ** n
    a, b = rho * conc, (1 - rho) * conc
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.exp(special.betaln(a + n, b) - special.betaln(a, b))
    return np.where(rho >= 1, 1.0, p)


def _loglik(log10_c, n, r, rho) -> np.ndarray:
    """Σ over units of log P(r | n, r < n) under Beta(ρc, (1 − ρ)c) rates, per
    value of log10 c (the binomial coefficients, constant in c, left out)."""
    c = 10.0 ** np.atleast_1d(log10_c)[:, None]
    a, b = rho * c, (1 - rho) * c
    base = special.betaln(a, b)
    log_r = special.betaln(r + a, n - r + b) - base
    log_all = special.betaln(n + a, b) - base          # log P(r = n) < 0
    return (log_r - np.log(-np.expm1(log_all))).sum(axis=1)


def rate_concentration(n, r, rho, *, level: float | None = 0.8,
                       min_units: int = 5) -> float:
    """The concentration c of the units' rectification rates, Beta(ρc, (1 − ρ)c)
    around each unit's peer rate ρ, from the units below 100%.

    Parameters
    ----------
    n, r : array_like
        Per unit, hazards found and rectified (r ≤ n).
    rho : array_like
        Per unit, the rate its peers set (the mean of its Beta).
    level : float or None
        Return the one-sided lower confidence bound of c at this level (a wider
        spread, so a test that cannot be fooled by a spread estimated too
        narrow); None returns the maximum-likelihood estimate.
    min_units : int
        With fewer units below 100% (and 0 < ρ < 1) the spread is not estimated
        and ``inf`` (binomial) is returned.

    Returns
    -------
    float: c (``inf`` for no spread beyond binomial).

    Notes
    -----
    Units at 100% are the ones under test, and they would pull the spread either
    way (a few pinned large units widen it; many small units at 100% by chance
    look like a tight group).  So the fit uses only the units below 100%, each
    through its likelihood conditioned on being below 100%,
    P(r | n) / (1 − P(r = n | n)), which is what a unit's rate tells once it is
    known not to be 100%: the estimate stays consistent although the units at
    100% are left out, whatever the reason they are at 100%.  The likelihood
    is maximised over log10 c on a grid of 0.1 from −0.5 to 6, refined by
    bounded Brent; the lower bound is where the profile log-likelihood falls
    z²/2 below its maximum (z the ``level`` normal quantile: 0.354 at 0.8).
    Above 10⁶ the spread is binomial noise and ``inf`` is returned.
    """
    n, r, rho = (np.asarray(x, dtype="float64") for x in (n, r, rho))
    use = (n > 0) & (r < n) & (rho > 0) & (rho < 1)
    if np.count_nonzero(use) < min_units:
        return float("inf")
    n, r, rho = n[use], r[use], rho[use]
    # a few grid points at a time: grid × units temporaries stay small at any scale
    step = max(1, (1 << 18) // len(n))
    ll = np.concatenate([_loglik(_LOG10_C[k:k + step], n, r, rho)
                         for k in range(0, len(_LOG10_C), step)])
    k = int(np.argmax(ll))
    lo, hi = _LOG10_C[max(k - 1, 0)], _LOG10_C[min(k + 1, len(_LOG10_C) - 1)]
    fit = optimize.minimize_scalar(lambda x: -_loglik(x, n, r, rho)[0], bounds=(lo, hi),
                                   method="bounded", options={"xatol": 1e-6})
    best, best_ll = (fit.x, -fit.fun) if -fit.fun >= ll[k] else (_LOG10_C[k], ll[k])
    if level is not None:
        drop = stats.norm.ppf(level) ** 2 / 2
        gap = lambda x: _loglik(x, n, r, rho)[0] - (best_ll - drop)  # noqa: E731
        if gap(_LOG10_C[0]) >= 0:
            best = _LOG10_C[0]
        else:
            best = optimize.brentq(gap, _LOG10_C[0], best, xtol=1e-8)
    if best >= _LOG10_C[-1] - 1e-9:
        return float("inf")
    return float(10.0 ** best)


# The comonotone integral of ``all_rectified_jointly`` on t = −log(1 − u): the unit's
# quantile u near 1 is where the mass lies when it found many hazards, and e^(−t) is
# exact there (1 − u would round to 0).  Midpoints of steps of 0.01 up to t = 8 (the
# bulk of the Beta), 0.1 on to t = 80 (u = 1 − 2e-35); midpoints keep off u = 0, where
# a quantile drops to 0.
_T_EDGES = np.concatenate([np.arange(0.0, 8.0, 0.01), np.arange(8.0, 80.0001, 0.1)])
_T_MID, _T_STEP = (_T_EDGES[1:] + _T_EDGES[:-1]) / 2, np.diff(_T_EDGES)


def all_rectified_jointly(n, rho, conc) -> np.ndarray:
    """An upper bound of P(every hazard of every pair rectified) for units whose rates
    on several (found, rectified) pairs are each Beta(ρ_k c_k, (1 − ρ_k) c_k), however
    a unit's rates on the pairs depend on one another.

    Parameters
    ----------
    n : array_like, shape (units, pairs)
        Hazards found per unit and pair (0 where the unit has none in a pair).
    rho : array_like, shape (units, pairs)
        The peers' rate of each unit and pair (any value where n is 0).
    conc : array_like, shape (pairs,)
        Each pair's concentration c_k (``inf``: binomial, the rate is ρ_k).

    Returns
    -------
    ndarray, shape (units,): the bound; 1 where the unit has no hazard.  The inputs
    are not modified.

    Notes
    -----
    Given its rates, a unit's hazards are rectified independently, so
    P(all | rates) = Π_k ρ_k^{n_k}, an increasing function of each rate.  Its
    expectation over rates with given Beta marginals is largest when the rates move
    together (comonotone: every rate the same quantile u of its Beta; the product of
    increasing functions is supermodular, and comonotone coupling maximises the
    expectation of a supermodular function), so
    P ≤ ∫₀¹ Π_k Q_k(u)^{n_k} du,  Q_k the Beta quantile.
    A unit that is thorough on major hazards is likely thorough on general ones: the
    bound allows for any such dependence, and for one pair it is exactly
    ``all_rectified_chance``.  The integral is taken on t = −log(1 − u)
    (midpoints of steps of 0.01 up to t = 8 and 0.1 on to t = 80; the Beta's upper quantiles by
    ``scipy.stats.beta.isf``, exact near u = 1).
    """
    n = np.atleast_2d(np.asarray(n, dtype="float64"))
    rho = np.broadcast_to(np.asarray(rho, dtype="float64"), n.shape)
    conc = np.broadcast_to(np.asarray(conc, dtype="float64"), n.shape[1:])
    tail = np.exp(-_T_MID)                               # 1 − u
    log_g = np.zeros((n.shape[0], len(_T_MID)))
    for k in range(n.shape[1]):
        has = n[:, k] > 0
        if not has.any():
            continue
        m = np.clip(rho[has, k], 0.0, 1.0)
        if np.isfinite(conc[k]):
            q = stats.beta.isf(tail[None, :], (m * conc[k])[:, None],
                               ((1 - m) * conc[k])[:, None])
            q = np.where(m[:, None] >= 1, 1.0, q)
        else:
            q = np.broadcast_to(m[:, None], (len(m), len(_T_MID)))
        with np.errstate(divide="ignore"):
            log_g[has] += n[has, k][:, None] * np.log(q)
    # ∫ g(u) du = ∫ g(1 − e^(−t)) e^(−t) dt, the rest beyond t = 80 at most e^(−80)
    # divided by the rule's own ∫ e^(−t) dt, so that a constant (binomial) is exact
    weight = tail * _T_STEP
    p = (np.exp(log_g) * weight[None, :]).sum(axis=1) / weight.sum()
    return np.where((n > 0).any(axis=1), np.minimum(p, 1.0), 1.0)


def _group_loglik(x, conc, n, r) -> np.ndarray:
    """Σ log P(r | n, r < n) of one group's units, mean rate expit(x), concentration
    ``conc``, per value of x (binomial coefficients left out)."""
    x = np.atleast_1d(x)[:, None]
    mu = special.expit(x)
    a, b = mu * conc, (1 - mu) * conc
    base = special.betaln(a, b)
    log_r = special.betaln(r + a, n - r + b) - base
    log_all = special.betaln(n + a, b) - base
    return (log_r - np.log(-np.expm1(np.minimum(log_all, -1e-300)))).sum(axis=1)


def _profile(log10_c, parts):
    """(profile log-likelihood, logit mean per group) at concentration 10^log10_c:
    each group's mean maximised on its own (bounded Brent on the logit scale)."""
    c = 10.0 ** log10_c
    total, xs = 0.0, []
    for n, r in parts:
        fit = optimize.minimize_scalar(lambda x: -_group_loglik(x, c, n, r)[0],
                                       bounds=(-12.0, 12.0), method="bounded",
                                       options={"xatol": 1e-7})
        total += -fit.fun
        xs.append(fit.x)
    return total, np.array(xs)


def rate_means(n, r, group, *, level: float | None = 0.8, min_units: int = 5):
    """Each group's mean rectification rate μ_g and the concentration c of units'
    rates, Beta(μ_g c, (1 − μ_g) c), fitted to the units below 100%.

    Parameters
    ----------
    n, r : array_like
        Per unit, hazards found and rectified (r ≤ n).
    group : array_like of int
        Per unit, its peer group (a unit type's code).  A group with fewer than
        ``min_units`` units below 100% has no mean of its own: its units take the
        mean of all the other groups' units pooled into one.
    level : float or None
        c at the one-sided lower confidence bound of this level (a wider spread;
        the means re-fitted at it); None: the maximum-likelihood c.
    min_units : int
        Units below 100% (with a hazard) needed for a group's own mean; with fewer
        in all, nothing is fitted.

    Returns
    -------
    (mu, conc): μ per unit (all NaN when nothing could be fitted) and c (``inf``
    for no spread beyond binomial or when nothing was fitted).  The inputs are
    not modified.

    Notes
    -----
    The same model and conditioning as ``rate_concentration`` (units below 100%
    only, each through P(r | n) / (1 − P(r = n | n))), with the means fitted too.
    A pooled peer rate Σr / Σn is set by the largest units, and a few large
    thorough peers raise it (peers rectifying 80% on average, one of 461 hazards at
    91%, pooled 83%): a unit at 100% is then judged against a norm its peers do
    not hold.  The Beta's own mean, fitted with its spread, weighs each unit by what
    its rate tells about the group (a unit's weight stops growing with n once n is
    past c).  Units at 100% are not in the fit, so a unit under test never sets its
    own norm.  The profile log-likelihood of c (each group's mean maximised at
    each c) is read on log10 c from −0.5 to 6 in steps of 0.25, refined by bounded
    Brent; the lower bound is where it falls z²/2 below its maximum (z the
    ``level`` normal quantile).  Above 10⁶, c is ``inf``.
    """
    n, r = np.asarray(n, dtype="float64"), np.asarray(r, dtype="float64")
    group = np.asarray(group)
    below = (n > 0) & (r < n)
    mu = np.full(len(n), np.nan)
    if np.count_nonzero(below) < min_units:
        return mu, float("inf")
    codes, counts = np.unique(group[below], return_counts=True)
    own = codes[counts >= min_units]
    rest = ~np.isin(group, own)
    # the groups fitted: each own group, and (if any unit needs it) all units pooled
    keys = [group == g for g in own]
    if rest.any() or not len(own):
        keys = keys + [np.ones(len(n), dtype=bool)] if len(own) else [np.ones(len(n), bool)]
    parts = [(n[k & below], r[k & below]) for k in keys]
    # the pooled group of the rest is not a separate likelihood: fit c on own groups
    # when there are some, else on the pooled one
    fit_parts = parts[:len(own)] if len(own) else parts
    grid = np.arange(-0.5, 6.0001, 0.25)
    ll = np.array([_profile(x, fit_parts)[0] for x in grid])
    k = int(np.argmax(ll))
    if k == len(grid) - 1:
        best, best_ll = grid[-1], ll[-1]
    else:
        lo, hi = grid[max(k - 1, 0)], grid[k + 1]
        res = optimize.minimize_scalar(lambda x: -_profile(x, fit_parts)[0], bounds=(lo, hi),
                                       method="bounded", options={"xatol": 1e-4})
        best, best_ll = (res.x, -res.fun) if -res.fun >= ll[k] else (grid[k], ll[k])
    if level is not None and best < grid[-1]:
        target = best_ll - stats.norm.ppf(level) ** 2 / 2
        if _profile(grid[0], fit_parts)[0] >= target:
            best = grid[0]
        else:
            best = optimize.brentq(lambda x: _profile(x, fit_parts)[0] - target, grid[0], best,
                                   xtol=1e-4)
    conc = float("inf") if best >= grid[-1] - 1e-9 else float(10.0 ** best)
    _, xs = _profile(min(best, grid[-1]), parts)
    for g, x in zip(own, xs):
        mu[group == g] = special.expit(x)
    if rest.any():
        mu[rest] = special.expit(xs[-1])
    return mu, conc
