"""List and count: ``3个单位…超过10个，分别是…`` against the units listed, and
``建筑施工【52个】和工贸【72个】两个行业领域`` against the count stated."""

from __future__ import annotations

import re

from .document import Claim, Document, Fig, fmt

_COMPARE_WORD = re.compile(r"(超过|高于|多于|低于|少于|不足|不到)")
_LIST_LEAD = re.compile(r"^[^。;；]{0,4}?(?:分别是|分别为|包括|:|：)")


def comparison_claims(doc: Document) -> list[Claim]:
    """``N个单位超过M，分别是…``: each listed unit against the threshold, and the
    number listed against N."""
    out = []
    for c in (f for f in doc.figs if f.entity):
        rest = doc.text[c.end:c.s1]
        stop = re.search(r"[,，;；:：。!?！？]", rest)
        clause = rest[:stop.start()] if stop else rest
        m = _COMPARE_WORD.search(clause)
        if not m:
            continue
        above = m.group(1) in ("超过", "高于", "多于")
        after = [g for g in doc.sentence(c) if g.start > c.end and not g.pct]
        threshold = next((g for g in after if g.start < c.end + len(clause) + 1), None)
        if threshold is None:
            what = "平均数" if "平均" in clause else "阈值"
            out.append(doc.claim("comparison", c, c, None, "unverifiable",
                                 f"“{fmt(c.value)}个单位{m.group(1)}{what}”需要各单位数据，文中未列出"))
            continue
        listed = []
        if _LIST_LEAD.match(doc.text[threshold.end:threshold.end + 12]):
            for g in after[after.index(threshold) + 1:]:
                if not g.subject:
                    break
                listed.append(g)
        if not listed:
            out.append(doc.claim("comparison", c, threshold, None, "unverifiable",
                                 f"{m.group(1)} {fmt(threshold.value)} 的单位未逐一列出，无法核对",
                                 stated_value=c.value))
            continue
        bad = [g for g in listed if not (g.value > threshold.value if above
                                         else g.value < threshold.value)]
        values = "、".join(f"{g.subject} {fmt(g.value)}" for g in listed)
        out.append(doc.claim("comparison", c, listed[-1], len(listed) - len(bad),
                             "contradicted" if bad else "verified",
                             f"所列 {values} " + ("均" if not bad else "并非都")
                             + f"{m.group(1)} {fmt(threshold.value)}"
                             + ("" if not bad else "：" + "、".join(g.subject for g in bad) + " 不满足"),
                             stated_value=len(listed), figs=(threshold, *listed)))
        out.append(_list_count(doc, c, listed, partial=False))
    return out


def list_count_claims(doc: Document) -> list[Claim]:
    """``A 52个 … 和 B 72个 两个行业领域``: the listed units against the stated count."""
    out = []
    for c in (f for f in doc.figs if f.entity):
        run = []
        for g in reversed(doc.before(c)):
            if not g.subject:
                break
            run.insert(0, g)
        if not run or not re.fullmatch(r"[\s】\])）)]*(?:等|和|及|共)?", doc.text[run[-1].end:c.start]
                                       .split("%")[-1].lstrip("】] ")):
            continue
        partial = doc.text[c.start - 1:c.start] == "等"
        out.append(_list_count(doc, c, run, partial))
    return out


def _list_count(doc: Document, c: Fig, listed: list[Fig], partial: bool) -> Claim:
    names = list(dict.fromkeys(g.subject for g in listed))
    n = len(names)
    ok = n <= c.value if partial else n == c.value
    return doc.claim("list_count", listed[0], c, n, "verified" if ok else "contradicted",
                     f"列出 {n} 个（{'、'.join(names)}），" + ("所述“等”" if partial else "所述")
                     + f" {fmt(c.value)} 个" + ("" if ok else "，不一致"), figs=listed)
