"""A bulletin's figures as tables: the long panel of its catalogue figures
(``figures_to_panel``) and the wide unit-level table of the units it lists
(``lists_to_table``, ``anquan audit --to-table``), both readable by ``anquan ingest``."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..catalogue import indicator_name, resolve_sector
from ..dataset import PANEL_COLUMNS
from ..periods import find_period, parse_period
from ..text import nfkc
from .concepts import RECTIFIED, UNIT_OF
from .document import SUM_RULES, Document
from .enumeration import _total_of
from .extract import extract_figures
from .units import unit_items, unit_lists

_UNIT_TYPE_SUFFIX = [(re.compile(r"(?:县|区|市)$"), "county"), (re.compile(r"(?:镇|乡|街道|办事处)$"), "town"),
                     (re.compile(r"(?:公司|集团)$"), "soe"),
                     (re.compile(r"(?:局|委|办|支队|大队|中心|分局)$"), "department")]


def figures_to_panel(figures: pd.DataFrame, *, issuer: str, period: str) -> pd.DataFrame:
    """The catalogue figures of a bulletin in the ingest's long format (PANEL_COLUMNS), so
    a bulletin's totals can be compared with the unit tables.

    Kept: figures of kind ``figure`` with an indicator.  A figure with no subject belongs
    to the issuing area (``unit = issuer``, e.g. 巴南区); one whose subject is a unit
    (灵川县, 区应急局) becomes that unit's row with ``parent = issuer`` and a unit type
    guessed from the name's ending.  Sector figures (工贸 15 项) are left out: the panel
    has no sector.  Where a unit and indicator occur twice the first figure is kept
    (a bulletin restates its totals).  Money and lengths are converted to the
    catalogue's unit.  ``source_row`` is the figure's line.  Does not modify ``figures``.
    """
    need = ["value", "unit", "approx", "subject", "indicator", "kind", "line"]
    missing = [c for c in need if c not in figures.columns]
    if missing:
        raise ValueError(f"figures lacks column(s) {missing}; expected extract_figures output")
    period = parse_period(period)
    f = figures.loc[(figures["kind"] == "figure") & (figures["indicator"].fillna("") != "")]
    f = f.loc[f["subject"].fillna("").map(lambda s: resolve_sector(s) is None if s else True)]
    unit = f["subject"].fillna("").where(f["subject"].fillna("") != "", issuer)
    factor = [_factor(u, UNIT_OF[c]) for u, c in zip(f["unit"], f["indicator"])]
    out = pd.DataFrame({
        "unit": unit.astype("str"),
        "unit_type": [None if u == issuer else _unit_type(u) for u in unit],
        "parent": [None if u == issuer else issuer for u in unit],
        "period": period,
        "indicator": f["indicator"].astype("str"),
        "value": f["value"].to_numpy(dtype="float64") * np.array(factor, dtype="float64"),
        "approx": f["approx"].astype("bool"),
        "source_file": f["source_file"].astype("str") if "source_file" in f else "",
        "source_sheet": None,
        "source_row": f["line"].astype("int64"),
    })
    out = out.drop_duplicates(["unit", "indicator"], keep="first")
    return out.astype({"unit_type": "str", "parent": "str", "source_sheet": "str"})[PANEL_COLUMNS] \
        .reset_index(drop=True)


def _factor(unit: str, target: str) -> float:
    from ..numbers import unit_factor
    factor = unit_factor(unit, target) if unit else None
    return float(factor) if factor is not None else 1.0


def _unit_type(name: str) -> str | None:
    return next((t for rx, t in _UNIT_TYPE_SUFFIX if rx.search(name)), None)


# ---------------------------------------------------------------- --to-table

_TYPE_ZH = {"county": "县区", "town": "镇街", "department": "部门", "soe": "国有公司"}
# Hazards named without 一般/重大 (上报1家单位隐患1处) go to the general column, and the
# table's notes say so.
_PLAIN_KEYS = {"obj:hazard": "general_hazards_found"}
TABLE_LEAD = ["单位", "单位类型", "上级", "期间", "口径"]


def lists_to_table(text: str, *, period: str | None = None, basis: str | None = None,
                   parent: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The units a bulletin lists, as the ingest's wide table, with a 合计 row.

    Parameters
    ----------
    text : str
        The bulletin's text.
    period : str, optional
        Any form ``periods.parse_period`` reads; default: the one period written in the
        text's first 300 characters (ValueError naming the problem if there is none).
    basis : {"当期", "累计"}, optional
        Default 累计 when the text says 截至 or 累计, else 当期.
    parent : str, optional
        The 上级 of every unit (e.g. the issuing city).

    Returns
    -------
    (DataFrame, list of str)
        Columns 单位, 单位类型, 上级, 期间, 口径, then one column per indicator by its
        catalogue Chinese name; one row per unit listed (units named at zero included,
        sectors left out), in the order first named, then a 合计 row holding the area's
        totals of those indicators and of their parts (部门/企业 split, rectified) where
        the text states them.  Blank where the text gives no figure.  The notes say
        what was assumed (plain 隐患 read as general hazards; a unit given two
        different figures: the first kept).
    """
    text = nfkc(text)
    if period is None:
        period = find_period(text[:300])
        if period is None:
            raise ValueError("the text names no single period in its first 300 characters; "
                             "give one with --period")
    period = parse_period(period)
    if basis is None:
        basis = "累计" if re.search(r"截至|截止|累计|\d+\s*[-—~]\s*\d+\s*月", text) else "当期"
    doc = Document(text, extract_figures(text))
    items = [i for i in unit_items(doc) if not i.sector]
    notes: list[str] = []
    values: dict[str, dict[str, float]] = {}
    for it in items:
        code = _PLAIN_KEYS.get(it.key, it.key)
        if code.startswith("obj:"):
            continue
        if it.key in _PLAIN_KEYS and _PLAIN_KEYS[it.key] not in {n[0] for n in notes}:
            notes.append((_PLAIN_KEYS[it.key], "原文“隐患”未注明一般或重大，按一般隐患排查数列出"))
        row = values.setdefault(it.unit, {})
        if code in row and row[code] != it.value:
            notes.append((code, f"{it.unit}的{indicator_name(code)}在文中为{row[code]:g}和"
                                f"{it.value:g}，表中取前者"))
            continue
        row.setdefault(code, it.value)
    codes = list(dict.fromkeys(c for row in values.values() for c in row))
    totals = _totals(doc, items, codes)
    codes += [c for c in totals if c not in codes]
    rows = [{"单位": unit, "单位类型": _TYPE_ZH.get(_unit_type(unit) or "", ""),
             "上级": parent or "", "期间": period, "口径": basis,
             **{indicator_name(c): row.get(c) for c in codes}} for unit, row in values.items()]
    if totals:
        rows.append({"单位": "合计", "单位类型": "", "上级": parent or "", "期间": period,
                     "口径": basis, **{indicator_name(c): totals.get(c) for c in codes}})
    table = pd.DataFrame(rows, columns=TABLE_LEAD + [indicator_name(c) for c in codes])
    for c in codes:
        col = table[indicator_name(c)]
        whole = col.dropna().map(float.is_integer).all()
        table[indicator_name(c)] = col.astype("Int64" if whole else "float64")
    return table, [n for _, n in notes]


def _totals(doc: Document, items, codes: list[str]) -> dict[str, float]:
    """The area's total of each unit column, and of its parts and rectified counterpart."""
    out: dict[str, float] = {}
    for lst in unit_lists(doc, items):
        code = _PLAIN_KEYS.get(lst.key, lst.key)
        if code in codes and code not in out:
            total = _total_of(doc, lst)
            if total is not None:
                out[code] = total.value
    family = []
    for code in codes:
        family += [c for parts, total in SUM_RULES if total == code for c in parts]
        if code in RECTIFIED:
            rect = RECTIFIED[code]
            family += [rect] + [c for parts, total in SUM_RULES if total == rect for c in parts]
    for code in dict.fromkeys(family):
        if code in out:
            continue
        whole = [g for g in doc.figs if g.code == code and not g.subject and not g.pct
                 and not g.summary and not g.approx]
        if whole:
            out[code] = max(whole, key=lambda g: (g.value, -g.start)).value
    return out
