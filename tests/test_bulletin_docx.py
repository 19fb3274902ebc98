"""The 通报 as a Word document (bulletin_docx, officedoc), read back with python-docx:
the layout of GB/T 9704-2012 (page, margins, fonts with their East Asian names, line
pitch, page numbers), the seeds' order of sections, the figures of 一、 against the
report's own progress table, the annex holding every unit, roster units without data
named; and the plain-table builder on a hand-made period."""

from __future__ import annotations

import datetime as dt
import re

import docx
import pandas as pd
import pytest
from conftest import LATE, ROSTER_EXTRA, ROSTER_RENAMED
from docx.oxml.ns import qn

from anquan_analysis import assessment as A
from anquan_analysis import officedoc as od
from anquan_analysis.bulletin_docx import (ANNEX_COLUMNS, annex_table, bulletin_from_assessment,
                                           bulletin_title, progress_paragraphs, title_lines,
                                           write_bulletin)
from anquan_analysis.cli import main
from anquan_analysis.draft import FORBIDDEN
from anquan_analysis.settings import Settings

PERIOD = "2024Q3"
HEADINGS = ["一、工作总体进展情况", "二、存在的主要问题", "三、下一步工作要求"]


@pytest.fixture(scope="module")
def office(office_q3):
    return office_q3


@pytest.fixture(scope="module")
def document(office, tmp_path_factory):
    path = tmp_path_factory.mktemp("bulletin") / "bulletin.docx"
    bulletin_from_assessment(office, path)
    return docx.Document(str(path)), path


def _fonts(run) -> dict:
    f = run._element.rPr.rFonts
    return {k: f.get(qn(f"w:{k}")) for k in ("ascii", "hAnsi", "eastAsia")}


def _body(doc) -> list:
    return [p for p in doc.paragraphs if p.text.strip()]


def _section(doc, start: str, end: str) -> str:
    texts = [p.text for p in doc.paragraphs]
    i, j = texts.index(start), texts.index(end)
    return "".join(texts[i + 1:j])


# -------------------------------------------------------------------------- layout
def test_page_and_margins_of_the_standard(document):
    doc, _ = document
    s = doc.sections[0]
    for got, mm in ((s.page_width, 210), (s.page_height, 297), (s.top_margin, 37),
                    (s.bottom_margin, 35), (s.left_margin, 28), (s.right_margin, 26)):
        assert got.mm == pytest.approx(mm, abs=0.05)
    grid = s._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == "579"  # 28.95 pt: 22 lines in 225 mm
    # 28 characters of 3号 (16 pt, set 0.25 pt closer) fit in the 156 mm line
    assert 28 * (16 + od.CHAR_SPACING / 20) <= (210 - 28 - 26) / 25.4 * 72 < 29 * 15.75


def test_fonts_east_asian_included(document):
    doc, _ = document
    body = _body(doc)
    title = next(p for p in body if p.text.startswith("关于"))
    run = title.runs[0]
    assert _fonts(run)["eastAsia"] == "方正小标宋简体" and run.font.size.pt == 22
    assert title.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER
    for text in HEADINGS:
        h = next(p for p in body if p.text == text)
        assert _fonts(h.runs[0]) == {"ascii": "Times New Roman", "hAnsi": "Times New Roman",
                                     "eastAsia": "黑体"}
        assert h.runs[0].font.size.pt == 16
    level2 = [p for p in body if re.match(r"（[一二三四五六七八九十]+）", p.text)]
    assert len(level2) >= 8 and all(_fonts(p.runs[0])["eastAsia"] == "楷体_GB2312"
                                    for p in level2)
    opening = next(p for p in body if p.text.startswith("2024年第三季度，全区"))
    assert _fonts(opening.runs[0]) == {"ascii": "Times New Roman", "hAnsi": "Times New Roman",
                                       "eastAsia": "仿宋_GB2312"}
    assert opening.runs[0].font.size.pt == 16
    assert opening.paragraph_format.line_spacing.pt == pytest.approx(28.95, abs=0.05)
    assert opening.paragraph_format.line_spacing_rule == docx.enum.text.WD_LINE_SPACING.EXACTLY
    # every run of the text declares its East Asian font
    assert all(_fonts(r)["eastAsia"] for p in body for r in p.runs if r.text.strip())


def test_font_table_names_the_fallbacks(document):
    _, path = document
    import zipfile

    xml = zipfile.ZipFile(path).read("word/fontTable.xml").decode("utf-8")
    for name, alt in (("仿宋_GB2312", "仿宋"), ("方正小标宋简体", "宋体"), ("楷体_GB2312", "楷体")):
        assert re.search(rf'w:name="{name}"><w:altName w:val="{alt}"/>', xml)


def test_page_numbers_odd_right_even_left(document):
    doc, _ = document
    s = doc.sections[0]
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, align in ((s.footer, "RIGHT"), (s.even_page_footer, "LEFT")):
        p = footer.paragraphs[0]
        assert p.alignment == getattr(docx.enum.text.WD_ALIGN_PARAGRAPH, align)
        assert p.text == "— 1 —"  # the field's placeholder between the dashes
        assert "PAGE" in "".join(t.text for t in p._p.iter(qn("w:instrText")))
        assert p.runs[0].font.size.pt == 14 and _fonts(p.runs[0])["eastAsia"] == "宋体"


# ------------------------------------------------------------------------- content
def test_sections_in_the_seeds_order(document):
    doc, _ = document
    texts = [p.text for p in _body(doc)]
    assert texts[0] == "示范区安全生产委员会办公室文件"
    assert texts[1] == "示安委办〔2024〕18号"  # from anquan.toml
    assert texts[2] == "关于2024年第三季度全区安全生产\n治本攻坚三年行动进展情况的通报"
    assert texts[3] == "各镇人民政府、街道办事处，区安委会各成员单位，区属国有公司："
    assert texts[4].startswith("2024年第三季度，全区各级各部门") and texts[4].endswith("通报如下：")
    order = [texts.index(h) for h in HEADINGS]
    assert order == sorted(order)
    sign = texts.index("示范区安全生产委员会办公室")
    assert texts[sign + 1] == "2024年10月15日" and texts[sign + 2] == "（此件公开发布）"
    assert texts[sign - 1] == "附件：2024年第三季度各单位重大事故隐患排查数情况排名表"
    assert sign > order[-1]
    # 附件 starts a new page: a page break just before it
    paras = doc.paragraphs
    k = next(i for i, p in enumerate(paras) if p.text == "附件")
    assert any(br.get(qn("w:type")) == "page" for br in paras[k - 1]._p.iter(qn("w:br")))
    assert k > sign


def test_progress_figures_equal_the_report_table(document, office):
    doc, _ = document
    text = _section(doc, HEADINGS[0], HEADINGS[1])
    table = A.progress_table(office)
    assert len(table) == 24
    for r in table.itertuples(index=False):
        name, unit, now, change, total = r[1], r[2], r[3], r[5], r[7]
        m = re.search(rf"{re.escape(name)}([\d.]+){unit}，比上期(增加|减少)([\d.]+){unit}，"
                      rf"截至9月底累计([\d.]+){unit}", text)
        assert m, name
        assert float(m.group(1)) == pytest.approx(now)
        sign = 1 if m.group(2) == "增加" else -1
        assert sign * float(m.group(3)) == pytest.approx(change)
        assert float(m.group(4)) == pytest.approx(total)
    assert "重大事故隐患排查数123项，比上期增加43项，截至9月底累计258项" in text
    assert "应报送调度数据的52个单位中，49个单位报送了调度数据" in text


def test_annex_holds_every_unit_and_names_the_silent_ones(document, office):
    doc, _ = document
    table = doc.tables[-1]
    header = [c.text for c in table.rows[0].cells]
    assert header[:3] == ["排名", "单位", "单位类型"] and header[3] == "本期\n（项）"
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    units = [r[1] for r in rows]
    in_period = set(office.frame.loc[office.frame["period"] == PERIOD, "unit"].astype(str))
    assert in_period <= set(units) and len(units) == len(set(units))
    assert set(office.roster["unit"]) <= set(units)
    by_unit = {r[1]: r for r in rows}
    for unit in ROSTER_EXTRA:
        assert by_unit[unit][0] == "—" and by_unit[unit][-1] == "未报送"
    assert by_unit[ROSTER_RENAMED[1]][-1] == "名称待核对"
    assert "不在单位名册" in by_unit[ROSTER_RENAMED[0]][-1]
    assert "迟报" in by_unit[LATE[0]][-1]
    # ranked first: the largest z; the annex's figures are the funnel's
    f = office.funnel.sort_values("z", ascending=False).iloc[0]
    assert rows[0][:2] == ["1", f["unit"]] and rows[0][4] == f"{f['observed']:.0f}"
    # the draft names the roster units without data, and the late one
    problems = _section(doc, HEADINGS[1], HEADINGS[2])
    assert f"{'、'.join(ROSTER_EXTRA)}2024年第三季度未报送调度数据，均已连续3个季度未报送" in problems
    assert "区水利局2024年9月调度数据于9月28日报送（规定时限为9月24日前），迟报4天" in problems
    # a name to check is no accusation: the roster's 桂花街 is not named on its own
    # (桂花街道, the data's name, is: a planted member of a balanced group)
    assert not re.search(f"{ROSTER_RENAMED[1]}(?!道)", problems)
    assert not FORBIDDEN.search(problems)


def test_bulletin_is_byte_identical_when_written_twice(office, tmp_path):
    a = bulletin_from_assessment(office, tmp_path / "a.docx")
    b = bulletin_from_assessment(office, tmp_path / "b.docx")
    assert a.read_bytes() == b.read_bytes()


# ------------------------------------------------------------ plain-table builder
def _hand_made():
    progress = pd.DataFrame({
        "行动": ["重大事故隐患动态清零", "重大事故隐患动态清零", "事故情况"],
        "指标": ["重大事故隐患排查数", "重大事故隐患整改数", "生产安全事故"],
        "计量单位": ["项", "项", "起"], "本期": [12.0, 9.0, float("nan")],
        "上期": [10.0, 9.0, 1.0], "增减": [2.0, 0.0, float("nan")],
        "增幅(%)": [20.0, 0.0, float("nan")], "累计": [30.0, 20.0, 1.0]})
    funnel = pd.DataFrame({
        "unit": ["甲镇", "乙镇", "丙局"], "unit_type": ["town", "town", "department"],
        "observed": [10.0, 0.0, 2.0], "exposure": [100.0, 50.0, float("nan")],
        "expected": [6.0, 3.0, float("nan")], "z": [1.2, -2.5, float("nan")],
        "p_low": [0.95, 0.0005, float("nan")], "upper95": [11.0, 7.0, float("nan")],
        "upper998": [14.0, 9.0, float("nan")]})
    panel = pd.DataFrame({
        "unit": ["甲镇", "乙镇", "丙局", "丁司"], "unit_type": ["town", "town", "department", "soe"],
        "period": "2024-09", "indicator": "major_hazards_found", "value": [4.0, 0.0, 1.0, 2.0]})
    findings = pd.DataFrame({
        "check": ["zero_report", "not_reported"], "family": ["outliers", "reporting"],
        "unit": ["乙镇", "戊办"], "severity": ["alert", "warning"]})
    roster = pd.DataFrame({"unit": ["甲镇", "乙镇", "丙局", "丁司", "戊办"],
                           "unit_type": ["town", "town", "department", "soe", "department"]})
    return progress, funnel, panel, findings, roster


def test_progress_sentences_by_hand():
    progress = _hand_made()[0]
    assert progress_paragraphs(progress, "2024-09") == [
        ("重大事故隐患动态清零行动", "重大事故隐患排查数12项，比上期增加2项，截至9月底累计30项；"
                             "重大事故隐患整改数9项，与上期持平，截至9月底累计20项。"),
        ("事故情况", "生产安全事故本期无报送数据，截至9月底累计1起。")]


def test_annex_by_hand():
    _, funnel, panel, findings, roster = _hand_made()
    t = annex_table(funnel, panel, "2024-09", findings=findings, roster=roster)
    assert list(t.columns) == ANNEX_COLUMNS
    assert t.values.tolist() == [
        ["1", "甲镇", "镇街", "4", "10", "6.0", "10.0", "相当", ""],
        ["2", "乙镇", "镇街", "0", "0", "3.0", "0.0", "明显偏低", "零报送"],
        ["—", "丙局", "部门", "1", "2", "—", "—", "—", ""],
        ["—", "丁司", "国有公司", "2", "—", "—", "—", "—", ""],
        ["—", "戊办", "部门", "—", "—", "—", "—", "—", "未报送"]]
    assert funnel["unit"].tolist() == ["甲镇", "乙镇", "丙局"]  # input untouched


def test_write_bulletin_from_plain_tables(tmp_path):
    progress, funnel, panel, findings, roster = _hand_made()
    annex = annex_table(funnel, panel, "2024-09", findings=findings, roster=roster)
    items = pd.DataFrame({"heading": ["部分单位未按要求报送调度数据"],
                          "body": ["戊办2024年9月未报送调度数据。"]})
    settings = Settings(issuer="某县安全生产委员会办公室", scope="全县", letterhead=False,
                        requirements=("（一）抓好落实。各单位要按时报送。", "其他要求。"))
    path = write_bulletin(tmp_path / "b.docx", period="2024-09", progress=progress,
                          items=items, annex=annex, settings=settings, units_reporting=4,
                          units_expected=5, issued=dt.date(2024, 10, 8))
    doc = docx.Document(str(path))
    texts = [p.text for p in _body(doc)]
    assert texts[0] == "关于2024年9月全县安全生产\n治本攻坚三年行动进展情况的通报"
    assert "2024年9月，应报送调度数据的5个单位中，4个单位报送了调度数据。各项行动进展情况如下：" in texts
    assert "（一）部分单位未按要求报送调度数据。戊办2024年9月未报送调度数据。" in texts
    req = next(p for p in _body(doc) if p.text.startswith("（一）抓好落实。"))
    assert [r.text for r in req.runs] == ["（一）抓好落实。", "各单位要按时报送。"]
    assert _fonts(req.runs[0])["eastAsia"] == "楷体_GB2312"
    assert _fonts(req.runs[1])["eastAsia"] == "仿宋_GB2312"
    k = texts.index("附件：2024年9月各单位重大事故隐患排查数情况排名表")
    assert texts[k - 2:k + 3] == ["（一）抓好落实。各单位要按时报送。", "其他要求。",
                                  "附件：2024年9月各单位重大事故隐患排查数情况排名表",
                                  "某县安全生产委员会办公室", "2024年10月8日"]
    assert [[c.text for c in r.cells][1] for r in doc.tables[0].rows[1:]] == [
        "甲镇", "乙镇", "丙局", "丁司", "戊办"]


def test_write_bulletin_names_a_missing_column(tmp_path):
    progress, funnel, panel, findings, roster = _hand_made()
    annex = annex_table(funnel, panel, "2024-09")
    with pytest.raises(ValueError, match="write_bulletin items: missing column 'body'"):
        write_bulletin(tmp_path / "b.docx", period="2024-09", progress=progress,
                       items=pd.DataFrame({"heading": []}), annex=annex)


def test_signature_two_characters_in_and_date_two_further():
    # 7.3.5.2: issuer 右空二字; the date's first character two right of the issuer's
    doc = od.new_document()
    od.add_signature(doc, "示范区安全生产委员会办公室", "2024年10月15日")  # 13 and 7 wide
    issuer, date = doc.paragraphs[-2:]
    right = [p._p.pPr.ind.get(qn("w:rightChars")) for p in (issuer, date)]
    assert right == ["200", "600"]  # 28 − 2 − 13 = 13 and 28 − 6 − 7 = 15: two further
    od.add_signature(doc, "县安委办", "2024年10月15日")  # the date longer: it gets 二字
    assert [p._p.pPr.ind.get(qn("w:rightChars")) for p in doc.paragraphs[-2:]] == ["700", "200"]


def test_title_lines_balanced_and_never_inside_a_number():
    title = bulletin_title("2024Q3", Settings())
    lines = title_lines(title)
    assert lines == ["关于2024年第三季度全区安全生产", "治本攻坚三年行动进展情况的通报"]
    assert title_lines("关于2024年9月全县安全生产治本攻坚三年行动进展情况的通报", breaks=(9, 15)) == [
        "关于2024年9月全县安全生产", "治本攻坚三年行动进展情况的通报"]
    assert all(od.text_width(x) <= 20 for x in lines)
    assert title_lines("关于2024年9月的通报") == ["关于2024年9月的通报"]
    annex = "2024年第三季度各单位重大事故隐患排查数情况排名表"
    assert title_lines(annex, breaks=(9, 12, len(annex) - 5)) == [
        "2024年第三季度各单位", "重大事故隐患排查数情况排名表"]
    long = "关于2024年第三季度全区重大事故隐患专项排查整治2023行动暨安全生产治本攻坚三年行动进展情况的通报"
    lines = title_lines(long)
    assert len(lines) == 3 and "".join(lines) == long
    assert all(od.text_width(x) <= 20 for x in lines) and any("2023行动" in x for x in lines)


# ---------------------------------------------------------------------- commands
def test_anquan_bulletin_writes_the_document(office_dir, tmp_path, capsys):
    assert main(["bulletin", "--period", "2024年9月", "--data", str(office_dir),
                 "--output", str(tmp_path)]) == 0
    path = tmp_path / "2024-09" / "bulletin.docx"
    assert f"wrote {path}" in capsys.readouterr().out
    doc = docx.Document(str(path))
    assert doc.paragraphs[0].text == "" and any(
        p.text == "关于2024年9月全区安全生产\n治本攻坚三年行动进展情况的通报" for p in doc.paragraphs)
    problems = _section(doc, HEADINGS[1], HEADINGS[2])
    assert "云雾镇" in problems  # no September rows: 未报送 this month
    assert not FORBIDDEN.search(problems)
