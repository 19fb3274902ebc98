"""A unit reported twice for one period, anywhere in the input.

Identical copies keep the first (in input order) and reject the later ones as
"duplicate of row N (identical)" (``rows_duplicate_identical``); where one copy is in
a correction file that supersedes the others' files (``corrections``), it is kept and
the others are rejected as superseded, naming it; other copies with different
figures are all rejected, because there is no telling which is right, with
one reason per group naming how many copies there are and the first
``limits.NAMED_DUPLICATES`` of them.  Linear in the number of rows: a group of 60,000
copies gives 60,000 rejects sharing one reason, not 60,000 lists of 59,999 rows.
Three keys are checked:

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

from .. import limits
from ..dataset import REJECT_COLUMNS
from ._frames import reject_frame
from .corrections import superseded_rows

_ROW_KEY = ["file", "sheet", "row"]


def _positions(dup: pd.DataFrame, group: pd.Series) -> tuple[pd.Series, pd.Series]:
    """How each row is named within its group, and whether its group lies in one
    sheet: ``N`` (one sheet), ``sheet S row N`` (one file), ``file F row N``."""
    sheet = dup["sheet"].fillna("").astype("str")
    file = dup["file"].astype("str")
    n_files = file.groupby(group).transform("nunique")
    one_sheet = (file + "\x1f" + sheet).groupby(group).transform("nunique").eq(1)
    row = dup["row"].astype("int64").astype("str")
    name = file.map(lambda f: Path(f).name)
    where = np.where(one_sheet, row, np.where(n_files > 1, "file " + name + " row " + row,
                                              "sheet " + sheet + " row " + row))
    return pd.Series(where, index=dup.index), one_sheet


def flag_duplicates(records: pd.DataFrame, key: list[str], what: str) -> pd.DataFrame:
    """The rejects for records repeating a key.  ``records`` has file, sheet, row, seq
    (input order), the key columns and ``signature`` (the figures as comparable text).
    Identical copies: every copy after the first is rejected as "duplicate of row N
    (identical)"; copies that differ: every copy is rejected with the group's one
    reason, "reported K times with different figures: row 2, row 5, … (K copies)".
    Returns REJECT_COLUMNS plus ``identical`` (bool).  Does not modify ``records``."""
    dup = records[records.duplicated(key, keep=False)].sort_values("seq", kind="stable")
    if dup.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in REJECT_COLUMNS}
                            | {"identical": pd.Series(dtype="bool")})
    group = dup.groupby(key, sort=False, dropna=False).ngroup()
    by_group = dup.groupby(group, sort=False)
    same = by_group["signature"].transform("nunique").eq(1)
    count = by_group["seq"].transform("size")
    where, one_sheet = _positions(dup, group)
    rank = by_group.cumcount()
    head = rank.eq(0)
    first = (np.where(one_sheet, "row ", "") + where)[head].set_axis(group[head])
    shown = where[rank.lt(limits.NAMED_DUPLICATES)].groupby(
        group[rank.lt(limits.NAMED_DUPLICATES)], sort=False).agg(", ".join)
    n = count.groupby(group, sort=False).first()
    single = one_sheet.groupby(group, sort=False).first()
    listing = (np.where(single, "rows ", "") + shown
               + np.where(n > limits.NAMED_DUPLICATES, ", …", ""))
    reason = (f"{what}重复且数据不一致 (reported " + n.astype("str") + " times with different "
              "figures: " + listing + ")")
    ident = dup[same & rank.gt(0)]
    out_ident = reject_frame(ident, "单位", ident[key[0]],
                             "duplicate of " + group[ident.index].map(first) + " (identical)")
    diff = dup[~same]
    out_diff = reject_frame(diff, "单位", diff[key[0]], group[diff.index].map(reason))
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
    rejects : REJECT_COLUMNS plus ``identical`` and ``superseded`` (bool): the rows
        superseded by a correction (``corrections.superseded_rows``, reason naming
        the row that replaces it), then ``flag_duplicates`` over the rest; the key
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
    key = ["unit", "period", "key_ind"]
    sup = superseded_rows(rec, key)
    if len(sup):
        gone = pd.MultiIndex.from_frame(sup[_ROW_KEY].astype({"row": "int64"}))
        rec = rec[~pd.MultiIndex.from_frame(rec[_ROW_KEY].astype({"row": "int64"})).isin(gone)]
    dups = pd.concat([sup.drop(columns="by").assign(identical=False, superseded=True),
                      flag_duplicates(rec, key, "同一单位同一期间").assign(superseded=False)],
                     ignore_index=True)
    dups = dups.astype({"identical": "bool", "superseded": "bool"})
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
