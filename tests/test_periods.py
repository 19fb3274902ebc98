import pytest

from anquan_analysis import periods as P


@pytest.mark.parametrize("text, canonical", [
    ("2024-04", "2024-04"), ("2024-4", "2024-04"), ("2024/04", "2024-04"), ("2024.4", "2024-04"),
    ("2024年4月", "2024-04"), ("２０２４年４月", "2024-04"), ("2024年四月", "2024-04"),
    ("2024年十二月", "2024-12"), ("202404", "2024-04"), ("2024-04-05", "2024-04"),
    ("2024Q2", "2024Q2"), ("2024-q2", "2024Q2"), ("2024年二季度", "2024Q2"), ("2024年第二季度", "2024Q2"),
    ("2024年第2季度", "2024Q2"), ("2024年上半年", "2024H1"), ("2023年下半年", "2023H2"),
    ("2024H1", "2024H1"), ("2024年", "2024"), ("2024年度", "2024"),
])
def test_parse_period(text, canonical):
    assert P.parse_period(text) == canonical


@pytest.mark.parametrize("bad", ["5-10月", "2024-13", "2024年五季度", "", "abc", "1850-01"])
def test_parse_period_rejects(bad):
    with pytest.raises(ValueError, match="not a period"):
        P.parse_period(bad)


def test_period_arithmetic():
    assert P.shift_period("2024-01", -1) == "2023-12"
    assert P.shift_period("2024Q1", -1) == "2023Q4"
    assert P.shift_period("2024H1", -1) == "2023H2"
    assert P.shift_period("2024H2", 1) == "2025H1"
    assert P.same_period_last_year("2024-04") == "2023-04"
    assert P.same_period_last_year("2024Q2") == "2023Q2"
    assert P.months_in("2024Q2") == ["2024-04", "2024-05", "2024-06"]
    assert P.months_in("2023H1") == [f"2023-{m:02d}" for m in range(1, 7)]
    assert P.to_quarter("2024-09") == "2024Q3"
    start, end = P.period_bounds("2024Q1")
    assert (str(start.date()), str(end.date())) == ("2024-01-01", "2024-03-31")
    assert P.sort_periods(["2024-04", "2023-12", "2024-01", "2024-04"]) == ["2023-12", "2024-01", "2024-04"]
