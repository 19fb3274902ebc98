"""The one reader of figures (anquan_analysis.panel): every cell, window and level
worked out by hand on small panels, in text and categorical form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anquan_analysis.dataset import compact_panel
from anquan_analysis.panel import Panel, as_panel
from anquan_analysis.periods import nested, window


def _panel() -> pd.DataFrame:
    rows = [  # unit, type, parent, period, indicator, value, approx
        ("乙镇", None, "巴南区", "2024-01", "drills", 3.0, False),       # no type on its first row
        ("乙镇", "town", "巴南区", "2024-02", "drills", 4.0, True),
        ("乙镇", "town", "巴南区", "2024-02", "drills", 2.0, False),   # duplicate: summed
        ("甲镇", "town", None, "2024-01", "drills", 7.0, False),
        ("甲镇", "town", None, "2024-01", "fines", np.nan, False),     # blank: not a figure
        ("甲镇", "town", None, "2024-03", "fines", 1.5, False),
        ("甲镇", "department", None, "2024Q1", "drills", 30.0, False),  # its months count
        ("丙局", "department", "巴南区", "2024Q1", "drills", 9.0, False),  # a quarter only
        ("丙局", "department", "巴南区", "2024-04", "drills", 5.0, False),
        (None, "town", None, "2024-01", "drills", 5.0, False),           # no unit: left out
    ]
    return pd.DataFrame(rows, columns=["unit", "unit_type", "parent", "period", "indicator",
                                       "value", "approx"])


FORMS = ["str", "categorical"]


def _built(form) -> Panel:
    p = _panel()
    if form == "categorical":  # rows shuffled, categories in no sorted order
        p = compact_panel(p.sample(frac=1.0, random_state=3))
        p["unit"] = p["unit"].cat.set_categories(["甲镇", "乙镇", "丙局", "丁"])
    return Panel.build(p)


@pytest.mark.parametrize("form", FORMS)
def test_axes_cells_and_the_first_known_type(form):
    pv = _built(form)
    assert pv.units.tolist() == ["丙局", "乙镇", "甲镇"]
    assert pv.indicators.tolist() == ["drills", "fines"]
    # time order by first day, then last (periods.sort_periods)
    assert pv.periods.tolist() == ["2024-01", "2024Q1", "2024-02", "2024-03", "2024-04"]
    expected = np.full((3, 2, 5), np.nan)
    expected[0, 0, [1, 4]] = [9.0, 5.0]
    expected[1, 0, [0, 2]] = [3.0, 6.0]            # 4 + 2 summed
    expected[2, 0, [0, 1]] = [7.0, 30.0]
    expected[2, 1, 3] = 1.5                        # the blank of January is no figure
    np.testing.assert_array_equal(pv.values, expected)
    assert pv.approx is not None and int(pv.approx.sum()) == 1 and pv.approx[1, 0, 2]
    assert pv.unit_type.tolist() == ["department", "town", "town"]  # 乙镇: first known
    assert pv.parent.tolist()[:2] == ["巴南区", "巴南区"] and pd.isna(pv.parent[2])


@pytest.mark.parametrize("form", FORMS)
def test_take_cuts_indicators_and_periods_and_its_frame_is_the_filtered_frame(form):
    pv = _built(form)
    sub = pv.take([1], [3, 0])                     # fines; 2024-03 then 2024-01
    assert sub.indicators.tolist() == ["fines"] and sub.periods.tolist() == ["2024-03", "2024-01"]
    assert sub.units.tolist() == ["丙局", "乙镇", "甲镇"] and sub.values.shape == (3, 1, 2)
    np.testing.assert_array_equal(sub.values[:, 0, :], [[np.nan, np.nan]] * 2 + [[1.5, np.nan]])
    drills = pv.take([0], [0, 2]).to_frame()       # January and February, in axis order
    assert drills[["unit", "period", "value"]].values.tolist() == [
        ["乙镇", "2024-01", 3.0], ["乙镇", "2024-02", 6.0], ["甲镇", "2024-01", 7.0]]
    assert drills["approx"].tolist() == [False, True, False]
    whole = pv.to_frame()
    kept = whole.loc[whole["indicator"].eq("drills") & whole["period"].isin(["2024-01", "2024-02"])]
    pd.testing.assert_frame_equal(drills, kept.reset_index(drop=True))
    assert pv.take().to_frame().equals(whole)


@pytest.mark.parametrize("form", FORMS)
def test_windows_count_a_months_unit_quarter_once(form):
    pv = _built(form)
    # up to March: 甲镇's months count and its quarter does not; 丙局's quarter counts
    t = pv.totals(["drills", "fines", "deaths"], "2024-03")
    np.testing.assert_array_equal(t, [[9.0, np.nan, np.nan], [9.0, np.nan, np.nan],
                                      [7.0, 1.5, np.nan]])
    # the quarter alone holds the same; the whole panel adds April
    np.testing.assert_array_equal(pv.totals(["drills"], "2024Q1", cumulative=False)[:, 0],
                                  [9.0, 9.0, 7.0])
    np.testing.assert_array_equal(pv.totals(["drills"])[:, 0], [14.0, 9.0, 7.0])
    # February alone
    np.testing.assert_array_equal(pv.totals(["drills"], "2024-02", cumulative=False)[:, 0],
                                  [np.nan, 6.0, np.nan])
    assert pv.periods_reported("2024-03").tolist() == [1, 2, 2]


def test_window_and_nesting_rules_by_hand():
    periods = ["2024-01", "2024-03", "2024Q1", "2024-04", "2024H1", "2024"]
    assert window(periods, "2024-03").tolist() == [True, True, True, False, False, False]
    assert window(periods, "2024Q1", cumulative=False).tolist() == [True, True, True,
                                                                    False, False, False]
    assert window(periods, None).all()
    finer = nested(periods)
    assert finer[0, 2] and finer[1, 2] and not finer[3, 2]   # months inside Q1, April not
    assert finer[2, 4] and finer[2, 5] and finer[0, 5]        # Q1 in H1 and in the year
    assert not finer[2, 0] and not finer.diagonal().any()
    assert not nested(["2024-01", "2024-02"]).any()


@pytest.mark.parametrize("form", FORMS)
def test_levels_sum_months_into_quarters_and_drop_the_rest(form):
    pv = _built(form)
    q = pv.at_level("quarter")
    assert q.periods.tolist() == ["2024Q1", "2024Q2"]
    np.testing.assert_array_equal(q.values[:, 0, :], [[9.0, 5.0], [9.0, np.nan],
                                                      [7.0, np.nan]])
    assert q.approx is not None and q.approx[1, 0, 0] and int(q.approx.sum()) == 1
    m = pv.at_level("month")
    assert m.periods.tolist() == ["2024-01", "2024-02", "2024-03", "2024-04"]
    with pytest.raises(ValueError, match="level"):
        pv.at_level("decade")  # a year is a level now (issue 18): tests/test_levels.py


@pytest.mark.parametrize("form", FORMS)
def test_series_is_one_frequency_up_to_the_period(form):
    c = _built(form).series("2024-03")
    assert c.periods.tolist() == ["2024-01", "2024-02", "2024-03"]
    assert c.units.tolist() == ["乙镇", "甲镇"]               # 丙局 has no month before April
    assert c.unit_type.tolist() == ["town", "town"]
    assert c.period_pos.tolist() == [2024 * 12, 2024 * 12 + 1, 2024 * 12 + 2]
    assert c.count_indicators().tolist() == [True, False]    # fines are 万元
    np.testing.assert_array_equal(c.values[0, 0], [3.0, 6.0, np.nan])


def test_whole_panel_matches_a_pivot_of_a_complete_panel():
    from anquan_analysis.synth import make_panel
    panel = make_panel(30, 5, 7, seed=2)
    pv = as_panel(panel)
    wide = (panel.astype({"unit": str, "indicator": str, "period": str})
            .pivot_table(index=["unit", "indicator"], columns="period", values="value",
                         aggfunc="sum", observed=True))
    np.testing.assert_allclose(pv.values.reshape(-1, 5), wide.to_numpy(), rtol=1e-7)


def test_a_panel_is_read_only_and_its_input_untouched():
    p = _panel()
    before = p.copy()
    pv = Panel.build(p, indicators=["drills"])
    pd.testing.assert_frame_equal(p, before)
    # only the rows of drills are read: 2024-03 (fines only) is not on the period axis
    assert pv.indicators.tolist() == ["drills"] and "2024-03" not in pv.periods
    with pytest.raises(ValueError):
        pv.values[0, 0, 0] = 1.0
    assert as_panel(pv) is pv


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="missing column 'indicator'"):
        Panel.build(_panel().drop(columns="indicator"))
    with pytest.raises(TypeError, match="Panel, a Dataset or a long DataFrame"):
        as_panel([1, 2])
