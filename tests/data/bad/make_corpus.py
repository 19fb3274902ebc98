"""Build the corpus of hostile and awkward input files in this folder, and its README.

    python tests/data/bad/make_corpus.py

Deterministic: the same bytes on every run (XLSX zip entries carry a fixed date and
docProps a fixed creation time), so regenerating never shows up as a change.  Each
entry of ``CORPUS`` is one file: its name, what is wrong with it, the outcome
``anquan ingest`` must give (``clean``: exit 0 and no reject record; ``rejects``:
exit 0 and at least one reject record; ``error``: exit 2 and one line naming the
file) and a phrase that must appear in that outcome (in the error line, in a reject
reason, or in what ingest prints).  ``tests/test_bad_inputs.py`` reads README.md.
Writing the .xls file needs ``xlwt`` (only here, not at run time).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
FIXED_ZIP_DATE = (2024, 5, 1, 0, 0, 0)
FIXED_ISO = "2024-05-01T00:00:00Z"

HEADER = ["单位", "单位类型", "期间", "重大事故隐患排查数", "重大事故隐患整改数",
          "一般隐患排查数", "一般隐患整改数"]
ROWS = [
    ["区应急局", "部门", "2024-04", "3", "2", "40", "38"],
    ["花溪街道", "镇街", "2024-04", "1", "1", "25", "25"],
    ["巴源公司", "国有公司", "2024-04", "0", "0", "12", "11"],
]
LEDGER_HEADER = ["隐患编号", "单位", "行业领域", "发现日期", "报送日期", "发现方式",
                 "是否符合判定标准", "整改状态", "整改完成日期"]


def csv_text(header, rows, sep=",") -> str:
    return "\n".join(sep.join(r) for r in [header, *rows]) + "\n"


# ---------------------------------------------------------------------------
# XLSX helpers: openpyxl writes, then the zip is rewritten with fixed dates.


def _normalise_zip(data: bytes, edit: Callable[[str, bytes], bytes] | None = None) -> bytes:
    """The same workbook with fixed entry dates, fixed core properties and, optionally,
    each member's bytes passed through ``edit(name, bytes)``."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>"
                              + FIXED_ISO.encode(), body)
            if edit is not None:
                body = edit(info.filename, body)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, body, compresslevel=9)
    return out.getvalue()


def xlsx_bytes(sheets: dict, *, merges=None, hidden=(), edit=None) -> bytes:
    """An XLSX workbook: {sheet: rows}; ``merges`` {sheet: ['B2:C2']}; ``hidden`` sheet names."""
    import openpyxl
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
        for rng in (merges or {}).get(title, []):
            ws.merge_cells(rng)
        if title in hidden:
            ws.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    return _normalise_zip(buf.getvalue(), edit)


def _num(rows):
    """Figures as numbers, as Excel stores typed digits."""
    return [[int(v) if isinstance(v, str) and v.isdigit() and len(v) < 5 else v for v in r]
            for r in rows]


def _cache_formulas(values: dict[str, str]):
    """An ``edit`` that gives formula cells (by reference) a cached value, as Excel saves them."""
    def edit(name, body):
        if not name.startswith("xl/worksheets/"):
            return body
        text = body.decode()
        for ref, v in values.items():
            text = re.sub(rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)<v\s*/?>(?:</v>)?',
                          rf"\g<1>\g<2><v>{v}</v>", text)
        return text.encode()
    return edit


def _bomb_edit(n_rows: int):
    """Replace sheet1 with ``n_rows`` identical rows (no r= attributes, which OOXML
    allows): tens of megabytes of XML that deflate to a few tens of kilobytes."""
    def edit(name, body):
        if name != "xl/worksheets/sheet1.xml":
            return body
        head, _, _ = body.partition(b"<sheetData>")
        row = b"<row><c><v>1</v></c></row>"
        return head + b"<sheetData>" + row * n_rows + b"</sheetData></worksheet>"
    return edit


def _corner_edit(name, body):
    """Claim the whole grid and put one value in its last cell (XFD1048576)."""
    if name != "xl/worksheets/sheet1.xml":
        return body
    body = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', body)
    return body.replace(b"</sheetData>",
                        b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>')


def _entities_edit(name, body):
    """A billion-laughs entity and an external entity (/etc/passwd) in sheet1."""
    if name != "xl/worksheets/sheet1.xml":
        return body
    dtd = (b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
           b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY x SYSTEM "file:///etc/passwd">]>')
    return (dtd + body).replace(b"<v>3</v>", b"<v>&c;&x;</v>", 1)


def xls_bytes(rows) -> bytes:
    """A BIFF8 .xls (Excel 97-2003) workbook, one sheet."""
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("2024年4月")
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is not None:
                ws.write(i, j, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# The corpus


def _formatted(rows, fmt: dict[str, str]) -> bytes:
    """A one-sheet workbook whose columns (by letter) carry a number format."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for row in rows:
        ws.append(list(row))
    for col, code in fmt.items():
        for cell in ws[col][1:]:
            cell.number_format = code
    buf = io.BytesIO()
    wb.save(buf)
    return _normalise_zip(buf.getvalue())


# Periods typed 2024.07 ... 2024.12 into number cells: Excel stores 2024.10 as 2024.1.
DOTTED = [2024.07, 2024.08, 2024.09, 2024.1, 2024.11, 2024.12]


def _dotted_rows():
    return [HEADER, *[["区应急局", "部门", p, i + 1, i, 10 + i, 9 + i] for i, p in enumerate(DOTTED)]]


def _no_dimension(name, body):
    return re.sub(rb"<dimension [^>]*/>", b"", body) if name.startswith("xl/worksheets/") else body


def _nesting_edit(name, body):
    """An extension list nested 100 deep after the sheet's data."""
    if name != "xl/worksheets/sheet1.xml":
        return body
    return body.replace(b"</sheetData>", b"</sheetData><extLst>" + b"<x>" * 100 + b"</x>" * 100
                        + b"</extLst>")


def _attributes_edit(name, body):
    """A cell whose start tag carries 20,000 attributes (held whole by an XML parser)."""
    if name != "xl/worksheets/sheet1.xml":
        return body
    attrs = b" ".join(b'a%d="1"' % i for i in range(20_000))
    return body.replace(b'<c r="A2"', b'<c ' + attrs + b' r="A2"', 1)


def _corner_cells_edit(name, body):
    """One more value at ALL90000: the used range becomes 90,000 rows x 1,000 columns."""
    if name != "xl/worksheets/sheet1.xml":
        return body
    return body.replace(b"</sheetData>",
                        b'<row r="90000"><c r="ALL90000" t="n"><v>1</v></c></row></sheetData>')


def _identical_rows(n: int) -> bytes:
    """A header and ``n`` copies of one row, the rows without r= attributes (which
    OOXML allows): about 10 MB of XML that deflates to a few tens of kilobytes."""
    def edit(name, body):
        if name != "xl/worksheets/sheet1.xml":
            return body
        head, _, rest = body.partition(b"<sheetData>")
        header = rest.partition(b"</row>")[0] + b"</row>"
        row = (b'<row><c t="inlineStr"><is><t>\xe5\x8c\xba\xe5\xba\x94\xe6\x80\xa5\xe5\xb1\x80'
               b'</t></is></c><c t="inlineStr"><is><t>2024-04</t></is></c><c><v>3</v></c>'
               b'<c><v>40</v></c></row>')
        return head + b"<sheetData>" + header + row * n + b"</sheetData></worksheet>"
    return xlsx_bytes({"Sheet1": [["单位", "期间", "重大事故隐患排查数", "一般隐患排查数"]]},
                      edit=edit)


@dataclass(frozen=True)
class Entry:
    name: str
    what: str          # what is wrong with the file (one line)
    outcome: str       # clean | rejects | error
    expect: str        # phrase in the error line, a reject reason, or ingest's output
    build: Callable[[], bytes]


def _u(text: str, enc: str = "utf-8") -> Callable[[], bytes]:
    return lambda: text.encode(enc)


def _merged_header_rows():
    title = ["2024年4月安全生产治本攻坚调度表"] + [None] * 5
    top = ["单位", "单位类型", "重大事故隐患", None, "一般隐患", None]
    sub = [None, None, "排查数", "整改数", "排查数", "整改数"]
    body = [[r[0], r[1], *map(int, r[3:])] for r in ROWS]
    return [title, top, sub, *body]


def _ledger_rows():
    return [
        LEDGER_HEADER,
        ["H001", "区应急局", "工贸", 45383, "2024.4.5", "部门检查", "是", "已整改", "2024/4/20"],
        ["H002", "花溪街道", "建筑施工", "2024/4/8", "2024年4月9日", "企业自查", "是", "整改中", None],
        ["H003", "巴源公司", "消防", "2024年4月10日", 45393, "部门检查", "是", "已整改", 45400],
    ]


CORPUS: list[Entry] = [
    # ---- clear errors: exit status 2, one line naming the file
    Entry("empty.csv", "zero bytes", "error", "file is empty", _u("")),
    Entry("blank_lines.csv", "only blank lines and separators", "error", "file is empty",
          _u("\n,,,\n \n,,\n")),
    Entry("header_only.csv", "a header row and no data rows", "error", "no data rows",
          _u(csv_text(HEADER, []))),
    Entry("no_header.csv", "a memo in prose, no recognisable header row", "error",
          "no recognisable header", _u("关于报送4月份数据的说明\n本月数据见附件。\n请各单位按时报送。\n")),
    Entry("no_unit_column.csv", "figures and periods but no 单位 column", "error", "no unit column",
          _u(csv_text(HEADER[2:], [r[2:] for r in ROWS]))),
    Entry("no_indicator_column.csv", "单位 and 期间 only, no indicator column", "error",
          "no indicator column", _u(csv_text(["单位", "期间", "联系人"],
                                              [["区应急局", "2024-04", "张三"]]))),
    Entry("no_period.csv", "no 期间 column and no period in a title, sheet or file name", "error",
          "no period", _u(csv_text(HEADER[:2] + HEADER[3:], [r[:2] + r[3:] for r in ROWS]))),
    Entry("report.pdf", "wrong extension: a PDF, not a table", "error", "unsupported file type",
          _u("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")),
    Entry("truncated.xlsx", "an XLSX cut off half way (interrupted download)", "error",
          "not a readable", lambda: xlsx_bytes({"Sheet1": [HEADER, *ROWS]})[:1500]),
    Entry("corrupt.xlsx", "zip signature followed by garbage", "error", "not a readable",
          lambda: b"PK\x03\x04" + bytes(range(256)) * 8),
    Entry("docx_renamed.xlsx", "a zip that is not a workbook (a Word file renamed .xlsx)", "error",
          "not a readable", lambda: _zip({"[Content_Types].xml": b"<Types/>",
                                          "word/document.xml": b"<w:document/>"})),
    Entry("zip_bomb.xlsx", "1.2 million rows, 31 MB of XML deflated ~700:1 (a zip bomb)",
          "error", "zip bomb", lambda: xlsx_bytes({"Sheet1": [HEADER, *ROWS]},
                                                   edit=_bomb_edit(1_200_000))),
    Entry("huge_sheet.xlsx", "claims A1:XFD1048576 and has a value in its last cell", "error",
          "limit", lambda: xlsx_bytes({"Sheet1": [HEADER, *_num(ROWS)]}, edit=_corner_edit)),
    Entry("xml_entities.xlsx", "sheet XML declaring entities: billion laughs and file:///etc/passwd",
          "error", "entities are not allowed", lambda: xlsx_bytes({"Sheet1": [HEADER, *_num(ROWS)]},
                                                          edit=_entities_edit)),
    Entry("all_empty_sheets.xlsx", "a workbook whose sheets are all empty", "error",
          "every sheet is empty", lambda: xlsx_bytes({"Sheet1": [], "Sheet2": []})),
    Entry("only_hidden.xlsx", "the only sheet with data is hidden", "error", "hidden",
          lambda: xlsx_bytes({"说明": [], "数据": [HEADER, *_num(ROWS)]}, hidden=("数据",))),
    Entry("binary.csv", "a PNG image named .csv", "error", "binary",
          lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
    Entry("nul_bytes.csv", "a CSV with NUL bytes inside (a damaged save)", "error", "binary",
          _u(csv_text(HEADER, ROWS).replace("花溪", "花\x00\x00溪"))),
    Entry("html_as.xls", "an HTML page saved as .xls (web system export)", "error", "HTML",
          _u("<html><body><table><tr><td>单位</td><td>重大事故隐患排查数</td></tr>"
             "<tr><td>区应急局</td><td>3</td></tr></table></body></html>")),
    # ---- rows or cells rejected: exit 0, reject records naming file, row and column
    Entry("negative_values.csv", "negative figures", "rejects", "negative value",
          _u(csv_text(HEADER, [ROWS[0], ["花溪街道", "镇街", "2024-04", "-1", "1", "25", "−3"]]))),
    Entry("absurd_values.csv", "overflowing, fractional-count and absurdly large figures",
          "rejects", "implausible",
          _u(csv_text(HEADER, [ROWS[0], ["花溪街道", "镇街", "2024-04", "1e400", "1", "2.5", "1"],
                               ["巴源公司", "国有公司", "2024-04", "0", "0", "12", "9" * 15]]))),
    Entry("text_in_numbers.csv", "prose, malformed Chinese numerals and Excel errors in figures",
          "rejects", "not a number",
          _u(csv_text(HEADER, [["区应急局", "部门", "2024-04", "见附件", "三三", "#DIV/0!", "12项目"],
                               ROWS[1]]))),
    Entry("duplicate_unit_period.csv", "one unit twice in a period with different figures",
          "rejects", "different figures",
          _u(csv_text(HEADER, [ROWS[0], ROWS[1], ["区应急局", "部门", "2024-04", "5", "2", "40", "38"]]))),
    Entry("duplicate_identical.csv", "a row pasted twice", "rejects", "identical",
          _u(csv_text(HEADER, [ROWS[0], ROWS[1], ROWS[1]]))),
    Entry("missing_unit.csv", "a data row with no unit name", "rejects", "no unit name",
          _u(csv_text(HEADER, [ROWS[0], ["", "镇街", "2024-04", "1", "1", "2", "2"]]))),
    Entry("bad_periods.csv", "periods 2024-13, 1899-04 (outside the years read) and 上月",
          "rejects", "unreadable period",
          _u(csv_text(HEADER, [ROWS[0], ["花溪街道", "镇街", "2024-13", "1", "1", "2", "2"],
                               ["巴源公司", "国有公司", "1899-04", "0", "0", "1", "1"],
                               ["七星区", "县(市、区)", "上月", "0", "0", "1", "1"]]))),
    Entry("bad_basis.csv", "口径 neither 当期 nor 累计", "rejects", "口径",
          _u(csv_text(HEADER[:3] + ["口径"] + HEADER[3:],
                      [ROWS[0][:3] + ["当期"] + ROWS[0][3:], ROWS[1][:3] + ["半年"] + ROWS[1][3:]]))),
    Entry("cumulative_fell.csv", "a 累计 series that goes down", "rejects", "cumulative figure fell",
          _u(csv_text(["单位", "期间", "口径", "一般隐患排查数"],
                      [["区应急局", "2024-03", "累计", "40"], ["区应急局", "2024-04", "累计", "35"]]))),
    Entry("unit_mismatch.csv", "5人 typed under 罚款 (万元)", "rejects", "does not fit",
          _u(csv_text(["单位", "期间", "行政处罚", "罚款"],
                      [["区应急局", "2024-04", "3", "5人"], ["花溪街道", "2024-04", "1", "0.2万元"]]))),
    Entry("bad_unit_type.csv", "单位类型 not one of the four types", "rejects", "unit type",
          _u(csv_text(HEADER, [ROWS[0], ["花溪街道", "乡村", *ROWS[1][2:]]]))),
    Entry("unknown_indicator_long.csv", "long form with an indicator not in the catalogue",
          "rejects", "unknown indicator",
          _u(csv_text(["单位", "期间", "指标", "数值"],
                      [["区应急局", "2024-04", "重大事故隐患排查数", "3"],
                       ["区应急局", "2024-04", "无人机巡查架次", "7"]]))),
    Entry("unclosed_quote.csv", "an unclosed quote swallows the following lines", "rejects",
          "unreadable period",
          _u(csv_text(HEADER, [ROWS[0], ["花溪街道", "镇街", '"2024-04', "1", "1", "2", "2"],
                               ROWS[2]]))),
    Entry("ledger_dates.csv", "ledger: rectified before found, impossible date, blank found date",
          "rejects", "before",
          _u(csv_text(LEDGER_HEADER,
                      [["H1", "区应急局", "工贸", "2024-04-10", "2024-04-11", "部门检查", "是", "已整改",
                        "2024-04-02"],
                       ["H2", "区应急局", "工贸", "2024-02-30", "2024-03-01", "部门检查", "是", "整改中", ""],
                       ["H3", "花溪街道", "消防", "", "2024-04-11", "企业自查", "是", "整改中", ""],
                       ["H4", "花溪街道", "消防", "2024-04-03", "2024-04-04", "企业自查", "是", "整改中", ""]]))),
    Entry("exposure_bad.csv", "exposure with a negative and a textual enterprise count", "rejects",
          "negative value",
          _u(csv_text(["单位", "监管企业数"], [["区应急局", "120"], ["花溪街道", "-4"], ["巴源公司", "若干"]]))),
    Entry("formula_uncached.xlsx", "formulas never calculated (no cached value in the file)",
          "rejects", "no cached value",
          lambda: xlsx_bytes({"2024年4月": [HEADER, *_num(ROWS[:2]),
                                           ["巴源公司", "国有公司", "2024-04", "=D2-D3", 0, "=F2-F3", 11]]})),
    Entry("excel_errors.xlsx", "cells holding Excel errors #REF! and #DIV/0!", "rejects",
          "not a number",
          lambda: xlsx_bytes({"2024年4月": [HEADER, *_num(ROWS[:2]),
                                           ["巴源公司", "国有公司", "2024-04", "#REF!", 0, "#DIV/0!", 11]]})),

    # ---- awkward but readable: exit 0, no reject record
    Entry("gbk.csv", "saved by Excel on Chinese Windows: GBK, no BOM", "clean", "3 clean",
          _u(csv_text(HEADER, ROWS), "gbk")),
    Entry("gb18030_rare.csv", "GB18030 with a unit name outside GBK (𠀾家镇)", "clean", "3 clean",
          _u(csv_text(HEADER, [ROWS[0], ROWS[1], ["𠀾家镇", "镇街", *ROWS[2][2:]]]), "gb18030")),
    Entry("utf8_bom.csv", "UTF-8 with a byte-order mark", "clean", "3 clean",
          _u(csv_text(HEADER, ROWS), "utf-8-sig")),
    Entry("utf16_tab.txt", "Excel 'Unicode text': UTF-16 with BOM, tab-separated", "clean",
          "3 clean", _u(csv_text(HEADER, ROWS, sep="\t"), "utf-16")),
    Entry("xlsx_named.csv", "an XLSX workbook named .csv (type detected from content)", "clean",
          "3 clean", lambda: xlsx_bytes({"2024年4月": [HEADER, *_num(ROWS)]})),
    Entry("real.xls", "Excel 97-2003 .xls (BIFF8) with title row and no period column", "clean",
          "3 clean", lambda: xls_bytes([["2024年4月调度表"], HEADER[:2] + HEADER[3:],
                                       *[r[:2] + [int(v) for v in r[3:]] for r in ROWS]])),
    Entry("merged_header.xlsx", "title row, two-row merged header (重大事故隐患 over 排查数|整改数)",
          "clean", "3 clean",
          lambda: xlsx_bytes({"Sheet1": _merged_header_rows()},
                             merges={"Sheet1": ["A1:F1", "A2:A3", "B2:B3", "C2:D2", "E2:F2"]})),
    Entry("formula_cached.xlsx", "a 合计 row of formulas with cached values", "clean",
          "totals rows",
          lambda: xlsx_bytes({"2024年4月": [HEADER, *_num(ROWS),
                                           ["合计", None, None, "=SUM(D2:D4)", "=SUM(E2:E4)",
                                            "=SUM(F2:F4)", "=SUM(G2:G4)"]]},
                             edit=_cache_formulas({"D5": "4", "E5": "3", "F5": "77", "G5": "74"}))),
    Entry("hidden_scratch.xlsx", "a hidden scratch sheet next to the data sheet", "clean",
          "hidden sheet", lambda: xlsx_bytes({"数据": [HEADER, *_num(ROWS)],
                                              "草稿": [["单位", "重大事故隐患排查数"], ["x", 1]]},
                                             hidden=("草稿",))),
    Entry("ledger_mixed_dates.xlsx", "ledger dates as Excel serials, 2024.4.5, 2024/4/5, 2024年4月5日",
          "clean", "ledger", lambda: xlsx_bytes({"台账": _ledger_rows()})),
    Entry("serial_periods.xlsx", "期间 as Excel serial numbers without a date format (45383)",
          "clean", "3 clean",
          lambda: xlsx_bytes({"Sheet1": [HEADER, *[[r[0], r[1], 45383, *map(int, r[3:])]
                                                   for r in ROWS]]})),
    Entry("fullwidth_approx.csv", "full-width digits, 余/多, 项 suffixes and dashes", "clean",
          "3 clean", _u(csv_text(HEADER, [["区应急局", "部门", "２０２４年４月", "３", "2项", "40余", "38"],
                                          ["花溪街道", "镇街", "2024年4月", "1", "1", "25多", "—"],
                                          ["巴源公司", "国有公司", "2024.4", "0", "0", "十二", ""]]))),
    Entry("notes_and_titles.csv", "title rows above the header, 注 and 填报人 rows below", "clean",
          "3 clean", _u("2024年4月安全生产治本攻坚行动调度表\n填报单位：区安委办\n"
                        + csv_text(HEADER, ROWS) + "注：数据截至4月24日。\n填报人：张三\n")),
    Entry("injection_names.csv", "unit names that are formulas or HTML (=, +, -, @, <script>)",
          "clean", "5 clean",
          _u(csv_text(["单位", "期间", "重大事故隐患排查数"],
                      [['"=HYPERLINK(""http://x.example"",""点我"")"', "2024-04", "1"],
                       ["+1+1", "2024-04", "2"], ["-2+3", "2024-04", "3"], ["@SUM(A1)", "2024-04", "4"],
                       ["<script>alert(1)</script>", "2024-04", "5"]]))),
    Entry("duplicate_columns.csv", "the same indicator in two columns (the second is not read)",
          "clean", "second column for the same indicator",
          _u(csv_text(HEADER + ["重大隐患排查数"], [r + ["9"] for r in ROWS]))),
    Entry("unit_aliases.csv", "区应急局 written 应急局 (a known alias); 花溪街道办 (a likely alias)",
          "clean", "likely alias",
          _u(csv_text(HEADER, [["应急局", "部门", *ROWS[0][2:]], ROWS[1], ROWS[2],
                               ["花溪街道办", "镇街", "2024-05", "1", "1", "2", "2"]]))),
    # ---- issue 19: nothing misattributed, bounded resources, clear messages
    Entry("numeric_periods.xlsx", "期间 typed 2024.07 ... 2024.12 into General number cells: "
          "2024.10 is stored as 2024.1", "rejects", "ambiguous period",
          lambda: _formatted(_dotted_rows(), {})),
    Entry("numeric_periods_formatted.xlsx", "the same periods with the number format 0.00, which "
          "shows 2024.10", "clean", "6 clean", lambda: _formatted(_dotted_rows(), {"C": "0.00"})),
    Entry("dotted_periods.csv", "2024.07 ... 2024.12 as Excel saves number cells to CSV (2024.1 "
          "for October)", "rejects", "ambiguous period",
          _u(csv_text(HEADER, [["区应急局", "部门", f"{p:g}" if p != 2024.07 and p != 2024.08
                                and p != 2024.09 else f"{p:.2f}", "1", "1", "2", "2"]
                               for p in DOTTED]))),
    Entry("dotted_periods_text.csv", "2024.1, 2024.2 and 2024.10 typed as text (2024.10 shows "
          "the periods are text)", "clean", "3 clean",
          _u(csv_text(HEADER, [["区应急局", "部门", p, "1", "1", "2", "2"]
                               for p in ("2024.1", "2024.2", "2024.10")]))),
    Entry("gbk_with_utf8_line.csv", "a GBK file with one line pasted in UTF-8 (read as GB18030 "
          "it is mojibake: 闈掔煶…)", "rejects", "UTF-8 text in a GB18030/GBK file",
          lambda: (csv_text(HEADER, ROWS[:1]).encode("gbk") + csv_text([], ROWS[1:2])
                   .lstrip("\n").encode("utf-8") + csv_text([], ROWS[2:]).lstrip("\n").encode("gbk"))),
    Entry("utf8_with_gbk_line.csv", "a UTF-8 file with one line pasted in GBK", "rejects",
          "GB18030 text in a UTF-8 file",
          lambda: (csv_text(HEADER, ROWS[:2]).encode("utf-8")
                   + csv_text([], ROWS[2:]).lstrip("\n").encode("gbk"))),
    Entry("truncated_last_row.csv", "a save cut short: the last row ends after its period", "rejects",
          "truncated", _u(csv_text(HEADER, ROWS)[:-len(",0,0,12,11\n")])),
    Entry("truncated_multibyte.csv", "a GBK file cut in the middle of a character on its last line",
          "rejects", "cut short", lambda: csv_text(HEADER, ROWS).encode("gbk")[:-13]),
    Entry("duplicates_3000.csv", "one unit and period 3,000 times with different figures (was "
          "quadratic: over 5 GB)", "rejects", "reported 3000 times",
          _u(csv_text(["单位", "期间", "重大事故隐患排查数"],
                      [["区应急局", "2024-04", str(i)] for i in range(3000)]))),
    Entry("identical_60k.xlsx", "60,000 identical rows (was MemoryError: 26.8 GiB)", "rejects",
          "duplicate of row 2 (identical)", lambda: _identical_rows(60_000)),
    Entry("no_dimension.xlsx", "two sheets without <dimension> (openpyxl parsed each whole to "
          "size it)", "clean", "3 clean",
          lambda: xlsx_bytes({"2024年4月": [HEADER, *_num(ROWS)],
                              "2024年5月": [HEADER, *_num([r[:2] + ["2024-05"] + r[3:]
                                                            for r in ROWS])]},
                             edit=_no_dimension)),
    Entry("deep_nesting.xlsx", "sheet XML nested 100 elements deep", "error", "nested more than",
          lambda: xlsx_bytes({"Sheet1": [HEADER, *_num(ROWS)]}, edit=_nesting_edit)),
    Entry("many_attributes.xlsx", "a cell tag with 20,000 attributes", "error",
          "quote characters", lambda: xlsx_bytes({"Sheet1": [HEADER, *_num(ROWS)]},
                                                  edit=_attributes_edit)),
    Entry("corner_cells.xlsx", "a stray value at ALL90000: a used range of 90 million cells",
          "error", "cells (rows x columns", lambda: xlsx_bytes({"Sheet1": [HEADER, *_num(ROWS)]},
                                                               edit=_corner_cells_edit)),
    Entry("control_chars.csv", "unit names holding BEL and an ESC colour sequence", "clean",
          "control characters removed",
          _u(csv_text(HEADER, [["\x1b[31m区应急局\x1b[0m", *ROWS[0][1:]],
                               ["花溪街道\x07", *ROWS[1][1:]], ROWS[2]]))),
    Entry("cr_only.csv", "old Mac line ends (CR only), GBK", "clean", "CR (old Mac) line ends",
          _u(csv_text(HEADER, ROWS).replace("\n", "\r"), "gbk")),
    Entry("semicolon.csv", "semicolon-separated (European Excel)", "clean",
          "semicolon-separated (;)", _u(csv_text(HEADER, ROWS, sep=";"))),
]


# ---------------------------------------------------------------------------
# Cases too large for the repository (or special files): generated at test time.


@dataclass(frozen=True)
class Generated:
    name: str
    what: str
    outcome: str       # clean | rejects | error, as for CORPUS
    expect: str
    build: Callable[[Path], None]      # makes the case at this path


def _repeated_zip(members: dict) -> bytes:
    """A ZIP of ``members`` {name: bytes, or (head, chunk, times, tail)}: a tuple is
    ``head + chunk * times + tail``, compressed without ever being built: the chunk is
    deflated once, ending in a full flush (byte-aligned, no back-references across
    it), so its compressed bytes can be repeated ``times`` times.  Written by hand
    (local headers, central directory), with fixed dates; no ZIP64 (parts < 4 GB)."""
    import struct
    import zlib

    def deflated(data: bytes) -> bytes:
        if not data:
            return b""
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        return co.compress(data) + co.flush(zlib.Z_FULL_FLUSH)

    out, central = io.BytesIO(), []
    dos_time = (FIXED_ZIP_DATE[3] << 11) | (FIXED_ZIP_DATE[4] << 5) | (FIXED_ZIP_DATE[5] // 2)
    dos_date = ((FIXED_ZIP_DATE[0] - 1980) << 9) | (FIXED_ZIP_DATE[1] << 5) | FIXED_ZIP_DATE[2]
    for name, body in members.items():
        head, chunk, times, tail = (body, b"", 0, b"") if isinstance(body, bytes) else body
        crc = zlib.crc32(head)
        for _ in range(times):
            crc = zlib.crc32(chunk, crc)
        crc = zlib.crc32(tail, crc)
        comp = deflated(head) + deflated(chunk) * times + deflated(tail) + b"\x03\x00"
        size = len(head) + len(chunk) * times + len(tail)
        offset = out.tell()
        fname = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, dos_time, dos_date, crc,
                              len(comp), size, len(fname), 0) + fname + comp)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, dos_time,
                                   dos_date, crc, len(comp), size, len(fname), 0, 0, 0, 0,
                                   0o644 << 16, offset) + fname)
    start = out.tell()
    out.write(b"".join(central))
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                          out.tell() - start, start, 0))
    return out.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return {i.filename: z.read(i.filename) for i in z.infolist()}


def many_parts_xlsx(n_parts: int = 150, part_bytes: int = 9_900_000) -> bytes:
    """A report workbook with ``n_parts`` more parts of ``part_bytes`` each, every one
    under the per-part bomb limit (10 MB), together far past the budget."""
    members = _members(xlsx_bytes({"Sheet1": [HEADER, *_num(ROWS)]}))
    chunk = b"<row><c><v>1</v></c></row>" * 40_000      # 1 MB, deflated once
    for k in range(n_parts):
        members[f"xl/worksheets/pad{k}.xml"] = (b"<worksheet><sheetData>", chunk,
                                                part_bytes // len(chunk),
                                                b"</sheetData></worksheet>")
    return _repeated_zip(members)


def hidden_part_xlsx(part_bytes: int = 1_200_000_000, ratio_row: bool = True,
                     cells: bool = True) -> bytes:
    """A report workbook with a hidden second sheet of ``part_bytes`` of XML.  With
    ``ratio_row`` the rows vary (about 61:1 deflated, under the per-part bomb
    limit); with ``cells`` False the rows hold styled blank cells, no data."""
    members = _members(xlsx_bytes({"数据": [HEADER, *_num(ROWS)], "隐藏": [["x"]]},
                                  hidden=("隐藏",)))
    digits = bytes(range(0x30, 0x3a))
    if cells:
        row = b"".join(b'<row><c t="inlineStr"><is><t>' + bytes([digits[(7 * i) % 10]]) * 3
                       + b"</t></is></c></row>" for i in range(200)) if ratio_row \
            else b"<row><c><v>1</v></c></row>"
    else:      # styled blank cells: no data at all, the styles varied like the digits
        row = b"".join(b'<row><c s="%d"/><c s="%d"/><c s="%d"/></row>'
                       % (digits[(7 * i) % 10] - 48, digits[(3 * i) % 10] - 48, i % 7)
                       for i in range(200))
    # deflated once, repeated: the 200 varied rows alone keep the ratio under 100:1
    chunk = row if ratio_row else row * max(1, 65536 // len(row))
    members["xl/worksheets/sheet2.xml"] = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>", chunk, part_bytes // len(chunk), b"</sheetData></worksheet>")
    return _repeated_zip(members)


def sheets_xlsx(n_sheets: int = 200, rows_per_sheet: int = 20) -> bytes:
    """``n_sheets`` report sheets without <dimension>, distinct units on each."""
    sheets = {f"S{k}": [HEADER] + [[f"单位{k}-{i}", "镇街", "2024-04", 1, 1, 2, 2]
                                    for i in range(rows_per_sheet)] for k in range(n_sheets)}
    return xlsx_bytes(sheets, edit=_no_dimension)


def many_units_csv(n_units: int = 20_000, n_aliases: int = 50) -> bytes:
    """``n_units`` distinct unit names (pseudo-random, seeded), ``n_aliases`` of which
    come back with 办 added (a likely alias each)."""
    import random
    rng = random.Random(19)
    chars = [chr(0x4E00 + i) for i in range(0, 20000, 7)]
    names = set()
    while len(names) < n_units - n_aliases:
        names.add("".join(rng.choice(chars) for _ in range(rng.randint(4, 7))) + "镇")
    names = sorted(names)
    names += [n + "办" for n in names[:n_aliases]]
    return csv_text(["单位", "期间", "重大事故隐患排查数"],
                    [[n, "2024-04", str(i % 9)] for i, n in enumerate(names)]).encode("utf-8")


def _write(data_fn):
    return lambda path: path.write_bytes(data_fn())


def _fifo(path: Path) -> None:
    import os
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


GENERATED: list[Generated] = [
    Generated("parts_150x10MB.xlsx", "150 parts of 9.9 MB each, 1.4 GB from a 3.5 MB file (each "
              "under the per-part limit)", "error", "in all, past the budget",
              _write(many_parts_xlsx)),
    Generated("hidden_part_1200MB.xlsx", "a hidden sheet of 1.2 GB of XML at 61:1 (was read whole: "
              "2.5 GB)", "error", "in all, past the budget", _write(hidden_part_xlsx)),
    Generated("sheets_200_no_dimension.xlsx", "200 sheets without <dimension> (was parsed twice "
              "each to size them)", "clean", "20 clean", _write(sheets_xlsx)),
    Generated("units_20000.csv", "20,000 distinct units, 50 with a likely alias (was a 20,000 x "
              "20,000 matrix: 2.8 GB)", "clean", "30 more likely aliases in unit_aliases.csv",
              _write(many_units_csv)),
    Generated("fifo.csv", "a FIFO (named pipe) named .csv: opening it would wait for ever",
              "error", "FIFO", _fifo),
    Generated("dev_zero.csv", "a symbolic link to /dev/zero: reading it would fill the memory",
              "error", "character device", _dev_zero),
]


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=FIXED_ZIP_DATE), body)
    return out.getvalue()


def readme() -> str:
    outcomes = {o: sum(e.outcome == o for e in CORPUS) for o in ("clean", "rejects", "error")}
    lines = [
        "# Bad and awkward inputs",
        "",
        "Built by `make_corpus.py` (deterministic); checked by `tests/test_bad_inputs.py`, which",
        "runs `anquan ingest FILE` on each and expects the outcome below: **error** = exit 2 and",
        "one line naming the file; **rejects** = exit 0, reject records with file, sheet, row and",
        "column, rows read = clean + rejected; **clean** = exit 0, no reject record. The phrase",
        "must appear in the error line, in a reject reason, or in what ingest prints.",
        "",
        f"{len(CORPUS)} files: {outcomes['clean']} clean, {outcomes['rejects']} with rejected "
        f"rows or cells, {outcomes['error']} clear errors.",
        "",
        "| file | what is wrong | outcome | phrase |",
        "|---|---|---|---|",
    ]
    for e in CORPUS:
        lines.append(f"| `{e.name}` | {e.what} | {e.outcome} | {e.expect} |")
    generated = {o: sum(e.outcome == o for e in GENERATED) for o in ("clean", "rejects", "error")}
    lines += [
        "",
        "## Generated at test time",
        "",
        "Too large for the repository, or special files: `GENERATED` in `make_corpus.py` builds",
        "each in a temporary folder, and `tests/test_bad_inputs.py` checks it the same way.",
        "`benchmarks/hostile.py` prints the time and peak memory of every case here and above.",
        "",
        f"{len(GENERATED)} cases: {generated['clean']} clean, {generated['rejects']} with rejected "
        f"rows or cells, {generated['error']} clear errors.",
        "",
        "| case | what is wrong | outcome | phrase |",
        "|---|---|---|---|",
    ]
    for e in GENERATED:
        lines.append(f"| `{e.name}` | {e.what} | {e.outcome} | {e.expect} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    for e in CORPUS:
        (HERE / e.name).write_bytes(e.build())
    (HERE / "README.md").write_text(readme(), encoding="utf-8")
    print(f"wrote {len(CORPUS)} files and README.md to {HERE}")


if __name__ == "__main__":
    main()
