"""Year-on-year changes: ``同比下降35.3%`` against this year's and last year's figures.

Last year's figure is read where the text gives it (``去年同期17起``) or where it
follows from a stated difference (``事故起数减少8起，下降17.77%``: 37 + 8 = 45 last
year).  Without either the claim is unverifiable, and the explanation gives the figure
last year would have had.  Offices often cut rather than round (8/45 = 17.777… written
17.77); a figure that holds when cut is accepted and the explanation says so.
"""

from __future__ import annotations

import re

from .document import CHANGE_WORD, YOY_WORD, Claim, Document, Fig, fmt, holds, step, truncates

_PRIOR_WORD = re.compile(r"(?:去年|上年)同期|去年|上年")
_FALL = ("下降", "减少", "降低")


def yoy_claims(doc: Document) -> list[Claim]:
    """One claim per year-on-year percentage (``Document.percents("yoy")``)."""
    return [_yoy(doc, p) for p in doc.percents("yoy")]


def _yoy(doc: Document, p: Fig) -> Claim:
    precision = step(p.raw)
    head = doc.text[p.s0:p.start].rstrip()
    m = YOY_WORD.search(head) or CHANGE_WORD.search(head)
    word = m.group(m.lastindex)
    sign = -1 if word in _FALL else 1
    prior = doc.before(p)
    diff = _difference(doc, p, prior)
    if diff is not None:
        change, current = diff
        last = current.value - sign * change.value
        computed = (current.value - last) / last * 100 if last else float("nan")
        ok = holds(sign * computed, p.value, precision)
        cut = not ok and truncates(computed, p.value, precision)
        text = (f"{fmt(current.value)} {'−' if sign < 0 else '+'} 上年 {fmt(last)}：变化 "
                f"{fmt(change.value)} / {fmt(last)} = {abs(computed):.2f}%，"
                f"{'与' if ok or cut else '不等于'}所述{word} {fmt(p.value)}%"
                + ("一致（按舍去尾数计）" if cut else ""))
        return doc.claim("yoy", current, p, computed, "verified" if ok or cut else "contradicted",
                         text, precision, figs=(change,))
    marker = _PRIOR_WORD.search(doc.text, p.s0, p.start)
    if marker:
        currents = [g for g in prior if g.end <= marker.start()]
        priors = [g for g in prior if g.start >= marker.end()]
    else:
        currents, priors = prior, []
    changes = [g for g in priors if re.search(r"(?:减少|增加|下降|上升)了?$", doc.clause_before(g.s0, g.start))]
    if changes:
        # 比去年同期减少5起: what follows 去年同期 is a difference, not last year's figure
        return doc.claim("yoy", currents[0] if currents else p, p, None, "unverifiable",
                         "去年同期后所写的是增减数（" + "、".join(fmt(g.value) + g.unit for g in changes)
                         + "），不是去年同期数；未按增减数核对", precision)
    if not currents:
        return doc.claim("yoy", p, p, None, "unverifiable", "文中未给出本期数", precision)
    if m.re is YOY_WORD and m.group(1) is None:
        currents = currents[-1:]
    if not priors:
        implied = "，".join(
            f"{fmt(c.value)}{c.unit} 对应去年约 {c.value / (1 + sign * p.value / 100):.1f}"
            for c in currents)
        return doc.claim("yoy", currents[0], p, None, "unverifiable",
                         f"文中未给出去年同期数，无法核对；按所述比例推算：{implied}", precision)
    pairs = list(zip(currents[-len(priors):], priors))
    changes = [(c.value - q.value) / q.value * 100 if q.value else float("nan") for c, q in pairs]
    ok = all(holds(sign * ch, p.value, precision) for ch in changes)
    detail = "；".join(f"({fmt(c.value)} − {fmt(q.value)}) / {fmt(q.value)} = {ch:+.2f}%"
                      for (c, q), ch in zip(pairs, changes))
    return doc.claim("yoy", pairs[0][0], p, changes[0], "verified" if ok else "contradicted",
                     f"{detail}，{'与' if ok else '不等于'}所述{word} {fmt(p.value)}%", precision,
                     figs=tuple(q for _, q in pairs))


def _difference(doc: Document, p: Fig, prior: list[Fig]) -> tuple[Fig, Fig] | None:
    """(stated difference, this year's figure) for ``减少8起，下降17.77%``, else None."""
    if not prior:
        return None
    change = prior[-1]
    if not re.search(r"(?:减少|增加|下降|上升)了?$", doc.clause_before(change.s0, change.start)):
        return None
    noun = re.match(r"[\u4e00-\u9fff]{2}", doc.clause_before(change.s0, change.start))
    lo, _ = doc.line_of(p.start)
    for g in reversed([g for g in doc.figs if lo <= g.start < change.start and g.unit == change.unit
                       and not g.pct and g is not change]):
        own = doc.clause_before(g.s0, g.start)
        if noun and noun.group() in own and not re.search(r"减少|增加", own):
            return change, g
    return None
