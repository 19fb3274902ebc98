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
