"""The demo district's hazard ledger (隐患台账): one row per hazard, the effective ones
exactly as the panel's major-hazard figures, plus hazards that do not count."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset import LEDGER_COLUMNS
from .district import INDICATOR_POSITION as _IX
from .district import QUIET_SECTORS, SECTOR_NAMES, SOURCE_FILE


def city_ledger(rng, v, failing, extra_counted, names, mix, quiet, multi, inject, zero, periods):
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
        conc = np.zeros(len(SECTOR_NAMES))
        for sector, share in (("工贸", 0.52), ("建筑施工", 0.38), ("消防", 0.05),
                              ("其他", 0.05)):
            conc[SECTOR_NAMES.index(sector)] = share
        hmix[multi] = conc
        for s in QUIET_SECTORS:
            hmix[~quiet, SECTOR_NAMES.index(s)] = 0.0
        hmix = hmix / hmix.sum(axis=1, keepdims=True)
    cum = np.cumsum(hmix, axis=1)
    u = rows["u"].to_numpy()
    pick = (rng.random(len(rows))[:, None] > cum[u]).sum(axis=1)
    sector = np.asarray(SECTOR_NAMES, dtype=object)[np.minimum(pick, len(SECTOR_NAMES) - 1)]

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
