"""Units and their figures as a bulletin lists them, read once for every finder.

A bulletin names units with their figures in three shapes, all read here:

* one sentence: ``排名靠前的灵川县 10 项、兴安县 9 项…``, ``区应急局【46个】…``;
* one line per unit: ``涡阳县:…报送重大隐患75家,已整改70家…`` (``extract.line_lead``);
* units at zero named together: ``园区服务中心、洛河镇…上报当月无隐患``,
  ``区教委、…巴滨公司…有效排查量为0条``; every name gets a 0.

``unit_lists(doc)`` groups the items of one indicator (or, for figures with no
catalogue indicator, of one object and unit word: ``8处隐患``) into the lists that the
enumeration claims and ``--to-table`` read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..catalogue import resolve_sector
from ..numbers import units_compatible
from .document import Document, Fig
from .extract import _UNIT_SUFFIX

# Partial lists and complete ones, by the words that introduce them.
PARTIAL_WORDS = re.compile(r"排名靠前|排名靠后|靠前|靠后|前\d+名|后\d+名|主要集中|较多|较少|如|部分|个别|"
                           r"超过|高于|低于|不足|少于")
COMPLETE_WORDS = re.compile(r"各(?:县|区|市|镇|乡|街道|单位|部门)[^。;；\n]{0,10}(?:情况|如下|分别)")


@dataclass(frozen=True)
class UnitItem:
    """One unit's figure of one indicator (``fig`` None for a zero named in words)."""

    unit: str
    key: str               # catalogue code, or "obj:<object>" for uncoded figures
    value: float
    unit_word: str
    start: int
    end: int
    fig: Fig | None
    sector: bool


@dataclass(frozen=True)
class UnitList:
    """Items of one key that belong together (consecutive, no area total between)."""

    key: str
    items: tuple[UnitItem, ...]
    start: int
    end: int

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(i.unit for i in self.items))

    @property
    def total(self) -> float:
        """The sum over units; a unit named twice counts once, with its first figure
        (a second figure is a restatement, or a conflict the ranking check reports)."""
        first = {}
        for i in self.items:
            first.setdefault(i.unit, i.value)
        return sum(first.values())


def key_of(f: Fig) -> str:
    """The list key of a figure: its indicator, else what it counts (hazards, units …)."""
    if f.code:
        return f.code
    if f.entity:
        return "obj:entity"
    return f"obj:{f.obj}" if f.obj not in ("item", "percent") else ""


def unit_items(doc: Document) -> list[UnitItem]:
    """Every unit figure of the text and every unit named at zero, in reading order.
    Figures inside the parentheses that follow a zero-listed name (``区发展改革委（报送1条
    但不构成判定标准）``) qualify the zero and are left out."""
    zeros, qualifiers = _zero_lists(doc)
    items = [UnitItem(f.subject, key_of(f), f.value, f.unit, f.start, f.end, f, is_sector(f.subject))
             for f in doc.figs
             if f.subject and not f.pct and not f.summary and key_of(f)
             and f.i not in qualifiers and not (f.value == 0 and f.i in zeros)]
    items += [z for zs in zeros.values() for z in zs]
    return sorted(items, key=lambda it: (it.start, it.unit))


def is_sector(name: str) -> bool:
    """A sector rather than a unit: a catalogue sector, or an industry (采矿业)."""
    return resolve_sector(name) == name or (name.endswith("业") and not name.endswith("企业"))


def unit_lists(doc: Document, items: list[UnitItem] | None = None) -> list[UnitList]:
    """Items grouped by key and by kind (units apart from sectors); a list ends where a
    whole-area figure of the same key stands between two items (a new total begins)."""
    items = unit_items(doc) if items is None else items
    out = []
    groups: dict[tuple[str, bool], list[UnitItem]] = {}
    for it in items:
        groups.setdefault((it.key, it.sector), []).append(it)
    for (key, _), group in groups.items():
        run = [group[0]]
        for it in group[1:]:
            if _total_between(doc, key, run[-1].end, it.start, it.unit_word):
                out.append(_make(key, run))
                run = []
            run.append(it)
        out.append(_make(key, run))
    return sorted(out, key=lambda lst: lst.start)


def _make(key: str, run: list[UnitItem]) -> UnitList:
    return UnitList(key, tuple(run), run[0].start, run[-1].end)


def _total_between(doc: Document, key: str, lo: int, hi: int, unit_word: str) -> bool:
    return any(not g.subject and key_of(g) == key and lo <= g.start < hi and not g.summary
               and g.value > 0 and (not unit_word or units_compatible(g.unit or unit_word, unit_word))
               for g in doc.figs)


def _zero_lists(doc: Document) -> tuple[dict[int, list[UnitItem]], set[int]]:
    """Runs of unit names separated by 、 and closed by a zero (a 0 figure, or words such
    as 无隐患).  Returns {index of the zero figure (or -1 - position of the words): items}
    and the indices of figures that qualify a name in parentheses."""
    text = doc.text
    masked = _mask_parens(text)
    markers = [(g.start, g.i, key_of(g), g.unit) for g in doc.figs
               if g.value == 0 and not g.pct and not g.subject]
    markers += [(m.start(), -1 - m.start(), None, "") for m in _ZERO_PHRASE.finditer(text)]
    out: dict[int, list[UnitItem]] = {}
    qualifiers: set[int] = set()
    for z, at, key, unit_word in sorted(markers):
        cs = max((m.end() for m in re.finditer(r"[。;；:：,，\n]", masked[:z])), default=0)
        segments = [(cs + m.start(), m.group()) for m in re.finditer(r"[^、]+", masked[cs:z])]
        names = []
        for seg_start, seg in segments:
            seg_end = seg_start + len(seg)
            if any(seg_start <= g.start < seg_end and masked[g.start] != "#" for g in doc.figs):
                continue                          # a unit with figures of its own
            name = _name_of(text[seg_start:seg_start + len(seg)])
            if name:
                names.append((name, seg_start, seg_start + len(seg)))
        if len(names) < 2:
            continue
        key = key or _key_from_words(doc, z)
        if not key:
            continue
        out[at] = [UnitItem(n, key, 0.0, unit_word, a, b, None, False) for n, a, b in names]
        for _, a, b in names:
            qualifiers.update(g.i for g in doc.figs if a <= g.start < b)
    return out, qualifiers


_ZERO_PHRASE = re.compile(r"(?:上报|报送)?(?:当月)?(?:无隐患|未发现(?:安全)?隐患|为零)")


def _mask_parens(text: str) -> str:
    """``text`` with everything inside (…) and 【…】 replaced by #, same length."""
    return re.sub(r"\([^()]*\)|【[^【】]*】", lambda m: m.group()[0] + "#" * (len(m.group()) - 2)
                  + m.group()[-1], text)


def _name_of(segment: str) -> str:
    """The unit name at the start of one 、-separated segment, '' if it is not a unit."""
    seg = re.sub(r"^\s*(?:其中|包括|分别是|分别为|以及|和|及)", "", segment)
    m = re.match(r"[\u4e00-\u9fff]{2,16}?(?=\(|上报|报送|当月|均|\d|$)", seg)
    if not m:
        m = re.match(r"[\u4e00-\u9fff]{2,16}", seg)
    name = m.group() if m else ""
    return name if name and _UNIT_SUFFIX.search(name) else ""


def _key_from_words(doc: Document, pos: int) -> str:
    """For a zero stated in words, the key of the hazards the sentence is about: the
    nearest hazard figure before ``pos`` in the same or previous sentence."""
    prior = [g for g in doc.figs if g.end <= pos and pos - g.end < 300 and not g.pct]
    for g in reversed(prior):
        if g.obj == "hazard":
            return key_of(g)
    return "obj:hazard" if re.search(r"隐患", doc.text[pos:pos + 24]) else ""
