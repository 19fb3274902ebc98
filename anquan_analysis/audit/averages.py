"""Averages: ``全区各单位均排查重大事故隐患数量为3.1个`` against total / number of units."""

from __future__ import annotations

import re

from .document import Claim, Document, fmt, holds, step

_AVERAGE_WORD = re.compile(r"平均|均")
_UNITS_AFTER = re.compile(r"(?:个|家)?(?:重点|需报送\w{0,10})?(?:单位|镇街|部门|县|区)")


def average_claims(doc: Document) -> list[Claim]:
    """One claim per figure written as an average of the units' figures."""
    out = []
    units = [g for g in doc.figs if g.entity and not g.summary
             and _UNITS_AFTER.match(doc.text[g.end:g.end + 8])]
    for a in doc.figs:
        if a.pct or not a.code or not _AVERAGE_WORD.search(doc.clause_before(a.s0, a.start)):
            continue
        precision = step(a.raw)
        total = doc.whole_total(a.code, a, {a.i})
        before_units = [g for g in units if g.start < a.start]
        count = before_units[-1] if before_units else (units[0] if units else None)
        if total is None or count is None or not count.value:
            missing = "合计" if total is None else "单位数"
            out.append(doc.claim("average", a, a, None, "unverifiable",
                                 f"文中未给出{missing}，无法核对平均数", precision))
            continue
        computed = total.value / count.value
        ok = holds(computed, a.value, precision)
        out.append(doc.claim("average", a, a, computed, "verified" if ok else "contradicted",
                             f"{fmt(total.value)} / {fmt(count.value)} 个单位 = {computed:.3g}，"
                             f"{'与' if ok else '不等于'}所述平均 {fmt(a.value)}", precision,
                             figs=(total, count)))
    return out
