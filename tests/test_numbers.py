"""Typed figures from the seed bulletins and office tables → value, unit, approx, error."""

import math

import pandas as pd
import pytest

from anquan_analysis.numbers import (UNIT_GROUPS, parse_chinese_numeral, parse_number,
                                     parse_numbers, units_compatible)


@pytest.mark.parametrize("text, target, value, unit, approx", [
    ("17万余", None, 170000, None, True),              # 桂林: 应急演练223家17万余人次
    ("96万余人次", None, 960000, "人次", True),          # 桂林: 安全宣传96万余人次
    ("96万余人次", "人次", 960000, "人次", True),
    ("580余次", None, 580, "次", True),
    ("580余次", "次", 580, "次", True),
    ("109.33万元", "万元", 109.33, "万元", False),
    ("109.33万元", "元", 1093300, "元", False),
    ("109.33万元", None, 109.33, "万元", False),
    ("2100元", "万元", 0.21, "万元", False),
    ("210万元", "万元", 210, "万元", False),           # 桂林: 处罚款210万元
    ("1.8公里", "公里", 1.8, "公里", False),
    ("1.8公里", "米", 1800, "米", False),
    ("１２３", None, 123, None, False),
    ("1,234", None, 1234, None, False),
    ("1，234", None, 1234, None, False),
    ("1,234,567", "项", 1234567, "项", False),
    ("8.86%", None, 8.86, "%", False),                # percentages stay in percent
    ("三", None, 3, None, False),
    ("十二", None, 12, None, False),
    ("二十三", None, 23, None, False),
    ("一百零五", None, 105, None, False),
    ("两", None, 2, None, False),
    ("十五条", "项", 15, "项", False),                 # 条 and 项 both count items
    ("约300", None, 300, None, True),
    ("300多", None, 300, None, True),
    ("近300", None, 300, None, True),
    ("300+", None, 300, None, True),
    ("0", "项", 0, "项", False),
    ("5965家次", "家次", 5965, "家次", False),
    ("300家次", "次", 300, "次", False),               # 桂林: 行政处罚300家次 (a count of 次)
    ("40家次", "家", 40, "家", False),                 # 桂林: 帮扶高危行业企业40家次
    ("7018人", "人次", 7018, "人次", False),
    ("387场次", "场", 387, "场", False),
    ("17万", "万元", 17, "万元", False),               # 万 in a money column is 万元
])
def test_typed_forms(text, target, value, unit, approx):
    p = parse_number(text, target_unit=target)
    assert p.error is None
    assert p.value == pytest.approx(value, rel=1e-12)
    assert p.unit == unit
    assert p.approx is approx


@pytest.mark.parametrize("text", [None, "", "  ", "—", "——", "-", "--", "/", "无", "NA", "n/a",
                                  float("nan")])
def test_missing_is_none_not_zero(text):
    p = parse_number(text, target_unit="项")
    assert p.value is None and p.error is None and p.approx is False


@pytest.mark.parametrize("text, fragment", [
    ("-3", "negative"),
    ("三十多家企业检查", "not a number"),
    ("abc", "not a number"),
    ("1.2.3", "not a number"),
    ("1,2", "not a number"),
    ("三三", "Chinese numeral"),
])
def test_unreadable_and_negative_are_errors(text, fragment):
    p = parse_number(text)
    assert p.value is None
    assert fragment in p.error and repr(text) in p.error


@pytest.mark.parametrize("text, target", [("5人", "万元"), ("3家", "项"), ("8.86%", "项"),
                                          ("2场", "人次"), ("1.8公里", "万元")])
def test_unit_conflicting_with_target_is_an_error(text, target):
    p = parse_number(text, target_unit=target)
    assert p.value is None
    assert target in p.error and "does not fit" in p.error


def test_assumed_unit_of_bare_numbers_is_converted():
    # a column headed 罚款（元） in an indicator kept in 万元
    assert parse_number("2100", target_unit="万元", assumed_unit="元").value == pytest.approx(0.21)
    assert parse_number("0.3万元", target_unit="万元", assumed_unit="元").value == pytest.approx(0.3)
    p = parse_number("7", target_unit="项", assumed_unit="人")
    assert p.value is None and "人" in p.error


def test_numeric_cells_from_excel():
    assert parse_number(3).value == 3.0
    assert parse_number(2.5, target_unit="万元").value == 2.5
    assert parse_number(float("nan")).value is None


def test_chinese_numerals():
    assert [parse_chinese_numeral(t) for t in ("十", "二十", "一百零五", "三千零二", "两万", "一万二千")] \
        == [10, 20, 105, 3002, 20000, 12000]
    assert parse_chinese_numeral("百") is None
    assert parse_chinese_numeral("五五") is None


def test_compatibility_is_data_and_not_transitive():
    assert set(UNIT_GROUPS["items"]) >= {"项", "个", "处", "条"}
    assert set(UNIT_GROUPS["sessions"]) >= {"次", "场", "场次"}
    assert units_compatible("人", "人次") and units_compatible("家", "家次")
    assert units_compatible("家次", "次") and not units_compatible("家", "次")
    assert not units_compatible("人", "万元")


def test_parse_numbers_vectorised_keeps_index_and_matches_scalar():
    s = pd.Series(["17万余", None, "abc", "17万余", "—", "0"], index=[10, 11, 12, 13, 14, 15])
    out = parse_numbers(s, target_unit="人次")
    assert list(out.index) == [10, 11, 12, 13, 14, 15]
    assert list(out.columns) == ["value", "unit", "approx", "error"]
    assert out["value"].tolist()[0] == 170000 and out["value"].tolist()[3] == 170000
    assert math.isnan(out.loc[11, "value"]) and math.isnan(out.loc[14, "value"])
    assert out.loc[15, "value"] == 0
    assert out["approx"].tolist() == [True, False, False, True, False, False]
    assert out["error"].notna().tolist() == [False, False, True, False, False, False]
    assert out["value"].dtype == "float64" and out["approx"].dtype == bool
    assert s.tolist()[0] == "17万余"  # input untouched


@pytest.mark.parametrize("text, target, value", [
    ("二十三万", "万元", 23.0), ("二十三万", None, 230000.0), ("三万", None, 30000.0),
    ("两亿", "万元", 20000.0),
])
def test_chinese_numeral_with_magnitude_reads_like_arabic(text, target, value):
    assert parse_number(text, target_unit=target).value == pytest.approx(value)
