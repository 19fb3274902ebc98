"""pinned_rate's trailing run: a unit whose latest periods are all at 100% after earlier
periods below it (issue 12: "自2024年7月起连续6个月整改率均为100%").

The whole-window test of ``pinned.py`` sees such a unit as below 100% and lets it
pass: six months at 80% and six at 100% pool to 90%, an ordinary rate.  Here the
latest run of periods at 100% on all the unit's hazards together (every pair at 100%)
is tested against the unit's own earlier periods, one test per unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from .rate_spread import comonotone_integral

from ... import catalogue
from ...findings import figure_text
from ...periods import period_freq, period_name_zh
from .._wording import p_text


def _reported(f: np.ndarray, r: np.ndarray):
    """Where a pair was reported (both figures), and its found and rectified there
    (rectified at most found), 0 elsewhere."""
    both = ~np.isnan(f) & ~np.isnan(r)
    return both, np.where(both, f, 0.0), np.where(both, np.minimum(r, f), 0.0)


def trailing_runs(f: np.ndarray, r: np.ndarray, t_end=None, *, min_periods: int = 3) -> dict:
    """Per unit, the latest run of periods at 100% and what came before it.

    Parameters
    ----------
    f, r : ndarray, shape (units, periods)
        Found and rectified (NaN where not reported; a period counts where both are
        reported).  Not modified.
    t_end : int, optional
        The period the run must end at (axis position; it must be reported and at
        100%); None: each unit's last reported period.
    min_periods : int
        Periods of the run in which hazards were found needed for a test.

    Returns
    -------
    dict of arrays per unit: ``tested`` (a run of at least ``min_periods`` periods
    with hazards, after a period below 100%), ``first`` and ``end`` (axis positions
    of the run's first and last period with hazards), ``periods`` (its reported periods
    from first to end), ``n`` (hazards found in the run, all rectified), ``n0`` and ``r0``
    (found and rectified in every reported period before the run), ``possible`` (at
    least ``min_periods`` + 1 periods with hazards: a run could have been tested),
    ``n_first`` and ``n_all`` (hazards of the first period with hazards and of all
    up to the end), ``windows`` (the
    trailing windows of ``min_periods`` periods with hazards or more that end where
    the run ends and start after the unit's first period with hazards: the windows
    scanned).

    Notes
    -----
    A reported period with nothing found neither breaks a run nor counts in it.
    A unit at 100% in every period has no earlier period below it: the
    whole-window test is its test, and ``tested`` is False.
    """
    both, f0, r0 = _reported(f, r)
    units, T = f0.shape
    pos = np.arange(T)
    if t_end is None:
        end = T - 1 - np.argmax((both & (f0 > 0))[:, ::-1], axis=1)
        ok = (both & (f0 > 0)).any(axis=1)
    else:
        end = np.full(units, int(t_end))
        ok = both[:, t_end] & (r0[:, t_end] >= f0[:, t_end])
    upto = pos[None, :] <= end[:, None]
    short = both & (r0 < f0) & upto                       # periods below 100%
    last_short = np.where(short.any(axis=1), T - 1 - np.argmax(short[:, ::-1], axis=1), -1)
    run = both & (f0 > 0) & upto & (pos[None, :] > last_short[:, None])
    before = both & (pos[None, :] <= last_short[:, None])
    with_h = both & (f0 > 0) & upto
    periods = run.sum(axis=1)
    # trailing windows of ≥ min_periods periods with hazards, short of the whole:
    # the tests a scan over where the run starts could have made
    windows = np.maximum(with_h.sum(axis=1) - min_periods, 0)
    tested = ok & (last_short >= 0) & (periods >= min_periods) & (with_h.sum(axis=1) > periods)
    first = np.where(run.any(axis=1), np.argmax(run, axis=1), 0)
    # the run's length as a bulletin counts it: every reported period first … end
    span = (both & (pos[None, :] >= first[:, None]) & upto).sum(axis=1)
    # the most a run could have shown: every period at 100% after the first with
    # hazards, none rectified in that first one (Tarone's smallest achievable p)
    first_h = np.argmax(with_h, axis=1)
    n_first = f0[np.arange(units), first_h] * with_h.any(axis=1)
    return {"tested": tested, "first": first, "end": end, "periods": span,
            "last_short": last_short, "first_h": first_h,
            "n": (f0 * run).sum(axis=1), "n0": (f0 * before).sum(axis=1),
            "r0": (r0 * before).sum(axis=1), "windows": windows,
            "possible": with_h.sum(axis=1) > min_periods, "n_first": n_first,
            "n_all": (f0 * upto).sum(axis=1)}


def run_chance(n, n0, r0, rho, conc) -> np.ndarray:
    """P(the run's n hazards all rectified | n0 found and r0 rectified before), a
    unit's rate Beta(ρc, (1 − ρ)c) among its peers and the same in every period:
    B(a + r0 + n, b + n0 − r0) / B(a + r0, b + n0 − r0), a = ρc, b = (1 − ρ)c
    (ρⁿ where c is infinite, 1 where ρ = 1)."""
    n, n0, r0, rho = np.broadcast_arrays(*(np.asarray(x, dtype="float64")
                                           for x in (n, n0, r0, rho)))
    if not np.isfinite(conc):
        return rho ** n
    a, b = rho * conc + r0, (1 - rho) * conc + n0 - r0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.exp(special.betaln(a + n, b) - special.betaln(a, b))
    return np.where(rho >= 1, 1.0, p)


def pair_counts(f: np.ndarray, r: np.ndarray, runs: dict) -> dict:
    """One (found, rectified) pair's hazards over the windows of ``runs`` (of the
    pairs summed, ``trailing_runs``): per unit ``n`` in the run (all rectified),
    ``n0`` and ``r0`` before it, ``n_first`` in the first period with hazards (of
    the sum) and ``n_all`` up to the run's end.  Inputs not modified."""
    _, f0, r0 = _reported(f, r)
    pos = np.arange(f0.shape[1])[None, :]
    upto = pos <= runs["end"][:, None]
    after = pos > runs["last_short"][:, None]
    first = pos == runs["first_h"][:, None]
    return {"n": (f0 * (upto & after)).sum(axis=1), "n0": (f0 * ~after).sum(axis=1),
            "r0": (r0 * ~after).sum(axis=1), "n_first": (f0 * first).sum(axis=1),
            "n_all": (f0 * upto).sum(axis=1)}


def summed(pairs) -> tuple[np.ndarray, np.ndarray]:
    """The found and rectified (at most found) of several pairs summed per unit and
    period, NaN where no pair was reported: a period of the sum is at 100% exactly
    when every pair is."""
    f_sum = r_sum = seen = 0
    for f, r in pairs:
        both, f0, r0 = _reported(f, r)
        f_sum, r_sum, seen = f_sum + f0, r_sum + r0, seen | both
    return np.where(seen, f_sum, np.nan), np.where(seen, r_sum, np.nan)


def joint_run_chance(n, n0, r0, rho, conc) -> np.ndarray:
    """P(every hazard of the run rectified | the earlier periods) for units with
    several pairs (arrays (units, pairs); ``conc`` (pairs,)): each pair's rate the
    Beta posterior of ``run_chance``, however the pairs' rates depend on one another
    (the comonotone bound ∫ Π_k Q_k(u)^{n_k} du of ``rate_spread.all_rectified_jointly``,
    on the same grid).  A unit with hazards in the run on one pair only gets that
    pair's exact ``run_chance``."""
    n, n0, r0, rho = (np.atleast_2d(np.asarray(x, dtype="float64")) for x in (n, n0, r0, rho))
    conc = np.broadcast_to(np.asarray(conc, dtype="float64"), n.shape[1:])
    single = np.ones(n.shape[0])
    for k in range(n.shape[1]):
        has = n[:, k] > 0
        if has.any():
            single[has] *= run_chance(n[has, k], n0[has, k], r0[has, k], rho[has, k], conc[k])
    p = np.minimum(comonotone_integral(n, rho, conc, r0=r0, n0=n0), 1.0)
    one = (n > 0).sum(axis=1) <= 1
    return np.where(one, single, p)


def run_tests(runs: dict, counts: list, rho: np.ndarray, conc,
              above: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: the run test's p (``joint_run_chance`` times the windows scanned,
    Bonferroni; at most 1; 1 where the unit has no run) and its smallest achievable
    value (every period after the first with hazards at 100%, none rectified in that
    one; the product of the pairs', a lower bound; 1 where no run could be tested).
    ``counts``: ``pair_counts`` per pair; ``rho`` (units, pairs) and ``conc``
    (pairs,) the pairs' peer rates and spreads.  A unit whose p is at least
    ``above`` however its pairs' rates depend (the product of the pairs' own
    chances, times the windows) gets the smallest of its pairs' chances times the
    windows, an upper bound of its p, in place of the integral (some 1,500 Beta
    quantiles a pair): above the warning level its q is above it too, and no q of
    another unit below it moves."""
    w = np.maximum(runs["windows"], 1)
    n, n0, r0 = (np.stack([c[k] for c in counts], axis=1) for k in ("n", "n0", "r0"))
    p = np.ones(len(w))
    t = np.flatnonzero(runs["tested"])
    if len(t):
        single = np.stack([run_chance(n[t, k], n0[t, k], r0[t, k], rho[t, k], conc[k])
                           for k in range(n.shape[1])], axis=1)
        low = np.prod(single, axis=1) * w[t] < above
        p[t] = np.minimum(single.min(axis=1) * w[t], 1.0)
        s = t[low]
        p[s] = np.minimum(joint_run_chance(n[s], n0[s], r0[s], rho[s], conc) * w[s], 1.0)
    p_min = np.ones(len(w))
    for k, c in enumerate(counts):
        p_min *= run_chance(c["n_all"] - c["n_first"], c["n_first"], 0.0, rho[:, k], conc[k])
    return p, np.where(runs["possible"], np.minimum(p_min * w, 1.0), 1.0)


def run_messages(cube, rows: pd.DataFrame, names: list, model: str) -> pd.Series:
    """The message of each run row (columns _u, first, end, periods, p_value, and per
    pair k of ``names`` (found indicators) n_k, n0_k, r0_k, rho_k)."""
    out = []
    spread = "及单位间差异" if model == "beta_binomial" else ""
    for row in rows.to_dict("records"):
        start, last = str(cube.periods[int(row["first"])]), str(cube.periods[int(row["end"])])
        unit = "个月" if period_freq(start) == "M" else "期"
        ks = sorted((k for k in range(len(names)) if row[f"n_{k}"] > 0),
                    key=lambda k: -row[f"n_{k}"])
        found = "、".join(f"{catalogue.indicator_name(names[k])}{figure_text(row[f'n_{k}'])}项"
                         for k in ks)
        before = "，".join(
            f"{catalogue.indicator_name(names[k])}{figure_text(row[f'n0_{k}'])}项、整改"
            f"{figure_text(row[f'r0_{k}'])}项（{row[f'r0_{k}'] / row[f'n0_{k}'] * 100:.1f}%）"
            for k in sorted(range(len(names)), key=lambda k: -row[f"n0_{k}"])
            if row[f"n0_{k}"] > 0)
        rates = "、".join(f"{row[f'rho_{k}'] * 100:.1f}%" for k in ks)
        chance = "为" if len(ks) == 1 else "不超过"
        out.append(
            f"{cube.units[int(row['_u'])]}自{period_name_zh(start)}起至{period_name_zh(last)}"
            f"连续{int(row['periods'])}{unit}整改率均为100%（{found}，全部整改），此前{before}；"
            f"按本单位此前整改率及同类单位整改率{rates}{spread}计，连续全部整改的概率{chance}"
            f"{p_text(row['p_value'])}")
    return pd.Series(out, index=rows.index, dtype="str")
