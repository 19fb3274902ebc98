"""A report sheet → one record per row (unit, period, 口径, totals or not) and its cells.

Without a period column (or where a row's period cell is blank), the period is taken
from the title rows, then the sheet name, then the file name (``2024年4月``,
``2024年二季度``, ``2024Q2``, ``2024年上半年``, ``2024-04``; a range such as
``2024年1-4月`` is not a period).  Period cells accept every form of
``periods.parse_period``.  合计 may stand in the unit column or in the 序号 column.

A *data row* is a row below the header that has text in the unit, period or a figure
column, and is neither a totals row (合计/总计/小计/全市/全区/全县) nor a note row (注：…
with no figures).  A row that cannot be placed (no unit, an unreadable period or 口径,
an unknown indicator in a long sheet) is rejected whole, with the first reason found.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..catalogue import resolve_indicator, resolve_unit_type
from ..errors import InputError
from ..periods import find_period, parse_period
from ..tables import RawSheet
from ..text import normalise_label, normalise_name
from ._frames import reject_frame, text_column
from .cells import long_cells, wide_cells

# 口径 values.
BASIS_VALUES = {"period": ("当期", "本期", "当月", "本月", "月度", "in-period", "period"),
                "cumulative": ("累计", "累计数", "本年累计", "年累计", "cumulative")}
_BASIS_LOOKUP = {normalise_label(a): b for b, aliases in BASIS_VALUES.items() for a in aliases}

# Row labels: totals rows (reconciled, never in the panel) and notes below the table.
TOTAL_LABEL = re.compile(r"^(?:(?:全市|全区|全县|全省)?(?:合计|总计)|小计|全市|全区|全县)[:：]?$")
NOTE_LABEL = re.compile(r"^(?:注|备注|说明|填报人|填表人|审核人|制表|联系人|联系电话)")

ROW_COLUMNS = ["file", "sheet", "row", "unit", "is_total", "total_kind", "seq", "block", "form",
               "reject", "period", "basis", "unit_type", "parent"]


def is_total(names: pd.Series) -> pd.Series:
    """True where a (normalised) label names a totals row (合计, 小计, 全区 …)."""
    return names.fillna("").str.match(TOTAL_LABEL)


def sheet_period(raw: RawSheet, header_row: int) -> str | None:
    """The period written in the title rows above the header, else in the sheet name,
    else in the file name; None when none (or several different ones) is found."""
    titles = raw.cells.loc[: header_row - 1]
    found = {p for v in titles.to_numpy().ravel() if v is not None
             for p in [find_period(v)] if p is not None}
    if len(found) == 1:
        return found.pop()
    for text in (raw.sheet, Path(raw.file).stem):
        p = find_period(text)
        if p is not None:
            return p
    return None


def _parse_periods(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(canonical period, error) per cell; blank cells give missing and no error."""
    uniq = texts.dropna().unique()
    ok, bad = {}, {}
    for t in uniq:
        try:
            ok[t] = parse_period(t)
        except ValueError as err:
            bad[t] = f"无法识别的期间 (unreadable period): {err}"
    return texts.map(ok).astype("str"), texts.map(bad).astype("str")


def _mark(rows: pd.DataFrame, mask: pd.Series, reason, column: str, value) -> pd.DataFrame:
    """``rows`` with the rows of ``mask`` rejected whole (reject, reject_column,
    reject_value): the first reason wins.  Does not modify ``rows``."""
    mask = mask & rows["reject"].isna()
    if not mask.any():
        return rows
    pick = (lambda v: v[mask] if isinstance(v, pd.Series) else v)
    rows = rows.copy()
    rows.loc[mask, "reject"] = pick(reason)
    rows.loc[mask, "reject_column"] = column
    rows.loc[mask, "reject_value"] = pick(value)
    return rows


def _kept_rows(raw: RawSheet, body: pd.DataFrame, roles: dict, fig_pos: list, seq0: int,
               long_form: bool) -> pd.DataFrame:
    """One record per data or totals row of ``body`` (blank and note rows dropped):
    file, sheet, row, unit, is_total, total_kind, seq (input order from ``seq0``),
    block (小计 blocks), form, and empty reject columns."""
    unit_txt = text_column(body, roles.get("unit"))
    period_txt = text_column(body, roles.get("period"))
    figures = body[fig_pos].notna() if fig_pos else pd.DataFrame(index=body.index)
    has_fig = figures.any(axis=1) if fig_pos else pd.Series(False, index=body.index)
    nonblank = unit_txt.notna() | period_txt.notna() | has_fig
    unit = unit_txt.map(normalise_name, na_action="ignore").astype("str")
    # 合计 is often typed in the 序号 column, spanning it and a blank unit cell.
    label_cols = [c for c in body.columns if c not in set(fig_pos)]
    labels_total = pd.Series(False, index=body.index)
    for c in label_cols:
        labels_total |= is_total(body[c].map(normalise_name, na_action="ignore").astype("str"))
    total = is_total(unit) | (unit.isna() & labels_total)
    unit = unit.mask(total & unit.isna(), "合计")
    note = unit.fillna("").str.match(NOTE_LABEL) & ~has_fig
    keep = (nonblank | total) & ~note
    rows = pd.DataFrame({"file": raw.file, "sheet": raw.sheet or "",  # "" for CSV: group keys must not be NA
                         "row": body.index.astype("int64"),
                         "unit": unit, "is_total": total, "total_kind": unit.where(total)},
                        index=body.index)[keep]
    rows["seq"] = seq0 + np.arange(len(rows))
    # 小计 closes a block: its units are the data rows since the previous 小计.
    rows["block"] = (rows["total_kind"] == "小计").fillna(False).shift(fill_value=False).cumsum()
    rows["form"] = "long" if long_form else "wide"
    for c in ("reject", "reject_column", "reject_value"):
        rows[c] = pd.Series(pd.NA, index=rows.index, dtype="str")
    return rows


def report_sheet(raw: RawSheet, h_last: int, roles: dict, seq0: int,
                 long_form: bool) -> tuple[pd.DataFrame, pd.DataFrame, list[pd.DataFrame]]:
    """The rows, cells and rejects of a report sheet whose header ends at ``h_last``.

    Parameters
    ----------
    raw : the sheet.
    h_last : the last header row (``headers.header_labels``).
    roles : column roles (``headers.map_columns``).
    seq0 : the input-order number of the sheet's first row.
    long_form : True for 单位, 期间, 指标, 数值 sheets.

    Returns
    -------
    rows : one per data or totals row: file, sheet ("" for CSV), row, unit,
        is_total, total_kind, seq, block, form, reject (whole-row reason or
        missing), reject_column, reject_value, period, basis (period or
        cumulative), unit_type, parent.
    cells : one per figure (``cells.CELL_COLUMNS`` plus file, sheet).
    rejects : REJECT_COLUMNS frames for whole rows and for bad unit types.

    Raises InputError when the sheet has no period column and no period in its
    title rows, sheet name or file name.
    """
    file, sheet = raw.file, raw.sheet or ""      # "" for CSV: group keys must not be NA
    body = raw.cells.loc[h_last + 1:]
    fig_pos = ([roles["indicator_name"], roles["value"]] if long_form
               else [pos for pos, _, _ in roles["indicators"].values()])
    rows = _kept_rows(raw, body, roles, fig_pos, seq0, long_form)
    keep = body.index.isin(rows.index)
    period_txt = text_column(body, roles.get("period"))

    # period: the column, else the sheet's title / name
    per, per_err = _parse_periods(period_txt[keep])
    fallback = sheet_period(raw, h_last) if per.isna().any() else None
    if "period" not in roles and fallback is None:
        raise InputError(file, "no period column (期间/时间/月份/报送期间/period) and no period "
                         "such as 2024年4月 in the title rows, sheet name or file name",
                         sheet=raw.sheet)
    rows["period"] = per.where(per.notna() | per_err.notna(), fallback)

    data = ~rows["is_total"]
    rows = _mark(rows, data & rows["unit"].isna(), "缺少单位名称 (no unit name)", "单位", "")
    period_reason = per_err.reindex(rows.index).fillna(
        "缺少期间 (no period in the row, the title, the sheet or the file name)")
    rows = _mark(rows, data & rows["period"].isna(), period_reason, "期间",
                 period_txt.reindex(rows.index).fillna(""))
    basis_txt = text_column(body, roles.get("basis")).reindex(rows.index)
    basis = basis_txt.map(lambda t: _BASIS_LOOKUP.get(normalise_label(t)), na_action="ignore")
    rows = _mark(rows, data & basis_txt.notna() & basis.isna(),
                 "无法识别的口径 (口径 must be 当期 or 累计): " + basis_txt.fillna(""), "口径", basis_txt)
    rows["basis"] = basis.astype("str").fillna("period")

    if long_form:
        names = body[roles["indicator_name"]].reindex(rows.index).astype("str")
        texts = body[roles["value"]].reindex(rows.index).astype("str")
        codes = names.map(resolve_indicator, na_action="ignore").astype("str")
        rows = _mark(rows, data & names.notna() & codes.isna(),
                     "未知指标 (unknown indicator): " + names.fillna(""), "指标", names)
        rows = _mark(rows, data & names.isna() & texts.notna(), "缺少指标名称 (no indicator name)",
                     "指标", "")
        cells = long_cells(rows, names, codes, texts)
    else:
        cells = wide_cells(body, rows, roles["indicators"])
    cells["file"], cells["sheet"] = file, sheet
    whole = rows["reject"].notna()
    rejects = [reject_frame(rows[whole], rows.loc[whole, "reject_column"],
                            rows.loc[whole, "reject_value"], rows.loc[whole, "reject"])]

    # unit type and parent (a bad unit type is a cell reject; the row stays)
    ut_txt = text_column(body, roles.get("unit_type")).reindex(rows.index)
    ut = ut_txt.map(resolve_unit_type, na_action="ignore").astype("str")
    bad_ut = ut_txt.notna() & ut.isna() & data & ~whole
    rows["unit_type"] = ut
    if bad_ut.any():
        rejects.append(reject_frame(rows[bad_ut], "单位类型", ut_txt[bad_ut],
                                    "无法识别的单位类型 (unit type must be 县(市、区), 镇街, 部门 or 国有公司)"))
    rows["parent"] = text_column(body, roles.get("parent")).reindex(rows.index).map(
        normalise_name, na_action="ignore").astype("str")

    return rows.reset_index(drop=True), cells, rejects
