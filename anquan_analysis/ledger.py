"""The hazard ledger (隐患台账): one row per hazard, cleaned, then counted as 巴南 counts
it, only the *effective* (有效) hazards: "满足重大事故隐患判定标准、符合报送时限并纳入直报系统".

Three steps, each a plain function over DataFrames:

``parse_ledger_sheet``  raw sheet → clean ledger rows (``dataset.LEDGER_COLUMNS``) + rejects
``effective_counts``    clean ledger → counts per unit × month × sector
``ledger_panel``        counts → long panel rows (``dataset.PANEL_COLUMNS``) for the checks

Field values in the clean ledger:

============== =================================================================
hazard_id      the id as typed, NFKC, no white space (str)
unit           normalised unit name (str)
sector         canonical 行业领域 (``catalogue.SECTORS``); ``""`` when the cell is blank
found_date     datetime64[ns], never missing
reported_date  datetime64[ns]; NaT when blank or the sheet has no such column
source         ``dept`` (部门检查) or ``enterprise`` (企业自查); missing when blank
meets_standard nullable boolean (是否符合判定标准); missing when blank
status         ``rectified``, ``in_progress`` or ``open``; missing when blank
rectified_date datetime64[ns]; NaT when blank
source_file    the file the row came from
source_row     its 1-based row number in the file or sheet
============== =================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import limits
from .catalogue import resolve_sector
from .dataset import LEDGER_COLUMNS, LEDGER_COUNT_COLUMNS, PANEL_COLUMNS, REJECT_COLUMNS
from .errors import InputError
from .tables import RawSheet
from .text import normalise_label
from .dataset import require_columns as _require
# counting lives in effective.py; its names are the ledger's public API too
from .effective import (EXTRA_COUNT_COLUMNS, effective_counts,  # noqa: F401
                        effective_counts_parquet, report_deadline)

# Extra count columns after LEDGER_COUNT_COLUMNS (see effective_counts).

_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "hazard_id": ("隐患编号", "编号", "隐患序号", "hazard_id", "隐患id"),
    "unit": ("单位", "填报单位", "责任单位", "报送单位", "单位名称", "unit"),
    "sector": ("行业领域", "行业", "所属行业", "所属行业领域", "sector"),
    "found_date": ("发现日期", "发现时间", "排查日期", "排查时间", "found_date"),
    "reported_date": ("报送日期", "上报日期", "录入日期", "报送时间", "上报时间", "录入时间",
                      "reported_date"),
    "source": ("发现方式", "隐患来源", "发现途径", "来源", "source"),
    "meets_standard": ("是否符合判定标准", "符合判定标准", "是否符合重大事故隐患判定标准",
                       "是否构成重大事故隐患", "meets_standard"),
    "status": ("整改状态", "整改情况", "整改进度", "status"),
    "rectified_date": ("整改完成日期", "整改完成时间", "完成整改日期", "整改日期", "销号日期",
                       "rectified_date"),
}
_FIELD_LOOKUP = {normalise_label(a): f for f, aliases in _FIELD_ALIASES.items() for a in aliases}
_DATE_OR_STATUS = {"found_date", "reported_date", "rectified_date", "status"}
_REQUIRED = ("hazard_id", "unit", "found_date")

_SOURCE_VALUES = {
    "dept": ("部门检查", "部门", "部门检查发现", "部门发现", "执法检查", "dept"),
    "enterprise": ("企业自查", "企业", "企业自查自报", "企业自查发现", "企业自查上报", "企业发现",
                   "enterprise"),
}
_STATUS_VALUES = {
    "rectified": ("已整改", "整改完成", "已完成", "已销号", "完成", "rectified"),
    "in_progress": ("整改中", "正在整改", "in_progress"),
    "open": ("未整改", "未完成", "open"),
}
_BOOL_VALUES = {
    True: ("是", "符合", "构成", "y", "yes", "true", "1", "√"),
    False: ("否", "不符合", "不构成", "n", "no", "false", "0", "×"),
}


def _invert(table: dict) -> dict:
    return {normalise_label(a): key for key, aliases in table.items() for a in aliases}


_SOURCE_LOOKUP = _invert(_SOURCE_VALUES)
_STATUS_LOOKUP = _invert(_STATUS_VALUES)
_BOOL_LOOKUP = _invert(_BOOL_VALUES)

# 2024-04-05, 2024/4/5, 2024.4.5, 2024年4月5日, each optionally followed by a time.
_DATE_RE = (r"^(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?"
            r"(?:[\sT]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_COMPACT_DATE_RE = r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})$"   # 20240405
_SERIAL_RE = r"^\d{5}(?:\.\d+)?$"                                          # 45387
# Excel's day 0 (its 1900 leap-year bug makes 1899-12-30 the right epoch after Feb 1900).
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Serial numbers read as dates only within 1990-01-01 … 2099-12-31, so that a stray
# five-digit figure is not taken for a date.
_SERIAL_MIN, _SERIAL_MAX = 32874, 73050


# ---------------------------------------------------------------------------
# Header recognition


def resolve_ledger_field(label) -> str | None:
    """The LEDGER_COLUMNS field a header label names (隐患编号 → ``hazard_id``,
    填报单位 → ``unit`` …); ``None`` if it names none."""
    if label is None:
        return None
    return _FIELD_LOOKUP.get(normalise_label(label))


def is_ledger_header(labels) -> bool:
    """True when the header cells include the hazard id column (隐患编号, 编号, 隐患序号,
    hazard_id) and at least one of the date or status columns."""
    fields = {resolve_ledger_field(v) for v in labels if v is not None}
    return "hazard_id" in fields and bool(fields & _DATE_OR_STATUS)


# ---------------------------------------------------------------------------
# Vectorised cell parsers (input: str Series with NA for blank cells)


def _by_unique(values: pd.Series, fn) -> pd.Series:
    """``fn`` (a vectorised Series → Series parser) applied to the distinct values of
    ``values`` only and spread back; a ledger repeats its dates, units and codes, so
    this does the slow string work a few hundred times instead of once per row."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    parsed = fn(pd.Series(uniques, dtype=object)).reset_index(drop=True)
    # Missing inputs (code -1) take the appended missing value.
    parsed = pd.concat([parsed, pd.Series([None], dtype=parsed.dtype)], ignore_index=True)
    out = parsed.iloc[np.where(codes < 0, len(uniques), codes)]
    out.index = values.index
    return out


def _text_unique(col: pd.Series) -> pd.Series:
    s = col.astype("str").str.normalize("NFKC").str.strip()
    return s.where(s.str.len() > 0)


def _text(col: pd.Series) -> pd.Series:
    """Cell texts as str: NFKC, stripped, blank → missing."""
    return _by_unique(col, _text_unique)


def _key(s: pd.Series) -> pd.Series:
    """The lookup form of a cell, as normalise_label makes it, vectorised."""
    return s.str.replace(r"\s+", "", regex=True).str.lower()


def _parse_dates_unique(texts: pd.Series) -> pd.Series:
    s = _text_unique(texts)
    parts = s.str.extract(_DATE_RE)
    compact = s.str.extract(_COMPACT_DATE_RE)
    parts = parts.fillna(compact).apply(pd.to_numeric, errors="coerce")
    ymd = pd.to_datetime(parts[["year", "month", "day"]], errors="coerce")
    serial = pd.to_numeric(s.where(s.str.fullmatch(_SERIAL_RE)), errors="coerce")
    serial = serial.where(serial.between(_SERIAL_MIN, _SERIAL_MAX))
    from_serial = _EXCEL_EPOCH + pd.to_timedelta(np.floor(serial), unit="D")
    return ymd.fillna(from_serial).astype("datetime64[ns]")


def parse_dates(texts: pd.Series) -> pd.Series:
    """Dates typed as 2024-04-05, 2024/4/5, 2024.4.5, 2024年4月5日, 20240405, an Excel
    serial number (45387 → 2024-04-05) or a date-time text (the time is dropped).

    Returns datetime64[ns] with ``texts``' index; NaT for blank and unparseable cells
    (tell them apart by the input).  Impossible dates (2024-02-30) are NaT.  Does not
    modify ``texts``.
    """
    return _by_unique(texts, _parse_dates_unique)


def _lookup(s: pd.Series, table: dict) -> pd.Series:
    return _by_unique(s, lambda u: _key(u.astype("str")).map(table).astype(object))


# ---------------------------------------------------------------------------
# Parsing one sheet


class _Problems:
    """Row problems collected rule by rule, vectorised: the first problem of a row names
    its column and value in the rejects table; the reason lists all of them."""

    def __init__(self, index: pd.Index):
        self.index = index
        self.reason = pd.Series("", index=index, dtype="str")
        self.column = pd.Series("", index=index, dtype="str")
        self.value = pd.Series("", index=index, dtype="str")

    def add(self, mask: pd.Series, label: str, value: pd.Series, message) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        first = mask & (self.reason == "")
        message = message if isinstance(message, pd.Series) else pd.Series(message, index=self.index)
        text = label + ": " + message.astype("str")
        sep = self.reason.where(self.reason == "", self.reason + "; ")
        self.reason = self.reason.mask(mask, sep + text)
        self.column = self.column.mask(first, label)
        self.value = self.value.mask(first, value.fillna("").astype("str"))

    @property
    def rejected(self) -> pd.Series:
        return self.reason != ""


def _field_columns(raw: RawSheet, header_row: int) -> dict[str, tuple[int, str]]:
    """field → (column position, header label as typed); the first column wins when
    two headers name the same field."""
    header = raw.cells.loc[header_row]
    found: dict[str, tuple[int, str]] = {}
    for pos, label in header.items():
        field = resolve_ledger_field(label)
        if field is not None and field not in found:
            found[field] = (pos, str(label).strip())
    return found


def parse_ledger_sheet(raw: RawSheet, header_row: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The clean ledger rows (LEDGER_COLUMNS) and the rejects (REJECT_COLUMNS) of the
    rows below ``header_row`` in ``raw``.  Does not modify ``raw``.

    Every non-blank row below the header ends in exactly one of the two tables (rows
    with no text at all are not data rows and are skipped).  A rejected row has one
    rejects record: ``column``/``value`` name its first problem, ``reason`` lists all.

    Rejected: blank hazard id, unit or found date; an unparseable date; a sector,
    发现方式, 判定标准 or 整改状态 text that is not recognised; a reported or rectified
    date before the found date; a hazard id repeated with different content (every
    copy, each naming the other rows); a repeated hazard id with identical content
    (all copies but the first, "duplicate of row N").  Blank optional cells are kept
    as missing (see the module docstring).

    Kept, on purpose: 已整改 without 整改完成日期.  The status is what the unit reported,
    so the hazard counts as rectified, but ``effective_counts`` counts it again in
    ``rectified_undated`` so the "rectified without a date" complaint (巴南, X市) can be
    raised without losing the hazard from the totals.

    When the sheet has no 整改状态 column but has 整改完成日期, a hazard with a
    completion date is ``rectified`` and one without is ``open``.

    Raises InputError when the header lacks the hazard id, unit or found-date column.
    """
    columns = _field_columns(raw, header_row)
    missing = [f for f in _REQUIRED if f not in columns]
    if missing:
        names = ", ".join(f"{_FIELD_ALIASES[f][0]} ({f})" for f in missing)
        raise InputError(raw.file, f"hazard ledger header has no column for {names}",
                         sheet=raw.sheet, row=header_row)

    body = raw.cells.loc[raw.cells.index > header_row]
    body = body.loc[body.notna().any(axis=1)]
    texts = {f: _text(body[pos]) for f, (pos, _) in columns.items()}
    label = {f: lab for f, (_, lab) in columns.items()}
    blank = pd.Series(pd.NA, index=body.index, dtype="str")
    t = {f: texts.get(f, blank) for f in _FIELD_ALIASES}
    problems = _Problems(body.index)

    hazard_id = t["hazard_id"].str.replace(r"\s+", "", regex=True)
    unit = t["unit"].str.replace(r"\s+", "", regex=True)
    problems.add(hazard_id.isna(), label["hazard_id"], t["hazard_id"], "hazard id is blank")
    problems.add(unit.isna(), label["unit"], t["unit"], "unit is blank")

    dates = {}
    for f in ("found_date", "reported_date", "rectified_date"):
        dates[f] = parse_dates(t[f])
        if f not in columns:
            continue
        if f == "found_date":
            problems.add(t[f].isna(), label[f], t[f], "found date is blank")
        bad = t[f].notna() & dates[f].isna()
        problems.add(bad, label[f], t[f], "unparseable date '" + t[f].fillna("") + "'")

    uniques = t["sector"].dropna().unique()
    sector = t["sector"].map({v: resolve_sector(v) for v in uniques})
    source = _lookup(t["source"], _SOURCE_LOOKUP)
    meets = _lookup(t["meets_standard"], _BOOL_LOOKUP)
    status = _lookup(t["status"], _STATUS_LOOKUP)
    for f, parsed, what in (("sector", sector, "unknown sector"),
                            ("source", source, "unknown 发现方式 (部门检查/企业自查)"),
                            ("meets_standard", meets, "not a yes/no (是/否) judgement"),
                            ("status", status, "unknown 整改状态 (已整改/整改中/未整改)")):
        if f in columns:
            bad = t[f].notna() & parsed.isna()
            problems.add(bad, label[f], t[f], what + " '" + t[f].fillna("") + "'")
    if "status" not in columns and "rectified_date" in columns:
        status = pd.Series(np.where(dates["rectified_date"].notna(), "rectified", "open"),
                           index=body.index, dtype="str")

    found = dates["found_date"]
    for f, what in (("reported_date", "reported"), ("rectified_date", "rectified")):
        before = dates[f] < found
        problems.add(before, label.get(f, f), t[f],
                     what + " " + dates[f].dt.strftime("%Y-%m-%d").fillna("")
                     + " before found " + found.dt.strftime("%Y-%m-%d").fillna(""))

    clean = pd.DataFrame({
        "hazard_id": hazard_id.astype("str"),
        "unit": unit.astype("str"),
        "sector": sector.astype("str").fillna(""),
        "found_date": found,
        "reported_date": dates["reported_date"],
        "source": source.astype("str"),
        "meets_standard": meets.astype("boolean"),
        "status": status.astype("str"),
        "rectified_date": dates["rectified_date"],
        "source_file": pd.Series(str(raw.file), index=body.index, dtype="str"),
        "source_row": pd.Series(body.index.to_numpy(dtype=np.int64), index=body.index),
    })
    _flag_duplicates(clean, t, label, problems)

    rejected = problems.rejected
    rejects = pd.DataFrame({
        "file": pd.Series(str(raw.file), index=body.index, dtype="str"),
        "sheet": pd.Series(raw.sheet, index=body.index, dtype="str"),
        "row": clean["source_row"],
        "column": problems.column,
        "value": problems.value,
        "reason": problems.reason,
    }).loc[rejected, REJECT_COLUMNS].reset_index(drop=True)
    kept = clean.loc[~rejected, LEDGER_COLUMNS].reset_index(drop=True)
    return kept, rejects


def _flag_duplicates(clean: pd.DataFrame, t: dict, label: dict, problems: _Problems) -> None:
    """Adds the duplicate-id problems.  Content is compared on parsed values, so
    2024/4/5 and 2024-04-05 are the same; an unparsed cell compares by its text."""
    repeated = clean["hazard_id"].notna() & clean["hazard_id"].duplicated(keep=False)
    if not repeated.any():
        return
    rep = clean.loc[repeated]
    content_fields = [f for f in LEDGER_COLUMNS if f not in ("hazard_id", "source_file", "source_row")]
    parts = [rep[f].astype("str").fillna("raw:" + t[f].loc[rep.index].fillna(""))
             for f in content_fields]
    content = parts[0].str.cat(parts[1:], sep="\x1f")
    frame = pd.DataFrame({"id": rep["hazard_id"], "content": content, "row": rep["source_row"]})
    by_id = frame.groupby("id", sort=False)
    n_contents = by_id["content"].transform("nunique")
    size = by_id["row"].transform("size")
    conflict = (n_contents > 1) & (size > 1)
    copy = (n_contents == 1) & frame.duplicated("id", keep="first")
    first_row = by_id["row"].transform("first")
    id_label = label["hazard_id"]

    copy_msg = ("duplicate of row " + first_row.astype("str")).reindex(clean.index)
    problems.add(copy.reindex(clean.index, fill_value=False), id_label, t["hazard_id"], copy_msg)

    if conflict.any():
        # Each copy names the first other rows of its id, at most NAMED_DUPLICATES, and
        # the count: linear however many copies an id has.
        c = frame.loc[conflict]
        shown = limits.NAMED_DUPLICATES
        head = c[c.groupby("id", sort=False).cumcount() <= shown]
        rows_of = head.groupby("id", sort=False)["row"].agg(list).to_dict()
        sizes = c.groupby("id", sort=False)["row"].size().to_dict()
        msgs = []
        for i, row in zip(c["id"], c["row"]):
            others = [str(r) for r in rows_of[i] if r != row][:shown]
            more = sizes[i] - 1 - len(others)
            msgs.append("hazard id '" + i + "' also on row " + ", ".join(others)
                        + (f" and {more} more rows ({sizes[i]} copies)" if more else "")
                        + " with different content")
        msg = pd.Series(msgs, index=c.index, dtype="str")
        problems.add(conflict.reindex(clean.index, fill_value=False), id_label,
                     t["hazard_id"], msg.reindex(clean.index))



_PANEL_INDICATORS = {
    "found": "major_hazards_found",
    "found_dept": "major_hazards_found_dept",
    "found_enterprise": "major_hazards_found_enterprise",
    "rectified": "major_hazards_rectified",
    "rectified_dept": "major_hazards_rectified_dept",
    "rectified_enterprise": "major_hazards_rectified_enterprise",
}


def ledger_panel(counts: pd.DataFrame) -> pd.DataFrame:
    """The effective counts summed over sectors, as long panel rows (PANEL_COLUMNS):
    one row per unit × month × indicator (major_hazards_found, _found_dept,
    _found_enterprise, major_hazards_rectified, _rectified_dept, _rectified_enterprise),
    zeros included for every unit and month that has a ledger row.  unit_type, parent
    and source_sheet are missing, approx False, source_file ``"ledger"`` and
    source_row 0 (the figures are derived, not read from one row).  Does not modify
    ``counts``."""
    _require(counts, ["unit", "period", *_PANEL_INDICATORS], "ledger counts")
    summed = (counts.groupby(["unit", "period"], observed=True, sort=True)[list(_PANEL_INDICATORS)]
              .sum().reset_index())
    long = summed.melt(id_vars=["unit", "period"], var_name="indicator", value_name="value")
    n = len(long)
    panel = pd.DataFrame({
        "unit": long["unit"].astype("str"),
        "unit_type": pd.Series(pd.NA, index=long.index, dtype="str"),
        "parent": pd.Series(pd.NA, index=long.index, dtype="str"),
        "period": long["period"].astype("str"),
        "indicator": long["indicator"].map(_PANEL_INDICATORS).astype("str"),
        "value": long["value"].astype("float64"),
        "approx": np.zeros(n, dtype=bool),
        "source_file": pd.Series("ledger", index=long.index, dtype="str"),
        "source_sheet": pd.Series(pd.NA, index=long.index, dtype="str"),
        "source_row": np.zeros(n, dtype=np.int64),
    })
    return (panel.sort_values(["unit", "period", "indicator"], kind="stable")
            .reset_index(drop=True)[PANEL_COLUMNS])
