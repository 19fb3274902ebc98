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
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..catalogue import indicator_name, indicator_unit, unit_type_name
from ..findings import bh_adjust, empty_findings, make_findings, severity_from_q
from ..indicators import exposure_by_unit, in_window, window_totals
from ..periods import sort_periods
from ..dataset import require_columns as _require

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


def count_cdf(observed, expected, tau2=0.0) -> np.ndarray:
    """P(X ≤ O) for X Poisson(E·θ), θ the unit effect of the funnel model (√θ normal
    with mean 1 and variance τ²; θ = 1 when τ² = 0), averaged over θ by Gauss–Hermite
    quadrature.  Exact Poisson for τ² = 0, so small counts and zeros are judged
    exactly.  NaN where E is not positive."""
    o, e, tau2 = np.broadcast_arrays(np.asarray(observed, dtype=float),
                                     np.asarray(expected, dtype=float),
                                     np.asarray(tau2, dtype=float))
    with np.errstate(invalid="ignore"):
        mu = e[..., None] * _effect_multiplier(tau2)
        p = (stats.poisson.cdf(np.floor(o)[..., None], mu) * _GH_W).sum(axis=-1)
    return np.where(e > 0, np.clip(p, 0.0, 1.0), np.nan)


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
        mid = stats.poisson.cdf(o - 1, e) + 0.5 * stats.poisson.pmf(o, e)
    return np.where(e > 0, stats.norm.ppf(mid), np.nan)


# --------------------------------------------------------------------------- funnel
def _peer_key(units: pd.DataFrame, tested: pd.Series, min_peers: int) -> pd.Series:
    """Each unit's peer group: its unit type when at least ``min_peers`` units of that
    type are tested, otherwise ``ALL_PEERS`` (all tested units)."""
    types = units["unit_type"].fillna("").astype(str)
    size = tested.groupby(types).transform("sum")
    return types.where(size >= min_peers, ALL_PEERS)


def _per_peer(values: pd.DataFrame, peer: pd.Series, func) -> pd.Series:
    """``func(frame) -> scalar`` for each peer group, and for ALL_PEERS on every row;
    returned aligned to the rows (a handful of groups, not units)."""
    per_type = {k: func(values.loc[peer == k]) for k in peer.unique() if k != ALL_PEERS}
    per_type[ALL_PEERS] = func(values)
    return peer.map(per_type).astype(float)


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
    t = window_totals(panel, [indicator], period=period, cumulative=cumulative)
    t = t.loc[t[indicator].notna()].reset_index(drop=True)
    if exposure is not None and len(exposure):
        x = t["unit"].map(exposure_by_unit(exposure).set_index("unit")["enterprises"])
    elif denominator is not None:
        x = window_totals(panel, [denominator], period=period, cumulative=cumulative) \
            .set_index("unit")[denominator].reindex(t["unit"]).to_numpy()
        x = pd.Series(x, index=t.index)
    else:
        x = pd.Series(1.0, index=t.index)
    x = pd.to_numeric(x, errors="coerce").where(lambda v: v > 0)
    o = t[indicator].astype(float)
    tested = x.notna()
    peer = _peer_key(t, tested, min_peers)
    frame = pd.DataFrame({"o": o, "x": x}).loc[tested]

    if rate not in ("pooled", "trimmed", "median"):
        raise ValueError(f"rate must be 'pooled', 'trimmed' or 'median', got {rate!r}")
    peer_t = peer.loc[tested]
    if rate == "median":
        r = _per_peer(frame, peer_t, lambda d: float((d["o"] / d["x"]).median())).reindex(t.index)
    else:
        use = tested.copy()
        if rate == "trimmed":
            # units in the extreme tails of O/exposure do not set the norm
            ratio = (o / x).where(tested)
            by = ratio.groupby(peer)
            lo, hi = by.transform("quantile", winsor), by.transform("quantile", 1 - winsor)
            use &= (ratio >= lo) & (ratio <= hi)
        own = pd.DataFrame({"o": o, "x": x}).where(use, 0.0)
        sums = own.groupby(peer).sum()
        sums.loc[ALL_PEERS] = own.sum()
        g = sums.reindex(peer.to_numpy()).set_axis(t.index)
        if leave_one_out:
            # a unit that dominates a small peer group must not set its own norm
            g = g - own
        r = (g["o"] / g["x"].where(g["x"] > 0)).where(tested)
    e = (r * x).where(lambda v: v > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 1 / (2 * np.sqrt(e))
        if z_method == "sqrt":
            z0 = 2 * (np.sqrt(o) - np.sqrt(e))
        elif z_method == "exact":
            z0 = pd.Series(exact_z(o, e), index=t.index)
        else:
            raise ValueError(f"z_method must be 'exact' or 'sqrt', got {z_method!r}")
    zs = pd.DataFrame({"z": z0, "s": s}).loc[e.notna()]
    disp = {k: dispersion(zs.loc[peer.loc[zs.index] == k, "z"],
                          zs.loc[peer.loc[zs.index] == k, "s"], winsor=winsor)
            for k in peer.loc[zs.index].unique() if k != ALL_PEERS}
    disp[ALL_PEERS] = dispersion(zs["z"], zs["s"], winsor=winsor)
    phi = peer.map({k: v[0] for k, v in disp.items()}).astype(float).where(e.notna())
    tau2 = peer.map({k: v[1] for k, v in disp.items()}).astype(float).where(e.notna())
    lo95, hi95 = funnel_limits(e, tau2.fillna(0), level=0.95)
    lo998, hi998 = funnel_limits(e, tau2.fillna(0), level=0.998)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.sqrt(o / e) - 1) / np.sqrt(s ** 2 + tau2)
    out = pd.DataFrame({
        "unit": t["unit"], "unit_type": t["unit_type"], "peer": peer, "observed": o,
        "exposure": x, "expected": e, "ratio": o / e,
        "lower95": lo95, "upper95": hi95, "lower998": lo998, "upper998": hi998,
        "z": z, "p_low": count_cdf(o, e, tau2.fillna(0)), "phi": phi, "tau2": tau2,
    })
    return out.reset_index(drop=True)


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
    adjusted z-score."""
    ft = funnel_table(panel, indicator=indicator, exposure=exposure, period=period,
                      cumulative=cumulative, denominator=denominator, rate=rate,
                      leave_one_out=leave_one_out, min_peers=min_peers, winsor=winsor,
                      z_method=z_method)
    if ft.empty:
        return empty_findings()
    p = ft["p_low"].where(ft["expected"] >= min_expected)
    q = bh_adjust(p)
    sev = severity_from_q(q, alert=alert, warning=warning)
    keep = (q < warning) | (p.to_numpy() < info_p)
    f = ft.assign(q_value=q, severity=sev).loc[keep]
    if f.empty:
        return empty_findings()
    periods = sort_periods(panel.loc[in_window(panel["period"], period, cumulative=cumulative),
                                     "period"].unique())
    where = _window_label(period, cumulative, periods)
    name, unit = indicator_name(indicator), indicator_unit(indicator)
    peer_zh = f["peer"].map(lambda k: "全部单位" if k == ALL_PEERS else f"同类{unit_type_name(k)}")
    verdict = pd.Series(np.where(f["severity"] == "info", "，偏低但经多重检验校正后不显著",
                                 "，显著偏低"), index=f.index, dtype="str")
    msg = (f["unit"] + f"，{where}{name}" + fmt(f["observed"]) + unit + "，按" + peer_zh
           + "水平应约" + fmt(f["expected"], ".1f") + unit + "（95%下限"
           + fmt(f["lower95"], ".1f") + unit + "）" + verdict + "（p=" + fmt(f["p_low"], "p")
           + "）。")
    return make_findings(pd.DataFrame({
        "check": "low_outlier", "unit": f["unit"], "unit_type": f["unit_type"],
        "period": period, "indicator": indicator, "observed": f["observed"],
        "expected": f["expected"], "lower": f["lower95"], "upper": f["upper95"],
        "statistic": f["z"], "p_value": f["p_low"], "q_value": f["q_value"],
        "severity": f["severity"], "message": msg,
    }))


def _trailing_months(panel: pd.DataFrame, period, cumulative: bool) -> list[str]:
    win = panel.loc[in_window(panel["period"], period, cumulative=cumulative), "period"]
    return sort_periods(win.unique())


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
    ``info`` (the bulletins list every "0" reporter).  Inputs are not modified."""
    months = _trailing_months(panel, period, cumulative)
    ft = funnel_table(panel, indicator=indicator, exposure=exposure, period=period,
                      cumulative=cumulative, denominator=denominator, rate=rate,
                      leave_one_out=leave_one_out, min_peers=min_peers, winsor=winsor,
                      z_method=z_method)
    if ft.empty or not months:
        return empty_findings()
    df = panel.loc[(panel["indicator"] == indicator) & panel["period"].isin(months)]
    vals = (df.pivot_table(index="unit", columns="period", values="value", aggfunc="sum")
            .reindex(index=ft["unit"], columns=months))
    v = vals.to_numpy(dtype=float)
    zero = v == 0  # a missing month is not a reported 0 and breaks a run
    n_units, n_m = zero.shape
    # longest run of zeros and where it ends, vectorised over units
    run = np.zeros_like(v)
    for j in range(n_m):  # over periods (≤ a few dozen), not units
        run[:, j] = np.where(zero[:, j], (run[:, j - 1] if j else 0) + 1, 0)
    k = run.max(axis=1).astype(int)
    end = run.argmax(axis=1)
    # the peer group's profile over the months spreads each unit's expected count
    units = ft.set_index("unit")
    peer_tot = (df.assign(peer=df["unit"].map(units["peer"]))
                .pivot_table(index="peer", columns="period", values="value", aggfunc="sum")
                .reindex(columns=months).fillna(0.0))
    all_tot = df.pivot_table(columns="period", values="value", aggfunc="sum") \
        .reindex(columns=months).fillna(0.0)
    peer_tot.loc[ALL_PEERS] = all_tot.iloc[0] if len(all_tot) else 0.0
    prof = peer_tot.div(peer_tot.sum(axis=1).where(lambda s: s > 0), axis=0)
    prof = prof.fillna(1.0 / n_m)  # a peer group with no hazards at all: flat profile
    share = prof.reindex(ft["peer"]).to_numpy()
    e_m = ft["expected"].to_numpy()[:, None] * share  # expected per unit and month
    csum = np.concatenate([np.zeros((n_units, 1)), np.cumsum(e_m, axis=1)], axis=1)
    tau2 = ft["tau2"].fillna(0).to_numpy()
    # Σ over windows of length k of P(window all zero)
    idx = np.arange(n_m)
    starts = idx[None, :]
    valid = starts + k[:, None] <= n_m
    stop = np.clip(starts + k[:, None], 0, n_m)
    e_win = np.take_along_axis(csum, stop, axis=1) - csum[:, :n_m]
    p_win = zero_probability(e_win, tau2[:, None])
    p = np.where(valid & (k[:, None] > 0), p_win, 0.0).sum(axis=1)
    p = np.where(k > 0, np.minimum(p, 1.0), np.nan)
    e_run = (np.take_along_axis(csum, (end + 1)[:, None], axis=1)[:, 0]
             - np.take_along_axis(csum, (end + 1 - k)[:, None], axis=1)[:, 0])
    whole = (k == n_m) & np.isfinite(ft["expected"].to_numpy())
    tested = (k >= min(min_run, n_m)) & (ft["expected"].to_numpy() >= min_expected)
    q = bh_adjust(np.where(tested, p, np.nan))
    sev = severity_from_q(q, alert=alert, warning=warning)
    keep = (tested & (q < warning)) | whole
    if not keep.any():
        return empty_findings()
    name, unit = indicator_name(indicator), indicator_unit(indicator)
    first = np.array(months)[np.clip(end - k + 1, 0, n_m - 1)]
    last = np.array(months)[end]
    span = np.where(k == 1, first, np.char.add(np.char.add(first.astype(str), "至"),
                                               last.astype(str)))
    f = pd.DataFrame({"unit": ft["unit"], "span": span, "k": k, "e": e_run, "p": p})[keep]
    msg = (f["unit"] + "，" + f["span"] + "连续" + f["k"].astype(str) + f"期{name}报送为0，"
           + "按同类单位水平这段时间应约" + fmt(f["e"], ".1f") + unit
           + "（全为0的概率p=" + fmt(f["p"], "p") + "）。")
    return make_findings(pd.DataFrame({
        "check": "zero_report", "unit": ft["unit"][keep], "unit_type": ft["unit_type"][keep],
        "period": last[keep] if period is None else period, "indicator": indicator,
        "observed": 0.0, "expected": e_run[keep], "lower": np.nan, "upper": np.nan,
        "statistic": k[keep].astype(float), "p_value": p[keep], "q_value": q[keep],
        "severity": sev[keep], "message": msg,
    }))
