"""A bulletin's figures as data, and the audit of its own arithmetic:
``anquan audit FILE... [--output DIR]``.

Offices write their figures into prose (``排查整治重大事故隐患79项``, ``其中部门检查发现72项，
企业自查发现7项，企业自查上报占比仅为8.86%``).  ``extract_figures`` finds every figure with
its unit word, span, sentence, the unit or sector it belongs to and, where the wording
allows, its catalogue indicator; ``audit`` checks the claims the text makes about its own
numbers (rates, shares, ``是…的P%``, 同比, parts against ``其中`` totals, averages,
``超过/低于`` lists, list lengths against stated counts, the catalogue's ``≤`` rules).

Spans index the NFKC-normalised text (``read_text`` returns it already normalised; the
functions normalise their input again, which changes nothing for such text).

How an indicator is chosen, in order (first that applies):

1. the figure counts units or things (``3个单位``, ``27项任务``): none;
2. a catalogue name or alias (or a bulletin phrase in ``_PHRASES``) in the figure's own
   clause, before it: the nearest one;
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

import argparse
import bisect
import html
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .catalogue import INDICATORS, RULES, resolve_sector
from .dataset import PANEL_COLUMNS
from .errors import InputError
from .numbers import parse_chinese_numeral, parse_number, units_compatible
from .periods import parse_period
from .text import nfkc

FIGURE_COLUMNS = ["value", "unit", "approx", "start", "end", "sentence", "subject", "indicator",
                  "raw", "line", "kind"]
# kind: figure (a reported quantity), percent (a rate or share), count (it counts units
# or things: 3个单位, 27项任务), summary (an average or a threshold: 均…3.1个, 超过10个).
AUDIT_COLUMNS = ["claim_type", "statement", "stated", "computed", "precision", "status",
                 "explanation", "start", "end"]
CLAIM_TYPES = ("rate", "share", "ratio", "yoy", "parts_sum", "part_le_total", "average",
               "comparison", "list_count", "rule")

# ---------------------------------------------------------------- reading


def read_text(path) -> str:
    """The text of a bulletin (.txt/.md, .docx, text-layer .pdf, .html), NFKC-normalised.

    Plain text is decoded as UTF-8, else by charset detection (GB18030 files are common).
    A .docx gives its paragraphs, then its tables row by row (cells joined by tabs).
    Raises ``errors.InputError`` if the file is missing, of an unknown type, or unreadable.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "文件不存在 (file not found)")
    suffix = p.suffix.lower()
    try:
        if suffix in (".txt", ".md", ".text", ""):
            text = _decode(p.read_bytes(), p)
        elif suffix in (".html", ".htm"):
            text = _html_to_text(_decode(p.read_bytes(), p))
        elif suffix == ".docx":
            text = _docx_text(p)
        elif suffix == ".pdf":
            text = _pdf_text(p)
        else:
            raise InputError(p, f"不支持的文件类型 {suffix!r} (expected .txt, .docx, .pdf, .html)")
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure is the user's file
        raise InputError(p, f"无法读取 (unreadable): {type(err).__name__}: {err}") from err
    return nfkc(text)


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes
        best = from_bytes(data).best()
        if best is None:
            raise InputError(path, "无法识别的文本编码 (unknown text encoding)") from None
        return str(best)


def _docx_text(path: Path) -> str:
    import docx
    doc = docx.Document(str(path))
    parts = [para.text for para in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _pdf_text(path: Path) -> str:
    import pdfplumber
    with pdfplumber.open(str(path)) as pdf:
        pages = [page.extract_text() or "" for page in pdf.pages]
    text = "\n".join(pages)
    if not text.strip():
        raise InputError(path, "PDF 没有文字层 (no text layer; scanned PDFs need OCR first)")
    return text


def _html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h\d>|</li>|</tr>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


# ---------------------------------------------------------------- figures in the text

# Unit words, longest first so 家次 wins over 家 and 万元 over 元.
UNIT_WORDS = ("万元", "亿元", "千元", "元", "公里", "千米", "家次", "人次", "场次", "轮次", "批次",
              "项", "个", "处", "条", "家", "次", "场", "人", "台", "支", "份", "起", "件", "栋",
              "轮", "户", "名", "米", "分", "%")
_UNIT_ALT = "|".join(re.escape(u) for u in UNIT_WORDS)
_CJK = "\u4e00-\u9fff"
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
class _Raw:
    start: int
    end: int
    value: float
    unit: str
    approx: bool
    raw: str


def _scan_figures(text: str) -> list[_Raw]:
    """Every figure in ``text`` (already NFKC), with the exclusions of SEED_FIGURES.md."""
    out: list[_Raw] = []
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
        out.append(_Raw(start, end, value, unit, approx, text[start:end]))
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

_SENT_END = re.compile(r"[。!?！？;；]")
_CLAUSE_END = re.compile(r"[,，;；:：。!?！？]")
_HEADING = re.compile(r"^\s*(?:#|[一二三四五六七八九十]+、|\(?[一二三四五六七八九十]+\)|（[一二三四五六七八九十]+）)")


def _sentence_starts(text: str) -> list[int]:
    """Start offsets of sentences.  A line break ends a sentence unless it falls inside a
    long paragraph broken mid-word (page breaks in converted PDFs: 加强动\\n\\n员部署)."""
    starts = {0}
    for m in _SENT_END.finditer(text):
        starts.add(m.end())
    for m in re.finditer(r"\n\s*", text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        line = text[line_start:m.start()]
        nxt = text[m.end():m.end() + 1]
        wrapped = (len(line.strip()) >= 20 and line and re.match(rf"[{_CJK}\w]", line[-1])
                   and re.match(rf"[{_CJK}\d]", nxt or " ") and not _HEADING.match(line)
                   and not _HEADING.match(text[m.end():m.end() + 6]))
        if not wrapped:
            starts.add(m.end())
    return sorted(starts)


def _sentence_of(starts: list[int], text: str, pos: int) -> tuple[int, int]:
    i = bisect.bisect_right(starts, pos) - 1
    end = starts[i + 1] if i + 1 < len(starts) else len(text)
    return starts[i], end


# ---------------------------------------------------------------- concepts → indicators

_CAT = INDICATORS.set_index("code")
_UNIT_OF = _CAT["unit"].to_dict()
_ACTION_OF = _CAT["action"].to_dict()

# Members of one reporting item that differ by unit; a match on one resolves to the
# member whose unit fits the figure.
_GROUPS: list[tuple[str, ...]] = [
    ("principal_training_sessions", "principal_training_persons"),
    ("standard_publicity_sessions", "standard_publicity_persons"),
    ("worker_training_sessions", "worker_training_persons"),
    ("flexible_training_sessions", "flexible_training_persons"),
    ("enforcement_training_sessions", "enforcement_training_persons"),
    ("drill_enterprises", "drills", "drill_participants"),
    ("principal_led_inspections", "principal_led_enterprises"),
    ("assistance_visits", "assisted_enterprises"),
    ("covert_inspections", "covert_inspected_enterprises"),
    ("penalties", "fines"),
    ("accidents", "deaths"),
]
_GROUP_OF = {c: g for g in _GROUPS for c in g}

# Words that name a family of indicators; the action or the previous figure decides.
_GENERIC: dict[str, tuple[str, ...]] = {
    "培训": ("principal_training_sessions", "principal_training_persons",
             "worker_training_sessions", "worker_training_persons",
             "flexible_training_sessions", "flexible_training_persons",
             "enforcement_training_sessions", "enforcement_training_persons"),
    "演练": ("drills", "drill_enterprises", "drill_participants", "public_drills",
             "grassroots_drills"),
    "宣贯": ("standard_publicity_sessions", "standard_publicity_persons"),
    "整改": (),                                     # rectified: of the hazards just named
}
_GENERIC_PATTERNS = {"培训": "培训", "演练": "演练", "宣贯": "宣贯", "整改": r"整改(?!率)"}

# Bulletin phrasings the catalogue's aliases do not cover (regex → code).
_PHRASES: list[tuple[str, str]] = [
    (r"判定标准(?!宣贯)", "standard_publicity_sessions"),
    (r"从业人员", "worker_training_sessions"),
    (r"灵活用工", "flexible_training_sessions"),
    (r"企业(?:自查)?发现", "major_hazards_found_enterprise"),
    (r"部门(?:检查)?发现", "major_hazards_found_dept"),
    (r"各类(?:安全)?隐患", "general_hazards_found"),
    (r"一般(?:安全|事故)?隐患", "general_hazards_found"),
    (r"火灾隐患", "fire_hazards_found"),
    (r"重大(?:事故)?隐患", "major_hazards_found"),
    (r"燃气管道", "gas_pipeline_renewal"),
    (r"(?:实地|现场)督导检查", "leader_onsite_county"),
    (r"召开区?安委会", "safety_meetings"),
    (r"责令[“\"]?三停", "suspensions"),
]
# Catalogue aliases too vague for prose: the action decides (开展应急演练 is a drill of
# enterprises, of the public or of the grassroots, depending on where it is reported).
_VAGUE_ALIASES = {"开展应急演练", "应急逃生演练", "应急演练次数", "演练次数"}

_RECTIFIED = {"major_hazards_found": "major_hazards_rectified",
              "major_hazards_found_dept": "major_hazards_rectified_dept",
              "major_hazards_found_enterprise": "major_hazards_rectified_enterprise",
              "general_hazards_found": "general_hazards_rectified",
              "fire_hazards_found": "fire_hazards_rectified"}

# What a measure word counts when the figure is a count of units or things.
_ENTITY_AFTER = re.compile(
    r"^(?:重点|具体|需|省|市|区|县)?(?:单位|区|县|镇街|镇|街道|乡镇|部门|行业系统|行业领域|"
    r"领域|系统|公司|任务|工作|条件|督导组|综合督导组|月)")

# Campaign actions as the text names them (实施…行动 / N是…行动), by keyword.
_ACTION_KEYS: list[tuple[str, str]] = [
    ("主要负责人", "principal_training"), ("判定标准", "standard_publicity"),
    ("隐患动态清", "hazard_clearance"), ("科技支撑", "technology"), ("工程治理", "technology"),
    ("从业人员", "workforce"), ("管理体系", "management"), ("执法", "enforcement"),
    ("帮扶", "enforcement"), ("打非治违", "enforcement"), ("全民", "public_awareness"),
    ("四个责任", "responsibility"), ("基层安全基础", "basic_capacity"),
]


@dataclass(frozen=True)
class _Concept:
    pattern: re.Pattern
    code: str | None           # None for a generic word
    generic: str | None        # key of _GENERIC


def _flex(phrase: str) -> str:
    """A regex for a catalogue phrase that tolerates 、 “” and spaces between its characters."""
    chars = [c for c in phrase if c not in "、“”\" "]
    return r"[、“”\"\s]?".join(re.escape(c) for c in chars)


@lru_cache(maxsize=1)
def _concepts() -> tuple[_Concept, ...]:
    seen: dict[str, str] = {}
    for row in INDICATORS.itertuples():
        for phrase in (row.name_zh, *row.aliases):
            phrase = nfkc(phrase)
            if phrase in _VAGUE_ALIASES:
                continue
            seen.setdefault(phrase, row.code)
    # 事故 must not match inside 事故隐患.
    out = [_Concept(re.compile(_flex(p) + ("" if "隐患" in p else r"(?!隐患)")), code, None)
           for p, code in seen.items()]
    out += [_Concept(re.compile(p), code, None) for p, code in _PHRASES]
    out += [_Concept(re.compile(p), None, key) for key, p in _GENERIC_PATTERNS.items()]
    return tuple(out)


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    code: str | None
    generic: str | None
    length: int


def _concept_matches(text: str) -> list[_Match]:
    found = []
    for c in _concepts():
        for m in c.pattern.finditer(text):
            found.append(_Match(m.start(), m.end(), c.code, c.generic, m.end() - m.start()))
    return sorted(found, key=lambda x: (x.end, x.start))


def _action_marks(text: str) -> list[tuple[int, str | None]]:
    """Positions where the text enters a campaign action (or leaves one), in order."""
    marks = []
    for m in re.finditer(r"[一二三四五六七八九十]+是|实施|\n", text):
        if m.group() == "\n":
            if _HEADING.match(text[m.end():m.end() + 6]):
                marks.append((m.end(), None))
            continue
        phrase = re.split(r"[。;；,，:：\n]", text[m.end():m.end() + 50], maxsplit=1)[0]
        if "行动" in phrase:
            action = next((a for k, a in _ACTION_KEYS if k in phrase), None)
            marks.append((m.start(), action))
        elif m.group() != "实施":
            marks.append((m.start(), None))
    return marks


def _fits(code: str, unit: str) -> bool:
    return unit == "" or units_compatible(unit, _UNIT_OF[code])


def _resolve(primary: str, unit: str) -> str | None:
    """The member of ``primary``'s group that fits ``unit``: exact unit first, then the
    primary if compatible, then any compatible member."""
    group = _GROUP_OF.get(primary, (primary,))
    if _UNIT_OF[primary] == unit:
        return primary
    exact = [c for c in group if _UNIT_OF[c] == unit]
    if exact:
        return exact[0]
    if _fits(primary, unit):
        return primary
    return next((c for c in group if _fits(c, unit)), None)


def _resolve_generic(key: str, unit: str, prev_code: str | None, action: str | None,
                     clause: str) -> str | None:
    if key == "整改":
        if prev_code in _RECTIFIED:
            return _RECTIFIED[prev_code]
        for word, code in (("火灾", "fire_hazards_rectified"), ("一般", "general_hazards_rectified"),
                           ("重大", "major_hazards_rectified")):
            if word in clause:
                return code
        return None
    members = _GENERIC[key]
    if prev_code in members:
        code = _resolve(prev_code, unit)
        if code is not None:
            return code
    fit = [c for c in members if _fits(c, unit)]
    in_action = [c for c in fit if _ACTION_OF[c] == action]
    fit = in_action or fit
    exact = [c for c in fit if _UNIT_OF[c] == unit]
    return (exact or fit or [None])[0]


# ---------------------------------------------------------------- subjects

_SUBJECT_SPLIT = re.compile(
    r"的|是|在|和|与|及|其中|为|有|对|等|、|,|，|;|督导|检查|开展|排查|发现|联合|组织|实施|分别|"
    r"集中|靠前|靠后|以|从|上看")
_UNIT_SUFFIX = re.compile(r"(?:县|区|市|镇|乡|街道|公司|局|委|办|支队|大队|中心|集团|分局)$")
_NAME_BEFORE = re.compile(rf"([{_CJK}]+(?:\([{_CJK}]+\))?)[\s【\[(]*$")


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
    return ""


def _name_at_end(window: str) -> str:
    m = _NAME_BEFORE.search(window)
    if not m:
        return ""
    name = _SUBJECT_SPLIT.split(m.group(1))[-1]
    if not name:
        return ""
    sector = resolve_sector(name)
    if sector:
        return sector
    if re.fullmatch(r"全[国省市区县镇乡]", name) or not 2 <= len(name) <= 12:
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
    raws = _scan_figures(text)
    starts = _sentence_starts(text)
    matches = _concept_matches(text)
    match_ends = [m.end for m in matches]
    marks = _action_marks(text)
    mark_pos = [p for p, _ in marks]
    rows = []
    prev = None            # previous figure: (raw, sentence start, subject, words used up to)
    prev_code = None       # indicator of the last non-percent figure in this sentence
    inherit = False        # may the next figure take prev_code when its words name nothing?
    for f in raws:
        s0, s1 = _sentence_of(starts, text, f.start)
        same_sentence = prev is not None and prev[1] == s0
        if not same_sentence:
            prev_code = None
        win_lo = max(s0, prev[3]) if same_sentence else s0
        code, consumed = None, f.end
        if f.unit != "%":
            i = bisect.bisect_right(mark_pos, f.start) - 1
            action = marks[i][1] if i >= 0 else None
            code, consumed = _indicator_for(text, f, win_lo, s1, matches, match_ends, action,
                                            prev_code, same_sentence and inherit)
        subject = _subject(text, f.start, win_lo, s0)
        if not subject and same_sentence and prev[2]:
            gap = text[prev[0].end:f.start]
            if gap == "" or (f.unit == "%" and len(gap) <= 4
                             and not re.search(rf"[{_CJK}]", gap.replace("占比", ""))):
                subject = prev[2]           # 【52个，占比33.5%】: the share belongs to 建筑施工
        rows.append({"value": f.value, "unit": f.unit, "approx": f.approx, "start": f.start,
                     "end": f.end, "sentence": text[s0:s1].strip(), "subject": subject,
                     "indicator": code or "", "raw": f.raw,
                     "line": text.count("\n", 0, f.start) + 1,
                     "kind": _kind(text, f, s0)})
        prev = (f, s0, subject, consumed)
        if f.unit != "%":
            # A figure that took its indicator from the words after it (3次组织召开安委会
            # 全体会议) passes nothing on: those words are not the next figure's.
            prev_code, inherit = code, consumed == f.end
    if not rows:
        return _empty_figures()
    out = pd.DataFrame(rows, columns=FIGURE_COLUMNS)
    return out.astype({"value": "float64", "approx": "bool", "start": "int64", "end": "int64",
                       "line": "int64"})


def _kind(text: str, f: _Raw, sentence_start: int) -> str:
    if f.unit == "%":
        return "percent"
    after = text[f.end:f.end + 12]
    if re.match(rf"[{_CJK}]", after[:1]) and _ENTITY_AFTER.match(after):
        return "count"
    clause = text[sentence_start:f.start]
    clause = clause[max((m.end() for m in _CLAUSE_END.finditer(clause)), default=0):]
    return "summary" if _SUMMARY_WORD.search(clause) else "figure"



def _empty_figures() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype={"value": "float64", "approx": "bool",
                                             "start": "int64", "end": "int64",
                                             "line": "int64"}.get(c, "str"))
                         for c in FIGURE_COLUMNS})


def _indicator_for(text, f: _Raw, lo: int, sent_end: int, matches, match_ends, action,
                   prev_code, inherit: bool) -> tuple[str | None, int]:
    """The indicator of one figure and the offset up to which its words are used."""
    after = text[f.end:f.end + 12]
    if re.match(rf"[{_CJK}]", after[:1]) and _ENTITY_AFTER.match(after):
        return None, f.end                                       # 3个单位, 27项任务
    clause_lo = lo
    for m in _CLAUSE_END.finditer(text, lo, f.start):
        clause_lo = m.end()
    j = bisect.bisect_right(match_ends, f.start)
    before = [m for m in matches[:j] if m.start >= lo]
    in_clause = [m for m in before if m.start >= clause_lo]
    rank = (lambda m: (m.end, m.length))
    specific = [m for m in in_clause if m.code and _resolve(m.code, f.unit)]
    if specific:
        return _resolve(max(specific, key=rank).code, f.unit), f.end
    # 448项重大事故隐患: the figure precedes what it counts.
    if re.match(rf"[{_CJK}]", after[:1]):
        stop = _CLAUSE_END.search(text, f.end, sent_end)
        phrase_end = stop.start() if stop else sent_end
        k = bisect.bisect_left(match_ends, f.end)
        ahead = [m for m in matches[k:] if f.end <= m.start <= f.end + 4 and m.end <= phrase_end
                 and m.code and _resolve(m.code, f.unit)]
        if ahead:
            code = _resolve(min(ahead, key=lambda m: (m.start, -m.length)).code, f.unit)
            if code in _RECTIFIED and "完成" in text[clause_lo:f.start]:
                code = _RECTIFIED[code]                          # 完成…3个重大隐患(整改)
            return code, phrase_end
    generic = [m for m in in_clause if m.generic]
    if generic:
        g = max(generic, key=rank)
        code = _resolve_generic(g.generic, f.unit, prev_code, action, text[clause_lo:f.start])
        if code:
            return code, f.end
    specific = [m for m in before if m.code and _resolve(m.code, f.unit)]
    if specific:
        return _resolve(max(specific, key=rank).code, f.unit), f.end
    generic = [m for m in before if m.generic]
    if generic:
        g = max(generic, key=rank)
        code = _resolve_generic(g.generic, f.unit, prev_code, action, text[lo:f.start])
        if code:
            return code, f.end
    if inherit and prev_code:
        return _resolve(prev_code, f.unit), f.end
    return None, f.end


# ---------------------------------------------------------------- audit

_RATE_WORD = re.compile(r"(?:整改|完成|销号|办结)\w{0,3}率[^,，;；。]{0,4}$")
_SHARE_WORD = re.compile(r"占比?[^,，;；。]{0,4}$")
_YOY_WORD = re.compile(r"同比(均)?(下降|减少|降低|上升|增长|增加|提高)[了]?$")
_PRIOR_WORD = re.compile(r"(?:去年|上年)同期|去年|上年")
_COMPARE_WORD = re.compile(r"(超过|高于|多于|低于|少于|不足|不到)")
_AVERAGE_WORD = re.compile(r"平均|均")
_LIST_LEAD = re.compile(r"^[^。;；]{0,4}?(?:分别是|分别为|包括|:|：)")
_SUMMARY_WORD = re.compile(r"(?:平均|均|超过|高于|多于|低于|少于|不足)[^,，;；。]{0,20}$")

# Totals and their parts, from the catalogue's arithmetic rules.
_SUM_RULES = [(tuple(r.lhs), r.rhs) for r in RULES.itertuples() if r.kind == "sum"]
_LE_RULES = [(r.lhs[0], r.rhs, r.description_zh) for r in RULES.itertuples() if r.kind == "le"]
_PARENT = {part: total for parts, total in _SUM_RULES for part in parts}


@dataclass
class _Fig:
    i: int
    value: float
    unit: str
    approx: bool
    start: int
    end: int
    raw: str
    subject: str
    code: str
    s0: int
    s1: int
    entity: bool          # counts units or things (3个单位, 两个行业领域)
    summary: bool         # an average or a threshold, not a reported total

    @property
    def pct(self) -> bool:
        return self.unit == "%"


def _step(raw: str) -> float:
    """The rounding step the text states: 8.86 → 0.01, 99 → 1."""
    m = re.search(r"\d+(?:\.(\d+))?", raw)
    decimals = len(m.group(1) or "") if m else 0
    return 10.0 ** -decimals


def _holds(computed: float, stated: float, step: float) -> bool:
    return abs(computed - stated) <= step / 2 + 1e-9


def _fmt(x: float) -> str:
    return f"{x:.6g}" if not float(x).is_integer() else str(int(x))


def _pct(x: float, step: float) -> str:
    decimals = max(0, round(-math.log10(step))) + 1
    return f"{x:.{decimals}f}%"


class _Auditor:
    """Collects the claims of one text; each finder appends rows."""

    def __init__(self, text: str, figures: pd.DataFrame):
        self.text = text
        starts = _sentence_starts(text)
        self.figs: list[_Fig] = []
        for i, r in enumerate(figures.itertuples(index=False)):
            s0, s1 = _sentence_of(starts, text, int(r.start))
            after = text[int(r.end):int(r.end) + 12]
            clause = text[s0:int(r.start)]
            clause = clause[max((m.end() for m in _CLAUSE_END.finditer(clause)), default=0):]
            self.figs.append(_Fig(
                i, float(r.value), str(r.unit), bool(r.approx), int(r.start), int(r.end),
                str(r.raw), str(r.subject or ""), str(r.indicator or ""), s0, s1,
                bool(re.match(rf"[{_CJK}]", after[:1]) and _ENTITY_AFTER.match(after)),
                bool(_SUMMARY_WORD.search(clause))))
        self.claims: list[dict] = []
        self.used_pcts: set[int] = set()

    # -- helpers
    def sentence(self, f: _Fig) -> list[_Fig]:
        return [g for g in self.figs if g.s0 == f.s0]

    def before(self, f: _Fig, *, counts=True) -> list[_Fig]:
        return [g for g in self.sentence(f) if g.start < f.start and (not counts or not g.pct)]

    def add(self, claim_type, first: _Fig, stated: _Fig | float, computed, status, explanation,
            step=1.0, stated_value=None):
        anchor = stated if isinstance(stated, _Fig) else first
        start = min(first.start, anchor.start) if first.s0 == anchor.s0 else anchor.start
        end = max(first.end, anchor.end)
        self.claims.append({
            "claim_type": claim_type, "statement": self.text[start:end].replace("\n", ""),
            "stated": float(stated.value if isinstance(stated, _Fig) else stated)
            if stated_value is None else float(stated_value),
            "computed": float("nan") if computed is None else float(computed),
            "precision": float(step), "status": status, "explanation": explanation,
            "start": start, "end": end})

    def whole_total(self, code: str, at: _Fig, exclude: set[int]) -> _Fig | None:
        """The area's total of ``code``: in the same sentence the nearest one before,
        else the largest whole-area figure of the text (a bulletin's total is its largest
        figure of that indicator; monthly figures, averages and thresholds are smaller)."""
        pool = [g for g in self.figs if g.code == code and not g.subject and not g.pct
                and not g.summary and not g.approx and g.i not in exclude]
        here = [g for g in pool if g.s0 == at.s0 and g.start < at.start]
        if here:
            return here[-1]
        return max(pool, key=lambda g: (g.value, -g.start), default=None)

    # -- finders
    def rates(self):
        for p in (f for f in self.figs if f.pct):
            if not _RATE_WORD.search(self.text[p.s0:p.start]):
                continue
            self.used_pcts.add(p.i)
            step = _step(p.raw)
            prior = self.before(p)
            dens = [g for g in prior if g.code in _RECTIFIED]
            if not dens:
                coded = [g for g in prior if g.code]
                if len(prior) >= 2 and not coded and units_compatible(prior[-1].unit, prior[-2].unit):
                    dens = [prior[-2]]
                    nums = [prior[-1]]
                else:
                    self.add("rate", p, p, None, "unverifiable", "文中未给出该比率的分子和分母", step)
                    continue
            else:
                nums = [g for g in prior if g.start > dens[-1].start
                        and g.code == _RECTIFIED[dens[-1].code]]
            den = dens[-1]
            if nums:
                num = nums[-1]
                computed = num.value / den.value * 100 if den.value else float("nan")
                ok = _holds(computed, p.value, step)
                text = (f"{_fmt(num.value)} / {_fmt(den.value)} = {_pct(computed, step)}，"
                        f"{'与' if ok else '不等于'}所述 {_fmt(p.value)}%"
                        + ("" if ok else self._needed_numerator(den, p, step)))
                self.add("rate", den, p, computed, "verified" if ok else "contradicted", text, step)
                continue
            ks = [k for k in range(int(den.value) + 1) if _holds(k / den.value * 100, p.value, step)] \
                if den.value and den.value.is_integer() and not den.approx else []
            if ks or den.approx or not den.value.is_integer():
                expl = (f"文中给出分母 {_fmt(den.value)} 但未给出整改数；"
                        + (f"{_fmt(den.value)} 的 {_fmt(p.value)}% 对应 {ks[0]} 项"
                           f"（{ks[0]}/{_fmt(den.value)} = {_pct(ks[0] / den.value * 100, step)}），"
                           "整数可行" if ks else "无法核对"))
                self.add("rate", den, p, None, "unverifiable", expl, step)
            else:
                self.add("rate", den, p, None, "contradicted",
                         f"没有任何整数整改数能使 {_fmt(den.value)} 项的整改率为 {_fmt(p.value)}%", step)

    @staticmethod
    def _needed_numerator(den: _Fig, p: _Fig, step: float) -> str:
        ks = [k for k in range(int(den.value) + 1) if _holds(k / den.value * 100, p.value, step)]
        return f"；按分母 {_fmt(den.value)}，{_fmt(p.value)}% 需整改 {ks[0]} 项" if ks else ""

    def ratios(self):
        """``A，是B的P%``: A over B."""
        for p in (f for f in self.figs if f.pct and f.i not in self.used_pcts):
            head = self.text[p.s0:p.start]
            if not re.search(r"的\s*$", head):
                continue
            shi = head.rfind("是")
            if shi < 0:
                continue
            shi += p.s0
            prior = self.before(p)
            dens = [g for g in prior if g.start > shi]
            nums = [g for g in prior if g.end <= shi]
            if not dens or not nums:
                continue
            self.used_pcts.add(p.i)
            num, den = nums[-1], dens[-1]
            step = _step(p.raw)
            computed = num.value / den.value * 100 if den.value else float("nan")
            ok = _holds(computed, p.value, step)
            self.add("ratio", num, p, computed, "verified" if ok else "contradicted",
                     f"{_fmt(num.value)} / {_fmt(den.value)} = {_pct(computed, step)}，"
                     f"{'与' if ok else '不等于'}所述 {_fmt(p.value)}%", step)

    def yoys(self):
        for p in (f for f in self.figs if f.pct and f.i not in self.used_pcts):
            m = _YOY_WORD.search(self.text[p.s0:p.start].rstrip())
            if not m:
                continue
            self.used_pcts.add(p.i)
            step = _step(p.raw)
            sign = -1 if m.group(2) in ("下降", "减少", "降低") else 1
            prior = self.before(p)
            marker = _PRIOR_WORD.search(self.text, p.s0, p.start)
            if marker:
                currents = [g for g in prior if g.end <= marker.start()]
                priors = [g for g in prior if g.start >= marker.end()]
            else:
                currents, priors = prior, []
            if not currents:
                self.add("yoy", p, p, None, "unverifiable", "文中未给出本期数", step)
                continue
            if m.group(1) is None:
                currents = currents[-1:]
            if not priors:
                implied = "，".join(
                    f"{_fmt(c.value)}{c.unit} 对应去年约 {c.value / (1 + sign * p.value / 100):.1f}"
                    for c in currents)
                self.add("yoy", currents[0], p, None, "unverifiable",
                         f"文中未给出去年同期数，无法核对；按所述比例推算：{implied}", step)
                continue
            pairs = list(zip(currents[-len(priors):], priors))
            changes = [(c.value - q.value) / q.value * 100 if q.value else float("nan")
                       for c, q in pairs]
            ok = all(_holds(sign * ch, p.value, step) for ch in changes)
            detail = "；".join(f"({_fmt(c.value)} − {_fmt(q.value)}) / {_fmt(q.value)} = {ch:+.2f}%"
                              for (c, q), ch in zip(pairs, changes))
            self.add("yoy", pairs[0][0], p, changes[0], "verified" if ok else "contradicted",
                     f"{detail}，{'与' if ok else '不等于'}所述{m.group(2)} {_fmt(p.value)}%", step)

    def shares(self):
        found = []
        for p in (f for f in self.figs if f.pct and f.i not in self.used_pcts):
            head = self.text[p.s0:p.start]
            prior = self.before(p)
            last = prior[-1] if prior else None
            gap = self.text[last.end:p.start] if last else ""
            bracket = last is not None and re.fullmatch(r"\s*[,，]?\s*(?:占比?)?\s*(?:为|仅为|达)?\s*", gap)
            if not (bracket or _SHARE_WORD.search(head)):
                continue
            self.used_pcts.add(p.i)
            step = _step(p.raw)
            parts, label = self._share_numerator(p, prior, last if bracket else None)
            if not parts:
                self.add("share", p, p, None, "unverifiable",
                         f"无法确定“{label}”对应的分子", step)
                continue
            code = parts[0].code
            total_code = _PARENT.get(code, code)
            total = self.whole_total(total_code, parts[0], {g.i for g in parts})
            num = sum(g.value for g in parts)
            if total is None or not total.value:
                self.add("share", parts[0], p, None, "unverifiable", "文中未给出合计数", step)
                continue
            computed = num / total.value * 100
            ok = _holds(computed, p.value, step)
            lo_t = num * 100 / (p.value + step / 2)
            hi_t = num * 100 / (p.value - step / 2) if p.value > step / 2 else float("inf")
            fits = set(range(math.floor(lo_t) + 1, math.floor(hi_t) + 1)) if hi_t < 1e7 else set()
            numerator = " + ".join(_fmt(g.value) for g in parts)
            numerator = f"({numerator})" if len(parts) > 1 else numerator
            found.append({"p": p, "first": parts[0], "total": total, "ok": ok, "fits": fits,
                          "computed": computed, "step": step, "num": num,
                          "text": f"{numerator} / {_fmt(total.value)} = {_pct(computed, step)}，"
                                  f"{'与' if ok else '不等于'}所述 {_fmt(p.value)}%"})
        # A wrong total shows as shares that all hold on one other total.
        for f in found:
            expl = f["text"]
            if not f["ok"]:
                peers = [g for g in found if g["total"].i == f["total"].i and not g["ok"]]
                common = set.intersection(*(g["fits"] for g in peers)) if peers else set()
                if common:
                    t = min(common, key=lambda x: abs(x - f["total"].value))
                    others = "，".join(f"{_fmt(g['num'])}/{t} = {_pct(g['num'] / t * 100, g['step'])}"
                                      for g in peers)
                    expl += (f"；这些占比都按合计 {t} 计算才成立（{others}），"
                             f"而文中合计为 {_fmt(f['total'].value)}，疑为分母用错")
                elif f["fits"]:
                    expl += f"；按合计 {min(f['fits'])} 计算才成立"
            self.add("share", f["first"], f["p"], f["computed"],
                     "verified" if f["ok"] else "contradicted", expl, f["step"])

    def _share_numerator(self, p: _Fig, prior: list[_Fig], bracket_of: _Fig | None):
        clause = self.text[p.s0:p.start]
        # 两个行业领域…占比80%: the sum of the k parts listed before the count.
        counts = [g for g in prior if g.entity and g.start >= p.s0]
        if counts:
            c = counts[-1]
            listed = [g for g in prior if g.start < c.start and g.subject and g.code]
            if listed and len(listed) >= int(c.value):
                return listed[-int(c.value):], ""
        if bracket_of is not None and bracket_of.code:
            return [bracket_of], ""
        cut = max(clause.rfind("占"), 0)
        label_lo = max((m.end() for m in _CLAUSE_END.finditer(clause[:cut])), default=0)
        label = clause[label_lo:cut]
        codes = [m.code for m in _concept_matches(label) if m.code]
        for code in reversed(codes):
            hits = [g for g in prior if g.code == code]
            if hits:
                return [hits[-1]], label
        return [], label

    def parts(self):
        for q in re.finditer("其中", self.text):
            sent = [g for g in self.figs if g.s0 <= q.start() < g.s1 and not g.pct]
            totals = [g for g in sent if g.end <= q.start() and not g.entity]
            parts = [g for g in sent if g.start >= q.end()]
            if not totals or not parts:
                continue
            claimed = False
            tcodes = {g.code: g for g in totals if g.code}
            for lhs, rhs in _SUM_RULES:
                if rhs not in tcodes:
                    continue
                pieces = [next((g for g in parts if g.code == c), None) for c in lhs]
                total = tcodes[rhs]
                if all(pieces):
                    s = sum(g.value for g in pieces)
                    ok = _holds(s, total.value, _step(total.raw))
                    expl = (" + ".join(_fmt(g.value) for g in pieces) + f" = {_fmt(s)}，"
                            + ("等于" if ok else "不等于") + f"所述合计 {_fmt(total.value)}")
                    self.add("parts_sum", total, pieces[-1], s, "verified" if ok else "contradicted",
                             expl, _step(total.raw), stated_value=total.value)
                    claimed = True
            for a, b, desc in _LE_RULES:
                if b in tcodes:
                    for g in (g for g in parts if g.code == a):
                        self._le("part_le_total", g, tcodes[b], desc)
                        claimed = True
            if claimed:
                continue
            total = totals[-1]
            same = [g for g in parts if g.unit == total.unit]
            if not same:
                continue
            s = sum(g.value for g in same)
            ok = s <= total.value + 1e-9
            expl = ((" + ".join(_fmt(g.value) for g in same) + " = " if len(same) > 1 else "")
                    + f"{_fmt(s)} "
                    + ("≤" if ok else ">") + f" 合计 {_fmt(total.value)}"
                    + ("（各部分正好合计）" if ok and s == total.value else ""))
            self.add("part_le_total", total, same[-1], s, "verified" if ok else "contradicted",
                     expl, _step(total.raw), stated_value=total.value)

    def _le(self, claim_type: str, small: _Fig, big: _Fig, desc: str):
        ok = small.value <= big.value + 1e-9
        first, last = (small, big) if small.start < big.start else (big, small)
        self.add(claim_type, first, last, big.value, "verified" if ok else "contradicted",
                 f"{desc}：{_fmt(small.value)} {'≤' if ok else '>'} {_fmt(big.value)}",
                 stated_value=small.value)

    def averages(self):
        for a in self.figs:
            clause = self.text[a.s0:a.start]
            clause = clause[max((m.end() for m in _CLAUSE_END.finditer(clause)), default=0):]
            if a.pct or not a.code or not _AVERAGE_WORD.search(clause):
                continue
            step = _step(a.raw)
            total = self.whole_total(a.code, a, {a.i})
            units = [g for g in self.figs if g.entity and re.match(
                r"(?:个|家)?(?:重点|需报送\w{0,10})?(?:单位|镇街|部门|县|区)",
                self.text[g.end:g.end + 8]) and not g.summary]
            before_units = [g for g in units if g.start < a.start]
            count = before_units[-1] if before_units else (units[0] if units else None)
            if total is None or count is None or not count.value:
                missing = "合计" if total is None else "单位数"
                self.add("average", a, a, None, "unverifiable", f"文中未给出{missing}，无法核对平均数", step)
                continue
            computed = total.value / count.value
            ok = _holds(computed, a.value, step)
            self.add("average", a, a, computed, "verified" if ok else "contradicted",
                     f"{_fmt(total.value)} / {_fmt(count.value)} 个单位 = {computed:.3g}，"
                     f"{'与' if ok else '不等于'}所述平均 {_fmt(a.value)}", step)

    def comparisons(self):
        for c in (f for f in self.figs if f.entity):
            rest = self.text[c.end:c.s1]
            stop = _CLAUSE_END.search(rest)
            clause = rest[:stop.start()] if stop else rest
            m = _COMPARE_WORD.search(clause)
            if not m:
                continue
            above = m.group(1) in ("超过", "高于", "多于")
            after = [g for g in self.sentence(c) if g.start > c.end and not g.pct]
            threshold = next((g for g in after if g.start < c.end + len(clause) + 1), None)
            if threshold is None:
                what = "平均数" if "平均" in clause else "阈值"
                self.add("comparison", c, c, None, "unverifiable",
                         f"“{_fmt(c.value)}个单位{m.group(1)}{what}”需要各单位数据，文中未列出", 1.0)
                continue
            lead = self.text[threshold.end:threshold.end + 12]
            listed = []
            if _LIST_LEAD.match(lead):
                for g in after[after.index(threshold) + 1:]:
                    if not g.subject:
                        break
                    listed.append(g)
            if not listed:
                self.add("comparison", c, threshold, None, "unverifiable",
                         f"{m.group(1)} {_fmt(threshold.value)} 的单位未逐一列出，无法核对", 1.0,
                         stated_value=c.value)
                continue
            bad = [g for g in listed if not (g.value > threshold.value if above
                                             else g.value < threshold.value)]
            values = "、".join(f"{g.subject} {_fmt(g.value)}" for g in listed)
            self.add("comparison", c, listed[-1], len(listed) - len(bad),
                     "contradicted" if bad else "verified",
                     f"所列 {values} " + ("均" if not bad else "并非都")
                     + f"{m.group(1)} {_fmt(threshold.value)}"
                     + ("" if not bad else "：" + "、".join(g.subject for g in bad) + " 不满足"),
                     1.0, stated_value=len(listed))
            self._list_count(c, listed, partial=False)

    def lists(self):
        """``A 52个 … 和 B 72个 两个行业领域``: the listed units against the stated count."""
        for c in (f for f in self.figs if f.entity):
            prior = self.before(c)
            run = []
            for g in reversed(prior):
                if not g.subject:
                    break
                run.insert(0, g)
            if not run or not re.fullmatch(r"[\s】\])）)]*(?:等|和|及|共)?", self.text[run[-1].end:c.start]
                                           .split("%")[-1].lstrip("】] ")):
                continue
            partial = self.text[c.start - 1:c.start] == "等"
            self._list_count(c, run, partial)

    def _list_count(self, c: _Fig, listed: list[_Fig], partial: bool):
        n = len(dict.fromkeys(g.subject for g in listed))
        ok = n <= c.value if partial else n == c.value
        names = "、".join(dict.fromkeys(g.subject for g in listed))
        self.add("list_count", listed[0], c, n, "verified" if ok else "contradicted",
                 f"列出 {n} 个（{names}），" + ("所述“等”" if partial else "所述")
                 + f" {_fmt(c.value)} 个" + ("" if ok else "，不一致"), 1.0)

    def rules(self):
        done = {(c["start"], c["end"]) for c in self.claims}
        for a, b, desc in _LE_RULES:
            for small in (g for g in self.figs if g.code == a):
                bigs = [g for g in self.sentence(small) if g.code == b and g.subject == small.subject]
                if not bigs:
                    continue
                big = min(bigs, key=lambda g: abs(g.start - small.start))
                span = (min(small.start, big.start), max(small.end, big.end))
                if span not in done:
                    self._le("rule", small, big, desc)


def audit(text: str, figures: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every arithmetic claim the text makes about its own figures, checked.

    Claim types: ``rate`` (整改率 against rectified / found), ``share`` (占比, bracketed
    shares, the combined share of listed parts; the denominator is the area's total of the
    indicator), ``ratio`` (``A，是B的P%``), ``yoy`` (同比 against last year's figures when
    given), ``parts_sum`` / ``part_le_total`` (``其中`` parts against their total, by the
    catalogue's sum and ≤ rules, else same-unit parts ≤ total), ``average`` (total / number
    of units), ``comparison`` (``N个单位超过M`` against the units listed), ``list_count``
    (units listed against the count stated), ``rule`` (the catalogue's ≤ rules between
    figures of one sentence and subject).

    A stated value holds when the computed one rounds to it at the precision written
    (8.86 → ±0.005, 99 → ±0.5).  For a contradicted share the totals on which it would
    hold are searched, and a total on which every contradicted share of the same
    denominator holds is named (巴南: 155 for a stated 156).  A rate with a denominator
    but no numerator is checked for feasibility: no whole count giving the rate is a
    contradiction, otherwise unverifiable with the implied count.

    ``figures`` defaults to ``extract_figures(text)``; it is not modified.  Returns
    AUDIT_COLUMNS: claim_type, statement (the text from the first figure involved in the
    claim's sentence to the stated one), stated, computed (NaN when unverifiable),
    precision (the rounding step), status (verified / contradicted / unverifiable),
    explanation (Chinese, with the numbers), start, end.
    """
    text = nfkc(text)
    if figures is None:
        figures = extract_figures(text)
    missing = [c for c in ("value", "unit", "start", "end", "raw", "subject", "indicator")
               if c not in figures.columns]
    if missing:
        raise ValueError(f"figures lacks column(s) {missing}; expected extract_figures output")
    a = _Auditor(text, figures.sort_values("start").reset_index(drop=True))
    a.rates()
    a.ratios()
    a.yoys()
    a.shares()
    a.parts()
    a.averages()
    a.comparisons()
    a.lists()
    a.rules()
    if not a.claims:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("stated", "computed", "precision")
                                          else "int64" if c in ("start", "end") else "str")
                             for c in AUDIT_COLUMNS})
    out = pd.DataFrame(a.claims, columns=AUDIT_COLUMNS)
    out = out.drop_duplicates(["claim_type", "start", "end", "stated"])
    return out.sort_values(["start", "end"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- panel, report, CLI

_UNIT_TYPE_SUFFIX = [(re.compile(r"(?:县|区|市)$"), "county"), (re.compile(r"(?:镇|乡|街道)$"), "town"),
                     (re.compile(r"(?:公司|集团)$"), "soe"),
                     (re.compile(r"(?:局|委|办|支队|大队|中心|分局)$"), "department")]


def figures_to_panel(figures: pd.DataFrame, *, issuer: str, period: str) -> pd.DataFrame:
    """The catalogue figures of a bulletin in the ingest's long format (PANEL_COLUMNS), so
    a bulletin's totals can be compared with the unit tables.

    Kept: figures of kind ``figure`` with an indicator.  A figure with no subject belongs
    to the issuing area (``unit = issuer``, e.g. 巴南区); one whose subject is a unit
    (灵川县, 区应急局) becomes that unit's row with ``parent = issuer`` and a unit type
    guessed from the name's ending.  Sector figures (工贸 15 项) are left out: the panel
    has no sector.  Where a unit and indicator occur twice the first figure is kept
    (a bulletin restates its totals).  Money and lengths are converted to the
    catalogue's unit.  ``source_row`` is the figure's line.  Does not modify ``figures``.
    """
    need = ["value", "unit", "approx", "subject", "indicator", "kind", "line"]
    missing = [c for c in need if c not in figures.columns]
    if missing:
        raise ValueError(f"figures lacks column(s) {missing}; expected extract_figures output")
    period = parse_period(period)
    f = figures.loc[(figures["kind"] == "figure") & (figures["indicator"].fillna("") != "")]
    f = f.loc[f["subject"].fillna("").map(lambda s: resolve_sector(s) is None if s else True)]
    unit = f["subject"].fillna("").where(f["subject"].fillna("") != "", issuer)
    factor = [_factor(u, _UNIT_OF[c]) for u, c in zip(f["unit"], f["indicator"])]
    out = pd.DataFrame({
        "unit": unit.astype("str"),
        "unit_type": [None if u == issuer else _unit_type(u) for u in unit],
        "parent": [None if u == issuer else issuer for u in unit],
        "period": period,
        "indicator": f["indicator"].astype("str"),
        "value": f["value"].to_numpy(dtype="float64") * np.array(factor, dtype="float64"),
        "approx": f["approx"].astype("bool"),
        "source_file": f["source_file"].astype("str") if "source_file" in f else "",
        "source_sheet": None,
        "source_row": f["line"].astype("int64"),
    })
    out = out.drop_duplicates(["unit", "indicator"], keep="first")
    return out.astype({"unit_type": "str", "parent": "str", "source_sheet": "str"})[PANEL_COLUMNS] \
        .reset_index(drop=True)


def _factor(unit: str, target: str) -> float:
    from .numbers import unit_factor
    factor = unit_factor(unit, target) if unit else None
    return float(factor) if factor is not None else 1.0


def _unit_type(name: str) -> str | None:
    return next((t for rx, t in _UNIT_TYPE_SUFFIX if rx.search(name)), None)


def report_lines(name: str, figures: pd.DataFrame, claims: pd.DataFrame) -> list[str]:
    """The short terminal report of one bulletin: counts, then every contradicted and
    unverifiable claim with its explanation."""
    coded = int((figures["indicator"] != "").sum()) if len(figures) else 0
    status = claims["status"].value_counts() if len(claims) else pd.Series(dtype="int64")
    lines = [f"{name}: {len(figures)} figures ({coded} with an indicator); "
             f"{len(claims)} claims: {int(status.get('verified', 0))} verified, "
             f"{int(status.get('contradicted', 0))} contradicted, "
             f"{int(status.get('unverifiable', 0))} unverifiable"]
    for label in ("contradicted", "unverifiable"):
        for r in claims.loc[claims["status"] == label].itertuples() if len(claims) else []:
            lines.append(f"  [{label}] {r.claim_type}: {r.statement[:40]} → {r.explanation}")
    return lines


def configure_parser(p: argparse.ArgumentParser) -> None:
    """``anquan audit FILE... [--output DIR] [--format csv|xlsx] [--issuer NAME --period P]``."""
    p.add_argument("files", nargs="+", help="bulletins: .txt, .docx, .pdf (text layer), .html")
    p.add_argument("--output", help="folder for figures and audit tables (none: report only)")
    p.add_argument("--format", choices=("csv", "xlsx"), default="csv", help="table format")
    p.add_argument("--issuer", help="area that issued the bulletins (e.g. 巴南区): with --period, "
                                    "also write panel.<format> in the ingest's long format")
    p.add_argument("--period", help="period the figures cover (2024-04, 2024Q2, 2024年上半年)")


def run_command(args) -> int:
    """Read, extract and audit every file; print the report; write the tables if asked.
    Returns 0; unreadable files raise errors.InputError (exit 2)."""
    from .io import write_table_atomic
    all_figs, all_claims, lines = [], [], []
    for path in args.files:
        text = read_text(path)
        figs = extract_figures(text)
        claims = audit(text, figs)
        name = Path(path).name
        lines += report_lines(name, figs, claims)
        all_figs.append(figs.assign(source_file=name))
        all_claims.append(claims.assign(source_file=name))
    figures = pd.concat(all_figs, ignore_index=True)
    claims = pd.concat(all_claims, ignore_index=True)
    for line in lines:
        print(line)
    if args.output:
        out = Path(args.output)
        written = [write_table_atomic(figures, out / f"figures.{args.format}"),
                   write_table_atomic(claims, out / f"audit.{args.format}")]
        if args.issuer and args.period:
            panel = figures_to_panel(figures, issuer=args.issuer, period=args.period)
            written.append(write_table_atomic(panel, out / f"panel.{args.format}"))
        print("wrote " + ", ".join(str(w) for w in written))
    return 0
