"""The one-page 简报 that opens the report: the period's totals with 环比 and 同比, the
units first and last by the key indicator as the bulletins list them (桂林: "排名靠前的
灵川县10项、兴安县9项、资源县9项，相对靠后的七星区1项…") beside the ranking adjusted
for the enterprises supervised, the units that did not report (roster), and the labels
本期 / 累计（1—9月） every table of the report carries.

Every function reads one ``Assessment`` and returns a new table or a line of text;
none modifies it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalogue import FINDING_COUNTS, RECTIFIED_OF, indicator_name, indicator_unit
from ..periods import period_bounds, period_name_zh, same_period_last_year, shift_period
from .period import Assessment
from .sections import period_total


# ------------------------------------------------------------------ labels
def window_text(a: Assessment) -> str:
    """The campaign to date up to the assessed period, as the tables are labelled:
    ``1—9月`` within one year, ``2023年10月—2024年9月`` across years, ``9月`` when the
    data begin in the period itself."""
    periods = a.panel.periods[a.panel.window(a.period, cumulative=True)]
    first = period_bounds(str(periods[0]) if len(periods) else a.period)[0]
    last = period_bounds(a.period)[1]
    if first.year != last.year:
        return f"{first.year}年{first.month}月—{last.year}年{last.month}月"
    return f"{last.month}月" if first.month == last.month else f"{first.month}—{last.month}月"


def label(a: Assessment, basis: str) -> str:
    """The label of a table: ``本期（2024年第三季度）`` or ``累计（1—9月）``."""
    if basis == "本期":
        return f"本期（{a.period_zh}）"
    if basis == "累计":
        return f"累计（{window_text(a)}）"
    raise ValueError(f"basis must be 本期 or 累计, not {basis!r}")


# ------------------------------------------------------------------ totals
def brief_indicators(a: Assessment) -> list[str]:
    """The indicators the 简报 totals: the key indicator first, then every finding count
    (重大事故隐患, 一般隐患, 火灾隐患) and its rectified count that the data hold."""
    codes = [a.key_indicator] if a.key_indicator else []
    for found in FINDING_COUNTS:
        codes += [found, RECTIFIED_OF.get(found)]
    out = []
    for c in codes:
        if c and c not in out and a.panel.has(c):
            out.append(c)
    return out


def _pct(now: float, before: float) -> float:
    if before != before or now != now or before <= 0:
        return float("nan")
    return round((now - before) / before * 100, 1)


def brief_totals(a: Assessment) -> pd.DataFrame:
    """The period's totals over every unit (``period_total``) with 环比 and 同比.

    Returns
    -------
    DataFrame, one row per indicator of ``brief_indicators``: 指标, 计量单位, 本期,
    上期, 环比(%) (one decimal; blank where 上期 is blank or 0), 去年同期, 同比(%) (the
    same period a year before: both columns are left out when no indicator has a
    figure there), 累计（1—9月） (every figure up to the period, each counted once).
    """
    prev, last_year = shift_period(a.period, -1), same_period_last_year(a.period)
    cum_head = f"累计（{window_text(a)}）"
    rows = []
    for code in brief_indicators(a):
        now = period_total(a, code)
        before = period_total(a, code, prev)
        year = period_total(a, code, last_year)
        cum = a.panel.totals([code], a.period, cumulative=True)[:, 0]
        rows.append({"指标": indicator_name(code), "计量单位": indicator_unit(code),
                     "本期": now, "上期": before, "环比(%)": _pct(now, before),
                     "去年同期": year, "同比(%)": _pct(now, year),
                     cum_head: float(np.nansum(cum)) if (~np.isnan(cum)).any() else np.nan})
    cols = ["指标", "计量单位", "本期", "上期", "环比(%)", "去年同期", "同比(%)", cum_head]
    out = pd.DataFrame(rows, columns=cols)
    if out["去年同期"].isna().all():
        out = out.drop(columns=["去年同期", "同比(%)"])
    return out


def totals_note(a: Assessment) -> str:
    """The line under the totals: what 上期 and 去年同期 are, and when there is no 同比
    that last year's data are missing."""
    prev, year = shift_period(a.period, -1), same_period_last_year(a.period)
    text = f"上期为{period_name_zh(prev)}"
    if "同比(%)" in brief_totals(a).columns:
        return text + f"，去年同期为{period_name_zh(year)}。"
    return text + f"；数据中没有{period_name_zh(year)}（去年同期）的数据，未计算同比。"


# ------------------------------------------------------------------ ranking
def unit_counts(a: Assessment, *, cumulative: bool) -> pd.Series:
    """The key indicator per unit, in the period (``cumulative=False``) or up to it,
    highest first (ties by name); units without a figure are left out (a blank is
    not a 0).  Empty without a key indicator."""
    if a.key_indicator is None or not a.panel.has(a.key_indicator):
        return pd.Series(dtype=float)
    v = a.panel.totals([a.key_indicator], a.period, cumulative=cumulative)[:, 0]
    s = pd.Series(v, index=pd.Index(a.panel.units, dtype=object, name="单位")).dropna()
    order = np.lexsort((s.index.to_numpy(dtype=str), -s.to_numpy()))
    return s.iloc[order]


def _count(value: float, unit: str) -> str:
    return f"{value:.0f}{unit}" if float(value).is_integer() else f"{value:.1f}{unit}"


def _expected(value: float, unit: str) -> str:
    """An expectation as the draft writes it: whole from 10 up, else one decimal
    (应约12项, 应约0.4项)."""
    return f"{value:.0f}{unit}" if value >= 10 else f"{value:.1f}{unit}".replace(".0" + unit, unit)


def _count_cells(counts: pd.Series, unit: str) -> list[str]:
    """``石门镇 20项`` per unit, highest first; the units tied at the lowest figure are
    one cell (``东山街道等34个单位 0项``): which of them is "last" is not a fact."""
    if counts.empty:
        return []
    low = counts.iloc[-1]
    tied = counts.index[(counts == low).to_numpy()]
    cells = [f"{u} {_count(v, unit)}" for u, v in counts.items() if v != low]
    if len(tied) > 1:
        return cells + [f"{tied[0]}等{len(tied)}个单位 {_count(low, unit)}"]
    return cells + [f"{tied[0]} {_count(low, unit)}"]


def brief_ranking(a: Assessment, n: int = 5) -> pd.DataFrame:
    """The first and last ``n`` units by the key indicator, in the period and to date,
    beside the ranking adjusted for the enterprises supervised (the funnel's z, to
    date; without exposure, against the peers' median).

    Returns
    -------
    DataFrame with rows 第1位 … 第n位, then 倒数第n位 … 倒数第1位 (fewer when there are
    fewer than 2n units), and columns 位次, ``按数量·本期``, ``按数量·累计（1—9月）``
    (cells ``石门镇 20项``) and ``按监管企业数校正·累计（1—9月）`` (cells
    ``石门镇 51项（应约12项）``, ``桂花街道 5项（应约0.4项）``; ``与同类单位比较·…`` without exposure).  Empty
    without a key indicator.
    """
    if a.key_indicator is None:
        return pd.DataFrame()
    unit = indicator_unit(a.key_indicator)
    cum = window_text(a)
    f = a.funnel.dropna(subset=["z"]) if len(a.funnel) else a.funnel
    if len(f):
        f = f.sort_values(["z", "observed"], ascending=False, kind="stable")
    adjusted = [f"{u} {_count(o, unit)}（应约{_expected(e, unit)}）"
                for u, o, e in zip(f["unit"], f["observed"], f["expected"])] if len(f) else []
    lists = {
        "按数量·本期": _count_cells(unit_counts(a, cumulative=False), unit),
        f"按数量·累计（{cum}）": _count_cells(unit_counts(a, cumulative=True), unit),
        (f"按监管企业数校正·累计（{cum}）" if a.has_exposure
         else f"与同类单位比较·累计（{cum}）"): adjusted,
    }
    k = min(n, max(len(v) for v in lists.values()) // 2)
    if k == 0:
        return pd.DataFrame()
    places = [f"第{i + 1}位" for i in range(k)] + [f"倒数第{k - i}位" for i in range(k)]
    cols = {"位次": places}
    for head, items in lists.items():
        m = min(k, len(items) // 2)
        top = items[:m] + [""] * (k - m)
        bottom = [""] * (k - m) + (items[len(items) - m:] if m else [])
        cols[head] = top + bottom
    return pd.DataFrame(cols)


def _names(units, most: int = 8) -> str:
    units = list(units)
    shown = "、".join(units[:most])
    return shown if len(units) <= most else f"{shown}等{len(units)}个单位"


def ranking_sentence(a: Assessment, top: int = 3, bottom: int = 5) -> str:
    """The ranking as a bulletin writes it, on the period's own figures: ``以重大事故
    隐患排查数作对比，本期排名靠前的石门镇20项、…，相对靠后的…``; the units at 0 are
    named together (``为0的有A、B等26个单位``) rather than listed as "last"."""
    s = unit_counts(a, cumulative=False)
    if s.empty:
        return ""
    unit = indicator_unit(a.key_indicator)
    head = "、".join(f"{u}{_count(v, unit)}" for u, v in s.head(top).items())
    rest = s.iloc[top:]
    low = rest.loc[rest > 0].tail(bottom)
    zeros = list(rest.loc[rest == 0].index)   # by name (s is by name within a tie)
    text = f"以{indicator_name(a.key_indicator)}作对比，本期排名靠前的{head}"
    if len(low):
        text += "，相对靠后的" + "、".join(f"{u}{_count(v, unit)}" for u, v in low.items())
    if len(zeros):
        text += f"，为0的有{_names(zeros)}"
    return text + "。"


# ------------------------------------------------------------------ who did not report
def not_reported_text(a: Assessment) -> str:
    """未报送: the roster's units with no figure in the period (``not_reported``
    findings), or that the roster lists none missing, or that there is no roster."""
    if a.roster is None:
        return "数据文件夹中没有单位名册（单位名册.csv），无法判断未报送的单位。"
    f = a.findings.loc[a.findings["check"] == "not_reported"]
    units = list(dict.fromkeys(f["unit"].dropna().astype(str)))
    if not units:
        return f"单位名册所列{len(a.roster)}个单位本期均已报送。"
    return f"本期未报送调度数据的单位{len(units)}个：{'、'.join(units)}。"



# ------------------------------------------------------------------ the drafted problems
def problem_points(a: Assessment) -> list[str]:
    """存在的主要问题 as the 简报 shows it: one paragraph per point of the draft
    (``draft.draft_items``: 一是从排查数量上看，…), then what the data could not
    support (``draft.not_judged``); the draft's one sentence (``draft.NOTHING``) when
    nothing reaches 关注.  Joined, the paragraphs are ``draft.draft_problems``."""
    from ..draft import draft_items, draft_problems, not_judged

    items = draft_items(a.findings, period=a.period, label=a.period_zh)
    if items.empty:
        return [draft_problems(a.findings, period=a.period, label=a.period_zh, unmet=a.unmet)]
    tail = not_judged(a.unmet)
    return list(items["number"] + items["text"]) + ([tail] if tail else [])
