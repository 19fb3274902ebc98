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
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from .catalogue import indicator_name, unit_type_name
from .findings import CHECK_FAMILIES, CHECK_ZH, FAMILY_ZH, FINDINGS_COLUMNS, SEVERITY_ZH
# One rule against formula injection for every output: a leading apostrophe.
from .io import atomic_path, make_xlsx_deterministic, neutralise_formulas, write_text_atomic

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
    out["check"] = out["check"].map(lambda c: CHECK_ZH.get(c, c))
    out["unit_type"] = out["unit_type"].map(lambda t: unit_type_name(t) if pd.notna(t) else t)
    out["indicator"] = out["indicator"].map(lambda c: indicator_name(c) if pd.notna(c) else c)
    out["severity"] = out["severity"].map(lambda s: SEVERITY_ZH.get(s, s))
    return out.rename(columns=FINDINGS_HEADERS_ZH)


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


def _format_sheet(ws, frame: pd.DataFrame) -> None:
    """Freeze the header row; set each column's width from its longest entry (wide
    characters count double), wrapping the text of columns wider than the cap."""
    ws.freeze_panes = "A2"
    for j, col in enumerate(frame.columns, start=1):
        values = frame[col]
        if pd.api.types.is_float_dtype(values):
            shown = values.map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
        else:
            shown = values
        width = max([_display_width(col)] + [_display_width(v) for v in shown.tolist()])
        ws.column_dimensions[get_column_letter(j)].width = min(width + 2, _MAX_WIDTH)
        if width + 2 > _MAX_WIDTH:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.alignment = Alignment(wrap_text=True, vertical="top")


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
    (``io.make_xlsx_deterministic``); ``findings`` is not modified."""
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
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                safe = _sheet_frame(frame)
                safe.to_excel(writer, sheet_name=name, index=False)
                _format_sheet(writer.sheets[name], safe)
        make_xlsx_deterministic(tmp)
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


def notebook_to_html(notebook_path, html_path, *, title: str | None = None) -> Path:
    """Export an executed notebook to one self-contained HTML file: code cells and
    prompts hidden, images embedded as base64 (as the notebook stores them), CSS
    inlined, no script fetched from the network.  Written atomically."""
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    exporter = HTMLExporter(template_name="lab", exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True,
                            embed_images=True,
                            extra_loaders=[jinja2.DictLoader({"assessment.html.j2": _HTML_TEMPLATE})],
                            template_file="assessment.html.j2", language_code="zh")
    resources = {"metadata": {"name": title or Path(notebook_path).stem}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
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
