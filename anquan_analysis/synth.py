"""A seeded synthetic district, calibrated to the seed bulletins, with injected anomalies
and their ground truth; plus fast generators of national-scale panels and ledgers.

``make_city`` builds a 巴南-like district (about 50 reporting units: 镇街, district
departments, state-owned companies) reporting about 24 indicators monthly, the
hazard ledger behind its major-hazard figures, the enterprises each unit supervises,
and a ``truth`` table naming every injected anomaly by the check id that should find
it.  The clean model, per unit i and month t:

    enterprises_i           lognormal around a size typical of the unit (区应急局 largest)
    effort_i                Gamma(shape 6, mean 1), clipped to [0.35, 2.2] (overdispersion)
    major hazards found     Poisson(enterprises_i × rate × effort_i × month_t × Gamma(8)/8)
    enterprise share        Beta(14, 26) per unit (mean 0.35)
    rectified               Binomial per hazard, 65–90 % for department finds, +10 points
                            for enterprise finds (about 80 % overall)
    other indicators        Poisson around enterprises_i × activity_i × a per-indicator
                            rate, with month-to-month Gamma noise; persons = sessions +
                            Poisson(sessions × (class size − 1)), so every catalogue rule
                            holds in clean units

``python -m anquan_analysis.synth --output data/raw/synthetic_city`` writes the
bundled files (see that folder's README.md).  Everything is a function of the seed:
files are byte-identical across runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import catalogue
from .dataset import EXPOSURE_COLUMNS, LEDGER_COLUMNS, PANEL_COLUMNS
from .io import atomic_path, write_table_atomic

DISTRICT = "示范区"
SOURCE_FILE = "synthetic"
TRUTH_COLUMNS = ["kind", "unit", "period", "indicator", "note"]
UNIT_COLUMNS = ["unit", "unit_type", "parent"]
UNIT_TYPE_ZH = {"town": "镇街", "department": "部门", "soe": "国有公司"}

# The indicators every unit reports, in the order of the office's 调度表.
INDICATORS = [
    "major_hazards_found", "major_hazards_found_dept", "major_hazards_found_enterprise",
    "major_hazards_rectified", "major_hazards_rectified_dept",
    "major_hazards_rectified_enterprise", "general_hazards_found", "general_hazards_rectified",
    "units_inspected", "principal_training_sessions", "principal_training_persons",
    "standard_publicity_sessions", "standard_publicity_persons", "worker_training_sessions",
    "worker_training_persons", "drill_enterprises", "drills", "assistance_visits",
    "assisted_enterprises", "penalties", "fines", "warning_letters", "accidents", "deaths",
]
_IX = {code: k for k, code in enumerate(INDICATORS)}
_MAJOR = INDICATORS[:6]
# Enforcement figures: blank for state-owned companies and for departments without
# enforcement powers (发改委, 国资委 …), as offices leave them.
_ENFORCEMENT = ["assistance_visits", "assisted_enterprises", "penalties", "fines",
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
_QUIET_SECTORS = ["文化旅游", "养老", "医疗卫生", "教育", "商贸"]
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
_SIZE_SIGMA = {"town": 0.75, "department": 0.3, "soe": 0.4}
_SOE_MIX = {"建筑施工": 0.5, "交通运输": 0.15, "城镇燃气": 0.1, "工贸": 0.1, "其他": 0.15}
_SECTORS = list(catalogue.SECTORS["sector"])

# --- Calibration (see data/raw/synthetic_city/README.md) ----------------------------
_RATE_MAJOR = 0.0020        # effective major hazards per enterprise per month, before the step
_EFFORT_SHAPE = 6.0         # Gamma shape of the unit effort multiplier (CV 0.41)
_EFFORT_CLIP = (0.35, 2.2)  # clean units: never near an injected low outlier (0.05)
_LEAD_EFFORT = 1.8          # 区应急局 leads the campaign (领导小组办公室): at least this effort
# A kind is testable only where many hazards are expected: units chosen for it
# supervise enough enterprises (raised if needed) to expect at least this many
# effective hazards a year at their own effort (at normal effort for low/zero).
_MIN_YEARLY = {"low_outlier": 30.0, "zero_report": 30.0, "pinned_rate": 50.0,
               "low_self_report": 40.0}
# A surge unit expects at least this many hazards in each month before the step (a
# spike from 1 to 5 is Poisson noise; 巴南's top units found 4–8 a month), and
# reports _SURGE_FACTOR × its own earlier monthly mean in the surge month.
_SURGE_BASELINE = 3.0
_SURGE_FACTOR = 5.0
_MONTH_SHAPE = 8.0          # month-to-month Gamma noise on the hazard rate (CV 0.35)
_STEP = 2.5                 # district-wide step after the district head's meeting (group_shift)
# Other indicators: rate per enterprise per month (× the unit's activity multiplier).
_ACTIVITY_RATES = {
    "units_inspected": 0.15, "principal_training_sessions": 0.006,
    "standard_publicity_sessions": 0.004, "worker_training_sessions": 0.008,
    "drill_enterprises": 0.012, "assistance_visits": 0.02, "penalties": 0.003,
    "warning_letters": 0.0015, "accidents": 0.00015,
}
_CLASS_SIZE = {"principal_training_persons": 60.0, "standard_publicity_persons": 45.0,
               "worker_training_persons": 70.0}
_FINE_PER_PENALTY = 0.7     # 万元 (桂林: 300 penalties, 210万元)


@dataclass
class SynthCity:
    """A synthetic district.

    panel     long figures (dataset.PANEL_COLUMNS), as ``reports_clean.csv`` holds them
    exposure  enterprises supervised (dataset.EXPOSURE_COLUMNS); sector '' = all sectors
    ledger    one row per major hazard (dataset.LEDGER_COLUMNS, ledger.py's clean forms)
    truth     one row per injected anomaly: kind (a check id), unit, period, indicator, note
    units     unit, unit_type, parent
    """

    panel: pd.DataFrame
    exposure: pd.DataFrame
    ledger: pd.DataFrame
    truth: pd.DataFrame
    units: pd.DataFrame
    start: str = "2024-01"
    n_months: int = 12

    @property
    def periods(self) -> list[str]:
        return [str(p) for p in pd.period_range(self.start, periods=self.n_months, freq="M")]


# ---------------------------------------------------------------------------------
# Units and exposure


def _units(n_units: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Unit table, median size, enforces flag, sector-mix matrix (units × SECTORS).
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
    mix = np.array([[r[4].get(s, 0.0) for s in _SECTORS] for r in rows])
    return units, size, enforces, mix / mix.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------
# The clean figures


def _activity(rng, enterprises, n_months, shape=6.0):
    """Unit-level activity multiplier × month noise, units × months (mean 1 each)."""
    unit = np.clip(rng.gamma(4.0, 0.25, size=len(enterprises)), 0.3, 3.0)
    month = rng.gamma(shape, 1.0 / shape, size=(len(enterprises), n_months))
    return enterprises[:, None] * unit[:, None] * month


def _persons(rng, sessions, size):
    """Persons trained: every session has at least one person, classes of ~size."""
    return sessions + rng.poisson(sessions * np.maximum(size - 1.0, 0.0))


def _clean_figures(rng, units, enterprises, enforces, n_months, month_factor, effort):
    """Wide array units × months × INDICATORS (NaN = not reported) and the major-hazard
    expectation per cell."""
    n = len(units)
    v = np.full((n, n_months, len(INDICATORS)), np.nan)
    lam = (enterprises[:, None] * _RATE_MAJOR * effort[:, None] * month_factor[None, :]
           * rng.gamma(_MONTH_SHAPE, 1.0 / _MONTH_SHAPE, size=(n, n_months)))

    def act(code):
        return rng.poisson(_ACTIVITY_RATES[code] * _activity(rng, enterprises, n_months))

    inspected = act("units_inspected")
    v[..., _IX["units_inspected"]] = inspected
    per_inspection = np.clip(rng.gamma(4.0, 0.25, size=n), 0.3, 3.0)[:, None] * 0.9
    general = rng.poisson(inspected * per_inspection * rng.gamma(6.0, 1 / 6.0, size=(n, n_months)))
    v[..., _IX["general_hazards_found"]] = general
    v[..., _IX["general_hazards_rectified"]] = rng.binomial(
        general, rng.uniform(0.88, 0.99, size=n)[:, None])
    for sessions_code, persons_code in (
            ("principal_training_sessions", "principal_training_persons"),
            ("standard_publicity_sessions", "standard_publicity_persons"),
            ("worker_training_sessions", "worker_training_persons")):
        sessions = act(sessions_code)
        size = _CLASS_SIZE[persons_code] * rng.lognormal(0.0, 0.35, size=n)[:, None]
        v[..., _IX[sessions_code]] = sessions
        v[..., _IX[persons_code]] = _persons(rng, sessions, size * rng.gamma(5.0, 0.2, size=(n, n_months)))
    drill_ent = act("drill_enterprises")
    v[..., _IX["drill_enterprises"]] = drill_ent
    v[..., _IX["drills"]] = drill_ent + rng.poisson(0.3 * drill_ent)
    visits = act("assistance_visits")
    v[..., _IX["assistance_visits"]] = visits
    v[..., _IX["assisted_enterprises"]] = rng.binomial(visits, 0.85)
    penalties = act("penalties")
    v[..., _IX["penalties"]] = penalties
    # A fine per penalty ~ Exponential(0.7万元) summed: Gamma(penalties, 0.7); 2 decimals.
    fines = np.round(rng.gamma(np.maximum(penalties, 1), _FINE_PER_PENALTY), 2)
    v[..., _IX["fines"]] = np.where(penalties > 0, np.maximum(fines, 0.01), 0.0)
    v[..., _IX["warning_letters"]] = act("warning_letters")
    accidents = rng.poisson(_ACTIVITY_RATES["accidents"] * enterprises[:, None] * np.ones(n_months))
    v[..., _IX["accidents"]] = accidents
    v[..., _IX["deaths"]] = rng.binomial(accidents, 0.85) + rng.poisson(0.1 * accidents)
    no_enforcement = ~enforces
    for code in _ENFORCEMENT:
        v[no_enforcement, :, _IX[code]] = np.nan
    return v, lam


def _major_split(rng, found, p_enterprise, r_dept):
    """found → (found_dept, found_ent, rect_dept, rect_ent), per cell."""
    ent = rng.binomial(found, p_enterprise[:, None])
    dept = found - ent
    rect_dept = rng.binomial(dept, r_dept[:, None])
    rect_ent = rng.binomial(ent, np.minimum(r_dept + 0.10, 0.97)[:, None])
    return dept, ent, rect_dept, rect_ent


def _set_major(v, dept, ent, rect_dept, rect_ent):
    v[..., _IX["major_hazards_found_dept"]] = dept
    v[..., _IX["major_hazards_found_enterprise"]] = ent
    v[..., _IX["major_hazards_found"]] = dept + ent
    v[..., _IX["major_hazards_rectified_dept"]] = rect_dept
    v[..., _IX["major_hazards_rectified_enterprise"]] = rect_ent
    v[..., _IX["major_hazards_rectified"]] = rect_dept + rect_ent


# ---------------------------------------------------------------------------------
# Choosing the anomalous units (disjoint)


class _Picker:
    """Draws disjoint sets of unit indices; a unit once taken is never offered again."""

    def __init__(self, rng, n):
        self.rng = rng
        self.free = np.ones(n, dtype=bool)

    def block(self, idx):
        self.free[np.asarray(idx, dtype=int)] = False

    def take(self, k, candidates, *, top=None, score=None):
        """k free units among ``candidates`` (bool mask); with ``top`` and ``score``,
        drawn at random among the ``top`` free candidates of highest score."""
        pool = np.flatnonzero(candidates & self.free)
        if score is not None:
            pool = pool[np.argsort(-score[pool], kind="stable")]
            if top is not None:
                pool = pool[:max(top, k)]
        if len(pool) < k:
            raise ValueError(f"not enough units to inject anomalies: need {k}, have {len(pool)}; "
                             "use n_units >= 40")
        chosen = np.sort(self.rng.choice(pool, size=k, replace=False))
        self.free[chosen] = False
        return chosen


def _round5(x):
    """Values ≥ 10 rounded to the nearest multiple of 5 (monotone, so a ≤ b survives)."""
    return np.where(x >= 10, np.floor(x / 5.0 + 0.5) * 5.0, x)


def _fabricate(rng, shape, k_low):
    """Figures with uniform first digits: d × 10^k + uniform tail, k ∈ {k_low, k_low + 1}."""
    digit = rng.integers(1, 10, size=shape)
    k = k_low + rng.integers(0, 2, size=shape)
    scale = 10.0 ** k
    return digit * scale + np.floor(rng.random(size=shape) * scale)


# ---------------------------------------------------------------------------------
# The city


def make_city(seed: int = 0, n_units: int = 50, n_months: int = 12, start: str = "2024-01",
              inject: bool = True) -> SynthCity:
    """A synthetic district of ``n_units`` units reporting monthly for ``n_months``
    from ``start``; with ``inject`` the anomalies listed in the module's README are
    planted and listed in ``truth`` (units with no truth row are clean).

    Deterministic in ``seed``.  Needs n_units ≥ 40 and n_months ≥ 6 when injecting.
    """
    if inject and (n_units < 40 or n_months < 6):
        raise ValueError(f"injecting anomalies needs n_units >= 40 and n_months >= 6 "
                         f"(got {n_units}, {n_months})")
    rng = np.random.default_rng(seed)
    periods = [str(p) for p in pd.period_range(start, periods=n_months, freq="M")]
    units, size, enforces, mix = _units(n_units)
    n = len(units)
    sigma = units["unit_type"].map(_SIZE_SIGMA).to_numpy(dtype=float)
    enterprises = np.maximum(np.round(size * np.exp(sigma * rng.standard_normal(n))), 1.0)
    effort = np.clip(rng.gamma(_EFFORT_SHAPE, 1.0 / _EFFORT_SHAPE, size=n), *_EFFORT_CLIP)
    lead = np.flatnonzero(units["unit"] == "区应急局")
    effort[lead] = np.maximum(effort[lead], _LEAD_EFFORT)
    p_enterprise = rng.beta(14.0, 26.0, size=n)
    r_dept = rng.uniform(0.65, 0.90, size=n)
    shift_at = (2 * n_months) // 3            # 12 months from January: September
    month_factor = np.linspace(0.9, 1.1, n_months)
    is_town = (units["unit_type"] == "town").to_numpy()
    is_soe = (units["unit_type"] == "soe").to_numpy()
    quiet = (mix[:, [_SECTORS.index(s) for s in _QUIET_SECTORS]].sum(axis=1) > 0.99)
    truth: list[tuple] = []

    picker = _Picker(rng, n)
    top_unit = lead                           # keep the lead agency off the low/zero lists
    picker.block(np.flatnonzero(quiet))       # their zeros belong to sector_concentration
    if inject:
        month_factor = month_factor * np.where(np.arange(n_months) >= shift_at, _STEP, 1.0)
        everyone = np.ones(n, dtype=bool)
        # Low and zero reporting are testable only where much is expected: the largest
        # supervisors after the lead agency.
        # Companies are judged among the eight companies, most of them small: one
        # large silent company sets their rate (masking), so these are towns or
        # departments.
        picker.block([top_unit])
        low = picker.take(2, everyone & ~is_soe, score=enterprises, top=6)
        zero = picker.take(2, everyone & ~is_soe, score=enterprises, top=6)
        picker.free[top_unit] = True
        # Copying and 保持平衡 are evidence only where figures are substantial (a copy
        # of a row of zeros, or ±1 around 5, is what chance gives): both are drawn
        # among the towns at or above the towns' median size, before other kinds
        # take the large towns.  A pair of towns of similar size copies figures:
        # the closest pair there.
        big_town = is_town & (enterprises >= np.median(enterprises[is_town]))
        free_big = np.flatnonzero(big_town & picker.free)
        if len(free_big) < 2:                 # tiny districts: any two free towns
            free_big = np.flatnonzero(is_town & picker.free)
        ft = free_big[np.argsort(enterprises[free_big], kind="stable")]
        j = int(np.argmin(np.diff(np.log(enterprises[ft]))))
        twins = ft[[j, j + 1]]
        picker.block(twins)
        # The balancing towns: six of the eight largest free towns, so that the figure
        # they agree is in the tens a month, where Poisson noise would be visible.
        under = picker.take(6, is_town, score=enterprises, top=8)
        mid = enforces & (enterprises >= np.median(enterprises))
        # Heaping needs many figures ≥ 10: two of the four largest free enforcers.
        last_digit = picker.take(2, mid, score=enterprises, top=4)
        # Units with many hazards file them under 工贸/建筑施工, as 巴南's top units did.
        core = ((units["unit_type"] != "department").to_numpy()
                | (mix[:, [_SECTORS.index("工贸"), _SECTORS.index("建筑施工")]].sum(axis=1) >= 0.75))
        # A surge is visible only against a meaningful baseline: the units that find
        # most already (区应急局 finds ~4 a month), raised below to ≥ 3 a month.
        surge = picker.take(2, core, score=enterprises * effort, top=4)
        # A rate or share is judged against peers of the same type: eight companies,
        # two of them anomalous, leave no honest norm, so the units pinned at 100 %
        # and the low self-reporters are towns or departments.
        pinned = picker.take(2, core & ~is_soe, score=enterprises, top=8)
        low_self = picker.take(2, core & ~is_soe, score=enterprises, top=8)
        benford = picker.take(1, mid)
        repeated = picker.take(2, mid)
        rules = picker.take(4, enforces & (enterprises >= np.quantile(enterprises, 0.3)))
        per_enterprise = _RATE_MAJOR * month_factor.sum()
        for kind, chosen in (("low_outlier", low), ("zero_report", zero),
                             ("pinned_rate", pinned), ("low_self_report", low_self)):
            at = 1.0 if kind in ("low_outlier", "zero_report") else effort[chosen]
            need = np.ceil(_MIN_YEARLY[kind] / (per_enterprise * at))
            enterprises[chosen] = np.maximum(enterprises[chosen], need)
        # surge: at least _SURGE_BASELINE expected in every month before the step
        need = np.ceil(_SURGE_BASELINE / (_RATE_MAJOR * month_factor[:shift_at].min()
                                          * effort[surge]))
        enterprises[surge] = np.maximum(enterprises[surge], need)
        effort = effort.copy()
        effort[low] = 0.05

    v, lam = _clean_figures(rng, units, enterprises, enforces, n_months, month_factor, effort)
    found = rng.poisson(lam)
    if inject:
        # In different months: two of the largest finders spiking together move the
        # district total by half, which is a district movement (group_shift), not
        # a unit jumping while its peers do not.
        surge_month = rng.choice(np.arange(max(3, shift_at - 4), shift_at), size=2,
                                 replace=False)
        # _SURGE_FACTOR × the unit's own history (its months before the surge).
        before = np.arange(n_months)[None, :] < surge_month[:, None]
        history = np.maximum((found[surge] * before).sum(axis=1) / before.sum(axis=1),
                             (lam[surge] * before).sum(axis=1) / before.sum(axis=1))
        found[surge, surge_month] = np.round(_SURGE_FACTOR * history)
        found[zero] = 0
        p_enterprise[low_self] = 0.0
    dept, ent, rect_dept, rect_ent = _major_split(rng, found, p_enterprise, r_dept)
    if inject:
        rect_dept[pinned], rect_ent[pinned] = dept[pinned], ent[pinned]
    # The quiet-sector departments' finds all fail the standard when injecting (below),
    # so the effective figures the panel reports are 0 for them.
    failing = np.zeros_like(found)
    if inject:
        failing[quiet] = found[quiet]
        for a in (dept, ent, rect_dept, rect_ent):
            a[quiet] = 0
    _set_major(v, dept, ent, rect_dept, rect_ent)

    if inject:
        _inject_figures(rng, v, truth, units, periods, n_months, shift_at, low=low, zero=zero,
                        pinned=pinned, low_self=low_self, surge=surge, surge_month=surge_month,
                        under=under, twins=twins, benford=benford, last_digit=last_digit,
                        repeated=repeated, lam=lam)
        truth.append(("sector_concentration", "", "", "major_hazards_found",
                      "台账中建筑施工、工贸占有效隐患约80%，文化旅游、养老、医疗卫生、教育、商贸为0"))
        # reports_messy.xlsx: one month's 合计 row is off by one on one indicator.
        t = int(rng.integers(0, n_months))
        code = str(rng.choice(["units_inspected", "general_hazards_found",
                               "worker_training_sessions", "drills"]))
        truth.append(("total_mismatch", "", periods[t], code,
                      f"reports_messy.xlsx“{_sheet_name(periods[t])}”表合计行比各单位之和多1"))
    names = units["unit"].to_numpy()
    ledger_v = v.copy()                       # the ledger follows the true figures
    extra_counted = np.zeros_like(found)
    if inject:
        extra_counted = _inject_rule_violations(rng, v, truth, names, periods, rules)

    multi = (units["unit_type"] != "department").to_numpy()
    ledger = _ledger(rng, ledger_v, failing, extra_counted, names, mix, quiet, multi, inject,
                     zero if inject else np.array([], int), periods)
    panel = _panel(v, units, periods)
    exposure = _exposure(rng, names, enterprises, mix)
    truth_df = pd.DataFrame(truth, columns=TRUTH_COLUMNS).astype("str")
    return SynthCity(panel=panel, exposure=exposure, ledger=ledger, truth=truth_df,
                     units=units.astype("str"), start=periods[0], n_months=n_months)


def _inject_figures(rng, v, truth, units, periods, n_months, shift_at, *, low, zero, pinned,
                    low_self, surge, surge_month, under, twins, benford, last_digit, repeated,
                    lam):
    """Overwrites the figures of the chosen units in ``v`` and records the truth rows."""
    names = units["unit"].to_numpy()
    found = v[..., _IX["major_hazards_found"]]
    for i in low:
        truth.append(("low_outlier", names[i], "", "major_hazards_found",
                      f"排查力度约为正常的5%：按正常力度期望约{lam[i].sum() / 0.05:.0f}项，"
                      f"实报{found[i].sum():.0f}项"))
    for i in zero:
        truth.append(("zero_report", names[i], "", "major_hazards_found",
                      "监管企业较多但每月重大事故隐患均报0"))
    for i in pinned:
        truth.append(("pinned_rate", names[i], "", "major_hazards_rectified",
                      f"每月整改率100%（全年{found[i].sum():.0f}项全部整改）"))
    for i in low_self:
        truth.append(("low_self_report", names[i], "", "major_hazards_found_enterprise",
                      f"企业自查占比为0（全年{found[i].sum():.0f}项全部为部门检查发现）"))
    for i, t in zip(surge, surge_month):
        truth.append(("surge", names[i], periods[t], "major_hazards_found",
                      f"当月{found[i, t]:.0f}项，约为此前月均的{_SURGE_FACTOR:g}倍"))
    truth.append(("group_shift", "", periods[shift_at], "major_hazards_found",
                  f"{periods[shift_at]}起全区重大事故隐患排查数整体提升约{_STEP:g}倍（区长专题调度后）"))

    # 保持平衡: the towns agree a figure each month and report it within ±1.
    k = _IX["units_inspected"]
    agreed = np.round(np.median(v[under, :, k], axis=0))
    v[under, :, k] = agreed[None, :] + rng.integers(-1, 2, size=(len(under), n_months))
    for i in under:
        truth.append(("underdispersion", names[i], "", "units_inspected",
                      "与其他5个镇街每月部门检查家次相差不超过1（保持平衡）"))

    # One town copies the other's whole row in four consecutive months.
    a, b = twins
    m0 = int(rng.integers(1, n_months - 4))
    months = np.arange(m0, m0 + 4)
    v[b, months] = v[a, months]
    for i, other in ((a, b), (b, a)):
        for t in months:
            truth.append(("identical_values", names[i], periods[t], "",
                          f"与{names[other]}当月各项数据完全相同"))

    for i in repeated:
        code = "principal_training_persons" if rng.random() < 0.5 else "worker_training_persons"
        sessions = np.maximum(v[i, :, _IX[code.replace("persons", "sessions")]], 1.0)
        v[i, :, _IX[code.replace("persons", "sessions")]] = sessions
        value = max(float(np.round(np.median(v[i, :, _IX[code]]))), float(sessions.max()), 30.0)
        v[i, :, _IX[code]] = value
        truth.append(("repeated_value", names[i], "", code, f"每月均报{value:.0f}"))

    keep = [_IX[c] for c in INDICATORS if c not in _MAJOR and c != "fines"]
    for i in last_digit:
        v[i][:, keep] = _round5(v[i][:, keep])
        truth.append(("last_digit", names[i], "", "", "≥10的数据全部以0或5结尾"))

    for i in benford:
        fabricated = {"units_inspected": 1, "general_hazards_found": 1, "assistance_visits": 1,
                      "principal_training_persons": 2, "standard_publicity_persons": 2,
                      "worker_training_persons": 2}
        for code, k_low in fabricated.items():
            v[i, :, _IX[code]] = _fabricate(rng, n_months, k_low)
        v[i, :, _IX["general_hazards_rectified"]] = rng.binomial(
            v[i, :, _IX["general_hazards_found"]].astype(np.int64), 0.93)
        v[i, :, _IX["assisted_enterprises"]] = rng.binomial(
            v[i, :, _IX["assistance_visits"]].astype(np.int64), 0.85)
        truth.append(("benford", names[i], "", "",
                      "部门检查、一般隐患、培训人次等数据系编造，首位数字均匀分布"))


def _inject_rule_violations(rng, v, truth, names, periods, rules):
    """Four cells that break catalogue.RULES, one per unit; returns the extra count
    (units × months) of non-effective hazards the unit wrongly counted as found."""
    extra = np.zeros(v.shape[:2], dtype=np.int64)
    n_months = v.shape[1]
    t = rng.integers(0, n_months, size=4)

    i = rules[0]                              # 整改数 and 排查数 typed in each other's column
    f, r = _IX["general_hazards_found"], _IX["general_hazards_rectified"]
    if v[i, t[0], r] < v[i, t[0], f]:
        v[i, t[0], f], v[i, t[0], r] = v[i, t[0], r], v[i, t[0], f]
    else:
        v[i, t[0], r] = v[i, t[0], f] + 2.0
    truth.append(("rule_violation", names[i], periods[t[0]], "general_hazards_rectified",
                  "一般隐患整改数大于排查数"))

    i = rules[1]                              # 人次 and 场次 swapped
    s, p = _IX["principal_training_sessions"], _IX["principal_training_persons"]
    sessions, persons = v[i, t[1], s], v[i, t[1], p]
    if sessions < 1:
        sessions, persons = 1.0, max(persons, 2.0)
    v[i, t[1], s], v[i, t[1], p] = persons, sessions
    truth.append(("rule_violation", names[i], periods[t[1]], "principal_training_persons",
                  "主要负责人培训人次少于场次"))

    i = rules[2]                              # a fine with no penalty recorded
    v[i, t[2], _IX["penalties"]] = 0.0
    if not v[i, t[2], _IX["fines"]] > 0:
        v[i, t[2], _IX["fines"]] = 0.5
    truth.append(("rule_violation", names[i], periods[t[2]], "fines", "有罚款金额但行政处罚为0"))

    i = rules[3]                              # counted a hazard that failed the standard
    v[i, t[3], _IX["major_hazards_found"]] += 1.0
    extra[i, t[3]] = 1
    truth.append(("rule_violation", names[i], periods[t[3]], "major_hazards_found",
                  "部门检查发现数与企业自查发现数之和不等于重大隐患排查数（多计1项不符合判定标准的隐患）"))
    return extra


# ---------------------------------------------------------------------------------
# Ledger, panel, exposure tables


def _ledger(rng, v, failing, extra_counted, names, mix, quiet, multi, inject, zero, periods):
    """One row per hazard: the effective ones exactly as the panel's major-hazard
    figures (found date in the month, reported by the 23rd), then hazards that do not
    count: failing the standard, reported after the deadline, found before the start."""
    n, n_months = v.shape[:2]
    cells = [v[..., _IX[c]].astype(np.int64) for c in
             ("major_hazards_found_dept", "major_hazards_found_enterprise",
              "major_hazards_rectified_dept", "major_hazards_rectified_enterprise")]
    dept, ent, rdept, rent = cells
    total = dept.sum() + ent.sum()
    # Hazards that do not count: about 12 % of the effective ones, spread like them.
    weight = (dept + ent).sum(axis=1) + 0.5
    n_bad = rng.poisson(0.12 * total + 3)
    bad_unit = rng.choice(n, size=n_bad, p=weight / weight.sum())
    bad_unit = np.concatenate([bad_unit, zero])        # zero reporters sent one that failed
    bad_kind = rng.choice(np.array(["standard", "late", "window"]), size=len(bad_unit),
                          p=[0.5, 0.35, 0.15])
    bad_kind[len(bad_unit) - len(zero):] = "standard"
    f_unit, f_month = np.nonzero(failing)
    x_unit, x_month = np.nonzero(extra_counted)
    parts = []

    def block(unit, month, source, rectified, kind):
        m = len(unit)
        parts.append(pd.DataFrame({"u": unit, "m": month, "source": source,
                                   "rectified": rectified, "kind": np.full(m, kind, object)}))

    # Effective rows: per cell, dept then enterprise; the first rdept/rent rectified.
    for cnt, rect, src in ((dept, rdept, "dept"), (ent, rent, "enterprise")):
        u, m = np.nonzero(cnt)
        k = cnt[u, m]
        uu, mm = np.repeat(u, k), np.repeat(m, k)
        rank = np.arange(len(uu)) - np.repeat(np.cumsum(k) - k, k)
        block(uu, mm, np.full(len(uu), src, object), rank < np.repeat(rect[u, m], k), "ok")
    fu = np.repeat(f_unit, failing[f_unit, f_month])
    fm = np.repeat(f_month, failing[f_unit, f_month])
    block(fu, fm, np.where(rng.random(len(fu)) < 0.35, "enterprise", "dept"),
          rng.random(len(fu)) < 0.8, "standard")
    block(x_unit, x_month, np.full(len(x_unit), "dept", object), np.zeros(len(x_unit), bool),
          "standard")
    bm = rng.integers(0, n_months, size=len(bad_unit))
    block(bad_unit, bm, np.where(rng.random(len(bad_unit)) < 0.3, "enterprise", "dept"),
          rng.random(len(bad_unit)) < 0.7, bad_kind)
    rows = pd.concat(parts, ignore_index=True)

    # Sector of each hazard: the unit's own mix; when injecting, towns and companies
    # file everything under 建筑施工/工贸 (巴南: 80 %) and the quiet sectors' finds fail.
    hmix = mix.copy()
    if inject:
        conc = np.zeros(len(_SECTORS))
        for sector, share in (("工贸", 0.52), ("建筑施工", 0.38), ("消防", 0.05),
                              ("其他", 0.05)):
            conc[_SECTORS.index(sector)] = share
        hmix[multi] = conc
        for s in _QUIET_SECTORS:
            hmix[~quiet, _SECTORS.index(s)] = 0.0
        hmix = hmix / hmix.sum(axis=1, keepdims=True)
    cum = np.cumsum(hmix, axis=1)
    u = rows["u"].to_numpy()
    pick = (rng.random(len(rows))[:, None] > cum[u]).sum(axis=1)
    sector = np.asarray(_SECTORS, dtype=object)[np.minimum(pick, len(_SECTORS) - 1)]

    month0 = pd.Timestamp(periods[0]).to_datetime64().astype("datetime64[M]")
    m = rows["m"].to_numpy()
    kind = rows["kind"].to_numpy()
    first = (month0 + m).astype("datetime64[D]")
    found = first + rng.integers(0, 20, size=len(rows))           # day 1–20
    window = kind == "window"
    found[window] = (month0 - 1).astype("datetime64[D]") + rng.integers(0, 28, size=window.sum())
    reported = found + rng.integers(0, 4, size=len(rows))
    reported[window] = month0.astype("datetime64[D]") + rng.integers(0, 10, size=window.sum())
    late = kind == "late"
    reported[late] = (month0 + m[late] + 1).astype("datetime64[D]") + rng.integers(24, 28, size=late.sum())
    end = (month0 + n_months).astype("datetime64[D]") - 1
    rectified = rows["rectified"].to_numpy(dtype=bool)
    rect_date = np.minimum(found + rng.integers(1, 40, size=len(rows)), end)
    status = np.where(rectified, "rectified",
                      np.where(rng.random(len(rows)) < 0.8, "in_progress", "open"))
    led = pd.DataFrame({
        "unit": np.asarray(names, dtype=object)[u],
        "sector": sector,
        "found_date": found.astype("datetime64[ns]"),
        "reported_date": reported.astype("datetime64[ns]"),
        "source": rows["source"].to_numpy(),
        "meets_standard": pd.array(~np.isin(kind, ["standard"]), dtype="boolean"),
        "status": status,
        "rectified_date": np.where(rectified, rect_date, np.datetime64("NaT")).astype("datetime64[ns]"),
    })
    led = led.sort_values(["found_date", "unit", "source"], kind="stable").reset_index(drop=True)
    led.insert(0, "hazard_id", [f"YH{periods[0][:4]}{k + 1:05d}" for k in range(len(led))])
    led["source_file"] = SOURCE_FILE
    led["source_row"] = np.arange(2, len(led) + 2, dtype=np.int64)
    return led.astype({"hazard_id": "str", "unit": "str", "sector": "str", "source": "str",
                       "status": "str", "source_file": "str"})[LEDGER_COLUMNS]


def clean_table(v, units, periods) -> pd.DataFrame:
    """The wide table as reports_clean.csv holds it: 单位, 单位类型, 上级, 期间, then one
    column per indicator (Chinese name), rows by period then unit."""
    n, n_months, _ = v.shape
    t_idx, u_idx = np.divmod(np.arange(n * n_months), n)
    head = pd.DataFrame({
        "单位": units["unit"].to_numpy()[u_idx],
        "单位类型": units["unit_type"].map(UNIT_TYPE_ZH).to_numpy()[u_idx],
        "上级": units["parent"].to_numpy()[u_idx],
        "期间": np.asarray(periods)[t_idx],
    })
    body = v[u_idx, t_idx, :]
    cols = {}
    for k, code in enumerate(INDICATORS):
        col = pd.Series(body[:, k])
        cols[catalogue.indicator_name(code)] = col if code == "fines" else col.astype("Int64")
    return pd.concat([head, pd.DataFrame(cols)], axis=1)


def _panel(v, units, periods) -> pd.DataFrame:
    """Long panel (PANEL_COLUMNS) with source_row the 1-based row of reports_clean.csv."""
    n, n_months, n_ind = v.shape
    t_idx, u_idx = np.divmod(np.arange(n * n_months), n)
    body = v[u_idx, t_idx, :]
    row, k = np.nonzero(~np.isnan(body))
    u, t = u_idx[row], t_idx[row]
    panel = pd.DataFrame({
        "unit": units["unit"].to_numpy()[u],
        "unit_type": units["unit_type"].to_numpy()[u],
        "parent": units["parent"].to_numpy()[u],
        "period": np.asarray(periods)[t],
        "indicator": np.asarray(INDICATORS)[k],
        "value": body[row, k].astype("float64"),
        "approx": np.zeros(len(row), dtype=bool),
        "source_file": SOURCE_FILE,
        "source_sheet": pd.Series(pd.NA, index=range(len(row)), dtype="str"),
        "source_row": (row + 2).astype(np.int64),
    })
    return panel.astype({c: "str" for c in ("unit", "unit_type", "parent", "period",
                                             "indicator", "source_file")})[PANEL_COLUMNS]


def _exposure(rng, names, enterprises, mix) -> pd.DataFrame:
    """Enterprises per unit (sector '') and per unit × sector (a multinomial split)."""
    by_sector = rng.multinomial(enterprises.astype(np.int64), mix)
    u, s = np.nonzero(by_sector)
    total = pd.DataFrame({"u": np.arange(len(names)), "sector": "", "enterprises": enterprises,
                          "order": -1})
    parts = pd.DataFrame({"u": u, "sector": np.asarray(_SECTORS, dtype=object)[s],
                          "enterprises": by_sector[u, s].astype(float), "order": s})
    out = pd.concat([total, parts], ignore_index=True).sort_values(["u", "order"], kind="stable")
    out = pd.DataFrame({
        "unit": np.asarray(names, dtype=object)[out["u"].to_numpy()],
        "sector": out["sector"].to_numpy(),
        "enterprises": out["enterprises"].to_numpy(dtype="float64"),
        "source_file": SOURCE_FILE,
        "source_row": np.arange(2, len(out) + 2, dtype=np.int64),
    })
    return out.astype({"unit": "str", "sector": "str", "source_file": "str"})[EXPOSURE_COLUMNS]


# ---------------------------------------------------------------------------------
# National-scale tables for benchmarks


def _panel_rules(codes: list[str]) -> tuple[list[tuple[int, int]], list[tuple[tuple[int, ...], int]]]:
    """The catalogue's ``le`` rules as (lhs, rhs) and ``sum`` rules as (parts, total),
    in positions of ``codes``, keeping only rules whose indicators are all there."""
    ix = {c: k for k, c in enumerate(codes)}
    le, sums = [], []
    for r in catalogue.RULES.itertuples():
        if r.kind not in ("le", "sum") or not all(c in ix for c in (*r.lhs, r.rhs)):
            continue
        if r.kind == "le":
            le.append((ix[r.lhs[0]], ix[r.rhs]))
        else:
            sums.append((tuple(ix[c] for c in r.lhs), ix[r.rhs]))
    return le, sums


def _order_rates(rng, rate: np.ndarray, le) -> None:
    """In place: every ``le`` rule's left rate becomes q × its right rate, q drawn
    uniform on 0.3–0.8 per rule (the smallest such product where a figure is on the
    left of several rules), so that rectified sits below found and sessions below
    persons, and clipping in ``_respect_rules`` touches a minority of cells."""
    q = rng.uniform(0.3, 0.8, len(le))
    for _ in range(len(le) + 1):            # chains (a ≤ b ≤ c) settle within len(le) passes
        new = rate.copy()
        for lhs in {a for a, _ in le}:
            new[lhs] = min(qk * new[rhs] for qk, (a, rhs) in zip(q, le) if a == lhs)
        if np.array_equal(new, rate):
            return
        rate[:] = new
    raise AssertionError("le rules form a cycle")  # pragma: no cover


def _respect_rules(cells: np.ndarray, le, sums) -> None:
    """In place on ``cells[unit, month, indicator]``: first every ``sum`` rule's total
    is split into its parts in the proportions drawn for them (the total keeps its own
    distribution); then lhs = min(lhs, rhs) for every ``le`` rule and total = Σ parts,
    repeated until nothing changes (a clipped part lowers its total)."""
    for parts, total in sums:
        drawn = np.stack([cells[:, :, k] for k in parts])
        weight = drawn.sum(axis=0)
        share = np.divide(drawn, weight, out=np.zeros_like(drawn), where=weight > 0)
        share[0][weight == 0] = 1.0
        rest = cells[:, :, total].copy()
        for k, sh in zip(parts[:-1], share[:-1]):
            cells[:, :, k] = np.minimum(np.floor(cells[:, :, total] * sh), rest)
            rest -= cells[:, :, k]
        cells[:, :, parts[-1]] = rest
    for _ in range(len(le) + len(sums) + 1):
        changed = False
        for lhs, rhs in le:
            over = cells[:, :, lhs] > cells[:, :, rhs]
            if over.any():
                np.minimum(cells[:, :, lhs], cells[:, :, rhs], out=cells[:, :, lhs])
                changed = True
        for parts, total in sums:
            s = sum(cells[:, :, k] for k in parts)
            if not np.array_equal(s, cells[:, :, total]):
                cells[:, :, total] = s
                changed = True
        if not changed:
            return
    raise AssertionError("catalogue rules did not settle")  # pragma: no cover


def _break_rules(rng, cells: np.ndarray, le, sums, share: float) -> None:
    """In place: in a share of unit-months, break one ``le`` rule, lhs = rhs + 1 +
    ⌊rhs/10⌋.  Only rules whose left figure is in no ``sum`` rule and on the left of
    no other rule are used, so that each break is exactly one finding."""
    in_sums = {k for parts, total in sums for k in (*parts, total)}
    lefts = [a for a, _ in le]
    usable = [(a, b) for a, b in le if a not in in_sums and lefts.count(a) == 1]
    n_units, n_months = cells.shape[:2]
    n = int(round(share * n_units * n_months))
    if not usable or n == 0:
        return
    flat = rng.choice(n_units * n_months, size=n, replace=False)
    which = rng.integers(0, len(usable), size=n)
    lhs = np.array([usable[w][0] for w in which])
    rhs = np.array([usable[w][1] for w in which])
    u, t = np.divmod(flat, n_months)
    cells[u, t, lhs] = cells[u, t, rhs] + 1 + np.floor(cells[u, t, rhs] / 10)


def make_panel(n_units: int, n_months: int, n_indicators: int = 40, seed: int = 0,
               start: str = "2024-01", value_dtype: str = "float32",
               rule_breaks: float = 0.002) -> pd.DataFrame:
    """A large long panel for benchmarks: every unit × month × indicator, unit-major.

    Columns are PANEL_COLUMNS in compact dtypes: ``unit``, ``unit_type``, ``parent``
    (a county per 50 units), ``period``, ``indicator``, ``source_file`` and
    ``source_sheet`` are **categorical**; ``value`` is **float32** by default
    (``value_dtype="float64"`` for the contract's dtype, 0.3 GB more at national
    scale); ``approx`` bool; ``source_row`` **int32**.  50,000 × 36 × 40 = 72 million
    rows take about 1 GB.

    Values are round(λ × exp(0.35 Z − 0.06)) with λ = enterprises_u × rate_k × effort_u
    (lognormal enterprises, Gamma(4) effort, rates log-uniform 0.001–0.5, except that
    a rule's left-hand rate is 0.3–0.8 of its right-hand one, ``_order_rates``): a
    log-normal stand-in for Poisson noise, because 72 million Poisson draws take too
    long.

    The catalogue's ``le`` and ``sum`` rules hold, as they do in nearly every real
    report (see ``_respect_rules``), except in a share ``rule_breaks`` of unit-months
    (default 1 in 500): in each, one ``le`` rule is broken once, by setting its
    left-hand figure to rhs + 1 + ⌊rhs/10⌋.  ``checks.rule_violation`` finds exactly
    those cells (one alert each); ``rule_breaks=0`` gives a panel without any.
    """
    codes = list(catalogue.INDICATORS["code"])
    if not 1 <= n_indicators <= len(codes):
        raise ValueError(f"n_indicators must be 1..{len(codes)}, got {n_indicators}")
    rng = np.random.default_rng(seed)
    n_cells = n_months * n_indicators            # rows per unit
    n = n_units * n_cells
    dtype = np.dtype(value_dtype)
    scale = np.exp(4.0 + rng.standard_normal(n_units)) * rng.gamma(4.0, 0.25, n_units)
    rate = np.exp(rng.uniform(np.log(0.001), np.log(0.5), n_indicators))
    le, sums = _panel_rules(codes[:n_indicators])
    _order_rates(rng, rate, le)
    # In place on one buffer: 72 million values, no temporaries of that size.
    value = rng.standard_normal(n, dtype=dtype)
    value *= dtype.type(0.35)
    value -= dtype.type(0.06)
    np.exp(value, out=value)
    value.reshape(n_units, n_months, n_indicators)[...] *= (
        scale[:, None, None] * rate[None, None, :]).astype(dtype)
    np.rint(value, out=value)
    cells = value.reshape(n_units, n_months, n_indicators)
    _respect_rules(cells, le, sums)
    _break_rules(rng, cells, le, sums, rule_breaks)

    unit_ids = np.arange(n_units, dtype=np.int32)
    types = ["town", "department", "soe"]
    type_of_unit = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2], dtype=np.int8)[unit_ids % 10]
    small = np.int8 if max(n_months, n_indicators) < 128 else np.int16
    periods = [str(p) for p in pd.period_range(start, periods=n_months, freq="M")]

    def per_unit(a):
        return np.repeat(a, n_cells)

    return pd.DataFrame(copy=False, data={
        "unit": pd.Categorical.from_codes(per_unit(unit_ids), categories=[f"U{u:06d}" for u in range(n_units)]),
        "unit_type": pd.Categorical.from_codes(per_unit(type_of_unit), categories=types),
        "parent": pd.Categorical.from_codes(per_unit(unit_ids // 50),
                                            categories=[f"县{c:05d}" for c in range((n_units + 49) // 50)]),
        "period": pd.Categorical.from_codes(np.tile(np.repeat(np.arange(n_months, dtype=small), n_indicators), n_units),
                                            categories=periods),
        "indicator": pd.Categorical.from_codes(np.tile(np.arange(n_indicators, dtype=small), n_units * n_months),
                                               categories=codes[:n_indicators]),
        "value": value,
        "approx": np.zeros(n, dtype=bool),
        "source_file": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[SOURCE_FILE]),
        "source_sheet": pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=["-"]),
        # the row of a wide CSV holding this unit and month (header = row 1)
        "source_row": np.repeat(np.arange(2, n_units * n_months + 2, dtype=np.int32), n_indicators),
    })


def make_ledger(n_hazards: int, n_units: int, n_months: int, seed: int = 0,
                start: str = "2024-01") -> pd.DataFrame:
    """A large clean hazard ledger for benchmarks (LEDGER_COLUMNS, ledger.py's forms).

    Units (``U000000`` …) are drawn with lognormal weights, found dates uniform over
    the months; 5 % fail the standard, 4 % are reported after the 24th deadline, 35 %
    are enterprise self-reports, 80 % rectified.  ``unit``, ``sector``, ``source``,
    ``status`` and ``source_file`` are categorical, dates datetime64[ns],
    ``meets_standard`` boolean, ``hazard_id`` str.
    """
    rng = np.random.default_rng(seed)
    n = n_hazards
    w = np.exp(rng.standard_normal(n_units))
    unit_codes = rng.choice(n_units, size=n, p=w / w.sum()).astype(np.int32)
    month0 = pd.Timestamp(start).to_datetime64().astype("datetime64[M]")
    month = rng.integers(0, n_months, size=n)
    found = (month0 + month).astype("datetime64[D]") + rng.integers(0, 20, size=n)
    reported = found + rng.integers(0, 4, size=n)
    late = rng.random(n) < 0.04
    reported[late] = (month0 + month[late] + 1).astype("datetime64[D]") + 25
    rectified = rng.random(n) < 0.8
    rect_date = np.where(rectified, found + rng.integers(1, 40, size=n), np.datetime64("NaT"))
    sectors = pd.Index(_SECTORS)
    status = np.where(rectified, 0, np.where(rng.random(n) < 0.8, 1, 2)).astype(np.int8)
    return pd.DataFrame({
        "hazard_id": "YH" + pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(9),
        "unit": pd.Categorical.from_codes(unit_codes, categories=[f"U{u:06d}" for u in range(n_units)]),
        "sector": pd.Categorical.from_codes(rng.integers(0, len(sectors), size=n).astype(np.int8),
                                            categories=sectors),
        "found_date": found.astype("datetime64[ns]"),
        "reported_date": reported.astype("datetime64[ns]"),
        "source": pd.Categorical.from_codes((rng.random(n) < 0.35).astype(np.int8),
                                            categories=["dept", "enterprise"]),
        "meets_standard": pd.array(rng.random(n) >= 0.05, dtype="boolean"),
        "status": pd.Categorical.from_codes(status, categories=["rectified", "in_progress", "open"]),
        "rectified_date": rect_date.astype("datetime64[ns]"),
        "source_file": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[SOURCE_FILE]),
        "source_row": np.arange(2, n + 2, dtype=np.int64),
    })[LEDGER_COLUMNS]

# ---------------------------------------------------------------------------------
# Writing the bundled files

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_CLEAN_FILES = ("reports_clean.csv", "reports_messy.xlsx", "exposure.csv", "ledger.csv",
                "truth.csv")
_FIXED_TIME = dt.datetime(2024, 1, 1)
_LEDGER_ZH = {
    "source": {"dept": "部门检查", "enterprise": "企业自查"},
    "status": {"rectified": "已整改", "in_progress": "整改中", "open": "未整改"},
}


def _sheet_name(period: str) -> str:
    return f"{int(period[:4])}年{int(period[5:])}月"


def _wide_array(city: SynthCity) -> np.ndarray:
    """The panel back as units × months × INDICATORS (NaN where not reported)."""
    u = pd.Index(city.units["unit"]).get_indexer(city.panel["unit"])
    t = pd.Index(city.periods).get_indexer(city.panel["period"])
    k = pd.Index(INDICATORS).get_indexer(city.panel["indicator"])
    v = np.full((len(city.units), city.n_months, len(INDICATORS)), np.nan)
    v[u, t, k] = city.panel["value"].to_numpy()
    return v


def write_city(city: SynthCity, directory, *, seed: int = 0) -> list[Path]:
    """Writes reports_clean.csv, reports_messy.xlsx, exposure.csv, ledger.csv and
    truth.csv into ``directory``; byte-identical for the same city.  Returns the paths."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    v = _wide_array(city)
    write_table_atomic(clean_table(v, city.units, city.periods), d / "reports_clean.csv")
    _write_bytes(d / "reports_messy.xlsx", messy_workbook(city, v, seed=seed))
    exposure = pd.DataFrame({"单位": city.exposure["unit"], "行业领域": city.exposure["sector"],
                             "监管企业数": city.exposure["enterprises"].astype("int64")})
    write_table_atomic(exposure, d / "exposure.csv")
    led = city.ledger

    def day(col):
        return led[col].dt.strftime("%Y-%m-%d").fillna("")

    ledger = pd.DataFrame({
        "隐患编号": led["hazard_id"], "单位": led["unit"], "行业领域": led["sector"],
        "发现日期": day("found_date"), "报送日期": day("reported_date"),
        "发现方式": led["source"].map(_LEDGER_ZH["source"]),
        "是否符合判定标准": np.where(led["meets_standard"].to_numpy(dtype=bool), "是", "否"),
        "整改状态": led["status"].map(_LEDGER_ZH["status"]),
        "整改完成日期": day("rectified_date"),
    })
    write_table_atomic(ledger, d / "ledger.csv")
    write_table_atomic(city.truth, d / "truth.csv")
    return [d / f for f in _CLEAN_FILES]


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _typed(rng, values: np.ndarray, code: str, in_yuan: bool) -> list:
    """Figures of one column as an office types them: mostly numbers, some text with
    full-width digits, thousands separators or a trailing unit word, blanks as — or
    empty.  Fines in a 元 sheet are typed as 2100元 (header still says 万元)."""
    n = len(values)
    u = rng.random(n)
    unit = catalogue.indicator_unit(code)
    out: list = []
    for x, r in zip(values, u):
        if np.isnan(x):
            out.append("—" if r < 0.5 else None)
        elif code == "fines":
            out.append(f"{round(x * 10000)}元" if in_yuan else float(x))
        elif x >= 1000 and r < 0.5:
            out.append(f"{int(x):,}")
        elif r < 0.04:
            out.append(str(int(x)).translate(_FULLWIDTH))
        elif r < 0.08:
            out.append(f"{int(x)}{unit}")
        elif r < 0.11:
            out.append(str(int(x)))
        else:
            out.append(int(x))
    return out


def _messy_name(rng, name: str) -> str:
    """A unit name with the stray spaces offices leave (half- and full-width)."""
    r = rng.random()
    if r < 0.06:
        return name[:1] + " " + name[1:]
    if r < 0.10:
        return name + "　"
    if r < 0.13:
        return " " + name
    return name


def _messy_type(unit: str, unit_type: str) -> str:
    if unit_type == "town":
        return "街道" if unit.endswith("街道") else "镇"
    return {"department": "部门", "soe": "区属国有公司"}.get(unit_type, unit_type)


def messy_workbook(city: SynthCity, v: np.ndarray, *, seed: int = 0) -> bytes:
    """reports_messy.xlsx as bytes: the same figures as reports_clean.csv, typed as an
    office would (see the folder's README.md), with a 合计 row per sheet."""
    import openpyxl
    rng = np.random.default_rng([seed, 1])
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    headers = ["序号", "单位名称", "单位类型", "上级单位", "月份"]
    for code in INDICATORS:
        aliases = [a for a in catalogue.indicator(code)["aliases"]
                   if catalogue.resolve_indicator(a) == code and len(a) <= 12]
        label = str(rng.choice(aliases)) if aliases and rng.random() < 0.7 else catalogue.indicator_name(code)
        headers.append(f"{label}（{catalogue.indicator_unit(code)}）")
    mismatch = city.truth.loc[city.truth["kind"] == "total_mismatch", ["period", "indicator"]]
    yuan_month = int(rng.integers(0, city.n_months))
    units = city.units
    for t, period in enumerate(city.periods):
        ws = wb.create_sheet(_sheet_name(period))
        title = f"{DISTRICT}重大事故隐患专项排查整治调度表（{_sheet_name(period)}）"
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        ws.append([])
        ws.append(headers)
        cols = [_typed(rng, v[:, t, k], code, t == yuan_month) for k, code in enumerate(INDICATORS)]
        for i, row in units.iterrows():
            ws.append([i + 1, _messy_name(rng, row["unit"]), _messy_type(row["unit"], row["unit_type"]),
                       row["parent"], _sheet_name(period)] + [c[i] for c in cols])
        totals = []
        for k, code in enumerate(INDICATORS):
            col = v[:, t, k]
            if np.isnan(col).all():
                totals.append(None)
                continue
            total = float(np.nansum(col))
            hit = (mismatch["period"] == period) & (mismatch["indicator"] == code)
            total += 1.0 if hit.any() else 0.0
            if code == "fines":
                totals.append(f"{round(total * 10000)}元" if t == yuan_month else round(total, 2))
            else:
                totals.append(int(round(total)))
        ws.append([None, "合计", None, None, None] + totals)
    wb.properties.creator = "示范区安委办"
    wb.properties.created = _FIXED_TIME
    buf = __import__("io").BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """An XLSX with its modification time and zip member times fixed, so that the same
    workbook always has the same bytes (openpyxl stamps the time of saving)."""
    import io
    import re
    import zipfile
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", body)
            member = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, body)
    return out.getvalue()


def main(argv=None) -> int:
    """``python -m anquan_analysis.synth --output DIR [--seed N]``: writes the bundled files."""
    parser = argparse.ArgumentParser(prog="python -m anquan_analysis.synth",
                                     description="write the synthetic city's files")
    parser.add_argument("--output", required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--start", default="2024-01")
    args = parser.parse_args(argv)
    city = make_city(seed=args.seed, n_units=args.units, n_months=args.months, start=args.start)
    for path in write_city(city, args.output, seed=args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
