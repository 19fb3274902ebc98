"""The synthetic city: clean units obey every rule, each injected anomaly is there by
construction, the ledger reproduces the panel, and the bundled files regenerate
byte for byte and ingest (clean and messy) to the same panel."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anquan_analysis import catalogue, synth
from anquan_analysis.synth.calibration import RATE_MAJOR, STEP
from anquan_analysis.synth.district import QUIET_SECTORS
from anquan_analysis.dataset import EXPOSURE_COLUMNS, LEDGER_COLUMNS, PANEL_COLUMNS
from anquan_analysis.ledger import effective_counts

BUNDLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "synthetic_city"
KEY = ["unit", "unit_type", "parent", "period", "indicator", "value", "approx"]
MAJOR = {"found": "major_hazards_found", "found_dept": "major_hazards_found_dept",
         "found_enterprise": "major_hazards_found_enterprise",
         "rectified": "major_hazards_rectified", "rectified_dept": "major_hazards_rectified_dept",
         "rectified_enterprise": "major_hazards_rectified_enterprise"}


@pytest.fixture(scope="module")
def city():
    return synth.make_city(seed=0)


@pytest.fixture(scope="module")
def plain():
    return synth.make_city(seed=0, inject=False)


def wide(city):
    return city.panel.pivot_table(index=["unit", "period"], columns="indicator", values="value",
                                  aggfunc="sum")


def violations(w: pd.DataFrame) -> set[tuple[str, str]]:
    """(unit, period) cells breaking a le / sum / requires rule of catalogue.RULES."""
    bad = pd.Series(False, index=w.index)
    for rule in catalogue.RULES.itertuples():
        cols = [*rule.lhs, rule.rhs]
        if rule.kind == "monotone" or not set(cols) <= set(w.columns):
            continue
        lhs = w[list(rule.lhs)]
        rhs = w[rule.rhs]
        if rule.kind == "le":
            bad |= lhs.iloc[:, 0] > rhs
        elif rule.kind == "sum":
            bad |= lhs.notna().all(axis=1) & rhs.notna() & (lhs.sum(axis=1) != rhs)
        elif rule.kind == "requires":
            bad |= (lhs.iloc[:, 0] > 0) & ~(rhs > 0)
    return set(bad[bad].index)


def truth_units(city, kind):
    return list(city.truth.loc[city.truth["kind"] == kind, "unit"].unique())


def test_tables_have_the_contract_columns(city):
    assert list(city.panel.columns) == PANEL_COLUMNS
    assert list(city.exposure.columns) == EXPOSURE_COLUMNS
    assert list(city.ledger.columns) == LEDGER_COLUMNS
    assert list(city.truth.columns) == synth.TRUTH_COLUMNS
    assert city.panel["value"].dtype == "float64"
    assert (city.panel["value"] >= 0).all()
    assert city.units["unit_type"].value_counts().to_dict() == {"department": 22, "town": 20, "soe": 8}
    # one panel row per reported figure; source_row is the row of reports_clean.csv
    assert not city.panel.duplicated(["unit", "period", "indicator"]).any()
    first = city.panel.loc[(city.panel["period"] == "2024-01") & (city.panel["unit"] == "青石街道")]
    assert set(first["source_row"]) == {2}
    # exposure: a total row per unit equal to the sum of its sector rows
    tot = city.exposure.loc[city.exposure["sector"] == ""].set_index("unit")["enterprises"]
    parts = city.exposure.loc[city.exposure["sector"] != ""].groupby("unit")["enterprises"].sum()
    pd.testing.assert_series_equal(tot.sort_index(), parts.sort_index(), check_names=False)


def test_the_city_reports_catalogue_indicators_in_the_order_of_its_files():
    assert len(synth.CITY_INDICATORS) == len(set(synth.CITY_INDICATORS)) == 24
    assert set(synth.CITY_INDICATORS) <= set(catalogue.INDICATORS["code"])
    header = pd.read_csv(BUNDLE / "reports_clean.csv", nrows=0).columns
    assert list(header[4:]) == [catalogue.indicator_name(c) for c in synth.CITY_INDICATORS]


def test_deterministic_in_seed():
    a, b, c = synth.make_city(seed=3), synth.make_city(seed=3), synth.make_city(seed=4)
    pd.testing.assert_frame_equal(a.panel, b.panel)
    pd.testing.assert_frame_equal(a.ledger, b.ledger)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not a.panel["value"].equals(c.panel["value"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_city_breaks_no_rule_and_has_no_truth(seed):
    plain = synth.make_city(seed=seed, inject=False)
    assert plain.truth.empty
    assert violations(wide(plain)) == set()
    values = plain.panel.loc[plain.panel["indicator"] != "fines", "value"]
    assert (values == np.round(values)).all()


def test_rule_violations_are_exactly_the_truth_cells(city):
    truth = city.truth.loc[city.truth["kind"] == "rule_violation"]
    assert len(truth) == 4 and truth["unit"].nunique() == 4
    assert violations(wide(city)) == set(zip(truth["unit"], truth["period"]))


def _ledger_figures(city):
    counts = effective_counts(city.ledger, campaign_start=pd.Timestamp(city.start + "-01"))
    led = counts.groupby(["unit", "period"])[list(MAJOR)].sum().rename(columns=MAJOR)
    return counts, led


def test_ledger_reproduces_the_panel_except_the_miscounted_cell(city):
    counts, led = _ledger_figures(city)
    w = wide(city)[list(MAJOR.values())]
    diff = w.sub(led.reindex(w.index).fillna(0)).stack()
    diff = diff[diff != 0]
    miscounted = city.truth.loc[(city.truth["kind"] == "rule_violation")
                                & (city.truth["indicator"] == "major_hazards_found")]
    unit, period = miscounted.iloc[0][["unit", "period"]]
    assert diff.to_dict() == {(unit, period, "major_hazards_found"): 1.0}
    # not every ledger row counts: all three exclusions occur, and the zero reporters
    # each sent one hazard that failed the standard
    assert (counts[["excluded_standard", "excluded_late", "excluded_window"]].sum() > 0).all()
    for u in truth_units(city, "zero_report"):
        rows = city.ledger.loc[city.ledger["unit"] == u]
        assert len(rows) >= 1 and not rows["meets_standard"].any()


def test_plain_ledger_reproduces_the_panel(plain):
    _, led = _ledger_figures(plain)
    w = wide(plain)[list(MAJOR.values())]
    pd.testing.assert_frame_equal(w, led.reindex(w.index).fillna(0).astype(float), check_names=False)


def test_truth_lists_every_kind_with_disjoint_units(city):
    kinds = set(city.truth["kind"])
    assert kinds == {"low_outlier", "zero_report", "matching_series", "identical_values",
                     "repeated_value", "last_digit", "benford", "pinned_rate", "surge",
                     "group_shift", "rule_violation", "low_self_report",
                     "sector_concentration", "total_mismatch"}
    per_unit = city.truth.loc[city.truth["unit"] != ""].groupby("unit")["kind"].nunique()
    assert (per_unit == 1).all()
    assert set(per_unit.index) <= set(city.units["unit"])
    assert city.truth.loc[city.truth["kind"].isin(["group_shift", "sector_concentration",
                                                   "total_mismatch"]), "unit"].eq("").all()


def test_injected_hazard_anomalies_by_construction(city):
    w = wide(city)
    found = w["major_hazards_found"].unstack()
    ent = w["major_hazards_found_enterprise"].unstack()
    rect = w["major_hazards_rectified"].unstack()
    expo = city.exposure.loc[city.exposure["sector"] == ""].set_index("unit")["enterprises"]
    for u in truth_units(city, "zero_report"):
        assert found.loc[u].eq(0).all() and expo[u] >= expo.median() * 3
    month = np.linspace(0.9, 1.1, 12) * np.where(np.arange(12) >= 8, STEP, 1.0)
    need = 30.0 / (RATE_MAJOR * month.sum())     # 30 expected a year at normal effort
    for u in truth_units(city, "low_outlier"):
        assert expo[u] >= need - 1 and found.loc[u].sum() <= 6
    for u in truth_units(city, "pinned_rate"):
        assert (rect.loc[u] == found.loc[u]).all() and found.loc[u].sum() >= 20
    # The honest rates, from the same city without anomalies (in the injected city
    # the units left clean find too few hazards to measure them: 14 in seed 0).
    pw = wide(synth.make_city(seed=0, inject=False))
    peers = pw["major_hazards_rectified"].sum() / pw["major_hazards_found"].sum()
    assert 0.75 <= peers <= 0.92
    for u in truth_units(city, "low_self_report"):
        assert ent.loc[u].sum() == 0 and found.loc[u].sum() >= 15
    share = pw["major_hazards_found_enterprise"].sum() / pw["major_hazards_found"].sum()
    assert 0.25 <= share <= 0.45
    for row in city.truth.loc[city.truth["kind"] == "surge"].itertuples():
        series = found.loc[row.unit]
        before = series.loc[series.index < row.period]
        # a meaningful baseline (≥ 3 expected a month), and 5 × the unit's own history
        assert series[row.period] >= max(10.0, 4.5 * before.mean())
    shift = city.truth.loc[city.truth["kind"] == "group_shift", "period"].iloc[0]
    total = found.sum()
    assert total[total.index >= shift].mean() > 1.8 * total[total.index < shift].mean()


def test_injected_balance_anomalies_by_construction(city):
    w = wide(city)
    inspected = w["units_inspected"].unstack()
    group = truth_units(city, "matching_series")
    assert len(group) == 6
    spread = inspected.loc[group].max() - inspected.loc[group].min()
    assert (spread <= 2).all()
    towns = city.units.loc[city.units["unit_type"] == "town", "unit"]
    others = sorted(set(towns) - set(group))
    assert (inspected.loc[others].max() - inspected.loc[others].min()).min() > 10

    twins = city.truth.loc[city.truth["kind"] == "identical_values"]
    a, b = twins["unit"].unique()
    for period in twins["period"].unique():
        assert w.loc[(a, period)].equals(w.loc[(b, period)])

    for row in city.truth.loc[city.truth["kind"] == "repeated_value"].itertuples():
        assert w[row.indicator].unstack().loc[row.unit].nunique() == 1

    for u in truth_units(city, "last_digit"):
        # the major-hazard figures follow the ledger and stay as counted
        v = city.panel.loc[(city.panel["unit"] == u) & (city.panel["value"] >= 10)
                           & ~city.panel["indicator"].isin([*MAJOR.values(), "fines"]), "value"]
        assert len(v) >= 24 and set((v % 5).unique()) == {0.0}

    (u,) = truth_units(city, "benford")
    v = city.panel.loc[(city.panel["unit"] == u) & city.panel["indicator"].isin(
        ["units_inspected", "general_hazards_found", "assistance_visits",
         "principal_training_persons", "standard_publicity_persons", "worker_training_persons"]),
        "value"]
    first = v.astype(int).astype(str).str[0].astype(int)
    assert len(v) == 72 and v.max() / v.min() >= 100
    assert first.value_counts().reindex(range(1, 10), fill_value=0).min() >= 2   # not Benford's 4.6 %


def test_sector_concentration_in_the_ledger(city, plain):
    counts, _ = _ledger_figures(city)
    by_sector = counts.groupby("sector")["found"].sum()
    share = by_sector[["建筑施工", "工贸"]].sum() / by_sector.sum()
    assert 0.72 <= share <= 0.88
    assert by_sector.reindex(QUIET_SECTORS, fill_value=0).eq(0).all()
    plain_counts, _ = _ledger_figures(plain)
    plain_sector = plain_counts.groupby("sector")["found"].sum()
    assert plain_sector.reindex(QUIET_SECTORS, fill_value=0).sum() > 0


def test_make_panel_small():
    p = synth.make_panel(7, 5, n_indicators=3, seed=1)
    assert list(p.columns) == PANEL_COLUMNS and len(p) == 7 * 5 * 3
    assert p["value"].dtype == "float32" and str(p["unit"].dtype) == "category"
    assert list(p["indicator"].cat.categories) == list(catalogue.INDICATORS["code"][:3])
    assert p.iloc[:15]["unit"].nunique() == 1 and p["source_row"].iloc[-1] == 7 * 5 + 1
    assert (p["value"] >= 0).all() and (p["value"] == np.round(p["value"])).all()
    pd.testing.assert_frame_equal(p, synth.make_panel(7, 5, n_indicators=3, seed=1))
    with pytest.raises(ValueError, match="n_indicators"):
        synth.make_panel(2, 2, n_indicators=999)


def test_make_ledger_small():
    led = synth.make_ledger(2000, 30, 6, seed=2)
    assert list(led.columns) == LEDGER_COLUMNS and len(led) == 2000
    assert led["hazard_id"].is_unique
    counts = effective_counts(led)
    assert counts["reported"].sum() == 2000
    assert 0.85 < counts["found"].sum() / 2000 < 0.97            # 5 % standard, 4 % late


def test_bundled_files_regenerate_byte_identical(tmp_path):
    synth.main(["--output", str(tmp_path)])
    for name in ("reports_clean.csv", "reports_messy.xlsx", "exposure.csv", "ledger.csv",
                 "truth.csv"):
        assert (tmp_path / name).read_bytes() == (BUNDLE / name).read_bytes(), name


def _sorted(panel):
    return (panel[KEY].astype({"value": "float64", "approx": "bool"})
            .sort_values(KEY[:5]).reset_index(drop=True))


def test_messy_equals_clean(city):
    ingest = pytest.importorskip("anquan_analysis.ingest").ingest
    clean = ingest([BUNDLE / "reports_clean.csv"])
    messy = ingest([BUNDLE / "reports_messy.xlsx"])
    assert clean.rejects.empty and messy.rejects.empty
    pd.testing.assert_frame_equal(_sorted(clean.panel), _sorted(messy.panel))
    pd.testing.assert_frame_equal(_sorted(clean.panel), _sorted(city.panel))
    # source_row of the city's panel is the row ingest reads from the clean CSV
    rows = clean.panel.merge(city.panel, on=["unit", "period", "indicator"])
    assert (rows["source_row_x"] == rows["source_row_y"]).all()
    # the 合计 rows add up, except the one planted mismatch
    rec = messy.reconciliation
    bad = rec.loc[rec["status"] != "ok"]
    planted = city.truth.loc[city.truth["kind"] == "total_mismatch"].iloc[0]
    assert len(bad) == 1
    assert (bad.iloc[0]["period"], bad.iloc[0]["indicator"]) == (planted["period"], planted["indicator"])
    assert bad.iloc[0]["difference"] == 1.0


def test_make_panel_respects_rules_except_the_injected_breaks():
    """By construction: the le and sum rules hold except in round(share × unit-months)
    cells, each one le rule broken once, so rule_violation finds exactly that many."""
    from anquan_analysis.checks.consistency import rule_violation
    p = synth.make_panel(250, 12, 40, seed=4, value_dtype="float64")
    breaks = rule_violation(p)
    assert len(breaks) == round(0.002 * 250 * 12) == 6
    assert (breaks["severity"] == "alert").all()
    assert (breaks["observed"] == breaks["expected"] + 1 + np.floor(breaks["expected"] / 10)).all()
    assert breaks[["unit", "period"]].drop_duplicates().shape[0] == 6
    assert len(rule_violation(synth.make_panel(250, 12, 40, seed=4, rule_breaks=0))) == 0
    wide = p.pivot_table(index=["unit", "period"], columns="indicator", values="value",
                         observed=True)
    assert (wide["major_hazards_found"] == wide["major_hazards_found_dept"]
            + wide["major_hazards_found_enterprise"]).all()
    # rectified is below found, equal to it in a minority of cells, above it only where broken
    found, rect = wide["general_hazards_found"], wide["general_hazards_rectified"]
    assert (rect > found).sum() == (breaks["indicator"] == "general_hazards_rectified").sum()
    assert 0.01 < (rect == found)[found > 0].mean() < 0.6
