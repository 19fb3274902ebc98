"""The benchmark grid of ``benchmarks/detection.py``: cells of units × overdispersion ×
contamination × strength, several districts (with their null twins) per cell, the
checks and the oracle scored by the same scorer.

A cell runs districts until every unit kind has been planted ``per_kind`` times (and
at least ``min_cities`` districts): the kinds are taken in a cycle across the cell's
districts (``districts.plan_anomalies``), so a small district with few anomalous units
holds a few kinds and the next one continues the cycle.  Every second district also has
a district-wide step.  District seeds are ``seed0, seed0 + 1, …`` in every cell, so
cells that differ only in contamination or strength share their honest districts.

Rates, pooled over the cell's districts:

* recall of a kind: planted units (a coordinated group counts each member) with a
  finding of one of the kind's detectors, over planted units; for the district step,
  districts with a step that were detected;
* clean units flagged: clean units (no truth row) with any warning or alert, over
  clean units, in the districts with anomalies;
* null units flagged: units with any warning or alert in the null twins, over units;
  the null twins' district-wide alarms (a ``group_shift`` finding) are counted apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import product

import numpy as np
import pandas as pd

from ..dataset import Dataset
from ..findings import CHECK_FAMILIES
from .districts import (DISTRICT_KINDS, KINDS, UNIT_KINDS, make_district, plan_anomalies,
                        type_counts)
from .oracle import oracle_check, oracle_findings
from .score import DETECTORS, detections, flagged_clean

AXES = {"units": (30, 50, 150), "overdispersion": ("gamma2", "gamma4", "gamma10", "lognormal"),
        "contamination": (0.1, 0.2), "strength": ("strong", "mild")}
QUICK_CELLS = ((50, "gamma4", 0.2, "strong"), (30, "lognormal", 0.1, "mild"))
ORACLE_DETECTORS = {k: (oracle_check(k),) for k in KINDS}
FLAGGED = "warning"
# kinds with an absolute recall target (issue 12): strong cells, recall ≥ 0.9
ABSOLUTE_KINDS = ("coordinated_group", "last_digit_heaping", "round_number_heaping",
                  "flat_line", "surge", "pinned_rate", "rule_break")
SHORT = {"coordinated_group": "group", "low_reporter": "low", "zero_reporter": "zero",
         "surge": "surge", "low_self_report": "self", "identical_rows": "ident",
         "flat_line": "flat", "last_digit_heaping": "digit", "round_number_heaping": "round",
         "pinned_rate": "pinned", "rule_break": "rule", "district_step": "step"}


@dataclass(frozen=True)
class Cell:
    n_units: int
    overdispersion: str
    contamination: float
    strength: str

    @property
    def label(self) -> str:
        return (f"{self.n_units:>3} {self.overdispersion:<9} {self.contamination:>4.0%} "
                f"{self.strength}")


def grid_cells(quick: bool = False) -> list[Cell]:
    """Every cell of ``AXES`` (48), or the two ``QUICK_CELLS``."""
    if quick:
        return [Cell(*c) for c in QUICK_CELLS]
    return [Cell(n, o, c, s) for n, o, c, s in product(*AXES.values())]


@dataclass
class CellResult:
    cell: Cell
    detections: pd.DataFrame        # city, kind, unit, group, checks, oracle, by
    counts: dict                    # clean/null units and how many were flagged
    clean_by_check: pd.Series       # clean units flagged, per check id
    null_by_check: pd.Series        # null-twin units flagged, per check id
    cities: int
    seconds: float
    notes: list = field(default_factory=list)


# the oracle's kinds judged by the checks that run_checks(suite_level=True) holds together
SINGLE_UNIT_KINDS = ("low_reporter", "zero_reporter", "surge", "low_self_report", "flat_line",
                     "last_digit_heaping", "round_number_heaping", "pinned_rate")


def _checks(district, run_checks, **kw):
    return run_checks(Dataset(panel=district.panel, exposure=district.exposure), period=None,
                      **kw)


def _oracle(district, suite_level: bool):
    o = oracle_findings(district)
    if not suite_level:
        return o
    from ..checks.suite import suite_level as hold
    return hold(o, [oracle_check(k) for k in SINGLE_UNIT_KINDS])


def run_cell(cell: Cell, *, per_kind: int = 4, min_cities: int = 3, max_cities: int = 60,
             seed0: int = 0, run_checks=None, month_shape: float | None = 10.0,
             suite_level: bool = False) -> CellResult:
    """Run one cell (see the module docstring).  ``run_checks`` defaults to
    ``anquan_analysis.checks.run_checks``.  ``suite_level``: the checks run with
    ``run_checks(suite_level=True)`` and the oracle's single-unit kinds
    (``SINGLE_UNIT_KINDS``) are held to one error rate by the same procedure."""
    if run_checks is None:
        from ..checks import run_checks
    kw = {"suite_level": True} if suite_level else {}
    t0 = time.perf_counter()
    planted = dict.fromkeys(UNIT_KINDS, 0)
    start, city = 0, 0
    det, by_clean, by_null = [], [], []
    counts = dict(clean=0, clean_checks=0, clean_oracle=0, null=0, null_checks=0,
                  null_oracle=0, null_cities=0, null_district_checks=0,
                  null_district_oracle=0)
    n_towns = type_counts(cell.n_units).get("town", 0)
    budget = int(round(cell.contamination * cell.n_units))
    feasible = set(UNIT_KINDS)
    if min(8, budget, n_towns - 2) < 3:       # plan_anomalies can never place a group
        feasible.discard("coordinated_group")
    while city < max_cities:
        done = all(planted[k] >= per_kind for k in feasible)
        if done and city >= min_cities:
            break
        seed = seed0 + city
        plan, start = plan_anomalies(cell.n_units, cell.contamination, start=start,
                                     rng=np.random.default_rng([seed, 7]), n_towns=n_towns)
        d = make_district(seed, n_units=cell.n_units, overdispersion=cell.overdispersion,
                          contamination=cell.contamination, strength=cell.strength, plan=plan,
                          district_step=city % 2 == 1, month_shape=month_shape)
        for kind, _ in plan:
            planted[kind] += 1
        units = d.units["unit"]
        f, f0 = _checks(d, run_checks, **kw), _checks(d.null, run_checks, **kw)
        o, o0 = _oracle(d, suite_level), _oracle(d.null, suite_level)
        hit = detections(f, d.truth, detectors=DETECTORS, min_severity=FLAGGED)
        ohit = detections(o, d.truth, detectors=ORACLE_DETECTORS, min_severity=FLAGGED)
        det.append(hit.assign(city=city, oracle=ohit["detected"].to_numpy())
                   .rename(columns={"detected": "checks"}))
        fc = flagged_clean(f, d.truth, units, min_severity=FLAGGED)
        oc = flagged_clean(o, d.truth, units, min_severity=FLAGGED)
        n_clean = len(set(units) - set(d.truth["unit"].dropna()))
        empty = d.null.truth
        fn = flagged_clean(f0, empty, units, min_severity=FLAGGED)
        on = flagged_clean(o0, empty, units, min_severity=FLAGGED)
        counts["clean"] += n_clean
        counts["clean_checks"] += fc["unit"].nunique()
        counts["clean_oracle"] += oc["unit"].nunique()
        counts["null"] += len(units)
        counts["null_checks"] += fn["unit"].nunique()
        counts["null_oracle"] += on["unit"].nunique()
        counts["null_cities"] += 1
        step_checks = set(DETECTORS["district_step"])
        counts["null_district_checks"] += int(
            (f0["check"].isin(step_checks) & f0["severity"].isin(["warning", "alert"])).any())
        counts["null_district_oracle"] += int(
            ((o0["check"] == oracle_check("district_step")) & (o0["severity"] != "info")).any())
        by_clean.append(fc.groupby("check").size())
        by_null.append(fn.groupby("check").size())
        city += 1
    notes = [f"{k}: planted {planted[k]} times" for k in UNIT_KINDS if planted[k] < per_kind]
    return CellResult(cell=cell, detections=pd.concat(det, ignore_index=True), counts=counts,
                      clean_by_check=_sum(by_clean), null_by_check=_sum(by_null), cities=city,
                      seconds=time.perf_counter() - t0, notes=notes)


def _sum(series) -> pd.Series:
    s = [x for x in series if len(x)]
    return pd.concat(s).groupby(level=0).sum() if s else pd.Series(dtype="int64")


def recall_table(result: CellResult) -> pd.DataFrame:
    """Per kind: planted (units; districts for the step), found by the checks and by
    the oracle, and the two recalls."""
    d = result.detections
    g = d.groupby("kind").agg(planted=("checks", "size"), checks=("checks", "sum"),
                              oracle=("oracle", "sum"))
    g = g.reindex(KINDS)
    g["recall"] = g["checks"] / g["planted"]
    g["oracle_recall"] = g["oracle"] / g["planted"]
    return g


def cell_row(result: CellResult) -> dict:
    """One line of the grid table: recall per kind as 'checks/oracle', then the clean and
    null false-alarm shares as 'checks/oracle'."""
    rt = recall_table(result)
    c = result.counts
    row = {"cell": result.cell.label, "districts": result.cities}
    for kind in KINDS:
        r = rt.loc[kind]
        row[SHORT[kind]] = ("—" if not r["planted"] > 0 else
                            f"{r['recall']:.2f}/{r['oracle_recall']:.2f}")
    row["clean FA"] = (f"{c['clean_checks'] / max(c['clean'], 1):.1%}/"
                       f"{c['clean_oracle'] / max(c['clean'], 1):.1%}")
    row["null FA"] = (f"{c['null_checks'] / max(c['null'], 1):.1%}/"
                      f"{c['null_oracle'] / max(c['null'], 1):.1%}")
    return row


def targets(result: CellResult) -> list[tuple[str, bool, str]]:
    """The targets of issue 12 for a strong cell: (name, met, figures).  Mild cells
    have none (empty list)."""
    if result.cell.strength != "strong":
        return []
    rt = recall_table(result)
    out = []
    for kind in KINDS:
        r = rt.loc[kind]
        if not r["planted"] > 0:
            continue
        need = 0.95 * r["oracle_recall"]
        out.append((f"{kind} recall ≥ 0.95 × oracle", bool(r["recall"] >= need - 1e-12),
                    f"{r['recall']:.2f} vs {need:.2f} ({int(r['checks'])}/{int(r['planted'])}, "
                    f"oracle {int(r['oracle'])})"))
        if kind in ABSOLUTE_KINDS:
            out.append((f"{kind} recall ≥ 0.9", bool(r["recall"] >= 0.9),
                        f"{r['recall']:.2f} (oracle {r['oracle_recall']:.2f})"))
    c = result.counts
    clean = c["clean_checks"] / max(c["clean"], 1)
    null = c["null_checks"] / max(c["null"], 1)
    out.append(("clean units flagged ≤ 3 %", clean <= 0.03,
                f"{clean:.1%} ({c['clean_checks']}/{c['clean']}; oracle "
                f"{c['clean_oracle'] / max(c['clean'], 1):.1%})"))
    out.append(("null-city units flagged ≤ 1 %", null <= 0.01,
                f"{null:.1%} ({c['null_checks']}/{c['null']}; oracle "
                f"{c['null_oracle'] / max(c['null'], 1):.1%})"))
    return out


def detector_status(available=None) -> pd.DataFrame:
    """Per kind: its detectors, those the package has now (``CHECK_FAMILIES`` by
    default) and those it does not; ``own`` is the kind's own check (the first
    detector) and ``own_present`` whether the package has it."""
    have = set(CHECK_FAMILIES if available is None else available)
    rows = []
    for kind in KINDS:
        det = DETECTORS[kind]
        rows.append({"kind": kind, "detectors": "、".join(det),
                     "present": "、".join(c for c in det if c in have),
                     "absent": "、".join(c for c in det if c not in have),
                     "own": det[0], "own_present": det[0] in have})
    return pd.DataFrame(rows)


__all__ = ["AXES", "Cell", "CellResult", "grid_cells", "run_cell", "recall_table",
           "cell_row", "targets", "detector_status", "DISTRICT_KINDS"]
