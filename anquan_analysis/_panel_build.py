"""Building a ``panel.Panel`` from a long frame: the one place that reads the long
panel row by row, kept apart so that everything after it reads as plain statistics.

A province's panel holds tens of millions of rows.  Grouping such a frame, or making
a Python string per row, costs seconds; the integer codes of its categorical columns
cost milliseconds.  So the build works on codes only: each key column is numbered
once (a categorical's own codes recoded to the sort order of its text, or a text
column factorised), every figure is placed in a dense array by one flat index, and
text is made once per distinct unit, indicator and period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .periods import sort_periods


@dataclass
class Coded:
    """A key column as integer codes (-1 where missing) and the text of each code."""

    codes: np.ndarray
    names: np.ndarray


def sorted_codes(col: pd.Series, rows: np.ndarray | None = None) -> Coded:
    """``col``'s codes (at ``rows``, or every row) numbered in the sort order of its
    text.  A categorical is recoded through its categories (no per-row text; no
    per-row work at all when its categories are sorted already), anything else is
    factorised as text."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        names = np.asarray(col.cat.categories.astype("str"), dtype=object)
        codes = col.array.codes if rows is None else col.array.codes[rows]
        order = np.argsort(names, kind="stable")
        if (order == np.arange(len(names))).all():
            return Coded(codes, names)
        rank = np.empty(len(names) + 1, dtype=np.int32)
        rank[order] = np.arange(len(names), dtype=np.int32)
        rank[-1] = -1  # code -1 (missing) stays -1
        return Coded(rank[codes], names[order])
    values = col if rows is None else col.iloc[rows]
    codes, names = pd.factorize(values.astype("str"), sort=True, use_na_sentinel=True)
    return Coded(codes.astype(np.int32), np.asarray(names, dtype=object))


def rows_of(col: pd.Series, wanted) -> np.ndarray:
    """Positions of the rows whose ``col`` (categorical or text) is one of ``wanted``:
    on a categorical, a comparison of its integer codes."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        ids = np.flatnonzero(np.isin(np.asarray(col.cat.categories.astype("str")), list(wanted)))
        return np.flatnonzero(np.isin(col.array.codes, ids, kind="table"))
    return np.flatnonzero(col.isin(list(wanted)).to_numpy(dtype=bool))


def used_only(c: Coded) -> Coded:
    """The codes renumbered over the names that occur (a categorical may carry
    categories no row uses)."""
    flag = np.zeros(len(c.names) + 1, dtype=bool)
    flag[c.codes] = True  # code -1 (missing) sets the spare last flag
    used = flag[:-1]
    if used.all():
        return c
    remap = np.full(len(c.names) + 1, -1, dtype=np.int32)
    remap[np.flatnonzero(used)] = np.arange(int(used.sum()), dtype=np.int32)
    return Coded(remap[c.codes], c.names[used])


def in_time_order(c: Coded) -> Coded:
    """Period codes renumbered in time order (months before the quarter they end,
    as ``periods.sort_periods``); for a panel of one frequency text order is time
    order already and nothing moves."""
    ordered = np.asarray(sort_periods(c.names.tolist()), dtype=object)
    if (ordered == c.names).all():
        return c
    where = {p: k for k, p in enumerate(ordered)}
    remap = np.array([where[p] for p in c.names] + [-1], dtype=np.int32)
    return Coded(remap[c.codes], ordered)


def first_known(units: np.ndarray, col: pd.Series | None, n_units: int,
                rows: np.ndarray | None = None) -> np.ndarray:
    """Per unit, the first non-missing value of ``col`` over its rows (``rows`` of the
    frame, whose unit codes are ``units``; every row when None), as text (NaN where
    the unit has none, or there is no column).  Only the first row of each run
    of equal unit codes is looked at first: a panel written unit by unit has one run
    per unit; the rows of units whose first row lacks a value are searched after."""
    out = np.full(n_units, np.nan, dtype=object)
    if col is None or not len(units):
        return out
    if rows is not None:
        col = col.iloc[rows]
    ok = units >= 0
    starts = np.concatenate([[0], np.flatnonzero(units[1:] != units[:-1]) + 1])
    starts = starts[ok[starts]]
    first = np.full(n_units, -1, dtype=np.int64)
    first[units[starts][::-1]] = starts[::-1]
    has = first >= 0
    missing = col.iloc[first[has]].isna().to_numpy()
    text = _text(col, first[has])
    out[np.flatnonzero(has)] = np.where(missing, np.nan, text)
    lost = np.flatnonzero(has)[missing]
    if len(lost) and col.notna().any():  # rare: look through all rows of these units
        rows = np.flatnonzero(np.isin(units, lost) & col.notna().to_numpy())
        if len(rows):
            got = np.full(n_units, -1, dtype=np.int64)
            got[units[rows][::-1]] = rows[::-1]
            fill = lost[got[lost] >= 0]
            out[fill] = _text(col, got[fill])
    return out


def _text(col: pd.Series, rows: np.ndarray) -> np.ndarray:
    got = col.iloc[rows]
    return np.asarray(got.astype("str"), dtype=object)


def dense_values(flat: np.ndarray, values: np.ndarray, n_cells: int) -> np.ndarray:
    """One figure per cell (float64, NaN where none): duplicates of a cell summed.
    ``values`` has no NaN (a blank is not a figure)."""
    present = np.zeros(n_cells, dtype=bool)
    present[flat] = True
    if int(np.count_nonzero(present)) == len(flat):  # one row per cell, as ingest writes
        out = np.full(n_cells, np.nan)
        out[flat] = values
        return out
    out = np.bincount(flat, weights=values.astype(np.float64), minlength=n_cells)
    out[~present] = np.nan
    return out


def flat_index(u: np.ndarray, i: np.ndarray, t: np.ndarray, n_i: int, n_t: int) -> np.ndarray:
    """(u × n_i + i) × n_t + t, in place where the dtype allows."""
    n_cells = (int(u.max()) + 1 if len(u) else 0) * n_i * n_t
    flat = u.astype(np.int32 if n_cells < 2**31 else np.int64)
    flat *= n_i
    flat += i
    flat *= n_t
    flat += t
    return flat


# ------------------------------------------------------------------ the grid layout
@dataclass
class Grid:
    """A long frame laid out as a full grid: unit by unit, within a unit period by
    period, within a period indicator by indicator, every cell once (as ingest of a
    wide table and ``synth.make_panel`` write it).  ``units`` holds the unit code of
    each block of ``n_t × n_i`` rows, ``periods`` and ``indicators`` the codes of
    one block's periods and of one period's indicators (every category once)."""

    units: np.ndarray
    periods: np.ndarray
    indicators: np.ndarray

    @property
    def block(self) -> int:
        return len(self.periods) * len(self.indicators)


def _a_permutation(codes: np.ndarray, n: int) -> bool:
    """``codes`` hold each of 0 … n−1 exactly once."""
    if len(codes) != n:
        return False
    seen = np.zeros(n + 1, dtype=np.int64)
    np.add.at(seen, np.where(codes >= 0, codes, n), 1)
    return bool((seen[:n] == 1).all())


def grid_layout(frame: pd.DataFrame) -> Grid | None:
    """The frame's ``Grid`` when its unit, period and indicator columns are
    categorical and laid out as one (checked on every row), else None.

    The check compares each key column's codes with the pattern the first block
    sets (three passes over small integers, no sort), so a frame that is not a grid
    costs little more than the build it falls back to."""
    cols = [frame[c] for c in ("unit", "period", "indicator")]
    if not len(frame) or not all(isinstance(c.dtype, pd.CategoricalDtype) for c in cols):
        return None
    uc, tc, ic = (c.array.codes for c in cols)
    n_t, n_i = len(cols[1].cat.categories), len(cols[2].cat.categories)
    if len(frame) % (n_t * n_i):
        return None
    n_u = len(frame) // (n_t * n_i)
    ind, per, units = ic[:n_i], tc[:n_t * n_i:n_i], uc[::n_t * n_i]
    if not (_a_permutation(ind, n_i) and _a_permutation(per, n_t) and (units >= 0).all()):
        return None
    if len(np.unique(units)) != n_u:  # a unit in two blocks: duplicated cells
        return None
    if not (ic.reshape(-1, n_i) == ind).all():
        return None
    if not (tc.reshape(n_u, n_t, n_i) == per[None, :, None]).all():
        return None
    if not (uc.reshape(n_u, -1) == units[:, None]).all():
        return None
    return Grid(units=units, periods=per, indicators=ind)


def grid_rows(grid: Grid, what: str) -> np.ndarray:
    """Frame rows holding each grid unit's first row (``units``), one block's
    periods (``periods``) or one period's indicators (``indicators``)."""
    if what == "units":
        return np.arange(len(grid.units), dtype=np.int64) * grid.block
    if what == "periods":
        return np.arange(len(grid.periods), dtype=np.int64) * len(grid.indicators)
    return np.arange(len(grid.indicators), dtype=np.int64)


def grid_values(values: np.ndarray, grid: Grid, u: np.ndarray, t: np.ndarray, i: np.ndarray,
                dtype=np.float64, chunk: int = 4096) -> np.ndarray:
    """The grid's ``values`` (one per row, in frame order) as [unit, indicator,
    period] with the axes renumbered by ``u``, ``i``, ``t`` (the panel's position of
    each grid unit, indicator and period): a reshape, a permutation of the small
    axes and a transpose, done a few thousand units at a time so that each piece
    stays in cache; no scatter over the rows."""
    n_u, n_t, n_i = len(grid.units), len(grid.periods), len(grid.indicators)
    cube = values.reshape(n_u, n_t, n_i)
    # output position k on an axis reads source position order[k]
    t_src, i_src = np.argsort(t), np.argsort(i)
    t_same, i_same = (t_src == np.arange(n_t)).all(), (i_src == np.arange(n_i)).all()
    u_same = (u == np.arange(n_u)).all()
    out = np.empty((n_u, n_i, n_t), dtype=dtype)
    for a in range(0, n_u, chunk):
        piece = cube[a:a + chunk]
        if not t_same:
            piece = piece[:, t_src, :]
        if not i_same:
            piece = piece[:, :, i_src]
        if u_same:
            out[a:a + chunk] = piece.transpose(0, 2, 1)
        else:
            out[u[a:a + chunk]] = piece.transpose(0, 2, 1)
    return out


def first_known_grid(grid: Grid, units: np.ndarray, col: pd.Series | None,
                     n_units: int) -> np.ndarray:
    """``first_known`` on a grid (``units``: the panel position of each grid unit):
    each unit's first row is the first row of its block; only where that row lacks
    a value are the unit's other rows searched (by ``first_known``)."""
    out = np.full(n_units, np.nan, dtype=object)
    if col is None or not len(units):
        return out
    rows = grid_rows(grid, "units")
    missing = col.iloc[rows].isna().to_numpy()
    if missing.any() and col.notna().any():  # rare: search every row of the frame
        return first_known(np.repeat(units, grid.block), col, n_units)
    out[units] = np.where(missing, np.nan, _text(col, rows))
    return out
