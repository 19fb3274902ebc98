"""pinned_rate's trailing run: a unit whose latest periods are all at 100% after earlier
periods below it (issue 12: "自2024年7月起连续6个月整改率均为100%").

The whole-window test of ``pinned.py`` sees such a unit as below 100% and lets it
pass: six months at 80% and six at 100% pool to 90%, an ordinary rate.  Here the
latest run of periods at 100% is tested against the unit's own earlier periods."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ... import catalogue
from ...findings import figure_text
from ...periods import period_freq, period_name_zh
from .._wording import p_text


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
    both = ~np.isnan(f) & ~np.isnan(r)
    f0 = np.where(both, f, 0.0)
    r0 = np.where(both, np.minimum(r, f), 0.0)
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


def run_p(runs: dict, keep, rho, conc) -> tuple[np.ndarray, np.ndarray]:
    """The run test of the units ``keep`` (positions into ``runs``' arrays): p, the
    chance of the run (``run_chance``) times the windows scanned (Bonferroni), at
    most 1, and 1 where a unit has no run; and its smallest achievable value (every
    period after the first with hazards at 100%, none rectified in that one), 1
    where no run could be tested."""
    w = np.maximum(runs["windows"][keep], 1)
    p = run_chance(runs["n"][keep], runs["n0"][keep], runs["r0"][keep], rho, conc)
    n_first = runs["n_first"][keep]
    p_min = run_chance(runs["n_all"][keep] - n_first, n_first, 0.0, rho, conc)
    return (np.where(runs["tested"][keep], np.minimum(p * w, 1.0), 1.0),
            np.where(runs["possible"][keep], np.minimum(p_min * w, 1.0), 1.0))


def run_messages(cube, rows: pd.DataFrame, model: str) -> pd.Series:
    """The message of each run row (columns _u, _found, n, _first, _end, _periods,
    _n0, _r0, expected, p_value)."""
    out = []
    for u, found, n, first, end, k, n0, r0, rho, p in zip(
            rows["_u"], rows["_found"], rows["n"], rows["_first"], rows["_end"],
            rows["_periods"], rows["_n0"], rows["_r0"], rows["expected"], rows["p_value"]):
        start, last = str(cube.periods[int(first)]), str(cube.periods[int(end)])
        unit = "个月" if period_freq(start) == "M" else "期"
        spread = "及单位间差异" if model == "beta_binomial" else ""
        out.append(
            f"{cube.units[int(u)]}自{period_name_zh(start)}起至{period_name_zh(last)}连续"
            f"{int(k)}{unit}整改率均为100%（{catalogue.indicator_name(found)}{figure_text(n)}项、"
            f"整改{figure_text(n)}项），此前{catalogue.indicator_name(found)}{figure_text(n0)}项、"
            f"整改{figure_text(r0)}项（{r0 / n0 * 100:.1f}%）；按本单位此前整改率及同类单位"
            f"整改率{rho * 100:.1f}%{spread}计，连续全部整改的概率为{p_text(p)}")
    return pd.Series(out, index=rows.index, dtype="str")
