"""The outputs of an assessment: findings.xlsx, the HTML export of the executed
notebook, and reports/index.html linking every period.

Every file is written under a temporary name in its folder and then renamed, so an
interrupted run never leaves a file that looks complete.  Text from the data (unit
names, messages) reaches HTML only through ``html.escape`` or pandas' escaping
``to_html``, and reaches Excel only through ``io.safe_cell`` (re-exported here).
"""

from __future__ import annotations

import html
import json
import re
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .catalogue import indicator_name, unit_type_name
from .findings import (ALL_CHECK_FAMILIES, CHECK_FAMILIES, CHECK_ZH, FAMILY_ZH, FINDINGS_COLUMNS,
                       SEVERITY_ZH)
# One rule against formula injection for every output: a leading apostrophe.
from .io import (atomic_path, fixed_timestamp, make_xlsx_deterministic, neutralise_formulas,
                 write_text_atomic)

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
        "类别": [FAMILY_ZH.get(ALL_CHECK_FAMILIES.get(c, ""), "其他") for c in counts.index],
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


def _write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """A workbook with one worksheet per entry of ``sheets`` (in order), written by
    XlsxWriter row by row (``constant_memory``: a province's findings run to ten
    thousand rows, which openpyxl builds cell object by cell object): header row bold
    and frozen, each column's width from its longest entry (wide characters count
    double), columns wider than the cap wrapped, missing values as empty cells.
    Strings are never read as formulas, numbers or links; characters XML cannot carry
    (control characters) are dropped.  Stamped by ``io.make_xlsx_deterministic``, so
    equal tables give equal bytes."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False})
    workbook.set_properties({"author": "anquan-analysis", "created": fixed_timestamp()})
    bold = workbook.add_format({"bold": True})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    for name, frame in sheets.items():
        sheet = workbook.add_worksheet(name)
        sheet.freeze_panes(1, 0)
        for j, col in enumerate(frame.columns):
            width = _column_width(col, frame[col]) + 2
            sheet.set_column(j, j, min(width, _MAX_WIDTH), wrap if width > _MAX_WIDTH else None)
        sheet.write_row(0, 0, [str(c) for c in frame.columns], bold)
        # Python objects, missing as None (an empty cell); numpy scalars as int/float
        columns = [_cells(frame[c]) for c in frame.columns]
        for i, row in enumerate(zip(*columns), start=1):
            sheet.write_row(i, 0, row)
    workbook.close()
    make_xlsx_deterministic(path)


# Characters XML 1.0 cannot carry at all (control characters, lone surrogates).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _cells(values: pd.Series) -> list:
    """A column as Python values for the sheet: missing as None, text without the
    characters XML cannot carry (each distinct text cleaned once)."""
    out = values.astype(object).where(values.notna(), None).tolist()
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return out
    clean = {v: _XML_ILLEGAL.sub("", v) for v in set(out) if isinstance(v, str)}
    return [clean.get(v, v) if isinstance(v, str) else v for v in out]


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


_EXPORTER: list = []
_EXPORTER_LOCK = threading.Lock()


def html_exporter():
    """nbconvert's HTMLExporter as ``notebook_to_html`` uses it (lab template, code and
    prompts hidden, images embedded), built once per process with its template
    compiled: building it takes about a second, so ``anquan assess`` calls this in a
    background thread while the notebook runs and the export itself only renders."""
    with _EXPORTER_LOCK:
        if not _EXPORTER:
            import jinja2
            from nbconvert import HTMLExporter

            exporter = HTMLExporter(
                template_name="lab", exclude_input=True, exclude_input_prompt=True,
                exclude_output_prompt=True, embed_images=True,
                extra_loaders=[jinja2.DictLoader({"assessment.html.j2": _HTML_TEMPLATE})],
                template_file="assessment.html.j2", language_code="zh")
            # One export of a small notebook also loads the templates the main one
            # includes and compiles the selectors of nbconvert's pass over the result
            # (1.2 s of a province report's export when left to the first real one).
            exporter.from_notebook_node(_sample_notebook(), resources={"metadata": {"name": "-"}})
            _EXPORTER.append(exporter)
        return _EXPORTER[0]


def _sample_notebook():
    """A notebook with the kinds of output an assessment has (markdown, an HTML
    table, a PNG image, a text stream), for warming the exporter."""
    import nbformat

    v4 = nbformat.v4
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    cell = v4.new_code_cell("", outputs=[
        v4.new_output("display_data", data={"text/html": "<table><tr><td>1</td></tr></table>"}),
        v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
        v4.new_output("stream", name="stdout", text="-\n")])
    return v4.new_notebook(cells=[v4.new_markdown_cell("# -"), cell])


def notebook_to_html(notebook_path, html_path, *, title: str | None = None) -> Path:
    """Export an executed notebook to one self-contained HTML file: code cells and
    prompts hidden, images embedded as base64 (as the notebook stores them),
    CSS inlined, no script fetched from the network.  Written atomically."""
    import nbformat

    nb = nbformat.read(str(notebook_path), as_version=4)
    resources = {"metadata": {"name": title or Path(notebook_path).stem}}
    body, _ = html_exporter().from_notebook_node(nb, resources=resources)
    return write_text_atomic(body, html_path)


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
