"""Indicators on small panels whose figures are known by construction or from the seeds."""

import numpy as np
import pandas as pd
import pytest

from anquan_analysis import indicators as I
from anquan_analysis.dataset import compact_panel


def _panel(records):
    """records: (unit, unit_type, period, indicator, value[, parent])."""
    rows = [dict(unit=r[0], unit_type=r[1], parent=r[5] if len(r) > 5 else None, period=r[2],
                 indicator=r[3], value=float(r[4])) for r in records]
    return pd.DataFrame(rows)


def _banan():
    """巴南 2023 (seed 004): 50 units, 156 effective hazards, 21 at 0, 37 below the
    mean, 3 above 10 (区应急局 46, 区住房城乡建委 24, 巴源公司 12)."""
    values = ([0] * 21 + [1] * 8 + [2] * 4 + [3] * 4 + [4] * 5 + [5] * 4 + [6] + [12, 24, 46])
    units = [f"单位{i:02d}" for i in range(47)] + ["巴源公司", "区住房城乡建委", "区应急局"]
    types = ["town"] * 20 + ["department"] * 27 + ["soe", "department", "department"]
    return _panel([(u, t, "2023-10", "major_hazards_found", v)
                   for u, t, v in zip(units, types, values)])


def test_banan_mean_and_units_below_it():
    r = I.rank_within_type(_banan())
    assert r["value"].sum() == 156 and len(r) == 50
    assert r["overall_mean"].iloc[0] == pytest.approx(3.12)
    assert int(r["below_overall_mean"].sum()) == 37
    assert int((r["value"] == 0).sum()) == 21
    assert list(r["unit"].head(3)) == ["区应急局", "区住房城乡建委", "巴源公司"]
    assert list(r["overall_rank"].head(3)) == [1, 2, 3]
    # within type: 区应急局 first of 29 departments
    top = r.set_index("unit").loc["区应急局"]
    assert top["rank"] == 1 and top["n_in_type"] == 29


def test_guilin_self_report_share():
    # 桂林 2024H1 (seed 000): 79 major hazards, 72 by departments, 7 self-reported
    p = _panel([("灵川县", "county", "2024Q1", "major_hazards_found_dept", 30),
                ("灵川县", "county", "2024Q1", "major_hazards_found_enterprise", 5),
                ("灵川县", "county", "2024Q2", "major_hazards_found_dept", 10),
                ("兴安县", "county", "2024Q2", "major_hazards_found_dept", 32),
                ("兴安县", "county", "2024Q2", "major_hazards_found_enterprise", 2)])
    s = I.self_report_share(p)            # cumulative to date
    last = s.loc[s["period"] == "2024Q2"].set_index("unit")
    assert last.loc["灵川县", "found"] == 45 and last.loc["灵川县", "share"] == pytest.approx(5 / 45)
    total = last[["found_enterprise", "found"]].sum()
    assert total["found"] == 79
    assert round(100 * total["found_enterprise"] / total["found"], 2) == 8.86
    # in-period: 灵川县 Q2 has no enterprise figure, so no share
    q2 = I.self_report_share(p, cumulative=False).set_index(["unit", "period"])
    assert np.isnan(q2.loc[("灵川县", "2024Q2"), "share"])


def test_wide_panel_cumulative_and_round_trip():
    p = _panel([("A", "town", "2024-01", "drills", 2), ("A", "town", "2024-03", "drills", 5),
                ("B", "town", "2024-02", "drills", 1)])
    w = I.wide_panel(p, cumulative=True).set_index(["unit", "period"])["drills"]
    assert w[("A", "2024-01")] == 2 and w[("A", "2024-02")] == 2 and w[("A", "2024-03")] == 7
    assert np.isnan(w[("B", "2024-01")]) and w[("B", "2024-03")] == 1
    cum = I.to_cumulative(p)
    assert cum.set_index(["unit", "period"]).loc[("A", "2024-03"), "value"] == 7
    back = I.to_in_period(cum).set_index(["unit", "period"])["value"]
    assert back[("A", "2024-03")] == 5 and back[("A", "2024-01")] == 2
    assert list(p["value"]) == [2, 5, 1]  # input untouched


def test_to_cumulative_resets_each_year():
    p = _panel([("A", "town", "2023-12", "drills", 4), ("A", "town", "2024-01", "drills", 1)])
    cum = I.to_cumulative(p, reset="year").set_index("period")["value"]
    assert cum["2024-01"] == 1
    assert I.to_cumulative(p).set_index("period").loc["2024-01", "value"] == 5


def test_exposure_rates_per_100_enterprises():
    p = _panel([("A", "town", "2024-01", "major_hazards_found", 3),
                ("B", "town", "2024-01", "major_hazards_found", 1)])
    ex = pd.DataFrame({"unit": ["A", "A", "B"], "sector": ["", "工贸", "工贸"],
                       "enterprises": [150, 100, 40]})
    r = I.exposure_rates(p, ex).set_index("unit")
    assert r.loc["A", "enterprises"] == 150  # the sector '' row, not the sector's
    assert r.loc["A", "major_hazards_found_per100"] == pytest.approx(2.0)
    assert r.loc["B", "major_hazards_found_per100"] == pytest.approx(2.5)  # only sector rows


def test_rectification_rates_by_source():
    p = _panel([("A", "town", "2024-01", "major_hazards_found", 10),
                ("A", "town", "2024-01", "major_hazards_rectified", 6),
                ("A", "town", "2024-02", "major_hazards_found", 0),
                ("A", "town", "2024-02", "major_hazards_rectified", 3),
                ("A", "town", "2024-02", "general_hazards_found", 526),
                ("A", "town", "2024-02", "general_hazards_rectified", 518)])
    r = I.rectification_rates(p).set_index("period")
    assert r.loc["2024-01", "major_rate"] == pytest.approx(0.6)
    assert r.loc["2024-02", "major_rate"] == pytest.approx(0.9)        # 9 of 10 to date
    assert round(100 * r.loc["2024-02", "general_rate"], 1) == 98.5     # seed 003
    assert np.isnan(r.loc["2024-02", "major_dept_rate"])


def test_persons_per_session_guilin():
    p = _panel([("桂林", "county", "2024H1", "principal_training_sessions", 285),
                ("桂林", "county", "2024H1", "principal_training_persons", 21248)])
    r = I.persons_per_session(p)
    assert r["principal_training_per_session"].iloc[0] == pytest.approx(21248 / 285)


def test_period_changes_previous_and_last_year():
    p = _panel([("A", "town", "2023-09", "major_hazards_found", 10),
                ("A", "town", "2024-08", "major_hazards_found", 20),
                ("A", "town", "2024-09", "major_hazards_found", 30)])
    c = I.period_changes(p).set_index("period")
    assert c.loc["2024-09", "previous"] == 20 and c.loc["2024-09", "pct_change"] == pytest.approx(0.5)
    assert c.loc["2024-09", "last_year"] == 10 and c.loc["2024-09", "yoy_pct"] == pytest.approx(2.0)
    assert np.isnan(c.loc["2024-08", "previous"])


@pytest.mark.parametrize("categorical", [False, True])
def test_action_totals_with_previous_period(categorical):
    p = _panel([("A", "town", "2024-08", "major_hazards_found", 20),
                ("B", "town", "2024-08", "major_hazards_found", 6),
                ("A", "town", "2024-09", "major_hazards_found", 40),
                ("B", "town", "2024-09", "major_hazards_found", 3),
                ("A", "town", "2024-09", "drills", 4)])
    if categorical:
        p = compact_panel(p)
    t = I.action_totals(p).set_index("indicator")
    assert t.loc["major_hazards_found", "value"] == 43       # 巴南: September added 43
    assert t.loc["major_hazards_found", "previous"] == 26
    assert t.loc["major_hazards_found", "cumulative"] == 69
    assert t.loc["major_hazards_found", "action"] == "hazard_clearance"
    assert np.isnan(t.loc["drills", "previous"])


def test_sector_profile_banan_construction_and_industry():
    # 巴南: 建筑施工 52 + 工贸 72 of the 155 the shares were computed on = 80%
    counts = pd.DataFrame({"sector": ["建筑施工", "工贸", "消防", "危险化学品"],
                           "found": [52, 72, 20, 11]})
    shares = I.sector_shares(counts).set_index("sector")
    assert round(100 * shares.loc["建筑施工", "share"], 1) == 33.5
    assert round(100 * shares.loc["工贸", "share"], 1) == 46.5
    assert shares.loc["教育", "zero"] and shares.loc["教育", "count"] == 0
    prof = I.sector_profile(counts).iloc[0]
    assert prof["total"] == 155 and prof["top2_share"] == pytest.approx(124 / 155)
    assert prof["top_sectors"] == "工贸、建筑施工"
    hhi = (52 ** 2 + 72 ** 2 + 20 ** 2 + 11 ** 2) / 155 ** 2
    assert prof["hhi"] == pytest.approx(hhi)
    assert prof["n_zero"] == 19 - 4 and "文化旅游" in prof["zero_sectors"]


def test_sector_profile_by_unit():
    counts = pd.DataFrame({"unit": ["A", "A", "B"], "sector": ["工贸", "消防", "工贸"],
                           "found": [3, 1, 2]})
    prof = I.sector_profile(counts, by="unit").set_index("unit")
    assert prof.loc["A", "hhi"] == pytest.approx(0.625) and prof.loc["B", "hhi"] == 1.0
    assert prof.loc["B", "top_sectors"] == "工贸"


def test_department_levels_rule():
    p = _panel([("市卫健委", "department", "2024-01", "drills", 1),
                ("区应急局", "department", "2024-01", "drills", 1),
                ("灵川县应急管理局", "department", "2024-01", "drills", 1),
                ("消防救援支队", "department", "2024-01", "drills", 1, "七星区"),
                ("发改委", "department", "2024-01", "drills", 1),
                ("七星区", "county", "2024-01", "drills", 1)])
    lv = I.department_levels(p).set_index("unit")["level"]
    assert lv["市卫健委"] == "city" and lv["区应急局"] == "county"
    assert lv["灵川县应急管理局"] == "county" and lv["消防救援支队"] == "county"
    assert pd.isna(lv["发改委"]) and "七星区" not in lv.index


def test_window_totals_and_missing_column():
    p = _panel([("A", "town", "2024-01", "drills", 1), ("A", "town", "2024-02", "drills", 2),
                ("A", "town", "2024-03", "drills", 4)])
    assert I.window_totals(p, "drills", period="2024-02")["drills"].iloc[0] == 3
    assert I.window_totals(p, "drills", period="2024-02", cumulative=False)["drills"].iloc[0] == 2
    assert I.window_totals(p, "drills", period="2024Q1")["drills"].iloc[0] == 7
    with pytest.raises(ValueError, match="indicator"):
        I.window_totals(p.drop(columns="indicator"), "drills")


# ------------------------------------------------ categorical panels (dataset.compact_panel)
def _mixed():
    """Rows not grouped by unit; B's type missing on its first row (then town, later
    department); A's March figure blank; C reports a quarter; D only units_inspected."""
    rows = [("B", None, "2024-01", "major_hazards_found", 2, "X"),
            ("A", "town", "2024-01", "major_hazards_found", 1, "Y"),
            ("B", "town", "2024-02", "major_hazards_found", 3, "X"),
            ("A", "town", "2024-02", "units_inspected", 5, "Y"),
            ("C", "soe", "2024Q1", "major_hazards_found", 4, None),
            ("A", "town", "2024-03", "major_hazards_found", np.nan, "Y"),
            ("B", "department", "2024-03", "units_inspected", 7, "X"),
            ("D", "town", "2024-02", "units_inspected", 1, None)]
    return _panel([(u, t, p, i, v, par) for u, t, p, i, v, par in rows])


def _categorical(panel):
    """``compact_panel`` of the rows in another order, with unit and period categories
    in no sorted order and an unused one each."""
    c = compact_panel(panel.sample(frac=1.0, random_state=1))
    c["unit"] = c["unit"].cat.set_categories(["D", "C", "B", "A", "ZZ"])
    c["period"] = c["period"].cat.set_categories(
        ["2024-03", "2024Q1", "2024-01", "2024-02", "2023-12"])
    return c


@pytest.mark.parametrize("form", ["str", "categorical"])
def test_window_totals_by_hand(form):
    p = _mixed() if form == "str" else _categorical(_mixed())
    before = p.copy()
    codes = ["major_hazards_found", "units_inspected"]

    def totals(**kw):
        t = I.window_totals(p, codes, **kw)
        assert list(t.columns) == ["unit", "unit_type", "parent"] + codes + ["n_periods"]
        return t.set_index("unit")

    # ≤ Feb: C's quarter ends in March; B's March row is outside
    t = totals(period="2024-02")
    assert list(t.index) == ["A", "B", "C", "D"]
    assert list(t["unit_type"]) == ["town", "town", "soe", "town"]  # B: its first type
    assert list(t["parent"].fillna("-")) == ["Y", "X", "-", "-"]
    assert t["major_hazards_found"].fillna(-1).tolist() == [1, 5, -1, -1]
    assert t["units_inspected"].fillna(-1).tolist() == [5, -1, -1, 1]
    assert t["n_periods"].tolist() == [2, 2, 0, 1]
    # to March, and the whole quarter: every row; A's blank is not a figure, so March
    # is not one of A's periods
    for kw in ({"period": "2024-03"}, {"period": "2024Q1", "cumulative": False}, {}):
        t = totals(**kw)
        assert t["major_hazards_found"].fillna(-1).tolist() == [1, 5, 4, -1]
        assert t["units_inspected"].fillna(-1).tolist() == [5, 7, -1, 1]
        assert t["n_periods"].tolist() == [2, 3, 1, 1]
    # February alone; n_periods counts periods with a row of any indicator
    t = I.window_totals(p, "major_hazards_found", period="2024-02", cumulative=False)
    assert t["major_hazards_found"].fillna(-1).tolist() == [-1, 3, -1, -1]
    assert t["n_periods"].tolist() == [1, 1, 0, 1]
    pd.testing.assert_frame_equal(p, before)


def test_window_totals_same_on_str_and_categorical_panel():
    text, cat = _mixed(), _categorical(_mixed())
    for kw in ({}, {"period": "2024-02"}, {"period": "2024-02", "cumulative": False}):
        a = I.window_totals(text, ["major_hazards_found", "units_inspected"], **kw)
        b = I.window_totals(cat, ["major_hazards_found", "units_inspected"], **kw)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)  # b's unit: object


@pytest.mark.parametrize("form", ["str", "categorical"])
def test_wide_panel_cumulative_by_hand(form):
    p = _mixed() if form == "str" else _categorical(_mixed())
    w = I.wide_panel(p, ["major_hazards_found"], cumulative=True)
    # every unit × every period of the panel, periods in time (the quarter after January)
    assert w["period"].astype(str).tolist()[:4] == ["2024-01", "2024Q1", "2024-02", "2024-03"]
    assert w["unit"].tolist() == [u for u in "ABCD" for _ in range(4)]
    got = w["major_hazards_found"].fillna(-1).to_numpy().reshape(4, 4).tolist()
    assert got == [[1, 1, 1, 1],  # A: the blank adds 0
                   [2, 2, 5, 5],
                   [-1, 4, 4, 4],
                   [-1, -1, -1, -1]]


def test_wide_tables_same_on_str_and_categorical_panel():
    text, cat = _mixed(), _categorical(_mixed())
    ex = pd.DataFrame({"unit": ["A", "B", "B", "C"], "sector": ["", "工贸", "消防", ""],
                       "enterprises": [10, 3, 4, 0]})
    for table in (I.rectification_rates, I.self_report_share,
                  lambda q: I.exposure_rates(q, ex, ["major_hazards_found", "units_inspected"]),
                  lambda q: I.rank_within_type(q, period="2024-02"),
                  lambda q: I.action_totals(q, "2024-02")):
        pd.testing.assert_frame_equal(table(text), table(cat), check_dtype=False)
    r = I.exposure_rates(cat, ex, ["units_inspected"], cumulative=True)
    r = r.set_index(["unit", "period"])
    assert r.loc[("A", "2024-03"), "units_inspected_per100"] == pytest.approx(50.0)  # 5/10
    assert r.loc[("B", "2024-03"), "enterprises"] == 7  # only sector rows: 3 + 4
    assert np.isnan(r.loc[("C", "2024-03"), "units_inspected_per100"])  # 0 enterprises
