"""Units far below their peers (``low_outlier``) and units reporting 0 where peers of
their size would not (``zero_report``), judged on a funnel plot (``funnel_table``).

The models (a gamma effect fitted robustly, the default; the square-root-scale τ²
model used before issue 12; FunnelPlotR's) are in ``checks._funnel``; this module
writes the funnel table and the findings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalogue import indicator_name, indicator_unit
from ..findings import empty_findings, make_findings, severity_from_q
from ._wording import figure, window_label
from ._peers import ALL_PEERS
from ._stats import bh_adjust
from ._funnel import fit_funnel, funnel_panel, limits, p_low, run_zero_probability, z_score


def funnel_table(panel, *, indicator: str = "major_hazards_found", exposure=None,
                 period=None, cumulative: bool = True, denominator: str | None = None,
                 model: str = "gamma", rate: str | None = None,
                 leave_one_out: bool | None = None, min_peers: int = 5,
                 winsor: float | None = None, z_method: str | None = None,
                 shape_level: float | None = None) -> pd.DataFrame:
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
        Whether the window runs from the first period to ``period`` (True) or is
        ``period`` alone.
    denominator : str, optional
        An indicator used as exposure when ``exposure`` is not given.
    model : {"gamma", "sqrt-normal", "funnelplotr"}
        How honest units vary around E (``checks._funnel``): a gamma effect fitted
        robustly (default), the additive square-root-scale τ² model used before
        issue 12, or FunnelPlotR's standardised-ratio limits.
    rate : {"fitted", "pooled", "trimmed", "median"}, optional
        The peers' rate: the mixture fit's (``fitted``, gamma only: the units the fit
        believes), Σ O ÷ Σ exposure (``pooled``), the same without the units in the
        ``winsor`` tails of O/exposure (``trimmed``), or the peers' median of
        O/exposure.  None: the model's own (fitted for gamma, else pooled).
    leave_one_out : bool, optional
        Leave the unit out of its own peers' rate, so that a unit dominating a small
        group does not set its own norm.  None: True, but False for funnelplotr (as
        FunnelPlotR, whose expected counts sum to the observed).
    min_peers : int
        A type with fewer tested units is compared with all units.
    winsor : float, optional
        The normal models winsorise their z-scores at ``winsor`` and 1 − ``winsor``
        within the peer group before φ and τ² (``_stats.dispersion``); also the
        tails left out by ``rate="trimmed"``.  None: 0.2 (which keeps a district's
        many zeros from inflating τ²), 0.1 for funnelplotr (FunnelPlotR's).
    z_method : {"exact", "sqrt"}, optional
        The normal models' z-scores for φ: ``exact`` (``_stats.exact_z``, normal
        scores of the Poisson mid-p) or ``sqrt`` (2(√O − √E), FunnelPlotR's).  None:
        exact, sqrt for funnelplotr.  The gamma model has none.
    shape_level : float, optional
        The k the gamma model tests with (``_nb_fit.fit_nb_mixture``'s ``level``, whose
        Notes say why): None (the default), 1/median of α = 1/k under its profile
        likelihood and an exponential prior (mean 0.25); 0.5, k̂; above 0.5, k at its one-sided ``shape_level``
        profile-likelihood lower bound.

    Returns
    -------
    DataFrame with columns unit, unit_type, peer, observed, exposure, expected (E,
    NaN where not tested), ratio (O/E), lower95, upper95, lower998, upper998 (limits
    on the count scale: what the model's test judges), z (gamma: the normal score of
    the NB mid-p; otherwise (√(O/E) − 1)/√(s² + τ²)), p_low (P(X ≤ O) under the
    model), model, and the peer group's parameters: phi and tau2 (normal models),
    shape (the k tested), shape_hat (k̂) and contamination (π̂) (gamma); NaN where a
    model has none.

    Notes
    -----
    Null model: the unit's window total is Poisson with mean E·θ, E the peers' rate ×
    exposure and θ the unit's effect: Gamma(k, 1/k), so the total is NB(mean E,
    shape k), for ``gamma``; √θ ~ N(1, τ²) for ``sqrt-normal``; FunnelPlotR's
    normal approximation on the square-root scale for ``funnelplotr``.
    """
    f = fit_funnel(panel, indicator=indicator, exposure=exposure, period=period,
                   cumulative=cumulative, denominator=denominator, model=model, rate=rate,
                   leave_one_out=leave_one_out, min_peers=min_peers, winsor=winsor,
                   z_method=z_method, shape_level=shape_level)
    lo95, hi95 = limits(f, 0.95)
    lo998, hi998 = limits(f, 0.998)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = f.o / f.e
    return pd.DataFrame({
        "unit": pd.Series(f.unit, dtype="str"), "unit_type": pd.Series(f.unit_type, dtype="str"),
        "peer": pd.Series(f.peer, dtype="str"), "observed": f.o, "exposure": f.x,
        "expected": f.e, "ratio": ratio, "lower95": lo95, "upper95": hi95,
        "lower998": lo998, "upper998": hi998, "z": z_score(f), "p_low": p_low(f),
        "model": pd.Series([f.model] * len(f.unit), dtype="str"), "phi": f.phi,
        "tau2": f.tau2, "shape": f.shape, "shape_hat": f.shape_hat,
        "contamination": f.contamination,
    })


def low_outlier(panel, *, exposure=None, period=None, indicator=None,
                cumulative: bool = True, denominator: str | None = None,
                model: str = "gamma", rate: str | None = None,
                leave_one_out: bool | None = None, min_peers: int = 5,
                winsor: float | None = None, z_method: str | None = None,
                shape_level: float | None = None, min_expected: float = 3.0, alert: float = 0.01,
                warning: float = 0.05, info_p: float = 0.05) -> pd.DataFrame:
    """Units far below their peers on a finding count (重大事故隐患、一般隐患 …排查数).

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures (a long panel, or a ``panel.Panel``).  Not modified.
    exposure : DataFrame, optional
        Enterprises supervised per unit (``dataset.exposure``).  Without it the peers'
        median count is the expectation (``funnel_table``'s ``rate``).
    period : str, optional
        Report on this period; the window is every period up to it when
        ``cumulative``, else the period alone.  None: the whole panel.
    indicator : str or list of str, optional
        The counts judged, each on its own funnel; None (the default): every finding
        count of the catalogue the panel holds (``catalogue.FINDING_COUNTS``: major,
        general and fire hazards found).
    cumulative, denominator, model, rate, leave_one_out
        The funnel's settings, as in ``funnel_table`` (``model="gamma"`` by default).
    min_peers, winsor, z_method, shape_level
        The funnel's fit, as in ``funnel_table``.
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
    Findings (``findings.FINDINGS_COLUMNS``), one row per unit and indicator:
    indicator = the count judged, observed = the unit's window total, expected = E,
    lower/upper = the 95% funnel limits on the count scale, statistic = the funnel's
    z-score (``funnel_table``'s z), p_value = P(X ≤ O) under the model, q_value =
    Benjamini–Hochberg across every tested unit of every indicator; the message names
    the count, what the peers' level predicts and the verdict, without p.

    Notes
    -----
    Null model: the unit's window total is negative binomial with mean E (the peers'
    rate × exposure, leaving the unit out) and shape k, the gamma effect's shape
    fitted on every unit robustly (``model="gamma"``; the other models in
    ``funnel_table``); p = P(X ≤ O), exact.  BH across the units with E ≥
    ``min_expected``, all indicators together.
    """
    pv, codes = funnel_panel(panel, indicator, denominator=denominator)
    fits = []
    for code in codes:  # a loop over the catalogue's finding counts (≤ 3)
        f = fit_funnel(pv, indicator=code, exposure=exposure, period=period,
                       cumulative=cumulative, denominator=denominator, model=model, rate=rate,
                       leave_one_out=leave_one_out, min_peers=min_peers, winsor=winsor,
                       z_method=z_method, shape_level=shape_level)
        if not len(f.unit):
            continue
        with np.errstate(invalid="ignore"):
            tested = np.flatnonzero(f.e >= min_expected)
        p = np.full(len(f.unit), np.nan)
        p[tested] = p_low(f, tested)
        fits.append((code, f, p))
    if not fits:
        return empty_findings()
    q_all = bh_adjust(np.concatenate([p for _, _, p in fits]))
    frames, at = [], 0
    for code, f, p in fits:
        q = q_all[at:at + len(p)]
        at += len(p)
        with np.errstate(invalid="ignore"):
            keep = np.flatnonzero((q < warning) | (p < info_p))
        if not len(keep):
            continue
        sev = severity_from_q(q[keep], alert=alert, warning=warning)
        lo95, hi95 = limits(f, 0.95, keep)
        where = window_label(period, cumulative, f.months if period is None else [])
        name, unit = indicator_name(code), indicator_unit(code)
        verdicts = np.where(sev == "info", "，偏低但经多重检验校正后不显著", "，显著偏低")
        msg = [f"{u}，{where}{name}{figure(ob)}{unit}，{basis}应约{ex:.1f}{unit}{vd}。"
               for u, ob, basis, ex, vd in zip(f.unit[keep], f.o[keep], f.basis[keep],
                                               f.e[keep], verdicts)]
        frames.append(pd.DataFrame({
            "check": "low_outlier", "unit": f.unit[keep], "unit_type": f.unit_type[keep],
            "period": period, "indicator": code, "observed": f.o[keep],
            "expected": f.e[keep], "lower": lo95, "upper": hi95,
            "statistic": z_score(f, keep), "p_value": p[keep], "q_value": q[keep],
            "severity": sev, "message": msg,
        }))
    if not frames:
        return empty_findings()
    return make_findings(pd.concat(frames, ignore_index=True))


def _zero_runs(f, min_run: int, min_expected: float) -> dict | None:
    """One indicator's zero runs on its fitted funnel ``f`` (``fit_funnel`` with
    ``by_period``): per unit the longest run of reported zeros (k) and where it ends,
    the expected count per period (e_m, cumulated in csum), whether the run is the
    whole window, whether it is tested, and p = P(some run that long is all zero)
    (NaN where not computed).  None without units or periods."""
    months = f.months
    if not len(f.unit) or not months:
        return None
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
    with np.errstate(invalid="ignore"):
        # a whole window of reported zeros is listed whether or not peers give an
        # expectation (the bulletins list every "0" reporter)
        whole = k == n_m
        tested = (k >= min(min_run, n_m)) & (f.e >= min_expected)
    # Σ over windows of length k of P(window all zero), for the units that need it
    p = np.full(n_units, np.nan)
    need = np.flatnonzero((tested | (whole & np.isfinite(f.e))) & (k > 0))
    starts = np.arange(n_m)[None, :]
    for b in range(0, len(need), 4096):  # blocks keep the work arrays small
        at = need[b:b + 4096]
        kk = k[at][:, None]
        valid = starts + kk <= n_m
        stop = np.clip(starts + kk, 0, n_m)
        e_win = np.take_along_axis(csum[at], stop, axis=1) - csum[at, :n_m]
        with np.errstate(invalid="ignore"):
            p_win = run_zero_probability(f, e_win, at)
        p[at] = np.minimum(np.where(valid, p_win, 0.0).sum(axis=1), 1.0)
    return {"k": k, "end": end, "csum": csum, "whole": whole, "tested": tested, "p": p,
            "reported": (~np.isnan(v)).any(axis=1)}


def zero_report(panel, *, exposure=None, period=None, indicator=None,
                cumulative: bool = True, denominator: str | None = None,
                model: str = "gamma", rate: str | None = None,
                leave_one_out: bool | None = None, min_peers: int = 5,
                winsor: float | None = None, z_method: str | None = None,
                shape_level: float | None = None, min_expected: float = 1.0, min_run: int = 2,
                min_zero_units: int = 3, zero_share: float = 0.5, alert: float = 0.01,
                warning: float = 0.05) -> pd.DataFrame:
    """Units reporting 0 where peers of their size would not, and a group most of whose
    units report 0.

    For each unit, the longest run of consecutive periods in the window with a
    reported 0 (a missing period is not a reported 0 and breaks a run).

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures (a long panel, or a ``panel.Panel``).  Not modified.
    exposure : DataFrame, optional
        Enterprises supervised per unit (``dataset.exposure``).  Without it the peers'
        median count is the expectation.
    period : str, optional
        Report on this period; the window is every period up to it when
        ``cumulative``, else the period alone.  None: the whole panel.
    indicator : str or list of str, optional
        The counts judged; None (the default): every finding count of the catalogue
        the panel holds (``catalogue.FINDING_COUNTS``).
    cumulative, denominator, model, rate, leave_one_out
        The funnel's settings, as in ``funnel_table`` (``model="gamma"`` by default).
    min_peers, winsor, z_method, shape_level
        The funnel's fit, as in ``funnel_table``.
    min_expected : float
        Test only units whose expected count over the window is at least this.
    min_run : int
        Test runs of at least this many periods (or the whole window).
    min_zero_units, zero_share : int, float
        A row for the whole group (unit blank) when at least ``min_zero_units`` units,
        and at least ``zero_share`` of those with a figure, reported 0 for the whole
        window and the peers give none of them an expectation (大通: 20 of 22 units
        without a single hazard, no exposure, the peers' median 0).
    alert, warning : float
        Severity ``alert`` where the Benjamini–Hochberg q-value is below ``alert``,
        ``warning`` where below ``warning``.

    Returns
    -------
    Findings, one row per unit and indicator: observed 0, expected = the expected
    count over the run (NaN where the peers give none), statistic = the run's length,
    p_value = P(some run that long is all zero), q_value = Benjamini–Hochberg across
    the tested units of every indicator, period = the run's last period (or
    ``period``); the message names the run and what the peers' level predicts for it,
    without p.  Units whose whole window is 0 but are not significant (or not
    testable) are returned as ``info`` (the bulletins list every "0" reporter).  The
    group row: unit blank, observed = the units at 0, statistic = the units with a
    figure, expected, p and q blank, severity ``warning``; its message names the
    units that did report.

    Notes
    -----
    Null model: the unit's count in period t is Poisson with mean E_t·θ, E_t its
    window's E (``funnel_table``) spread over the periods in proportion to the peer
    group's totals, and θ one effect for the unit, shared by all its periods.  Under
    the gamma model θ ~ Gamma(k, 1/k), so a run of total mean m is all zero with
    chance (1 + m/k)^(−k) (``_stats.nb_zero_probability``), not the product of
    per-period terms; under the others, E_θ[exp(−mθ)] with their θ.  p = Σ over
    every run of the same length in the window of P(all zero): a union bound on
    "some run that long", exact when the run is the whole window.  BH across the
    units with such a run whose expected count is at least ``min_expected``, all
    indicators together.  The group row has no null model: when most units report
    nothing and there is no exposure, the peers' own level is 0 and no unit is unusual
    among them; the share itself is what the bulletins report (巴南: 21 units at 0).
    """
    pv, codes = funnel_panel(panel, indicator, denominator=denominator)
    runs = []
    for code in codes:  # a loop over the catalogue's finding counts (≤ 3)
        f = fit_funnel(pv, indicator=code, exposure=exposure, period=period,
                       cumulative=cumulative, denominator=denominator, model=model, rate=rate,
                       leave_one_out=leave_one_out, min_peers=min_peers, winsor=winsor,
                       z_method=z_method, shape_level=shape_level, by_period=True)
        r = _zero_runs(f, min_run, min_expected)
        if r is not None:
            runs.append((code, f, r))
    if not runs:
        return empty_findings()
    q_all = bh_adjust(np.concatenate([np.where(r["tested"], r["p"], np.nan)
                                      for _, _, r in runs]))
    frames, at = [], 0
    for code, f, r in runs:
        q = q_all[at:at + len(f.unit)]
        at += len(f.unit)
        frames.append(_zero_rows(code, f, r, q, period, warning=warning, alert=alert))
        frames.append(_zero_group(code, f, r, period, min_zero_units, zero_share))
    frames = [x for x in frames if x is not None and len(x)]
    if not frames:
        return empty_findings()
    return make_findings(pd.concat(frames, ignore_index=True))


def _zero_rows(code, f, r, q, period, *, warning, alert) -> pd.DataFrame | None:
    """The unit rows of one indicator's zero runs (``_zero_runs``)."""
    with np.errstate(invalid="ignore"):
        keep = np.flatnonzero((r["tested"] & (q < warning)) | r["whole"])
    if not len(keep):
        return None
    k, end, p, q = r["k"][keep], r["end"][keep], r["p"][keep], q[keep]
    cs = r["csum"][keep]
    e_run = cs[np.arange(len(keep)), end + 1] - cs[np.arange(len(keep)), end + 1 - k]
    name, unit = indicator_name(code), indicator_unit(code)
    months = np.array(f.months, dtype=object)
    first, last = months[np.clip(end - k + 1, 0, len(months) - 1)], months[end]
    # no expectation: no exposure for the unit, or peers whose level is 0 themselves
    why = np.where(np.isnan(f.x[keep]), "，无监管企业数，未作比较。", "，同类单位一般水平亦为0，未作比较。")
    msg = [(f"{u}，{a}{name}报送为0" if n == 1 else f"{u}，{a}至{z}连续{n}期{name}报送为0")
           + (f"，{basis}这段时间应约{ex:.1f}{unit}。" if np.isfinite(ex) and ex > 0 else no)
           for u, a, z, n, basis, ex, no in zip(f.unit[keep], first, last, k, f.basis[keep],
                                                e_run, why)]
    return pd.DataFrame({
        "check": "zero_report", "unit": f.unit[keep], "unit_type": f.unit_type[keep],
        "period": last if period is None else period, "indicator": code,
        "observed": 0.0, "expected": np.where(e_run > 0, e_run, np.nan), "lower": np.nan,
        "upper": np.nan, "statistic": k.astype(float), "p_value": p, "q_value": q,
        "severity": severity_from_q(q, alert=alert, warning=warning), "message": msg,
    })


def _zero_group(code, f, r, period, min_zero_units: int, zero_share: float
                ) -> pd.DataFrame | None:
    """The group row of one indicator: most units at 0 for the whole window."""
    zeros = r["whole"] & r["reported"]
    n_zero, n_all = int(zeros.sum()), int(r["reported"].sum())
    with np.errstate(invalid="ignore"):
        judged = zeros & (f.e > 0)
    # only where the units cannot be judged one by one: with exposure a quarter of
    # zeros among units expected to find 0.2 each is no finding, and the unit rows say so
    if n_zero < min_zero_units or n_zero < zero_share * n_all or judged.any():
        return None
    name = indicator_name(code)
    others = [str(u) for u in f.unit[r["reported"] & ~zeros]]
    months = f.months
    where = (months[0] if len(months) == 1 else f"{months[0]}至{months[-1]}")
    rest = (f"，仅{'、'.join(others[:8])}{'等' if len(others) > 8 else ''}{len(others)}个单位报送了{name}"
            if others else f"，没有一个单位报送了{name}")
    msg = f"{n_all}个单位中{n_zero}个{where}{name}报送为0{rest}。"
    return pd.DataFrame({
        "check": ["zero_report"], "unit": [np.nan], "unit_type": [np.nan],
        "period": [months[-1] if period is None else period], "indicator": [code],
        "observed": [float(n_zero)], "expected": [np.nan], "lower": [np.nan],
        "upper": [np.nan], "statistic": [float(n_all)], "p_value": [np.nan],
        "q_value": [np.nan], "severity": ["warning"], "message": [msg]})
