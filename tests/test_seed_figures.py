"""The hand-transcribed gold figures of the five seed bulletins (data/raw/seed_figures.csv)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from anquan_analysis.catalogue import INDICATORS

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "data" / "raw" / "seed_figures.csv"
SEEDS = Path(__file__).resolve().parents[1] / "data" / "raw" / "seeds"
COLUMNS = ["source_file", "issuer", "period", "as_of", "scope", "indicator", "value", "unit",
           "approx", "quote"]


@pytest.fixture(scope="module")
def gold() -> pd.DataFrame:
    df = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
    df["value"] = df["value"].astype(float)
    return df


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def test_parses_with_the_documented_columns(gold):
    assert list(gold.columns) == COLUMNS
    assert len(gold) == 199
    assert gold.groupby("source_file").size().to_dict() == {
        "000_ccbeeba00bbda5e8.txt": 45, "001_01a7534f09f371bd.txt": 23,
        "002_3ed79b01a7523fc5.txt": 58, "003_84f8e1dc2f2a7210.txt": 31,
        "004_cbdbebe7b7ee4dcd.txt": 42}
    assert set(gold["approx"]) == {"true", "false"}
    assert set(gold["issuer"]) == {"桂林市安委办", "X市安委办", "宝鸡市应急管理局",
                                   "XX区应急管理局", "巴南区安委会"}


def test_indicator_codes_exist_and_rates_have_none(gold):
    coded = set(gold["indicator"]) - {""}
    assert coded <= set(INDICATORS["code"])
    assert (gold.loc[gold["unit"] == "%", "indicator"] == "").all()


def test_every_quote_occurs_verbatim_in_its_seed(gold):
    texts = {f: _nfkc((SEEDS / f).read_text(encoding="utf-8")) for f in gold["source_file"].unique()}
    missing = [(r.source_file, r.quote) for r in gold.itertuples()
               if _nfkc(r.quote) not in texts[r.source_file]]
    assert missing == []


def _row(gold, file_prefix, quote_part, value):
    hit = gold[gold["source_file"].str.startswith(file_prefix)
               & gold["quote"].str.contains(quote_part, regex=False)
               & (gold["value"] == value)]
    assert len(hit) >= 1, (file_prefix, quote_part, value)
    return hit.iloc[0]


def test_hand_checked_guilin(gold):
    assert _row(gold, "000", "排查整治重大事故隐患79项", 79)["indicator"] == "major_hazards_found"
    assert _row(gold, "000", "部门检查发现 72 项", 72)["indicator"] == "major_hazards_found_dept"
    assert _row(gold, "000", "企业自查发现 7 项", 7)["indicator"] == "major_hazards_found_enterprise"
    assert _row(gold, "000", "8.86%", 8.86)["unit"] == "%"
    r = _row(gold, "000", "17万余人次", 170000)
    assert (r["unit"], r["approx"]) == ("人次", "true")
    assert _row(gold, "000", "灵川县 10 项", 10)["scope"] == "灵川县"


def test_hand_checked_banan(gold):
    for quote, value, code in [("共计排查重大事故隐患156个", 156, "major_hazards_found"),
                               ("部门检查发现94个", 94, "major_hazards_found_dept"),
                               ("企业发现62个", 62, "major_hazards_found_enterprise"),
                               ("9月单月增加重大事故隐患43个", 43, "major_hazards_found"),
                               ("（69个）", 69, "major_hazards_found"),
                               ("【52个", 52, "major_hazards_found"),
                               ("【72个", 72, "major_hazards_found")]:
        assert _row(gold, "004", quote, value)["indicator"] == code
    for quote, value in [("62.3%", 62.3), ("33.5%", 33.5), ("46.5%", 46.5)]:
        assert _row(gold, "004", quote, value)["unit"] == "%"
    assert _row(gold, "004", "【52个", 52)["scope"] == "建筑施工"
    assert _row(gold, "004", "执法检查580余次", 580)["approx"] == "true"


def test_hand_checked_baoji(gold):
    assert _row(gold, "002", "448项", 448)["indicator"] == "major_hazards_found"
    assert _row(gold, "002", "已整改444项", 444)["indicator"] == "major_hazards_rectified"
    assert _row(gold, "002", "整改率99%", 99)["unit"] == "%"
    assert _row(gold, "002", "96.7%", 96.7)["unit"] == "%"
    r = _row(gold, "002", "256.59 万元", 256.59)
    assert (r["indicator"], r["unit"]) == ("investment", "万元")


def test_excluded_forms_are_absent(gold):
    quotes = " ".join(gold["quote"])
    for excluded in ["共印", "〔2024〕", "第 6 期", "2882", "第52次", "十五条", "885", "0773"]:
        assert excluded not in quotes
