"""findings.xlsx (Chinese headers, sheets, no formula injection), the HTML export
(code hidden, images embedded, nothing fetched from the network), the reports
index (the drafted 存在的主要问题: test_draft.py)."""

import base64
import io
import json
import re

import matplotlib.pyplot as plt
import nbformat
import openpyxl
import pandas as pd
import pytest

from anquan_analysis import plots  # noqa: F401 - CJK font for the test figure
from anquan_analysis.findings import CHECK_FAMILIES, FAMILY_ZH, make_findings
from anquan_analysis.io import safe_cell
from anquan_analysis.report import (FINDINGS_HEADERS_ZH, findings_summary, notebook_to_html,
                                    write_findings_xlsx, write_index)

INJECTION = '=HYPERLINK("http://evil.example","点击")'


def _findings() -> pd.DataFrame:
    return make_findings(pd.DataFrame([
        dict(check="low_outlier", unit="区发展改革委", unit_type="department", period="2024Q3",
             indicator="major_hazards_found", observed=0, expected=2.34, lower=0.4, upper=6.1,
             statistic=-2.9, p_value=0.0002, q_value=0.004, severity="alert",
             message="区发展改革委重大事故隐患排查数0项，期望值2.3项。"),
        dict(check="low_outlier", unit="区教委", unit_type="department", period="2024Q3",
             indicator="major_hazards_found", observed=1, expected=4.1, p_value=0.004,
             q_value=0.02, severity="warning", message="区教委偏低。"),
        dict(check="low_outlier", unit="区林业局", unit_type="department", period="2024Q3",
             indicator="major_hazards_found", observed=1, expected=3.0, p_value=0.2,
             q_value=0.3, severity="info", message="区林业局。"),
        dict(check="zero_report", unit=INJECTION, unit_type="town", period="2024Q3",
             indicator="major_hazards_found", observed=0, expected=3.0, p_value=0.001,
             q_value=0.01, severity="warning", message="-零报送"),
        dict(check="surge", unit="花溪街道", unit_type="town", period="2024Q3",
             indicator="major_hazards_found", observed=43, expected=23, p_value=0.0001,
             q_value=0.001, severity="alert", message="@突增"),
        dict(check="underdispersion", unit_type="town", period="2024Q3",
             indicator="major_hazards_found", statistic=0.31, p_value=0.001, q_value=0.003,
             severity="alert", message="各镇街重大事故隐患排查数的离散程度仅为计数噪声的0.31倍。"),
        dict(check="pinned_rate", unit="木洞镇", unit_type="town", period="2024Q3",
             indicator="major_hazards_rectified", observed=1.0, severity="warning",
             message="+整改率"),
    ]))


# ------------------------------------------------------------------ safe_cell / xlsx
@pytest.mark.parametrize("text", ["=1+1", "+A1", "-2+3", "@SUM(A1)", "\t=1", INJECTION])
def test_safe_cell_neutralises_formula_starts(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["区应急局", "1=1", "-1", 3.5, -2, None])
def test_safe_cell_leaves_other_values(value):
    assert safe_cell(value) == value


def test_findings_xlsx_has_no_formula_cell_and_chinese_sheets(tmp_path):
    f = _findings()
    rejects = pd.DataFrame({"file": ["a.csv"], "sheet": [None], "row": [7], "column": ["单位"],
                            "value": ["=cmd|' /C calc'!A0"], "reason": ["单位名称为空"]})
    path = write_findings_xlsx(f, tmp_path / "findings.xlsx", rejects=rejects)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总", *FAMILY_ZH.values(), "未读取的数据"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A4"      # title, subtitle, header
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    ws = wb["末位与零报送"]
    header = [c.value for c in ws[3]]
    assert header == list(FINDINGS_HEADERS_ZH.values())
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert len(rows) == 4  # 3 low_outlier + 1 zero_report
    units = [r[1] for r in rows]
    assert "'" + INJECTION in units
    first = rows[0]
    assert first[0] == "排查数显著偏低" and first[2] == "部门" and first[4] == "重大事故隐患排查数"
    assert first[5] == 0 and first[6] == pytest.approx(2.34) and first[12] == "预警"
    # width from content: 区发展改革委 is 6 wide characters = 12 columns (+2)
    assert ws.column_dimensions["B"].width >= 14
    assert wb["未读取的数据"]["E4"].value == "'=cmd|' /C calc'!A0"
    assert not list(tmp_path.glob("*.tmp"))


def test_findings_summary_counts_by_check_and_severity():
    s = findings_summary(_findings()).set_index("检查项目")
    assert len(s) == len(CHECK_FAMILIES)
    assert s.loc["排查数显著偏低", ["预警", "关注", "提示", "合计"]].tolist() == [1, 1, 1, 3]
    assert s.loc["突击上报", "预警"] == 1
    assert s.loc["数据雷同", "合计"] == 0


def test_findings_xlsx_sheet_order_survives_empty_findings(tmp_path):
    f = _findings().iloc[0:0]
    wb = openpyxl.load_workbook(write_findings_xlsx(f, tmp_path / "x.xlsx"))
    assert wb.sheetnames == ["汇总", *FAMILY_ZH.values()]
    assert wb["汇总"].max_row == 3 + len(CHECK_FAMILIES)


# --------------------------------------------------------------------------- HTML
def _png() -> str:
    fig, ax = plt.subplots()
    ax.set_title("漏斗图")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def test_html_export_hides_code_embeds_images_and_escapes(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("secret_source_code = 1")
    table = pd.DataFrame({"单位": ["<script>alert(1)</script>"]}).to_html(escape=True)
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "fig"}),
        nbformat.v4.new_output("display_data", data={"text/html": table, "text/plain": "t"}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("## 总体进展"), cell]
    src = tmp_path / "assessment.ipynb"
    nbformat.write(nb, src)
    html = notebook_to_html(src, tmp_path / "assessment.html", title="2024Q3 评估").read_text("utf-8")
    assert "总体进展" in html and "<title>2024Q3 评估</title>" in html
    assert 'lang="zh"' in html
    assert "secret_source_code" not in html
    assert len(re.findall(r"<img[^>]*src=\"data:image/png;base64,", html)) == 1
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html
    assert re.findall(r'(?:src|href)="https?://', html) == []


def test_index_links_every_period_in_time_order(tmp_path):
    for p, hazards in (("2024Q2", 61.0), ("2024-04", 20.0), ("2024Q1", 48.0), ("2024-03", 9.0)):
        d = tmp_path / p
        d.mkdir()
        (d / "assessment.html").write_text("<html></html>", encoding="utf-8")
        (d / "findings.xlsx").write_bytes(b"")
        (d / "summary.json").write_text(json.dumps({"hazards_found": hazards, "alerts_total": 3,
                                                    "period_zh": f"<{p}>"}), encoding="utf-8")
    (tmp_path / "stray").mkdir()  # no assessment.html: not listed
    html = write_index(tmp_path).read_text("utf-8")
    links = re.findall(r'href="([^"]+)/assessment.html"', html)
    assert links == ["2024-03", "2024Q1", "2024-04", "2024Q2"]  # a quarter after its last month
    assert 'href="2024Q2/findings.xlsx"' in html
    assert "&lt;2024Q2&gt;" in html and "<2024Q2>" not in html
    assert "<td>61</td>" in html


def test_findings_xlsx_cells_typed_escaped_and_wrapped(tmp_path):
    long_message = "区应急局" * 20 + "<b>&</b>\x07"   # 80 wide characters, markup, a bell
    f = make_findings(pd.DataFrame([
        dict(check="low_outlier", unit="甲<镇>", unit_type="town", period="2024-05",
             indicator="major_hazards_found", observed=3, expected=4.56789, p_value=1e-13,
             q_value=None, severity="alert", message=long_message),
    ]))
    wb = openpyxl.load_workbook(write_findings_xlsx(f, tmp_path / "f.xlsx"))
    ws = wb["末位与零报送"]
    row = {h: c for h, c in zip(FINDINGS_HEADERS_ZH.values(), ws[4])}
    assert row["单位"].value == "甲<镇>"
    assert row["观测值"].value == 3 and row["期望值"].value == pytest.approx(4.5679)  # 4 decimals
    assert row["p值"].value == pytest.approx(1e-13)  # p-values keep their precision
    assert row["q值"].value is None and row["下限"].value is None  # missing: empty cells
    assert row["说明"].value == "区应急局" * 20 + "<b>&</b>"  # the control character dropped
    # XlsxWriter stores the width with its cell padding: 60 characters shown
    assert row["说明"].alignment.wrap_text and ws.column_dimensions["N"].width == pytest.approx(60, abs=1)
    # a name's column is as wide as the name (甲<镇>: two wide, two narrow = 6), so it never
    # breaks: 6 + 2 of margin, as XlsxWriter stores it (+0.71 of cell padding)
    assert ws.column_dimensions["B"].width == pytest.approx(8.71, abs=0.01)
    assert [c.font.b for c in ws[3]] == [True] * len(FINDINGS_HEADERS_ZH)


def test_estimates_keep_two_decimals_and_totals_are_decided_cell_by_cell():
    # seen in the 2024-09 HTML: 期望值 "1" beside "1.10", 实际/期望 "1" beside "1.04"
    from anquan_analysis.assessment import table_style

    table = pd.DataFrame({"单位": ["清溪镇", "桂花街道"], "期望值": [1.0, 1.1],
                          "实际/期望": [1.0, 8.13], "本期": [237.0, 30.1]})
    html_text = table_style(table).to_html()
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html_text)
    assert cells == ["清溪镇", "1.00", "1.00", "237", "桂花街道", "1.10", "8.13", "30.10"]


# ------------------------------------------------------------- 问题清单 / xlsx_print
def test_unit_workbooks_number_each_units_rows_from_one(tmp_path):
    """The lists are cut from one table of all units: each holds its own unit's 预警 and
    关注 rows only (提示 and district-wide rows left out), 预警 first, numbered from 1."""
    from anquan_analysis.report import write_unit_workbooks

    f = _findings()
    more = make_findings(pd.DataFrame([
        dict(check="surge", unit="区教委", unit_type="department", period="2024Q3",
             indicator="major_hazards_found", observed=9, expected=2, p_value=0.0001,
             q_value=0.001, severity="alert", message="区教委突增。")]))
    files = write_unit_workbooks(pd.concat([f, more], ignore_index=True), tmp_path / "问题清单",
                                 period="2024Q3")
    # 区教委 (2 rows), 区发展改革委, the injected name, 木洞镇, 花溪街道; 区林业局 has only 提示
    assert len(files) == 5
    wb = openpyxl.load_workbook(tmp_path / "问题清单" / "区教委.xlsx")
    ws = wb.active
    assert ws["A1"].value == "区教委 2024年第三季度调度数据核实清单"
    header = [c.value for c in ws[4]]
    assert header == ["序号", "检查项目", "指标", "期间", "严重程度", "问题说明", "核实反馈"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5)]
    assert [r[0] for r in rows] == [1, 2]
    assert [r[4] for r in rows] == ["预警", "关注"]
    assert [r[5] for r in rows] == ["区教委突增。", "区教委偏低。"]
    one = openpyxl.load_workbook(tmp_path / "问题清单" / "木洞镇.xlsx").active
    assert [[c.value for c in r][::4] for r in one.iter_rows(min_row=5)] == [[1, "关注"]]
    injected = openpyxl.load_workbook(files[[p.name.startswith("=") for p in files].index(True)])
    assert [c.value for c in injected.active[5]][5] == "'-零报送"


def test_workbook_parts_in_memory_give_the_same_bytes(tmp_path):
    """write_workbook assembles the parts in memory (XlsxWriter's in_memory set after
    construction, keeping constant_memory's inline strings); the bytes are those of
    XlsxWriter's own temporary files."""
    import numpy as np

    from anquan_analysis.xlsx_print import PrintSheet, write_workbook

    frame = pd.DataFrame({"单位": ["甲镇", None, "乙街道" * 9], "数": [1.0, np.nan, 2.5],
                          "p值": [1e-5, 0.2, None], "说明": ["x\x07y", "区应急局" * 20, ""]})
    sheets = [PrintSheet("表一", frame, ["标题", "副标题"], share_rows=np.array([0, 1, 0], bool),
                         p_columns=("p值",)),
              PrintSheet("表二", frame.iloc[:1], ["标题"], autofilter=False, min_lines=3)]
    a = write_workbook(sheets, tmp_path / "a.xlsx", footer="来源")
    b = write_workbook(sheets, tmp_path / "b.xlsx", footer="来源", in_memory=False)
    assert a.read_bytes() == b.read_bytes()
    ws = openpyxl.load_workbook(a)["表一"]
    assert [ws["A3"].value, ws["A4"].value, ws["C4"].value] == ["单位", "甲镇", 1e-5]


@pytest.mark.parametrize("values, cap, width", [
    (["甲镇", "乙街道", None], 24, 6),            # 乙街道: three wide characters
    (["区应急局" * 20], 24, 24),                  # capped
    ([1234.5678, 0.5, None], 14, 5),               # 1,235 (4 significant digits): 5
    ([12, 7], 14, 4),                              # the header 序号 (4) is wider
    ([None, None], 24, 4),                         # the header alone
    (["abcdefghij", "短"], 24, 10),
])
def test_short_column_width_is_column_width(values, cap, width):
    """Short columns are measured in Python, long ones by pandas: the same widths."""
    from anquan_analysis.xlsx_print import _raw_cells, _short_column_width, column_width

    s = pd.Series(values)
    s = s.astype("float64") if any(isinstance(v, float) for v in values) else s
    assert column_width("序号", s, cap) == width
    assert _short_column_width("序号", _raw_cells(s), pd.api.types.is_float_dtype(s), cap) == width


def test_unit_workbooks_shared_with_a_forked_process_are_the_same_files(tmp_path):
    """A province's lists are written by two processes (forked.share_jobs): the same
    names, in the same order, and the same bytes as one process writes; two units whose
    names clean to one file name still get _2 in unit order."""
    from anquan_analysis import forked
    from anquan_analysis.report import write_unit_workbooks

    units = [f"U{i:03d}镇" for i in range(90)] + ["a/b", "a:b"]
    f = make_findings(pd.DataFrame([
        dict(check="low_outlier", unit=u, unit_type="town", period="2024Q3",
             indicator="major_hazards_found", observed=i, expected=9.5, p_value=0.001,
             q_value=0.01, severity="alert" if i % 3 else "warning", message=f"{u}偏低。")
        for i, u in enumerate(units)]))
    one = write_unit_workbooks(f, tmp_path / "one", period="2024Q3", parallel=False)
    two = write_unit_workbooks(f, tmp_path / "two", period="2024Q3")
    assert [p.name for p in one] == [p.name for p in two]
    assert [p.name for p in one][-2:] == ["a_b.xlsx", "a_b_2.xlsx"]
    assert [p.read_bytes() for p in one] == [p.read_bytes() for p in two]
    assert len(one) == 92 >= forked.MIN_JOBS   # enough to fork


@pytest.mark.parametrize("text, width", [
    ("", 0), (None, 0), (float("nan"), 0), ("abc", 3), (12.5, 4),
    ("区应急局", 8), ("ＡＢ", 4),          # full-width letters count two
    ("ｱｲ", 2),                           # half-width katakana count one
    ("甲a\x07", 4), ("é", 1),             # a control character and an accent: one each
])
def test_display_width_counts_wide_and_full_width_characters_twice(text, width):
    from anquan_analysis.xlsx_print import display_width

    assert display_width(text) == width
    assert display_width(text) == width     # the second time from the cache
