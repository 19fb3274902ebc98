"""The real corpus (data/raw/real/): each hand-transcribed table ingests, and what the
reconciliation, the panel and the checks say agrees with the careful reader's notes in
its SOURCE.md; the audit of each source text says the same, and ``--to-table`` on the
source text gives back the hand-typed table.

Expected values are the bulletins' own figures (see each SOURCE.md), added up by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from anquan_analysis.audit import audit, lists_to_table, read_text
from anquan_analysis.checks import run_checks
from anquan_analysis.ingest import ingest

REPO = Path(__file__).resolve().parents[1]
REAL = REPO / "data" / "raw" / "real"
SEEDS = REPO / "data" / "raw" / "seeds"
DOCS = REPO / "tests" / "data" / "audit_insample" / "docs"
SOURCES = {"guilin_2024h1": SEEDS / "000_ccbeeba00bbda5e8.txt",
           "banan_2023": SEEDS / "004_cbdbebe7b7ee4dcd.txt",
           "bozhou_2023q4": DOCS / "I01_bozhou_2023_q4.txt",
           "datong_2020_10": DOCS / "I02_datong_2020_10.txt",
           "chengde_2008_10": DOCS / "I03_chengde_2008_10.txt",
           "chizhou_2020_07_transport": DOCS / "I05_chizhou_2020_07.txt"}
# folder: (data rows, figures in the panel, {indicator: (stated, units' sum)} of the 合计 row);
# None: no unit listed gives the figure (a blank is not a 0: status "no units")
INGEST = {
    "guilin_2024h1": (8, 8, {"major_hazards_found": (79, 32), "major_hazards_found_dept": (72, None),
                             "major_hazards_found_enterprise": (7, None)}),
    "banan_2023": (24, 24, {"major_hazards_found": (156, 82), "major_hazards_found_dept": (94, None),
                            "major_hazards_found_enterprise": (62, None),
                            "major_hazards_rectified_dept": (64, None),
                            "major_hazards_rectified_enterprise": (59, None)}),
    "bozhou_2023q4": (7, 28, {"major_hazards_found": (630, 631),
                              "major_hazards_rectified": (620, 623)}),
    "datong_2020_10": (22, 22, {"general_hazards_found": (8, 8)}),
    "chengde_2008_10": (8, 21, {}),
    "chizhou_2020_07_transport": (9, 18, {"accidents": (30, 30), "deaths": (26, 26)}),
}


@pytest.fixture(scope="module")
def datasets():
    return {name: ingest([REAL / name / "reports.csv"], aliases=None) for name in INGEST}


def _wide(ds, indicator):
    p = ds.panel[ds.panel["indicator"] == indicator]
    return p.set_index("unit")["value"]


def test_every_folder_has_its_table_and_its_source():
    assert sorted(p.name for p in REAL.iterdir() if p.is_dir()) == sorted(INGEST)
    for name in INGEST:
        source = (REAL / name / "SOURCE.md").read_text(encoding="utf-8")
        for field in ("**Title:**", "**Issuer:**", "**Address:**", "## What was transcribed",
                      "## What a careful reader sees"):
            assert field in source, (name, field)


@pytest.mark.parametrize("name", INGEST)
def test_table_ingests_and_reconciles_as_the_reader_says(datasets, name):
    rows, figures, totals = INGEST[name]
    ds = datasets[name]
    s = ds.summary.iloc[0]
    assert (s["rows_read"], s["rows_clean"], s["rows_rejected"]) == (rows, rows, 0)
    assert len(ds.panel) == figures and len(ds.rejects) == 0
    rc = ds.reconciliation.set_index("indicator")
    assert {k: (r.stated, None if pd.isna(r.sum_of_units) else r.sum_of_units)
            for k, r in rc.iterrows()} == totals
    mismatched = {k for k, (a, b) in totals.items() if b is not None and a != b}
    assert set(rc.index[rc["status"] == "mismatch"]) == mismatched
    assert set(rc.index[rc["status"] == "no units"]) == {k for k, (_, b) in totals.items()
                                                          if b is None}


def test_guilin_reader_notes(datasets):
    ds = datasets["guilin_2024h1"]
    major = _wide(ds, "major_hazards_found")
    assert major.sum() == 32 and major.idxmax() == "灵川县"
    assert list(major[major == 0].index) == ["龙胜县"]
    zero = run_checks(ds)
    assert zero.loc[zero["check"] == "zero_report", "unit"].tolist() == ["龙胜县"]


def test_banan_reader_notes(datasets):
    major = _wide(datasets["banan_2023"], "major_hazards_found")
    assert (major == 0).sum() == 21
    assert major["区应急局"] / 156 == pytest.approx(0.295, abs=0.001)


def test_bozhou_reader_notes(datasets):
    ds = datasets["bozhou_2023q4"]
    found, fixed = _wide(ds, "general_hazards_found"), _wide(ds, "general_hazards_rectified")
    assert (fixed / found == 1).all() and len(found) == 7              # 100% in every unit
    major, done = _wide(ds, "major_hazards_found"), _wide(ds, "major_hazards_rectified")
    assert (done == major).sum() == 5                                   # five of seven at 100%
    assert (major.sum(), done.sum()) == (631, 623)


def test_datong_reader_notes(datasets):
    hazards = _wide(datasets["datong_2020_10"], "general_hazards_found")
    assert len(hazards) == 22 and (hazards == 0).sum() == 20 and hazards.sum() == 8


def test_chengde_reader_notes(datasets):
    ds = datasets["chengde_2008_10"]
    assert _wide(ds, "suspensions")["煤矿"] == 6 and _wide(ds, "units_inspected")["煤矿"] == 2
    found = _wide(ds, "general_hazards_found")
    assert sorted(found[found == 0].index) == ["城市燃气", "道路交通"]
    violations = run_checks(ds)
    violations = violations[violations["check"] == "rule_violation"]
    # 6 suspended of 2 inspected: the catalogue's rule suspensions ≤ units inspected (issue 16)
    assert sorted(violations[["unit", "indicator", "observed"]].values.tolist()) == [
        ["煤矿", "suspensions", 6.0], ["非煤矿山", "general_hazards_rectified", 70.0]]


def test_chizhou_reader_notes(datasets):
    accidents = _wide(datasets["chizhou_2020_07_transport"], "accidents")
    assert sorted(accidents[accidents == 0].index) == ["市直", "平天湖风景区", "开发区", "江南新兴产业集中区"]


# ---------------------------------------------------------------- the source texts

@pytest.fixture(scope="module")
def source_claims():
    return {name: audit(read_text(path)) for name, path in SOURCES.items()}


def test_no_false_contradiction_on_any_corpus_source(source_claims):
    contradicted = {name: c.loc[c["status"] == "contradicted", "claim_type"].tolist()
                    for name, c in source_claims.items()}
    # 巴南's three shares are computed on 155 where the text says 156, and 承德's 煤矿
    # suspended 6 enterprises of the 2 it inspected: true contradictions.
    true = {"banan_2023": ["share"] * 3, "chengde_2008_10": ["rule"]}
    assert contradicted == {name: true.get(name, []) for name in SOURCES}


def test_bozhou_source_lists_are_discrepancies_with_their_cause(source_claims):
    lists = source_claims["bozhou_2023q4"]
    lists = lists[lists["claim_type"] == "enumeration"]
    assert lists[["stated", "computed", "status"]].values.tolist() == [
        [630, 631, "discrepancy"], [620, 623, "discrepancy"]]
    for text in lists["explanation"]:
        assert "已纳入县区统计" in text and "重复计入" in text


def test_other_sources_agree_with_their_tables(source_claims):
    datong = source_claims["datong_2020_10"]
    assert datong[["stated", "computed", "status"]].values.tolist() == [
        [6, 6, "verified"], [8, 8, "verified"]]
    chengde = source_claims["chengde_2008_10"]
    assert chengde.loc[chengde["status"] != "verified", ["stated", "status"]].values.tolist() == [
        [6, "contradicted"], [70, "discrepancy"]]
    chizhou = source_claims["chizhou_2020_07_transport"]
    yoy = chizhou[chizhou["claim_type"] == "yoy"]
    assert yoy["stated"].tolist() == [17.77, 21.42, 54.83]
    assert set(yoy["status"]) == {"verified"} and yoy["explanation"].str.contains("舍去").all()
    lists = chizhou[chizhou["claim_type"] == "enumeration"]
    assert sorted(lists["stated"]) == [8, 9, 33, 37] and set(lists["status"]) == {"verified"}


@pytest.mark.parametrize("name, period, column", [
    ("guilin_2024h1", "2024-06", "重大事故隐患排查数"),
    ("banan_2023", "2023-10", "重大事故隐患排查数"),
    ("datong_2020_10", "2020-10", "一般隐患排查数"),
    ("bozhou_2023q4", "2023-12", "重大事故隐患排查数"),
    ("bozhou_2023q4", "2023-12", "重大事故隐患整改数"),
])
def test_to_table_on_the_source_gives_back_the_hand_table(name, period, column):
    made, _ = lists_to_table(read_text(SOURCES[name]), period=period)
    hand = pd.read_csv(REAL / name / "reports.csv", dtype=str, keep_default_na=False)
    assert len(made) == len(hand)
    assert set(made["期间"]) == set(hand["期间"]) and set(made["口径"]) == set(hand["口径"])
    assert made[column].astype("Int64").tolist() == hand[column].astype("Int64").tolist()
    # the units' names agree except where the hand table spells out a group of units
    names = [(a, b) for a, b in zip(made["单位"], hand["单位"]) if a != b]
    assert names == ([("亳州市安委会成员单位,中央、省驻亳及市属企业",
                       "市安委会成员单位（中央、省驻亳及市属企业）")] if name == "bozhou_2023q4" else [])
