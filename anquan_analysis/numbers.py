"""Figures as people type them into office tables, read into value + unit + flags.

``17万余`` is 170000 and approximate, ``109.33万元`` is 109.33 in 万元 (1093300 in 元),
``580余次`` is 580 sessions and approximate, ``１２３`` is 123, ``1，234`` is 1234,
``二十三`` is 23, ``—`` is missing (never zero), ``0`` is zero.

Units are compared through ``UNIT_GROUPS``: two units are compatible when one group
holds both, and the group's factors convert between them (money 元/万元/亿元, length
米/公里).  Count words of one kind (项/个/处/条 items, 次/场/场次 sessions, 人/人次
persons, 家/家次 enterprises) have factor 1 and are interchangeable; a unit from
another group (``5人`` for an indicator in 万元) is an error, not a conversion.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

import numpy as np
import pandas as pd

from .text import nfkc

# Unit compatibility, as data: a unit may sit in several groups (家次 counts both
# enterprise-visits and occasions: 桂林 writes 行政处罚300家次 for a count of 次),
# compatibility is "some group holds both", which is deliberately not transitive.
UNIT_GROUPS: dict[str, dict[str, int]] = {
    "money": {"元": 1, "千元": 10**3, "万元": 10**4, "亿元": 10**8},
    "length": {"米": 1, "公里": 1000, "千米": 1000},
    "items": {"项": 1, "个": 1, "处": 1, "条": 1, "件": 1},
    "sessions": {"次": 1, "场": 1, "场次": 1, "家次": 1},
    "persons": {"人": 1, "人次": 1, "名": 1},
    "enterprises": {"家": 1, "家次": 1, "户": 1},
    "rounds": {"轮": 1, "轮次": 1},
    "accidents": {"起": 1},
    "documents": {"份": 1},
    "machines": {"台": 1},
    "teams": {"支": 1},
    "percent": {"%": 1},
}
KNOWN_UNITS: frozenset[str] = frozenset(u for g in UNIT_GROUPS.values() for u in g)
MONEY = UNIT_GROUPS["money"]
# Units whose figures need not be whole numbers; every other unit counts things.
_MEASURES = frozenset(UNIT_GROUPS["money"]) | frozenset(UNIT_GROUPS["length"]) | {"%"}


def is_count_unit(unit: str | None) -> bool:
    """True when figures in ``unit`` count things (项, 次, 家, 人次 …) and so must be
    whole numbers; False for money, length and percent (and for no unit)."""
    return unit is not None and unit not in _MEASURES

# Typed for "no figure": a blank, dashes, a slash, 无, NA.  Never zero.
MISSING_TOKENS = frozenset({"", "-", "--", "---", "—", "——", "–", "−", "/", "\\", "无", "暂无",
                            "na", "n/a", "nan", "none", "null", "…", "..."})

_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10**4, "亿": 10**8}
_CN_CHARS = "".join(_CN_DIGIT) + "".join(_CN_SMALL) + "".join(_CN_BIG)
_MAGNITUDE = {"千": 10**3, "万": 10**4, "亿": 10**8}

_UNIT_ALT = "|".join(sorted((re.escape(u) for u in KNOWN_UNITS), key=len, reverse=True))
_NUMBER = re.compile(
    r"^(?P<pre>大约|将近|接近|超过|约|近|超|逾)?"
    r"(?P<sign>[-−])?"
    rf"(?:(?P<arabic>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?P<mag>[千万亿])?|(?P<cn>[{_CN_CHARS}]+))"
    r"(?P<post1>余|多|来)?"
    rf"(?P<unit>{_UNIT_ALT})?"
    r"(?P<post2>余|多|左右|以上|\+)?$"
)
# A comma between digit groups of three is a thousands separator (1,234 and 1，234).
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


class ParsedNumber(NamedTuple):
    """value: float or None (missing or error); unit: the unit of ``value``;
    approx: typed as approximate (余, 多, 约, 近, +); error: why it could not be read."""

    value: float | None
    unit: str | None
    approx: bool
    error: str | None


MISSING = ParsedNumber(None, None, False, None)


def units_compatible(a: str, b: str) -> bool:
    """True when one group of ``UNIT_GROUPS`` holds both units (or they are equal)."""
    return a == b or any(a in g and b in g for g in UNIT_GROUPS.values())


def unit_factor(from_unit: str, to_unit: str) -> Decimal | None:
    """How many ``to_unit`` one ``from_unit`` is (万元 → 元: 10000); None if incompatible."""
    if from_unit == to_unit:
        return Decimal(1)
    for group in UNIT_GROUPS.values():
        if from_unit in group and to_unit in group:
            return Decimal(group[from_unit]) / Decimal(group[to_unit])
    return None


def parse_chinese_numeral(text: str) -> int | None:
    """二十三 → 23, 一百零五 → 105, 十二 → 12, 两 → 2, 三万 → 30000; None if malformed
    (two digits in a row such as 三三, or a multiplier with nothing before it)."""
    if not text or any(c not in _CN_CHARS for c in text):
        return None
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGIT:
            d = _CN_DIGIT[ch]
            if digit not in (None, 0) and d != 0:
                return None                      # 三三: two digits with no 十/百/千 between
            digit = d
        elif ch in _CN_SMALL:
            if digit is None:
                if ch != "十":
                    return None                  # 百 or 千 with no digit before it
                digit = 1                        # 十二 is 12
            section += digit * _CN_SMALL[ch]
            digit = None
        else:
            if digit is None and section == 0:
                return None
            section += digit or 0
            if ch == "亿":
                total = (total + section) * _CN_BIG[ch]
            else:
                total += section * _CN_BIG[ch]
            section, digit = 0, None
    return total + section + (digit or 0)


def _fmt(text) -> str:
    return repr(str(text)) if len(str(text)) <= 40 else repr(str(text)[:40] + "…")


def _to_float(d: Decimal) -> float:
    # Decimal arithmetic then one rounding, so 109.33万元 ↔ 1093300元 round-trips exactly.
    return float(d)


def parse_number(text, *, target_unit: str | None = None,
                 assumed_unit: str | None = None) -> ParsedNumber:
    """Read one typed figure.

    ``target_unit``: the unit the value is wanted in; a typed unit compatible with it is
    converted (``2100元`` → 0.21 for 万元), an incompatible one is an error.
    ``assumed_unit``: the unit of a bare number (a column headed ``罚款(元)``);
    defaults to ``target_unit``.  Percentages stay in percent: ``8.86%`` is 8.86, unit %.
    Missing (blank, —, -, --, /, 无, NA) gives value None and no error; a negative
    value or unreadable text gives value None and an ``error`` a user can read.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return MISSING
    if isinstance(text, bool):
        text = int(text)
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        text = repr(float(text)) if isinstance(text, (float, np.floating)) else str(int(text))
    raw = str(text)
    s = re.sub(r"\s+", "", nfkc(raw))
    if s.lower() in MISSING_TOKENS:
        return MISSING
    s = _THOUSANDS.sub("", s)
    m = _NUMBER.match(s)
    if not m and s.startswith("="):
        return ParsedNumber(None, None, False, "公式没有缓存值 (a formula with no cached value: "
                            f"open the file in Excel and save it so its result is stored): {_fmt(raw)}")
    if not m:
        return ParsedNumber(None, None, False, f"无法识别的数值 (not a number): {_fmt(raw)}")
    if m["arabic"] is not None:
        try:
            value = Decimal(m["arabic"])
        except InvalidOperation:  # pragma: no cover - the pattern only admits valid decimals
            return ParsedNumber(None, None, False, f"无法识别的数值 (not a number): {_fmt(raw)}")
        mag = m["mag"]
    else:
        cn, mag = m["cn"], None
        if len(cn) > 1 and cn[-1] in "万亿":
            # 二十三万 is 23 with magnitude 万, exactly like 23万, so that a money
            # column reads it as 23万元 rather than 230000万元.
            cn, mag = cn[:-1], cn[-1]
        n = parse_chinese_numeral(cn)
        if n is None:
            return ParsedNumber(None, None, False,
                                f"无法识别的中文数字 (not a Chinese numeral): {_fmt(raw)}")
        value = Decimal(n)
    if m["sign"] and value != 0:
        return ParsedNumber(None, None, False, f"负数 (negative value): {_fmt(raw)}")
    unit = m["unit"]
    if mag and unit is None and (assumed_unit or target_unit) in MONEY:
        unit = "元"                            # 17万 in a money column is 17万元
    if mag and unit == "元":
        unit, mag = f"{mag}元", None           # 109.33万元: 万 belongs to the money unit
    approx = bool(m["pre"] or m["post1"] or m["post2"])
    try:
        return _finish(value, mag, unit, approx, m["unit"] is not None, raw,
                       target_unit=target_unit, assumed_unit=assumed_unit)
    except ArithmeticError:            # decimal.Overflow on 1e999999999万元 and the like
        return ParsedNumber(None, None, approx, f"数值超出范围 (number out of range): {_fmt(raw)}")


def _finish(value: Decimal, mag, unit, approx, typed, raw, *, target_unit, assumed_unit):
    """The magnitude and unit conversion of a matched figure (``typed``: the unit was
    written in the cell, not assumed from the column)."""
    if mag:
        value *= _MAGNITUDE[mag]
    if unit is None:
        unit = assumed_unit or target_unit
    if target_unit is not None and unit is not None and unit != target_unit:
        factor = unit_factor(unit, target_unit)
        if factor is None:
            what = f"单位“{unit}”与“{target_unit}”不符" if typed else \
                f"列单位“{unit}”与指标单位“{target_unit}”不符"
            return ParsedNumber(None, None, approx,
                                f"{what} (unit {unit} does not fit {target_unit}): {_fmt(raw)}")
        value *= factor
        unit = target_unit
    result = _to_float(value)
    if not math.isfinite(result):
        return ParsedNumber(None, None, approx, f"数值超出范围 (number out of range): {_fmt(raw)}")
    return ParsedNumber(result, unit, approx, None)


def format_number(value, unit: str | None = None, approx: bool = False) -> str:
    """A figure as an office would type it, and as ``parse_number`` reads it back:
    ``format_number(170000, approx=True)`` → ``17万余``, ``(580, "次", True)`` →
    ``580余次``, ``(109.33, "万元")`` → ``109.33万元``.  Counts of 10000 or more are
    written in 万; money keeps its unit.  Exact: ``parse_number(format_number(v, u, a),
    target_unit=u)`` gives back ``v`` and ``a``.  ValueError for a negative or
    non-finite value."""
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"format_number: not a non-negative finite number: {value!r}")
    d = Decimal(repr(v))
    mag = ""
    if unit not in MONEY and d >= 10000:
        d, mag = d.scaleb(-4), "万"      # exact: a power-of-ten shift of a decimal
    text = format(d.normalize(), "f")
    return f"{text}{mag}{'余' if approx else ''}{unit or ''}"


_PARSED_COLUMNS = ["value", "unit", "approx", "error"]


def parse_numbers(series: pd.Series, target_unit: str | None = None,
                  assumed_unit: str | None = None) -> pd.DataFrame:
    """``parse_number`` over a Series, each distinct text parsed once (office columns
    repeat values).  Returns a frame on the same index with columns value (float64,
    NaN when missing or an error), unit (str), approx (bool), error (str, missing when
    none).  Does not modify ``series``."""
    codes, uniques = pd.factorize(pd.Series(series, dtype=object), use_na_sentinel=True)
    parsed = [parse_number(u, target_unit=target_unit, assumed_unit=assumed_unit) for u in uniques]
    parsed.append(MISSING)                     # code -1 (missing) picks the last entry
    pick = np.where(codes < 0, len(parsed) - 1, codes)
    value = np.array([np.nan if p.value is None else p.value for p in parsed], dtype="float64")
    unit = np.array([p.unit for p in parsed], dtype=object)
    approx = np.array([p.approx for p in parsed], dtype=bool)
    error = np.array([p.error for p in parsed], dtype=object)
    return pd.DataFrame({
        "value": value[pick],
        "unit": pd.Series(unit[pick], dtype="str"),
        "approx": approx[pick],
        "error": pd.Series(error[pick], dtype="str"),
    }).set_axis(series.index)
