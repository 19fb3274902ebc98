"""Source mix and sector mix of the hazards found.

``low_self_report``      enterprises not doing their own checks: a unit's share of
                         major hazards self-reported by enterprises (企业自查发现) far
                         below its peers' (桂林 2024H1: 7 of 79 = 8.86%).
``sector_concentration`` a unit's hazards piled into one or two sectors while its
                         other sectors report 0 (巴南 2023: 建筑施工 + 工贸 = 80%).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..dataset import require_columns as _require
from ..findings import empty_findings, make_findings, severity_from_q
from ..indicators import in_window, sector_shares, window_sums
from ..panel import Panel, as_panel
from ._peers import ALL_PEERS, peer_groups
from ._stats import GH_W, GH_X, bh_adjust, count_cdf, dispersion, exact_z
from ._wording import fmt, window_label

_SOURCE_CODES = ["major_hazards_found_dept", "major_hazards_found_enterprise", "major_hazards_found"]


_PANEL = ["unit", "unit_type", "period", "indicator", "value"]


def _read(panel, what: str, indicators=None) -> Panel:
    if isinstance(panel, pd.DataFrame):
        _require(panel, _PANEL, what)
    return as_panel(panel, indicators)


def _with_ledger(panel: Panel, ledger_counts) -> Panel:
    """The panel, or, when it has no hazard-source figures, the ledger's effective
    counts as a panel (unit types taken from the panel)."""
    if panel.has(_SOURCE_CODES[0]) or panel.has(_SOURCE_CODES[1]) or ledger_counts is None \
            or len(ledger_counts) == 0:
        return panel
    from ..ledger import ledger_panel
    lp = ledger_panel(ledger_counts)
    types = pd.Series(panel.unit_type, index=pd.Index(panel.units, dtype=object))
    return as_panel(lp.assign(unit_type=lp["unit"].map(types)))


def self_report_table(panel, *, ledger_counts=None, period=None,
                      cumulative: bool = True, min_peers: int = 5,
                      winsor: float | None = None, z_method: str = "exact") -> pd.DataFrame:
    """One row per unit with hazard-source figures in the window: unit, unit_type,
    peer, enterprise (self-reported count), found (dept + enterprise, or
    major_hazards_found), share, expected_share (the peers' pooled share), z (arcsine
    scale, overdispersion-adjusted), p_low, phi, tau2.

    Null model: the self-reported count is Binomial(found, θ), the unit's share θ
    varying around the peers' pooled share p0 (without the unit itself) with variance τ² on the arcsine-√
    scale (FunnelPlotR's proportion funnel; s = 1/(2√found)).  τ² by
    DerSimonian–Laird from φ, the dispersion of the z-scores (``exact``: normal
    scores of the binomial mid-p, or ``sqrt``: arcsine differences over s):
    φ = median(z²)/0.4549 with ``winsor`` None (the default, ``_stats.dispersion``
    with ``robust``; z against the peer group's median share), else mean(z²) against
    the pooled share, winsorised at ``winsor`` (FunnelPlotR's, the
    method before; without a consistency factor it is biased low, and in a small
    group the one clipped anomaly sets it).  The median keeps the anomalous units
    (about one in ten on the issue 12 grid) from setting the spread they are judged
    by, and does not set τ² to 0 under real between-unit variation (honest units
    with a beta-distributed share were flagged at 4× the rate of an oracle).  p_low = P(X ≤ observed) averaged over θ (exact
    binomial when τ² = 0)."""
    src = _with_ledger(_read(panel, "low_self_report", _SOURCE_CODES), ledger_counts)
    t = window_sums(src, _SOURCE_CODES, period=period, cumulative=cumulative)
    by_source = t["major_hazards_found_dept"] + t["major_hazards_found_enterprise"]
    n = by_source.fillna(t["major_hazards_found"])
    k = t["major_hazards_found_enterprise"]
    tested = k.notna() & (n > 0)
    t = t.assign(enterprise=k, found=n).loc[tested].reset_index(drop=True)
    if t.empty:
        return pd.DataFrame(columns=["unit", "unit_type", "peer", "enterprise", "found", "share",
                                     "expected_share", "z", "p_low", "phi", "tau2"])
    code, names = peer_groups(t["unit_type"].to_numpy(dtype=object), np.ones(len(t), bool),
                              min_peers)
    peer = pd.Series(names[code], index=t.index)
    sums = t.groupby(peer)[["enterprise", "found"]].sum()
    sums.loc[ALL_PEERS] = t[["enterprise", "found"]].sum()
    # the peers' pooled share without the unit itself (as the count funnel's rate)
    g = sums.reindex(peer.to_numpy()).set_axis(t.index) - t[["enterprise", "found"]]
    p0 = (g["enterprise"] / g["found"].where(g["found"] > 0)).astype(float)
    share = t["enterprise"] / t["found"]
    s = 1 / (2 * np.sqrt(t["found"]))
    target = np.arcsin(np.sqrt(p0))
    if winsor is None:
        # the spread is measured around the peers' median share, which a unit at 0
        # does not move: around the pooled share every honest peer of a unit at 0
        # looks high, and their z set a τ² that hides the unit itself
        med = share.groupby(peer).median()
        med[ALL_PEERS] = share.median()
        centre = peer.map(med).astype(float)
        how = {"robust": True}
    else:
        centre, how = p0, {"winsor": winsor}
    if z_method == "exact":
        k, n = t["enterprise"].to_numpy(), t["found"].to_numpy()
        mid = stats.binom.cdf(k - 1, n, centre) + 0.5 * stats.binom.pmf(k, n, centre)
        z0 = pd.Series(stats.norm.ppf(mid), index=t.index)
    elif z_method == "sqrt":
        z0 = (np.arcsin(np.sqrt(share)) - np.arcsin(np.sqrt(centre))) / s
    else:
        raise ValueError(f"z_method must be 'exact' or 'sqrt', got {z_method!r}")
    disp = {g: dispersion(z0[peer == g], s[peer == g], **how)
            for g in peer.unique() if g != ALL_PEERS}
    disp[ALL_PEERS] = dispersion(z0, s, **how)
    phi = peer.map({g: v[0] for g, v in disp.items()}).astype(float)
    tau2 = peer.map({g: v[1] for g, v in disp.items()}).astype(float)
    z = (np.arcsin(np.sqrt(share)) - target) / np.sqrt(s ** 2 + tau2)
    # the unit's true share: arcsine-scale normal around the peers' (as the funnel's
    # additive τ²), averaged by Gauss–Hermite quadrature; τ² = 0 gives the binomial
    angle = np.clip(target.to_numpy()[:, None] + np.sqrt(tau2.to_numpy())[:, None] * GH_X,
                    0.0, np.pi / 2)
    cdf = stats.binom.cdf(t["enterprise"].to_numpy()[:, None], t["found"].to_numpy()[:, None],
                          np.sin(angle) ** 2)
    p_low = (cdf * GH_W).sum(axis=1)
    # a peer group where nobody self-reports (p0 = 0) cannot show anyone low
    p_low = np.where(p0 > 0, np.clip(p_low, 0.0, 1.0), np.nan)
    return pd.DataFrame({
        "unit": t["unit"], "unit_type": t["unit_type"], "peer": peer,
        "enterprise": t["enterprise"], "found": t["found"], "share": share,
        "expected_share": p0, "z": z, "p_low": p_low, "phi": phi, "tau2": tau2,
    })


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def low_self_report(panel, *, ledger_counts=None, period=None,
                    cumulative: bool = True, min_peers: int = 5,
                    winsor: float | None = None, z_method: str = "exact", min_found: int = 5,
                    overall_floor: float = 0.2, alert: float = 0.01, warning: float = 0.05,
                    info_p: float = 0.05) -> pd.DataFrame:
    """Units whose enterprises self-report a share of major hazards far below their
    peers' (桂林 2024H1: 7 of 79 = 8.86 %: enterprises are not doing their own checks).

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures (major hazards found by departments and by enterprises).
    ledger_counts : DataFrame, optional
        The hazard ledger's effective counts, used when the panel has no source split.
    period : str, optional
        The window, as in ``outliers.funnel_table``.
    cumulative, min_peers, winsor, z_method
        As in ``self_report_table``.
    min_found : int
        Test only units with at least this many hazards (fewer can never be
        significant).
    overall_floor : float
        Also one ``info`` row for all units together when their pooled share is below
        this (descriptive, as the bulletin states it).
    alert, warning : float
        Severity from the Benjamini–Hochberg q-value across tested units.
    info_p : float
        Units with raw p below this, not significant after adjustment, are ``info``.

    Returns
    -------
    Findings: observed = the unit's self-reported count, expected = its peers'
    share × its hazards, statistic = the arcsine z-score, p_value = P(X ≤ observed);
    the overall row has observed = the total self-reported, statistic = the share.

    Notes
    -----
    Null model (``self_report_table``): the self-reported count is Binomial(found,
    θ), the unit's share θ varying around its peers' pooled share with a between-unit
    variance τ² on the arcsine-√ scale (FunnelPlotR's proportion funnel), τ² from
    the median of the squared z-scores (robust to the low units themselves); p =
    P(X ≤ observed) averaged over θ; BH across the units with at least ``min_found``.
    """
    pv = _read(panel, "low_self_report", _SOURCE_CODES)
    tab = self_report_table(pv, ledger_counts=ledger_counts, period=period,
                            cumulative=cumulative, min_peers=min_peers, winsor=winsor,
                            z_method=z_method)
    if tab.empty:
        return empty_findings()
    periods = [str(q) for q in pv.periods[pv.window(period, cumulative=cumulative)]]
    where = window_label(period, cumulative, periods)
    p = tab["p_low"].where(tab["found"] >= min_found)
    q = bh_adjust(p)
    f = tab.assign(q=q, sev=severity_from_q(q, alert=alert, warning=warning))
    f = f.loc[(f["q"] < warning) | (p < info_p)]
    msg = (f["unit"] + "，" + where + "排查重大事故隐患" + fmt(f["found"])
           + "项，其中企业自查发现" + fmt(f["enterprise"]) + "项，占比"
           + fmt(f["share"], "pct") + "，远低于同类单位的" + fmt(f["expected_share"], "pct")
           + "（p=" + fmt(f["p_low"], "p") + "）。")
    rows = pd.DataFrame({
        "check": "low_self_report", "unit": f["unit"], "unit_type": f["unit_type"],
        "period": period, "indicator": "major_hazards_found_enterprise",
        "observed": f["enterprise"], "expected": f["expected_share"] * f["found"],
        "lower": np.nan, "upper": np.nan, "statistic": f["z"], "p_value": f["p_low"],
        "q_value": f["q"], "severity": f["sev"], "message": msg,
    })
    k, n = tab["enterprise"].sum(), tab["found"].sum()
    if n > 0 and k / n < overall_floor:
        total = pd.DataFrame({
            "check": ["low_self_report"], "unit": [np.nan], "period": [period],
            "indicator": ["major_hazards_found_enterprise"], "observed": [k],
            "expected": [overall_floor * n], "statistic": [k / n], "severity": ["info"],
            "message": [f"{where}各单位共排查重大事故隐患{n:.0f}项，其中企业自查发现{k:.0f}项，"
                        f"企业自查上报占比仅为{_pct(k / n)}。"],
        })
        rows = pd.concat([rows, total], ignore_index=True) if len(rows) else total
    return make_findings(rows) if len(rows) else empty_findings()


# --------------------------------------------------------------------------- sectors
def _sector_counts(ledger_counts: pd.DataFrame, period, cumulative: bool):
    """The ledger rows in the window (see ``in_window``) with a sector: their
    positions, their sector's position in ``sectors`` (the sectors among them, in
    text order), and the hazards found per sector.  The window and the blank test
    are decided once per distinct period and sector, not per row."""
    _require(ledger_counts, ["unit", "period", "sector", "found"], "sector_concentration")
    p_code, p_names = pd.factorize(ledger_counts["period"], use_na_sentinel=True)
    p_ok = in_window(pd.Series(np.asarray(p_names, dtype=object)).astype(str), period,
                     cumulative=cumulative).to_numpy(dtype=bool)
    # the last entry is for a missing period (code -1): inside only without a period
    in_win = np.append(p_ok, period is None)[p_code]
    s_code, s_names = pd.factorize(ledger_counts["sector"], use_na_sentinel=True)
    s_names = pd.Index(np.asarray(s_names, dtype=object)).astype(str)
    named = np.append(s_names != "", False)[s_code]
    rows = np.flatnonzero(in_win & named)
    s_code = s_code[rows]
    used = np.flatnonzero(np.bincount(s_code, minlength=len(s_names)) > 0)
    order = np.argsort(np.asarray(s_names[used], dtype=object), kind="stable")
    pos = np.full(len(s_names), -1, dtype=np.int64)
    pos[used[order]] = np.arange(len(used))
    sectors = list(s_names[used[order]])
    found = ledger_counts["found"].iloc[rows]
    by_sector = np.bincount(pos[s_code], weights=found.to_numpy(dtype="float64"),
                            minlength=len(sectors))
    if found.dtype.kind in "iu":  # counts stay integers, as a group-by sum keeps them
        by_sector = by_sector.astype(found.dtype)
    return rows, pos[s_code], sectors, pd.Series(by_sector, index=pd.Index(sectors, name="sector"))


def sector_concentration(panel, *, exposure=None, ledger_counts=None, period=None,
                         cumulative: bool = True, top2_info: float = 0.6, winsor: float = 0.2,
                         min_expected: float = 5.0,
                         per_unit: bool = False, unit_types=("county", "town"),
                         min_found: int = 5, min_peers: int = 5,
                         n_sim: int = 4000, seed: int = 0, alert: float = 0.01,
                         warning: float = 0.05, info_p: float = 0.05) -> pd.DataFrame:
    """Hazards piled into one or two sectors while others report 0 (巴南 2023: 建筑施工
    + 工贸 = 80 %, 文旅、养老、医疗、教育 at 0), from the hazard ledger; nothing without it.

    Parameters
    ----------
    panel : DataFrame or Panel
        The figures; read only for the unit types and the period labels.
    exposure : DataFrame, optional
        Enterprises supervised, with rows per sector: the sectors' exposure mix.
    ledger_counts : DataFrame, optional
        Effective counts per unit, month and sector (``ledger.effective_counts``).
    period : str, optional
        The window (``indicators.in_window``); None: the whole ledger.
    cumulative : bool
        Campaign to date (True) or the period alone.
    top2_info : float
        The all-units row is returned as ``info`` when the two largest sectors hold
        at least this share, even when not significant.
    winsor : float
        Winsorising of the sectors' z-scores for their between-sector τ².
    min_expected : float
        A sector is tested only when expected to hold at least this many hazards.
    per_unit : bool
        Also test each unit of ``unit_types`` (territorial units) with at least
        ``min_found`` hazards.  Off by default: in a district every town files most
        hazards under 工贸 and 建筑施工, the group's pattern, not a unit's anomaly.
    unit_types, min_found, min_peers
        The per-unit test's units, its minimum hazards, and the smallest type that is
        a peer group of its own.
    n_sim, seed : int
        Simulations of the per-unit HHI (seeded, reproducible).
    alert, warning : float
        Severity from the combined p (all units) or the BH q-value (per unit).
    info_p : float
        Per-unit rows with raw p below this, not significant after adjustment, are
        ``info``.

    Returns
    -------
    Findings.  All units (unit blank): observed = the two largest sectors' share,
    statistic = the HHI, p_value = the Fisher combination of the sectors' lower-tail
    p-values; the message names the two largest sectors, those significantly low and
    those at 0.  Per unit: observed = its HHI, expected = the HHI its exposure mix
    predicts, statistic = its two largest sectors' share.

    Notes
    -----
    All units: each sector's hazards are Poisson with mean total × its share of the
    enterprises supervised, with a between-sector effect τ² as in the unit funnel
    (``sector_funnel``).  The row's p is the Fisher combination (−2 Σ log p against
    χ²(2k)), a global test of "no sector falls short of its exposure", chosen over
    the smallest BH q (Simes) because the anomaly is many sectors low together, where
    Simes is weakest; the counts share a fixed total, so their lower tails are
    negatively dependent, which makes Fisher's reference conservative.  Per unit: its
    hazards fall into sectors independently with the probabilities of its own sector
    exposure mix (or its peers' pooled mix); p = P(HHI ≥ observed) by simulation.
    """
    pv = _read(panel, "sector_concentration", indicators=[])
    if ledger_counts is None or len(ledger_counts) == 0:
        return empty_findings()
    rows, sector_pos, sectors, by_sector = _sector_counts(ledger_counts, period, cumulative)
    if not len(rows):
        return empty_findings()
    has_exp = exposure is not None and len(exposure) and "sector" in exposure \
        and (exposure["sector"].fillna("") != "").any()
    if has_exp:
        se = exposure.loc[exposure["sector"].fillna("") != ""]
        sectors = sorted(set(sectors) | set(se.loc[se["enterprises"] > 0, "sector"]))
    # the group row needs only each sector's total (one row per sector, not the ledger)
    totals = by_sector.rename("found").reset_index()
    findings = [_overall_row(totals, sectors, period, cumulative, top2_info,
                             se if has_exp else None, winsor, min_expected, alert, warning)]
    if not per_unit:
        out = [f for f in findings if f is not None and len(f)]
        return make_findings(pd.concat(out, ignore_index=True)) if out else empty_findings()
    counts = _unit_sector_table(ledger_counts, rows, sector_pos, by_sector.index, sectors)
    at = pv.unit_index(counts.index)
    types = pd.Series(np.where(at >= 0, pv.unit_type[np.maximum(at, 0)], np.nan),
                      index=counts.index, name="unit_type", dtype=object)
    territorial = counts.loc[types.isin(list(unit_types)).to_numpy()]
    sel = territorial.loc[territorial.sum(axis=1) >= min_found]
    if len(sel):
        code, names = peer_groups(types.loc[territorial.index].to_numpy(dtype=object),
                                  np.ones(len(territorial), dtype=bool), min_peers)
        peer = pd.Series(names[code], index=territorial.index)
        peer_mix = territorial.groupby(peer).sum()
        peer_mix.loc[ALL_PEERS] = territorial.sum()
        # the peers' mix without the unit itself, so a unit cannot set its own norm
        mix = peer_mix.reindex(peer.loc[sel.index].to_numpy()).set_axis(sel.index) - sel
        if has_exp:
            own = (se.pivot_table(index="unit", columns="sector", values="enterprises",
                                  aggfunc="sum").reindex(index=sel.index, columns=sectors)
                   .fillna(0.0))
            # the unit's own exposure mix where it has one, else its peers' hazard mix
            has_own = np.broadcast_to((own.sum(axis=1) > 0).to_numpy()[:, None], own.shape)
            mix = own.where(has_own, mix)
        pi = mix.div(mix.sum(axis=1), axis=0).to_numpy()
        findings.append(_unit_rows(sel, pi, types.loc[sel.index], period, cumulative, n_sim,
                                   seed, alert, warning, info_p, pv))
    out = [f for f in findings if f is not None and len(f)]
    return make_findings(pd.concat(out, ignore_index=True)) if out else empty_findings()


def _unit_sector_table(ledger_counts, rows, sector_pos, names, sectors) -> pd.DataFrame:
    """Hazards found per unit (rows, text order) and sector (columns ``sectors``) over
    the ledger ``rows``, 0 where none.  Summed by integer codes into one row per unit
    and sector first; the pivot table is then built from those few rows exactly as
    from the ledger (same dtypes and memory layout, so the HHI sums below round as
    before)."""
    found = ledger_counts["found"].iloc[rows]
    u_code, units = pd.factorize(ledger_counts["unit"].iloc[rows], use_na_sentinel=True)
    ok = u_code >= 0
    n_s = len(names)
    pair = u_code[ok] * n_s + sector_pos[ok]
    size = len(units) * n_s
    sums = np.bincount(pair, weights=found.to_numpy(dtype="float64")[ok], minlength=size)
    has = np.flatnonzero(np.bincount(pair, minlength=size) > 0)
    if found.dtype.kind in "iu":
        sums = sums.astype(found.dtype)
    pairs = pd.DataFrame({"unit": np.asarray(units, dtype=object)[has // n_s],
                          "sector": np.asarray(names, dtype=object)[has % n_s],
                          "found": sums[has]})
    return (pairs.pivot_table(index="unit", columns="sector", values="found", aggfunc="sum")
            .reindex(columns=sectors).fillna(0.0))


# simulated multinomial draws held at once (int64): bounds the memory of n_sim ×
# units × sectors, 4,000 × 10,000 × 12 would be 3.8 GB
_SIM_CELLS = 4_000_000


def _simulated_hhi(n: np.ndarray, pi: np.ndarray, n_sim: int, seed: int, hhi: np.ndarray):
    """Under the multinomial (n, pi) per unit, ``n_sim`` seeded draws: how many reach
    the observed HHI, and the mean simulated HHI.  Drawn in blocks of simulations
    (the generator's stream, hence every draw, is that of one n_sim × units call),
    the mean summed in the same order as a single array's mean."""
    rng = np.random.default_rng(seed)
    block = max(1, _SIM_CELLS // max(1, len(n) * pi.shape[1]))
    hits = np.zeros(len(n), dtype=np.int64)
    total = np.zeros(len(n))
    for start in range(0, n_sim, block):
        sim = rng.multinomial(n, pi, size=(min(block, n_sim - start), len(n)))
        sim_hhi = ((sim / n[None, :, None]) ** 2).sum(axis=2)
        # a tolerance so that ties in the discrete HHI count as "at least as concentrated"
        hits += (sim_hhi >= hhi[None, :] - 1e-12).sum(axis=0)
        total = np.add.reduce(np.vstack([total[None, :], sim_hhi]), axis=0)
    return hits, total / n_sim


def _unit_rows(sel, pi, types, period, cumulative, n_sim, seed, alert, warning, info_p, panel):
    n = sel.sum(axis=1).to_numpy().astype(np.int64)
    o = sel.to_numpy()
    hhi = ((o / n[:, None]) ** 2).sum(axis=1)
    hits, exp_hhi = _simulated_hhi(n, pi, n_sim, seed, hhi)
    p = (hits + 1) / (n_sim + 1)
    q = bh_adjust(p)
    keep = (q < warning) | (p < info_p)
    if not keep.any():
        return None
    order = np.argsort(-o, axis=1)
    top = np.array(sel.columns)[order[:, :2]]
    top2 = np.take_along_axis(o, order[:, :2], axis=1).sum(axis=1) / n
    zeros = (o == 0) & (pi > 0)
    # the label lists the panel's periods only for the whole panel (period None)
    periods = [] if period is not None else [str(q) for q in panel.periods]
    where = window_label(period, cumulative, periods)
    f = pd.DataFrame({"unit": sel.index, "n": n, "hhi": hhi, "exp": exp_hhi, "p": p, "q": q,
                      "top": _names(top, np.take_along_axis(o, order[:, :2], axis=1)),
                      "top2": top2,
                      "zeros": zeros.sum(axis=1)})[keep]
    msg = (f["unit"] + "，" + where + "排查重大事故隐患" + f["n"].astype(str) + "项，集中在"
           + f["top"] + "（占" + fmt(f["top2"], "pct") + "），另有" + f["zeros"].astype(str)
           + "个监管行业领域为0，集中度HHI=" + fmt(f["hhi"], ".2f") + "（按其行业构成应约"
           + fmt(f["exp"], ".2f") + "，p=" + fmt(f["p"], "p") + "）。")
    return pd.DataFrame({
        "check": "sector_concentration", "unit": f["unit"], "unit_type": types[keep].to_numpy(),
        "period": period, "indicator": "major_hazards_found", "observed": f["hhi"],
        "expected": f["exp"], "lower": np.nan, "upper": np.nan, "statistic": f["top2"],
        "p_value": f["p"], "q_value": f["q"],
        "severity": severity_from_q(f["q"], alert=alert, warning=warning), "message": msg,
    })


def _names(top: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """'A、B' for the two largest sectors, just 'A' when the second has none."""
    second = np.where(counts[:, 1] > 0, np.char.add("、", top[:, 1].astype(str)), "")
    return np.char.add(top[:, 0].astype(str), second)


def sector_funnel(counts_by_sector: pd.Series, enterprises_by_sector: pd.Series, *,
                  winsor: float = 0.2) -> pd.DataFrame:
    """Each sector's hazards against its share of the enterprises supervised: one row
    per sector with enterprises > 0: sector, observed, enterprises, expected (total ×
    the sector's share of enterprises), p_low (``outliers.count_cdf`` with the τ² of
    the sectors, estimated as for units on winsorised exact z-scores), tau2."""
    x = enterprises_by_sector.loc[lambda v: v > 0].astype(float)
    o = counts_by_sector.reindex(x.index).fillna(0.0).astype(float)
    e = o.sum() * x / x.sum()
    z = exact_z(o, e)
    _, tau2 = dispersion(z, 1 / (2 * np.sqrt(e)), winsor=winsor)
    return pd.DataFrame({"sector": x.index, "observed": o.to_numpy(), "enterprises": x.to_numpy(),
                         "expected": e.to_numpy(), "p_low": count_cdf(o, e, tau2),
                         "tau2": tau2}).reset_index(drop=True)


def _overall_row(lc, sectors, period, cumulative, top2_info, se, winsor, min_expected, alert,
                 warning):
    """One row for all units: the two largest sectors and the sectors with 0; with
    sector exposure, severity from the Fisher combination of the sector funnel's
    lower-tail p-values (BH across sectors names the ones low by themselves)."""
    s = sector_shares(lc, value="found", sectors=sectors)
    total = s["count"].sum()
    if total <= 0:
        return None
    top = s.sort_values("count", ascending=False, kind="stable").head(2)
    top2 = top["count"].sum() / total
    zeros = s.loc[s["zero"], "sector"].tolist()
    p_min, q_min, low = np.nan, np.nan, []
    if se is not None:
        f = sector_funnel(s.set_index("sector")["count"],
                          se.groupby("sector")["enterprises"].sum(), winsor=winsor)
        # sectors too small to show a shortfall are not tested
        f["q"] = bh_adjust(f["p_low"].where(f["expected"] >= min_expected))
        sig = f.loc[f["q"] < warning].sort_values("p_low")
        low = [f"{r.sector}（{r.observed:.0f}项，按监管企业数应约{r.expected:.0f}项）"
               for r in sig.itertuples()]  # over the few significant sectors
        tested = f["p_low"].where(f["expected"] >= min_expected).dropna()
        if len(tested):
            p_min = q_min = float(stats.combine_pvalues(tested.clip(lower=1e-300),
                                                         method="fisher").pvalue)
    if top2 < top2_info and not (q_min < warning):
        return None
    parts = "、".join(f"{r.sector}{r.count:.0f}项" for r in top.itertuples())
    # Say which window the counts cover: a period's own counts and the campaign-to-date
    # counts differ, and the report shows both.
    when = "" if period is None else (f"截至{period}累计" if cumulative else f"{period}")
    msg = f"{when}重大事故隐患主要集中在{parts}，两个行业领域合计占比{_pct(top2)}"
    if low:
        msg += "；" + "、".join(low) + "显著偏低"
    if zeros:
        msg += f"；{'、'.join(zeros)}等行业领域为0"
    severity = severity_from_q([q_min], alert=alert, warning=warning)[0]
    return pd.DataFrame({
        "check": ["sector_concentration"], "unit": [np.nan], "period": [period],
        "indicator": ["major_hazards_found"], "observed": [top2],
        "statistic": [s["hhi"].iloc[0]], "p_value": [p_min], "q_value": [q_min],
        "severity": [severity], "message": [msg + "。"],
    })
