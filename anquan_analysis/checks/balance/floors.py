"""Mandated minimums: the figure an indicator's quota makes most units report at least
(one safety meeting a month, one drill a quarter), recognised from the figures alone.

A series flat at its indicator's mandated minimum is what a quota looks like, not a
figure written down without counting: ``repeated_value`` does not test such runs."""

from __future__ import annotations

import numpy as np

# Cells (unit × indicator × period) per block of units.
_BLOCK_CELLS = 1 << 18


def mandated_minimum(cube, cols, *, min_units: int = 5, unit_share: float = 0.5,
                     mass: float = 0.3, below: float = 0.1) -> np.ndarray:
    """Each unit's mandated minimum per indicator, from its peers' figures.

    Parameters
    ----------
    cube : panel.Cube
        The figures (``Panel.series``); not modified.
    cols : array of int or slice
        The periods read (those of one frequency: a monthly quota is not a
        quarterly one).
    min_units : int
        A peer group (unit type) needs this many units with a positive figure on
        the indicator to have a minimum of its own; a type with fewer takes the
        minimum of all units, if they are that many.
    unit_share : float
        The share of the group's units whose smallest positive figure must be the
        minimum.
    mass : float
        The share of the group's positive figures that must equal the minimum.
    below : float
        The largest share of the group's figures (zeros included) that may lie
        below the minimum.

    Returns
    -------
    float array [unit, indicator]: the minimum, NaN where the indicator has none
    (measured indicators never have one).

    Notes
    -----
    Only whole, positive figures of count indicators are read.  For each group and
    indicator, m is the commonest of the units' smallest positive figures (the
    smaller one on a tie).  m is the group's mandated minimum when

    * at least ``unit_share`` of the units report m as their smallest figure: a
      floor that most units touch;
    * at least ``mass`` of the group's positive figures are m: a floor is where the
      figures pile up; and
    * at most ``below`` of the group's figures, zeros included, are below m: the
      units report at least m nearly every period.

    Together they keep honest counting from passing as a floor.  Over three years
    the smallest of 36 Poisson(5) figures is 1 in most units, but only 3% of the
    positive figures are 1; a small count, Poisson(1), piles up at 1 but is 0 in
    37% of periods.  No Poisson(λ) passes at m = 1 (e^−λ ≤ 0.1 needs λ ≥ 2.3,
    where 1 is at most 26% of the positive figures), nor at a larger m.  A quota
    of "1 plus a few" (sessions = 1 + Poisson(λ)) passes while λ ≤ 1.2.  Units
    with a floor of their own (a drill for each of their own enterprises) are not
    recognised: the floor read here is one shared by the peers.
    """
    is_count = cube.count_indicators()
    n_u, n_i = cube.shape[:2]
    n_t = len(cube.periods[cols])
    low = np.full((n_u, n_i), np.inf)
    n_pos = np.zeros((n_u, n_i), dtype=np.int64)
    n_whole = np.zeros((n_u, n_i), dtype=np.int64)  # whole figures, zeros included
    step = max(1, _BLOCK_CELLS // max(1, n_i * n_t))
    for a in range(0, n_u, step):
        v = cube.values[a:a + step, :, cols]
        pos = _positive_whole(v, is_count)
        low[a:a + step] = np.where(pos, v, np.inf).min(axis=2)
        n_pos[a:a + step] = np.count_nonzero(pos, axis=2)
        with np.errstate(invalid="ignore"):
            n_whole[a:a + step] = np.count_nonzero(
                ((v - np.floor(v)) == 0) & is_count[:, None] & (v >= 0), axis=2)
    types, type_code = np.unique(np.asarray(cube.unit_type, dtype=str), return_inverse=True)
    read = (cube, cols, is_count, step, n_whole)
    rule = (unit_share, mass, below)
    by_type, units_type = _group_minimum(read, low, n_pos, type_code, len(types), rule)
    every, units_all = _group_minimum(read, low, n_pos, np.zeros(n_u, dtype=np.intp), 1, rule)
    own = units_type >= min_units
    out = np.where(own, by_type, np.where(units_all >= min_units, every, np.nan))
    return out[type_code]


def _positive_whole(v: np.ndarray, is_count: np.ndarray) -> np.ndarray:
    """bool: a whole, positive figure of a count indicator."""
    with np.errstate(invalid="ignore"):
        return (v > 0) & ((v - np.floor(v)) == 0) & is_count[:, None]


def _per_group(group, n_groups, per_unit) -> np.ndarray:
    """Sums over the units of each group of a [unit, indicator] array."""
    n_i = per_unit.shape[1]
    key = (group[:, None] * n_i + np.arange(n_i)).ravel()
    return np.bincount(key, weights=per_unit.ravel().astype("float64"),
                       minlength=n_groups * n_i).reshape(n_groups, n_i)


def _group_minimum(read, low, n_pos, group, n_groups, rule):
    """(minimum [group, indicator] or NaN, units with a positive figure [group,
    indicator]) for one grouping of the units; ``read`` = (cube, cols, is_count,
    units per block, whole figures per unit and indicator), ``rule`` = (unit_share,
    mass, below)."""
    cube, cols, is_count, step, n_whole = read
    unit_share, mass, below = rule
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
    floor = np.full(n_groups * n_i, np.nan)
    at_floor = np.zeros(n_groups * n_i, dtype=np.int64)
    floor[run_key[best]] = run_val[best]
    at_floor[run_key[best]] = count[best]
    floor, at_floor = floor.reshape(n_groups, n_i), at_floor.reshape(n_groups, n_i)
    floor[at_floor < unit_share * units] = np.nan
    # the shares of the group's figures at it and below it
    cand = floor[group]                                 # [unit, indicator]
    n_equal = np.zeros((n_u, n_i), dtype=np.int64)
    n_below = np.zeros((n_u, n_i), dtype=np.int64)
    for a in range(0, n_u, step):
        v = cube.values[a:a + step, :, cols]
        c = cand[a:a + step, :, None]
        with np.errstate(invalid="ignore"):
            whole = ((v - np.floor(v)) == 0) & is_count[:, None] & (v >= 0)
            n_equal[a:a + step] = np.count_nonzero(whole & (v == c), axis=2)
            n_below[a:a + step] = np.count_nonzero(whole & (v < c), axis=2)
    equal = _per_group(group, n_groups, n_equal)
    floor[~(equal >= mass * _per_group(group, n_groups, n_pos))] = np.nan
    floor[~(_per_group(group, n_groups, n_below)
            <= below * _per_group(group, n_groups, n_whole))] = np.nan
    return floor, units
