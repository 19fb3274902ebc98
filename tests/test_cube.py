"""The dense cube: every cell checked against a panel built by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anquan_analysis import cube as cube_mod
from anquan_analysis.cube import build_cube, panel_cube, shared
from anquan_analysis.dataset import compact_panel


def _panel() -> pd.DataFrame:
    rows = [  # unit, type, parent, period, indicator, value, approx
        ("乙镇", "town", "巴南区", "2024-01", "drills", 3.0, False),
        ("乙镇", "town", "巴南区", "2024-02", "drills", 4.0, True),
        ("乙镇", "town", "巴南区", "2024-02", "drills", 2.0, False),   # duplicate: summed
        ("甲镇", "town", None, "2024-01", "drills", 7.0, False),
        ("甲镇", "town", None, "2024-01", "fines", np.nan, False),     # reported blank: 0
        ("甲镇", "town", None, "2024-03", "fines", 1.5, False),
        ("甲镇", "department", None, "2024Q1", "drills", 30.0, False),  # other frequency
        ("丙局", "department", "巴南区", "2024-04", "drills", 9.0, False),  # after P
        (None, "town", None, "2024-01", "drills", 5.0, False),           # no unit: left out
    ]
    return pd.DataFrame(rows, columns=["unit", "unit_type", "parent", "period", "indicator",
                                       "value", "approx"])


@pytest.mark.parametrize("form", ["str", "categorical"])
def test_cells_sums_blanks_and_the_period_window(form):
    panel = _panel() if form == "str" else compact_panel(_panel())
    c = build_cube(panel, "2024-03")
    # Axes in text order; 丙局 has no row up to 2024-03, the quarter is another frequency.
    assert c.units.tolist() == ["乙镇", "甲镇"]
    assert c.indicators.tolist() == ["drills", "fines"]
    assert c.periods.tolist() == ["2024-01", "2024-02", "2024-03"]
    assert c.period_pos.tolist() == [2024 * 12, 2024 * 12 + 1, 2024 * 12 + 2]
    expected = np.full((2, 2, 3), np.nan)
    expected[0, 0, :2] = [3.0, 6.0]          # 4 + 2 summed
    expected[1, 0, 0] = 7.0
    expected[1, 1, [0, 2]] = [0.0, 1.5]      # the blank counts as 0, as a group-by sum
    np.testing.assert_array_equal(c.values, expected)
    assert c.approx is not None and c.approx.sum() == 1 and c.approx[0, 0, 1]
    assert c.unit_type.tolist() == ["town", "town"]
    assert c.parent.tolist() == ["巴南区", ""]
    assert c.count_indicators().tolist() == [True, False]  # fines are 万元


def test_whole_panel_keeps_every_frequency_and_the_first_rows_type():
    c = build_cube(_panel())
    assert c.units.tolist() == ["丙局", "乙镇", "甲镇"]
    assert c.periods.tolist() == ["2024-01", "2024-02", "2024-03", "2024-04", "2024Q1"]
    assert c.period_freq.tolist() == ["M", "M", "M", "M", "Q"]
    assert c.values[2, 0, 4] == 30.0
    # 甲镇's first row says town: a unit's type is its first row's.
    assert c.unit_type.tolist() == ["department", "town", "town"]
    assert int(np.count_nonzero(c.reported)) == 7


def test_complete_panel_takes_the_direct_path_and_matches_a_pivot():
    from anquan_analysis.synth import make_panel
    panel = make_panel(30, 5, 7, seed=2)
    c = build_cube(panel, "2024-04")
    assert c.shape == (30, 7, 4)
    wide = (panel[panel["period"].astype(str) <= "2024-04"].astype({"unit": str, "indicator": str,
                                                                    "period": str})
            .pivot_table(index=["unit", "indicator"], columns="period", values="value",
                         aggfunc="sum", observed=True))
    np.testing.assert_allclose(c.values.reshape(-1, 4), wide.to_numpy(), rtol=1e-7)


def test_shared_builds_once_and_only_inside_the_block():
    panel = _panel()
    assert panel_cube(panel) is not panel_cube(panel)  # outside: fresh every call
    with shared():
        a = panel_cube(panel, "2024-03")
        assert panel_cube(panel, "2024-03") is a
        assert panel_cube(panel, None) is not a
        assert panel_cube(panel.copy(), "2024-03") is not a  # another frame
    assert cube_mod._SHARED is None


def test_input_is_not_modified():
    panel = _panel()
    before = panel.copy()
    build_cube(panel, "2024-03")
    pd.testing.assert_frame_equal(panel, before)


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="indicator"):
        build_cube(_panel().drop(columns="indicator"))
