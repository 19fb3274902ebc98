"""The anomalies planted in the demo district: disjoint units chosen per kind
(``Picker``), their figures overwritten, and one truth row per anomaly naming the
check that should find it."""

from __future__ import annotations

import numpy as np

from .calibration import STEP, SURGE_FACTOR
from .district import CITY_INDICATORS, MAJOR_INDICATORS
from .district import INDICATOR_POSITION as _IX


class Picker:
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


def inject_figures(rng, v, truth, units, periods, n_months, shift_at, *, low, zero, pinned,
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
                      f"当月{found[i, t]:.0f}项，约为此前月均的{SURGE_FACTOR:g}倍"))
    truth.append(("group_shift", "", periods[shift_at], "major_hazards_found",
                  f"{periods[shift_at]}起全区重大事故隐患排查数整体提升约{STEP:g}倍（区长专题调度后）"))

    # 保持平衡: the towns agree a figure each month and report it within ±1.
    k = _IX["units_inspected"]
    agreed = np.round(np.median(v[under, :, k], axis=0))
    v[under, :, k] = agreed[None, :] + rng.integers(-1, 2, size=(len(under), n_months))
    for i in under:
        truth.append(("matching_series", names[i], "", "units_inspected",
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

    keep = [_IX[c] for c in CITY_INDICATORS if c not in MAJOR_INDICATORS and c != "fines"]
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


def inject_rule_violations(rng, v, truth, names, periods, rules):
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
