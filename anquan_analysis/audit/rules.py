"""The catalogue's ``≤`` rules between figures of one sentence and one subject
(rectified ≤ found, persons ≥ sessions, drills ≥ drilling enterprises)."""

from __future__ import annotations

from .document import LE_RULES, Claim, Document
from .parts import le_claim


def rule_claims(doc: Document) -> list[Claim]:
    """One claim per pair of figures a ``≤`` rule relates (the nearest ``big`` of the
    sentence); ``audit`` drops those another claim already covers."""
    out = []
    for a, b, desc in LE_RULES:
        for small in (g for g in doc.figs if g.code == a):
            bigs = [g for g in doc.sentence(small) if g.code == b and g.subject == small.subject]
            if bigs:
                big = min(bigs, key=lambda g: abs(g.start - small.start))
                out.append(le_claim(doc, "rule", small, big, desc))
    return out
