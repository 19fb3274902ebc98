"""Detection and false alarms of issue 12's balance changes, old method against new, on
simulated districts written for this script (not ``synth.py``):

1. heaping on one indicator: ``last_digit`` pooled per unit (before), ``last_digit``
   per (unit, indicator) (after), and the new ``round_number``;
2. round numbers of small values: ``round_number``'s chance from the series' range
   against the integers' plain 1/M;
3. flat lines at a quota: ``repeated_value`` without and with the mandated minimum;
4. pinned rectification: ``pinned_rate`` binomial (before) and beta-binomial (after,
   with the spread's maximum-likelihood estimate and its 80% bound, the default),
   beside an oracle that knows the true spread of rates.

Every district has a null twin (the same draws, nothing injected).  Printed, never
asserted.  ``python benchmarks/balance_changes.py [--seeds 20]``.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy import stats

from anquan_analysis.checks import balance
from anquan_analysis.checks._stats import bh_adjust, tarone_bh
from anquan_analysis.checks.balance.multiples import series_stats
from anquan_analysis.panel import as_panel

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
HONEST = ["units_inspected", "general_hazards_found", "principal_training_persons",
          "standard_publicity_persons", "assistance_visits", "assisted_enterprises",
          "elevators_inspected", "drill_participants", "law_enforcement_inspections",
          "covert_inspections", "principal_training_sessions"]
HEAPED = "worker_training_persons"


def frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["unit", "unit_type", "period", "indicator", "value"])
    return df.assign(parent="区", approx=False, value=df["value"].astype(float))


def flagged(findings: pd.DataFrame, by_indicator: bool = False) -> set:
    f = findings[findings["severity"] != "info"]
    return set(zip(f["unit"], f["indicator"])) if by_indicator else set(f["unit"])


def rate(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / max(total, 1):.1f}%)"


# ---------------------------------------------------------------------- 1. heaping
def heaping_city(seed: int, *, n_units: int = 50, shape: float = 2.0, inject: bool,
                 strength: str = "strong"):
    """Units × 12 indicators × 12 months.  A unit's level on an indicator is its size
    (lognormal) × the indicator's scale (8–60, persons trained 150–600) × a Gamma(shape)
    effect; months are Poisson around it with Gamma(4) month-to-month noise.  Three
    units heap persons trained: strong, rounded to 50 in all 12 months; mild, to 10
    in 9 of 12."""
    rng = np.random.default_rng(seed)
    scale = np.exp(rng.uniform(np.log(8), np.log(60), len(HONEST)))
    size = rng.lognormal(0, 0.6, n_units)
    heaped = set(rng.choice(n_units, 3, replace=False)) if inject else set()
    rows, truth = [], set()
    for u in range(n_units):
        name = f"U{u:02d}"
        levels = size[u] * np.append(scale, rng.uniform(150, 600)) * rng.gamma(shape, 1 / shape,
                                                                               len(HONEST) + 1)
        for k, ind in enumerate(HONEST + [HEAPED]):
            vals = rng.poisson(rng.gamma(4, levels[k] / 4, 12))
            if u in heaped and ind == HEAPED:
                if strength == "strong":
                    vals = 50 * np.round(vals / 50)
                else:
                    months = rng.choice(12, 9, replace=False)
                    vals[months] = 10 * np.round(vals[months] / 10)
                truth.add((name, ind))
            rows += [(name, "town", m, ind, v) for m, v in zip(MONTHS, vals)]
    return frame(rows), truth


def naive_round(df) -> set:
    """round_number with every figure's chance the integers' 1/M (no range)."""
    cube = as_panel(df).series(None)
    s = series_stats(cube, 10, (10, 50, 100))
    tested = s["n"] >= 8
    p = np.min([stats.binom.sf(s["k"][:, j] - 1, s["n"], 1 / m)
                for j, m in enumerate((10, 50, 100))], axis=0) * 3
    q = bh_adjust(np.minimum(p[tested], 1.0))
    return {(cube.units[u], cube.indicators[i])
            for u, i in zip(s["u"][tested][q < 0.05], s["i"][tested][q < 0.05])}


def heaping(seeds: int) -> None:
    # (function, whether it names the indicator)
    methods = {
        "last_digit pooled (before)":
            (lambda df: flagged(balance.last_digit(df, min_series_n=10 ** 6)), False),
        "last_digit per indicator (after)": (lambda df: flagged(balance.last_digit(df), True), True),
        "round_number (new)": (lambda df: flagged(balance.round_number(df), True), True),
        "round_number with chance 1/M": (naive_round, True),
    }
    for strength in ("strong", "mild"):
        print(f"\n1-2. Heaping on one indicator ({strength}): 50 units, {seeds} districts and "
              "their null twins; found = the heaped (unit, indicator), or the unit when pooled")
        for name, (fn, by_indicator) in methods.items():
            found = injected = clean_hit = clean = null_hit = null = 0
            for seed in range(seeds):
                df, truth = heaping_city(seed, inject=True, strength=strength)
                got = fn(df)
                want = truth if by_indicator else {u for u, _ in truth}
                units_hit = {u for u, _ in got} if by_indicator else got
                found += len(want & got)
                injected += len(want)
                clean_hit += len(units_hit - {u for u, _ in truth})
                clean += 50 - len(truth)
                twin, _ = heaping_city(seed, inject=False, strength=strength)
                twin_got = fn(twin)
                null_hit += len({u for u, _ in twin_got} if by_indicator else twin_got)
                null += 50
            print(f"   {name:34s} found {rate(found, injected):16s} clean units flagged "
                  f"{rate(clean_hit, clean):16s} null-twin units flagged {rate(null_hit, null)}")


# ------------------------------------------------------------------- 3. quota floor
def quota_city(seed: int, *, n_units: int = 50, inject: bool, strength: str = "strong"):
    """Safety meetings: 1 a month in 80% of units, else 1 + Poisson(0.3); worker
    training sessions 1 + Poisson(λ), λ ~ Gamma(2, mean 0.5) per unit; drills =
    drill enterprises (a unit's own, 2–8) + Poisson(1); two ordinary counts.  Three
    units report one indicator flat: strong, 12 months at 7 (meetings or sessions);
    mild, 6 months at their own median of an ordinary count."""
    rng = np.random.default_rng(seed)
    flat = set(rng.choice(n_units, 3, replace=False)) if inject else set()
    rows, truth = [], set()
    for u in range(n_units):
        name = f"U{u:02d}"
        series = {
            "safety_meetings": (np.ones(12) if rng.random() < 0.8 else 1 + rng.poisson(0.3, 12)),
            "worker_training_sessions": 1 + rng.poisson(rng.gamma(2, 0.25), 12),
            "drills": rng.integers(2, 9) + rng.poisson(1.0, 12),
            "units_inspected": rng.poisson(rng.gamma(4, 40 / 4) * rng.gamma(4, 0.25, 12)),
            "assistance_visits": rng.poisson(rng.gamma(4, 15 / 4) * rng.gamma(4, 0.25, 12)),
        }
        if u in flat:
            if strength == "strong":
                ind = "safety_meetings" if rng.random() < 0.5 else "worker_training_sessions"
                series[ind] = np.full(12, 7)
            else:
                ind = "units_inspected" if rng.random() < 0.5 else "assistance_visits"
                v = series[ind]
                series[ind] = np.concatenate([v[:6], np.full(6, max(np.median(v), 3))])
            truth.add((name, ind))
        for ind, vals in series.items():
            rows += [(name, "town", m, ind, v) for m, v in zip(MONTHS, vals)]
    return frame(rows), truth


def quota(seeds: int) -> None:
    methods = {"repeated_value, no floor (before)": dict(mandated_minimum=False),
               "repeated_value, mandated minimum (after)": {}}
    for strength in ("strong", "mild"):
        print(f"\n3. Flat lines with quota-bound indicators ({strength}): 50 units, {seeds} "
              "districts and null twins")
        for name, kw in methods.items():
            found = injected = clean_hit = clean = null_hit = null = 0
            for seed in range(seeds):
                df, truth = quota_city(seed, inject=True, strength=strength)
                got = flagged(balance.repeated_value(df, **kw), True)
                found += len(truth & got)
                injected += len(truth)
                clean_hit += len({u for u, _ in got} - {u for u, _ in truth})
                clean += 50 - len(truth)
                twin, _ = quota_city(seed, inject=False, strength=strength)
                null_hit += len(flagged(balance.repeated_value(twin, **kw)))
                null += 50
            print(f"   {name:42s} found {rate(found, injected):16s} clean units flagged "
                  f"{rate(clean_hit, clean):16s} null-twin units flagged {rate(null_hit, null)}")


# ------------------------------------------------------------------ 4. pinned rates
def rect_city(rng, rates, lam, pinned=()):
    rows = []
    for u, (p, lam_u) in enumerate(zip(rates, lam)):
        for m in MONTHS:
            f = rng.poisson(lam_u)
            r = f if u in pinned else rng.binomial(f, p)
            rows += [(f"U{u:02d}", "town", m, "major_hazards_found", f),
                     (f"U{u:02d}", "town", m, "major_hazards_rectified", r)]
    return frame(rows)


def oracle(df, lo, hi) -> set:
    """Tarone–BH on P(all n rectified) under the true Uniform(lo, hi) rates."""
    t = df.pivot_table(index="unit", columns="indicator", values="value", aggfunc="sum")
    n = t["major_hazards_found"].to_numpy()
    r = t["major_hazards_rectified"].to_numpy()
    p_all = (hi ** (n + 1) - lo ** (n + 1)) / ((n + 1) * (hi - lo))
    q = tarone_bh(np.where(r >= n, p_all, 1.0), p_all, alpha=0.05)
    return set(t.index[q < 0.05])


def pinned(seeds: int) -> None:
    models = {"binomial (before)": dict(model="binomial"),
              "beta-binomial, spread MLE": dict(spread_level=None),
              "beta-binomial, spread 80% bound (after)": {}}
    worlds = [("peers U(80%, 90%), pinned 3 a month (36 a year)", 0.80, 0.90, 3.0, 21),
              ("peers U(80%, 90%), pinned 5 a month (60 a year)", 0.80, 0.90, 5.0, 21),
              ("peers U(68%, 93%) as synth.py, pinned 4 a month", 0.68, 0.93, 4.0, 30),
              ("honest only, U(70%, 100%)", 0.70, 1.00, None, 30)]
    print(f"\n4. Pinned rectification: towns finding 2–8 major hazards a month, {seeds} "
          "districts per world (a district with a pinned unit and its null twin)")
    for label, lo, hi, per_month, units in worlds:
        print(f"   {label}")
        for name in list(models) + ["oracle (true rates)"]:
            found = hit_clean = n_clean = cities = 0
            for seed in range(seeds):
                rng = np.random.default_rng(30_000 + seed)
                rates, lam = rng.uniform(lo, hi, units), rng.uniform(2, 8, units)
                if per_month:
                    lam[0] = per_month
                state = rng.bit_generator.state
                df = rect_city(rng, rates, lam, pinned=(0,) if per_month else ())
                rng.bit_generator.state = state
                twin = rect_city(rng, rates, lam)
                for d, is_twin in ((df, False), (twin, True)):
                    got = (oracle(d, lo, hi) if name.startswith("oracle")
                           else flagged(balance.pinned_rate(d, **models[name])))
                    if per_month and not is_twin:
                        found += "U00" in got
                        got = got - {"U00"}
                    hit_clean += len(got)
                    n_clean += units - (1 if per_month and not is_twin else 0)
                    cities += bool(got)
            head = f"found {rate(found, seeds):14s}" if per_month else " " * 20
            print(f"      {name:40s} {head} honest units flagged {rate(hit_clean, n_clean):16s} "
                  f"districts with a false alarm {rate(cities, 2 * seeds)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    args = ap.parse_args()
    heaping(args.seeds)
    quota(args.seeds)
    pinned(args.seeds)


if __name__ == "__main__":
    main()
