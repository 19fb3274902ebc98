"""累计 (cumulative) figures → in-period figures, per unit and indicator.

Rows whose 口径 is 累计 give a running total; the panel holds in-period figures
only, so each 累计 figure becomes its increase over the highest level before it.
"""

from __future__ import annotations

import pandas as pd

from ..periods import period_bounds, period_freq


def _in_period(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.Series, pd.Series]:
    """(in-period value, level before the cell) for cells sorted in time order within
    ``keys``: a 累计 figure sets the level, a 当期 figure adds to it."""
    cum = frame["basis"].eq("cumulative")
    seg = cum.groupby([frame[k] for k in keys]).cumsum()
    base = frame["value"].where(cum)
    seg_keys = [frame[k] for k in keys] + [seg]
    base = base.groupby(seg_keys).transform("first").fillna(0.0)
    level = base + frame["value"].where(~cum, 0.0).groupby(seg_keys).cumsum()
    prev = (level.groupby([frame[k] for k in keys]).shift(1)
            .groupby([frame[k] for k in keys]).cummax().fillna(0.0))
    return frame["value"].where(~cum, frame["value"] - prev), prev


def cumulative_to_period(cells: pd.DataFrame) -> pd.DataFrame:
    """In-period values from cells with basis ``period`` (当期) or ``cumulative`` (累计).

    Per unit, indicator and period frequency, in time order, the *level* is the running
    total: a 累计 figure sets it, a 当期 figure adds to it.  A 累计 cell's in-period
    value is its figure minus the highest level before it (0 before the first period,
    so the first period of a cumulative series is its own in-period value); a value
    below that level is rejected (its in-period figure would be negative) and does not
    lower the level.  A series that falls at a calendar-year boundary is taken as
    year-to-date (1-N月累计) and restarts each year.  A gap in a cumulative series puts
    the missing periods into the next one.

    Input columns: unit, indicator, period, basis, value (+ any others, kept).
    Returns the cells with ``value`` in-period, ``error`` set (value NaN) where a
    cumulative figure decreased, and ``first_cumulative``: True for the first 累计
    figure of a series (of its year, for a year-to-date series) whose period does
    not begin its year, so that its "in-period" figure is really a total since an
    earlier start (1—6月累计 read as June) that the report must say so.  Does not
    modify ``cells``.
    """
    for c in ("unit", "indicator", "period", "basis", "value"):
        if c not in cells.columns:
            raise ValueError(f"cumulative_to_period: missing column {c!r}")
    out = cells.copy()
    out["first_cumulative"] = False
    is_cum = out["basis"].eq("cumulative")
    if not is_cum.any():
        return out
    starts = {p: period_bounds(p)[0] for p in out["period"].unique()}
    out["_t"] = out["period"].map(starts)
    out["_year"] = out["_t"].dt.year
    out["_freq"] = out["period"].map(period_freq)
    g = ["unit", "indicator", "_freq"]
    out = out.sort_values(g + ["_t"], kind="stable")
    has_cum = out.groupby(g)["basis"].transform(lambda b: b.eq("cumulative").any())
    work = out[has_cum].copy()

    val, prev = _in_period(work, g)
    # year-to-date series: the first 累计 of a later year falls below the carried level
    cum = work["basis"].eq("cumulative")
    first_cum_of_year = cum & ~cum.groupby([work[k] for k in g + ["_year"]]).shift(
        fill_value=False).groupby([work[k] for k in g + ["_year"]]).cummax()
    later_year = work["_year"] > work.groupby(g)["_year"].transform("min")
    ytd_group = (first_cum_of_year & later_year & (val < 0)).groupby(
        [work[k] for k in g]).transform("any")
    if ytd_group.any():
        v2, p2 = _in_period(work, g + ["_year"])
        val, prev = val.where(~ytd_group, v2), prev.where(~ytd_group, p2)
    # the first figure of a series (a year-to-date series restarts each year)
    pos = work.groupby([work[k] for k in g]).cumcount()
    pos_year = work.groupby([work[k] for k in g + ["_year"]]).cumcount()
    first = cum & ((pos == 0) | (ytd_group & (pos_year == 0)))
    begins_year = work["_t"].dt.month.eq(1)
    work["first_cumulative"] = (first & ~begins_year).to_numpy()
    bad = cum & (val < 0)
    work["value"] = val.where(~bad)
    if bad.any():
        work["error"] = work["error"].where(~bad, "累计数下降 (cumulative figure fell): 上期累计 "
                                            + prev[bad].map(_fmt) + "，本期累计 "
                                            + out.loc[bad[bad].index, "value"].map(_fmt)
                                            + " (in-period figure would be negative)")
    out.loc[work.index, ["value", "error", "first_cumulative"]] = \
        work[["value", "error", "first_cumulative"]]
    return out.drop(columns=["_t", "_year", "_freq"]).sort_index()


def _fmt(x) -> str:
    return f"{x:g}"
