"""Synthetic districts for the detection benchmark, written apart from ``synth``
and from the checks (issue 12), with knobs, injected anomalies, their ground truth and
a null twin.

A district has towns, departments and state-owned companies (``unit_types``), each
supervising a skewed number of enterprises (the exposure).  Every unit reports 18
indicators of the catalogue for ``n_months`` months, drawn with the structure real
reports have:

============================ ==========================================================
major / general hazards found gamma-Poisson: a unit effect (``overdispersion``) times
                              enterprises times a type rate, a month weight, and
                              month-to-month gamma noise (``month_shape``)
dept / enterprise split       binomial with the unit's self-report share, Beta(9, 21)
rectified (per source)        binomial with the unit's in-month rectification rate,
                              Beta(40, 10), the same for major and general hazards
units_inspected               a quota (enterprises / 12, rounded up) plus Poisson
principal training sessions   a mandated minimum of 1 a month plus Poisson; 35 % of
                              units do only the minimum (a flat line at 1, honestly)
principal / worker persons    sessions plus a negative binomial per session
worker training sessions      gamma-Poisson, no floor
drill_enterprises, drills     a floor of 1 plus Poisson; drills = enterprises + Poisson
safety_meetings               1 a month by schedule, a second one with probability 0.15
penalties, fines              Poisson; each penalty a round amount (0.1 … 5 万元)
============================ ==========================================================

The catalogue's arithmetic rules hold in every honest row.  The district is drawn
first, honest; the anomalies of the plan are then planted into a copy (``inject.py``),
so ``District.null`` (the honest district) equals the district outside the cells the
plan touched (``District.cells``).  ``District.truth`` lists, per kind and unit, the
indicators and periods the anomaly is about: that is what the scorer matches.

Anomalies are planted where they mean something: a pinned rectification rate in a
unit with at least 30 hazards in the window, a low reporter in a unit that should find
at least 6 major hazards a year (15 for a low self-report share), a flat line in an
indicator whose standard deviation is at least 1.4, heaping in a figure of at least 20.
Where no unit qualifies the unit closest to qualifying is taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..dataset import PANEL_COLUMNS
from .effects import UnitEffect, unit_effect

# unit kinds in the order a plan cycles through them; the district kind is extra
UNIT_KINDS = ("coordinated_group", "low_reporter", "zero_reporter", "surge", "low_self_report",
              "identical_rows", "flat_line", "last_digit_heaping", "round_number_heaping",
              "pinned_rate", "rule_break")
DISTRICT_KINDS = ("district_step",)
KINDS = UNIT_KINDS + DISTRICT_KINDS
KIND_ZH = {
    "coordinated_group": "相互“保持平衡”", "low_reporter": "排查数偏低", "zero_reporter": "零报送",
    "surge": "突击上报", "low_self_report": "企业自查占比偏低", "identical_rows": "整行数据雷同",
    "flat_line": "逐月数据不变", "last_digit_heaping": "尾数偏好(0/5)",
    "round_number_heaping": "整数偏好(50的倍数)", "pinned_rate": "整改率长期100%",
    "rule_break": "逻辑关系错误", "district_step": "全区整体阶跃",
}

INDICATOR_CODES = (
    "major_hazards_found", "major_hazards_found_dept", "major_hazards_found_enterprise",
    "major_hazards_rectified", "major_hazards_rectified_dept",
    "major_hazards_rectified_enterprise", "general_hazards_found", "general_hazards_rectified",
    "units_inspected", "principal_training_sessions", "principal_training_persons",
    "worker_training_sessions", "worker_training_persons", "drill_enterprises", "drills",
    "safety_meetings", "penalties", "fines",
)
MAJOR_PARTS = ("major_hazards_found", "major_hazards_found_dept", "major_hazards_found_enterprise",
               "major_hazards_rectified", "major_hazards_rectified_dept",
               "major_hazards_rectified_enterprise")

# per type: share of units, exposure median and log-sd, rates per enterprise and month
TYPE_TABLE = pd.DataFrame({
    "unit_type": ["town", "department", "soe"],
    "share": [0.6, 0.3, 0.1],
    "enterprises_median": [60.0, 100.0, 12.0],
    "enterprises_sigma": [0.6, 0.9, 0.5],
    "major_rate": [0.012, 0.008, 0.03],
    "general_rate": [0.15, 0.10, 0.30],
    "inspect_rate": [0.04, 0.04, 0.08],
    "principal_extra": [0.6, 0.6, 0.3],
    "principal_persons": [30.0, 45.0, 20.0],
    "worker_rate": [0.03, 0.02, 0.10],
    "worker_persons": [40.0, 40.0, 30.0],
    "drill_rate": [0.025, 0.02, 0.08],
    "penalty_rate": [0.008, 0.01, 0.0],
}).set_index("unit_type")
SELF_REPORT_BETA = (9.0, 21.0)      # mean 0.3
RECTIFY_BETA = (40.0, 10.0)         # mean 0.8 in the month found
MINIMUM_ONLY_SHARE = 0.35           # units that hold exactly the mandated training a month
PRINCIPAL_PERSONS_SHAPE = 3.0       # NB shape of the persons of one session (beyond 1)
WORKER_PERSONS_SHAPE = 2.0
DRILL_EXTRA = 0.4                   # drills = drill enterprises + Poisson(0.4 × them)
SECOND_MEETING = 0.15
FINE_AMOUNTS = np.array([0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0])   # 万元 a penalty
FINE_WEIGHTS = np.array([0.10, 0.15, 0.10, 0.20, 0.20, 0.12, 0.08, 0.05])
SEASON_AMPLITUDE = 0.15

STRENGTHS = {
    # low: share kept of a low reporter's hazards; zero/flat/pinned: months at the end
    # (None = all); surge: the month gets floor + Poisson((factor − 1) × its rate) more;
    # self: a low self-reporter's share; copy/rule: months; digit/round/agree: months
    # heaped or agreeing (None = all); step: district-wide rise from its month on
    "strong": dict(low=0.10, zero=None, surge=(4.0, 8.0), self=0.0, copy=3, flat=None,
                   digit=None, round=None, pinned=None, rule=3, agree=None, step=0.6),
    "mild": dict(low=0.35, zero=6, surge=(2.0, 3.0), self=0.08, copy=1, flat=6,
                 digit=7, round=6, pinned=6, rule=1, agree=7, step=0.25),
}


@dataclass
class DistrictParams:
    """The true generating parameters, as the oracle reads them.

    ``units`` has one row per unit in array order: unit, unit_type, enterprises,
    u_hazard (the unit effect on hazards), major_mean and general_mean (monthly means
    at month weight 1), self_report (π), rectify (ρ), quota, inspect_extra,
    principal_extra, principal_persons, worker_mean, worker_persons, drill_extra,
    penalty_mean.  ``season`` holds the month weights s_t (mean 1) of general hazards
    and of major hazards without the step, ``major_season`` those of major hazards with
    the district step (s_t·(1 + rise) from its month on); ``month_shape`` m, so that a
    month's rate is Gamma(m·s_t, μ/m); ``step`` = (first month index, rise) or None.
    """

    units: pd.DataFrame
    periods: list[str]
    season: np.ndarray
    major_season: np.ndarray
    month_shape: float | None
    effect: UnitEffect
    strength: str
    step: tuple[int, float] | None = None
    self_report_beta: tuple[float, float] = SELF_REPORT_BETA
    rectify_beta: tuple[float, float] = RECTIFY_BETA


@dataclass
class District:
    """A benchmark district.  ``panel`` (PANEL_COLUMNS) and ``exposure``
    (EXPOSURE_COLUMNS) are what the checks read; ``values`` the same figures as
    ``{indicator: array[unit, month]}``; ``truth`` (kind, unit, group, indicator,
    period, strength, note: one row per unit, indicator and period an anomaly is
    about; unit missing for a district-wide kind; indicator missing for any
    indicator); ``cells`` (kind, unit, indicator, period: every figure the injection
    changed or re-drew); ``params`` the generating parameters; ``null`` the honest twin
    (its own ``null`` is None)."""

    panel: pd.DataFrame
    exposure: pd.DataFrame
    values: dict
    truth: pd.DataFrame
    cells: pd.DataFrame
    params: DistrictParams
    knobs: dict
    null: "District | None" = field(default=None, repr=False)

    @property
    def units(self) -> pd.DataFrame:
        """unit, unit_type, enterprises."""
        return self.params.units[["unit", "unit_type", "enterprises"]]


# ----------------------------------------------------------------------- names
_SYLLABLES = list("青石白沙龙泉安澜桂花柳江云台东溪南山西岭北湖清水金竹凤鸣双河新桥长乐永兴"
                  "明月丰收太平华阳仁和")
_DEPARTMENTS = ["区应急局", "区住房城乡建委", "区交通局", "区教委", "区卫健委", "区市场监管局",
                "区商务委", "区文化旅游委", "区农业农村委", "区水利局", "区林业局", "区经济信息委",
                "区城市管理局", "区民政局", "区生态环境局", "区规划自然资源局", "区公安分局",
                "区消防救援支队"]


def _names(rng: np.random.Generator, types: list[str]) -> list[str]:
    """Distinct Chinese-looking names: towns 两字+镇/街道, departments from a list then
    区XX中心, companies XX公司."""
    pool = [a + b for a in _SYLLABLES for b in _SYLLABLES if a != b]
    order = rng.permutation(len(pool))
    stems = iter(pool[i] for i in order)
    depts = iter(_DEPARTMENTS)
    out = []
    for t in types:
        if t == "town":
            out.append(next(stems) + ("镇" if rng.random() < 0.6 else "街道"))
        elif t == "department":
            out.append(next(depts, None) or f"区{next(stems)}中心")
        else:
            out.append(f"{next(stems)}公司")
    return out


def _type_counts(n_units: int, shares: dict) -> list[str]:
    keys = list(shares)
    raw = np.array([shares[k] for k in keys], float) * n_units / sum(shares.values())
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts))[: n_units - counts.sum()]:
        counts[i] += 1
    return [k for k, c in zip(keys, counts) for _ in range(c)]


def type_counts(n_units: int, shares: dict | None = None) -> dict:
    """How many units of each type a district of ``n_units`` has (largest remainders)."""
    types = _type_counts(n_units, shares or TYPE_TABLE["share"].to_dict())
    return {t: types.count(t) for t in dict.fromkeys(types)}


def month_weights(n_months: int) -> np.ndarray:
    """Seasonal month weights with mean 1 (a high in summer, a low at new year)."""
    t = np.arange(n_months)
    s = 1 + SEASON_AMPLITUDE * np.cos(2 * np.pi * (t - 6) / 12)
    return s / s.mean()


# ------------------------------------------------------------------ honest draws
def _units(rng, n_units, shares, effect) -> pd.DataFrame:
    types = _type_counts(n_units, shares)
    tt = TYPE_TABLE.loc[types]
    n = len(types)
    log_spread = rng.normal(0, 1, n) * tt["enterprises_sigma"].to_numpy()
    ent = np.maximum(3, np.round(tt["enterprises_median"].to_numpy() * np.exp(log_spread)))
    u = {name: effect.draw(rng, n) for name in
         ("hazard", "inspect", "principal", "worker", "drill", "penalty")}
    minimum_only = rng.random(n) < MINIMUM_ONLY_SHARE
    units = pd.DataFrame({
        "unit": _names(rng, types), "unit_type": types, "enterprises": ent,
        "u_hazard": u["hazard"],
        "major_mean": u["hazard"] * ent * tt["major_rate"].to_numpy(),
        "general_mean": u["hazard"] * ent * tt["general_rate"].to_numpy(),
        "self_report": rng.beta(*SELF_REPORT_BETA, size=n),
        "rectify": rng.beta(*RECTIFY_BETA, size=n),
        "quota": np.ceil(ent / 12),
        "inspect_extra": u["inspect"] * ent * tt["inspect_rate"].to_numpy(),
        "principal_extra": np.where(minimum_only, 0.0,
                                    u["principal"] * tt["principal_extra"].to_numpy()),
        "principal_persons": tt["principal_persons"].to_numpy(),
        "worker_mean": u["worker"] * ent * tt["worker_rate"].to_numpy(),
        "worker_persons": tt["worker_persons"].to_numpy(),
        "drill_extra": u["drill"] * ent * tt["drill_rate"].to_numpy(),
        "penalty_mean": u["penalty"] * ent * tt["penalty_rate"].to_numpy(),
    })
    return units


def _gamma_poisson(rng, mean_unit, shape_t, month_shape):
    """Counts [unit, month] and their latent rates λ: λ ~ Gamma(m·s_t, μ/m) (mean μ·s_t),
    or λ = μ·s_t when month_shape is None."""
    if month_shape is None:
        lam = mean_unit[:, None] * shape_t[None, :]
    else:
        lam = rng.gamma(shape_t[None, :], (mean_unit / month_shape)[:, None])
    return rng.poisson(lam), lam


def _nb_per_session(rng, sessions, persons_mean, shape):
    """Persons = sessions + NB(shape·sessions, mean (persons − 1)·sessions): at least one
    person a session, the rest negative binomial (a sum of i.i.d. NB per session)."""
    s = sessions.astype(float)
    mean = s * (persons_mean[:, None] - 1)
    n = np.maximum(shape * s, 1e-9)
    extra = rng.negative_binomial(n, n / (n + np.maximum(mean, 1e-12)))
    return sessions + np.where(sessions > 0, extra, 0)


def _honest(rng, units, n_months, month_shape):
    n = len(units)
    season = month_weights(n_months)
    m = month_shape
    shape_t = season * (m if m is not None else 1.0)
    v = {}
    major, lam_major = _gamma_poisson(rng, units["major_mean"].to_numpy(),
                                      shape_t if m is not None else season, m)
    general, _ = _gamma_poisson(rng, units["general_mean"].to_numpy(),
                                shape_t if m is not None else season, m)
    pi = units["self_report"].to_numpy()[:, None]
    rho = units["rectify"].to_numpy()[:, None]
    ent = rng.binomial(major, pi)
    v["major_hazards_found"] = major
    v["major_hazards_found_enterprise"] = ent
    v["major_hazards_found_dept"] = major - ent
    v["major_hazards_rectified_dept"] = rng.binomial(major - ent, rho)
    v["major_hazards_rectified_enterprise"] = rng.binomial(ent, rho)
    v["major_hazards_rectified"] = (v["major_hazards_rectified_dept"]
                                    + v["major_hazards_rectified_enterprise"])
    v["general_hazards_found"] = general
    v["general_hazards_rectified"] = rng.binomial(general, rho)
    v["units_inspected"] = (units["quota"].to_numpy()[:, None]
                            + rng.poisson(units["inspect_extra"].to_numpy()[:, None],
                                          (n, n_months))).astype(int)
    ps = 1 + rng.poisson(units["principal_extra"].to_numpy()[:, None], (n, n_months))
    v["principal_training_sessions"] = ps
    v["principal_training_persons"] = _nb_per_session(
        rng, ps, units["principal_persons"].to_numpy(), PRINCIPAL_PERSONS_SHAPE)
    ws, _ = _gamma_poisson(rng, units["worker_mean"].to_numpy(),
                           np.full(n_months, m if m is not None else 1.0), m)
    v["worker_training_sessions"] = ws
    v["worker_training_persons"] = _nb_per_session(
        rng, ws, units["worker_persons"].to_numpy(), WORKER_PERSONS_SHAPE)
    de = 1 + rng.poisson(units["drill_extra"].to_numpy()[:, None], (n, n_months))
    v["drill_enterprises"] = de
    v["drills"] = de + rng.poisson(DRILL_EXTRA * de)
    v["safety_meetings"] = 1 + rng.binomial(1, SECOND_MEETING, (n, n_months))
    pen = rng.poisson(units["penalty_mean"].to_numpy()[:, None], (n, n_months))
    v["penalties"] = pen
    amounts = rng.choice(FINE_AMOUNTS, size=int(pen.sum()), p=FINE_WEIGHTS)
    owner = np.repeat(np.arange(pen.size), pen.ravel())
    v["fines"] = np.round(np.bincount(owner, weights=amounts, minlength=pen.size)
                          .reshape(pen.shape), 2)
    latent = {"major": lam_major}
    return {k: np.asarray(v[k]) for k in INDICATOR_CODES}, latent, season


# ------------------------------------------------------------------------ plan
def plan_anomalies(n_units: int, contamination: float, *, start: int = 0,
                   rng: np.random.Generator | None = None, n_towns: int | None = None):
    """The unit kinds for one district: take ``UNIT_KINDS`` cyclically from index
    ``start`` while they fit in ``round(contamination × n_units)`` anomalous units (a
    coordinated group takes 3–8 towns, drawn here; identical rows take 2 units; the
    others 1).  Returns ``(plan, next_start)``, plan a list of (kind, units).  A group
    never fits when fewer than 3 anomalous units (or towns) are allowed: it is
    skipped then."""
    rng = rng or np.random.default_rng(start)
    budget = int(round(contamination * n_units))
    towns = n_units if n_towns is None else n_towns
    plan, i, left = [], start, budget
    for _ in range(4 * len(UNIT_KINDS)):
        kind = UNIT_KINDS[i % len(UNIT_KINDS)]
        if kind == "coordinated_group":
            cap = min(8, left, towns - 2)
            if min(8, budget, towns - 2) < 3:      # can never fit: skip it
                i += 1
                continue
            size = min(int(rng.integers(3, 9)), cap)
            if size < 3:
                break
        else:
            size = 2 if kind == "identical_rows" else 1
            if size > left:
                break
        plan.append((kind, size))
        left -= size
        i += 1
        if left == 0:
            break
    return plan, i


# ---------------------------------------------------------------------- panel
def _panel(units: pd.DataFrame, periods: list[str], values: dict) -> pd.DataFrame:
    n, t = len(units), len(periods)
    k = len(INDICATOR_CODES)
    unit_idx = np.repeat(np.arange(n), t * k)
    period_idx = np.tile(np.repeat(np.arange(t), k), n)
    ind_idx = np.tile(np.arange(k), n * t)
    stack = np.stack([np.asarray(values[c], float) for c in INDICATOR_CODES], axis=-1)  # n,t,k
    panel = pd.DataFrame({
        "unit": pd.array(units["unit"].to_numpy()[unit_idx], dtype="str"),
        "unit_type": pd.array(units["unit_type"].to_numpy()[unit_idx], dtype="str"),
        "parent": pd.array(["示范区"] * len(unit_idx), dtype="str"),
        "period": pd.array(np.asarray(periods, dtype=object)[period_idx], dtype="str"),
        "indicator": pd.array(np.asarray(INDICATOR_CODES, dtype=object)[ind_idx], dtype="str"),
        "value": stack.reshape(-1),
        "approx": np.zeros(len(unit_idx), bool),
        "source_file": pd.array(["district"] * len(unit_idx), dtype="str"),
        "source_sheet": pd.array([None] * len(unit_idx), dtype="str"),
        "source_row": (unit_idx * t + period_idx + 2).astype("int64"),
    })
    return panel[PANEL_COLUMNS]


def _exposure(units: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"unit": pd.array(units["unit"], dtype="str"),
                         "sector": pd.array([""] * len(units), dtype="str"),
                         "enterprises": units["enterprises"].astype(float).to_numpy(),
                         "source_file": pd.array(["district"] * len(units), dtype="str"),
                         "source_row": np.arange(2, len(units) + 2, dtype="int64")})


def _periods(start: str, n_months: int) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.period_range(start, periods=n_months, freq="M")]


def make_district(seed: int = 0, *, n_units: int = 50, n_months: int = 12,
                  start: str = "2024-01", unit_types: dict | None = None,
                  overdispersion="gamma4", contamination: float = 0.1,
                  strength: str = "strong", month_shape: float | None = 10.0,
                  plan=None, plan_start: int | None = None,
                  district_step: bool = True) -> District:
    """A benchmark district and its null twin.

    Parameters
    ----------
    seed : int
        Seeds three independent streams: the honest district, the choice of anomalous
        units, and the injected figures.  The honest district depends only on
        ``seed``, ``n_units``, ``n_months``, ``unit_types``, ``overdispersion`` and
        ``month_shape``: the same for every contamination, strength and plan.
    n_units, n_months, start : int, int, str
        Units, months and the first month (``2024-01``).
    unit_types : dict, optional
        Share of each unit type (``town``, ``department``, ``soe``); default 0.6, 0.3,
        0.1.
    overdispersion : str or UnitEffect
        The between-unit effect: ``gamma2``, ``gamma4``, ``gamma10``, ``lognormal``.
    contamination : float
        Share of units made anomalous (≤ 0.2 in the grid).
    strength : ``strong`` or ``mild``
        See ``STRENGTHS``.
    month_shape : float or None
        Gamma shape of the month-to-month noise of hazards and worker trainings (None:
        Poisson months).
    plan : list of (kind, units), optional
        The unit kinds to plant; default ``plan_anomalies(n_units, contamination,
        start=plan_start or seed)``.  An empty list plants nothing at unit level.
    district_step : bool
        Plant a district-wide step in major hazards found (from month 8, 9 or 10 of
        12, the same place from the end for other lengths).

    Returns
    -------
    District
        With ``null``, the same district with nothing planted.
    """
    from .inject import apply_plan

    if strength not in STRENGTHS:
        raise ValueError(f"strength must be one of {sorted(STRENGTHS)}, got {strength!r}")
    if not 0 <= contamination < 1:
        raise ValueError(f"contamination must be in [0, 1), got {contamination}")
    if n_units < 6 or n_months < 6:
        raise ValueError(f"a district needs at least 6 units and 6 months "
                         f"(got {n_units}, {n_months})")
    effect = unit_effect(overdispersion)
    shares = unit_types or TYPE_TABLE["share"].to_dict()
    unknown = set(shares) - set(TYPE_TABLE.index)
    if unknown:
        raise ValueError(f"unknown unit types {sorted(unknown)}; known {list(TYPE_TABLE.index)}")
    ss = np.random.SeedSequence(seed)
    r_honest, r_plan, r_inject = (np.random.default_rng(s) for s in ss.spawn(3))
    units = _units(r_honest, n_units, shares, effect)
    values, latent, season = _honest(r_honest, units, n_months, month_shape)
    periods = _periods(start, n_months)
    knobs = dict(seed=seed, n_units=n_units, n_months=n_months, overdispersion=effect.label,
                 contamination=contamination, strength=strength, month_shape=month_shape)
    null_params = DistrictParams(units=units, periods=periods, season=season,
                                 major_season=season.copy(), month_shape=month_shape,
                                 effect=effect, strength=strength)
    empty_truth = pd.DataFrame({c: pd.Series(dtype="str") for c in
                                ("kind", "unit", "group", "indicator", "period", "strength",
                                 "note")})
    empty_cells = pd.DataFrame({c: pd.Series(dtype="str") for c in
                                ("kind", "unit", "indicator", "period")})
    exposure = _exposure(units)
    null = District(panel=_panel(units, periods, values), exposure=exposure, values=values,
                    truth=empty_truth, cells=empty_cells, params=null_params,
                    knobs={**knobs, "contamination": 0.0, "null": True})
    if plan is None:
        n_towns = int((units["unit_type"] == "town").sum())
        plan, _ = plan_anomalies(n_units, contamination,
                                 start=seed if plan_start is None else plan_start,
                                 rng=r_plan, n_towns=n_towns)
    new_values, truth, cells, step = apply_plan(
        values, latent, units, periods, plan, STRENGTHS[strength], strength, r_plan, r_inject,
        month_shape=month_shape, season=season, district_step=district_step)
    major_season = season.copy()
    if step is not None:
        major_season[step[0]:] *= 1 + step[1]
    params = DistrictParams(units=units, periods=periods, season=season,
                            major_season=major_season, month_shape=month_shape,
                            effect=effect, strength=strength, step=step)
    return District(panel=_panel(units, periods, new_values), exposure=exposure,
                    values=new_values, truth=truth, cells=cells, params=params,
                    knobs={**knobs, "plan": plan, "null": False}, null=null)
