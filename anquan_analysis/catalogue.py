"""The indicator catalogue, sectors, unit types and the arithmetic rules between
indicators, kept as data.

Every figure that the five seed bulletins report (``../shared/seeds``) has an
indicator here; the aliases are the phrasings seen in those bulletins and in
office spreadsheets.  ``INDICATORS``, ``SECTORS``, ``UNIT_TYPES`` and ``RULES`` are
DataFrames so that notebooks can show them and tests can query them.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from .text import normalise_label

# Action groups of the campaign (治本攻坚“八大/十大行动”), in bulletin order.
ACTIONS: dict[str, str] = {
    "responsibility": "安全生产“四个责任”落实",
    "principal_training": "主要负责人安全教育培训",
    "standard_publicity": "重大事故隐患判定标准宣贯",
    "hazard_clearance": "重大事故隐患动态清零",
    "technology": "安全科技支撑和工程治理",
    "workforce": "从业人员安全素质能力提升",
    "management": "安全管理体系建设",
    "enforcement": "精准执法和帮扶、打非治违",
    "public_awareness": "全民安全素质提升",
    "basic_capacity": "基层安全基础能力提升",
    "outcomes": "事故情况",
}

# code, 中文名, unit, action, aliases (seen in the seeds or typical office headers)
_INDICATORS: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    # responsibility
    ("leader_onsite_city", "市级党委政府负责同志现场督导检查", "次", "responsibility",
     ("市级党委政府负责同志现场督导检查次数", "市级领导现场督导检查")),
    ("leader_onsite_county", "县级党委政府负责同志现场督导检查", "次", "responsibility",
     ("县级党委政府负责同志现场督导检查次数", "县级领导现场督导检查", "区委区政府主要负责同志实地督导检查",
      "党委政府负责同志现场督导检查")),
    ("investment", "治本攻坚项目资金投入", "万元", "responsibility",
     ("政府和企业投入治本攻坚项目资金", "资金投入", "企业三年行动投入", "治本攻坚资金投入")),
    ("safety_meetings", "安委会及安全生产专题会议", "次", "responsibility",
     ("安全生产专题会", "安委会全体会议", "安全生产专题会议", "专题研究")),
    ("supervision_rounds", "督导帮扶轮次", "轮次", "responsibility",
     ("全覆盖式督导帮扶", "督导轮次")),
    ("warning_notices", "安全提示函", "份", "responsibility", ("下发安全提示函",)),
    # principal training
    ("principal_training_sessions", "主要负责人安全教育培训场次", "场", "principal_training",
     ("主要负责人安全教育培训", "主要负责人培训场次", "主要负责人安全教育培训次数", "主要负责人培训")),
    ("principal_training_persons", "主要负责人安全教育培训人次", "人次", "principal_training",
     ("主要负责人培训人次", "主要负责人安全教育培训人数", "主要负责人培训人数")),
    # standard publicity
    ("standard_publicity_sessions", "重大事故隐患判定标准宣贯场次", "场", "standard_publicity",
     ("判定标准宣贯", "判定标准宣贯场次", "重大事故隐患判定标准宣贯", "判定标准宣贯解读次数")),
    ("standard_publicity_persons", "重大事故隐患判定标准宣贯人次", "人次", "standard_publicity",
     ("判定标准宣贯人次", "判定标准宣贯人数")),
    # hazard clearance
    ("units_inspected", "部门检查生产经营单位", "家次", "hazard_clearance",
     ("检查生产经营单位", "部门检查生产经营单位家次", "检查企业家次", "检查单位")),
    ("principal_led_inspections", "主要负责人带队检查次数", "次", "hazard_clearance",
     ("主要负责人带队检查", "生产经营单位主要负责人带队检查")),
    ("principal_led_enterprises", "主要负责人带队检查企业数", "家", "hazard_clearance",
     ("主要负责人带队检查企业",)),
    ("major_hazards_found", "重大事故隐患排查数", "项", "hazard_clearance",
     ("重大事故隐患", "排查重大事故隐患", "重大隐患排查数", "排查重大隐患", "重大事故隐患数",
      "重大隐患", "发现重大事故隐患", "排查整治重大事故隐患")),
    ("major_hazards_rectified", "重大事故隐患整改数", "项", "hazard_clearance",
     ("重大隐患整改数", "重大事故隐患已整改", "完成整改重大事故隐患", "已整改重大隐患")),
    ("major_hazards_found_dept", "部门检查发现重大事故隐患", "项", "hazard_clearance",
     ("部门检查发现", "部门发现重大隐患", "部门检查发现重大隐患")),
    ("major_hazards_found_enterprise", "企业自查发现重大事故隐患", "项", "hazard_clearance",
     ("企业自查发现", "企业发现重大隐患", "企业自查发现重大隐患", "企业自查上报")),
    ("major_hazards_rectified_dept", "部门检查发现重大事故隐患整改数", "项", "hazard_clearance",
     ("部门发现重大隐患整改数", "部门检查发现已整改")),
    ("major_hazards_rectified_enterprise", "企业自查发现重大事故隐患整改数", "项", "hazard_clearance",
     ("企业发现重大隐患整改数", "企业自查发现已整改")),
    ("general_hazards_found", "一般隐患排查数", "项", "hazard_clearance",
     ("一般隐患", "排查一般隐患", "一般事故隐患排查数", "各类隐患排查数")),
    ("general_hazards_rectified", "一般隐患整改数", "项", "hazard_clearance",
     ("一般隐患已整改", "一般事故隐患整改数", "各类隐患整改数")),
    ("fire_hazards_found", "火灾隐患排查数", "处", "hazard_clearance", ("发现火灾隐患",)),
    ("fire_hazards_rectified", "火灾隐患整改数", "处", "hazard_clearance", ("督促整改火灾隐患",)),
    # technology
    ("monitoring_systems", "安装安全风险监测预警系统企业", "家", "technology",
     ("安装监测预警系统企业", "监测预警系统", "安装安全风险监测预警系统")),
    ("upgrade_projects", "安全升级改造、淘汰落后产能及设备工艺", "项", "technology",
     ("升级改造", "安全升级改造", "淘汰落后产能及设备工艺")),
    ("fire_alarm_devices", "早期火灾报警和灭火装置安装配备", "个", "technology",
     ("火灾报警和灭火装置",)),
    ("gas_pipeline_renewal", "城市燃气管道老化更新改造", "公里", "technology",
     ("燃气管道更新改造", "城市燃气管道更新改造")),
    ("elevators_inspected", "排查检查电梯", "台", "technology", ("电梯排查",)),
    ("fire_facility_upgrades", "老旧场所消防设施升级改造", "处", "technology",
     ("老旧消防场所升级改造", "消防设施升级改造")),
    # workforce
    ("worker_training_sessions", "从业人员安全技能培训场次", "场", "workforce",
     ("从业人员安全技能培训", "从业人员培训场次", "从业人员培训")),
    ("worker_training_persons", "从业人员安全技能培训人次", "人次", "workforce",
     ("从业人员培训人次", "从业人员安全技能培训人数", "从业人员培训人数")),
    ("flexible_training_sessions", "外包外租、劳务派遣、灵活用工人员培训场次", "场", "workforce",
     ("灵活用工人员培训", "外包外租劳务派遣灵活用工人员培训", "灵活用工人员培训场次")),
    ("flexible_training_persons", "外包外租、劳务派遣、灵活用工人员培训人次", "人次", "workforce",
     ("灵活用工人员培训人次", "灵活用工人员培训人数")),
    ("drill_enterprises", "开展应急逃生演练企业", "家", "workforce",
     ("应急逃生演练企业", "演练企业", "组织应急逃生演练企业", "开展应急演练企业")),
    ("drills", "应急逃生演练次数", "次", "workforce",
     ("应急演练次数", "演练次数", "应急逃生演练", "开展应急演练")),
    ("drill_participants", "应急演练参与人次", "人次", "workforce", ("演练人次", "应急演练人次")),
    # management
    ("standardized_enterprises", "创建安全生产标准化管理体系企业", "家", "management",
     ("标准化创建", "标准化创建企业", "安全生产标准化管理体系企业")),
    ("benchmark_enterprises", "安全生产标准化建设标杆企业", "家", "management",
     ("标杆企业", "选树标杆企业")),
    # enforcement
    ("assistance_visits", "帮扶指导高危行业领域生产经营单位次数", "次", "enforcement",
     ("帮扶指导", "帮扶指导次数", "指导帮扶重点企业")),
    ("assisted_enterprises", "帮扶企业", "家", "enforcement",
     ("帮扶企业数", "帮扶高危行业企业", "帮扶指导企业")),
    ("enforcement_training_sessions", "基层执法人员能力培训场次", "场", "enforcement",
     ("基层执法人员能力培训", "执法人员培训", "基层安全监管执法人员能力培训")),
    ("enforcement_training_persons", "基层执法人员能力培训人次", "人", "enforcement",
     ("执法人员培训人数", "基层执法人员培训人数")),
    ("law_enforcement_inspections", "执法检查", "次", "enforcement", ("执法检查次数",)),
    ("covert_inspections", "暗查暗访次数", "次", "enforcement", ("暗查暗访",)),
    ("covert_inspected_enterprises", "暗查暗访企业", "家", "enforcement", ("暗查暗访企业数",)),
    ("penalties", "行政处罚", "次", "enforcement", ("行政处罚次数", "实施行政处罚", "处罚")),
    ("fines", "罚款", "万元", "enforcement", ("罚款金额", "处罚款", "行政处罚金额")),
    ("suspensions", "责令停产整顿", "家", "enforcement", ("停产整顿", "责令停产停业整顿")),
    ("exposed_enterprises", "曝光、约谈、联合惩戒企业", "家", "enforcement",
     ("曝光约谈惩戒", "曝光约谈联合惩戒企业", "曝光约谈惩戒企业")),
    ("warning_letters", "安全生产警示函", "份", "enforcement", ("警示函", "发送安全生产警示函")),
    ("typical_cases_published", "公布典型执法案例", "个", "enforcement", ("典型执法案例",)),
    ("area_interviews", "约谈通报有关地区及部门", "次", "enforcement", ("约谈通报地区部门",)),
    ("judicial_transfers", "移送司法机关", "人", "enforcement", ("移送司法",)),
    # public awareness
    ("publicity_audience", "安全宣传受众", "人次", "public_awareness",
     ("安全宣传", "安全宣传人次", "宣传受众")),
    ("media_broadcasts", "主流媒体播放安全宣传专题栏目", "次", "public_awareness",
     ("媒体宣传", "专题栏目播放")),
    ("public_drills", "全民应急演练场次", "场", "public_awareness", ("应急演练场次",)),
    # basic capacity
    ("rescue_teams", "组建基层应急救援队伍", "支", "basic_capacity",
     ("基层应急救援队伍", "应急救援队伍")),
    ("grassroots_drills", "基层应急演练", "场", "basic_capacity", ("基层应急演练场次",)),
    # outcomes
    ("accidents", "生产安全事故", "起", "outcomes", ("事故起数", "发生生产安全事故", "事故")),
    ("deaths", "死亡人数", "人", "outcomes", ("死亡", "事故死亡人数")),
]

# Finding counts: what inspection finds, the counts a unit that does not look reports
# low or as 0 (重大事故隐患, 一般隐患, 火灾隐患 排查数), in the order a key indicator is
# chosen from the data when the office's settings name none (the first present).
# Each with the indicator counting those rectified.  Zero reporting, low outliers and
# pinned rectification rates run on every finding count a panel holds.
FINDING_COUNTS: tuple[str, ...] = ("major_hazards_found", "general_hazards_found",
                                   "fire_hazards_found")
RECTIFIED_OF: dict[str, str] = {"major_hazards_found": "major_hazards_rectified",
                                "general_hazards_found": "general_hazards_rectified",
                                "fire_hazards_found": "fire_hazards_rectified"}

INDICATORS = pd.DataFrame(
    [
        {"code": c, "name_zh": n, "unit": u, "action": a, "action_zh": ACTIONS[a], "aliases": al,
         "finding_count": c in FINDING_COUNTS, "rectified": RECTIFIED_OF.get(c, "")}
        for c, n, u, a, al in _INDICATORS
    ]
)

# 行业领域, with the names offices use for them.
_SECTORS: list[tuple[str, tuple[str, ...]]] = [
    ("矿山", ("非煤矿山", "煤矿", "矿山行业")),
    ("危险化学品", ("危化", "危化品", "危险化学品行业")),
    ("工贸", ("工贸行业", "冶金工贸")),
    ("建筑施工", ("建设施工", "建筑施工(含隧道施工)", "建筑", "房屋市政工程")),
    ("消防", ("消防安全", "火灾防控")),
    ("道路交通", ("道路交通安全",)),
    ("交通运输", ("交通", "水上交通")),
    ("城镇燃气", ("燃气",)),
    ("特种设备", ("特种设备(特种作业)", "特种作业")),
    ("民用爆炸物品", ("民用爆炸品", "民爆")),
    ("文化旅游", ("文旅", "文旅系统")),
    ("教育", ("教育系统",)),
    ("医疗卫生", ("医疗", "医疗系统", "卫生健康")),
    ("养老", ("养老系统", "养老机构")),
    ("商贸", ("商务", "商务系统")),
    ("农业农村", ("农业",)),
    ("水利", ()),
    ("林业", ()),
    ("其他", ("其它",)),
]
SECTORS = pd.DataFrame([{"sector": s, "aliases": a} for s, a in _SECTORS])

UNIT_TYPES = pd.DataFrame(
    [
        {"code": "county", "name_zh": "县(市、区)", "aliases": ("县区", "县市区", "区县", "县", "区")},
        {"code": "town", "name_zh": "镇街", "aliases": ("镇", "街道", "乡镇", "镇/街道", "乡镇街道")},
        {"code": "department", "name_zh": "部门", "aliases": ("行业部门", "区级部门", "市级部门", "县级部门")},
        {"code": "soe", "name_zh": "国有公司", "aliases": ("区属国有公司", "国企", "国有企业", "市属国有公司")},
    ]
)

# The arithmetic that must hold in any table.  kind:
#   le        lhs ≤ rhs                       (a count that cannot exceed another)
#   sum       sum(lhs parts) = rhs            (parts add up to the total)
#   requires  lhs > 0 only when rhs > 0       (fines need penalties)
#   monotone  a cumulative (累计) series of lhs never decreases
_RULES: list[tuple[str, str, tuple[str, ...], str, str]] = [
    ("major_rectified_le_found", "le", ("major_hazards_rectified",), "major_hazards_found",
     "重大事故隐患整改数不应超过排查数"),
    ("major_rectified_dept_le_found_dept", "le", ("major_hazards_rectified_dept",),
     "major_hazards_found_dept", "部门检查发现的重大隐患整改数不应超过其发现数"),
    ("major_rectified_ent_le_found_ent", "le", ("major_hazards_rectified_enterprise",),
     "major_hazards_found_enterprise", "企业自查发现的重大隐患整改数不应超过其发现数"),
    ("general_rectified_le_found", "le", ("general_hazards_rectified",), "general_hazards_found",
     "一般隐患整改数不应超过排查数"),
    ("fire_rectified_le_found", "le", ("fire_hazards_rectified",), "fire_hazards_found",
     "火灾隐患整改数不应超过排查数"),
    ("major_found_sources_sum", "sum", ("major_hazards_found_dept", "major_hazards_found_enterprise"),
     "major_hazards_found", "部门检查发现数与企业自查发现数之和应等于重大隐患排查数"),
    ("major_rectified_sources_sum", "sum",
     ("major_hazards_rectified_dept", "major_hazards_rectified_enterprise"),
     "major_hazards_rectified", "按来源的整改数之和应等于重大隐患整改数"),
    ("principal_persons_ge_sessions", "le", ("principal_training_sessions",),
     "principal_training_persons", "主要负责人培训人次不应少于场次"),
    ("publicity_persons_ge_sessions", "le", ("standard_publicity_sessions",),
     "standard_publicity_persons", "判定标准宣贯人次不应少于场次"),
    ("worker_persons_ge_sessions", "le", ("worker_training_sessions",), "worker_training_persons",
     "从业人员培训人次不应少于场次"),
    ("flexible_persons_ge_sessions", "le", ("flexible_training_sessions",),
     "flexible_training_persons", "灵活用工人员培训人次不应少于场次"),
    ("enforcement_persons_ge_sessions", "le", ("enforcement_training_sessions",),
     "enforcement_training_persons", "执法人员培训人数不应少于场次"),
    ("flexible_le_worker_sessions", "le", ("flexible_training_sessions",), "worker_training_sessions",
     "灵活用工人员培训场次是从业人员培训的一部分，不应超过后者"),
    ("flexible_le_worker_persons", "le", ("flexible_training_persons",), "worker_training_persons",
     "灵活用工人员培训人次是从业人员培训的一部分，不应超过后者"),
    ("drills_ge_drill_enterprises", "le", ("drill_enterprises",), "drills",
     "演练次数不应少于开展演练的企业数"),
    ("suspensions_le_inspected", "le", ("suspensions",), "units_inspected",
     "责令停产整顿的企业数不应超过检查的生产经营单位数"),
    ("deaths_need_accidents", "requires", ("deaths",), "accidents", "有死亡人数必有事故起数"),
    ("fines_need_penalties", "requires", ("fines",), "penalties", "有罚款金额必有行政处罚"),
    ("cumulative_never_decreases", "monotone", ("*",), "", "累计数不应减少"),
]
RULES = pd.DataFrame(
    [
        {"rule": r, "kind": k, "lhs": lhs, "rhs": rhs, "description_zh": d}
        for r, k, lhs, rhs, d in _RULES
    ]
)


@lru_cache(maxsize=1)
def _indicator_lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    # Codes and Chinese names win over aliases when an alias collides with them.
    for row in INDICATORS.itertuples():
        for alias in row.aliases:
            table.setdefault(normalise_label(alias), row.code)
    for row in INDICATORS.itertuples():
        table[normalise_label(row.name_zh)] = row.code
        table[normalise_label(row.code)] = row.code
    return table


def resolve_indicator(label) -> str | None:
    """The indicator code for a header, Chinese name, alias or code; ``None`` if unknown."""
    return _indicator_lookup().get(normalise_label(label))


@lru_cache(maxsize=1)
def _sector_lookup() -> dict[str, str]:
    table = {}
    for row in SECTORS.itertuples():
        table[normalise_label(row.sector)] = row.sector
        for alias in row.aliases:
            table.setdefault(normalise_label(alias), row.sector)
    return table


def resolve_sector(label) -> str | None:
    """The canonical sector (行业领域) for a name or alias; ``None`` if unknown."""
    return _sector_lookup().get(normalise_label(label))


@lru_cache(maxsize=1)
def _unit_type_lookup() -> dict[str, str]:
    table = {}
    for row in UNIT_TYPES.itertuples():
        table[normalise_label(row.code)] = row.code
        table[normalise_label(row.name_zh)] = row.code
        for alias in row.aliases:
            table.setdefault(normalise_label(alias), row.code)
    return table


def resolve_unit_type(label) -> str | None:
    """The unit-type code (county, town, department, soe) for a label; ``None`` if unknown."""
    return _unit_type_lookup().get(normalise_label(label))


def finding_counts(indicators) -> list[str]:
    """The finding counts (``FINDING_COUNTS``) among ``indicators``, in catalogue order."""
    held = set(indicators)
    return [c for c in FINDING_COUNTS if c in held]


def indicator(code: str) -> pd.Series:
    """The catalogue row of one indicator; KeyError naming the code if unknown."""
    hit = INDICATORS.loc[INDICATORS["code"] == code]
    if hit.empty:
        raise KeyError(f"unknown indicator code {code!r}")
    return hit.iloc[0]


@lru_cache(maxsize=1)
def _lookups() -> tuple[dict, dict, dict]:
    # Plain dicts: checks map these over every row of a table, where a DataFrame
    # lookup per call cost seconds at province scale.
    return (dict(zip(INDICATORS["code"], INDICATORS["name_zh"].astype(str))),
            dict(zip(INDICATORS["code"], INDICATORS["unit"].astype(str))),
            dict(zip(UNIT_TYPES["code"], UNIT_TYPES["name_zh"].astype(str))))


def indicator_name(code: str) -> str:
    """The Chinese name of an indicator code (the code itself if unknown)."""
    hit = _lookups()[0].get(code) if isinstance(code, str) else None
    return hit if hit is not None else str(code)


def indicator_unit(code: str) -> str:
    """The measurement unit (项, 场, 人次, 万元 …) of an indicator code ('' if unknown)."""
    hit = _lookups()[1].get(code) if isinstance(code, str) else None
    return hit if hit is not None else ""


def unit_type_name(code) -> str:
    """The Chinese label of a unit-type code."""
    hit = _lookups()[2].get(code) if isinstance(code, str) else None
    return hit if hit is not None else ("" if code is None else str(code))
