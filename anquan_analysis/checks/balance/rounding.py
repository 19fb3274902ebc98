"""round_number: one unit's figures on one indicator heaped on multiples of 10, 50 or
100, more than the values' own range allows: figures estimated and written down
round (估报凑数) rather than counted.

See the package docstring for the conventions every balance check follows.

Computed on the panel cube (``panel.Panel.series``), per series (unit × count
indicator, ``multiples.series_stats``); only the series reported become text."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ... import catalogue
from ...findings import empty_findings, figure_text
from ...panel import as_panel
from ...periods import period_freq, period_name_zh
from .._stats import bh_adjust
from .common import finish
from .multiples import multiple_chance, series_stats

ROUND_MODULI = (10, 50, 100)


def round_number(panel, *, period=None, moduli=ROUND_MODULI, min_value: float = 10,
                 min_n: int = 8, info_p: float = 1e-3, alert: float = 0.01,
                 warning: float = 0.05) -> pd.DataFrame:
    """A unit's figures on one indicator heaped on round numbers (multiples of 10, 50,
    100) beyond what the values' own range predicts.

    Parameters
    ----------
    panel : DataFrame or Panel
        The long panel (``dataset.PANEL_COLUMNS``) or a ``panel.Panel``; not modified.
    period : str, optional
        Test the figures of P's frequency up to P and report with period = P; None
        tests every period (period left blank).
    moduli : sequence of int
        The round numbers, default 10, 50 and 100.
    min_value : float
        Figures below it are not tested (0 is a multiple of everything, and a
        figure of 3 says nothing about rounding to 10).
    min_n : int
        Series with fewer figures ≥ ``min_value`` are not tested.
    info_p : float
        Rows that are neither warning nor alert are returned only below this raw p.
    alert, warning : float
        q-value thresholds of the severities.

    Returns
    -------
    DataFrame of ``findings.FINDINGS_COLUMNS``, one row per (unit, indicator)
    found: ``indicator`` the series' indicator, ``observed`` the share of its
    figures ≥ ``min_value`` that are multiples of M (the modulus with the smallest
    p, named in the message), ``expected`` the chance of a multiple of M that the
    series' range gives, ``upper`` the 95% binomial upper bound of the share,
    ``statistic`` the count of multiples, ``p_value`` and ``q_value`` (Benjamini–
    Hochberg over every series tested).  The message says how many figures were
    multiples of M and over which months, in the bulletins' words; p and q are in
    their columns only.

    Notes
    -----
    Null model: a series' figures (whole, ≥ ``min_value``, not typed as
    approximate) are independent draws from a normal with the series' own mean and
    variance (the variance floored at the mean: counts vary at least as much as
    Poisson), discretised to the integers and cut at ``min_value``
    (``multiples.multiple_chance``).  That chance is never taken below 1/M, the
    share of multiples among the integers: a series' true values are skewed and
    overdispersed, so the normal's thin tails would make one honest figure of 100
    in a series about 30 look like a one-in-a-million event.  Above 1/M it is
    used as computed: small values are round by themselves (a series about 12 has
    10 as one of its likeliest figures, chance 0.14; 15 ± 8 gives 10, 20 and 30
    about 0.12), and so is a series close to one multiple (50 ± 7 is 50 about
    6% of the time).  Per modulus, the count of multiples k out of n has the
    exact binomial tail P(K ≥ k | n, chance); the series' p is the smallest over
    the moduli times their number (Bonferroni, as the three are nested).
    Approximate figures (``17万余``) are not tested: they say they are rounded.
    """
    cube = as_panel(panel).series(period)
    moduli = tuple(int(m) for m in moduli)
    s = series_stats(cube, min_value, moduli)
    tested = np.flatnonzero(s["n"] >= max(min_n, 1))
    if not len(tested):
        return empty_findings()
    n = s["n"][tested].astype("float64")
    k = s["k"][tested]
    chance = np.column_stack([
        np.maximum(multiple_chance(s["mean"][tested], s["var"][tested], min_value, m), 1.0 / m)
        for m in moduli])
    p_mod = stats.binom.sf(k - 1, n[:, None], chance)
    best = np.argmin(p_mod, axis=1)
    row = np.arange(len(tested))
    p = np.minimum(1.0, len(moduli) * p_mod[row, best])
    q = bh_adjust(p)
    keep = (q < max(alert, warning)) | (p < info_p)
    if not keep.any():
        return empty_findings()
    sel = tested[keep]
    n, kk, e = n[keep], k[row, best][keep], chance[row, best][keep]
    modulus = np.asarray(moduli)[best[keep]]
    u, i = s["u"][sel], s["i"][sel]
    out = pd.DataFrame({
        "unit": cube.units[u], "unit_type": cube.unit_type[u],
        "indicator": cube.indicators[i],
        "observed": kk / n, "expected": e, "statistic": kk,
        "upper": stats.binom.isf(0.05, n, e) / n,
        "p_value": p[keep], "q_value": q[keep],
        "period": period if period is not None else np.nan})
    spans = [span_zh(cube.periods[a], cube.periods[b])
             for a, b in zip(s["first"][sel], s["last"][sel])]
    low = figure_text(min_value)
    out["message"] = [
        _message(un, span, ind, int(nn), int(ko), int(mm), ee, all_counted, low)
        for un, span, ind, nn, ko, mm, ee, all_counted in zip(
            out["unit"], spans, out["indicator"], n, kk, modulus, e,
            s["n"][sel] == s["n_reported"][sel])]
    return finish(out, "round_number", info_p=info_p, alert=alert, warning=warning)


def _message(unit, span, indicator, n, k, modulus, chance, all_counted, low) -> str:
    """One sentence: 区应急局2024年1—12月从业人员安全技能培训人次12个数值均为50的整数倍，疑似估报凑数."""
    figures = f"{n}个数值" if all_counted else f"不小于{low}的{n}个数值"
    name = catalogue.indicator_name(indicator)
    if k == n:
        return f"{unit}{span}{name}{figures}均为{modulus}的整数倍，疑似估报凑数"
    return (f"{unit}{span}{name}{figures}中有{k}个为{modulus}的整数倍"
            f"（按其数值范围约应有{n * chance:.1f}个），疑似估报凑数")


def span_zh(first: str, last: str) -> str:
    """Two canonical periods as a bulletin writes the span between them: 2024年1—12月,
    2024年11月—2025年2月, 2024年第一季度—2024年第三季度, or one period."""
    if first == last:
        return period_name_zh(first)
    if period_freq(first) == period_freq(last) == "M" and first[:4] == last[:4]:
        return f"{first[:4]}年{int(first[5:])}—{int(last[5:])}月"
    return f"{period_name_zh(first)}—{period_name_zh(last)}"
