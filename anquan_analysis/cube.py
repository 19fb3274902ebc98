"""The panel as a dense unit × indicator × period array, for checks at national scale.

A long panel of 72 million rows costs ~19 bytes a value as categoricals and many
times that once a check groups, merges or converts it to text.  Nearly every check
looks at a unit's series of one indicator, or at the units of a peer group in one
period: both are slices of one dense array ``values[unit, indicator, period]``
(float64, NaN where nothing was reported; 8 bytes a cell, 576 MB for 50,000 units ×
40 indicators × 36 months).  ``panel_cube`` builds it in one pass over integer codes;
checks then work on array axes and turn into text only the rows they report.

Semantics are those of the long panel the checks were written for (``_prepare`` in
``checks/balance``): one figure per unit × period × indicator (duplicate rows
summed, a reported blank counts as 0 as a group-by sum makes it), with ``period=P``
only periods of P's frequency ending no later than P.  Units, indicators and periods
are numbered in the sort order of their text, so axis order is name order (and time
order within one frequency).  A unit's type and parent are those of its first row
in the window ('' where missing).

``shared()`` lets ``run_checks`` build the cube once for all checks; outside it
every call builds its own, so a panel modified between calls is never served stale.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import catalogue
from .dataset import require_columns
from .periods import period_bounds, period_freq

_PER_YEAR = {"M": 12, "Q": 4, "H": 2, "Y": 1}
# Measured (not counted) units: no Poisson null, no digit tests.
MEASURED_UNITS = frozenset({"万元", "公里"})


@dataclass(frozen=True, eq=False)
class Cube:
    """A panel as ``values[unit, indicator, period]``; see the module docstring.

    Attributes: ``units``, ``indicators``, ``periods`` (object arrays of text, each
    sorted), ``unit_type`` and ``parent`` (text per unit, '' where missing),
    ``period_freq`` (M/Q/H/Y per period), ``period_pos`` (int64 position on its
    frequency's time line: year × periods a year + index), ``values`` (float64,
    NaN where not reported), ``approx`` (bool, same shape; None when no row is
    approximate), ``period`` (the P it was built for, or None)."""

    units: np.ndarray
    unit_type: np.ndarray
    parent: np.ndarray
    indicators: np.ndarray
    periods: np.ndarray
    period_freq: np.ndarray
    period_pos: np.ndarray
    values: np.ndarray
    approx: np.ndarray | None
    period: str | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.values.shape

    @property
    def reported(self) -> np.ndarray:
        """bool [unit, indicator, period]: a figure was reported (computed once)."""
        if "reported" not in self._cache:
            self._cache["reported"] = ~np.isnan(self.values)
        return self._cache["reported"]

    def indicator_index(self, codes) -> np.ndarray:
        """Positions on the indicator axis of the indicator ``codes`` present here
        (in the order given; absent ones skipped)."""
        where = {c: i for i, c in enumerate(self.indicators)}
        return np.array([where[c] for c in codes if c in where], dtype=np.intp)

    def count_indicators(self) -> np.ndarray:
        """bool per indicator: counted in whole units (项, 次, 家 …), not 万元 or 公里."""
        return np.array([catalogue.indicator_unit(c) not in MEASURED_UNITS
                         for c in self.indicators], dtype=bool)

    def unit_groups(self, cols=("unit_type",)) -> tuple[np.ndarray, pd.DataFrame]:
        """An integer group id per unit for the combination of ``cols`` (unit_type,
        parent), numbered in the sort order of the keys, and the keys of each group
        (a DataFrame of text, row g for group g)."""
        keys = pd.DataFrame({c: getattr(self, c) for c in cols})
        if not len(keys):
            return np.zeros(0, dtype=np.intp), keys.iloc[:0]
        keys = keys.astype("str")
        ids = keys.groupby(list(cols), sort=True).ngroup().to_numpy()
        first = np.unique(ids, return_index=True)[1]
        return ids.astype(np.intp), keys.iloc[first].reset_index(drop=True)

    def period_index(self, period: str) -> int | None:
        """Position of ``period`` on the period axis, or None."""
        hit = np.flatnonzero(self.periods == period)
        return int(hit[0]) if len(hit) else None


def _codes_in_text_order(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``s`` numbered in the sort order of its text (-1 for missing)
    and the sorted text of each code.  A categorical is recoded through its
    categories (no per-row text, and no per-row work at all when its categories are
    already sorted); anything else is factorised as text."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        names = np.asarray(s.cat.categories.astype("str"), dtype=object)
        codes = s.cat.codes.to_numpy()
        order = np.argsort(names, kind="stable")
        if (order == np.arange(len(names))).all():
            return codes, names
        rank = np.empty(len(names) + 1, dtype=np.int32)
        rank[order] = np.arange(len(names), dtype=np.int32)
        rank[-1] = -1  # code -1 (missing) stays -1
        return rank[codes], names[order]
    codes, names = pd.factorize(s.astype("str"), sort=True, use_na_sentinel=True)
    return codes.astype(np.int32 if len(names) < 2**31 else np.int64), np.asarray(names, dtype=object)


def _position(p: str) -> int:
    f = period_freq(p)
    within = {"M": lambda s: int(s[5:7]) - 1, "Q": lambda s: int(s[-1]) - 1,
              "H": lambda s: int(s[-1]) - 1, "Y": lambda s: 0}[f](p)
    return int(p[:4]) * _PER_YEAR[f] + within


def _per_unit_text(panel: pd.DataFrame, col: str, first_row: np.ndarray) -> np.ndarray:
    """Text of ``col`` at each unit's first row ('' where missing or no column)."""
    out = np.full(len(first_row), "", dtype=object)
    if col not in panel.columns or not len(first_row):
        return out
    got = panel[col].iloc[first_row]
    got = got.astype("str").to_numpy(dtype=object) if not isinstance(
        got.dtype, pd.CategoricalDtype) else np.asarray(got.astype("str"), dtype=object)
    missing = panel[col].iloc[first_row].isna().to_numpy()
    out[:] = got
    out[missing] = ""
    return out


def build_cube(panel: pd.DataFrame, period: str | None = None) -> Cube:
    """The cube of ``panel`` (periods of P's frequency up to P when ``period`` is
    given).  Rows with a missing unit, period or indicator are left out, as a
    group-by leaves them out.  ``panel`` is not modified.

    One pass over the integer codes, in place where possible: at national scale
    every temporary the length of the panel costs 72 M × its item size."""
    require_columns(panel, ("unit", "period", "indicator", "value"), "panel")
    u, units = _codes_in_text_order(panel["unit"])
    t, periods = _codes_in_text_order(panel["period"])
    i, indicators = _codes_in_text_order(panel["indicator"])
    # Period window: decided once per distinct period, then applied by code.
    keep_p = np.ones(len(periods), dtype=bool)
    if period is not None:
        end, freq = period_bounds(period)[1], period_freq(period)
        keep_p = np.array([period_freq(p) == freq and period_bounds(p)[1] <= end
                           for p in periods], dtype=bool)
    if not keep_p.all():
        new_t = np.full(len(periods) + 1, -1, dtype=np.int32)
        new_t[np.flatnonzero(keep_p)] = np.arange(int(keep_p.sum()), dtype=np.int32)
        periods, t = periods[keep_p], new_t[t]
    rows = None
    if len(u) and min(int(u.min()), int(t.min()), int(i.min())) < 0:
        rows = np.flatnonzero((u >= 0) & (t >= 0) & (i >= 0))
        u, t, i = u[rows], t[rows], i[rows]
    # Units and indicators without a row in the window are dropped from the axes.
    u_used = np.bincount(u, minlength=len(units)) > 0
    i_used = np.bincount(i, minlength=len(indicators)) > 0
    if not u_used.all():
        u, units = (np.cumsum(u_used) - 1).astype(np.int32)[u], units[u_used]
    if not i_used.all():
        i, indicators = (np.cumsum(i_used) - 1).astype(np.int32)[i], indicators[i_used]
    n_u, n_i, n_t = len(units), len(indicators), len(periods)
    n_cells = n_u * n_i * n_t
    flat = u.astype(np.int32 if n_cells < 2**31 else np.int64)
    flat *= n_i
    flat += i
    flat *= n_t
    flat += t
    del i, t
    v = panel["value"].to_numpy()
    if rows is not None:
        v = v[rows]
    present = np.zeros(n_cells, dtype=bool)
    present[flat] = True
    if int(np.count_nonzero(present)) == len(flat) and not np.isnan(v).any():
        values = np.full(n_cells, np.nan)
        values[flat] = v  # one row per cell already, as ingest and synth write panels
    else:  # duplicates summed, a reported blank as 0 (what a group-by sum gives)
        values = np.bincount(flat, weights=np.nan_to_num(v.astype("float64"), nan=0.0),
                             minlength=n_cells)
        values[~present] = np.nan
    del v, present
    approx = None
    if "approx" in panel.columns:
        a = panel["approx"].fillna(False).to_numpy(dtype=bool)
        if rows is not None:
            a = a[rows]
        if a.any():
            approx = np.zeros(n_cells, dtype=bool)
            approx[flat[a]] = True
            approx = approx.reshape(n_u, n_i, n_t)
    del flat
    # Each unit's first row in the window (its type and parent come from it): a first
    # occurrence always starts a run of equal codes, and there are few runs.
    starts = np.flatnonzero(u[1:] != u[:-1]) + 1 if len(u) else np.zeros(0, np.int64)
    starts = np.concatenate([[0], starts]) if len(u) else starts
    first = np.full(n_u, -1, dtype=np.int64)
    first[u[starts][::-1]] = starts[::-1]
    first_row = first if rows is None else rows[first]
    return Cube(units=units, unit_type=_per_unit_text(panel, "unit_type", first_row),
                parent=_per_unit_text(panel, "parent", first_row),
                indicators=indicators, periods=periods,
                period_freq=np.array([period_freq(p) for p in periods], dtype=object),
                period_pos=np.array([_position(p) for p in periods], dtype=np.int64),
                values=values.reshape(n_u, n_i, n_t), approx=approx, period=period)


_SHARED: dict | None = None


@contextmanager
def shared():
    """Within this block ``panel_cube`` builds each (panel, period) cube once and
    hands the same object to every caller (``run_checks`` wraps its checks in it)."""
    global _SHARED
    previous, _SHARED = _SHARED, {}
    try:
        yield
    finally:
        _SHARED = previous


def panel_cube(panel: pd.DataFrame, period: str | None = None) -> Cube:
    """``build_cube(panel, period)``, built once per panel and period inside
    ``shared()``.  Treat the result as read-only: it may be shared between checks."""
    if _SHARED is None:
        return build_cube(panel, period)
    key = (id(panel), period)
    hit = _SHARED.get(key)
    if hit is not None and hit[0] is panel:
        return hit[1]
    cube = build_cube(panel, period)
    _SHARED[key] = (panel, cube)
    return cube
