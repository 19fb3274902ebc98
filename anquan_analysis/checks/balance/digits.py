"""last_digit and benford: heaping on final digits, first digits against Benford.

See the package docstring for the conventions every balance check follows.

Computed on the panel cube (``panel.Panel.series``), a block of units at a time: a
series is ``values[u, i, :]``, a report (one unit's figures of one period) is
``values[u, :, t]``; digits come from arithmetic on the reported values, and only
the units reported become text."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from ... import catalogue
from ...panel import as_panel
from ...findings import empty_findings, figure_text, make_findings, severity_from_q
from .common import finish
from .multiples import series_stats

# Benford first-digit probabilities, digits 1..9.
BENFORD_P = np.log10(1.0 + 1.0 / np.arange(1, 10))
from .._wording import p_text
from .._stats import bh_adjust

# Cells (unit × indicator × period) per block of units: temporaries of a few MB,
# independent of the panel's size.
_BLOCK_CELLS = 1 << 18


def _blocks(cube):
    """(first unit, last unit + 1) of each block of units."""
    n_u, n_i, n_t = cube.shape
    step = max(1, _BLOCK_CELLS // max(1, n_i * n_t))
    return [(u0, min(u0 + step, n_u)) for u0 in range(0, n_u, step)]


def _segments(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ragged rows of ``sizes`` (all ≥ 1): each element's row and its offset
    within the row."""
    starts = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    row = np.repeat(np.arange(len(sizes)), sizes)
    return row, np.arange(int(sizes.sum())) - starts[row]


# ----------------------------------------------------------------------- last_digit

def _grid_sums(first: int, width: int, m: np.ndarray, s: np.ndarray):
    """Σ w(v) and Σ over v ≡ 0 (mod 5) of w(v) = exp(−½((v − m)/s)²) for the
    integers v = first … first + width − 1, per row of ``m`` and ``s``; rows in
    chunks of about 250,000 terms."""
    total, heap = np.empty(len(m)), np.empty(len(m))
    v = first + np.arange(width, dtype="float64")
    off = (-first) % 5  # columns holding the multiples of 5
    step = max(1, (1 << 18) // width)
    for r0 in range(0, len(m), step):
        mm, ss = m[r0:r0 + step, None], s[r0:r0 + step, None]
        w = np.exp(-0.5 * ((v - mm) / ss) ** 2)
        total[r0:r0 + step] = w.sum(axis=1)
        heap[r0:r0 + step] = w[:, off::5].sum(axis=1)
    return total, heap


def _bucketed(first_of, need: np.ndarray, m: np.ndarray, s: np.ndarray):
    """``_grid_sums`` for rows needing ``need`` terms each, rows of similar need
    together on a grid of the next power of two (``first_of(width)`` its first
    integer)."""
    total, heap = np.zeros(len(m)), np.zeros(len(m))
    width = 1 << np.ceil(np.log2(np.maximum(need, 1))).astype(np.int64)
    for w in np.unique(width[need > 0]):
        rows = np.flatnonzero((width == w) & (need > 0))
        total[rows], heap[rows] = _grid_sums(first_of(int(w)), int(w), m[rows], s[rows])
    return total, heap


def heap_share(mean, var, min_value: float, flat_sd: float = 25.0) -> np.ndarray:
    """Chance that a figure ≥ ``min_value`` ends in 0 or 5 when the series is normal
    with this mean and variance (floored at the mean), discretised to integers and
    cut at ``min_value``: near a small mean the cut makes 10 itself common.  0.2
    where the standard deviation exceeds ``flat_sd`` (the digits are then flat).

    The weights exp(−½((v − μ)/σ)²) are summed over the integers from the cut up to
    where they fall below e^-28 of their largest.  A mean at or above the cut sums
    the whole line in closed form (Poisson summation: Σ_v = σ√(2π)·θ, and over
    the multiples of 5 σ√(2π)/5·θ') less the integers below the cut, so that only
    the few terms around the cut are summed one by one."""
    mean = np.asarray(mean, float)
    var = np.broadcast_to(np.asarray(var, float), mean.shape)
    sd = np.sqrt(np.maximum(np.nan_to_num(var, nan=0.0), mean))
    out = np.full(mean.shape, 0.2)
    narrow = np.flatnonzero(sd <= flat_sd)
    if not len(narrow):
        return out
    m, d = mean[narrow], sd[narrow]
    s = np.maximum(d, 0.5)
    cut = int(np.ceil(min_value))
    total, heap = np.zeros(len(m)), np.zeros(len(m))
    above = np.flatnonzero(m >= cut)
    if len(above):
        ma, sa = m[above], s[above]
        # Fourier terms k = 1…K: e^{−2π²σ²k²/25} below e^-40 beyond K
        k = np.arange(1, int(np.ceil(7.2 / sa.min())) + 2, dtype="float64")
        decay = -2 * np.pi ** 2 * sa[:, None] ** 2 * k ** 2
        theta = 1 + 2 * (np.exp(decay) * np.cos(2 * np.pi * k * ma[:, None])).sum(axis=1)
        theta5 = 1 + 2 * (np.exp(decay / 25) * np.cos(2 * np.pi * k * ma[:, None] / 5)).sum(axis=1)
        root = sa * np.sqrt(2 * np.pi)
        # the integers below the cut down to μ − 7.5σ
        need = np.maximum(cut - np.floor(ma - 7.5 * sa), 0).astype(np.int64)
        low, low5 = _bucketed(lambda w: cut - w, need, ma, sa)
        total[above] = root * theta - low
        heap[above] = root / 5 * theta5 - low5
    below = np.flatnonzero(m < cut)
    if len(below):
        mb, sb = m[below], s[below]
        # from the cut up: the largest weight is the cut's own
        reach = np.ceil(mb + np.sqrt((cut - mb) ** 2 + 56 * sb ** 2))
        need = np.maximum(reach - cut + 2, 1).astype(np.int64)
        total[below], heap[below] = _bucketed(lambda w: cut, need, mb, sb)
    ok = total > 0
    out[narrow] = np.where(ok, heap / np.where(ok, total, 1.0), 0.2)
    return out


def last_digit(panel, *, period=None,
               min_value: float = 10, min_n: int = 10, min_series_n: int = 8,
               share: float = 0.2, info_p: float = 1e-3, alert: float = 0.01,
               warning: float = 0.05) -> pd.DataFrame:
    """Heaping on final digits 0 and 5, per unit and per (unit, indicator).

    Parameters
    ----------
    panel : DataFrame or Panel
        The long panel (``dataset.PANEL_COLUMNS``) or a ``panel.Panel``; not modified.
    period : str, optional
        Test the figures of P's frequency up to P and report with period = P; None
        tests every period (period left blank).
    min_value : float
        Figures below it are not tested.
    min_n : int
        A unit with fewer figures (pooled over its indicators) is not tested pooled.
    min_series_n : int
        A (unit, indicator) with fewer figures is not tested on its own.
    share : float
        The chance of a final 0 or 5 when the digits are flat, 0.2.
    info_p : float
        Rows that are neither warning nor alert are returned only below this raw p.
    alert, warning : float
        q-value thresholds of the severities.

    Returns
    -------
    DataFrame of ``findings.FINDINGS_COLUMNS``.  Two kinds of row, adjusted
    together (Benjamini–Hochberg over every unit and every (unit, indicator)
    tested): a unit pooled over its indicators (``indicator`` blank), and one
    indicator of a unit (``indicator`` its code, named in the message), so that a
    single heaped indicator is not diluted by the unit's honest ones.  ``period``
    = P (blank when None), ``observed`` the share ending in 0 or 5, ``expected`` the
    share expected, ``upper`` its 95% binomial upper bound, ``statistic`` the count k.
    A unit whose figures all come from one indicator is tested once, as that
    indicator.

    Notes
    -----
    The figures tested are integers ≥ ``min_value`` on count indicators, up to P
    (approximate figures excluded).  Null model: final digits uniform, so a figure
    ends in 0 or 5 with probability ``share`` = 0.2 (the reference of election
    forensics) — except on series too narrow for the digits to be flat (sd ≤ 25),
    where cutting at ``min_value`` makes small round numbers (10, 15) more likely:
    there the figure's chance is taken from a normal with the series' own mean and
    variance (``heap_share``), never below 0.2.  Exact one-sided binomial tail
    P(K ≥ k | n, mean chance), which is conservative for the Poisson-binomial of
    the pooled test (exact for one indicator, whose figures share one chance).

    Pooled, a figure equal to another of the same report is counted once, for
    the first indicator (by code), with its own series' chance.  A series' mean and
    variance are those of all its figures up to P (of every frequency when
    ``period`` is None).
    """
    cube = as_panel(panel).series(period)
    is_count = cube.count_indicators()
    if not cube.values.size or not is_count.any():
        return empty_findings()
    n_u, n_i, n_t = cube.shape
    # every series with a figure that counts: its own test, and the chance of its
    # figures in the pooled test (computed once per series)
    ser = series_stats(cube, min_value, (5,))
    if not len(ser["u"]):
        return empty_findings()
    ser_key = ser["u"] * n_i + ser["i"]
    ser_e = np.maximum(heap_share(ser["mean"], ser["var"], min_value), share)
    from ._series_loops import first_of_equal  # numba loads on first use
    approx = cube.approx if cube.approx is not None else np.zeros((1, 1, 1), dtype=bool)
    n_fig, n_heap, counted = first_of_equal(cube.values, is_count.astype(np.bool_), approx,
                                            cube.approx is not None, float(min_value))
    counted = counted.ravel()
    counted_keys = np.flatnonzero(counted)   # series counted pooled, and their figures
    counted_k = counted[counted_keys]
    # a unit with one series: its pooled test is that series' test
    one_series = np.bincount(ser["u"], minlength=n_u) == 1
    tested = np.flatnonzero((n_fig >= max(min_n, 1)) & ~one_series)
    p_pool = expected = stat = n = np.zeros(0)
    if len(tested):
        keys, k = counted_keys, counted_k
        su = keys // n_i
        use = np.isin(su, tested)
        su, keys, k = su[use], keys[use], k[use]
        e = ser_e[np.searchsorted(ser_key, keys)]
        pos = np.searchsorted(tested, su)
        n = n_fig[tested]
        # the mean chance over the unit's figures, as the floor plus the mean excess:
        # units whose figures all have the floor get it exactly (and equal p-values)
        expected = share + np.bincount(pos, weights=k * (e - share), minlength=len(tested)) / n
        stat = n_heap[tested]
        p_pool = stats.binom.sf(stat - 1, n, expected)
    on_own = np.flatnonzero(ser["n"] >= max(min_series_n, 1))
    s_n, s_k, s_e = ser["n"][on_own], ser["k"][on_own, 0], ser_e[on_own]
    p_own = stats.binom.sf(s_k - 1, s_n, s_e)
    p = np.concatenate([p_pool, p_own])
    q = bh_adjust(p)
    keep = (q < max(alert, warning)) | (p < info_p)
    if not keep.any():
        return empty_findings()
    units = np.concatenate([tested, ser["u"][on_own]])
    ind = np.concatenate([np.full(len(tested), -1), ser["i"][on_own]])
    n = np.concatenate([n, s_n])
    stat = np.concatenate([stat, s_k])
    expected = np.concatenate([expected, s_e])
    units, ind, n, stat, expected, p, q = (
        x[keep] for x in (units, ind, n, stat, expected, p, q))
    observed = stat / n
    indicator = np.where(ind >= 0, cube.indicators[np.maximum(ind, 0)], None)
    out = pd.DataFrame({
        "unit": cube.units[units], "unit_type": cube.unit_type[units],
        "indicator": pd.array(indicator, dtype="str"),
        "statistic": stat, "expected": expected, "p_value": p, "q_value": q,
        "observed": observed,
        "upper": stats.binom.isf(0.05, n, expected) / n,
        "period": period if period is not None else np.nan})
    low = figure_text(min_value)
    names = ["" if i is None else catalogue.indicator_name(i) for i in indicator]
    out["message"] = [
        f"{un}{name}报送的{nn}个不小于{low}的数值中，尾数为0或5的有{int(kk)}个，"
        f"占{o * 100:.1f}%，按其数值范围应约为{ex * 100:.0f}%，p={p_text(pv)}"
        for un, name, nn, kk, o, ex, pv in zip(out["unit"], names, n, stat, observed,
                                               expected, p)]
    return finish(out, "last_digit", info_p=info_p, alert=alert, warning=warning)


# -------------------------------------------------------------------------- benford

def first_digit(values) -> np.ndarray:
    """The first significant digit (1–9) of positive numbers."""
    v = np.asarray(values, dtype="float64")
    exp = np.floor(np.log10(v))
    d = np.floor(v / 10.0 ** exp + 1e-9).astype(int)
    return np.clip(d, 1, 9)


def _digit_intervals(min_value: float):
    """The integers with first digit d and k+1 digits, [d·10^k − ½, (d+1)·10^k − ½),
    cut at min_value − ½: (log10 of the lower ends, of the upper ends, the digit),
    one entry per (k, d), k = 0..9, in increasing order."""
    k = np.arange(0, 10)[:, None]
    d = np.arange(1, 10)[None, :]
    lo = np.maximum(d * 10.0 ** k - 0.5, min_value - 0.5)
    hi = np.maximum((d + 1) * 10.0 ** k - 0.5, lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.log10(lo).ravel(), np.log10(hi).ravel(),
                np.broadcast_to(d, lo.shape).ravel() - 1)


def _scale_digit_expectation(mu, sd, n, min_value, *, mix) -> np.ndarray:
    """Expected first-digit counts [series, 9] of ``n`` figures ≥ min_value of
    series lognormal with log10 mean ``mu`` and sd ``sd``, conditioned on figures ≥
    min_value, mixed with Benford at weight ``mix``.

    Only the intervals within mu ± 9 sd are integrated (the others hold less than
    Φ(−9) ≈ 1e-19 each, nothing beside the Benford share mixed in), all of them
    when ``mix`` is 0 or the mass there is below 1e-6."""
    log_lo, log_hi, digit = _digit_intervals(min_value)
    n_int = len(digit)
    a = np.zeros(len(mu), dtype=np.int64)
    b = np.full(len(mu), n_int, dtype=np.int64)
    if mix > 0:
        a = np.minimum(np.searchsorted(log_hi, mu - 9 * sd, side="left"), n_int - 1)
        b = np.maximum(np.searchsorted(log_lo, mu + 9 * sd, side="right"), a + 1)

    def integrate(rows, a, b):
        row, off = _segments(b - a)
        j = a[row] + off
        m, s = mu[rows][row], sd[rows][row]
        mass = special.ndtr((log_hi[j] - m) / s) - special.ndtr((log_lo[j] - m) / s)
        return np.bincount(row * 9 + digit[j], weights=mass,
                           minlength=len(rows) * 9).reshape(len(rows), 9)

    every = np.arange(len(mu))
    prob = integrate(every, a, b)
    total = prob.sum(axis=1)
    redo = np.flatnonzero((total < 1e-6) & ((a > 0) | (b < n_int)))
    if len(redo):
        prob[redo] = integrate(redo, np.zeros(len(redo), np.int64),
                               np.full(len(redo), n_int, np.int64))
        total[redo] = prob[redo].sum(axis=1)
    prob = np.where(total[:, None] > 0, prob / np.where(total > 0, total, 1.0)[:, None],
                    BENFORD_P)
    prob = (1 - mix) * prob + mix * BENFORD_P
    return prob * np.asarray(n, dtype="float64")[:, None]


def benford(panel, *, period=None,
            min_value: float = 10, min_n: int = 50, min_span: float = 100.0,
            mad_threshold: float = 0.015, scale_check: bool = True, mix: float = 0.1,
            info_p: float = 1e-3,
            alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """First digits far from Benford's law, per unit.

    A unit's figures ≥ ``min_value`` on all indicators, pooled over the periods up
    to P (approximate figures excluded), tested only when there are at least
    ``min_n`` and they span at least ``min_span`` (two orders of magnitude), where
    Benford is a sensible null.  Null model: first digits d with P(d) = log10(1+1/d);
    Pearson χ² with 8 df.  Large n rejects on trivial departures, so a warning or
    alert also needs Nigrini's mean absolute deviation above ``mad_threshold``
    (first digits: ≤0.006 close, ≤0.012 acceptable, ≤0.015 marginal, above:
    nonconformity; Nigrini 2012).

    Campaign figures are a mixture of indicators of different sizes, each series
    narrow (a town inspecting 60–90 enterprises a month writes 6, 7, 8 first), so
    honest units need not follow Benford.  With ``scale_check`` (default) the unit
    must also depart from what its own series' scales predict: each series (unit ×
    indicator) is taken as lognormal with the mean and sd of its log10 figures,
    which gives first-digit probabilities for its figures ≥ ``min_value``
    (mixed with Benford at weight ``mix`` so that no digit is impossible); their
    sum over the unit's series is compared by χ² with 8 df.  Fabricated series
    whose figures jump across magnitudes with evenly spread first digits fail
    both.  The reported p is the larger of the two (an intersection–union test:
    significant only if both are).

    A series' log10 mean and sd are those of all its positive figures (not
    approximate) up to P, of every frequency when ``period`` is None; the sd is
    floored at 0.05.

    One row per flagged unit: observed = MAD, upper = ``mad_threshold``,
    statistic = χ² against Benford, expected = number of figures tested.
    """
    cube = as_panel(panel).series(period)
    if not cube.values.size:
        return empty_findings()
    found = []   # per block: units tested, their digit counts and expected counts
    for a, b in _blocks(cube):
        v = cube.values[a:b]
        pos = v > 0
        if cube.approx is not None:
            pos &= ~cube.approx[a:b]
        tested = pos & (v >= min_value)
        n_test = np.count_nonzero(tested, axis=2)          # per series
        per_unit = n_test.sum(axis=1)
        if not per_unit.any():
            continue
        # the tested figures, unit by unit: digits and span
        tv = v[tested]
        tl = np.log10(tv)
        unit = np.repeat(np.arange(b - a), per_unit)
        e = np.floor(tl)
        e_min = int(e.min())
        pow10 = 10.0 ** np.arange(e_min, int(e.max()) + 1, dtype="float64")
        d = np.clip(np.floor(tv / pow10[(e - e_min).astype(np.int64)] + 1e-9).astype(np.int64),
                    1, 9)
        counts = np.bincount(unit * 9 + d - 1, minlength=(b - a) * 9).reshape(b - a, 9)
        has = np.flatnonzero(per_unit)
        starts = np.concatenate([[0], np.cumsum(per_unit[has])[:-1]])
        span = np.full(b - a, np.nan)
        span[has] = np.maximum.reduceat(tv, starts) / np.minimum.reduceat(tv, starts)
        ok = np.flatnonzero((per_unit >= max(min_n, 1)) & (span >= min_span))
        if not len(ok):
            continue
        exp_scale = None
        if scale_check:
            # each series' log10 mean and sd over its positive figures
            po = pos[ok]
            n_pos = np.count_nonzero(po, axis=2)
            lgo = np.zeros(po.shape)
            np.log10(v[ok], out=lgo, where=po)
            with np.errstate(divide="ignore", invalid="ignore"):
                mu = lgo.sum(axis=2) / n_pos
                np.subtract(lgo, mu[:, :, None], out=lgo)
                lgo[~po] = 0.0
                sd = np.sqrt(np.einsum("uit,uit->ui", lgo, lgo) / (n_pos - 1))
            sd = np.clip(np.nan_to_num(sd, nan=0.0), 0.05, None)
            su, si = np.nonzero(n_test[ok])
            per_series = _scale_digit_expectation(mu[su, si], sd[su, si], n_test[ok][su, si],
                                                  min_value, mix=mix)
            # summed over each unit's series (every unit tested has one)
            exp_scale = np.add.reduceat(per_series, np.flatnonzero(np.diff(su, prepend=-1)))
        found.append((ok + a, counts[ok], exp_scale))
    if not found:
        return empty_findings()
    units = np.concatenate([f[0] for f in found])
    obs = np.concatenate([f[1] for f in found]).astype("float64")
    n = obs.sum(axis=1)
    expected = np.outer(n, BENFORD_P)
    chi2 = ((obs - expected) ** 2 / expected).sum(axis=1)
    p_benford = stats.chi2.sf(chi2, 8)
    mad = np.abs(obs / n[:, None] - BENFORD_P).mean(axis=1)
    if scale_check:
        exp_scale = np.concatenate([f[2] for f in found])
        with np.errstate(divide="ignore", invalid="ignore"):
            scale_chi2 = ((obs - exp_scale) ** 2 / exp_scale).sum(axis=1)
        p_value = np.maximum(p_benford, stats.chi2.sf(scale_chi2, 8))
    else:
        p_value = p_benford
    q = bh_adjust(p_value)
    # Significant but close to Benford is not a warning: q stays for the record,
    # severity only where MAD shows nonconformity.
    sev_q = np.where(mad > mad_threshold, q, 1.0)
    keep = (sev_q < max(alert, warning)) | ((p_value < info_p) & (mad > mad_threshold))
    if not keep.any():
        return empty_findings()
    units, obs, n, chi2, p_value, q, mad, sev_q = (
        x[keep] for x in (units, obs, n, chi2, p_value, q, mad, sev_q))
    top = obs.argmax(axis=1) + 1
    names = cube.units[units]
    out = pd.DataFrame({"unit": names, "unit_type": cube.unit_type[units],
                        "observed": mad, "expected": n, "upper": mad_threshold,
                        "statistic": chi2, "p_value": p_value, "q_value": q,
                        "period": period if period is not None else np.nan})
    low = figure_text(min_value)
    scale_text = "且与其各项数据自身量级所应有的分布不符" if scale_check else ""
    out["message"] = [
        f"{un}报送的{int(nn)}个不小于{low}的数值首位数字分布偏离本福特定律{scale_text}"
        f"：平均绝对偏差MAD={m:.3f}(>{mad_threshold}为不符合)，χ²={c:.1f}，p={p_text(pv)}"
        f"；首位为{d}的最多"
        for un, nn, m, c, pv, d in zip(names, n, mad, chi2, p_value, top)]
    out = out.assign(check="benford", severity=severity_from_q(sev_q, alert=alert, warning=warning))
    return make_findings(out.sort_values(["q_value", "unit"], kind="stable"))
