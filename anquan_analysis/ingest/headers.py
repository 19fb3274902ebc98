"""Header labels → column roles: which column holds the unit, the period, each indicator.

A label is compared after NFKC, without spaces, case-folded and with a trailing
bracketed unit removed (``text.normalise_label``).  It names a *role* of
``HEADER_ALIASES`` (单位, 期间, 口径 …), an *indicator* of the catalogue (its Chinese
name, an alias or its code: ``catalogue.resolve_indicator``) or a *ledger* field
(``ledger.resolve_ledger_field``).  A bracketed unit (``罚款（元）``) is the unit of bare
numbers in that column.  A two-row header (a merged parent ``重大事故隐患`` over
``排查数 | 整改数``) is flattened by joining parent and child when the child alone does
not resolve.

A leading 其中 (``其中：部门检查发现（项）``: "of which") is not part of the name.  Where
a label names an indicator whose unit does not fit the bracketed unit, the label
joined with its unit is looked up too (``主要负责人培训（人次）`` is
主要负责人培训人次, not the 场 indicator 主要负责人培训).  The office's accepted
mapping (``header_map``: ``列名对照.csv`` in the data folder) is consulted before the
catalogue, so the analyst's word wins.

Every label that maps to nothing, or to something that cannot be read (a unit that
does not fit the indicator, a second column for one indicator or role), becomes a
row of the unknown-columns table (``UNKNOWN_COLUMNS``), with the indicator it most
likely is (``header_map.suggest_indicator``): nothing is dropped silently.
"""

from __future__ import annotations

import re

import pandas as pd

from .. import ledger as ledger_mod
from ..catalogue import indicator_unit, resolve_indicator
from ..numbers import KNOWN_UNITS, units_compatible
from ..tables import RawSheet
from ..text import normalise_label, normalise_name

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

_BRACKET_UNIT = re.compile(r"[(\[【（]\s*(?:单位[:：])?\s*([^()\[\]【】（）]{1,4})\s*[)\]】）]$")

UNKNOWN_COLUMNS = ["file", "sheet", "column", "reason", "suggestion", "score"]
# "of which" before a part's name: 其中：部门检查发现, 其中:企业自查
_PREFIX = re.compile(r"^(?:其中|内含|含)[:：,，、]?")

EXPECTED_HEADERS = ("expected a header row with 单位 (or 单位名称/填报单位/unit) and indicator "
                    "columns such as 重大事故隐患排查数, or 单位+期间+指标+数值, or 单位+监管企业数, "
                    "or a hazard ledger with 隐患编号 and 发现日期")


def strip_prefix(key: str) -> str:
    """A normalised label without a leading 其中 (of which)."""
    return _PREFIX.sub("", key)


def column_role(label, mapping: dict | None = None) -> tuple[str, str | None] | None:
    """(role, indicator code or ledger field) for a header label; None when unknown.
    Roles: the keys of ``HEADER_ALIASES``, ``indicator`` and ``ledger``.  ``mapping``:
    the office's accepted header mapping ({normalised label: (role, code)},
    ``header_map.load_header_map``), consulted first."""
    if label is None:
        return None
    key = normalise_label(label)
    if mapping and key in mapping:
        return mapping[key]
    if key in _ROLE_LOOKUP:
        return _ROLE_LOOKUP[key], None
    for text in (label, strip_prefix(key)):
        code = resolve_indicator(text)
        if code is not None:
            return "indicator", code
    field = ledger_mod.resolve_ledger_field(label)
    if field is not None:
        return "ledger", field
    return None


def is_known(label, mapping: dict | None = None) -> bool:
    """True when ``column_role`` recognises the label (``tables.find_header_row``'s test)."""
    return column_role(label, mapping) is not None


def _fit_unit(label, code: str, cunit: str) -> str | None:
    """The indicator that a label joined with its bracketed unit names, when the
    label alone names ``code`` whose unit does not fit (主要负责人培训 + 人次); None
    when there is none or its unit does not fit either."""
    sibling = resolve_indicator(strip_prefix(normalise_label(label)) + cunit)
    if sibling is not None and sibling != code and units_compatible(cunit, indicator_unit(sibling)):
        return sibling
    return None


def column_unit(label) -> str | None:
    """The unit in a header's trailing brackets (``罚款（元）`` → 元), if it is a known unit."""
    m = _BRACKET_UNIT.search(normalise_name(label))
    return m.group(1) if m and m.group(1) in KNOWN_UNITS else None


def header_labels(raw: RawSheet, h: int, mapping: dict | None = None
                  ) -> tuple[list[str | None], int]:
    """The header labels and the last header row: a second header row directly below
    (merged parents over 排查数 | 整改数) is flattened into parent+child labels.
    ``mapping``: as ``column_role``."""
    top = [None if v is None else str(v).strip() for v in raw.cells.loc[h]]
    if h + 1 not in raw.cells.index:
        return top, h
    sub = [None if v is None else str(v).strip() for v in raw.cells.loc[h + 1]]
    role = lambda v: column_role(v, mapping)  # noqa: E731
    roles = [role(v) for v in top]
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
        if role(child) is not None and role(child)[0] == "indicator":
            merged.append(child)
            gained = True
        else:
            joined = parent + child
            gained |= role(joined) is not None
            merged.append(joined)
    return (merged, h + 1) if gained else (top, h)


def _unknown(file, sheet, label, reason: str, suggest: bool = True,
             refused: str | None = None) -> dict:
    """An ``UNKNOWN_COLUMNS`` record, with the indicator the label most likely names
    (``header_map.suggest_indicator``; never ``refused``, the one its unit does not
    fit) written into the reason."""
    from .header_map import suggest_indicator, suggestion_text

    hit = suggest_indicator(label, column_unit(label), exclude=refused) if suggest else None
    code, score = hit if hit else ("", float("nan"))
    return {"file": file, "sheet": sheet, "column": label, "reason": reason + suggestion_text(code),
            "suggestion": code, "score": score}


def map_columns(labels, file, sheet, mapping: dict | None = None) -> tuple[dict, list[dict]]:
    """The roles of a sheet's columns, and its unknown or unusable columns.

    Returns ``(roles, unknown)``: ``roles`` maps each role found to its column
    position (a ledger field as ``ledger:<field>``), and ``indicators`` to
    {code: (position, label, column unit or None)}; ``unknown`` is a list of
    ``UNKNOWN_COLUMNS`` records, each with the indicator it most likely is
    (``suggestion``, "" for none, and its ``score``).  The first column of a role or
    indicator is read; a later one is unknown ("repeated").  ``mapping``: the
    office's accepted header mapping, as ``column_role``."""
    roles: dict = {"indicators": {}}
    unknown = []
    seen_label: dict = {}
    for j, label in enumerate(labels):
        if label is None:
            continue
        hit = column_role(label, mapping)
        if hit is None:
            unknown.append(_unknown(file, sheet, label,
                                    "不是已知的指标或字段 (not a known indicator or field)"))
            continue
        role, code = hit
        if role == "ignore":
            continue
        if role == "indicator":
            cunit = column_unit(label)
            target = indicator_unit(code)
            if cunit is not None and not units_compatible(cunit, target):
                code = _fit_unit(label, code, cunit)
                if code is None:
                    unknown.append(_unknown(
                        file, sheet, label, f"列单位“{cunit}”与指标单位“{target}”不符 "
                        f"(column unit {cunit} does not fit {hit[1]} in {target})",
                        refused=hit[1]))
                    continue
            if code in roles["indicators"]:
                unknown.append(_unknown(
                    file, sheet, label, f"与列“{roles['indicators'][code][1]}”重复，均为 {code} "
                    "(second column for the same indicator, not read)", suggest=False))
                continue
            roles["indicators"][code] = (j, label, cunit)
            continue
        key = role if role != "ledger" else f"ledger:{code}"
        if key in roles:
            unknown.append(_unknown(file, sheet, label, f"与列“{seen_label[key]}”重复 "
                                    f"(repeated {role} column, not read)", suggest=False))
            continue
        roles[key] = j
        seen_label[key] = label
    return roles, unknown
