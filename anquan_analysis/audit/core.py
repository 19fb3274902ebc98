"""``audit(text)``: every arithmetic claim a bulletin makes about its own figures, checked.

The finders read one shared ``Document`` and return claims; none reads another's output,
so their order does not matter.  The only step that looks across finders is the last:
a catalogue-rule claim is dropped where another claim already covers the same figures.
"""

from __future__ import annotations

import pandas as pd

from ..text import nfkc
from .averages import average_claims
from .document import AUDIT_COLUMNS, Claim, Document
from .enumeration import enumeration_claims
from .extract import extract_figures
from .lists import comparison_claims, list_count_claims
from .parts import parts_claims, remainder_claims
from .rates import rate_claims
from .rules import rule_claims
from .shares import ratio_claims, share_claims
from .yoy import yoy_claims

# Claim type → the finder that makes it (one module per claim kind).
FINDERS = {
    "rate": rate_claims, "ratio": ratio_claims, "yoy": yoy_claims, "share": share_claims,
    "parts": parts_claims, "remainder": remainder_claims, "average": average_claims,
    "comparison": comparison_claims, "list_count": list_count_claims,
    "enumeration": enumeration_claims, "rule": rule_claims,
}
CLAIM_TYPES = ("rate", "share", "ratio", "yoy", "parts_sum", "part_le_total", "remainder",
               "average", "comparison", "list_count", "enumeration", "ranking", "rule")


def audit(text: str, figures: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every arithmetic claim the text makes about its own figures, checked.

    Parameters
    ----------
    text : str
        The bulletin's text (normalised with NFKC here).
    figures : DataFrame, optional
        ``extract_figures(text)`` (computed when omitted); not modified.

    Returns
    -------
    DataFrame
        AUDIT_COLUMNS, one row per claim, in text order: claim_type (``CLAIM_TYPES``),
        statement (the text of the claim), stated (the figure the claim checks: the
        rate, the total, the count, the remainder, the smaller side of a ≤), computed
        (NaN when unverifiable), precision (the rounding step written: 8.86 → 0.01,
        19.12万 → 100), status (verified, contradicted, discrepancy: the figures
        disagree but the text allows an innocent cause, named in the explanation;
        unverifiable), explanation (Chinese, with the numbers), start, end.

    Notes
    -----
    A stated value holds when the computed one rounds to it at the precision written.
    Claim kinds and their modules: rates (``rates``), shares and ratios (``shares``),
    year-on-year changes (``yoy``), parts and remainders (``parts``), averages
    (``averages``), comparisons and list counts (``lists``), lists of units against
    totals and rankings (``enumeration``), the catalogue's ≤ rules (``rules``).
    """
    text = nfkc(text)
    if figures is None:
        figures = extract_figures(text)
    missing = [c for c in ("value", "unit", "start", "end", "raw", "subject", "indicator")
               if c not in figures.columns]
    if missing:
        raise ValueError(f"figures lacks column(s) {missing}; expected extract_figures output")
    doc = Document(text, figures.sort_values("start").reset_index(drop=True))
    claims = [c for finder in FINDERS.values() for c in finder(doc)]
    claims = _without_covered_rules(claims)
    if not claims:
        return empty_claims()
    out = pd.DataFrame([c.row() for c in claims], columns=AUDIT_COLUMNS)
    out = out.drop_duplicates(["claim_type", "start", "end", "stated"])
    return out.sort_values(["start", "end", "claim_type"], kind="stable").reset_index(drop=True)


def _without_covered_rules(claims: list[Claim]) -> list[Claim]:
    others = [c.figs for c in claims if c.claim_type != "rule"]
    return [c for c in claims if c.claim_type != "rule" or not any(c.figs <= o for o in others)]


def empty_claims() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("stated", "computed", "precision")
                                      else "int64" if c in ("start", "end") else "str")
                         for c in AUDIT_COLUMNS})
