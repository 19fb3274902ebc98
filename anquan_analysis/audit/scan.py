"""Figures in prose: the numbers with their unit words, and the sentences they sit in.

What is not a figure (dates, ordinals, document numbers, names such as 十五条硬措施) is
listed in data/raw/SEED_FIGURES.md; ``scan_figures`` applies those exclusions.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ..numbers import parse_chinese_numeral, parse_number

# Unit words, longest first so 家次 wins over 家 and 万元 over 元.
UNIT_WORDS = ("万元", "亿元", "千元", "元", "公里", "千米", "家次", "人次", "场次", "轮次", "批次",
              "项", "个", "处", "条", "家", "次", "场", "人", "台", "支", "份", "起", "件", "栋",
              "轮", "户", "名", "米", "分", "%")
_UNIT_ALT = "|".join(re.escape(u) for u in UNIT_WORDS)
CJK = "\u4e00-\u9fff"
# Chinese numerals must start with a digit word (十 included): 万/千/百 alone are words.
# 一 is left out on purpose: in prose it is an article (一批, 一项子行动, 一次).
_FIGURE = re.compile(
    r"(?<![\d.])"
    r"(?P<pre>约|近|逾)?"
    r"(?:(?P<num>\d+(?:\.\d+)?)(?P<mag>[万亿])?|(?P<cn>[两二三四五六七八九十][零一二两三四五六七八九十百千]*))"
    r"(?P<post>余|多)?"
    rf"(?:(?P<sp>\s*)(?P<unit>{_UNIT_ALT}))?"
)
# A figure that is really part of a name, a date or a count of something else.
_UNIT_NOT_FIGURE = {"个": ("月", "字", "年", "工作日"), "分": ("钟", "别", "类", "析", "管", "级"),
                    "次": ("性",), "名": ("单", "称"), "条": ("例", "件", "款"), "起": ("来",),
                    "场": ("所",), "支": ("持", "付", "出"), "处": ("理", "置", "罚", "室", "长")}
_NAME_AFTER = re.compile(r"^[”\"]?(?:硬措施|大行动|项行动)")


@dataclass(frozen=True)
class RawFigure:
    start: int
    end: int
    value: float
    unit: str
    approx: bool
    raw: str


def scan_figures(text: str) -> list[RawFigure]:
    """Every figure in ``text`` (already NFKC), with the exclusions of SEED_FIGURES.md."""
    out: list[RawFigure] = []
    for m in _FIGURE.finditer(text):
        unit = m["unit"] or ""
        if m["cn"] and (not unit or m["sp"]):
            continue                                   # 三管三必须, 八大行动: no unit, no figure
        before, after = text[max(0, m.start() - 3):m.start()], text[m.end():m.end() + 4]
        if before.endswith("第") or re.search(r"共印\s*$", before):
            continue                                   # 第52次 (ordinal), 共印 5 份 (copies)
        if unit and after.startswith(_UNIT_NOT_FIGURE.get(unit, ())):
            continue                                   # 3个月, 10分钟, 2882个字
        if unit in ("分", "名", "支", "处", "场", "起", "条") and m["cn"]:
            continue                                   # 十分, 三处理 …: words, not figures
        if _NAME_AFTER.match(after) or _inside_name_quotes(text, m.start(), m.end()):
            continue                                   # “十五条”硬措施, “四个责任”
        start, end = m.start(), m.end()
        if not unit:
            # A bare number is a figure only as a stressed zero: 为“0”, 还挂“0”, 为0.
            if m["num"] != "0" or m["mag"] or m["post"]:
                continue
            quoted = before.endswith(("“", '"')) and after.startswith(("”", '"'))
            if quoted:
                if after[1:3] == "报送":
                    continue                           # “0”报送: the name of a practice
                start, end = start - 1, end + 1
            elif not before.endswith("为"):
                continue
        value, approx = _figure_value(m)
        if value is None:
            continue
        if m["mag"] and unit.endswith("元") and len(unit) == 1:
            unit, value = f"{m['mag']}元", value / (10_000 if m["mag"] == "万" else 100_000_000)
        out.append(RawFigure(start, end, value, unit, approx, text[start:end]))
    return out


def _figure_value(m: re.Match) -> tuple[float | None, bool]:
    approx = bool(m["pre"] or m["post"])
    if m["cn"]:
        n = parse_chinese_numeral(m["cn"])
        return (None if n is None else float(n)), approx
    parsed = parse_number(m["num"] + (m["mag"] or "") + (m["post"] or ""))
    return parsed.value, approx or parsed.approx


def _inside_name_quotes(text: str, start: int, end: int) -> bool:
    """True when the figure sits inside “…” with other words (a name such as “四个责任”)."""
    left = text.rfind("“", max(0, start - 12), start)
    if left < 0 or "”" in text[left:start]:
        return False
    right = text.find("”", end, end + 12)
    return right >= 0 and (left + 1 < start or right > end)


# ---------------------------------------------------------------- sentences and clauses

SENT_END = re.compile(r"[。!?！？;；]")
CLAUSE_END = re.compile(r"[,，;；:：。!?！？]")
HEADING = re.compile(r"^\s*(?:#|[一二三四五六七八九十]+、|\(?[一二三四五六七八九十]+\)|（[一二三四五六七八九十]+）)")


def sentence_starts(text: str) -> list[int]:
    """Start offsets of sentences.  A line break ends a sentence unless it falls inside a
    long paragraph broken mid-word (page breaks in converted PDFs: 加强动\\n\\n员部署)."""
    starts = {0}
    for m in SENT_END.finditer(text):
        starts.add(m.end())
    for m in re.finditer(r"\n\s*", text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        line = text[line_start:m.start()]
        nxt = text[m.end():m.end() + 1]
        wrapped = (len(line.strip()) >= 20 and line and re.match(rf"[{CJK}\w]", line[-1])
                   and re.match(rf"[{CJK}\d]", nxt or " ") and not HEADING.match(line)
                   and not HEADING.match(text[m.end():m.end() + 6]))
        if not wrapped:
            starts.add(m.end())
    return sorted(starts)


def sentence_of(starts: list[int], text: str, pos: int) -> tuple[int, int]:
    i = bisect.bisect_right(starts, pos) - 1
    end = starts[i + 1] if i + 1 < len(starts) else len(text)
    return starts[i], end
