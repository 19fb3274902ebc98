"""The methods notebook's view of the stored detection grid (evaluation/grid_view.py),
on a grid of two cells made by hand."""

from __future__ import annotations

import pandas as pd

from anquan_analysis import evaluation as E


def _grid():
    base = dict(clean_units=100, null_units=120, clean_flagged_oracle=1,
                null_flagged_oracle=0)
    rows = [
        # cell A: the group found 9 of 10 (oracle 10: 0.9 < 0.95); the step 1 of 2 (oracle 1)
        dict(cell="A", strength="strong", kind="coordinated_group", kind_zh="相互“保持平衡”",
             planted=10, found=9, oracle_found=10, clean_flagged=2, null_flagged=1),
        dict(cell="A", strength="strong", kind="district_step", kind_zh="全区整体阶跃",
             planted=2, found=1, oracle_found=1, clean_flagged=2, null_flagged=1),
        # cell B: the group 8 of 10 where the oracle finds 8 too: 0.8 < the floor 0.9
        dict(cell="B", strength="strong", kind="coordinated_group", kind_zh="相互“保持平衡”",
             planted=10, found=8, oracle_found=8, clean_flagged=3, null_flagged=0),
        dict(cell="B", strength="strong", kind="district_step", kind_zh="全区整体阶跃",
             planted=0, found=0, oracle_found=0, clean_flagged=3, null_flagged=0),
        # a mild cell: no absolute floor, 4 of 10 beside the oracle's 4 is on target
        dict(cell="A", strength="mild", kind="coordinated_group", kind_zh="相互“保持平衡”",
             planted=10, found=4, oracle_found=4, clean_flagged=0, null_flagged=0),
    ]
    df = pd.DataFrame([{**base, **r} for r in rows])
    df["recall"] = (df["found"] / df["planted"]).fillna(0.0)
    df["oracle_recall"] = (df["oracle_found"] / df["planted"]).fillna(0.0)
    return df


def test_summary_pools_cells_and_counts_those_short_of_the_targets():
    grid = _grid()
    before = grid.copy()
    s = E.grid_summary(grid).set_index(["强度", "异常类型"])
    pd.testing.assert_frame_equal(grid, before)  # not modified
    group = s.loc[("强", "相互“保持平衡”")]
    assert (group["注入"], group["检查检出"], group["神谕检出"]) == (20, 17, 18)
    assert group["检查检出率"] == 0.85 and group["神谕检出率"] == 0.9
    assert (group["未达标格数"], group["格数"]) == (2, 2)
    step = s.loc[("强", "全区整体阶跃")]   # the cell without a planting is not counted
    assert (step["注入"], step["检查检出"], step["未达标格数"], step["格数"]) == (2, 1, 0, 1)
    mild = s.loc[("弱", "相互“保持平衡”")]
    assert (mild["检查检出率"], mild["未达标格数"]) == (0.4, 0)
    assert list(E.grid_summary(grid)["强度"]) == ["强", "强", "弱"]


def test_false_alarms_count_each_cell_once():
    fa = E.grid_false_alarms(_grid()).set_index("强度")
    strong = fa.loc["强"]
    assert (strong["正常单位"], strong["检查误报"], strong["神谕误报"]) == (200, 5, 2)
    assert (strong["空白对照单位"], strong["检查误报（对照）"]) == (240, 1)
    assert strong["检查误报率(%)"] == 2.5 and strong["对照误报率(%)"] == round(100 / 240, 2)


def test_missing_column_is_named():
    import pytest
    with pytest.raises(ValueError, match="oracle_found"):
        E.grid_summary(_grid().drop(columns="oracle_found"))


def test_heldout_comparison_pools_each_part_and_the_null_twins_by_size():
    grid = _grid().assign(units=30)
    held = _grid().assign(units=30)
    # held out: the group found 12 of 20 (oracle 18), the null twins 6 of 240 flagged
    held.loc[(held["kind"] == "coordinated_group") & (held["strength"] == "strong"),
             "found"] = [6, 6]
    held.loc[held["cell"] == "A", "null_flagged"] = 5
    before = held.copy()
    t = E.heldout_comparison(grid, held).set_index("项目")
    pd.testing.assert_frame_equal(held, before)
    group = t.loc["相互“保持平衡”"]
    assert (group["调参区县检查"], group["调参区县神谕"]) == (0.85, 0.9)
    assert (group["留出区县检查"], group["留出区县神谕"]) == (0.6, 0.9)
    assert group["留出/神谕"] == round(0.6 / 0.9, 2)
    step = t.loc["全区整体阶跃"]
    assert (step["留出区县检查"], step["留出区县神谕"]) == (0.5, 0.5)
    null = t.loc["空白对照误报(30个单位)"]
    # each cell once: 1 + 0 of 240 in-sample, 5 + 0 of 240 held out; the oracle 0
    assert null["调参区县检查"] == round(100 / 240, 2) and null["留出区县检查"] == round(500 / 240, 2)
    assert null["留出区县神谕"] == 0.0
    assert list(t.index) == ["相互“保持平衡”", "全区整体阶跃", "空白对照误报(30个单位)"]


def test_two_runs_on_the_same_districts_under_their_own_labels():
    alone = _grid().assign(units=30)
    held = _grid().assign(units=30)
    held.loc[held["cell"] == "A", "null_flagged"] = 0
    t = E.heldout_comparison(alone, held, labels=("各项单独", "合并控制")).set_index("项目")
    assert list(t.columns) == ["各项单独检查", "各项单独神谕", "合并控制检查", "合并控制神谕",
                               "合并/神谕"]
    null = t.loc["空白对照误报(30个单位)"]
    assert (null["各项单独检查"], null["合并控制检查"]) == (round(100 / 240, 2), 0.0)
    group = t.loc["相互“保持平衡”"]
    assert group["合并/神谕"] == round(group["合并控制检查"] / group["合并控制神谕"], 2)
