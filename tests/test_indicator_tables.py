"""The indicator tables at their edges, on small panels worked out by hand: defaults
(in-period or to date), zeros and missing figures, units without a type or an
exposure, ties, and the exact columns each table returns.  Every number is derived
in the comment beside it."""

import numpy as np
import pandas as pd
import pytest

from anquan_analysis import indicators as I

KEYS = ["unit", "unit_type", "parent", "period"]


def _panel(records):
    """records: (unit, unit_type, period, indicator, value[, parent])."""
    rows = [dict(unit=r[0], unit_type=r[1], parent=r[5] if len(r) > 5 else None, period=r[2],
                 indicator=r[3], value=float(r[4])) for r in records]
    return pd.DataFrame(rows)


def _by(table, *keys):
    return table.set_index(list(keys))


# ------------------------------------------------------------------ wide tables
def test_wide_panel_is_in_period_by_default_with_a_nan_column_for_an_absent_indicator():
    p = _panel([("A", "town", "2024-01", "drills", 2), ("A", "town", "2024-03", "drills", 5),
                ("B", "town", "2024-02", "drills", 1), ("B", "town", "2024-02", "fines", 1.5)])
    w = I.wide_panel(p, ["drills", "major_hazards_found"])
    assert list(w.columns) == KEYS + ["drills", "major_hazards_found"]
    assert list(w.index) == list(range(6))  # 2 units × 3 periods
    # in-period, not to date: A's March is 5, not 2 + 5
    assert w["drills"].fillna(-1).tolist() == [2, -1, 5, -1, 1, -1]
    assert w["major_hazards_found"].dtype == "float64" and w["major_hazards_found"].isna().all()


def test_in_window_masks_a_period_column_and_never_a_missing_period():
    periods = pd.Series(["2024-01", None, "2024-03", "2024Q1"], index=[5, 6, 7, 8], name="period")
    up_to_feb = I.in_window(periods, "2024-02")  # Q1 and March end after February
    assert up_to_feb.tolist() == [True, False, False, False]
    assert up_to_feb.dtype == bool and list(up_to_feb.index) == [5, 6, 7, 8]
    assert up_to_feb.name == "period"
    assert I.in_window(periods, "2024Q1", cumulative=False).tolist() == [True, False, True, True]
    assert I.in_window(periods, "2024-01", cumulative=False).tolist() == [True, False, False, False]
    assert I.in_window(periods, "2024-03", cumulative=False).tolist() == [False, False, True, False]
    assert I.in_window(periods).tolist() == [True, False, True, True]


def test_window_totals_counts_periods_as_integers():
    p = _panel([("A", "town", "2024-01", "drills", 1), ("A", "town", "2024-02", "fines", 2)])
    t = I.window_totals(p, ["drills"])
    assert t["n_periods"].dtype == "int64" and t["n_periods"].tolist() == [2]


def test_window_sums_of_one_indicator_name_and_of_one_period():
    p = _panel([("A", "town", "2024-01", "drills", 1), ("A", "town", "2024-02", "drills", 2),
                ("B", "town", "2024-02", "fines", 3),
                ("C", "department", "2024-03", "drills", 4)])
    s = I.window_sums(p, "drills", period="2024-02")
    # B has no drills and C's only figure is after February: A alone, 1 + 2
    assert list(s.columns) == ["unit", "unit_type", "drills"]
    assert s.values.tolist() == [["A", "town", 3.0]]
    assert I.window_sums(p, "drills", period="2024-02", cumulative=False)["drills"].tolist() == [2]
    # the units a check tests are grouped by type, so the type column is required
    with pytest.raises(ValueError, match="unit_type"):
        I.window_sums(p.drop(columns="unit_type"), "drills")


# -------------------------------------------------------------------- exposure
def test_exposure_by_unit_without_exposure_is_an_empty_table():
    for none in (None, pd.DataFrame({"unit": [], "enterprises": []})):
        e = I.exposure_by_unit(none)
        assert list(e.columns) == ["unit", "enterprises"] and len(e) == 0
        assert e["enterprises"].dtype == "float64"


def test_exposure_by_unit_one_row_no_sector_column_and_a_missing_sector():
    one = I.exposure_by_unit(pd.DataFrame({"unit": ["A"], "enterprises": [30]}))
    assert one.values.tolist() == [["A", 30]]
    no_sector = I.exposure_by_unit(pd.DataFrame({"unit": ["B", "A"], "enterprises": [20, 10]}))
    assert no_sector.values.tolist() == [["A", 10], ["B", 20]]
    assert list(no_sector.index) == [0, 1]
    # a unit listed twice for all sectors: its rows summed, 10 + 5, as with sector rows
    twice = I.exposure_by_unit(pd.DataFrame({"unit": ["A", "B", "A"], "enterprises": [10, 20, 5]}))
    assert twice.values.tolist() == [["A", 15], ["B", 20]]
    # a missing sector is the all-sectors row, as '' is: A 150 (not 150 + 100);
    # B's only row is per sector and not a number ('—'): no exposure
    e = I.exposure_by_unit(pd.DataFrame({"unit": ["A", "A", "B"], "sector": [None, "工贸", "工贸"],
                                         "enterprises": [150, 100, "—"]}))
    got = _by(e, "unit")["enterprises"]
    assert got["A"] == 150 and np.isnan(got["B"])


def test_exposure_rates_in_period_every_unit_kept_and_no_rate_on_zero_enterprises():
    p = _panel([("A", "town", "2024-01", "major_hazards_found", 3),
                ("A", "town", "2024-02", "major_hazards_found", 1),
                ("B", "town", "2024-01", "major_hazards_found", 2),
                ("C", "town", "2024-01", "major_hazards_found", 4),
                ("C", "town", "2024-01", "units_inspected", 9),
                ("D", "town", "2024-01", "major_hazards_found", 1)])
    ex = pd.DataFrame({"unit": ["A", "B", "C"], "sector": "", "enterprises": [150, 0, 1]})
    r = I.exposure_rates(p, ex)
    assert list(r.columns) == KEYS + ["major_hazards_found", "enterprises",
                                      "major_hazards_found_per100"]
    r = _by(r, "unit", "period")
    rate = r["major_hazards_found_per100"]
    assert rate[("A", "2024-02")] == pytest.approx(1 / 150 * 100)  # in-period: 1, not 3 + 1
    assert rate[("A", "2024-01")] == pytest.approx(2.0)             # 3 / 150 × 100
    assert rate[("C", "2024-01")] == pytest.approx(400.0)           # 4 / 1 × 100
    assert np.isnan(rate[("B", "2024-01")])                         # 0 enterprises: no rate
    # D has no exposure row: kept, without a rate
    assert np.isnan(r.loc[("D", "2024-01"), "enterprises"]) and np.isnan(rate[("D", "2024-01")])
    half = _by(I.exposure_rates(p, ex, per=2.5), "unit", "period")
    assert half.loc[("A", "2024-01"), "major_hazards_found_per2.5"] == pytest.approx(0.05)  # 3/150×2.5


# ----------------------------------------------------------------------- rates
def _rectified():
    # A, January: found 3, rectified 1; by enterprises found 1, rectified 1.
    # February: found 0 but rectified 2 (January's); enterprises found 3, rectified 2.
    return _panel([("A", "town", "2024-01", "major_hazards_found", 3),
                   ("A", "town", "2024-01", "major_hazards_rectified", 1),
                   ("A", "town", "2024-01", "major_hazards_found_enterprise", 1),
                   ("A", "town", "2024-01", "major_hazards_rectified_enterprise", 1),
                   ("A", "town", "2024-02", "major_hazards_found", 0),
                   ("A", "town", "2024-02", "major_hazards_rectified", 2),
                   ("A", "town", "2024-02", "major_hazards_found_enterprise", 3),
                   ("A", "town", "2024-02", "major_hazards_rectified_enterprise", 2)])


def test_rectification_rates_to_date_and_in_period():
    r = _by(I.rectification_rates(_rectified()), "period")        # to date by default
    assert r.loc["2024-01", "major_rate"] == pytest.approx(1 / 3)
    assert r.loc["2024-02", "major_rate"] == pytest.approx(1.0)    # (1 + 2) / (3 + 0)
    assert r.loc["2024-01", "major_enterprise_rate"] == pytest.approx(1.0)  # 1 / 1
    assert r.loc["2024-02", "major_enterprise_rate"] == pytest.approx(0.75)  # 3 / 4
    m = _by(I.rectification_rates(_rectified(), cumulative=False), "period")
    # nothing found in February: no rate (2 rectified ÷ 0 found is not a rate)
    assert np.isnan(m.loc["2024-02", "major_rate"])
    assert m.loc["2024-02", "major_enterprise_rate"] == pytest.approx(2 / 3)


def test_self_report_share_falls_back_on_major_hazards_found_without_a_dept_figure():
    p = _panel([("A", "town", "2024-01", "major_hazards_found", 10),
                ("A", "town", "2024-01", "major_hazards_found_enterprise", 2)])
    s = I.self_report_share(p).iloc[0]
    assert np.isnan(s["found_dept"]) and s["found"] == 10 and s["share"] == pytest.approx(0.2)


def test_persons_per_session_only_for_complete_pairs_in_period_or_to_date():
    p = _panel([("A", "town", "2024-01", "principal_training_sessions", 2),
                ("A", "town", "2024-01", "principal_training_persons", 50),
                ("A", "town", "2024-02", "principal_training_sessions", 1),
                ("A", "town", "2024-02", "principal_training_persons", 30),
                ("A", "town", "2024-02", "standard_publicity_sessions", 3)])
    r = I.persons_per_session(p)
    # standard publicity has sessions but no persons: no column for it
    assert list(r.columns) == KEYS + ["principal_training_per_session"]
    assert r["principal_training_per_session"].tolist() == [25.0, 30.0]   # 50/2, 30/1
    to_date = I.persons_per_session(p, cumulative=True)
    assert to_date["principal_training_per_session"].tolist() == pytest.approx([25.0, 80 / 3])


# ----------------------------------------------------------------- period changes
def test_period_changes_signs_missing_earlier_figures_and_columns():
    p = _panel([("A", "town", "2023-09", "major_hazards_found", 10),
                ("A", "town", "2024-08", "major_hazards_found", 20),
                ("A", "town", "2024-09", "major_hazards_found", 30),
                ("A", "town", "2024-09", "drills", 4),
                ("B", "town", "2024-08", "major_hazards_found", 5),
                ("B", "town", "2024-09", "major_hazards_found", 2),
                ("C", "town", "2024-08", "major_hazards_found", 0),
                ("C", "town", "2024-09", "major_hazards_found", 3)])
    c = I.period_changes(p, ["major_hazards_found"])
    assert list(c.columns) == ["unit", "unit_type", "parent", "period", "indicator", "value",
                               "previous", "change", "pct_change", "last_year", "yoy_change",
                               "yoy_pct"]
    assert list(c.index) == list(range(7)) and set(c["indicator"]) == {"major_hazards_found"}
    assert list(zip(c["unit"], c["period"])) == [
        ("A", "2023-09"), ("A", "2024-08"), ("A", "2024-09"), ("B", "2024-08"),
        ("B", "2024-09"), ("C", "2024-08"), ("C", "2024-09")]
    c = _by(c, "unit", "period")
    a = c.loc[("A", "2024-09")]
    # 30 on 20 the month before (+10, +50 %) and on 10 a year before (+20, +200 %)
    assert (a["change"], a["pct_change"], a["yoy_change"], a["yoy_pct"]) == (10, 0.5, 20, 2.0)
    b = c.loc[("B", "2024-09")]
    assert (b["previous"], b["change"], b["pct_change"]) == (5, -3, pytest.approx(-0.6))
    assert np.isnan(b["last_year"]) and np.isnan(b["yoy_change"])  # B gave no 2023-09
    # August: no July and no August 2023 in the panel
    assert np.isnan(c.loc[("A", "2024-08"), "previous"])
    assert np.isnan(c.loc[("A", "2024-08"), "last_year"])
    # C rose from 0: a change of 3, no percentage
    assert c.loc[("C", "2024-09"), "change"] == 3 and np.isnan(c.loc[("C", "2024-09"), "pct_change"])
    drills = I.period_changes(p, ["drills"])
    assert drills[["unit", "period", "indicator", "value"]].values.tolist() == [
        ["A", "2024-09", "drills", 4.0]]


# ---------------------------------------------------------- in-period ⇄ cumulative
def test_to_cumulative_orders_the_periods_in_time_and_keeps_the_columns():
    p = _panel([("A", "town", "2024-03", "drills", 5), ("A", "town", "2024-01", "drills", 2),
                ("A", "town", "2024-02", "drills", 1)])
    cum = I.to_cumulative(p)
    assert list(cum.columns) == list(p.columns) and list(cum.index) == [0, 1, 2]
    # January 2, February 2 + 1, March 3 + 5, whatever the order of the rows
    assert cum[["period", "value"]].values.tolist() == [["2024-01", 2.0], ["2024-02", 3.0],
                                                        ["2024-03", 8.0]]
    back = I.to_in_period(cum.iloc[::-1])
    assert list(back.columns) == list(p.columns) and list(back.index) == [0, 1, 2]
    assert back["value"].tolist() == [2.0, 1.0, 5.0]


def test_to_in_period_restarts_each_january_with_reset_year():
    cum = _panel([("A", "town", "2023-11", "drills", 4), ("A", "town", "2023-12", "drills", 6),
                  ("A", "town", "2024-01", "drills", 1), ("A", "town", "2024-02", "drills", 3)])
    # the 2024 figures restart from January: 4, 6−4, 1 (not 1−6), 3−1
    assert I.to_in_period(cum, reset="year")["value"].tolist() == [4.0, 2.0, 1.0, 2.0]
    assert I.to_in_period(cum)["value"].tolist() == [4.0, 2.0, -5.0, 2.0]
    with pytest.raises(ValueError, match="reset"):
        I.to_in_period(cum, reset="month")


# ------------------------------------------------------------------------ ranks
def _ranked_panel():
    """To February: towns T1 4+2 = 6, T2 1+5 = 6, T3 0 (no figure up to Feb; its 7 is
    in March); departments D1 4, D2 8; U (no type) 0.  Mean of all six 24/6 = 4."""
    return _panel([("T1", "town", "2024-01", "major_hazards_found", 4),
                   ("T1", "town", "2024-02", "major_hazards_found", 2),
                   ("T2", "town", "2024-01", "major_hazards_found", 1),
                   ("T2", "town", "2024-02", "major_hazards_found", 5),
                   ("T3", "town", "2024-01", "drills", 1),
                   ("T3", "town", "2024-03", "major_hazards_found", 7),
                   ("D1", "department", "2024-01", "major_hazards_found", 4),
                   ("D2", "department", "2024-02", "major_hazards_found", 8),
                   ("U", None, "2024-02", "drills", 1)])


def test_rank_within_type_to_date_ties_means_and_a_unit_without_type():
    r = I.rank_within_type(_ranked_panel(), period="2024-02")
    assert list(r.columns) == ["unit", "unit_type", "parent", "value", "rank", "n_in_type",
                               "type_mean", "below_mean", "overall_rank", "overall_mean",
                               "below_overall_mean"]
    # sorted by overall rank (ties: T1 and T2 share 2; T3 and U share 5), then name
    assert r["unit"].tolist() == ["D2", "T1", "T2", "D1", "T3", "U"]
    assert r["value"].tolist() == [8, 6, 6, 4, 0, 0]
    assert r["overall_rank"].tolist() == [1, 2, 2, 4, 5, 5]
    for col in ("rank", "n_in_type", "overall_rank"):
        assert r[col].dtype == "int64"
    r = _by(r, "unit")
    # towns 6, 6, 0: mean 4, T1 and T2 share rank 1; departments 8, 4: mean 6;
    # U is the only unit without a type: a group of one, at its own mean
    assert r.loc[["T1", "T2", "T3", "D2", "D1", "U"], "rank"].tolist() == [1, 1, 3, 1, 2, 1]
    assert r.loc[["T1", "D1", "U"], "n_in_type"].tolist() == [3, 2, 1]
    assert r.loc[["T1", "D1", "U"], "type_mean"].tolist() == [4.0, 6.0, 0.0]
    assert r["below_mean"][lambda s: s].index.tolist() == ["D1", "T3"]
    # D1 is exactly at the overall mean of 4: not below it
    assert r["overall_mean"].iloc[0] == 4.0
    assert r["below_overall_mean"][lambda s: s].index.tolist() == ["T3", "U"]


def test_three_tied_units_share_the_best_rank():
    p = _panel([(u, "town", "2024-01", "major_hazards_found", v)
                for u, v in (("A", 5), ("B", 5), ("C", 5), ("D", 1))])
    r = I.rank_within_type(p)
    # 5, 5, 5 share rank 1 (not the average 2); 1 is fourth
    assert r["rank"].tolist() == [1, 1, 1, 4] and r["overall_rank"].tolist() == [1, 1, 1, 4]


def test_rank_within_type_in_one_period_and_over_everything():
    feb = _by(I.rank_within_type(_ranked_panel(), period="2024-02", cumulative=False), "unit")
    assert feb.loc[["T1", "T2", "T3", "D1", "D2", "U"], "value"].tolist() == [2, 5, 0, 0, 8, 0]
    everything = _by(I.rank_within_type(_ranked_panel()), "unit")
    assert everything.loc[["T1", "T3", "D2"], "value"].tolist() == [6, 7, 8]


def test_action_totals_default_is_the_last_period_and_to_date_stops_at_the_period():
    p = _panel([("A", "town", "2024-01", "major_hazards_found", 2),
                ("A", "town", "2024-02", "major_hazards_found", 3),
                ("A", "town", "2024-03", "major_hazards_found", 4),
                ("B", "town", "2024-02", "major_hazards_found", 1),
                ("A", "town", "2024-03", "drills", 5)])
    last = I.action_totals(p)
    assert list(last.columns) == ["action", "action_zh", "indicator", "name_zh", "unit",
                                  "period", "value", "previous", "change", "cumulative"]
    assert list(last.index) == [0, 1]
    assert last["indicator"].tolist() == ["major_hazards_found", "drills"]  # catalogue order
    assert last["period"].tolist() == ["2024-03", "2024-03"]
    # March 4 against February 3 + 1; to date 2 + 4 + 4 = 10; drills only in March
    assert last[["value", "previous", "change", "cumulative"]].fillna(-1).values.tolist() == [
        [4, 4, 0, 10], [5, -1, -1, 5]]
    feb = I.action_totals(p, "2024-02")
    # February: 3 + 1 against 2; to date 2 + 4 = 6; no drill up to February
    assert feb[["value", "previous", "change", "cumulative"]].fillna(-1).values.tolist() == [
        [4, 2, 2, 6], [-1, -1, -1, -1]]
    assert feb["cumulative"].dtype == "float64"


# ---------------------------------------------------------------------- sectors
def test_sector_shares_by_unit_with_given_sectors_blank_sectors_and_no_hazards():
    counts = pd.DataFrame({"unit": ["A", "A", "A", "B", "B", "C"],
                           "sector": ["工贸", None, "", "工贸", "消防", "自定义"],
                           "found": [1, 7, 9, 0, 0, 2]})
    s = I.sector_shares(counts, by="unit", sectors=["工贸", "消防"])
    assert list(s.columns) == ["unit", "sector", "count", "share", "zero", "hhi", "n_zero"]
    assert list(s.index) == list(range(9))
    # the two sectors asked for, then the one only the counts name; blank sectors
    # (None, '') left out: A holds 1 of 1 in 工贸
    assert s["sector"].tolist() == ["工贸", "消防", "自定义"] * 3
    s = _by(s, "unit", "sector")
    assert s.loc[("A", "工贸"), ["count", "share"]].tolist() == [1, 1.0]
    assert s.loc[("A", "消防"), "share"] == 0.0 and s.loc[("A", "工贸"), "hhi"] == 1.0
    # B reported only zeros: no shares
    assert s.loc["B", "share"].isna().all() and s.loc[("B", "工贸"), "n_zero"] == 3
    assert s["n_zero"].dtype == "int64"
    assert s.loc[("C", "自定义"), "share"] == 1.0 and s.loc[("C", "工贸"), "n_zero"] == 2


def test_sector_shares_with_only_blank_sectors_lists_every_sector_at_zero():
    s = I.sector_shares(pd.DataFrame({"sector": ["", None], "found": [3, 4]}),
                        sectors=["工贸", "消防"])
    assert s["sector"].tolist() == ["工贸", "消防"] and s["count"].tolist() == [0, 0]
    assert s["zero"].all() and s["share"].isna().all() and s["n_zero"].tolist() == [2, 2]


def test_sector_profile_of_another_count_ties_in_catalogue_order_and_single_sector():
    counts = pd.DataFrame({"unit": ["A", "A", "A", "B"],
                           "sector": ["消防", "工贸", "建筑施工", "危险化学品"],
                           "found": [5, 5, 9, 2], "rectified": [1, 1, 0, 1]})
    prof = _by(I.sector_profile(counts, value="rectified", by="unit",
                                sectors=["工贸", "消防", "建筑施工", "危险化学品"]), "unit")
    # A rectified 1 in 消防 and 1 in 工贸 (a tie: the given order, 工贸 first), 0 in 建筑施工
    a = prof.loc["A"]
    assert (a["total"], a["top_sectors"], a["top2_share"]) == (2, "工贸、消防", 1.0)
    assert a["zero_sectors"] == "建筑施工、危险化学品" and a["n_zero"] == 2
    # B: one sector with one hazard rectified holds all of it
    b = prof.loc["B"]
    assert (b["total"], b["top_sectors"], b["top2_share"], b["hhi"]) == (1, "危险化学品", 1.0, 1.0)
    full = I.sector_profile(counts.loc[counts["unit"] == "A"], sectors=["工贸", "消防", "建筑施工"])
    # found: 9 + 5 + 5, no sector at 0
    assert full[["total", "top_sectors", "zero_sectors", "n_zero"]].values.tolist() == [
        [19, "建筑施工、工贸", "", 0]]
    assert full["top2_share"].iloc[0] == pytest.approx(14 / 19)


# ------------------------------------------------------------------ departments
def test_department_levels_by_parent_unit_parent_name_and_city_parent():
    p = _panel([("高新园", "county", "2024-01", "drills", 1),
                ("安监办", "department", "2024-01", "drills", 1, "高新园"),   # parent a county unit
                ("应急办", "department", "2024-01", "drills", 1, "雁山区"),   # parent named …区
                ("交通局", "department", "2024-01", "drills", 1, "桂林市"),   # parent named …市
                ("卫健委", "department", "2024-01", "drills", 1, "市政府"),   # parent named 市…
                ("发改委", "department", "2024-01", "drills", 1)])
    lv = I.department_levels(p)
    assert list(lv.columns) == ["unit", "unit_type", "parent", "level", "level_zh"]
    assert list(lv.index) == list(range(5))
    lv = _by(lv, "unit")
    assert lv.loc[["安监办", "应急办", "交通局", "卫健委"], "level"].tolist() == \
        ["county", "county", "city", "city"]
    assert lv.loc[["安监办", "交通局"], "level_zh"].tolist() == ["县级", "市级"]
    assert pd.isna(lv.loc["发改委", "level"]) and pd.isna(lv.loc["发改委", "level_zh"])
