"""The benchmark districts (anquan_analysis/evaluation/districts.py, inject.py): their
invariants by construction.  The catalogue's rules hold in honest data; the null twin
equals the district outside the cells the plan changed; the knobs show in the data;
every planted kind has its signature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anquan_analysis.catalogue import RULES
from anquan_analysis.dataset import EXPOSURE_COLUMNS, PANEL_COLUMNS
from anquan_analysis.evaluation.districts import (INDICATOR_CODES, TYPE_TABLE, UNIT_KINDS,
                                                  make_district, plan_anomalies, type_counts)

EVERY_KIND = [(k, 4 if k == "coordinated_group" else (2 if k == "identical_rows" else 1))
              for k in UNIT_KINDS]


def broken_rules(panel: pd.DataFrame) -> pd.DataFrame:
    """(unit, period, rule) for every le / sum / requires rule of the catalogue that a
    row breaks; written here from the catalogue, apart from the oracle's version."""
    w = panel.pivot_table(index=["unit", "period"], columns="indicator", values="value")
    out = []
    for r in RULES.itertuples():
        if r.kind == "monotone" or r.rhs not in w or any(c not in w for c in r.lhs):
            continue
        left = w[list(r.lhs)].sum(axis=1)
        bad = {"le": left > w[r.rhs], "sum": left != w[r.rhs],
               "requires": (left > 0) & (w[r.rhs] <= 0)}[r.kind]
        out += [(u, p, r.rule) for u, p in w.index[bad.to_numpy()]]
    return pd.DataFrame(out, columns=["unit", "period", "rule"])


@pytest.fixture(scope="module", params=["strong", "mild"])
def full(request):
    """150 units with every kind planted and a district step."""
    return make_district(11, n_units=150, contamination=0.2, strength=request.param,
                         plan=EVERY_KIND, overdispersion="gamma4")


@pytest.mark.parametrize("seed,n,od,shape", [(0, 30, "gamma2", 10.0), (1, 50, "lognormal", None),
                                             (2, 150, "gamma10", 4.0)])
def test_rules_hold_in_honest_data(seed, n, od, shape):
    d = make_district(seed, n_units=n, overdispersion=od, month_shape=shape)
    assert broken_rules(d.null.panel).empty
    # and in the planted district, outside the units planted with a rule break
    breakers = set(d.truth.loc[d.truth["kind"] == "rule_break", "unit"])
    broken = broken_rules(d.panel)
    assert set(broken["unit"]) <= breakers


def test_schema_and_shape():
    d = make_district(5, n_units=30, n_months=12)
    assert list(d.panel.columns) == PANEL_COLUMNS
    assert len(d.panel) == 30 * 12 * len(INDICATOR_CODES)
    assert d.panel["period"].nunique() == 12 and d.panel["period"].min() == "2024-01"
    assert list(d.exposure.columns) == EXPOSURE_COLUMNS
    assert (d.panel["value"] >= 0).all() and d.panel["value"].notna().all()
    assert d.panel.duplicated(["unit", "period", "indicator"]).sum() == 0
    assert type_counts(30) == {"town": 18, "department": 9, "soe": 3}
    assert d.units["unit_type"].value_counts().to_dict() == {"town": 18, "department": 9, "soe": 3}
    assert d.units["unit"].is_unique


def test_null_twin_equals_the_district_outside_the_planted_cells(full):
    key = ["unit", "period", "indicator"]
    both = full.panel.merge(full.null.panel, on=key, suffixes=("", "_null"))
    assert len(both) == len(full.panel)
    changed = both.loc[both["value"] != both["value_null"], key]
    cells = set(map(tuple, full.cells[key].to_numpy()))
    assert set(map(tuple, changed.to_numpy())) <= cells
    # every planted unit had figures changed (the source of copied rows excepted)
    changed_units = set(changed["unit"])
    for (kind, unit), _ in full.truth.dropna(subset=["unit"]).groupby(["kind", "unit"]):
        if kind == "identical_rows" and unit not in set(
                full.cells.loc[full.cells["kind"] == kind, "unit"]):
            continue
        assert unit in changed_units, (kind, unit)


def test_honest_district_does_not_depend_on_what_is_planted():
    a = make_district(3, n_units=50, contamination=0.1, strength="strong")
    b = make_district(3, n_units=50, contamination=0.2, strength="mild", district_step=False)
    pd.testing.assert_frame_equal(a.null.panel, b.null.panel)
    assert not a.panel.equals(b.panel)


def test_overdispersion_knob_shows_in_the_between_unit_variance():
    """Annual general hazards over their expectation at u = 1 (enterprises × type rate ×
    12 months), across towns: variance ≈ Var(u) + counting noise (about 0.02)."""
    def spread(od):
        ratios = []
        for seed in range(4):
            d = make_district(seed, n_units=150, overdispersion=od, plan=[], district_step=False)
            towns = d.units["unit_type"].to_numpy() == "town"
            observed = d.values["general_hazards_found"].sum(axis=1)[towns]
            expected = (d.units["enterprises"].to_numpy()[towns]
                        * TYPE_TABLE.loc["town", "general_rate"] * 12)
            ratios.append(observed / expected)
        return np.var(np.concatenate(ratios), ddof=1)

    v2, v10, vl = spread("gamma2"), spread("gamma10"), spread("lognormal")
    assert 0.35 < v2 < 0.70        # Var(u) = 1/2
    assert 0.08 < v10 < 0.16       # 1/10
    assert 0.30 < vl < 0.60        # e^{0.36} − 1 = 0.43
    assert v2 > 3 * v10


def test_contamination_knob_and_plan_cycle():
    plan, nxt = plan_anomalies(30, 0.1, start=0, rng=np.random.default_rng(0), n_towns=18)
    assert plan == [("coordinated_group", 3)] and nxt == 1
    plan, nxt = plan_anomalies(50, 0.2, start=1)
    assert [k for k, _ in plan] == ["low_reporter", "zero_reporter", "surge", "low_self_report",
                                    "identical_rows", "flat_line", "last_digit_heaping",
                                    "round_number_heaping", "pinned_rate"]
    assert sum(n for _, n in plan) == 10 and nxt == 10
    # no room for a group: skipped, the cycle goes on
    plan, _ = plan_anomalies(20, 0.1, start=0)
    assert plan == [("low_reporter", 1), ("zero_reporter", 1)]
    for n, c in ((30, 0.1), (50, 0.2), (150, 0.1)):
        d = make_district(7, n_units=n, contamination=c)
        planted = d.truth["unit"].dropna().nunique()
        assert planted == sum(s for _, s in d.knobs["plan"]) <= round(c * n)


def test_exposure_is_skewed_and_floors_and_schedules_appear_in_the_null():
    d = make_district(4, n_units=150).null
    ent = d.exposure["enterprises"]
    assert ent.min() >= 3 and ent.mean() > 1.2 * ent.median()
    v = d.values
    assert (v["principal_training_sessions"] >= 1).all()
    assert ((v["drills"] >= v["drill_enterprises"]) & (v["drill_enterprises"] >= 1)).all()
    assert set(np.unique(v["safety_meetings"])) == {1, 2}
    at_minimum = (v["principal_training_sessions"] == 1).all(axis=1).mean()
    assert 0.25 < at_minimum < 0.5          # 35 % hold only the mandated session
    meetings_flat = (v["safety_meetings"] == 1).all(axis=1).mean()
    assert 0.05 < meetings_flat < 0.3       # 0.85^12 = 14 %
    assert (v["units_inspected"] >= np.ceil(d.units["enterprises"].to_numpy() / 12)[:, None]).all()


def _rows(d, kind):
    t = d.truth.loc[d.truth["kind"] == kind]
    return t


def _idx(d, unit):
    return int(np.flatnonzero(d.units["unit"].to_numpy() == unit)[0])


def _months(d, periods):
    return [d.params.periods.index(p) for p in sorted(set(periods))]


def test_every_kind_has_its_signature(full):
    d, v = full, full.values
    strong = d.knobs["strength"] == "strong"
    # a coordinated group: every two members within ±1, or equal, in the agreement months
    g = _rows(d, "coordinated_group")
    members = [_idx(d, u) for u in g["unit"].unique()]
    assert 3 <= len(members) <= 8
    assert set(d.units.iloc[members]["unit_type"]) == {"town"}
    ind = g["indicator"].iloc[0]
    months = _months(d, g["period"])
    assert len(months) == (12 if strong else 7)
    block = v[ind][np.ix_(members, months)]
    spread = block.max(axis=0) - block.min(axis=0)
    assert (spread <= (0 if "exact" in g["note"].iloc[0] else 1)).all()
    # zero reporter: nothing in its window
    z = _rows(d, "zero_reporter")
    zm = _months(d, z["period"])
    assert len(zm) == (12 if strong else 6)
    assert (v["major_hazards_found"][_idx(d, z["unit"].iloc[0]), zm] == 0).all()
    # flat line: one value over the window
    f = _rows(d, "flat_line")
    row = v[f["indicator"].iloc[0]][_idx(d, f["unit"].iloc[0]), _months(d, f["period"])]
    assert len(set(row)) == 1 and len(row) == (12 if strong else 6)
    # heaping on one indicator: multiples of 5, of 50 (figures under 5 are left alone)
    for kind, base in (("last_digit_heaping", 5), ("round_number_heaping", 50)):
        h = _rows(d, kind)
        assert h["indicator"].nunique() == 1
        hm = _months(d, h["period"])
        assert len(hm) == 12 if strong else len(hm) == {"last_digit_heaping": 7}.get(kind, 6)
        vals = v[h["indicator"].iloc[0]][_idx(d, h["unit"].iloc[0]), hm]
        assert (vals[vals >= 5] % base == 0).all() and (vals >= 5).mean() > 0.8
    # pinned: rectified = found in the window, major and general
    p = _rows(d, "pinned_rate")
    i, pm = _idx(d, p["unit"].iloc[0]), _months(d, p["period"])
    for found, rect in (("major_hazards_found", "major_hazards_rectified"),
                        ("general_hazards_found", "general_hazards_rectified")):
        assert (v[found][i, pm] == v[rect][i, pm]).all()
    # identical rows: the pair's rows equal in the copied months, every indicator
    c = _rows(d, "identical_rows")
    a, b = (_idx(d, u) for u in c["unit"].unique())
    for ind in INDICATOR_CODES:
        assert (v[ind][a, _months(d, c["period"])] == v[ind][b, _months(d, c["period"])]).all()
    # low self-report: the enterprise share is that of the strength
    s = _rows(d, "low_self_report")
    i = _idx(d, s["unit"].iloc[0])
    share = v["major_hazards_found_enterprise"][i].sum() / v["major_hazards_found"][i].sum()
    assert share == 0 if strong else share < 0.25
    # surge: at least the floor more than the null twin in its month
    su = _rows(d, "surge")
    i, t = _idx(d, su["unit"].iloc[0]), _months(d, su["period"])[0]
    added = v["major_hazards_found"][i, t] - d.null.values["major_hazards_found"][i, t]
    assert added >= (8 if strong else 3)
    # rule break: the rule checker finds the unit, in its months
    r = _rows(d, "rule_break")
    broken = broken_rules(d.panel)
    assert set(broken["unit"]) == set(r["unit"])
    assert set(broken["period"]) == set(r["period"])
    # the district step: every unit's major hazards only go up from its month
    st = _rows(d, "district_step")
    sm = _months(d, st["period"])
    assert st["unit"].isna().all() and sm == list(range(sm[0], 12)) and 7 <= sm[0] <= 9
    rise = v["major_hazards_found"][:, sm].sum() / d.null.values["major_hazards_found"][:, sm].sum()
    assert rise > (1.3 if strong else 1.05)


def test_bad_knobs_are_refused():
    with pytest.raises(ValueError, match="strength"):
        make_district(0, strength="huge")
    with pytest.raises(ValueError, match="overdispersion"):
        make_district(0, overdispersion="weibull")
    with pytest.raises(ValueError, match="at least 6 units"):
        make_district(0, n_units=4)
    with pytest.raises(ValueError, match="unknown unit types"):
        make_district(0, unit_types={"village": 1.0})
    with pytest.raises(ValueError, match="unknown anomaly kind"):
        make_district(0, plan=[("typo", 1)])
