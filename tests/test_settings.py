"""The office's settings (settings.py): defaults, every key read from anquan.toml, and
errors that name the file and the key."""

from __future__ import annotations

import datetime as dt

import pytest

from anquan_analysis.errors import InputError
from anquan_analysis.settings import (DEFAULT_REQUIREMENTS, Settings, load_settings,
                                      read_settings)

FULL = """\
issuer = "某县安全生产委员会办公室"
doc_number = "县安委办〔{year}〕{number}号"
number = "7"
recipients = "各乡镇人民政府，县安委会各成员单位"
scope = "全县"
campaign = "重大事故隐患专项排查整治2023行动"
key_indicator = "重大事故隐患排查数"
opening = "{period}，{scope}扎实推进{campaign}。现通报如下："
requirements = \"\"\"（一）压实责任。各单位要按时报送。

（二）按期报送。每月{deadline_day}日前报送。\"\"\"
issued = 2023-11-16
public_note = "（此件公开发布）"
letterhead = false
report_deadline_day = 25
report_deadline_months_after = 1

[thresholds.low_outlier]
alert = 0.005
"""


def test_defaults_fit_a_district_office(tmp_path):
    s = load_settings(tmp_path)  # no anquan.toml
    assert s == Settings()
    assert s.document_number(2024) == "区安委办〔2024〕××号"
    assert s.key_indicator_code() is None  # from the data (issue 16): the first finding count
    assert s.requirements == DEFAULT_REQUIREMENTS and len(s.requirements) == 4
    assert s.fill(s.requirements[3]).startswith("（四）按时准确报送。各单位要在每月24日前报送调度数据")
    assert s.fill(s.opening, period="2024年第三季度").startswith(
        "2024年第三季度，全区各级各部门持续推进安全生产治本攻坚三年行动。")


def test_every_key_read(tmp_path):
    (tmp_path / "anquan.toml").write_text(FULL, encoding="utf-8")
    s = load_settings(tmp_path)
    assert s.issuer == "某县安全生产委员会办公室" and s.scope == "全县"
    assert s.document_number(2023) == "县安委办〔2023〕7号"
    assert s.key_indicator_code() == "major_hazards_found"  # resolved from the Chinese name
    assert s.requirements == ("（一）压实责任。各单位要按时报送。", "（二）按期报送。每月{deadline_day}日前报送。")
    assert s.fill(s.requirements[1]) == "（二）按期报送。每月25日前报送。"
    assert s.issued == dt.date(2023, 11, 16) and s.letterhead is False
    assert (s.report_deadline_day, s.report_deadline_months_after) == (25, 1)
    assert s.thresholds == {"low_outlier": {"alert": 0.005}}
    assert s.fill(s.opening, period="2023年10月") == "2023年10月，全县扎实推进重大事故隐患专项排查整治2023行动。现通报如下："


@pytest.mark.parametrize("text, message", [
    ("isuer = \"x\"\n", r"anquan.toml: unknown setting 'isuer'"),
    ("letterhead = \"no\"\n", r"column 'letterhead': letterhead must be a bool"),
    ("issued = \"2024-10-15\"\n", r"column 'issued': issued must be a date"),
    ("report_deadline_day = 40\n", r"report_deadline_day must be a day of the month"),
    ("key_indicator = \"隐患总数\"\n", r"key_indicator '隐患总数' is not an indicator"),
    ("requirements = 3\n", r"requirements must be a text"),
    ("[thresholds]\nlow_outlier = 1\n", r"thresholds must be tables"),
    ("issuer = \n", r"anquan.toml: not valid TOML"),
])
def test_errors_name_the_file_and_the_key(tmp_path, text, message):
    (tmp_path / "anquan.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_settings(tmp_path / "anquan.toml")


def test_an_unknown_placeholder_is_named(tmp_path):
    s = Settings(opening="{period}{office}")
    with pytest.raises(InputError, match=r"placeholder 'office'"):
        s.fill(s.opening, period="2024年9月")
