"""Units far below their peers (``low_outlier``) and units reporting 0 where peers of
their size would not (``zero_report``), judged on a funnel plot.

The model (Spiegelhalter 2005, "Handling over-dispersion of performance indicators";
the FunnelPlotR package's standardised-ratio method):

* expected count ``E = rate × exposure``, the rate pooled over the unit's peers
  (same unit type: Σ observed ÷ Σ exposure, leaving the unit itself out);
  exposure is the number of enterprises supervised (``dataset.exposure``, sector '')
  or, without it, a denominator indicator or 1 for every unit (E = the peer mean);
* on the square-root scale the ratio O/E has standard error ``s = 1/(2√E)`` and
  z-score ``z = 2(√O − √E)``; the z-scores are winsorised at 10%/90%, the dispersion
  ratio is ``φ = mean(z²)`` and the between-unit variance (DerSimonian–Laird)
  ``τ² = max(0, (nφ − (n−1)) / (Σw − Σw²/Σw))`` with ``w = 1/s²``;
* funnel limits: exact Poisson limits ``qchisq(α/2, 2E)/2`` and
  ``qchisq(1−α/2, 2(E+1))/2`` when τ² = 0, otherwise ``E·(1 ± z_α √(s²+τ²))²``;
* p-values are exact in the count: the lower tail ``P(X ≤ O)`` of a Poisson(E·θ)
  count averaged over the unit effect θ of the same random-effects model
  (√θ ~ N(1, τ²), Gauss–Hermite quadrature); with τ² = 0 the plain Poisson tail.
  Small counts and zeros are so judged exactly rather than by the normal
  approximation, which badly overstates a 0 against a small E.

At national scale (72 million panel rows) the checks pick the indicator's rows by
integer code before anything else and then work on one value per unit (one row of
periods per unit for ``zero_report``); limits, p-values and text are computed only
for the units that need them.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy import special, stats

from .._codes import window_periods
from ..catalogue import indicator_name, indicator_unit, unit_type_name
from ..findings import bh_adjust, empty_findings, make_findings, severity_from_q
from ..dataset import require_columns as _require
from ..indicators import window_sum_arrays

ALL_PEERS = "all"


def _require_panel(panel: pd.DataFrame, what: str) -> None:
    _require(panel, ["unit", "unit_type", "period", "indicator", "value"], what)


# --------------------------------------------------------------------------- statistics
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
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(48)
_GH_W = _GH_W / _GH_W.sum()


def _effect_multiplier(tau2) -> np.ndarray:
    """Multipliers θ_k = max(0, 1 + τ z_k)² of the expected count at the quadrature
    nodes z_k: the random effect of the funnel's model, additive on the square-root
    scale (√θ ~ N(1, τ²)).  Shape tau2.shape + (nodes,)."""
    tau = np.sqrt(np.asarray(tau2, dtype=float))[..., None]
    return np.clip(1.0 + tau * _GH_X, 0.0, None) ** 2


def _poisson_cdf(k, mu) -> np.ndarray:
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
        p[flat] = (_poisson_cdf(k[flat], e[flat])[:, None] * _GH_W).sum(axis=-1)
        rest = ~flat
        mu = e[rest][:, None] * _effect_multiplier(tau2[rest])
        p[rest] = (_poisson_cdf(k[rest][:, None], mu) * _GH_W).sum(axis=-1)
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
        mid = _poisson_cdf(np.floor(o - 1), e) + 0.5 * stats.poisson.pmf(o, e)
    return np.where(e > 0, stats.norm.ppf(mid), np.nan)


# --------------------------------------------------------------------------- the panel
# These checks read one indicator (two with a denominator) of a panel that may hold
# 72 million rows: ``indicators.window_sum_arrays`` (the window totals of
# ``indicators.window_totals``, one value per unit) picks its rows by integer code
# first, and everything after works on one value per unit; text is made only for
# the units reported.


def _enterprises(exposure: pd.DataFrame, units: np.ndarray) -> np.ndarray:
    """Enterprises supervised for each of ``units`` (NaN where none):
    ``indicators.exposure_by_unit`` (the unit's rows with sector '' summed, else its
    per-sector rows), by integer codes rather than two group-bys and a merge."""
    _require(exposure, ["unit", "enterprises"], "exposure_by_unit")
    if "sector" in exposure:
        sec = exposure["sector"]
        blank = (sec.isna() | (sec == "")).to_numpy(dtype=bool)
    else:
        blank = np.ones(len(exposure), dtype=bool)
    ent = pd.to_numeric(exposure["enterprises"], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan)
    # each exposure row's position among ``units`` (-1: not one of them, or no unit);
    # both sides as object, as a str index against object keys takes a slow path
    at = pd.Index(units, dtype=object).get_indexer(np.asarray(exposure["unit"], dtype=object))
    n = len(units)
    known = ~np.isnan(ent)
    total = []
    for part in (blank, ~blank):
        m = part & (at >= 0)
        s = np.bincount(at[m], weights=np.where(known, ent, 0.0)[m], minlength=n)
        cnt = np.bincount(at[m & known], minlength=n)
        total.append(np.where(cnt > 0, s, np.nan))  # sum(min_count=1)
    return np.where(np.isnan(total[0]), total[1], total[0])


# --------------------------------------------------------------------------- funnel
def _peer_key(units: pd.DataFrame, tested: pd.Series, min_peers: int) -> pd.Series:
    """Each unit's peer group: its unit type when at least ``min_peers`` units of that
    type are tested, otherwise ``ALL_PEERS`` (all tested units)."""
    types = units["unit_type"].fillna("").astype(str)
    size = tested.groupby(types).transform("sum")
    return types.where(size >= min_peers, ALL_PEERS)


def _peer_codes(unit_type: np.ndarray, tested: np.ndarray, min_peers: int):
    """``_peer_key`` on arrays: a group code per unit and the group labels (a type,
    or ALL_PEERS; ALL_PEERS always among them)."""
    types = np.where(pd.isna(unit_type), "", unit_type)  # text already (``_codes.text_at``)
    tc, tnames = pd.factorize(types)
    size = np.bincount(tc, weights=tested, minlength=len(tnames))
    label = np.where(size[tc] >= min_peers, np.asarray(tnames, dtype=object)[tc], ALL_PEERS)
    codes, names = pd.factorize(label.astype(object))
    names = np.asarray(names, dtype=object)
    if ALL_PEERS not in set(names):
        names = np.append(names, ALL_PEERS)
    return codes.astype(np.intp), names


def _funnel(panel: pd.DataFrame, *, indicator: str, exposure, period, cumulative: bool,
            denominator, rate: str, leave_one_out: bool, min_peers: int, winsor: float,
            z_method: str, by_period: bool = False) -> SimpleNamespace:
    """The funnel's per-unit arrays (see ``funnel_table`` for the model) for the units
    that reported ``indicator`` in the window, sorted by name: unit, unit_type, peer
    (label per unit), peer_code, peer_names, o, x, e, s, phi, tau2 (NaN where E is
    not positive); ``w`` the window sums (with months when ``by_period``).  Limits,
    p-values and adjusted z-scores are left to the caller, for the units it needs."""
    if rate not in ("pooled", "trimmed", "median"):
        raise ValueError(f"rate must be 'pooled', 'trimmed' or 'median', got {rate!r}")
    if z_method not in ("exact", "sqrt"):
        raise ValueError(f"z_method must be 'exact' or 'sqrt', got {z_method!r}")
    use_exposure = exposure is not None and len(exposure) > 0
    wanted = [indicator] if use_exposure or denominator is None else [indicator, denominator]
    w = window_sum_arrays(panel, wanted, period=period, cumulative=cumulative, by_period=by_period)
    has = ~np.isnan(w.sums[:, 0])
    unit, unit_type = w.unit[has], w.unit_type[has]
    o = w.sums[has, 0]
    if use_exposure:
        x = _enterprises(exposure, unit)
    elif denominator is not None:
        x = w.sums[has, list(dict.fromkeys(wanted)).index(denominator)]
    else:
        x = np.ones(len(unit))
    with np.errstate(invalid="ignore"):
        x = np.where(x > 0, x, np.nan)
    tested = ~np.isnan(x)
    pcode, pnames = _peer_codes(unit_type, tested, min_peers)
    all_code = int(np.flatnonzero(pnames == ALL_PEERS)[0])
    n_g = len(pnames)
    with np.errstate(divide="ignore", invalid="ignore"):
        if rate == "median":
            ratio = o / x
            med = np.full(n_g, np.nan)
            for g in np.unique(pcode[tested]):
                med[g] = np.nanmedian(ratio[tested & (pcode == g)])
            med[all_code] = np.nanmedian(ratio[tested]) if tested.any() else np.nan
            r = np.where(tested, med[pcode], np.nan)
        else:
            use = tested.copy()
            if rate == "trimmed":
                # units in the extreme tails of O/exposure do not set the norm
                ratio = pd.Series(np.where(tested, o / x, np.nan))
                by = ratio.groupby(pd.Series(pnames[pcode]))
                lo = by.transform("quantile", winsor).to_numpy()
                hi = by.transform("quantile", 1 - winsor).to_numpy()
                use &= (ratio.to_numpy() >= lo) & (ratio.to_numpy() <= hi)
            own_o, own_x = np.where(use, o, 0.0), np.where(use, x, 0.0)
            g_o = np.bincount(pcode, weights=own_o, minlength=n_g)
            g_x = np.bincount(pcode, weights=own_x, minlength=n_g)
            g_o[all_code], g_x[all_code] = own_o.sum(), own_x.sum()
            g_o, g_x = g_o[pcode], g_x[pcode]
            if leave_one_out:
                # a unit that dominates a small peer group must not set its own norm
                g_o, g_x = g_o - own_o, g_x - own_x
            r = np.where(tested, g_o / np.where(g_x > 0, g_x, np.nan), np.nan)
        e = r * x
        e = np.where(e > 0, e, np.nan)
        s = 1 / (2 * np.sqrt(e))
        z0 = exact_z(o, e) if z_method == "exact" else 2 * (np.sqrt(o) - np.sqrt(e))
    ok = ~np.isnan(e)
    phi, tau2 = np.full(n_g, np.nan), np.full(n_g, np.nan)
    for g in np.unique(pcode[ok]):
        if g != all_code:
            m = ok & (pcode == g)
            phi[g], tau2[g] = dispersion(z0[m], s[m], winsor=winsor)
    phi[all_code], tau2[all_code] = dispersion(z0[ok], s[ok], winsor=winsor)
    return SimpleNamespace(unit=unit, unit_type=unit_type, peer=pnames[pcode], o=o, x=x, e=e,
                           s=s, phi=np.where(ok, phi[pcode], np.nan),
                           tau2=np.where(ok, tau2[pcode], np.nan), peer_code=pcode,
                           peer_names=pnames, w=w, has=has)


def _adjusted_z(f: SimpleNamespace, at=slice(None)) -> np.ndarray:
    """The overdispersion-adjusted z-score (√(O/E) − 1)/√(s² + τ²) at ``at``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.sqrt(f.o[at] / f.e[at]) - 1) / np.sqrt(f.s[at] ** 2 + f.tau2[at])


def funnel_table(panel: pd.DataFrame, *, indicator: str = "major_hazards_found", exposure=None,
                 period=None, cumulative: bool = True, denominator: str | None = None,
                 rate: str = "pooled", leave_one_out: bool = True, min_peers: int = 5,
                 winsor: float = 0.2, z_method: str = "exact") -> pd.DataFrame:
    """One row per unit that reported ``indicator`` in the window: the funnel plot's
    data.  Does not modify its inputs.

    Window: every period when ``period`` is None, else the periods up to ``period``
    (``cumulative=True``, the default: campaign to date, as bulletins judge) or
    ``period`` alone.  Exposure: enterprises supervised from ``exposure`` (units with
    no exposure row, or 0, are not tested); without ``exposure``, the window total of
    the ``denominator`` indicator, or 1 per unit (E = the peer mean).  Rate: ``pooled``
    (Σ O ÷ Σ exposure over the peers, without the unit itself when ``leave_one_out``,
    so that a unit dominating a small group does not set its own norm) or ``median``
    (the peers' median of O ÷ exposure).
    Peers: units of the same type; types with fewer than ``min_peers`` tested units
    are compared with all units.  Dispersion: z-scores ``exact`` (``exact_z``, the
    default) or ``sqrt`` (2(√O − √E), FunnelPlotR's), winsorised at ``winsor`` and
    1 − ``winsor`` within the peer group, φ and τ² as in ``dispersion``.  The
    default ``winsor=0.2`` (FunnelPlotR: 0.1) was tuned on ``synth.make_city``: it
    keeps the many zeros and the few very active units of a district from inflating
    τ²; note that winsorising also shrinks φ for well-behaved z (to 0.68 of its value
    at 0.1, 0.41 at 0.2), which makes the test more sensitive.

    Columns: unit, unit_type, peer, observed, exposure, expected, ratio (O/E),
    lower95, upper95, lower998, upper998 (limits on the count scale), z (the
    overdispersion-adjusted z-score (√(O/E) − 1)/√(s² + τ²)), p_low (P(X ≤ O), see ``count_cdf``),
    phi, tau2 (of the unit's peer group)."""
    _require_panel(panel, "funnel_table")
    f = _funnel(panel, indicator=indicator, exposure=exposure, period=period,
                cumulative=cumulative, denominator=denominator, rate=rate,
                leave_one_out=leave_one_out, min_peers=min_peers, winsor=winsor,
                z_method=z_method)
    tau2 = np.where(np.isnan(f.tau2), 0.0, f.tau2)
    lo95, hi95 = funnel_limits(f.e, tau2, level=0.95)
    lo998, hi998 = funnel_limits(f.e, tau2, level=0.998)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = f.o / f.e
    return pd.DataFrame({
        "unit": pd.Series(f.unit, dtype="str"), "unit_type": pd.Series(f.unit_type, dtype="str"),
        "peer": pd.Series(f.peer, dtype="str"), "observed": f.o, "exposure": f.x,
        "expected": f.e, "ratio": ratio, "lower95": lo95, "upper95": hi95,
        "lower998": lo998, "upper998": hi998, "z": _adjusted_z(f),
        "p_low": count_cdf(f.o, f.e, tau2), "phi": f.phi, "tau2": f.tau2,
    })


# --------------------------------------------------------------------------- findings
def _fmt(x: float) -> str:
    """A figure as a bulletin prints it: integers plain, others to one decimal."""
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def fmt(values: pd.Series, spec: str = "n") -> pd.Series:
    """Figures as text for a message, as a ``str`` series (also when empty): ``n``
    integers plain and others to one decimal, ``pct`` a percentage to two decimals,
    ``p`` a p-value to three significant digits, else a format spec (``.1f``)."""
    funcs = {"n": _fmt, "pct": lambda v: f"{100 * v:.2f}%", "p": lambda v: f"{v:.3g}"}
    f = funcs.get(spec, lambda v: format(v, spec))
    return pd.Series([f(v) for v in values], index=values.index, dtype="str")


def _window_label(period, cumulative: bool, periods) -> str:
    if period is None:
        return f"{periods[0]}至{periods[-1]}" if len(periods) > 1 else (periods[0] if periods else "")
    if cumulative:
        return f"截至{period}累计"
    return str(period)


def low_outlier(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
                indicator: str = "major_hazards_found", cumulative: bool = True,
                denominator: str | None = None, rate: str = "pooled",
                leave_one_out: bool = True, min_peers: int = 5, winsor: float = 0.2,
                z_method: str = "exact", min_expected: float = 3.0, alert: float = 0.01,
                warning: float = 0.05, info_p: float = 0.05) -> pd.DataFrame:
    """Units far below their peers on ``indicator`` (default 重大事故隐患排查数).

    Null model: the unit's window total is Poisson with mean E·θ (E the peer rate ×
    exposure, θ a unit effect with the peers' between-unit variance τ² on the
    square-root scale; see ``funnel_table`` and ``count_cdf``); p = P(X ≤ O).
    Tested: units expected to find at least ``min_expected`` (a smaller E can never
    make a 0 significant; E leaves the unit out, so the filter does not bias the
    test).  P-values adjusted across tested units with Benjamini–Hochberg; ``alert``
    q < ``alert``, ``warning`` q < ``warning``; units with raw p < ``info_p`` but not
    significant after adjustment are ``info``.
    ``ledger_counts`` is not used.  Returns findings (``make_findings``); inputs are
    not modified.  ``lower``/``upper`` are the 95% funnel limits, ``statistic`` the
    adjusted z-score.

    Computed as ``funnel_table`` is, but the funnel limits, adjusted z-scores and
    message text only for the units reported, and p-values only for those tested."""
    _require_panel(panel, "funnel_table")
    f = _funnel(panel, indicator=indicator, exposure=exposure, period=period,
                cumulative=cumulative, denominator=denominator, rate=rate,
                leave_one_out=leave_one_out, min_peers=min_peers, winsor=winsor,
                z_method=z_method)
    if not len(f.unit):
        return empty_findings()
    tau2 = np.where(np.isnan(f.tau2), 0.0, f.tau2)
    with np.errstate(invalid="ignore"):
        tested = f.e >= min_expected
    p = np.full(len(f.unit), np.nan)
    p[tested] = count_cdf(f.o[tested], f.e[tested], tau2[tested])
    q = bh_adjust(p)
    with np.errstate(invalid="ignore"):
        keep = np.flatnonzero((q < warning) | (p < info_p))
    if not len(keep):
        return empty_findings()
    sev = severity_from_q(q[keep], alert=alert, warning=warning)
    lo95, hi95 = funnel_limits(f.e[keep], tau2[keep], level=0.95)
    periods = window_periods(panel["period"], period, cumulative) if period is None else []
    where = _window_label(period, cumulative, periods)
    name, unit = indicator_name(indicator), indicator_unit(indicator)
    o, e, pk = f.o[keep], f.e[keep], p[keep]
    # the message of each reported unit (``fmt``'s formats, one f-string a row)
    peers = ["全部单位" if k == ALL_PEERS else f"同类{unit_type_name(k)}" for k in f.peer[keep]]
    verdicts = np.where(sev == "info", "，偏低但经多重检验校正后不显著", "，显著偏低")
    msg = [f"{u}，{where}{name}{_fmt(ob)}{unit}，按{pz}水平应约{ex:.1f}{unit}"
           f"（95%下限{lo:.1f}{unit}）{vd}（p={pv:.3g}）。"
           for u, ob, pz, ex, lo, vd, pv in zip(f.unit[keep], o, peers, e, lo95, verdicts, pk)]
    return make_findings(pd.DataFrame({
        "check": "low_outlier", "unit": f.unit[keep], "unit_type": f.unit_type[keep],
        "period": period, "indicator": indicator, "observed": o, "expected": e,
        "lower": lo95, "upper": hi95, "statistic": _adjusted_z(f, keep), "p_value": pk,
        "q_value": q[keep], "severity": sev, "message": msg,
    }))


def _zero_run_probability(e_win: np.ndarray, tau2: np.ndarray) -> np.ndarray:
    """``zero_probability(e_win, tau2[:, None])`` — E_θ[exp(−E·θ)] over the same
    Gauss–Hermite nodes — for a block of units × windows: P(X = 0) of a Poisson is
    exp(−μ), so no Poisson cdf is needed, and nodes with the same θ (all of them when
    τ² = 0, the clipped θ = 0 ones otherwise) are taken once with their summed
    weight.  Equal to ``zero_probability`` to rounding (~1e-15 relative)."""
    p = np.zeros_like(e_win)
    for t in np.unique(tau2):  # one τ² per peer group: a handful
        rows = tau2 == t
        theta, which = np.unique(_effect_multiplier(t), return_inverse=True)
        weight = np.bincount(which.ravel(), weights=_GH_W)
        e = e_win[rows]
        acc = np.zeros_like(e)
        for th, w in zip(theta, weight):
            acc += w * np.exp(-e * th)
        p[rows] = acc
    return np.where(e_win > 0, np.clip(p, 0.0, 1.0), np.nan)


def zero_report(panel: pd.DataFrame, *, exposure=None, ledger_counts=None, period=None,
                indicator: str = "major_hazards_found", cumulative: bool = True,
                denominator: str | None = None, rate: str = "pooled",
                leave_one_out: bool = True, min_peers: int = 5, winsor: float = 0.2,
                z_method: str = "exact", min_expected: float = 1.0, min_run: int = 2,
                alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """Units reporting 0 where peers of their size would not.

    For each unit, the longest run of consecutive periods in the window with a
    reported 0 (at least ``min_run`` periods, or the whole window).  Null model: the
    unit's count in each period is Poisson with the mean its peers predict (E from
    ``funnel_table``, spread over the periods in proportion to the peer group's
    totals), with the peers' unit effect (τ², see ``count_cdf``).  p = Σ over every run of the
    same length in the window of P(all zero) — a union bound on "some run that
    long", exact when the run is the whole window (P(X = 0 | E)).  BH across the
    units with such a run whose expected count over the window is at least
    ``min_expected``; units whose whole window is 0 but are not significant are
    ``info`` (the bulletins list every "0" reporter).  Inputs are not modified.

    Computed on a unit × period array of the one indicator; p-values only for the
    units with a run that is tested or covers the window, text only for those
    reported."""
    _require_panel(panel, "funnel_table")
    f = _funnel(panel, indicator=indicator, exposure=exposure, period=period,
                cumulative=cumulative, denominator=denominator, rate=rate,
                leave_one_out=leave_one_out, min_peers=min_peers, winsor=winsor,
                z_method=z_method, by_period=True)
    months = f.w.months
    if not len(f.unit) or not months:
        return empty_findings()
    v = f.w.by_period[f.has]
    zero = v == 0  # a missing month is not a reported 0 and breaks a run
    n_units, n_m = zero.shape
    # longest run of zeros and where it ends, vectorised over units
    run = np.zeros(v.shape)
    for j in range(n_m):  # over periods (≤ a few dozen), not units
        run[:, j] = np.where(zero[:, j], (run[:, j - 1] if j else 0) + 1, 0)
    k = run.max(axis=1).astype(int)
    end = run.argmax(axis=1)
    del run, zero
    # the peer group's profile over the months spreads each unit's expected count;
    # a group none of whose units reported in these months has no profile (NaN)
    n_g = len(f.peer_names)
    all_code = int(np.flatnonzero(f.peer_names == ALL_PEERS)[0])
    cells = (f.peer_code[:, None] * n_m + np.arange(n_m)).ravel()
    tot = np.bincount(cells, weights=np.where(np.isnan(v), 0.0, v).ravel(),
                      minlength=n_g * n_m).reshape(n_g, n_m)
    seen = np.bincount(f.peer_code, weights=(~np.isnan(v)).any(axis=1), minlength=n_g) > 0
    tot[all_code], seen[all_code] = f.w.all_by_period, True
    with np.errstate(divide="ignore", invalid="ignore"):
        row = tot.sum(axis=1)
        prof = tot / np.where(row > 0, row, np.nan)[:, None]
    prof = np.where(np.isnan(prof), 1.0 / n_m, prof)  # a group with no hazards: flat profile
    prof[~seen] = np.nan
    e_m = f.e[:, None] * prof[f.peer_code]  # expected per unit and month
    csum = np.concatenate([np.zeros((n_units, 1)), np.cumsum(e_m, axis=1)], axis=1)
    tau2 = np.where(np.isnan(f.tau2), 0.0, f.tau2)
    with np.errstate(invalid="ignore"):
        whole = (k == n_m) & np.isfinite(f.e)
        tested = (k >= min(min_run, n_m)) & (f.e >= min_expected)
    # Σ over windows of length k of P(window all zero), for the units that need it
    p = np.full(n_units, np.nan)
    need = np.flatnonzero((tested | whole) & (k > 0))
    starts = np.arange(n_m)[None, :]
    for b in range(0, len(need), 4096):  # blocks keep the work arrays small
        at = need[b:b + 4096]
        kk = k[at][:, None]
        valid = starts + kk <= n_m
        stop = np.clip(starts + kk, 0, n_m)
        e_win = np.take_along_axis(csum[at], stop, axis=1) - csum[at, :n_m]
        with np.errstate(invalid="ignore"):
            p_win = _zero_run_probability(e_win, tau2[at])
        p[at] = np.minimum(np.where(valid, p_win, 0.0).sum(axis=1), 1.0)
    q = bh_adjust(np.where(tested, p, np.nan))
    with np.errstate(invalid="ignore"):
        keep = np.flatnonzero((tested & (q < warning)) | whole)
    if not len(keep):
        return empty_findings()
    k, end, p, q = k[keep], end[keep], p[keep], q[keep]
    cs = csum[keep]
    e_run = cs[np.arange(len(keep)), end + 1] - cs[np.arange(len(keep)), end + 1 - k]
    name, unit = indicator_name(indicator), indicator_unit(indicator)
    months = np.array(months, dtype=object)
    first, last = months[np.clip(end - k + 1, 0, n_m - 1)], months[end]
    msg = [f"{u}，{a if n == 1 else a + '至' + z}连续{n}期{name}报送为0，"
           f"按同类单位水平这段时间应约{ex:.1f}{unit}（全为0的概率p={pv:.3g}）。"
           for u, a, z, n, ex, pv in zip(f.unit[keep], first, last, k, e_run, p)]
    return make_findings(pd.DataFrame({
        "check": "zero_report", "unit": f.unit[keep], "unit_type": f.unit_type[keep],
        "period": last if period is None else period, "indicator": indicator,
        "observed": 0.0, "expected": e_run, "lower": np.nan, "upper": np.nan,
        "statistic": k.astype(float), "p_value": p, "q_value": q,
        "severity": severity_from_q(q, alert=alert, warning=warning), "message": msg,
    }))
