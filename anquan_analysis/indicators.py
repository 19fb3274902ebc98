"""Indicators derived from the figures: per unit and period.  Every function takes a
long panel (``dataset.PANEL_COLUMNS``) or a ``panel.Panel`` built from one, reads it
through the panel, and returns a new DataFrame; no input is modified.

Figures are *in-period*.  Functions that take ``cumulative=True`` sum each unit's
figures from its first period up to each period ("截至…累计", campaign to date), as
the bulletins do; windows and the nesting of months in quarters are the panel's
(``periods.window``, ``periods.nested``): nothing is counted twice.

==================== =============================================================
units_of             one row per unit: unit, unit_type, parent
wide_panel           unit × period rows, one column per indicator (in-period or to date)
in_window            which periods of a column lie in a window
window_totals        one row per unit: totals over a window (all, ≤P, or P)
window_sums          the same for the units with a figure there, as the checks use it
exposure_by_unit     enterprises supervised per unit (the rows with sector '')
exposure_rates       counts per 100 enterprises supervised
rectification_rates  rectified / found, overall and by source (dept, enterprise)
self_report_share    enterprise self-reported share of major hazards found
persons_per_session  persons / sessions for each training or publicity pair
period_changes       change on the previous period and on the same period last year
to_cumulative        in-period → cumulative (累计) long panel
to_in_period         cumulative → in-period long panel
rank_within_type     rank, type mean and "below the mean" per unit within its type
action_totals        sum per catalogue action and indicator, with the previous period
sector_shares        share of each sector, HHI and zero sectors per group (ledger counts)
sector_profile       one row per group: total, HHI, top-two share, zero sectors
department_levels    city-level vs county-level departments
==================== =============================================================

"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .catalogue import INDICATORS, SECTORS
from .dataset import require_columns as _require
from .panel import Panel, as_panel
from .periods import period_bounds, same_period_last_year, shift_period, sort_periods, window

UNIT_KEYS = ["unit", "unit_type", "parent"]
# Training/publicity pairs whose persons per session the bulletins quote (285场21248人次).
SESSION_PAIRS = [
    (c, c.replace("_sessions", "_persons"))
    for c in INDICATORS["code"] if c.endswith("_sessions")
]
_FIGURES = ["unit", "period", "indicator", "value"]


def _panel(data, what: str, indicators=None, needs=_FIGURES) -> Panel:
    """``data`` read as a panel; a frame is validated first (a ValueError naming the
    missing column and the function)."""
    if isinstance(data, pd.DataFrame):
        _require(data, needs, what)
    return as_panel(data, indicators)


def units_of(panel) -> pd.DataFrame:
    """One row per unit, sorted by name: unit, unit_type, parent (the first
    non-missing of each over the unit's rows)."""
    return _panel(panel, "units_of", indicators=[]).units_table()


def wide_panel(panel, indicators=None, *, cumulative: bool = False) -> pd.DataFrame:
    """One row per unit and period (every unit × every period of the panel, sorted by
    unit then period), one column per indicator (NaN where the unit gave no figure).

    Parameters
    ----------
    panel : DataFrame or Panel
    indicators : list of str, optional
        The columns, in this order (an indicator the panel lacks is a column of NaN);
        default every indicator held.
    cumulative : bool
        The sum from the unit's first period up to each period (NaN only before its
        first figure of that indicator); a quarterly figure of a unit that gave the
        quarter's months is not added again (``periods.nested``).

    Returns
    -------
    DataFrame with columns unit, unit_type, parent, period, then the indicators.
    """
    p = _panel(panel, "wide_panel")  # every unit and period, not only those with a figure
    codes = list(p.indicators) if indicators is None else list(indicators)
    if cumulative:
        v, _ = p.figures(codes, None)
        seen = np.maximum.accumulate(~np.isnan(v), axis=2)
        v = np.where(seen, np.cumsum(np.nan_to_num(v), axis=2), np.nan)
    else:
        idx = p.indicator_index(codes)
        v = np.full((len(p.units), len(codes), len(p.periods)), np.nan)
        v[:, idx >= 0] = p.values[:, idx[idx >= 0]]
    n_u, n_t = len(p.units), len(p.periods)
    keys = p.units_table().iloc[np.repeat(np.arange(n_u), n_t)].reset_index(drop=True)
    keys["period"] = pd.Series(np.tile(p.periods, n_u), dtype="str")
    cols = pd.DataFrame(v.transpose(0, 2, 1).reshape(n_u * n_t, len(codes)), columns=codes)
    return pd.concat([keys, cols], axis=1)


def in_window(periods: pd.Series, period=None, *, cumulative: bool = True) -> pd.Series:
    """Boolean mask of a column of ``periods`` inside the window (``periods.window``):
    all periods when ``period`` is None; the periods ending on or before ``period``
    when ``cumulative``; else the periods lying inside ``period``."""
    codes, names = pd.factorize(periods)
    ok = np.append(window([str(n) for n in names], period, cumulative=cumulative), False)
    return pd.Series(ok[codes], index=periods.index, name=periods.name)


def window_totals(panel, indicators, *, period=None, cumulative: bool = True) -> pd.DataFrame:
    """One row per unit of the panel: unit, unit_type, parent, the total of each
    indicator over the window (``in_window``; NaN where the unit gave no figure of it
    there) and ``n_periods``, the number of periods in the window in which the unit
    gave a figure of any indicator."""
    indicators = [indicators] if isinstance(indicators, str) else list(indicators)
    p = _panel(panel, "window_totals")
    sums = p.totals(indicators, period, cumulative=cumulative)
    out = pd.concat([p.units_table(), pd.DataFrame(sums, columns=indicators)], axis=1)
    return out.assign(n_periods=p.periods_reported(period, cumulative=cumulative).astype("int64"))


def window_sums(panel, indicators, *, period=None, cumulative: bool = True) -> pd.DataFrame:
    """``window_totals`` for the units with a figure of any of ``indicators`` in the
    window (the units a check tests), without parent and n_periods: columns unit,
    unit_type, then one per indicator."""
    indicators = [indicators] if isinstance(indicators, str) else list(indicators)
    p = _panel(panel, "window_sums", indicators,
               needs=["unit", "unit_type", "period", "indicator", "value"])
    sums = p.totals(indicators, period, cumulative=cumulative)
    has = ~np.isnan(sums).all(axis=1)
    out = p.units_table()[["unit", "unit_type"]].loc[has].reset_index(drop=True)
    return pd.concat([out, pd.DataFrame(sums[has], columns=indicators)], axis=1)


def exposure_by_unit(exposure: pd.DataFrame | None) -> pd.DataFrame:
    """Enterprises supervised per unit: the unit's row with sector '' (all sectors);
    a unit with only per-sector rows gets their sum.  Columns unit, enterprises."""
    if exposure is None or len(exposure) == 0:
        return pd.DataFrame({"unit": pd.Series(dtype="str"),
                             "enterprises": pd.Series(dtype="float64")})
    _require(exposure, ["unit", "enterprises"], "exposure_by_unit")
    sector = (exposure["sector"].astype("object").where(exposure["sector"].notna(), "")
              .astype("str") if "sector" in exposure else pd.Series("", index=exposure.index))
    enterprises = pd.to_numeric(exposure["enterprises"], errors="coerce")
    blank = (sector == "").to_numpy()
    unit = exposure["unit"].astype("str")
    if blank.all() and not unit.duplicated().any():  # one row per unit: nothing to sum
        out = pd.DataFrame({"unit": unit.to_numpy(), "enterprises": enterprises.to_numpy()})
        return out.sort_values("unit", kind="stable", ignore_index=True)
    df = pd.DataFrame({"unit": unit, "enterprises": enterprises})
    total = df.loc[blank].groupby("unit")["enterprises"].sum(min_count=1)
    by_sector = df.loc[~blank].groupby("unit")["enterprises"].sum(min_count=1)
    out = total.combine_first(by_sector).rename("enterprises").reset_index()
    return out


def exposure_rates(panel: pd.DataFrame, exposure: pd.DataFrame, indicators=("major_hazards_found",),
                   *, per: float = 100.0, cumulative: bool = False) -> pd.DataFrame:
    """Counts per ``per`` enterprises supervised, per unit and period: columns unit,
    unit_type, parent, period, enterprises, and for each indicator its value and
    ``<indicator>_per100`` (NaN without exposure or with 0 enterprises)."""
    indicators = list(indicators)
    w = wide_panel(panel, indicators, cumulative=cumulative)
    w = w.merge(exposure_by_unit(exposure), on="unit", how="left")
    denom = w["enterprises"].where(w["enterprises"] > 0)
    rates = {f"{c}_per{int(per) if float(per).is_integer() else per}": w[c] / denom * per
             for c in indicators}
    return w.assign(**rates)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return num / den.where(den > 0)


def rectification_rates(panel: pd.DataFrame, *, cumulative: bool = True) -> pd.DataFrame:
    """Rectified ÷ found per unit and period (cumulative to date by default, because
    a hazard found in one month is often rectified in a later one).  Columns unit,
    unit_type, parent, period, the counts used, and ``major_rate``, ``major_dept_rate``,
    ``major_enterprise_rate``, ``general_rate`` (NaN where nothing was found)."""
    codes = ["major_hazards_found", "major_hazards_rectified", "major_hazards_found_dept",
             "major_hazards_rectified_dept", "major_hazards_found_enterprise",
             "major_hazards_rectified_enterprise", "general_hazards_found",
             "general_hazards_rectified"]
    w = wide_panel(panel, codes, cumulative=cumulative)
    return w.assign(
        major_rate=_ratio(w["major_hazards_rectified"], w["major_hazards_found"]),
        major_dept_rate=_ratio(w["major_hazards_rectified_dept"], w["major_hazards_found_dept"]),
        major_enterprise_rate=_ratio(w["major_hazards_rectified_enterprise"],
                                     w["major_hazards_found_enterprise"]),
        general_rate=_ratio(w["general_hazards_rectified"], w["general_hazards_found"]),
    )


def self_report_share(panel: pd.DataFrame, *, cumulative: bool = True) -> pd.DataFrame:
    """Share of major hazards that enterprises found themselves (企业自查发现), per unit
    and period: enterprise ÷ (dept + enterprise), or ÷ major_hazards_found where a
    unit gives no dept figure.  Columns unit, unit_type, parent, period, found_dept,
    found_enterprise, found (the denominator), share.  桂林 2024H1: 7 ÷ 79 = 8.86%."""
    codes = ["major_hazards_found_dept", "major_hazards_found_enterprise", "major_hazards_found"]
    w = wide_panel(panel, codes, cumulative=cumulative)
    by_source = w["major_hazards_found_dept"] + w["major_hazards_found_enterprise"]
    found = by_source.fillna(w["major_hazards_found"])
    out = w[UNIT_KEYS + ["period"]].assign(
        found_dept=w["major_hazards_found_dept"],
        found_enterprise=w["major_hazards_found_enterprise"],
        found=found,
        share=_ratio(w["major_hazards_found_enterprise"], found),
    )
    return out


def persons_per_session(panel: pd.DataFrame, *, cumulative: bool = False) -> pd.DataFrame:
    """Persons per session for every ``*_sessions``/``*_persons`` pair in the panel,
    per unit and period: columns unit, unit_type, parent, period, and
    ``<stem>_per_session`` (NaN where sessions are 0 or missing)."""
    held = _panel(panel, "persons_per_session", indicators=[c for pair in SESSION_PAIRS for c in pair])
    pairs = [(s, p) for s, p in SESSION_PAIRS if held.has(s) and held.has(p)]
    codes = [c for pair in pairs for c in pair]
    w = wide_panel(held, codes, cumulative=cumulative)
    ratios = {s.replace("_sessions", "_per_session"): _ratio(w[p], w[s]) for s, p in pairs}
    return w[UNIT_KEYS + ["period"]].assign(**ratios)


def period_changes(panel, indicators=None) -> pd.DataFrame:
    """Change on the previous period (环比) and on the same period last year (同比),
    per unit, period and indicator reported.  Columns unit, unit_type, parent, period,
    indicator, value, previous, change, pct_change, last_year, yoy_change, yoy_pct
    (percentages as fractions; NaN where the earlier figure is missing or 0).  Sorted
    by unit, indicator and period."""
    p = _panel(panel, "period_changes", indicators)
    codes = list(p.indicators) if indicators is None else [c for c in indicators if p.has(c)]
    idx = p.indicator_index(codes)
    v = p.values[:, idx]
    where = {q: k for k, q in enumerate(p.periods)}
    prev_t = np.array([where.get(shift_period(q, -1), -1) for q in p.periods] + [-1])
    ly_t = np.array([where.get(same_period_last_year(q), -1) for q in p.periods] + [-1])
    u, i, t = np.nonzero(~np.isnan(v))

    def earlier(at):
        got = v[u, i, np.maximum(at[t], 0)]
        return np.where(at[t] >= 0, got, np.nan)

    value, previous, last_year = v[u, i, t], earlier(prev_t), earlier(ly_t)
    units = p.units_table().iloc[u].reset_index(drop=True)
    out = units.assign(period=pd.Series(p.periods[t], dtype="str"),
                       indicator=pd.Series(np.asarray(codes, dtype=object)[i], dtype="str"),
                       value=value, previous=previous, last_year=last_year)
    out = out.assign(change=out["value"] - out["previous"],
                     pct_change=_ratio(out["value"] - out["previous"], out["previous"]),
                     yoy_change=out["value"] - out["last_year"],
                     yoy_pct=_ratio(out["value"] - out["last_year"], out["last_year"]))
    order = np.lexsort((t, out["indicator"].to_numpy(dtype=object), u))
    return out.iloc[order][UNIT_KEYS + ["period", "indicator", "value", "previous", "change",
                                        "pct_change", "last_year", "yoy_change", "yoy_pct"]
                           ].reset_index(drop=True)


def _period_order(periods: pd.Series) -> dict[str, int]:
    return {p: i for i, p in enumerate(sort_periods(periods.dropna().unique()))}


def _group_keys(panel: pd.DataFrame, reset: str | None) -> list:
    keys = [panel["unit"], panel["indicator"]]
    if reset == "year":
        keys.append(panel["period"].str[:4])
    elif reset is not None:
        raise ValueError(f"reset must be None or 'year', got {reset!r}")
    return keys


def to_cumulative(panel: pd.DataFrame, *, reset: str | None = None) -> pd.DataFrame:
    """In-period long panel → cumulative (累计) long panel: each value becomes the sum
    of the unit's values of that indicator up to and including its period, from the
    first period (``reset=None``, campaign to date) or from January (``reset='year'``).
    Same rows and columns as the input, sorted by unit, indicator and period."""
    _require(panel, ["unit", "period", "indicator", "value"], "to_cumulative")
    order = panel["period"].map(_period_order(panel["period"]))
    df = panel.assign(_o=order).sort_values(["unit", "indicator", "_o"], kind="stable")
    df = df.assign(value=df["value"].groupby(_group_keys(df, reset)).cumsum())
    return df.drop(columns="_o").reset_index(drop=True)


def to_in_period(panel: pd.DataFrame, *, reset: str | None = None) -> pd.DataFrame:
    """Cumulative long panel → in-period values (the inverse of ``to_cumulative``):
    each value minus the unit's previous value of that indicator (the first period,
    or January with ``reset='year'``, keeps its value).  A decrease gives a negative
    value, left for the consistency check to report."""
    _require(panel, ["unit", "period", "indicator", "value"], "to_in_period")
    order = panel["period"].map(_period_order(panel["period"]))
    df = panel.assign(_o=order).sort_values(["unit", "indicator", "_o"], kind="stable")
    prev = df["value"].groupby(_group_keys(df, reset)).shift(1)
    df = df.assign(value=df["value"] - prev.fillna(0.0))
    return df.drop(columns="_o").reset_index(drop=True)


def rank_within_type(panel, indicator: str = "major_hazards_found", *,
                     period=None, cumulative: bool = True) -> pd.DataFrame:
    """Each unit's total over the window (see ``in_window``) ranked within its unit
    type (1 = highest; ties share the best rank).  Columns unit, unit_type, parent,
    value, rank, n_in_type, type_mean, below_mean, and overall_rank, overall_mean,
    below_overall_mean (the bulletins compare with the mean of all units: 巴南 156
    hazards over 50 units = 3.12, 37 units below it).  A unit that reported nothing
    counts as 0."""
    t = window_totals(panel, [indicator], period=period, cumulative=cumulative)
    value = t[indicator].fillna(0.0)
    t = t.drop(columns=[indicator, "n_periods"]).assign(value=value)
    types = t["unit_type"].fillna("")
    grp = t.groupby(types)["value"]
    return t.assign(
        rank=grp.rank(ascending=False, method="min").astype("int64"),
        n_in_type=grp.transform("size").astype("int64"),
        type_mean=grp.transform("mean"),
        below_mean=t["value"] < grp.transform("mean"),
        overall_rank=t["value"].rank(ascending=False, method="min").astype("int64"),
        overall_mean=t["value"].mean(),
        below_overall_mean=t["value"] < t["value"].mean(),
    ).sort_values(["overall_rank", "unit"]).reset_index(drop=True)


def action_totals(panel, period=None) -> pd.DataFrame:
    """Sum over all units per catalogue action and indicator, for ``period`` (default:
    the last period of the panel) and the period before it.

    Returns
    -------
    DataFrame, catalogue order, one row per indicator the panel holds: action,
    action_zh, indicator, name_zh, unit (measurement unit), period, value (NaN when
    the period has no figure of it), previous, change, cumulative (every figure up to
    ``period``, each counted once).
    """
    p = _panel(panel, "action_totals", needs=["period", "indicator", "value"])
    if period is None:
        if not len(p.periods):
            raise ValueError("action_totals: the panel has no periods")
        period = p.periods[-1]
    codes = list(p.indicators)

    def in_period(q):
        """Per indicator: the sum over units of its figures in period ``q`` itself."""
        t = np.flatnonzero(p.periods == q)
        if not len(t):
            return np.full(len(codes), np.nan)
        v = p.values[:, :, t[0]]
        return np.where(np.isnan(v).all(axis=0), np.nan, np.nansum(v, axis=0))

    cur, prev = in_period(period), in_period(shift_period(period, -1))
    cum = p.totals(codes, period, cumulative=True)
    cum = np.where(np.isnan(cum).all(axis=0), np.nan, np.nansum(cum, axis=0))
    cat = INDICATORS[["code", "name_zh", "unit", "action", "action_zh"]].rename(
        columns={"code": "indicator"})
    cat = cat.loc[cat["indicator"].isin(codes)]
    at = cat["indicator"].map({c: k for k, c in enumerate(codes)}).to_numpy()
    out = cat.assign(period=period, value=cur[at], previous=prev[at], cumulative=cum[at])
    out = out.assign(change=out["value"] - out["previous"])
    return out[["action", "action_zh", "indicator", "name_zh", "unit", "period", "value",
                "previous", "change", "cumulative"]].reset_index(drop=True)


def sector_shares(counts: pd.DataFrame, *, value: str = "found", by=(),
                  sectors=None) -> pd.DataFrame:
    """Share of each sector in a group's total: one row per group × sector, including
    sectors with 0 (all catalogue sectors, or ``sectors``).  ``counts`` has a
    ``sector`` column and ``value`` (e.g. ``dataset.ledger_counts``); blank sectors
    are left out.  Columns [by…], sector, count, share, zero, hhi (Herfindahl index
    Σ share² of the group, 1 = everything in one sector), n_zero."""
    by = [by] if isinstance(by, str) else list(by)
    _require(counts, by + ["sector", value], "sector_shares")
    df = counts.loc[counts["sector"].fillna("").astype(str) != ""].assign(_g=0)
    keys = by + ["_g"]  # a constant key so that "no grouping" is one group
    names = list(SECTORS["sector"]) if sectors is None else list(sectors)
    names += sorted(set(df["sector"]) - set(names))
    grid = (df[keys].drop_duplicates() if len(df) else pd.DataFrame({"_g": [0]}, columns=keys))
    grid = grid.merge(pd.DataFrame({"sector": names}), how="cross")
    g = df.groupby(keys + ["sector"])[value].sum().rename("count").reset_index()
    out = grid.merge(g, on=keys + ["sector"], how="left")
    out["count"] = out["count"].fillna(0.0)
    total = out.groupby(keys)["count"].transform("sum")
    out["share"] = out["count"] / total.where(total > 0)
    out["zero"] = out["count"] == 0
    out["hhi"] = (out["share"] ** 2).groupby([out[k] for k in keys]).transform("sum")
    out["n_zero"] = out["zero"].groupby([out[k] for k in keys]).transform("sum").astype("int64")
    return out.drop(columns="_g").reset_index(drop=True)


def sector_profile(counts: pd.DataFrame, *, value: str = "found", by=(),
                   sectors=None) -> pd.DataFrame:
    """One row per group (one row overall when ``by`` is empty): total, hhi,
    top_sectors (the two largest with hazards, '、'-joined), top2_share, zero_sectors (the
    sectors with 0, '、'-joined, in catalogue order), n_zero.  巴南 2023: 建筑施工 52 +
    工贸 72 of 155 = 80.0%."""
    by = [by] if isinstance(by, str) else list(by)
    s = sector_shares(counts, value=value, by=by, sectors=sectors).assign(_g=0)
    keys = by + ["_g"]
    s = s.assign(_pos=s.groupby(keys).cumcount())
    top = (s.loc[s["count"] > 0]
           .sort_values(keys + ["count", "_pos"], ascending=[True] * len(keys) + [False, True])
           .groupby(keys).head(2))
    out = s.groupby(keys).agg(total=("count", "sum"), hhi=("hhi", "first"),
                              n_zero=("n_zero", "first"))
    out["top_sectors"] = top.groupby(keys)["sector"].agg("、".join)
    out["top2_share"] = top.groupby(keys)["share"].sum(min_count=1)
    out["zero_sectors"] = s.loc[s["zero"]].groupby(keys)["sector"].agg("、".join)
    out["zero_sectors"] = out["zero_sectors"].fillna("")
    out = out.reset_index().drop(columns="_g")
    return out[by + ["total", "hhi", "top_sectors", "top2_share", "zero_sectors", "n_zero"]]


# A department's level: 市… is city level; 区…/县… is county (district) level.
_CITY = re.compile(r"^市")
_COUNTY = re.compile(r"^[区县]|^[\u4e00-\u9fff]{1,5}[县区](?!委$)")


def department_levels(panel: pd.DataFrame) -> pd.DataFrame:
    """City-level (市级) versus county-level (县级) departments.  Rule, first that
    applies: a parent that is itself a county unit (unit_type ``county``) or whose
    name ends in 县/区 → county; a name starting with 市 → city; a name starting
    with 区 or 县, or a place name ending in 县/区 (灵川县应急局) → county; a
    department whose parent starts with 市 or ends in 市 → city; otherwise unknown
    (missing).  Columns unit, unit_type, parent, level (``city``/``county``), level_zh."""
    u = units_of(panel)
    dept = u.loc[u["unit_type"] == "department"].copy()
    counties = set(u.loc[u["unit_type"] == "county", "unit"])
    parent = dept["parent"].fillna("").astype(str)
    name = dept["unit"].astype(str)
    county_parent = parent.isin(counties) | parent.str.contains(r"[县区]$", regex=True)
    city_parent = parent.str.contains(r"^市|市$", regex=True)
    level = np.select(
        [county_parent, name.str.contains(_CITY), name.str.contains(_COUNTY), city_parent],
        ["county", "city", "county", "city"], default="")
    dept["level"] = pd.Series(level, index=dept.index).replace("", np.nan)
    dept["level_zh"] = dept["level"].map({"city": "市级", "county": "县级"})
    return dept.reset_index(drop=True)
