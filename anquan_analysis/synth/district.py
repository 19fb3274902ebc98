"""The demo district's design: its name, the indicators every unit reports, its units
(towns, departments, state-owned companies) with their typical size and sector mix.

The indicators are the catalogue's (``catalogue.INDICATORS``): ``CITY_INDICATORS``
selects the 24 that the office's 调度表 carries, in the order of its columns.  That
order is part of the seeded design: it fixes the columns of the bundled files and the
order of the random draws, so it is kept as written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import catalogue

DISTRICT = "示范区"
SOURCE_FILE = "synthetic"
TRUTH_COLUMNS = ["kind", "unit", "period", "indicator", "note"]
UNIT_COLUMNS = ["unit", "unit_type", "parent"]
UNIT_TYPE_ZH = {"town": "镇街", "department": "部门", "soe": "国有公司"}

# The indicators every unit reports: catalogue codes (tests/test_synth.py checks them
# against the catalogue), in the order of the office's 调度表.
CITY_INDICATORS: list[str] = [
    "major_hazards_found", "major_hazards_found_dept", "major_hazards_found_enterprise",
    "major_hazards_rectified", "major_hazards_rectified_dept",
    "major_hazards_rectified_enterprise", "general_hazards_found", "general_hazards_rectified",
    "units_inspected", "principal_training_sessions", "principal_training_persons",
    "standard_publicity_sessions", "standard_publicity_persons", "worker_training_sessions",
    "worker_training_persons", "drill_enterprises", "drills", "assistance_visits",
    "assisted_enterprises", "penalties", "fines", "warning_letters", "accidents", "deaths",
]
# Position of each indicator in CITY_INDICATORS (the last axis of the figures array).
INDICATOR_POSITION = {code: k for k, code in enumerate(CITY_INDICATORS)}
MAJOR_INDICATORS = CITY_INDICATORS[:6]
# Enforcement figures: blank for state-owned companies and for departments without
# enforcement powers (发改委, 国资委 …), as offices leave them.
ENFORCEMENT_INDICATORS = ["assistance_visits", "assisted_enterprises", "penalties", "fines",
                          "warning_letters"]

# --- Reporting units --------------------------------------------------------------
# Department: name, median enterprises supervised, enforces?, sector mix.
_DEPARTMENTS: list[tuple[str, float, bool, dict[str, float]]] = [
    ("区应急局", 1100, True, {"工贸": 0.75, "危险化学品": 0.15, "矿山": 0.10}),
    ("区住房城乡建委", 450, True, {"建筑施工": 0.9, "城镇燃气": 0.1}),
    ("区消防救援支队", 300, True, {"消防": 1.0}),
    ("区市场监管局", 260, True, {"特种设备": 1.0}),
    ("区交通局", 180, True, {"交通运输": 0.8, "道路交通": 0.2}),
    ("区经济信息委", 150, True, {"工贸": 1.0}),
    ("区商务委", 70, True, {"商贸": 1.0}),
    ("区城市管理局", 80, True, {"城镇燃气": 0.6, "其他": 0.4}),
    ("区教委", 45, True, {"教育": 1.0}),
    ("区公安分局", 60, True, {"道路交通": 0.6, "民用爆炸物品": 0.4}),
    ("区文化旅游委", 40, True, {"文化旅游": 1.0}),
    ("区卫生健康委", 35, True, {"医疗卫生": 1.0}),
    ("区农业农村委", 30, True, {"农业农村": 1.0}),
    ("区民政局", 25, True, {"养老": 1.0}),
    ("区生态环境局", 25, True, {"危险化学品": 0.5, "其他": 0.5}),
    ("区水利局", 15, True, {"水利": 1.0}),
    ("区规划和自然资源局", 12, True, {"矿山": 0.5, "其他": 0.5}),
    ("区林业局", 10, True, {"林业": 1.0}),
    ("区国资委", 10, False, {"其他": 1.0}),
    ("区体育局", 8, False, {"文化旅游": 1.0}),
    ("区发展改革委", 6, False, {"其他": 1.0}),
    ("区人力社保局", 5, False, {"其他": 1.0}),
    ("区司法局", 4, False, {"其他": 1.0}),
    ("区科技局", 4, False, {"其他": 1.0}),
    ("区统计局", 3, False, {"其他": 1.0}),
]
# The departments of the sectors that 巴南 reports at 0 (文旅, 养老, 医疗, 教育, 商务).
QUIET_SECTORS = ["文化旅游", "养老", "医疗卫生", "教育", "商贸"]
_TOWNS = [
    "青石街道", "桂花街道", "南湖街道", "东山街道", "北泉街道", "文峰街道", "白鹤镇", "双河镇",
    "石门镇", "黄桷镇", "长岭镇", "丰收镇", "新桥镇", "金竹镇", "云雾镇", "安平镇", "梨园镇",
    "清溪镇", "龙岗镇", "高峰镇", "杨柳镇", "凤凰镇", "天星镇", "三合镇", "永兴镇", "太平镇",
]
_TOWN_MIX = {"工贸": 0.30, "建筑施工": 0.15, "商贸": 0.18, "消防": 0.10, "城镇燃气": 0.03,
             "养老": 0.03, "文化旅游": 0.04, "教育": 0.03, "医疗卫生": 0.03, "农业农村": 0.06,
             "危险化学品": 0.02, "其他": 0.03}
_SOES = [("瑞源公司", 120), ("滨江公司", 60), ("城投公司", 40), ("交旅公司", 25),
         ("物流园公司", 15), ("水务公司", 12), ("产业园公司", 10), ("农发公司", 8),
         ("建工公司", 50), ("文旅集团", 12)]
_TOWN_SIZE = 90.0           # median enterprises supervised by a town; towns vary most
SIZE_SIGMA = {"town": 0.75, "department": 0.3, "soe": 0.4}
_SOE_MIX = {"建筑施工": 0.5, "交通运输": 0.15, "城镇燃气": 0.1, "工贸": 0.1, "其他": 0.15}
SECTOR_NAMES = list(catalogue.SECTORS["sector"])


def district_units(n_units: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Unit table, median size, enforces flag, sector-mix matrix (units × SECTOR_NAMES).
    About 40 % towns, 44 % departments, 16 % companies, as 巴南's 50 units."""
    n_town = round(0.40 * n_units)
    n_soe = round(0.16 * n_units)
    n_dept = n_units - n_town - n_soe
    depts = list(_DEPARTMENTS[:n_dept]) + [
        (f"区专项工作组{k + 1}", 5, False, {"其他": 1.0}) for k in range(n_dept - len(_DEPARTMENTS))]
    towns = _TOWNS[:n_town] + [f"新区第{k + 1}街道" for k in range(n_town - len(_TOWNS))]
    soes = list(_SOES[:n_soe]) + [(f"区属第{k + 1}公司", 15) for k in range(n_soe - len(_SOES))]
    rows = ([(t, "town", _TOWN_SIZE, True, _TOWN_MIX) for t in towns]
            + [(d, "department", m, e, mix) for d, m, e, mix in depts]
            + [(s, "soe", m, False, _SOE_MIX) for s, m in soes])
    units = pd.DataFrame({"unit": [r[0] for r in rows], "unit_type": [r[1] for r in rows],
                          "parent": DISTRICT})
    size = np.array([r[2] for r in rows])
    enforces = np.array([r[3] for r in rows])
    mix = np.array([[r[4].get(s, 0.0) for s in SECTOR_NAMES] for r in rows])
    return units, size, enforces, mix / mix.sum(axis=1, keepdims=True)


def sheet_name(period: str) -> str:
    """The name of a month's sheet in the office's workbook: ``2024-04`` → 2024年4月."""
    return f"{int(period[:4])}年{int(period[5:])}月"
