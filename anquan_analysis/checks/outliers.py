"""Units far below their peers (``low_outlier``) and units reporting 0 where peers of
their size would not (``zero_report``), judged on a funnel plot.

The model (Spiegelhalter 2005, "Handling over-dispersion of performance indicators";
the FunnelPlotR package's standardised-ratio method):

* expected count ``E = rate × exposure``, the rate pooled over the unit's peers
  (same unit type: Σ observed ÷ Σ exposure, leaving the unit itself out);
  exposure is the number of enterprises supervised (``dataset.exposure``, sector '')
  or, without it, a denominator indicator or 1 for every unit (E = the peer mean);
* on the square-root scale the ratio O/E has standard error ``s = 1/(2√E)`` and
  z-score ``z = 2(√O − √E)``; the z-scores are winsorised, the dispersion ratio is
  ``φ = mean(z²)`` and the between-unit variance (DerSimonian–Laird)
  ``τ² = max(0, (nφ − (n−1)) / (Σw − Σw²/Σw))`` with ``w = 1/s²``;
* funnel limits: exact Poisson limits when τ² = 0, otherwise ``E·(1 ± z_α √(s²+τ²))²``;
* p-values are exact in the count: the lower tail ``P(X ≤ O)`` of a Poisson(E·θ)
  count averaged over the unit effect θ (√θ ~ N(1, τ²)); with τ² = 0 the plain
  Poisson tail, so that small counts and zeros are judged exactly.

The statistics are in ``checks._stats``; this module fits the funnel to a panel's
window totals (``panel.Panel.totals``) and writes the findings.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..catalogue import indicator_name, indicator_unit, unit_type_name
from ..dataset import require_columns
from ..findings import empty_findings, make_findings, severity_from_q
from ..indicators import exposure_by_unit
from ..panel import Panel, as_panel
from ._peers import ALL_PEERS, peer_groups
from ._stats import (GH_W, bh_adjust, count_cdf, dispersion, effect_multiplier, exact_z,
                     funnel_limits)
from ._wording import figure, window_label


def _read(panel, indicators) -> Panel:
    if isinstance(panel, pd.DataFrame):
        require_columns(panel, ["unit", "unit_type", "period", "indicator", "value"],
                        "funnel_table")
    return as_panel(panel, indicators)


def _enterprises(exposure: pd.DataFrame, units: np.ndarray) -> np.ndarray:
    """Enterprises supervised for each of ``units`` (NaN where none), from
    ``indicators.exposure_by_unit``."""
    e = exposure_by_unit(exposure).set_index("unit")["enterprises"]
    return e.reindex(pd.Index(units, dtype=object)).to_numpy(dtype="float64", na_value=np.nan)


# --------------------------------------------------------------------------- funnel
def _funnel(panel, *, indicator: str, exposure, period, cumulative: bool,
            denominator, rate: str, leave_one_out: bool, min_peers: int, winsor: float,
            z_method: str, by_period: bool = False) -> SimpleNamespace:
    """The funnel's per-unit arrays (see ``funnel_table`` for the model) for the units
    with a figure of ``indicator`` in the window, sorted by name: unit, unit_type,
    peer (label per unit), peer_code, peer_names, o, x, e, s, phi, tau2 (NaN where E
    is not positive); with ``by_period`` also ``months`` (the window's periods),
    ``by_period`` [unit, month] and ``all_by_period`` (every unit's total per month).
    Limits, p-values and adjusted z-scores are left to the caller."""
    if rate not in ("pooled", "trimmed", "median"):
        raise ValueError(f"rate must be 'pooled', 'trimmed' or 'median', got {rate!r}")
    if z_method not in ("exact", "sqrt"):
        raise ValueError(f"z_method must be 'exact' or 'sqrt', got {z_method!r}")
    use_exposure = exposure is not None and len(exposure) > 0
    wanted = [indicator] if use_exposure or denominator is None else [indicator, denominator]
    pv = _read(panel, wanted)
    figs, months = pv.figures(wanted, period, cumulative=cumulative)
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
    out = SimpleNamespace(unit=unit, unit_type=unit_type, peer=pnames[pcode], o=o, x=x, e=e,
                          s=s, phi=np.where(ok, phi[pcode], np.nan),
                          tau2=np.where(ok, tau2[pcode], np.nan), peer_code=pcode,
                          peer_names=pnames, months=[str(m) for m in months])
    if by_period:
        out.by_period = figs[has, 0, :]
        out.all_by_period = np.nansum(figs[:, 0, :], axis=0)
    return out


def _adjusted_z(f: SimpleNamespace, at=slice(None)) -> np.ndarray:
    """The overdispersion-adjusted z-score (√(O/E) − 1)/√(s² + τ²) at ``at``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.sqrt(f.o[at] / f.e[at]) - 1) / np.sqrt(f.s[at] ** 2 + f.tau2[at])


def funnel_table(panel, *, indicator: str = "major_hazards_found", exposure=None,
                 period=None, cumulative: bool = True, denominator: str | None = None,
                 rate: str = "pooled", leave_one_out: bool = True, min_peers: int = 5,
                 winsor: float = 0.2, z_method: str = "exact") -> pd.DataFrame:
    """One row per unit with a figure of ``indicator`` in the window: the funnel
    plot's data.  Does not modify its inputs.

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures (a long panel, or a ``panel.Panel``).
    indicator : str
        The count judged (default 重大事故隐患排查数).
    exposure : DataFrame, optional
        Enterprises supervised per unit (``dataset.exposure``); units with no row, or
        0, are not tested.  Without it: the window total of ``denominator``, or 1 per
        unit (E = the peer mean).
    period : str, optional
        The window: every period when None, else the periods up to ``period``
        (``cumulative=True``, the default: campaign to date, as bulletins judge) or
        ``period`` alone.
    cumulative : bool
    denominator : str, optional
        An indicator used as exposure when ``exposure`` is not given.
    rate : {"pooled", "trimmed", "median"}
        The peers' rate: Σ O ÷ Σ exposure (without the unit itself when
        ``leave_one_out``), the same without the units in the ``winsor`` tails of
        O/exposure, or the peers' median of O/exposure.
    leave_one_out : bool
        Leave the unit out of its own peers' rate, so that a unit dominating a small
        group does not set its own norm.
    min_peers : int
        A type with fewer tested units is compared with all units.
    winsor : float
        z-scores are winsorised at ``winsor`` and 1 − ``winsor`` within the peer group
        before φ and τ² (``_stats.dispersion``).  The default 0.2 (FunnelPlotR: 0.1)
        keeps the many zeros and the few very active units of a district from
        inflating τ².
    z_method : {"exact", "sqrt"}
        z-scores ``exact`` (``_stats.exact_z``, normal scores of the Poisson mid-p) or
        ``sqrt`` (2(√O − √E), FunnelPlotR's).

    Returns
    -------
    DataFrame with columns unit, unit_type, peer, observed, exposure, expected, ratio
    (O/E), lower95, upper95, lower998, upper998 (limits on the count scale), z (the
    overdispersion-adjusted z-score (√(O/E) − 1)/√(s² + τ²)), p_low (P(X ≤ O),
    ``_stats.count_cdf``), phi, tau2 (of the unit's peer group).

    Notes
    -----
    Null model: the unit's window total is Poisson with mean E·θ, E the peers' rate ×
    exposure and θ a unit effect with √θ ~ N(1, τ²), τ² the peers' between-unit
    variance on the square-root scale.
    """
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


def low_outlier(panel, *, exposure=None, period=None,
                indicator: str = "major_hazards_found", cumulative: bool = True,
                denominator: str | None = None, rate: str = "pooled",
                leave_one_out: bool = True, min_peers: int = 5, winsor: float = 0.2,
                z_method: str = "exact", min_expected: float = 3.0, alert: float = 0.01,
                warning: float = 0.05, info_p: float = 0.05) -> pd.DataFrame:
    """Units far below their peers on ``indicator`` (default 重大事故隐患排查数).

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures (a long panel, or a ``panel.Panel``).  Not modified.
    exposure : DataFrame, optional
        Enterprises supervised per unit (``dataset.exposure``).
    period : str, optional
        Report on this period; the window is every period up to it when
        ``cumulative``, else the period alone.  None: the whole panel.
    indicator, cumulative, denominator, rate, leave_one_out, min_peers, winsor, z_method
        The funnel's settings, as in ``funnel_table``.
    min_expected : float
        Test only units expected to find at least this many: a smaller E can never
        make a 0 significant (E leaves the unit out, so the filter does not bias the
        test).
    alert, warning : float
        Severity ``alert`` where the Benjamini–Hochberg q-value is below ``alert``,
        ``warning`` where below ``warning``.
    info_p : float
        Units with raw p below this but not significant after adjustment are
        returned as ``info``.

    Returns
    -------
    Findings (``findings.FINDINGS_COLUMNS``): observed = the unit's window total,
    expected = E, lower/upper = the 95% funnel limits, statistic = the adjusted
    z-score, p_value = P(X ≤ O), q_value across the tested units.

    Notes
    -----
    Null model: the unit's window total is Poisson with mean E·θ (E the peers' rate ×
    exposure, θ a unit effect with the peers' between-unit variance τ² on the
    square-root scale; see ``funnel_table`` and ``_stats.count_cdf``); p = P(X ≤ O).
    """
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
    where = window_label(period, cumulative, f.months if period is None else [])
    name, unit = indicator_name(indicator), indicator_unit(indicator)
    o, e, pk = f.o[keep], f.e[keep], p[keep]
    # the message of each reported unit (``fmt``'s formats, one f-string a row)
    peers = ["全部单位" if k == ALL_PEERS else f"同类{unit_type_name(k)}" for k in f.peer[keep]]
    verdicts = np.where(sev == "info", "，偏低但经多重检验校正后不显著", "，显著偏低")
    msg = [f"{u}，{where}{name}{figure(ob)}{unit}，按{pz}水平应约{ex:.1f}{unit}"
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
        theta, which = np.unique(effect_multiplier(t), return_inverse=True)
        weight = np.bincount(which.ravel(), weights=GH_W)
        e = e_win[rows]
        acc = np.zeros_like(e)
        for th, w in zip(theta, weight):
            acc += w * np.exp(-e * th)
        p[rows] = acc
    return np.where(e_win > 0, np.clip(p, 0.0, 1.0), np.nan)


def zero_report(panel, *, exposure=None, period=None,
                indicator: str = "major_hazards_found", cumulative: bool = True,
                denominator: str | None = None, rate: str = "pooled",
                leave_one_out: bool = True, min_peers: int = 5, winsor: float = 0.2,
                z_method: str = "exact", min_expected: float = 1.0, min_run: int = 2,
                alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """Units reporting 0 where peers of their size would not.

    For each unit, the longest run of consecutive periods in the window with a
    reported 0 (a missing period is not a reported 0 and breaks a run).

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures (a long panel, or a ``panel.Panel``).  Not modified.
    exposure : DataFrame, optional
        Enterprises supervised per unit (``dataset.exposure``).
    period : str, optional
        Report on this period; the window is every period up to it when
        ``cumulative``, else the period alone.  None: the whole panel.
    indicator, cumulative, denominator, rate, leave_one_out, min_peers, winsor, z_method
        The funnel's settings, as in ``funnel_table``.
    min_expected : float
        Test only units whose expected count over the window is at least this.
    min_run : int
        Test runs of at least this many periods (or the whole window).
    alert, warning : float
        Severity ``alert`` where the Benjamini–Hochberg q-value is below ``alert``,
        ``warning`` where below ``warning``.

    Returns
    -------
    Findings: observed 0, expected = the expected count over the run, statistic =
    the run's length, p_value = P(some run that long is all zero), period = the
    run's last period (or ``period``).  Units whose whole window is 0 but are not
    significant are returned as ``info`` (the bulletins list every "0" reporter).

    Notes
    -----
    Null model: the unit's count in each period is Poisson with the mean its peers
    predict (E from ``funnel_table``, spread over the periods in proportion to the
    peer group's totals), with the peers' unit effect τ² (``_stats.count_cdf``).  p =
    Σ over every run of the same length in the window of P(all zero): a union bound
    on "some run that long", exact when the run is the whole window.  BH across the
    units with such a run whose expected count is at least ``min_expected``.
    """
    f = _funnel(panel, indicator=indicator, exposure=exposure, period=period,
                cumulative=cumulative, denominator=denominator, rate=rate,
                leave_one_out=leave_one_out, min_peers=min_peers, winsor=winsor,
                z_method=z_method, by_period=True)
    months = f.months
    if not len(f.unit) or not months:
        return empty_findings()
    v = f.by_period
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
    tot[all_code], seen[all_code] = f.all_by_period, True
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
