"""Enumerations: the units a bulletin lists against the total it states, and rankings.

* **List against total.**  The figures of the units listed (``units.unit_lists``) are
  summed and compared with the area's total of the same indicator at the precision the
  total is written in.  Equal: verified.  Smaller: verified when the text lists only some
  units (排名靠前…, 主要集中在…, …等), else a discrepancy (the total may include units
  not listed), a contradiction only when the text itself says the list is complete (as
  many units listed as it counts).  Larger: a contradiction, unless a unit may be counted
  twice (a unit listed twice, a group of units listed beside its members, or the text
  saying that some figures are also counted elsewhere); then a discrepancy that says so.
* **Rankings.**  ``排名靠前的灵川县10项…相对靠后的七星区1项…``: every unit named at the
  top has at least the figure of every unit named at the bottom, and a ranked unit's
  figure equals any other figure the text gives it for the same indicator.
"""

from __future__ import annotations

import re

from ..catalogue import indicator_name
from .document import Claim, Document, Fig, fmt, holds, step
from .units import COMPLETE_WORDS, PARTIAL_WORDS, UnitItem, UnitList, key_of, unit_items, unit_lists

_GROUP_NAME = re.compile(r"成员单位|市直|区直|县直|及|、|,|其他|其余")
_OVERLAP_WORDS = re.compile(r"已纳入|重复|重叠|含在|包含在|有出入")
_TOP = re.compile(r"排名靠前|靠前的|排名前\d*|前\d+名|较多的")
_BOTTOM = re.compile(r"靠后的|排名靠后|排名后\d*|后\d+名|较少的|末位")


def enumeration_claims(doc: Document) -> list[Claim]:
    """List-against-total and ranking claims of one document."""
    items = unit_items(doc)
    out = []
    for lst in unit_lists(doc, items):
        if len(lst.names) >= 2:
            claim = _against_total(doc, lst)
            if claim is not None:
                out.append(claim)
    out += _rankings(doc, items)
    return out


def _total_of(doc: Document, lst: UnitList) -> Fig | None:
    """The area's total for a list: in the list's first sentence before it, else the
    largest whole-area figure of the key (coded keys: in the text; others: in the line
    or the line before, where such totals are written)."""
    first = lst.items[0]
    unit_word = next((i.unit_word for i in lst.items if i.unit_word), "")
    pool = [g for g in doc.figs if not g.subject and not g.pct and not g.summary and not g.approx
            and key_of(g) == lst.key and g.value > 0
            and (not unit_word or g.unit == unit_word or _compatible(g.unit, unit_word))]
    s0 = first.fig.s0 if first.fig is not None else doc.figs[0].s0 if doc.figs else 0
    here = [g for g in pool if g.s0 == s0 and g.start < first.start]
    if here:
        return here[-1]
    if not lst.key.startswith("obj:"):
        return max(pool, key=lambda g: (g.value, -g.start), default=None)
    # Figures with no indicator say less about what they count (减少9人 of deaths or of
    # the injured?): only a total near the list that the list sums to exactly is taken.
    lo, _ = doc.line_of(first.start)
    prev_lo, _ = doc.line_of(max(lo - 1, 0))
    near = [g for g in pool if prev_lo <= g.start < first.start
            and holds(lst.total, g.value, step(g.raw))]
    return near[-1] if near else None


def _compatible(a: str, b: str) -> bool:
    from ..numbers import units_compatible
    return units_compatible(a, b)


def _against_total(doc: Document, lst: UnitList) -> Claim | None:
    total = _total_of(doc, lst)
    if total is None:
        return None
    precision = step(total.raw)
    s = lst.total
    n = len(lst.names)
    what = _what(lst.key)
    names = "、".join(lst.names[:6]) + ("等" if n > 6 else "")
    head = f"所列{n}个{'行业领域' if lst.items[0].sector else '单位'}（{names}）{what}合计{fmt(s)}"
    words = _list_words(doc, lst)
    figs = tuple(i.fig for i in lst.items if i.fig is not None)
    first = figs[0] if figs else total
    last = figs[-1] if figs else total
    listed = doc.text[lst.start:lst.end]
    listed = listed if len(listed) <= 60 else listed[:28] + "…" + listed[-28:]

    def claim(status: str, explanation: str) -> Claim:
        return doc.claim("enumeration", first, total, s, status, explanation, precision,
                         figs=(last, *figs), span=(min(total.start, lst.start), max(total.end, lst.end)),
                         statement=f"{listed}（总数：{total.raw}）")
    if holds(s, total.value, precision):
        return claim("verified", f"{head}，与所述总数{fmt(total.value)}一致")
    diff = s - total.value
    if diff < 0:
        if PARTIAL_WORDS.search(words) or lst.items[0].sector:
            return claim("verified", f"{head}，不超过所述总数{fmt(total.value)}（所列为部分"
                             f"{'行业领域' if lst.items[0].sector else '单位'}，"
                             f"未列出的合计{fmt(-diff)}）")
        counted = _stated_count(doc, lst)
        if counted is not None and counted == n:
            return claim("contradicted", f"{head}，与所述总数{fmt(total.value)}相差{fmt(-diff)}"
                             f"（文中所述{counted}个单位已全部列出）")
        return claim("discrepancy", f"{head}，比所述总数{fmt(total.value)}少{fmt(-diff)}；总数可能包括"
                         "未列出的单位，请核实")
    cause = _overlap(doc, lst, words)
    if not cause and doc.section_of(total.start) != doc.section_of(lst.start):
        cause = "总数与名单不在文中同一部分，两处可能口径或期间不同"
    if cause:
        tail = "" if "口径或期间" in cause else "，差额可能来自重复计入"
        return claim("discrepancy", f"{head}，比所述总数{fmt(total.value)}多{fmt(diff)}；{cause}"
                     f"{tail}，请核实")
    return claim("contradicted", f"{head}，与所述总数{fmt(total.value)}相差{fmt(diff)}")


def _what(key: str) -> str:
    if key.startswith("obj:"):
        return {"obj:hazard": "隐患", "obj:entity": "", "obj:enterprise": "企业"}.get(key, "")
    return indicator_name(key)


def _list_words(doc: Document, lst: UnitList) -> str:
    """The words that introduce the list: from its first sentence's start to its end."""
    first = lst.items[0]
    lo = first.fig.s0 if first.fig is not None else doc.line_of(first.start)[0]
    return doc.text[lo:lst.end]


def _stated_count(doc: Document, lst: UnitList) -> int | None:
    """A count of units stated in the list's first sentence before it (17个地区，分别是…)."""
    first = lst.items[0]
    lo = first.fig.s0 if first.fig is not None else doc.line_of(first.start)[0]
    counts = [g for g in doc.figs if g.entity and lo <= g.start < first.start]
    return int(counts[-1].value) if counts else None


def _overlap(doc: Document, lst: UnitList, words: str) -> str:
    """Why a list may count a unit twice, '' if nothing suggests it."""
    groups = [n for n in lst.names if _GROUP_NAME.search(n)]
    hint = _OVERLAP_WORDS.search(doc.text[lst.start:lst.end + 80]) or _OVERLAP_WORDS.search(words)
    if groups and hint:
        return f"“{groups[0]}”是一组单位，文中说明其部分数据{hint.group()}县区统计"
    if groups:
        return f"“{groups[0]}”是一组单位，可能与其他所列单位重叠"
    if hint:
        return f"文中提到数据“{hint.group()}”"
    if not COMPLETE_WORDS.search(words) and len({doc.section_of(i.start) for i in lst.items}) > 1:
        return "名单来自文中不同部分，可能有单位同时列在两处"
    return ""


def _rankings(doc: Document, items: list[UnitItem]) -> list[Claim]:
    """Top and bottom units of one ranking sentence, and ranked units' other figures."""
    out = []
    by_sentence: dict[int, list[UnitItem]] = {}
    for it in items:
        if it.fig is not None and not it.sector:
            by_sentence.setdefault(it.fig.s0, []).append(it)
    for s0, group in by_sentence.items():
        sentence = doc.text[s0:group[-1].end]
        top_m, bottom_m = _TOP.search(sentence), _BOTTOM.search(sentence)
        if not top_m:
            continue
        cut = s0 + bottom_m.start() if bottom_m else None
        top = [i for i in group if cut is None or i.start < cut]
        bottom = [i for i in group if cut is not None and i.start >= cut]
        if top and bottom:
            low, high = min(i.value for i in top), max(i.value for i in bottom)
            ok = low >= high
            desc = (f"排名靠前的{len(top)}个单位最少{fmt(low)}，靠后的{len(bottom)}个单位最多"
                    f"{fmt(high)}")
            out.append(doc.claim("ranking", top[0].fig, bottom[-1].fig, low,
                                 "verified" if ok else "contradicted",
                                 desc + ("，排序成立" if ok else "，排序不成立"),
                                 figs=tuple(i.fig for i in group)))
        out += _ranked_elsewhere(doc, group, items)
    return out


def _ranked_elsewhere(doc: Document, ranked: list[UnitItem], items: list[UnitItem]) -> list[Claim]:
    out = []
    for r in ranked:
        others = [i for i in items if i.unit == r.unit and i.key == r.key and i.fig is not None
                  and i.fig.s0 != r.fig.s0 and i.unit_word == r.unit_word]
        for o in others:
            ok = o.value == r.value
            out.append(doc.claim("ranking", r.fig, o.fig, o.value,
                                 "verified" if ok else "discrepancy",
                                 f"{r.unit}在排名中为{fmt(r.value)}，文中另处为{fmt(o.value)}"
                                 + ("" if ok else "；两处可能口径或期间不同，请核实"),
                                 stated_value=r.value))
    return out
