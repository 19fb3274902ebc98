"""checks/_wording.py: how figures, p-values and windows are written in messages
(values known by construction: Python's own format rules)."""

import pandas as pd

from anquan_analysis.checks._wording import figure, fmt, p_text, window_label


def test_figure_prints_integers_plain_and_others_to_one_decimal():
    assert [figure(x) for x in (3.0, 1234.0, 2.5, -0.5, 0.0)] == ["3", "1234", "2.5", "-0.5", "0"]


def test_fmt_keeps_the_index_and_the_str_dtype():
    s = pd.Series([3.0, 2.5], index=[5, 7])
    for spec, want in [("n", ["3", "2.5"]), ("pct", ["300.00%", "250.00%"]),
                       ("p", ["3", "2.5"]), (".2f", ["3.00", "2.50"])]:
        got = fmt(s, spec)
        assert got.tolist() == want and got.index.tolist() == [5, 7] and got.dtype == "str"
    assert fmt(s).tolist() == ["3", "2.5"]  # the default is "n"
    assert fmt(pd.Series([0.1234, 0.012345]), "pct").tolist() == ["12.34%", "1.23%"]
    assert fmt(pd.Series([0.012345, 3.2e-05]), "p").tolist() == ["0.0123", "3.2e-05"]
    empty = fmt(pd.Series([], dtype=float))
    assert len(empty) == 0 and empty.dtype == "str"


def test_p_text_two_significant_digits_or_exponent_below_one_in_a_thousand():
    assert [p_text(p) for p in (0.0123, 0.001, 0.00012)] == ["0.012", "0.001", "1.2e-04"]


def test_window_label_names_the_window():
    periods = ["2024-01", "2024-02", "2024-03"]
    assert window_label(None, True, periods) == "2024-01至2024-03"
    assert window_label(None, True, periods[:2]) == "2024-01至2024-02"
    assert window_label(None, False, ["2024-02"]) == "2024-02"
    assert window_label(None, False, []) == ""
    assert window_label("2024-03", True, periods) == "截至2024-03累计"
    assert window_label("2024-03", False, periods) == "2024-03"
