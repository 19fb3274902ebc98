"""Office tables (CSV/XLSX) → a validated ``Dataset``: ``anquan ingest PATH...``.

Each sheet (or CSV file) is classified by its header row, found below any title rows:

* **hazard ledger** (has 隐患编号 and a date/status column) → ``ledger.parse_ledger_sheet``;
* **exposure** (单位 + 监管企业数, optional 行业领域) → ``Dataset.exposure``;
* **long reports** (单位, 期间, 指标, 数值) → one figure per row;
* otherwise **wide reports** (单位, 期间, 口径, one column per indicator).

Accepted headers (compared after NFKC, without spaces, case-folded, a trailing
bracketed unit removed) are in ``HEADER_ALIASES``; an indicator column is headed by
its Chinese name, an alias or its code (``catalogue.resolve_indicator``), and a
bracketed unit (``罚款（元）``) is the unit of bare numbers in that column, converted
into the catalogue unit.  A two-row header (a merged parent ``重大事故隐患`` over
``排查数 | 整改数``) is flattened by joining parent and child when the child alone
does not resolve.  Without a period column (or where a row's period cell is blank),
the period is taken from the title rows, then the sheet name, then the file name
(``2024年4月``, ``2024年二季度``, ``2024Q2``, ``2024年上半年``, ``2024-04``; a range such as
``2024年1-4月`` is not a period).  Period cells accept every form of
``periods.parse_period``.  合计 may stand in the unit column or in the 序号 column.

Accounting (checked by the tests on every file): a *data row* is a row below the
header that has text in the unit, period or a figure column, and is neither a totals
row (合计/总计/小计/全市/全区/全县) nor a note row (注：… with no figures).  Per sheet,
``rows_read == rows_clean + rows_rejected`` where

* clean: the row has at least one value in the panel (its bad cells, if any, are in
  rejects), or it has no figure at all and no reject (``rows_empty``, a subset);
* rejected: nothing of the row is in the panel and it has at least one reject record
  (no unit name, an unreadable period or 口径, duplicates, or every figure bad).

A unit reported twice for one period (anywhere in the input): identical figures keep
the first row and reject the later ones as "duplicate of row N (identical)"
(``rows_duplicate_identical``); different figures reject every copy, each naming the
others.  口径=累计 rows are converted to in-period figures per unit and indicator (see
``cumulative_to_period``).  Totals rows are reconciled against the sum of their units
(``Dataset.reconciliation``); the units' figures are kept either way.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import ledger as ledger_mod
from .aliases import (ALIAS_COLUMNS, apply_unit_aliases, default_alias_table, likely_aliases,
                      load_unit_aliases)
from .catalogue import indicator_unit, resolve_indicator, resolve_sector, resolve_unit_type
from .dataset import (EXPOSURE_COLUMNS, LEDGER_COLUMNS, REJECT_COLUMNS, Dataset, empty_panel,
                      empty_rejects)
from .errors import InputError
from .numbers import KNOWN_UNITS, is_count_unit, parse_numbers, units_compatible
from .periods import find_period, parse_period, period_bounds, period_freq
from .tables import CSV_SUFFIXES, EXCEL_SUFFIXES, RawSheet, find_header_row, read_raw
from .text import normalise_label, normalise_name

# Header roles and the labels accepted for each (English ones too).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "unit": ("单位", "单位名称", "填报单位", "报送单位", "unit", "unit_name"),
    "unit_type": ("单位类型", "单位类别", "unit_type"),
    "parent": ("上级", "上级单位", "所属区县", "parent"),
    "period": ("期间", "时间", "月份", "报送期间", "统计期间", "报告期", "period", "month"),
    "basis": ("口径", "统计口径", "数据口径", "basis"),
    "indicator_name": ("指标", "指标名称", "indicator"),
    "value": ("数值", "数量", "value"),
    "enterprises": ("监管企业数", "监管企业", "监管对象数", "监管企业数量", "enterprises"),
    "sector": ("行业领域", "行业", "sector"),
    # Read and ignored on purpose (not reported as unknown).
    "ignore": ("序号", "备注", "排名", "no", "no.", "note", "notes"),
}
_ROLE_LOOKUP = {normalise_label(a): role for role, aliases in HEADER_ALIASES.items() for a in aliases}

# 口径 values.
BASIS_VALUES = {"period": ("当期", "本期", "当月", "本月", "月度", "in-period", "period"),
                "cumulative": ("累计", "累计数", "本年累计", "年累计", "cumulative")}
_BASIS_LOOKUP = {normalise_label(a): b for b, aliases in BASIS_VALUES.items() for a in aliases}

_TOTAL = re.compile(r"^(?:(?:全市|全区|全县|全省)?(?:合计|总计)|小计|全市|全区|全县)[:：]?$")
_NOTE = re.compile(r"^(?:注|备注|说明|填报人|填表人|审核人|制表|联系人|联系电话)")
_BRACKET_UNIT = re.compile(r"[(\[【（]\s*(?:单位[:：])?\s*([^()\[\]【】（）]{1,4})\s*[)\]】）]$")

SUMMARY_COLUMNS = ["file", "sheet", "kind", "header_row", "rows_read", "rows_clean", "rows_empty",
                   "rows_rejected", "rows_duplicate_identical", "rows_totals", "reject_records",
                   "note"]
RECONCILIATION_COLUMNS = ["file", "sheet", "row", "period", "indicator", "stated", "sum_of_units",
                          "difference", "status"]
UNKNOWN_COLUMNS = ["file", "sheet", "column", "reason"]

# No figure in a district or city report comes near this, in any catalogue unit
# (10^9 persons, 10^9 万元): larger is a typing slip or a pasted ID number.
MAX_PLAUSIBLE = 1e9

_EXPECTED_HEADERS = ("expected a header row with 单位 (or 单位名称/填报单位/unit) and indicator "
                     "columns such as 重大事故隐患排查数, or 单位+期间+指标+数值, or 单位+监管企业数, "
                     "or a hazard ledger with 隐患编号 and 发现日期")


# ---------------------------------------------------------------------------
# Header labels


def column_role(label) -> tuple[str, str | None] | None:
    """(role, indicator code or ledger field) for a header label; None when unknown.
    Roles: the keys of ``HEADER_ALIASES``, ``indicator`` and ``ledger``."""
    if label is None:
        return None
    key = normalise_label(label)
    if key in _ROLE_LOOKUP:
        return _ROLE_LOOKUP[key], None
    code = resolve_indicator(label)
    if code is not None:
        return "indicator", code
    field = ledger_mod.resolve_ledger_field(label)
    if field is not None:
        return "ledger", field
    return None


def _is_known(label) -> bool:
    return column_role(label) is not None


def column_unit(label) -> str | None:
    """The unit in a header's trailing brackets (``罚款（元）`` → 元), if it is a known unit."""
    m = _BRACKET_UNIT.search(normalise_name(label))
    return m.group(1) if m and m.group(1) in KNOWN_UNITS else None


def _is_total(names: pd.Series) -> pd.Series:
    return names.fillna("").str.match(_TOTAL)


def _header_labels(raw: RawSheet, h: int) -> tuple[list[str | None], int]:
    """The header labels and the last header row: a second header row directly below
    (merged parents over 排查数 | 整改数) is flattened into parent+child labels."""
    top = [None if v is None else str(v).strip() for v in raw.cells.loc[h]]
    if h + 1 not in raw.cells.index:
        return top, h
    sub = [None if v is None else str(v).strip() for v in raw.cells.loc[h + 1]]
    roles = [column_role(v) for v in top]
    unit_pos = [j for j, r in enumerate(roles) if r and r[0] == "unit"]
    if not any(sub) or (unit_pos and sub[unit_pos[0]] is not None):
        return top, h
    parents = pd.Series(top, dtype=object).ffill().tolist()
    merged, gained = [], False
    for j, child in enumerate(sub):
        if child is None:
            merged.append(top[j])
            continue
        parent = parents[j] or ""
        if column_role(child) is not None and column_role(child)[0] == "indicator":
            merged.append(child)
            gained = True
        else:
            joined = parent + child
            gained |= column_role(joined) is not None
            merged.append(joined)
    return (merged, h + 1) if gained else (top, h)


def _map_columns(labels, file, sheet) -> tuple[dict, list[dict]]:
    """role → column position (indicators: code → (position, label, column unit)) and
    the unknown or unusable columns."""
    roles: dict = {"indicators": {}}
    unknown = []
    seen_label: dict = {}
    for j, label in enumerate(labels):
        if label is None:
            continue
        hit = column_role(label)
        if hit is None:
            unknown.append({"file": file, "sheet": sheet, "column": label,
                            "reason": "不是已知的指标或字段 (not a known indicator or field)"})
            continue
        role, code = hit
        if role == "ignore":
            continue
        if role == "indicator":
            cunit = column_unit(label)
            target = indicator_unit(code)
            if cunit is not None and not units_compatible(cunit, target):
                unknown.append({"file": file, "sheet": sheet, "column": label,
                                "reason": f"列单位“{cunit}”与指标单位“{target}”不符 "
                                          f"(column unit {cunit} does not fit {code} in {target})"})
                continue
            if code in roles["indicators"]:
                unknown.append({"file": file, "sheet": sheet, "column": label,
                                "reason": f"与列“{roles['indicators'][code][1]}”重复，均为 {code} "
                                          "(second column for the same indicator, not read)"})
                continue
            roles["indicators"][code] = (j, label, cunit)
            continue
        key = role if role != "ledger" else f"ledger:{code}"
        if key in roles:
            unknown.append({"file": file, "sheet": sheet, "column": label,
                            "reason": f"与列“{seen_label[key]}”重复 (repeated {role} column, not read)"})
            continue
        roles[key] = j
        seen_label[key] = label
    return roles, unknown


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


# ---------------------------------------------------------------------------
# One report sheet → rows, cells, rejects


def _col(body: pd.DataFrame, pos) -> pd.Series:
    if pos is None:
        return pd.Series(pd.NA, index=body.index, dtype="str")
    return body[pos].astype("str")


def _reject_frame(df: pd.DataFrame, column, value, reason) -> pd.DataFrame:
    out = pd.DataFrame({"file": df["file"], "sheet": df["sheet"], "row": df["row"],
                        "column": column, "value": value, "reason": reason})
    return out[REJECT_COLUMNS]


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


def _report_sheet(raw: RawSheet, h_last: int, roles: dict, seq0: int, long_form: bool):
    """rows (one per data or totals row) and cells (one per figure) of a report sheet."""
    file, sheet = raw.file, raw.sheet or ""      # "" for CSV: group keys must not be NA
    body = raw.cells.loc[h_last + 1:]
    ind = roles["indicators"]
    unit_txt = _col(body, roles.get("unit"))
    period_txt = _col(body, roles.get("period"))
    fig_pos = ([roles["indicator_name"], roles["value"]] if long_form
               else [pos for pos, _, _ in ind.values()])
    figures = body[fig_pos].notna() if fig_pos else pd.DataFrame(index=body.index)
    has_fig = figures.any(axis=1) if fig_pos else pd.Series(False, index=body.index)
    nonblank = unit_txt.notna() | period_txt.notna() | has_fig
    unit = unit_txt.map(normalise_name, na_action="ignore").astype("str")
    # 合计 is often typed in the 序号 column, spanning it and a blank unit cell.
    label_cols = [c for c in body.columns if c not in set(fig_pos)]
    labels_total = pd.Series(False, index=body.index)
    for c in label_cols:
        labels_total |= _is_total(body[c].map(normalise_name, na_action="ignore").astype("str"))
    total = _is_total(unit) | (unit.isna() & labels_total)
    unit = unit.mask(total & unit.isna(), "合计")
    note = unit.fillna("").str.match(_NOTE) & ~has_fig
    keep = (nonblank | total) & ~note
    rows = pd.DataFrame({"file": file, "sheet": sheet, "row": body.index.astype("int64"),
                         "unit": unit, "is_total": total, "total_kind": unit.where(total)},
                        index=body.index)[keep]
    rows["seq"] = seq0 + np.arange(len(rows))
    # 小计 closes a block: its units are the data rows since the previous 小计.
    rows["block"] = (rows["total_kind"] == "小计").fillna(False).shift(fill_value=False).cumsum()
    rows["form"] = "long" if long_form else "wide"
    for c in ("reject", "reject_column", "reject_value"):
        rows[c] = pd.Series(pd.NA, index=rows.index, dtype="str")
    rejects = []

    # period: the column, else the sheet's title / name
    per, per_err = _parse_periods(period_txt[keep])
    fallback = sheet_period(raw, h_last) if per.isna().any() else None
    if "period" not in roles and fallback is None:
        raise InputError(file, "no period column (期间/时间/月份/报送期间/period) and no period "
                         "such as 2024年4月 in the title rows, sheet name or file name",
                         sheet=raw.sheet)
    rows["period"] = per.where(per.notna() | per_err.notna(), fallback)

    data = ~rows["is_total"]
    _mark(rows, data & rows["unit"].isna(), "缺少单位名称 (no unit name)", "单位", "")
    period_reason = per_err.reindex(rows.index).fillna(
        "缺少期间 (no period in the row, the title, the sheet or the file name)")
    _mark(rows, data & rows["period"].isna(), period_reason, "期间",
          period_txt.reindex(rows.index).fillna(""))
    basis_txt = _col(body, roles.get("basis")).reindex(rows.index)
    basis = basis_txt.map(lambda t: _BASIS_LOOKUP.get(normalise_label(t)), na_action="ignore")
    _mark(rows, data & basis_txt.notna() & basis.isna(),
          "无法识别的口径 (口径 must be 当期 or 累计): " + basis_txt.fillna(""), "口径", basis_txt)
    rows["basis"] = basis.astype("str").fillna("period")

    cells = _long_cells(body, rows, roles) if long_form else _wide_cells(body, rows, ind)
    cells["file"], cells["sheet"] = file, sheet
    whole = rows["reject"].notna()
    rejects.append(_reject_frame(rows[whole], rows.loc[whole, "reject_column"],
                                 rows.loc[whole, "reject_value"], rows.loc[whole, "reject"]))

    # unit type and parent (a bad unit type is a cell reject; the row stays)
    ut_txt = _col(body, roles.get("unit_type")).reindex(rows.index)
    ut = ut_txt.map(resolve_unit_type, na_action="ignore").astype("str")
    bad_ut = ut_txt.notna() & ut.isna() & data & ~whole
    rows["unit_type"] = ut
    if bad_ut.any():
        rejects.append(_reject_frame(rows[bad_ut], "单位类型", ut_txt[bad_ut],
                                     "无法识别的单位类型 (unit type must be 县(市、区), 镇街, 部门 or 国有公司)"))
    rows["parent"] = _col(body, roles.get("parent")).reindex(rows.index).map(
        normalise_name, na_action="ignore").astype("str")

    return rows.reset_index(drop=True), cells, rejects


def _mark(rows: pd.DataFrame, mask: pd.Series, reason, column: str, value) -> None:
    """Reject whole rows (in place, on the frame being built): the first reason wins."""
    mask = mask & rows["reject"].isna()
    if not mask.any():
        return
    pick = (lambda v: v[mask] if isinstance(v, pd.Series) else v)
    rows.loc[mask, "reject"] = pick(reason)
    rows.loc[mask, "reject_column"] = column
    rows.loc[mask, "reject_value"] = pick(value)


def plausible(parsed: pd.DataFrame, code: str) -> pd.DataFrame:
    """``parse_numbers`` output with an error set (value NaN) where a figure cannot be
    right for indicator ``code``: a fractional count (2.5 hazards) or a figure above
    ``MAX_PLAUSIBLE``.  Does not modify ``parsed``."""
    v = parsed["value"]
    fraction = is_count_unit(indicator_unit(code)) & v.notna() & (v % 1 != 0)
    huge = v > MAX_PLAUSIBLE
    if not (fraction.any() or huge.any()):
        return parsed
    out = parsed.copy()
    out["error"] = out["error"].mask(fraction, "计数不是整数 (implausible: a count must be a "
                                     "whole number): " + v.astype("str"))
    out["error"] = out["error"].mask(huge, f"数值过大 (implausible: above {MAX_PLAUSIBLE:.0e}): "
                                     + v.map(lambda x: f"{x:.6g}"))
    out["value"] = v.mask(fraction | huge)
    return out


def _wide_cells(body, rows, ind) -> pd.DataFrame:
    frames = []
    for code, (pos, label, cunit) in ind.items():
        texts = body[pos].reindex(rows.index)
        texts = texts[texts.notna()].astype("str")
        parsed = plausible(parse_numbers(texts, target_unit=indicator_unit(code),
                                         assumed_unit=cunit), code)
        frames.append(pd.DataFrame({"row": rows.loc[texts.index, "row"], "column": label,
                                    "indicator": code, "text": texts, "value": parsed["value"],
                                    "approx": parsed["approx"], "error": parsed["error"]}))
    return _concat(frames, ["row", "column", "indicator", "text", "value", "approx", "error"])


def _long_cells(body, rows, roles) -> pd.DataFrame:
    names = body[roles["indicator_name"]].reindex(rows.index).astype("str")
    texts = body[roles["value"]].reindex(rows.index).astype("str")
    codes = names.map(resolve_indicator, na_action="ignore").astype("str")
    frames = []
    for code, idx in codes.groupby(codes).groups.items():
        t = texts.loc[idx]
        parsed = plausible(parse_numbers(t, target_unit=indicator_unit(code)), code)
        frames.append(pd.DataFrame({"row": rows.loc[idx, "row"], "column": names.loc[idx],
                                    "indicator": code, "text": t, "value": parsed["value"],
                                    "approx": parsed["approx"], "error": parsed["error"]}))
    data = ~rows["is_total"]
    _mark(rows, data & names.notna() & codes.isna(),
          "未知指标 (unknown indicator): " + names.fillna(""), "指标", names)
    _mark(rows, data & names.isna() & texts.notna(), "缺少指标名称 (no indicator name)", "指标", "")
    cells = _concat(frames, ["row", "column", "indicator", "text", "value", "approx", "error"])
    return cells[cells["text"].notna()]


def _concat(frames, columns) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------
# Duplicates, cumulative conversion, reconciliation


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
    out_ident = _reject_frame(ident, "单位", ident[key[0]],
                              "duplicate of " + ident["_id"].map(first_name) + " (identical)")
    diff = dup[~same]
    out_diff = _reject_frame(diff, "单位", diff[key[0]],
                             f"{what}重复且数据不一致 (reported more than once with different "
                             "figures): also " + diff["_id"].map(names))
    return pd.concat([out_ident.assign(identical=True), out_diff.assign(identical=False)])


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
    Returns the cells with ``value`` in-period, and ``error`` set (value NaN) where a
    cumulative figure decreased.  Does not modify ``cells``.
    """
    for c in ("unit", "indicator", "period", "basis", "value"):
        if c not in cells.columns:
            raise ValueError(f"cumulative_to_period: missing column {c!r}")
    out = cells.copy()
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

    def in_period(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.Series, pd.Series]:
        cum = frame["basis"].eq("cumulative")
        seg = cum.groupby([frame[k] for k in keys]).cumsum()
        base = frame["value"].where(cum)
        seg_keys = [frame[k] for k in keys] + [seg]
        base = base.groupby(seg_keys).transform("first").fillna(0.0)
        level = base + frame["value"].where(~cum, 0.0).groupby(seg_keys).cumsum()
        prev = (level.groupby([frame[k] for k in keys]).shift(1)
                .groupby([frame[k] for k in keys]).cummax().fillna(0.0))
        return frame["value"].where(~cum, frame["value"] - prev), prev

    val, prev = in_period(work, g)
    # year-to-date series: the first 累计 of a later year falls below the carried level
    cum = work["basis"].eq("cumulative")
    first_cum_of_year = cum & ~cum.groupby([work[k] for k in g + ["_year"]]).shift(
        fill_value=False).groupby([work[k] for k in g + ["_year"]]).cummax()
    later_year = work["_year"] > work.groupby(g)["_year"].transform("min")
    ytd_group = (first_cum_of_year & later_year & (val < 0)).groupby(
        [work[k] for k in g]).transform("any")
    if ytd_group.any():
        v2, p2 = in_period(work, g + ["_year"])
        val, prev = val.where(~ytd_group, v2), prev.where(~ytd_group, p2)
    bad = cum & (val < 0)
    work["value"] = val.where(~bad)
    fmt = lambda x: f"{x:g}"  # noqa: E731
    if bad.any():
        work["error"] = work["error"].where(~bad, "累计数下降 (cumulative figure fell): 上期累计 "
                                            + prev[bad].map(fmt) + "，本期累计 "
                                            + out.loc[bad[bad].index, "value"].map(fmt)
                                            + " (in-period figure would be negative)")
    out.loc[work.index, ["value", "error"]] = work[["value", "error"]]
    return out.drop(columns=["_t", "_year", "_freq"]).sort_index()


def _reconcile(rows: pd.DataFrame, cells: pd.DataFrame, unit_cells: pd.DataFrame) -> pd.DataFrame:
    """Totals rows' figures against the sum of their units (same file, sheet, period;
    for 小计 the same block).  Values are compared as typed (before 累计 conversion)."""
    tot = rows[rows["is_total"]]
    if tot.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in RECONCILIATION_COLUMNS})
    tc = cells.merge(tot[["file", "sheet", "row", "block", "total_kind"]],
                     on=["file", "sheet", "row"], how="inner")
    # A totals row without a period of its own stands for its sheet's one period.
    sheet_per = (rows[~rows["is_total"]].groupby(["file", "sheet"], dropna=False)["period"]
                 .agg(lambda p: p.dropna().iloc[0] if p.dropna().nunique() == 1 else pd.NA))
    fill = tc.set_index(["file", "sheet"]).index.map(sheet_per.to_dict().get)
    tc["period"] = tc["period"].fillna(pd.Series(fill, index=tc.index, dtype="str"))
    u = unit_cells.merge(rows[["file", "sheet", "row", "block"]], on=["file", "sheet", "row"])
    by_sheet = u.groupby(["file", "sheet", "period", "indicator"], dropna=False)["value"].sum()
    by_block = u.groupby(["file", "sheet", "period", "block", "indicator"], dropna=False)["value"].sum()
    k_sheet = pd.MultiIndex.from_frame(tc[["file", "sheet", "period", "indicator"]])
    k_block = pd.MultiIndex.from_frame(tc[["file", "sheet", "period", "block", "indicator"]])
    s_sheet = by_sheet.reindex(k_sheet).fillna(0.0).to_numpy()
    s_block = by_block.reindex(k_block).fillna(0.0).to_numpy()
    sums = np.where(tc["total_kind"].eq("小计").fillna(False), s_block, s_sheet)
    stated = tc["value"].to_numpy(dtype="float64")
    diff = stated - sums
    status = np.select(
        [tc["error"].notna(), tc["period"].isna(), tc["approx"].astype(bool),
         np.isclose(stated, sums, rtol=1e-9, atol=1e-6)],
        ["unreadable", "no period", "approx", "ok"], "mismatch")
    out = pd.DataFrame({"file": tc["file"], "sheet": tc["sheet"], "row": tc["row"],
                        "period": tc["period"], "indicator": tc["indicator"], "stated": stated,
                        "sum_of_units": sums, "difference": diff, "status": status})
    return out.sort_values(["file", "sheet", "row", "indicator"]).reset_index(drop=True)


# ---------------------------------------------------------------------------
# Exposure sheets


def _exposure_sheet(raw: RawSheet, h_last: int, roles: dict, seq0: int):
    file, sheet = raw.file, raw.sheet or ""
    body = raw.cells.loc[h_last + 1:]
    unit = _col(body, roles.get("unit")).map(normalise_name, na_action="ignore").astype("str")
    ent = _col(body, roles.get("enterprises"))
    sec_txt = _col(body, roles.get("sector"))
    keep = unit.notna() | ent.notna() | sec_txt.notna()
    total = _is_total(unit) & keep
    note = unit.fillna("").str.match(_NOTE) & ent.isna()
    data = keep & ~total & ~note
    df = pd.DataFrame({"file": file, "sheet": sheet, "row": body.index.astype("int64"),
                       "unit": unit, "text": ent, "sector_txt": sec_txt})[data]
    df["seq"] = seq0 + np.arange(len(df))
    parsed = parse_numbers(df["text"], target_unit="家")
    df["enterprises"] = parsed["value"]
    sector = df["sector_txt"].map(resolve_sector, na_action="ignore").astype("str")
    df["sector"] = sector.where(df["sector_txt"].notna(), "")
    reason = pd.Series(pd.NA, index=df.index, dtype="str")
    reason = reason.mask(df["unit"].isna(), "缺少单位名称 (no unit name)")
    reason = reason.fillna(parsed["error"])
    reason = reason.mask(reason.isna() & df["sector"].isna(),
                         "无法识别的行业领域 (unknown sector): " + df["sector_txt"])
    bad = reason.notna()
    col = np.where(df["unit"].isna(), "单位", np.where(parsed["error"].notna(), "监管企业数", "行业领域"))
    rejects = [_reject_frame(df[bad], col[bad.to_numpy()],
                             df.loc[bad, "text"].fillna(""), reason[bad])]
    good = df[~bad & df["enterprises"].notna()].copy()
    good["signature"] = good["enterprises"].map(lambda v: f"{v:g}")
    dups = flag_duplicates(good, ["unit", "sector"], "监管企业数")
    rejects.append(dups[REJECT_COLUMNS])
    gone = pd.MultiIndex.from_frame(dups[["file", "row"]]) if len(dups) else None
    if gone is not None:
        good = good[~pd.MultiIndex.from_frame(good[["file", "row"]]).isin(gone)]
    exposure = pd.DataFrame({"unit": good["unit"], "sector": good["sector"],
                             "enterprises": good["enterprises"].astype("float64"),
                             "source_file": file, "source_row": good["row"].astype("int64")})
    n_read = int(data.sum())
    n_rej = len(set(pd.concat(rejects)["row"]))
    n_empty = int((~bad & df["enterprises"].isna()).sum())
    stats = {"rows_read": n_read, "rows_clean": n_read - n_rej, "rows_empty": n_empty,
             "rows_rejected": n_rej, "rows_duplicate_identical": int(dups["identical"].sum())
             if len(dups) else 0, "rows_totals": int(total.sum())}
    return exposure, rejects, stats


# ---------------------------------------------------------------------------
# The whole input


def _expand(paths) -> list[Path]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.suffix.lower() in EXCEL_SUFFIXES | CSV_SUFFIXES
                           and not f.name.startswith(("~$", ".")))
            if not files:
                raise InputError(p, "folder holds no .csv or .xlsx file")
            out += files
        else:
            out.append(p)
    if not out:
        raise ValueError("ingest: no input paths given")
    return out


def _empty(cells: pd.DataFrame) -> bool:
    return cells.size == 0 or not cells.notna().to_numpy().any()


def ingest(paths, *, sheet=None, deadline_day=24, campaign_start=None, campaign_end=None,
           aliases="default") -> Dataset:
    """Read report, exposure and ledger tables into one validated ``Dataset``.

    ``paths``: files or folders (a folder means its .csv/.xlsx/.xls files); ``sheet``:
    read only that sheet of each workbook.  ``deadline_day``, ``campaign_start`` and
    ``campaign_end`` go to ``ledger.effective_counts``.  ``aliases``: the unit alias
    table (a CSV path or a DataFrame with alias, unit), ``"default"`` for
    ``data/raw/unit_aliases.csv`` when it exists, None for none; aliases are replaced
    before duplicates are looked for, and near-duplicate names it does not cover are
    reported in ``Dataset.unit_aliases`` (kind ``likely``), never merged.
    Raises InputError for a missing, empty, unreadable or unsupported file, a file with
    a header and no data rows, a workbook whose only data are on hidden sheets, a sheet
    with no recognisable header, or a report sheet with no unit column, no indicator
    column or no period anywhere.  Empty and hidden sheets of a workbook, and sheets
    with no recognisable header in a workbook where other sheets have one, are skipped
    and noted in ``summary``.
    """
    alias_map = load_unit_aliases(default_alias_table() if isinstance(aliases, str)
                                  and aliases == "default" else aliases)
    applied = []

    def rename(frame: pd.DataFrame, cols=("unit", "parent")) -> pd.DataFrame:
        if not alias_map or frame is None or frame.empty:
            return frame
        frame = frame.copy()
        for c in cols:
            if c in frame.columns:
                frame[c], done = apply_unit_aliases(frame[c], alias_map)
                applied.append(done)
        return frame

    all_rows, all_cells, rejects, unknown, summaries = [], [], [], [], []
    exposure, ledgers = [], []
    seq = 0
    for path in _expand(paths):
        sheets = read_raw(path, sheet)
        used = 0
        n_data = 0
        notes = []
        for raw in sheets:
            base = {"file": raw.file, "sheet": raw.sheet}
            if _empty(raw.cells):
                notes.append({**base, "kind": "", "note": "empty sheet, skipped"})
                continue
            if raw.hidden and sheet is None:
                notes.append({**base, "kind": "", "note": "hidden sheet, skipped"})
                continue
            h = find_header_row(raw, _is_known)
            if h is None:
                notes.append({**base, "kind": "", "note": "no recognisable header, skipped"})
                continue
            labels, h_last = _header_labels(raw, h)
            if ledger_mod.is_ledger_header(labels):
                rows, rej = ledger_mod.parse_ledger_sheet(raw, h)
                ledgers.append(rename(rows, ("unit",)))
                rejects.append(rej)
                n_rej = rej["row"].nunique() if len(rej) else 0
                n_data += len(rows) + n_rej
                summaries.append({**base, "kind": "ledger", "header_row": h,
                                  "rows_read": len(rows) + n_rej, "rows_clean": len(rows),
                                  "rows_empty": 0, "rows_rejected": n_rej,
                                  "rows_duplicate_identical": 0, "rows_totals": 0,
                                  "reject_records": len(rej), "note": ""})
                used += 1
                continue
            roles, unk = _map_columns(labels, raw.file, raw.sheet)
            unknown += unk
            if "unit" not in roles:
                raise InputError(raw.file, "no unit column (expected one of "
                                 + ", ".join(HEADER_ALIASES["unit"]) + ")", sheet=raw.sheet)
            if "enterprises" in roles:
                exp, rej, stats = _exposure_sheet(raw, h_last, roles, seq)
                seq += stats["rows_read"]
                n_data += stats["rows_read"]
                exposure.append(rename(exp, ("unit",)))
                rejects += rej
                summaries.append({**base, "kind": "exposure", "header_row": h, **stats,
                                  "reject_records": int(sum(len(r) for r in rej)), "note": ""})
                used += 1
                continue
            long_form = "indicator_name" in roles and "value" in roles
            if not long_form and not roles["indicators"]:
                raise InputError(raw.file, "no indicator column recognised; " + _EXPECTED_HEADERS,
                                 sheet=raw.sheet)
            rows, cells, rej = _report_sheet(raw, h_last, roles, seq, long_form)
            seq += len(rows)
            n_data += len(rows)
            all_rows.append(rename(rows))
            all_cells.append(cells)
            rejects += rej
            summaries.append({**base, "kind": "long" if long_form else "reports", "header_row": h})
            used += 1
        if used == 0:
            if all(n["note"].startswith("empty") for n in notes):
                what = "file is empty" if len(sheets) <= 1 and sheet is None else (
                    f"sheet {sheet!r} is empty" if sheet else "every sheet is empty")
                raise InputError(path, what)
            hidden = [n["sheet"] for n in notes if n["note"].startswith("hidden")]
            if hidden:
                raise InputError(path, "the only sheets with data are hidden ("
                                 + ", ".join(hidden) + "); unhide one or name it with --sheet")
            raise InputError(path, "no recognisable header in the first 20 rows; " + _EXPECTED_HEADERS,
                             sheet=sheet)
        if n_data == 0:
            raise InputError(path, "a header but no data rows below it", sheet=sheet)
        summaries += notes

    ds = _assemble(all_rows, all_cells, rejects, summaries)
    names = pd.concat([ds.panel["unit"]] + [e["unit"] for e in exposure]
                      + [lg["unit"] for lg in ledgers])
    done = [a for a in applied if len(a)]
    done = (pd.concat(done).groupby(["name", "unit"], as_index=False)["rows"].sum()
            .assign(kind="applied", distance=pd.NA) if done else None)
    parts = [d for d in (done, likely_aliases(names)) if d is not None and len(d)]
    ds.unit_aliases = (pd.concat(parts, ignore_index=True)[ALIAS_COLUMNS] if parts
                       else pd.DataFrame(columns=ALIAS_COLUMNS))
    ds.unknown_columns = pd.DataFrame(unknown, columns=UNKNOWN_COLUMNS).astype("str")
    ds.exposure = (pd.concat(exposure, ignore_index=True) if exposure
                   else pd.DataFrame(columns=EXPOSURE_COLUMNS))
    if ledgers:
        ds.ledger = pd.concat(ledgers, ignore_index=True)
        ds.ledger_counts = ledger_mod.effective_counts(
            ds.ledger, deadline_day=deadline_day, campaign_start=campaign_start,
            campaign_end=campaign_end)
    else:
        ds.ledger = pd.DataFrame(columns=LEDGER_COLUMNS)
    # A CSV has no sheet: "" inside (group keys), missing outside.
    for table, col in ((ds.panel, "source_sheet"), (ds.rejects, "sheet"),
                       (ds.reconciliation, "sheet"), (ds.unknown_columns, "sheet"),
                       (ds.summary, "sheet")):
        if col in table.columns:
            table[col] = table[col].astype("str").replace("", pd.NA)
    return ds


def _assemble(all_rows, all_cells, rejects, summaries) -> Dataset:
    """Duplicates, 累计 conversion, the panel, reconciliation and the summary."""
    rows = _concat(all_rows, ["file", "sheet", "row", "unit", "is_total", "total_kind", "seq",
                              "block", "form", "reject", "period", "basis", "unit_type", "parent"])
    cells = _concat(all_cells, ["file", "sheet", "row", "column", "indicator", "text", "value",
                                "approx", "error"])
    if rows.empty:  # only exposure or ledger sheets
        rej = _concat(rejects, REJECT_COLUMNS)
        rej = rej.astype({"row": "int64"}) if len(rej) else empty_rejects()
        return Dataset(rejects=rej.reset_index(drop=True),
                       reconciliation=pd.DataFrame(columns=RECONCILIATION_COLUMNS),
                       summary=pd.DataFrame(summaries, columns=SUMMARY_COLUMNS))
    for c in ("file", "sheet", "column", "indicator", "text", "error"):
        cells[c] = cells[c].astype("str")
    for c in ("file", "sheet"):
        rows[c] = rows[c].astype("str")
    cells = cells.astype({"row": "int64", "value": "float64", "approx": "bool"})
    rows = rows.astype({"row": "int64", "is_total": "bool"})
    key3 = ["file", "sheet", "row"]
    info = rows[["file", "sheet", "row", "unit", "unit_type", "parent", "period", "basis", "seq",
                 "is_total", "reject", "form"]]
    cells = cells.merge(info, on=key3, how="left", validate="many_to_one")
    rows_ok = rows[~rows["is_total"] & rows["reject"].isna()]
    cells_ok = cells[~cells["is_total"] & cells["reject"].isna()]

    # Duplicates: a wide row per (unit, period), a long row per (unit, period, indicator).
    sig = (cells_ok["indicator"] + "=" + cells_ok["value"].map(lambda v: f"{v:.10g}", na_action="ignore")
           .astype("str").fillna("?" + cells_ok["text"].fillna(""))).groupby([cells_ok[k] for k in key3]).agg(
        lambda s: "|".join(sorted(s)))
    rec = rows_ok.set_index(key3)
    rec["signature"] = rec["basis"] + ":" + sig.reindex(rec.index).fillna("")
    rec = rec.reset_index()
    first_ind = cells_ok.drop_duplicates(key3).set_index(key3)["indicator"]
    rec["key_ind"] = np.where(rec["form"].eq("long"),
                              first_ind.reindex(pd.MultiIndex.from_frame(rec[key3])).to_numpy(), "*")
    dups = flag_duplicates(rec, ["unit", "period", "key_ind"], "同一单位同一期间")
    dup_keys = pd.MultiIndex.from_frame(dups[key3].astype({"row": "int64"})) if len(dups) else None
    if dup_keys is not None:
        in_dup = pd.MultiIndex.from_frame(cells_ok[key3]).isin(dup_keys)
        cells_ok = cells_ok[~in_dup]
    bad_cells = cells_ok[cells_ok["error"].notna()]
    cell_rejects = _reject_frame(bad_cells, bad_cells["column"], bad_cells["text"], bad_cells["error"])
    good = cells_ok[cells_ok["error"].isna() & cells_ok["value"].notna()]

    # Reconciliation uses the units' figures as typed, before 累计 conversion.
    totals_cells = cells[cells["is_total"]]
    recon = _reconcile(rows, totals_cells, good)

    conv = cumulative_to_period(good)
    fell = conv[conv["error"].notna()]
    fell_rejects = _reject_frame(fell, fell["column"], fell["text"], fell["error"])
    good = conv[conv["error"].isna()]

    # Cross-form guard: one figure per unit, period and indicator.
    good = good.assign(signature=good["value"].map(lambda v: f"{v:.10g}"))
    cross = flag_duplicates(good, ["unit", "period", "indicator"], "同一单位同一期间同一指标")
    if len(cross):
        ck = pd.MultiIndex.from_frame(cross[key3])
        hit = pd.MultiIndex.from_frame(good[key3]).isin(ck) & good.duplicated(
            ["unit", "period", "indicator"], keep=False)
        cross = cross.assign(column=good.loc[hit].set_index(key3).reindex(
            pd.MultiIndex.from_frame(cross[key3]))["column"].to_numpy())
        good = good[~hit]

    panel = pd.DataFrame({
        "unit": good["unit"], "unit_type": good["unit_type"], "parent": good["parent"],
        "period": good["period"], "indicator": good["indicator"], "value": good["value"],
        "approx": good["approx"], "source_file": good["file"], "source_sheet": good["sheet"],
        "source_row": good["row"]})
    panel = (panel.astype(empty_panel().dtypes.to_dict())
             .sort_values(["unit", "period", "indicator", "source_file", "source_row"], kind="stable")
             .reset_index(drop=True))

    row_rejects = _concat([r for r in rejects], REJECT_COLUMNS)
    all_rejects = _concat([row_rejects, dups[REJECT_COLUMNS] if len(dups) else None,
                           cell_rejects, fell_rejects,
                           cross[REJECT_COLUMNS] if len(cross) else None], REJECT_COLUMNS)
    all_rejects = (all_rejects.astype({"row": "int64"}).astype(
        {c: "str" for c in REJECT_COLUMNS if c != "row"})
        if len(all_rejects) else empty_rejects())
    all_rejects = all_rejects.sort_values(["file", "sheet", "row"], kind="stable").reset_index(drop=True)

    summary = _summary(rows, panel, all_rejects, dups, summaries)
    return Dataset(panel=panel, rejects=all_rejects, reconciliation=recon, summary=summary)


def _summary(rows, panel, rejects, dups, summaries) -> pd.DataFrame:
    data = rows[~rows["is_total"]]
    key3 = ["file", "sheet", "row"]
    idx = pd.MultiIndex.from_frame(data[key3].astype({"sheet": "str"}))
    in_panel = idx.isin(pd.MultiIndex.from_frame(panel[["source_file", "source_sheet", "source_row"]]))
    in_rej = idx.isin(pd.MultiIndex.from_frame(rejects[key3]))
    ident = idx.isin(pd.MultiIndex.from_frame(dups.loc[dups["identical"].astype(bool), key3])) \
        if len(dups) else np.zeros(len(data), bool)
    flags = pd.DataFrame({"file": data["file"], "sheet": data["sheet"].fillna(""),
                          "read": 1, "clean": (in_panel | ~in_rej).astype(int),
                          "empty": (~in_panel & ~in_rej).astype(int),
                          "rejected": (~in_panel & in_rej).astype(int), "ident": ident.astype(int)})
    per = flags.groupby(["file", "sheet"]).sum()
    tot = rows[rows["is_total"]].assign(sheet=lambda d: d["sheet"].fillna("")).groupby(
        ["file", "sheet"]).size()
    nrej = rejects.assign(sheet=rejects["sheet"].fillna("")).groupby(["file", "sheet"]).size()
    out = []
    for s in summaries:
        k = (s["file"], "" if pd.isna(s["sheet"]) else s["sheet"])
        if s.get("kind") in ("reports", "long"):
            p = per.loc[k] if k in per.index else pd.Series(0, index=per.columns)
            s = {**s, "rows_read": int(p.get("read", 0)), "rows_clean": int(p.get("clean", 0)),
                 "rows_empty": int(p.get("empty", 0)), "rows_rejected": int(p.get("rejected", 0)),
                 "rows_duplicate_identical": int(p.get("ident", 0)),
                 "rows_totals": int(tot.get(k, 0)), "reject_records": int(nrej.get(k, 0)), "note": ""}
        out.append(s)
    df = pd.DataFrame(out, columns=SUMMARY_COLUMNS)
    for c in SUMMARY_COLUMNS[3:-1]:
        df[c] = df[c].fillna(0).astype("int64")
    return df


# ---------------------------------------------------------------------------
# CLI


def configure_parser(p: argparse.ArgumentParser) -> None:
    """``anquan ingest PATH... [--sheet NAME] [--output DIR]``."""
    from .config import DATA_PROCESSED, DEFAULT_REPORT_DEADLINE_DAY
    p.add_argument("paths", nargs="+", help="CSV/XLSX files or folders of them")
    p.add_argument("--sheet", help="read only this sheet of each workbook")
    p.add_argument("--output", default=str(DATA_PROCESSED),
                   help=f"folder for panel.parquet, rejects.csv and side tables (default {DATA_PROCESSED})")
    p.add_argument("--aliases", default="default",
                   help="unit alias table, CSV with alias,unit (default: data/raw/unit_aliases.csv "
                        "when present; 'none' for no table)")
    p.add_argument("--deadline-day", type=int, default=DEFAULT_REPORT_DEADLINE_DAY,
                   help="hazards must be reported by this day of the month (ledger)")
    p.add_argument("--campaign-start", help="first day of the campaign window (ledger), YYYY-MM-DD")
    p.add_argument("--campaign-end", help="last day of the campaign window (ledger), YYYY-MM-DD")


def run_command(args) -> int:
    """Ingest, save, and print one line per file and sheet, totals, unknown columns and
    reconciliation mismatches."""
    aliases = None if args.aliases.lower() in ("none", "") else args.aliases
    ds = ingest(args.paths, sheet=args.sheet, deadline_day=args.deadline_day,
                campaign_start=args.campaign_start, campaign_end=args.campaign_end,
                aliases=aliases)
    ds.save(args.output)
    for line in summary_lines(ds):
        print(line)
    print(f"wrote {Path(args.output) / 'panel.parquet'} and rejects.csv")
    return 0


def summary_lines(ds: Dataset) -> list[str]:
    """The lines ``anquan ingest`` prints."""
    lines = []
    s = ds.summary
    for r in s.itertuples():
        where = Path(r.file).name + (f" [{r.sheet}]" if isinstance(r.sheet, str) and r.sheet else "")
        if r.note:
            lines.append(f"{where}: {r.note}")
            continue
        lines.append(f"{where} ({r.kind}): {r.rows_read} rows read, {r.rows_clean} clean "
                     f"({r.rows_empty} empty), {r.rows_rejected} rejected "
                     f"({r.rows_duplicate_identical} identical duplicates), "
                     f"{r.rows_totals} totals rows, {r.reject_records} reject records")
    lines.append(f"total: {int(s['rows_read'].sum())} rows read, {int(s['rows_clean'].sum())} clean, "
                 f"{int(s['rows_rejected'].sum())} rejected; {len(ds.panel)} figures in the panel, "
                 f"{len(ds.rejects)} reject records")
    for r in ds.unit_aliases.itertuples():
        if r.kind == "applied":
            lines.append(f"unit alias applied: {r.name} → {r.unit} ({r.rows} rows)")
        else:
            lines.append(f"likely alias (not merged): {r.name!r} ~ {r.unit!r} ({r.distance} edit); "
                         "if they are one unit, add the pair to unit_aliases.csv")
    for r in ds.unknown_columns.itertuples():
        sheet = f" [{r.sheet}]" if isinstance(r.sheet, str) and r.sheet else ""
        lines.append(f"unknown column: {Path(r.file).name}{sheet} {r.column!r}: {r.reason}")
    rc = ds.reconciliation
    if len(rc):
        for r in rc[rc["status"] == "mismatch"].itertuples():
            sheet = f" [{r.sheet}]" if isinstance(r.sheet, str) and r.sheet else ""
            lines.append(f"reconciliation mismatch: {Path(r.file).name}{sheet} row {r.row} "
                         f"{r.period} {r.indicator}: stated {r.stated:g}, units sum "
                         f"{r.sum_of_units:g}, difference {r.difference:g}")
    return lines
