"""Reporting periods: parsing the ways offices write them, and arithmetic on the
canonical forms.

Canonical forms (strings, so they sort and store plainly):
``2024-04`` month, ``2024Q2`` quarter, ``2024H1`` half-year, ``2024`` year.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from .text import normalise_name

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
              "十": 10, "十一": 11, "十二": 12, "两": 2}
_CN_NUM = "一二三四五六七八九十两"

_PATTERNS = [
    # 2024-04, 2024/4, 2024.04, 2024-04-01 (a date: its month), 2024-04-01 00:00:00
    (re.compile(r"^(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?(?:\d{2}:\d{2}(?::\d{2})?)?$"), "M"),
    (re.compile(r"^(\d{4})(\d{2})$"), "M"),                                   # 202404
    (re.compile(rf"^(\d{{4}})年(\d{{1,2}}|[{_CN_NUM}]{{1,3}})月(?:份)?$"), "M"),  # 2024年4月, 2024年四月
    (re.compile(r"^(\d{4})-?[qQ]([1-4])$"), "Q"),                             # 2024Q2, 2024-Q2
    (re.compile(r"^(\d{4})年(?:第)?([1-4一二三四])季度$"), "Q"),             # 2024年二季度, 2024年第2季度
    (re.compile(r"^(\d{4})-?[hH]([12])$"), "H"),                              # 2024H1
    (re.compile(r"^(\d{4})年(上|下)半年$"), "H"),                               # 2024年上半年
    (re.compile(r"^(\d{4})(?:年|年度)?$"), "Y"),                                # 2024, 2024年, 2024年度
    (re.compile(r"^(\d{5})(?:\.\d+)?$"), "S"),                                  # 45383: an Excel date serial
]
# Excel's day 0 (its 1900 leap-year bug makes 1899-12-30 right after February 1900).
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def _cn_or_int(s: str) -> int:
    return int(s) if s.isdigit() else _CN_DIGITS[s]


@lru_cache(maxsize=4096)
def parse_period(text) -> str:
    """The canonical period for a typed one; ValueError naming the text if it is
    not a period.  Accepts ``2024-04``, ``2024年4月``, ``2024Q2``, ``2024年二季度``,
    ``2024年上半年``, ``2024H1``, ``2024``, dates (their month), Excel date serial
    numbers (45383 → 2024-04, between 1990 and 2100), full-width digits."""
    s = normalise_name(text)
    s = s.replace("第", "") if "季度" in s else s
    for pattern, freq in _PATTERNS:
        m = pattern.match(s)
        if not m:
            continue
        if freq == "S":     # a date cell that lost its date format: its month
            day = _EXCEL_EPOCH + pd.Timedelta(days=int(m.group(1)))
            if not 1990 <= day.year <= 2100:
                break
            return f"{day.year}-{day.month:02d}"
        year = int(m.group(1))
        if not 1990 <= year <= 2100:
            break
        if freq == "M":
            month = _cn_or_int(m.group(2))
            if 1 <= month <= 12:
                return f"{year}-{month:02d}"
            break
        if freq == "Q":
            return f"{year}Q{_cn_or_int(m.group(2))}"
        if freq == "H":
            g = m.group(2)
            return f"{year}H{1 if g in ('1', '上') else 2}"
        return f"{year}"
    raise ValueError(f"not a period: {text!r} (expected forms like 2024-04, 2024年4月, 2024Q2, "
                     "2024年二季度, 2024年上半年)")


def period_freq(period: str) -> str:
    """'M', 'Q', 'H' or 'Y' for a canonical period."""
    if "-" in period:
        return "M"
    if "Q" in period:
        return "Q"
    if "H" in period:
        return "H"
    return "Y"


def period_bounds(period: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a canonical period."""
    freq = period_freq(period)
    year = int(period[:4])
    if freq == "M":
        p = pd.Period(period, freq="M")
    elif freq == "Q":
        p = pd.Period(period, freq="Q")
    elif freq == "H":
        half = int(period[-1])
        start = pd.Timestamp(year, 1 if half == 1 else 7, 1)
        end = pd.Timestamp(year, 6, 30) if half == 1 else pd.Timestamp(year, 12, 31)
        return start, end
    else:
        p = pd.Period(str(year), freq="Y")
    return p.start_time.normalize(), p.end_time.normalize()


def months_in(period: str) -> list[str]:
    """The canonical months a period covers."""
    start, end = period_bounds(period)
    return [str(p) for p in pd.period_range(start, end, freq="M")]


def shift_period(period: str, n: int) -> str:
    """The period ``n`` steps after ``period`` at its own frequency (n may be negative)."""
    freq = period_freq(period)
    if freq == "M":
        return str(pd.Period(period, freq="M") + n)
    if freq == "Q":
        return str(pd.Period(period, freq="Q") + n).replace("Q", "Q")
    if freq == "H":
        idx = int(period[:4]) * 2 + int(period[-1]) - 1 + n
        return f"{idx // 2}H{idx % 2 + 1}"
    return str(int(period) + n)


def same_period_last_year(period: str) -> str:
    """The same month, quarter or half a year earlier."""
    steps = {"M": 12, "Q": 4, "H": 2, "Y": 1}[period_freq(period)]
    return shift_period(period, -steps)


def to_quarter(period: str) -> str:
    """The quarter a canonical month or quarter falls in."""
    if period_freq(period) == "Q":
        return period
    if period_freq(period) != "M":
        raise ValueError(f"{period!r} is not a month or a quarter")
    return str(pd.Period(period, freq="M").asfreq("Q"))


def period_sort_key(period: str) -> tuple:
    """A key that orders canonical periods in time (months within their quarter)."""
    start, end = period_bounds(period)
    return (start, end)


def sort_periods(periods) -> list[str]:
    """Canonical periods sorted in time, duplicates removed."""
    return sorted(set(periods), key=period_sort_key)


# A period inside longer text (a title row, a sheet or file name).  Ranges such as
# 2024年1-4月 or 1至4月 are cumulative spans, not one period, so a month preceded by a
# dash or 至 does not count.
_EMBEDDED = [
    re.compile(r"\d{4}年(?:第)?[1-4一二三四]季度"),
    re.compile(r"\d{4}年[上下]半年"),
    re.compile(rf"\d{{4}}年(?:\d{{1,2}}|[{_CN_NUM}]{{1,3}})月(?!\d)"),
    re.compile(r"(?<!\d)\d{4}-?[qQ][1-4](?![0-9])"),
    re.compile(r"(?<!\d)\d{4}-?[hH][12](?![0-9])"),
    re.compile(r"(?<![\d.])\d{4}[-/.]\d{1,2}(?![\d/.\-])"),
]


def find_period(text) -> str | None:
    """The one canonical period written inside ``text`` (``桂林市2024年4月调度表`` →
    ``2024-04``), or None when there is none or several different ones."""
    if text is None:
        return None
    s = normalise_name(text)
    found = set()
    for pattern in _EMBEDDED:
        for m in pattern.finditer(s):
            try:
                found.add(parse_period(m.group(0)))
            except ValueError:
                continue
    return found.pop() if len(found) == 1 else None


_QUARTER_ZH = {"1": "一", "2": "二", "3": "三", "4": "四"}


def period_name_zh(period: str) -> str:
    """A canonical period as a bulletin writes it: ``2024年4月``, ``2024年第二季度``,
    ``2024年上半年``, ``2024年``."""
    freq = period_freq(period)
    year = period[:4]
    if freq == "M":
        return f"{year}年{int(period[5:])}月"
    if freq == "Q":
        return f"{year}年第{_QUARTER_ZH[period[-1]]}季度"
    if freq == "H":
        return f"{year}年{'上' if period[-1] == '1' else '下'}半年"
    return f"{year}年"


# ------------------------------------------------------------------------ windows
def window(periods, period=None, *, cumulative: bool = True) -> np.ndarray:
    """Which of ``periods`` (canonical, any frequency) lie in the window of an
    assessment: every period when ``period`` is None; with ``cumulative`` (截至…累计)
    every period ending on or before ``period``'s last day; otherwise the periods
    lying inside ``period`` (a quarter's months and the quarter itself).

    A window can hold periods of several frequencies (a unit's months and another
    unit's quarter).  Where one unit gave both for the same indicator, ``nested``
    decides which figure counts, so that nothing is counted twice.

    Parameters
    ----------
    periods : sequence of str
        Canonical periods (``parse_period``'s forms).
    period : str or None
        The assessed period.
    cumulative : bool
        Campaign to date (True) or the period alone (False).

    Returns
    -------
    numpy.ndarray of bool, one per period.
    """
    names = list(periods)
    if period is None:
        return np.ones(len(names), dtype=bool)
    start, end = _bounds(period)
    out = np.empty(len(names), dtype=bool)
    for k, p in enumerate(names):
        first, last = _bounds(p)
        out[k] = last <= end if cumulative else (first >= start and last <= end)
    return out


_RANK = {"M": 0, "Q": 1, "H": 2, "Y": 3}


def nested(periods) -> np.ndarray:
    """``finer[j, k]``: period j is of a finer frequency than period k and lies inside
    it (2024-02 in 2024Q1, 2024Q1 in 2024H1 and in 2024).

    The rule for figures given at two frequencies: **the finer figure counts**.
    Where a unit reported both its months and its quarter for the same indicator,
    the months are summed and the quarterly figure is left out, even when one of the
    months is missing (the quarter cannot be split to fill it); a quarter counts
    only where the unit gave none of its months.  Every window, total and level
    change of the package reads figures through this rule (``panel.Panel``).

    Returns
    -------
    numpy.ndarray of bool, shape (n, n).
    """
    names = list(periods)
    n = len(names)
    rank = np.array([_RANK[period_freq(p)] for p in names], dtype=np.int64)
    b = [_bounds(p) for p in names]
    out = np.zeros((n, n), dtype=bool)
    if len(set(rank.tolist())) < 2:
        return out
    for j in range(n):
        for k in range(n):
            out[j, k] = rank[j] < rank[k] and b[j][0] >= b[k][0] and b[j][1] <= b[k][1]
    return out


@lru_cache(maxsize=65536)
def _bounds(period: str):
    return period_bounds(period)
