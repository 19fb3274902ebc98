"""Ingest of unit-period reports, exposure tables and ledgers: values, rejects,
reconciliation, the accounting invariant, and the CLI's one-line errors."""

import pandas as pd
import pytest

from anquan_analysis.cli import main
from anquan_analysis.dataset import PANEL_COLUMNS, REJECT_COLUMNS, empty_panel
from anquan_analysis.ingest import cumulative_to_period, ingest
from conftest import assert_accounting, figures

# Title row, header, 合计 row that disagrees with its units (stated 100, units 98),
# typed figures, a blank row, an unknown column, a row with no unit name.
REPORT = """\
桂林市2024年4月治本攻坚调度表,,,,,,
序号,单位,单位类型,重大事故隐患排查数（项）,罚款(元),安全宣传,巡查里程
1,灵川县,县,60,2100,17万余,3
2,兴 安 县,县,38,—,96万余人次,
,,,,,,
3,七星区,区,abc,0,-3,
合计,,,100,,,
4,,县,3,,,
5,龙胜县,县,,,/,
注：数据截至4月30日,,,,,,
"""


def test_report_with_title_totals_typed_figures(write_csv):
    path = write_csv("report.csv", REPORT)
    ds = ingest(path)
    assert list(ds.panel.columns) == PANEL_COLUMNS
    assert ds.panel.dtypes.to_dict() == empty_panel().dtypes.to_dict()
    assert figures(ds) == {
        ("灵川县", "2024-04", "major_hazards_found"): 60,
        ("灵川县", "2024-04", "fines"): pytest.approx(0.21),        # 2100 元 → 万元
        ("灵川县", "2024-04", "publicity_audience"): 170000,
        ("兴安县", "2024-04", "major_hazards_found"): 38,
        ("兴安县", "2024-04", "publicity_audience"): 960000,
        ("七星区", "2024-04", "fines"): 0,                          # 0 is zero, — is missing
    }
    approx = ds.panel.set_index(["unit", "indicator"])["approx"]
    assert approx[("灵川县", "publicity_audience")] and not approx[("灵川县", "major_hazards_found")]
    assert set(ds.panel["unit_type"]) == {"county"}
    rej = ds.rejects.set_index("row")
    assert list(ds.rejects.columns) == REJECT_COLUMNS
    assert sorted(ds.rejects["row"]) == [6, 6, 8]
    assert rej.loc[8, "reason"].startswith("缺少单位名称")
    bad = ds.rejects[ds.rejects["row"] == 6].set_index("column")
    assert bad.loc["重大事故隐患排查数（项）", "value"] == "abc"
    assert "negative" in bad.loc["安全宣传", "reason"]
    # the 合计 row: stated 100, units 60 + 38 = 98 (七星区's abc is not counted)
    rc = ds.reconciliation.set_index("indicator").loc["major_hazards_found"]
    assert (rc["stated"], rc["sum_of_units"], rc["difference"], rc["status"], rc["row"]) == \
        (100, 98, 2, "mismatch", 7)
    assert ds.unknown_columns["column"].tolist() == ["巡查里程"]
    # rows 3, 4, 6, 8, 9 are data; 5 blank, 7 合计, 10 a note
    s = assert_accounting(ds, path, data_rows=[3, 4, 6, 8, 9], empty_rows=[9])
    assert (s["rows_read"], s["rows_clean"], s["rows_rejected"], s["rows_totals"]) == (5, 4, 1, 1)


@pytest.mark.parametrize("typed, canonical", [
    ("2024-04", "2024-04"), ("2024年4月", "2024-04"), ("2024Q2", "2024Q2"),
    ("2024年二季度", "2024Q2"), ("2024年上半年", "2024H1"), ("2024/4", "2024-04"),
])
def test_period_forms_in_the_period_column(write_csv, typed, canonical):
    path = write_csv("p.csv", f"单位,期间,重大事故隐患排查数\nA,{typed},4\n")
    ds = ingest(path)
    assert figures(ds) == {("A", canonical, "major_hazards_found"): 4}
    assert_accounting(ds, path, data_rows=[2])


@pytest.mark.parametrize("alias", ["时间", "月份", "报送期间", "period"])
def test_period_column_aliases(write_csv, alias):
    path = write_csv("p.csv", f"填报单位,{alias},major_hazards_found\nA,2024年5月,4\n")
    ds = ingest(path)
    assert figures(ds) == {("A", "2024-05", "major_hazards_found"): 4}
    assert_accounting(ds, path, data_rows=[2])


def test_period_from_sheet_name_and_unreadable_period(write_xlsx):
    path = write_xlsx("m.xlsx", {
        "2024年二季度": [["单位", "重大事故隐患"], ["A", 3], ["B", 0]],
        "调度": [["单位", "期间", "重大事故隐患"], ["A", "2024年13月", 1], ["B", "2024-05", 2]],
    })
    ds = ingest(path)
    assert figures(ds) == {("A", "2024Q2", "major_hazards_found"): 3,
                           ("B", "2024Q2", "major_hazards_found"): 0,
                           ("B", "2024-05", "major_hazards_found"): 2}
    bad = ds.rejects.iloc[0]
    assert (bad["sheet"], bad["row"], bad["column"], bad["value"]) == ("调度", 2, "期间", "2024年13月")
    assert_accounting(ds, path, data_rows=[2, 3], sheet="2024年二季度")
    assert_accounting(ds, path, data_rows=[2, 3], sheet="调度")


def test_cumulative_converted_to_in_period(write_csv):
    path = write_csv("cum.csv", """\
单位,期间,口径,重大事故隐患排查数,一般隐患排查数
A,2024-01,累计,10,5
A,2024-02,累计,25,4
A,2024-03,累计,40,9
B,2024-01,当期,3,
B,2024-02,当期,2,
B,2024-03,累计,12,
B,2024-04,当期,1,
""")
    ds = ingest(path)
    f = figures(ds)
    assert [f[("A", p, "major_hazards_found")] for p in ("2024-01", "2024-02", "2024-03")] == [10, 15, 15]
    # mixed 当期 3, 2 then 累计 12 (→ 7) then 当期 1
    assert [f[("B", p, "major_hazards_found")] for p in ("2024-01", "2024-02", "2024-03", "2024-04")] \
        == [3, 2, 7, 1]
    # 一般隐患 5 → 4 fell: that cell is rejected naming 5; the next (9) counts from 5
    assert ("A", "2024-02", "general_hazards_found") not in f
    assert f[("A", "2024-03", "general_hazards_found")] == 4
    (fell,) = ds.rejects.itertuples()
    assert (fell.row, fell.column, fell.value) == (3, "一般隐患排查数", "4")
    assert "上期累计 5" in fell.reason
    assert_accounting(ds, path, data_rows=range(2, 9))


def test_cumulative_year_to_date_restarts_each_year():
    cells = pd.DataFrame({"unit": "A", "indicator": "drills", "period": ["2024-11", "2024-12",
                          "2025-01", "2025-02"], "basis": "cumulative", "value": [50.0, 60, 4, 9],
                          "error": pd.Series([None] * 4, dtype="str")})
    out = cumulative_to_period(cells)
    assert out["value"].tolist() == [50, 10, 4, 5]
    assert cells["value"].tolist() == [50, 60, 4, 9]  # input untouched


def test_duplicates_identical_and_different(write_csv):
    path = write_csv("dup.csv", """\
单位,期间,重大事故隐患排查数,一般隐患排查数
A,2024-04,3,10
B,2024-04,5,1
A,2024-04,3,10
B,2024-04,6,1
C,2024-04,1,1
""")
    ds = ingest(path)
    assert figures(ds) == {("A", "2024-04", "major_hazards_found"): 3,
                           ("A", "2024-04", "general_hazards_found"): 10,
                           ("C", "2024-04", "major_hazards_found"): 1,
                           ("C", "2024-04", "general_hazards_found"): 1}
    assert set(ds.panel.loc[ds.panel["unit"] == "A", "source_row"]) == {2}
    rej = ds.rejects.set_index("row")["reason"]
    assert rej[4] == "duplicate of row 2 (identical)"
    # one reason per group: the count and the rows (issue 19: linear, not pairwise)
    assert rej[3] == rej[5] == ("同一单位同一期间重复且数据不一致 (reported 2 times with "
                                "different figures: rows 3, 5)")
    s = assert_accounting(ds, path, data_rows=range(2, 7))
    assert (s["rows_clean"], s["rows_rejected"], s["rows_duplicate_identical"]) == (2, 3, 1)


def test_xlsx_with_title_totals_and_messy_cells(write_xlsx):
    path = write_xlsx("r.xlsx", {"四月": [
        ["巴南区2024年4月重大事故隐患排查整治调度表"],
        [],
        ["单位名称", "单位类型", "上级", "重大事故隐患排查数", "检查生产经营单位（家次）", "安全宣传"],
        ["东温泉镇", "镇街", "巴南区", 2, "580余", "17万余"],
        ["区应急局", "部门", "巴南区", 0, None, "—"],
        ["花溪街道", "镇街", "巴南区", "３", "1，234", None],
        [None, None, None, None, None, None],
        ["合计", None, None, 5, 1814, "17万余"],
    ]})
    ds = ingest(path)
    assert figures(ds) == {
        ("东温泉镇", "2024-04", "major_hazards_found"): 2,
        ("东温泉镇", "2024-04", "units_inspected"): 580,
        ("东温泉镇", "2024-04", "publicity_audience"): 170000,
        ("区应急局", "2024-04", "major_hazards_found"): 0,
        ("花溪街道", "2024-04", "major_hazards_found"): 3,
        ("花溪街道", "2024-04", "units_inspected"): 1234,
    }
    assert set(ds.panel["unit_type"]) == {"town", "department"}
    assert set(ds.panel["parent"]) == {"巴南区"} and set(ds.panel["source_sheet"]) == {"四月"}
    rc = ds.reconciliation.set_index("indicator")["status"].to_dict()
    assert rc == {"major_hazards_found": "ok", "units_inspected": "ok", "publicity_audience": "approx"}
    assert ds.rejects.empty and ds.unknown_columns.empty
    assert_accounting(ds, path, data_rows=[4, 5, 6], sheet="四月")


def test_two_row_merged_header_is_flattened(write_xlsx):
    path = write_xlsx("h.xlsx", {"2024-05": [
        ["单位", "重大事故隐患", None, "一般隐患", None],
        [None, "排查数", "整改数", "排查数", "整改数"],
        ["A", 4, 3, 10, 9],
    ]}, merges={"2024-05": ["A1:A2", "B1:C1", "D1:E1"]})
    ds = ingest(path)
    assert figures(ds) == {("A", "2024-05", c): v for c, v in [
        ("major_hazards_found", 4), ("major_hazards_rectified", 3),
        ("general_hazards_found", 10), ("general_hazards_rectified", 9)]}
    assert_accounting(ds, path, data_rows=[3], sheet="2024-05")


def test_long_form(write_csv):
    path = write_csv("long.csv", """\
unit,period,indicator,value
A,2024-05,major_hazards_found,3
A,2024-05,罚款,2100元
A,2024-05,not_an_indicator,3
B,2024-05,重大事故隐患排查数,三
B,2024-06,重大事故隐患排查数,5人
""")
    ds = ingest(path)
    assert figures(ds) == {("A", "2024-05", "major_hazards_found"): 3,
                           ("A", "2024-05", "fines"): pytest.approx(0.21),
                           ("B", "2024-05", "major_hazards_found"): 3}
    rej = ds.rejects.set_index("row")
    assert "unknown indicator" in rej.loc[4, "reason"]
    assert "does not fit" in rej.loc[6, "reason"]
    assert_accounting(ds, path, data_rows=range(2, 7))


def test_exposure_table(write_csv):
    path = write_csv("exp.csv", "单位,行业领域,监管企业数\nA,,120\nA,建筑施工,30家\nB,外星,5\n合计,,155\n")
    ds = ingest(path)
    assert ds.exposure[["unit", "sector", "enterprises"]].values.tolist() == \
        [["A", "", 120.0], ["A", "建筑施工", 30.0]]
    assert ds.rejects["reason"].str.contains("unknown sector").tolist() == [True]
    assert ds.panel.empty
    s = ds.summary.iloc[0]
    assert (s["kind"], s["rows_read"], s["rows_clean"], s["rows_rejected"], s["rows_totals"]) == \
        ("exposure", 3, 2, 1, 1)


def test_ledger_sheet_is_routed_to_the_ledger(write_csv):
    path = write_csv("ledger.csv", """\
隐患编号,单位,行业领域,发现日期,报送日期,发现方式,是否符合判定标准,整改状态,整改完成日期
H1,A,工贸,2024-04-02,2024-04-10,部门检查,是,已整改,2024-04-20
H2,A,工贸,2024-04-05,2024-04-06,企业自查,是,整改中,
H3,,工贸,2024-04-07,2024-04-08,部门检查,否,未整改,
""")
    ds = ingest(path)
    assert ds.ledger["hazard_id"].tolist() == ["H1", "H2"]
    counts = ds.ledger_counts.set_index(["unit", "period", "sector"])
    assert counts.loc[("A", "2024-04", "工贸"), ["found", "found_dept", "found_enterprise"]].tolist() == \
        [2, 1, 1]
    assert ds.rejects["row"].tolist() == [4]
    s = ds.summary.iloc[0]
    assert (s["kind"], s["rows_read"], s["rows_clean"], s["rows_rejected"]) == ("ledger", 3, 2, 1)


def test_gbk_csv(write_csv):
    path = write_csv("gbk.csv", "单位,期间,重大事故隐患排查数\n龙胜县,2024年6月,0\n灵川县,2024年6月,10\n",
                     encoding="gbk")
    ds = ingest(path)
    assert figures(ds) == {("龙胜县", "2024-06", "major_hazards_found"): 0,
                           ("灵川县", "2024-06", "major_hazards_found"): 10}
    assert_accounting(ds, path, data_rows=[2, 3])


def test_header_unit_conflict_is_an_unknown_column(write_csv):
    path = write_csv("u.csv", "单位,期间,重大事故隐患排查数(万元),罚款（千元）\nA,2024-04,3,2\n")
    ds = ingest(path)
    assert figures(ds) == {("A", "2024-04", "fines"): pytest.approx(0.2)}
    assert ds.unknown_columns["column"].tolist() == ["重大事故隐患排查数(万元)"]
    assert_accounting(ds, path, data_rows=[2])


def test_cli_writes_outputs_and_prints_summary(write_csv, tmp_path, capsys):
    path = write_csv("report.csv", REPORT)
    out = tmp_path / "out"
    assert main(["ingest", str(path), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "report.csv (reports): 5 rows read, 4 clean (1 empty), 1 rejected" in printed
    assert "unknown column: report.csv '巡查里程'" in printed
    assert "stated 100, units sum 98, difference 2" in printed
    assert pd.read_parquet(out / "panel.parquet").shape == (6, len(PANEL_COLUMNS))
    assert len(pd.read_csv(out / "rejects.csv")) == 3


def _cli_error(capsys, *argv):
    code = main(["ingest", *map(str, argv)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_cli_errors(tmp_path, write_csv, capsys):
    out = ["--output", tmp_path / "out"]
    assert "nope.csv: file not found" in _cli_error(capsys, tmp_path / "nope.csv", *out)
    assert "empty.csv: file is empty" in _cli_error(capsys, write_csv("empty.csv", ""), *out)
    err = _cli_error(capsys, write_csv("x.csv", "a,b\n1,2\n"), *out)
    assert "x.csv: no recognisable header" in err and "单位" in err
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"this is not a zip file")
    assert "bad.xlsx: not a readable XLSX" in _cli_error(capsys, bad, *out)
    doc = tmp_path / "r.docx"
    doc.write_text("x")
    assert "r.docx: unsupported file type" in _cli_error(capsys, doc, *out)
    err = _cli_error(capsys, write_csv("np.csv", "单位,重大事故隐患排查数\nA,1\n"), *out)
    assert "np.csv: no period column" in err
    err = _cli_error(capsys, write_csv("nu.csv", "期间,重大事故隐患排查数\n2024-04,1\n"), *out)
    assert "nu.csv: no unit column" in err


def test_empty_named_sheet_is_an_error(write_xlsx):
    from anquan_analysis.errors import InputError
    path = write_xlsx("e.xlsx", {"a": [["单位", "期间", "重大隐患"], ["A", "2024-04", 1]], "b": []})
    with pytest.raises(InputError, match="sheet 'b' is empty"):
        ingest(path, sheet="b")
    ds = ingest(path)          # the empty sheet beside a good one is skipped and noted
    assert ds.summary["note"].tolist() == ["", "empty sheet, skipped"]
