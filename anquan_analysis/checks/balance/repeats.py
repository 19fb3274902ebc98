"""repeated_value: one unit reporting the same figure period after period.

See the package docstring for the conventions every balance check follows.

Computed on the panel cube (``panel.Panel.series``): a series is ``values[u, i, :]``
restricted to the periods of one frequency, runs are found by comparing each
period with the one before along that axis, a block of units at a time, and only
the runs that will be reported become text."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ... import catalogue
from ...panel import as_panel
from ...findings import empty_findings, figure_text
from ...indicators import exposure_by_unit
from .common import finish
from . import floors
from .._wording import p_text
from .._stats import bh_of_smallest

# Cells (unit × indicator × period) per block of units: temporaries of a few MB,
# independent of the panel's size.
_BLOCK_CELLS = 1 << 18


# ------------------------------------------------------------------- repeated_value

def _segment_logsumexp(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """log Σ exp(x) over the segments of ``x`` beginning at ``starts`` (each
    non-empty, with at least one finite entry)."""
    top = np.maximum.reduceat(x, starts)
    sizes = np.diff(np.append(starts, len(x)))
    return np.log(np.add.reduceat(np.exp(x - np.repeat(top, sizes)), starts)) + top


def _log_run_chance(mean, var_ratio, length, exact_sd: float = 30.0) -> np.ndarray:
    """log Σ_{k≥1} P(X = k)^L: the log chance that L given consecutive draws are
    equal and positive, for X Poisson(mean) when ``var_ratio`` ≥ 1 and a normal
    with variance var_ratio·mean discretised to the integers ≥ 0 when it is below 1.
    Exact on the integers within mean ± 9√mean (+10 above) where the standard
    deviation is at most ``exact_sd``: the terms left out are below e^-40 of the
    sum (the normal's sd is at most √mean).  Above, the normal approximation
    (2πσ²)^(−(L−1)/2)/√L.  Each distinct (mean, ratio, L) is computed once, on its
    own window of integers: one grid per row sized by the largest mean cost
    gigabytes at province scale."""
    mean, ratio, length = np.broadcast_arrays(
        *(np.asarray(a, dtype="float64") for a in (mean, var_ratio, length)))
    ratio = np.minimum(ratio, 1.0)
    sd = np.sqrt(ratio * mean)
    out = np.full(mean.shape, np.nan)
    big = sd > exact_sd
    out[big] = (-(length[big] - 1) / 2 * np.log(2 * np.pi * sd[big] ** 2)
                - 0.5 * np.log(length[big]))
    small = ~big & (mean > 0)  # a mean ≤ 0 has no Poisson to draw from: NaN
    if not small.any():
        return out
    # The Poisson does not depend on the ratio: one key for all its rows.
    cols = [mean[small], np.where(ratio[small] >= 1.0, 1.0, ratio[small]), length[small]]
    back = np.zeros(len(cols[0]), dtype=np.int64)
    for c in cols:  # hash each column, then the combination: no sort of float rows
        codes, uniq = pd.factorize(c)
        back = pd.factorize(back * len(uniq) + codes)[0]
    first = np.zeros(back.max() + 1, dtype=np.int64)
    first[back[::-1]] = np.arange(len(back) - 1, -1, -1)
    m, r, lv = (c[first] for c in cols)
    lo = np.maximum(np.floor(m - 9 * np.sqrt(m)), 0.0).astype(np.int64)
    sizes = np.ceil(m + 9 * np.sqrt(m)).astype(np.int64) + 10 - lo + 1
    res = np.empty(len(m))
    for rows in _chunks(sizes):
        res[rows] = _log_sum_powers(m[rows], r[rows], lv[rows], lo[rows], sizes[rows])
    out[small] = res[back]
    return out


def _chunks(sizes: np.ndarray, cap: int = 1 << 18) -> list:
    """Consecutive runs of rows whose ``sizes`` add up to about ``cap`` (temporaries
    of a few MB whatever the number of rows)."""
    group = (np.cumsum(sizes) - 1) // cap
    return np.split(np.arange(len(sizes)), np.flatnonzero(np.diff(group)) + 1)


def _log_sum_powers(m, r, lv, lo, sizes) -> np.ndarray:
    """log Σ_{k≥1} P(X = k)^L for each row, summed over the integers lo … lo +
    size − 1 (see ``_log_run_chance``)."""
    starts = np.zeros(len(m), dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    row = np.repeat(np.arange(len(m)), sizes)
    k = (np.arange(int(sizes.sum())) - starts[row] + lo[row]).astype("float64")
    mk = m[row]
    pois = (r >= 1.0)[row]
    logpmf = np.empty(len(k))
    with np.errstate(divide="ignore", invalid="ignore"):
        # as scipy.stats.poisson.logpmf computes it
        logpmf[pois] = special.xlogy(k[pois], mk[pois]) - special.gammaln(k[pois] + 1) - mk[pois]
        nrm = np.flatnonzero(r < 1.0)
        if len(nrm):
            # the discretised normal, normalised over its integers ≥ 0
            sk = np.sqrt(r * m)[row][~pois]
            dens = -0.5 * ((k[~pois] - mk[~pois]) / sk) ** 2
            norm_starts = np.zeros(len(nrm), dtype=np.int64)
            np.cumsum(sizes[nrm][:-1], out=norm_starts[1:])
            logpmf[~pois] = dens - np.repeat(_segment_logsumexp(dens, norm_starts), sizes[nrm])
    terms = lv[row] * logpmf
    terms[k == 0] = -np.inf  # positive figures only
    return _segment_logsumexp(terms, starts)


def _run_lengths(v: np.ndarray, valid: np.ndarray, follows: np.ndarray, end=None,
                 floor=None, at_floor: bool = False):
    """Runs of equal positive figures along the last axis of ``v`` (rows × periods;
    ``valid`` marks the figures of the series, ``follows`` the periods directly
    after the one before), leaving out runs at the row's ``floor`` (NaN: none), or
    with ``at_floor`` keeping only those.  Returns (length, last period) per row: of
    the longest run, the latest when equal, or with ``end`` of the run ending there
    (length 0 when there is no such figure at ``end``)."""
    n_t = v.shape[-1]
    small = np.int16 if n_t * (n_t + 2) < 2 ** 15 else np.int64
    idx = np.arange(n_t, dtype=small)
    same = np.zeros(v.shape, dtype=bool)
    np.equal(v[..., 1:], v[..., :-1], out=same[..., 1:])
    same &= valid  # an equal figure is then valid too
    same &= follows
    # a run starts where a figure does not repeat the one before: its length at t
    # is t minus the latest start up to t, a running maximum along the periods
    start = np.where(same, small(0), idx)
    np.maximum.accumulate(start, axis=-1, out=start)
    positive = valid & (v > 0)
    if floor is not None:
        if at_floor:
            positive &= v == floor[..., None]
        else:
            positive &= v != floor[..., None]
    if end is not None:
        length = np.where(positive[..., end], end - start[..., end] + 1, 0)
        return length.astype(np.int64), np.full(length.shape, end, dtype=np.int64)
    # length·n_t + t: its maximum is the longest run, the latest when equal
    start *= small(n_t)
    score = np.where(positive, (idx + 1) * small(n_t) + idx - start, small(0))
    best = score.max(axis=-1).astype(np.int64)
    return best // n_t, best % n_t


def _series_runs(cube, period, min_run: int, keep_len: int, floor_options: dict | None,
                 enterprises=None):
    """The runs to test in every series of count indicators (unit × indicator ×
    frequency): the longest run of equal positive integer figures in consecutive
    periods (the latest when equal), or with ``period`` the run ending at it.
    Figures that are not integers are left out of the series, as if not reported.
    With ``floor_options`` (``floors.floor_model``'s options), a series whose
    indicator has a mandated minimum gives two runs: its longest away from the
    minimum and its longest at it (``_at`` true, with the floor model's figures).

    Returns (a dict of arrays, one entry per run of length ≥ ``keep_len`` in a
    series of at least ``min_run`` figures, and the number of tests: series with at
    least ``min_run`` figures, plus those of them with a minimum)."""
    is_count = cube.count_indicators()
    freqs = sorted(set(cube.period_freq))  # coded in the order of their letters
    n_u, n_i = cube.shape[:2]
    found, n_tests = [], 0
    for f_code, freq in enumerate(freqs):
        cols = np.flatnonzero(cube.period_freq == freq)
        cols = cols[np.argsort(cube.period_pos[cols], kind="stable")]
        n_t = len(cols)
        # a period continues a run only if it directly follows the one before
        follows = np.zeros(n_t, dtype=bool)
        follows[1:] = np.diff(cube.period_pos[cols]) == 1
        end = None
        if period is not None:
            end = np.flatnonzero(cube.periods[cols] == period)
            if not len(end):
                continue
            end = int(end[0])
        t_axis = cols  # local period → position on the cube's period axis
        if n_t == cube.shape[2] and (n_t < 2 or (np.diff(cols) == 1).all()):
            cols = slice(None)  # the whole axis in order: a view, no copy
        model = (floors.floor_model(cube, cols, enterprises=enterprises, **floor_options)
                 if floor_options is not None else None)
        floor = model.floor if model is not None else np.full((n_u, n_i), np.nan)
        step = max(1, _BLOCK_CELLS // max(1, n_i * n_t))
        frac = np.empty((min(step, n_u), n_i, n_t))
        valid = np.empty(frac.shape, dtype=bool)
        for u0 in range(0, n_u, step):
            # all indicators (a view); measured ones are dropped once reduced
            v = cube.values[u0:u0 + step, :, cols]
            nb = len(v)
            fr, ok = frac[:nb], valid[:nb]
            with np.errstate(invalid="ignore"):
                np.floor(v, out=fr)
                np.subtract(v, fr, out=fr)  # NaN where not reported (and for ±inf)
            np.equal(fr, 0, out=ok)
            n = np.count_nonzero(ok, axis=2)
            n[:, ~is_count] = 0  # a series is a count indicator's
            tested = n >= max(min_run, 1)
            fl = floor[u0:u0 + nb]
            n_tests += int(np.count_nonzero(tested)) + int(np.count_nonzero(
                tested & ~np.isnan(fl)))
            for at in ((False, True) if model is not None else (False,)):
                sel = tested & ~np.isnan(fl) if at else tested
                uu, ii, length, last = _block_runs(v, ok, sel, fl, follows, end, keep_len, at)
                if not len(uu):
                    continue
                rows = np.where(ok[uu, ii], v[uu, ii], 0.0)  # the series' figures
                run = {
                    "_u": uu + u0, "_i": ii, "_f": np.full(len(uu), f_code),
                    "_at": np.full(len(uu), at),
                    "statistic": length, "_end": t_axis[last],
                    "_start": t_axis[last - length + 1],
                    "observed": rows[np.arange(len(uu)), last], "T": n[uu, ii],
                    "s1": rows.sum(axis=1), "s2": np.einsum("kt,kt->k", rows, rows)}
                for key in ("mean", "shape"):
                    run["f_" + key] = (getattr(model, key)[uu + u0, ii] if at
                                       else np.full(len(uu), np.nan))
                run["f_floor"] = fl[uu, ii]
                found.append(run)
    if not found:
        return None, n_tests
    return {k: np.concatenate([f[k] for f in found]) for k in found[0]}, n_tests


def _block_runs(v, ok, sel, fl, follows, end, keep_len, at):
    """(units, indicators, run lengths, last periods) of one block of units: the
    runs of the series ``sel`` away from their floor ``fl``, or at it with ``at``."""
    if end is not None:
        # only series with a positive figure at P (repeating the one before it when
        # runs of one are not wanted) can have a run ending there
        e_v = v[:, :, end]
        hit = sel & ok[:, :, end] & (e_v > 0) & ((e_v == fl) if at else (e_v != fl))
        if keep_len > 1:
            hit &= follows[end] & (e_v == v[:, :, end - 1])
        uu, ii = np.nonzero(hit)
        length, last = _run_lengths(v[uu, ii], ok[uu, ii], follows, end, floor=fl[uu, ii],
                                    at_floor=at)
        return uu, ii, length, last
    length, last = _run_lengths(v, ok, follows, floor=fl, at_floor=at)
    uu, ii = np.nonzero(sel & (length >= keep_len))
    return uu, ii, length[uu, ii], last[uu, ii]


def repeated_value(panel, *, exposure=None, period=None,
                   min_run: int = 3, min_ratio: float = 0.1, mandated_minimum: bool = True,
                   floor_min_units: int = 5, floor_unit_share: float = 0.5,
                   floor_below: float = 0.1, info_p: float = 1e-3,
                   alert: float = 0.01, warning: float = 0.05) -> pd.DataFrame:
    """One unit reporting the same positive figure in consecutive periods.

    Parameters
    ----------
    panel : DataFrame or Panel
        The long panel (``dataset.PANEL_COLUMNS``) or a ``panel.Panel``; not modified.
    exposure : DataFrame, optional
        Enterprises supervised per unit (``dataset.exposure``): with it a quota
        proportional to the unit's size is recognised, and a run at a minimum is
        judged against units of the same size (see Notes).
    period : str, optional
        Test the runs that end at P (figures of P's frequency up to P); None tests
        the longest run of every series.
    min_run : int
        Runs shorter than this are tested but not reported; series with fewer
        figures are not tested.
    min_ratio : float
        The smallest variance/mean ratio the null may take (see Notes).
    mandated_minimum : bool
        Judge runs at the indicator's mandated minimum by the floor model (see
        Notes); False tests every run by the count model.
    floor_min_units, floor_unit_share, floor_below : int, float, float
        How a mandated minimum is recognised (``floors.mandated_minimum``: peers
        needed, share of units whose smallest figure it is, largest share of the
        figures below it).
    info_p : float
        Rows that are neither warning nor alert are returned only below this raw p.
    alert, warning : float
        q-value thresholds of the severities.

    Returns
    -------
    DataFrame of ``findings.FINDINGS_COLUMNS``, one row per run found:
    ``indicator`` its indicator, ``period`` the run's last period, ``observed``
    the repeated value, ``expected`` the series mean μ, ``statistic`` the run
    length L, ``p_value`` and ``q_value``.

    Notes
    -----
    For each unit and count indicator, the longest run of equal positive values
    in consecutive periods (with ``period=P``: the run ending at P), length L in a
    series of T periods.  Null model: the unit's figures are independent draws with
    the series mean μ; Poisson, unless the unit's own figures *outside* the run (at
    least three of them) vary less than Poisson, variance/mean = φ < 1, when a
    normal with variance max(φ, ``min_ratio``)·μ is used.  Taking the steadier of
    the two keeps the test conservative: overdispersion only makes equal values
    rarer.  p = min(1, (T − L + 1)·Σ_{k≥1} P(X=k)^L), a union bound over start
    positions.  BH across the tests; runs shorter than ``min_run`` are tested but
    not reported.

    A series is one unit's integer figures on one indicator in the periods of one
    frequency (figures that are not whole numbers are left out of it).

    **The minimum rule.**  A count with a quota is not a Poisson count: one session
    or one meeting a month, inspections of a twelfth of the enterprises, is what an
    honest unit doing the minimum reports month after month, and the Poisson null
    calls that flat line a one-in-a-million event.  So where the indicator has a
    mandated minimum F for the unit (read from the peers' figures,
    ``floors.mandated_minimum``: the smallest figure of most units, constant or
    ⌈c·enterprises⌉, that almost no figure falls below), a series gives two tests:
    its longest run away from F under the count model above, of x − F (mean μ − F:
    above a quota the figures vary as the quota plus a count), and its longest run
    at F under the floor model (``floors.floor_model``): figures F + Poisson(λ), λ
    gamma-distributed with mean ρ × the unit's enterprises and shape k, both
    estimated from the peers' excess over F:

        p = min(1, (T − L + 1)·(1 + L·ρw/k)^−k).

    A small unit, or one whose peers rarely rise above F, sitting at F all year is
    no evidence; a unit whose peers of its size report well above F sitting at F
    for long still is.  A flat line at
    any other figure is judged as before: the minimum never shields it.
    """
    cube = as_panel(panel).series(period)
    if not cube.values.size:
        return empty_findings()
    enterprises = None
    if exposure is not None and len(exposure):
        e = exposure_by_unit(exposure).set_index("unit")["enterprises"]
        enterprises = e.reindex(pd.Index(cube.units, dtype=object)).to_numpy(
            dtype="float64", na_value=np.nan)
    # Runs of one figure have p = 1: they cannot lower another run's q (BH), so
    # they are left out unless min_run asks to report them.
    floor_options = (dict(min_units=floor_min_units, unit_share=floor_unit_share,
                          below=floor_below) if mandated_minimum else None)
    runs, n_tests = _series_runs(cube, period, min_run, keep_len=1 if min_run <= 1 else 2,
                                 floor_options=floor_options, enterprises=enterprises)
    if runs is None:
        return empty_findings()
    # the order the runs had as one row per series: by length, then series
    order = np.lexsort((runs["_at"], runs["_f"], runs["_i"], runs["_u"], runs["statistic"]))
    runs = {k: a[order] for k, a in runs.items()}
    L = runs["statistic"].astype("float64")
    T = runs["T"].astype("float64")
    obs, s1, s2 = runs["observed"], runs["s1"], runs["s2"]
    expected = s1 / T
    # Above a mandated minimum F the figures vary as F plus a count: the count
    # model is of x − F (its mean μ − F), where μ > F.
    fl = runs["f_floor"]
    shift = np.where((fl < expected) & ~runs["_at"], fl, 0.0)
    # The unit's variability outside the run.
    out_n = T - L
    with np.errstate(divide="ignore", invalid="ignore"):
        out_mean = (s1 - L * obs) / np.where(out_n > 0, out_n, np.nan)
        out_ss = s2 - L * obs ** 2
        out_var = (out_ss - out_n * out_mean ** 2) / np.where(out_n > 1, out_n - 1, np.nan)
        ratio = out_var / np.where(out_mean > shift, out_mean - shift, np.nan)
    ratio = np.where((out_n >= 3) & ~np.isnan(ratio), ratio, 1.0)
    ratio = np.clip(ratio, min_ratio, 1.0)
    p = np.ones(len(L))
    at = runs["_at"]
    tested = (L >= 2) & ~at
    if tested.any():
        log_p = (np.log(T[tested] - L[tested] + 1)
                 + _log_run_chance(expected[tested] - shift[tested], ratio[tested],
                                   L[tested]))
        p[tested] = np.exp(np.minimum(log_p, 0.0))
    floor_tested = (L >= 2) & at
    if floor_tested.any():
        log_p = (np.log(T[floor_tested] - L[floor_tested] + 1)
                 + floors.log_floor_chance(runs["f_mean"][floor_tested],
                                           runs["f_shape"][floor_tested], L[floor_tested]))
        p[floor_tested] = np.exp(np.minimum(log_p, 0.0))
    q = bh_of_smallest(p, n_tests)
    # text only for the rows finish will keep: not info (q below alert or
    # warning) or p below info_p
    keep = (L >= min_run) & ((q < max(alert, warning)) | (p < info_p))
    if not keep.any():
        return empty_findings()
    u, i = runs["_u"][keep], runs["_i"][keep]
    indicator = cube.indicators[i]
    out = pd.DataFrame({
        "unit": cube.units[u], "unit_type": cube.unit_type[u],
        "period": cube.periods[runs["_end"][keep]], "indicator": indicator,
        "observed": obs[keep], "expected": expected[keep],
        "statistic": runs["statistic"][keep], "p_value": p[keep], "q_value": q[keep]})
    start = cube.periods[runs["_start"][keep]]
    out["message"] = [
        f"{un}{catalogue.indicator_name(ind)}{a}至{b}连续{n}期均为{figure_text(o)}"
        f"{catalogue.indicator_unit(ind)}"
        + ("（该指标的最低要求），按同类同规模单位高于最低要求的频次随机出现的概率约为"
           if fl else f"，该单位均值{e:.1f}，按其自身波动随机出现的概率约为")
        + p_text(pv)
        for un, ind, a, b, n, o, e, pv, fl in zip(
            out["unit"], indicator, start, out["period"], out["statistic"], out["observed"],
            out["expected"], out["p_value"], at[keep])]
    return finish(out, "repeated_value", info_p=info_p, alert=alert, warning=warning)
