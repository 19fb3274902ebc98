"""evaluation.shortfall: exact tests beside the grid's targets, worked by hand."""

from math import comb

import pandas as pd
import pytest

from anquan_analysis.evaluation.grid import Cell, CellResult
from anquan_analysis.evaluation.shortfall import COLUMNS, shortfalls, summary_lines


def _result(strength="strong", rows=(), counts=None):
    det = pd.DataFrame(rows, columns=["kind", "checks", "oracle"])
    c = dict(clean=100, clean_checks=2, clean_oracle=1, null=200, null_checks=1,
             null_oracle=0, null_cities=4, null_district_checks=0, null_district_oracle=0)
    c.update(counts or {})
    return CellResult(cell=Cell(150, "gamma4", 0.2, strength), detections=det, counts=c,
                      clean_by_check=pd.Series(dtype="int64"),
                      null_by_check=pd.Series(dtype="int64"), cities=4, seconds=0.0)


def _row(table, kind, target):
    sel = table.loc[(table["kind"] == kind) & (table["target"] == target)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_discordant_units_and_exact_tails_by_hand():
    # surge: 5 planted; the oracle alone finds 3, the checks alone none, both 1
    surge = [("surge", False, True)] * 3 + [("surge", True, True), ("surge", False, False)]
    # pinned: 31 planted, the checks find 28 (the oracle 26, 2 of them missed by the checks)
    pinned = ([("pinned_rate", True, True)] * 24 + [("pinned_rate", False, True)] * 2
              + [("pinned_rate", True, False)] * 4 + [("pinned_rate", False, False)])
    t = shortfalls([_result(rows=surge + pinned)])
    assert list(t.columns) == COLUMNS
    ratio = _row(t, "surge", "recall ≥ 0.95 × oracle")
    assert (ratio["found"], ratio["oracle_found"], ratio["oracle_only"], ratio["checks_only"]) \
        == (1, 4, 3, 0)
    assert not ratio["met"]
    assert ratio["p_value"] == pytest.approx(1 / 8)          # P(Bin(3, ½) ≥ 3)
    absolute = _row(t, "surge", "recall ≥ 0.9")
    # P(Bin(5, 0.9) ≤ 1) = 0.1⁵ + 5·0.9·0.1⁴
    assert absolute["p_value"] == pytest.approx(0.1 ** 5 + 5 * 0.9 * 0.1 ** 4)
    p_ratio = _row(t, "pinned_rate", "recall ≥ 0.95 × oracle")
    assert p_ratio["met"] and (p_ratio["oracle_only"], p_ratio["checks_only"]) == (2, 4)
    # P(Bin(6, ½) ≥ 2) = 1 − (1 + 6)/64
    assert p_ratio["p_value"] == pytest.approx(1 - 7 / 64)
    p_abs = _row(t, "pinned_rate", "recall ≥ 0.9")
    assert p_abs["met"]                      # 28 ≥ 0.9 × 31 = 27.9
    by_hand = sum(comb(31, k) * 0.9 ** k * 0.1 ** (31 - k) for k in range(29))
    assert p_abs["p_value"] == pytest.approx(by_hand)


def test_false_alarm_targets_and_the_q_over_every_row():
    # 12 of 400 null units flagged (3 %, target 1 %): P(Bin(400, 0.01) ≥ 12)
    t = shortfalls([_result(rows=[("flat_line", True, True)] * 4,
                            counts=dict(null=400, null_checks=12, clean=100, clean_checks=3))])
    null = t.loc[t["target"] == "null-city units flagged ≤ 1 %"].iloc[0]
    by_hand = 1 - sum(comb(400, k) * 0.01 ** k * 0.99 ** (400 - k) for k in range(12))
    assert null["p_value"] == pytest.approx(by_hand, rel=1e-9)
    assert not null["met"]
    clean = t.loc[t["target"] == "clean units flagged ≤ 3 %"].iloc[0]
    assert clean["met"]                      # 3 of 100 is the limit itself
    # four rows: flat_line's two targets (p = 1) and the two false-alarm targets
    assert len(t) == 4
    p = sorted(t["p_value"])
    assert null["q_value"] == pytest.approx(min(p[0] * 4, p[1] * 2, 1.0))
    assert bool(null["beyond_chance"]) == (null["q_value"] < 0.05)
    assert null["beyond_chance"]             # p ≈ 1.9e-4 over 4 rows
    lines = summary_lines(t)
    assert lines[0] == "targets missed: 1 of 4; beyond chance (BH q < 0.05): 1"
    assert "BEYOND CHANCE" in lines[1] and "12/400 units" in lines[1]


def test_a_miss_by_one_unit_is_within_chance_and_mild_cells_have_no_targets():
    rows = [("district_step", True, True)] * 5 + [("district_step", False, True)]
    t = shortfalls([_result(rows=rows), _result("mild", rows=rows)])
    assert set(t["cell"]) == {Cell(150, "gamma4", 0.2, "strong").label.strip()}
    step = _row(t, "district_step", "recall ≥ 0.95 × oracle")
    assert not step["met"] and step["p_value"] == pytest.approx(0.5)
    assert not step["beyond_chance"]
    assert "within chance" in summary_lines(t)[1]
    assert shortfalls([_result("mild", rows=rows)]).empty


def test_pooled_by_size_sums_the_discordant_units_of_the_strong_cells():
    from anquan_analysis.evaluation.shortfall import pooled
    # two 150-unit cells with a step each missed once where the oracle found it, and one
    # mild cell (left out): alone each is 1 of 1 discordant (p = ½), pooled 2 of 2 (¼)
    rows = [("district_step", True, True)] * 3 + [("district_step", False, True)]
    cells = [_result(rows=rows, counts=dict(null=300, null_checks=6)),
             _result(rows=rows, counts=dict(null=300, null_checks=0)),
             _result("mild", rows=rows, counts=dict(null=300, null_checks=300))]
    t = pooled(cells)
    step = t.loc[t["kind"] == "district_step"].iloc[0]
    assert (step["units"], step["n"], step["found"], step["oracle_found"],
            step["oracle_only"], step["checks_only"]) == (150, 8, 6, 8, 2, 0)
    assert step["ratio"] == pytest.approx(0.75)
    assert step["p_value"] == pytest.approx(0.25)
    null = t.loc[t["kind"] == "null-city units flagged"].iloc[0]
    assert (null["n"], null["found"]) == (600, 6)
    by_hand = 1 - sum(comb(600, k) * 0.01 ** k * 0.99 ** (600 - k) for k in range(6))
    assert null["p_value"] == pytest.approx(by_hand, rel=1e-9)
