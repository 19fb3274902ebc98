"""Shares and ratios: ``企业自查上报占比仅为8.86%``, ``【52个，占比33.5%】``, the combined
share of listed parts (``两个行业领域…占比80%``), and ``A，是B的P%``.

A share's denominator is the area's total of the numerator's indicator (its ``sum``
parent in the catalogue: enterprise self-reports are a share of all major hazards).
Where several shares of one total fail and all hold on another total, that total is
named (巴南: 52 and 72 are 33.5% and 46.5% of 155, not of the 156 stated).
"""

from __future__ import annotations

import math
import re

from .concepts import concept_matches
from .document import PARENT, Claim, Document, Fig, fmt, holds, pct, step


def ratio_claims(doc: Document) -> list[Claim]:
    """``A，是B的P%``: A over B."""
    out = []
    for p in doc.percents("ratio"):
        head = doc.text[p.s0:p.start]
        shi = p.s0 + head.rfind("是")
        prior = doc.before(p)
        num = [g for g in prior if g.end <= shi][-1]
        den = [g for g in prior if g.start > shi][-1]
        precision = step(p.raw)
        computed = num.value / den.value * 100 if den.value else float("nan")
        ok = holds(computed, p.value, precision)
        out.append(doc.claim("ratio", num, p, computed, "verified" if ok else "contradicted",
                             f"{fmt(num.value)} / {fmt(den.value)} = {pct(computed, precision)}，"
                             f"{'与' if ok else '不等于'}所述 {fmt(p.value)}%", precision,
                             figs=(den,)))
    return out


def share_claims(doc: Document) -> list[Claim]:
    """One claim per share percentage (``Document.percents("share")``)."""
    found, out = [], []
    for p in doc.percents("share"):
        prior = doc.before(p)
        last = prior[-1] if prior else None
        bracket = last is not None and last.end <= p.start and re.fullmatch(
            r"\s*[,，]?\s*(?:占比?)?\s*(?:为|仅为|达)?\s*", doc.text[last.end:p.start])
        precision = step(p.raw)
        parts, label = _numerator(doc, p, prior, last if bracket else None)
        if not parts:
            out.append(doc.claim("share", p, p, None, "unverifiable",
                                 f"无法确定“{label}”对应的分子", precision))
            continue
        total_code = PARENT.get(parts[0].code, parts[0].code)
        total = doc.whole_total(total_code, parts[0], {g.i for g in parts}, unit=parts[0].unit)
        num = sum(g.value for g in parts)
        if total is None or not total.value:
            out.append(doc.claim("share", parts[0], p, None, "unverifiable", "文中未给出合计数",
                                 precision))
            continue
        computed = num / total.value * 100
        ok = holds(computed, p.value, precision)
        lo_t = num * 100 / (p.value + precision / 2)
        hi_t = num * 100 / (p.value - precision / 2) if p.value > precision / 2 else float("inf")
        fits = set(range(math.floor(lo_t) + 1, math.floor(hi_t) + 1)) if hi_t < 1e7 else set()
        numerator = " + ".join(fmt(g.value) for g in parts)
        numerator = f"({numerator})" if len(parts) > 1 else numerator
        found.append({"p": p, "parts": parts, "total": total, "ok": ok, "fits": fits,
                      "computed": computed, "step": precision, "num": num,
                      "text": f"{numerator} / {fmt(total.value)} = {pct(computed, precision)}，"
                              f"{'与' if ok else '不等于'}所述 {fmt(p.value)}%"})
    for f in found:
        expl = f["text"]
        if not f["ok"]:
            expl += _other_total(f, found)
        out.append(doc.claim("share", f["parts"][0], f["p"], f["computed"],
                             "verified" if f["ok"] else "contradicted", expl, f["step"],
                             figs=(*f["parts"], f["total"])))
    return out


def _other_total(f: dict, found: list[dict]) -> str:
    """A wrong total shows as shares that all hold on one other total."""
    peers = [g for g in found if g["total"].i == f["total"].i and not g["ok"]]
    common = set.intersection(*(g["fits"] for g in peers)) if peers else set()
    if common:
        t = min(common, key=lambda x: abs(x - f["total"].value))
        others = "，".join(f"{fmt(g['num'])}/{t} = {pct(g['num'] / t * 100, g['step'])}"
                          for g in peers)
        return (f"；这些占比都按合计 {t} 计算才成立（{others}），"
                f"而文中合计为 {fmt(f['total'].value)}，疑为分母用错")
    if f["fits"]:
        return f"；按合计 {min(f['fits'])} 计算才成立"
    return ""


def _numerator(doc: Document, p: Fig, prior: list[Fig], bracket_of: Fig | None):
    clause = doc.text[p.s0:p.start]
    # 两个行业领域…占比80%: the sum of the k parts listed before the count.
    counts = [g for g in prior if g.entity and g.start >= p.s0]
    if counts:
        c = counts[-1]
        listed = [g for g in prior if g.start < c.start and g.subject and g.code]
        if listed and len(listed) >= int(c.value):
            return listed[-int(c.value):], ""
    if bracket_of is not None and bracket_of.code:
        return [bracket_of], ""
    cut = max(clause.rfind("占"), 0)
    label_lo = max((m.end() for m in re.finditer(r"[,，;；:：。!?！？]", clause[:cut])), default=0)
    label = clause[label_lo:cut]
    codes = [m.code for m in concept_matches(label) if m.code]
    for code in reversed(codes):
        hits = [g for g in prior if g.code == code]
        if hits:
            return [hits[-1]], label
    return [], label
