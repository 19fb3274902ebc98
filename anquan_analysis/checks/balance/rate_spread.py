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
    p = comonotone_integral(n, rho, conc)
    return np.where((n > 0).any(axis=1), np.minimum(p, 1.0), 1.0)


def comonotone_integral(n, rho, conc, r0=None, n0=None) -> np.ndarray:
    """∫₀¹ Π_k Q_k(u)^{n_k} du over the pairs with n_k > 0 (arrays (units, pairs),
    ``conc`` (pairs,)), Q_k the quantile of Beta(ρ·c + r0, (1 − ρ)·c + n0 − r0): the
    peers' Beta, updated by r0 of n0 earlier hazards rectified when given (pinned_rate's
    run, ``pinned_tail``); Q_k = ρ where c is infinite.  Not clipped to 1."""
    r0 = np.zeros(n.shape) if r0 is None else r0
    n0 = np.zeros(n.shape) if n0 is None else n0
    tail = np.exp(-_T_MID)                               # 1 − u
    log_g = np.zeros((n.shape[0], len(_T_MID)))
    for k in range(n.shape[1]):
        has = n[:, k] > 0
        if not has.any():
            continue
        m = np.clip(rho[has, k], 0.0, 1.0)
        if np.isfinite(conc[k]):
            a = m * conc[k] + r0[has, k]
            b = (1 - m) * conc[k] + n0[has, k] - r0[has, k]
            q = stats.beta.isf(tail[None, :], a[:, None], b[:, None])
            q = np.where(m[:, None] >= 1, 1.0, q)
        else:
            q = np.broadcast_to(m[:, None], (len(m), len(_T_MID)))
        with np.errstate(divide="ignore"):
            log_g[has] += n[has, k][:, None] * np.log(q)
    # ∫ g(u) du = ∫ g(1 − e^(−t)) e^(−t) dt, the rest beyond t = 80 at most e^(−80)
    # divided by the rule's own ∫ e^(−t) dt, so that a constant (binomial) is exact
    weight = tail * _T_STEP
    return (np.exp(log_g) * weight[None, :]).sum(axis=1) / weight.sum()


_LN10 = np.log(10.0)
# rate_means fits ln c within 10^-0.5 … 10^6 (as rate_concentration) and logit μ
# within ±12; the profile's first look is on log10 c in steps of 0.25
_LOG_C = (-0.5 * _LN10, 6.0 * _LN10)
_X_MAX = 12.0
_GRID = np.arange(-0.5, 6.0001, 0.25) * _LN10
# log P(r = n) ≤ −b (ψ(n + c) − ψ(c)); a unit surely below e^-50 (2e-22) has the
# conditioning on r < n, log(1 − P(r = n)), left out: it is below any rounding
_QUIET = -50.0
# units per group (every k-th) of the sample whose profile, on the grid, chooses
# where Newton starts on every unit: the start sets how soon it converges, not where
_SAMPLE = 400


def _trigamma(x) -> np.ndarray:
    """ψ′(x), x > 0, to about 1e-9 relative: the recurrence up to 6, then the asymptotic
    series.  Only Newton's second derivatives use it (they set how fast the fit
    converges, not where); scipy's polygamma(1, ·) costs some fifteen digammas."""
    shape, x = np.shape(x), np.atleast_1d(np.asarray(x, dtype="float64"))
    small = x < 6.0
    u = 1.0 / np.where(small, x + 6.0, x)
    u2 = u * u
    out = u + u2 * (0.5 + u * (1 / 6 + u2 * (-1 / 30 + u2 * (1 / 42 - u2 / 30))))
    if small.any():
        xs = x[small]
        out[small] += sum(1.0 / (xs + k) ** 2 for k in range(6))
    return out.reshape(shape)


def _setup(n, starts, log_c, x):
    """Units per group, c, μ, a = μc and b = (1 − μ)c per group, each unit's group."""
    m = np.diff(np.append(starts, len(n)))
    c = float(np.exp(log_c))
    mu = special.expit(x)
    return m, c, mu, mu * c, (1.0 - mu) * c, np.repeat(np.arange(len(x)), m)


def _value(n, r, starts, log_c, x) -> np.ndarray:
    """Per group (units sorted by group, group g from ``starts[g]``): Σ log P(r | n, r < n)
    (binomial coefficients left out) at concentration e^log_c and mean expit(x_g)."""
    m, c, mu, a, b, gi = _setup(n, starts, log_c, x)
    au, lg_ns = a[gi], special.gammaln(n + c)
    log_r = special.gammaln(r + au) + special.gammaln(n - r + b[gi]) - lg_ns
    log_all = special.gammaln(n + au) - lg_ns - (special.gammaln(a) - special.gammaln(c))[gi]
    return (np.add.reduceat(log_r - np.log(-np.expm1(np.minimum(log_all, -1e-300))), starts)
            - m * special.betaln(a, b))


def _terms(n, r, starts, log_c, x):
    """The derivatives of ``_value`` per group: (∂x, ∂x², ∂ln c, ∂x∂ln c, ∂ln c²)."""
    m, c, mu, a, b, gi = _setup(n, starts, log_c, x)
    au, bu = a[gi], b[gi]
    ra, nb, ns = r + au, n - r + bu, n + c
    red = lambda v: np.add.reduceat(v, starts)  # noqa: E731
    d_ns, t_ns = special.digamma(ns), _trigamma(ns)
    # the groups' a and b and c in one call each (a call costs more than a group)
    abc = np.concatenate([a, b, [c]])
    d_abc, t_abc = special.digamma(abc), _trigamma(abc)
    g_n = len(x)
    d_a, d_b, d_c = d_abc[:g_n], d_abc[g_n:-1], d_abc[-1]
    t_a, t_b, t_c = t_abc[:g_n], t_abc[g_n:-1], t_abc[-1]
    # the derivatives of log B(r + a, n − r + b) − log B(a, b) in a and b
    la = red(special.digamma(ra) - d_ns) - m * (d_a - d_c)
    lb = red(special.digamma(nb) - d_ns) - m * (d_b - d_c)
    laa = red(_trigamma(ra) - t_ns) - m * (t_a - t_c)
    lbb = red(_trigamma(nb) - t_ns) - m * (t_b - t_c)
    lab = m * t_c - red(t_ns)
    # − log(1 − P(r = n)), P(r = n) = e^L, L = log B(n + a, b) − log B(a, b), where it
    # can matter (L ≤ −b Σ_k 1/(c + k), k < n)
    k = np.flatnonzero(bu * (d_ns - d_c) < -_QUIET)
    add = lambda v: np.bincount(g, weights=v, minlength=len(x))  # noqa: E731
    if 2 * len(k) > len(n):              # most units: all of them, without gathering
        k, add = slice(None), red
    if len(n[k]):
        g = gi[k]
        na = n[k] + au[k]
        log_all = (special.gammaln(na) - special.gammaln(ns[k])
                   - (special.gammaln(a) - special.gammaln(c))[g])
        l_a = special.digamma(na) - d_ns[k] - (d_a - d_c)[g]
        l_b = d_c - d_ns[k]
        l_aa = _trigamma(na) - t_ns[k] - (t_a - t_c)[g]
        l_bb = t_c - t_ns[k]                       # also ∂a∂b
        with np.errstate(over="ignore"):
            w = 1.0 / np.expm1(-np.minimum(log_all, -1e-300))   # e^L / (1 − e^L)
            w2 = w * (1.0 + w)
        la, lb = la + add(w * l_a), lb + add(w * l_b)
        laa = laa + add(w * l_aa + w2 * l_a * l_a)
        lab = lab + add(w * l_bb + w2 * l_a * l_b)
        lbb = lbb + add(w * l_bb + w2 * l_b * l_b)
    # to x = logit μ (a = μc, b = (1 − μ)c) and ln c
    cv = c * mu * (1.0 - mu)
    g_x = cv * (la - lb)
    h_xx = cv * cv * (laa - 2 * lab + lbb) + (1 - 2 * mu) * g_x
    g_t = a * la + b * lb
    h_tt = a * a * laa + 2 * a * b * lab + b * b * lbb + g_t
    h_xt = cv * (a * laa + b * lab - a * lab - b * lbb) + g_x
    return g_x, h_xx, g_t, h_xt, h_tt


def _gain(step, grad, new_grad):
    """Whether a step raised the log-likelihood, by the trapezoid rule on its slope
    along the step (exact for a quadratic): the values themselves carry rounding of
    the order of e-16 × Σ log Γ over the units, which at large c can exceed what a
    last step gains."""
    return step * (grad + new_grad) >= 0


def _done(size, last, tol) -> bool:
    """Whether Newton has converged: a step below ``tol``, or a small one that no
    longer halves (Newton's steps shrink quadratically until they reach the
    rounding of the derivatives, which at c near 10⁶ is above 1e-10)."""
    return size < tol or (size < 1e-6 and size > last / 2)


def _fit_means(n, r, starts, log_c, x, tol=1e-10):
    """Each group's logit μ at concentration e^log_c (the groups are independent
    there): Newton per group, halving a step that lowers the likelihood.  Returns
    (x, ``_terms`` at x)."""
    x, last = np.array(x, dtype="float64"), np.inf
    t = _terms(n, r, starts, log_c, x)
    for _ in range(50):
        g, h = t[0], t[1]
        step = np.where(h < 0, -g / np.where(h < 0, h, -1.0), np.sign(g))
        step = np.clip(x + np.clip(step, -2.0, 2.0), -_X_MAX, _X_MAX) - x
        size = np.max(np.abs(step))
        if _done(size, last, tol):
            return x + step, t
        last = size
        for _ in range(20):
            new = _terms(n, r, starts, log_c, x + step)
            worse = ~_gain(step, g, new[0]) & (np.abs(step) > tol)
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
        x, t = x + step, new
    return x, t


def _fit_joint(n, r, starts, log_c, x, tol=1e-7):
    """The maximum of the likelihood over ln c and every group's logit μ together:
    Newton (the Hessian is an arrowhead: the groups meet only through c), halving a
    step that lowers the likelihood, a variable at its bound held there while its
    derivative points out.  Returns (ln c, x, ``_terms`` at them)."""
    x, last = np.array(x, dtype="float64"), np.inf
    t = _terms(n, r, starts, log_c, x)
    for _ in range(50):
        g_x, h_xx, g_t, h_xt, h_tt = t
        gt = g_t.sum()
        free = ~((np.abs(x) >= _X_MAX) & (np.sign(g_x) == np.sign(x)))
        d = np.where(h_xx < 0, h_xx, -np.maximum(np.abs(h_xx), np.abs(g_x) + 1e-12))
        g_x, h_xt = np.where(free, g_x, 0.0), np.where(free, h_xt, 0.0)
        if (log_c <= _LOG_C[0] and gt < 0) or (log_c >= _LOG_C[1] and gt > 0):
            dt = 0.0
        else:
            s = h_tt.sum() - np.sum(h_xt * h_xt / d)
            s = s if s < 0 else -max(abs(s), abs(gt) + 1e-12)
            dt = -(gt - np.sum(h_xt * g_x / d)) / s
        dx = -(g_x + h_xt * dt) / d
        scale = min(1.0, 1.0 / max(abs(dt), 1e-300), 2.0 / max(np.max(np.abs(dx)), 1e-300))
        dt, dx = dt * scale, dx * scale
        new_c = min(max(log_c + dt, _LOG_C[0]), _LOG_C[1])
        new_x = np.clip(x + dx, -_X_MAX, _X_MAX)
        size = max(abs(new_c - log_c), np.max(np.abs(new_x - x)))
        if _done(size, last, tol):
            return new_c, new_x, t
        last = size
        for _ in range(20):
            new = _terms(n, r, starts, new_c, new_x)
            if _gain(1.0, (new_x - x) @ g_x + (new_c - log_c) * gt,
                     (new_x - x) @ np.where(free, new[0], 0.0) + (new_c - log_c) * new[2].sum()):
                break
            new_c, new_x = (log_c + new_c) / 2, (x + new_x) / 2
        log_c, x, t = new_c, new_x, new
    return log_c, x, t


def _start(n, r, starts, stride):
    """Where the joint fit starts: the profile log-likelihood of every stride-th unit
    of each group read on ``_GRID`` (each group's mean refitted at each point), and its
    maximum from the best grid point.  Returns (ln c, x)."""
    pick = np.concatenate([np.arange(s, e, stride)
                           for s, e in zip(starts, np.append(starts[1:], len(n)))])
    sub_starts = np.searchsorted(pick, starts)
    ns, rs = n[pick], r[pick]
    with np.errstate(divide="ignore"):
        x = np.array([special.logit(np.clip(rs[s:e].sum() / ns[s:e].sum(), 1e-4, 1 - 1e-4))
                      for s, e in zip(sub_starts, np.append(sub_starts[1:], len(pick)))])
    fits, dx = [], np.zeros(len(x))
    for log_c in _GRID:
        # from the last point's means moved along their slope in ln c
        x = np.clip(x + (_GRID[1] - _GRID[0]) * dx * bool(fits), -_X_MAX, _X_MAX)
        x, t = _fit_means(ns, rs, sub_starts, log_c, x, tol=1e-4)
        dx = np.where(t[1] < 0, -t[3] / np.where(t[1] < 0, t[1], -1.0), 0.0)
        fits.append((_value(ns, rs, sub_starts, log_c, x).sum(), log_c, x))
    k = int(np.argmax([f[0] for f in fits]))
    log_c, x, _ = _fit_joint(ns, rs, sub_starts, fits[k][1], fits[k][2])
    return log_c, x


def _lower_bound(n, r, starts, log_c, x, t, drop):
    """ln c below the maximum (log_c, x, with ``_terms`` t there) where the profile
    log-likelihood is ``drop`` lower, or the lower end of the range if it never falls
    that far: Newton on the profile (its derivative is ∂ln c at the refitted means)
    from its quadratic approximation, kept within a bracket that it bisects where
    Newton leaves it.  Returns (ln c, x there)."""
    target = _value(n, r, starts, log_c, x).sum() - drop
    lo, hi, lo_known = _LOG_C[0], log_c, False     # lo_known: the profile is below target at lo
    curv = t[4].sum() - np.sum(t[3] ** 2 / t[1])
    at, size = (log_c - np.sqrt(2 * drop / -curv) if curv < 0 else lo), np.inf
    for _ in range(100):
        if not lo < at < hi:
            at = (lo + hi) / 2 if lo_known else _LOG_C[0]
        dx = np.where(t[1] < 0, -t[3] / np.where(t[1] < 0, t[1], -1.0), 0.0)  # dx*/d ln c
        x, t = _fit_means(n, r, starts, at, np.clip(x + (at - log_c) * dx, -_X_MAX, _X_MAX))
        log_c, f, slope = at, _value(n, r, starts, at, x).sum() - target, t[2].sum()
        if f >= 0 and at <= _LOG_C[0]:
            return at, x
        if f < 0:
            lo, lo_known = at, True
        else:
            hi = at
        at = log_c - f / slope if slope > 0 else (lo + hi) / 2
        size, last = abs(at - log_c), size
        if lo < at < hi and _done(size, last, 1e-8):
            break
    return at, x


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
    each c) is read on log10 c from −0.5 to 6 in steps of 0.25, on every unit of
    a group of up to 400 below 100% and on every k-th unit (400 of each group) of
    larger ones; Newton from its best point, on those units and then on all,
    finds the maximum over c and the means together, with analytic derivatives
    (digamma, trigamma), to 1e-7 in ln c and logit μ (the error after that is its
    square).  The sample only says where Newton starts, not where it ends.  The
    lower bound is where the profile falls z²/2 below its maximum (z the ``level``
    normal quantile), by Newton on the profile kept within a bracket.  Above 10⁶,
    c is ``inf``; a maximum at 10^-0.5 stays there.  On 50,000 units in three
    groups the fit reads every unit four times (issue 15: the bounded Brent of
    each group's mean at each c read them some 1,800 times, 5 s, and stopped
    within 1e-4 of log10 c: p of pinned units moved by up to 2e-5 of themselves).
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
    sizes = np.array([len(p[0]) for p in fit_parts])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    fn, fr = (np.concatenate([p[j] for p in fit_parts]) for j in (0, 1))
    log_c, x = _start(fn, fr, starts, max(1, -(-int(sizes.max()) // _SAMPLE)))
    log_c, x, t = _fit_joint(fn, fr, starts, log_c, x)
    if level is not None and log_c < _LOG_C[1]:
        log_c, x = _lower_bound(fn, fr, starts, log_c, x, t, stats.norm.ppf(level) ** 2 / 2)
    conc = float("inf") if log_c >= _LOG_C[1] - 1e-9 else float(np.exp(log_c))
    for g, xg in zip(own, x):
        mu[group == g] = special.expit(xg)
    if rest.any():
        pn, pr = parts[-1]
        x0 = special.logit(np.clip(pr.sum() / pn.sum(), 1e-4, 1 - 1e-4))
        mu[rest] = special.expit(_fit_means(pn, pr, np.array([0]), log_c, [x0])[0][0])
    return mu, conc
