"""Catalogue concepts in prose: which words name which indicator.

A figure's indicator is chosen from the catalogue's names and aliases, a few bulletin
phrasings (``PHRASES``) and generic words (培训, 演练, 宣贯, 整改) that the campaign
action or the previous figure resolves.  Members of one reporting item that differ only
by unit (sessions/persons, penalties/fines) are told apart by the figure's unit word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..catalogue import INDICATORS
from ..numbers import units_compatible
from ..text import nfkc
from .scan import HEADING

_CAT = INDICATORS.set_index("code")
UNIT_OF = _CAT["unit"].to_dict()
_ACTION_OF = _CAT["action"].to_dict()

# Members of one reporting item that differ by unit; a match on one resolves to the
# member whose unit fits the figure.
GROUPS: list[tuple[str, ...]] = [
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
GROUP_OF = {c: g for g in GROUPS for c in g}

# Words that name a family of indicators; the action or the previous figure decides.
GENERIC: dict[str, tuple[str, ...]] = {
    "培训": ("principal_training_sessions", "principal_training_persons",
             "worker_training_sessions", "worker_training_persons",
             "flexible_training_sessions", "flexible_training_persons",
             "enforcement_training_sessions", "enforcement_training_persons"),
    "演练": ("drills", "drill_enterprises", "drill_participants", "public_drills",
             "grassroots_drills"),
    "宣贯": ("standard_publicity_sessions", "standard_publicity_persons"),
    "整改": (),                                     # rectified: of the hazards just named
}
# 整改 as "rectified": not 整改率, not a document (整改指令书, 整改通知书), not an order
# (限期整改, 责令整改: hazards ordered to be rectified are not rectified ones).
_GENERIC_PATTERNS = {"培训": "培训", "演练": "演练", "宣贯": "宣贯",
                     "整改": r"(?<!限期)(?<!责令)整改(?!率|指令|通知|意见|措施|方案|期限|要求)"}

# Bulletin phrasings the catalogue's aliases do not cover (regex → code).
PHRASES: list[tuple[str, str]] = [
    (r"判定标准(?!宣贯)", "standard_publicity_sessions"),
    (r"从业人员", "worker_training_sessions"),
    (r"灵活用工", "flexible_training_sessions"),
    (r"企业(?:自查)?发现", "major_hazards_found_enterprise"),
    (r"部门(?:检查)?发现", "major_hazards_found_dept"),
    (r"各类(?:安全)?隐患", "general_hazards_found"),
    (r"一般(?:安全|事故)?隐患", "general_hazards_found"),
    (r"火灾隐患", "fire_hazards_found"),
    (r"重大(?:事故|安全)?隐患", "major_hazards_found"),
    (r"(?<!、)检查(?:经营|生产经营)?(?:企业|单位)|检(?=\d)", "units_inspected"),
    (r"燃气管道", "gas_pipeline_renewal"),
    (r"(?:实地|现场)督导检查", "leader_onsite_county"),
    (r"召开区?安委会", "safety_meetings"),
    (r"责令[“\"]?三停", "suspensions"),
]
# Catalogue aliases too vague for prose: the action decides (开展应急演练 is a drill of
# enterprises, of the public or of the grassroots, depending on where it is reported).
_VAGUE_ALIASES = {"开展应急演练", "应急逃生演练", "应急演练次数", "演练次数"}

RECTIFIED = {"major_hazards_found": "major_hazards_rectified",
              "major_hazards_found_dept": "major_hazards_rectified_dept",
              "major_hazards_found_enterprise": "major_hazards_rectified_enterprise",
              "general_hazards_found": "general_hazards_rectified",
              "fire_hazards_found": "fire_hazards_rectified"}

# What a measure word counts when the figure is a count of units or things.
ENTITY_AFTER = re.compile(
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
    generic: str | None        # key of GENERIC


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
    out += [_Concept(re.compile(p), code, None) for p, code in PHRASES]
    out += [_Concept(re.compile(p), None, key) for key, p in _GENERIC_PATTERNS.items()]
    return tuple(out)


@dataclass(frozen=True)
class ConceptMatch:
    start: int
    end: int
    code: str | None
    generic: str | None
    length: int


def concept_matches(text: str) -> list[ConceptMatch]:
    found = []
    for c in _concepts():
        for m in c.pattern.finditer(text):
            found.append(ConceptMatch(m.start(), m.end(), c.code, c.generic, m.end() - m.start()))
    return sorted(found, key=lambda x: (x.end, x.start))


def action_marks(text: str) -> list[tuple[int, str | None]]:
    """Positions where the text enters a campaign action (or leaves one), in order."""
    marks = []
    for m in re.finditer(r"[一二三四五六七八九十]+是|实施|\n", text):
        if m.group() == "\n":
            if HEADING.match(text[m.end():m.end() + 6]):
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
    return unit == "" or units_compatible(unit, UNIT_OF[code])


def resolve(primary: str, unit: str) -> str | None:
    """The member of ``primary``'s group that fits ``unit``: exact unit first, then the
    primary if compatible, then any compatible member."""
    group = GROUP_OF.get(primary, (primary,))
    if UNIT_OF[primary] == unit or _counted_by_enterprise(primary, unit):
        return primary
    exact = [c for c in group if UNIT_OF[c] == unit]
    if exact:
        return exact[0]
    if _fits(primary, unit):
        return primary
    return next((c for c in group if _fits(c, unit)), None)


def _counted_by_enterprise(code: str, unit: str) -> bool:
    """Hazards counted by the enterprise that has them (挂牌重大隐患630家), and
    enterprises counted with 个 (检查企业2个)."""
    if unit in ("家", "家次") and "hazards" in code:
        return True
    return unit == "个" and UNIT_OF[code] in ("家", "家次")


def resolve_generic(key: str, unit: str, prev_code: str | None, action: str | None,
                     clause: str) -> str | None:
    if key == "整改":
        if prev_code in RECTIFIED:
            code = RECTIFIED[prev_code]
            return code if _fits(code, unit) or _counted_by_enterprise(code, unit) else None
        for word, code in (("火灾", "fire_hazards_rectified"), ("一般", "general_hazards_rectified"),
                           ("重大", "major_hazards_rectified")):
            if word in clause:
                return code
        return None
    members = GENERIC[key]
    if prev_code in members:
        code = resolve(prev_code, unit)
        if code is not None:
            return code
    fit = [c for c in members if _fits(c, unit)]
    in_action = [c for c in fit if _ACTION_OF[c] == action]
    fit = in_action or fit
    exact = [c for c in fit if UNIT_OF[c] == unit]
    return (exact or fit or [None])[0]


