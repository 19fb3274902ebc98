"""The outputs of an assessment: findings.xlsx, the HTML export of the executed
notebook, and reports/index.html linking every period.

Every file is written under a temporary name in its folder and then renamed, so an
interrupted run never leaves a file that looks complete.  Text from the data (unit
names, messages) reaches HTML only through ``html.escape`` or pandas' escaping
``to_html``, and reaches Excel only through ``io.safe_cell`` (re-exported here).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .catalogue import indicator_name, unit_type_name
from .findings import CHECK_FAMILIES, CHECK_ZH, FAMILY_ZH, FINDINGS_COLUMNS, SEVERITY_ZH
# One rule against formula injection for every output: a leading apostrophe.
from .io import atomic_path, fixed_timestamp, neutralise_formulas, write_text_atomic

# Chinese headers of the findings table, in FINDINGS_COLUMNS order (family is the sheet).
FINDINGS_HEADERS_ZH = {
    "check": "检查项目", "unit": "单位", "unit_type": "单位类型", "period": "期间",
    "indicator": "指标", "observed": "观测值", "expected": "期望值", "lower": "下限",
    "upper": "上限", "statistic": "统计量", "p_value": "p值", "q_value": "q值",
    "severity": "严重程度", "message": "说明",
}
REJECT_HEADERS_ZH = {"file": "文件", "sheet": "工作表", "row": "行号", "column": "列",
                     "value": "原值", "reason": "原因"}
SUMMARY_SHEET = "汇总"
REJECTS_SHEET = "未读取的数据"
_MAX_WIDTH = 60


# ----------------------------------------------------------------- atomic writing
# ------------------------------------------------------------------- Excel output
def findings_zh(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings table as an analyst reads it: codes shown by their Chinese names
    (check, unit type, indicator, severity) and Chinese headers.  Returns a new frame
    with the ``FINDINGS_HEADERS_ZH`` columns; ``findings`` is not modified."""
    missing = [c for c in FINDINGS_HEADERS_ZH if c not in findings.columns]
    if missing:
        raise ValueError(f"findings_zh: missing column {missing[0]!r}")
    out = findings[list(FINDINGS_HEADERS_ZH)].copy()
    out["check"] = _by_value(out["check"], lambda c: CHECK_ZH.get(c, c))
    out["unit_type"] = _by_value(out["unit_type"], unit_type_name)
    out["indicator"] = _by_value(out["indicator"], indicator_name)
    out["severity"] = _by_value(out["severity"], lambda s: SEVERITY_ZH.get(s, s))
    return out.rename(columns=FINDINGS_HEADERS_ZH)


def _by_value(s: pd.Series, f) -> pd.Series:
    """``s.map(f)`` with ``f`` called once per distinct value (a findings table
    repeats a dozen codes over thousands of rows); missing values stay missing."""
    distinct = s.dropna().unique()
    if not len(distinct):  # nothing to name; as ``map`` leaves an all-missing column
        return s.map(lambda v: v)
    return s.map({v: f(v) for v in distinct})


def findings_summary(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per check that exists in the catalogue of checks: its family, its
    Chinese name and the number of findings at each severity (0 where none).
    Columns: 类别, 检查项目, 预警, 关注, 提示, 合计."""
    counts = (findings.groupby(["check", "severity"]).size().unstack(fill_value=0)
              .reindex(index=list(CHECK_FAMILIES), columns=["alert", "warning", "info"],
                       fill_value=0))
    extra = sorted(set(findings["check"].dropna()) - set(CHECK_FAMILIES))
    if extra:
        more = (findings.loc[findings["check"].isin(extra)].groupby(["check", "severity"])
                .size().unstack(fill_value=0).reindex(columns=["alert", "warning", "info"],
                                                      fill_value=0))
        counts = pd.concat([counts, more])
    counts = counts.fillna(0).astype("int64")
    out = pd.DataFrame({
        "类别": [FAMILY_ZH.get(CHECK_FAMILIES.get(c, ""), "其他") for c in counts.index],
        "检查项目": [CHECK_ZH.get(c, c) for c in counts.index],
        "预警": counts["alert"].to_numpy(), "关注": counts["warning"].to_numpy(),
        "提示": counts["info"].to_numpy(),
    })
    out["合计"] = out[["预警", "关注", "提示"]].sum(axis=1)
    return out


def _display_width(text) -> int:
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    # East Asian wide and full-width characters take two columns in Excel.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _column_width(header, values: pd.Series) -> int:
    """The display width of the longest of ``header`` and ``values`` (as shown: floats
    to 4 significant digits).  ASCII text is as wide as it is long; other text of n
    characters is n to 2n columns wide, so only the longest distinct texts are
    measured, and the scan stops once the width passes the cap: a findings sheet can
    hold ten thousand long messages."""
    distinct = values.dropna().unique()
    if pd.api.types.is_float_dtype(values):
        distinct = [f"{v:.4g}" for v in distinct]
    texts = pd.Series(distinct, dtype=object).astype(str)
    best = _display_width(header)
    if texts.empty:
        return best
    lengths = texts.str.len().to_numpy()
    ascii_ = texts.str.isascii().to_numpy(dtype=bool)
    if ascii_.any():
        best = max(best, int(lengths[ascii_].max()))
    wide = texts.to_numpy(dtype=object)[~ascii_]
    wide_lengths = lengths[~ascii_]
    for i in np.argsort(-wide_lengths, kind="stable"):
        if 2 * wide_lengths[i] <= best or best + 2 > _MAX_WIDTH:
            break
        best = max(best, _display_width(wide[i]))
    return best


# ---------------------------------------------------------------- XLSX package
# findings.xlsx is written as SpreadsheetML directly: a province's findings run to
# ten thousand rows, which openpyxl takes seconds to build cell by cell, while the
# workbook needs only text, numbers, a bold frozen header, column widths and wrapped
# text.  Cell styles (styles.xml cellXfs): 0 plain, 1 bold header, 2 wrapped text.
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES_XML = (
    f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')
# Characters XML 1.0 cannot carry at all (control characters, lone surrogates).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value) -> str:
    return html.escape(_XML_ILLEGAL.sub("", str(value)), quote=True)


def _column_letter(j: int) -> str:
    """Excel's name of the ``j``-th column (1 → A, 27 → AA)."""
    name = ""
    while j:
        j, r = divmod(j - 1, 26)
        name = chr(65 + r) + name
    return name


def _cell_body(value, style: int) -> str:
    """A ``<c>`` element after its reference: style, type and value."""
    s = f' s="{style}"' if style else ""
    if isinstance(value, (bool, np.bool_)):
        return f'{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, np.integer)):
        return f"{s}><v>{int(value)}</v></c>"
    if isinstance(value, (float, np.floating)) and np.isfinite(value):
        return f"{s}><v>{float(value)!r}</v></c>"
    return f'{s} t="inlineStr"><is><t xml:space="preserve">{_xml_text(value)}</t></is></c>'


def _column_cells(values: pd.Series, style: int) -> list:
    """The ``<c>`` bodies of a column ("" where the value is missing: the cell stays
    empty), each distinct value converted once: findings repeat a few check names,
    unit types and periods over thousands of rows."""
    distinct = values.dropna().unique()
    bodies = values.map({v: _cell_body(v, style) for v in distinct}) if len(distinct) else values
    return bodies.astype(object).where(values.notna(), "").tolist()


def _sheet_xml(frame: pd.DataFrame) -> str:
    """A worksheet: header row bold and frozen; each column's width from its longest
    entry (wide characters count double), the text of columns wider than the cap
    wrapped; text as inline strings; missing values as empty cells."""
    letters = [_column_letter(j) for j in range(1, len(frame.columns) + 1)]
    cols, columns = [], []
    for j, col in enumerate(frame.columns, start=1):
        width = _column_width(col, frame[col])
        cols.append(f'<col min="{j}" max="{j}" width="{min(width + 2, _MAX_WIDTH)}" '
                    'customWidth="1"/>')
        columns.append(_column_cells(frame[col], 2 if width + 2 > _MAX_WIDTH else 0))
    rows = ['<row r="1">' + "".join(f'<c r="{x}1"{_cell_body(str(c), 1)}'
                                    for c, x in zip(frame.columns, letters)) + "</row>"]
    for i, bodies in enumerate(zip(*columns), start=2):
        cells = "".join([f'<c r="{x}{i}"{b}' for x, b in zip(letters, bodies) if b])
        rows.append(f'<row r="{i}">{cells}</row>')
    return (f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}"><sheetViews>'
            '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{"".join(cols)}</cols>'
            f'<sheetData>{"".join(rows)}</sheetData></worksheet>')


def _write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """A workbook with one worksheet per entry of ``sheets`` (in order), every zip
    entry and the document's created/modified stamps at ``io.fixed_timestamp``, so
    equal tables give equal bytes."""
    import zipfile

    stamp = fixed_timestamp()
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    n = len(sheets)
    sheet_parts = "".join(
        f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for k in range(1, n + 1))
    parts = {
        "[Content_Types].xml": (
            f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
            f'officedocument.spreadsheetml.styles+xml"/>{sheet_parts}'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
            'package.core-properties+xml"/></Types>'),
        "_rels/.rels": (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '</Relationships>'),
        "docProps/core.xml": (
            f'{_XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/'
            '2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<dc:creator>anquan-analysis</dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{iso}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{iso}</dcterms:modified>'
            '</cp:coreProperties>'),
        "xl/workbook.xml": (
            f'{_XML_HEAD}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            '<bookViews><workbookView activeTab="0"/></bookViews><sheets>'
            + "".join(f'<sheet name="{_xml_text(name)}" sheetId="{k}" r:id="rId{k}"/>'
                      for k, name in enumerate(sheets, start=1))
            + "</sheets></workbook>"),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">'
            + "".join(f'<Relationship Id="rId{k}" Type="{_REL_NS}/worksheet" '
                      f'Target="worksheets/sheet{k}.xml"/>' for k in range(1, n + 1))
            + f'<Relationship Id="rId{n + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
            "</Relationships>"),
        "xl/styles.xml": _STYLES_XML,
    }
    for k, frame in enumerate(sheets.values(), start=1):
        parts[f"xl/worksheets/sheet{k}.xml"] = _sheet_xml(frame)
    date = max(stamp, dt.datetime(1980, 1, 1)).timetuple()[:6]
    with zipfile.ZipFile(path, "w") as z:
        for name, body in parts.items():
            info = zipfile.ZipInfo(name, date_time=date)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, body.encode("utf-8"))


def _sheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and header neutralised (``io.safe_cell``), figures rounded to
    4 decimals (p- and q-values keep their precision: 1e-13 is not 0)."""
    rounded = {c: frame[c].round(4) for c in frame.columns
               if pd.api.types.is_float_dtype(frame[c]) and c not in ("p值", "q值")}
    return neutralise_formulas(frame.assign(**rounded))


def write_findings_xlsx(findings: pd.DataFrame, path, *, rejects: pd.DataFrame | None = None
                        ) -> Path:
    """Write ``findings`` to ``path`` as an Excel workbook: a 汇总 sheet (counts per
    check and severity), one sheet per check family (``FAMILY_ZH`` names, every
    family present even if empty), and, when given, the ingest rejects.  Chinese
    headers, header row frozen, column widths from the content, every text cell
    passed through ``safe_cell``.  Written atomically, with fixed time stamps
    (``io.fixed_timestamp``: equal findings give equal bytes); ``findings`` is not
    modified."""
    missing = [c for c in FINDINGS_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"write_findings_xlsx: missing column {missing[0]!r}")
    sheets = {SUMMARY_SHEET: findings_summary(findings)}
    for family, name in FAMILY_ZH.items():
        sheets[name] = findings_zh(findings.loc[findings["family"] == family])
    if rejects is not None:
        sheets[REJECTS_SHEET] = rejects[[c for c in REJECT_HEADERS_ZH if c in rejects.columns]
                                        ].rename(columns=REJECT_HEADERS_ZH)
    path = Path(path)
    with atomic_path(path) as tmp:
        _write_xlsx({name: _sheet_frame(frame) for name, frame in sheets.items()}, tmp)
    return path


# -------------------------------------------------------------------- HTML export
# The lab template with the two scripts it loads from a CDN (require.js, MathJax)
# left out: the report has no widgets or formulas, and must open offline.
# Chinese fonts that Windows, macOS and Linux desktops have, first: the lab template's
# system-ui stack alone falls back to a font without CJK glyphs on some machines.
CJK_FONT_STACK = ('"Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", '
                  '"Source Han Sans SC", "WenQuanYi Micro Hei", SimHei, sans-serif')
_HTML_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block extra_css -%}
<style>
:root { --jp-content-font-family: FONTS; --jp-ui-font-family: FONTS; }
body { font-family: FONTS; max-width: 1200px; margin: 0 auto; }
</style>
{%- endblock extra_css -%}
""".replace("FONTS", CJK_FONT_STACK)


# Alt text of the figures, and the tabindex that makes a cell keyboard-scrollable:
# what nbconvert's HTMLExporter adds in a BeautifulSoup pass over the whole page.
FIGURE_ALT = "图表（数据见同节表格及 findings.xlsx）"
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")
_FOCUSABLE_DIV = re.compile(
    r'<div class="([^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*)"')
# Character references (&#24635; for 总) as the characters, which that pass also does:
# the page stays readable as text.  The five that carry markup stay escaped.
_CHAR_REF = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_MARKUP_CHARS = frozenset('<>&"\'')


def _char(ref: re.Match) -> str:
    text = html.unescape(ref.group())
    return ref.group() if len(text) != 1 or text in _MARKUP_CHARS else text


_EXPORTER: list = []
_EXPORTER_LOCK = threading.Lock()


def html_exporter():
    """The exporter ``notebook_to_html`` uses, built once per process with its
    template compiled.  Building it (importing nbconvert, compiling the lab
    templates) takes about a second; ``anquan assess`` calls this in a background
    thread while the notebook runs, so that the export itself only renders.

    It is nbconvert's HTMLExporter without its final BeautifulSoup pass, which
    parses and re-serialises the rendered page only to add image alt text and output
    tabindex: on a province's report (a 300-row findings table, four figures) that
    pass was four fifths of the export's time; ``notebook_to_html`` adds both with two
    regular expressions instead.  The filters registered before rendering are the
    ones ``HTMLExporter.from_notebook_node`` registers."""
    with _EXPORTER_LOCK:
        if not _EXPORTER:
            _EXPORTER.append(_build_exporter())
        return _EXPORTER[0]


def _build_exporter():
    import jinja2
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            lang = nb.metadata.get("language_info", {})
            resources = self._init_resources(resources)
            self.register_filter("highlight_code", Highlight2HTML(
                pygments_lexer=lang.get("pygments_lexer", lang.get("name")), parent=self))
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    exporter = ReportExporter(
        template_name="lab", exclude_input=True, exclude_input_prompt=True,
        exclude_output_prompt=True, embed_images=True,
        extra_loaders=[jinja2.DictLoader({"assessment.html.j2": _HTML_TEMPLATE})],
        template_file="assessment.html.j2", language_code="zh")
    exporter.template  # noqa: B018 - compiles the template now, not at the first export
    return exporter


def notebook_to_html(notebook_path, html_path, *, title: str | None = None) -> Path:
    """Export an executed notebook to one self-contained HTML file: code cells and
    prompts hidden, images embedded as base64 (as the notebook stores them) with
    alt text, CSS inlined, no script fetched from the network.  Written atomically."""
    import nbformat

    nb = nbformat.read(str(notebook_path), as_version=4)
    resources = {"metadata": {"name": title or Path(notebook_path).stem}}
    body, _ = html_exporter().from_notebook_node(nb, resources=resources)
    body = _IMG_WITHOUT_ALT.sub(f'<img alt="{html.escape(FIGURE_ALT)}"', body)
    body = _FOCUSABLE_DIV.sub(r'<div tabindex="0" class="\1"', body)
    return write_text_atomic(_CHAR_REF.sub(_char, body), html_path)


# ----------------------------------------------------------------------- index
def write_index(reports_dir, *, title: str = "安全生产治本攻坚 调度数据评估报告") -> Path:
    """Write ``reports_dir/index.html``: one row per period folder holding an
    assessment.html, in time order, with links to the report, the notebook and
    findings.xlsx and the key figures from its summary.json where present."""
    from .periods import period_bounds, sort_periods

    root = Path(reports_dir)
    periods = []
    for d in root.iterdir() if root.exists() else []:
        if d.is_dir() and (d / "assessment.html").exists():
            periods.append(d.name)
    try:
        # A quarter right after its last month: by end date, the shorter period first.
        periods = sorted(sort_periods(periods),
                         key=lambda p: (period_bounds(p)[1], -period_bounds(p)[0].value))
    except ValueError:
        periods = sorted(periods)
    rows = []
    for p in periods:
        summary = {}
        sfile = root / p / "summary.json"
        if sfile.exists():
            summary = json.loads(sfile.read_text(encoding="utf-8"))
        e = html.escape
        links = [f'<a href="{e(p)}/assessment.html">评估报告</a>']
        for name, label in (("findings.xlsx", "问题清单"), ("assessment.ipynb", "笔记本")):
            if (root / p / name).exists():
                links.append(f'<a href="{e(p)}/{e(name)}">{label}</a>')
        hazards = summary.get("hazards_found")
        alerts = summary.get("alerts_total")
        rows.append(
            "<tr>"
            f"<td>{e(str(summary.get('period_zh', p)))}</td>"
            f"<td>{'' if hazards is None else e(f'{hazards:g}')}</td>"
            f"<td>{'' if alerts is None else e(str(alerts))}</td>"
            f"<td>{' · '.join(links)}</td></tr>")
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 2em auto; max-width: 60em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .4em .8em; text-align: left; }}
th {{ background: #f3f3f3; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<table><thead><tr><th>期间</th><th>重大事故隐患排查数（项）</th><th>预警数</th><th>文件</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""
    return write_text_atomic(page, root / "index.html")
