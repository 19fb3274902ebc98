"""``make_city``: the demo district as tables (panel, exposure, ledger, truth, units)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..dataset import EXPOSURE_COLUMNS, PANEL_COLUMNS
from .calibration import (EFFORT_CLIP, EFFORT_SHAPE, LEAD_EFFORT, MIN_YEARLY, RATE_MAJOR, STEP,
                          SURGE_BASELINE, SURGE_FACTOR)
from .district import (CITY_INDICATORS, QUIET_SECTORS, SECTOR_NAMES, SIZE_SIGMA, SOURCE_FILE,
                       TRUTH_COLUMNS, district_units, sheet_name)
from .figures import clean_figures, major_split, set_major
from .hazards import city_ledger
from .inject import Picker, inject_figures, inject_rule_violations


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
    units, size, enforces, mix = district_units(n_units)
    n = len(units)
    sigma = units["unit_type"].map(SIZE_SIGMA).to_numpy(dtype=float)
    enterprises = np.maximum(np.round(size * np.exp(sigma * rng.standard_normal(n))), 1.0)
    effort = np.clip(rng.gamma(EFFORT_SHAPE, 1.0 / EFFORT_SHAPE, size=n), *EFFORT_CLIP)
    lead = np.flatnonzero(units["unit"] == "区应急局")
    effort[lead] = np.maximum(effort[lead], LEAD_EFFORT)
    p_enterprise = rng.beta(14.0, 26.0, size=n)
    r_dept = rng.uniform(0.65, 0.90, size=n)
    shift_at = (2 * n_months) // 3            # 12 months from January: September
    month_factor = np.linspace(0.9, 1.1, n_months)
    is_town = (units["unit_type"] == "town").to_numpy()
    is_soe = (units["unit_type"] == "soe").to_numpy()
    quiet = (mix[:, [SECTOR_NAMES.index(s) for s in QUIET_SECTORS]].sum(axis=1) > 0.99)
    truth: list[tuple] = []

    picker = Picker(rng, n)
    top_unit = lead                           # keep the lead agency off the low/zero lists
    picker.block(np.flatnonzero(quiet))       # their zeros belong to sector_concentration
    if inject:
        month_factor = month_factor * np.where(np.arange(n_months) >= shift_at, STEP, 1.0)
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
                | (mix[:, [SECTOR_NAMES.index("工贸"), SECTOR_NAMES.index("建筑施工")]].sum(axis=1) >= 0.75))
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
        per_enterprise = RATE_MAJOR * month_factor.sum()
        for kind, chosen in (("low_outlier", low), ("zero_report", zero),
                             ("pinned_rate", pinned), ("low_self_report", low_self)):
            at = 1.0 if kind in ("low_outlier", "zero_report") else effort[chosen]
            need = np.ceil(MIN_YEARLY[kind] / (per_enterprise * at))
            enterprises[chosen] = np.maximum(enterprises[chosen], need)
        # surge: at least SURGE_BASELINE expected in every month before the step
        need = np.ceil(SURGE_BASELINE / (RATE_MAJOR * month_factor[:shift_at].min()
                                          * effort[surge]))
        enterprises[surge] = np.maximum(enterprises[surge], need)
        effort = effort.copy()
        effort[low] = 0.05

    v, lam = clean_figures(rng, units, enterprises, enforces, n_months, month_factor, effort)
    found = rng.poisson(lam)
    if inject:
        # In different months: two of the largest finders spiking together move the
        # district total by half, which is a district movement (group_shift), not
        # a unit jumping while its peers do not.
        surge_month = rng.choice(np.arange(max(3, shift_at - 4), shift_at), size=2,
                                 replace=False)
        # SURGE_FACTOR × the unit's own history (its months before the surge).
        before = np.arange(n_months)[None, :] < surge_month[:, None]
        history = np.maximum((found[surge] * before).sum(axis=1) / before.sum(axis=1),
                             (lam[surge] * before).sum(axis=1) / before.sum(axis=1))
        found[surge, surge_month] = np.round(SURGE_FACTOR * history)
        found[zero] = 0
        p_enterprise[low_self] = 0.0
    dept, ent, rect_dept, rect_ent = major_split(rng, found, p_enterprise, r_dept)
    if inject:
        rect_dept[pinned], rect_ent[pinned] = dept[pinned], ent[pinned]
    # The quiet-sector departments' finds all fail the standard when injecting (below),
    # so the effective figures the panel reports are 0 for them.
    failing = np.zeros_like(found)
    if inject:
        failing[quiet] = found[quiet]
        for a in (dept, ent, rect_dept, rect_ent):
            a[quiet] = 0
    set_major(v, dept, ent, rect_dept, rect_ent)

    if inject:
        inject_figures(rng, v, truth, units, periods, n_months, shift_at, low=low, zero=zero,
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
                      f"reports_messy.xlsx“{sheet_name(periods[t])}”表合计行比各单位之和多1"))
    names = units["unit"].to_numpy()
    ledger_v = v.copy()                       # the ledger follows the true figures
    extra_counted = np.zeros_like(found)
    if inject:
        extra_counted = inject_rule_violations(rng, v, truth, names, periods, rules)

    multi = (units["unit_type"] != "department").to_numpy()
    ledger = city_ledger(rng, ledger_v, failing, extra_counted, names, mix, quiet, multi, inject,
                     zero if inject else np.array([], int), periods)
    panel = _panel(v, units, periods)
    exposure = _exposure(rng, names, enterprises, mix)
    truth_df = pd.DataFrame(truth, columns=TRUTH_COLUMNS).astype("str")
    return SynthCity(panel=panel, exposure=exposure, ledger=ledger, truth=truth_df,
                     units=units.astype("str"), start=periods[0], n_months=n_months)


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
        "indicator": np.asarray(CITY_INDICATORS)[k],
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
    parts = pd.DataFrame({"u": u, "sector": np.asarray(SECTOR_NAMES, dtype=object)[s],
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
