"""The grid fast path of ``Panel.build`` (a frame laid out unit by unit, period by
period, indicator by indicator, every cell once) gives exactly the panel of the
general build, which the same rows shuffled take; frames that only look like a grid
are recognised as not one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anquan_analysis import _panel_build as build
from anquan_analysis.panel import Panel
from anquan_analysis.synth import make_panel


def _same(a: Panel, b: Panel) -> None:
    for name in ("units", "indicators", "periods"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name
    for name in ("unit_type", "parent"):
        assert pd.Series(getattr(a, name)).equals(pd.Series(getattr(b, name))), name
    np.testing.assert_array_equal(a.values, b.values)
    assert a.values.dtype == b.values.dtype == np.float64
    assert (a.approx is None) == (b.approx is None)
    if a.approx is not None:
        np.testing.assert_array_equal(a.approx, b.approx)


def _general(frame: pd.DataFrame) -> Panel:
    """The general build: the same rows in another order are no grid."""
    shuffled = frame.sample(frac=1.0, random_state=7)
    assert build.grid_layout(shuffled) is None
    return Panel.build(shuffled)


@pytest.fixture(scope="module")
def grid_frame() -> pd.DataFrame:
    return make_panel(30, 5, 12, seed=2)


def test_make_panel_is_a_grid_and_both_builds_agree(grid_frame):
    g = build.grid_layout(grid_frame)
    assert g is not None and len(g.units) == 30 and len(g.periods) == 5
    assert len(g.indicators) == 12
    pv = Panel.build(grid_frame)
    _same(pv, _general(grid_frame))
    # spot value by hand: unit U000003, its 2nd month, the catalogue's 5th indicator
    row = grid_frame.iloc[3 * 60 + 1 * 12 + 4]
    u = pv.units.tolist().index("U000003")
    i = pv.indicators.tolist().index(row["indicator"])
    t = pv.periods.tolist().index(row["period"])
    assert pv.values[u, i, t] == float(row["value"])


def test_permuted_categories_blanks_approx_and_a_late_type(grid_frame):
    f = grid_frame.copy()
    # categories in no sorted order, units written in reverse order of name
    f["indicator"] = f["indicator"].cat.reorder_categories(
        list(f["indicator"].cat.categories[::-1]))
    f["period"] = f["period"].cat.reorder_categories(
        list(np.roll(f["period"].cat.categories, 2)))
    f["unit"] = f["unit"].cat.rename_categories(
        [f"V{99 - k:03d}" for k in range(len(f["unit"].cat.categories))])
    f["unit"] = f["unit"].cat.add_categories(["unused"])
    v = f["value"].to_numpy(dtype="float64").copy()
    v[[5, 70, 71]] = np.nan                  # blanks: not figures
    ind0 = f["indicator"].iloc[0]
    v[(f["indicator"] == ind0).to_numpy()] = np.nan   # one indicator never reported
    f["value"] = v
    approx = np.zeros(len(f), dtype=bool)
    approx[[1, 2, 5, 200]] = True            # row 5 is a blank: no approx figure there
    f["approx"] = approx
    ut = f["unit_type"].astype("object").to_numpy().copy()
    ut[0] = None                             # the first unit's type is on a later row only
    f["unit_type"] = pd.Categorical(ut)
    assert build.grid_layout(f) is not None
    pv = Panel.build(f)
    _same(pv, _general(f))
    assert ind0 not in pv.indicators.tolist() and len(pv.indicators) == 11
    assert pv.units[0] == "V070" and "unused" not in pv.units.tolist()
    assert int(pv.approx.sum()) == 3


@pytest.mark.parametrize("breakage", ["duplicate unit", "missing cell", "swapped rows",
                                      "text keys", "missing unit"])
def test_frames_that_are_not_a_grid(grid_frame, breakage):
    f = grid_frame
    if breakage == "duplicate unit":   # the second unit's block is the first unit's again
        f = pd.concat([f.iloc[:60], f.iloc[:60], f.iloc[120:]], ignore_index=True)
    elif breakage == "missing cell":
        f = f.drop(index=17).reset_index(drop=True)
    elif breakage == "swapped rows":   # two indicators of one month in the other order
        order = np.arange(len(f))
        order[[12, 13]] = order[[13, 12]]
        f = f.iloc[order].reset_index(drop=True)
    elif breakage == "text keys":
        f = f.astype({"unit": "str", "period": "str", "indicator": "str"})
    elif breakage == "missing unit":
        f = f.copy()
        f["unit"] = f["unit"].cat.add_categories(["x"])
        codes = f["unit"].cat.codes.to_numpy().copy()
        codes[60:120] = -1
        f["unit"] = pd.Categorical.from_codes(codes, categories=f["unit"].cat.categories)
    assert build.grid_layout(f) is None
    # and the general build still reads it (a duplicated cell is summed)
    pv = Panel.build(f)
    if breakage == "duplicate unit":
        assert pv.values[0, 0, 0] == 2 * Panel.build(grid_frame).values[0, 0, 0]
    if breakage == "missing unit":
        assert len(pv.units) == 29


def test_load_reads_the_analysis_columns_with_keys_in_text_order(tmp_path, grid_frame):
    """``Dataset.save`` writes categorical keys in text order; ``Dataset.load`` with
    ``columns`` reads only those, and with ``categorical`` gives every key column's
    categories in text order, whatever order the file's dictionary holds."""
    from anquan_analysis.dataset import ANALYSIS_COLUMNS, Dataset, keys_in_text_order

    assert list(grid_frame["indicator"].cat.categories) != sorted(
        grid_frame["indicator"].cat.categories)          # make_panel: catalogue order
    Dataset(panel=grid_frame).save(tmp_path / "cat")
    # a file written by other means, with text keys in row order
    grid_frame.astype({"unit": "str", "indicator": "str", "period": "str"}).to_parquet(
        tmp_path / "panel.parquet")
    for folder in (tmp_path / "cat", tmp_path):
        ds = Dataset.load(folder, categorical=True, columns=ANALYSIS_COLUMNS)
        assert list(ds.panel.columns) == ANALYSIS_COLUMNS
        for c in ("unit", "unit_type", "parent", "period", "indicator"):
            cats = list(ds.panel[c].cat.categories)
            assert cats == sorted(cats), c
            assert ds.panel[c].astype("str").equals(grid_frame[c].astype("str")), c
        assert ds.panel["value"].equals(grid_frame["value"])
        assert build.grid_layout(ds.panel) is not None
        _same(Panel.build(ds.panel), Panel.build(grid_frame))
    everything = Dataset.load(tmp_path / "cat")
    assert "source_row" in everything.panel.columns and len(everything.panel.columns) == 10
    # keys_in_text_order leaves a frame in order as it is and never modifies its input
    ordered = keys_in_text_order(grid_frame)
    assert keys_in_text_order(ordered) is ordered
    assert list(grid_frame["indicator"].cat.categories)[0] == "leader_onsite_city"
