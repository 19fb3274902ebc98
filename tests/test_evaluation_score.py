"""The one scorer of detection (anquan_analysis/evaluation/score.py) and the grid's
tables, on hand-made findings and truth with known recall and false alarms."""

from __future__ import annotations

import pandas as pd
import pytest

from anquan_analysis.evaluation.grid import Cell, CellResult, cell_row, detector_status, targets
from anquan_analysis.evaluation.score import detections, flagged_clean
from anquan_analysis.findings import make_findings

UNITS = list("ABCDEFGHIJ")


@pytest.fixture()
def truth():
    rows = [("low_reporter", "A", "0", "major_hazards_found", f"2024-{m:02d}") for m in (1, 2, 3)]
    rows += [("surge", "B", "1", "major_hazards_found", "2024-09"),
             ("coordinated_group", "C", "2", "general_hazards_found", "2024-01"),
             ("coordinated_group", "C", "2", "general_hazards_found", "2024-02"),
             ("coordinated_group", "D", "2", "general_hazards_found", "2024-01"),
             ("coordinated_group", "D", "2", "general_hazards_found", "2024-02"),
             ("district_step", None, "step", "major_hazards_found", "2024-10"),
             ("district_step", None, "step", "major_hazards_found", "2024-11"),
             ("rule_break", "E", "3", None, "2024-03"),
             ("round_number_heaping", "J", "4", "worker_training_persons", "2024-05")]
    return pd.DataFrame(rows, columns=["kind", "unit", "group", "indicator", "period"])


@pytest.fixture()
def findings():
    f = [dict(check="low_outlier", unit="A", indicator="major_hazards_found", severity="warning"),
         dict(check="surge", unit="B", period="2024-05", indicator="major_hazards_found",
              severity="alert"),                                   # wrong month
         dict(check="matching_series", unit="C", period="2024", indicator="general_hazards_found",
              severity="warning"),                                 # a year covers Jan, Feb
         dict(check="underdispersion", unit="D", indicator="units_inspected",
              severity="alert"),                                   # wrong indicator
         dict(check="group_shift", period="2024-10", indicator="major_hazards_found",
              severity="warning"),
         dict(check="rule_violation", unit="E", period="2024-03", severity="info"),   # too mild
         dict(check="last_digit", unit="J", indicator="principal_training_persons",
              severity="alert"),                                   # another indicator
         dict(check="repeated_value", unit="F", severity="warning"),                 # false alarm
         dict(check="surge", unit="G", period="2024-11", severity="warning"),        # the step's
         dict(check="surge", unit="H", period="2024-05", severity="warning"),        # false alarm
         dict(check="surge", unit="H", period="2024-06", severity="alert"),
         dict(check="last_digit", unit="I", severity="info")]
    return make_findings(pd.DataFrame([{**x, "message": "m"} for x in f]))


def test_detections_strict(findings, truth):
    d = detections(findings, truth).set_index(["kind", "unit"], drop=False)
    assert list(d["kind"]) == ["low_reporter", "surge", "coordinated_group", "coordinated_group",
                               "district_step", "rule_break", "round_number_heaping"]
    got = dict(zip(zip(d["kind"], d["unit"].fillna("")), d["detected"]))
    assert got == {("low_reporter", "A"): True, ("surge", "B"): False,
                   ("coordinated_group", "C"): True, ("coordinated_group", "D"): False,
                   ("district_step", ""): True, ("rule_break", "E"): False,
                   ("round_number_heaping", "J"): False}
    assert d["detected"].mean() == pytest.approx(3 / 7)
    assert d.loc[("coordinated_group", "C"), "by"] == "matching_series"


def test_detections_lenient_and_severity(findings, truth):
    d = detections(findings, truth, strict=False)
    assert d["detected"].tolist() == [True, True, True, True, True, False, True]
    d = detections(findings, truth, strict=False, min_severity="info")
    assert d["detected"].all()
    d = detections(findings, truth, min_severity="alert")
    assert d["detected"].sum() == 0


def test_a_detector_absent_from_the_findings_detects_nothing(findings, truth):
    only_new = {"coordinated_group": ("matching_series_v2",), "low_reporter": ("low_outlier",)}
    d = detections(findings, truth, detectors=only_new)
    assert d.loc[d["kind"] == "coordinated_group", "detected"].sum() == 0
    assert d.loc[d["kind"] == "low_reporter", "detected"].all()


def test_false_alarms_on_clean_units(findings, truth):
    fa = flagged_clean(findings, truth, UNITS)
    # clean: F G H I (J is planted); G's surge falls in the step's months; I is info only
    assert sorted(map(tuple, fa.to_numpy())) == [("repeated_value", "F"), ("surge", "H")]
    assert fa["unit"].nunique() / 4 == 0.5
    no_step = truth.loc[truth["kind"] != "district_step"]
    fa2 = flagged_clean(findings, no_step, UNITS)
    assert set(fa2["unit"]) == {"F", "G", "H"}
    # the null twin: nothing planted, every unit clean
    fa3 = flagged_clean(findings, truth.iloc[0:0], UNITS)
    assert set(fa3["unit"]) == {"A", "B", "C", "D", "F", "G", "H", "J"}


def test_bad_inputs_name_the_column(findings, truth):
    with pytest.raises(ValueError, match="severity"):
        detections(findings.drop(columns="severity"), truth)
    with pytest.raises(ValueError, match="kind"):
        detections(findings, truth.drop(columns="kind"))
    with pytest.raises(ValueError, match="min_severity"):
        flagged_clean(findings, truth, UNITS, min_severity="high")


def _result(strength, checks, oracle, planted, counts):
    rows = []
    for kind, n in planted.items():
        for i in range(n):
            rows.append(dict(city=0, kind=kind, unit=f"{kind}{i}", group="0",
                             checks=i < checks[kind], oracle=i < oracle[kind], by=""))
    return CellResult(cell=Cell(50, "gamma4", 0.2, strength), detections=pd.DataFrame(rows),
                      counts=counts, clean_by_check=pd.Series(dtype=int),
                      null_by_check=pd.Series(dtype=int), cities=2, seconds=1.0)


def test_grid_row_and_targets():
    counts = dict(clean=200, clean_checks=5, clean_oracle=1, null=300, null_checks=3,
                  null_oracle=0, null_cities=2, null_district_checks=0, null_district_oracle=0)
    planted = {"surge": 10, "low_reporter": 4}
    res = _result("strong", {"surge": 9, "low_reporter": 1}, {"surge": 10, "low_reporter": 2},
                  planted, counts)
    row = cell_row(res)
    assert row["surge"] == "0.90/1.00" and row["low"] == "0.25/0.50" and row["group"] == "—"
    assert row["clean FA"] == "2.5%/0.5%" and row["null FA"] == "1.0%/0.0%"
    t = {name: met for name, met, _ in targets(res)}
    assert t == {"low_reporter recall ≥ 0.95 × oracle": False,     # 0.25 < 0.475
                 "surge recall ≥ 0.95 × oracle": False,            # 0.90 < 0.95
                 "surge recall ≥ 0.9": True,
                 "clean units flagged ≤ 3 %": True,                 # 2.5 %
                 "null-city units flagged ≤ 1 %": True}             # 1.0 %
    assert targets(_result("mild", {"surge": 0, "low_reporter": 0},
                           {"surge": 0, "low_reporter": 0}, planted, counts)) == []


def test_detector_status_names_what_is_missing():
    st = detector_status(available={"underdispersion", "last_digit"}).set_index("kind")
    assert st.loc["coordinated_group", "present"] == "underdispersion"
    assert st.loc["coordinated_group", "absent"] == "matching_series、identical_values"
    assert st.loc["surge", "present"] == "" and st.loc["surge", "absent"] == "surge"
    assert st.loc["coordinated_group", "own"] == "matching_series"
    assert not st.loc["coordinated_group", "own_present"]
    assert st.loc["last_digit_heaping", "own_present"]
