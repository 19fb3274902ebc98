"""A unit reported twice for one period, anywhere in the input.

Identical copies keep the first (in input order) and reject the later ones as
"duplicate of row N (identical)" (``rows_duplicate_identical``); copies with
different figures are all rejected, each naming the others, because there is no
telling which is right.  Three keys are checked:

* report rows: (unit, period) for a wide row, (unit, period, indicator) for a long
  row (``report_row_duplicates``);
* figures across forms: (unit, period, indicator), when a wide and a long row give
  the same figure (``cross_form_duplicates``);
* exposure rows: (unit, sector) (``exposure.exposure_sheet``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..dataset import REJECT_COLUMNS
from ._frames import reject_frame

_ROW_KEY = ["file", "sheet", "row"]


def _where(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    """How a row names another: 'row N', 'sheet S row N' or 'file F row N'."""
    same_file = a["file"].to_numpy() == b["file"].to_numpy()
    same_sheet = same_file & (a["sheet"].fillna("").to_numpy() == b["sheet"].fillna("").to_numpy())
    row = "row " + b["row"].astype(str).to_numpy()
    name = b["file"].map(lambda f: Path(f).name).to_numpy()
    out = np.where(same_sheet, row, np.where(same_file, "sheet " + b["sheet"].fillna("").to_numpy()
                                             + " " + row, "file " + name + " " + row))
    return pd.Series(out, index=a.index)


def flag_duplicates(records: pd.DataFrame, key: list[str], what: str) -> pd.DataFrame:
    """The rejects for records repeating a key.  ``records`` has file, sheet, row, seq
    (input order), the key columns and ``signature`` (the figures as comparable text).
    Identical copies: every copy after the first is rejected as "duplicate of row N
    (identical)"; copies that differ: every copy is rejected, naming the others.
    Returns REJECT_COLUMNS plus ``identical`` (bool).  Does not modify ``records``."""
    dup = records[records.duplicated(key, keep=False)].sort_values("seq")
    if dup.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in REJECT_COLUMNS}
                            | {"identical": pd.Series(dtype="bool")})
    dup = dup.assign(_id=np.arange(len(dup)), _k=dup[key].astype(str).agg("\x1f".join, axis=1))
    grp = dup.groupby("_k", sort=False)
    same = grp["signature"].transform("nunique").eq(1)
    is_first = dup["seq"].eq(grp["seq"].transform("min"))
    # every copy paired with every other copy of its key
    pairs = dup.merge(dup[["_k", "_id", "file", "sheet", "row"]], on="_k", suffixes=("", "_o"))
    pairs = pairs[pairs["_id"] != pairs["_id_o"]]
    other = pairs[["file_o", "sheet_o", "row_o"]].set_axis(["file", "sheet", "row"], axis=1)
    pairs["where"] = _where(pairs, other).to_numpy()
    names = pairs.groupby("_id")["where"].agg(", ".join)
    first_name = pairs.merge(dup.loc[is_first, ["_k", "_id"]].rename(columns={"_id": "_first"}),
                             on="_k")
    first_name = first_name[first_name["_id_o"] == first_name["_first"]].set_index("_id")["where"]
    ident = dup[same & ~is_first]
    out_ident = reject_frame(ident, "单位", ident[key[0]],
                             "duplicate of " + ident["_id"].map(first_name) + " (identical)")
    diff = dup[~same]
    out_diff = reject_frame(diff, "单位", diff[key[0]],
                            f"{what}重复且数据不一致 (reported more than once with different "
                            "figures): also " + diff["_id"].map(names))
    return pd.concat([out_ident.assign(identical=True), out_diff.assign(identical=False)])


def report_row_duplicates(rows: pd.DataFrame,
                          cells: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Report rows that repeat a unit and period, and the cells that remain.

    Parameters
    ----------
    rows : the accepted data rows (file, sheet, row, seq, unit, period, basis, form).
    cells : their cells (file, sheet, row, indicator, value, text).

    Returns
    -------
    rejects : ``flag_duplicates`` output (REJECT_COLUMNS plus ``identical``); the key
        is (unit, period) for a wide row, (unit, period, first indicator) for a long
        row, and the signature is the 口径 and every figure of the row.
    cells : ``cells`` without the cells of rejected rows.  Neither input is modified.
    """
    sig = (cells["indicator"] + "=" + cells["value"].map(lambda v: f"{v:.10g}", na_action="ignore")
           .astype("str").fillna("?" + cells["text"].fillna(""))).groupby(
        [cells[k] for k in _ROW_KEY]).agg(lambda s: "|".join(sorted(s)))
    rec = rows.set_index(_ROW_KEY)
    rec["signature"] = rec["basis"] + ":" + sig.reindex(rec.index).fillna("")
    rec = rec.reset_index()
    first_ind = cells.drop_duplicates(_ROW_KEY).set_index(_ROW_KEY)["indicator"]
    rec["key_ind"] = np.where(rec["form"].eq("long"),
                              first_ind.reindex(pd.MultiIndex.from_frame(rec[_ROW_KEY])).to_numpy(), "*")
    dups = flag_duplicates(rec, ["unit", "period", "key_ind"], "同一单位同一期间")
    if len(dups):
        dup_keys = pd.MultiIndex.from_frame(dups[_ROW_KEY].astype({"row": "int64"}))
        cells = cells[~pd.MultiIndex.from_frame(cells[_ROW_KEY]).isin(dup_keys)]
    return dups, cells


def cross_form_duplicates(cells: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Figures given twice for one unit, period and indicator by rows of different
    forms (a wide row and a long row), which ``report_row_duplicates`` cannot see.

    ``cells`` are in-period figures (file, sheet, row, seq, unit, period, indicator,
    value, column).  Returns (rejects: REJECT_COLUMNS plus ``identical``, with
    ``column`` the figure's column; the cells without the rejected ones, with a
    ``signature`` column added).  Does not modify ``cells``."""
    good = cells.assign(signature=cells["value"].map(lambda v: f"{v:.10g}"))
    cross = flag_duplicates(good, ["unit", "period", "indicator"], "同一单位同一期间同一指标")
    if len(cross):
        ck = pd.MultiIndex.from_frame(cross[_ROW_KEY])
        hit = pd.MultiIndex.from_frame(good[_ROW_KEY]).isin(ck) & good.duplicated(
            ["unit", "period", "indicator"], keep=False)
        cross = cross.assign(column=good.loc[hit].set_index(_ROW_KEY).reindex(
            pd.MultiIndex.from_frame(cross[_ROW_KEY]))["column"].to_numpy())
        good = good[~hit]
    return cross, good
