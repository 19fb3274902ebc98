"""The long panel read by integer codes: which rows hold a few indicators, the unit and
period of those rows as small integers, and text made only for the few distinct values.

A national panel holds ~72 million rows (``synth.make_panel``: 50,000 units × 36
months × 40 indicators), with its key columns categorical (``dataset.compact_panel``).
A group-by of the whole panel, or text made for every row, costs seconds; comparing
the categorical's integer codes costs milliseconds.  So the indicator tables
(``indicators``) and the checks pick their rows here first, by code, and work on those
rows only.  Every helper also takes a text (str) column, factorised only at the rows
asked for, and gives the same answers.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .periods import period_bounds


# --------------------------------------------------------------------------- periods
@lru_cache(maxsize=65536)
def bounds(p: str):
    """``periods.period_bounds``, remembered: the same few dozen periods are asked on
    every call, and each answer costs a pandas Period parse."""
    return period_bounds(p)


@lru_cache(maxsize=65536)
def _inside(p: str, period: str, cumulative: bool) -> bool:
    """``indicators.in_window`` for one period (not None) and one window P."""
    start, end = bounds(period)
    first, last = bounds(p)
    return bool(last <= end) if cumulative else bool(first >= start and last <= end)


def inside(names, period, cumulative: bool) -> np.ndarray:
    """bool per period text: whether it lies in the window (``indicators.in_window``)."""
    if period is None:
        return np.ones(len(names), dtype=bool)
    return np.array([_inside(p, period, cumulative) for p in names], dtype=bool)


def sorted_periods(periods) -> list[str]:
    """``periods.sort_periods`` with the bounds remembered."""
    return sorted(set(periods), key=bounds)


# --------------------------------------------------------------------------- columns
def category_text(col: pd.Series) -> np.ndarray:
    """A categorical column's categories as an object array of text."""
    return np.asarray(col.array.categories.astype("str"), dtype=object)


def positions(col: pd.Series, wanted: list) -> np.ndarray:
    """Positions of the rows whose ``col`` (categorical or text) is one of ``wanted``."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        ids = np.flatnonzero(np.isin(category_text(col), wanted))
        codes = col.array.codes
        if len(ids) == 1:
            return np.flatnonzero(codes == ids[0])
        return np.flatnonzero(np.isin(codes, ids, kind="table"))
    mask = col == wanted[0] if len(wanted) == 1 else col.isin(wanted)
    return np.flatnonzero(mask.to_numpy(dtype=bool))


def text_codes(col: pd.Series, rows) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``col`` at ``rows`` (-1 where missing) and the text of each
    code: a categorical's own codes and categories, else those of the rows' values."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.array.codes[rows].astype(np.intp), category_text(col)
    codes, uniq = pd.factorize(col.iloc[rows])
    return codes.astype(np.intp), np.asarray(pd.Index(uniq).astype("str"), dtype=object)


def codes_of(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``text_codes`` of every row, without a copy of a categorical's codes (a
    72-million-row column of them is 72 MB as int8, 576 MB as intp)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.array.codes, category_text(col)
    return text_codes(col, slice(None))


def values_at(col: pd.Series, rows) -> np.ndarray:
    """A value column at ``rows`` as float64, NaN where missing."""
    if isinstance(col.dtype, np.dtype):
        return col.to_numpy()[rows].astype(np.float64)
    return col.iloc[rows].to_numpy(dtype="float64", na_value=np.nan)


def sum_dtype(panel: pd.DataFrame):
    """The dtype a group-by sum of the panel's value column gives: float32 for a
    float32 column (``synth.make_panel``), else float64.  Sums made in float64 are
    rounded to it, so that tables and checks show the figures a group-by would."""
    return np.float32 if panel["value"].dtype == np.float32 else np.float64


def text_at(col: pd.Series, rows: np.ndarray) -> np.ndarray:
    """``col`` at ``rows`` as an object array of text, NaN where missing."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.array.codes[rows]
        return np.append(category_text(col), np.nan)[codes]  # code -1: the spare NaN
    got = col.iloc[rows]
    out = np.asarray(got.astype("str"), dtype=object)
    out[got.isna().to_numpy()] = np.nan
    return out


def run_starts(col: pd.Series) -> np.ndarray:
    """Positions where ``col`` differs from the row before (0 included): every row
    equals the row its run starts on, so the distinct values, or pairs of values of
    two columns, are found among these few rows.  A panel written unit by unit and
    period by period has one run per unit (per unit and period); any order stays
    correct, only with more runs."""
    n = len(col)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.array.codes
        change = codes[1:] != codes[:-1]
    else:  # a missing value differs from everything, itself included: runs of one
        change = (col.iloc[1:].reset_index(drop=True)
                  != col.iloc[:-1].reset_index(drop=True)).to_numpy(dtype=bool)
    return np.concatenate([[0], np.flatnonzero(change) + 1])


def cell_sums(a: np.ndarray, n_a: int, b: np.ndarray, n_b: int, values: np.ndarray,
              *, block: int = 1 << 18) -> tuple[np.ndarray, np.ndarray]:
    """Sum (float64; a blank counts 0, as in a group-by sum) and number of rows of
    ``values`` per cell of two code arrays ``a`` (< ``n_a``) and ``b`` (< ``n_b``), as
    two [n_a + 1, n_b + 1] arrays: index 0 holds the missing code -1, index k + 1
    code k.  ``np.bincount`` in blocks of rows: its float64 and intp copies of a
    72-million-row panel would take 1.2 GB, and blocks that stay in the cache are
    also twice as fast."""
    size = (n_a + 1) * (n_b + 1)
    sums = np.zeros(size)
    counts = np.zeros(size, dtype=np.int64)
    for lo in range(0, len(values), block):
        at = slice(lo, lo + block)
        cell = a[at].astype(np.int32 if size < 2 ** 31 else np.intp)
        cell += 1  # in place: no temporaries
        cell *= n_b + 1
        cell += b[at].astype(cell.dtype)
        cell += 1
        v = values[at].astype(np.float64)
        v[np.isnan(v)] = 0.0
        sums += np.bincount(cell, weights=v, minlength=size)
        counts += np.bincount(cell, minlength=size)
    return sums.reshape(n_a + 1, n_b + 1), counts.reshape(n_a + 1, n_b + 1)


# --------------------------------------------------------------------------- units
class Units:
    """An integer id for each unit of a panel, its text, and its first row, without
    hashing every row: a categorical's codes, or for text one id per distinct value
    at the starts of runs of equal units (a panel written unit by unit has one run
    per unit, so only those few values are hashed; any order stays correct)."""

    def __init__(self, unit: pd.Series):
        self.col = unit
        self.starts = run_starts(unit)
        if isinstance(unit.dtype, pd.CategoricalDtype):
            self.codes = unit.array.codes
            self.names = category_text(unit)
            self.keys = self.codes[self.starts].astype(np.intp)
        else:
            self.codes = None
            keys, uniq = pd.factorize(unit.iloc[self.starts])
            self.keys = keys.astype(np.intp)
            self.names = np.asarray(pd.Index(uniq).astype("str"), dtype=object)
        self.first = self._first(self.keys, self.starts)

    def _first(self, ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """First of ``rows`` (ascending) for each id, -1 where none: assigned in
        reverse so that the earliest row is written last."""
        first = np.full(len(self.names), -1, dtype=np.int64)
        ok = ids >= 0
        first[ids[ok][::-1]] = rows[ok][::-1]
        return first

    def ids_at(self, rows: np.ndarray) -> np.ndarray:
        """The unit id of each of ``rows`` (ascending or not); -1 where missing."""
        if self.codes is not None:
            return self.codes[rows].astype(np.intp)
        return self.keys[np.searchsorted(self.starts, rows, side="right") - 1]

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Positions (ascending) of every row of the units ``ids``."""
        mask = (np.isin(self.codes, ids, kind="table") if self.codes is not None
                else self.col.isin(self.names[ids]).to_numpy(dtype=bool))
        return np.flatnonzero(mask)

    def types(self, unit_type: pd.Series, ids: np.ndarray) -> np.ndarray:
        """Each unit's type as text (NaN where it has none): the type on its first row,
        or, where that is missing, on its first row that has one (``units_of``)."""
        out = text_at(unit_type, self.first[ids])
        miss = pd.isna(out)
        if miss.any():  # rare: look through all rows of just these units
            lost = ids[miss]
            cand = self.rows_of(lost)
            cand = cand[unit_type.iloc[cand].notna().to_numpy(dtype=bool)]
            first = self._first(self.ids_at(cand), cand)[lost]
            fill = np.flatnonzero(miss)[first >= 0]
            out[fill] = text_at(unit_type, first[first >= 0])
        return out


def unit_types(panel: pd.DataFrame, units) -> np.ndarray:
    """``indicators.units_of(panel)``'s type of each of ``units`` (text; NaN where the
    unit is not in the panel, has no type, or the panel has no ``unit_type``)."""
    wanted = np.asarray(pd.Index(np.asarray(units, dtype=object)).astype("str"), dtype=object)
    out = np.full(len(wanted), np.nan, dtype=object)
    if not len(wanted) or "unit_type" not in panel.columns:
        return out
    u = Units(panel["unit"])
    ids = pd.Index(u.names).get_indexer(wanted)
    known = np.flatnonzero(ids >= 0)
    out[known] = u.types(panel["unit_type"], ids[known])
    return out


def first_row_text(panel: pd.DataFrame, column: str, units) -> np.ndarray:
    """``column`` on each of ``units``' first row of the panel (as
    ``drop_duplicates("unit")`` keeps it), text; NaN where missing or the unit is not
    in the panel."""
    wanted = np.asarray(pd.Index(np.asarray(units, dtype=object)).astype("str"), dtype=object)
    u = Units(panel["unit"])
    ids = pd.Index(u.names).get_indexer(wanted)
    rows = np.where(ids >= 0, u.first[ids], -1)
    out = np.full(len(wanted), np.nan, dtype=object)
    at = np.flatnonzero(rows >= 0)
    out[at] = text_at(panel[column], rows[at])
    return out


def sorted_text_codes(col: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``text_codes`` numbered in the sort order of the text (-1 where missing): the
    codes of the rows' distinct values ranked, only those values made text."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.array.codes[rows]
        n_cat = len(col.cat.categories)
        used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=n_cat) > 0)
        names = np.asarray(col.cat.categories[used].astype("str"), dtype=object)
        order = np.argsort(names, kind="stable")
        rank = np.full(n_cat + 1, -1, dtype=np.int64)  # the last entry maps code -1
        rank[used[order]] = np.arange(len(used))
        return rank[codes], names[order]
    codes, names = pd.factorize(col.iloc[rows].astype("str"), sort=True, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(names, dtype=object)


def window_periods(col: pd.Series, period, cumulative: bool, seen=None) -> list[str]:
    """The panel's periods inside the window (``indicators.in_window``), sorted in
    time.  On a categorical column the categories already ``seen`` (bool per
    category, e.g. those of the rows already picked) need no look at the rows."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        names = category_text(col)
        ok = inside(names, period, cumulative)
        used = np.zeros(len(names), dtype=bool) if seen is None else seen.copy()
        todo = np.flatnonzero(ok & ~used)
        if len(todo):
            codes = col.array.codes
            if len(todo) <= 4:
                used[todo] = [bool((codes == c).any()) for c in todo]
            else:  # the distinct codes are among the rows where the code changes
                flag = np.zeros(len(names) + 1, dtype=bool)
                flag[codes[run_starts(col)]] = True  # code -1 (missing): the spare last flag
                used |= flag[:-1]
        return sorted_periods(names[used & ok].tolist())
    names = pd.Index(pd.unique(col))
    names = np.asarray(names[names.notna()].astype("str"), dtype=object)
    return sorted_periods(names[inside(names, period, cumulative)].tolist())
