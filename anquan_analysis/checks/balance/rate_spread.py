"""The rectification rates of honest units, estimated so that the units under test do
not set them: each peer group's mean rate and the spread between units, a
beta-binomial fitted to the units *below* 100%, conditioned on their being below 100%.

``pinned_rate`` asks how likely a unit's hazards were all rectified; the answer
depends on the rate the unit's peers make plausible (the mean μ of its group) and on
how far units' own rates stray from it (the concentration c of a Beta(μc, (1 − μ)c)).
Both are read from the units that did *not* rectify everything, so that a large unit
at 100% neither raises its peers' norm nor, through it, the spread (issue 12)."""

from __future__ import annotations

import numpy as np
from scipy import special

# The concentration c is searched over 10^-0.5 … 10^6 (a coarse grid, then refined):
# below, the rates are all but 0 or 1; above, binomial.
_LOG10_C = np.arange(-0.5, 6.0001, 0.25)
_LOG10_C_MAX = 6.0
# A group's mean is searched on the logit scale over ±12 (rates 6e-6 … 1 − 6e-6).
_LOGIT_BOUNDS = (-12.0, 12.0)
_NEWTON_STEPS = 60          # bisection alone narrows ±12 to 2e-17 in 60 steps
_STEP = 1e-6                # the difference that gives Newton the score's slope


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


def window_sizes(found, n_run) -> np.ndarray:
    """The hazards of the shortest stretches of consecutive periods that hold at least
    ``n_run`` hazards, one per first period with a hazard (``found``: hazards per
    period in time order, zeros included).  Every stretch of at least ``n_run``
    hazards holds one of them, so a union bound over them covers "some stretch of at
    least ``n_run`` hazards all rectified".  A stretch starting at a period without
    hazards holds the same hazards as one starting at the next period with some, so
    only those are counted; when ``n_run`` is all the hazards there is one."""
    found = np.asarray(found, dtype="float64")
    if n_run <= 0:
        return np.zeros(0)
    cum = np.concatenate([[0.0], np.cumsum(found)])
    starts = np.flatnonzero(found > 0)
    ends = np.searchsorted(cum, cum[starts] + n_run - 1e-9, side="left")
    ok = ends < len(cum)
    return cum[ends[ok]] - cum[starts[ok]]


def _loglik(x, conc, n, r, cond=1.0) -> np.ndarray:
    """log P(r | n, r < n) per unit under Beta(μc, (1 − μ)c) rates, μ = expit(x)
    (binomial coefficients, constant in the parameters, left out); arrays broadcast.
    With ``cond`` 0, log P(r | n): not conditioned."""
    mu = special.expit(x)
    a, b = mu * conc, (1 - mu) * conc
    common = special.gammaln(conc) - special.gammaln(n + conc) - special.gammaln(a)
    log_all = special.gammaln(n + a) + common                      # log P(r = n) < 0
    log_r = special.gammaln(r + a) + special.gammaln(n - r + b) - special.gammaln(b) + common
    return log_r - cond * np.log(-np.expm1(np.minimum(log_all, -1e-300)))


def _score(x, conc, n, r, cond=1.0) -> np.ndarray:
    """The derivative of ``_loglik`` in x, per unit."""
    mu = special.expit(x)
    a, b = mu * conc, (1 - mu) * conc
    na = n + a
    psi_a = special.digamma(a)
    # d/dμ: a + b = c does not move, so only the gammas of a, b and their shifts do
    d1 = conc * (special.digamma(r + a) - special.digamma(n - r + b) - psi_a
                 + special.digamma(b))
    e1 = conc * (special.digamma(na) - psi_a)                      # d log P(r = n) / dμ
    log_all = (special.gammaln(na) - special.gammaln(a)
               - special.gammaln(n + conc) + special.gammaln(conc))
    # d/dμ of −log(1 − P(all)) = P(all) / (1 − P(all)) · d log P(all) / dμ
    return (d1 + cond * e1 / np.expm1(-np.minimum(log_all, -1e-300))) * mu * (1 - mu)


def _group_means(conc, fit) -> tuple[np.ndarray, np.ndarray]:
    """For each concentration in ``conc`` and each group, the group's maximum
    conditional log-likelihood over its mean, and the logit of that mean: two arrays
    [concentration, group].  ``fit`` = (n, r, weight, member [row, group] 0/1) of
    the distinct (group, n, r) rows.

    The likelihood of a group given c depends on its own mean only, so each
    (c, group) is one search on the logit scale: Newton's method on the score, kept
    inside a bracket that the score's sign narrows (bisecting where the likelihood
    is not concave); a mean whose score still rises at the bracket's edge is taken
    there."""
    n, r, w, member, cond = fit
    c = np.asarray(conc, dtype="float64")[:, None]
    wm = member * w[:, None]

    def score(x, rows):                                # x [rows, group]
        return _score(x @ member.T, c[rows], n, r, cond) @ wm

    shape = (len(c), member.shape[1])
    every = np.arange(len(c))
    lo, hi = np.full(shape, _LOGIT_BOUNDS[0]), np.full(shape, _LOGIT_BOUNDS[1])
    g_lo, g_hi = score(lo, every), score(hi, every)
    pooled = (r @ wm) / (n @ wm)                       # start from each group's pooled rate
    x = np.broadcast_to(special.logit(np.clip(pooled, 1e-4, 1 - 1e-4)), shape).copy()
    x = np.where(g_hi >= 0, hi, np.where(g_lo <= 0, lo, x))
    active = ((g_hi < 0) & (g_lo > 0)).any(axis=1)
    for _ in range(_NEWTON_STEPS):
        rows = np.flatnonzero(active)
        if not len(rows):
            break
        xr, lr, hr = x[rows], lo[rows], hi[rows]
        g = score(xr, rows)
        h = (score(xr + _STEP, rows) - g) / _STEP              # the score's slope
        lr, hr = np.where(g > 0, xr, lr), np.where(g > 0, hr, xr)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = np.where(h < 0, np.clip(xr - g / h, lr, hr), (lr + hr) / 2)
        new = np.where((g_hi[rows] < 0) & (g_lo[rows] > 0), new, xr)
        lo[rows], hi[rows] = lr, hr
        active[rows] = (np.abs(new - xr) > 1e-10).any(axis=1)
        x[rows] = new
    ll = _loglik(x @ member.T, c, n, r, cond) @ wm
    return ll, x


def rate_spread(n, r, group, *, level: float | None = 0.8, min_units: int = 5,
                conditional: bool = True) -> tuple[np.ndarray, float]:
    """Each unit's peer mean rate μ and the concentration c of units' rates,
    Beta(μc, (1 − μ)c), fitted to the units below 100%.

    Parameters
    ----------
    n, r : array_like
        Per unit, hazards found and rectified (r ≤ n).
    group : array_like of int
        Per unit, its peer group (a unit type's code); −1 for units whose group is
        too small to set a norm of its own, judged against all units.
    level : float or None
        Take c at the one-sided lower confidence bound of this level (a wider
        spread, so that a spread estimated too narrow cannot fool the test), the
        means re-fitted at it; None takes the maximum-likelihood estimate.
    min_units : int
        A group needs this many units below 100% (with hazards) to have a mean of
        its own; its other units are judged against all units.  With fewer units
        below 100% in all, nothing is fitted.
    conditional : bool
        True (the default) fits the units below 100%, each conditioned on being
        below 100%; False fits every unit with a hazard by its plain likelihood
        (``pinned_rate``'s fallback when too few units are below 100%: there the
        units at 100% are most of what is known about the spread).

    Returns
    -------
    (mu, conc): float array of μ per unit (all NaN when nothing could be fitted)
    and c (``inf`` for no spread beyond binomial, or when nothing was fitted).
    Neither input is modified.

    Notes
    -----
    Model: a unit's rate is Beta(μ_g c, (1 − μ_g)c) around its group's mean μ_g,
    one c for all groups, and each of its n hazards is rectified independently at
    that rate.  Units at 100% are the ones under test: in a peer's rate they would
    raise the norm (a department at 100% over 1,100 hazards made its peers' rate
    90% against their own 80%), and through the peers' shortfall against that norm
    widen the spread, so both would hide it.  So only the units below 100% are
    fitted, each through its likelihood conditioned on being below 100%,
    P(r | n) / (1 − P(r = n | n)): what a unit's figures tell once it is known not
    to be at 100%.  The estimates stay consistent although the units at 100% are
    left out, whatever the reason they are at 100% (honest small units at 100% by
    chance are accounted for by the conditioning, not by a lower norm).

    The likelihood is maximised over log10 c (a grid of 0.25 from −0.5 to 6,
    refined by bounded Brent) with each group's mean profiled out (golden section
    on the logit scale); the lower bound of c is where the profile log-likelihood
    falls z²/2 below its maximum (z the ``level`` normal quantile: 0.354 at 0.8).
    Above 10⁶ the spread is binomial noise and c is ``inf``.  Units of group −1 (and
    of groups with too few units below 100%) take the mean fitted to all units
    below 100% at the same c.  With no group large enough, one mean is fitted to
    all units.
    """
    n, r = np.asarray(n, dtype="float64"), np.asarray(r, dtype="float64")
    group = np.asarray(group, dtype=np.int64)
    use = (n > 0) & (r < n) if conditional else n > 0
    if np.count_nonzero(use) < min_units:
        return np.full(len(n), np.nan), float("inf")
    codes, counts = np.unique(group[use & (group >= 0)], return_counts=True)
    own = codes[counts >= min_units]
    if not len(own):                                   # one group: all units
        group, own = np.zeros(len(n), dtype=np.int64), np.array([0])
    cond = 1.0 if conditional else 0.0
    fit = _distinct(n, r, group, use & np.isin(group, own), own, cond)
    every = _distinct(n, r, np.zeros(len(n), dtype=np.int64), use, np.array([0]), cond)
    log10_c = _spread(fit, level)
    conc = float("inf") if log10_c >= _LOG10_C_MAX - 1e-9 else float(10.0 ** log10_c)
    at = [10.0 ** min(log10_c, _LOG10_C_MAX)]
    mu = np.full(len(n), np.nan)
    if not np.isin(group, own).all():                   # units judged against all
        mu[:] = special.expit(_group_means(at, every)[1][0, 0])
    for g, m in zip(own, special.expit(_group_means(at, fit)[1][0])):
        mu[group == g] = m
    return mu, conc


def _distinct(n, r, group, rows, codes, cond):
    """(n, r, weight, member, cond) of the distinct (group, n, r) among ``rows``: the
    likelihood counts each once, weighted by how many units share it; ``cond`` 1
    conditions each on r < n, 0 does not."""
    key = np.stack([np.searchsorted(codes, group[rows]), n[rows], r[rows]], axis=1)
    uniq, weight = np.unique(key, axis=0, return_counts=True)
    member = (uniq[:, 0].astype(np.int64)[:, None] == np.arange(len(codes))[None, :])
    return uniq[:, 1], uniq[:, 2], weight.astype("float64"), member.astype("float64"), cond


def _spread(fit, level) -> float:
    """log10 c: the maximum of the profile log-likelihood, or with ``level`` its lower
    bound.  The profile is read on the coarse grid ``_LOG10_C``, then on a grid of
    0.01 around the maximum and around the bound, each point found by the parabola
    through its neighbours."""
    ll = _group_means(10.0 ** _LOG10_C, fit)[0].sum(axis=1)
    k = int(np.argmax(ll))
    if k == len(_LOG10_C) - 1:                         # binomial noise
        return _LOG10_C_MAX
    near = np.arange(_LOG10_C[max(k - 1, 0)], _LOG10_C[k + 1] + 1e-9, 0.01)
    crossing = None
    if level is not None:
        # the coarse points below the maximum where the profile is under the bound
        drop = special.ndtri(level) ** 2 / 2
        under = np.flatnonzero((ll < ll[k] - drop - 1e-9) & (np.arange(len(ll)) < k))
        if len(under):
            j = under[-1]
            crossing = np.arange(_LOG10_C[j], _LOG10_C[j + 1] + 1e-9, 0.01)
    grid = near if crossing is None else np.concatenate([near, crossing])
    fine = _group_means(10.0 ** grid, fit)[0].sum(axis=1)
    f_near = fine[:len(near)]
    i = int(np.argmax(f_near))
    best, best_ll = near[i], f_near[i]
    if 0 < i < len(near) - 1:
        best, best_ll = _vertex(near[i - 1:i + 2], f_near[i - 1:i + 2])
    if level is None:
        if 0 < i < len(near) - 1:                      # once more, 0.001 apart
            close = best + np.array([-1e-3, 0.0, 1e-3])
            best = _vertex(close, _group_means(10.0 ** close, fit)[0].sum(axis=1))[0]
        return float(best)
    target = best_ll - special.ndtri(level) ** 2 / 2
    if crossing is None:
        # no coarse point under the bound: the lower edge, or between it and the max
        xs, fs = near, f_near
        if ll[0] >= target and _LOG10_C[0] < near[0]:
            return float(_LOG10_C[0])
    else:
        xs, fs = crossing, fine[len(near):]
    left = np.flatnonzero((fs < target) & (xs < best))
    if not len(left):
        return float(xs[0]) if fs[0] >= target else float(best)
    m = left[-1]
    if m + 1 >= len(xs):
        return float(xs[m])
    three = slice(m, m + 3) if m + 3 <= len(xs) else slice(m - 1, m + 2)
    return float(_root(xs[three], fs[three] - target, xs[m], xs[m + 1]))


def _vertex(x, f):
    """The maximum of the parabola through three points: (x, f) at its vertex."""
    d1 = (f[1] - f[0]) / (x[1] - x[0])
    curv = ((f[2] - f[1]) / (x[2] - x[1]) - d1) / (x[2] - x[0])
    if curv >= 0:
        return x[1], f[1]
    xv = min(max((x[0] + x[1]) / 2 - d1 / (2 * curv), x[0]), x[2])
    return xv, f[0] + d1 * (xv - x[0]) + curv * (xv - x[0]) * (xv - x[1])


def _root(x, f, lo, hi):
    """The root in [lo, hi] of the parabola through three points (x, f), or of the
    line through (lo, hi) where it has none there."""
    a = np.polyfit(x, f, 2)
    roots = np.roots(a) if a[0] != 0 else np.roots(a[1:])
    real = roots[np.isreal(roots)].real
    inside = real[(real >= lo - 1e-12) & (real <= hi + 1e-12)]
    if len(inside):
        return inside[0]
    f_lo, f_hi = np.polyval(a, lo), np.polyval(a, hi)
    return lo - f_lo * (hi - lo) / (f_hi - f_lo)
