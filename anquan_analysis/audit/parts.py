"""Part and whole: ``其中`` parts against their total, and remainders (``余10家未到整改期限``).

Parts are summed by the catalogue's ``sum`` rules (部门检查发现 + 企业自查发现 = 排查数)
and held to its ``≤`` rules; parts the catalogue does not relate are held to ≤ the total
when they share its unit word.  A remainder is the total less what was done:
``挂牌重大隐患630家，已整改620家…余10家``.
"""

from __future__ import annotations

import re

from .document import LE_RULES, SUM_RULES, Claim, Document, Fig, fmt, holds, step

_REMAINDER = re.compile(r"(?:剩余|尚余|余下|余|未整改(?:到位)?|尚未整改|未完成|列入治理计划的?[\u4e00-\u9fff]{0,6})$")
_DONE = re.compile(r"已|完成|整改|销号|办结")


def parts_claims(doc: Document) -> list[Claim]:
    """``其中`` parts against their total (claim types parts_sum and part_le_total)."""
    out = []
    for q in re.finditer("其中", doc.text):
        sent = [g for g in doc.figs if g.s0 <= q.start() < g.s1 and not g.pct]
        totals = [g for g in sent if g.end <= q.start() and not g.entity]
        parts = [g for g in sent if g.start >= q.end()]
        if not totals or not parts:
            continue
        claims = _catalogue_parts(doc, totals, parts)
        if not claims:
            claims = _same_unit_parts(doc, totals[-1], parts)
        out += claims
    return out


def _catalogue_parts(doc: Document, totals: list[Fig], parts: list[Fig]) -> list[Claim]:
    out = []
    tcodes = {g.code: g for g in totals if g.code}
    for lhs, rhs in SUM_RULES:
        if rhs not in tcodes:
            continue
        pieces = [next((g for g in parts if g.code == c), None) for c in lhs]
        total = tcodes[rhs]
        if all(pieces):
            s = sum(g.value for g in pieces)
            ok = holds(s, total.value, step(total.raw))
            expl = (" + ".join(fmt(g.value) for g in pieces) + f" = {fmt(s)}，"
                    + ("等于" if ok else "不等于") + f"所述合计 {fmt(total.value)}")
            out.append(doc.claim("parts_sum", total, pieces[-1], s,
                                 "verified" if ok else "contradicted", expl, step(total.raw),
                                 stated_value=total.value, figs=pieces))
    for a, b, desc in LE_RULES:
        if b in tcodes:
            out += [le_claim(doc, "part_le_total", g, tcodes[b], desc) for g in parts if g.code == a]
    return out


def _same_unit_parts(doc: Document, total: Fig, parts: list[Fig]) -> list[Claim]:
    same = [g for g in parts if g.unit == total.unit]
    if not same:
        return []
    s = sum(g.value for g in same)
    ok = s <= total.value + 1e-9
    expl = ((" + ".join(fmt(g.value) for g in same) + " = " if len(same) > 1 else "")
            + f"{fmt(s)} " + ("≤" if ok else ">") + f" 合计 {fmt(total.value)}"
            + ("（各部分正好合计）" if ok and s == total.value else ""))
    return [doc.claim("part_le_total", total, same[-1], s, "verified" if ok else "contradicted",
                      expl, step(total.raw), stated_value=total.value, figs=same)]


def le_claim(doc: Document, claim_type: str, small: Fig, big: Fig, desc: str) -> Claim:
    """``small ≤ big`` by a catalogue rule.  A rectified count that names its hazards
    without the found count's qualifier (已整改隐患70条 after 发现一般隐患32条) may
    count other hazards too: a larger one is a discrepancy, not a contradiction."""
    ok = small.value <= big.value + 1e-9
    first, last = (small, big) if small.start < big.start else (big, small)
    status = "verified" if ok else "contradicted"
    expl = f"{desc}：{fmt(small.value)} {'≤' if ok else '>'} {fmt(big.value)}"
    if not ok and _other_kind(doc, small, big):
        status = "discrepancy"
        expl += "；但整改数只写“隐患”，未限定为同一类隐患，可能包括此前或其他类别的隐患，请核实"
    return doc.claim(claim_type, first, last, big.value, status, expl, stated_value=small.value)


def _other_kind(doc: Document, small: Fig, big: Fig) -> bool:
    qualifier = next((w for w in ("一般", "重大", "火灾") if w in _own_words(doc, big)), None)
    own = _own_words(doc, small)
    return bool(qualifier and "隐患" in own and qualifier not in own)


def _own_words(doc: Document, f: Fig) -> str:
    """The words of ``f``'s sentence between the previous figure and ``f``."""
    before = doc.before(f)
    return doc.text[(before[-1].end if before else f.s0):f.start]


def remainder_claims(doc: Document) -> list[Claim]:
    """``余10家``, ``剩余N``, ``未整改到位N``: the total less what was done."""
    out = []
    for r in doc.figs:
        if r.pct or r.entity or not _REMAINDER.search(doc.clause_before(r.s0, r.start)):
            continue
        lo, _ = doc.line_of(r.start)
        prior = [g for g in doc.figs if lo <= g.start < r.start and not g.pct and not g.entity
                 and g.unit == r.unit and g.subject == r.subject]
        done = next((g for g in reversed(prior)
                     if _DONE.search(doc.clause_before(g.s0, g.start))), None)
        if done is None:
            continue
        total = next((g for g in reversed(prior) if g.start < done.start and g.value >= done.value
                      and not _DONE.search(doc.clause_before(g.s0, g.start))), None)
        if total is None:
            continue
        computed = total.value - done.value
        precision = step(r.raw)
        ok = holds(computed, r.value, precision)
        out.append(doc.claim("remainder", total, r, computed, "verified" if ok else "contradicted",
                             f"{fmt(total.value)} − {fmt(done.value)} = {fmt(computed)}，"
                             f"{'与' if ok else '不等于'}所述剩余 {fmt(r.value)}", precision,
                             figs=(done,)))
    return out
