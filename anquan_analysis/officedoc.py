"""The official document layout of GB/T 9704-2012 (党政机关公文格式) with python-docx:
page, fonts, the kinds of paragraph a 通报 is made of, page numbers, tables.

* A4; 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm (so bottom 35 mm, right 26 mm).
* 22 lines of 28 characters a page: 3号 (16 pt) characters on a fixed line pitch of
  225 mm / 22 = 28.95 pt (the line grid, ``w:docGrid`` linePitch 579 twips), set
  0.25 pt closer than their size (``w:spacing`` −5 twentieths in the document
  defaults), so that 28 fit into 156 mm.  Not a character grid (linesAndChars,
  charSpace −849, as some templates have): LibreOffice gives every 3号 character two
  cells of such a grid, 14 characters a line.
* Title 2号 方正小标宋简体; body 3号 仿宋_GB2312; level-1 headings 黑体, level-2
  楷体_GB2312; figures and Latin letters Times New Roman.  Every run declares its
  East Asian font (``w:eastAsia``), which Word and WPS use for Chinese text, and the
  font table names the font to use where the official one is not installed
  (``w:altName``: 仿宋_GB2312 → 仿宋, 方正小标宋简体 → 宋体, 楷体_GB2312 → 楷体).
* Page numbers "— 1 —" in 4号 宋体, odd pages right and even pages left, one
  character in from the edge of the text block, 7 mm below it.

Only layout lives here; what the 通报 says is in ``bulletin_docx``.
"""

from __future__ import annotations

import copy

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT, WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}
LINE_PITCH = Pt(28.95)            # 225 mm / 22 lines
GRID = {"w:type": "lines", "w:linePitch": "579"}
CHAR_SPACING = -5                 # twentieths of a point: 28 × (16 − 0.25) pt ≤ 156 mm
FOOTER_DISTANCE = Mm(24)          # the page number's line sits 7 mm below the text block
SIZES = {"二号": Pt(22), "三号": Pt(16), "四号": Pt(14), "小四": Pt(12), "五号": Pt(10.5)}
LATIN = "Times New Roman"
# East Asian font of each kind of text, and the installed font Word takes without it.
FONTS = {
    "title": ("方正小标宋简体", "宋体"),
    "body": ("仿宋_GB2312", "仿宋"),
    "heading1": ("黑体", "SimHei"),
    "heading2": ("楷体_GB2312", "楷体"),
    "page_number": ("宋体", "SimSun"),
}
RED = RGBColor(0xFF, 0x00, 0x00)
# The order of a paragraph's properties in the schema (ECMA-376 CT_PPr): Word
# refuses a document whose elements are out of it.
_PPR_ORDER = ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr",
              "w:widowControl", "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd",
              "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
              "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
              "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
              "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
              "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
              "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def _set_property(paragraph, tag: str, **attrs):
    """Put the paragraph property ``tag`` (replacing one already there) in its place
    in the schema's order; returns the element."""
    ppr = paragraph._p.get_or_add_pPr()
    for old in ppr.findall(qn(tag)):
        ppr.remove(old)
    el = OxmlElement(tag)
    for k, v in attrs.items():
        el.set(qn(k), v)
    ppr.insert_element_before(el, *_PPR_ORDER[_PPR_ORDER.index(tag) + 1:])
    return el


# ------------------------------------------------------------------------ runs
def set_fonts(run, kind: str = "body", *, size=None, bold: bool = False, color=None,
              latin: str = LATIN) -> None:
    """The fonts of ``run``: ``FONTS[kind]`` for East Asian text (``w:eastAsia``),
    ``latin`` for figures and Latin letters (``w:ascii``, ``w:hAnsi``, ``w:cs``)."""
    east = FONTS[kind][0]
    run.font.name = latin
    run.font.size = size or SIZES["三号"]
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east)
    fonts.set(qn("w:hint"), "eastAsia")


def _line_spacing(paragraph, pitch=LINE_PITCH) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = pitch
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


CHAR_WIDTH_TWIPS = int((16 + CHAR_SPACING / 20) * 20)  # one 3号 character as set: 315


def _indent_chars(paragraph, **chars) -> None:
    """Indents in characters (``first_line=2`` is 首行缩进二字), written both as Word's
    ``w:firstLineChars`` etc. (hundredths of a character) and in twips (one 3号
    character as set), which LibreOffice reads."""
    ind = paragraph._p.get_or_add_pPr().get_or_add_ind()
    names = {"first_line": "firstLine", "left": "left", "right": "right", "hanging": "hanging"}
    for key, value in chars.items():
        ind.set(qn(f"w:{names[key]}Chars"), str(int(round(value * 100))))
        ind.set(qn(f"w:{names[key]}"), str(int(round(value * CHAR_WIDTH_TWIPS))))


def _outline(paragraph, level: int) -> None:
    """Outline level (0 = 一、, 1 = （一）): the headings show in Word's navigation pane."""
    _set_property(paragraph, "w:outlineLvl", **{"w:val": str(level)})


# ------------------------------------------------------------------ paragraphs
def add_text(doc, parts, *, align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line: float = 2,
             pitch=LINE_PITCH, grid: bool = True, **indent):
    """A paragraph of runs: ``parts`` is a text (body font) or a list of (text, kind)
    pairs, kind a key of ``FONTS`` or (kind, size).  首行缩进 ``first_line``
    characters; further indents in characters (left, right, hanging).  ``grid``:
    False for text not in 3号 (see ``no_grid``)."""
    p = doc.add_paragraph()
    p.alignment = align
    _line_spacing(p, pitch)
    if not grid:
        no_grid(p)
    if first_line or indent:
        _indent_chars(p, **({"first_line": first_line} if first_line else {}), **indent)
    for text, kind in ([(parts, "body")] if isinstance(parts, str) else parts):
        kind, size = kind if isinstance(kind, tuple) else (kind, None)
        set_fonts(p.add_run(text), kind, size=size)
    return p


def add_title(doc, lines: list[str]):
    """The title: 2号 方正小标宋简体, centred; ``lines`` are its lines, broken by hand
    as the standard asks (a line break between them, one paragraph)."""
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _line_spacing(p, Pt(35))
    no_grid(p)
    for i, line in enumerate(lines):
        run = p.add_run(line)
        set_fonts(run, "title", size=SIZES["二号"])
        if i < len(lines) - 1:
            run.add_break()
    return p


def add_heading(doc, text: str, level: int = 1):
    """一、… in 黑体 (level 1) or （一）… in 楷体_GB2312 (level 2), 3号, 首行缩进二字."""
    p = add_text(doc, [(text, "heading1" if level == 1 else "heading2")])
    _outline(p, level - 1)
    return p


def add_blank(doc, n: int = 1) -> None:
    """``n`` empty lines of the grid."""
    for _ in range(n):
        add_text(doc, "", first_line=0)


def add_page_break(doc) -> None:
    """What follows starts on a new page (附件 另面编排)."""
    p = doc.add_paragraph()
    _line_spacing(p)
    p.add_run().add_break(WD_BREAK.PAGE)


def add_red_rule(paragraph) -> None:
    """The red separating line of the 版头, as the bottom border of ``paragraph``,
    4 mm below it (``w:space`` in points)."""
    pbdr = _set_property(paragraph, "w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in {"w:val": "single", "w:sz": "12", "w:space": "11", "w:color": "FF0000"}.items():
        bottom.set(qn(k), v)
    pbdr.append(bottom)


def text_width(text: str) -> float:
    """Width in characters: a Chinese character 1, a digit or Latin letter ½."""
    return sum(0.5 if ord(c) < 0x2E80 else 1.0 for c in text)


def add_signature(doc, issuer: str, date_text: str) -> None:
    """发文机关署名 and 成文日期 of a document without a seal (GB/T 9704 7.3.5.2): the
    issuer 右空二字, the date on the next line with its first character two
    characters right of the issuer's; when the date is the longer, the date 右空二字
    and the issuer as much further in as that takes.  Widths by ``text_width``."""
    wi, wd = text_width(issuer), text_width(date_text)
    if wd + 2 <= wi:
        right_issuer, right_date = 2.0, 2.0 + wi - 2 - wd
    else:
        right_date, right_issuer = 2.0, 4.0 + wd - wi
    for text, right in ((issuer, right_issuer), (date_text, right_date)):
        add_text(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT, first_line=0, right=right)


# ---------------------------------------------------------------------- tables
def add_table(doc, frame, *, widths_mm, size=SIZES["五号"], header_kind: str = "heading1",
              align=None):
    """``frame`` as a ruled table: the header row in ``header_kind`` (repeated on
    every page; a ``\n`` in a column name breaks its line), the cells in the body
    font at ``size``, rows not split across pages.  ``widths_mm``: one per column;
    ``align``: one per column ("left", "center", "right"; default centred).

    The first data row is laid out through python-docx and every other row is a copy
    of its XML with the texts replaced: cell by cell through python-docx, a city's
    fifty-odd units took 0.4 s of CPU (a province's thousands, minutes)."""
    cols = len(frame.columns)
    table = doc.add_table(rows=2, cols=cols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    aligns = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
              "right": WD_ALIGN_PARAGRAPH.RIGHT}
    align = align or ["center"] * cols
    pitch = Pt(float(size.pt) * 1.5)
    for j, column in enumerate(table.columns):  # the grid (w:gridCol), which LibreOffice reads
        column.width = Mm(widths_mm[j])
    # narrow cell margins (1 mm, not Word's 1.9 mm): nine columns in 156 mm
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(int(Mm(1).twips)))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tbl_pr = table._tbl.tblPr
    after = [tbl_pr.find(qn(t)) for t in ("w:tblLook", "w:tblCaption", "w:tblDescription")]
    after = [el for el in after if el is not None]
    if after:  # the schema's order: tblCellMar before tblLook
        after[0].addprevious(margins)
    else:
        tbl_pr.append(margins)
    for i, row in enumerate(table.rows):  # the header and the model of a data row
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))
        if i == 0:
            tr_pr.append(OxmlElement("w:tblHeader"))
        for j, cell in enumerate(row.cells):
            cell.width = Mm(widths_mm[j])
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            p = cell.paragraphs[0]
            p.alignment = aligns["center" if i == 0 else align[j]]
            _line_spacing(p, pitch)
            no_grid(p)
            text = str(frame.columns[j]) if i == 0 else "·"
            set_fonts(p.add_run(text), header_kind if i == 0 else "body", size=size)
    model = table.rows[1]._tr
    tbl = table._tbl
    for values in frame.itertuples(index=False):
        tr = copy.deepcopy(model)
        for t, value in zip(tr.iter(qn("w:t")), values):
            t.text = "" if value is None else str(value)
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        tbl.append(tr)
    tbl.remove(model)
    return table


# -------------------------------------------------------------------- document
def _page_number_footer(footer, *, odd: bool) -> None:
    """"— N —" in 4号 宋体: right, one character in, on odd pages; left on even."""
    p = footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    no_grid(p)
    # one line of its own size: at the body's 28.95 pt the footer would reach above
    # the bottom margin, and LibreOffice would shorten the text block by two lines
    _line_spacing(p, Pt(16))
    _indent_chars(p, **({"right": 1} if odd else {"left": 1}))
    size = SIZES["四号"]

    def run(text=None):
        r = p.add_run(text)
        set_fonts(r, "page_number", size=size, latin="宋体")
        return r

    run("— ")
    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None),
                       ("text", "1"), ("end", None)):
        r = run()
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        elif kind == "text":
            r.text = text
            continue
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        r._r.append(el)
    run(" —")


def _declare_fallback_fonts(doc) -> None:
    """Add the official fonts to the font table with the installed font to use in
    their place (``w:altName``) and the GB2312 character set."""
    from lxml import etree

    part = next(p for p in doc.part.package.iter_parts()
                if str(p.partname) == "/word/fontTable.xml")
    root = etree.fromstring(part.blob)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    have = {f.get(f"{{{w}}}name") for f in root.findall(f"{{{w}}}font")}
    for name, alt in FONTS.values():
        if name in have:
            continue
        font = etree.SubElement(root, f"{{{w}}}font", {f"{{{w}}}name": name})
        etree.SubElement(font, f"{{{w}}}altName", {f"{{{w}}}val": alt})
        etree.SubElement(font, f"{{{w}}}charset", {f"{{{w}}}val": "86"})
        etree.SubElement(font, f"{{{w}}}family", {f"{{{w}}}val": "modern"})
        etree.SubElement(font, f"{{{w}}}pitch", {f"{{{w}}}val": "fixed"})
        have.add(name)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _document_defaults(doc) -> None:
    """The document defaults in 3号 仿宋_GB2312 / Times New Roman, Chinese: the
    character grid's pitch is reckoned from the default size (at the template's 11 pt
    every 3号 character would take two cells of the grid), and the language lets
    Word, WPS and LibreOffice set Chinese punctuation as Chinese."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for child in list(rpr):
        rpr.remove(child)
    fonts = OxmlElement("w:rFonts")
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN)
    fonts.set(qn("w:eastAsia"), FONTS["body"][0])
    rpr.append(fonts)
    for tag in ("w:sz", "w:szCs"):
        el = OxmlElement(tag)
        el.set(qn("w:val"), str(int(SIZES["三号"].pt * 2)))
        rpr.append(el)
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(CHAR_SPACING))
    rpr.append(spacing)
    lang = OxmlElement("w:lang")
    for k, v in {"w:val": "en-US", "w:eastAsia": "zh-CN", "w:bidi": "ar-SA"}.items():
        lang.set(qn(k), v)
    # schema order of CT_RPr: rFonts … spacing … sz, szCs … lang
    rpr.append(lang)
    rpr.insert(1, rpr.find(qn("w:spacing")))
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    for k, v in {"w:after": "0", "w:line": str(int(LINE_PITCH.pt * 20)),
                 "w:lineRule": "exact"}.items():
        spacing.set(qn(k), v)
    # no extra space between Chinese and figures (Word's 自动调整中英文/数字间距): the
    # 28 characters of a line, and dates, as printed documents set them
    for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):
        el = OxmlElement(tag)
        el.set(qn("w:val"), "0")
        spacing.addprevious(el)


def no_grid(paragraph) -> None:
    """Leave ``paragraph`` off the character grid (``w:snapToGrid`` 0): text larger
    or smaller than 3号 would otherwise take whole grid cells, spaced out."""
    _set_property(paragraph, "w:snapToGrid", **{"w:val": "0"})


def new_document():
    """An empty document in the layout of GB/T 9704-2012 (see the module docstring):
    page and grid, the Normal style in 3号 仿宋_GB2312 at the fixed line pitch, page
    numbers, the font table's fall-back fonts."""
    doc = Document()
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGINS["top"], MARGINS["bottom"]
    section.left_margin, section.right_margin = MARGINS["left"], MARGINS["right"]
    section.footer_distance = FOOTER_DISTANCE
    section.header_distance = Mm(15)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    for k, v in GRID.items():
        grid.set(qn(k), v)
    _document_defaults(doc)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN
    normal.font.size = SIZES["三号"]
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), FONTS["body"][0])
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN)
    pf = normal.paragraph_format
    pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, LINE_PITCH
    pf.space_before = pf.space_after = Pt(0)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number_footer(section.footer, odd=True)
    _page_number_footer(section.even_page_footer, odd=False)
    _declare_fallback_fonts(doc)
    return doc
