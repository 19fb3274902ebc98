"""Totals rows (合计, 小计, 全区 …) against the sum of their units.

A totals row never enters the panel; each of its figures is compared with the sum of
the same indicator over the units of its sheet and period (for 小计, over the units
of its block since the previous 小计).  Figures are compared as typed, before 累计
conversion, and the units' figures are kept whatever the outcome.  The result is
``Dataset.reconciliation``; ``status`` says how each figure compares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# What each status says, in the report's words (``ingest_findings``, the report's
# 数据质量 section).
STATUS_ZH = {"ok": "一致", "mismatch": "不一致", "approx": "合计为约数", "unreadable": "合计无法读取",
             "no period": "合计行无期间", "no units": "所列单位未报送分项"}
RECONCILIATION_COLUMNS = ["file", "sheet", "row", "period", "indicator", "stated", "sum_of_units",
                          "difference", "status"]


def empty_reconciliation() -> pd.DataFrame:
    """A reconciliation table with no rows (RECONCILIATION_COLUMNS)."""
    return pd.DataFrame(columns=RECONCILIATION_COLUMNS)


def reconcile_totals(rows: pd.DataFrame, total_cells: pd.DataFrame,
                     unit_cells: pd.DataFrame) -> pd.DataFrame:
    """Each figure of each totals row against the sum of its units.

    Parameters
    ----------
    rows : every report row (file, sheet, row, is_total, total_kind, block, period).
    total_cells : the figures of the totals rows (file, sheet, row, period,
        indicator, value, approx, error).
    unit_cells : the accepted figures of the units (file, sheet, row, period,
        indicator, value), as typed.

    Returns
    -------
    DataFrame with RECONCILIATION_COLUMNS: file, sheet, row, period (a totals row
    without a period of its own stands for its sheet's one period), indicator,
    stated, sum_of_units (NaN where no unit gave the indicator: a blank is not a
    0), difference (stated − sum), status: ``ok``, ``mismatch``, ``approx`` (the
    stated figure is approximate), ``unreadable``, ``no period`` or ``no units`` (no
    unit listed gives the figure: 所列单位未报送分项; the total row's own figure is
    then the only one, as 桂林's split 72 / 7).  A ``mismatch`` with stated > sum
    may be a total over more units than the table lists; one with sum > stated
    cannot.  Sorted by file, sheet, row, indicator.  Does not modify its inputs.
    """
    tot = rows[rows["is_total"]]
    if tot.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in RECONCILIATION_COLUMNS})
    tc = total_cells.merge(tot[["file", "sheet", "row", "block", "total_kind"]],
                           on=["file", "sheet", "row"], how="inner")
    sheet_per = (rows[~rows["is_total"]].groupby(["file", "sheet"], dropna=False)["period"]
                 .agg(lambda p: p.dropna().iloc[0] if p.dropna().nunique() == 1 else pd.NA))
    fill = tc.set_index(["file", "sheet"]).index.map(sheet_per.to_dict().get)
    tc["period"] = tc["period"].fillna(pd.Series(fill, index=tc.index, dtype="str"))
    u = unit_cells.merge(rows[["file", "sheet", "row", "block"]], on=["file", "sheet", "row"])
    by_sheet = u.groupby(["file", "sheet", "period", "indicator"], dropna=False)["value"].sum()
    by_block = u.groupby(["file", "sheet", "period", "block", "indicator"], dropna=False)["value"].sum()
    k_sheet = pd.MultiIndex.from_frame(tc[["file", "sheet", "period", "indicator"]])
    k_block = pd.MultiIndex.from_frame(tc[["file", "sheet", "period", "block", "indicator"]])
    s_sheet = by_sheet.reindex(k_sheet).to_numpy(dtype="float64", na_value=np.nan)
    s_block = by_block.reindex(k_block).to_numpy(dtype="float64", na_value=np.nan)
    sums = np.where(tc["total_kind"].eq("小计").fillna(False), s_block, s_sheet)
    stated = tc["value"].to_numpy(dtype="float64")
    diff = stated - sums
    status = np.select(
        [tc["error"].notna(), tc["period"].isna(), np.isnan(sums), tc["approx"].astype(bool),
         np.isclose(stated, sums, rtol=1e-9, atol=1e-6)],
        ["unreadable", "no period", "no units", "approx", "ok"], "mismatch")
    out = pd.DataFrame({"file": tc["file"], "sheet": tc["sheet"], "row": tc["row"],
                        "period": tc["period"], "indicator": tc["indicator"], "stated": stated,
                        "sum_of_units": sums, "difference": diff, "status": status})
    return out.sort_values(["file", "sheet", "row", "indicator"]).reset_index(drop=True)
