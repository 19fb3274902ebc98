"""Rates: ``整改率99%`` against rectified / found, ``完成率38.6%`` against done / planned.

A rate is paired only with a numerator and a denominator that count the same object
(hazards with hazards, enterprises with enterprises, households with households), and
a rectification rate only with hazards: ``工矿企业43158家…一般隐患整改率为96.61%`` has
no denominator in its sentence, and 43158 enterprises are not one.
"""

from __future__ import annotations

import re

from .concepts import RECTIFIED, concept_matches
from .document import FOUND_OF, Claim, Document, Fig, fmt, holds, pct, step, truncates

_RECTIFY_RATE = re.compile(r"(?:整改|销号)\w{0,3}率")
_DONE_WORD = re.compile(r"已|完成|整改|销号|办结")
_ON_TIME = re.compile(r"(?:按期|按时|及时|限期)\w{0,3}率[^,，;；。]{0,4}$")


def rate_claims(doc: Document) -> list[Claim]:
    """One claim per rate percentage (``Document.percents("rate")``)."""
    return [_rate(doc, p) for p in doc.percents("rate")]


def _rate(doc: Document, p: Fig) -> Claim:
    precision = step(p.raw)
    head = doc.text[p.s0:p.start]
    rectify = bool(_RECTIFY_RATE.search(head))
    if _ON_TIME.search(head):
        return doc.claim("rate", p, p, None, "unverifiable",
                         "按期整改率的分母是到期应整改的隐患数，文中未给出", precision)
    prior = _prior(doc, p)
    borrowed = bool(prior) and prior[0].s0 != p.s0
    den, num = _pair(doc, prior, rectify) if prior else _named(doc, p)
    if den is None:
        others = [g for g in prior if g.obj not in ("hazard", "item")] if rectify else []
        why = (f"；本句的 {'、'.join(fmt(g.value) + g.unit for g in others)} 不是隐患数，"
               "不能作为整改率的分母" if others else "")
        return doc.claim("rate", p, p, None, "unverifiable", "文中未给出该比率的分子和分母" + why,
                         precision)
    if num is not None:
        computed = num.value / den.value * 100 if den.value else float("nan")
        ok = holds(computed, p.value, precision)
        cut = not ok and truncates(computed, p.value, precision)
        text = (f"{fmt(num.value)} / {fmt(den.value)} = {pct(computed, precision)}，"
                f"{'与' if ok or cut else '不等于'}所述 {fmt(p.value)}%"
                + ("一致（按舍去尾数计）" if cut else "")
                + ("" if ok or cut else _needed(den, p, precision)))
        return doc.claim("rate", den, p, computed, "verified" if ok or cut else "contradicted",
                         text, precision, figs=(num,))
    ks = _feasible(den, p, precision)
    if ks or den.approx or not den.value.is_integer():
        near = min(ks, key=lambda k: abs(k - den.value * p.value / 100)) if ks else None
        expl = (f"文中给出分母 {fmt(den.value)} 但未给出{'整改' if rectify else '完成'}数；"
                + (f"{fmt(den.value)} 的 {fmt(p.value)}% 对应约 {near} "
                   f"（{near}/{fmt(den.value)} = {pct(near / den.value * 100, precision)}），整数可行"
                   if ks else "无法核对"))
        return doc.claim("rate", den, p, None, "unverifiable", expl, precision)
    text = f"没有任何整数能使 {fmt(den.value)} 的比率为 {fmt(p.value)}%"
    if borrowed:
        return doc.claim("rate", den, p, None, "discrepancy",
                         text + "；分母取自上一句，可能并非该比率的分母，请核实", precision)
    return doc.claim("rate", den, p, None, "contradicted", text, precision)


def _prior(doc: Document, p: Fig) -> list[Fig]:
    """Figures the rate may be about: before it in its sentence, else (a rate that opens
    its own sentence: 但是…整改率仅为39.56%) in the previous sentence of its line."""
    prior = doc.before(p)
    if prior or p.s0 == 0 or doc.before(p, counts=False):
        return prior
    lo, _ = doc.line_of(p.start)
    prev = [g for g in doc.figs if g.s1 == p.s0 and g.start >= lo and not g.pct]
    return prev


def _pair(doc: Document, prior: list[Fig], rectify: bool) -> tuple[Fig | None, Fig | None]:
    """(denominator, numerator or None) of one rate among ``prior``."""
    dens = [g for g in prior if g.code in RECTIFIED]
    if dens:
        # the rectified figure nearest the rate, and its own found figure before it
        for num in reversed([g for g in prior if g.code in FOUND_OF]):
            den = next((g for g in reversed(dens) if g.start < num.start
                        and RECTIFIED[g.code] == num.code and g.subject == num.subject), None)
            if den is not None:
                return den, num
        return dens[-1], None
    if len(prior) < 2 or any(g.code for g in prior):
        return None, None
    den, num = prior[-2], prior[-1]
    done = doc.clause_before(den.end, num.start)
    # 报送隐患124841条，已整改124841条: the rectified count is of the hazards just named
    num_obj = den.obj if num.obj == "item" and re.search(r"整改|销号", done) else num.obj
    same = den.obj == num_obj and den.obj not in ("entity", "percent") and den.subject == num.subject
    if not same or (rectify and den.obj != "hazard"):
        return None, None
    if not _DONE_WORD.search(done) or num.value > den.value:
        return None, None
    return den, num


def _named(doc: Document, p: Fig) -> tuple[Fig | None, Fig | None]:
    """A rate with no figure before it that names its hazards (一般隐患治理整改率为97.28%):
    the area's found and rectified figures of those hazards, stated elsewhere."""
    codes = [m.code for m in concept_matches(doc.text[p.s0:p.start]) if m.code in RECTIFIED]
    if not codes:
        return None, None
    den = doc.whole_total(codes[-1], p, set())
    num = doc.whole_total(RECTIFIED[codes[-1]], p, set())
    if den is None or num is None or num.s0 != den.s0:
        return None, None
    return den, num


def _feasible(den: Fig, p: Fig, precision: float) -> list[int]:
    if not den.value or not den.value.is_integer() or den.approx:
        return []
    return [k for k in range(int(den.value) + 1) if holds(k / den.value * 100, p.value, precision)]


def _needed(den: Fig, p: Fig, precision: float) -> str:
    ks = _feasible(den, p, precision)
    if not ks:
        return ""
    near = min(ks, key=lambda k: abs(k - den.value * p.value / 100))
    return f"；按分母 {fmt(den.value)}，{fmt(p.value)}% 约需 {near}"
