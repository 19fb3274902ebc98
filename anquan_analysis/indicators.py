"""Indicators derived from the tidy panel: per unit and period, vectorised over the
whole panel.  Every function takes DataFrames and returns a new DataFrame; no input
is modified.

The panel (``dataset.PANEL_COLUMNS``) holds *in-period* values.  Functions that take
``cumulative=True`` first sum each unit's figures from its first period up to each
period ("截至…累计", campaign to date), as the bulletins do.

==================== =============================================================
wide_panel           unit × period rows, one column per indicator (in-period or to date)
window_totals        one row per unit: totals over a window of periods (all, ≤P, or P)
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
sector_shares        share of each sector, HHI and zero sectors per group
sector_profile       one row per group: total, HHI, top-two share, zero sectors
department_levels    city-level vs county-level departments
==================== =============================================================
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .catalogue import INDICATORS, SECTORS
from .dataset import as_text
from .periods import period_bounds, same_period_last_year, shift_period, sort_periods
from .dataset import require_columns as _require

UNIT_KEYS = ["unit", "unit_type", "parent"]
# Training/publicity pairs whose persons per session the bulletins quote (285场21248人次).
SESSION_PAIRS = [
    (c, c.replace("_sessions", "_persons"))
    for c in INDICATORS["code"] if c.endswith("_sessions")
]


def _period_order(periods) -> dict[str, int]:
    return {p: i for i, p in enumerate(sort_periods(periods))}


def units_of(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per unit: unit, unit_type, parent (the first non-missing of each)."""
    _require(panel, ["unit"], "units_of")
    df = panel.reindex(columns=UNIT_KEYS)
    out = as_text(df.groupby("unit", sort=True, observed=True).first().reset_index())
    # a categorical panel groups in category order; units are listed by name
    return out.sort_values("unit", kind="stable", ignore_index=True)[UNIT_KEYS]


def wide_panel(panel: pd.DataFrame, indicators=None, *, cumulative: bool = False) -> pd.DataFrame:
    """One row per unit and period, one column per indicator (NaN where a unit never
    reported it).  ``cumulative=True`` gives the sum from the unit's first period up to
    each period (NaN only before the unit's first figure of that indicator).  Rows are
    sorted by unit then period; periods are the panel's own."""
    _require(panel, ["unit", "period", "indicator", "value"], "wide_panel")
    df = panel if indicators is None else panel.loc[panel["indicator"].isin(list(indicators))]
    units = units_of(panel)
    periods = sort_periods(panel["period"].dropna().unique())
    # every unit in every period, so cumulative sums and changes line up across units
    grid = pd.MultiIndex.from_product([units["unit"], periods], names=["unit", "period"])
    values = df.pivot_table(index=["unit", "period"], columns="indicator", values="value",
                            aggfunc="sum").reindex(grid)
    if indicators is not None:
        values = values.reindex(columns=list(indicators))
    values.columns.name = None
    if cumulative:
        reported = values.notna().groupby(level="unit").cummax()
        values = values.fillna(0.0).groupby(level="unit").cumsum().where(reported)
    out = values.reset_index().merge(units, on="unit", how="left")
    return out[UNIT_KEYS + ["period"] + list(values.columns)]


def in_window(periods: pd.Series, period=None, *, cumulative: bool = True) -> pd.Series:
    """Boolean mask of ``periods`` inside the assessment window: all periods when
    ``period`` is None; the periods ending on or before ``period`` when
    ``cumulative``; else the periods lying inside ``period``."""
    if period is None:
        return pd.Series(True, index=periods.index)
    start, end = period_bounds(period)
    uniq = pd.unique(periods.dropna())
    bounds = {p: period_bounds(p) for p in uniq}
    if cumulative:
        ok = {p: b[1] <= end for p, b in bounds.items()}
    else:
        ok = {p: (b[0] >= start) & (b[1] <= end) for p, b in bounds.items()}
    return periods.map(ok).fillna(False).astype(bool)


def window_totals(panel: pd.DataFrame, indicators, *, period=None,
                  cumulative: bool = True) -> pd.DataFrame:
    """One row per unit: unit, unit_type, parent, the sum of each indicator over the
    window (see ``in_window``; NaN when the unit reported none of it there), and
    ``n_periods`` the number of periods the unit reported in the window."""
    _require(panel, ["unit", "period", "indicator", "value"], "window_totals")
    indicators = [indicators] if isinstance(indicators, str) else list(indicators)
    window = in_window(panel["period"], period, cumulative=cumulative).to_numpy(dtype=bool)
    # only the rows and columns summed are copied, not the whole panel
    chosen = window & panel["indicator"].isin(indicators).to_numpy(dtype=bool)
    sums = (panel.loc[chosen, ["unit", "indicator", "value"]]
            .pivot_table(index="unit", columns="indicator", values="value", aggfunc="sum")
            .reindex(columns=indicators))
    sums.columns.name = None
    n = _periods_reported(panel, window)
    out = units_of(panel).merge(sums, left_on="unit", right_index=True, how="left")
    out = out.merge(n, left_on="unit", right_index=True, how="left")
    out["n_periods"] = out["n_periods"].fillna(0).astype("int64")
    return out.reset_index(drop=True)


def _periods_reported(panel: pd.DataFrame, rows: np.ndarray) -> pd.Series:
    """Distinct periods per unit among the ``rows`` (a boolean mask) of the panel,
    named ``n_periods``, for units with at least one row.  On categorical unit and
    period columns one scatter into a unit × period table of flags, not a group-by."""
    unit, per = panel["unit"], panel["period"]
    if not all(isinstance(c.dtype, pd.CategoricalDtype) and (c.cat.codes >= 0).all()
               for c in (unit, per)):
        return panel.loc[rows].groupby("unit")["period"].nunique().rename("n_periods")
    seen = np.zeros((len(unit.cat.categories), len(per.cat.categories)), dtype=bool)
    seen[unit.cat.codes.to_numpy()[rows], per.cat.codes.to_numpy()[rows]] = True
    has = seen.any(axis=1)
    return pd.Series(seen.sum(axis=1)[has], name="n_periods",
                     index=pd.Index(unit.cat.categories[has].astype("str"), name="unit"))


def exposure_by_unit(exposure: pd.DataFrame | None) -> pd.DataFrame:
    """Enterprises supervised per unit: the unit's row with sector '' (all sectors);
    a unit with only per-sector rows gets their sum.  Columns unit, enterprises."""
    if exposure is None or len(exposure) == 0:
        return pd.DataFrame({"unit": pd.Series(dtype="str"),
                             "enterprises": pd.Series(dtype="float64")})
    _require(exposure, ["unit", "enterprises"], "exposure_by_unit")
    sector = (exposure["sector"].astype("object").where(exposure["sector"].notna(), "")
              .astype("str") if "sector" in exposure else "")
    df = exposure.assign(
        sector=sector,
        enterprises=pd.to_numeric(exposure["enterprises"], errors="coerce"))
    total = df.loc[df["sector"] == ""].groupby("unit")["enterprises"].sum(min_count=1)
    by_sector = df.loc[df["sector"] != ""].groupby("unit")["enterprises"].sum(min_count=1)
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
    present = set(panel["indicator"].unique())
    pairs = [(s, p) for s, p in SESSION_PAIRS if s in present and p in present]
    codes = [c for pair in pairs for c in pair]
    w = wide_panel(panel, codes, cumulative=cumulative)
    ratios = {s.replace("_sessions", "_per_session"): _ratio(w[p], w[s]) for s, p in pairs}
    return w[UNIT_KEYS + ["period"]].assign(**ratios)


def _keyed(panel: pd.DataFrame) -> pd.DataFrame:
    return (panel.groupby(["unit", "period", "indicator"], as_index=False)["value"].sum())


def period_changes(panel: pd.DataFrame, indicators=None) -> pd.DataFrame:
    """Change on the previous period (环比) and on the same period last year (同比),
    per unit, period and indicator.  Columns unit, unit_type, parent, period,
    indicator, value, previous, change, pct_change, last_year, yoy_change, yoy_pct
    (percentages as fractions; NaN where the earlier figure is missing or 0)."""
    _require(panel, ["unit", "period", "indicator", "value"], "period_changes")
    df = panel if indicators is None else panel.loc[panel["indicator"].isin(list(indicators))]
    cur = _keyed(df)
    lookup = cur.set_index(["unit", "period", "indicator"])["value"]
    periods = pd.Series(pd.unique(cur["period"]))
    prev_of = dict(zip(periods, periods.map(lambda p: shift_period(p, -1))))
    ly_of = dict(zip(periods, periods.map(same_period_last_year)))

    def _get(mapping):
        keys = pd.MultiIndex.from_arrays([cur["unit"], cur["period"].map(mapping), cur["indicator"]])
        return lookup.reindex(keys).to_numpy()

    out = cur.assign(previous=_get(prev_of), last_year=_get(ly_of))
    out = out.assign(change=out["value"] - out["previous"],
                     pct_change=_ratio(out["value"] - out["previous"], out["previous"]),
                     yoy_change=out["value"] - out["last_year"],
                     yoy_pct=_ratio(out["value"] - out["last_year"], out["last_year"]))
    out = out.merge(units_of(panel), on="unit", how="left")
    order = out["period"].map(_period_order(out["period"]))
    out = out.assign(_o=order).sort_values(["unit", "indicator", "_o"]).drop(columns="_o")
    return out[UNIT_KEYS + ["period", "indicator", "value", "previous", "change", "pct_change",
                            "last_year", "yoy_change", "yoy_pct"]].reset_index(drop=True)


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
    order = panel["period"].map(_period_order(panel["period"].dropna().unique()))
    df = panel.assign(_o=order).sort_values(["unit", "indicator", "_o"], kind="stable")
    df = df.assign(value=df["value"].groupby(_group_keys(df, reset)).cumsum())
    return df.drop(columns="_o").reset_index(drop=True)


def to_in_period(panel: pd.DataFrame, *, reset: str | None = None) -> pd.DataFrame:
    """Cumulative long panel → in-period values (the inverse of ``to_cumulative``):
    each value minus the unit's previous value of that indicator (the first period,
    or January with ``reset='year'``, keeps its value).  A decrease gives a negative
    value, left for the consistency check to report."""
    _require(panel, ["unit", "period", "indicator", "value"], "to_in_period")
    order = panel["period"].map(_period_order(panel["period"].dropna().unique()))
    df = panel.assign(_o=order).sort_values(["unit", "indicator", "_o"], kind="stable")
    prev = df["value"].groupby(_group_keys(df, reset)).shift(1)
    df = df.assign(value=df["value"] - prev.fillna(0.0))
    return df.drop(columns="_o").reset_index(drop=True)


def rank_within_type(panel: pd.DataFrame, indicator: str = "major_hazards_found", *,
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


def action_totals(panel: pd.DataFrame, period=None) -> pd.DataFrame:
    """Sum over all units per catalogue action and indicator, for ``period`` (default:
    the last period of the panel) and the period before it.  Columns action,
    action_zh, indicator, name_zh, unit (measurement unit), value, previous, change,
    cumulative (sum of all periods up to ``period``).  Catalogue order."""
    _require(panel, ["period", "indicator", "value"], "action_totals")
    periods = sort_periods(panel["period"].dropna().unique())
    if period is None:
        if not periods:
            raise ValueError("action_totals: the panel has no periods")
        period = periods[-1]
    prev_p = shift_period(period, -1)

    def totals(p):
        """Per indicator in period ``p``, or None when ``p`` has no rows."""
        rows = panel.loc[(panel["period"] == p).to_numpy(dtype=bool)]
        return rows.groupby("indicator", observed=True)["value"].sum() if len(rows) else None

    cur, prev = totals(period), totals(prev_p)
    upto = panel.loc[in_window(panel["period"], period, cumulative=True)]
    cum = upto.groupby("indicator")["value"].sum()
    cat = INDICATORS[["code", "name_zh", "unit", "action", "action_zh"]].rename(
        columns={"code": "indicator"})
    cat = cat.loc[cat["indicator"].isin(panel["indicator"].unique())]
    value = cat["indicator"].map(cur) if cur is not None else np.nan
    previous = cat["indicator"].map(prev) if prev is not None else np.nan
    out = cat.assign(period=period, value=value, previous=previous,
                     cumulative=cat["indicator"].map(cum))
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
