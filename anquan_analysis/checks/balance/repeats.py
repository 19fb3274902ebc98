"""repeated_value: one unit reporting the same figure period after period.

See the package docstring for the conventions every balance check follows.

Computed on the panel cube (``panel.Panel.series``): a series is ``values[u, i, :]``
restricted to the periods of one frequency, runs are found by comparing each
period with the one before along that axis, a block of units at a time, and only
the runs that will be reported become text."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ... import catalogue
from ...panel import as_panel
from ...findings import empty_findings, figure_text
from ...indicators import exposure_by_unit
from .common import finish
from . import floors
from .runs import log_run_tail
from .._wording import p_text
from .._stats import bh_of_smallest

# Cells (unit × indicator × period) per block of units: temporaries of a few MB,
# independent of the panel's size.
_BLOCK_CELLS = 1 << 18


# ------------------------------------------------------------------- repeated_value

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
                 enterprises=None, min_units: int = 5):
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
        spread = np.full((n_u, n_i), np.nan)  # each series' (s² − m)/m², m above F
        first_run = len(found)
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
            spread[u0:u0 + nb] = _excess_spread(v, ok, n, tested, fl)
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
        # the peers' month-to-month spread per indicator, for this frequency's runs
        peer = _peer_spread(spread, min_units)
        for run in found[first_run:]:
            run["peer"] = peer[run["_i"]]
    if not found:
        return None, n_tests
    return {k: np.concatenate([f[k] for f in found]) for k in found[0]}, n_tests


def _excess_spread(v, ok, n, tested, fl) -> np.ndarray:
    """(s² − m)/m² per series of a block (NaN where not estimable): its figures'
    variance s² beyond a count's, over the squared mean m of its excess over the
    mandated minimum where it has one below its mean (1/k for a negative binomial
    of shape k; 0 for a Poisson; −1/N for a binomial of N)."""
    rows = np.where(ok, v, 0.0)
    s1 = rows.sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / n
        var = (np.einsum("uit,uit->ui", rows, rows) - n * mean ** 2) / (n - 1)
        m = mean - np.where(fl < mean, fl, 0.0)
        out = (var - m) / m ** 2
    return np.where(tested & (n >= 4) & (m > 0), out, np.nan)


def _peer_spread(spread, min_units: int) -> np.ndarray:
    """Per indicator: the median of the units' spreads (``_excess_spread``), NaN
    with fewer than ``min_units`` of them.  The median, not the mean: a flat line
    being looked for, or a unit with a burst, barely moves it; and it sits a little
    below the mean of these skewed estimates, on the side of fewer alarms."""
    counts = np.count_nonzero(~np.isnan(spread), axis=0)
    out = np.full(spread.shape[1], np.nan)
    enough = counts >= max(min_units, 1)
    if enough.any():
        out[enough] = np.nanmedian(spread[:, enough], axis=0)
    return out


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
                   floor_below: float = 0.1, peer_weight: float = 10.0,
                   info_p: float = 1e-3,
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
    peer_weight : float
        How many figures of the unit's own the peers' spread is worth when the
        two are combined (see Notes); 0 takes the unit's own alone.
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
    series of T periods.  Null model: the unit's T figures are independent draws
    with the series mean μ and variance φ·μ: Poisson at φ = 1, a negative binomial
    above (size μ/(φ − 1)), a normal discretised to the integers ≥ 0 below.  The
    variance ratio combines the unit's own spread with its peers':

        φ = max(min_ratio, (d·φ_own + w·φ_peer)/(d + w)),  w = ``peer_weight``,

    φ_own the variance/mean of the n figures outside the run (d = n − 1 degrees of
    freedom; d = 0 with fewer than three, or a mean not above the count's origin),
    φ_peer = 1 + μ/k with 1/k the median over the indicator's units (at least
    ``floor_min_units``, else 0) of each series' (s² − m)/m², its variance beyond a
    count's over its squared mean m (less its mandated minimum where one is below
    it; 0 when negative: peers steadier than a count are not extrapolated);
    ``peer_weight`` = 0 takes the unit's own where it has one.  Six figures outside a run say little of a unit's
    spread; a unit whose peers vary month to month is expected to vary too, and
    a flat line is the more surprising.
    p = P(the longest run of equal positive values among T draws ≥ L), exact
    (``runs.log_run_tail``: a recursion over the periods, not a union bound over
    start positions; zeros never make a run; above a standard deviation of 30,
    where equal figures are rare, the normal approximation's union bound).  BH across the tests; runs shorter than ``min_run`` are
    tested but not reported.

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
                                 floor_options=floor_options, enterprises=enterprises,
                                 min_units=floor_min_units)
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
    own = (out_n >= 3) & ~np.isnan(ratio)
    # The peers' spread at this unit's mean: 1 + (μ − F)/k (Poisson without peers).
    # Peers steadier than a count (1/k < 0, a binomial's −1/N) are not extrapolated
    # to a unit's larger mean, where −μ/N can be anything: Poisson, as before.
    inv_k = np.where(np.isnan(runs["peer"]), 0.0, np.maximum(runs["peer"], 0.0))
    peer = 1.0 + (expected - shift) * inv_k
    # The unit's own ratio (out_n − 1 degrees of freedom) shrunk towards its peers'
    # (worth ``peer_weight`` figures): six figures outside a run say little about
    # a unit's spread, and taking the lower of the two cost most of the power.
    d = np.where(own, out_n - 1, 0.0)
    ratio = np.where(own, ratio, 0.0)
    if peer_weight > 0:
        ratio = (d * ratio + peer_weight * peer) / (d + peer_weight)
    else:
        ratio = np.where(own, ratio, peer)
    ratio = np.maximum(ratio, min_ratio)
    p = np.ones(len(L))
    at = runs["_at"]
    tested = (L >= 2) & ~at
    if tested.any():
        log_p = log_run_tail(expected[tested] - shift[tested], ratio[tested], L[tested],
                             T[tested])
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
           if fl else f"，该单位均值{e:.1f}，按其自身及同类单位的波动随机出现的概率约为")
        + p_text(pv)
        for un, ind, a, b, n, o, e, pv, fl in zip(
            out["unit"], indicator, start, out["period"], out["statistic"], out["observed"],
            out["expected"], out["p_value"], at[keep])]
    return finish(out, "repeated_value", info_p=info_p, alert=alert, warning=warning)
