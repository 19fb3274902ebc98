"""The panel read by integer codes (anquan_analysis._codes): the same answers on a text
column and on a categorical one, worked out by hand on small panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anquan_analysis import _codes

# rows:       0     1     2     3     4     5     6     7
UNITS = ["丙", "丙", "甲", None, "甲", "丙", "丁", "丁"]
TYPES = [None, "town", "soe", "town", "department", "soe", "town", None]


def _panel(categorical: bool) -> pd.DataFrame:
    df = pd.DataFrame({"unit": pd.Series(UNITS, dtype="str"),
                       "unit_type": pd.Series(TYPES, dtype="str")})
    if categorical:  # categories in an order that is not the text order, one unused
        df = df.astype({"unit": pd.CategoricalDtype(["丁", "乙", "丙", "甲"]),
                        "unit_type": "category"})
    return df


@pytest.mark.parametrize("categorical", [False, True])
def test_first_row_of_each_unit(categorical):
    u = _codes.Units(_panel(categorical)["unit"])
    first = dict(zip(u.names, u.first))
    assert {k: int(v) for k, v in first.items() if v >= 0} == {"丙": 0, "甲": 2, "丁": 6}


@pytest.mark.parametrize("categorical", [False, True])
def test_unit_types_are_the_first_known_type(categorical):
    # 丙's first row has no type, its second says town; 乙 has no rows; 戊 is unknown
    got = _codes.unit_types(_panel(categorical), ["甲", "丙", "丁", "乙", "戊"])
    assert got[:3].tolist() == ["soe", "town", "town"]
    assert pd.isna(got[3]) and pd.isna(got[4])


@pytest.mark.parametrize("categorical", [False, True])
def test_first_row_text_keeps_a_missing_first_type(categorical):
    # as drop_duplicates("unit") keeps it: 丙's first row has no type
    got = _codes.first_row_text(_panel(categorical), "unit_type", ["甲", "丙", "丁", "戊"])
    assert got[0] == "soe" and pd.isna(got[1]) and got[2] == "town" and pd.isna(got[3])


@pytest.mark.parametrize("categorical", [False, True])
def test_sorted_text_codes_rank_the_rows_values(categorical):
    rows = np.array([0, 2, 3, 6])
    codes, names = _codes.sorted_text_codes(_panel(categorical)["unit"], rows)
    assert names.tolist() == sorted(["丙", "甲", "丁"])
    assert [names[c] if c >= 0 else None for c in codes] == ["丙", "甲", None, "丁"]
