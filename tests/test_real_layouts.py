"""Real office layouts of the same figures ingest to the same panel: the bundled clean
CSV re-saved as GBK, and re-laid as a workbook with a title row and a two-row merged
header (重大事故隐患 over 排查数 | 整改数); and the corpus's one small table in every
encoding and file type it comes in."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from anquan_analysis.config import SYNTH_DIR
from anquan_analysis.ingest import ingest

CLEAN = SYNTH_DIR / "reports_clean.csv"
BAD = Path(__file__).parent / "data" / "bad"
FIGURES = ["unit", "unit_type", "parent", "period", "indicator", "value", "approx"]
# (parent label, its children): header pairs that offices merge over two rows
GROUPS = {"重大事故隐患": ("排查数", "整改数"), "一般隐患": ("排查数", "整改数")}

pytestmark = pytest.mark.skipif(not CLEAN.exists(), reason="bundled data not generated (make data)")


@pytest.fixture(scope="module")
def clean_panel():
    return ingest(CLEAN, aliases=None).panel


def _two_row_header_workbook(table: pd.DataFrame, path: Path) -> None:
    """Title in row 1, header in rows 2-3: grouped indicators under a merged parent,
    every other header merged down over both rows; figures as numbers from row 4."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "调度表"
    ws.cell(1, 1, "2024年安全生产治本攻坚三年行动调度表")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=8)
    cols = list(table.columns)
    j = 0
    while j < len(cols):
        label = cols[j]
        parent = next((p for p, kids in GROUPS.items()
                       if label == p + kids[0] and j + 1 < len(cols) and cols[j + 1] == p + kids[1]),
                      None)
        if parent:
            ws.cell(2, j + 1, parent)
            ws.merge_cells(start_row=2, start_column=j + 1, end_row=2, end_column=j + 2)
            ws.cell(3, j + 1, GROUPS[parent][0])
            ws.cell(3, j + 2, GROUPS[parent][1])
            j += 2
            continue
        ws.cell(2, j + 1, label)
        ws.merge_cells(start_row=2, start_column=j + 1, end_row=3, end_column=j + 1)
        j += 1
    for i, row in enumerate(table.itertuples(index=False), start=4):
        for k, v in enumerate(row, start=1):
            if not pd.isna(v):
                ws.cell(i, k, v)
    wb.save(path)


def _same_figures(a: pd.DataFrame, b: pd.DataFrame, row_shift: int) -> None:
    key = ["unit", "period", "indicator"]
    a = a.sort_values(key).reset_index(drop=True)
    b = b.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[FIGURES], b[FIGURES])
    assert (b["source_row"] - a["source_row"] == row_shift).all()


def test_gbk_csv_gives_the_same_panel(clean_panel, tmp_path):
    text = CLEAN.read_bytes().decode("utf-8-sig")
    gbk = tmp_path / "reports_gbk.csv"
    gbk.write_bytes(text.encode("gbk"))
    with pytest.raises(UnicodeDecodeError):
        gbk.read_bytes().decode("utf-8")          # really not UTF-8
    ds = ingest(gbk, aliases=None)
    assert ds.rejects.empty
    _same_figures(clean_panel, ds.panel, 0)


def test_two_row_header_workbook_gives_the_same_panel(clean_panel, tmp_path):
    table = pd.read_csv(CLEAN, encoding="utf-8-sig", dtype={"期间": "str"})
    assert {"重大事故隐患排查数", "重大事故隐患整改数", "一般隐患排查数"} <= set(table.columns)
    path = tmp_path / "reports_two_row_header.xlsx"
    _two_row_header_workbook(table, path)
    ds = ingest(path, aliases=None)
    assert ds.rejects.empty and ds.unknown_columns.empty
    assert ds.summary["header_row"].tolist() == [2]
    _same_figures(clean_panel, ds.panel, 2)          # title + one more header row above


SAME_TABLE = ["gbk.csv", "utf8_bom.csv", "utf16_tab.txt", "xlsx_named.csv", "real.xls",
              "merged_header.xlsx", "serial_periods.xlsx", "notes_and_titles.csv",
              "hidden_scratch.xlsx"]


@pytest.mark.parametrize("name", SAME_TABLE)
def test_corpus_layouts_of_one_table_agree(name):
    expected = {("区应急局", "department", "major_hazards_found"): 3.0,
                ("区应急局", "department", "general_hazards_rectified"): 38.0,
                ("花溪街道", "town", "general_hazards_found"): 25.0,
                ("巴源公司", "soe", "general_hazards_rectified"): 11.0}
    ds = ingest(BAD / name, aliases=None)
    assert ds.rejects.empty and len(ds.panel) == 12
    assert set(ds.panel["period"]) == {"2024-04"}
    got = {(r.unit, r.unit_type, r.indicator): r.value for r in ds.panel.itertuples()}
    assert {k: got.get(k) for k in expected} == expected
    assert sum(got.values()) == 3 + 2 + 40 + 38 + 1 + 1 + 25 + 25 + 0 + 0 + 12 + 11


def test_ledger_date_forms_and_serials():
    ds = ingest(BAD / "ledger_mixed_dates.xlsx", aliases=None)
    lg = ds.ledger.set_index("hazard_id")
    fmt = lambda s: s.dt.strftime("%Y-%m-%d").fillna("").tolist()  # noqa: E731
    assert fmt(lg["found_date"]) == ["2024-04-01", "2024-04-08", "2024-04-10"]
    assert fmt(lg["reported_date"]) == ["2024-04-05", "2024-04-09", "2024-04-11"]
    assert fmt(lg["rectified_date"]) == ["2024-04-20", "", "2024-04-18"]


def test_hidden_sheet_is_reported():
    ds = ingest(BAD / "hidden_scratch.xlsx", aliases=None)
    notes = ds.summary.set_index("sheet")["note"]
    assert notes["草稿"] == "hidden sheet, skipped"
