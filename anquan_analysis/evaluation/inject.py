"""Planting the anomalies of a plan into a copy of an honest district (``districts.py``).

Each kind is a function ``(ctx, size, group) -> None`` that picks its units, changes
their figures, re-draws what depends on them so that the catalogue's rules still hold
(except for ``rule_break``), and records its truth rows and changed cells.  Nothing
here reads the checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .districts import INDICATOR_CODES, MAJOR_PARTS

MAJOR_FOUND = ("major_hazards_found", "major_hazards_found_dept", "major_hazards_found_enterprise")
GROUP_VARIANTS = (("major_hazards_found", "exact"), ("general_hazards_found", "exact"),
                  ("general_hazards_found", "near"))
RULE_BREAKS = ("rectified_gt_found", "parts_not_sum", "persons_lt_sessions",
               "drills_lt_enterprises", "fines_without_penalties")


@dataclass
class _Ctx:
    v: dict
    units: pd.DataFrame
    periods: list[str]
    S: dict
    strength: str
    r_plan: np.random.Generator
    r_inj: np.random.Generator
    lam_major: np.ndarray
    month_shape: float | None
    season: np.ndarray
    used: np.ndarray = None
    truth: list = field(default_factory=list)
    cells: list = field(default_factory=list)

    @property
    def T(self) -> int:
        return len(self.periods)

    def col(self, name) -> np.ndarray:
        return self.units[name].to_numpy()

    # -- choosing units
    def pick(self, k: int, score: np.ndarray, eligible: np.ndarray, types=None) -> np.ndarray:
        """``k`` unused units at random among the eligible (of ``types``); short of
        them, the unused ones with the highest ``score``.  Marks them used."""
        ok = ~self.used
        if types is not None:
            ok &= np.isin(self.col("unit_type"), types)
        good = np.flatnonzero(ok & eligible)
        chosen = list(self.r_plan.choice(good, size=min(k, len(good)), replace=False))
        if len(chosen) < k:
            rest = [i for i in np.argsort(-score, kind="stable") if ok[i] and i not in chosen]
            chosen += rest[: k - len(chosen)]
        if len(chosen) < k:
            raise ValueError(f"not enough units left to plant {k} (types {types})")
        idx = np.array(sorted(chosen))
        self.used[idx] = True
        return idx

    def months(self, count, where: str) -> np.ndarray:
        """All months (count None), the last ``count``, or ``count`` at random."""
        if count is None or count >= self.T:
            return np.arange(self.T)
        if where == "last":
            return np.arange(self.T - count, self.T)
        return np.sort(self.r_plan.choice(self.T, size=count, replace=False))

    # -- records
    def record(self, kind, units, indicators, months, group, note=""):
        for i in np.atleast_1d(units):
            for ind in indicators:
                for t in months:
                    self.truth.append((kind, self.units["unit"].iat[i], str(group), ind,
                                       self.periods[t], self.strength, note))

    def touch(self, kind, units, indicators, months):
        for i in np.atleast_1d(units):
            for ind in indicators:
                for t in months:
                    self.cells.append((kind, self.units["unit"].iat[i], ind, self.periods[t]))

    # -- re-drawing what depends on a changed figure
    def set_major(self, kind, i, months, found):
        """Major hazards found of unit ``i`` in ``months`` become ``found``; the source
        split and the rectified counts are drawn again with the unit's own π and ρ."""
        pi, rho = self.units["self_report"].iat[i], self.units["rectify"].iat[i]
        found = np.asarray(found, int)
        ent = self.r_inj.binomial(found, pi)
        self._write_major(i, months, found, ent, rho)
        self.touch(kind, i, MAJOR_PARTS, months)

    def _write_major(self, i, months, found, ent, rho):
        v = self.v
        v["major_hazards_found"][i, months] = found
        v["major_hazards_found_enterprise"][i, months] = ent
        v["major_hazards_found_dept"][i, months] = found - ent
        rd = self.r_inj.binomial(found - ent, rho)
        re = self.r_inj.binomial(ent, rho)
        v["major_hazards_rectified_dept"][i, months] = rd
        v["major_hazards_rectified_enterprise"][i, months] = re
        v["major_hazards_rectified"][i, months] = rd + re

    def set_general(self, kind, i, months, found):
        rho = self.units["rectify"].iat[i]
        found = np.asarray(found, int)
        self.v["general_hazards_found"][i, months] = found
        self.v["general_hazards_rectified"][i, months] = self.r_inj.binomial(found, rho)
        self.touch(kind, i, ("general_hazards_found", "general_hazards_rectified"), months)


def _annual_major(ctx) -> np.ndarray:
    return ctx.col("major_mean") * ctx.season.sum()


def _low_reporter(ctx, size, group):
    score = _annual_major(ctx)
    for i in ctx.pick(size, score, score >= 6):
        months = np.arange(ctx.T)
        kept = ctx.r_inj.binomial(ctx.v["major_hazards_found"][i], ctx.S["low"])
        ctx.set_major("low_reporter", i, months, kept)
        ctx.record("low_reporter", i, MAJOR_FOUND, months, group, f"keeps {ctx.S['low']:.0%}")


def _zero_reporter(ctx, size, group):
    score = _annual_major(ctx)
    for i in ctx.pick(size, score, score >= 6):
        months = ctx.months(ctx.S["zero"], "last")
        ctx.set_major("zero_reporter", i, months, np.zeros(len(months), int))
        ctx.record("zero_reporter", i, MAJOR_FOUND, months, group, f"0 for {len(months)} months")


def _surge(ctx, size, group):
    factor, floor = ctx.S["surge"]
    score = ctx.col("major_mean")
    for i in ctx.pick(size, score, np.ones(len(score), bool)):
        t = int(ctx.r_plan.integers(ctx.T // 2, ctx.T))
        add = int(floor + ctx.r_inj.poisson((factor - 1) * ctx.lam_major[i, t]))
        found = ctx.v["major_hazards_found"][i, [t]] + add
        ctx.set_major("surge", i, [t], found)
        ctx.record("surge", i, MAJOR_FOUND, [t], group, f"+{add}")


def _low_self_report(ctx, size, group):
    score = _annual_major(ctx)
    for i in ctx.pick(size, score, score >= 15):
        months = np.arange(ctx.T)
        found = ctx.v["major_hazards_found"][i]
        ent = ctx.r_inj.binomial(found, ctx.S["self"])
        ctx._write_major(i, months, found, ent, ctx.units["rectify"].iat[i])
        ctx.touch("low_self_report", i, MAJOR_PARTS, months)
        ctx.record("low_self_report", i, MAJOR_FOUND, months, group,
                   f"share {ctx.S['self']:.0%}")


def _coordinated_group(ctx, size, group):
    indicator, mode = GROUP_VARIANTS[int(ctx.r_plan.integers(len(GROUP_VARIANTS)))]
    if indicator == "major_hazards_found":
        eligible = ctx.col("major_mean") >= 0.5
        score = ctx.col("major_mean")
    else:
        eligible = ctx.col("general_mean") >= 3
        score = ctx.col("general_mean")
    members = ctx.pick(size, score, eligible, types=["town"])
    months = ctx.months(ctx.S["agree"], "random")
    honest = ctx.v[indicator][np.ix_(members, months)]
    common = np.round(honest.mean(axis=0)).astype(int)
    if indicator == "major_hazards_found":
        common = np.maximum(common, 1)      # balancing means agreeing on something
    for i in members:
        value = common
        if mode == "near":      # every two members within ±1 of each other
            value = common + ctx.r_inj.integers(0, 2, size=len(months))
        if indicator == "major_hazards_found":
            ctx.set_major("coordinated_group", i, months, value)
        else:
            ctx.set_general("coordinated_group", i, months, value)
    ctx.record("coordinated_group", members, (indicator,), months, group,
               f"{mode} agreement of {len(members)} towns")


def _identical_rows(ctx, size, group):
    types = ctx.units.loc[~ctx.used, "unit_type"].value_counts()
    types = [t for t in ("town", "department", "soe") if types.get(t, 0) >= 2]
    if not types:
        raise ValueError("identical_rows needs two unused units of one type")
    pair = ctx.pick(2, ctx.col("general_mean"), np.ones(len(ctx.units), bool), types=types[:1])
    source, copier = ctx.r_plan.permutation(pair)
    months = ctx.months(ctx.S["copy"], "random")
    for ind in INDICATOR_CODES:
        ctx.v[ind][copier, months] = ctx.v[ind][source, months]
    ctx.touch("identical_rows", copier, INDICATOR_CODES, months)
    ctx.record("identical_rows", pair, (None,), months, group,
               f"{ctx.units['unit'].iat[copier]} copied {ctx.units['unit'].iat[source]}")


def _flat_sd(ctx) -> dict:
    m = ctx.month_shape
    g = ctx.col("general_mean")
    return {"units_inspected": np.sqrt(ctx.col("inspect_extra")),
            "general_hazards_found": np.sqrt(g + (g ** 2 / m if m else 0.0))}


def _flat_line(ctx, size, group):
    sd = _flat_sd(ctx)
    best = np.maximum(sd["units_inspected"], sd["general_hazards_found"])
    for i in ctx.pick(size, best, best >= 1.4):
        options = [k for k, s in sd.items() if s[i] >= 1.4] or [max(sd, key=lambda k: sd[k][i])]
        indicator = options[int(ctx.r_plan.integers(len(options)))]
        months = ctx.months(ctx.S["flat"], "last")
        level = int(np.round(ctx.v[indicator][i, months].mean()))
        if indicator == "units_inspected":   # not at the mandated minimum
            level = max(level, int(ctx.units["quota"].iat[i]) + 1)
            ctx.v[indicator][i, months] = level
            ctx.touch("flat_line", i, (indicator,), months)
        else:
            ctx.set_general("flat_line", i, months, np.full(len(months), max(level, 1)))
        ctx.record("flat_line", i, (indicator,), months, group, f"{level} every month")


def _persons_options(ctx) -> dict:
    return {"principal_training_persons":
            (1 + ctx.col("principal_extra")) * ctx.col("principal_persons"),
            "worker_training_persons":
            np.where(ctx.col("worker_mean") >= 2,
                     ctx.col("worker_mean") * ctx.col("worker_persons"), 0)}


def _heaping(kind, base, count_key):
    def plant(ctx, size, group):
        opts = _persons_options(ctx)
        best = np.maximum(*opts.values())
        for i in ctx.pick(size, best, best >= 20):
            names = ([k for k, x in opts.items() if x[i] >= 20]
                     or [max(opts, key=lambda k: opts[k][i])])
            indicator = names[int(ctx.r_plan.integers(len(names)))]
            sessions = indicator.replace("persons", "sessions")
            months = ctx.months(ctx.S[count_key], "random")
            x = ctx.v[indicator][i, months]
            s = ctx.v[sessions][i, months]
            # to the nearest multiple, never below one multiple nor below the sessions
            rounded = np.maximum(np.round(x / base).astype(int) * base, base)
            rounded = np.maximum(rounded, np.ceil(s / base).astype(int) * base)
            new = np.where(x >= min(base, 5), rounded, x)
            ctx.v[indicator][i, months] = new
            ctx.touch(kind, i, (indicator,), months)
            ctx.record(kind, i, (indicator,), months, group, f"rounded to {base}")
    return plant


def _pinned_rate(ctx, size, group):
    months = ctx.months(ctx.S["pinned"], "last")
    per_month = ctx.col("major_mean") + ctx.col("general_mean")
    score = per_month * ctx.season[months].sum()
    v = ctx.v
    for i in ctx.pick(size, score, score >= 30):
        v["major_hazards_rectified_dept"][i, months] = v["major_hazards_found_dept"][i, months]
        v["major_hazards_rectified_enterprise"][i, months] = \
            v["major_hazards_found_enterprise"][i, months]
        v["major_hazards_rectified"][i, months] = v["major_hazards_found"][i, months]
        v["general_hazards_rectified"][i, months] = v["general_hazards_found"][i, months]
        ind = ("major_hazards_rectified", "major_hazards_rectified_dept",
               "major_hazards_rectified_enterprise", "general_hazards_rectified")
        ctx.touch("pinned_rate", i, ind, months)
        ctx.record("pinned_rate", i, ind + ("major_hazards_found", "general_hazards_found"),
                   months, group, f"100% for {len(months)} months")


def _break_rule(ctx, i, t, how) -> tuple:
    v = ctx.v
    d = 1 + int(ctx.r_inj.integers(0, 3))
    if how == "rectified_gt_found":
        v["major_hazards_rectified"][i, t] = v["major_hazards_found"][i, t] + d
        v["major_hazards_rectified_dept"][i, t] = (v["major_hazards_rectified"][i, t]
                                                   - v["major_hazards_rectified_enterprise"][i, t])
        return "major_hazards_rectified", "major_hazards_rectified_dept"
    if how == "parts_not_sum":
        v["major_hazards_found"][i, t] += d
        return ("major_hazards_found",)
    if how == "persons_lt_sessions":
        s, p = v["principal_training_sessions"][i, t], v["principal_training_persons"][i, t]
        if p > s:       # the two figures typed in each other's column
            v["principal_training_sessions"][i, t], v["principal_training_persons"][i, t] = p, s
        else:
            v["principal_training_persons"][i, t] = s - 1
        return "principal_training_sessions", "principal_training_persons"
    if how == "drills_lt_enterprises":
        e, k = v["drill_enterprises"][i, t], v["drills"][i, t]
        if k > e:
            v["drill_enterprises"][i, t], v["drills"][i, t] = k, e
        else:
            v["drills"][i, t] = e - 1
        return "drill_enterprises", "drills"
    v["penalties"][i, t] = 0
    v["fines"][i, t] = max(v["fines"][i, t], 0.5)
    return "penalties", "fines"


def _rule_break(ctx, size, group):
    score = ctx.col("enterprises").astype(float)
    for i in ctx.pick(size, score, np.ones(len(score), bool)):
        months = ctx.months(ctx.S["rule"], "random")
        hows = []
        for t in months:
            how = RULE_BREAKS[int(ctx.r_plan.integers(len(RULE_BREAKS)))]
            ctx.touch("rule_break", i, _break_rule(ctx, i, t, how), [t])
            hows.append(how)
        ctx.record("rule_break", i, (None,), months, group, "、".join(hows))


INJECTORS = {
    "low_reporter": _low_reporter, "zero_reporter": _zero_reporter, "surge": _surge,
    "low_self_report": _low_self_report, "coordinated_group": _coordinated_group,
    "identical_rows": _identical_rows, "flat_line": _flat_line,
    "last_digit_heaping": _heaping("last_digit_heaping", 5, "digit"),
    "round_number_heaping": _heaping("round_number_heaping", 50, "round"),
    "pinned_rate": _pinned_rate, "rule_break": _rule_break,
}


def _district_step(ctx, delta):
    """From a month near the end on, every unit's major-hazard rate rises by ``delta``:
    λ' = λ + Gamma(m·s_t·δ, μ/m), so that λ' is Gamma(m·s_t·(1 + δ), μ/m) (the
    Dirichlet-multinomial split of a unit's total stays exact for the oracle)."""
    T = ctx.T
    t0 = T - 5 + int(ctx.r_plan.integers(0, 3))
    months = np.arange(t0, T)
    mean = ctx.col("major_mean")[:, None]
    m = ctx.month_shape
    if m is None:
        extra_lam = mean * ctx.season[None, months] * delta
    else:
        extra_lam = ctx.r_inj.gamma(m * ctx.season[None, months] * delta, mean / m)
    ctx.lam_major[:, months] += extra_lam
    extra = ctx.r_inj.poisson(extra_lam)
    pi = ctx.col("self_report")[:, None]
    rho = ctx.col("rectify")[:, None]
    ent = ctx.r_inj.binomial(extra, pi)
    v = ctx.v
    v["major_hazards_found"][:, months] += extra
    v["major_hazards_found_enterprise"][:, months] += ent
    v["major_hazards_found_dept"][:, months] += extra - ent
    rd = ctx.r_inj.binomial(extra - ent, rho)
    re = ctx.r_inj.binomial(ent, rho)
    v["major_hazards_rectified_dept"][:, months] += rd
    v["major_hazards_rectified_enterprise"][:, months] += re
    v["major_hazards_rectified"][:, months] += rd + re
    ctx.touch("district_step", np.arange(len(ctx.units)), MAJOR_PARTS, months)
    for t in months:
        for ind in MAJOR_FOUND:
            ctx.truth.append(("district_step", None, "step", ind, ctx.periods[t], ctx.strength,
                              f"+{delta:.0%} from {ctx.periods[t0]}"))
    return int(t0), float(delta)


def apply_plan(values, latent, units, periods, plan, S, strength, r_plan, r_inj, *,
               month_shape, season, district_step):
    """A copy of ``values`` with the district step (if asked) and then each (kind,
    size) of ``plan`` planted; returns (values, truth, cells, step).  ``values`` is not
    modified."""
    v = {k: a.copy() for k, a in values.items()}
    ctx = _Ctx(v=v, units=units, periods=periods, S=S, strength=strength, r_plan=r_plan,
               r_inj=r_inj, lam_major=latent["major"].copy(), month_shape=month_shape,
               season=season, used=np.zeros(len(units), bool))
    step = _district_step(ctx, S["step"]) if district_step else None
    for group, (kind, size) in enumerate(plan):
        if kind not in INJECTORS:
            raise ValueError(f"unknown anomaly kind {kind!r}; known: {sorted(INJECTORS)}")
        INJECTORS[kind](ctx, size, group)
    truth = pd.DataFrame(ctx.truth, columns=["kind", "unit", "group", "indicator", "period",
                                             "strength", "note"])
    truth = truth.astype({c: "str" for c in truth.columns})
    cells = pd.DataFrame(ctx.cells, columns=["kind", "unit", "indicator", "period"]).astype("str")
    return v, truth, cells.drop_duplicates(ignore_index=True), step
