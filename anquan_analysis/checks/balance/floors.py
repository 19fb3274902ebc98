"""Mandated minimums: the figure an indicator's quota makes most units report at least
(one safety meeting a month, one drill a quarter, inspections of a twelfth of the
enterprises supervised), recognised from the figures alone, and how often a unit of a
given size is expected to sit at it.

A series flat at its mandated minimum is what a quota looks like, not a figure written
down without counting: ``repeated_value`` judges a run at the minimum against how
often units of that size rise above it (``floor_model``), not against a Poisson count."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# the shape used for "no spread between units" (a Poisson excess)
_NO_SPREAD = 1e12


@dataclass(frozen=True)
class FloorModel:
    """Per [unit, indicator] (NaN where the indicator has no minimum): ``floor`` the
    mandated minimum F, ``excess`` S = Σ max(x − F, 0) over the unit's whole figures,
    ``periods`` n, the number of those figures, ``mean`` μ the excess a period the
    peers predict for a unit of this size, ``shape`` k the gamma shape of the spread of
    that excess between units."""

    floor: np.ndarray
    excess: np.ndarray
    periods: np.ndarray
    mean: np.ndarray
    shape: np.ndarray


def log_floor_chance(mean, shape, length) -> np.ndarray:
    """log P(L given periods all at the floor) under ``floor_model``'s null for a
    unit with predicted excess ``mean`` (ρw) a period and spread ``shape`` (k):
    −k·log(1 + L·ρw/k); 0 where ρw = 0 (the peers never rise above the floor)."""
    mean, k, length = np.broadcast_arrays(
        *(np.asarray(a, dtype="float64") for a in (mean, shape, length)))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -k * np.log1p(length * mean / k)
    return np.where(np.isfinite(out) & (mean > 0), out, 0.0)


def mandated_minimum(cube, cols, *, enterprises=None, min_units: int = 5,
                     unit_share: float = 0.5, below: float = 0.1) -> np.ndarray:
    """Each unit's mandated minimum per indicator, from its peers' figures.

    Parameters
    ----------
    cube : panel.Cube
        The figures (``Panel.series``); not modified.
    cols : array of int or slice
        The periods read (those of one frequency: a monthly quota is not a
        quarterly one).
    enterprises : array of float, optional
        Enterprises supervised per unit of the cube (NaN where unknown).  With it a
        quota proportional to the unit's size is recognised too.
    min_units : int
        A peer group (unit type) needs this many units with a positive figure on
        the indicator to have a minimum of its own; a type with fewer takes the
        minimum of all units, if they are that many.
    unit_share : float
        The share of the group's units whose smallest positive figure must be the
        minimum.
    below : float
        The largest share of the group's figures (zeros included) that may lie
        below the minimum.

    Returns
    -------
    float array [unit, indicator]: the minimum, NaN where the indicator has none
    (measured indicators never have one).

    Notes
    -----
    Only whole, positive figures of count indicators are read.  A quota is either
    one figure for every unit ("one meeting a month": F = m) or proportional to the
    unit's size ("inspect a twelfth of your enterprises a month": F = ⌈c·e⌉, a
    count of at least c·e is at least its ceiling).  For each group and indicator:

    * m is the commonest of the units' smallest positive figures (the smaller one
      on a tie); with ``enterprises``, c is a ratio that the most units' smallest
      figures equal ⌈c·e⌉ for, read over all units (a quota per enterprise is the
      district's; a unit with smallest figure s matches every c in
      [(s − 1)/e, s/e], and a sweep over those intervals finds c, see
      ``_proportional``).  The
      proportional quota is taken for an indicator when it matches strictly more
      units than the constant minimum of all units does;
    * it is the group's mandated minimum when at least ``unit_share`` of the units
      have their smallest figure at it (a floor most units touch), and at most
      ``below`` of the group's figures, zeros included, are below it (units report
      at least the floor nearly every period).

    Honest counting mostly passes neither: a small count, Poisson(1), has its
    smallest figures at 1 but is 0 in 37% of periods; Poisson(λ ≥ 2.3) is rarely 0
    but its units' smallest figures scatter over 1, 2, 3 ….  Where a count does pass
    (Poisson(5) over a year: the smallest figure is 1 or 2), the floor only changes
    the null a run at it is judged under (``floor_model``): a unit whose peers of
    its size are well above the floor is still found.  A floor of a unit's own (a
    drill for each of its own enterprises, unrelated to the exposure) is not
    recognised: the floor read here is one shared by the peers.
    """
    return _floors(cube, cols, enterprises, min_units, (unit_share, below))[0]


def floor_model(cube, cols, *, enterprises=None, min_units: int = 5, unit_share: float = 0.5,
                below: float = 0.1) -> FloorModel:
    """The mandated minimums (``mandated_minimum``, same parameters) and, per group
    with a minimum, how much units of each size report above it.

    Notes
    -----
    Null model of a unit's figures on an indicator with a floor F: x_t = F + Y_t,
    Y_t ~ Poisson(λ) independent over periods, λ = ρ·w·G with w the unit's
    enterprises (or 1, see below), ρ the peers' rate and G ~ Gamma(k, 1/k) the unit's
    own effort, unknown.  The chance that L given periods are all at the floor is
    then E[e^(−λL)]:

        P = (1 + L·ρw/k)^−k

    — a small unit, or one whose peers rarely rise above the floor, may sit at it
    all year; a unit whose peers of its size report well above it is unlikely to.
    The unit's own figures outside the run are not used: a unit that holds the
    minimum for months and then runs a campaign has changed, not repeated itself.
    ρ and k are estimated from the group's units (those that set the floor: the
    unit's type, or all units, each over the floor read from all units, for a type
    too small to have its own) by moments of their excess S = Σ max(x − F, 0) over
    their n whole figures: ρ = ΣS/Σ(n·w), 1/k = max(0, Σ[(S − N)² − N] / ΣN²) with
    N = ρ·n·w (the negative binomial's variance N + N²/k).  Anomalous units in the
    group only widen the spread (smaller k), which makes P larger: the test errs on the
    conservative side.  w is the enterprises when they are known for every unit of
    the group and they explain the excess better (a larger k̂) than w = 1 does: a
    drill quota's extra drills grow with the enterprises, a second meeting a month
    does not.
    """
    read = _reader(cube, cols)
    floor, peer, all_floor = _floors(cube, cols, enterprises, min_units, (unit_share, below),
                                     read=read)
    n_u, n_i = floor.shape
    # excess over the unit's floor, and over the floor read from all units (the
    # peers of a unit whose type is too small for a floor of its own)
    loops = _loops()
    excess, periods = loops.excess_over(*read, floor)
    excess_all, periods_all = loops.excess_over(*read, all_floor)
    mean = np.full((n_u, n_i), np.nan)
    shape = np.full((n_u, n_i), np.nan)
    e = (np.full(n_u, np.nan) if enterprises is None
         else np.asarray(enterprises, dtype="float64"))
    n_types = len(np.unique(np.asarray(cube.unit_type, dtype=str)))
    for i in range(n_i):
        for g in np.unique(peer[:, i][peer[:, i] >= 0]):
            told = np.flatnonzero(peer[:, i] == g)          # the units given this fit
            if g < n_types:
                fit, s, n = told, excess[told, i], periods[told, i]
            else:                                           # fitted over all units
                fit = np.flatnonzero(~np.isnan(all_floor[:, i]))
                s, n = excess_all[fit, i], periods_all[fit, i]
            best = None
            sizes = [(np.ones(len(fit)), np.ones(len(told)))]
            if np.all(np.isfinite(e[fit]) & (e[fit] > 0)) and np.all(np.isfinite(e[told])):
                sizes.append((e[fit], e[told]))
            for w_fit, w_told in sizes:
                rho, k = _moments(s, n, w_fit)
                if best is None or k > best[1]:
                    best = (rho, k, w_told)
            rho, k, w = best
            mean[told, i] = rho * w
            shape[told, i] = k
    return FloorModel(floor=floor, excess=excess, periods=periods, mean=mean, shape=shape)


def _moments(s, n, w) -> tuple[float, float]:
    """(ρ, k) of S ~ NB(k, mean ρ·n·w) by moments (k = _NO_SPREAD when the figures
    vary no more than Poisson)."""
    exposure = n * w
    rho = s.sum() / exposure.sum() if exposure.sum() > 0 else 0.0
    big_n = rho * exposure
    denom = (big_n ** 2).sum()
    inv_k = ((s - big_n) ** 2 - big_n).sum() / denom if denom > 0 else 0.0
    return float(rho), (1.0 / inv_k if inv_k > 1.0 / _NO_SPREAD else _NO_SPREAD)


def _loops():
    from . import _series_loops  # numba loads on first use, not on import
    return _series_loops


def _reader(cube, cols):
    """(values, period positions, count indicators): what the compiled passes read."""
    t = np.arange(cube.shape[2])[cols].astype(np.int64)
    return cube.values, t, cube.count_indicators().astype(np.bool_)


def _floors(cube, cols, enterprises, min_units, rule, read=None):
    """(floor [unit, indicator], peer [unit, indicator]: the group whose figures set
    it, the unit's type code or n_types for all units, −1 where there is none, and
    the floor read from all units [unit, indicator], NaN where there is none).
    ``read``: ``_reader(cube, cols)`` if the caller has it."""
    read = _reader(cube, cols) if read is None else read
    n_u, n_i = cube.shape[:2]
    loops = _loops()
    low, n_pos, n_whole = loops.whole_stats(*read)
    e = (np.full(n_u, np.nan) if enterprises is None
         else np.asarray(enterprises, dtype="float64"))
    types, type_code = np.unique(np.asarray(cube.unit_type, dtype=str), return_inverse=True)
    read = (read, n_whole)
    by_type, units_type, _ = _group_minimum(read, low, n_pos, type_code, len(types), rule)
    all_units = np.zeros(n_u, dtype=np.intp)
    every, units_all, at_every = _group_minimum(read, low, n_pos, all_units, 1, rule)
    own = (units_type >= min_units)[type_code]              # [unit, indicator]
    shared = units_all[0][None, :] >= min_units
    out = np.where(own, by_type, np.where(shared, every, np.nan))
    peer = np.where(own, type_code[:, None], len(types))
    if enterprises is not None and np.isfinite(e).any():
        # a quota per enterprise is the district's: read over all units, taken for
        # an indicator where more units' smallest figures match it than a constant
        low_f = np.where(n_pos > 0, low, np.nan)
        ratio = np.array([_proportional(low_f[:, i], e) for i in range(n_i)])
        prop = _quota_ceiling(ratio[None, :], e[:, None])
        hit = (n_pos > 0) & (low == prop)
        n_hit = hit.sum(axis=0)
        has = (n_pos > 0).sum(axis=0)
        n_below = loops.count_below(*read[0], np.ascontiguousarray(prop, dtype=np.float64))
        unit_share, below = rule
        take = ((n_hit > at_every[0]) & (n_hit >= unit_share * has) & (has >= min_units)
                & (n_below.sum(axis=0) <= below * n_whole.sum(axis=0)))
        take = take[None, :] & np.isfinite(prop)         # units of unknown size keep theirs
        out = np.where(take, prop, out)
        peer = np.where(take, len(types), peer)
        every = np.where(take, prop, every)
    peer = np.where(np.isnan(out), -1, peer)
    return out, peer, np.where(shared, every, np.nan)


def _per_group(group, n_groups, per_unit) -> np.ndarray:
    """Sums over the units of each group of a [unit, indicator] array."""
    n_i = per_unit.shape[1]
    key = (group[:, None] * n_i + np.arange(n_i)).ravel()
    return np.bincount(key, weights=per_unit.ravel().astype("float64"),
                       minlength=n_groups * n_i).reshape(n_groups, n_i)


def _quota_ceiling(c, e) -> np.ndarray:
    """⌈c·e⌉, at least 1, computed as the smallest whole s ≥ 1 with s/e ≥ c (the
    test the sweep made, so that c·e = 5 exactly gives 5)."""
    with np.errstate(all="ignore"):
        s = np.ceil(c * e)
        s = np.where((s - 1) / e >= c, s - 1, s)
        s = np.where(s / e < c, s + 1, s)
    return np.maximum(s, 1.0)


def _proportional(low: np.ndarray, e: np.ndarray) -> float:
    """The quota per enterprise that the most units' smallest figures match, NaN
    without units.  A unit with smallest figure s and e enterprises matches every
    c in [(s − 1)/e, s/e] (closed: where c·e is whole, "at least c·e" is met by
    c·e, and a unit one above it is no evidence against c).  A sweep over the ends
    finds the smallest c in the most intervals, c₀; the c in all of those
    intervals run from c₀ to the smallest of their right ends, c₁; the midpoint of
    [c₀, c₁] is returned, where ⌈c·e⌉ is each matching unit's own s."""
    ok = np.isfinite(low) & np.isfinite(e) & (e > 0)
    if not ok.any():
        return np.nan
    lo_u, hi_u = (low[ok] - 1) / e[ok], low[ok] / e[ok]
    lo, hi = np.sort(lo_u), np.sort(hi_u)
    ends = np.concatenate([lo, hi])
    cover = np.searchsorted(lo, ends, "right") - np.searchsorted(hi, ends, "left")
    c0 = ends[cover == cover.max()].min()
    c1 = hi_u[(lo_u <= c0) & (c0 <= hi_u)].min()
    return float((c0 + c1) / 2)


def _group_minimum(read, low, n_pos, group, n_groups, rule):
    """(minimum [unit, indicator] or NaN, units with a positive figure [group,
    indicator]) for one grouping of the units; ``read`` = (``_reader``'s triple,
    whole figures per unit and indicator), ``rule`` = (unit_share, below)."""
    read, n_whole = read
    unit_share, below = rule
    n_u, n_i = low.shape
    has = n_pos > 0
    units = _per_group(group, n_groups, has)
    # the commonest smallest figure per group and indicator (the smaller on a tie)
    uu, ii = np.nonzero(has)
    key = group[uu].astype(np.int64) * n_i + ii
    val = low[uu, ii]
    order = np.lexsort((val, key))
    key, val = key[order], val[order]
    new = np.ones(len(key), dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | (val[1:] != val[:-1])
    starts = np.flatnonzero(new)
    count = np.diff(np.append(starts, len(key)))
    run_key, run_val = key[starts], val[starts]
    best = np.lexsort((run_val, -count, run_key))      # per key: most units, then smallest
    first = np.ones(len(best), dtype=bool)
    first[1:] = run_key[best][1:] != run_key[best][:-1]
    best = best[first]
    const = np.full(n_groups * n_i, np.nan)
    at_const = np.zeros(n_groups * n_i, dtype=np.int64)
    const[run_key[best]] = run_val[best]
    at_const[run_key[best]] = count[best]
    const, at_const = const.reshape(n_groups, n_i), at_const.reshape(n_groups, n_i)
    cand = const[group]                                 # [unit, indicator]
    matched = at_const
    ok = matched >= unit_share * units
    cand = np.where(ok[group], cand, np.nan)
    # the share of the group's figures below it
    n_below = _loops().count_below(*read, np.ascontiguousarray(cand, dtype=np.float64))
    fine = _per_group(group, n_groups, n_below) <= below * _per_group(group, n_groups, n_whole)
    return np.where(fine[group], cand, np.nan), units, matched
