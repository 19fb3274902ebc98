"""The hazard ledger: header recognition, parsing with rejects, effective counts.

Every expected value is known by construction: the 巴南 bulletin's examples
(石龙镇 2 rows, 0 effective; 巴滨公司 1 late row; 区发展改革委 1 row failing the
standard) are rebuilt as ledger rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anquan_analysis import tables
from anquan_analysis.dataset import (LEDGER_COLUMNS, LEDGER_COUNT_COLUMNS, PANEL_COLUMNS,
                                     REJECT_COLUMNS)
from anquan_analysis.errors import InputError
from anquan_analysis.ledger import (effective_counts, is_ledger_header, ledger_panel,
                                    parse_dates, parse_ledger_sheet, report_deadline,
                                    resolve_ledger_field)

HEADER = "序号,隐患编号,填报单位,行业领域,发现日期,报送日期,发现方式,是否符合判定标准,整改状态,整改完成日期"
# Row numbers as a text editor shows them: title on 1, header on 2.
CSV_LINES = [
    "2024年二季度重大事故隐患台账,,,,,,,,,",                                          # 1 title
    HEADER,                                                                         # 2
    "1,H001,区应急局,工贸,2024-04-05,2024/4/10,部门检查,是,已整改,2024.4.20",          # 3 clean
    "2,H002,区应急局,建筑施工,2024年4月6日,45392,企业自查,符合,整改中,",               # 4 clean
    "3,H003,花溪街道,危化,2024-04-07 00:00:00,2024-04-08,部门,Y,已整改,",              # 5 clean, undated
    ",,,,,,,,,",                                                                    # 6 blank
    "4,,区应急局,工贸,2024-04-08,2024-04-09,部门检查,是,未整改,",                       # 7 no id
    "5,H005,,工贸,2024-04-08,2024-04-09,部门检查,是,未整改,",                           # 8 no unit
    "6,H006,区应急局,工贸,2024-13-01,2024-04-09,部门检查,是,未整改,",                   # 9 bad date
    "7,H007,区应急局,航天,2024-04-09,2024-04-10,部门检查,是,未整改,",                   # 10 sector
    "8,H008,区应急局,工贸,2024-04-10,2024-04-09,部门检查,是,未整改,",                   # 11 rep<found
    "9,H009,区应急局,工贸,2024-04-10,2024-04-12,部门检查,是,已整改,2024-04-01",         # 12 rect<found
    "10,H001,区应急局,工贸,2024年4月5日,2024-04-10,部门,Y,已整改,2024-04-20",           # 13 copy of 3
    "11,H010,石龙镇,消防,2024-04-11,2024-04-12,部门检查,是,未整改,",                    # 14 conflict
    "12,H010,石龙镇,消防,2024-04-11,2024-04-12,企业自查,是,未整改,",                    # 15 conflict
    "13,H011,石龙镇,工贸,2024-04-12,2024-04-13,部门检查,否,未整改,",                    # 16 clean
    "14,H012,石龙镇,工贸,2024-04-12,2024-04-13,举报,是,未整改,",                        # 17 source
]


def _read_csv_ledger(tmp_path, lines=CSV_LINES):
    path = tmp_path / "台账.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (raw,) = tables.read_raw(path)
    header_row = tables.find_header_row(raw, lambda v: resolve_ledger_field(v) is not None)
    return raw, header_row


@pytest.fixture
def parsed(tmp_path):
    raw, header_row = _read_csv_ledger(tmp_path)
    assert header_row == 2
    assert is_ledger_header(list(raw.cells.loc[header_row]))
    clean, rejects = parse_ledger_sheet(raw, header_row)
    return raw, clean, rejects


# ---------------------------------------------------------------------------
# header


@pytest.mark.parametrize("label, field", [
    ("隐患编号", "hazard_id"), ("编号", "hazard_id"), ("隐患序号", "hazard_id"),
    ("Hazard_ID", "hazard_id"), ("单位", "unit"), ("填报单位", "unit"), ("责任单位", "unit"),
    ("行业领域", "sector"), ("发现日期", "found_date"), ("报送日期", "reported_date"),
    ("上报日期", "reported_date"), ("录入日期", "reported_date"), ("发现方式", "source"),
    ("是否符合判定标准", "meets_standard"), ("整改状态", "status"),
    ("整改完成日期", "rectified_date"), (" 发现 日期 ", "found_date"),
    ("序号", None), ("重大事故隐患排查数", None), (None, None),
])
def test_resolve_ledger_field(label, field):
    assert resolve_ledger_field(label) == field


def test_is_ledger_header():
    assert is_ledger_header(["序号", "隐患编号", "单位", "发现日期"])
    assert is_ledger_header(["编号", "整改状态", None])
    assert not is_ledger_header(["隐患编号", "单位", "行业领域"])        # no date or status
    assert not is_ledger_header(["单位", "期间", "重大事故隐患排查数", "发现日期"])  # no id


# ---------------------------------------------------------------------------
# dates


@pytest.mark.parametrize("text", ["2024-04-05", "2024/4/5", "2024.4.5", "2024年4月5日",
                                  "45387", "2024-04-05 00:00:00", "2024-04-05 13:20",
                                  "20240405", "２０２４－０４－０５", " 2024 年 4 月 5 日 "])
def test_parse_dates_accepts_every_form(text):
    out = parse_dates(pd.Series([text], dtype=object))
    assert out.iloc[0] == pd.Timestamp("2024-04-05")


@pytest.mark.parametrize("text", ["2024-13-01", "2024-02-30", "abc", "4月5日", "12345", "2024-04"])
def test_parse_dates_rejects_non_dates(text):
    assert pd.isna(parse_dates(pd.Series([text], dtype=object)).iloc[0])


def test_excel_serial_dates():
    out = parse_dates(pd.Series(["45387", "45292", "45387.75", None], dtype=object))
    assert list(out.iloc[:3]) == [pd.Timestamp("2024-04-05"), pd.Timestamp("2024-01-01"),
                                  pd.Timestamp("2024-04-05")]
    assert pd.isna(out.iloc[3])


# ---------------------------------------------------------------------------
# parsing a sheet


def test_accounting_invariant(parsed):
    raw, clean, rejects = parsed
    body = raw.cells.loc[raw.cells.index > 2]
    rows_read = int(body.notna().any(axis=1).sum())
    assert rows_read == 14                      # rows 3..17 less the blank row 6
    assert len(clean) + len(rejects) == rows_read
    assert set(clean["source_row"]).isdisjoint(set(rejects["row"]))
    assert rejects["row"].is_unique


def test_clean_rows(parsed):
    _, clean, _ = parsed
    assert list(clean.columns) == LEDGER_COLUMNS
    assert list(clean["hazard_id"]) == ["H001", "H002", "H003", "H011"]
    assert list(clean["source_row"]) == [3, 4, 5, 16]
    assert clean["found_date"].dtype.kind == "M"
    h2 = clean.iloc[1]
    assert h2["found_date"] == pd.Timestamp("2024-04-06")
    assert h2["reported_date"] == pd.Timestamp("2024-04-10")    # Excel serial 45392
    assert (h2["source"], h2["status"], bool(h2["meets_standard"])) == ("enterprise", "in_progress", True)
    assert pd.isna(h2["rectified_date"])
    h3 = clean.iloc[2]
    assert (h3["sector"], h3["source"], h3["status"]) == ("危险化学品", "dept", "rectified")
    assert pd.isna(h3["rectified_date"])     # 已整改 without a date is kept
    assert clean.iloc[0]["rectified_date"] == pd.Timestamp("2024-04-20")
    assert not bool(clean.iloc[3]["meets_standard"])
    assert set(clean["source_file"]) == {str(parsed[0].file)}


def test_rejects_name_row_column_and_reason(parsed):
    _, _, rejects = parsed
    assert list(rejects.columns) == REJECT_COLUMNS
    by_row = rejects.set_index("row")
    assert list(by_row.index) == [7, 8, 9, 10, 11, 12, 13, 14, 15, 17]
    assert by_row.loc[7, "column"] == "隐患编号"
    assert by_row.loc[7, "reason"] == "隐患编号: hazard id is blank"
    assert by_row.loc[8, "reason"] == "填报单位: unit is blank"
    assert (by_row.loc[9, "column"], by_row.loc[9, "value"]) == ("发现日期", "2024-13-01")
    assert by_row.loc[9, "reason"] == "发现日期: unparseable date '2024-13-01'"
    assert by_row.loc[10, "reason"] == "行业领域: unknown sector '航天'"
    assert by_row.loc[11, "reason"] == "报送日期: reported 2024-04-09 before found 2024-04-10"
    assert by_row.loc[12, "reason"] == "整改完成日期: rectified 2024-04-01 before found 2024-04-10"
    assert by_row.loc[13, "reason"] == "隐患编号: duplicate of row 3"
    assert by_row.loc[14, "reason"] == "隐患编号: hazard id 'H010' also on row 15 with different content"
    assert by_row.loc[15, "reason"] == "隐患编号: hazard id 'H010' also on row 14 with different content"
    assert by_row.loc[17, "column"] == "发现方式"
    assert "unknown 发现方式" in by_row.loc[17, "reason"]
    assert by_row["sheet"].isna().all()


def test_several_problems_in_one_row_give_one_reject(tmp_path):
    lines = [HEADER, "1,H1,,航天,2024-04-05,2024-04-01,部门检查,是,已整改,"]
    raw, header_row = _read_csv_ledger(tmp_path, lines)
    clean, rejects = parse_ledger_sheet(raw, header_row)
    assert clean.empty and len(rejects) == 1
    r = rejects.iloc[0]
    assert (r["row"], r["column"]) == (2, "填报单位")
    assert r["reason"] == ("填报单位: unit is blank; 行业领域: unknown sector '航天'; "
                           "报送日期: reported 2024-04-01 before found 2024-04-05")


def test_three_copies_with_one_different_rejects_all(tmp_path):
    lines = [HEADER,
             "1,A,甲,工贸,2024-04-05,2024-04-06,部门检查,是,未整改,",
             "2,A,甲,工贸,2024-04-05,2024-04-06,部门检查,是,未整改,",
             "3,A,甲,工贸,2024-04-05,2024-04-06,部门检查,否,未整改,",
             "4,B,甲,工贸,2024-04-05,2024-04-06,部门检查,是,未整改,"]
    raw, header_row = _read_csv_ledger(tmp_path, lines)
    clean, rejects = parse_ledger_sheet(raw, header_row)
    assert list(clean["hazard_id"]) == ["B"]
    assert list(rejects["reason"]) == [
        "隐患编号: hazard id 'A' also on row 3, 4 with different content",
        "隐患编号: hazard id 'A' also on row 2, 4 with different content",
        "隐患编号: hazard id 'A' also on row 2, 3 with different content",
    ]


def test_missing_required_column_is_input_error(tmp_path):
    lines = ["隐患编号,行业领域,发现日期", "H1,工贸,2024-04-05"]
    raw, header_row = _read_csv_ledger(tmp_path, lines)
    with pytest.raises(InputError, match="单位"):
        parse_ledger_sheet(raw, header_row)


def test_status_inferred_from_date_when_no_status_column(tmp_path):
    lines = ["编号,单位,发现日期,整改完成日期", "1,甲,2024-04-05,2024-04-09", "2,甲,2024-04-05,"]
    raw, header_row = _read_csv_ledger(tmp_path, lines)
    clean, rejects = parse_ledger_sheet(raw, header_row)
    assert rejects.empty
    assert list(clean["status"]) == ["rectified", "open"]
    assert clean["reported_date"].isna().all() and clean["meets_standard"].isna().all()
    assert list(clean["sector"]) == ["", ""]


def test_xlsx_dates_and_serials(tmp_path):
    import datetime as dt
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["隐患编号", "单位", "发现日期", "报送日期"])
    ws.append(["X1", "甲", dt.datetime(2024, 4, 5), 45392])
    ws.append(["X2", "甲", "2024年4月6日", dt.datetime(2024, 4, 7, 9, 30)])
    path = tmp_path / "台账.xlsx"
    wb.save(path)
    (raw,) = tables.read_raw(path)
    clean, rejects = parse_ledger_sheet(raw, 1)
    assert rejects.empty
    assert list(clean["found_date"]) == [pd.Timestamp("2024-04-05"), pd.Timestamp("2024-04-06")]
    assert list(clean["reported_date"]) == [pd.Timestamp("2024-04-10"), pd.Timestamp("2024-04-07")]


def test_parse_does_not_modify_raw(tmp_path):
    raw, header_row = _read_csv_ledger(tmp_path)
    before = raw.cells.copy()
    parse_ledger_sheet(raw, header_row)
    pd.testing.assert_frame_equal(raw.cells, before)


# ---------------------------------------------------------------------------
# effective counts


def _ledger(rows) -> pd.DataFrame:
    """A clean ledger from tuples (unit, sector, found, reported, source, meets, status,
    rectified)."""
    df = pd.DataFrame(rows, columns=["unit", "sector", "found_date", "reported_date", "source",
                                     "meets_standard", "status", "rectified_date"])
    df.insert(0, "hazard_id", [f"H{i}" for i in range(len(df))])
    for c in ("found_date", "reported_date", "rectified_date"):
        df[c] = pd.to_datetime(df[c])
    df["meets_standard"] = df["meets_standard"].astype("boolean")
    df["source_file"] = "t.csv"
    df["source_row"] = np.arange(2, len(df) + 2)
    return df[LEDGER_COLUMNS]


# 巴南 2023 campaign, May–October, deadline the 24th.
BANAN = dict(campaign_start="2023-05-01", campaign_end="2023-10-31")
BANAN_ROWS = [
    # 石龙镇: one found before the campaign, one failing the standard → 0 effective
    ("石龙镇", "工贸", "2023-04-20", "2023-04-22", "dept", True, "rectified", "2023-04-30"),
    ("石龙镇", "工贸", "2023-06-03", "2023-06-10", "dept", False, "open", None),
    # 巴滨公司: reported after the deadline
    ("巴滨公司", "建筑施工", "2023-07-10", "2023-07-30", "enterprise", True, "open", None),
    # 区发展改革委: one row failing the standard
    ("区发展改革委", "其他", "2023-08-01", "2023-08-02", "dept", False, "open", None),
    # 区应急局: 3 dept + 2 enterprise effective, 4 rectified (2 + 2, one undated)
    ("区应急局", "工贸", "2023-09-01", "2023-09-05", "dept", True, "rectified", "2023-09-20"),
    ("区应急局", "工贸", "2023-09-02", "2023-09-24", "dept", True, "rectified", "2023-09-21"),
    ("区应急局", "工贸", "2023-09-03", "2023-09-06", "dept", True, "in_progress", None),
    ("区应急局", "建筑施工", "2023-09-04", "2023-09-07", "enterprise", True, "rectified", "2023-09-30"),
    ("区应急局", "建筑施工", "2023-09-05", "2023-09-08", "enterprise", True, "rectified", None),
    # 区应急局: outside the window AND failing the standard → counted as window only
    ("区应急局", "工贸", "2023-11-05", "2023-11-06", "dept", False, "open", None),
    # 区应急局: failing the standard AND late → counted as standard only
    ("区应急局", "工贸", "2023-09-06", "2023-10-30", "dept", False, "open", None),
]


@pytest.fixture
def banan_counts():
    return effective_counts(_ledger(BANAN_ROWS), **BANAN)


def _unit_totals(counts):
    return counts.drop(columns=["period", "sector"]).groupby("unit").sum()


def test_banan_units(banan_counts):
    t = _unit_totals(banan_counts)
    assert t.loc["石龙镇", ["reported", "found", "excluded_window", "excluded_standard",
                          "excluded_late"]].tolist() == [2, 0, 1, 1, 0]
    assert t.loc["巴滨公司", ["reported", "found", "excluded_late"]].tolist() == [1, 0, 1]
    assert t.loc["区发展改革委", ["reported", "found", "excluded_standard"]].tolist() == [1, 0, 1]
    assert (t.loc[["石龙镇", "巴滨公司", "区发展改革委"], "found"] == 0).all()


def test_source_and_rectified_counts(banan_counts):
    t = _unit_totals(banan_counts).loc["区应急局"]
    assert t["reported"] == 7
    assert (t["found"], t["found_dept"], t["found_enterprise"]) == (5, 3, 2)
    assert (t["rectified"], t["rectified_dept"], t["rectified_enterprise"]) == (4, 2, 2)
    assert (t["excluded_window"], t["excluded_standard"], t["excluded_late"]) == (1, 1, 0)
    assert t["rectified_undated"] == 1


def test_counts_rows_and_columns(banan_counts):
    c = banan_counts
    assert list(c.columns) == LEDGER_COUNT_COLUMNS + ["rectified_undated"]
    assert all(c[col].dtype == np.int64 for col in c.columns[3:])
    keys = list(zip(c["unit"], c["period"], c["sector"]))
    assert keys == sorted(keys)
    assert ("石龙镇", "2023-04", "工贸") in keys and ("石龙镇", "2023-06", "工贸") in keys
    sept = c.set_index(["unit", "period", "sector"]).loc[("区应急局", "2023-09", "建筑施工")]
    assert (sept["found"], sept["found_enterprise"], sept["rectified"]) == (2, 2, 2)
    # every row is counted once: effective or excluded for exactly one reason
    excluded = c[["excluded_standard", "excluded_late", "excluded_window"]].sum(axis=1)
    assert (c["reported"] == c["found"] + excluded).all()
    assert c["reported"].sum() == len(BANAN_ROWS)


def test_no_window_means_every_date_is_inside():
    counts = effective_counts(_ledger(BANAN_ROWS))
    t = _unit_totals(counts)
    assert t["excluded_window"].sum() == 0
    assert t.loc["石龙镇", "found"] == 1            # the April hazard now counts
    assert t.loc["区应急局", "excluded_standard"] == 2


@pytest.mark.parametrize("found, reported, effective", [
    ("2024-04-10", "2024-04-24", 1),    # on the deadline day: in time
    ("2024-04-10", "2024-04-25", 0),    # the day after: late
    ("2024-04-24", "2024-04-24", 1),    # found on the 24th: same month's deadline
    ("2024-04-24", "2024-05-01", 0),
    ("2024-04-25", "2024-05-24", 1),    # found after the 24th: next month's deadline
    ("2024-04-25", "2024-05-25", 0),
    ("2024-12-30", "2025-01-24", 1),    # across the year end
    ("2024-04-10", None, 1),            # no reported date: not judged late
])
def test_deadline_boundary(found, reported, effective):
    ledger = _ledger([("甲", "工贸", found, reported, "dept", True, "open", None)])
    c = effective_counts(ledger, deadline_day=24).iloc[0]
    assert (c["found"], c["excluded_late"]) == (effective, 1 - effective)


def test_report_deadline_values():
    found = pd.Series(pd.to_datetime(["2024-04-10", "2024-04-25", "2024-02-10", "2024-01-31"]))
    assert list(report_deadline(found, 24)) == list(pd.to_datetime(
        ["2024-04-24", "2024-05-24", "2024-02-24", "2024-02-24"]))
    # a deadline past the month's end is the month's last day (2024 is a leap year)
    assert list(report_deadline(found, 31)) == list(pd.to_datetime(
        ["2024-04-30", "2024-04-30", "2024-02-29", "2024-01-31"]))


def test_window_bounds_are_inclusive():
    rows = [("甲", "工贸", d, d, "dept", True, "open", None)
            for d in ("2023-04-30", "2023-05-01", "2023-10-31", "2023-11-01")]
    c = effective_counts(_ledger(rows), **BANAN)
    assert c["found"].tolist() == [0, 1, 1, 0]
    assert c["excluded_window"].tolist() == [1, 0, 0, 1]


def test_missing_judgement_is_not_held_against_a_hazard():
    rows = [("甲", "", "2024-04-10", "2024-04-11", None, None, None, None)]
    c = effective_counts(_ledger(rows)).iloc[0]
    assert (c["found"], c["found_dept"], c["found_enterprise"], c["rectified"]) == (1, 0, 0, 0)
    assert c["sector"] == ""


def test_blank_sectors_are_one_group():
    rows = [("甲", "", "2024-04-10", None, "dept", True, "open", None),
            ("甲", None, "2024-04-11", None, "dept", True, "open", None),
            ("甲", "工贸", "2024-04-12", None, "dept", True, "open", None)]
    ledger = _ledger(rows)
    for sector_dtype in ("str", "category"):
        c = effective_counts(ledger.astype({"sector": sector_dtype}))
        assert list(zip(c["sector"], c["found"])) == [("", 2), ("工贸", 1)]


def test_empty_ledger_gives_empty_counts_and_panel():
    counts = effective_counts(_ledger([]))
    assert counts.empty and list(counts.columns) == LEDGER_COUNT_COLUMNS + ["rectified_undated"]
    assert ledger_panel(counts).empty


def test_categorical_units_give_the_same_counts(banan_counts):
    ledger = _ledger(BANAN_ROWS)
    ledger["unit"] = ledger["unit"].astype(pd.CategoricalDtype(["未出现单位", *sorted(set(ledger["unit"]))]))
    cat = effective_counts(ledger, **BANAN)
    pd.testing.assert_frame_equal(cat, banan_counts)


def test_counts_do_not_modify_the_ledger():
    ledger = _ledger(BANAN_ROWS)
    before = ledger.copy()
    effective_counts(ledger, **BANAN)
    pd.testing.assert_frame_equal(ledger, before)


def test_counts_validate_columns():
    with pytest.raises(ValueError, match="meets_standard"):
        effective_counts(_ledger(BANAN_ROWS).drop(columns="meets_standard"))


def test_parsed_csv_ledger_counts(parsed):
    _, clean, _ = parsed
    c = effective_counts(clean, campaign_start="2024-04-01")
    t = _unit_totals(c)
    assert t.loc["区应急局", ["reported", "found", "found_dept", "found_enterprise",
                             "rectified"]].tolist() == [2, 2, 1, 1, 1]
    assert t.loc["花溪街道", ["found", "rectified", "rectified_undated"]].tolist() == [1, 1, 1]
    assert t.loc["石龙镇", ["found", "excluded_standard"]].tolist() == [0, 1]


# ---------------------------------------------------------------------------
# panel


def test_ledger_panel(banan_counts):
    panel = ledger_panel(banan_counts)
    assert list(panel.columns) == PANEL_COLUMNS
    v = panel.set_index(["unit", "period", "indicator"])["value"]
    assert v.loc[("区应急局", "2023-09", "major_hazards_found")] == 5.0
    assert v.loc[("区应急局", "2023-09", "major_hazards_found_dept")] == 3.0
    assert v.loc[("区应急局", "2023-09", "major_hazards_found_enterprise")] == 2.0
    assert v.loc[("区应急局", "2023-09", "major_hazards_rectified")] == 4.0
    assert v.loc[("区应急局", "2023-09", "major_hazards_rectified_dept")] == 2.0
    assert v.loc[("区应急局", "2023-09", "major_hazards_rectified_enterprise")] == 2.0
    assert v.loc[("巴滨公司", "2023-07", "major_hazards_found")] == 0.0   # zeros kept
    # 6 unit-months (石龙镇 Apr and Jun, 巴滨, 发改委, 应急局 Sep and Nov) × 6 indicators
    assert len(panel) == 6 * 6
    assert set(panel["source_file"]) == {"ledger"}
    assert not panel["approx"].any()
    assert panel["source_row"].dtype == np.int64


def test_parquet_ledger_counted_in_batches_equals_the_whole(tmp_path):
    # a ledger read from parquet a few thousand rows at a time gives exactly the
    # counts of the whole ledger in memory: keys seen in several batches add up
    from anquan_analysis.ledger import effective_counts_parquet
    from anquan_analysis.synth import make_ledger
    ledger = make_ledger(20_000, 300, 14, seed=4)
    ledger.to_parquet(tmp_path / "ledger.parquet")
    whole = effective_counts(ledger, campaign_start="2024-02-01")
    streamed = effective_counts_parquet(tmp_path / "ledger.parquet", batch_rows=3_000,
                                        campaign_start="2024-02-01")
    pd.testing.assert_frame_equal(streamed, whole)
    assert whole["reported"].sum() == 20_000
