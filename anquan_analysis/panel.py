"""The one way the package reads figures: ``Panel``.

A ``Dataset`` stores its figures as a long table (``dataset.PANEL_COLUMNS``: one row
per unit, period and indicator), which is how offices send them and how they are
saved.  Every indicator table and every check reads them through a ``Panel`` built
from that table once:

* ``values[unit, indicator, period]``: float64, NaN where nothing was reported (a
  blank is not a figure); duplicate rows of a cell summed;
* axes: units and indicators in the sort order of their text, periods in time order
  (they may mix frequencies: one unit's months, another's quarter);
* ``unit_type`` and ``parent`` of each unit: the first non-missing value over its rows.

Windows.  ``periods.window`` decides which periods lie in a window (all, up to P, or
inside P) and ``periods.nested`` how frequencies nest: where a unit gave both the
months and the quarter of one indicator, the months count and the quarter does not.
``figures``, ``totals`` and ``at_level`` apply that rule, so that no figure is ever
counted twice.  ``series(P)`` is the other view the checks need: the figures of P's
own frequency up to P, as a ``Cube`` (unit × indicator × period of one frequency).

Build a panel with ``Panel.build(frame)`` or ``as_panel(frame_or_panel)``; functions
of the package accept either a long frame or a panel, and ``checks.run_checks`` and the
assessment build it once and hand it to every reader.  A panel is read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _panel_build as build
from . import catalogue
from .dataset import require_columns
from .periods import months_in, nested, period_bounds, period_freq, window

_PER_YEAR = {"M": 12, "Q": 4, "H": 2, "Y": 1}
# Measured (not counted) units: no Poisson null, no digit tests.
MEASURED_UNITS = frozenset({"万元", "公里"})
LEVELS = {"month": "M", "quarter": "Q", "half": "H", "year": "Y"}
_FREQ_ORDER = "MQHY"


def is_count(code: str) -> bool:
    """True for an indicator counted in whole units (项, 次, 家 …), not 万元 or 公里."""
    return catalogue.indicator_unit(code) not in MEASURED_UNITS


@dataclass(frozen=True, eq=False)
class Panel:
    """Every figure of a long panel as ``values[unit, indicator, period]``.

    Attributes
    ----------
    units, indicators, periods : numpy.ndarray of str (object)
        The axes: units and indicator codes sorted by text, periods in time order.
    unit_type, parent : numpy.ndarray (object)
        Per unit, the first non-missing value over its rows; NaN where none.
    values : numpy.ndarray of float64, shape (units, indicators, periods)
        NaN where nothing was reported.
    approx : numpy.ndarray of bool or None
        Same shape: the figure was typed as approximate (``17万余``); None when no
        figure was.
    months : numpy.ndarray of uint8 or None
        Same shape, for a panel at quarter level (``at_level``): which months of the
        quarter the figure is made of, bit m for its (m+1)-th month (0b101: the first
        and the third; a quarterly figure covers all three); None where each figure
        is one period's own.  Two figures of a unit's quarter compare only when they
        cover the same months (``checks.consistency``).
    """

    units: np.ndarray
    unit_type: np.ndarray
    parent: np.ndarray
    indicators: np.ndarray
    periods: np.ndarray
    values: np.ndarray
    approx: np.ndarray | None = None
    _memo: dict = field(default_factory=dict, repr=False)
    months: np.ndarray | None = None

    def __post_init__(self):
        # read-only, so that views handed to one reader cannot change another's figures
        self.values.flags.writeable = False
        for a in (self.approx, self.months):
            if a is not None:
                a.flags.writeable = False

    # ----------------------------------------------------------------- building
    @classmethod
    def build(cls, frame: pd.DataFrame, indicators=None) -> "Panel":
        """The panel of a long frame (categorical or text key columns).

        Parameters
        ----------
        frame : pandas.DataFrame
            Columns unit, period, indicator, value; unit_type, parent and approx are
            used when present.  Rows with a missing unit, period or indicator, and
            blank values, are not figures.  Not modified.
        indicators : list of str, optional
            Hold only these indicators (a check that needs two of forty builds a
            panel of two, reading only their rows); the unit and period axes are then
            the units and periods with a row of them (an empty list: every unit and
            period, no figures).

        Returns
        -------
        Panel
        """
        require_columns(frame, ("unit", "period", "indicator", "value"), "panel")
        grid = build.grid_layout(frame) if indicators is None else None
        if grid is not None:  # laid out as ingest writes it: no scatter needed
            return cls._from_grid(frame, grid)
        # With ``indicators``, the rows of those indicators are picked first (by code)
        # and everything after reads only them: the axes are then the units and
        # periods that have a row of them.
        no_figures = indicators is not None and not len(indicators)  # the units only
        at = None if indicators is None or no_figures else build.rows_of(frame["indicator"],
                                                                         indicators)
        u = build.used_only(build.sorted_codes(frame["unit"], at))
        t = build.in_time_order(build.used_only(build.sorted_codes(frame["period"], at)))
        i = build.sorted_codes(frame["indicator"], at)
        value = frame["value"] if at is None else frame["value"].iloc[at]
        v = (value.to_numpy(dtype="float64", na_value=np.nan)
             if not isinstance(value.dtype, np.dtype) else value.to_numpy())
        keep = (u.codes >= 0) & (t.codes >= 0) & (i.codes >= 0) & ~np.isnan(v) & ~no_figures
        rows = None if keep.all() else np.flatnonzero(keep)
        ui, ti, ii, vi = ((u.codes, t.codes, i.codes, v) if rows is None else
                          (u.codes[rows], t.codes[rows], i.codes[rows], v[rows]))
        if at is not None:  # positions in the frame of the rows kept
            rows = at if rows is None else at[rows]
        i_used = np.bincount(ii, minlength=len(i.names)) > 0
        ind_names = i.names[i_used]
        ii = (np.cumsum(i_used) - 1).astype(np.int32)[ii] if not i_used.all() else ii
        n_u, n_i, n_t = len(u.names), len(ind_names), len(t.names)
        flat = build.flat_index(ui, ii, ti, n_i, n_t) if len(ui) else np.zeros(0, np.int64)
        values = build.dense_values(flat, vi, n_u * n_i * n_t).reshape(n_u, n_i, n_t)
        approx = None
        if "approx" in frame.columns:
            a = frame["approx"].fillna(False).to_numpy(dtype=bool)
            a = a if rows is None else a[rows]
            if a.any():
                approx = np.zeros(n_u * n_i * n_t, dtype=bool)
                approx[flat[a]] = True
                approx = approx.reshape(n_u, n_i, n_t)
        col = lambda c: frame[c] if c in frame.columns else None  # noqa: E731
        return cls(units=u.names,
                   unit_type=build.first_known(u.codes, col("unit_type"), n_u, at),
                   parent=build.first_known(u.codes, col("parent"), n_u, at),
                   indicators=ind_names, periods=t.names, values=values, approx=approx)

    @classmethod
    def _from_grid(cls, frame: pd.DataFrame, grid: "build.Grid") -> "Panel":
        """``build`` of a frame laid out as a grid (``_panel_build.grid_layout``): the
        same panel, the axes read from one block of rows and the values moved into
        place by a reshape, a permutation and a transpose."""
        u = build.used_only(build.sorted_codes(frame["unit"], build.grid_rows(grid, "units")))
        t = build.in_time_order(build.sorted_codes(frame["period"],
                                                   build.grid_rows(grid, "periods")))
        i = build.sorted_codes(frame["indicator"], build.grid_rows(grid, "indicators"))
        value = frame["value"]
        v = (value.to_numpy(dtype="float64", na_value=np.nan)
             if not isinstance(value.dtype, np.dtype) else value.to_numpy())
        values = build.grid_values(v, grid, u.codes, t.codes, i.codes)
        blank = np.isnan(v).any()
        held = ~np.isnan(values).all(axis=(0, 2)) if blank else np.ones(len(i.names), bool)
        approx = None
        if "approx" in frame.columns:
            a = frame["approx"].fillna(False).to_numpy(dtype=bool)
            if a.any():
                approx = build.grid_values(a, grid, u.codes, t.codes, i.codes, dtype=bool)
                if blank:
                    approx &= ~np.isnan(values)
                approx = approx[:, held] if approx.any() else None
        if not held.all():  # an indicator with no figure at all is not an axis entry
            values = values[:, held]
        col = lambda c: frame[c] if c in frame.columns else None  # noqa: E731
        n_u = len(u.names)
        return cls(units=u.names,
                   unit_type=build.first_known_grid(grid, u.codes, col("unit_type"), n_u),
                   parent=build.first_known_grid(grid, u.codes, col("parent"), n_u),
                   indicators=i.names[held], periods=t.names, values=values, approx=approx)

    # --------------------------------------------------------------------- axes
    @property
    def shape(self) -> tuple[int, int, int]:
        return self.values.shape

    def has(self, code: str) -> bool:
        """The panel holds at least one figure of indicator ``code``."""
        return code in set(self.indicators.tolist())

    def indicator_index(self, codes) -> np.ndarray:
        """Positions of ``codes`` on the indicator axis, -1 for codes not held."""
        where = {c: k for k, c in enumerate(self.indicators)}
        return np.array([where.get(c, -1) for c in codes], dtype=np.intp)

    def unit_index(self, names) -> np.ndarray:
        """Positions of unit ``names`` on the unit axis, -1 for units not held."""
        return pd.Index(self.units).get_indexer(np.asarray(names, dtype=object))

    def units_table(self) -> pd.DataFrame:
        """One row per unit, sorted by name: unit, unit_type, parent (str; missing
        where the unit has none)."""
        return pd.DataFrame({"unit": pd.Series(self.units, dtype="str"),
                             "unit_type": pd.Series(self.unit_type, dtype="str"),
                             "parent": pd.Series(self.parent, dtype="str")})

    def peer_type(self) -> np.ndarray:
        """Each unit's type as text, '' where it has none (never a peer group)."""
        return np.where(pd.isna(self.unit_type), "", self.unit_type).astype(object)

    # ------------------------------------------------------------------ windows
    def window(self, period=None, *, cumulative: bool = True) -> np.ndarray:
        """Positions on the period axis of the periods in the window
        (``periods.window``), in time order."""
        return np.flatnonzero(window(self.periods, period, cumulative=cumulative))

    def figures(self, indicators, period=None, *, cumulative: bool = True):
        """The figures that count in a window: ``(values, periods)`` with values of
        shape (units, len(indicators), periods in the window), NaN where nothing
        counts: not reported, an indicator the panel does not hold, or a coarser
        figure of a unit that gave the finer ones (``periods.nested``).  The values
        may be a read-only view of the panel's own array."""
        t = self.window(period, cumulative=cumulative)
        idx = self.indicator_index(list(indicators))
        if (idx >= 0).all() and len(idx) and (np.diff(idx) == 1).all():
            out = _take_axis(self.values[:, int(idx[0]):int(idx[-1]) + 1], t, 2)
        else:
            out = np.full((len(self.units), len(idx), len(t)), np.nan)
            held = idx >= 0
            if held.any() and len(t):
                out[:, held] = _take_axis(self.values[:, idx[held]], t, 2)
        finer = nested(self.periods[t])
        if finer.any():  # a coarse cell with a finer figure of its own inside: out
            shadowed = np.einsum("uit,tk->uik", (~np.isnan(out)).astype(np.uint8),
                                 finer.astype(np.uint8)) > 0
            out = np.where(shadowed, np.nan, out)
        return out, self.periods[t]

    def totals(self, indicators, period=None, *, cumulative: bool = True) -> np.ndarray:
        """Sum of each unit's figures of each indicator over the window, shape
        (units, len(indicators)); NaN where the unit has no figure there."""
        v, _ = self.figures(indicators, period, cumulative=cumulative)
        return np.where(np.isnan(v).all(axis=2), np.nan, np.nansum(v, axis=2))

    def periods_reported(self, period=None, *, cumulative: bool = True) -> np.ndarray:
        """Per unit, the number of periods in the window with a figure that counts,
        of any indicator."""
        v, _ = self.figures(self.indicators, period, cumulative=cumulative)
        return (~np.isnan(v)).any(axis=1).sum(axis=1)

    def series(self, period=None) -> "Cube":
        """The figures of ``period``'s frequency ending no later than it (every
        period when None), as a ``Cube``: what a check reads to follow a unit from
        period to period.  Units and indicators without a figure there are left out."""
        if period is None:
            t = np.arange(len(self.periods))
        else:
            end, freq = period_bounds(period)[1], period_freq(period)
            t = np.flatnonzero([period_freq(p) == freq and period_bounds(p)[1] <= end
                                for p in self.periods])
        key = ("series", period)
        if key not in self._memo:  # a Panel is read-only, so its views can be kept
            self._memo[key] = Cube.of(self, t, period)
        return self._memo[key]

    # ------------------------------------------------------------------- levels
    def at_level(self, level: str) -> "Panel":
        """The panel at ``level`` (``month``, ``quarter``, ``half`` or ``year``):
        monthly figures as they are, or each quarter's (half-year's, year's) total of
        the finer figures inside it (a coarser figure counts where the unit gave none
        of the finer ones inside it, ``periods.nested``).  Periods that cannot be
        expressed at the level (a quarter at month level, a year at quarter level)
        are left out.  ``months`` records which months of its period each figure
        covers (bit k: the period's k-th month)."""
        if level not in LEVELS:
            raise ValueError(f"level must be one of {sorted(LEVELS)}, not {level!r}")
        freq = np.array([period_freq(p) for p in self.periods], dtype=object)
        if level == "month":
            return self.take(periods=np.flatnonzero(freq == "M"))
        target = LEVELS[level]
        finer = _FREQ_ORDER[:_FREQ_ORDER.index(target) + 1]
        sub = self.take(periods=np.flatnonzero(np.isin(freq, list(finer))))
        quarters = sorted({containing(p, target) for p in sub.periods}, key=period_bounds)
        values = np.full(sub.shape[:2] + (len(quarters),), np.nan)
        months = np.zeros(values.shape, dtype=np.uint8 if target == "Q" else np.uint16)
        approx = np.zeros(values.shape, dtype=bool) if sub.approx is not None else None
        where = {p: j for j, p in enumerate(sub.periods)}
        for k, q in enumerate(quarters):
            v, inside = sub.figures(sub.indicators, q, cumulative=False)
            counts = ~np.isnan(v)
            values[:, :, k] = np.where(counts.any(axis=2), np.nansum(v, axis=2), np.nan)
            first = period_bounds(q)[0]
            for j, p in enumerate(inside):  # a coarser figure covers all its months
                offset = _months_between(first, period_bounds(p)[0])
                own = np.uint16((1 << len(months_in(p))) - 1)
                if period_freq(p) != "M" and sub.months is not None:
                    own = sub.months[:, :, where[p]].astype(np.uint16)
                bits = (own << np.uint16(offset)).astype(months.dtype)
                months[:, :, k] |= np.where(counts[:, :, j], bits, months.dtype.type(0))
            if approx is not None:
                t = sub.window(q, cumulative=False)
                approx[:, :, k] = sub.approx[:, :, t].any(axis=2)
        return Panel(units=self.units, unit_type=self.unit_type, parent=self.parent,
                     indicators=self.indicators, periods=np.asarray(quarters, dtype=object),
                     values=values, approx=approx, months=months)

    def look_back(self, period: str, months: int | None) -> "Panel":
        """The panel of the ``months`` months ending with ``period``'s last month:
        the periods (of any frequency) lying inside that span, the later ones left
        out too.  ``months`` None: every period up to ``period``'s end (the campaign
        to date).  What a period is judged on, so that two periods judged on the same
        span are comparable (``assessment.assess_dataset``'s ``lookback``)."""
        first, last = look_back_span(period, months)
        t = np.flatnonzero([(first is None or period_bounds(p)[0] >= first)
                            and period_bounds(p)[1] <= last for p in self.periods])
        return self.take(periods=t)

    def take(self, indicators: np.ndarray | None = None,
             periods: np.ndarray | None = None) -> "Panel":
        """The panel at some positions of the indicator and period axes (None: all),
        in the order given; every unit is kept."""
        i = slice(None) if indicators is None else np.asarray(indicators, dtype=np.intp)
        t = slice(None) if periods is None else np.asarray(periods, dtype=np.intp)

        def cut(a):
            return None if a is None else a[:, i][:, :, t]
        return Panel(units=self.units, unit_type=self.unit_type, parent=self.parent,
                     indicators=self.indicators[i], periods=self.periods[t],
                     values=cut(self.values), approx=cut(self.approx), months=cut(self.months))

    # ------------------------------------------------------------------ a frame
    def to_frame(self) -> pd.DataFrame:
        """The figures as a long frame: unit, unit_type, parent, period, indicator,
        value, approx, one row per figure (units, indicators, periods in axis order)."""
        u, i, t = np.nonzero(~np.isnan(self.values))
        return pd.DataFrame({
            "unit": pd.Series(self.units[u], dtype="str"),
            "unit_type": pd.Series(self.unit_type[u], dtype="str"),
            "parent": pd.Series(self.parent[u], dtype="str"),
            "period": pd.Series(self.periods[t], dtype="str"),
            "indicator": pd.Series(self.indicators[i], dtype="str"),
            "value": self.values[u, i, t],
            "approx": (self.approx[u, i, t] if self.approx is not None
                       else np.zeros(len(u), dtype=bool)),
        })


def containing(period: str, freq: str) -> str:
    """The period of frequency ``freq`` (``Q``, ``H``, ``Y``) that ``period`` lies in."""
    start = period_bounds(period)[0]
    if freq == "Q":
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if freq == "H":
        return f"{start.year}H{1 if start.month <= 6 else 2}"
    if freq == "Y":
        return f"{start.year}"
    raise ValueError(f"not a coarse frequency: {freq!r}")


def _months_between(a, b) -> int:
    """Whole months from the month of ``a`` to the month of ``b``."""
    return (b.year - a.year) * 12 + b.month - a.month


def look_back_span(period: str, months: int | None):
    """(first day, last day) of the ``months`` months ending with ``period``'s last
    month; first day None when ``months`` is None (no limit).  ValueError for a
    look-back shorter than the period itself (a quarter judged on two months)."""
    last = period_bounds(period)[1]
    if months is None:
        return None, last
    months = int(months)
    if months < len(months_in(period)):
        raise ValueError(f"lookback of {months} months is shorter than the period {period} "
                         f"({len(months_in(period))} months)")
    first = (pd.Period(last, freq="M") - (months - 1)).start_time.normalize()
    return first, last


def as_panel(data, indicators=None) -> Panel:
    """``data`` as a ``Panel``: a panel is returned as it is; a long frame (or a
    ``Dataset``, whose ``panel`` is used) is built, holding only ``indicators`` when
    given.  The frame is not modified."""
    if isinstance(data, Panel):
        return data
    if hasattr(data, "panel") and not isinstance(data, pd.DataFrame):
        data = data.panel
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"expected a Panel, a Dataset or a long DataFrame, "
                        f"not {type(data).__name__}")
    return Panel.build(data, indicators)


@dataclass(frozen=True, eq=False)
class Cube:
    """The figures of one frequency up to a period (``Panel.series``): what the
    checks that follow units from period to period read.

    Attributes are those of ``Panel`` for the units and indicators with a figure
    here, with ``unit_type`` and ``parent`` as text ('' where missing, never a group
    of its own), ``period_freq`` (M/Q/H/Y per period), ``period_pos`` (position on
    the frequency's time line: year × periods a year + index) and ``period`` (the P
    it was cut for, or None) and ``months`` (as ``Panel.months``, or None)."""

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
    _memo: dict = field(default_factory=dict, repr=False)
    months: np.ndarray | None = None

    @classmethod
    def of(cls, panel: Panel, t: np.ndarray, period) -> "Cube":
        v = _take_axis(panel.values, t, 2)
        has = ~np.isnan(v) if v.size else np.zeros(v.shape, dtype=bool)
        u = np.flatnonzero(has.any(axis=(1, 2)))
        i = np.flatnonzero(has.any(axis=(0, 2)))
        if len(u) < v.shape[0]:
            v = v[u]
        if len(i) < v.shape[1]:
            v = v[:, i]
        approx = None
        if panel.approx is not None:
            approx = _take_axis(panel.approx, t, 2)[u][:, i]
            approx = approx if approx.any() else None
        months = None if panel.months is None else _take_axis(panel.months, t, 2)[u][:, i]
        text = lambda a: np.where(pd.isna(a[u]), "", a[u]).astype(object)  # noqa: E731
        periods = panel.periods[t]
        return cls(units=panel.units[u], unit_type=text(panel.unit_type),
                   parent=text(panel.parent), indicators=panel.indicators[i],
                   periods=periods,
                   period_freq=np.array([period_freq(p) for p in periods], dtype=object),
                   period_pos=np.array([_position(p) for p in periods], dtype=np.int64),
                   values=v, approx=approx, period=period, months=months)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.values.shape

    @property
    def reported(self) -> np.ndarray:
        """bool [unit, indicator, period]: a figure was reported."""
        if "reported" not in self._memo:
            self._memo["reported"] = ~np.isnan(self.values)
        return self._memo["reported"]

    def indicator_index(self, codes) -> np.ndarray:
        """Positions of the indicator ``codes`` held here (in the order given;
        absent ones skipped)."""
        where = {c: k for k, c in enumerate(self.indicators)}
        return np.array([where[c] for c in codes if c in where], dtype=np.intp)

    def count_indicators(self) -> np.ndarray:
        """bool per indicator: counted in whole units, not 万元 or 公里."""
        return np.array([is_count(c) for c in self.indicators], dtype=bool)

    def unit_groups(self, cols=("unit_type",)) -> tuple[np.ndarray, pd.DataFrame]:
        """A group id per unit for the combination of ``cols`` (unit_type, parent),
        numbered in the sort order of the keys, and the keys of each group (row g
        for group g)."""
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


def _take_axis(a: np.ndarray, t: np.ndarray, axis: int) -> np.ndarray:
    """``a`` at positions ``t`` of ``axis``: a view when they are one contiguous
    run (a panel of one frequency), else a copy."""
    if len(t) and (np.diff(t) == 1).all():
        return a[(slice(None),) * axis + (slice(int(t[0]), int(t[-1]) + 1),)]
    return np.take(a, t, axis=axis)


def _position(p: str) -> int:
    f = period_freq(p)
    within = {"M": lambda s: int(s[5:7]) - 1, "Q": lambda s: int(s[-1]) - 1,
              "H": lambda s: int(s[-1]) - 1, "Y": lambda s: 0}[f](p)
    return int(p[:4]) * _PER_YEAR[f] + within
