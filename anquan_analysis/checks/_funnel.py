"""The funnel behind ``low_outlier``, ``zero_report`` and ``funnel_table``
(``checks.outliers``): each unit's count against what its peers predict.

Expected count ``E = rate × exposure``: exposure is the number of enterprises
supervised (``dataset.exposure``, sector ''), or a denominator indicator, or 1 for
every unit (E = the peers' mean); the rate is the peer group's (same unit type,
all units when a type has fewer than ``min_peers``), leaving the unit itself out.

Three models of how honest units vary around E (``model=``):

``"gamma"`` (default)
    Each unit has its own effect θ ~ Gamma(k, 1/k) (mean 1, variance 1/k), so its
    count is negative binomial with mean E and shape k.  A rate per peer group and
    one k for all units are fitted by EM on a two-component mixture, NB(k, r·x)
    plus a broad NB(0.3, r·x) that absorbs low, zero and very high reporters
    (``_nb_fit.fit_nb_mixture``), tested at k = 1/med(α), the median of α = 1/k over its
    profile likelihood (exponential prior on α, mean 0.25; the fit's Notes say why
    that, and why not k̂, which
    ``shape_level=0.5`` gives, nor a lower bound, ``shape_level`` > 0.5).
    p = P(X ≤ O), exact NB tail; a run of zero periods is judged with one θ shared
    by the run, (1 + m/k)^(−k).
``"sqrt-normal"``
    The model before issue 12 (Spiegelhalter 2005): √θ ~ N(1, τ²) clipped at 0,
    τ² by DerSimonian–Laird on z-scores winsorised at 20%, p = P(X ≤ O) averaged
    over θ by Gauss–Hermite quadrature.
``"funnelplotr"``
    FunnelPlotR's standardised ratio, "CQC" square-root method: pooled rate with the
    unit in it, z = 2(√O − √E) winsorised at 10%, φ = mean(z²), τ² by
    DerSimonian–Laird; limits exact Poisson (chi-square form) when τ² = 0, else
    E·(1 ± z_α √(1/(4E) + τ²))².  p is the tail whose thresholds are those limits.

Why gamma: √θ normal and clipped at 0 puts a point mass of weight Φ(−1/τ) at θ = 0,
so a year of zeros can never be less likely than that mass, and the winsorised φ
without its consistency factor sets τ² to 0 under real overdispersion; both make
honest units look anomalous (issue 12: 6.1% of clean units flagged against an
oracle's 1.4%).  Under a gamma effect zeros are judged by the NB tail, and the
mixture keeps the units under suspicion from setting the spread they are judged by.

Why the mixture and not ML on the units between the 10th and 90th percentiles of
O/E, or a Huber or median moment estimator: a trimmed fit needs a consistency
correction that depends on k itself and on how many units are anomalous, and it
trims honest small units whose O/E is 0 by chance (a district's many zeros), while
the moment estimators are dragged down by the very zeros they are meant to judge
(a moment k on 3,000 units with shape 4 and 15% low and zero reporters: below 2.5,
tests/test_funnel_gamma.py).  The mixture weighs each unit by how well the honest
component explains it, needs no correction, and gives the rate from the same fit.

This module fits the funnel to a panel's window totals (``fit_funnel``) and gives
each model's tail, z-score, limits and zero-run chance; the statistics themselves
are in ``checks._stats``, the checks and their findings in ``checks.outliers``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy import special, stats

from ..catalogue import FINDING_COUNTS, indicator_name, unit_type_name
from ..dataset import require_columns
from ..indicators import exposure_by_unit
from ..panel import Panel, as_panel
from ._peers import ALL_PEERS, peer_groups
from ._nb_fit import fit_nb_mixture
from ._stats import (GH_W, count_cdf, dispersion, effect_multiplier, exact_z,
                     funnel_limits, nb_cdf, nb_limits, nb_mid_z, nb_zero_probability)

MODELS = ("gamma", "sqrt-normal", "funnelplotr")
Z_LIMIT = float(-stats.norm.ppf(np.finfo(float).tiny))  # 37.5: a p-value's smallest normal score
# each model's settings where the caller leaves them None
_DEFAULTS = {
    "gamma": {"rate": "fitted", "leave_one_out": True, "winsor": 0.2, "z_method": "exact"},
    "sqrt-normal": {"rate": "pooled", "leave_one_out": True, "winsor": 0.2,
                    "z_method": "exact"},
    "funnelplotr": {"rate": "pooled", "leave_one_out": False, "winsor": 0.1,
                    "z_method": "sqrt"},
}


def _read(panel, indicators) -> Panel:
    if isinstance(panel, pd.DataFrame):
        require_columns(panel, ["unit", "unit_type", "period", "indicator", "value"],
                        "funnel_table")
    return as_panel(panel, indicators)


def funnel_panel(panel, indicator, *, denominator=None) -> tuple[Panel, list[str]]:
    """The panel a funnel check reads (built once, for every indicator it judges) and
    the indicators it judges: ``indicator`` (a code), the codes of a list, or with
    None every finding count of the catalogue the panel holds
    (``catalogue.FINDING_COUNTS``, in that order).  A long frame is validated first."""
    if indicator is None:
        wanted = list(FINDING_COUNTS)
    elif isinstance(indicator, str):
        wanted = [indicator]
    else:
        wanted = list(dict.fromkeys(indicator))
    extra = [denominator] if denominator is not None and denominator not in wanted else []
    pv = _read(panel, wanted + extra)
    codes = [c for c in wanted if pv.has(c)] if indicator is None else wanted
    return pv, codes


def _enterprises(exposure: pd.DataFrame, units: np.ndarray) -> np.ndarray:
    """Enterprises supervised for each of ``units`` (NaN where none), from
    ``indicators.exposure_by_unit``."""
    e = exposure_by_unit(exposure).set_index("unit")["enterprises"]
    return e.reindex(pd.Index(units, dtype=object)).to_numpy(dtype="float64", na_value=np.nan)


def settings(model, rate, leave_one_out, winsor, z_method) -> SimpleNamespace:
    """The model's settings, the caller's where given (not None)."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}, got {model!r}")
    given = {"rate": rate, "leave_one_out": leave_one_out, "winsor": winsor,
             "z_method": z_method}
    s = SimpleNamespace(model=model, **{k: _DEFAULTS[model][k] if v is None else v
                                        for k, v in given.items()})
    rates = ("fitted", "pooled", "trimmed", "median") if model == "gamma" else \
        ("pooled", "trimmed", "median")
    if s.rate not in rates:
        raise ValueError(f"rate must be one of {', '.join(map(repr, rates))} with model "
                         f"{model!r}, got {s.rate!r}")
    if s.z_method not in ("exact", "sqrt"):
        raise ValueError(f"z_method must be 'exact' or 'sqrt', got {s.z_method!r}")
    return s


# --------------------------------------------------------------------------- funnel
def _peer_rate(o, x, tested, pcode, pnames, all_code, how) -> np.ndarray:
    """Each unit's peer rate (NaN where not tested): pooled Σ O ÷ Σ x (without the
    unit when ``how.leave_one_out``), the same without the ``how.winsor`` tails of
    O/x, or the median of O/x."""
    n_g = len(pnames)
    with np.errstate(divide="ignore", invalid="ignore"):
        if how.rate == "median":
            ratio = o / x
            med = np.full(n_g, np.nan)
            for g in np.unique(pcode[tested]):
                med[g] = np.nanmedian(ratio[tested & (pcode == g)])
            med[all_code] = np.nanmedian(ratio[tested]) if tested.any() else np.nan
            return np.where(tested, med[pcode], np.nan)
        use = tested.copy()
        if how.rate == "trimmed":
            # units in the extreme tails of O/exposure do not set the norm
            ratio = pd.Series(np.where(tested, o / x, np.nan))
            by = ratio.groupby(pd.Series(pnames[pcode]))
            lo = by.transform("quantile", how.winsor).to_numpy()
            hi = by.transform("quantile", 1 - how.winsor).to_numpy()
            use &= (ratio.to_numpy() >= lo) & (ratio.to_numpy() <= hi)
        own_o, own_x = np.where(use, o, 0.0), np.where(use, x, 0.0)
        g_o = np.bincount(pcode, weights=own_o, minlength=n_g)
        g_x = np.bincount(pcode, weights=own_x, minlength=n_g)
        g_o[all_code], g_x[all_code] = own_o.sum(), own_x.sum()
        g_o, g_x = g_o[pcode], g_x[pcode]
        if how.leave_one_out:
            # a unit that dominates a small peer group must not set its own norm
            g_o, g_x = g_o - own_o, g_x - own_x
        return np.where(tested, g_o / np.where(g_x > 0, g_x, np.nan), np.nan)


def _gamma_fit(o, x, tested, pcode, all_code, rate, how, shape_level) -> dict:
    """Per unit: the rate (fitted, or ``rate`` when given), and the shape k tested, k̂
    and the contamination weight of one ``_nb_fit.fit_nb_mixture`` over every tested
    unit, with a rate per peer group (the all-units group's over every unit) and one
    k for all of them."""
    n = len(o)
    out = {key: np.full(n, np.nan) for key in ("rate", "shape", "shape_hat", "contamination")}
    idx = np.flatnonzero(tested if rate is None else tested & np.isfinite(rate))
    fit = fit_nb_mixture(o[idx], x[idx], group=pcode[idx], everyone=all_code,
                         fixed_rate=None if rate is None else rate[idx], level=shape_level)
    if rate is None:
        out["rate"][idx] = (fit.rate_without(o[idx], x[idx]) if how.leave_one_out
                            else fit.rate[pcode[idx]])
    else:
        out["rate"] = rate
    for key in ("shape", "shape_hat", "contamination"):
        out[key][idx] = getattr(fit, key)
    return out


def fit_funnel(panel, *, indicator: str, exposure, period, cumulative: bool,
               denominator, model: str, rate, leave_one_out, min_peers: int, winsor,
               z_method, shape_level: float | None, by_period: bool = False) -> SimpleNamespace:
    """The funnel's per-unit arrays (the models: module docstring) for the units
    with a figure of ``indicator`` in the window, sorted by name: unit, unit_type,
    peer (label per unit), peer_code, peer_names, o, x, e, s, and the model's
    parameters per unit (phi, tau2 for the normal models; shape, shape_hat,
    contamination for gamma; NaN where E is not positive or the model has none),
    basis (the message's 按…测算 phrase per unit); with ``by_period`` also ``months``
    (the window's periods), ``by_period`` [unit, month] and ``all_by_period`` (every
    unit's total per month).  Limits, p-values and z-scores are left to the caller."""
    use_exposure = exposure is not None and len(exposure) > 0
    if rate is None and not use_exposure and denominator is None:
        # Without exposure every unit weighs 1 and E is the peers' rate itself: a mean
        # would be set by the one unit that found most (巴南: 区应急局's 46 put every
        # department at about 5), the median is not.
        rate = "median"
    how = settings(model, rate, leave_one_out, winsor, z_method)
    wanted = [indicator] if use_exposure or denominator is None else [indicator, denominator]
    pv = _read(panel, wanted)
    figs, months = pv.figures(wanted, period, cumulative=cumulative)
    # a period with no figure of the indicator at all (another indicator's period on a
    # shared panel) says nothing about it
    held = ~np.isnan(figs[:, 0, :]).all(axis=0)
    if not held.all():
        figs, months = figs[:, :, held], months[held]
    sums = np.where(np.isnan(figs).all(axis=2), np.nan, np.nansum(figs, axis=2))
    has = ~np.isnan(sums[:, 0])
    unit, unit_type = pv.units[has], pv.unit_type[has]
    o = sums[has, 0]
    if use_exposure:
        x = _enterprises(exposure, unit)
    elif denominator is not None:
        x = sums[has, 1]
    else:
        x = np.ones(len(unit))
    with np.errstate(invalid="ignore"):
        x = np.where(x > 0, x, np.nan)
    tested = ~np.isnan(x)
    pcode, pnames = peer_groups(unit_type, tested, min_peers)
    all_code = int(np.flatnonzero(pnames == ALL_PEERS)[0])
    n_g, n = len(pnames), len(unit)
    nan = np.full(n, np.nan)
    par = {"phi": nan, "tau2": nan, "shape": nan, "shape_hat": nan, "contamination": nan}
    if how.model == "gamma":
        fixed = (None if how.rate == "fitted"
                 else _peer_rate(o, x, tested, pcode, pnames, all_code, how))
        if fixed is not None:
            # a peer rate of 0 (the median unit found nothing) gives no expectation
            with np.errstate(invalid="ignore"):
                fixed = np.where(fixed > 0, fixed, np.nan)
        fit = _gamma_fit(o, x, tested, pcode, all_code, fixed, how, shape_level)
        r = fit.pop("rate")
        par.update(fit)
    else:
        r = _peer_rate(o, x, tested, pcode, pnames, all_code, how)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = r * x
        e = np.where(e > 0, e, np.nan)
        s = 1 / (2 * np.sqrt(e))
    ok = ~np.isnan(e)
    if how.model != "gamma":
        with np.errstate(divide="ignore", invalid="ignore"):
            z0 = exact_z(o, e) if how.z_method == "exact" else 2 * (np.sqrt(o) - np.sqrt(e))
        phi, tau2 = np.full(n_g, np.nan), np.full(n_g, np.nan)
        for g in np.unique(pcode[ok]):
            if g != all_code:
                m = ok & (pcode == g)
                phi[g], tau2[g] = dispersion(z0[m], s[m], winsor=how.winsor)
        phi[all_code], tau2[all_code] = dispersion(z0[ok], s[ok], winsor=how.winsor)
        par["phi"], par["tau2"] = phi[pcode], tau2[pcode]
    par = {k: np.where(ok, v, np.nan) for k, v in par.items()}
    if use_exposure:
        basis = np.full(n, "按监管企业数测算", dtype=object)
    elif denominator is not None:
        basis = np.full(n, f"按{indicator_name(denominator)}测算", dtype=object)
    else:
        # a group of units without a type is all of them that have none
        basis = np.array(["按全部单位水平" if k in (ALL_PEERS, "") else f"按同类{unit_type_name(k)}水平"
                          for k in pnames], dtype=object)[pcode]
    out = SimpleNamespace(model=how.model, unit=unit, unit_type=unit_type, peer=pnames[pcode],
                          o=o, x=x, e=e, s=s, peer_code=pcode, peer_names=pnames, basis=basis,
                          months=[str(m) for m in months], **par)
    if by_period:
        out.by_period = figs[has, 0, :]
        out.all_by_period = np.nansum(figs[:, 0, :], axis=0)
    return out


def tau2_or_zero(f: SimpleNamespace, at=slice(None)) -> np.ndarray:
    """τ² at ``at``, 0 where the model has none (a lone unit, or the gamma model)."""
    return np.where(np.isnan(f.tau2[at]), 0.0, f.tau2[at])


def z_score(f: SimpleNamespace, at=slice(None)) -> np.ndarray:
    """The funnel's z-score at ``at``: the normal score of the NB mid-p (gamma), else
    the overdispersion-adjusted (√(O/E) − 1)/√(s² + τ²)."""
    if f.model == "gamma":
        # a tail below the smallest double (81 general hazards against 21,898
        # expected) is the normal score of the smallest one, not −∞ (tables and
        # workbooks take finite figures)
        return np.clip(nb_mid_z(f.o[at], f.e[at], f.shape[at]), -Z_LIMIT, Z_LIMIT)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.sqrt(f.o[at] / f.e[at]) - 1) / np.sqrt(f.s[at] ** 2 + f.tau2[at])


def p_low(f: SimpleNamespace, at=slice(None)) -> np.ndarray:
    """P-value of "this low or lower" under the model at ``at``.  gamma: the exact NB
    tail P(X ≤ O); sqrt-normal: the Poisson tail averaged over θ
    (``_stats.count_cdf``); funnelplotr: the tail whose 2.5% and 0.1% points are
    FunnelPlotR's lower limits, Φ(z) when τ² > 0, else P(G ≤ O) for G ~ Gamma(E, 1)
    (its chi-square Poisson limit χ²_{α/2}(2E)/2 is the α/2 quantile of G)."""
    o, e, tau2 = f.o[at], f.e[at], tau2_or_zero(f, at)
    if f.model == "gamma":
        return nb_cdf(o, e, f.shape[at])
    if f.model == "sqrt-normal":
        return count_cdf(o, e, tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tau2 > 0, stats.norm.cdf(z_score(f, at)), special.gammainc(e, o))
    return np.where(e > 0, p, np.nan)


def limits(f: SimpleNamespace, level: float, at=slice(None)):
    """Lower and upper funnel limits on the count scale at two-sided ``level``."""
    if f.model == "gamma":
        return nb_limits(f.e[at], f.shape[at], level=level)
    return funnel_limits(f.e[at], tau2_or_zero(f, at), level=level)


def _zero_run_probability(e_win: np.ndarray, tau2: np.ndarray) -> np.ndarray:
    """``_stats.zero_probability(e_win, tau2[:, None])`` — E_θ[exp(−E·θ)] over the same
    Gauss–Hermite nodes — for a block of units × windows: P(X = 0) of a Poisson is
    exp(−μ), so no Poisson cdf is needed, and nodes with the same θ (all of them when
    τ² = 0, the clipped θ = 0 ones otherwise) are taken once with their summed
    weight.  Equal to ``zero_probability`` to rounding (~1e-15 relative)."""
    p = np.zeros_like(e_win)
    for t in np.unique(tau2):  # one τ² per peer group: a handful
        rows = tau2 == t
        theta, which = np.unique(effect_multiplier(t), return_inverse=True)
        weight = np.bincount(which.ravel(), weights=GH_W)
        e = e_win[rows]
        acc = np.zeros_like(e)
        for th, w in zip(theta, weight):
            acc += w * np.exp(-e * th)
        p[rows] = acc
    return np.where(e_win > 0, np.clip(p, 0.0, 1.0), np.nan)


def run_zero_probability(f: SimpleNamespace, e_win: np.ndarray, at) -> np.ndarray:
    """P(a window is all zero) for units ``at`` × windows with total mean ``e_win``:
    (1 + m/k)^(−k) with one gamma effect for the whole window (gamma), else the
    square-root-scale effect's E_θ[exp(−mθ)] (funnelplotr uses its τ² in the same
    model, Spiegelhalter's additive effect behind its limits)."""
    if f.model == "gamma":
        return nb_zero_probability(e_win, f.shape[at][:, None])
    return _zero_run_probability(e_win, tau2_or_zero(f, at))
