"""One reading of a bulletin shared by every claim finder: its figures, what each counts,
its sentences, paragraphs and sections, and the kind of each percentage.

``Document`` is built once from the text and ``extract_figures``' table and never
changes afterwards, so the finders (``rates``, ``shares`` …) can run in any order and
give the same claims.  Each percentage is given exactly one kind here (rate, ratio,
year-on-year, share), by its own wording, so no two finders read the same percentage.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from ..catalogue import RULES
from .concepts import ENTITY_AFTER, RECTIFIED, UNIT_OF
from .extract import SUMMARY_WORD
from .scan import CJK, CLAUSE_END, sentence_of, sentence_starts

STATUSES = ("verified", "contradicted", "discrepancy", "unverifiable")
AUDIT_COLUMNS = ["claim_type", "statement", "stated", "computed", "precision", "status",
                 "explanation", "start", "end"]

# Totals and their parts, from the catalogue's arithmetic rules.
SUM_RULES = [(tuple(r.lhs), r.rhs) for r in RULES.itertuples() if r.kind == "sum"]
LE_RULES = [(r.lhs[0], r.rhs, r.description_zh) for r in RULES.itertuples() if r.kind == "le"]
PARENT = {part: total for parts, total in SUM_RULES for part in parts}
HAZARD_CODES = frozenset(c for c in UNIT_OF if "hazards" in c)
FOUND_OF = {v: k for k, v in RECTIFIED.items()}

# How each percentage is read (first that matches wins; see ``percent_kind``).
RATE_WORD = re.compile(r"(?:整改|完成|销号|办结)\w{0,3}率[^,，;；。]{0,4}$")
SHARE_WORD = re.compile(r"占比?[^,，;；。]{0,4}$")
YOY_WORD = re.compile(r"同比(均)?(下降|减少|降低|上升|增长|增加|提高)[了]?$")
# ``与去年同期相比，事故起数减少8起，下降17.77%``: a change word after a comparison.
CHANGE_WORD = re.compile(r"(下降|减少|降低|上升|增长|增加|提高)了?$")
SINCE_WORD = re.compile(r"同比|(?:去年|上年)同期")
BRACKET_GAP = re.compile(r"\s*[,，]?\s*(?:占比?)?\s*(?:为|仅为|达)?\s*")

# What a figure counts, from its unit word when its indicator does not say.
_OBJECT_OF_UNIT = {"户": "household", "人": "person", "人次": "person", "名": "person",
                   "份": "document", "万元": "money", "元": "money", "亿元": "money",
                   "千元": "money", "起": "event", "场": "session", "场次": "session",
                   "次": "occasion", "公里": "length", "千米": "length", "米": "length",
                   "台": "machine", "支": "team", "%": "percent"}
_ENTERPRISE_WORD = re.compile(r"企业|单位|场所|经营户|场站|公司|用户")
_HAZARD_WORD = re.compile(r"隐患|问题")
_DOCUMENT_WORD = re.compile(r"(?:指令书|通知书|督办函|提示函|警示函|文书)")


@dataclass(frozen=True)
class Fig:
    """One figure of the text, as every finder sees it."""

    i: int
    value: float
    unit: str
    approx: bool
    start: int
    end: int
    raw: str
    subject: str
    code: str
    s0: int                # sentence start
    s1: int                # sentence end
    entity: bool           # counts units or things (3个单位, 两个行业领域)
    summary: bool          # an average or a threshold, not a reported total
    obj: str               # what it counts: hazard, enterprise, household, person, …

    @property
    def pct(self) -> bool:
        return self.unit == "%"


@dataclass(frozen=True)
class Claim:
    """One checked claim; ``figs`` are the figures it involves (for de-duplication)."""

    claim_type: str
    statement: str
    stated: float
    computed: float
    precision: float
    status: str
    explanation: str
    start: int
    end: int
    figs: frozenset = field(default=frozenset(), compare=False)

    def row(self) -> dict:
        return {c: getattr(self, c) for c in AUDIT_COLUMNS}


# ---------------------------------------------------------------- numbers as written


def step(raw: str) -> float:
    """The rounding step the text states: 8.86 → 0.01, 99 → 1, 19.12万 → 100."""
    m = re.search(r"(\d+)(?:\.(\d+))?\s*([万亿])?", raw)
    if not m:
        return 1.0
    decimals = len(m.group(2) or "")
    scale = {"万": 1e4, "亿": 1e8}.get(m.group(3) or "", 1.0)
    return 10.0 ** -decimals * scale


def holds(computed: float, stated: float, precision: float) -> bool:
    """True when ``computed`` rounds to ``stated`` at the step written."""
    return abs(computed - stated) <= precision / 2 + 1e-9


def truncates(computed: float, stated: float, precision: float) -> bool:
    """True when ``stated`` is ``computed`` cut (not rounded) at the step written:
    8/45 = 17.777… written as 17.77."""
    cut = math.floor(abs(computed) / precision + 1e-9) * precision
    return abs(cut - abs(stated)) < precision / 1000


def fmt(x: float) -> str:
    return f"{x:.6g}" if not float(x).is_integer() else str(int(x))


def pct(x: float, precision: float) -> str:
    decimals = max(0, round(-math.log10(precision))) + 1
    return f"{x:.{decimals}f}%"


# ---------------------------------------------------------------- the document


class Document:
    """A bulletin's text and figures, read once.  Nothing here changes after ``__init__``.

    Parameters
    ----------
    text : str
        NFKC-normalised text.
    figures : DataFrame
        ``extract_figures(text)`` (columns value, unit, approx, start, end, raw, subject,
        indicator), sorted by start; not modified.
    """

    def __init__(self, text: str, figures: pd.DataFrame):
        self.text = text
        self.starts = sentence_starts(text)
        figs = []
        for i, r in enumerate(figures.itertuples(index=False)):
            start, end = int(r.start), int(r.end)
            s0, s1 = sentence_of(self.starts, text, start)
            after = text[end:end + 12]
            clause = self.clause_before(s0, start)
            code = str(r.indicator or "")
            entity = bool(re.match(rf"[{CJK}]", after[:1]) and ENTITY_AFTER.match(after))
            figs.append(Fig(i, float(r.value), str(r.unit), bool(r.approx), start, end,
                            str(r.raw), str(r.subject or ""), code, s0, s1, entity,
                            bool(SUMMARY_WORD.search(clause)),
                            _object_of(text, start, end, str(r.unit), code, clause, entity)))
        self.figs: tuple[Fig, ...] = tuple(figs)
        self._by_sentence: dict[int, list[Fig]] = {}
        for f in self.figs:
            self._by_sentence.setdefault(f.s0, []).append(f)
        self._kinds = {p.i: self._percent_kind(p) for p in self.figs if p.pct}

    # -- text

    def clause_before(self, lo: int, pos: int) -> str:
        """The text from the last clause mark before ``pos`` (not before ``lo``) to ``pos``."""
        head = self.text[lo:pos]
        return head[max((m.end() for m in CLAUSE_END.finditer(head)), default=0):]

    @cached_property
    def line_starts(self) -> list[int]:
        return [0] + [m.end() for m in re.finditer("\n", self.text)]

    def line_of(self, pos: int) -> tuple[int, int]:
        """Start and end of the line holding ``pos``."""
        i = bisect.bisect_right(self.line_starts, pos) - 1
        lo = self.line_starts[i]
        hi = self.line_starts[i + 1] - 1 if i + 1 < len(self.line_starts) else len(self.text)
        return lo, hi

    @cached_property
    def section_starts(self) -> list[int]:
        """Where each top-level section (一、 二、 …) begins; 0 first."""
        return [0] + [m.start() for m in re.finditer(r"(?m)^\s*[一二三四五六七八九十]+、", self.text)]

    def section_of(self, pos: int) -> int:
        return bisect.bisect_right(self.section_starts, pos) - 1

    # -- figures

    def sentence(self, f: Fig) -> list[Fig]:
        return self._by_sentence.get(f.s0, [])

    def before(self, f: Fig, *, counts: bool = True) -> list[Fig]:
        """Figures of ``f``'s sentence before it (without percentages by default)."""
        return [g for g in self.sentence(f) if g.start < f.start and (not counts or not g.pct)]

    def percents(self, kind: str) -> list[Fig]:
        """The percentages read as ``kind`` (rate, ratio, yoy, share)."""
        return [p for p in self.figs if self._kinds.get(p.i) == kind]

    def whole_total(self, code: str, at: Fig, exclude: set[int], *, unit: str | None = None
                    ) -> Fig | None:
        """The area's total of ``code``: in the same sentence the nearest one before,
        else the largest whole-area figure of the text (a bulletin's total is its largest
        figure of that indicator; monthly figures, averages and thresholds are smaller).
        With ``unit``, only figures counted in a compatible unit word."""
        pool = [g for g in self.figs if g.code == code and not g.subject and not g.pct
                and not g.summary and not g.approx and g.i not in exclude
                and (unit is None or _same_count(g.unit, unit))]
        here = [g for g in pool if g.s0 == at.s0 and g.start < at.start]
        if here:
            return here[-1]
        return max(pool, key=lambda g: (g.value, -g.start), default=None)

    def _percent_kind(self, p: Fig) -> str | None:
        head = self.text[p.s0:p.start]
        if RATE_WORD.search(head):
            return "rate"
        if re.search(r"的\s*$", head) and "是" in head:
            shi = p.s0 + head.rfind("是")
            prior = self.before(p)
            if any(g.end <= shi for g in prior) and any(g.start > shi for g in prior):
                return "ratio"
        if YOY_WORD.search(head.rstrip()):
            return "yoy"
        line_lo, _ = self.line_of(p.start)
        if CHANGE_WORD.search(head.rstrip()) and SINCE_WORD.search(self.text[line_lo:p.start]):
            return "yoy"
        prior = self.before(p)
        last = prior[-1] if prior else None
        if last is not None and BRACKET_GAP.fullmatch(self.text[last.end:p.start]):
            return "share"
        if SHARE_WORD.search(head):
            return "share"
        return None

    # -- claims

    def claim(self, claim_type: str, first: Fig, stated: Fig | float, computed, status: str,
              explanation: str, precision: float = 1.0, *, stated_value: float | None = None,
              figs=(), span: tuple[int, int] | None = None, statement: str | None = None
              ) -> Claim:
        """A claim spanning ``first`` to the stated figure (or ``first`` alone), or
        ``span``; its statement is the text of the span unless given."""
        anchor = stated if isinstance(stated, Fig) else first
        start = min(first.start, anchor.start) if first.s0 == anchor.s0 else anchor.start
        end = max(first.end, anchor.end)
        if span is not None:
            start, end = span
        value = stated.value if isinstance(stated, Fig) else stated
        involved = {first.i, anchor.i, *(g.i for g in figs)}
        if statement is None:
            statement = self.text[start:end]
        return Claim(claim_type, statement.replace("\n", ""),
                     float(value if stated_value is None else stated_value),
                     float("nan") if computed is None else float(computed), float(precision),
                     status, explanation, start, end, frozenset(involved))


def _same_count(a: str, b: str) -> bool:
    from ..numbers import units_compatible
    return a == b or units_compatible(a, b)


def _object_of(text: str, start: int, end: int, unit: str, code: str, clause: str,
               entity: bool) -> str:
    """What a figure counts (hazard, enterprise, household, person, document, money …),
    from its indicator, else from the words around it: ``重大隐患75家`` counts hazards
    (by enterprise), ``工矿企业43158家`` enterprises, ``整改指令书2份`` documents."""
    if unit == "%":
        return "percent"
    if entity:
        return "entity"
    after = text[end:end + 6]
    if _DOCUMENT_WORD.search(clause[-8:]) or _DOCUMENT_WORD.match(after):
        return "document"
    if code in HAZARD_CODES:
        return "hazard"
    if code:
        cat_unit = UNIT_OF.get(code, "")
        if cat_unit in ("家", "家次"):
            return "enterprise"
        return _OBJECT_OF_UNIT.get(cat_unit, "item")
    if unit in ("项", "条", "处", "个", "件", "家", "家次"):
        near = clause[-10:]
        if _HAZARD_WORD.search(near) or _HAZARD_WORD.match(after):
            return "hazard"
        if unit in ("家", "家次") or _ENTERPRISE_WORD.search(near) or _ENTERPRISE_WORD.match(after):
            return "enterprise"
        return "item"
    return _OBJECT_OF_UNIT.get(unit, "item")
