"""``extract_figures``: every figure of a bulletin with its unit, subject and indicator.

How an indicator is chosen, in order (first that applies):

1. the figure counts units or things (``3个单位``, ``27项任务``): none;
2. a catalogue name or alias (or a bulletin phrase in ``concepts.PHRASES``) in the
   figure's own clause, before it: the nearest one;
3. a figure immediately followed by what it counts (``448项重大事故隐患``): that phrase;
4. a generic word in the clause (培训, 演练, 宣贯, 整改), resolved by the previous figure's
   indicator group, then by the campaign action the text is in (``实施…行动``, ``N是…行动``);
5. a name or alias earlier in the sentence since the previous figure;
6. the previous figure's indicator group (``285场21248人次``, ``灵川县 10 项、兴安县 9 项``).

Within an indicator group (sessions/persons, visits/enterprises, penalties/fines …) the
member whose catalogue unit fits the figure's unit is taken.  Rates and shares never get
an indicator.
"""

from __future__ import annotations

import bisect
import re

import pandas as pd

from ..catalogue import resolve_sector
from ..text import nfkc
from .concepts import (ENTITY_AFTER, RECTIFIED, action_marks, concept_matches, resolve,
                       resolve_generic)
from .scan import CJK, CLAUSE_END, RawFigure, scan_figures, sentence_of, sentence_starts

FIGURE_COLUMNS = ["value", "unit", "approx", "start", "end", "sentence", "subject", "indicator",
                  "raw", "line", "kind"]
# kind: figure (a reported quantity), percent (a rate or share), count (it counts units
# or things: 3个单位, 27项任务), summary (an average or a threshold: 均…3.1个, 超过10个).
# Hazards ordered to be rectified are neither found nor rectified ones.
_ORDERED = re.compile(r"(?:限期|责令)整改[^,，;；。、]{0,8}$")
# A change (减少8起) or a count the catalogue does not have (受伤14人) is no indicator's.
_NOT_A_COUNT = re.compile(r"(?:减少|增加|增长|下降|上升)了?$|受伤(?:人数)?\w{0,2}$")
_AMONG = re.compile(r"\s*其中\s*[,，:：]?")
_DONE_BEFORE = re.compile(r"已整改|整改完成|完成整改|已完成")
SUMMARY_WORD = re.compile(r"(?:平均|均|超过|高于|多于|低于|少于|不足)[^,，;；。]{0,20}$")

# ---------------------------------------------------------------- subjects

_SUBJECT_SPLIT = re.compile(
    r"的|是|在|和|与|及|其中|为|有|对|等|、|,|，|;|督导|检查|开展|排查|发现|联合|组织|实施|分别|"
    r"集中|靠前|靠后|以|从|上看|上报|报送|共计|共|累计")
_COUNTED = re.compile(r"(?:重大|一般|安全)?(?:事故)?隐患|问题")
_UNIT_SUFFIX = re.compile(r"(?:县|区|市|镇|乡|街道|办事处|公司|局|委|办|支队|大队|中心|集团|分局|[市区县]直)$")
_NAME_BEFORE = re.compile(rf"([{CJK}]+(?:\([{CJK}]+\))?)[\s【\[(]*$")


def _subject(text: str, start: int, lo: int, sentence_start: int) -> str:
    """The unit or sector a figure belongs to, named right before it (灵川县 10 项,
    区应急局【46个】, 工贸 15 项, 道路交通（3 项）, 石龙镇（报送2条…）); '' if none."""
    name = _name_at_end(text[lo:start])
    if name:
        return name
    sentence = text[sentence_start:start]
    paren = sentence.rfind("(")
    if paren >= 0 and ")" not in sentence[paren:]:
        return _name_at_end(sentence[:paren])
    return line_lead(text, start)


# A line that starts with its unit: 涡阳县:报送…, or a group of units that reports
# together (市安委会成员单位,中央、省驻亳及市属企业报送…).
_LINE_LEAD = re.compile(r"\s*(?P<name>[^\s:：,，。;；()]{2,20}?)[:：]")
_GROUP_LEAD = re.compile(r"\s*(?P<name>[^:：。;；()]{2,40}?(?:单位|企业))(?=报送|上报)")


def line_lead(text: str, pos: int) -> str:
    """The unit named at the start of ``pos``'s line before a colon (or a group of
    units before 报送), '' if none."""
    lo = text.rfind("\n", 0, pos) + 1
    head = text[lo:pos]
    m = _LINE_LEAD.match(head)
    if m and _UNIT_SUFFIX.search(m["name"]) and not re.match(r"全[国省市区县镇乡]", m["name"]):
        return m["name"]
    m = _GROUP_LEAD.match(head)
    return m["name"] if m else ""


def _name_at_end(window: str) -> str:
    m = _NAME_BEFORE.search(window)
    if not m:
        return ""
    pieces = _SUBJECT_SPLIT.split(m.group(1))
    # 上窑镇上报1家 (a verb ends the window), 甲镇上报隐患3处 (a verb and what it counts)
    name = pieces[-1]
    if len(pieces) > 1 and (not name or _COUNTED.fullmatch(name)):
        name = next((p for p in reversed(pieces[:-1]) if p and not _COUNTED.fullmatch(p)), "")
    if not name:
        return ""
    core = re.sub(r"(?:事故|隐患)$", "", name)            # 交通运输业事故30起
    sector = resolve_sector(name) or resolve_sector(core) or resolve_sector(core.removesuffix("业"))
    if sector:
        return sector
    if core.endswith("业") and 3 <= len(core) <= 8 and core != name:
        return core                                          # 采矿业事故1起: a sector
    if re.search(r"全[国省市区县镇乡]$", name) or not 2 <= len(name) <= 12:
        return ""                            # 全市, 全区: the whole area (全州县 is a county)
    return name if _UNIT_SUFFIX.search(name) else ""


# ---------------------------------------------------------------- extraction


def extract_figures(text: str) -> pd.DataFrame:
    """Every figure in a bulletin's text, in reading order.

    Columns: value (float, multipliers applied: 17万余 → 170000; 万元 kept as the unit),
    unit (the unit word as written, '' for a bare stressed zero), approx (余/多/约/近),
    start, end (span in the NFKC text), sentence, subject (unit or canonical sector the
    figure belongs to, ''), indicator (catalogue code, ''), raw (the matched text),
    line (1-based line of the figure), kind (figure, percent, count of units or things,
    summary for an average or threshold).  What is not a figure (dates, ordinals, document
    numbers, names such as 十五条硬措施) is listed in data/raw/SEED_FIGURES.md.
    """
    text = nfkc(text)
    raws = scan_figures(text)
    starts = sentence_starts(text)
    matches = concept_matches(text)
    match_ends = [m.end for m in matches]
    marks = action_marks(text)
    mark_pos = [p for p, _ in marks]
    rows = []
    prev = None            # previous figure: (raw, sentence start, subject, words used up to)
    prev_code = None       # indicator of the last non-percent figure in this sentence
    inherit = False        # may the next figure take prev_code when its words name nothing?
    last_code = None       # indicator of the last whole-area figure (for 其中，甲县12项)
    for f in raws:
        s0, s1 = sentence_of(starts, text, f.start)
        same_sentence = prev is not None and prev[1] == s0
        if not same_sentence:
            prev_code = None
        win_lo = max(s0, prev[3]) if same_sentence else s0
        code, consumed = None, f.end
        if f.unit != "%":
            i = bisect.bisect_right(mark_pos, f.start) - 1
            action = marks[i][1] if i >= 0 else None
            among = (not same_sentence and _AMONG.match(text, s0) and last_code is not None
                     and last_code[1] == f.unit)
            code, consumed = _indicator_for(text, f, win_lo, s1, matches, match_ends, action,
                                            last_code[0] if among else prev_code,
                                            (same_sentence and inherit) or bool(among))
        subject = _subject(text, f.start, win_lo, s0)
        if not subject and same_sentence and prev[2]:
            gap = text[prev[0].end:f.start]
            if gap == "" or (f.unit == "%" and len(gap) <= 4
                             and not re.search(rf"[{CJK}]", gap.replace("占比", ""))):
                subject = prev[2]           # 【52个，占比33.5%】: the share belongs to 建筑施工
            elif (f.unit != "%" and _kind(text, f, s0) != "count"
                  and (not re.search(r"[、,，;；:：。()【】]", gap)
                       or re.fullmatch(r"[,，]\s*[\u4e00-\u9fff]{1,4}", gap))):
                subject = prev[2]           # 上窑镇上报1家单位隐患1处: both are 上窑镇's
        rows.append({"value": f.value, "unit": f.unit, "approx": f.approx, "start": f.start,
                     "end": f.end, "sentence": text[s0:s1].strip(), "subject": subject,
                     "indicator": code or "", "raw": f.raw,
                     "line": text.count("\n", 0, f.start) + 1,
                     "kind": _kind(text, f, s0)})
        prev = (f, s0, subject, consumed)
        if f.unit != "%" and code and not subject:
            last_code = (code, f.unit)      # what a following 其中… sentence may count
        if f.unit != "%":
            # A figure that took its indicator from the words after it (3次组织召开安委会
            # 全体会议) passes nothing on: those words are not the next figure's.
            prev_code, inherit = code, consumed == f.end
    if not rows:
        return _empty_figures()
    out = pd.DataFrame(rows, columns=FIGURE_COLUMNS)
    return out.astype({"value": "float64", "approx": "bool", "start": "int64", "end": "int64",
                       "line": "int64"})


def _kind(text: str, f: RawFigure, sentence_start: int) -> str:
    if f.unit == "%":
        return "percent"
    after = text[f.end:f.end + 12]
    if re.match(rf"[{CJK}]", after[:1]) and ENTITY_AFTER.match(after):
        return "count"
    clause = text[sentence_start:f.start]
    clause = clause[max((m.end() for m in CLAUSE_END.finditer(clause)), default=0):]
    return "summary" if SUMMARY_WORD.search(clause) else "figure"



def _empty_figures() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype={"value": "float64", "approx": "bool",
                                             "start": "int64", "end": "int64",
                                             "line": "int64"}.get(c, "str"))
                         for c in FIGURE_COLUMNS})


def _indicator_for(text, f: RawFigure, lo: int, sent_end: int, matches, match_ends, action,
                   prev_code, inherit: bool) -> tuple[str | None, int]:
    """The indicator of one figure and the offset up to which its words are used."""
    after = text[f.end:f.end + 12]
    if re.match(rf"[{CJK}]", after[:1]) and ENTITY_AFTER.match(after):
        return None, f.end                                       # 3个单位, 27项任务
    if _ORDERED.search(text[lo:f.start]) or _NOT_A_COUNT.search(text[lo:f.start]):
        return None, f.end                                       # 限期整改…1条, 减少8起, 受伤14人
    clause_lo = lo
    for m in CLAUSE_END.finditer(text, lo, f.start):
        clause_lo = m.end()
    j = bisect.bisect_right(match_ends, f.start)
    before = [m for m in matches[:j] if m.start >= lo]
    in_clause = [m for m in before if m.start >= clause_lo]
    rank = (lambda m: (m.end, m.length))
    specific = [m for m in in_clause if m.code and resolve(m.code, f.unit)]
    if specific:
        best = max(specific, key=rank)
        code = resolve(best.code, f.unit)
        if code in RECTIFIED and _DONE_BEFORE.search(text[clause_lo:best.start]):
            code = RECTIFIED[code]                               # 已整改一般隐患4条
        return code, f.end
    # 448项重大事故隐患: the figure precedes what it counts.
    if re.match(rf"[{CJK}]", after[:1]):
        stop = CLAUSE_END.search(text, f.end, sent_end)
        phrase_end = stop.start() if stop else sent_end
        k = bisect.bisect_left(match_ends, f.end)
        ahead = [m for m in matches[k:] if f.end <= m.start <= f.end + 4 and m.end <= phrase_end
                 and m.code and resolve(m.code, f.unit)]
        if ahead:
            code = resolve(min(ahead, key=lambda m: (m.start, -m.length)).code, f.unit)
            if code in RECTIFIED and "完成" in text[clause_lo:f.start]:
                code = RECTIFIED[code]                          # 完成…3个重大隐患(整改)
            return code, phrase_end
    generic = [m for m in in_clause if m.generic]
    if generic:
        g = max(generic, key=rank)
        code = resolve_generic(g.generic, f.unit, prev_code, action, text[clause_lo:f.start])
        if code:
            return code, f.end
    specific = [m for m in before if m.code and resolve(m.code, f.unit)]
    if specific:
        return resolve(max(specific, key=rank).code, f.unit), f.end
    generic = [m for m in before if m.generic]
    if generic:
        g = max(generic, key=rank)
        code = resolve_generic(g.generic, f.unit, prev_code, action, text[lo:f.start])
        if code:
            return code, f.end
    if inherit and prev_code:
        return resolve(prev_code, f.unit), f.end
    return None, f.end

